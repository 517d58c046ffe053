//! The session cache (`TAVLE_SESSION_CACHE_SECONDS`, on by default): a change that
//! takes access away, made behind the app's back (another connection, another
//! process), reaches the very next request, as it does without the cache; signing out
//! forgets the session; and the access epoch the check relies on is raised once per
//! transaction and municipality, by nobody but its trigger.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{app_on, assert_redirects_to, spawn_app, spawn_app_at_school, Browser, TestApp};
use tavle::state::Mode;

/// A fresh app, asserting that the cache is on (the default these tests rely on).
async fn cached_app() -> TestApp {
    let app = spawn_app().await;
    assert!(!app.state.config.session_cache.is_zero(), "the session cache is on by default");
    app
}

fn has_session_cookie(b: &Browser) -> bool {
    b.cookies.iter().any(|(k, _)| k == "tavle-session")
}

/// The teacher is signed in, has worked, and is served from the cache.
async fn cached_teacher(app: &TestApp) -> Browser {
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.get(&mut teacher, "/timetable").await.status, StatusCode::OK);
    assert_eq!(app.state.sessions.len(), 1, "the session is cached");
    teacher
}

#[tokio::test]
async fn an_employment_ended_elsewhere_is_enforced_on_the_next_request() {
    let app = cached_app().await;
    let mut teacher = cached_teacher(&app).await;
    let (person, _) = app.persona("teacher").await;
    sqlx::query("UPDATE employments SET to_date = tavle_today() WHERE staff_id = $1")
        .bind(person)
        .execute(&app.owner)
        .await
        .unwrap();
    let res = app.get(&mut teacher, "/timetable").await;
    assert_redirects_to(&res, "/sign-in");
    assert!(!has_session_cookie(&teacher), "the ended session's cookie is cleared");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE person_id = $1")
        .bind(person)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(left, 0, "the session is ended, as without the cache");
    assert!(app.state.sessions.is_empty(), "and forgotten");
}

#[tokio::test]
async fn a_role_mapping_removed_elsewhere_is_enforced_on_the_next_request() {
    let app = cached_app().await;
    let mut teacher = cached_teacher(&app).await;
    let (person, _) = app.persona("teacher").await;
    let removed = sqlx::query(
        "DELETE FROM role_mappings rm USING employments e \
         WHERE e.staff_id = $1 AND rm.tenant_id = e.tenant_id AND rm.position_code = e.position_code",
    )
    .bind(person)
    .execute(&app.owner)
    .await
    .unwrap();
    assert!(removed.rows_affected() > 0);
    let res = app.get(&mut teacher, "/timetable").await;
    assert_redirects_to(&res, "/sign-in");
}

