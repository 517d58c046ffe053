//! SMS: texts are enqueued set-wise and once, handed to a real local SMS gateway
//! (dev/sms, started once per test run) with an E.164 number, the municipality's
//! sender and Tavle's reference; transient failures are retried with backoff and
//! permanent ones fail at once; the gateway's delivery reports (sent out of order and
//! twice) reach the webhook over HTTP, which checks the signature and the
//! municipality and stores each report once.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use tavle::config::Config;
use tavle::mail::delivery::DeliveryReport;
use tavle::sms::delivery::{self, deliver_due};
use tavle::sms::gateway::HttpGateway;
use tavle::sms::outbox::{self, Kind, NewSms, State, To, MAX_ATTEMPTS};
use tavle::sms::Number;

use crate::helpers::{spawn_app, spawn_app_with_env, Browser, TestApp};

const TOKEN: &str = "test-token-for-the-local-gateway";
const KEY: &str = "a-webhook-key-of-at-least-32-characters";

// ---------------------------------------------------------------------------------
// The local SMS gateway
// ---------------------------------------------------------------------------------

pub struct Gateway {
    pub port: u16,
    pub dir: PathBuf,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

/// The gateway of this test run: reports come out of order and twice.
pub fn gateway() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dev/sms");
        let dir = std::env::temp_dir().join(format!("tavle-sms-{}", std::process::id()));
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&root)
            .env("SMS_PORT", "0")
            .env("SMS_DIR", &dir)
            .env("SMS_TOKEN", TOKEN)
            .env("SMS_WEBHOOK_SECRET", KEY)
            .env("SMS_REPORTS", "reversed")
            .env("SMS_EXIT_ON_STDIN_CLOSE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node dev/sms/server.mjs (is Node.js installed?)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line).expect("the SMS gateway's ready line");
        let port = u16::try_from(ready["port"].as_u64().unwrap()).unwrap();
        Gateway { port, dir, _child: Mutex::new(child), _stdin: Mutex::new(stdin) }
    })
}

/// What the gateway accepted with `reference`.
fn received(reference: Uuid) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&gateway().dir) else { return out };
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_some_and(|e| e == "json") {
            let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if m["reference"] == reference.to_string() {
                out.push(m);
            }
        }
    }
    out
}

/// A configuration for delivery: the local gateway, and (with `reports_to`) the
/// webhook key and the address Tavle is served at, for reports.
fn config(reports_to: Option<std::net::SocketAddr>) -> Config {
    let mut env = vec![
        ("TAVLE_SMS_URL".to_owned(), format!("http://127.0.0.1:{}/", gateway().port)),
        ("TAVLE_SMS_TOKEN".to_owned(), TOKEN.to_owned()),
    ];
    if let Some(addr) = reports_to {
        env.push(("TAVLE_SMS_WEBHOOK_SECRET".to_owned(), KEY.to_owned()));
        env.push(("TAVLE_PUBLIC_URL".to_owned(), format!("http://{addr}")));
    }
    Config::from_map(&env.into_iter().collect()).unwrap()
}

fn http_gateway(config: &Config) -> Arc<HttpGateway> {
    Arc::new(HttpGateway::from_config(config).unwrap().expect("configured"))
}

/// Guardians of Fjordvik, as many as asked, with a number each from `numbers`.
async fn recipients(app: &TestApp, numbers: &[&str]) -> Vec<(Uuid, Number)> {
    let persons: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT g.guardian_id FROM guardianships g JOIN tenants t ON t.id = g.tenant_id \
         WHERE t.slug = 'fjordvik' ORDER BY g.guardian_id LIMIT $1",
    )
    .bind(i64::try_from(numbers.len()).unwrap())
    .fetch_all(&app.owner)
    .await
    .unwrap();
    persons.into_iter().zip(numbers).map(|(p, n)| (p, Number::parse(n).unwrap())).collect()
}

async fn enqueue(app: &TestApp, key: &str, body: &str, to: &[(Uuid, Number)]) -> tavle::error::Result<Vec<Uuid>> {
    let tenant = app.tenant_id("fjordvik").await;
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let sms = NewSms { kind: Kind::EmergencyNotice, dedupe_key: key, school_id: None };
    let to: Vec<To> = to
        .iter()
        .map(|(person, number)| To { person: *person, number: number.clone(), body: body.to_owned() })
        .collect();
    let ids = outbox::enqueue(tavle::db::Conn::new(&mut tx, tenant), &sms, &to).await?;
    tx.commit().await.unwrap();
    Ok(ids)
}

