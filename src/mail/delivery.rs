//! Delivery over SMTP (lettre), and the background worker that `tavle serve` starts.
//!
//! The worker takes each municipality in turn (row-level security needs the tenant
//! set), claims one due message at a time with `FOR UPDATE SKIP LOCKED` inside a
//! transaction, sends it, and records the outcome before committing: sent; or a
//! transient failure (4xx, connection, timeout, TLS) retried with exponential backoff
//! until [`MAX_ATTEMPTS`]; or a permanent refusal (5xx, an address that does not parse)
//! failed at once. If the process dies mid-send the transaction rolls back and the
//! message goes again: SMTP gives at-least-once, never exactly-once.
//!
//! Errors are stored and logged as categories (`smtp_451`, `connect_failed`), never
//! with the server's text, which may quote the address.

use std::time::Duration as StdDuration;

use anyhow::Context;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::outbox::{self, AfterFailure, Claimed, MAX_ATTEMPTS};
use crate::config::{Config, Secret};
use crate::db;
use crate::db::Conn;

/// How often the worker looks for due messages (and whether a weekly summary is due).
const POLL: StdDuration = StdDuration::from_secs(30);
/// An SMTP conversation that takes longer than this is a (transient) failure.
const SMTP_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// An SMTP connection's settings and the sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: never printed.
        f.debug_struct("Mailer").field("from", &self.from.email.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(url: &Secret, from: Mailbox) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map_err(|_| anyhow::anyhow!("TAVLE_SMTP_URL cannot be used as an SMTP server address"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self { transport, from })
    }

    /// The mailer configured by `TAVLE_SMTP_URL` and `TAVLE_MAIL_FROM`, if any.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        match (&config.smtp_url, &config.mail_from) {
            (Some(url), Some(from)) => Ok(Some(Self::new(url, from.clone())?)),
            _ => Ok(None),
        }
    }

    /// Send one claimed message; the error is a category and whether it is transient.
    async fn send(&self, m: &Claimed) -> Result<(), (String, bool)> {
        let message = build(&self.from, m).map_err(|c| (c.to_owned(), false))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(categorize(&e)),
        }
    }
}

/// The MIME message: plain text, with the HTML alternative when there is one. Bodies
/// are base64 so that any line length and any letter (æøå) arrive intact; lettre
/// encodes the subject as an RFC 2047 encoded word.
fn build(from: &Mailbox, m: &Claimed) -> Result<Message, &'static str> {
    let to: Mailbox = m.recipient_address.parse().map_err(|_| "invalid_address")?;
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::Base64)
        .body(m.body_text.clone());
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<{}@{}>", m.id, from.email.domain())))
        .date_now();
    let built = match &m.body_html {
        Some(html) => builder.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .header(ContentTransferEncoding::Base64)
                    .body(html.clone()),
            ),
        ),
        None => builder.singlepart(text),
    };
    built.map_err(|_| "invalid_message")
}

/// (category, transient) of an SMTP error.
fn categorize(e: &lettre::transport::smtp::Error) -> (String, bool) {
    if let Some(code) = e.status() {
        return (format!("smtp_{code}"), e.is_transient());
    }
    let category = if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "tls_failed"
    } else if e.is_response() || e.is_client() {
        "smtp_protocol"
    } else {
        "connect_failed"
    };
    (category.to_owned(), true)
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

impl std::fmt::Display for DeliveryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} sent, {} to retry, {} failed", self.sent, self.retrying, self.failed)
    }
}

