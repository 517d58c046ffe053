//! Overload answers calmly: an exhausted connection pool, a request that takes too
//! long, and too many expensive requests at once get 503 (or 429 for one person's own
//! requests) with `Retry-After` and a page in the user's language, never a 500.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tavle::state::Mode;
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::{spawn_app_with_env, TestApp, TestResponse};

#[track_caller]
fn assert_calm(res: &TestResponse, status: StatusCode, title: &str) {
    assert_eq!(res.status, status, "{}", &res.body[..res.body.len().min(300)]);
    let retry: u64 =
        res.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok()).expect("Retry-After");
    assert!((1..=120).contains(&retry), "{retry}");
    assert_eq!(res.html().select_texts("h1"), vec![title.to_owned()]);
    assert_eq!(res.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
}

#[tokio::test]
async fn a_pool_held_busy_gives_503_with_retry_after_not_500() {
    let app =
        spawn_app_with_env(Mode::Demo, &[("TAVLE_DB_MAX_CONNECTIONS", "1"), ("TAVLE_DB_ACQUIRE_TIMEOUT_SECONDS", "1")])
            .await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let mut visitor = crate::helpers::Browser::default();
    let held = app.db.acquire().await.unwrap();
    // The session lookup cannot get a connection.
    let res = app.get(&mut clerk, "/").await;
    assert_calm(&res, StatusCode::SERVICE_UNAVAILABLE, "Tavle har mye å gjøre");
    // Nor can a handler (the sign-in page lists the identity providers), in English.
    visitor.cookies.push(("tavle-lang".into(), "en".into()));
    let res = app.get(&mut visitor, "/sign-in").await;
    assert_calm(&res, StatusCode::SERVICE_UNAVAILABLE, "Tavle is busy");
    assert_eq!(res.html().select_first_attr("html", "lang").as_deref(), Some("en"));
    drop(held);
    assert_eq!(app.get(&mut clerk, "/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_request_not_answered_in_time_gets_503() {
    let app = spawn_app_with_env(Mode::Demo, &[("TAVLE_REQUEST_TIMEOUT_SECONDS", "1")]).await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    // The session lookup waits for a lock that is held longer than the request may take.
    let mut lock = app.owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let started = Instant::now();
    let res = app.get(&mut clerk, "/").await;
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_calm(&res, StatusCode::SERVICE_UNAVAILABLE, "Tavle har mye å gjøre");
    lock.rollback().await.unwrap();
    assert_eq!(app.get(&mut clerk, "/").await.status, StatusCode::OK);
}

/// A GET in its own task (so that several run at once), as `cookie` sends it.
fn spawn_get(router: &Router, cookie: String, path: String) -> tokio::task::JoinHandle<(StatusCode, HeaderMap)> {
    let router = router.clone();
    tokio::spawn(async move {
        let req = Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let _ = res.into_body().collect().await;
        (status, headers)
    })
}

async fn school(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

async fn wait_for_running(app: &TestApp, tenant: Uuid, n: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.expensive.running(tenant) != n {
        assert!(
            Instant::now() < deadline,
            "{} expensive requests running, expected {n}",
            app.state.expensive.running(tenant)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_next_concurrent_statistics_request_is_refused() {
    let app = spawn_app_with_env(
        Mode::Demo,
        &[
            ("TAVLE_EXPENSIVE_PER_PERSON", "2"),
            ("TAVLE_EXPENSIVE_PER_MUNICIPALITY", "3"),
            ("TAVLE_DB_MAX_CONNECTIONS", "12"),
        ],
    )
    .await;
    let fjordvik = app.tenant_id("fjordvik").await;
    let (solbakken, ungdom, smaoy) = (
        school(&app, "Solbakken skole").await,
        school(&app, "Fjordvik ungdomsskole").await,
        school(&app, "Småøy skule").await,
    );
    let mut clerk = app.sign_in_as("office_clerk").await;
    let principal = app.sign_in_as("principal").await;
    let director = app.sign_in_as("municipal_director").await;
    let smaoy_clerk = app.sign_in_as("smaoy_office_clerk").await;

    // The statistics wait on the registrations while a lock is held, so requests pile up.
    let mut lock = app.owner.begin().await.unwrap();
    sqlx::query("LOCK TABLE absence_registrations IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.unwrap();
    let page = format!("/schools/{solbakken}/absence/statistics");
    let export = format!("/schools/{solbakken}/absence/statistics.csv");
    let running = vec![
        spawn_get(&app.router, clerk.cookie_header_value(), page.clone()),
        spawn_get(&app.router, clerk.cookie_header_value(), export.clone()),
    ];
    wait_for_running(&app, fjordvik, 2).await;
    // The clerk's third at once: 429, calm.
    let res = app.get(&mut clerk, &page).await;
    assert_calm(&res, StatusCode::TOO_MANY_REQUESTS, "Vi holder fortsatt på med det du ba om");
    let res = app.get(&mut clerk, &export).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // The principal takes Fjordvik's third; then the director finds Fjordvik's share
    // taken: 503, calm.
    let mut running = running;
    running.push(spawn_get(
        &app.router,
        principal.cookie_header_value(),
        format!("/schools/{ungdom}/absence/statistics"),
    ));
    wait_for_running(&app, fjordvik, 3).await;
    let mut director = director;
    let res = app.get(&mut director, &format!("/schools/{ungdom}/absence/statistics")).await;
    assert_calm(&res, StatusCode::SERVICE_UNAVAILABLE, "Tavle har mye å gjøre");
    // Another municipality is not held up by Fjordvik's.
    let smaoy_tenant = app.tenant_id("smaoy").await;
    running.push(spawn_get(
        &app.router,
        smaoy_clerk.cookie_header_value(),
        format!("/schools/{smaoy}/absence/statistics"),
    ));
    wait_for_running(&app, smaoy_tenant, 1).await;
    // Pages that are not expensive are served meanwhile.
    assert_eq!(app.get(&mut clerk, "/").await.status, StatusCode::OK);

    lock.rollback().await.unwrap();
    for r in running {
        let (status, _) = r.await.unwrap();
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(app.state.expensive.running(fjordvik), 0, "every slot given back");
    assert_eq!(app.get(&mut clerk, &page).await.status, StatusCode::OK);
}
