//! The SMS outbox's queries: set-wise enqueue (idempotent by kind, recipient and key),
//! the worker's claim and its outcome, delivery reports, and each message's state.
//! Every function takes a connection whose transaction has set the tenant.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::segment::segments;
use super::Number;
use crate::db::Conn;
use crate::error::{AppError, Result};

/// Attempts before an SMS is given up as failed (transient errors only; a permanent
/// refusal fails at once).
pub const MAX_ATTEMPTS: i16 = 6;

/// Sent messages (and their reports) are deleted this long after sending.
pub const KEEP_SENT_DAYS: i64 = 60;

/// The longest text Tavle sends: four GSM-7 parts.
pub const MAX_PARTS: usize = 4;

/// The sender when the municipality has set none.
pub const DEFAULT_SENDER: &str = "Tavle";

/// What an SMS is. The codes are stored; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EmergencyNotice,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::EmergencyNotice => "emergency_notice",
        }
    }
}

/// SMS of one kind and key, each recipient with their own text (a personal link).
#[derive(Debug, Clone)]
pub struct NewSms<'a> {
    pub kind: Kind,
    pub dedupe_key: &'a str,
    pub school_id: Option<Uuid>,
}

/// One recipient's SMS.
#[derive(Debug, Clone)]
pub struct To {
    pub person: Uuid,
    pub number: Number,
    pub body: String,
}

/// Whether Tavle may send `body`: not empty, at most [`MAX_PARTS`] parts, and holding
/// no national id number. Texts are composed by Tavle, so a refusal is a bug.
pub fn sendable(body: &str) -> bool {
    !body.is_empty() && segments(body).parts <= MAX_PARTS && !crate::messages::holds_national_id(body)
}

/// Enqueue `sms` to each of `to`, in one statement. Returns the new rows' ids; a
/// recipient who already has this (kind, key) gets nothing new. A text Tavle may not
/// send ([`sendable`]) fails the whole call.
pub async fn enqueue(mut conn: Conn<'_>, sms: &NewSms<'_>, to: &[To]) -> Result<Vec<Uuid>> {
    if let Some(bad) = to.iter().find(|t| !sendable(&t.body)) {
        let parts = segments(&bad.body).parts;
        return Err(AppError::Internal(anyhow::anyhow!("an SMS text that Tavle must not send ({parts} parts)")));
    }
    let persons: Vec<Uuid> = to.iter().map(|t| t.person).collect();
    let numbers: Vec<&str> = to.iter().map(|t| t.number.as_str()).collect();
    let bodies: Vec<&str> = to.iter().map(|t| t.body.as_str()).collect();
    let parts: Vec<i16> = to.iter().map(|t| i16::try_from(segments(&t.body).parts).unwrap_or(i16::MAX)).collect();
    Ok(sqlx::query_scalar(
        "INSERT INTO sms_outbox (tenant_id, kind, dedupe_key, school_id, recipient_id, recipient_number, sender, \
             body, parts) \
         SELECT $1, $2, $3, $4, r.person, r.number, \
                coalesce((SELECT t.sms_sender FROM tenants t WHERE t.id = $1), $5), r.body, r.parts \
         FROM unnest($6::uuid[], $7::text[], $8::text[], $9::int2[]) AS r (person, number, body, parts) \
         ON CONFLICT (tenant_id, kind, recipient_id, dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(conn.tenant)
    .bind(sms.kind.code())
    .bind(sms.dedupe_key)
    .bind(sms.school_id)
    .bind(DEFAULT_SENDER)
    .bind(&persons)
    .bind(&numbers)
    .bind(&bodies)
    .bind(&parts)
    .fetch_all(&mut *conn)
    .await?)
}

/// An SMS the worker has claimed (its row is locked until the transaction ends).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub recipient_number: String,
    pub sender: String,
    pub body: String,
    pub attempts: i16,
}

