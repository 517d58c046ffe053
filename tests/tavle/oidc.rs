//! Signing in with OpenID Connect against the real local providers (dev/idp), and
//! every way a sign-in must be refused.

use axum::http::StatusCode;
use openidconnect::core::CoreJsonWebKeySet;
use tavle::auth::oidc::{self, Expectation, Kind};
use tavle::state::Mode;

use crate::helpers::{assert_redirects_to, spawn_app_with_env, Browser, TestApp, TestResponse};
use crate::idp::{idp, persona_pid, unknown_pid, IdpUser, CLIENT_SECRET};

const MFA: &str = "urn:mace:feide.no:auth:level:fad08:3";
const PASSWORD_ONLY: &str = "urn:mace:feide.no:auth:level:fad08:2";

/// An app with Fjordvik's providers pointing at the local IdP.
async fn app_with_providers() -> TestApp {
    let app = spawn_app_with_env(
        Mode::Production,
        &[("TAVLE_OIDC_SECRET_FJORDVIK_FEIDE", CLIENT_SECRET), ("TAVLE_OIDC_SECRET_FJORDVIK_IDPORTEN", CLIENT_SECRET)],
    )
    .await;
    let tenant = app.tenant_id("fjordvik").await;
    let p = idp();
    oidc::set_provider(&app.owner, tenant, Kind::Feide, &p.feide, "tavle-feide", None, None).await.unwrap();
    oidc::set_provider(&app.owner, tenant, Kind::IdPorten, &p.idporten, "tavle-idporten", None, None).await.unwrap();
    app
}

/// Start at Tavle, log in at the provider, and return the provider's redirect back
/// (the callback path and query) without following it.
async fn to_callback(app: &TestApp, b: &mut Browser, kind: &str, username: &str, acr: &str) -> String {
    let start = app.get(b, &format!("/auth/{kind}/start?municipality=fjordvik")).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let authorize = start.location.clone().expect("redirect to the provider");
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("nonce="), "{authorize}");
    let back = IdpUser::default().log_in(&authorize, username, acr).await;
    let url = url::Url::parse(&back).unwrap();
    assert_eq!(url.path(), format!("/auth/{kind}/callback"));
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

async fn sign_in(app: &TestApp, kind: &str, username: &str, acr: &str) -> (Browser, TestResponse) {
    let mut b = Browser::default();
    let callback = to_callback(app, &mut b, kind, username, acr).await;
    let res = app.get(&mut b, &callback).await;
    (b, res)
}

fn has_session(b: &Browser) -> bool {
    b.cookies.iter().any(|(k, _)| k == "tavle-session")
}

/// The refusal page's main text: the same whatever the reason.
fn refusal_text(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    res.html().select_texts("main")
}

#[tokio::test]
async fn staff_sign_in_with_feide_and_multi_factor() {
    let app = app_with_providers().await;
    let (mut b, res) = sign_in(&app, "feide", "siri", MFA).await;
    assert_redirects_to(&res, "/");
    assert!(has_session(&b));
    assert!(!b.cookies.iter().any(|(k, _)| k == "tavle-oidc"), "the pending-request cookie is cleared");
    let cookie = res.set_cookies.iter().find(|c| c.starts_with("tavle-session=")).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let (method, acr, hint): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT method, acr, id_token_hint FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!((method.as_str(), acr.as_deref()), ("feide", Some(MFA)));
    assert!(hint.is_some());
    // The office clerk's page works.
    let list = app.get(&mut b, "/pupils").await;
    assert_eq!(list.status, StatusCode::SEE_OTHER);
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM oidc_requests").fetch_one(&app.owner).await.unwrap();
    assert_eq!(pending, 0, "the pending request is used up");
}

#[tokio::test]
async fn staff_without_multi_factor_are_refused_but_pupils_need_none() {
    let app = app_with_providers().await;
    let (b, res) = sign_in(&app, "feide", "siri", PASSWORD_ONLY).await;
    refusal_text(&res);
    assert!(!has_session(&b));
    let (b, res) = sign_in(&app, "feide", "emma", PASSWORD_ONLY).await;
    assert_redirects_to(&res, "/");
    assert!(has_session(&b));
}

