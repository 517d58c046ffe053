//! The one error type of request handlers, and how it becomes a response.
//!
//! Which error where: handlers and query functions return [`Result`] with [`AppError`];
//! `anyhow` is used only outside requests (start-up, imports, demo data, CLI).
//! A user's mistake in a form is not an error here: the handler renders the form
//! again with its [`FieldErrors`](crate::web::form::FieldErrors) (status 422).
//! `AppError` is for what ends the request: not found (also used for "exists but
//! you may not see it"), not signed in, a conflict, or a fault. Faults are logged by
//! the error-page middleware inside the request span, with a request id the user
//! also sees; the cause never reaches the page.

use axum::http::{header, HeaderValue, StatusCode};
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
    /// Tavle cannot take this request now (the municipality's share of expensive work
    /// is taken): 503 with `Retry-After`.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// This person already has as many expensive requests running as allowed: 429
    /// with `Retry-After`.
    #[error("too many at once")]
    TooManyAtOnce,
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
    /// An identity provider cannot be reached.
    Unavailable,
    /// The database cannot be reached, the pool is exhausted, or the request took too
    /// long on our side: 503, try again shortly.
    Busy,
    /// The request (its body) did not arrive in time: 408.
    TimedOut,
    /// The person's own expensive requests are still running: 429.
    TooManyAtOnce,
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
            ErrorPage::Unavailable | ErrorPage::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorPage::TimedOut => StatusCode::REQUEST_TIMEOUT,
            ErrorPage::TooManyAtOnce => StatusCode::TOO_MANY_REQUESTS,
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
            StatusCode::SERVICE_UNAVAILABLE => ErrorPage::Busy,
            StatusCode::REQUEST_TIMEOUT => ErrorPage::TimedOut,
            s if s.is_server_error() => ErrorPage::Internal,
            _ => return None,
        })
    }
}

/// The cause of a 5xx, for the log line the middleware writes (never for the page).
#[derive(Debug, Clone)]
pub struct FaultCause(pub String);

/// Seconds a client is asked to wait (`Retry-After`) when Tavle is busy or the
/// database is unreachable: long enough for a pool to drain or a restarted database
/// to accept connections, short enough that a person retrying by hand is not held up.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// Whether a database error means "the database cannot be used right now" (the pool
/// is exhausted or closed, the connection broke or was refused, the server is
/// shutting down, starting up or out of connections) rather than a fault in the
/// request: such a request gets the calm 503 page with `Retry-After`, not a 500.
pub fn db_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // SQLSTATE class 08: connection exception; 57P01-57P03: admin shutdown, crash
        // shutdown, cannot connect now; 53300: too many connections.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")),
        _ => false,
    }
}

impl AppError {
    /// The database (not the request) is the problem: see [`db_unavailable`].
    pub fn is_unavailable(&self) -> bool {
        match self {
            AppError::Db(e) => db_unavailable(e),
            AppError::Internal(e) => e.chain().any(|c| c.downcast_ref::<sqlx::Error>().is_some_and(db_unavailable)),
            _ => false,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let page = match &self {
            AppError::NotFound => ErrorPage::NotFound,
            AppError::Forbidden => ErrorPage::Forbidden,
            AppError::BadRequest => ErrorPage::BadRequest,
            AppError::Conflict => ErrorPage::Conflict,
            AppError::Unavailable(_) => ErrorPage::Unavailable,
            AppError::Busy(_) => ErrorPage::Busy,
            AppError::TooManyAtOnce => ErrorPage::TooManyAtOnce,
            AppError::Unauthenticated => {
                return axum::response::Redirect::to("/sign-in").into_response();
            }
            e @ (AppError::Db(_) | AppError::Internal(_)) if e.is_unavailable() => ErrorPage::Busy,
            AppError::Db(_) | AppError::Internal(_) => ErrorPage::Internal,
        };
        let mut res = page.status().into_response();
        res.extensions_mut().insert(page);
        if matches!(page, ErrorPage::Busy | ErrorPage::TooManyAtOnce) {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        if matches!(page, ErrorPage::Internal | ErrorPage::Unavailable)
            || matches!(self, AppError::Db(_) | AppError::Internal(_))
        {
            // `{:#}` keeps anyhow's chain; sqlx errors carry no row data.
            res.extensions_mut().insert(FaultCause(format!("{self:#}")));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_calm_503_with_retry_after() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        for e in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed, sqlx::Error::Io(refused)] {
            assert!(db_unavailable(&e), "{e}");
            let res = AppError::Db(e).into_response();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.extensions().get::<ErrorPage>(), Some(&ErrorPage::Busy));
            assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some(RETRY_AFTER_SECONDS));
            assert!(res.extensions().get::<FaultCause>().is_some(), "the cause is logged");
        }
        let wrapped = anyhow::Error::new(sqlx::Error::PoolTimedOut).context("loading the session");
        assert_eq!(AppError::Internal(wrapped).into_response().status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn other_database_errors_stay_faults() {
        let res = AppError::Db(sqlx::Error::RowNotFound).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().get(header::RETRY_AFTER).is_none());
        assert!(!db_unavailable(&sqlx::Error::Protocol("unexpected message".into())));
    }

    #[test]
    fn too_many_at_once_is_429_with_retry_after() {
        let res = AppError::TooManyAtOnce.into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key(header::RETRY_AFTER));
        let res = AppError::Busy("statistics").into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key(header::RETRY_AFTER));
    }
}
