//! E-mail to guardians: the weekly absence summary is enqueued with the right counts,
//! once per guardian, school and week, and only for guardians with parental
//! responsibility and an address; it is delivered over SMTP to a real local SMTP server
//! (dev/smtp, started once per test run); refused recipients are retried, then failed,
//! and the school office sees and retries them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use axum::http::StatusCode;
use base64::Engine;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use tavle::config::Secret;
use tavle::mail::delivery::{self, DeliveryReport, Mailer};
use tavle::mail::outbox::{self, Kind, NewMessage, MAX_ATTEMPTS};
use tavle::mail::weekly::{self, IsoWeek};
use tavle::web::i18n::Lang;

use crate::helpers::{assert_redirects_to, spawn_app, TestApp};

// ---------------------------------------------------------------------------------
// The local SMTP server
// ---------------------------------------------------------------------------------

pub struct Smtp {
    pub port: u16,
    pub dir: PathBuf,
    _child: Mutex<Child>,
    // Held open: the server exits when the test process (and so this pipe) goes.
    _stdin: Mutex<ChildStdin>,
}

pub fn smtp() -> &'static Smtp {
    static SMTP: OnceLock<Smtp> = OnceLock::new();
    SMTP.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dev/smtp");
        assert!(
            root.join("node_modules").is_dir(),
            "dev/smtp/node_modules is missing: run `npm ci` in dev/smtp (scripts/test does it for you)"
        );
        let dir = std::env::temp_dir().join(format!("tavle-smtp-{}", std::process::id()));
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&root)
            .env("SMTP_PORT", "0")
            .env("SMTP_DIR", &dir)
            .env("SMTP_EXIT_ON_STDIN_CLOSE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node dev/smtp/server.mjs (is Node.js installed?)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line).expect("the SMTP server's ready line");
        let port = u16::try_from(ready["port"].as_u64().unwrap()).unwrap();
        Smtp { port, dir, _child: Mutex::new(child), _stdin: Mutex::new(stdin) }
    })
}

fn mailer() -> Mailer {
    let url = Secret::new(format!("smtp://127.0.0.1:{}", smtp().port));
    Mailer::new(&url, "Tavle Fjordvik <noreply@fjordvik.kommune.no>".parse().unwrap()).unwrap()
}

/// The raw messages the server received for `address`.
fn received_for(address: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&smtp().dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let envelope: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if envelope["to"].as_array().unwrap().iter().any(|t| t.as_str() == Some(address)) {
            out.push(std::fs::read_to_string(path.with_extension("eml")).unwrap());
        }
    }
    out
}

/// A header's value (unfolded).
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

/// Decode RFC 2047 encoded words (`=?utf-8?b?…?=`, as lettre writes them); the space
/// between two encoded words is not part of the text.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_encoded = false;
    for w in value.split_whitespace() {
        let encoded = w.to_ascii_lowercase().starts_with("=?utf-8?b?") && w.ends_with("?=");
        let joined = encoded && previous_encoded;
        if !out.is_empty() && !joined {
            out.push(' ');
        }
        if encoded {
            let b = base64::engine::general_purpose::STANDARD.decode(&w[10..w.len() - 2]).unwrap();
            out.push_str(&String::from_utf8(b).unwrap());
        } else {
            out.push_str(w);
        }
        previous_encoded = encoded;
    }
    out
}

