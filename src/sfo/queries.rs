//! Queries about SFO attendance. Each takes the request's tenant-bound connection;
//! whether the actor may ask was decided by `policy` beforehand.

use crate::db::Conn;
use time::{Date, Time};
use uuid::Uuid;

use super::domain::{Arrangement, Collector, LeaveCode};
use crate::error::Result;

/// Today's date and the time of day in Norway, to the minute (the database's clock,
/// so every check agrees with the SQL).
pub async fn now(mut conn: Conn<'_>) -> Result<(Date, Time)> {
    Ok(sqlx::query_as(
        "SELECT tavle_today(), \
                date_trunc('minute', tavle_local_now())::time",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// An SFO group with its school and school year, and today's counts for the overview.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SfoGroupRow {
    pub id: Uuid,
    pub name: String,
    pub school_id: Uuid,
    pub school_name: String,
    pub year_starts: Date,
    pub year_ends: Date,
    pub enrolled: i64,
    pub arrived: i64,
    pub gone: i64,
}

const GROUP_SELECT: &str = "SELECT g.id, g.name, g.school_id, s.name AS school_name, \
        y.starts AS year_starts, y.ends AS year_ends, \
        (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = g.id \
           AND m.from_date <= $2 AND (m.to_date IS NULL OR m.to_date > $2)) AS enrolled, \
        (SELECT count(*) FROM sfo_attendance a WHERE a.tenant_id = $1 AND a.group_id = g.id \
           AND a.date = $2) AS arrived, \
        (SELECT count(*) FROM sfo_attendance a WHERE a.tenant_id = $1 AND a.group_id = g.id \
           AND a.date = $2 AND a.left_at IS NOT NULL) AS gone \
     FROM groups g JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
     JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
     WHERE g.tenant_id = $1 AND g.kind = 'sfo'";

/// The SFO groups of the current school year at `schools` (every school when `None`),
/// with `date`'s counts.
pub async fn groups(mut conn: Conn<'_>, schools: Option<&[Uuid]>, date: Date) -> Result<Vec<SfoGroupRow>> {
    let sql = format!(
        "{GROUP_SELECT} AND y.starts <= $2 AND y.ends >= $2 AND ($3::uuid[] IS NULL OR g.school_id = ANY($3)) \
         ORDER BY s.name, g.grade_level NULLS LAST, g.name"
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(date).bind(schools).fetch_all(&mut *conn).await?)
}

/// One SFO group, with `date`'s counts.
pub async fn group(mut conn: Conn<'_>, group: Uuid, date: Date) -> Result<Option<SfoGroupRow>> {
    let sql = format!("{GROUP_SELECT} AND g.id = $3");
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(date).bind(group).fetch_optional(&mut *conn).await?)
}

/// A child on the day list: the name and grade SFO staff need, and the day's record.
/// No address, national id or phone: the door needs none of them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade: Option<i16>,
    pub arrived_at: Option<Time>,
    pub left_at: Option<Time>,
    pub collected_by_guardian: Option<Uuid>,
    pub collected_by_contact: Option<Uuid>,
    pub collected_by_code: Option<String>,
}

impl ChildRow {
    pub fn collector(&self) -> Option<Collector> {
        self.collected_by_guardian
            .map(Collector::Guardian)
            .or(self.collected_by_contact.map(Collector::Contact))
            .or(self.collected_by_code.as_deref().and_then(LeaveCode::from_code).map(Collector::Code))
    }
}