async fn states(app: &TestApp, ids: &[Uuid]) -> Vec<State> {
    let tenant = app.tenant_id("fjordvik").await;
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let states = outbox::states(tavle::db::Conn::new(&mut tx, tenant), ids).await.unwrap();
    tx.commit().await.unwrap();
    let by_id: std::collections::HashMap<Uuid, State> = states.into_iter().collect();
    ids.iter().map(|id| by_id[id]).collect()
}

/// Wait (up to 10 s) until every message is in a final state.
async fn settled(app: &TestApp, ids: &[Uuid]) -> Vec<State> {
    for _ in 0..100 {
        let now = states(app, ids).await;
        if now.iter().all(|s| matches!(s, State::Delivered | State::Undelivered)) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    states(app, ids).await
}

async fn row(app: &TestApp, id: Uuid) -> (String, i16, Option<String>, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error, gateway_id FROM sms_outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post_report(app: &TestApp, tenant: Uuid, body: &str, signature: Option<String>) -> StatusCode {
    let mut req = Request::post(format!("/sms/reports/{tenant}")).header("content-type", "application/json");
    if let Some(s) = signature {
        req = req.header("x-signature", s);
    }
    app.request(&mut Browser::default(), req.body(Body::from(body.to_owned())).unwrap()).await.status
}

async fn reports(app: &TestApp, id: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT status FROM sms_reports WHERE sms_id = $1 ORDER BY status")
        .bind(id)
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

/// Three texts go to the gateway in one round with the number in E.164, the
/// municipality's sender, the text and Tavle's id as reference; the gateway reports
/// each as delivered, then buffered, then delivered again, over HTTP to the webhook,
/// and each ends delivered with one row per status.
#[tokio::test]
async fn texts_reach_the_gateway_and_out_of_order_reports_settle_as_delivered() {
    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[("TAVLE_SMS_WEBHOOK_SECRET", KEY)]).await;
    let server = app.serve().await;
    sqlx::query("UPDATE tenants SET sms_sender = 'Fjordvik' WHERE slug = 'fjordvik'")
        .execute(&app.owner)
        .await
        .unwrap();
    let to = recipients(&app, &["912 34 567", "+47 41234567", "0047 93456789"]).await;
    let body = "Fjordvik kommune: viktig melding fra skolen. Les den i Tavle: https://tavle.fjordvik.kommune.no/";
    let ids = enqueue(&app, "notice-1", body, &to).await.unwrap();
    assert_eq!(ids.len(), 3);

    let config = config(Some(server.addr));
    let report = deliver_due(&app.db, &http_gateway(&config), &config, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 3, retrying: 0, failed: 0 });

    let tenant = app.tenant_id("fjordvik").await;
    for (id, number) in ids.iter().zip(["+4791234567", "+4741234567", "+4793456789"]) {
        let got = received(*id);
        assert_eq!(got.len(), 1, "one message per reference");
        let id_at_gateway = got[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(got[0]["to"], number);
        assert_eq!(got[0]["from"], "Fjordvik");
        assert_eq!(got[0]["text"], body);
        assert_eq!(got[0]["callback"], format!("http://{}/sms/reports/{tenant}", server.addr));
        assert_eq!(row(&app, *id).await, ("sent".to_owned(), 1, None, Some(id_at_gateway)));
    }
    assert_eq!(settled(&app, &ids).await, [State::Delivered; 3]);
    // Let the repeated report arrive too; it is stored once.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for id in &ids {
        assert_eq!(reports(&app, *id).await, ["buffered", "delivered"]);
    }
    // Nothing is due any more.
    let again = deliver_due(&app.db, &http_gateway(&config), &config, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(again, DeliveryReport::default());
}

/// The gateway's 503 is retried after 10, 20, 40 … seconds until the cap; a 400 fails
/// at once; a 503 the first time goes on the second try; a number the network cannot
/// reach ends undelivered by its report.
#[tokio::test]
async fn transient_failures_are_retried_with_backoff_and_refusals_fail_at_once() {
    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[("TAVLE_SMS_WEBHOOK_SECRET", KEY)]).await;
    let server = app.serve().await;
    let to = recipients(&app, &["+47 400 00 501", "+47 400 00 401", "+47 400 00 301", "+47 400 00 601"]).await;
    let ids = enqueue(&app, "notice-2", "Skolen er stengt i dag. Les mer i Tavle.", &to).await.unwrap();
    let (busy, refused, flaky, unreachable) = (ids[0], ids[1], ids[2], ids[3]);
    let config = config(Some(server.addr));
    let gw = http_gateway(&config);
    let t0 = OffsetDateTime::now_utc();

    let first = deliver_due(&app.db, &gw, &config, t0).await.unwrap();
    assert_eq!(first, DeliveryReport { sent: 1, retrying: 2, failed: 1 });
    assert_eq!(row(&app, refused).await, ("failed".to_owned(), 1, Some("http_400".to_owned()), None));
    assert_eq!(row(&app, busy).await.0, "pending");
    assert_eq!(row(&app, busy).await.2.as_deref(), Some("http_503"));
    // Not due again before the backoff has passed.
    assert_eq!(deliver_due(&app.db, &gw, &config, t0 + Duration::seconds(9)).await.unwrap(), DeliveryReport::default());
    let second = deliver_due(&app.db, &gw, &config, t0 + Duration::seconds(10)).await.unwrap();
    assert_eq!(second, DeliveryReport { sent: 1, retrying: 1, failed: 0 });
    assert_eq!(row(&app, flaky).await.0, "sent");
    assert_eq!(received(flaky).len(), 1, "accepted once");

    let mut at = t0 + Duration::seconds(10);
    for attempt in 2..MAX_ATTEMPTS {
        at += outbox::backoff(attempt);
        let round = deliver_due(&app.db, &gw, &config, at).await.unwrap();
        let expected = if attempt + 1 == MAX_ATTEMPTS {
            DeliveryReport { sent: 0, retrying: 0, failed: 1 }
        } else {
            DeliveryReport { sent: 0, retrying: 1, failed: 0 }
        };
        assert_eq!(round, expected, "attempt {}", attempt + 1);
    }
    assert_eq!(row(&app, busy).await, ("failed".to_owned(), MAX_ATTEMPTS, Some("http_503".to_owned()), None));
    assert!(received(busy).is_empty() && received(refused).is_empty());
    assert_eq!(settled(&app, &[flaky, unreachable]).await, [State::Delivered, State::Undelivered]);
    assert_eq!(states(&app, &[busy, refused]).await, [State::Refused, State::Refused]);
}

/// A wrong token is a permanent refusal (401); a gateway that does not answer is a
/// transient `connect_failed`.
#[tokio::test]
async fn a_wrong_token_fails_and_an_unreachable_gateway_is_retried() {
    let app = spawn_app().await;
    let to = recipients(&app, &["912 34 567", "913 34 567"]).await;
    let ids = enqueue(&app, "notice-3", "Les meldingen i Tavle.", &to).await.unwrap();
    let wrong = Config::from_map(
        &[
            ("TAVLE_SMS_URL".to_owned(), format!("http://127.0.0.1:{}", gateway().port)),
            ("TAVLE_SMS_TOKEN".to_owned(), "not-the-token".to_owned()),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap();
    let report = deliver_due(&app.db, &http_gateway(&wrong), &wrong, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 0, retrying: 0, failed: 2 });
    assert_eq!(row(&app, ids[0]).await.2.as_deref(), Some("http_401"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ids = enqueue(&app, "notice-4", "Les meldingen i Tavle.", &to).await.unwrap();
    let nowhere = Config::from_map(
        &[
            ("TAVLE_SMS_URL".to_owned(), format!("http://127.0.0.1:{closed}")),
            ("TAVLE_SMS_TOKEN".to_owned(), TOKEN.to_owned()),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap();
    let report = deliver_due(&app.db, &http_gateway(&nowhere), &nowhere, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report, DeliveryReport { sent: 0, retrying: 2, failed: 0 });
    assert_eq!(row(&app, ids[0]).await, ("pending".to_owned(), 1, Some("connect_failed".to_owned()), None));
}

/// Enqueueing is idempotent per (kind, recipient, key), and refuses a text Tavle must
/// not send: one holding a national id number, or longer than four parts.
#[tokio::test]
async fn enqueueing_is_once_per_key_and_refuses_what_must_not_be_sent() {
    let app = spawn_app().await;
    let to = recipients(&app, &["912 34 567", "913 34 567"]).await;
    assert_eq!(enqueue(&app, "once", "Les i Tavle.", &to).await.unwrap().len(), 2);
    assert!(enqueue(&app, "once", "Les i Tavle.", &to).await.unwrap().is_empty());
    assert_eq!(enqueue(&app, "twice", "Les i Tavle.", &to[..1]).await.unwrap().len(), 1);
    let national_id: String =
        sqlx::query_scalar("SELECT national_id FROM persons WHERE national_id IS NOT NULL ORDER BY id LIMIT 1")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(enqueue(&app, "id", &format!("Gjelder {national_id}, les i Tavle."), &to).await.is_err());
    assert!(enqueue(&app, "long", &"a".repeat(4 * 153 + 1), &to).await.is_err());
    assert!(enqueue(&app, "long", &"a".repeat(4 * 153), &to).await.is_ok());
    let sender: String =
        sqlx::query_scalar("SELECT DISTINCT sender FROM sms_outbox").fetch_one(&app.owner).await.unwrap();
    assert_eq!(sender, outbox::DEFAULT_SENDER);
}

/// The webhook: no key configured is 404; an unsigned or wrongly signed report is 401
/// and stores nothing; a report posted to another municipality's address stores
/// nothing; the same report twice is one row; a status Tavle has no use for, and a
/// malformed body, store nothing.
#[tokio::test]
async fn the_webhook_checks_signature_and_municipality_and_stores_a_report_once() {
    let off = spawn_app().await;
    let tenant = off.tenant_id("fjordvik").await;
    let body = format!(r#"{{"reference":"{}","status":"delivered"}}"#, Uuid::new_v4());
    assert_eq!(post_report(&off, tenant, &body, Some(sign(&body))).await, StatusCode::NOT_FOUND);

    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[("TAVLE_SMS_WEBHOOK_SECRET", KEY)]).await;
    let fjordvik = app.tenant_id("fjordvik").await;
    let other: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug <> 'fjordvik' ORDER BY slug LIMIT 1")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let to = recipients(&app, &["912 34 567"]).await;
    let id = enqueue(&app, "notice-5", "Les i Tavle.", &to).await.unwrap()[0];
    let body = format!(r#"{{"id":"gw-1","reference":"{id}","status":"delivered","at":"2026-12-08T07:05:00Z"}}"#);

    assert_eq!(post_report(&app, fjordvik, &body, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_report(&app, fjordvik, &body, Some(sign("{}"))).await, StatusCode::UNAUTHORIZED);
    assert_eq!(post_report(&app, fjordvik, &body, Some(sign(&body).to_uppercase())).await, StatusCode::UNAUTHORIZED);
    assert!(reports(&app, id).await.is_empty());

    assert_eq!(post_report(&app, other, &body, Some(sign(&body))).await, StatusCode::NO_CONTENT);
    assert!(reports(&app, id).await.is_empty(), "another municipality's address touches nothing");
    assert_eq!(post_report(&app, Uuid::nil(), &body, Some(sign(&body))).await, StatusCode::NO_CONTENT);
    assert_eq!(post_report(&off, fjordvik, "x", Some(sign("x"))).await, StatusCode::NOT_FOUND);
    let bad_path = Request::post("/sms/reports/not-a-uuid").body(Body::from(body.clone())).unwrap();
    assert_eq!(app.request(&mut Browser::default(), bad_path).await.status, StatusCode::NOT_FOUND);

    assert_eq!(post_report(&app, fjordvik, &body, Some(sign(&body))).await, StatusCode::NO_CONTENT);
    assert_eq!(post_report(&app, fjordvik, &body, Some(sign(&body))).await, StatusCode::NO_CONTENT);
    assert_eq!(reports(&app, id).await, ["delivered"]);
    let at: OffsetDateTime = sqlx::query_scalar("SELECT reported_at FROM sms_reports WHERE sms_id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(at, time::macros::datetime!(2026-12-08 07:05 UTC));

    let accepted = format!(r#"{{"reference":"{id}","status":"accepted"}}"#);
    assert_eq!(post_report(&app, fjordvik, &accepted, Some(sign(&accepted))).await, StatusCode::NO_CONTENT);
    let broken = r#"{"reference":"nope","status":"delivered"}"#;
    assert_eq!(post_report(&app, fjordvik, broken, Some(sign(broken))).await, StatusCode::BAD_REQUEST);
    assert_eq!(reports(&app, id).await, ["delivered"]);
}

/// `tavle serve`'s worker is off without `TAVLE_SMS_URL`; with it, an enqueued text
/// goes as soon as the worker is woken, well before its 15-second poll.
#[tokio::test]
async fn the_serve_worker_is_off_without_a_gateway_and_sends_when_woken() {
    let app = spawn_app().await;
    assert!(delivery::spawn_worker(app.db.clone(), &Config::from_map(&Default::default()).unwrap()).unwrap().is_none());
    let worker = delivery::spawn_worker(app.db.clone(), &config(None)).unwrap().expect("worker on");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let to = recipients(&app, &["912 34 567"]).await;
    let id = enqueue(&app, "notice-6", "Les i Tavle.", &to).await.unwrap()[0];
    delivery::wake();
    let mut status = String::new();
    for _ in 0..50 {
        status = row(&app, id).await.0;
        if status == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.abort();
    assert_eq!(status, "sent");
    assert!(received(id)[0].get("callback").is_none(), "no key: no reports asked for");
}