/// Up to `limit` pending messages due at `now`, oldest first, locked; rows another
/// worker holds are skipped. `NO KEY UPDATE` lets a delivery report for a message
/// being sent be stored meanwhile (its foreign key takes a key-share lock).
pub async fn claim_due(mut conn: Conn<'_>, now: OffsetDateTime, limit: i64) -> Result<Vec<Claimed>> {
    Ok(sqlx::query_as(
        "SELECT id, recipient_number, sender, body, attempts FROM sms_outbox \
         WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= $2 \
           AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.tenant_id = $1 AND p.id = sms_outbox.recipient_id \
                             AND p.deceased_on IS NOT NULL) \
         ORDER BY next_attempt_at, id LIMIT $3 FOR NO KEY UPDATE SKIP LOCKED",
    )
    .bind(conn.tenant)
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// Record the messages the gateway accepted, with its ids, in one statement.
pub async fn mark_sent(mut conn: Conn<'_>, sent: &[(Uuid, String)], now: OffsetDateTime) -> Result<()> {
    let ids: Vec<Uuid> = sent.iter().map(|(id, _)| *id).collect();
    let gateway_ids: Vec<&str> = sent.iter().map(|(_, g)| g.as_str()).collect();
    sqlx::query(
        "UPDATE sms_outbox o SET status = 'sent', sent_at = $4, attempts = attempts + 1, last_error = NULL, \
             gateway_id = s.gateway_id \
         FROM unnest($2::uuid[], $3::text[]) AS s (id, gateway_id) \
         WHERE o.tenant_id = $1 AND o.id = s.id",
    )
    .bind(conn.tenant)
    .bind(&ids)
    .bind(&gateway_ids)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How long to wait after the `attempts`-th failed attempt: 10, 20, 40, 80 … seconds
/// (an emergency notice cannot wait minutes).
pub fn backoff(attempts: i16) -> Duration {
    Duration::seconds(10_i64 << attempts.clamp(1, 12).saturating_sub(1))
}

/// Record failed attempts `(message, error category, transient)`: each is retried after
/// [`backoff`] if transient and attempts remain, otherwise failed. Returns how many
/// will be retried and how many failed.
pub async fn mark_failed(
    mut conn: Conn<'_>,
    failed: &[(&Claimed, String, bool)],
    now: OffsetDateTime,
) -> Result<(u32, u32)> {
    let (mut retrying, mut given_up) = (0, 0);
    let (mut ids, mut statuses, mut attempts, mut errors, mut next) = (vec![], vec![], vec![], vec![], vec![]);
    for (claimed, category, transient) in failed {
        let attempt = claimed.attempts.saturating_add(1);
        let retry = *transient && attempt < MAX_ATTEMPTS;
        if retry {
            retrying += 1;
        } else {
            given_up += 1;
        }
        ids.push(claimed.id);
        statuses.push(if retry { "pending" } else { "failed" });
        attempts.push(attempt);
        errors.push(category.as_str());
        next.push(now + backoff(attempt));
    }
    sqlx::query(
        "UPDATE sms_outbox o SET status = f.status, attempts = f.attempts, last_error = f.error, \
             next_attempt_at = f.next \
         FROM unnest($2::uuid[], $3::text[], $4::int2[], $5::text[], $6::timestamptz[]) \
             AS f (id, status, attempts, error, next) \
         WHERE o.tenant_id = $1 AND o.id = f.id",
    )
    .bind(conn.tenant)
    .bind(&ids)
    .bind(&statuses)
    .bind(&attempts)
    .bind(&errors)
    .bind(&next)
    .execute(&mut *conn)
    .await?;
    Ok((retrying, given_up))
}

/// Delete messages sent before `before`, with their reports.
pub async fn purge_sent(mut conn: Conn<'_>, before: OffsetDateTime) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sms_outbox WHERE tenant_id = $1 AND status = 'sent' AND sent_at < $2")
        .bind(conn.tenant)
        .bind(before)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// A delivery report's status, as the gateway words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Held by the operator (the phone is off): not final.
    Buffered,
    Delivered,
    /// Could not be delivered (expired, unknown number).
    Failed,
}

impl Report {
    pub fn parse(status: &str) -> Option<Self> {
        match status {
            "buffered" => Some(Report::Buffered),
            "delivered" => Some(Report::Delivered),
            "failed" | "expired" | "undeliverable" | "rejected" => Some(Report::Failed),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Report::Buffered => "buffered",
            Report::Delivered => "delivered",
            Report::Failed => "failed",
        }
    }
}

/// Store a delivery report for the tenant's message `sms`. `false` when the tenant has
/// no such message (a report for another municipality's message changes nothing);
/// a report already stored is stored once.
pub async fn record_report(mut conn: Conn<'_>, sms: Uuid, report: Report, at: OffsetDateTime) -> Result<bool> {
    let known: Option<bool> = sqlx::query_scalar(
        "WITH message AS (SELECT id FROM sms_outbox WHERE tenant_id = $1 AND id = $2), \
              stored AS (INSERT INTO sms_reports (tenant_id, sms_id, status, reported_at) \
                         SELECT $1, id, $3, $4 FROM message ON CONFLICT DO NOTHING) \
         SELECT true FROM message",
    )
    .bind(conn.tenant)
    .bind(sms)
    .bind(report.code())
    .bind(at)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(known.is_some())
}

/// Where an SMS is: waiting (or being retried), failed before the gateway took it,
/// with the gateway, held by the operator, delivered, or not deliverable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Refused,
    Sent,
    Buffered,
    Delivered,
    Undelivered,
}

impl State {
    /// The most final of the message's reports decides: delivered or failed over
    /// buffered, whatever order they came in.
    fn of(status: &str, reports: &[String]) -> Self {
        let has = |r: &str| reports.iter().any(|x| x == r);
        match status {
            "pending" => State::Pending,
            "failed" => State::Refused,
            _ if has("delivered") => State::Delivered,
            _ if has("failed") => State::Undelivered,
            _ if has("buffered") => State::Buffered,
            _ => State::Sent,
        }
    }
}

/// The state of each of `ids` (those the tenant has), in one statement.
pub async fn states(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, State)>> {
    let rows: Vec<(Uuid, String, Vec<String>)> = sqlx::query_as(
        "SELECT o.id, o.status, coalesce(array_agg(r.status) FILTER (WHERE r.status IS NOT NULL), '{}') \
         FROM sms_outbox o LEFT JOIN sms_reports r ON r.tenant_id = o.tenant_id AND r.sms_id = o.id \
         WHERE o.tenant_id = $1 AND o.id = ANY($2) GROUP BY o.id, o.status ORDER BY o.id",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id, status, reports)| (id, State::of(&status, &reports))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds() {
        let seconds: Vec<i64> = (1..=5).map(|a| backoff(a).whole_seconds()).collect();
        assert_eq!(seconds, [10, 20, 40, 80, 160]);
        assert_eq!(backoff(0), Duration::seconds(10));
    }

    #[test]
    fn the_most_final_report_wins_in_any_order() {
        let r = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(State::of("sent", &r(&["delivered", "buffered"])), State::Delivered);
        assert_eq!(State::of("sent", &r(&["buffered", "delivered"])), State::Delivered);
        assert_eq!(State::of("sent", &r(&["buffered"])), State::Buffered);
        assert_eq!(State::of("sent", &r(&["failed", "buffered"])), State::Undelivered);
        assert_eq!(State::of("sent", &r(&[])), State::Sent);
        assert_eq!(State::of("pending", &r(&[])), State::Pending);
        assert_eq!(State::of("failed", &r(&[])), State::Refused);
        assert_eq!(Report::parse("expired"), Some(Report::Failed));
        assert_eq!(Report::parse("accepted"), None);
    }
}