/// Every base64 body part, decoded.
fn parts(raw: &str) -> Vec<String> {
    raw.split("Content-Transfer-Encoding: base64\r\n")
        .skip(1)
        .map(|rest| {
            // The rest of the part's headers, if any, then a blank line.
            let body = rest.strip_prefix("\r\n").or_else(|| rest.split_once("\r\n\r\n").map(|(_, b)| b)).unwrap();
            let b64: String = body.lines().take_while(|l| !l.is_empty() && !l.starts_with("--")).collect();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------

async fn person(app: &TestApp, given: &str, family: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM persons WHERE given_name = $1 AND family_name = $2 ORDER BY birth_date LIMIT 1")
        .bind(given)
        .bind(family)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

async fn child(app: &TestApp, given: &str, family: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = $1 AND family_name = $2 AND birth_date > '2005-01-01'",
    )
    .bind(given)
    .bind(family)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn set_email(app: &TestApp, person: Uuid, email: Option<&str>) {
    sqlx::query("UPDATE persons SET email = $2 WHERE id = $1")
        .bind(person)
        .bind(email)
        .execute(&app.owner)
        .await
        .unwrap();
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}@epost.example", Uuid::new_v4().simple())
}

/// Up to `n` lessons of the pupil's groups held on different occasions in the same ISO
/// week (the latest week with `n` of them within the last five weeks): (lesson, group, date).
async fn lessons_in_a_week(app: &TestApp, pupil: Uuid, n: usize) -> Vec<(Uuid, Uuid, Date)> {
    let held: Vec<(Uuid, Uuid, Date)> = sqlx::query_as(
        "SELECT l.id, l.group_id, d::date FROM lessons l \
         JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         CROSS JOIN generate_series(tavle_today() - 35, tavle_today(), interval '1 day') d \
         WHERE extract(isodow FROM d) = l.weekday AND d >= l.valid_from AND d BETWEEN y.starts AND y.ends \
           AND (l.valid_to IS NULL OR l.valid_to > d) \
           AND EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = g.tenant_id AND t.school_year_id = g.school_year_id \
               AND d BETWEEN t.starts AND t.ends) \
           AND EXISTS (SELECT 1 FROM group_memberships m WHERE m.group_id = g.id AND m.pupil_id = $1) \
           AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = g.tenant_id \
               AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
               AND d BETWEEN b.first_day AND b.last_day) \
         ORDER BY d DESC, l.starts",
    )
    .bind(pupil)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut weeks: Vec<IsoWeek> = held.iter().map(|h| IsoWeek::of(h.2)).collect();
    weeks.dedup();
    let week = weeks
        .into_iter()
        .find(|w| held.iter().filter(|h| IsoWeek::of(h.2) == *w).count() >= n)
        .expect("a school week with enough lessons (is today within the demo school year?)");
    held.into_iter().filter(|h| IsoWeek::of(h.2) == week).take(n).collect()
}

/// Start from a municipality without absence, whatever the demo data holds, so that
/// the counts are exactly what the test registers.
async fn no_absence(app: &TestApp) {
    sqlx::query("TRUNCATE absence_registrations, absence_reports CASCADE").execute(&app.owner).await.unwrap();
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn outbox_rows(app: &TestApp, recipient: Uuid) -> Vec<(String, String, String, i16, Option<String>)> {
    sqlx::query_as(
        "SELECT dedupe_key, status, body_text, attempts, last_error FROM mail_outbox WHERE recipient_id = $1 \
         ORDER BY created_at",
    )
    .bind(recipient)
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

fn public_url() -> url::Url {
    url::Url::parse("https://tavle.fjordvik.kommune.no").unwrap()
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

/// Oskar is absent from one lesson (saved by his teacher through the register), late
/// for another, and reported by a guardian: his guardian Kari gets one summary with
/// those counts and a link, and nothing else about him, delivered over SMTP.
#[tokio::test]
async fn the_weekly_summary_counts_once_and_arrives_with_numbers_and_a_link_only() {
    let app = crate::helpers::spawn_app_at_school().await;
    no_absence(&app).await;
    let oskar = child(&app, "Oskar", "Nordmann").await;
    let kari = app.persona("guardian").await.0;
    let ola = person(&app, "Ola", "Nordmann").await;
    let kari_address = unique("kari");
    set_email(&app, kari, Some(&kari_address)).await;
    set_email(&app, ola, None).await;

    let lessons = lessons_in_a_week(&app, oskar, 2).await;
    let (lesson, group, date) = lessons[0];
    let week = IsoWeek::of(date);
    // Absent, through the teacher's register (the office clerk of Solbakken takes it).
    let mut clerk = app.sign_in_as("office_clerk").await;
    let path = format!("/absence/groups/{group}/register");
    let page = app.get(&mut clerk, &format!("{path}?date={}&lesson={lesson}", iso(date))).await;
    assert_eq!(page.status, StatusCode::OK);
    let status_field = format!("status-{oskar}");
    let saved = app
        .post_form(
            &mut clerk,
            &path,
            &[("date", &iso(date)), ("lesson", &lesson.to_string()), (&status_field, "absent")],
        )
        .await;
    assert!(saved.status.is_redirection(), "{}", saved.status);
    // Late for the second lesson, and a guardian's report: by SQL.
    let (lesson2, _, date2) = lessons[1];
    sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, minutes_late, registered_by, source) \
         SELECT tenant_id, $1, $2, $3, 'late', 10, $4, 'office' FROM persons WHERE id = $2",
    )
    .bind(lesson2)
    .bind(oskar)
    .bind(date2)
    .bind(app.persona("office_clerk").await.0)
    .execute(&app.owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO absence_reports (tenant_id, pupil_id, reported_by, first_day, last_day, reason_code) \
         SELECT tenant_id, $1, $2, $3, $3, 'medical_appointment' FROM persons WHERE id = $1",
    )
    .bind(oskar)
    .bind(ola)
    .bind(date)
    .execute(&app.owner)
    .await
    .unwrap();

    let first = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert!(first.enqueued >= 1 && first.enqueued == first.candidates, "{first:?}");
    let rows = outbox_rows(&app, kari).await;
    assert_eq!(rows.len(), 1, "one summary for Kari (Oskar's school only: Emma had nothing)");
    let (key, status, text, attempts, _) = &rows[0];
    assert_eq!((key.as_str(), status.as_str(), *attempts), (week.key().as_str(), "pending", 0));
    assert!(text.contains("Fravær, antall timer: 1"), "{text}");
    assert!(text.contains("Kommet for sent, antall timer: 1"), "{text}");
    assert!(text.contains("Fraværsmeldinger fra foresatte: 1"), "{text}");
    assert!(text.contains("https://tavle.fjordvik.kommune.no/absence"), "{text}");
    // Ola has responsibility but no address: nothing for him.
    assert!(outbox_rows(&app, ola).await.is_empty());
    // Composing it read Oskar's absence: audited, with Oskar as subject.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'mail_weekly_summary' AND action = 'create' \
         AND $1 = ANY(subject_ids) AND actor_person_id IS NULL",
    )
    .bind(oskar)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Again: nothing new (one per guardian, school and week).
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox").fetch_one(&app.owner).await.unwrap();
    let second = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert_eq!((second.candidates, second.enqueued), (first.candidates, 0));
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox").fetch_one(&app.owner).await.unwrap();
    assert_eq!(after, total);

    // Delivered over SMTP.
    let report = delivery::deliver_due(&app.db, &mailer(), OffsetDateTime::now_utc()).await.unwrap();
    assert!(report.sent >= 1 && report.failed == 0, "{report:?}");
    let (_, status, _, attempts, _) = outbox_rows(&app, kari).await.remove(0);
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    let received = received_for(&kari_address);
    assert_eq!(received.len(), 1);
    let raw = &received[0];
    assert!(raw.is_ascii(), "7-bit on the wire");
    assert_eq!(header(raw, "To").as_deref(), Some(kari_address.as_str()));
    let subject = header(raw, "Subject").unwrap();
    assert!(subject.to_ascii_lowercase().contains("=?utf-8?b?"), "æøå are encoded: {subject}");
    assert_eq!(decode_words(&subject), format!("Ukeoppsummering av fravær – uke {}", week.week));
    let bodies = parts(raw);
    assert_eq!(bodies.len(), 2, "plain text and HTML");
    assert!(bodies[0].contains("Fravær, antall timer: 1") && bodies[0].contains("/absence"), "{}", bodies[0]);
    assert!(bodies[1].contains("<a href=\"https://tavle.fjordvik.kommune.no/absence\">"), "{}", bodies[1]);
    // Nothing personal: no names, national ids, school or reason.
    let ids: Vec<String> = sqlx::query_scalar("SELECT national_id FROM persons WHERE id = ANY($1)")
        .bind(vec![oskar, kari, ola])
        .fetch_all(&app.owner)
        .await
        .unwrap();
    let decoded = format!("{}\n{}\n{}", decode_words(&subject), bodies[0], bodies[1]);
    for secret in ids.iter().map(String::as_str).chain([
        "Oskar",
        "Nordmann",
        "Kari",
        "Solbakken",
        "medical_appointment",
        "Time hos lege",
        "illness",
        "Syk",
    ]) {
        assert!(!decoded.contains(secret) && !raw.contains(secret), "the e-mail reveals {secret}");
    }
}

/// A guardian without parental responsibility gets nothing, even with an address; a
/// week with nothing registered sends nothing.
#[tokio::test]
async fn no_summary_without_responsibility_or_without_anything_to_tell() {
    let app = crate::helpers::spawn_app_at_school().await;
    no_absence(&app).await;
    let tuva = child(&app, "Tuva", "Berg").await;
    let geir = app.persona("guardian_no_responsibility").await.0;
    let hilde = person(&app, "Hilde", "Berg").await;
    set_email(&app, geir, Some(&unique("geir"))).await;
    let lessons = lessons_in_a_week(&app, tuva, 1).await;
    let (lesson, _, date) = lessons[0];
    let week = IsoWeek::of(date);
    // Nothing registered for anyone that week: nothing to send.
    let none = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert_eq!((none.candidates, none.enqueued), (0, 0));
    sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, registered_by, source) \
         SELECT tenant_id, $1, $2, $3, 'absent', $2, 'office' FROM persons WHERE id = $2",
    )
    .bind(lesson)
    .bind(tuva)
    .bind(date)
    .execute(&app.owner)
    .await
    .unwrap();
    // Hilde has responsibility and, in the demo, an address: she is told; Geir is not.
    let report = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert_eq!(report.enqueued, 1, "{report:?}");
    assert_eq!(outbox_rows(&app, hilde).await.len(), 1);
    assert!(outbox_rows(&app, geir).await.is_empty());
    // Without her address, nobody would be.
    sqlx::query("DELETE FROM mail_outbox").execute(&app.owner).await.unwrap();
    set_email(&app, hilde, None).await;
    let report = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert_eq!((report.candidates, report.enqueued), (0, 0));
}

