//! E-mail: an outbox table that features put messages in, delivered over SMTP by a
//! background worker, with failures retried and shown to the school office.
//!
//! - `outbox`: the table's queries (idempotent enqueue, the worker's claim, the
//!   office's view). Generic: a later feature (messages, emergency notices) adds a
//!   `Kind` and enqueues in its own transaction.
//! - `delivery`: the SMTP client (lettre) and the worker `tavle serve` starts; also
//!   `tavle mail deliver`.
//! - `weekly`: the weekly absence summary to guardians (counts and a link only),
//!   enqueued on Fridays at 15:00 by the worker; also `tavle mail weekly-summary`.
//! - `page`: the school office's outbox page and its "retry now".

pub mod delivery;
pub mod outbox;
mod page;
pub mod weekly;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use page::{error_text, mask};

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new()
        .route("/mail", get(page::entry))
        .route("/schools/{school_id}/mail", get(page::show))
        .route("/schools/{school_id}/mail/{message_id}/retry", post(page::retry))
}
