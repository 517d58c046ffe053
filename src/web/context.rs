//! The request context middleware: language, session, CSRF, and error pages.
//!
//! For every request it works out the language, loads the session (one short
//! transaction), and puts a [`RequestContext`] into the request's extensions; the
//! client's address comes from [`ClientAddr`], which the rate limiter in front of it
//! has worked out. It also bounds the whole request (`TAVLE_REQUEST_TIMEOUT_SECONDS`). For
//! every state-changing request it checks the CSRF token (the session's, or for
//! visitors not signed in a random cookie's) and the `Origin`/`Sec-Fetch-Site`
//! headers, before any handler runs: no handler can forget. Likewise it refuses (400)
//! a query string or form that decodes to something no field can hold (see
//! [`decodes_to_text`]). On the way out it turns
//! error markers into error pages in the user's language and logs faults with the
//! request id the user sees.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::session;
use crate::error::{ErrorPage, FaultCause, RETRY_AFTER_SECONDS};
use crate::state::AppState;
use crate::web::client::ClientAddr;
use crate::web::i18n::Lang;
use crate::web::layout::{ErrorPageView, Ui};
use crate::web::{cookies, render};

/// Largest form body the CSRF check reads (the body limit layer enforces it anyway).
const MAX_FORM_BYTES: usize = 256 * 1024;

pub use crate::web::request::RequestContext;

/// What is known of a request before its session: enough to render an error page.
struct Basics {
    lang: Lang,
    request_id: String,
    path: String,
    ip: Option<String>,
}

impl Basics {
    fn of(headers: &HeaderMap, path: &str, client: Option<&ClientAddr>) -> Self {
        let lang = cookies::get(headers, cookies::LANG)
            .and_then(Lang::from_code)
            .or_else(|| {
                headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::from_accept_language)
            })
            .unwrap_or_default();
        let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Self { lang, request_id, path: path.to_owned(), ip: client.map(|c| c.0.to_string()) }
    }

    /// A context without a session, for error pages.
    fn anonymous(&self) -> RequestContext {
        RequestContext {
            lang: self.lang,
            actor: None,
            cached: None,
            checked: Arc::default(),
            csrf: String::new(),
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
            path: self.path.clone(),
        }
    }
}

/// The request context, and the whole-request timeout: a request not answered within
/// `TAVLE_REQUEST_TIMEOUT_SECONDS` (its session lookup and CSRF check included) is
/// dropped, which rolls back its transaction, and answered with the calm 503 page.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let basics = Basics::of(req.headers(), req.uri().path(), req.extensions().get::<ClientAddr>());
    match tokio::time::timeout(state.config.request_timeout, handle(&state, &basics, req, next)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(request_id = %basics.request_id, "request timed out");
            let res = (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)]).into_response();
            early_page(&state, &basics, res, ErrorPage::Busy)
        }
    }
}

/// An error page for a request refused before (or instead of) the context middleware
/// ran, e.g. by the rate limiter: in the language the request asks for, with the
/// response's status and headers (`Retry-After`).
pub fn error_page_before_context(state: &AppState, headers: &HeaderMap, path: &str, res: Response) -> Response {
    let page = res.extensions().get::<ErrorPage>().copied().or_else(|| ErrorPage::from_status(res.status()));
    match page {
        Some(page) => early_page(state, &Basics::of(headers, path, None), res, page),
        None => res,
    }
}

fn early_page(state: &AppState, basics: &Basics, res: Response, page: ErrorPage) -> Response {
    let names = cookies::Names::new(state.config.secure_cookies());
    finish(state, &basics.anonymous(), res, Some(page), names, None, false)
}

