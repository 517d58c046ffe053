//! What the context middleware (`web::context`) learns of every request and puts into its
//! extensions for the extractors, the layout and the handlers. A leaf: it names only
//! the language, the actor and what the session cache says must be checked.

use std::sync::{Arc, OnceLock};

use crate::auth::session::Cached;
use crate::policy::Actor;
use crate::web::i18n::Lang;

/// The request's language, who is signed in (if anyone), the CSRF token its forms
/// carry, the client's address, and the ids an error page shows.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub lang: Lang,
    pub actor: Option<Arc<Actor>>,
    /// When `actor` came from the session cache: what a `Work` checks before it acts.
    pub cached: Option<Cached>,
    /// Set by a `Work` whose check of a cached actor found it changed (`Some`, as it is
    /// now) or its session ended (`None`): shared with the middleware's copy, so that an
    /// error page's layout shows no stale menu and an ended session's cookie is cleared.
    pub checked: Arc<OnceLock<Option<Arc<Actor>>>>,
    /// The token forms must carry.
    pub csrf: String,
    pub ip: Option<String>,
    pub request_id: String,
    pub path: String,
}
