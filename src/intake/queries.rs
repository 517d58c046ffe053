//! The intake's reads and writes: the starters with the school each has and why, the
//! schools that take first graders, and a request, decision or placement.

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// A child starting school next August, with the school the district gives (by street,
/// else by postal code), the school a leader placed it at, and the request for another.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Starter {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Option<Date>,
    pub district_school: Option<Uuid>,
    pub placed_school: Option<Uuid>,
    pub requested_school: Option<Uuid>,
    pub reason: Option<String>,
    pub requested_at: Option<OffsetDateTime>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    /// Enrolled for the intake year already: the school and the first day.
    pub enrolled_school: Option<Uuid>,
    pub enrolled_from: Option<Date>,
}

/// Why a child starts at its school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Enrolled in grade 1 for the intake year.
    Enrolled,
    /// A granted request.
    Granted,
    /// Placed by a leader (the district could not).
    Placed,
    District,
}

impl Basis {
    pub fn code(self) -> &'static str {
        match self {
            Basis::Enrolled => "enrolled",
            Basis::Granted => "granted",
            Basis::Placed => "placed",
            Basis::District => "district",
        }
    }
}

impl Starter {
    /// The school the child starts at and why: where it is enrolled, else a granted
    /// request, else a placement, else the district's school. None: nobody has placed
    /// the child yet.
    pub fn school(&self) -> Option<(Uuid, Basis)> {
        if let Some(s) = self.enrolled_school {
            return Some((s, Basis::Enrolled));
        }
        match (self.decision.as_deref(), self.requested_school, self.placed_school, self.district_school) {
            (Some("granted"), Some(s), _, _) => Some((s, Basis::Granted)),
            (_, _, Some(s), _) => Some((s, Basis::Placed)),
            (_, _, _, Some(s)) => Some((s, Basis::District)),
            _ => None,
        }
    }

    /// A request is waiting for the requested school's decision.
    pub fn pending(&self) -> bool {
        self.requested_school.is_some() && self.decision.is_none()
    }

    /// Nothing more to ask or decide: the child is enrolled.
    pub fn enrolled(&self) -> bool {
        self.enrolled_school.is_some()
    }
}

/// Which starters to read.
pub enum Which<'a> {
    /// Those a school's intake concerns: its starters, the requests for it, and (with
    /// `unplaced`) the children no district or leader has placed.
    School { school: Uuid, unplaced: bool },
    /// A guardian's children.
    Children(&'a [Uuid]),
}

/// The starters, by name. `Which::School` filters in SQL, so a school reads its own
/// few hundred of a large municipality's thousands.
pub async fn starters(mut conn: Conn<'_>, which: Which<'_>) -> Result<Vec<Starter>> {
    let (school, unplaced, children): (Option<Uuid>, bool, Option<&[Uuid]>) = match which {
        Which::School { school, unplaced } => (Some(school), unplaced, None),
        Which::Children(c) => (None, false, Some(c)),
    };
    Ok(sqlx::query_as(&format!(
        "SELECT * FROM ( \
           SELECT c.id, c.given_name, c.family_name, c.birth_date, \
                  coalesce(ds.school_id, dp.school_id) AS district_school, pl.school_id AS placed_school, \
                  r.school_id AS requested_school, r.reason, r.requested_at, r.decision, r.decision_reason, \
                  en.school_id AS enrolled_school, en.from_date AS enrolled_from \
           FROM persons c \
           LEFT JOIN school_districts ds ON ds.tenant_id = $1 AND ds.postal_code = c.postal_code \
                AND ds.street = tavle_street_name(c.street_address) \
           LEFT JOIN school_districts dp ON dp.tenant_id = $1 AND dp.postal_code = c.postal_code AND dp.street = '' \
           LEFT JOIN intake_placements pl ON pl.tenant_id = $1 AND pl.child_id = c.id AND pl.start_year = tavle_intake_year() \
           LEFT JOIN intake_requests r ON r.tenant_id = $1 AND r.child_id = c.id AND r.start_year = tavle_intake_year() \
           LEFT JOIN LATERAL (SELECT e.school_id, e.from_date FROM enrolments e WHERE e.tenant_id = $1 \
                AND e.pupil_id = c.id ORDER BY e.from_date LIMIT 1) en ON true \
           WHERE c.tenant_id = $1 \
             AND {starting} \
             AND ($4::uuid[] IS NULL OR c.id = ANY($4)) \
         ) s \
         WHERE $2::uuid IS NULL \
            OR s.requested_school = $2 OR s.placed_school = $2 OR s.enrolled_school = $2 \
            OR (s.placed_school IS NULL AND s.district_school = $2) \
            OR ($3 AND s.placed_school IS NULL AND s.district_school IS NULL) \
         ORDER BY s.family_name, s.given_name, s.birth_date, s.id",
        starting = crate::policy::starting_school("c")
    ))
    .bind(conn.tenant)
    .bind(school)
    .bind(unplaced)
    .bind(children)
    .fetch_all(&mut *conn)
    .await?)
}

/// A school that takes first graders.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct School {
    pub id: Uuid,
    pub name: String,
}

/// The municipality's schools with a first grade, by name.
pub async fn first_grade_schools(mut conn: Conn<'_>) -> Result<Vec<School>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.name FROM schools s WHERE s.tenant_id = $1 AND s.first_grade = 1 ORDER BY s.name, s.id",
    )
    .bind(conn.tenant)
    .fetch_all(&mut *conn)
    .await?)
}

