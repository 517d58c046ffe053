//! Queries about a school's classes and groups. Each takes the request's tenant-bound
//! connection; `policy::groups` decided beforehand that the caller keeps the school's
//! groups.

use time::Date;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// A school, as the office's pages name it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolRow {
    pub id: Uuid,
    pub name: String,
    pub first_grade: i16,
    pub last_grade: i16,
}

/// The schools `ids`, by name.
pub async fn schools(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<SchoolRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name, first_grade, last_grade FROM schools WHERE tenant_id = $1 AND id = ANY($2) \
         ORDER BY name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// A school year.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct YearRow {
    pub id: Uuid,
    pub name: String,
    pub starts: Date,
    pub ends: Date,
}

/// The school year that runs today, else the next one to start (the office prepares
/// classes in the summer holidays).
pub async fn current_year(mut conn: Conn<'_>) -> Result<Option<YearRow>> {
    Ok(sqlx::query_as(
        "SELECT y.id, y.name, y.starts, y.ends FROM school_years y \
         WHERE y.tenant_id = $1 AND y.ends >= tavle_today() ORDER BY y.starts LIMIT 1",
    )
    .bind(conn.tenant)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A group in the school's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub grade_level: Option<i16>,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
    /// Pupils in the group today.
    pub members: i64,
    /// Contact teachers' names, in order.
    pub contact_teachers: Vec<String>,
    pub closed_on: Option<Date>,
}

/// The school's groups of `year`: classes first (by grade), then teaching and SFO groups.
pub async fn groups(mut conn: Conn<'_>, school: Uuid, year: Uuid) -> Result<Vec<GroupRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.kind, g.name, g.grade_level, s.name_nb AS subject_nb, s.name_en AS subject_en, \
           (SELECT count(DISTINCT m.pupil_id) FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = g.id \
              AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())) AS members, \
           coalesce((SELECT array_agg(p.given_name || ' ' || p.family_name ORDER BY p.family_name, p.given_name) \
              FROM group_staff gs JOIN persons p ON p.tenant_id = $1 AND p.id = gs.staff_id \
              WHERE gs.tenant_id = $1 AND gs.group_id = g.id AND gs.assignment = 'contact_teacher'), '{}') \
              AS contact_teachers, \
           g.closed_on \
         FROM groups g LEFT JOIN subjects s ON s.tenant_id = $1 AND s.id = g.subject_id \
         WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.school_year_id = $3 \
         ORDER BY g.closed_on IS NOT NULL, CASE g.kind WHEN 'base' THEN 0 WHEN 'teaching' THEN 1 ELSE 2 END, \
           g.grade_level NULLS LAST, g.name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?)
}

/// A subject a teaching group may be for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubjectRow {
    pub id: Uuid,
    pub code: String,
    pub name_nb: String,
    pub name_en: String,
}

pub async fn subjects(mut conn: Conn<'_>) -> Result<Vec<SubjectRow>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.code, s.name_nb, s.name_en FROM subjects s WHERE s.tenant_id = $1 \
         ORDER BY s.name_nb COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .fetch_all(&mut *conn)
    .await?)
}

/// A new group, checked.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub kind: &'static str,
    pub name: String,
    pub grade_level: Option<i16>,
    pub subject: Option<Uuid>,
}

/// Create a group; None when the school already has a group of that name this year.
pub async fn create_group(mut conn: Conn<'_>, school: Uuid, year: Uuid, g: &NewGroup) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO groups (tenant_id, school_id, school_year_id, kind, name, grade_level, subject_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, school_id, school_year_id, name) DO NOTHING RETURNING id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .bind(g.kind)
    .bind(&g.name)
    .bind(g.grade_level)
    .bind(g.subject)
    .fetch_optional(&mut *conn)
    .await?)
}

/// One group, for its page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupHead {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_name: String,
    pub school_year_id: Uuid,
    pub year_name: String,
    pub year_ends: Date,
    pub kind: String,
    pub name: String,
    pub grade_level: Option<i16>,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
    pub closed_on: Option<Date>,
}

/// The group, locked against other changes until the transaction ends when `lock`.
pub async fn group(mut conn: Conn<'_>, group: Uuid, lock: bool) -> Result<Option<GroupHead>> {
    let sql = format!(
        "SELECT g.id, g.school_id, sc.name AS school_name, g.school_year_id, y.name AS year_name, y.ends AS year_ends, \
           g.kind, g.name, g.grade_level, s.name_nb AS subject_nb, s.name_en AS subject_en, g.closed_on \
         FROM groups g \
         JOIN schools sc ON sc.tenant_id = $1 AND sc.id = g.school_id \
         JOIN school_years y ON y.tenant_id = $1 AND y.id = g.school_year_id \
         LEFT JOIN subjects s ON s.tenant_id = $1 AND s.id = g.subject_id \
         WHERE g.tenant_id = $1 AND g.id = $2{}",
        if lock { " FOR UPDATE OF g" } else { "" }
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(group).fetch_optional(&mut *conn).await?)
}

