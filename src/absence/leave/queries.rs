//! Queries about leave applications. Each takes the request's tenant-bound
//! connection; whether the actor may ask was decided by `policy` beforehand.
//! [`approved_leave`] is for other parts of absence (the register, totals).

use crate::db::Conn;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::absence::queries::name_column;
use crate::error::Result;
use crate::web::i18n::Lang;

/// A code of one of the tenant's lists (reasons, rejection codes).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub code: String,
    pub name: String,
}

/// The reasons a guardian may choose, in the list's order.
pub async fn reasons(mut conn: Conn<'_>, lang: Lang) -> Result<Vec<CodeRow>> {
    let sql = format!(
        "SELECT code, {} AS name FROM leave_reasons WHERE tenant_id = $1 ORDER BY sort_order, code",
        name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).fetch_all(&mut *conn).await?)
}

/// The codes a rejection may carry, in the list's order.
pub async fn rejection_codes(mut conn: Conn<'_>, lang: Lang) -> Result<Vec<CodeRow>> {
    let sql = format!(
        "SELECT code, {} AS name FROM leave_rejection_codes WHERE tenant_id = $1 ORDER BY sort_order, code",
        name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).fetch_all(&mut *conn).await?)
}

/// The school where the pupil is enrolled on `date`, if any.
pub async fn school_of(mut conn: Conn<'_>, pupil: Uuid, date: Date) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT school_id FROM enrolments WHERE tenant_id = $1 AND pupil_id = $2 AND from_date <= $3 \
         AND (to_date IS NULL OR to_date > $3) ORDER BY from_date DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?)
}

/// How many school days the range holds at `school`: weekdays within a term of the
/// school year, not a day off of the calendar (of the municipality or the school).
pub async fn school_days(mut conn: Conn<'_>, school: Uuid, first: Date, last: Date) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM generate_series($3::date, $4::date, interval '1 day') AS d \
         WHERE extract(isodow FROM d) < 6 \
           AND EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = $1 AND d::date BETWEEN t.starts AND t.ends) \
           AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = $1 \
                           AND (b.school_id IS NULL OR b.school_id = $2) \
                           AND d::date BETWEEN b.first_day AND b.last_day)",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(first)
    .bind(last)
    .fetch_one(&mut *conn)
    .await?)
}

/// Does the range overlap another pending or approved application of the child?
pub async fn overlaps(mut conn: Conn<'_>, pupil: Uuid, first: Date, last: Date) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM leave_applications WHERE tenant_id = $1 AND pupil_id = $2 \
           AND status IN ('pending', 'approved') AND first_day <= $4 AND last_day >= $3)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(first)
    .bind(last)
    .fetch_one(&mut *conn)
    .await?)
}

/// A new application, checked.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub school_id: Uuid,
    pub first_day: Date,
    pub last_day: Date,
    pub school_days: i16,
    pub reason: String,
}

pub async fn insert(mut conn: Conn<'_>, pupil: Uuid, by: Uuid, a: &NewApplication) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO leave_applications (tenant_id, pupil_id, school_id, applied_by, first_day, last_day, \
             school_days, reason_code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(a.school_id)
    .bind(by)
    .bind(a.first_day)
    .bind(a.last_day)
    .bind(a.school_days)
    .bind(&a.reason)
    .fetch_one(&mut *conn)
    .await?)
}

/// An application as the guardians see it: the decision's capacity, never the
/// decider's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GuardianRow {
    pub id: Uuid,
    pub first_day: Date,
    pub last_day: Date,
    pub school_days: i16,
    pub reason: String,
    pub status: String,
    pub decided_as: Option<String>,
    pub rejection: Option<String>,
    pub applied_by: String,
    pub by_me: bool,
}

/// Every application of the child, newest period first, whoever of the guardians made it.
pub async fn applications_of(mut conn: Conn<'_>, pupil: Uuid, me: Uuid, lang: Lang) -> Result<Vec<GuardianRow>> {
    let sql = format!(
        "SELECT a.id, a.first_day, a.last_day, a.school_days, r.{name} AS reason, a.status, a.decided_as, \
                c.{name} AS rejection, p.given_name || ' ' || p.family_name AS applied_by, a.applied_by = $3 AS by_me \
         FROM leave_applications a \
         JOIN leave_reasons r ON r.tenant_id = a.tenant_id AND r.code = a.reason_code \
         LEFT JOIN leave_rejection_codes c ON c.tenant_id = a.tenant_id AND c.code = a.rejection_code \
         JOIN persons p ON p.tenant_id = a.tenant_id AND p.id = a.applied_by \
         WHERE a.tenant_id = $1 AND a.pupil_id = $2 ORDER BY a.first_day DESC, a.created_at DESC",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(pupil).bind(me).fetch_all(&mut *conn).await?)
}

