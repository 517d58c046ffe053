//! Queries about pupils. Each takes the request's tenant-bound connection; which
//! rows and columns the caller may see was decided by `policy` beforehand and is
//! passed in as a scope or access value.

use crate::db::Conn;
use time::Date;
use uuid::Uuid;

use crate::domain::national_id::NationalId;
use crate::error::Result;
use crate::policy::{GuardianDetail, PupilCardAccess, PupilListScope};

pub const PAGE_SIZE: i64 = 50;

// The schools a page names: kept with the classes and groups, whose pages need them too.
pub use crate::groups::queries::{schools, SchoolRow};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassRow {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade_level: i16,
    pub class_name: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub school_name: Option<String>,
    pub grade_level: Option<i16>,
}

/// A pupil list filter, already parsed.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub class: Option<Uuid>,
    pub grade: Option<i16>,
    pub name: Option<String>,
    /// Only pupils the register has no birth date for.
    pub no_birth_date: bool,
    pub page: i64,
}

/// Base groups (classes) of the school in the current school year.
pub async fn classes(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<ClassRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name FROM groups g JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.kind = 'base' \
           AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         ORDER BY g.grade_level, g.name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}

/// How many of the school's current pupils the register has no birth date for (a
/// newly arrived pupil with a DUF number, until the population register gives one):
/// their guardians have no access until it is recorded, as a child's age cannot be known.
pub async fn without_birth_date(mut conn: Conn<'_>, school: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(DISTINCT e.pupil_id) FROM enrolments e \
         JOIN persons p ON p.tenant_id = e.tenant_id AND p.id = e.pupil_id \
         WHERE e.tenant_id = $1 AND e.school_id = $2 AND p.birth_date IS NULL AND e.from_date <= tavle_today() \
           AND (e.to_date IS NULL OR e.to_date > tavle_today())",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_one(&mut *conn)
    .await?)
}

/// `LIKE` pattern for a name search: the term's own `%`, `_` and `\` match literally.
fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// One page of the school's current pupils and the total count.
pub async fn list(mut conn: Conn<'_>, scope: &PupilListScope, f: &ListFilter) -> Result<(Vec<PupilRow>, i64)> {
    let pattern = f.name.as_deref().map(like_pattern);
    let rows: Vec<(Uuid, String, String, i16, Option<String>, i64)> = sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, e.grade_level, bg.name, count(*) OVER () \
         FROM enrolments e \
         JOIN persons p ON p.tenant_id = e.tenant_id AND p.id = e.pupil_id \
         LEFT JOIN LATERAL ( \
             SELECT g.id, g.name FROM group_memberships m \
             JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
             WHERE m.tenant_id = $1 AND m.pupil_id = e.pupil_id AND g.school_id = e.school_id AND g.kind = 'base' \
               AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
             ORDER BY g.name LIMIT 1) bg ON true \
         WHERE e.tenant_id = $1 AND e.school_id = $2 AND e.from_date <= tavle_today() \
           AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
           AND ($3::uuid IS NULL OR bg.id = $3) \
           AND ($4::smallint IS NULL OR e.grade_level = $4) \
           AND ($5::text IS NULL OR lower(p.given_name || ' ' || p.family_name) LIKE $5 \
                OR lower(p.family_name || ' ' || p.given_name) LIKE $5 \
                OR lower(p.family_name || ', ' || p.given_name) LIKE $5) \
           AND (NOT $6 OR EXISTS ( \
               SELECT 1 FROM group_memberships m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
               WHERE m.tenant_id = $1 AND m.pupil_id = e.pupil_id AND g.school_id = e.school_id AND g.kind = 'sfo' \
                 AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()))) \
           AND (NOT $9 OR p.birth_date IS NULL) \
         ORDER BY p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\", p.id \
         LIMIT $7 OFFSET $8",
    )
    .bind(conn.tenant)
    .bind(scope.school_id)
    .bind(f.class)
    .bind(f.grade)
    .bind(pattern)
    .bind(scope.sfo_only)
    .bind(PAGE_SIZE)
    .bind(f.page.max(0) * PAGE_SIZE)
    .bind(f.no_birth_date)
    .fetch_all(&mut *conn)
    .await?;
    let total = rows.first().map_or(0, |r| r.5);
    let rows = rows
        .into_iter()
        .map(|(id, given_name, family_name, grade_level, class_name, _)| PupilRow {
            id,
            given_name,
            family_name,
            grade_level,
            class_name,
        })
        .collect();
    Ok((rows, total))
}

