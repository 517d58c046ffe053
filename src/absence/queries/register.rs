//! The lesson register's queries: the lessons a teacher may take on a day, a group and
//! its lessons and members, the register's lines, saving it, and the guardians'
//! reports that cover a day.

use crate::db::Conn;
use time::{Date, Time};
use uuid::Uuid;

use super::{name_column, report_covers, saved_registration, HELD_ON_DATE, MEMBER_ON_DATE};
use crate::error::Result;
use crate::web::i18n::Lang;

/// A lesson held on the day, in the register's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayLessonRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub group_name: String,
    pub school_name: String,
    pub subject: Option<String>,
    pub room: Option<String>,
    pub starts: Time,
    pub ends: Time,
    /// Pupils with a saved status for this lesson and day.
    pub registered: i64,
}

/// Lessons held on `date` that the actor may take: their own (as the lesson's teacher
/// or a teacher of the group) at schools where they teach, and every lesson at
/// schools where they work in the office.
pub async fn lessons_on(
    mut conn: Conn<'_>,
    date: Date,
    me: Uuid,
    teacher_at: &[Uuid],
    office_at: &[Uuid],
    lang: Lang,
) -> Result<Vec<DayLessonRow>> {
    let sql = format!(
        "SELECT l.id, g.id AS group_id, g.name AS group_name, s.name AS school_name, sub.{name} AS subject, \
                l.room, l.starts, l.ends, \
                (SELECT count(*) FROM absence_registrations r WHERE r.tenant_id = $1 \
                   AND r.lesson_id = l.id AND r.date = $2) AS registered \
         FROM lessons l \
         JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         LEFT JOIN subjects sub ON sub.tenant_id = l.tenant_id AND sub.id = l.subject_id \
         WHERE l.tenant_id = $1 AND {HELD_ON_DATE} \
           AND (g.school_id = ANY($5) OR (g.school_id = ANY($4) AND (l.teacher_id = $3 OR EXISTS ( \
                SELECT 1 FROM group_staff gs WHERE gs.tenant_id = $1 AND gs.group_id = g.id \
                  AND gs.staff_id = $3)))) \
         ORDER BY l.starts, g.name, l.id",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql)
        .bind(conn.tenant)
        .bind(date)
        .bind(me)
        .bind(teacher_at)
        .bind(office_at)
        .fetch_all(&mut *conn)
        .await?)
}

/// A class or teaching group, with its school year.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub school_name: String,
    pub year_starts: Date,
    pub year_ends: Date,
    /// Today in Norway, read with the group (one round trip less for the register).
    pub today: Date,
}

pub async fn group(mut conn: Conn<'_>, group: Uuid) -> Result<Option<GroupRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, s.name AS school_name, y.starts AS year_starts, y.ends AS year_ends, \
                tavle_today() AS today \
         FROM groups g JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE g.tenant_id = $1 AND g.id = $2",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_optional(&mut *conn)
    .await?)
}

/// One of a group's weekly lessons.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupLessonRow {
    pub id: Uuid,
    pub weekday: i16,
    pub starts: Time,
    pub ends: Time,
    pub subject: Option<String>,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
}

/// Every weekly lesson of the group, in the order of the week.
pub async fn group_lessons(mut conn: Conn<'_>, group: Uuid, lang: Lang) -> Result<Vec<GroupLessonRow>> {
    let sql = format!(
        "SELECT l.id, l.weekday, l.starts, l.ends, sub.{name} AS subject, l.valid_from, l.valid_to \
         FROM lessons l LEFT JOIN subjects sub ON sub.tenant_id = l.tenant_id AND sub.id = l.subject_id \
         WHERE l.tenant_id = $1 AND l.group_id = $2 ORDER BY l.weekday, l.starts, l.valid_from, l.id",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(group).fetch_all(&mut *conn).await?)
}

/// Which of the group's lessons are held on `date` (see [`HELD_ON_DATE`]).
pub async fn lessons_held_on(mut conn: Conn<'_>, group: Uuid, date: Date) -> Result<Vec<Uuid>> {
    let sql = format!(
        "SELECT l.id FROM lessons l JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         WHERE l.tenant_id = $1 AND l.group_id = $3 AND {HELD_ON_DATE}"
    );
    Ok(sqlx::query_scalar(&sql).bind(conn.tenant).bind(date).bind(group).fetch_all(&mut *conn).await?)
}

/// The group's members on `date`: who may be registered in its lessons that day.
pub async fn member_ids(mut conn: Conn<'_>, group: Uuid, date: Date) -> Result<Vec<Uuid>> {
    let sql = format!(
        "SELECT m.pupil_id FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $3 AND {MEMBER_ON_DATE}"
    );
    Ok(sqlx::query_scalar(&sql).bind(conn.tenant).bind(date).bind(group).fetch_all(&mut *conn).await?)
}

/// A line of the lesson register: a member of the group on the day, what is saved
/// for the lesson, the guardians' reports that cover the day (in order of their
/// start, whole days first) and the reason of approved leave that covers it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub status: Option<String>,
    pub minutes_late: Option<i16>,
    pub report_reasons: Vec<String>,
    pub report_from: Vec<Option<Time>>,
    pub report_to: Vec<Option<Time>>,
    pub leave_reason: Option<String>,
}

