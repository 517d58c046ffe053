//! The rate limits count every state-changing request before the session lookup and
//! the CSRF check, under the client's address: the socket's, or behind a trusted proxy
//! the right-most untrusted `X-Forwarded-For` entry. The audit log records the same.

use std::net::SocketAddr;

use axum::http::StatusCode;
use tavle::state::Mode;

use crate::helpers::{spawn_app_with_env, Browser, TestApp};

const PEER: ([u8; 4], u16) = ([198, 51, 100, 7], 40_000);

fn peer() -> SocketAddr {
    SocketAddr::from(PEER)
}

/// The `ip` of the newest sign-in event of `persona`, chained or still pending.
async fn sign_in_ip(app: &TestApp, persona: &str) -> Option<String> {
    let (person, _) = app.persona(persona).await;
    sqlx::query_scalar(
        "SELECT ip FROM (SELECT ip, at FROM audit_events WHERE action = 'sign_in' AND actor_person_id = $1 \
         UNION ALL SELECT ip, at FROM audit_pending WHERE action = 'sign_in' AND actor_person_id = $1) e \
         ORDER BY at DESC LIMIT 1",
    )
    .bind(person)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn token_less_posts_are_counted_and_refused_without_a_database() {
    // Without the session cache, whose hit would need no database for the lookup.
    let app =
        spawn_app_with_env(Mode::Demo, &[("TAVLE_FORM_POST_LIMIT", "3"), ("TAVLE_SESSION_CACHE_SECONDS", "0")]).await;
    // A signed-in browser (its session cookie would need a lookup), posting without a
    // CSRF token, from one address.
    let mut b = app.sign_in_as("office_clerk").await;
    b.csrf = String::new();
    // No database at all from here on: whatever needs one cannot answer with 429.
    app.db.close().await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = app.post_form_from(&mut b, "/sign-out", &[], peer(), None).await;
        statuses.push(res.status);
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(res.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("60"));
            assert_eq!(res.html().select_texts("h1"), vec!["For mange forsøk".to_owned()], "a calm page");
        }
    }
    // The first three reached the session lookup (which finds no database: the calm
    // 503, not a 500); the next two were refused before it.
    assert_eq!(
        statuses,
        [
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another address is not held up.
    let other = SocketAddr::from(([198, 51, 100, 8], 40_000));
    let res = app.post_form_from(&mut b, "/sign-out", &[], other, None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let app = spawn_app_with_env(Mode::Demo, &[("TAVLE_SIGN_IN_LIMIT", "4")]).await;
    // Each post claims another client; all are counted under the peer.
    let forged = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"];
    let mut statuses = Vec::new();
    for (i, xff) in forged.iter().enumerate() {
        let mut b = Browser::default();
        app.get(&mut b, "/sign-in").await;
        let persona = if i == 0 { "office_clerk" } else { "no_such_persona" };
        let res = app.post_form_from(&mut b, "/sign-in/demo", &[("persona", persona)], peer(), Some(xff)).await;
        statuses.push(res.status.as_u16());
    }
    assert_eq!(statuses, [303, 400, 400, 400, 429]);
    // And the audit log has the peer's address, not the forged one.
    assert_eq!(sign_in_ip(&app, "office_clerk").await.as_deref(), Some("198.51.100.7"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_counted_and_audited() {
    let app = spawn_app_with_env(
        Mode::Demo,
        &[("TAVLE_SIGN_IN_LIMIT", "2"), ("TAVLE_TRUSTED_PROXIES", "198.51.100.0/24, 10.0.0.0/8")],
    )
    .await;
    let mut b = Browser::default();
    app.get(&mut b, "/sign-in").await;
    // The client forged an entry; the proxies appended the real address and their own.
    let xff = "1.2.3.4, 203.0.113.9, 10.1.2.3";
    let res = app.post_form_from(&mut b, "/sign-in/demo", &[("persona", "principal")], peer(), Some(xff)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(sign_in_ip(&app, "principal").await.as_deref(), Some("203.0.113.9"));
    // Counted per client behind the proxy: a second client has its own allowance.
    let mut other = Browser::default();
    app.get(&mut other, "/sign-in").await;
    for (xff, want) in [
        ("203.0.113.9", StatusCode::BAD_REQUEST),
        ("203.0.113.9", StatusCode::TOO_MANY_REQUESTS),
        ("203.0.113.10", StatusCode::BAD_REQUEST),
    ] {
        let res = app.post_form_from(&mut other, "/sign-in/demo", &[("persona", "x")], peer(), Some(xff)).await;
        assert_eq!(res.status, want, "{xff}");
    }
}