#[tokio::test]
async fn guardians_sign_in_with_id_porten_at_substantial_or_high() {
    let app = app_with_providers().await;
    let kari = persona_pid("guardian");
    let (mut b, res) = sign_in(&app, "idporten", &kari, "idporten-loa-substantial").await;
    assert_redirects_to(&res, "/");
    let home = app.get(&mut b, "/").await;
    assert_eq!(home.html().select_attrs("a.ds-card[href^='/pupils/']", "href").len(), 2, "Kari's two children");
    let (b, res) = sign_in(&app, "idporten", &kari, "idporten-loa-high").await;
    assert_redirects_to(&res, "/");
    assert!(has_session(&b));
}

#[tokio::test]
async fn every_refusal_looks_the_same() {
    let app = app_with_providers().await;
    let mut pages = Vec::new();
    // Legacy ID-porten levels.
    for acr in ["Level3", "Level4"] {
        let (b, res) = sign_in(&app, "idporten", &persona_pid("guardian"), acr).await;
        assert!(!has_session(&b));
        pages.push(refusal_text(&res));
    }
    // A guardian without parental responsibility; a person Tavle does not know.
    let (_, res) = sign_in(&app, "idporten", &persona_pid("guardian_no_responsibility"), "idporten-loa-high").await;
    pages.push(refusal_text(&res));
    let (_, res) = sign_in(&app, "idporten", &unknown_pid(), "idporten-loa-high").await;
    pages.push(refusal_text(&res));
    // Feide: unknown user; a former employee.
    let (_, res) = sign_in(&app, "feide", "stranger", MFA).await;
    pages.push(refusal_text(&res));
    let (_, res) = sign_in(&app, "feide", "arne", MFA).await;
    pages.push(refusal_text(&res));
    assert!(pages.windows(2).all(|w| w[0] == w[1]), "{pages:?}");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn a_tampered_or_replayed_callback_is_refused() {
    let app = app_with_providers().await;

    // Another state than the one issued.
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    let tampered = callback.replace("state=", "state=x");
    refusal_text(&app.get(&mut b, &tampered).await);

    // The right callback in another browser (login CSRF): no binding cookie.
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    let mut other = Browser::default();
    refusal_text(&app.get(&mut other, &callback).await);
    assert!(!has_session(&other));
    // ... nor in a browser with a sign-in of its own under way (its cookie binds another request).
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    let mut other = Browser::default();
    app.get(&mut other, "/auth/feide/start?municipality=fjordvik").await;
    assert!(other.cookies.iter().any(|(k, _)| k == "tavle-oidc"));
    refusal_text(&app.get(&mut other, &callback).await);
    assert!(!has_session(&other));
    // ... and the attempt did not spoil the honest browser's sign-in.
    assert_redirects_to(&app.get(&mut b, &callback).await, "/");

    // A callback used twice: the second finds nothing.
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    let first = app.get(&mut b.clone(), &callback).await;
    assert_redirects_to(&first, "/");
    let mut again = b.clone();
    refusal_text(&app.get(&mut again, &callback).await);

    // A mixed-up issuer in the response (RFC 9207).
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    let mixed = url_with_param(&callback, "iss", "https://evil.example/feide");
    refusal_text(&app.get(&mut b, &mixed).await);

    // The PKCE verifier does not match the challenge: the provider refuses the code.
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    sqlx::query("UPDATE oidc_requests SET pkce_verifier = 'x' || pkce_verifier").execute(&app.owner).await.unwrap();
    refusal_text(&app.get(&mut b, &callback).await);

    // A callback for a request older than ten minutes.
    let mut b = Browser::default();
    let callback = to_callback(&app, &mut b, "feide", "siri", MFA).await;
    sqlx::query("UPDATE oidc_requests SET created_at = now() - interval '11 minutes'")
        .execute(&app.owner)
        .await
        .unwrap();
    refusal_text(&app.get(&mut b, &callback).await);

    // An error from the provider (the user cancelled).
    let mut b = Browser::default();
    app.get(&mut b, "/auth/feide/start?municipality=fjordvik").await;
    refusal_text(&app.get(&mut b, "/auth/feide/callback?error=access_denied&state=abc").await);

    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sessions, 2, "only the honest sign-ins made sessions");
}

