//! The application: shared state and `build_router()`, the one place where features
//! are merged and middleware is set.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use crate::web::security;

/// Largest request body accepted (forms; uploads get their own limit).
const BODY_LIMIT: usize = 256 * 1024;

/// Where static files are served from: `TAVLE_STATIC_DIR`, else `static/` beside the
/// sources this binary was built from, else `./static`.
fn static_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("TAVLE_STATIC_DIR") {
        return dir.into();
    }
    let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    if built.is_dir() {
        built
    } else {
        "static".into()
    }
}

/// The feature routers. The authorization matrix test walks this list of routes.
pub fn feature_routes() -> Router<AppState> {
    Router::new()
        .merge(crate::home::router())
        .merge(crate::auth::demo::router())
        .merge(crate::auth::oidc::router())
        .merge(crate::pupils::router())
        .merge(crate::groups::router())
        .merge(crate::audit_log::router())
        .merge(crate::admin::router())
        .merge(crate::exchanges::router())
        .merge(crate::intake::routes())
        .merge(crate::messages::routes())
        .merge(crate::emergency::routes())
        .merge(crate::absence::router())
        .merge(crate::assessment::router())
        .merge(crate::timetable::router())
        .merge(crate::sfo::router())
        .merge(crate::mail::router())
}

pub fn build_router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let statics =
        Router::new().nest_service("/static", ServeDir::new(static_dir())).layer(SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("public, max-age=3600"),
        ));
    Router::new()
        .merge(feature_routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn_with_state(state.clone(), crate::web::context::middleware))
        // Before the session lookup and the CSRF check: see `security::rate_limit`.
        .layer(middleware::from_fn_with_state(state.clone(), security::rate_limit))
        .merge(statics)
        // Not behind the session and CSRF middleware: the gateway signs each request.
        .merge(crate::sms::webhook_router().merge(crate::emergency::inbound_router()).layer(
            SetResponseHeaderLayer::overriding(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            ),
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // A body that stalls between two parts is cut off (408 from the CSRF check).
        .layer(RequestBodyTimeoutLayer::new(state.config.body_read_timeout))
        .layer(middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(CatchPanicLayer::custom(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // Route templates only (`/pupils/{id}`): never ids or query strings.
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|m| m.as_str().to_owned())
                        .unwrap_or_else(|| "(unmatched)".to_owned());
                    let id =
                        req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    tracing::info_span!("request", method = %req.method(), route, request_id = id)
                })
                .on_response(|res: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "served");
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.db).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
