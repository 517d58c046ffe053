//! The one error type of request handlers, and how it becomes a response.
//!
//! Which error where: handlers and query functions return [`Result`] with [`AppError`];
//! `anyhow` is used only outside requests (start-up, imports, demo data, CLI).
//! A user's mistake in a form is not an error here: the handler renders the form
//! again with its [`FieldErrors`] (status 422). `AppError` is for what ends the
//! request: not found (also used for "exists but you may not see it"), not signed
//! in, a conflict, or a fault. Faults are logged by the error-page middleware inside
//! the request span, with a request id the user also sees; the cause never reaches
//! the page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not found, or found but not the actor's to see: the two look the same.
    #[error("not found")]
    NotFound,
    /// Signed in, and plainly allowed to know the thing exists, but not to do this.
    #[error("forbidden")]
    Forbidden,
    /// Not signed in (or the session ended): sent to the sign-in page.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The request was malformed in a way no form of ours produces.
    #[error("bad request")]
    BadRequest,
    /// The state changed under the user (e.g. a duplicate).
    #[error("conflict")]
    Conflict,
    /// A service we depend on (an identity provider) cannot be reached right now.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What kind of error page to render; attached to the response for the middleware in
/// `web::errors`, which knows the request's language and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    Forbidden,
    BadRequest,
    Conflict,
    Internal,
    TooManyRequests,
    PayloadTooLarge,
    Unavailable,
}

impl ErrorPage {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorPage::NotFound => StatusCode::NOT_FOUND,
            ErrorPage::Forbidden => StatusCode::FORBIDDEN,
            ErrorPage::BadRequest => StatusCode::BAD_REQUEST,
            ErrorPage::Conflict => StatusCode::CONFLICT,
            ErrorPage::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorPage::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorPage::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorPage::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn from_status(status: StatusCode) -> Option<Self> {
        Some(match status {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => ErrorPage::NotFound,
            StatusCode::FORBIDDEN => ErrorPage::Forbidden,
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ErrorPage::BadRequest
            }
            StatusCode::CONFLICT => ErrorPage::Conflict,
            StatusCode::TOO_MANY_REQUESTS => ErrorPage::TooManyRequests,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorPage::PayloadTooLarge,
            StatusCode::SERVICE_UNAVAILABLE => ErrorPage::Unavailable,
            s if s.is_server_error() => ErrorPage::Internal,
            _ => return None,
        })
    }
}

/// The cause of a 5xx, for the log line the middleware writes (never for the page).
#[derive(Debug, Clone)]
pub struct FaultCause(pub String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let page = match &self {
            AppError::NotFound => ErrorPage::NotFound,
            AppError::Forbidden => ErrorPage::Forbidden,
            AppError::BadRequest => ErrorPage::BadRequest,
            AppError::Conflict => ErrorPage::Conflict,
            AppError::Unavailable(_) => ErrorPage::Unavailable,
            AppError::Unauthenticated => {
                return axum::response::Redirect::to("/sign-in").into_response();
            }
            AppError::Db(_) | AppError::Internal(_) => ErrorPage::Internal,
        };
        let mut res = page.status().into_response();
        res.extensions_mut().insert(page);
        if page == ErrorPage::Internal || page == ErrorPage::Unavailable {
            // `{:#}` keeps anyhow's chain; sqlx errors carry no row data.
            res.extensions_mut().insert(FaultCause(format!("{self:#}")));
        }
        res
    }
}