/// A pupil in (or for) a group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade_level: Option<i16>,
    /// The stay in the group (members), or the class the pupil is in now (candidates).
    pub from_date: Option<Date>,
    pub to_date: Option<Date>,
    pub class_name: Option<String>,
}

/// The group's members today and those who join later (not those who have left).
pub async fn members(mut conn: Conn<'_>, group: Uuid) -> Result<Vec<MemberRow>> {
    Ok(sqlx::query_as(
        "SELECT m.pupil_id, p.given_name, p.family_name, \
           (SELECT e.grade_level FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = m.pupil_id \
              AND e.from_date <= greatest(m.from_date, tavle_today()) \
              AND (e.to_date IS NULL OR e.to_date > greatest(m.from_date, tavle_today())) LIMIT 1) AS grade_level, \
           m.from_date, m.to_date, NULL::text AS class_name \
         FROM group_memberships m JOIN persons p ON p.tenant_id = $1 AND p.id = m.pupil_id \
         WHERE m.tenant_id = $1 AND m.group_id = $2 AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
         ORDER BY p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\", m.from_date",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_all(&mut *conn)
    .await?)
}

/// Everyone who has had a stay in the group (only their ids are read).
pub async fn ever_members(mut conn: Conn<'_>, group: Uuid) -> Result<Vec<MemberRow>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT m.pupil_id, '' AS given_name, '' AS family_name, NULL::smallint AS grade_level, \
           NULL::date AS from_date, NULL::date AS to_date, NULL::text AS class_name \
         FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $2",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_all(&mut *conn)
    .await?)
}

/// Pupils of the group's school who could join it today: enrolled there now (at the
/// group's grade level, if it has one), not in it already, and for a class, in no other
/// class of the year (moving class is a move, on the pupil's move page).
pub async fn candidates(mut conn: Conn<'_>, g: &GroupHead) -> Result<Vec<MemberRow>> {
    Ok(sqlx::query_as(
        "SELECT e.pupil_id, p.given_name, p.family_name, e.grade_level, NULL::date AS from_date, NULL::date AS to_date, \
           (SELECT c.name FROM group_memberships cm JOIN groups c ON c.tenant_id = $1 AND c.id = cm.group_id \
              WHERE cm.tenant_id = $1 AND cm.pupil_id = e.pupil_id AND c.kind = 'base' AND c.school_year_id = $4 \
                AND cm.from_date <= tavle_today() AND (cm.to_date IS NULL OR cm.to_date > tavle_today()) \
              LIMIT 1) AS class_name \
         FROM enrolments e JOIN persons p ON p.tenant_id = $1 AND p.id = e.pupil_id \
         WHERE e.tenant_id = $1 AND e.school_id = $3 \
           AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
           AND ($5::smallint IS NULL OR e.grade_level = $5) \
           AND NOT EXISTS (SELECT 1 FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $2 \
                 AND m.pupil_id = e.pupil_id AND (m.to_date IS NULL OR m.to_date > tavle_today())) \
           AND ($6 <> 'base' OR NOT EXISTS (SELECT 1 FROM group_memberships m \
                 JOIN groups c ON c.tenant_id = $1 AND c.id = m.group_id \
                 WHERE m.tenant_id = $1 AND m.pupil_id = e.pupil_id AND c.kind = 'base' AND c.school_year_id = $4 \
                   AND (m.to_date IS NULL OR m.to_date > tavle_today()))) \
         ORDER BY e.grade_level, p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(g.id)
    .bind(g.school_id)
    .bind(g.school_year_id)
    .bind(g.grade_level)
    .bind(&g.kind)
    .fetch_all(&mut *conn)
    .await?)
}

/// A teacher of the group, or one who could be.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub staff_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// `teacher` or `contact_teacher` (None for a choice).
    pub assignment: Option<String>,
}

