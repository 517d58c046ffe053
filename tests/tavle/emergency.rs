//! Emergency notices: Solbakken's office clerk previews and sends an exercise to every
//! guardian of the school; each guardian reached gets an SMS that names nobody (the
//! school's name, ØVELSE and a personal link) and an e-mail; guardians confirm by the
//! link without signing in or by answering OK; the crisis page lists the households
//! nobody has confirmed with the guardians' phone numbers, and resends to them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use tavle::policy::recipients::{self, To};

use crate::helpers::{spawn_app_with_env, Browser, TestApp, TestResponse};

const KEY: &str = "a-webhook-key-of-at-least-32-characters";

async fn post_fields(app: &TestApp, b: &mut Browser, path: &str, fields: &[(&str, String)]) -> TestResponse {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(b, path, &refs).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap()
}

async fn solbakken(app: &TestApp) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Solbakken skole'").fetch_one(&app.owner).await.unwrap()
}

fn fields(kind: &str, action: &str, print: &str) -> Vec<(&'static str, String)> {
    vec![
        ("body", "Brannøvelse: elevene er samlet på fotballbanen. Hent ikke barna.".to_owned()),
        ("kind", kind.to_owned()),
        ("action", action.to_owned()),
        ("fingerprint", print.to_owned()),
    ]
}

