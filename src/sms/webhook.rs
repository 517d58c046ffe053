//! `POST /sms/reports/{tenant_id}`: the gateway's delivery reports.
//!
//! - **Authenticated** by the body's HMAC-SHA256 with `TAVLE_SMS_WEBHOOK_SECRET`, in
//!   `X-Signature: sha256=<hex>`, compared in constant time; no key configured: 404.
//! - **Tenant-checked**: the report is stored only if the municipality in the path
//!   has the message it names, inside a transaction bound to that municipality (row
//!   level security), so a report cannot touch another municipality's message.
//! - **Idempotent and order-free**: one row per message and status; a repeat is
//!   stored once, and a message's state is its most final report (`outbox::State`).
//! - **Answers at once** (204) after one short statement; a report naming no known
//!   message is answered 204 too, so that the gateway does not retry it forever.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use super::outbox::{self, Report};
use crate::db::{self, Conn};
use crate::state::AppState;

#[derive(Deserialize)]
struct Body {
    reference: Uuid,
    status: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    at: Option<OffsetDateTime>,
}

/// Whether `signature` (`sha256=<hex>`) is the body's HMAC with `key`.
fn signed(key: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex_mac) = signature.and_then(|s| s.strip_prefix("sha256=")) else { return false };
    let Ok(mac_bytes) = hex::decode(hex_mac) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&mac_bytes).is_ok()
}

/// The municipality a request from the gateway is for, when it is signed with the
/// configured key; otherwise the status to answer: 404 without a key or for a path
/// that names no municipality id, 401 for a missing or wrong signature.
pub(crate) fn from_gateway(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Uuid, StatusCode> {
    let key = state.config.sms_webhook_secret.as_ref().ok_or(StatusCode::NOT_FOUND)?;
    let tenant = Uuid::parse_str(tenant).map_err(|_| StatusCode::NOT_FOUND)?;
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok());
    if signed(key.expose(), body, signature) {
        Ok(tenant)
    } else {
        Err(StatusCode::UNAUTHORIZED)
    }
}

pub(super) async fn receive(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let tenant = match from_gateway(&state, &tenant, &headers, &body) {
        Ok(tenant) => tenant,
        Err(status) => return status,
    };
    let Ok(report) = serde_json::from_slice::<Body>(&body) else { return StatusCode::BAD_REQUEST };
    // A status Tavle has no use for (`accepted`, `sent`): acknowledged, not stored.
    let Some(status) = Report::parse(&report.status) else { return StatusCode::NO_CONTENT };
    let at = report.at.unwrap_or_else(OffsetDateTime::now_utc);
    let stored = async {
        let mut tx = db::begin(&state.db, tenant).await?;
        let known = outbox::record_report(Conn::new(&mut tx, tenant), report.reference, status, at).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(known)
    };
    match stored.await {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => {
            tracing::warn!(tenant = %tenant, "sms report for a message this municipality does not have");
            StatusCode::NO_CONTENT
        }
        Err(e) => {
            tracing::error!(error = %e, "sms report not stored");
            // The gateway tries again later.
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_key_over_the_same_body_signs() {
        let key = "k".repeat(32);
        let body = br#"{"reference":"00000000-0000-0000-0000-000000000000","status":"delivered"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signed(&key, body, Some(&good)));
        assert!(!signed(&"x".repeat(32), body, Some(&good)));
        assert!(!signed(&key, b"{}", Some(&good)));
        assert!(!signed(&key, body, Some(good.trim_start_matches("sha256="))));
        assert!(!signed(&key, body, Some("sha256=zz")));
        assert!(!signed(&key, body, None));
    }
}
