//! The sign-in flow: start (a browser-bound pending request, then the provider), the
//! callback (the id token checked in full), and binding a provider's subject to a person.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope,
    TokenResponse,
};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::demo::{no_access, signed_in};
use crate::auth::identity::{self, Identity};
use crate::auth::session::{self, Method, NewSession};
use crate::config::Config;
use crate::db;
use crate::domain::national_id::NationalId;
use crate::error::{AppError, Result};
use crate::policy::Audience;
use crate::state::AppState;
use crate::web::cookies::{self, Names};
use crate::web::i18n::Lang;
use crate::web::request::RequestContext;

use super::client::{client, sha256, verify_id_token, Expectation};
use super::providers::{provider, Kind};

/// How long a started sign-in may take before its callback is refused.
const REQUEST_TTL: Duration = Duration::from_secs(600);

// ---- routes -------------------------------------------------------------------------------

pub fn router() -> Router<AppState> {
    Router::new().route("/auth/{kind}/start", get(start)).route("/auth/{kind}/callback", get(callback))
}

#[derive(Deserialize)]
struct StartQuery {
    municipality: String,
}

async fn start(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response> {
    let kind = Kind::from_code(&kind).ok_or(AppError::NotFound)?;
    let tenant = identity::tenant_by_slug(&state.db, &q.municipality).await?.ok_or(AppError::NotFound)?;
    let p = provider(&state.db, tenant, kind).await?.ok_or(AppError::NotFound)?;
    let secret = state.config.oidc_secret(&p.slug, kind.code()).ok_or_else(|| {
        tracing::error!(variable = %Config::oidc_secret_name(&p.slug, kind.code()), "client secret missing");
        AppError::Unavailable("secret")
    })?;
    let meta = state.oidc.metadata(&p, false).await?;
    let client = client(&state.config, &p, &meta, secret)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge);
    for scope in p.scopes.split_whitespace().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    // ID-porten is asked for the lowest accepted level. Feide is asked for nothing:
    // pupils need no second factor, and staff are checked after the fact.
    if kind == Kind::IdPorten {
        if let Some(acr) = p.required_acr.first() {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
    }
    let (url, csrf_state, nonce) = request.url();
    let binding = session::random_token();
    let mut tx = db::begin(&state.db, tenant).await?;
    sqlx::query("DELETE FROM oidc_requests WHERE tenant_id = $1 AND created_at < now() - make_interval(secs => $2)")
        .bind(tenant)
        .bind(REQUEST_TTL.as_secs_f64())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO oidc_requests (tenant_id, state_hash, kind, binding_hash, nonce, pkce_verifier) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant)
    .bind(sha256(csrf_state.secret()))
    .bind(kind.code())
    .bind(sha256(&binding))
    .bind(nonce.secret())
    .bind(verifier.secret())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let secure = state.config.secure_cookies();
    let mut res = Redirect::to(url.as_str()).into_response();
    cookies::set(
        res.headers_mut(),
        Names::new(secure).oidc,
        &format!("{tenant}.{binding}"),
        secure,
        Some(REQUEST_TTL.as_secs()),
    );
    Ok(res)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// Why a callback was refused; logged, never shown.
#[derive(Debug)]
struct Refusal(&'static str);

async fn callback(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
    axum::Extension(rc): axum::Extension<RequestContext>,
) -> Result<Response> {
    let kind = Kind::from_code(&kind).ok_or(AppError::NotFound)?;
    let secure = state.config.secure_cookies();
    let names = Names::new(secure);
    let browser =
        Browser { binding: cookies::get(&headers, names.oidc), session: cookies::get(&headers, names.session) };
    let outcome = complete(&state, kind, &q, browser, rc.ip.as_deref(), rc.lang).await;
    let mut res = match outcome {
        Ok(Ok(cookie)) => signed_in(&state, &headers, &cookie),
        Ok(Err(Refusal(reason))) => {
            tracing::info!(kind = kind.code(), reason, "sign-in refused");
            no_access(&state, &rc)
        }
        Err(e) => return Err(e),
    };
    cookies::clear(res.headers_mut(), names.oidc, secure);
    Ok(res)
}

/// The cookies of the browser that came back from the provider.
struct Browser<'a> {
    /// Binds the pending request to this browser.
    binding: Option<&'a str>,
    /// A session the browser still has: a sign-in ends it.
    session: Option<&'a str>,
}

/// The callback's work: `Ok(Ok(session cookie))`, `Ok(Err(refusal))`, or a fault.
async fn complete(
    state: &AppState,
    kind: Kind,
    q: &CallbackQuery,
    browser: Browser<'_>,
    ip: Option<&str>,
    lang: Lang,
) -> Result<std::result::Result<String, Refusal>> {
    macro_rules! refuse {
        ($reason:literal) => {
            return Ok(Err(Refusal($reason)))
        };
    }
    let Some((tenant, binding)) = browser.binding.and_then(|c| c.split_once('.')) else { refuse!("no_binding_cookie") };
    let Ok(tenant) = Uuid::parse_str(tenant) else { refuse!("malformed_binding_cookie") };
    if q.error.is_some() {
        refuse!("provider_error");
    }
    let (Some(code), Some(csrf_state)) = (&q.code, &q.state) else { refuse!("missing_code_or_state") };

    // The pending request of this browser (state and binding cookie together), used
    // up whatever happens next. Another browser naming the state finds nothing and
    // cannot spoil the request either.
    let mut tx = db::begin(&state.db, tenant).await?;
    let pending: Option<(String, String, String, bool)> = sqlx::query_as(
        "DELETE FROM oidc_requests WHERE tenant_id = $1 AND state_hash = $2 AND binding_hash = $3 \
         RETURNING kind, nonce, pkce_verifier, created_at > $4",
    )
    .bind(tenant)
    .bind(sha256(csrf_state))
    .bind(sha256(binding))
    // The cutoff as a value: Citus takes no function but an IMMUTABLE one in RETURNING.
    .bind(time::OffsetDateTime::now_utc() - REQUEST_TTL)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some((pending_kind, nonce, pkce_verifier, fresh)) = pending else { refuse!("unknown_state_for_browser") };
    if pending_kind != kind.code() {
        refuse!("kind_mismatch");
    }
    if !fresh {
        refuse!("expired");
    }
    let Some(p) = provider(&state.db, tenant, kind).await? else { refuse!("provider_removed") };
    // RFC 9207: the response names its issuer; a mix-up shows here.
    if q.iss.as_deref().is_some_and(|iss| iss != p.issuer) {
        refuse!("issuer_mismatch");
    }
    let Some(secret) = state.config.oidc_secret(&p.slug, kind.code()) else {
        return Err(AppError::Unavailable("secret"));
    };
    let meta = state.oidc.metadata(&p, false).await?;
    let client = client(&state.config, &p, &meta, secret)?;
    let Ok(exchange) = client.exchange_code(AuthorizationCode::new(code.clone())) else { refuse!("no_token_endpoint") };
    let token =
        match exchange.set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier)).request_async(&state.oidc.http).await {
            Ok(t) => t,
            Err(e) => {
                tracing::info!(kind = kind.code(), error = %e, "token exchange failed");
                refuse!("token_exchange")
            }
        };
    let Some(id_token) = token.id_token() else { refuse!("no_id_token") };
    let raw = id_token.to_string();
    let mut expect =
        Expectation { issuer: &p.issuer, client_id: &p.client_id, keys: meta.jwks(), nonce: &nonce, now: None };
    let verified = match verify_id_token(&raw, &expect) {
        Ok(v) => v,
        Err(_) => {
            // The provider may have rotated its keys since discovery: look once more.
            let fresh_meta = state.oidc.metadata(&p, true).await?;
            expect.keys = fresh_meta.jwks();
            match verify_id_token(&raw, &expect) {
                Ok(v) => v,
                Err(e) => {
                    tracing::info!(kind = kind.code(), error = %e, "id token refused");
                    refuse!("id_token")
                }
            }
        }
    };
    let acr_ok = verified.acr.as_ref().is_some_and(|a| p.required_acr.contains(a));

    let found: Option<Identity> = match kind {
        Kind::Feide => {
            let Some(feide_id) = verified.feide_id.as_deref() else { refuse!("no_feide_id") };
            identity::by_feide_id(&state.db, tenant, feide_id).await?
        }
        Kind::IdPorten => {
            if !acr_ok {
                refuse!("acr");
            }
            let Some(Ok(pid)) = verified.pid.as_deref().map(NationalId::parse) else { refuse!("no_pid") };
            identity::by_national_id(&state.db, tenant, pid.as_str()).await?
        }
    };
    let Some(found) = found else { refuse!("unknown_identity") };
    if kind == Kind::Feide && found.audience == Audience::Staff && !acr_ok {
        refuse!("acr");
    }
    // Feide: the user id and the provider's `sub` together. ID-porten: the pid alone.
    if kind == Kind::Feide && !bind_subject(&state.db, tenant, kind, &verified.subject, found.person_id).await? {
        refuse!("subject_mismatch");
    }
    let created = session::create_replacing(
        &state.db,
        &state.sessions,
        &state.config,
        NewSession {
            tenant_id: tenant,
            person_id: found.person_id,
            method: match kind {
                Kind::Feide => Method::Feide,
                Kind::IdPorten => Method::IdPorten,
            },
            audience: found.audience,
            acr: verified.acr,
            id_token_hint: Some(raw),
            lang,
        },
        ip,
        browser.session,
    )
    .await;
    match created {
        Ok(cookie) => Ok(Ok(cookie)),
        Err(AppError::NotFound) => Ok(Err(Refusal("no_current_access"))),
        Err(e) => Err(e),
    }
}

