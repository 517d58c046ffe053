//! The outbox table's queries: enqueue (idempotent by kind, recipient, school and key),
//! the worker's claim and its outcome, and the school office's view. Every function
//! takes a connection whose transaction has set the tenant (row-level security).

use crate::db::Conn;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::Result;
use crate::web::i18n::Lang;

/// Attempts before a message is given up as failed (transient errors only; a
/// permanent refusal fails at once).
pub const MAX_ATTEMPTS: i16 = 6;

/// Sent messages are deleted this long after sending: the office needs the record of
/// delivery for a while, nobody needs the text for long.
pub const KEEP_SENT_DAYS: i64 = 60;

/// What a message is. The codes are stored; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WeeklyAbsenceSummary,
    /// A written warning about grades or conduct (assessment).
    AssessmentWarning,
    /// A new message on a thread (messages): a link, nothing else.
    MessageNotice,
    /// An emergency notice to a school's guardians: its text and a confirmation link.
    EmergencyNotice,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::WeeklyAbsenceSummary => "weekly_absence_summary",
            Kind::AssessmentWarning => "assessment_warning",
            Kind::MessageNotice => "message_notice",
            Kind::EmergencyNotice => "emergency_notice",
        }
    }

    /// Translation key of the kind's name (office page).
    pub fn label_key(code: &str) -> &'static str {
        match code {
            "weekly_absence_summary" => "mail.kind.weekly_absence_summary",
            "assessment_warning" => "mail.kind.assessment_warning",
            "message_notice" => "mail.kind.message_notice",
            "emergency_notice" => "mail.kind.emergency_notice",
            _ => "mail.kind.other",
        }
    }
}

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub kind: Kind,
    pub dedupe_key: &'a str,
    pub school_id: Uuid,
    pub recipient_id: Uuid,
    pub recipient_address: &'a str,
    pub lang: Lang,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
}

/// Enqueue `m` for the tenant of the transaction. `None` when the same message (kind,
/// recipient, school, key) is already there: enqueueing twice adds nothing.
pub async fn enqueue(mut conn: Conn<'_>, m: &NewMessage<'_>) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO mail_outbox (tenant_id, kind, dedupe_key, school_id, recipient_id, recipient_address, lang, \
             subject, body_text, body_html) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tenant_id, kind, recipient_id, school_id, dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(conn.tenant)
    .bind(m.kind.code())
    .bind(m.dedupe_key)
    .bind(m.school_id)
    .bind(m.recipient_id)
    .bind(m.recipient_address)
    .bind(m.lang.code())
    .bind(m.subject)
    .bind(m.body_text)
    .bind(m.body_html)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A message the worker has claimed (its row is locked until the transaction ends).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub recipient_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub attempts: i16,
}

