//! Sessions, sign-in and sign-out, CSRF, headers, language, and the plain pages.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::helpers::{app_on, assert_redirects_to, spawn_app, spawn_app_with, Browser};
use tavle::state::Mode;

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let stolen = clerk.clone();
    let res = app.post_form(&mut clerk, "/sign-out", &[]).await;
    assert_redirects_to(&res, "/");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sessions, 0);
    // A copy of the old cookie opens nothing.
    let res = app.get(&mut stolen.clone(), "/pupils").await;
    assert_redirects_to(&res, "/sign-in");
}

#[tokio::test]
async fn a_session_ends_when_the_employment_ends() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, "/pupils").await.status, StatusCode::SEE_OTHER);
    let person: uuid::Uuid = sqlx::query_scalar("SELECT person_id FROM sessions").fetch_one(&app.owner).await.unwrap();
    sqlx::query("UPDATE employments SET to_date = tavle_today() WHERE staff_id = $1")
        .bind(person)
        .execute(&app.owner)
        .await
        .unwrap();
    let res = app.get(&mut clerk, "/pupils").await;
    assert_redirects_to(&res, "/sign-in");
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'").execute(&app.owner).await.unwrap();
    let res = app.get(&mut clerk, "/pupils").await;
    assert_redirects_to(&res, "/sign-in");
}