/// Bind the provider's `sub` to the person at first sign-in; afterwards the same
/// person must come with the same `sub`, and a `sub` can never move to another person.
async fn bind_subject(pool: &PgPool, tenant: Uuid, kind: Kind, subject: &str, person: Uuid) -> Result<bool> {
    let mut tx = db::begin(pool, tenant).await?;
    let bound: Vec<(String, Uuid)> = sqlx::query_as(
        "SELECT subject, person_id FROM external_identities \
         WHERE tenant_id = $1 AND kind = $2 AND (subject = $3 OR person_id = $4)",
    )
    .bind(tenant)
    .bind(kind.code())
    .bind(subject)
    .bind(person)
    .fetch_all(&mut *tx)
    .await?;
    let ok = match bound.as_slice() {
        [] => {
            sqlx::query(
                "INSERT INTO external_identities (tenant_id, kind, subject, person_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant)
            .bind(kind.code())
            .bind(subject)
            .bind(person)
            .execute(&mut *tx)
            .await?;
            true
        }
        [(s, p)] if s == subject && *p == person => {
            sqlx::query(
                "UPDATE external_identities SET last_seen = now() WHERE tenant_id = $1 AND kind = $2 AND subject = $3",
            )
            .bind(tenant)
            .bind(kind.code())
            .bind(subject)
            .execute(&mut *tx)
            .await?;
            true
        }
        _ => false,
    };
    tx.commit().await?;
    Ok(ok)
}