/// A guardian's children (`ids`), for the start page and the choosers, with the school
/// and grade of those in `placed` only (`Actor::placed_children`: the others' whereabouts
/// are protected from this guardian, so their school is not even read).
pub async fn children(mut conn: Conn<'_>, ids: &[Uuid], placed: &[Uuid]) -> Result<Vec<ChildRow>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, s.name AS school_name, e.grade_level \
         FROM persons p \
         LEFT JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.pupil_id = p.id AND p.id = ANY($3) \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         LEFT JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id \
         WHERE p.tenant_id = $1 AND p.id = ANY($2) ORDER BY p.birth_date, p.given_name",
    )
    .bind(conn.tenant)
    .bind(ids)
    .bind(placed)
    .fetch_all(&mut *conn)
    .await?)
}

/// How a pupil's address may be shown.
#[derive(Debug, Clone)]
pub enum AddressView {
    /// Protected (adressebeskyttelse): the address is never shown, to anyone.
    Protected,
    Known {
        street: String,
        postal_code: String,
        town: String,
    },
    Unknown,
}

#[derive(Debug, Clone)]
pub struct GuardianRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub parental_responsibility: bool,
    pub lives_with: bool,
    pub invoice_recipient: bool,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRow {
    pub given_name: String,
    pub family_name: String,
    pub relation: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub name: String,
    pub kind: String,
    pub school_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrolmentRow {
    pub school_name: String,
    pub grade_level: i16,
    pub from_date: Date,
    pub to_date: Option<Date>,
    pub guest_home_municipality: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PupilCard {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Option<Date>,
    /// Masked (`010203 *****`) unless revealed.
    pub national_id: Option<String>,
    /// None when the viewer may not see addresses at all.
    pub address: Option<AddressView>,
    pub guardians: Vec<GuardianRow>,
    pub contact_persons: Vec<ContactRow>,
    pub groups: Vec<GroupRow>,
    pub enrolments: Vec<EnrolmentRow>,
    pub arrangements: Vec<ArrangementRow>,
}

/// A special arrangement (school transport, special education…): codes and numbers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArrangementRow {
    pub id: Uuid,
    pub kind: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
    /// Tenths of an hour a week (numeric(4, 1) × 10).
    pub tenths: Option<i32>,
    pub teacher: Option<String>,
    pub weekdays: Vec<i16>,
}

/// Record an arrangement; its id.
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn add_arrangement(
    mut conn: Conn<'_>,
    pupil: Uuid,
    kind: &str,
    from: Date,
    to: Option<Date>,
    tenths: Option<i32>,
    teacher: Option<Uuid>,
    days: &[i16],
    by: Uuid,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO special_arrangements (tenant_id, pupil_id, kind, from_date, to_date, hours_per_week, teacher_id, \
             weekdays, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6::numeric / 10, $7, $8, $9) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(kind)
    .bind(from)
    .bind(to)
    .bind(tenths)
    .bind(teacher)
    .bind(days)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?)
}