/// The register's lines in one query: the group's members on the day, what is saved
/// for them in the lesson, and what [`reports_on`] and
/// [`approved_leave`](crate::absence::leave::queries::approved_leave) find for each of them.
pub async fn register_lines(
    mut conn: Conn<'_>,
    group: Uuid,
    lesson: Uuid,
    date: Date,
    lang: Lang,
) -> Result<Vec<LineRow>> {
    let sql = register_lines_sql(lang);
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(date).bind(group).bind(lesson).fetch_all(&mut *conn).await?)
}

/// The query of [`register_lines`]: `$1` the tenant, `$2` the date, `$3` the group,
/// `$4` the lesson.
/// Public so that a test can read its plan.
pub fn register_lines_sql(lang: Lang) -> String {
    format!(
        "SELECT p.id, p.given_name, p.family_name, reg.status, reg.minutes_late, \
                coalesce(rep.reasons, '{{}}') AS report_reasons, coalesce(rep.froms, '{{}}') AS report_from, \
                coalesce(rep.tos, '{{}}') AS report_to, lv.reason AS leave_reason \
         FROM group_memberships m \
         JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.pupil_id \
         LEFT JOIN LATERAL ({saved}) reg ON true \
         LEFT JOIN LATERAL ( \
           SELECT array_agg(a.{name} ORDER BY r.from_time NULLS FIRST, r.id) AS reasons, \
                  array_agg(r.from_time ORDER BY r.from_time NULLS FIRST, r.id) AS froms, \
                  array_agg(r.to_time ORDER BY r.from_time NULLS FIRST, r.id) AS tos \
           FROM absence_reports r JOIN absence_reasons a ON a.tenant_id = r.tenant_id AND a.code = r.reason_code \
           WHERE r.tenant_id = $1 AND r.pupil_id = m.pupil_id AND {report} \
         ) rep ON true \
         LEFT JOIN LATERAL ( \
           SELECT lr.{name} AS reason FROM leave_applications la \
           JOIN leave_reasons lr ON lr.tenant_id = la.tenant_id AND lr.code = la.reason_code \
           WHERE la.tenant_id = $1 AND la.pupil_id = m.pupil_id AND {leave} ORDER BY la.first_day LIMIT 1 \
         ) lv ON true \
         WHERE m.tenant_id = $1 AND m.group_id = $3 AND {member} \
         ORDER BY p.family_name, p.given_name, p.id",
        name = name_column(lang),
        report = report_covers("r", "$2"),
        leave = crate::absence::leave::queries::approved_leave_covers("la", "$2", "$2"),
        member = MEMBER_ON_DATE,
        saved = saved_registration("$4", "m.pupil_id", "$2"),
    )
}

/// What a guardian reported for a pupil on a given day, as the register shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayReportRow {
    pub pupil_id: Uuid,
    pub reason: String,
    pub from_time: Option<Time>,
    pub to_time: Option<Time>,
}

pub async fn reports_on(mut conn: Conn<'_>, pupils: &[Uuid], date: Date, lang: Lang) -> Result<Vec<DayReportRow>> {
    let sql = format!(
        "SELECT r.pupil_id, a.{name} AS reason, r.from_time, r.to_time FROM absence_reports r \
         JOIN absence_reasons a ON a.tenant_id = r.tenant_id AND a.code = r.reason_code \
         WHERE r.tenant_id = $1 AND r.pupil_id = ANY($3) AND {covers} ORDER BY r.from_time NULLS FIRST, r.id",
        name = name_column(lang),
        covers = report_covers("r", "$2"),
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(date).bind(pupils).fetch_all(&mut *conn).await?)
}

/// One pupil's status to save.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub pupil_id: Uuid,
    pub status: &'static str,
    pub minutes_late: Option<i16>,
}

/// Save the register: one row per (lesson, pupil, date), so saving the same register
/// again changes nothing. A row whose status is unchanged keeps who registered it and
/// when. Returns the number of rows inserted or changed.
///
/// One statement for all the pupils, which locks their rows in pupil order: two saves
/// of the same register at once (a double click, two tabs) wait for each other
/// instead of deadlocking, as they did when each pupil was upserted on its own in the
/// form's order.
pub async fn save_register(
    mut conn: Conn<'_>,
    lesson: Uuid,
    date: Date,
    by: Uuid,
    source: &str,
    entries: &[Entry],
) -> Result<u64> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.pupil_id);
    let pupils: Vec<Uuid> = sorted.iter().map(|e| e.pupil_id).collect();
    let statuses: Vec<&str> = sorted.iter().map(|e| e.status).collect();
    let minutes: Vec<Option<i16>> = sorted.iter().map(|e| e.minutes_late).collect();
    Ok(sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, minutes_late, \
             registered_by, source, registered_at) \
         SELECT $1, $2, e.pupil_id, $3, e.status, e.minutes_late, $4, $5, now() \
         FROM unnest($6::uuid[], $7::text[], $8::smallint[]) AS e (pupil_id, status, minutes_late) \
         ORDER BY e.pupil_id \
         ON CONFLICT (tenant_id, lesson_id, pupil_id, date) DO UPDATE \
            SET status = EXCLUDED.status, minutes_late = EXCLUDED.minutes_late, \
                registered_by = EXCLUDED.registered_by, registered_at = EXCLUDED.registered_at, \
                source = EXCLUDED.source \
          WHERE (absence_registrations.status, absence_registrations.minutes_late) \
                IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late)",
    )
    .bind(conn.tenant)
    .bind(lesson)
    .bind(date)
    .bind(by)
    .bind(source)
    .bind(&pupils)
    .bind(&statuses)
    .bind(&minutes)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
