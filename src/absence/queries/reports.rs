//! The guardians' reports of absence: the reasons they may choose, a child's
//! reports, and making and withdrawing one.

use crate::db::Conn;
use time::{Date, Time};
use uuid::Uuid;

use super::name_column;
use crate::error::Result;
use crate::web::i18n::Lang;

/// A reason of the tenant's code list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReasonRow {
    pub code: String,
    pub name: String,
}

/// The reasons a guardian may choose, in the list's order.
pub async fn guardian_reasons(mut conn: Conn<'_>, lang: Lang) -> Result<Vec<ReasonRow>> {
    let sql = format!(
        "SELECT code, {name} AS name FROM absence_reasons WHERE tenant_id = $1 AND for_guardians \
         ORDER BY sort_order, code",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).fetch_all(&mut *conn).await?)
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
pub async fn reports_of(mut conn: Conn<'_>, pupil: Uuid, me: Uuid, lang: Lang) -> Result<Vec<ReportRow>> {
    let sql = format!(
        "SELECT r.id, r.first_day, r.last_day, r.from_time, r.to_time, a.{name} AS reason, \
                p.given_name || ' ' || p.family_name AS reported_by, r.reported_by = $3 AS by_me \
         FROM absence_reports r \
         JOIN absence_reasons a ON a.tenant_id = r.tenant_id AND a.code = r.reason_code \
         JOIN persons p ON p.tenant_id = r.tenant_id AND p.id = r.reported_by \
         WHERE r.tenant_id = $1 AND r.pupil_id = $2 \
         ORDER BY r.first_day DESC, r.from_time DESC NULLS LAST, r.created_at DESC",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(pupil).bind(me).fetch_all(&mut *conn).await?)
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
pub async fn overlaps(mut conn: Conn<'_>, pupil: Uuid, r: &NewReport) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM absence_reports WHERE tenant_id = $1 AND pupil_id = $2 \
           AND first_day <= $4 AND last_day >= $3 \
           AND (from_time IS NULL OR $5::time IS NULL OR (from_time < $6::time AND to_time > $5::time)))",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(r.first_day)
    .bind(r.last_day)
    .bind(r.hours.map(|h| h.0))
    .bind(r.hours.map(|h| h.1))
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn insert_report(mut conn: Conn<'_>, pupil: Uuid, by: Uuid, r: &NewReport) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO absence_reports (tenant_id, pupil_id, reported_by, first_day, last_day, from_time, to_time, \
             reason_code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(by)
    .bind(r.first_day)
    .bind(r.last_day)
    .bind(r.hours.map(|h| h.0))
    .bind(r.hours.map(|h| h.1))
    .bind(&r.reason)
    .fetch_one(&mut *conn)
    .await?)
}

/// Withdraw a report of the child that has not begun yet (its first day is after
/// `today`). Returns whether one was removed.
pub async fn withdraw_report(mut conn: Conn<'_>, pupil: Uuid, report: Uuid, today: Date) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM absence_reports WHERE tenant_id = $1 AND id = $2 AND pupil_id = $3 AND first_day > $4")
        .bind(conn.tenant)
        .bind(report)
        .bind(pupil)
        .bind(today)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}