/// A guardian reserved against digital communication in KRR gets no e-mail, whatever
/// address Tavle has; a death stops it too (the register). Each is one rule
/// (`policy::guardianship::reaches`) that every mailing uses.
#[tokio::test]
async fn no_summary_to_a_guardian_reserved_in_krr() {
    let app = crate::helpers::spawn_app_at_school().await;
    no_absence(&app).await;
    let tuva = child(&app, "Tuva", "Berg").await;
    let hilde = person(&app, "Hilde", "Berg").await;
    let lessons = lessons_in_a_week(&app, tuva, 1).await;
    let (lesson, _, date) = lessons[0];
    let week = IsoWeek::of(date);
    sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, registered_by, source) \
         SELECT tenant_id, $1, $2, $3, 'absent', $2, 'office' FROM persons WHERE id = $2",
    )
    .bind(lesson)
    .bind(tuva)
    .bind(date)
    .execute(&app.owner)
    .await
    .unwrap();
    let nid: String = sqlx::query_scalar("SELECT national_id FROM persons WHERE id = $1")
        .bind(hilde)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let answer = |reserved: &str| {
        format!(
            r#"{{"personer": [{{"personidentifikator": "{nid}", "reservasjon": "{reserved}", "status": "AKTIV"}}]}}"#
        )
    };
    let reserved = tavle::krr::import(&app.db, "fjordvik", answer("JA").as_bytes(), Default::default()).await.unwrap();
    assert_eq!((reserved.changed, reserved.reserved), (1, 1), "{reserved}");
    let report = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert_eq!((report.candidates, report.enqueued), (0, 0), "{report:?}");
    assert!(outbox_rows(&app, hilde).await.is_empty());
    // She withdraws the reservation: she is told again.
    tavle::krr::import(&app.db, "fjordvik", answer("NEI").as_bytes(), Default::default()).await.unwrap();
    let report = weekly::enqueue_week(&app.db, &public_url(), week).await.unwrap();
    assert_eq!(report.enqueued, 1, "{report:?}");
}

