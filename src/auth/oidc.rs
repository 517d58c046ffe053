//! Sign-in with OpenID Connect: Feide (staff and pupils) and ID-porten (guardians).
//!
//! Authorization code flow with PKCE (S256), `state` and `nonce`. The pending request
//! lives server-side (`oidc_requests`, hashes only) and is bound to the browser by a
//! short-lived cookie, so a callback carried to another browser (login CSRF) or
//! replayed finds nothing. The id token is verified in full (signature, issuer,
//! audience, expiry, nonce) and its `acr` checked against the tenant's policy. Every
//! refusal answers with the same calm "no access" page; the reason goes to the log
//! only, without personal data.
//!
//! Starting a sign-in is a plain link (`GET /auth/{kind}/start?municipality=…`): it
//! changes nothing but an expiring, browser-bound pending request, and a link (unlike
//! a form post) may redirect to the provider under our `form-action` CSP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenVerifier, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::demo::{no_access, signed_in};
use crate::auth::identity::{self, Identity};
use crate::auth::session::{self, Method, NewSession};
use crate::config::{Config, Secret};
use crate::db;
use crate::domain::national_id::NationalId;
use crate::error::{AppError, Result};
use crate::policy::Audience;
use crate::web::context::RequestContext;
use crate::web::cookies::{self, Names};
use crate::web::i18n::Lang;

/// How long a started sign-in may take before its callback is refused.
const REQUEST_TTL: Duration = Duration::from_secs(600);
/// How long provider metadata and keys are reused before discovery runs again.
const METADATA_TTL: Duration = Duration::from_secs(900);

/// The two kinds of identity provider a municipality uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Feide,
    IdPorten,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Feide, Kind::IdPorten];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Feide => "feide",
            Kind::IdPorten => "idporten",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    fn sign_in_key(self) -> &'static str {
        match self {
            Kind::Feide => "signin.with_feide",
            Kind::IdPorten => "signin.with_idporten",
        }
    }

    fn method(self) -> Method {
        match self {
            Kind::Feide => Method::Feide,
            Kind::IdPorten => Method::IdPorten,
        }
    }

    /// Scopes asked for when none are configured.
    pub fn default_scopes(self) -> &'static str {
        match self {
            Kind::Feide => "openid userid-feide profile",
            Kind::IdPorten => "openid profile",
        }
    }

    /// Feide: the multi-factor level staff must present. ID-porten: the levels a
    /// guardian must present (the legacy `Level3`/`Level4` are not among them).
    pub fn default_acr(self) -> Vec<String> {
        match self {
            Kind::Feide => vec!["urn:mace:feide.no:auth:level:fad08:3".to_owned()],
            Kind::IdPorten => vec!["idporten-loa-substantial".to_owned(), "idporten-loa-high".to_owned()],
        }
    }
}

/// A tenant's configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub tenant_id: Uuid,
    pub slug: String,
    pub kind: Kind,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    pub required_acr: Vec<String>,
}

/// The provider of `kind` for the tenant, if configured.
pub async fn provider(pool: &PgPool, tenant: Uuid, kind: Kind) -> Result<Option<Provider>> {
    let mut tx = db::begin(pool, tenant).await?;
    let row: Option<(String, String, String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.slug, p.issuer, p.client_id, p.scopes, p.required_acr \
         FROM identity_providers p JOIN tenants t ON t.id = p.tenant_id WHERE p.kind = $1",
    )
    .bind(kind.code())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|(slug, issuer, client_id, scopes, required_acr)| Provider {
        tenant_id: tenant,
        slug,
        kind,
        issuer,
        client_id,
        scopes,
        required_acr,
    }))
}

/// Configure (insert or replace) a tenant's provider. Used by `tavle idp set` and tests.
pub async fn set_provider(
    pool: &PgPool,
    tenant: Uuid,
    kind: Kind,
    issuer: &str,
    client_id: &str,
    scopes: Option<&str>,
    required_acr: Option<Vec<String>>,
) -> Result<()> {
    IssuerUrl::new(issuer.to_owned()).map_err(|_| AppError::BadRequest)?;
    let mut tx = db::begin(pool, tenant).await?;
    sqlx::query(
        "INSERT INTO identity_providers (tenant_id, kind, issuer, client_id, scopes, required_acr) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, kind) DO UPDATE SET issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id, \
             scopes = EXCLUDED.scopes, required_acr = EXCLUDED.required_acr, updated_at = now()",
    )
    .bind(tenant)
    .bind(kind.code())
    .bind(issuer)
    .bind(client_id)
    .bind(scopes.unwrap_or(kind.default_scopes()))
    .bind(required_acr.unwrap_or_else(|| kind.default_acr()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One municipality's sign-in choices, for the sign-in page.
#[derive(Debug, Clone)]
pub struct SignInOption {
    pub slug: String,
    pub tenant_name: String,
    /// (kind code, translation key of the link text)
    pub kinds: Vec<(&'static str, &'static str)>,
}

pub async fn sign_in_options(pool: &PgPool) -> Result<Vec<SignInOption>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT slug, tenant_name, kind FROM tavle_sign_in_options()").fetch_all(pool).await?;
    let mut out: Vec<SignInOption> = Vec::new();
    for (slug, tenant_name, kind) in rows {
        let Some(kind) = Kind::from_code(&kind) else { continue };
        match out.last_mut() {
            Some(last) if last.slug == slug => last.kinds.push((kind.code(), kind.sign_in_key())),
            _ => out.push(SignInOption { slug, tenant_name, kinds: vec![(kind.code(), kind.sign_in_key())] }),
        }
    }
    Ok(out)
}

/// Every configured provider whose client secret is missing from the environment
/// (named by variable), for the start-up check of `tavle serve`.
pub async fn missing_secrets(pool: &PgPool, config: &Config) -> Result<Vec<String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT slug, kind FROM tavle_sign_in_options()").fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .filter(|(slug, kind)| config.oidc_secret(slug, kind).is_none())
        .map(|(slug, kind)| Config::oidc_secret_name(&slug, &kind))
        .collect())
}