/// End an arrangement in force from today (withdraw one that has not begun); whether
/// anything changed.
pub async fn end_arrangement(mut conn: Conn<'_>, pupil: Uuid, arrangement: Uuid) -> Result<bool> {
    let withdrawn = sqlx::query(
        "DELETE FROM special_arrangements a WHERE a.tenant_id = $1 AND a.pupil_id = $2 AND a.id = $3 \
           AND a.from_date >= tavle_today()",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(arrangement)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let ended = sqlx::query(
        "UPDATE special_arrangements a SET to_date = tavle_today() WHERE a.tenant_id = $1 AND a.pupil_id = $2 \
           AND a.id = $3 AND a.from_date < tavle_today() AND (a.to_date IS NULL OR a.to_date > tavle_today())",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(arrangement)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(withdrawn + ended > 0)
}

/// The pupil's special arrangements in force today or later (`all`: the ended ones too).
pub async fn arrangements(mut conn: Conn<'_>, pupil: Uuid, all: bool) -> Result<Vec<ArrangementRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.kind, a.from_date, a.to_date, (a.hours_per_week * 10)::int AS tenths, \
           p.given_name || ' ' || p.family_name AS teacher, a.weekdays \
         FROM special_arrangements a LEFT JOIN persons p ON p.tenant_id = $1 AND p.id = a.teacher_id \
         WHERE a.tenant_id = $1 AND a.pupil_id = $2 AND ($3 OR a.to_date IS NULL OR a.to_date > tavle_today()) \
         ORDER BY a.to_date IS NOT NULL AND a.to_date <= tavle_today(), a.from_date, a.kind",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(all)
    .fetch_all(&mut *conn)
    .await?)
}

/// The parts of a pupil's record that `access` allows, and nothing else: columns
/// the viewer may not see are not even selected, and a protected address is never
/// read out of the database.
pub async fn card(mut conn: Conn<'_>, access: &PupilCardAccess, reveal: bool) -> Result<Option<PupilCard>> {
    type Base = (String, String, Option<Date>, String, String, Option<String>, Option<String>, Option<String>);
    let base: Option<Base> = sqlx::query_as(
        "SELECT given_name, family_name, birth_date, national_id, address_protection, \
                CASE WHEN address_protection = 'none' THEN street_address END, \
                CASE WHEN address_protection = 'none' THEN postal_code END, \
                CASE WHEN address_protection = 'none' THEN postal_town END \
         FROM persons WHERE tenant_id = $1 AND id = $2",
    )
    .bind(conn.tenant)
    .bind(access.pupil_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((given_name, family_name, birth_date, nid, protection, street, postal_code, town)) = base else {
        return Ok(None);
    };
    let national_id = access.national_id.then(|| match NationalId::parse(&nid) {
        Ok(id) if reveal && access.reveal_national_id => id.as_str().to_owned(),
        Ok(id) => id.masked(),
        Err(_) => "***********".to_owned(),
    });
    let address = access.address.then(|| {
        if protection != "none" {
            AddressView::Protected
        } else {
            match (street, postal_code, town) {
                (Some(street), Some(postal_code), Some(town)) => AddressView::Known { street, postal_code, town },
                _ => AddressView::Unknown,
            }
        }
    });
    let guardians = if access.guardians == GuardianDetail::None {
        Vec::new()
    } else {
        let contact = access.guardians == GuardianDetail::Contact;
        let rows: Vec<GuardianTuple> = sqlx::query_as(
            "SELECT p.id, p.given_name, p.family_name, g.parental_responsibility, g.lives_with, g.invoice_recipient, \
                    CASE WHEN $3 THEN p.phone END, CASE WHEN $3 THEN p.email END \
             FROM guardianships g JOIN persons p ON p.tenant_id = g.tenant_id AND p.id = g.guardian_id \
             WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.from_date <= tavle_today() \
               AND (g.to_date IS NULL OR g.to_date > tavle_today()) \
             ORDER BY g.parental_responsibility DESC, p.family_name, p.given_name",
        )
        .bind(conn.tenant)
        .bind(access.pupil_id)
        .bind(contact)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(id, given_name, family_name, pr, lives_with, invoice, phone, email)| GuardianRow {
                id,
                given_name,
                family_name,
                parental_responsibility: pr,
                lives_with,
                invoice_recipient: invoice,
                phone,
                email,
            })
            .collect()
    };
    let contact_persons = if access.contact_persons {
        sqlx::query_as(
            "SELECT given_name, family_name, relation, phone FROM contact_persons \
             WHERE tenant_id = $1 AND pupil_id = $2 AND removed_at IS NULL ORDER BY family_name, given_name",
        )
        .bind(conn.tenant)
        .bind(access.pupil_id)
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let groups = if access.groups {
        sqlx::query_as(
            "SELECT g.name, g.kind, s.name AS school_name FROM group_memberships m \
             JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
             JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
             WHERE m.tenant_id = $1 AND m.pupil_id = $2 AND m.from_date <= tavle_today() \
               AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
             ORDER BY CASE g.kind WHEN 'base' THEN 0 WHEN 'sfo' THEN 1 ELSE 2 END, g.name",
        )
        .bind(conn.tenant)
        .bind(access.pupil_id)
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let enrolments = if access.enrolments {
        sqlx::query_as(
            "SELECT s.name AS school_name, e.grade_level, e.from_date, e.to_date, \
                    e.guest_home_municipality::text AS guest_home_municipality \
             FROM enrolments e JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id \
             WHERE e.tenant_id = $1 AND e.pupil_id = $2 ORDER BY e.from_date DESC",
        )
        .bind(conn.tenant)
        .bind(access.pupil_id)
        .fetch_all(&mut *conn)
        .await?
    } else {
        Vec::new()
    };
    let arrangements =
        if access.arrangements { arrangements(conn.re(), access.pupil_id, false).await? } else { Vec::new() };
    Ok(Some(PupilCard {
        id: access.pupil_id,
        given_name,
        family_name,
        birth_date,
        national_id,
        address,
        guardians,
        contact_persons,
        groups,
        enrolments,
        arrangements,
    }))
}

/// id, given name, family name, parental responsibility, lives with, invoice recipient, phone, e-mail.
type GuardianTuple = (Uuid, String, String, bool, bool, bool, Option<String>, Option<String>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Øy"), "%øy%");
        assert_eq!(like_pattern("50%_\\"), "%50\\%\\_\\\\%");
    }
}

/// A contact person as the office keeps them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactPerson {
    pub id: Uuid,
    pub relation: String,
    pub given_name: String,
    pub family_name: String,
    pub phone: Option<String>,
}

/// The pupil's contact persons (not removed), by name.
pub async fn contact_persons(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<ContactPerson>> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.relation, c.given_name, c.family_name, c.phone FROM contact_persons c \
         WHERE c.tenant_id = $1 AND c.pupil_id = $2 AND c.removed_at IS NULL \
         ORDER BY c.family_name, c.given_name, c.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// The pupil's name, for a heading.
pub async fn pupil_name(mut conn: Conn<'_>, pupil: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT p.given_name || ' ' || p.family_name FROM pupils pu \
         JOIN persons p ON p.tenant_id = pu.tenant_id AND p.id = pu.person_id \
         WHERE pu.tenant_id = $1 AND p.tenant_id = $1 AND pu.person_id = $2",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Keep the contact person's values as they are now in the history, as `change`.
async fn contact_history(mut conn: Conn<'_>, contact: Uuid, change: &str, by: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO contact_person_history (tenant_id, contact_person_id, pupil_id, change, relation, given_name, \
           family_name, phone, changed_by) \
         SELECT c.tenant_id, c.id, c.pupil_id, $3, c.relation, c.given_name, c.family_name, c.phone, $4 \
         FROM contact_persons c WHERE c.tenant_id = $1 AND c.id = $2",
    )
    .bind(conn.tenant)
    .bind(contact)
    .bind(change)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Add a contact person, with its first history row. Its id.
pub async fn add_contact(mut conn: Conn<'_>, pupil: Uuid, c: &ContactPerson, by: Uuid) -> Result<Uuid> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO contact_persons (tenant_id, pupil_id, relation, given_name, family_name, phone, changed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(&c.relation)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.phone)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?;
    contact_history(conn.re(), id, "created", by).await?;
    Ok(id)
}

/// Correct a contact person of the pupil (not removed). None if there is none such;
/// else whether anything changed (a change adds a history row).
pub async fn update_contact(mut conn: Conn<'_>, pupil: Uuid, c: &ContactPerson, by: Uuid) -> Result<Option<bool>> {
    let stored: Option<ContactPerson> = sqlx::query_as(
        "SELECT c.id, c.relation, c.given_name, c.family_name, c.phone FROM contact_persons c \
         WHERE c.tenant_id = $1 AND c.id = $2 AND c.pupil_id = $3 AND c.removed_at IS NULL FOR UPDATE",
    )
    .bind(conn.tenant)
    .bind(c.id)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(stored) = stored else { return Ok(None) };
    if stored == *c {
        return Ok(Some(false));
    }
    sqlx::query(
        "UPDATE contact_persons SET relation = $3, given_name = $4, family_name = $5, phone = $6, changed_by = $7, \
           changed_at = now() WHERE tenant_id = $1 AND id = $2",
    )
    .bind(conn.tenant)
    .bind(c.id)
    .bind(&c.relation)
    .bind(&c.given_name)
    .bind(&c.family_name)
    .bind(&c.phone)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    contact_history(conn.re(), c.id, "updated", by).await?;
    Ok(Some(true))
}

/// Remove a contact person of the pupil: off every list, their pick-up permission
/// withdrawn, the history kept. Whether there was one to remove.
pub async fn remove_contact(mut conn: Conn<'_>, pupil: Uuid, contact: Uuid, by: Uuid) -> Result<bool> {
    let removed = sqlx::query(
        "UPDATE contact_persons SET removed_at = now(), changed_by = $4, changed_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND pupil_id = $3 AND removed_at IS NULL",
    )
    .bind(conn.tenant)
    .bind(contact)
    .bind(pupil)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if removed {
        sqlx::query("DELETE FROM pickup_permissions WHERE tenant_id = $1 AND pupil_id = $2 AND contact_person_id = $3")
            .bind(conn.tenant)
            .bind(pupil)
            .bind(contact)
            .execute(&mut *conn)
            .await?;
        contact_history(conn.re(), contact, "removed", by).await?;
    }
    Ok(removed)
}

/// The pupil's siblings: other pupils with a guardian who holds parental responsibility
/// for both today, by name.
pub async fn siblings(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT p.id, p.given_name, p.family_name FROM guardianships mine \
         JOIN guardianships theirs ON theirs.tenant_id = mine.tenant_id AND theirs.guardian_id = mine.guardian_id \
              AND theirs.pupil_id <> mine.pupil_id AND theirs.parental_responsibility \
              AND theirs.from_date <= tavle_today() AND (theirs.to_date IS NULL OR theirs.to_date > tavle_today()) \
         JOIN persons p ON p.tenant_id = theirs.tenant_id AND p.id = theirs.pupil_id \
         WHERE mine.tenant_id = $1 AND theirs.tenant_id = $1 AND p.tenant_id = $1 AND mine.pupil_id = $2 \
           AND mine.parental_responsibility AND mine.from_date <= tavle_today() \
           AND (mine.to_date IS NULL OR mine.to_date > tavle_today()) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// A guardian of the pupil today, for the restrictions page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GuardianChoice {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub parental_responsibility: bool,
}

pub async fn guardian_choices(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<GuardianChoice>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, g.parental_responsibility FROM guardianships g \
         JOIN persons p ON p.tenant_id = g.tenant_id AND p.id = g.guardian_id \
         WHERE g.tenant_id = $1 AND p.tenant_id = $1 AND g.pupil_id = $2 AND g.from_date <= tavle_today() \
           AND (g.to_date IS NULL OR g.to_date > tavle_today()) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// A restriction on a guardian of the pupil, as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RestrictionRow {
    pub id: Uuid,
    pub guardian_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub kind: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
    pub in_force: bool,
}

/// Every restriction on the pupil's guardians, those in force first, newest first.
pub async fn restrictions(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<RestrictionRow>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.guardian_id, p.given_name, p.family_name, r.kind, r.from_date, r.to_date, \
           (r.from_date <= tavle_today() AND (r.to_date IS NULL OR r.to_date > tavle_today())) AS in_force \
         FROM guardian_restrictions r JOIN persons p ON p.tenant_id = r.tenant_id AND p.id = r.guardian_id \
         WHERE r.tenant_id = $1 AND p.tenant_id = $1 AND r.pupil_id = $2 \
         ORDER BY 8 DESC, r.from_date DESC, r.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// Record a restriction on a guardian of the pupil from `from`. Its id.
pub async fn add_restriction(
    mut conn: Conn<'_>,
    pupil: Uuid,
    guardian: Uuid,
    kind: &str,
    from: Date,
    by: Uuid,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO guardian_restrictions (tenant_id, pupil_id, guardian_id, kind, from_date, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .bind(kind)
    .bind(from)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?)
}

/// End a restriction of the pupil that has not ended: it no longer holds from today
/// (one that began today never held). Its guardian, if there was one.
pub async fn end_restriction(mut conn: Conn<'_>, pupil: Uuid, restriction: Uuid, by: Uuid) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "UPDATE guardian_restrictions r SET to_date = greatest(tavle_today(), r.from_date), ended_by = $4 \
         WHERE r.tenant_id = $1 AND r.id = $2 AND r.pupil_id = $3 AND (r.to_date IS NULL OR r.to_date > tavle_today()) \
         RETURNING r.guardian_id",
    )
    .bind(conn.tenant)
    .bind(restriction)
    .bind(pupil)
    .bind(by)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Keep the values of `persons` as they are before a change by `source`
/// (`folkeregister`, `krr`, `office`) in `person_history`: the earlier value is never
/// lost. An address is kept only where it is not protected and `keep_address` (one
/// per person) allows it, so that a person whose address a change protects leaves
/// none behind.
pub async fn keep_person_history(
    mut conn: Conn<'_>,
    persons: &[Uuid],
    keep_address: &[bool],
    source: &str,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO person_history (tenant_id, person_id, source, national_id, given_name, family_name, birth_date, \
             address_protection, street_address, postal_code, postal_town, deceased_on, moved_out_on, moved_to_municipality, \
             phone, email, other_mother_tongue) \
         SELECT $1, p.id, $4, p.national_id, p.given_name, p.family_name, p.birth_date, p.address_protection, \
                CASE WHEN u.keep AND p.address_protection = 'none' THEN p.street_address END, \
                CASE WHEN u.keep AND p.address_protection = 'none' THEN p.postal_code END, \
                CASE WHEN u.keep AND p.address_protection = 'none' THEN p.postal_town END, \
                p.deceased_on, p.moved_out_on, p.moved_to_municipality, p.phone, p.email, pu.other_mother_tongue \
         FROM unnest($2::uuid[], $3::bool[]) AS u(id, keep) \
         JOIN persons p ON p.tenant_id = $1 AND p.id = u.id \
         LEFT JOIN pupils pu ON pu.tenant_id = $1 AND pu.person_id = p.id",
    )
    .bind(conn.tenant)
    .bind(persons)
    .bind(keep_address)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
