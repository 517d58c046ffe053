//! The application's shared state, what every request may reach: the pool, the
//! configuration and the caches. A leaf of the spine: it imports no feature, so that
//! features import it (never `app`, which merges them all). Extractors and handlers take
//! only the part they need through `FromRef` (`State<PgPool>`, `State<Arc<Config>>`).

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::session::SessionCache;
use crate::config::Config;
use crate::web::csp::content_security_policy;
use crate::web::rate_limit::RateLimiter;

pub use crate::config::Mode;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub mode: Mode,
    pub csp: Arc<str>,
    pub oidc: Arc<crate::auth::oidc::client::Oidc>,
    /// Sign-in and form posts per client address and minute.
    pub rate_limiter: Arc<RateLimiter>,
    /// Expensive requests (statistics, exports) running per person and municipality.
    pub expensive: Arc<crate::web::expensive::limiter::ExpensiveLimiter>,
    /// Sessions with their actors, for a short while (`TAVLE_SESSION_CACHE_SECONDS`).
    pub sessions: Arc<SessionCache>,
}

impl AppState {
    pub fn new(db: PgPool, config: Config, mode: Mode) -> Self {
        Self {
            db,
            csp: content_security_policy(&[]).into(),
            rate_limiter: Arc::new(RateLimiter::new(config.sign_in_limit, config.form_post_limit)),
            expensive: Arc::new(crate::web::expensive::limiter::ExpensiveLimiter::new(
                config.expensive_per_person,
                config.expensive_per_municipality,
            )),
            sessions: Arc::new(SessionCache::new(config.session_cache, mode)),
            config: Arc::new(config),
            mode,
            oidc: Arc::default(),
        }
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Arc<SessionCache> {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

impl FromRef<AppState> for Arc<crate::web::expensive::limiter::ExpensiveLimiter> {
    fn from_ref(state: &AppState) -> Self {
        state.expensive.clone()
    }
}