fn url_with_param(path_and_query: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(&format!("http://x{path_and_query}")).unwrap();
    let pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != name).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    url.query_pairs_mut().clear().extend_pairs(pairs).append_pair(name, value);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The pupil signed in with Feide, then a guardian with ID-porten in the same
/// browser: the pupil's session ends, and a copy of its cookie opens nothing.
#[tokio::test]
async fn a_sign_in_through_a_provider_ends_the_browser_s_previous_session() {
    let app = app_with_providers().await;
    let (mut b, res) = sign_in(&app, "feide", "emma", PASSWORD_ONLY).await;
    assert_redirects_to(&res, "/");
    let before = b.clone();
    assert_eq!(app.get(&mut before.clone(), "/absence/me").await.status, StatusCode::OK);
    let callback = to_callback(&app, &mut b, "idporten", &persona_pid("guardian"), "idporten-loa-substantial").await;
    assert!(has_session(&b), "the browser still carries the pupil's cookie to the callback");
    assert_redirects_to(&app.get(&mut b, &callback).await, "/");
    assert_eq!(app.get(&mut b, "/timetable").await.status, StatusCode::OK);
    assert_redirects_to(&app.get(&mut before.clone(), "/absence/me").await, "/sign-in");
    let methods: Vec<String> = sqlx::query_scalar("SELECT method FROM sessions").fetch_all(&app.owner).await.unwrap();
    assert_eq!(methods, vec!["idporten".to_owned()], "only the guardian's session is left");
}

#[tokio::test]
async fn a_feide_user_id_presented_with_another_subject_is_refused() {
    let app = app_with_providers().await;
    let (_, res) = sign_in(&app, "feide", "siri", MFA).await;
    assert_redirects_to(&res, "/");
    // Same Feide user id, another account at the provider.
    let (b, res) = sign_in(&app, "feide", "impostor", MFA).await;
    refusal_text(&res);
    assert!(!has_session(&b));
}

/// A real id token from the provider, checked against altered expectations.
#[tokio::test]
async fn the_id_token_is_verified_in_full() {
    let app = app_with_providers().await;
    let (_, res) = sign_in(&app, "feide", "siri", MFA).await;
    assert_redirects_to(&res, "/");
    let raw: String = sqlx::query_scalar("SELECT id_token_hint FROM sessions").fetch_one(&app.owner).await.unwrap();
    let payload = raw.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&base64url(payload)).unwrap();
    let nonce = claims["nonce"].as_str().unwrap().to_owned();
    let exp = claims["exp"].as_i64().unwrap();
    let issuer = idp().feide.clone();
    let jwks_url = format!("{issuer}/jwks");
    let keys: CoreJsonWebKeySet =
        serde_json::from_str(&openidconnect::reqwest::get(&jwks_url).await.unwrap().text().await.unwrap()).unwrap();
    let good = Expectation { issuer: &issuer, client_id: "tavle-feide", keys: &keys, nonce: &nonce, now: None };
    let verified = oidc::verify_id_token(&raw, &good).expect("the genuine token verifies");
    assert_eq!(verified.subject, "feide-sub-siri");
    assert_eq!(verified.acr.as_deref(), Some(MFA));
    assert_eq!(verified.feide_id.as_deref(), Some("siri.haugen@fjordvik.kommune.no"));

    let wrong_nonce = Expectation { nonce: "another", ..good_copy(&good) };
    assert!(oidc::verify_id_token(&raw, &wrong_nonce).is_err(), "nonce");
    let wrong_audience = Expectation { client_id: "tavle-idporten", ..good_copy(&good) };
    assert!(oidc::verify_id_token(&raw, &wrong_audience).is_err(), "audience");
    let other_issuer = idp().idporten.clone();
    let wrong_issuer = Expectation { issuer: &other_issuer, ..good_copy(&good) };
    assert!(oidc::verify_id_token(&raw, &wrong_issuer).is_err(), "issuer");
    let later = chrono::DateTime::from_timestamp(exp + 3600, 0).unwrap();
    let expired = Expectation { now: Some(later), ..good_copy(&good) };
    assert!(oidc::verify_id_token(&raw, &expired).is_err(), "expiry");
    let no_keys = CoreJsonWebKeySet::new(Vec::new());
    let unsigned = Expectation { keys: &no_keys, ..good_copy(&good) };
    assert!(oidc::verify_id_token(&raw, &unsigned).is_err(), "signature");
    // A payload changed after signing.
    let forged_claims = claims.to_string().replace("siri.haugen", "kjersti.aalvik");
    let forged = format!(
        "{}.{}.{}",
        raw.split('.').next().unwrap(),
        base64url_encode(forged_claims.as_bytes()),
        raw.split('.').nth(2).unwrap()
    );
    assert!(oidc::verify_id_token(&forged, &good).is_err(), "forged payload");
}