/// The group's teachers and contact teachers.
pub async fn staff(mut conn: Conn<'_>, group: Uuid) -> Result<Vec<StaffRow>> {
    Ok(sqlx::query_as(
        "SELECT gs.staff_id, p.given_name, p.family_name, gs.assignment \
         FROM group_staff gs JOIN persons p ON p.tenant_id = $1 AND p.id = gs.staff_id \
         WHERE gs.tenant_id = $1 AND gs.group_id = $2 \
         ORDER BY gs.assignment DESC, p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_all(&mut *conn)
    .await?)
}

/// The staff employed at the school today, who may teach its groups.
pub async fn school_staff(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<StaffRow>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT ON (p.family_name, p.given_name, p.id) em.staff_id, p.given_name, p.family_name, \
           NULL::text AS assignment \
         FROM employments em JOIN persons p ON p.tenant_id = $1 AND p.id = em.staff_id \
         WHERE em.tenant_id = $1 AND em.school_id = $2 \
           AND em.from_date <= tavle_today() AND (em.to_date IS NULL OR em.to_date > tavle_today()) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn rename(mut conn: Conn<'_>, group: Uuid, name: &str) -> Result<RenameOutcome> {
    let clash: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM groups g JOIN groups o ON o.tenant_id = $1 AND o.school_id = g.school_id \
           AND o.school_year_id = g.school_year_id AND o.name = $3 AND o.id <> g.id \
         WHERE g.tenant_id = $1 AND g.id = $2)",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    if clash {
        return Ok(RenameOutcome::Taken);
    }
    let changed = sqlx::query("UPDATE groups g SET name = $3 WHERE g.tenant_id = $1 AND g.id = $2 AND g.name <> $3")
        .bind(conn.tenant)
        .bind(group)
        .bind(name)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(if changed > 0 { RenameOutcome::Renamed } else { RenameOutcome::Same })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameOutcome {
    Renamed,
    Same,
    Taken,
}

/// End the stays of `pupils` (all members when None) in `group` on `on`: a stay that
/// began before ends that day, one that was to begin on it or later is withdrawn (it
/// never happened). The pupils whose stay changed.
pub async fn end_stays(mut conn: Conn<'_>, group: Uuid, pupils: Option<&[Uuid]>, on: Date) -> Result<Vec<Uuid>> {
    let mut changed: Vec<Uuid> = sqlx::query_scalar(
        "DELETE FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $2 \
           AND ($3::uuid[] IS NULL OR m.pupil_id = ANY($3)) AND m.from_date >= $4 RETURNING m.pupil_id",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(pupils)
    .bind(on)
    .fetch_all(&mut *conn)
    .await?;
    changed.extend(
        sqlx::query_scalar::<_, Uuid>(
            "UPDATE group_memberships m SET to_date = $4 WHERE m.tenant_id = $1 AND m.group_id = $2 \
               AND ($3::uuid[] IS NULL OR m.pupil_id = ANY($3)) AND m.from_date < $4 \
               AND (m.to_date IS NULL OR m.to_date > $4) RETURNING m.pupil_id",
        )
        .bind(conn.tenant)
        .bind(group)
        .bind(pupils)
        .bind(on)
        .fetch_all(&mut *conn)
        .await?,
    );
    changed.sort_unstable();
    changed.dedup();
    Ok(changed)
}

/// Close the group on `on`: every stay ends, its teachers are taken off it. The pupils
/// whose stay changed.
pub async fn close(mut conn: Conn<'_>, group: Uuid, on: Date) -> Result<Vec<Uuid>> {
    let pupils = end_stays(conn.re(), group, None, on).await?;
    sqlx::query("DELETE FROM group_staff gs WHERE gs.tenant_id = $1 AND gs.group_id = $2")
        .bind(conn.tenant)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE groups g SET closed_on = $3 WHERE g.tenant_id = $1 AND g.id = $2 AND g.closed_on IS NULL")
        .bind(conn.tenant)
        .bind(group)
        .bind(on)
        .execute(&mut *conn)
        .await?;
    Ok(pupils)
}

/// Start a stay in `group` from `from` for each of `pupils` that has no stay running on
/// or after that day. The pupils added.
pub async fn add_stays(mut conn: Conn<'_>, group: Uuid, pupils: &[Uuid], from: Date) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO group_memberships (tenant_id, group_id, pupil_id, from_date) \
         SELECT $1, $2, p.id, $4 FROM unnest($3::uuid[]) AS p (id) \
         WHERE NOT EXISTS (SELECT 1 FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $2 \
           AND m.pupil_id = p.id AND (m.to_date IS NULL OR m.to_date > $4)) \
         ON CONFLICT DO NOTHING RETURNING pupil_id",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(pupils)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?)
}

/// Give `staff` the assignment in the group; false when they had it.
pub async fn add_staff(mut conn: Conn<'_>, group: Uuid, staff: Uuid, assignment: &str) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO group_staff (tenant_id, group_id, staff_id, assignment) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(staff)
    .bind(assignment)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0)
}

/// Take an assignment off `staff`; false when they did not have it.
pub async fn remove_staff(mut conn: Conn<'_>, group: Uuid, staff: Uuid, assignment: &str) -> Result<bool> {
    Ok(sqlx::query(
        "DELETE FROM group_staff gs WHERE gs.tenant_id = $1 AND gs.group_id = $2 AND gs.staff_id = $3 \
           AND gs.assignment = $4",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(staff)
    .bind(assignment)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0)
}