/// The members of `group` on `date` (one child when `only` is given), by name.
pub async fn children(mut conn: Conn<'_>, group: Uuid, date: Date, only: Option<Uuid>) -> Result<Vec<ChildRow>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, \
                (SELECT e.grade_level FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = m.pupil_id \
                   AND e.from_date <= $3 AND (e.to_date IS NULL OR e.to_date > $3) \
                 ORDER BY e.from_date DESC LIMIT 1) AS grade, \
                a.arrived_at, a.left_at, a.collected_by_guardian, a.collected_by_contact, a.collected_by_code \
         FROM group_memberships m \
         JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.pupil_id \
         LEFT JOIN sfo_attendance a ON a.tenant_id = m.tenant_id AND a.pupil_id = m.pupil_id AND a.date = $3 \
         WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.from_date <= $3 AND (m.to_date IS NULL OR m.to_date > $3) \
           AND ($4::uuid IS NULL OR m.pupil_id = $4) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(date)
    .bind(only)
    .fetch_all(&mut *conn)
    .await?)
}

/// Someone who may collect a child: a guardian with parental responsibility on the
/// day, or a contact person the guardians have given a pick-up permission.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollectorRow {
    pub pupil_id: Uuid,
    /// `guardian` or `contact`.
    pub kind: String,
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// A contact person's relation code (`grandparent`, …); `None` for a guardian.
    pub relation: Option<String>,
}

impl CollectorRow {
    pub fn collector(&self) -> Collector {
        if self.kind == "guardian" {
            Collector::Guardian(self.id)
        } else {
            Collector::Contact(self.id)
        }
    }
}

/// Everyone who may collect each of `pupils` on `date`, guardians first, by name:
/// the guardians with parental responsibility and the contact persons with a pick-up
/// permission.
pub async fn collectors(mut conn: Conn<'_>, pupils: &[Uuid], date: Date) -> Result<Vec<CollectorRow>> {
    Ok(sqlx::query_as(&COLLECTORS_SQL).bind(conn.tenant).bind(pupils).bind(date).fetch_all(&mut *conn).await?)
}

static COLLECTORS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT g.pupil_id, 'guardian' AS kind, p.id, p.given_name, p.family_name, NULL::text AS relation, 0 AS o \
         FROM guardianships g JOIN persons p ON p.tenant_id = g.tenant_id AND p.id = g.guardian_id \
         WHERE g.tenant_id = $1 AND g.pupil_id = ANY($2) AND g.parental_responsibility \
           AND g.from_date <= $3 AND (g.to_date IS NULL OR g.to_date > $3) \
           AND {unrestricted} \
         UNION ALL \
         SELECT c.pupil_id, 'contact', c.id, c.given_name, c.family_name, c.relation, 1 \
         FROM contact_persons c \
         JOIN pickup_permissions pp ON pp.tenant_id = c.tenant_id AND pp.pupil_id = c.pupil_id \
              AND pp.contact_person_id = c.id \
         WHERE c.tenant_id = $1 AND pp.tenant_id = $1 AND c.pupil_id = ANY($2) AND c.removed_at IS NULL \
         ORDER BY 1, 7, 5, 4, 3",
        unrestricted = crate::policy::guardianship::unrestricted("g", "$3")
    )
});