#[tokio::test]
async fn a_former_employee_cannot_sign_in() {
    let app = spawn_app().await;
    let mut b = Browser::default();
    app.get(&mut b, "/sign-in").await;
    let res = app.post_form(&mut b, "/sign-in/demo", &[("persona", "former_teacher")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The same calm page as any other refusal.
    let res2 = app.post_form(&mut b, "/sign-in/demo", &[("persona", "guardian_no_responsibility")]).await;
    assert_eq!(res.html().select_texts("main"), res2.html().select_texts("main"));
}

/// A shared computer: the teacher signed in, then the office clerk in the same
/// browser. The teacher's session ends on the server (a copy of its cookie opens
/// nothing), recorded as the teacher's sign-out; also across municipalities.
#[tokio::test]
async fn signing_in_again_in_the_same_browser_ends_the_previous_session() {
    let app = spawn_app().await;
    let session = |b: &Browser| b.cookies.iter().find(|(k, _)| k == "tavle-session").map(|(_, v)| v.clone());
    for (first, second) in [("teacher", "office_clerk"), ("smaoy_office_clerk", "guardian")] {
        let mut b = app.sign_in_as(first).await;
        let before = b.clone();
        let (first_person, _) = app.persona(first).await;
        let first_session: uuid::Uuid = sqlx::query_scalar("SELECT id FROM sessions WHERE person_id = $1")
            .bind(first_person)
            .fetch_one(&app.owner)
            .await
            .unwrap();
        app.get(&mut b, "/sign-in").await;
        let res = app.post_form(&mut b, "/sign-in/demo", &[("persona", second)]).await;
        assert_redirects_to(&res, "/");
        assert_ne!(session(&b), session(&before));
        assert_eq!(app.get(&mut b, "/timetable").await.status, StatusCode::OK, "{second} is signed in");
        // The first person's cookie, kept by someone, opens nothing any more.
        let res = app.get(&mut before.clone(), "/timetable").await;
        assert_redirects_to(&res, "/sign-in");
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE person_id = $1")
            .bind(first_person)
            .fetch_one(&app.owner)
            .await
            .unwrap();
        assert_eq!(left, 0, "{first}'s session is gone");
        sqlx::query("SELECT tavle_audit_sweep()").execute(&app.owner).await.unwrap();
        let signed_out: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE action = 'sign_out' AND session_id = $1 AND actor_person_id = $2",
        )
        .bind(first_session)
        .bind(first_person)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert_eq!(signed_out, 1, "{first}'s session ending is audited like a sign-out");
    }
}

#[tokio::test]
async fn a_new_session_id_at_every_sign_in() {
    let app = spawn_app().await;
    let a = app.sign_in_as("office_clerk").await;
    let b = app.sign_in_as("office_clerk").await;
    let cookie = |b: &Browser| b.cookies.iter().find(|(k, _)| k == "tavle-session").map(|(_, v)| v.clone());
    assert_ne!(cookie(&a), cookie(&b));
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let good = clerk.csrf.clone();
    clerk.csrf = "0".repeat(64);
    let res = app.post_form(&mut clerk, "/sign-out", &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sessions, 1, "the forged sign-out changed nothing");
    // A cross-site post with the right token is refused too.
    let req = Request::post("/sign-out")
        .header(header::COOKIE, clerk.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(format!("csrf={good}")))
        .unwrap();
    let res = app.request(&mut clerk, req).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // A visitor without a token cannot pick a persona.
    let mut fresh = Browser::default();
    let res = app.post_form(&mut fresh, "/sign-in/demo", &[("persona", "office_clerk")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

/// Our pages say `Referrer-Policy: no-referrer`, so a browser posts their forms with
/// `Origin: null`; `Sec-Fetch-Site: same-origin` is what vouches for them then.
#[tokio::test]
async fn same_origin_posts_under_no_referrer_are_accepted_and_null_origins_alone_are_not() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let post = |clerk: &Browser, headers: &[(&str, &str)]| {
        let mut req = Request::post("/sign-out")
            .header(
                header::COOKIE,
                clerk.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(Body::from(format!("csrf={}", clerk.csrf))).unwrap()
    };
    for refused in [
        vec![("origin", "null")],
        vec![("origin", "null"), ("sec-fetch-site", "same-site")],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        vec![("origin", "http://evil.example"), ("sec-fetch-site", "same-origin")],
    ] {
        let req = post(&clerk, &refused);
        assert_eq!(app.request(&mut clerk, req).await.status, StatusCode::FORBIDDEN, "{refused:?}");
    }
    let req = post(&clerk, &[("origin", "null"), ("sec-fetch-site", "same-origin")]);
    let res = app.request(&mut clerk, req).await;
    assert!(res.status.is_success() || res.status.is_redirection(), "{}", res.status);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sessions, 0, "the same-origin sign-out went through");
}

#[tokio::test]
async fn production_mode_never_offers_demo_sign_in() {
    let app = spawn_app_with(Mode::Production).await;
    let mut b = Browser::default();
    let page = app.get(&mut b, "/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("input[name=persona]"), 0);
    assert_eq!(page.html().count(".tavle-demo-banner"), 0);
    // Even with a valid CSRF token the picker does not exist.
    b.csrf = b.cookies.iter().find(|(k, _)| k == "tavle-csrf").map(|(_, v)| v.clone()).unwrap();
    let res = app.post_form(&mut b, "/sign-in/demo", &[("persona", "office_clerk")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sessions, 0);
}

/// A session made by the demo sign-in is no session under `tavle serve` (issue 14,
/// item 10), e.g. once production is pointed at a database a demo has used: it opens
/// nothing and is deleted. A session made through an identity provider opens the same
/// pages as before.
#[tokio::test]
async fn production_refuses_and_removes_a_session_made_by_the_demo_sign_in() {
    let demo = spawn_app().await;
    let production = app_on(&demo.db_name, Mode::Production, &[]).await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sessions").fetch_one(&demo.owner).await.unwrap()
    };
    let mut clerk = demo.sign_in_as("office_clerk").await;
    let res = demo.get(&mut clerk.clone(), "/pupils").await;
    assert!(res.location.as_deref().is_some_and(|l| l.starts_with("/schools/")), "{:?}", res.location);
    let res = production.get(&mut clerk, "/pupils").await;
    assert_redirects_to(&res, "/sign-in");
    assert_eq!(sessions().await, 0, "the demo's session is deleted");

    // The same person's session as if made through Feide works in production.
    let mut clerk = demo.sign_in_as("office_clerk").await;
    sqlx::query("UPDATE sessions SET method = 'feide'").execute(&demo.owner).await.unwrap();
    let res = production.get(&mut clerk, "/pupils").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location.as_deref().is_some_and(|l| l.starts_with("/schools/")), "{:?}", res.location);
    assert_eq!(sessions().await, 1);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let mut b = Browser::default();
    for path in ["/", "/sign-in", "/no-such-page", "/static/css/tavle.css"] {
        let res = app.get(&mut b, path).await;
        let csp = res.headers.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(res.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(res.headers.get("referrer-policy").unwrap(), "no-referrer");
        assert!(res.headers.get("permissions-policy").is_some());
        assert!(res.headers.get("strict-transport-security").is_none(), "no HSTS over plain http");
    }
}

#[tokio::test]
async fn not_found_is_a_page_in_the_layout_and_language() {
    let app = spawn_app().await;
    let mut b = Browser::default();
    let res = app.get(&mut b, "/no-such-page").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.html().select_texts("h1"), vec!["Fant ikke siden".to_owned()]);
    let res = app.get(&mut b, "/language?lang=en&next=/no-such-page").await;
    assert_redirects_to(&res, "/no-such-page");
    let res = app.get(&mut b, "/no-such-page").await;
    assert_eq!(res.html().select_first_attr("html", "lang").as_deref(), Some("en"));
    assert_eq!(res.html().select_texts("h1"), vec!["Page not found".to_owned()]);
    // No open redirect.
    let res = app.get(&mut b, "/language?lang=nb&next=//evil.example").await;
    assert_redirects_to(&res, "/");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let mut b = Browser::default();
    assert_eq!(app.get(&mut b, "/healthz").await.body, "ok");
    let ready = app.get(&mut b, "/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    app.db.close().await;
    let ready = app.get(&mut b, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second', last_seen_at = now()")
        .execute(&app.owner)
        .await
        .unwrap();
    assert_redirects_to(&app.get(&mut clerk, "/pupils").await, "/sign-in");
}

#[tokio::test]
async fn a_guardian_loses_a_child_at_18_and_all_access_when_the_last_guardianship_ends() {
    let app = spawn_app().await;
    let mut kari = app.sign_in_as("guardian").await;
    let children =
        |page: &crate::helpers::TestResponse| page.html().select_attrs("a.ds-card[href^='/pupils/']", "href");
    let home = app.get(&mut kari, "/").await;
    let before = children(&home);
    assert_eq!(before.len(), 2);
    // Emma turns 18: her card is hers alone from today.
    let emma: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Emma' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    sqlx::query("UPDATE persons SET birth_date = tavle_today() - interval '18 years' WHERE id = $1")
        .bind(emma)
        .execute(&app.owner)
        .await
        .unwrap();
    assert_eq!(app.get(&mut kari, &format!("/pupils/{emma}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(children(&app.get(&mut kari, "/").await).len(), 1);
    // The remaining guardianship ends: the session has nothing left to grant.
    let kari_id: uuid::Uuid = sqlx::query_scalar("SELECT person_id FROM sessions").fetch_one(&app.owner).await.unwrap();
    sqlx::query("UPDATE guardianships SET to_date = tavle_today() WHERE guardian_id = $1")
        .bind(kari_id)
        .execute(&app.owner)
        .await
        .unwrap();
    let oskar = before.iter().find(|h| !h.ends_with(&emma.to_string())).unwrap();
    // Nora, who starts school next August, keeps the session to her intake alone.
    assert_eq!(app.get(&mut kari, oskar).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut kari, "/intake").await.status, StatusCode::OK);
    let menu = app.get(&mut kari, "/").await.html().select_attrs("nav a", "href");
    assert!(menu.contains(&"/intake".to_owned()) && !menu.contains(&"/timetable".to_owned()), "{menu:?}");
    // The register takes her parental responsibility: nothing is left to grant.
    sqlx::query("UPDATE register_parents SET parental_responsibility = false WHERE parent_id = $1")
        .bind(kari_id)
        .execute(&app.owner)
        .await
        .unwrap();
    assert_redirects_to(&app.get(&mut kari, "/intake").await, "/sign-in");
}

#[tokio::test]
async fn over_https_cookies_are_secure_and_host_prefixed() {
    let app =
        crate::helpers::spawn_app_with_env(Mode::Demo, &[("TAVLE_PUBLIC_URL", "https://tavle.fjordvik.example")]).await;
    let mut b = Browser::default();
    app.get(&mut b, "/sign-in").await;
    let res = app.post_form(&mut b, "/sign-in/demo", &[("persona", "office_clerk")]).await;
    assert_redirects_to(&res, "/");
    let session = res.set_cookies.iter().find(|c| c.starts_with("__Host-tavle-session=")).expect("a __Host- cookie");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert!(!session.contains("Domain="), "{session}");
    assert!(res.headers.get("strict-transport-security").is_some());
}

/// Every request re-derives access in the one session query, by the session's
/// audience: a pupil's session ends with the enrolment, a staff member's when the
/// employment goes on leave, on the very next request.
#[tokio::test]
async fn a_pupil_session_ends_with_the_enrolment_and_a_staff_session_with_leave() {
    let app = spawn_app().await;
    let mut pupil = app.sign_in_as("pupil").await;
    let mut teacher = app.sign_in_as("teacher").await;
    let (pupil_id, _) = app.persona("pupil").await;
    let (teacher_id, _) = app.persona("teacher").await;
    let own_card = format!("/pupils/{pupil_id}");
    assert_eq!(app.get(&mut pupil, &own_card).await.status, StatusCode::OK);
    assert_eq!(app.get(&mut teacher, "/absence/register").await.status, StatusCode::OK);

    // (An enrolment that began today ends before it began.)
    sqlx::query(
        "UPDATE enrolments SET from_date = LEAST(from_date, tavle_today() - 1), to_date = tavle_today() \
         WHERE pupil_id = $1 AND to_date IS NULL",
    )
    .bind(pupil_id)
    .execute(&app.owner)
    .await
    .unwrap();
    assert_redirects_to(&app.get(&mut pupil, &own_card).await, "/sign-in");
    assert_eq!(app.get(&mut teacher, "/absence/register").await.status, StatusCode::OK, "the teacher is unaffected");

    sqlx::query("UPDATE employments SET on_leave = true WHERE staff_id = $1")
        .bind(teacher_id)
        .execute(&app.owner)
        .await
        .unwrap();
    assert_redirects_to(&app.get(&mut teacher, "/absence/register").await, "/sign-in");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE person_id = ANY($1)")
        .bind(vec![pupil_id, teacher_id])
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(left, 0, "the ended sessions are deleted");
}
