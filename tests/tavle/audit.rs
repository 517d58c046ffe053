//! The audit log: `tavle audit verify` finds a changed, deleted, re-hashed or
//! reordered row, a tampered hash function and a wrong head.

use std::process::Command;

use axum::http::StatusCode;
use sqlx::Row;
use uuid::Uuid;

use crate::helpers::{spawn_app, Browser, TestApp};
use tavle::audit::verify::{self, Break, ChainedEvent, Verdict};
use tavle::db;

/// The office clerk signs in and opens a pupil card: a sign-in and a read event.
async fn clerk_reads_a_card(app: &TestApp) -> (Browser, Uuid) {
    let mut clerk = app.sign_in_as("office_clerk").await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let card = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, StatusCode::OK);
    (clerk, pupil)
}

async fn seq_of(app: &TestApp, tenant: Uuid, resource: &str) -> i64 {
    sqlx::query_scalar("SELECT min(seq) FROM audit_events WHERE tenant_id = $1 AND resource = $2")
        .bind(tenant)
        .bind(resource)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// What an attacker with the database's superuser can do: switch the triggers off,
/// change the log behind the application's back, switch them on again.
async fn tamper(app: &TestApp, sql: &str, tenant: Uuid, seq: i64) {
    let mut conn = app.owner.acquire().await.unwrap();
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER ALL").execute(&mut *conn).await.unwrap();
    let done = sqlx::query(sql).bind(tenant).bind(seq).execute(&mut *conn).await.unwrap();
    assert_eq!(done.rows_affected(), 1, "{sql}");
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER ALL").execute(&mut *conn).await.unwrap();
}

async fn verdict(app: &TestApp, tenant: Uuid) -> Verdict {
    verify::verify(&app.owner, tenant).await.unwrap()
}

#[tokio::test]
async fn an_intact_log_verifies_and_a_changed_row_is_named() {
    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    let tenant = app.tenant_id("fjordvik").await;
    let (count, head): (i64, Vec<u8>) = sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(count >= 2);
    assert_eq!(
        verdict(&app, tenant).await,
        Verdict::Ok { events: count, head_seq: count, head_hash: head.try_into().unwrap() }
    );

    let seq = seq_of(&app, tenant, "pupil_card").await;
    tamper(&app, "UPDATE audit_events SET purpose = 'teaching' WHERE tenant_id = $1 AND seq = $2", tenant, seq).await;
    match verdict(&app, tenant).await {
        Verdict::Broken { seq: at, reason: Break::Changed, checked } => {
            assert_eq!(at, seq);
            assert_eq!(checked, seq - 1);
        }
        other => panic!("expected a changed row at {seq}, got {other:?}"),
    }
    // The other tenant's chain is its own, and whole.
    let smaoy = app.tenant_id("smaoy").await;
    assert!(verdict(&app, smaoy).await.is_ok());
}

#[tokio::test]
async fn a_deleted_row_is_a_gap_and_a_deleted_tail_disagrees_with_the_head() {
    let app = spawn_app().await;
    let (mut clerk, pupil) = clerk_reads_a_card(&app).await;
    app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    let tenant = app.tenant_id("fjordvik").await;
    let first_read = seq_of(&app, tenant, "pupil_card").await;
    tamper(&app, "DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2", tenant, first_read).await;
    assert_eq!(
        verdict(&app, tenant).await,
        Verdict::Broken {
            seq: first_read,
            reason: Break::Missing { next_present: Some(first_read + 1) },
            checked: first_read - 1
        }
    );

    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    let last: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_events WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    tamper(&app, "DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2", tenant, last).await;
    assert_eq!(
        verdict(&app, tenant).await,
        Verdict::Broken { seq: last, reason: Break::Missing { next_present: None }, checked: last - 1 }
    );
}

#[tokio::test]
async fn a_row_changed_and_rehashed_breaks_the_link_to_the_next() {
    let app = spawn_app().await;
    let (mut clerk, pupil) = clerk_reads_a_card(&app).await;
    app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    let tenant = app.tenant_id("fjordvik").await;
    let seq = seq_of(&app, tenant, "pupil_card").await;
    // Someone who knows the algorithm re-hashes the row they changed.
    tamper(
        &app,
        "UPDATE audit_events e SET actor_role = 'teacher', \
             hash = sha256(e.prev_hash || convert_to(tavle_audit_canonical( \
                 (e.tenant_id, e.seq, e.at, e.actor_person_id, 'teacher', e.session_id, e.action, e.resource, \
                  e.resource_id, e.subject_ids, e.purpose, e.ip, e.prev_hash, e.hash)::audit_events), 'UTF8')) \
         WHERE tenant_id = $1 AND seq = $2",
        tenant,
        seq,
    )
    .await;
    match verdict(&app, tenant).await {
        Verdict::Broken { seq: at, reason: Break::Relinked, .. } => assert_eq!(at, seq + 1),
        other => panic!("expected a broken link after {seq}, got {other:?}"),
    }
    // Moving rows: swap two events' places in the order.
    let app = spawn_app().await;
    let (mut clerk, pupil) = clerk_reads_a_card(&app).await;
    app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    let seq = seq_of(&app, tenant, "pupil_card").await;
    tamper(&app, "UPDATE audit_events SET seq = -1 WHERE tenant_id = $1 AND seq = $2", tenant, seq).await;
    tamper(&app, "UPDATE audit_events SET seq = $2 WHERE tenant_id = $1 AND seq = $2 + 1", tenant, seq).await;
    tamper(&app, "UPDATE audit_events SET seq = $2 + 1 WHERE tenant_id = $1 AND seq = -1", tenant, seq).await;
    match verdict(&app, tenant).await {
        Verdict::Broken { seq: at, .. } => assert_eq!(at, seq),
        other => panic!("expected a break at {seq}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_tampered_hash_function_or_head_is_caught() {
    let app = spawn_app().await;
    let (mut clerk, pupil) = clerk_reads_a_card(&app).await;
    let tenant = app.tenant_id("fjordvik").await;
    let before: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_events WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    // The canonical text function is replaced so that the purpose is no longer covered:
    // the trigger keeps chaining, the database agrees with itself, the check does not.
    sqlx::query(
        "CREATE OR REPLACE FUNCTION tavle_audit_canonical(e audit_events) RETURNS text LANGUAGE sql IMMUTABLE AS $$ \
         SELECT concat_ws(chr(31), e.tenant_id::text, e.seq::text, \
             (extract(epoch FROM e.at) * 1000000)::bigint::text, coalesce(e.actor_person_id::text, ''), \
             coalesce(e.actor_role, ''), coalesce(e.session_id::text, ''), e.action, e.resource, \
             coalesce(e.resource_id::text, ''), array_to_string(e.subject_ids, ','), '', coalesce(e.ip, '')) $$",
    )
    .execute(&app.owner)
    .await
    .unwrap();
    app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    match verdict(&app, tenant).await {
        Verdict::Broken { seq, reason: Break::Changed, .. } => assert_eq!(seq, before + 1),
        other => panic!("expected the first event after the tampering, got {other:?}"),
    }

    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    sqlx::query("UPDATE audit_heads SET hash = sha256(hash) WHERE tenant_id = $1")
        .bind(tenant)
        .execute(&app.owner)
        .await
        .unwrap();
    assert!(matches!(verdict(&app, tenant).await, Verdict::Broken { reason: Break::HeadMismatch { .. }, .. }));
}

/// Rust and the trigger build the same canonical text and hash, for every event the
/// application wrote and for one with every optional field set.
#[tokio::test]
async fn rust_and_sql_agree_on_the_canonical_text_and_hash() {
    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    let tenant = app.tenant_id("fjordvik").await;
    let mut tx = db::begin(&app.db, tenant).await.unwrap();
    let subjects = [Uuid::new_v4(), Uuid::new_v4()];
    tavle::audit::insert(
        &mut tx,
        tenant,
        Some(Uuid::new_v4()),
        Some("dpo"),
        Some(Uuid::new_v4()),
        Some("2001:db8::1"),
        tavle::audit::Event {
            action: tavle::audit::Action::Export,
            resource: "pupil_list",
            resource_id: Some(Uuid::new_v4()),
            subjects: &subjects,
            purpose: tavle::policy::Purpose::AuditReview,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let rows = sqlx::query(
        "SELECT e.*, tavle_audit_canonical(e) AS sql_canonical FROM audit_events e \
         WHERE tenant_id = $1 ORDER BY seq",
    )
    .bind(tenant)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(rows.len() >= 3);
    for row in rows {
        let event = ChainedEvent {
            tenant_id: row.get("tenant_id"),
            seq: row.get("seq"),
            at: row.get("at"),
            actor_person_id: row.get("actor_person_id"),
            actor_role: row.get("actor_role"),
            session_id: row.get("session_id"),
            action: row.get("action"),
            resource: row.get("resource"),
            resource_id: row.get("resource_id"),
            subject_ids: row.get("subject_ids"),
            purpose: row.get("purpose"),
            ip: row.get("ip"),
        };
        assert_eq!(event.canonical(), row.get::<String, _>("sql_canonical"), "seq {}", event.seq);
        let prev: Vec<u8> = row.get("prev_hash");
        let hash: Vec<u8> = row.get("hash");
        assert_eq!(event.hash(&prev).to_vec(), hash, "seq {}", event.seq);
    }
    assert!(verdict(&app, tenant).await.is_ok());
}

#[tokio::test]
async fn the_command_prints_ok_or_exits_non_zero_naming_the_seq() {
    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    let tenant = app.tenant_id("fjordvik").await;
    let run = |slug: &str| {
        Command::new(env!("CARGO_BIN_EXE_tavle"))
            .args(["audit", "verify", "--tenant", slug])
            .env("TAVLE_MIGRATION_DATABASE_URL", app.owner_url())
            .env_remove("DATABASE_URL")
            .env("TAVLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run("fjordvik");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("fjordvik: OK: "), "{stdout}");
    assert!(stdout.contains("head hash "), "{stdout}");

    let seq = seq_of(&app, tenant, "pupil_card").await;
    tamper(&app, "UPDATE audit_events SET ip = '10.0.0.1' WHERE tenant_id = $1 AND seq = $2", tenant, seq).await;
    let out = run("fjordvik");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("BROKEN at seq {seq}: row changed")), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let out = run("atlantis");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no municipality"));
}
