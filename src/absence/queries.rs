//! Queries about absence. Each takes the request's tenant-bound connection; whether
//! the actor may ask was decided by `policy` beforehand.

use sqlx::PgConnection;
use time::{Date, Time};
use uuid::Uuid;

use crate::error::Result;
use crate::web::i18n::Lang;

/// Whether lesson `l` of group `g` is held on the date bound as `$1`: its weekday,
/// within its validity, within the group's school year, and not a day off of the
/// calendar (a break of the whole municipality or of the group's school).
pub(crate) const HELD_ON_DATE: &str = "l.weekday = extract(isodow FROM $1::date)::smallint \
     AND l.valid_from <= $1 AND (l.valid_to IS NULL OR l.valid_to > $1) \
     AND EXISTS (SELECT 1 FROM school_years y WHERE y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
                 AND y.starts <= $1 AND y.ends >= $1) \
     AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = g.tenant_id \
                     AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
                     AND $1 BETWEEN b.first_day AND b.last_day)";

/// Today in Norway (the database's clock, so every check agrees with the SQL).
pub async fn today(conn: &mut PgConnection) -> Result<Date> {
    Ok(sqlx::query_scalar("SELECT tavle_today()").fetch_one(conn).await?)
}

fn name_column(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "name_en",
        Lang::Nb => "name_nb",
    }
}

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
    conn: &mut PgConnection,
    date: Date,
    me: Uuid,
    teacher_at: &[Uuid],
    office_at: &[Uuid],
    lang: Lang,
) -> Result<Vec<DayLessonRow>> {
    let sql = format!(
        "SELECT l.id, g.id AS group_id, g.name AS group_name, s.name AS school_name, sub.{name} AS subject, \
                l.room, l.starts, l.ends, \
                (SELECT count(*) FROM absence_registrations r WHERE r.tenant_id = l.tenant_id \
                   AND r.lesson_id = l.id AND r.date = $1) AS registered \
         FROM lessons l \
         JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         LEFT JOIN subjects sub ON sub.tenant_id = l.tenant_id AND sub.id = l.subject_id \
         WHERE {HELD_ON_DATE} \
           AND (g.school_id = ANY($4) OR (g.school_id = ANY($3) AND (l.teacher_id = $2 OR EXISTS ( \
                SELECT 1 FROM group_staff gs WHERE gs.tenant_id = g.tenant_id AND gs.group_id = g.id \
                  AND gs.staff_id = $2)))) \
         ORDER BY l.starts, g.name, l.id",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(date).bind(me).bind(teacher_at).bind(office_at).fetch_all(conn).await?)
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

pub async fn group(conn: &mut PgConnection, group: Uuid) -> Result<Option<GroupRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, s.name AS school_name, y.starts AS year_starts, y.ends AS year_ends, \
                tavle_today() AS today \
         FROM groups g JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id WHERE g.id = $1",
    )
    .bind(group)
    .fetch_optional(conn)
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
pub async fn group_lessons(conn: &mut PgConnection, group: Uuid, lang: Lang) -> Result<Vec<GroupLessonRow>> {
    let sql = format!(
        "SELECT l.id, l.weekday, l.starts, l.ends, sub.{name} AS subject, l.valid_from, l.valid_to \
         FROM lessons l LEFT JOIN subjects sub ON sub.tenant_id = l.tenant_id AND sub.id = l.subject_id \
         WHERE l.group_id = $1 ORDER BY l.weekday, l.starts, l.valid_from, l.id",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(group).fetch_all(conn).await?)
}

/// Which of the group's lessons are held on `date` (see [`HELD_ON_DATE`]).
pub async fn lessons_held_on(conn: &mut PgConnection, group: Uuid, date: Date) -> Result<Vec<Uuid>> {
    let sql = format!(
        "SELECT l.id FROM lessons l JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         WHERE l.group_id = $2 AND {HELD_ON_DATE}"
    );
    Ok(sqlx::query_scalar(&sql).bind(date).bind(group).fetch_all(conn).await?)
}