fn good_copy<'a>(e: &Expectation<'a>) -> Expectation<'a> {
    Expectation { issuer: e.issuer, client_id: e.client_id, keys: e.keys, nonce: e.nonce, now: e.now }
}

fn base64url(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn signing_out_offers_to_end_the_provider_session_too() {
    let app = app_with_providers().await;
    let (mut b, res) = sign_in(&app, "idporten", &persona_pid("guardian"), "idporten-loa-substantial").await;
    assert_redirects_to(&res, "/");
    app.get(&mut b, "/").await;
    let out = app.post_form(&mut b, "/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(!has_session(&b));
    let page = out.html();
    let action = page.select_first_attr("form[action^='http']", "action").expect("a form to the provider");
    assert!(action.starts_with(&idp().idporten), "{action}");
    let csp = out.headers.get("content-security-policy").unwrap().to_str().unwrap();
    let origin = url::Url::parse(&action).unwrap().origin().ascii_serialization();
    assert!(csp.contains(&format!("form-action 'self' {origin}")), "{csp}");
    // Nothing personal in a URL: the token goes in the form body.
    assert!(!action.contains(&persona_pid("guardian")) && !action.contains("id_token_hint"));
    let hint = page.select_first_attr("input[name=id_token_hint]", "value").unwrap();
    let redirect = page.select_first_attr("input[name=post_logout_redirect_uri]", "value").unwrap();
    let mut user = IdpUser::default();
    let confirm = user
        .post(
            &action,
            &[("id_token_hint", &hint), ("client_id", "tavle-idporten"), ("post_logout_redirect_uri", &redirect)],
        )
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let confirm_action = crate::idp::form_action(&confirm.body).unwrap();
    let xsrf = crate::idp::form_field(&confirm.body, "xsrf").unwrap();
    let done = user
        .post(
            url::Url::parse(&action).unwrap().join(&confirm_action).unwrap().as_ref(),
            &[("xsrf", &xsrf), ("logout", "yes")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(done.location.unwrap().starts_with(&redirect));
}

#[tokio::test]
async fn an_unreachable_provider_gives_a_calm_error_and_no_session() {
    let app = spawn_app_with_env(Mode::Production, &[("TAVLE_OIDC_SECRET_FJORDVIK_FEIDE", CLIENT_SECRET)]).await;
    let tenant = app.tenant_id("fjordvik").await;
    oidc::set_provider(&app.owner, tenant, Kind::Feide, "http://127.0.0.1:9/feide", "tavle-feide", None, None)
        .await
        .unwrap();
    let mut b = Browser::default();
    let res = app.get(&mut b, "/auth/feide/start?municipality=fjordvik").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.html().count("h1"), 1);
    // A municipality or provider that does not exist.
    let res = app.get(&mut b, "/auth/idporten/start?municipality=fjordvik").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.get(&mut b, "/auth/feide/start?municipality=nowhere").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_sign_in_page_lists_providers_and_serve_needs_their_secrets() {
    let app = app_with_providers().await;
    let mut b = Browser::default();
    let page = app.get(&mut b, "/sign-in").await;
    let links = page.html().select_attrs("a[href^='/auth/']", "href");
    assert_eq!(
        links,
        vec![
            "/auth/feide/start?municipality=fjordvik".to_owned(),
            "/auth/idporten/start?municipality=fjordvik".to_owned()
        ]
    );
    let config = tavle::config::Config::from_map(
        &[("TAVLE_OIDC_SECRET_FJORDVIK_FEIDE".to_owned(), "s".to_owned())].into_iter().collect(),
    )
    .unwrap();
    let missing = oidc::missing_secrets(&app.db, &config).await.unwrap();
    assert_eq!(missing, vec!["TAVLE_OIDC_SECRET_FJORDVIK_IDPORTEN".to_owned()]);
}
