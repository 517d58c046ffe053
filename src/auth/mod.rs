//! Who is asking: server-side sessions, the current user extractor ([`Ctx`]), and
//! the demo sign-in. OpenID Connect sign-in (Feide, ID-porten) builds on the same
//! `session::create` after its identity step.

pub mod demo;
pub mod identity;
pub mod oidc;
pub mod session;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::AppError;
use crate::policy::Actor;
use crate::web::i18n::Lang;
use crate::web::request::RequestContext;

/// A signed-in request: the actor, and what the audit log needs about the request.
/// Extracting it from a request without a live session redirects to sign-in.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Arc<Actor>,
    pub ip: Option<String>,
    pub lang: Lang,
    /// The actor came from the session cache: a `Work` checks it first.
    pub cached: Option<session::Cached>,
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(<Ctx as FromRequestParts<S>>::from_request_parts(parts, state).await.ok())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let rc = parts.extensions.get::<RequestContext>().ok_or(AppError::Unauthenticated)?;
        let actor = rc.actor.clone().ok_or(AppError::Unauthenticated)?;
        Ok(Ctx { actor, ip: rc.ip.clone(), lang: rc.lang, cached: rc.cached })
    }
}
