//! The middleware of the web layer's first lines of defence: security headers on every
//! response, and the rate limits on sign-in and form posts per client address
//! (`rate_limit::RateLimiter`, counted before any session lookup).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ErrorPage;
use crate::state::AppState;
use crate::web::client::{self, ClientAddr};

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