/// Record an arrival unless the child already has a record that day. Whether a row
/// was made (a repeated "arrived" changes nothing).
pub async fn arrive(mut conn: Conn<'_>, pupil: Uuid, date: Date, group: Uuid, at: Time, by: Uuid) -> Result<bool> {
    let made = sqlx::query(
        "INSERT INTO sfo_attendance (tenant_id, pupil_id, date, group_id, arrived_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, pupil_id, date) DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(date)
    .bind(group)
    .bind(at)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(made.rows_affected() == 1)
}

fn columns(collector: Option<Collector>) -> (Option<Uuid>, Option<Uuid>, Option<&'static str>) {
    match collector {
        Some(Collector::Guardian(id)) => (Some(id), None, None),
        Some(Collector::Contact(id)) => (None, Some(id), None),
        Some(Collector::Code(c)) => (None, None, Some(c.code())),
        None => (None, None, None),
    }
}

/// Record a departure unless one is recorded already. Whether the row changed.
pub async fn leave(
    mut conn: Conn<'_>,
    pupil: Uuid,
    date: Date,
    at: Time,
    collector: Collector,
    by: Uuid,
) -> Result<bool> {
    let (guardian, contact, code) = columns(Some(collector));
    let changed = sqlx::query(
        "UPDATE sfo_attendance SET left_at = $4, collected_by_guardian = $5, collected_by_contact = $6, \
                collected_by_code = $7, recorded_by = $8, updated_at = now() \
         WHERE tenant_id = $1 AND pupil_id = $2 AND date = $3 AND left_at IS NULL",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(date)
    .bind(at)
    .bind(guardian)
    .bind(contact)
    .bind(code)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// A day as corrected: the row is made or replaced. Whether anything changed.
pub struct Correction {
    pub arrived_at: Time,
    pub left: Option<(Time, Collector)>,
}

pub async fn correct(
    mut conn: Conn<'_>,
    pupil: Uuid,
    date: Date,
    group: Uuid,
    c: &Correction,
    by: Uuid,
) -> Result<bool> {
    let (guardian, contact, code) = columns(c.left.map(|(_, who)| who));
    let changed = sqlx::query(
        "INSERT INTO sfo_attendance (tenant_id, pupil_id, date, group_id, arrived_at, left_at, \
             collected_by_guardian, collected_by_contact, collected_by_code, recorded_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now()) \
         ON CONFLICT (tenant_id, pupil_id, date) DO UPDATE SET arrived_at = EXCLUDED.arrived_at, \
             left_at = EXCLUDED.left_at, collected_by_guardian = EXCLUDED.collected_by_guardian, \
             collected_by_contact = EXCLUDED.collected_by_contact, collected_by_code = EXCLUDED.collected_by_code, \
             recorded_by = EXCLUDED.recorded_by, updated_at = EXCLUDED.updated_at \
         WHERE (sfo_attendance.arrived_at, sfo_attendance.left_at, sfo_attendance.collected_by_guardian, \
                sfo_attendance.collected_by_contact, sfo_attendance.collected_by_code) \
               IS DISTINCT FROM (EXCLUDED.arrived_at, EXCLUDED.left_at, EXCLUDED.collected_by_guardian, \
                EXCLUDED.collected_by_contact, EXCLUDED.collected_by_code)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(date)
    .bind(group)
    .bind(c.arrived_at)
    .bind(c.left.map(|(t, _)| t))
    .bind(guardian)
    .bind(contact)
    .bind(code)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Remove a day's record. Whether there was one.
pub async fn clear(mut conn: Conn<'_>, pupil: Uuid, date: Date) -> Result<bool> {
    let gone = sqlx::query("DELETE FROM sfo_attendance WHERE tenant_id = $1 AND pupil_id = $2 AND date = $3")
        .bind(conn.tenant)
        .bind(pupil)
        .bind(date)
        .execute(&mut *conn)
        .await?;
    Ok(gone.rows_affected() == 1)
}

/// A guardian's child's SFO day: the child's SFO group today, if any, and the record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GuardianChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub group_name: Option<String>,
    pub arrived_at: Option<Time>,
    pub left_at: Option<Time>,
    /// The collector's name (a guardian or contact person of this child) or code.
    pub collector_name: Option<String>,
    pub collected_by_code: Option<String>,
}

pub async fn guardian_children(mut conn: Conn<'_>, children: &[Uuid], date: Date) -> Result<Vec<GuardianChildRow>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, \
                (SELECT g.name FROM group_memberships m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
                 WHERE m.tenant_id = $1 AND m.pupil_id = p.id AND g.kind = 'sfo' AND m.from_date <= $3 \
                   AND (m.to_date IS NULL OR m.to_date > $3) ORDER BY g.name LIMIT 1) AS group_name, \
                a.arrived_at, a.left_at, \
                coalesce((SELECT gp.given_name || ' ' || gp.family_name FROM persons gp \
                          WHERE gp.tenant_id = $1 AND gp.id = a.collected_by_guardian), \
                         (SELECT c.given_name || ' ' || c.family_name FROM contact_persons c \
                          WHERE c.tenant_id = $1 AND c.id = a.collected_by_contact)) AS collector_name, \
                a.collected_by_code \
         FROM persons p \
         LEFT JOIN sfo_attendance a ON a.tenant_id = p.tenant_id AND a.pupil_id = p.id AND a.date = $3 \
         WHERE p.tenant_id = $1 AND p.id = ANY($2) ORDER BY p.birth_date, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(children)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?)
}

/// What the guardians have said about each of `pupils`' way home (children without a
/// record: nothing, so neither home alone nor school transport).
pub async fn arrangements(mut conn: Conn<'_>, pupils: &[Uuid]) -> Result<Vec<(Uuid, Arrangement)>> {
    /// (pupil, home alone, from, after, school transport) as stored.
    type Row = (Uuid, bool, Option<Date>, Option<Time>, bool);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.pupil_id, a.home_alone, a.alone_from, a.alone_after, a.school_transport \
         FROM pickup_arrangements a WHERE a.tenant_id = $1 AND a.pupil_id = ANY($2)",
    )
    .bind(conn.tenant)
    .bind(pupils)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, home_alone, alone_from, alone_after, school_transport)| {
            (id, Arrangement { home_alone, alone_from, alone_after, school_transport })
        })
        .collect())
}

