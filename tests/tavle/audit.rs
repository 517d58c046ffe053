//! The audit log: `tavle audit verify` finds a changed, deleted, re-hashed or
//! reordered row, a tampered hash function and a wrong head; and the data protection
//! officer's page shows who did what to whose data, when, why and from where, to the
//! DPO (and the system administrator) only.

use std::net::SocketAddr;
use std::process::Command;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
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
             hash = sha256(e.prev_hash || convert_to(tavle_audit_text( \
                 e.tenant_id, e.seq, e.at, e.actor_person_id, 'teacher', e.session_id, e.action, e.resource, \
                 e.resource_id, e.subject_ids, e.purpose, e.ip), 'UTF8')) \
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
        "CREATE OR REPLACE FUNCTION tavle_audit_text(tenant_id uuid, seq bigint, at timestamptz, \
             actor_person_id uuid, actor_role text, session_id uuid, action text, resource text, resource_id uuid, \
             subject_ids uuid[], purpose text, ip text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ \
         SELECT concat_ws(chr(31), tenant_id::text, seq::text, \
             (extract(epoch FROM at) * 1000000)::bigint::text, coalesce(actor_person_id::text, ''), \
             coalesce(actor_role, ''), coalesce(session_id::text, ''), action, resource, \
             coalesce(resource_id::text, ''), array_to_string(subject_ids, ','), '', coalesce(ip, '')) $$",
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
            resource: tavle::audit::Resource::PupilList,
            resource_id: Some(Uuid::new_v4()),
            subjects: &subjects,
            purpose: tavle::policy::Purpose::AuditReview,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let rows = sqlx::query(
        "SELECT e.*, tavle_audit_text(e.tenant_id, e.seq, e.at, e.actor_person_id, e.actor_role, e.session_id, \
                e.action, e.resource, e.resource_id, e.subject_ids, e.purpose, e.ip) AS sql_canonical \
         FROM audit_events e \
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

// ---------------------------------------------------------------------------------
// The audit log page
// ---------------------------------------------------------------------------------

/// A GET as a browser at `ip` sends it (the app reads the address from the connection).
async fn get_from(app: &TestApp, browser: &mut Browser, path: &str, ip: [u8; 4]) -> StatusCode {
    let cookies = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut req = Request::get(path).header(header::COOKIE, cookies).body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    app.request(browser, req).await.status
}

async fn audit_log_views(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE resource = 'audit_log'")
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_dpo_sees_who_read_whose_card_when_why_and_from_where() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let pupil = app.pupil_at("Solbakken skole").await;
    assert_eq!(get_from(&app, &mut clerk, &format!("/pupils/{pupil}"), [192, 0, 2, 7]).await, StatusCode::OK);
    let (clerk_id, clerk_name) = app.persona("office_clerk").await;
    let (pupil_name,): (String,) = sqlx::query_as("SELECT given_name || ' ' || family_name FROM persons WHERE id = $1")
        .bind(pupil)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let tenant = app.tenant_id("fjordvik").await;
    let seq = seq_of(&app, tenant, "pupil_card").await;

    let mut dpo = app.sign_in_as("dpo").await;
    assert_eq!(audit_log_views(&app).await, 0);
    let res = app.get(&mut dpo, "/audit").await;
    assert_eq!(res.status, StatusCode::OK);
    let page = res.html();
    assert_eq!(page.count("nav a[href='/audit'][aria-current=page]"), 1);
    let row = format!("tr[data-seq='{seq}']");
    assert_eq!(
        page.select_texts(&format!("{row} .audit-actor")),
        vec![format!("Vis hendelser utført av {clerk_name} skolekonsulent")]
    );
    assert_eq!(page.select_texts(&format!("{row} .audit-what")), vec!["lest: elevkort".to_owned()]);
    // The pupil first; the siblings the card named follow (each a subject of the read).
    let whose = page.select_texts(&format!("{row} .audit-whose")).join("");
    assert!(whose.starts_with(&format!("Vis hendelser som gjelder {pupil_name}")), "{whose}");
    let siblings: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT p.given_name || ' ' || p.family_name FROM guardianships a \
         JOIN guardianships b ON b.guardian_id = a.guardian_id AND b.pupil_id <> a.pupil_id AND b.parental_responsibility \
         JOIN persons p ON p.id = b.pupil_id \
         JOIN enrolments e ON e.pupil_id = b.pupil_id AND e.to_date IS NULL \
         JOIN schools s ON s.id = e.school_id AND s.name = 'Solbakken skole' \
         WHERE a.pupil_id = $1 AND a.parental_responsibility",
    )
    .bind(pupil)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut expected = format!("Vis hendelser som gjelder {pupil_name}");
    for name in &siblings {
        assert!(whose.contains(&format!("Vis hendelser som gjelder {name}")), "{name} in {whose}");
        expected.push_str(&format!("Vis hendelser som gjelder {name}"));
    }
    assert_eq!(whose.len(), expected.len(), "{whose}");
    assert_eq!(page.select_texts(&format!("{row} .audit-purpose")), vec!["skoleadministrasjon".to_owned()]);
    assert_eq!(page.select_texts(&format!("{row} .audit-ip")), vec!["192.0.2.7".to_owned()]);
    // Norwegian time: the shown time is the UTC instant plus one or two hours.
    let shown = page.select_texts(&format!("{row} time")).join("");
    let utc = page.select_first_attr(&format!("{row} time"), "datetime").unwrap();
    let utc = time::OffsetDateTime::parse(&utc, &time::format_description::well_known::Rfc3339).unwrap();
    let local = time::PrimitiveDateTime::parse(
        &shown,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .unwrap();
    let offset = local.assume_utc() - utc.replace_nanosecond(0).unwrap();
    assert!(offset == time::Duration::hours(1) || offset == time::Duration::hours(2), "{shown} vs {utc}");
    // Newest first.
    let seqs: Vec<i64> = page.select_attrs("tbody tr", "data-seq").iter().map(|s| s.parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    // Looking was logged, with the persons the page named.
    let (role, purpose, subjects): (String, String, Vec<Uuid>) = sqlx::query_as(
        "SELECT actor_role, purpose, subject_ids FROM audit_events WHERE resource = 'audit_log' AND action = 'read'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!((role.as_str(), purpose.as_str()), ("dpo", "audit_review"));
    assert!(subjects.contains(&pupil) && subjects.contains(&clerk_id), "{subjects:?}");

    // In English too.
    app.get(&mut dpo, "/language?lang=en&next=/audit").await;
    let page = app.get(&mut dpo, "/audit").await.html();
    assert_eq!(page.select_texts(&format!("{row} .audit-what")), vec!["read: pupil card".to_owned()]);
    assert_eq!(page.select_texts(&format!("{row} .audit-purpose")), vec!["school administration".to_owned()]);
}

#[tokio::test]
async fn the_dpo_filters_by_person_without_putting_an_id_in_a_url() {
    let app = spawn_app().await;
    let (mut clerk, pupil) = clerk_reads_a_card(&app).await;
    let other = sqlx::query_scalar::<_, Uuid>(
        "SELECT e.pupil_id FROM enrolments e JOIN schools s ON s.id = e.school_id \
         WHERE s.name = 'Solbakken skole' AND e.pupil_id <> $1 AND e.to_date IS NULL LIMIT 1",
    )
    .bind(pupil)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    app.get(&mut clerk, &format!("/pupils/{other}")).await;
    let (clerk_id, clerk_name) = app.persona("office_clerk").await;

    let mut dpo = app.sign_in_as("dpo").await;
    let res = app.post_form(&mut dpo, "/audit", &[("subject", &pupil.to_string())]).await;
    assert_eq!(res.status, StatusCode::OK);
    let page = res.html();
    let subjects = page.select_attrs("tbody button[name=subject]", "value");
    assert!(!subjects.is_empty());
    assert!(page.select_attrs("tbody tr", "data-seq").len() == 1, "only the one card view concerns the pupil");
    assert!(!subjects.contains(&other.to_string()));
    assert_eq!(page.count("#active-filters li"), 1);
    for href in page.select_attrs("a[href]", "href") {
        assert!(!href.contains(&pupil.to_string()), "{href}");
    }

    // By the person who acted, chosen from the table, and by action.
    let res = app.post_form(&mut dpo, "/audit", &[("actor", &clerk_id.to_string()), ("action", "sign_in")]).await;
    let page = res.html();
    assert_eq!(page.select_texts("#active-filters li"), vec![format!("Utført av: {clerk_name}")]);
    assert_eq!(page.select_texts("tbody .audit-what"), vec!["logget inn: økt".to_owned()]);

    // Action and dates may travel in a URL; a person id may not.
    let res = app.get(&mut dpo, &format!("/audit?action=read&subject={pupil}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.html().count("#active-filters"), 0);
    let whats = res.html().select_texts("tbody .audit-what");
    assert!(!whats.is_empty() && whats.iter().all(|w| w.starts_with("lest: ")), "{whats:?}");
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(2)).date();
    let res = app.get(&mut dpo, &format!("/audit?from={later}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.html().count("#no-events"), 1);
    // Norwegian days: today in Oslo is the UTC date or the day after.
    let today = time::OffsetDateTime::now_utc().date();
    let (yesterday, tomorrow) = (today - time::Duration::days(1), today + time::Duration::days(1));
    let res = app.get(&mut dpo, &format!("/audit?from={yesterday}&to={tomorrow}")).await;
    assert!(res.html().count("tbody tr") >= 3);
}

#[tokio::test]
async fn bad_filter_input_gets_a_message_by_the_field_and_nothing_is_read() {
    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    let mut dpo = app.sign_in_as("dpo").await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&app.owner).await.unwrap();
    let res = app
        .post_form(&mut dpo, "/audit", &[("actor", "Siri Haugen"), ("action", "drop_table"), ("from", "31.12.2026")])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.html();
    assert_eq!(
        page.select_texts("#actor-err"),
        vec!["Skriv person-ID-en slik Tavle viser den: 36 tegn med bindestreker.".to_owned()]
    );
    assert_eq!(page.select_texts("#action-err"), vec!["Velg en handling fra listen.".to_owned()]);
    assert_eq!(page.select_texts("#from-err"), vec!["Skriv datoen som åååå-mm-dd.".to_owned()]);
    assert_eq!(page.select_first_attr("#actor", "aria-describedby").as_deref(), Some("actor-err actor-desc"));
    assert_eq!(page.select_first_attr("#from", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(page.count(".ds-error-summary a[href='#actor']"), 1);
    assert_eq!(page.count(".ds-error-summary a[href='#subject']"), 0);
    assert_eq!(page.select_first_attr("#actor", "value").as_deref(), Some("Siri Haugen"));
    assert_eq!(page.count("table"), 0);
    assert!(page.select_texts("title").join("").starts_with("Feil:"));

    // A well-formed id of no one here (another municipality's clerk), and dates the wrong way round.
    let (smaoy_clerk, _) = app.persona("smaoy_office_clerk").await;
    let res = app
        .post_form(
            &mut dpo,
            "/audit",
            &[("subject", &smaoy_clerk.to_string()), ("from", "2026-02-02"), ("to", "2026-02-01")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.html().select_texts("#subject-err"), vec!["Ingen i kommunen har denne person-ID-en.".to_owned()]);
    assert_eq!(res.html().select_texts("#to-err"), vec!["Til-datoen kan ikke være før fra-datoen.".to_owned()]);
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&app.owner).await.unwrap();
    assert_eq!(before, after, "nothing read, nothing logged");
}

#[tokio::test]
async fn the_log_pages_by_fifty_without_overlap() {
    let app = spawn_app().await;
    let (mut clerk, pupil) = clerk_reads_a_card(&app).await;
    for _ in 0..60 {
        app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    }
    let mut dpo = app.sign_in_as("dpo").await;
    let first = app.get(&mut dpo, "/audit").await.html();
    let first_seqs = first.select_attrs("tbody tr", "data-seq");
    assert_eq!(first_seqs.len(), 50);
    let older = first.select_first_attr("a[rel=next]", "href").expect("a link to older events");
    assert_eq!(first.count("a[rel=prev]"), 0, "the newest page has no newer page");
    let second = app.get(&mut dpo, &older).await.html();
    let second_seqs = second.select_attrs("tbody tr", "data-seq");
    assert!(!second_seqs.is_empty());
    assert!(second_seqs.iter().all(|s| !first_seqs.contains(s)), "pages overlap");
    let lowest_first: i64 = first_seqs.last().unwrap().parse().unwrap();
    let highest_second: i64 = second_seqs[0].parse().unwrap();
    assert_eq!(highest_second, lowest_first - 1, "no event skipped between pages");
    let newer = second.select_first_attr("a[rel=prev]", "href").expect("a link back");
    let back = app.get(&mut dpo, &newer).await.html();
    assert!(back.select_attrs("tbody tr", "data-seq").contains(&first_seqs[0]));
}

#[tokio::test]
async fn only_the_dpo_the_system_administrator_and_principals_see_the_log() {
    let app = spawn_app().await;
    clerk_reads_a_card(&app).await;
    for persona in ["office_clerk", "teacher", "municipal_director", "it_support", "guardian", "pupil"] {
        let mut b = app.sign_in_as(persona).await;
        let res = app.get(&mut b, "/audit").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{persona}");
        let res = app.post_form(&mut b, "/audit", &[("action", "read")]).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{persona}");
        let home = app.get(&mut b, "/").await.html();
        assert_eq!(home.count("a[href='/audit']"), 0, "{persona} is shown the way to the log");
    }
    assert_eq!(audit_log_views(&app).await, 0);
    let mut principal = app.sign_in_as("principal").await;
    assert_eq!(app.get(&mut principal, "/audit").await.status, StatusCode::OK);
    let mut admin = app.sign_in_as("system_admin").await;
    let res = app.get(&mut admin, "/audit").await;
    assert_eq!(res.status, StatusCode::OK);
    let role: String = sqlx::query_scalar(
        "SELECT actor_role FROM audit_events WHERE resource = 'audit_log' AND actor_role <> 'principal'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(role, "system_admin");
    let mut b = Browser::default();
    let res = app.get(&mut b, "/audit").await;
    assert!(res.status.is_redirection(), "not signed in: to the sign-in page");
}

#[tokio::test]
async fn the_dpo_reads_the_log_but_no_pupil_data() {
    let app = spawn_app().await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let mut dpo = app.sign_in_as("dpo").await;
    assert_eq!(app.get(&mut dpo, &format!("/pupils/{pupil}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut dpo, "/pupils").await.status, StatusCode::NOT_FOUND);
    let res = app.post_form(&mut dpo, &format!("/pupils/{pupil}/national-id"), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let home = app.get(&mut dpo, "/").await.html();
    assert_eq!(home.count("a[href='/pupils']"), 0);
    assert_eq!(home.count("a.ds-card[href='/audit']"), 1);
    assert_eq!(app.audit_count("read", pupil).await, 0);
}

#[tokio::test]
async fn another_municipality_stays_out_of_the_log() {
    let app = spawn_app().await;
    let (_, smaoy_name) = app.persona("smaoy_office_clerk").await;
    let mut smaoy = app.sign_in_as("smaoy_office_clerk").await;
    let smaoy_pupil = app.pupil_at("Småøy skule").await;
    app.get(&mut smaoy, &format!("/pupils/{smaoy_pupil}")).await;
    clerk_reads_a_card(&app).await;
    let mut dpo = app.sign_in_as("dpo").await;
    let res = app.get(&mut dpo, "/audit").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.html().count("tbody tr") >= 2);
    assert!(!res.body.contains(&smaoy_name));
    assert!(!res.body.contains(&smaoy_pupil.to_string()));
}

/// A principal sees who looked at their own school's pupils, and nothing and no one else.
#[tokio::test]
async fn a_principal_sees_the_log_of_their_own_schools_pupils_only() {
    let app = spawn_app().await;
    let (emma, _) = app.persona("pupil").await;
    let oskar: Uuid =
        sqlx::query_scalar("SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann'")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    // The guardian looks at both children: Emma is at the principal's school, Oskar is not.
    let mut kari = app.sign_in_as("guardian").await;
    for child in [emma, oskar] {
        assert_eq!(app.get(&mut kari, &format!("/pupils/{child}")).await.status, StatusCode::OK);
    }
    let mut principal = app.sign_in_as("principal").await;
    let page = app.get(&mut principal, "/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Emma Nordmann"), "the principal's own pupil is named");
    assert!(!page.body.contains("Oskar Nordmann"), "another school's pupil is not");
    let rows = page.html().select_attrs("tbody tr", "data-seq");
    assert!(!rows.is_empty());
    // Every event listed concerns a pupil of the lower secondary school.
    for seq in rows {
        let ours: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM audit_events a JOIN enrolments e ON e.pupil_id = ANY(a.subject_ids) \
             JOIN schools s ON s.id = e.school_id WHERE a.seq = $1::bigint AND s.name = 'Fjordvik ungdomsskole')",
        )
        .bind(&seq)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert!(ours, "event {seq} is not about the principal's pupils");
    }
    // Filtering by another school's pupil finds no such person for the principal.
    let res = app.post_form(&mut principal, "/audit", &[("subject", &oskar.to_string())]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A principal's view names only whom a principal may name (their schools' pupils,
/// those pupils' guardians, staff): another school's pupil in the same event stays
/// "unknown person" with no id in the page, and posting that id as either filter is
/// refused alike; guardians' IP addresses are for the data protection officer and the
/// system administrator only (issue 14, finding 1).
#[tokio::test]
async fn a_principals_filters_name_no_one_the_principal_may_not_name() {
    use tavle::audit::{self, Action, Event};
    let app = spawn_app().await;
    let tenant = app.tenant_id("fjordvik").await;
    let (emma, _) = app.persona("pupil").await;
    let (kari, _) = app.persona("guardian").await;
    // A pupil of another school with a strictly confidential address.
    let (hidden, name): (Uuid, String) = sqlx::query_as(
        "UPDATE persons p SET address_protection = 'strictly_confidential', street_address = NULL, \
             postal_code = NULL, postal_town = NULL \
         WHERE p.id = (SELECT e.pupil_id FROM enrolments e JOIN schools s ON s.id = e.school_id \
                       WHERE s.name = 'Solbakken skole' AND e.to_date IS NULL ORDER BY e.pupil_id LIMIT 1) \
         RETURNING p.id, p.given_name || ' ' || p.family_name",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    // One event about Emma (the principal's school) and the hidden pupil, by Kari as a
    // guardian, and one by the hidden pupil about Emma.
    let mut tx = db::begin(&app.db, tenant).await.unwrap();
    for (actor, role, subjects) in [(kari, "guardian", vec![emma, hidden]), (hidden, "pupil", vec![emma])] {
        let event = Event {
            action: Action::Read,
            resource: tavle::audit::Resource::PupilCard,
            resource_id: Some(emma),
            subjects: &subjects,
            purpose: tavle::policy::Purpose::GuardianAccess,
        };
        audit::insert(&mut tx, tenant, Some(actor), Some(role), None, Some("192.0.2.10"), event).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut principal = app.sign_in_as("principal").await;
    let page = app.get(&mut principal, "/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Emma Nordmann") && page.body.contains("Kari Nordmann"), "{}", page.body);
    assert!(!page.body.contains(&hidden.to_string()), "the unnamed pupil's id is in the page");
    assert!(!page.body.contains(&name), "the unnamed pupil is named");
    assert!(!page.body.contains("192.0.2.10"), "a guardian's and a pupil's IP address are not the principal's");
    for field in ["actor", "subject"] {
        let res = app.post_form(&mut principal, "/audit", &[(field, &hidden.to_string())]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(res.html().count(&format!("#{field}-err")), 1, "{field}");
        assert!(!res.body.contains(&name), "the {field} filter resolves the unnamed pupil");
    }
    // Staff and the principal's own pupils' guardians resolve.
    let res = app.post_form(&mut principal, "/audit", &[("actor", &kari.to_string())]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.html().select_texts("#active-filters").join(" ").contains("Kari Nordmann"));

    let mut dpo = app.sign_in_as("dpo").await;
    let page = app.get(&mut dpo, "/audit").await;
    assert!(page.body.contains(&name) && page.body.contains("192.0.2.10"), "the DPO sees everyone and every address");
}

/// One event through the application's raw insert, in its own tenant transaction.
async fn write_event(pool: &sqlx::PgPool, tenant: Uuid, commit: bool) {
    use tavle::audit::{self, Action, Event};
    let mut tx = db::begin(pool, tenant).await.unwrap();
    let id = Uuid::new_v4();
    let event = Event {
        action: Action::Read,
        resource: tavle::audit::Resource::PupilCard,
        resource_id: Some(id),
        subjects: &[],
        purpose: tavle::policy::Purpose::SchoolAdministration,
    };
    audit::insert(&mut tx, tenant, None, Some("office_clerk"), None, Some("10.0.0.7"), event).await.unwrap();
    // Pending: not in the log before the commit.
    let visible: i64 =
        sqlx::query_scalar("/* all tenants: RLS test */ SELECT count(*) FROM audit_events WHERE resource_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(visible, 0);
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
}

async fn events_from(app: &TestApp, ip: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE ip = $1").bind(ip).fetch_one(&app.owner).await.unwrap()
}

/// Events are chained into the log as their transaction commits (migration 000011):
/// a committed event is in the log and the chain stays whole, also when many commit
/// at once; a rolled-back one leaves nothing; nothing stays pending; and the
/// application may only add to the pending table, never read, change or remove it.
#[tokio::test]
async fn events_are_chained_at_commit_whole_under_concurrency_and_nothing_stays_pending() {
    let app = spawn_app().await;
    let tenant = app.tenant_id("fjordvik").await;

    write_event(&app.db, tenant, true).await;
    assert_eq!(events_from(&app, "10.0.0.7").await, 1);
    write_event(&app.db, tenant, false).await;
    assert_eq!(events_from(&app, "10.0.0.7").await, 1, "a rolled-back event is not in the log");

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let pool = app.db.clone();
        tasks.spawn(async move { write_event(&pool, tenant, true).await });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task");
    }
    // Each committed event is either chained already or still pending, never lost; a
    // commit that found the chain busy left its event for the next one or the sweep.
    let pending = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_pending").fetch_one(&app.owner).await.unwrap()
    };
    assert_eq!(events_from(&app, "10.0.0.7").await + pending().await, 21);
    // The sweep `tavle serve` runs every second, a municipality at a time.
    let swept = tavle::audit::sweep(&app.db).await.unwrap();
    assert_eq!(events_from(&app, "10.0.0.7").await, 21, "{swept} chained by the sweep");
    assert_eq!(pending().await, 0);
    let v = verdict(&app, tenant).await;
    assert!(v.is_ok(), "{v}");

    for sql in ["SELECT count(*) FROM audit_pending", "UPDATE audit_pending SET ip = NULL", "DELETE FROM audit_pending"]
    {
        let mut tx = db::begin(&app.db, tenant).await.unwrap();
        let err = sqlx::query(sql).execute(&mut *tx).await.unwrap_err();
        assert!(err.to_string().contains("permission denied"), "{sql}: {err}");
    }
}

/// A commit that finds its municipality's chain held by another transaction does not
/// wait for it: its event is committed pending, keeps the time it was written, and
/// gets its place from the next commit that finds the chain free, from the sweep, or
/// when the log is read (the audit page, `verify`). The application may no longer
/// write the log itself.
#[tokio::test]
async fn a_commit_that_finds_the_chain_busy_leaves_its_event_for_the_next() {
    let app = spawn_app().await;
    let tenant = app.tenant_id("fjordvik").await;
    write_event(&app.db, tenant, true).await; // makes the head
    let pending = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_pending").fetch_one(&app.owner).await.unwrap()
    };

    // Another transaction holds the head: the write neither waits nor is lost.
    let hold = || async {
        let mut holder = app.owner.begin().await.unwrap();
        db::set_tenant(&mut holder, tenant).await.unwrap();
        sqlx::query("SELECT 1 FROM audit_heads WHERE tenant_id = $1 FOR UPDATE")
            .bind(tenant)
            .execute(&mut *holder)
            .await
            .unwrap();
        holder
    };
    let holder = hold().await;
    // (A guard against a hang, not a measurement: waiting for the head never ends here.)
    let write = tokio::time::timeout(std::time::Duration::from_secs(30), write_event(&app.db, tenant, true));
    write.await.expect("the commit waited for the busy chain");
    assert_eq!(pending().await, 1);
    assert_eq!(events_from(&app, "10.0.0.7").await, 1);
    holder.rollback().await.unwrap();

    // The next commit that finds the chain free chains the left event with its own.
    write_event(&app.db, tenant, true).await;
    assert_eq!((events_from(&app, "10.0.0.7").await, pending().await), (3, 0));

    // Left while busy, then swept; `at` is when it was written, not when it was chained.
    let holder = hold().await;
    write_event(&app.db, tenant, true).await;
    holder.rollback().await.unwrap();
    let written_before: time::OffsetDateTime =
        sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(&app.owner).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // The sweep puts the caller's tenant setting back.
    let mut tx = db::begin(&app.db, tenant).await.unwrap();
    let swept: i32 = sqlx::query_scalar("SELECT tavle_audit_sweep()").fetch_one(&mut *tx).await.unwrap();
    let setting: String =
        sqlx::query_scalar("SELECT current_setting('tavle.tenant_id')").fetch_one(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((swept, setting), (1, tenant.to_string()));
    let last_at: time::OffsetDateTime =
        sqlx::query_scalar("SELECT max(at) FROM audit_events WHERE tenant_id = $1 AND ip = '10.0.0.7'")
            .bind(tenant)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(last_at < written_before, "the event has the time it was chained: {last_at} ≥ {written_before}");

    // Left while busy, then the data protection officer opens the log: it is there.
    let mut principal = app.sign_in_as("principal").await;
    let holder = hold().await;
    write_event(&app.db, tenant, true).await;
    assert_eq!(pending().await, 1);
    holder.rollback().await.unwrap();
    let res = app.get(&mut principal, "/audit").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(pending().await, 0, "the audit page chains what is pending before it reads");

    // Left while busy, then verified: verify chains first and walks all of it.
    let holder = hold().await;
    write_event(&app.db, tenant, true).await;
    holder.rollback().await.unwrap();
    let v = verdict(&app, tenant).await;
    assert!(v.is_ok(), "{v}");
    assert_eq!((events_from(&app, "10.0.0.7").await, pending().await), (6, 0));

    // Only the chaining function writes the log.
    let mut tx = db::begin(&app.db, tenant).await.unwrap();
    let err = sqlx::query(
        "INSERT INTO audit_events (tenant_id, seq, action, resource, purpose, prev_hash, hash) \
         VALUES ($1, 0, 'read', 'pupil_card', 'school_administration', '', '')",
    )
    .bind(tenant)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
}

/// An event's time is the database's clock (issue 14, item 10): the application may
/// not name `at` when it writes an event, and a time given by anyone else (here the
/// owner, who may write every column) is replaced by the clock's.
#[tokio::test]
async fn the_time_of_an_event_is_set_by_the_database_alone() {
    let app = spawn_app().await;
    let tenant = app.tenant_id("fjordvik").await;
    let insert = "INSERT INTO audit_pending (tenant_id, action, resource, purpose, ip, at) \
                  VALUES ($1, 'read', 'pupil_card', 'school_administration', '10.0.0.9', '2001-01-01T00:00:00Z')";
    let mut tx = db::begin(&app.db, tenant).await.unwrap();
    let err = sqlx::query(insert).bind(tenant).execute(&mut *tx).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    tx.rollback().await.unwrap();

    let before: time::OffsetDateTime = sqlx::query_scalar("SELECT now()").fetch_one(&app.owner).await.unwrap();
    let mut tx = app.owner.begin().await.unwrap();
    db::set_tenant(&mut tx, tenant).await.unwrap();
    sqlx::query(insert).bind(tenant).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(verdict(&app, tenant).await.is_ok());
    let at: time::OffsetDateTime =
        sqlx::query_scalar("SELECT at FROM audit_events WHERE ip = '10.0.0.9'").fetch_one(&app.owner).await.unwrap();
    assert!(at >= before, "the event kept the time its writer gave it: {at}");
    // The application's own writes, which name no time, still work.
    write_event(&app.db, tenant, true).await;
    assert_eq!(events_from(&app, "10.0.0.7").await, 1);
}