/// The group's members on `date`: who may be registered in its lessons that day.
pub async fn member_ids(conn: &mut PgConnection, group: Uuid, date: Date) -> Result<Vec<Uuid>> {
    let sql = format!("SELECT m.pupil_id FROM group_memberships m WHERE m.group_id = $2 AND {MEMBER_ON_DATE}");
    Ok(sqlx::query_scalar(&sql).bind(date).bind(group).fetch_all(conn).await?)
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
/// [`approved_leave`](super::leave::queries::approved_leave) find for each of them.
pub async fn register_lines(
    conn: &mut PgConnection,
    group: Uuid,
    lesson: Uuid,
    date: Date,
    lang: Lang,
) -> Result<Vec<LineRow>> {
    let sql = register_lines_sql(lang);
    Ok(sqlx::query_as(&sql).bind(date).bind(group).bind(lesson).fetch_all(conn).await?)
}

/// The query of [`register_lines`]: `$1` the date, `$2` the group, `$3` the lesson.
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
           WHERE r.pupil_id = m.pupil_id AND {report} \
         ) rep ON true \
         LEFT JOIN LATERAL ( \
           SELECT lr.{name} AS reason FROM leave_applications la \
           JOIN leave_reasons lr ON lr.tenant_id = la.tenant_id AND lr.code = la.reason_code \
           WHERE la.pupil_id = m.pupil_id AND {leave} ORDER BY la.first_day LIMIT 1 \
         ) lv ON true \
         WHERE m.group_id = $2 AND {member} \
         ORDER BY p.family_name, p.given_name, p.id",
        name = name_column(lang),
        report = report_covers("r", "$1"),
        leave = super::leave::queries::approved_leave_covers("la", "$1", "$1"),
        member = MEMBER_ON_DATE,
        saved = saved_registration("$3", "m.pupil_id", "$1"),
    )
}

/// What is saved for `pupil` in `lesson` on `day` (SQL expressions), as a subquery
/// for `LEFT JOIN LATERAL (…) reg ON true`: one index probe per pupil.
///
/// As a plain join the planner may instead read every registration of the day (or,
/// through the index on pupil and date, of the whole municipality) and filter: it
/// estimates "registrations on today's date" from statistics gathered before today's
/// registers were taken, finds none, and picks the scan. Every school morning starts
/// like that, and the table grows by a row per pupil and lesson every school day.
/// `LIMIT 1` (the unique key allows one row at most anyway) keeps the subquery from
/// being merged into the join.
pub(super) fn saved_registration(lesson: &str, pupil: &str, day: &str) -> String {
    format!(
        "SELECT reg.status, reg.minutes_late FROM absence_registrations reg \
         WHERE reg.lesson_id = {lesson} AND reg.pupil_id = {pupil} AND reg.date = {day} LIMIT 1"
    )
}

/// A guardian's report (`alias`) covers the day `day` (an SQL expression).
fn report_covers(alias: &str, day: &str) -> String {
    format!("{alias}.first_day <= {day} AND {alias}.last_day >= {day}")
}

/// A membership `m` that holds on `$1`.
const MEMBER_ON_DATE: &str = "m.from_date <= $1 AND (m.to_date IS NULL OR m.to_date > $1)";

/// What a guardian reported for a pupil on a given day, as the register shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayReportRow {
    pub pupil_id: Uuid,
    pub reason: String,
    pub from_time: Option<Time>,
    pub to_time: Option<Time>,
}

pub async fn reports_on(conn: &mut PgConnection, pupils: &[Uuid], date: Date, lang: Lang) -> Result<Vec<DayReportRow>> {
    let sql = format!(
        "SELECT r.pupil_id, a.{name} AS reason, r.from_time, r.to_time FROM absence_reports r \
         JOIN absence_reasons a ON a.tenant_id = r.tenant_id AND a.code = r.reason_code \
         WHERE r.pupil_id = ANY($2) AND {covers} ORDER BY r.from_time NULLS FIRST, r.id",
        name = name_column(lang),
        covers = report_covers("r", "$1"),
    );
    Ok(sqlx::query_as(&sql).bind(date).bind(pupils).fetch_all(conn).await?)
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
    conn: &mut PgConnection,
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
             registered_by, source) \
         SELECT tavle_current_tenant(), $1, e.pupil_id, $2, e.status, e.minutes_late, $3, $4 \
         FROM unnest($5::uuid[], $6::text[], $7::smallint[]) AS e (pupil_id, status, minutes_late) \
         ORDER BY e.pupil_id \
         ON CONFLICT (tenant_id, lesson_id, pupil_id, date) DO UPDATE \
            SET status = EXCLUDED.status, minutes_late = EXCLUDED.minutes_late, \
                registered_by = EXCLUDED.registered_by, registered_at = now(), source = EXCLUDED.source \
          WHERE (absence_registrations.status, absence_registrations.minutes_late) \
                IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late)",
    )
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

// ---- guardians' reports ---------------------------------------------------------