async fn enqueue_test_message(app: &TestApp, school: Uuid, recipient: Uuid, address: &str) -> Uuid {
    let tenant = app.tenant_id("fjordvik").await;
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let id = outbox::enqueue(
        tavle::db::Conn::new(&mut tx, tenant),
        &NewMessage {
            kind: Kind::WeeklyAbsenceSummary,
            dedupe_key: "2026-W47",
            school_id: school,
            recipient_id: recipient,
            recipient_address: address,
            lang: Lang::Nb,
            subject: "Ukeoppsummering av fravær – uke 47",
            body_text: "Fravær, antall timer: 1",
            body_html: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn school(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

/// A 451 is retried with backoff until the cap, a 550 fails at once; the office of
/// the school sees both (masked address, error, attempts), and "retry now" re-queues.
#[tokio::test]
async fn refused_messages_are_retried_then_failed_and_the_office_can_retry_them() {
    let app = spawn_app().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let kari = app.persona("guardian").await.0;
    let ola = person(&app, "Ola", "Nordmann").await;
    let tempfail = unique("tempfail");
    let reject = unique("reject");
    let later = enqueue_test_message(&app, solbakken, kari, &tempfail).await;
    let refused = enqueue_test_message(&app, solbakken, ola, &reject).await;

    let now = OffsetDateTime::now_utc();
    let report = delivery::deliver_due(&app.db, &mailer(), now).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 0, retrying: 1, failed: 1 });
    let state = |id: Uuid| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_as::<_, (String, i16, Option<String>)>(
                "SELECT status, attempts, last_error FROM mail_outbox WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&owner)
            .await
            .unwrap()
        }
    };
    assert_eq!(state(later).await, ("pending".to_owned(), 1, Some("smtp_451".to_owned())));
    assert_eq!(state(refused).await, ("failed".to_owned(), 1, Some("smtp_550".to_owned())));
    // Not due again until the backoff has passed.
    assert_eq!(delivery::deliver_due(&app.db, &mailer(), now).await.unwrap(), DeliveryReport::default());

    // The office sees the one being retried and the one that failed.
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/schools/{solbakken}/mail")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    assert_eq!(html.select_texts("tr[data-count=failed] td").first().map(String::as_str), Some("1"));
    assert_eq!(html.select_texts("tr[data-count=retrying] td").first().map(String::as_str), Some("1"));
    assert_eq!(html.count(&format!("tr[data-message='{later}'][data-status=pending]")), 1);
    assert_eq!(html.count(&format!("tr[data-message='{later}'] form")), 0, "no retry while it is retried");
    assert_eq!(html.count(&format!("tr[data-message='{refused}'] form button")), 1);
    assert!(page.body.contains("Kari Nordmann") && page.body.contains("t***@epost.example"));
    assert!(!page.body.contains(&tempfail) && !page.body.contains(&reject), "addresses are masked");
    assert_eq!(html.select_attrs("td[data-error]", "data-error"), ["smtp_550", "smtp_451"]);
    assert!(page.body.contains("(550)") && page.body.contains("(451)"));
    assert!(page.body.contains("Ukeoppsummering av fravær, uke 47 i 2026"));
    let reads: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'mail_outbox' AND action = 'read' AND $1 = ANY(subject_ids)",
    )
    .bind(kari)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(reads, 1);

    // Backoff, then the cap: failed after MAX_ATTEMPTS.
    let mut at = now;
    for _ in 1..MAX_ATTEMPTS {
        at += Duration::hours(2);
        delivery::deliver_due(&app.db, &mailer(), at).await.unwrap();
    }
    assert_eq!(state(later).await, ("failed".to_owned(), MAX_ATTEMPTS, Some("smtp_451".to_owned())));
    at += Duration::days(1);
    assert_eq!(delivery::deliver_due(&app.db, &mailer(), at).await.unwrap(), DeliveryReport::default());
    assert!(received_for(&tempfail).is_empty() && received_for(&reject).is_empty());

    // Retry now: a stray field is refused whole; the button re-queues; again changes nothing.
    let retry = format!("/schools/{solbakken}/mail/{later}/retry");
    let stray = app.post_form(&mut clerk, &retry, &[("note", "x")]).await;
    assert_eq!(stray.status, StatusCode::BAD_REQUEST);
    assert_eq!(state(later).await.0, "failed");
    let res = app.post_form(&mut clerk, &retry, &[]).await;
    assert_redirects_to(&res, &format!("/schools/{solbakken}/mail?done=retried"));
    assert_eq!(state(later).await, ("pending".to_owned(), 0, Some("smtp_451".to_owned())));
    let res = app.post_form(&mut clerk, &retry, &[]).await;
    assert_redirects_to(&res, &format!("/schools/{solbakken}/mail?done=unchanged"));
    let updates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'mail_message' AND action = 'update' AND resource_id = $1",
    )
    .bind(later)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(updates, 1);
    let page = app.get(&mut clerk, &format!("/schools/{solbakken}/mail?done=retried")).await;
    assert_eq!(page.html().count("[role=status]"), 1);
    // Once the address works, it goes.
    sqlx::query("UPDATE mail_outbox SET recipient_address = $2 WHERE id = $1")
        .bind(later)
        .bind(unique("kari"))
        .execute(&app.owner)
        .await
        .unwrap();
    let report = delivery::deliver_due(&app.db, &mailer(), at).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 1, retrying: 0, failed: 0 });

    // Another school's message is not this office's to retry, nor is it on its page.
    let ungdom = school(&app, "Fjordvik ungdomsskole").await;
    let other = enqueue_test_message(&app, ungdom, kari, &unique("other")).await;
    sqlx::query("UPDATE mail_outbox SET status = 'failed' WHERE id = $1")
        .bind(other)
        .execute(&app.owner)
        .await
        .unwrap();
    let res = app.post_form(&mut clerk, &format!("/schools/{solbakken}/mail/{other}/retry"), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(state(other).await.0, "failed");
}

