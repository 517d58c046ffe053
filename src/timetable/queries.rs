//! Queries of the timetable. Each takes the request's tenant-bound connection; who
//! may see what was decided by `policy` beforehand.

use crate::db::Conn;
use time::{Date, Time};
use uuid::Uuid;

use crate::error::Result;

/// Whose week: a pupil's (the groups they belong to, day by day), a teacher's
/// (lessons they teach) or a group's.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Pupil(Uuid),
    Teacher(Uuid),
    Group(Uuid),
}

impl Target {
    fn parts(self) -> (&'static str, Uuid) {
        match self {
            Target::Pupil(id) => ("pupil", id),
            Target::Teacher(id) => ("teacher", id),
            Target::Group(id) => ("group", id),
        }
    }
}

/// One lesson on one day of the week.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LessonOnDay {
    pub day: Date,
    pub id: Uuid,
    pub starts: Time,
    pub ends: Time,
    pub room: Option<String>,
    pub group_id: Uuid,
    pub group_name: String,
    pub school_id: Uuid,
    pub subject_code: Option<String>,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
    pub teacher_given: Option<String>,
    pub teacher_family: Option<String>,
}

/// The target's lessons in the seven days from `monday`, before days off are taken
/// out (see [`school_days`]). A pupil's lessons follow their group memberships day by day.
pub async fn week_lessons(mut conn: Conn<'_>, target: Target, monday: Date) -> Result<Vec<LessonOnDay>> {
    let (kind, id) = target.parts();
    Ok(sqlx::query_as(
        "SELECT d.day, l.id, l.starts, l.ends, l.room, g.id AS group_id, g.name AS group_name, g.school_id, \
                s.code AS subject_code, s.name_nb AS subject_nb, s.name_en AS subject_en, \
                p.given_name AS teacher_given, p.family_name AS teacher_family \
         FROM (SELECT ($2::date + i) AS day FROM generate_series(0, 6) i) d \
         JOIN lessons l ON l.tenant_id = $1 AND l.weekday = extract(isodow FROM d.day) \
              AND l.valid_from <= d.day AND (l.valid_to IS NULL OR l.valid_to > d.day) \
         JOIN groups g ON g.tenant_id = $1 AND g.tenant_id = l.tenant_id AND g.id = l.group_id \
         LEFT JOIN subjects s ON s.tenant_id = $1 AND s.tenant_id = l.tenant_id AND s.id = l.subject_id \
         LEFT JOIN persons p ON p.tenant_id = $1 AND p.tenant_id = l.tenant_id AND p.id = l.teacher_id \
         WHERE CASE $3 \
           WHEN 'group' THEN l.group_id = $4 \
           WHEN 'teacher' THEN l.teacher_id = $4 \
           ELSE EXISTS (SELECT 1 FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = l.group_id \
                        AND m.pupil_id = $4 \
                        AND m.from_date <= d.day AND (m.to_date IS NULL OR m.to_date > d.day)) END \
         ORDER BY d.day, l.starts, l.ends, g.name COLLATE \"nb-NO-x-icu\", l.id",
    )
    .bind(conn.tenant)
    .bind(monday)
    .bind(kind)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Whether a school teaches on a day: inside a term and not in a break (the
/// municipality's or the school's own). `break_name` names the break, if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolDay {
    pub day: Date,
    pub school_id: Uuid,
    pub in_term: bool,
    pub break_name: Option<String>,
}

impl SchoolDay {
    pub fn off(&self) -> bool {
        !self.in_term || self.break_name.is_some()
    }
}

pub async fn school_days(mut conn: Conn<'_>, schools: &[Uuid], monday: Date) -> Result<Vec<SchoolDay>> {
    Ok(sqlx::query_as(
        "SELECT d.day, s.id AS school_id, \
                EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = $1 AND d.day BETWEEN t.starts AND t.ends) \
                  AS in_term, \
                (SELECT b.name FROM calendar_breaks b \
                 WHERE b.tenant_id = $1 AND (b.school_id IS NULL OR b.school_id = s.id) \
                   AND d.day BETWEEN b.first_day AND b.last_day \
                 ORDER BY b.school_id NULLS LAST, b.first_day LIMIT 1) AS break_name \
         FROM (SELECT ($2::date + i) AS day FROM generate_series(0, 6) i) d \
         JOIN schools s ON s.tenant_id = $1 AND s.id = ANY($3) ORDER BY d.day, s.id",
    )
    .bind(conn.tenant)
    .bind(monday)
    .bind(schools)
    .fetch_all(&mut *conn)
    .await?)
}

/// The schools a pupil is enrolled at, or a staff member employed at, during the week.
pub async fn home_schools(mut conn: Conn<'_>, target: Target, monday: Date) -> Result<Vec<Uuid>> {
    let (kind, id) = target.parts();
    Ok(sqlx::query_scalar(
        "SELECT school_id FROM enrolments WHERE tenant_id = $1 AND $2 = 'pupil' AND pupil_id = $3 \
           AND from_date <= $4::date + 6 AND (to_date IS NULL OR to_date > $4) \
         UNION \
         SELECT school_id FROM employments WHERE tenant_id = $1 AND $2 = 'teacher' AND staff_id = $3 \
           AND school_id IS NOT NULL AND from_date <= $4::date + 6 AND (to_date IS NULL OR to_date > $4) \
         UNION \
         SELECT school_id FROM groups WHERE tenant_id = $1 AND $2 = 'group' AND id = $3",
    )
    .bind(conn.tenant)
    .bind(kind)
    .bind(id)
    .bind(monday)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn today(mut conn: Conn<'_>) -> Result<Date> {
    Ok(sqlx::query_scalar("SELECT tavle_today()").fetch_one(&mut *conn).await?)
}

pub async fn person_name(mut conn: Conn<'_>, id: Uuid) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as("SELECT given_name, family_name FROM persons WHERE tenant_id = $1 AND id = $2")
        .bind(conn.tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// A group with its school and school year.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupInfo {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub subject_id: Option<Uuid>,
    pub school_id: Uuid,
    pub school_name: String,
    pub year_name: String,
    pub year_starts: Date,
    pub year_ends: Date,
}

pub async fn group(mut conn: Conn<'_>, id: Uuid) -> Result<Option<GroupInfo>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.kind, g.subject_id, g.school_id, s.name AS school_name, \
                y.name AS year_name, y.starts AS year_starts, y.ends AS year_ends \
         FROM groups g JOIN schools s ON s.tenant_id = $1 AND s.tenant_id = g.tenant_id AND s.id = g.school_id \
         JOIN school_years y ON y.tenant_id = $1 AND y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE g.tenant_id = $1 AND g.id = $2",
    )
    .bind(conn.tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolRow {
    pub id: Uuid,
    pub name: String,
}

pub async fn schools(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<SchoolRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name FROM schools WHERE tenant_id = $1 AND id = ANY($2) ORDER BY name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub lessons: i64,
}

/// The school's base and teaching groups of the school year that contains `day` (the
/// latest one before it, in the summer).
pub async fn school_groups(mut conn: Conn<'_>, school: Uuid, day: Date) -> Result<Vec<GroupRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.kind, \
                (SELECT count(*) FROM lessons l WHERE l.tenant_id = $1 AND l.group_id = g.id) AS lessons \
         FROM groups g WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.kind IN ('base', 'teaching') \
           AND g.school_year_id = (SELECT y.id FROM school_years y WHERE y.tenant_id = $1 AND y.starts <= $3 \
                                   ORDER BY y.starts DESC LIMIT 1) \
         ORDER BY g.grade_level NULLS LAST, g.kind, g.name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(day)
    .fetch_all(&mut *conn)
    .await?)
}

/// A lesson as stored (for the edit page and the checks).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LessonRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub subject_id: Option<Uuid>,
    pub teacher_id: Option<Uuid>,
    pub room: Option<String>,
    pub weekday: i16,
    pub starts: Time,
    pub ends: Time,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
}

/// A group's lessons with names, for the edit page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LessonListRow {
    #[sqlx(flatten)]
    pub lesson: LessonRow,
    pub subject_code: Option<String>,
    pub teacher_name: Option<String>,
}

pub async fn group_lessons(mut conn: Conn<'_>, group: Uuid) -> Result<Vec<LessonListRow>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.group_id, l.subject_id, l.teacher_id, l.room, l.weekday, l.starts, l.ends, l.valid_from, \
                l.valid_to, s.code AS subject_code, p.family_name || ', ' || p.given_name AS teacher_name \
         FROM lessons l LEFT JOIN subjects s ON s.tenant_id = $1 AND s.tenant_id = l.tenant_id AND s.id = l.subject_id \
         LEFT JOIN persons p ON p.tenant_id = $1 AND p.tenant_id = l.tenant_id AND p.id = l.teacher_id \
         WHERE l.tenant_id = $1 AND l.group_id = $2 ORDER BY l.weekday, l.starts, l.valid_from, l.id",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_all(&mut *conn)
    .await?)
}

// The subjects a lesson may be for: the classes and groups feature's list.
pub use crate::groups::queries::{subjects, SubjectRow};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeacherRow {
    pub id: Uuid,
    pub name: String,
    pub resource_number: String,
}

/// Staff employed at the school now or later (those a lesson may be given to), and
/// `also` (the lesson's present teacher, who may have left).
pub async fn school_teachers(mut conn: Conn<'_>, school: Uuid, also: Option<Uuid>) -> Result<Vec<TeacherRow>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.family_name || ', ' || p.given_name AS name, st.resource_number \
         FROM staff st JOIN persons p ON p.tenant_id = $1 AND p.tenant_id = st.tenant_id AND p.id = st.person_id \
         WHERE st.tenant_id = $1 \
           AND (EXISTS (SELECT 1 FROM employments e WHERE e.tenant_id = $1 AND e.staff_id = st.person_id \
                        AND e.school_id = $2 AND (e.to_date IS NULL OR e.to_date > tavle_today())) \
                OR st.person_id = $3) \
         ORDER BY p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\", p.id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(also)
    .fetch_all(&mut *conn)
    .await?)
}

/// Is `staff` employed at `school` on some day of [from, until)?
pub async fn employed_at(
    mut conn: Conn<'_>,
    staff: Uuid,
    school: Uuid,
    from: Date,
    until: Option<Date>,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM employments e WHERE e.tenant_id = $1 AND e.staff_id = $2 AND e.school_id = $3 \
           AND e.from_date < coalesce($5, 'infinity'::date) AND (e.to_date IS NULL OR e.to_date > $4))",
    )
    .bind(conn.tenant)
    .bind(staff)
    .bind(school)
    .bind(from)
    .bind(until)
    .fetch_one(&mut *conn)
    .await?)
}

