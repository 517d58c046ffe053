//! `tavle import krr`: the contact and reservation register. Fresh details replace
//! Tavle's (the earlier kept), stale ones are not used, a reservation is recorded and
//! shown to the office as a letter on paper; all or nothing, idempotent, no value from
//! the file in any message.

use axum::http::StatusCode;
use uuid::Uuid;

use tavle::krr::{self, ImportError, ImportOptions, Report};

use crate::helpers::{spawn_app, TestApp};

async fn import(app: &TestApp, body: &str) -> Result<Report, ImportError> {
    krr::import(&app.db, "fjordvik", body.as_bytes(), ImportOptions::default()).await
}

async fn kari(app: &TestApp) -> (Uuid, String) {
    let (id, _) = app.persona("guardian").await;
    let nid = sqlx::query_scalar("SELECT national_id FROM persons WHERE id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    (id, nid)
}

async fn contact(app: &TestApp, person: Uuid) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT email, phone FROM persons WHERE id = $1").bind(person).fetch_one(&app.owner).await.unwrap()
}

/// Fresh details replace Tavle's and the earlier ones are kept; a second run changes
/// nothing; details not verified for 18 months are not used.
#[tokio::test]
async fn fresh_details_replace_tavles_and_stale_ones_are_not_used() {
    let app = spawn_app().await;
    let (kari, nid) = kari(&app).await;
    let before = contact(&app, kari).await;
    let today = app.today;
    let fresh = format!("{}T09:00:00+01:00", today - time::Duration::days(30));
    let body = format!(
        r#"{{"personer": [{{"personidentifikator": "{nid}", "reservasjon": "NEI", "status": "AKTIV",
            "kontaktinformasjon": {{"epostadresse": "kari.ny@example.no", "epostadresse_sist_verifisert": "{fresh}",
                                    "mobiltelefonnummer": "+4790000001", "mobiltelefonnummer_sist_verifisert": "{fresh}"}}}},
            {{"personidentifikator": "20036914700", "reservasjon": "NEI"}}]}}"#
    );
    let report = import(&app, &body).await.unwrap();
    assert_eq!((report.changed, report.not_in_tavle), (1, 1), "{report}");
    assert_eq!(contact(&app, kari).await, (Some("kari.ny@example.no".into()), Some("+4790000001".into())));
    let kept: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT email, phone FROM person_history WHERE person_id = $1 AND source = 'krr'")
            .bind(kari)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(kept, before, "the earlier details are kept");
    let again = import(&app, &body).await.unwrap();
    assert_eq!((again.changed, again.unchanged), (0, 1), "{again}");

    let old = format!("{}T09:00:00+01:00", today - time::Duration::days(600));
    let stale = format!(
        r#"{{"personer": [{{"personidentifikator": "{nid}", "kontaktinformasjon": {{"epostadresse": "kari.gammel@example.no",
            "epostadresse_oppdatert": "{old}"}}}}]}}"#
    );
    let report = import(&app, &stale).await.unwrap();
    assert_eq!(report.stale, 1, "{report}");
    assert_eq!(contact(&app, kari).await.0.as_deref(), Some("kari.ny@example.no"), "a stale address is not used");
}

/// One bad entry and nothing is applied; the problems name the entry, never a value.
#[tokio::test]
async fn a_bad_entry_applies_nothing() {
    let app = spawn_app().await;
    let (kari, nid) = kari(&app).await;
    let body = format!(
        r#"{{"personer": [{{"personidentifikator": "{nid}", "reservasjon": "JA"}},
            {{"personidentifikator": "{nid}", "kontaktinformasjon": {{"epostadresse": "kari at home"}}}}]}}"#
    );
    let problems: Vec<String> = match import(&app, &body).await {
        Err(ImportError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected a refused file, got {other:?}"),
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p.starts_with("entry 2:") && !p.contains(&nid) && !p.contains("kari at home")));
    let reserved: i64 = sqlx::query_scalar("SELECT count(*) FROM krr_contacts WHERE person_id = $1")
        .bind(kari)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(reserved, 0);
}

/// The office sees who needs letters on paper: the demo's reserved guardian, and Kari
/// once KRR says she has reserved herself; never a guardian of another school.
#[tokio::test]
async fn the_office_sees_who_needs_letters_on_paper() {
    let app = spawn_app().await;
    let (_, nid) = kari(&app).await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, "/pupils/paper-letters").await;
    assert_eq!(page.status, StatusCode::OK);
    let before = page.html().count("tbody tr");
    assert!(before >= 1, "the demo's reserved guardian: {}", page.body);
    assert!(!page.body.contains("Kari Nordmann"));
    import(&app, &format!(r#"{{"personer": [{{"personidentifikator": "{nid}", "reservasjon": "JA"}}]}}"#))
        .await
        .unwrap();
    let page = app.get(&mut clerk, "/pupils/paper-letters").await;
    let rows = page.html().select_texts("tbody tr th");
    assert!(rows.iter().any(|t| t.contains("Kari Nordmann")), "{rows:?}");
    // Her two children are at two schools: Solbakken's office sees her for Oskar only.
    assert_eq!(page.html().count("tbody tr"), before + 1);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE resource = 'paper_recipients'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(audited >= 1);
}