/// The status of the child's application `id`, if it is the child's.
pub async fn status_of(mut conn: Conn<'_>, pupil: Uuid, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT status FROM leave_applications WHERE tenant_id = $1 AND id = $2 AND pupil_id = $3 FOR UPDATE",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Withdraw the child's pending application. Returns whether it was pending.
pub async fn withdraw(mut conn: Conn<'_>, pupil: Uuid, id: Uuid, by: Uuid) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE leave_applications SET status = 'withdrawn', withdrawn_by = $4, withdrawn_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND pupil_id = $3 AND status = 'pending'",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(pupil)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// A pending application in a decider's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: Uuid,
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub school_name: String,
    pub group_name: Option<String>,
    pub first_day: Date,
    pub last_day: Date,
    pub school_days: i16,
    pub max_short_days: i16,
    pub reason: String,
    pub created_at: OffsetDateTime,
}

/// Pending applications, oldest first: every one of the schools in `school_at`, and
/// those of the pupils whose base group `me` is contact teacher of at the schools in
/// `teacher_at`.
pub async fn queue(
    mut conn: Conn<'_>,
    me: Uuid,
    teacher_at: &[Uuid],
    school_at: &[Uuid],
    lang: Lang,
) -> Result<Vec<QueueRow>> {
    let sql = format!(
        "SELECT a.id, a.pupil_id, p.given_name, p.family_name, s.name AS school_name, \
                (SELECT g.name FROM group_memberships m JOIN groups g ON g.tenant_id = m.tenant_id \
                   AND g.id = m.group_id AND g.kind = 'base' AND g.school_id = a.school_id \
                 WHERE m.tenant_id = $1 AND m.pupil_id = a.pupil_id AND m.from_date <= tavle_today() \
                   AND (m.to_date IS NULL OR m.to_date > tavle_today()) ORDER BY g.name LIMIT 1) AS group_name, \
                a.first_day, a.last_day, a.school_days, \
                coalesce(ss.short_leave_max_days, ms.short_leave_max_days, 2::smallint) AS max_short_days, \
                r.{name} AS reason, a.created_at \
         FROM leave_applications a \
         JOIN persons p ON p.tenant_id = a.tenant_id AND p.id = a.pupil_id \
         JOIN schools s ON s.tenant_id = a.tenant_id AND s.id = a.school_id \
         JOIN leave_reasons r ON r.tenant_id = a.tenant_id AND r.code = a.reason_code \
         LEFT JOIN leave_school_settings ss ON ss.tenant_id = a.tenant_id AND ss.school_id = a.school_id \
         LEFT JOIN leave_settings ms ON ms.tenant_id = a.tenant_id \
         WHERE a.tenant_id = $1 AND a.status = 'pending' \
           AND (a.school_id = ANY($4) OR (a.school_id = ANY($3) AND EXISTS ( \
                SELECT 1 FROM group_memberships m \
                JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
                JOIN group_staff gs ON gs.tenant_id = g.tenant_id AND gs.group_id = g.id \
                WHERE m.tenant_id = $1 AND m.pupil_id = a.pupil_id AND g.school_id = a.school_id AND gs.staff_id = $2 \
                  AND gs.assignment = 'contact_teacher' AND m.from_date <= tavle_today() \
                  AND (m.to_date IS NULL OR m.to_date > tavle_today())))) \
         ORDER BY a.created_at, a.id",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(me).bind(teacher_at).bind(school_at).fetch_all(&mut *conn).await?)
}

/// One application, as the school sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: Uuid,
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub school_name: String,
    pub first_day: Date,
    pub last_day: Date,
    pub school_days: i16,
    pub reason: String,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub applied_by: String,
    pub decided_as: Option<String>,
    pub decided_by: Option<String>,
    pub rejection: Option<String>,
}

pub async fn application(mut conn: Conn<'_>, id: Uuid, lang: Lang) -> Result<Option<ApplicationRow>> {
    let sql = format!(
        "SELECT a.id, a.pupil_id, p.given_name, p.family_name, s.name AS school_name, a.first_day, a.last_day, \
                a.school_days, r.{name} AS reason, a.status, a.created_at, \
                g.given_name || ' ' || g.family_name AS applied_by, a.decided_as, \
                d.given_name || ' ' || d.family_name AS decided_by, c.{name} AS rejection \
         FROM leave_applications a \
         JOIN persons p ON p.tenant_id = a.tenant_id AND p.id = a.pupil_id \
         JOIN schools s ON s.tenant_id = a.tenant_id AND s.id = a.school_id \
         JOIN leave_reasons r ON r.tenant_id = a.tenant_id AND r.code = a.reason_code \
         JOIN persons g ON g.tenant_id = a.tenant_id AND g.id = a.applied_by \
         LEFT JOIN persons d ON d.tenant_id = a.tenant_id AND d.id = a.decided_by \
         LEFT JOIN leave_rejection_codes c ON c.tenant_id = a.tenant_id AND c.code = a.rejection_code \
         WHERE a.tenant_id = $1 AND a.id = $2",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(id).fetch_optional(&mut *conn).await?)
}