/// Serialise the municipality's timetable writers, so that two cannot both pass the
/// double-booking check with lessons that clash.
pub async fn lock_timetable(mut conn: Conn<'_>, tenant: Uuid) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('tavle.timetable.' || $1::text, 0))")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Take lessons out of the timetable. A lesson with absence registered against it is
/// history the absence record needs: it is ended the day after its last registration
/// instead of deleted. Returns each lesson's teacher, and how many were only ended.
pub async fn remove_lessons(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<(Vec<Option<Uuid>>, usize)> {
    let rows: Vec<(Option<Uuid>, bool)> = sqlx::query_as(
        "WITH history AS ( \
             SELECT lesson_id, max(date) AS last FROM absence_registrations \
             WHERE tenant_id = $1 AND lesson_id = ANY($2) GROUP BY lesson_id), \
         ended AS ( \
             UPDATE lessons l SET valid_to = GREATEST(h.last + 1, l.valid_from + 1), updated_at = now() \
             FROM history h WHERE l.tenant_id = $1 AND l.id = h.lesson_id RETURNING l.teacher_id), \
         deleted AS ( \
             DELETE FROM lessons WHERE tenant_id = $1 AND id = ANY($2) AND id NOT IN (SELECT lesson_id FROM history) \
             RETURNING teacher_id) \
         SELECT teacher_id, true FROM ended UNION ALL SELECT teacher_id, false FROM deleted",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let ended = rows.iter().filter(|(_, e)| *e).count();
    Ok((rows.into_iter().map(|(t, _)| t).collect(), ended))
}

/// A lesson that clashes with a planned one: the same group, or the same teacher, at
/// an overlapping time on the same weekday in an overlapping period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Clash {
    pub same_group: bool,
    pub group_name: String,
    pub subject_code: Option<String>,
    pub starts: Time,
    pub ends: Time,
}

pub async fn clashes(mut conn: Conn<'_>, l: &LessonRow) -> Result<Vec<Clash>> {
    Ok(sqlx::query_as(
        "SELECT l.group_id = $3 AS same_group, g.name AS group_name, s.code AS subject_code, l.starts, l.ends \
         FROM lessons l JOIN groups g ON g.tenant_id = $1 AND g.tenant_id = l.tenant_id AND g.id = l.group_id \
         LEFT JOIN subjects s ON s.tenant_id = $1 AND s.tenant_id = l.tenant_id AND s.id = l.subject_id \
         WHERE l.tenant_id = $1 AND l.id <> $2 AND l.weekday = $5 AND l.starts < $7 AND $6 < l.ends \
           AND l.valid_from < coalesce($9, 'infinity'::date) AND $8 < coalesce(l.valid_to, 'infinity'::date) \
           AND (l.group_id = $3 OR ($4::uuid IS NOT NULL AND l.teacher_id = $4)) \
         ORDER BY same_group DESC, l.starts",
    )
    .bind(conn.tenant)
    .bind(l.id)
    .bind(l.group_id)
    .bind(l.teacher_id)
    .bind(l.weekday)
    .bind(l.starts)
    .bind(l.ends)
    .bind(l.valid_from)
    .bind(l.valid_to)
    .fetch_all(&mut *conn)
    .await?)
}