/// Fetch an issuer's discovery document (and keys), for `tavle idp set`.
pub async fn check_discovery(issuer: &str) -> std::result::Result<(), String> {
    let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?;
    ProviderMetadataWithLogout::discover_async(issuer, &Oidc::default().http)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

// ---- provider metadata ------------------------------------------------------------------

type Metadata = Arc<ProviderMetadataWithLogout>;

/// The HTTP client for providers (no redirects followed, short timeouts) and the
/// discovered metadata and keys per tenant and provider.
pub struct Oidc {
    http: openidconnect::reqwest::Client,
    cache: Mutex<HashMap<(Uuid, Kind), (Instant, Metadata)>>,
}

impl Default for Oidc {
    fn default() -> Self {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self { http, cache: Mutex::new(HashMap::new()) }
    }
}

impl Oidc {
    async fn metadata(&self, p: &Provider, refresh: bool) -> Result<Metadata> {
        let key = (p.tenant_id, p.kind);
        if !refresh {
            if let Ok(cache) = self.cache.lock() {
                if let Some((at, m)) = cache.get(&key) {
                    if at.elapsed() < METADATA_TTL && m.issuer().as_str() == p.issuer {
                        return Ok(m.clone());
                    }
                }
            }
        }
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|_| AppError::Unavailable("issuer"))?;
        let m = ProviderMetadataWithLogout::discover_async(issuer, &self.http).await.map_err(|e| {
            tracing::warn!(kind = p.kind.code(), error = %e, "identity provider discovery failed");
            AppError::Unavailable("discovery")
        })?;
        let m = Arc::new(m);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (Instant::now(), m.clone()));
        }
        Ok(m)
    }

    /// The provider's end-session endpoint, from cached metadata.
    pub async fn end_session_endpoint(&self, p: &Provider) -> Option<String> {
        let m = self.metadata(p, false).await.ok()?;
        m.additional_metadata().end_session_endpoint.as_ref().map(|u| u.url().to_string())
    }
}

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The OpenID Connect client of a tenant's provider, redirecting back to us.
fn client(config: &Config, p: &Provider, meta: &ProviderMetadataWithLogout, secret: &Secret) -> Result<Client> {
    Ok(CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect_uri(config, p.kind)?))
}

fn redirect_uri(config: &Config, kind: Kind) -> Result<RedirectUrl> {
    let url = config.public_url.join(&format!("auth/{}/callback", kind.code())).map_err(anyhow::Error::from)?;
    Ok(RedirectUrl::from_url(url))
}

fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

// ---- id token verification --------------------------------------------------------------

/// The claims Tavle reads beyond the standard ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TavleClaims {
    /// Feide's user id (eduPersonPrincipalName), e.g. `kari.nordmann@kommune.no`.
    #[serde(rename = "https://n.feide.no/claims/eduPersonPrincipalName", skip_serializing_if = "Option::is_none")]
    pub feide_id: Option<String>,
    /// ID-porten's national identity number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
}
impl AdditionalClaims for TavleClaims {}

type TavleIdToken = IdToken<TavleClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// What an id token must match.
pub struct Expectation<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub keys: &'a CoreJsonWebKeySet,
    pub nonce: &'a str,
    /// The clock to check expiry against (tests move it); `None` is now.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a verified id token says.
#[derive(Debug, Clone)]
pub struct Verified {
    pub subject: String,
    pub acr: Option<String>,
    pub feide_id: Option<String>,
    pub pid: Option<String>,
}

/// Verify signature (RS256 with the provider's keys), issuer, audience, expiry and
/// nonce; the error is a short reason for the log.
pub fn verify_id_token(raw: &str, expect: &Expectation<'_>) -> std::result::Result<Verified, String> {
    let token: TavleIdToken = raw.parse().map_err(|e| format!("malformed id token: {e}"))?;
    let issuer = IssuerUrl::new(expect.issuer.to_owned()).map_err(|e| e.to_string())?;
    let mut verifier =
        IdTokenVerifier::new_public_client(ClientId::new(expect.client_id.to_owned()), issuer, expect.keys.clone())
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    if let Some(now) = expect.now {
        verifier = verifier.set_time_fn(move || now);
    }
    let claims = token.claims(&verifier, &Nonce::new(expect.nonce.to_owned())).map_err(|e| e.to_string())?;
    Ok(Verified {
        subject: claims.subject().as_str().to_owned(),
        acr: claims.auth_context_ref().map(|a| a.as_str().to_owned()),
        feide_id: claims.additional_claims().feide_id.clone(),
        pid: claims.additional_claims().pid.clone(),
    })
}

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
    sqlx::query("DELETE FROM oidc_requests WHERE created_at < now() - make_interval(secs => $1)")
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
        "DELETE FROM oidc_requests WHERE state_hash = $1 AND binding_hash = $2 \
         RETURNING kind, nonce, pkce_verifier, created_at > now() - make_interval(secs => $3)",
    )
    .bind(sha256(csrf_state))
    .bind(sha256(binding))
    .bind(REQUEST_TTL.as_secs_f64())
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
        &state.config,
        NewSession {
            tenant_id: tenant,
            person_id: found.person_id,
            method: kind.method(),
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
        "SELECT subject, person_id FROM external_identities WHERE kind = $1 AND (subject = $2 OR person_id = $3)",
    )
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
            sqlx::query("UPDATE external_identities SET last_seen = now() WHERE kind = $1 AND subject = $2")
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