async fn handle(state: &AppState, basics: &Basics, mut req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let names = cookies::Names::new(state.config.secure_cookies());
    let Basics { lang, request_id, path, ip } = basics;
    let lang = *lang;

    // Static files and probes need no session.
    let plain = path.starts_with("/static/") || path == "/healthz" || path == "/readyz";
    let mut clear_session = false;
    let mut loaded = None;
    if !plain {
        if let Some(value) = cookies::get(&headers, names.session) {
            match session::load(&state.db, &state.sessions, value).await {
                Ok(Some(l)) => loaded = Some(l),
                Ok(None) => clear_session = true,
                Err(e) => {
                    // The calm 503 when the database cannot be reached or the pool is
                    // exhausted; a fault page otherwise. Either way the cause is logged.
                    tracing::error!(request_id = %request_id, error = %e, "session lookup failed");
                    let res = e.into_response();
                    let page = res.extensions().get::<ErrorPage>().copied().unwrap_or(ErrorPage::Internal);
                    return early_page(state, basics, res, page);
                }
            }
        }
    }
    let anon_csrf = cookies::get(&headers, names.csrf).filter(|v| v.len() == 64).map(str::to_owned);
    let mut new_anon_csrf = None;
    let csrf = match (&loaded, &anon_csrf) {
        (Some(l), _) => l.csrf.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => {
            let token = session::random_token();
            new_anon_csrf = Some(token.clone());
            token
        }
    };

    let ctx = RequestContext {
        lang,
        actor: loaded.as_ref().map(|l| l.actor.clone()),
        cached: loaded.as_ref().and_then(|l| l.cached),
        checked: Arc::default(),
        csrf: csrf.clone(),
        ip: ip.clone(),
        request_id: request_id.clone(),
        path: path.clone(),
    };

    if req.uri().query().is_some_and(|q| !decodes_to_text(q.as_bytes())) {
        let page = ErrorPage::BadRequest;
        return finish(state, &ctx, page.status().into_response(), Some(page), names, new_anon_csrf, clear_session);
    }
    if is_state_changing(req.method()) {
        // A visitor without the anonymous cookie cannot have a valid token yet.
        let expected = if loaded.is_some() { Some(csrf.as_str()) } else { anon_csrf.as_deref() };
        match check_csrf(state, req, expected).await {
            Ok(r) => req = r,
            Err(page) => {
                return finish(state, &ctx, page.status().into_response(), Some(page), names, None, false);
            }
        }
    }

    req.extensions_mut().insert(ctx.clone());
    let res = next.run(req).await;
    // A `Work` that checked a cached actor and found it changed or its session ended:
    // the error page's layout and the cookie follow what it found.
    let mut ctx = ctx;
    if let Some(actor) = ctx.checked.get().cloned() {
        clear_session |= actor.is_none();
        ctx.actor = actor;
    }
    let page = res.extensions().get::<ErrorPage>().copied().or_else(|| {
        // Responses from layers and the router (404, 405, 413, …) carry no marker.
        (res.body_size_hint_is_empty() && !res.status().is_redirection())
            .then(|| ErrorPage::from_status(res.status()))
            .flatten()
    });
    if let Some(cause) = res.extensions().get::<FaultCause>() {
        tracing::error!(request_id = %request_id, cause = %cause.0, "request failed");
    }
    finish(state, &ctx, res, page, names, new_anon_csrf, clear_session)
}

trait BodyHint {
    fn body_size_hint_is_empty(&self) -> bool;
}

impl BodyHint for Response {
    fn body_size_hint_is_empty(&self) -> bool {
        use axum::body::HttpBody;
        self.body().size_hint().exact() == Some(0)
    }
}