/// Kari keeps Emma, so her session lives on (read again), without Oskar.
#[tokio::test]
async fn a_guardianship_removed_elsewhere_is_enforced_on_the_next_request() {
    let app = spawn_app_at_school().await;
    let child = |given: &'static str| {
        sqlx::query_scalar::<_, Uuid>(
            "SELECT id FROM persons WHERE given_name = $1 AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
        )
        .bind(given)
        .fetch_one(&app.owner)
    };
    let (oskar_id, emma) = (child("Oskar").await.unwrap(), child("Emma").await.unwrap());
    let (kari, _) = app.persona("guardian").await;
    let mut b = app.sign_in_as("guardian").await;
    let oskar = format!("/pupils/{oskar_id}");
    assert_eq!(app.get(&mut b, &oskar).await.status, StatusCode::OK);
    assert_eq!(app.get(&mut b, &oskar).await.status, StatusCode::OK);
    assert_eq!(app.state.sessions.len(), 1, "the session is cached");
    sqlx::query("DELETE FROM guardianships WHERE guardian_id = $1 AND pupil_id = $2")
        .bind(kari)
        .bind(oskar_id)
        .execute(&app.owner)
        .await
        .unwrap();
    let res = app.get(&mut b, &oskar).await;
    assert!(matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{}", res.status);
    assert_eq!(app.get(&mut b, &format!("/pupils/{emma}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_session_row_ended_elsewhere_is_refused_on_the_next_request() {
    let app = cached_app().await;
    let mut teacher = cached_teacher(&app).await;
    let (person, name) = app.persona("teacher").await;
    sqlx::query("DELETE FROM sessions WHERE person_id = $1").bind(person).execute(&app.owner).await.unwrap();
    let mut copy = teacher.clone();
    assert_redirects_to(&app.get(&mut teacher, "/timetable").await, "/sign-in");
    // A page that reads data only when signed in shows a visitor, not the teacher.
    let home = app.get(&mut copy, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.body.contains(&name), "the start page still names the signed-out teacher");
}

/// Two processes on one database: signed out through one, refused by the other, whose
/// cache still held the session.
#[tokio::test]
async fn signing_out_through_another_process_is_refused_on_the_next_request() {
    let first = cached_app().await;
    let second = app_on(&first.db_name, Mode::Demo, &[]).await;
    let mut teacher = first.sign_in_as("teacher").await;
    let mut elsewhere = teacher.clone();
    for _ in 0..2 {
        assert_eq!(second.get(&mut elsewhere, "/timetable").await.status, StatusCode::OK);
    }
    assert_eq!(second.state.sessions.len(), 1, "the other process caches the session");
    assert_redirects_to(&first.post_form(&mut teacher, "/sign-out", &[]).await, "/");
    assert_redirects_to(&second.get(&mut elsewhere, "/timetable").await, "/sign-in");
    assert!(second.state.sessions.is_empty());
}

#[tokio::test]
async fn signing_out_or_in_again_forgets_the_cached_session() {
    let app = cached_app().await;
    let mut teacher = cached_teacher(&app).await;
    assert_redirects_to(&app.post_form(&mut teacher, "/sign-out", &[]).await, "/");
    assert!(app.state.sessions.is_empty(), "signing out forgets the session");

    let mut b = cached_teacher(&app).await;
    let before = b.clone();
    app.get(&mut b, "/sign-in").await;
    assert_redirects_to(&app.post_form(&mut b, "/sign-in/demo", &[("persona", "office_clerk")]).await, "/");
    assert!(app.state.sessions.is_empty(), "signing in again forgets the previous session");
    assert_redirects_to(&app.get(&mut before.clone(), "/timetable").await, "/sign-in");
}

async fn epoch(app: &TestApp, tenant: Uuid) -> i64 {
    sqlx::query_scalar("SELECT coalesce((SELECT epoch FROM access_epochs WHERE tenant_id = $1), 0)")
        .bind(tenant)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_access_epoch_rises_once_per_transaction_and_municipality() {
    let app = spawn_app().await;
    let (fjordvik, smaoy) = (app.tenant_id("fjordvik").await, app.tenant_id("smaoy").await);
    let (f0, s0) = (epoch(&app, fjordvik).await, epoch(&app, smaoy).await);

    // Many rows of several kinds in one municipality, one row in another.
    let mut tx = app.owner.begin().await.unwrap();
    for sql in [
        "UPDATE employments SET on_leave = on_leave WHERE tenant_id = $1",
        "UPDATE guardianships SET lives_with = lives_with WHERE tenant_id = $1",
        "UPDATE enrolments SET from_date = from_date WHERE tenant_id = $1",
        "UPDATE persons SET given_name = given_name WHERE tenant_id = $1",
    ] {
        let changed = sqlx::query(sql).bind(fjordvik).execute(&mut *tx).await.unwrap();
        assert!(changed.rows_affected() > 1, "{sql}");
    }
    sqlx::query(
        "UPDATE role_mappings SET role = role WHERE (tenant_id, workplace_kind, position_code) = \
         (SELECT tenant_id, workplace_kind, position_code FROM role_mappings WHERE tenant_id = $1 LIMIT 1)",
    )
    .bind(smaoy)
    .execute(&mut *tx)
    .await
    .unwrap();
    assert_eq!(epoch(&app, fjordvik).await, f0, "raised as the transaction commits, not before");
    tx.commit().await.unwrap();
    assert_eq!((epoch(&app, fjordvik).await, epoch(&app, smaoy).await), (f0 + 1, s0 + 1));

    // A transaction rolled back raises nothing.
    let mut tx = app.owner.begin().await.unwrap();
    sqlx::query("UPDATE employments SET on_leave = on_leave WHERE tenant_id = $1")
        .bind(fjordvik)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(epoch(&app, fjordvik).await, f0 + 1);

    // The application's own change raises it too (row-level security binds the trigger).
    let mut tx = tavle::db::begin(&app.db, fjordvik).await.unwrap();
    sqlx::query("UPDATE role_mappings SET role = role WHERE tenant_id = $1")
        .bind(fjordvik)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((epoch(&app, fjordvik).await, epoch(&app, smaoy).await), (f0 + 2, s0 + 1));
}

#[tokio::test]
async fn the_application_cannot_write_the_access_epoch() {
    let app = spawn_app().await;
    let fjordvik = app.tenant_id("fjordvik").await;
    for sql in [
        "UPDATE access_epochs SET epoch = 0",
        "DELETE FROM access_epochs",
        "INSERT INTO access_epochs (tenant_id, epoch) VALUES (tavle_current_tenant(), 0)",
    ] {
        let mut tx = tavle::db::begin(&app.db, fjordvik).await.unwrap();
        let err = sqlx::query(sql).execute(&mut *tx).await.expect_err(sql);
        let code = err.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
    // Reading it is allowed (the check does).
    let mut tx = tavle::db::begin(&app.db, fjordvik).await.unwrap();
    sqlx::query("SELECT epoch FROM access_epochs WHERE tenant_id = $1")
        .bind(fjordvik)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
}