/// A server that cannot be reached is a transient failure with a category, not a crash.
#[tokio::test]
async fn an_unreachable_server_is_retried_as_connect_failed() {
    let app = spawn_app().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let kari = app.persona("guardian").await.0;
    let id = enqueue_test_message(&app, solbakken, kari, &unique("kari")).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead =
        Mailer::new(&Secret::new(format!("smtp://127.0.0.1:{port}")), "noreply@fjordvik.kommune.no".parse().unwrap())
            .unwrap();
    let report = delivery::deliver_due(&app.db, &dead, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 0, retrying: 1, failed: 0 });
    let error: Option<String> = sqlx::query_scalar("SELECT last_error FROM mail_outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(error.as_deref(), Some("connect_failed"));
}

/// The commands: `tavle mail weekly-summary --week` enqueues (twice: nothing new) and
/// `tavle mail deliver` sends, as the application's login.
#[tokio::test]
async fn the_mail_commands_enqueue_and_deliver() {
    let app = crate::helpers::spawn_app_at_school().await;
    no_absence(&app).await;
    let oskar = child(&app, "Oskar", "Nordmann").await;
    let kari = app.persona("guardian").await.0;
    let address = unique("kari");
    set_email(&app, kari, Some(&address)).await;
    let (lesson, _, date) = lessons_in_a_week(&app, oskar, 1).await[0];
    sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, registered_by, source) \
         SELECT tenant_id, $1, $2, $3, 'absent', $2, 'office' FROM persons WHERE id = $2",
    )
    .bind(lesson)
    .bind(oskar)
    .bind(date)
    .execute(&app.owner)
    .await
    .unwrap();
    let week = IsoWeek::of(date).key();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tavle"))
            .args(args)
            .env("DATABASE_URL", app.app_database_url())
            .env("TAVLE_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp().port))
            .env("TAVLE_MAIL_FROM", "Tavle Fjordvik <noreply@fjordvik.kommune.no>")
            .env("TAVLE_PUBLIC_URL", "https://tavle.fjordvik.kommune.no")
            .env("TAVLE_LOG", "warn")
            .env("TAVLE_TODAY", app.today.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let first = run(&["mail", "weekly-summary", "--week", &week]);
    assert!(first.starts_with(&format!("{week}: ")) && !first.contains(" 0 new"), "{first}");
    let again = run(&["mail", "weekly-summary", "--week", &week]);
    assert!(again.ends_with(" 0 new in the outbox"), "{again}");
    let sent = run(&["mail", "deliver"]);
    assert!(sent.contains("sent, 0 to retry, 0 failed") && !sent.starts_with("0 sent"), "{sent}");
    assert_eq!(received_for(&address).len(), 1);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_tavle"))
        .args(["mail", "weekly-summary", "--week", "2026-47"])
        .env("DATABASE_URL", app.app_database_url())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--week"));
}

/// The worker `tavle serve` starts: off without `TAVLE_SMTP_URL`; with it, it delivers
/// what is due straight away (and every 30 seconds after).
#[tokio::test]
async fn the_serve_worker_is_off_without_smtp_and_delivers_with_it() {
    let app = spawn_app().await;
    no_absence(&app).await;
    let env = |pairs: &[(&str, String)]| {
        let map = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        tavle::config::Config::from_map(&map).unwrap()
    };
    assert!(delivery::spawn_worker(app.db.clone(), &env(&[])).unwrap().is_none());

    let solbakken = school(&app, "Solbakken skole").await;
    let kari = app.persona("guardian").await.0;
    let address = unique("kari");
    let id = enqueue_test_message(&app, solbakken, kari, &address).await;
    let config = env(&[
        ("TAVLE_SMTP_URL", format!("smtp://127.0.0.1:{}", smtp().port)),
        ("TAVLE_MAIL_FROM", "Tavle <noreply@fjordvik.kommune.no>".to_owned()),
    ]);
    let worker = delivery::spawn_worker(app.db.clone(), &config).unwrap().expect("worker on");
    let mut status = String::new();
    for _ in 0..100 {
        status = sqlx::query_scalar("SELECT status FROM mail_outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
        if status == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.abort();
    assert_eq!(status, "sent");
    assert_eq!(received_for(&address).len(), 1);
}

/// The summary is in the language the guardian last signed in with: Kari signs in in
/// English and gets hers in English; Ola, who has never signed in, gets his in bokmål.
/// Signing in again in bokmål changes Kari's language back.
#[tokio::test]
async fn the_weekly_summary_is_in_the_language_the_guardian_signs_in_with() {
    let app = crate::helpers::spawn_app_at_school().await;
    no_absence(&app).await;
    let oskar = child(&app, "Oskar", "Nordmann").await;
    let kari = app.persona("guardian").await.0;
    let ola = person(&app, "Ola", "Nordmann").await;
    set_email(&app, kari, Some(&unique("kari"))).await;
    set_email(&app, ola, Some(&unique("ola"))).await;
    let (lesson, _, date) = lessons_in_a_week(&app, oskar, 1).await[0];
    sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, registered_by, source) \
         SELECT tenant_id, $1, $2, $3, 'absent', $4, 'office' FROM persons WHERE id = $2",
    )
    .bind(lesson)
    .bind(oskar)
    .bind(date)
    .bind(app.persona("office_clerk").await.0)
    .execute(&app.owner)
    .await
    .unwrap();
    let language = || async {
        sqlx::query_scalar::<_, String>("SELECT lang FROM person_languages WHERE person_id = $1")
            .bind(kari)
            .fetch_optional(&app.owner)
            .await
            .unwrap()
    };

    app.sign_in_in("guardian", "en").await;
    assert_eq!(language().await.as_deref(), Some("en"));
    weekly::enqueue_week(&app.db, &public_url(), IsoWeek::of(date)).await.unwrap();
    let kari_text = &outbox_rows(&app, kari).await[0].2;
    assert!(kari_text.contains("Absent, number of lessons: 1"), "{kari_text}");
    let ola_text = &outbox_rows(&app, ola).await[0].2;
    assert!(ola_text.contains("Fravær, antall timer: 1"), "{ola_text}");
    let subject: String = sqlx::query_scalar("SELECT subject FROM mail_outbox WHERE recipient_id = $1")
        .bind(kari)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(subject.starts_with("Weekly absence summary"), "{subject}");

    app.sign_in_in("guardian", "nb").await;
    assert_eq!(language().await.as_deref(), Some("nb"));
}
