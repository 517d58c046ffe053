//! The web layer shared by every feature: translations, layout, form errors, cookies,
//! the request context (session, CSRF, error pages), security headers and safe redirect
//! targets.

pub mod client;
pub mod context;
pub mod cookies;
pub mod csp;
pub mod csv;
pub mod expensive;
pub mod form;
pub mod i18n;
pub mod layout;
pub mod places;
pub mod rate_limit;
pub mod redirect;
pub mod request;
pub mod security;
pub mod zip;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Render a page template as an HTML response; a template fault becomes a 500 (the
/// templates are compiled, so this is rare).
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], html).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Render with a status other than 200 (e.g. 422 for a form with errors).
pub fn render_with<T: Template>(status: StatusCode, page: &T) -> Response {
    let mut res = render(page);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// The id in a request path: one that does not parse is as one that does not exist.
pub fn path_id(raw: &str) -> crate::error::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| crate::error::AppError::NotFound)
}