/// A reason of the tenant's code list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReasonRow {
    pub code: String,
    pub name: String,
}

/// The reasons a guardian may choose, in the list's order.
pub async fn guardian_reasons(conn: &mut PgConnection, lang: Lang) -> Result<Vec<ReasonRow>> {
    let sql = format!(
        "SELECT code, {name} AS name FROM absence_reasons WHERE for_guardians ORDER BY sort_order, code",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

/// The child's name, for the page heading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
}

pub async fn children(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<ChildRow>> {
    Ok(sqlx::query_as(
        "SELECT id, given_name, family_name FROM persons WHERE id = ANY($1) ORDER BY birth_date, given_name, id",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

/// The first and last day of the school year that `date` falls in, if any.
pub async fn school_year_of(conn: &mut PgConnection, date: Date) -> Result<Option<(Date, Date)>> {
    Ok(sqlx::query_as(
        "SELECT starts, ends FROM school_years WHERE starts <= $1 AND ends >= $1 ORDER BY starts LIMIT 1",
    )
    .bind(date)
    .fetch_optional(conn)
    .await?)
}

/// A report as the guardians' list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: Uuid,
    pub first_day: Date,
    pub last_day: Date,
    pub from_time: Option<Time>,
    pub to_time: Option<Time>,
    pub reason: String,
    pub reported_by: String,
    pub by_me: bool,
}

/// Every report of the child, newest period first, whoever of the guardians made it.
pub async fn reports_of(conn: &mut PgConnection, pupil: Uuid, me: Uuid, lang: Lang) -> Result<Vec<ReportRow>> {
    let sql = format!(
        "SELECT r.id, r.first_day, r.last_day, r.from_time, r.to_time, a.{name} AS reason, \
                p.given_name || ' ' || p.family_name AS reported_by, r.reported_by = $2 AS by_me \
         FROM absence_reports r \
         JOIN absence_reasons a ON a.tenant_id = r.tenant_id AND a.code = r.reason_code \
         JOIN persons p ON p.tenant_id = r.tenant_id AND p.id = r.reported_by \
         WHERE r.pupil_id = $1 ORDER BY r.first_day DESC, r.from_time DESC NULLS LAST, r.created_at DESC",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(pupil).bind(me).fetch_all(conn).await?)
}

/// Hold the child's row until the transaction ends, so that two guardians reporting
/// at the same moment cannot both pass the overlap check.
pub async fn lock_child(conn: &mut PgConnection, pupil: Uuid) -> Result<()> {
    sqlx::query("SELECT 1 FROM pupils WHERE person_id = $1 FOR NO KEY UPDATE").bind(pupil).execute(conn).await?;
    Ok(())
}

/// A new report, checked.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub first_day: Date,
    pub last_day: Date,
    pub hours: Option<(Time, Time)>,
    pub reason: String,
}

/// Does the new report overlap an existing one of the child? Whole days overlap
/// anything on those days; two reports of hours overlap when their times do.
pub async fn overlaps(conn: &mut PgConnection, pupil: Uuid, r: &NewReport) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM absence_reports WHERE pupil_id = $1 AND first_day <= $3 AND last_day >= $2 \
           AND (from_time IS NULL OR $4::time IS NULL OR (from_time < $5::time AND to_time > $4::time)))",
    )
    .bind(pupil)
    .bind(r.first_day)
    .bind(r.last_day)
    .bind(r.hours.map(|h| h.0))
    .bind(r.hours.map(|h| h.1))
    .fetch_one(conn)
    .await?)
}

pub async fn insert_report(conn: &mut PgConnection, pupil: Uuid, by: Uuid, r: &NewReport) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO absence_reports (tenant_id, pupil_id, reported_by, first_day, last_day, from_time, to_time, \
             reason_code) \
         VALUES (tavle_current_tenant(), $1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(pupil)
    .bind(by)
    .bind(r.first_day)
    .bind(r.last_day)
    .bind(r.hours.map(|h| h.0))
    .bind(r.hours.map(|h| h.1))
    .bind(&r.reason)
    .fetch_one(conn)
    .await?)
}

/// Withdraw a report of the child that has not begun yet (its first day is after
/// `today`). Returns whether one was removed.
pub async fn withdraw_report(conn: &mut PgConnection, pupil: Uuid, report: Uuid, today: Date) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM absence_reports WHERE id = $1 AND pupil_id = $2 AND first_day > $3")
        .bind(report)
        .bind(pupil)
        .bind(today)
        .execute(conn)
        .await?
        .rows_affected()
        == 1)
}