/// A contact person of the child, and whether they may collect.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PickupContactRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub relation: String,
    pub permitted: bool,
}

pub async fn pickup_contacts(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<PickupContactRow>> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.given_name, c.family_name, c.relation, \
           EXISTS (SELECT 1 FROM pickup_permissions pp WHERE pp.tenant_id = $1 AND pp.pupil_id = $2 \
                   AND pp.contact_person_id = c.id) AS permitted \
         FROM contact_persons c WHERE c.tenant_id = $1 AND c.pupil_id = $2 AND c.removed_at IS NULL \
         ORDER BY c.family_name, c.given_name, c.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// Give or withdraw contact persons' permissions: the ones in `permitted` may collect,
/// the child's other contact persons not. Whether anything changed.
pub async fn set_permissions(mut conn: Conn<'_>, pupil: Uuid, permitted: &[Uuid], by: Uuid) -> Result<bool> {
    let removed = sqlx::query(
        "DELETE FROM pickup_permissions pp WHERE pp.tenant_id = $1 AND pp.pupil_id = $2 \
           AND NOT (pp.contact_person_id = ANY($3))",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(permitted)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let added = sqlx::query(
        "INSERT INTO pickup_permissions (tenant_id, pupil_id, contact_person_id, given_by) \
         SELECT $1, $2, c.id, $4 FROM contact_persons c \
         WHERE c.tenant_id = $1 AND c.pupil_id = $2 AND c.id = ANY($3) AND c.removed_at IS NULL ORDER BY c.id \
         ON CONFLICT (tenant_id, pupil_id, contact_person_id) DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(permitted)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(removed + added > 0)
}

/// Record the child's arrangement (made the first time). Whether it changed.
pub async fn set_arrangement(mut conn: Conn<'_>, pupil: Uuid, a: &Arrangement, by: Uuid) -> Result<bool> {
    let stored = arrangements(conn.re(), &[pupil]).await?.into_iter().next().map(|(_, a)| a);
    if stored.as_ref() == Some(a) || (stored.is_none() && *a == Arrangement::default()) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO pickup_arrangements (tenant_id, pupil_id, home_alone, alone_from, alone_after, school_transport, \
           changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, pupil_id) DO UPDATE SET home_alone = EXCLUDED.home_alone, \
           alone_from = EXCLUDED.alone_from, alone_after = EXCLUDED.alone_after, \
           school_transport = EXCLUDED.school_transport, changed_by = EXCLUDED.changed_by, \
           changed_at = EXCLUDED.changed_at",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(a.home_alone)
    .bind(a.alone_from)
    .bind(a.alone_after)
    .bind(a.school_transport)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}
