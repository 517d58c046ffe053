//! Handing due SMS to the gateway, and the background worker `tavle serve` starts.
//!
//! As for e-mail, the worker takes each municipality in turn, claims due messages with
//! `SKIP LOCKED` inside a transaction, sends them, and records each outcome before
//! committing. Unlike e-mail it sends a batch at once ([`BATCH`] requests in flight),
//! so that an emergency notice to a whole school reaches the gateway within a minute
//! even when each request takes a tenth of a second. If the process dies mid-batch
//! the transaction rolls back and the batch goes again: at-least-once.

use std::sync::{Arc, LazyLock};
use std::time::Duration as StdDuration;

use anyhow::Context;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use url::Url;
use uuid::Uuid;

use super::gateway::{Gateway, HttpGateway, Outgoing};
use super::outbox::{self, Claimed};
use crate::config::Config;
use crate::db::{self, Conn};
use crate::mail::delivery::DeliveryReport;

/// Messages claimed, and requests in flight, at once.
pub const BATCH: i64 = 50;
/// How often the worker looks for due messages when nobody wakes it.
const POLL: StdDuration = StdDuration::from_secs(15);

/// Woken after a commit that enqueued SMS, so that they go at once rather than at the
/// next poll.
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tell the worker there is something to send (call after committing).
pub fn wake() {
    WAKE.notify_one();
}

/// Where the gateway posts reports for `tenant`'s messages: `None` unless Tavle has a
/// key to check them with.
pub fn callback(public_url: &Url, tenant: Uuid, config: &Config) -> Option<String> {
    config.sms_webhook_secret.as_ref()?;
    public_url.join(&format!("/sms/reports/{tenant}")).ok().map(String::from)
}

/// Send every SMS due at `now` (tests pass a later `now` to reach retries without
/// waiting). Sent messages older than [`outbox::KEEP_SENT_DAYS`] are deleted.
pub async fn deliver_due<G: Gateway>(
    pool: &PgPool,
    gateway: &Arc<G>,
    config: &Config,
    now: OffsetDateTime,
) -> anyhow::Result<DeliveryReport> {
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants ORDER BY id").fetch_all(pool).await?;
    let mut report = DeliveryReport::default();
    for tenant in tenants {
        let callback = callback(&config.public_url, tenant, config);
        loop {
            let mut tx = db::begin(pool, tenant).await?;
            let claimed = outbox::claim_due(Conn::new(&mut tx, tenant), now, BATCH).await?;
            if claimed.is_empty() {
                outbox::purge_sent(Conn::new(&mut tx, tenant), now - Duration::days(outbox::KEEP_SENT_DAYS)).await?;
                tx.commit().await?;
                break;
            }
            let outcomes = send_all(gateway, &claimed, callback.as_deref()).await;
            let mut sent = Vec::new();
            let mut failed = Vec::new();
            for (claimed, outcome) in claimed.iter().zip(outcomes) {
                match outcome {
                    Ok(gateway_id) => sent.push((claimed.id, gateway_id)),
                    Err(f) => {
                        tracing::warn!(tenant = %tenant, sms = %claimed.id, error = %f.category,
                            attempt = claimed.attempts + 1, "sms not handed to the gateway");
                        failed.push((claimed, f.category, f.transient));
                    }
                }
            }
            outbox::mark_sent(Conn::new(&mut tx, tenant), &sent, now).await?;
            let (retrying, given_up) = outbox::mark_failed(Conn::new(&mut tx, tenant), &failed, now).await?;
            tx.commit().await.context("recording the SMS delivery")?;
            report.sent += u32::try_from(sent.len()).unwrap_or(u32::MAX);
            report.retrying += retrying;
            report.failed += given_up;
        }
    }
    Ok(report)
}

/// Send a batch at once; the outcomes in the batch's order.
async fn send_all<G: Gateway>(
    gateway: &Arc<G>,
    claimed: &[Claimed],
    callback: Option<&str>,
) -> Vec<Result<String, super::gateway::Failure>> {
    let mut set = JoinSet::new();
    for (i, c) in claimed.iter().enumerate() {
        let gateway = Arc::clone(gateway);
        let m = Outgoing {
            to: c.recipient_number.clone(),
            from: c.sender.clone(),
            text: c.body.clone(),
            reference: c.id,
            callback: callback.map(str::to_owned),
        };
        set.spawn(async move { (i, gateway.send(&m).await) });
    }
    let mut outcomes: Vec<Option<Result<String, super::gateway::Failure>>> = vec![None; claimed.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, outcome)) = joined {
            outcomes[i] = Some(outcome);
        }
    }
    // A task that panicked counts as a transient failure: the message goes again.
    outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| Err(super::gateway::Failure { category: "worker_failed".to_owned(), transient: true }))
        })
        .collect()
}

/// Start the SMS worker. Off, logged once, without `TAVLE_SMS_URL`.
pub fn spawn_worker(pool: PgPool, config: &Config) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(gateway) = HttpGateway::from_config(config)? else {
        tracing::info!("sms worker off: TAVLE_SMS_URL is not set, no SMS will be sent");
        return Ok(None);
    };
    if config.sms_webhook_secret.is_none() {
        tracing::info!("sms delivery reports off: TAVLE_SMS_WEBHOOK_SECRET is not set");
    }
    let gateway = Arc::new(gateway);
    let config = config.clone();
    tracing::info!("sms worker started");
    Ok(Some(tokio::spawn(async move {
        loop {
            match deliver_due(&pool, &gateway, &config, OffsetDateTime::now_utc()).await {
                Ok(r) if r != DeliveryReport::default() => tracing::info!(%r, "sms delivery round"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "sms delivery failed"),
            }
            tokio::select! {
                () = WAKE.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })))
}
