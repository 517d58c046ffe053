//! Signing in and out. In demo mode a visitor picks a demo persona; the session is
//! then made by the same `session::create` that OpenID Connect sign-in uses, after
//! the same identity step. `tavle serve` never offers the picker.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::auth::identity::{self, Identity};
use crate::auth::oidc::{self, Kind};
use crate::auth::session::{self, Method, NewSession};
use crate::auth::Ctx;
use crate::demo::{self, DemoPersona};
use crate::error::{AppError, Result};
use crate::state::{AppState, Mode};
use crate::web::cookies::{self, Names};
use crate::web::i18n::Lang;
use crate::web::layout::Ui;
use crate::web::request::RequestContext;
use crate::web::{redirect, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page))
        .route("/sign-in/demo", post(demo_sign_in))
        .route("/sign-out", post(sign_out))
        .route("/language", get(language))
}

pub struct PersonaRow {
    pub key: &'static str,
    pub name: String,
    pub description_key: String,
    pub tenant_slug: &'static str,
}

#[derive(askama::Template)]
#[template(path = "auth/sign_in.html")]
pub struct SignInPage {
    pub ui: Ui,
    pub demo: bool,
    pub personas: Vec<PersonaRow>,
    /// Municipalities with identity providers configured, and their sign-in links.
    pub providers: Vec<crate::auth::oidc::SignInOption>,
}

async fn sign_in_page(State(state): State<AppState>, ui: Ui) -> Result<Response> {
    let providers = crate::auth::oidc::sign_in_options(&state.db).await?;
    let demo = state.mode == Mode::Demo;
    let personas = if demo {
        demo::personas()
            .into_iter()
            .map(|p| PersonaRow {
                key: p.key,
                name: p.display_name,
                description_key: p.description_key,
                tenant_slug: p.tenant_slug,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(render(&SignInPage { ui, demo, personas, providers }))
}

#[derive(Deserialize)]
pub struct DemoSignInForm {
    persona: String,
}

async fn demo_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rc): axum::Extension<RequestContext>,
    Form(form): Form<DemoSignInForm>,
) -> Result<Response> {
    if state.mode != Mode::Demo {
        return Err(AppError::NotFound);
    }
    let persona: DemoPersona =
        demo::personas().into_iter().find(|p| p.key == form.persona).ok_or(AppError::BadRequest)?;
    let tenant = identity::tenant_by_slug(&state.db, persona.tenant_slug).await?.ok_or(AppError::NotFound)?;
    let found: Option<Identity> = match (&persona.feide_id, &persona.national_id) {
        (Some(feide), _) => identity::by_feide_id(&state.db, tenant, feide).await?,
        (None, Some(nid)) => identity::by_national_id(&state.db, tenant, nid).await?,
        (None, None) => None,
    };
    let Some(id) = found else {
        return Ok(no_access(&state, &rc));
    };
    let previous = cookies::get(&headers, Names::new(state.config.secure_cookies()).session);
    let created = session::create_replacing(
        &state.db,
        &state.sessions,
        &state.config,
        NewSession {
            tenant_id: id.tenant_id,
            person_id: id.person_id,
            method: Method::Demo,
            audience: id.audience,
            acr: None,
            id_token_hint: None,
            lang: rc.lang,
        },
        rc.ip.as_deref(),
        previous,
    )
    .await;
    match created {
        Ok(cookie) => Ok(signed_in(&state, &headers, &cookie)),
        // The person exists but has no current access (e.g. an ended employment).
        Err(AppError::NotFound) => Ok(no_access(&state, &rc)),
        Err(e) => Err(e),
    }
}

/// Set the session cookie and go to the start page.
pub fn signed_in(state: &AppState, _headers: &HeaderMap, cookie_value: &str) -> Response {
    let names = Names::new(state.config.secure_cookies());
    let mut res = Redirect::to("/").into_response();
    cookies::set(res.headers_mut(), names.session, cookie_value, state.config.secure_cookies(), None);
    res
}

#[derive(askama::Template)]
#[template(path = "auth/no_access.html")]
pub struct NoAccessPage {
    pub ui: Ui,
}

/// One calm page for every reason a sign-in finds no access (no enumeration).
pub fn no_access(state: &AppState, rc: &RequestContext) -> Response {
    let mut res = render(&NoAccessPage { ui: Ui::new(state, rc) });
    *res.status_mut() = axum::http::StatusCode::FORBIDDEN;
    res
}

async fn sign_out(State(state): State<AppState>, ctx: Option<Ctx>, ui: Ui) -> Result<Response> {
    let secure = state.config.secure_cookies();
    let names = Names::new(secure);
    let mut provider_logout = None;
    if let Some(ctx) = ctx {
        let ended = session::end(&state.db, &state.sessions, &ctx.actor, ctx.ip.as_deref()).await?;
        // RP-initiated logout: offer to end the provider's session too. The id token
        // goes in a form post, never in a URL (ID-porten's carries the national id).
        if let Some((kind, id_token_hint)) = ended.and_then(|e| Some((Kind::from_code(&e.method)?, e.id_token_hint?))) {
            if let Some(p) = oidc::provider(&state.db, ctx.actor.tenant_id, kind).await? {
                if let Some(endpoint) = state.oidc.end_session_endpoint(&p).await {
                    provider_logout = Some(ProviderLogout {
                        endpoint,
                        id_token_hint,
                        client_id: p.client_id,
                        post_logout_redirect_uri: state.config.public_url.to_string(),
                        provider_key: match kind {
                            Kind::Feide => "signout.provider_feide",
                            Kind::IdPorten => "signout.provider_idporten",
                        },
                    });
                }
            }
        }
    }
    let mut res = match provider_logout {
        Some(logout) => {
            let origin = url::Url::parse(&logout.endpoint).ok().map(|u| u.origin().ascii_serialization());
            let mut res = render(&SignedOutPage { ui, logout });
            let csp = crate::web::csp::content_security_policy(&origin.into_iter().collect::<Vec<_>>());
            if let Ok(v) = header::HeaderValue::from_str(&csp) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            res
        }
        None => Redirect::to("/").into_response(),
    };
    cookies::clear(res.headers_mut(), names.session, secure);
    Ok(res)
}

pub struct ProviderLogout {
    pub endpoint: String,
    pub id_token_hint: String,
    pub client_id: String,
    pub post_logout_redirect_uri: String,
    pub provider_key: &'static str,
}

#[derive(askama::Template)]
#[template(path = "auth/signed_out.html")]
pub struct SignedOutPage {
    pub ui: Ui,
    pub logout: ProviderLogout,
}

/// Switch language (a cookie) and return to the page the user was on. `next` is
/// untrusted: [`redirect::local_path`] follows only a path on our own origin. The query
/// is read leniently (not UTF-8, repeated fields): a bad `next` leads home, never to an
/// error; only an unknown language is refused.
async fn language(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response> {
    let query = query.unwrap_or_default();
    let field = |name: &str| url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v);
    let lang = field("lang").as_deref().and_then(Lang::from_code).ok_or(AppError::BadRequest)?;
    let next = redirect::local_path(field("next").as_deref().unwrap_or("/"), &state.config.public_url);
    let mut res = Redirect::to(&next).into_response();
    cookies::set(res.headers_mut(), cookies::LANG, lang.code(), state.config.secure_cookies(), Some(365 * 24 * 3600));
    res.headers_mut().remove(header::CACHE_CONTROL);
    Ok(res)
}