/// The `/e/…` path of a link in a text.
fn link_path(text: &str) -> String {
    let start = text.find("/e/").expect("a link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn signed(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn an_exercise_reaches_every_guardian_and_confirmations_empty_the_crisis_list() {
    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[("TAVLE_SMS_WEBHOOK_SECRET", KEY)]).await;
    let school = solbakken(&app).await;
    let tenant = app.tenant_id("fjordvik").await;
    let r = {
        let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
        recipients::resolve(tavle::db::Conn::new(&mut tx, tenant), To::School(school), app.today).await.unwrap()
    };
    assert!(r.reached.len() > 20, "{}", r.reached.len());
    let mut clerk = app.sign_in_as("office_clerk").await;
    let path = format!("/schools/{school}/emergency");
    assert_eq!(app.get(&mut clerk, &path).await.status, StatusCode::OK);

    // Real or exercise is chosen every time; what was typed is kept.
    let res = post_fields(&app, &mut clerk, &path, &fields("", "preview", "")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.html().count("#kind-real[aria-invalid=true]") == 1, "the choice is marked");
    assert!(res.body.contains("Brannøvelse: elevene er samlet"), "the text is kept");
    let none = count(&app, "SELECT count(*) FROM emergency_notices").await;

    // Sending without the preview's fingerprint shows the preview and sends nothing.
    let res = post_fields(&app, &mut clerk, &path, &fields("exercise", "send", "")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app, "SELECT count(*) FROM emergency_notices").await, none);
    let preview = post_fields(&app, &mut clerk, &path, &fields("exercise", "preview", "")).await;
    assert_eq!(preview.status, StatusCode::OK);
    let page = preview.html();
    // Those only their KRR reservation keeps from messages get an emergency notice too.
    let reached = r.reached.len() + r.on_paper().count();
    assert!(page.select_texts("#summary")[0].contains(&format!("når {reached} foresatte")));
    let sample = &page.select_texts("#sms-sample")[0];
    assert!(sample.starts_with("ØVELSE: Viktig melding fra Solbakken skole."), "{sample}");
    assert!(sample.contains("/e/fjordvik/") && !sample.contains('%'), "a link as it will read: {sample}");
    assert!(page.select_texts("#sms-parts")[0].contains("GSM-7"), "{:?}", page.select_texts("#sms-parts"));
    let print = page.select_first_attr("input[name=fingerprint]", "value").unwrap();
    let sent = post_fields(&app, &mut clerk, &path, &fields("exercise", "send", &print)).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let notice: Uuid = sqlx::query_scalar("SELECT id FROM emergency_notices WHERE body LIKE 'Brannøvelse: elevene%'")
        .fetch_one(&app.owner)
        .await
        .unwrap();

    // One SMS per guardian reached with a mobile number; it names nobody.
    let sms: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT recipient_id, recipient_number, body FROM sms_outbox WHERE dedupe_key = $1")
            .bind(format!("{notice}-1"))
            .fetch_all(&app.owner)
            .await
            .unwrap();
    let with_mobile = r.reached.iter().filter(|x| x.phone.as_deref().and_then(tavle::sms::Number::parse).is_some());
    assert!(sms.len() >= with_mobile.count() && !sms.is_empty());
    let numbers = count(
        &app,
        &format!("SELECT count(*) FROM emergency_recipients WHERE notice_id = '{notice}' AND number IS NOT NULL"),
    )
    .await;
    assert_eq!(sms.len() as i64, numbers, "an SMS to every recipient with a mobile number");
    let recipients =
        count(&app, &format!("SELECT count(*) FROM emergency_recipients WHERE notice_id = '{notice}'")).await;
    assert_eq!(recipients as usize, reached);
    let names: Vec<(String, String)> =
        sqlx::query_as("SELECT given_name, family_name FROM persons WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(&app.owner)
            .await
            .unwrap();
    for (_, _, body) in &sms {
        assert!(body.starts_with("ØVELSE: ") || body.starts_with("EXERCISE: "), "{body}");
        assert!(body.contains("/e/fjordvik/"));
        for (given, family) in &names {
            assert!(!body.contains(&format!("{given} {family}")), "{body} names {given} {family}");
        }
    }
    let links: std::collections::BTreeSet<String> = sms.iter().map(|(_, _, b)| link_path(b)).collect();
    assert_eq!(links.len(), sms.len(), "a link each");
    let mails = count(&app, &format!("SELECT count(*) FROM mail_outbox WHERE dedupe_key = '{notice}'")).await;
    assert!(mails >= r.reached.iter().filter(|x| x.email.is_some()).count() as i64 && mails > 0);

    let households =
        count(&app, &format!("SELECT count(*) FROM emergency_households WHERE notice_id = '{notice}'")).await;
    let crisis = app.get(&mut clerk, &format!("/emergency/{notice}")).await;
    assert_eq!(crisis.status, StatusCode::OK);
    let page = crisis.html();
    assert_eq!(page.select_attrs("#confirmed", "data-confirmed"), ["0"]);
    assert_eq!(page.count("[data-household]") as i64, households);
    assert_eq!(page.count("#exercise"), 1, "labelled an exercise");

    // A guardian follows the link without signing in and confirms.
    let (first, _, body) = &sms[0];
    let mut anyone = Browser::default();
    let link = link_path(body);
    let shown = app.get(&mut anyone, &link).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Brannøvelse: elevene er samlet"));
    let done = app.post_form(&mut anyone, &link, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&mut anyone, &link).await.html().count("#status"), 1, "thanked");
    let how: Option<String> =
        sqlx::query_scalar("SELECT confirmed_how FROM emergency_recipients WHERE notice_id = $1 AND person_id = $2")
            .bind(notice)
            .bind(first)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(how.as_deref(), Some("link"));
    // A link with one letter changed is not found.
    let mut wrong = link.clone();
    let last = if wrong.ends_with('a') { 'b' } else { 'a' };
    wrong.pop();
    wrong.push(last);
    assert_eq!(app.get(&mut Browser::default(), &wrong).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&mut Browser::default(), &link.replace("/fjordvik/", "/smaoy/")).await.status,
        StatusCode::NOT_FOUND
    );

    // Another answers OK by SMS (signed by the gateway).
    let (second, number, _) = sms.iter().find(|(p, _, _)| p != first).unwrap();
    let answer = format!(r#"{{"from":"{number}","text":"Ok takk"}}"#);
    let inbound = Request::post(format!("/sms/inbound/{tenant}"))
        .header("content-type", "application/json")
        .header("x-signature", signed(&answer))
        .body(Body::from(answer.clone()))
        .unwrap();
    assert_eq!(app.request(&mut Browser::default(), inbound).await.status, StatusCode::NO_CONTENT);
    let unsigned = Request::post(format!("/sms/inbound/{tenant}")).body(Body::from(answer)).unwrap();
    assert_eq!(app.request(&mut Browser::default(), unsigned).await.status, StatusCode::UNAUTHORIZED);
    let confirmed: Vec<Uuid> = sqlx::query_scalar(
        "SELECT person_id FROM emergency_recipients WHERE notice_id = $1 AND confirmed_at IS NOT NULL ORDER BY 1",
    )
    .bind(notice)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut expected = vec![*first, *second];
    expected.sort();
    assert_eq!(confirmed, expected);

    // Their households leave the list; the office marks one more reached by phone.
    let listed = |page: &TestResponse| -> Vec<Uuid> {
        page.html().select_attrs("[data-household]", "data-household").iter().map(|s| s.parse().unwrap()).collect()
    };
    let open = listed(&app.get(&mut clerk, &format!("/emergency/{notice}")).await);
    let theirs: Vec<Uuid> = r
        .reached
        .iter()
        .filter(|x| x.person_id == *first || x.person_id == *second)
        .flat_map(|x| x.pupils.clone())
        .collect();
    assert!(theirs.iter().all(|p| !open.contains(p)), "confirmed households are gone");
    assert_eq!(open.len() as i64, households - theirs.iter().collect::<std::collections::BTreeSet<_>>().len() as i64);
    let call = open[0];
    let res = post_fields(&app, &mut clerk, &format!("/emergency/{notice}/households/{call}/reached"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let after = listed(&app.get(&mut clerk, &format!("/emergency/{notice}")).await);
    assert_eq!(after.len(), open.len() - 1);
    assert!(!after.contains(&call));

    // Resending goes to the unconfirmed only, with new links; the old ones still work.
    let res = post_fields(&app, &mut clerk, &format!("/emergency/{notice}/resend"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let again: Vec<Uuid> = sqlx::query_scalar("SELECT recipient_id FROM sms_outbox WHERE dedupe_key = $1")
        .bind(format!("{notice}-2"))
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert!(!again.is_empty());
    assert!(!again.contains(first) && !again.contains(second), "not to those who confirmed");
    assert!(again.len() < sms.len());
    assert_eq!(app.get(&mut Browser::default(), &link).await.status, StatusCode::OK);
    let audited = count(
        &app,
        &format!(
            "SELECT count(*) FROM audit_events WHERE resource = 'emergency_notice' AND resource_id = '{notice}' \
               AND action = 'create' AND cardinality(subject_ids) = {households}"
        ),
    )
    .await;
    assert_eq!(audited, 1, "the sending, with the households as subjects");
}

/// A teacher, a department head, a guardian and the municipal director get "not found"
/// for Solbakken's notice page, and nothing is sent (the matrix has every role).
#[tokio::test]
async fn only_the_schools_office_and_principal_alert_it() {
    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[]).await;
    let school = solbakken(&app).await;
    let before = count(&app, "SELECT count(*) FROM emergency_notices").await;
    for persona in ["teacher", "contact_teacher", "department_head", "guardian", "municipal_director"] {
        let mut b = app.sign_in_as(persona).await;
        let res =
            post_fields(&app, &mut b, &format!("/schools/{school}/emergency"), &fields("real", "preview", "")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{persona}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM emergency_notices").await, before);
}

/// Features are off in a municipality that has not turned them on (Småøy); Fjordvik's
/// system administrator turns one off and on again, audited once per change; nobody
/// else may, and a form no page sends is a bad request.
#[tokio::test]
async fn features_are_off_until_the_system_administrator_turns_them_on() {
    use tavle::policy::features::{self, Feature};
    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[]).await;
    let smaoy = app.tenant_id("smaoy").await;
    let mut tx = tavle::db::begin(&app.db, smaoy).await.unwrap();
    for f in Feature::ALL {
        assert!(!features::enabled(tavle::db::Conn::new(&mut tx, smaoy), *f).await.unwrap(), "{f:?} in Småøy");
    }
    tx.commit().await.unwrap();

    let mut admin = app.sign_in_as("system_admin").await;
    let page = app.get(&mut admin, "/admin/features").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().select_attrs("[data-feature=sms]", "data-on"), ["true"], "the demo has SMS on");
    let audits = || count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'tenant_features'");
    let before = audits().await;
    let off = [("feature", "sms".to_owned()), ("enabled", "0".to_owned())];
    let res = post_fields(&app, &mut admin, "/admin/features", &off).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(post_fields(&app, &mut admin, "/admin/features", &off).await.status, StatusCode::SEE_OTHER);
    assert_eq!(audits().await, before + 1, "one change, one audit row");
    let page = app.get(&mut admin, "/admin/features").await;
    assert_eq!(page.html().select_attrs("[data-feature=sms]", "data-on"), ["false"]);
    for bad in [[("feature", "chat"), ("enabled", "1")], [("feature", "sms"), ("enabled", "yes")]] {
        let fields: Vec<(&str, String)> = bad.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        assert_eq!(post_fields(&app, &mut admin, "/admin/features", &fields).await.status, StatusCode::BAD_REQUEST);
    }
    let mut clerk = app.sign_in_as("office_clerk").await;
    let on = [("feature", "sms".to_owned()), ("enabled", "1".to_owned())];
    assert_eq!(post_fields(&app, &mut clerk, "/admin/features", &on).await.status, StatusCode::NOT_FOUND);
    assert_eq!(audits().await, before + 1);

    // With SMS off, a notice goes by e-mail alone, the preview says so, and there is no
    // resending by SMS.
    let school = solbakken(&app).await;
    let path = format!("/schools/{school}/emergency");
    let preview = post_fields(&app, &mut clerk, &path, &fields("real", "preview", "")).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert_eq!(preview.html().count("#sms-off"), 1);
    assert_eq!(preview.html().count("#sms-sample"), 0);
    let print = preview.html().select_first_attr("input[name=fingerprint]", "value").unwrap();
    let sent = post_fields(&app, &mut clerk, &path, &fields("real", "send", &print)).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let notice: Uuid =
        sqlx::query_scalar("SELECT id FROM emergency_notices WHERE NOT exercise").fetch_one(&app.owner).await.unwrap();
    assert_eq!(count(&app, &format!("SELECT count(*) FROM sms_outbox WHERE dedupe_key LIKE '{notice}%'")).await, 0);
    assert!(count(&app, &format!("SELECT count(*) FROM mail_outbox WHERE dedupe_key = '{notice}'")).await > 0);
    let res = post_fields(&app, &mut clerk, &format!("/emergency/{notice}/resend"), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

/// With answers to group messages off, Kari reads her copy of the class's message but
/// cannot answer it; turned on again, she can.
#[tokio::test]
async fn a_group_message_is_answered_only_where_the_municipality_allows_it() {
    let app = spawn_app_with_env(tavle::config::Mode::Demo, &[]).await;
    let (kari, _) = app.persona("guardian").await;
    let copy: Uuid = sqlx::query_scalar(
        "SELECT t.id FROM message_threads t JOIN thread_participants p ON p.thread_id = t.id \
         WHERE t.broadcast_id IS NOT NULL AND p.person_id = $1",
    )
    .bind(kari)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let set = |on: bool| {
        sqlx::query("UPDATE tenant_features SET enabled = $1 WHERE feature = 'group_replies'")
            .bind(on)
            .execute(&app.owner)
    };
    set(false).await.unwrap();
    let mut b = app.sign_in_as("guardian").await;
    let page = app.get(&mut b, &format!("/messages/{copy}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("#no-answers"), 1);
    assert_eq!(page.html().count("textarea#body"), 0);
    let reply = [("body", "Vi kommer!".to_owned())];
    assert_eq!(
        post_fields(&app, &mut b, &format!("/messages/{copy}/reply"), &reply).await.status,
        StatusCode::FORBIDDEN
    );
    set(true).await.unwrap();
    let page = app.get(&mut b, &format!("/messages/{copy}")).await;
    assert_eq!(page.html().count("#no-answers"), 0);
    assert_eq!(
        post_fields(&app, &mut b, &format!("/messages/{copy}/reply"), &reply).await.status,
        StatusCode::SEE_OTHER
    );
}