/// Deliver every message due at `now` (tests pass a later `now` to reach retries
/// without waiting). Sent messages older than [`outbox::KEEP_SENT_DAYS`] are deleted.
pub async fn deliver_due(pool: &PgPool, mailer: &Mailer, now: OffsetDateTime) -> anyhow::Result<DeliveryReport> {
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants ORDER BY id").fetch_all(pool).await?;
    let mut report = DeliveryReport::default();
    for tenant in tenants {
        loop {
            let mut tx = db::begin(pool, tenant).await?;
            let Some(claimed) = outbox::claim_due(Conn::new(&mut tx, tenant), now).await? else {
                outbox::purge_sent(Conn::new(&mut tx, tenant), now - Duration::days(outbox::KEEP_SENT_DAYS)).await?;
                tx.commit().await?;
                break;
            };
            match mailer.send(&claimed).await {
                Ok(()) => {
                    outbox::mark_sent(Conn::new(&mut tx, tenant), claimed.id, now).await?;
                    report.sent += 1;
                    tracing::info!(tenant = %tenant, message = %claimed.id, "mail sent");
                }
                Err((category, transient)) => {
                    let after =
                        outbox::mark_attempt_failed(Conn::new(&mut tx, tenant), &claimed, &category, transient, now)
                            .await?;
                    match after {
                        AfterFailure::Retry => report.retrying += 1,
                        AfterFailure::Failed => report.failed += 1,
                    }
                    tracing::warn!(
                        tenant = %tenant,
                        message = %claimed.id,
                        error = %category,
                        attempt = claimed.attempts + 1,
                        max_attempts = MAX_ATTEMPTS,
                        failed = after == AfterFailure::Failed,
                        "mail not delivered"
                    );
                }
            }
            tx.commit().await.context("recording the delivery")?;
        }
    }
    Ok(report)
}

/// Start the background worker: deliver due messages, and enqueue the weekly absence
/// summary when it is due (catching up after downtime). Off, logged once, without
/// `TAVLE_SMTP_URL`: enqueued summaries would only pile up and go stale.
pub fn spawn_worker(pool: PgPool, config: &Config) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(mailer) = Mailer::from_config(config)? else {
        tracing::info!("mail worker off: TAVLE_SMTP_URL is not set, no e-mail will be sent");
        return Ok(None);
    };
    let public_url = config.public_url.clone();
    tracing::info!("mail worker started");
    Ok(Some(tokio::spawn(async move {
        let mut weekly_done: Option<super::weekly::IsoWeek> = None;
        loop {
            match super::weekly::enqueue_if_due(&pool, &public_url, weekly_done).await {
                Ok(week) => weekly_done = week.or(weekly_done),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "weekly absence summary failed"),
            }
            match deliver_due(&pool, &mailer, OffsetDateTime::now_utc()).await {
                Ok(r) if r != DeliveryReport::default() => tracing::info!(%r, "mail delivery round"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "mail delivery failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(address: &str, html: Option<&str>) -> Claimed {
        Claimed {
            id: Uuid::nil(),
            recipient_address: address.to_owned(),
            subject: "Ukeoppsummering av fravær – uke 47".to_owned(),
            body_text: "Hei!\nFravær: 3".to_owned(),
            body_html: html.map(str::to_owned),
            attempts: 0,
        }
    }

    #[test]
    fn a_message_is_mime_with_an_encoded_subject() {
        let from: Mailbox = "Tavle <noreply@fjordvik.kommune.no>".parse().unwrap();
        let raw =
            String::from_utf8(build(&from, &claimed("kari@example.no", Some("<p>Hei!</p>"))).unwrap().formatted())
                .unwrap();
        assert!(raw.is_ascii(), "headers and bodies are 7-bit");
        let subject = raw.lines().find(|l| l.starts_with("Subject: ")).unwrap();
        assert!(subject.contains("=?utf-8?b?"), "æøå in an encoded word: {subject}");
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("Message-ID: <00000000-0000-0000-0000-000000000000@fjordvik.kommune.no>"));
        let plain = String::from_utf8(build(&from, &claimed("kari@example.no", None)).unwrap().formatted()).unwrap();
        assert!(!plain.contains("multipart"));
        assert_eq!(build(&from, &claimed("not an address", None)).unwrap_err(), "invalid_address");
    }
}