fn finish(
    state: &AppState,
    ctx: &RequestContext,
    mut res: Response,
    page: Option<ErrorPage>,
    names: cookies::Names,
    new_anon_csrf: Option<String>,
    clear_session: bool,
) -> Response {
    if let Some(page) = page {
        let status = res.status();
        let ui = Ui::new(state, ctx);
        let view = ErrorPageView::new(ui, page, &ctx.request_id);
        let mut rendered = render(&view);
        *rendered.status_mut() =
            if status.is_client_error() || status.is_server_error() { status } else { page.status() };
        // Keep headers the inner response set on purpose (e.g. Retry-After, Allow).
        for (name, value) in res.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        res = rendered;
    }
    let headers = res.headers_mut();
    if let Some(token) = new_anon_csrf {
        cookies::set(headers, names.csrf, &token, state.config.secure_cookies(), None);
    }
    if clear_session {
        cookies::clear(headers, names.session, state.config.secure_cookies());
    }
    // Pages may show personal data: never store them in a cache.
    if !ctx.path.starts_with("/static/") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Check the origin headers and the form's `csrf` field; hand the request back
/// with its body intact.
async fn check_csrf(state: &AppState, req: Request, expected: Option<&str>) -> Result<Request, ErrorPage> {
    if !same_origin(req.headers(), state) {
        return Err(ErrorPage::Forbidden);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ErrorPage::BadRequest);
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|e| body_error_page(&e))?;
    let sent = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
    match (expected, sent) {
        (Some(expected), Some(sent)) if constant_time_eq(expected.as_bytes(), sent.as_bytes()) => {
            if !decodes_to_text(&bytes) {
                return Err(ErrorPage::BadRequest);
            }
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(ErrorPage::Forbidden),
    }
}

/// Whether URL-encoded form data (a query string or a form body) decodes to text
/// that fields can hold: valid UTF-8 and no NUL. Anything else is refused before any
/// handler runs, once for all of them: axum's form and query extractors decode invalid
/// UTF-8 lossily (into U+FFFD, which would then be stored or searched for), and a NUL
/// can be in no PostgreSQL text value, so every query that binds it fails (a 500).
/// Browsers never send either from our pages (they are UTF-8, and a NUL cannot be
/// typed). Other control characters are each field's business: a pasted timetable has
/// line breaks, a name may not.
pub fn decodes_to_text(encoded: &[u8]) -> bool {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        let b = encoded[i];
        match (b, encoded.get(i + 1).copied().and_then(hex), encoded.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                // Two hex digits: at most 255.
                decoded.push(u8::try_from(hi * 16 + lo).unwrap_or(0));
                i += 3;
            }
            // `&` and `=` separate names and values; neither can break UTF-8 or be a NUL.
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    !decoded.contains(&0) && std::str::from_utf8(&decoded).is_ok()
}

/// Browsers tell where a request comes from; refuse what a cross-site page sent.
///
/// Our pages are served with `Referrer-Policy: no-referrer`, under which browsers send
/// `Origin: null` with a same-origin form post (Fetch: "append a request `Origin`
/// header"). `Sec-Fetch-Site` is not affected by the referrer policy, so a `null`
/// origin is accepted only when the browser itself says the post is same-origin.
/// (The CSRF token is checked in any case.)
fn same_origin(headers: &HeaderMap, state: &AppState) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let ours = state.config.public_url.origin().ascii_serialization();
        if origin != ours && !(origin == "null" && site == Some("same-origin")) {
            return false;
        }
    }
    true
}

/// A body that stalled (`TAVLE_BODY_READ_TIMEOUT_SECONDS`) is 408; one over the size
/// limit (or cut off by the client) is 413, as before.
fn body_error_page(e: &axum::Error) -> ErrorPage {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return ErrorPage::TimedOut;
        }
        source = err.source();
    }
    ErrorPage::PayloadTooLarge
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::decodes_to_text;

    #[test]
    fn forms_that_decode_to_text_pass_and_others_do_not() {
        for good in ["", "q=%C3%85se+B%C3%B8", "csv=a%3Bb%0D%0Ac", "a=%ZZ%", "x=%", "lang=en&next=/pupils?page=2"] {
            assert!(decodes_to_text(good.as_bytes()), "{good}");
        }
        for bad in ["q=a%00b", "%00", "q=%FF", "q=%C3%28", "q=abc%E2%82"] {
            assert!(!decodes_to_text(bad.as_bytes()), "{bad}");
        }
        // Raw bytes that are not UTF-8, unencoded.
        assert!(!decodes_to_text(b"q=\xff"));
    }

    proptest! {
        #[test]
        fn every_text_without_nul_passes_encoded(s in any::<String>()) {
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            prop_assert_eq!(decodes_to_text(format!("f={encoded}").as_bytes()), !s.contains('\0'));
        }
    }
}
