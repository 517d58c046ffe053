//! SMS: an outbox table that features put messages in, handed to an SMS gateway by a
//! background worker, with the gateway's delivery reports received by a webhook
//! (issue 19, point 6; messaging.md M7).
//!
//! - `segment`: how many parts a text takes (GSM-7 or UCS-2), for previews. Pure.
//! - `outbox`: the table's queries (set-wise enqueue, the worker's claim, reports).
//! - `gateway`: the [`gateway::Gateway`] trait and its HTTP adapter.
//! - `delivery`: the worker `tavle serve` starts; also `tavle sms deliver`.
//! - `webhook`: `POST /sms/reports/{tenant_id}`, the gateway's delivery reports.
//!
//! An SMS carries no name and no personal data: it cannot be withdrawn, lies open on a
//! lock screen and passes through the operator. Features compose it from fixed
//! phrases and a link into Tavle; `outbox::enqueue` refuses a text holding a national
//! id number as a last guard.

pub mod delivery;
pub mod gateway;
pub mod outbox;
pub mod segment;
mod webhook;

pub(crate) use webhook::from_gateway;

use axum::routing::post;
use axum::Router;

use crate::state::AppState;

/// The gateway's delivery reports. Not behind the session and CSRF middleware: the
/// gateway has neither; each report is authenticated by its signature instead.
pub fn webhook_router() -> Router<AppState> {
    Router::new().route("/sms/reports/{tenant_id}", post(webhook::receive))
}

/// A mobile number in E.164 form (`+4791234567`), as the gateway takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// A stored phone number (`912 34 567`, `+47 912 34 567`, `0047 91234567`) in E.164
    /// form; a Norwegian number without a country code is taken as +47. `None` when it
    /// cannot be a mobile number: a Norwegian number must have 8 digits and start with
    /// 4 or 9 (landlines cannot take SMS).
    pub fn parse(raw: &str) -> Option<Self> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.')).collect();
        let international = if let Some(rest) = compact.strip_prefix('+') {
            rest.to_owned()
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest.to_owned()
        } else {
            format!("47{compact}")
        };
        if !international.bytes().all(|b| b.is_ascii_digit()) || !(7..=15).contains(&international.len()) {
            return None;
        }
        if let Some(national) = international.strip_prefix("47") {
            if national.len() != 8 || !national.starts_with(['4', '9']) {
                return None;
            }
        }
        if international.starts_with('0') {
            return None;
        }
        Some(Self(format!("+{international}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_e164() {
        for (raw, e164) in [
            ("912 34 567", Some("+4791234567")),
            ("+47 912 34 567", Some("+4791234567")),
            ("0047 41234567", Some("+4741234567")),
            ("+46 70 123 45 67", Some("+46701234567")),
            ("22 33 44 55", None),
            ("+47 22334455", None),
            ("9123456", None),
            ("912345678", None),
            ("+0 1234567", None),
            ("91a34567", None),
            ("", None),
        ] {
            assert_eq!(Number::parse(raw).as_ref().map(Number::as_str), e164, "{raw}");
        }
    }
}