/// Ask for `school` for `child`, replacing an undecided request. False: the request was
/// decided already, and nothing changed.
pub async fn ask(mut conn: Conn<'_>, child: Uuid, school: Uuid, reason: &str, by: Uuid) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO intake_requests AS r (tenant_id, child_id, start_year, school_id, reason, requested_by) \
         VALUES ($1, $2, tavle_intake_year(), $3, $4, $5) \
         ON CONFLICT (tenant_id, child_id, start_year) DO UPDATE \
            SET school_id = EXCLUDED.school_id, reason = EXCLUDED.reason, requested_by = EXCLUDED.requested_by, \
                requested_at = EXCLUDED.requested_at \
         WHERE r.tenant_id = $1 AND r.decision IS NULL",
    )
    .bind(conn.tenant)
    .bind(child)
    .bind(school)
    .bind(reason)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Withdraw an undecided request. False: there was none.
pub async fn withdraw(mut conn: Conn<'_>, child: Uuid) -> Result<bool> {
    Ok(sqlx::query(
        "DELETE FROM intake_requests r WHERE r.tenant_id = $1 AND r.child_id = $2 \
           AND r.start_year = tavle_intake_year() AND r.decision IS NULL",
    )
    .bind(conn.tenant)
    .bind(child)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Decide the undecided request for `school` for `child`. False: there was none.
pub async fn decide(
    mut conn: Conn<'_>,
    child: Uuid,
    school: Uuid,
    decision: &str,
    reason: Option<&str>,
    by: Uuid,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE intake_requests r SET decision = $4, decision_reason = $5, decided_by = $6, decided_at = now() \
         WHERE r.tenant_id = $1 AND r.child_id = $2 AND r.school_id = $3 \
           AND r.start_year = tavle_intake_year() AND r.decision IS NULL",
    )
    .bind(conn.tenant)
    .bind(child)
    .bind(school)
    .bind(decision)
    .bind(reason)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Place `child` at `school`. False: it was placed already (a placement stands).
pub async fn place(mut conn: Conn<'_>, child: Uuid, school: Uuid, by: Uuid) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO intake_placements (tenant_id, child_id, start_year, school_id, placed_by) \
         VALUES ($1, $2, tavle_intake_year(), $3, $4) ON CONFLICT (tenant_id, child_id, start_year) DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(child)
    .bind(school)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// The school year whose first graders are taken in now (its first calendar year).
pub async fn intake_year(mut conn: Conn<'_>) -> Result<i32> {
    Ok(sqlx::query_scalar("SELECT tavle_intake_year()").fetch_one(&mut *conn).await?)
}

/// The first day of the school year the starters begin (the one starting in the intake
/// year), if the municipality has entered it.
pub async fn intake_year_start(mut conn: Conn<'_>) -> Result<Option<Date>> {
    Ok(sqlx::query_scalar(
        "SELECT y.starts FROM school_years y WHERE y.tenant_id = $1 \
           AND y.starts >= make_date(tavle_intake_year(), 1, 1) AND y.starts < make_date(tavle_intake_year() + 1, 1, 1) \
         ORDER BY y.starts LIMIT 1",
    )
    .bind(conn.tenant)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Enrol `children` at `school` in grade 1 from `from`, set-wise: each becomes a pupil,
/// and the register's parents (`register_parents`) become their guardians from today,
/// with the parental responsibility the register gives and living with the child when
/// both have the same address and the child's is not protected (as the register import
/// decides it). A child enrolled already is left alone. The enrolled children.
pub async fn enrol(mut conn: Conn<'_>, school: Uuid, children: &[Uuid], from: Date) -> Result<Vec<Uuid>> {
    sqlx::query(
        "INSERT INTO pupils (tenant_id, person_id) SELECT $1, c FROM unnest($2::uuid[]) AS c \
         ON CONFLICT (tenant_id, person_id) DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(children)
    .execute(&mut *conn)
    .await?;
    let enrolled: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO enrolments (tenant_id, pupil_id, school_id, grade_level, from_date) \
         SELECT $1, c, $3, 1, $4 FROM unnest($2::uuid[]) AS c \
         WHERE NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = c) \
         RETURNING pupil_id",
    )
    .bind(conn.tenant)
    .bind(children)
    .bind(school)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO guardianships (tenant_id, pupil_id, guardian_id, parental_responsibility, lives_with, from_date) \
         SELECT $1, rp.child_id, rp.parent_id, rp.parental_responsibility, \
                c.address_protection = 'none' AND c.street_address IS NOT NULL \
                  AND c.street_address = p.street_address AND c.postal_code = p.postal_code, tavle_today() \
         FROM register_parents rp \
         JOIN persons c ON c.tenant_id = rp.tenant_id AND c.id = rp.child_id \
         JOIN persons p ON p.tenant_id = rp.tenant_id AND p.id = rp.parent_id \
         WHERE rp.tenant_id = $1 AND c.tenant_id = $1 AND p.tenant_id = $1 AND rp.child_id = ANY($2) \
         ON CONFLICT (tenant_id, pupil_id, guardian_id) DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(&enrolled)
    .execute(&mut *conn)
    .await?;
    Ok(enrolled)
}