/// The oldest pending message due at `now`, locked; one another worker holds is
/// skipped, so that several workers never send the same message at once.
pub async fn claim_due(mut conn: Conn<'_>, now: OffsetDateTime) -> Result<Option<Claimed>> {
    Ok(sqlx::query_as(
        "SELECT id, recipient_address, subject, body_text, body_html, attempts FROM mail_outbox \
         WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= $2 \
           AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.tenant_id = $1 AND p.id = mail_outbox.recipient_id \
                             AND p.deceased_on IS NOT NULL) \
         ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(conn.tenant)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn mark_sent(mut conn: Conn<'_>, id: Uuid, now: OffsetDateTime) -> Result<()> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $3, attempts = attempts + 1, last_error = NULL \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How long to wait after the `attempts`-th failed attempt: 1, 2, 4, 8, 16 … minutes.
pub fn backoff(attempts: i16) -> Duration {
    Duration::minutes(1_i64 << attempts.clamp(1, 12).saturating_sub(1))
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    Retry,
    Failed,
}

/// Record a failed attempt with its error category: retried after [`backoff`] if the
/// error is transient and attempts remain, otherwise failed.
pub async fn mark_attempt_failed(
    mut conn: Conn<'_>,
    claimed: &Claimed,
    category: &str,
    transient: bool,
    now: OffsetDateTime,
) -> Result<AfterFailure> {
    let attempts = claimed.attempts.saturating_add(1);
    let outcome = if transient && attempts < MAX_ATTEMPTS { AfterFailure::Retry } else { AfterFailure::Failed };
    let status = match outcome {
        AfterFailure::Retry => "pending",
        AfterFailure::Failed => "failed",
    };
    sqlx::query(
        "UPDATE mail_outbox SET status = $3, attempts = $4, last_error = $5, next_attempt_at = $6 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(conn.tenant)
    .bind(claimed.id)
    .bind(status)
    .bind(attempts)
    .bind(category)
    .bind(now + backoff(attempts))
    .execute(&mut *conn)
    .await?;
    Ok(outcome)
}

/// Delete messages sent before `before`.
pub async fn purge_sent(mut conn: Conn<'_>, before: OffsetDateTime) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM mail_outbox WHERE tenant_id = $1 AND status = 'sent' AND sent_at < $2")
        .bind(conn.tenant)
        .bind(before)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Number of a school's messages in each status.
#[derive(Debug, Clone, Default)]
pub struct StatusCounts {
    pub pending: i64,
    pub retrying: i64,
    pub sent: i64,
    pub failed: i64,
}

pub async fn status_counts(mut conn: Conn<'_>, school: Uuid) -> Result<StatusCounts> {
    let (pending, retrying, sent, failed): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending' AND attempts = 0), \
                count(*) FILTER (WHERE status = 'pending' AND attempts > 0), \
                count(*) FILTER (WHERE status = 'sent'), \
                count(*) FILTER (WHERE status = 'failed') \
         FROM mail_outbox WHERE tenant_id = $1 AND school_id = $2",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_one(&mut *conn)
    .await?;
    Ok(StatusCounts { pending, retrying, sent, failed })
}

/// A message of the school that has not gone out at the first attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProblemRow {
    pub id: Uuid,
    pub kind: String,
    pub dedupe_key: String,
    pub recipient_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub recipient_address: String,
    pub status: String,
    pub attempts: i16,
    pub last_error: Option<String>,
    /// When the next attempt is due, Norwegian time (`23.11.2026 15:04`).
    pub next_attempt: String,
}

/// Failed messages and those waiting to be retried, newest first.
pub async fn problems(mut conn: Conn<'_>, school: Uuid, limit: i64) -> Result<Vec<ProblemRow>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.kind, m.dedupe_key, m.recipient_id, p.given_name, p.family_name, m.recipient_address, \
                m.status, m.attempts, m.last_error, \
                to_char(m.next_attempt_at AT TIME ZONE 'Europe/Oslo', 'DD.MM.YYYY HH24:MI') AS next_attempt \
         FROM mail_outbox m JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.recipient_id \
         WHERE m.tenant_id = $1 AND m.school_id = $2 \
           AND (m.status = 'failed' OR (m.status = 'pending' AND m.attempts > 0)) \
         ORDER BY m.status, m.created_at DESC, m.id LIMIT $3",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// What "retry now" did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// The failed message is pending again, with a fresh round of attempts.
    Requeued { recipient: Uuid },
    /// The message is not failed (already pending again, or sent): nothing changed.
    NotFailed,
    /// No such message at this school.
    Missing,
}

pub async fn requeue(mut conn: Conn<'_>, school: Uuid, id: Uuid) -> Result<Requeue> {
    let row: Option<(String, Uuid)> = sqlx::query_as(
        "SELECT status, recipient_id FROM mail_outbox WHERE tenant_id = $1 AND id = $2 AND school_id = $3 \
             FOR UPDATE",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(school)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((status, recipient)) = row else { return Ok(Requeue::Missing) };
    if status != "failed" {
        return Ok(Requeue::NotFailed);
    }
    sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = now() \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(conn.tenant)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(Requeue::Requeued { recipient })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_minute() {
        let minutes: Vec<i64> = (1..=6).map(|a| backoff(a).whole_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32]);
        assert_eq!(backoff(0), Duration::minutes(1));
        assert_eq!(backoff(i16::MAX), Duration::minutes(2048));
    }
}
