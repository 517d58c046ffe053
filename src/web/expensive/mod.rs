//! A bound on expensive requests running at once (the absence statistics and their
//! CSV export, which read a school year of registrations), per person and per
//! municipality, so that one person's reloads or one municipality's morning cannot
//! take the connection pool every municipality shares.
//!
//! A handler that is expensive takes an [`ExpensiveSlot`] as an argument (after
//! `Ctx`): the slot is held while the handler runs and given back when it returns.
//! Over the person's limit the request is refused with 429, over the municipality's
//! with 503, both with `Retry-After` and a calm page. Refusing at once (rather than
//! queueing) keeps waiting requests from holding connections and memory.

pub mod limiter;

pub use limiter::{ExpensiveLimiter, Refusal, Slot};

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::error::AppError;
use crate::web::request::RequestContext;

/// The extractor: a slot for the signed-in person, held while the handler runs. Not
/// signed in: sent to sign in, as `Ctx` does.
#[derive(Debug)]
pub struct ExpensiveSlot(#[expect(dead_code, reason = "held for its Drop")] Slot);

impl<S> FromRequestParts<S> for ExpensiveSlot
where
    S: Send + Sync,
    Arc<ExpensiveLimiter>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let limiter = Arc::<ExpensiveLimiter>::from_ref(state);
        let actor = parts
            .extensions
            .get::<RequestContext>()
            .and_then(|rc| rc.actor.clone())
            .ok_or(AppError::Unauthenticated)?;
        match limiter.try_acquire(actor.tenant_id, actor.person_id) {
            Ok(slot) => Ok(Self(slot)),
            Err(Refusal::Person) => Err(AppError::TooManyAtOnce),
            Err(Refusal::Municipality) => {
                tracing::warn!(tenant = %actor.tenant_id, "the municipality's expensive requests are at their limit");
                Err(AppError::Busy("expensive requests"))
            }
        }
    }
}