/// Decide a pending application. Returns false when it is no longer pending (decided
/// or withdrawn meanwhile): a decision is never overwritten.
pub async fn decide(
    mut conn: Conn<'_>,
    id: Uuid,
    approve: bool,
    rejection: Option<&str>,
    by: Uuid,
    decided_as: &str,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE leave_applications SET status = $3, rejection_code = $4, decided_by = $5, decided_as = $6, \
                decided_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(if approve { "approved" } else { "rejected" })
    .bind(rejection)
    .bind(by)
    .bind(decided_as)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Approved leave of a pupil overlapping a period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApprovedLeaveRow {
    pub pupil_id: Uuid,
    pub application_id: Uuid,
    pub first_day: Date,
    pub last_day: Date,
    pub school_days: i16,
    pub reason_code: String,
    pub reason: String,
}

/// The approved leave of `pupils` that overlaps `from`..=`to`, by pupil and first day.
/// For the register (a note by the pupil) and, later, the absence totals.
/// An application (`alias`) is approved and covers a day from `from` to `to` (SQL
/// expressions). Shared with the register's one-query lines.
pub fn approved_leave_covers(alias: &str, from: &str, to: &str) -> String {
    format!("{alias}.status = 'approved' AND {alias}.first_day <= {to} AND {alias}.last_day >= {from}")
}

pub async fn approved_leave(
    mut conn: Conn<'_>,
    pupils: &[Uuid],
    from: Date,
    to: Date,
    lang: Lang,
) -> Result<Vec<ApprovedLeaveRow>> {
    let sql = format!(
        "SELECT a.pupil_id, a.id AS application_id, a.first_day, a.last_day, a.school_days, a.reason_code, \
                r.{name} AS reason \
         FROM leave_applications a JOIN leave_reasons r ON r.tenant_id = a.tenant_id AND r.code = a.reason_code \
         WHERE a.tenant_id = $1 AND a.pupil_id = ANY($2) AND {covers} \
         ORDER BY a.pupil_id, a.first_day",
        name = name_column(lang),
        covers = approved_leave_covers("a", "$3", "$4"),
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(pupils).bind(from).bind(to).fetch_all(&mut *conn).await?)
}

/// A school's limit for short leave: its own (if set) and the municipality's default.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub school_name: String,
    pub own: Option<i16>,
    pub default_days: i16,
}

pub async fn settings(mut conn: Conn<'_>, school: Uuid) -> Result<Option<SettingsRow>> {
    Ok(sqlx::query_as(
        "SELECT s.name AS school_name, ss.short_leave_max_days AS own, \
                coalesce((SELECT short_leave_max_days FROM leave_settings WHERE tenant_id = $1), 2::smallint) \
                  AS default_days \
         FROM schools s LEFT JOIN leave_school_settings ss ON ss.tenant_id = s.tenant_id AND ss.school_id = s.id \
         WHERE s.tenant_id = $1 AND s.id = $2",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Set (or, with `None`, remove) the school's own limit. Returns whether it changed.
pub async fn set_school_limit(mut conn: Conn<'_>, school: Uuid, days: Option<i16>, by: Uuid) -> Result<bool> {
    let changed = match days {
        Some(d) => sqlx::query(
            "INSERT INTO leave_school_settings (tenant_id, school_id, short_leave_max_days, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, now()) \
             ON CONFLICT (tenant_id, school_id) DO UPDATE \
                SET short_leave_max_days = EXCLUDED.short_leave_max_days, updated_by = EXCLUDED.updated_by, \
                    updated_at = EXCLUDED.updated_at \
              WHERE leave_school_settings.short_leave_max_days <> EXCLUDED.short_leave_max_days",
        )
        .bind(conn.tenant)
        .bind(school)
        .bind(d)
        .bind(by)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
        None => sqlx::query("DELETE FROM leave_school_settings WHERE tenant_id = $1 AND school_id = $2")
            .bind(conn.tenant)
            .bind(school)
            .execute(&mut *conn)
            .await?
            .rows_affected(),
    };
    Ok(changed > 0)
}

/// The schools whose limits the actor may change (`None`: all), by name.
pub async fn schools(mut conn: Conn<'_>, ids: Option<&[Uuid]>) -> Result<Vec<(Uuid, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, name FROM schools WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR id = ANY($2)) ORDER BY name, id",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}
