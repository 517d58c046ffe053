//! Security headers on every response, and rate limits on sign-in and form posts
//! per client address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::ErrorPage;
use crate::web::client::{self, ClientAddr};

/// No inline script or style anywhere: everything comes from /static. Images may be
/// data: URIs because the design system draws its icons that way. `form-action`
/// lists the identity providers, since signing out redirects a form post to them.
pub fn content_security_policy(extra_form_targets: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for t in extra_form_targets {
        form_action.push(' ');
        form_action.push_str(t);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; \
         base-uri 'none'; object-src 'none'"
    )
}

pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    // A page that posts to an identity provider widens `form-action` itself.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, "content-security-policy", &state.csp);
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), \
         microphone=(), payment=(), usb=(), interest-cohort=()",
    );
    if state.config.secure_cookies() {
        set(h, "strict-transport-security", "max-age=63072000; includeSubDomains");
    }
    res
}

/// A fixed-window counter per client address.
#[derive(Debug)]
pub struct RateLimiter {
    windows: Mutex<HashMap<(IpAddr, bool), (Instant, u32)>>,
    sign_in_limit: u32,
    post_limit: u32,
}

const WINDOW: Duration = Duration::from_secs(60);
/// Sign-in attempts per address and minute, unless `TAVLE_SIGN_IN_LIMIT` says otherwise.
const SIGN_IN_LIMIT: u32 = 20;
/// Other form posts per address and minute (a teacher saving registers is far below),
/// unless `TAVLE_FORM_POST_LIMIT` says otherwise.
const POST_LIMIT: u32 = 600;

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(SIGN_IN_LIMIT, POST_LIMIT)
    }
}

impl RateLimiter {
    pub fn new(sign_in_limit: u32, post_limit: u32) -> Self {
        Self { windows: Mutex::default(), sign_in_limit, post_limit }
    }

    /// Count a request; `false` when the address is over its limit.
    pub fn allow(&self, ip: IpAddr, sign_in: bool) -> bool {
        let limit = if sign_in { self.sign_in_limit } else { self.post_limit };
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry((ip, sign_in)).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }
}

/// The first middleware a request meets (after the security headers): work out the
/// client's address ([`client::client_address`], put into the request as
/// [`ClientAddr`] for the context and the audit log), and count every sign-in request
/// and every state-changing request against it, before the session lookup and the
/// CSRF check, so that a flood of token-less posts costs no database work and is
/// counted all the same. A request without a socket address (in-process tests) is not
/// counted.
pub async fn rate_limit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip());
    if let Some(peer) = peer {
        let ip = client::client_address(peer, req.headers(), &state.config.trusted_proxies);
        req.extensions_mut().insert(ClientAddr(ip));
        let path = req.uri().path();
        let sign_in = path.starts_with("/sign-in") || path.starts_with("/auth/");
        let counted = sign_in || !matches!(*req.method(), Method::GET | Method::HEAD);
        if counted && !state.rate_limiter.allow(ip, sign_in) {
            let mut res = (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "60")]).into_response();
            res.extensions_mut().insert(ErrorPage::TooManyRequests);
            return crate::web::context::error_page_before_context(&state, req.headers(), path, res);
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_has_no_inline_anything() {
        let csp = content_security_policy(&[]);
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn sign_in_is_limited_per_address() {
        let l = RateLimiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..SIGN_IN_LIMIT {
            assert!(l.allow(a, true));
        }
        assert!(!l.allow(a, true));
        assert!(l.allow(b, true));
        assert!(l.allow(a, false));
    }

    #[test]
    fn the_sign_in_limit_can_be_set() {
        let l = RateLimiter::new(2, POST_LIMIT);
        let a: IpAddr = [10, 0, 0, 1].into();
        assert!(l.allow(a, true));
        assert!(l.allow(a, true));
        assert!(!l.allow(a, true));
    }
}
