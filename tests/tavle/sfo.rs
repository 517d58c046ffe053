//! SFO attendance: arrival, departure and who collected the child, recorded by the
//! SFO staff of the child's own school; idempotent per child and day; every bad
//! input refused by the field with nothing stored; no free text; audited.

use axum::http::StatusCode;
use time::{Date, Duration};
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app_at_school as spawn_app, Browser, TestApp, TestResponse};

struct Fix {
    oskar: Uuid,
    /// Oskar's SFO group at Solbakken.
    group: Uuid,
    kari: Uuid,
    ola: Uuid,
    today: Date,
}

async fn uuid(app: &TestApp, sql: &str) -> Uuid {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn fix(app: &TestApp) -> Fix {
    let oskar = uuid(
        app,
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .await;
    let group = uuid(
        app,
        &format!(
            "SELECT g.id FROM groups g JOIN group_memberships m ON m.group_id = g.id \
             WHERE g.kind = 'sfo' AND m.pupil_id = '{oskar}'"
        ),
    )
    .await;
    let parent = |given: &str| {
        format!(
            "SELECT guardian_id FROM guardianships g JOIN persons p ON p.id = g.guardian_id \
             WHERE g.pupil_id = '{oskar}' AND p.given_name = '{given}'"
        )
    };
    Fix { oskar, group, kari: uuid(app, &parent("Kari")).await, ola: uuid(app, &parent("Ola")).await, today: app.today }
}

fn iso(d: Date) -> String {
    crate::absence::iso(d)
}

fn day_path(f: &Fix) -> String {
    format!("/sfo/groups/{}/attendance", f.group)
}

fn post_path(f: &Fix, pupil: Uuid) -> String {
    format!("/sfo/groups/{}/attendance/{pupil}", f.group)
}

/// (arrived_at, left_at, guardian, contact, code) of the child's record that day.
type Record = (String, Option<String>, Option<Uuid>, Option<Uuid>, Option<String>);

async fn records(app: &TestApp, pupil: Uuid) -> Vec<(Date, Record)> {
    type Row = (Date, String, Option<String>, Option<Uuid>, Option<Uuid>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT date, to_char(arrived_at, 'HH24:MI'), to_char(left_at, 'HH24:MI'), collected_by_guardian, \
                collected_by_contact, collected_by_code FROM sfo_attendance WHERE pupil_id = $1 ORDER BY date",
    )
    .bind(pupil)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    rows.into_iter().map(|(d, a, l, g, c, k)| (d, (a, l, g, c, k))).collect()
}

/// Pretend the child arrived at midnight, so that "left now" is after the arrival.
async fn backdate_arrival(app: &TestApp, pupil: Uuid) {
    sqlx::query("UPDATE sfo_attendance SET arrived_at = '00:00' WHERE pupil_id = $1")
        .bind(pupil)
        .execute(&app.owner)
        .await
        .unwrap();
    // In the first minute after midnight in Norway, "now" is 00:00 too, and leaving in
    // the minute of arrival is refused: wait for 00:01 (a CI run once met midnight).
    loop {
        let midnight: bool = sqlx::query_scalar("SELECT (now() AT TIME ZONE 'Europe/Oslo')::time < '00:01'")
            .fetch_one(&app.owner)
            .await
            .unwrap();
        if !midnight {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

async fn sfo_audit(app: &TestApp, action: &str, subject: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = $1 AND $2 = ANY(subject_ids) \
           AND resource = 'sfo_attendance'",
    )
    .bind(action)
    .bind(subject)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn post(app: &TestApp, b: &mut Browser, f: &Fix, pupil: Uuid, fields: &[(&str, &str)]) -> TestResponse {
    app.post_form(b, &post_path(f, pupil), fields).await
}

fn done(f: &Fix, date: Date, what: &str) -> String {
    format!("{}?date={}&done={what}#child-{}", day_path(f), iso(date), f.oskar)
}

#[track_caller]
fn assert_422_at(res: &TestResponse, selector: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &res.body[..res.body.len().min(2000)]);
    let html = res.html();
    assert_eq!(html.count(selector), 1, "no message {selector}");
    assert!(html.count(".ds-error-summary a") >= 1, "no error summary");
}

#[tokio::test]
async fn arrival_and_departure_with_a_collector_are_shown_once_and_audited() {
    let app = spawn_app().await;
    let f = fix(&app).await;
    let today = iso(f.today);
    let mut staff = app.sign_in_as("sfo_staff").await;

    // The SFO page lists Solbakken's groups; Oskar is on his group's day list.
    let groups = app.get(&mut staff, "/sfo").await;
    assert_eq!(groups.status, StatusCode::OK);
    assert!(groups.html().count(&format!("a[href='{}']", day_path(&f))) == 1, "Oskar's group is listed");
    let page = app.get(&mut staff, &day_path(&f)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let row = format!("#child-{}", f.oskar);
    assert_eq!(html.count(&format!("{row} input[name=action][value=arrive]")), 1);
    // Only what the door needs: Oskar's guardians by name, nothing of their contact details.
    let options = html.select_texts(&format!("{row} select[name=collector] option"));
    assert!(options.iter().any(|o| o.starts_with("Kari Nordmann")), "{options:?}");
    assert!(!page.body.contains("@epost.example"), "an e-mail address is shown");
    assert_eq!(sfo_audit(&app, "read", f.oskar).await, 1);

    // Arrived now, twice: one record, the first time kept.
    let res = post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "arrive")]).await;
    assert_redirects_to(&res, &done(&f, f.today, "arrived"));
    let first = records(&app, f.oskar).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, f.today);
    let res = post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "arrive")]).await;
    assert_redirects_to(&res, &done(&f, f.today, "unchanged"));
    assert_eq!(records(&app, f.oskar).await, first);
    assert_eq!(sfo_audit(&app, "create", f.oskar).await, 1);

    // Left now, collected by Kari; a second "left" (by Ola) changes nothing.
    backdate_arrival(&app, f.oskar).await;
    let kari = format!("guardian-{}", f.kari);
    let res = post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "leave"), ("collector", &kari)]).await;
    assert_redirects_to(&res, &done(&f, f.today, "left"));
    let ola = format!("guardian-{}", f.ola);
    let res = post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "leave"), ("collector", &ola)]).await;
    assert_redirects_to(&res, &done(&f, f.today, "unchanged"));
    let saved = records(&app, f.oskar).await;
    assert_eq!(saved.len(), 1);
    let (arrived, left, guardian, contact, code) = saved[0].1.clone();
    assert_eq!(arrived, "00:00");
    assert!(left.is_some());
    assert_eq!((guardian, contact, code), (Some(f.kari), None, None));
    assert_eq!(sfo_audit(&app, "update", f.oskar).await, 1);

    // The list shows it, and the other quick buttons are gone.
    let page = app.get(&mut staff, &format!("{}?date={today}", day_path(&f))).await;
    let html = page.html();
    let line = html.select_texts(&format!("{row} p")).join(" ");
    assert!(line.contains("Gikk hjem") && line.contains("Kari Nordmann (foresatt)"), "{line}");
    assert_eq!(html.count(&format!("{row} input[name=action][value=leave]")), 0);
    assert_eq!(sfo_audit(&app, "read", f.oskar).await, 2);
    let roles: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT actor_role, purpose FROM audit_events WHERE resource = 'sfo_attendance' AND $1 = ANY(subject_ids)",
    )
    .bind(f.oskar)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(roles, [("sfo_staff".to_owned(), "sfo_care".to_owned())]);

    // Kari sees it on her own SFO page (Min side).
    let mut kari_browser = app.sign_in_as("guardian").await;
    let mine = app.get(&mut kari_browser, "/sfo").await;
    assert_eq!(mine.status, StatusCode::OK);
    let text = mine.html().select_texts(&format!("section[aria-labelledby='child-{}'] dd", f.oskar)).join(" | ");
    assert!(text.contains("00:00") && text.contains("Kari Nordmann"), "{text}");
    assert_eq!(sfo_audit(&app, "read", f.oskar).await, 3);

    // A correction with the same values changes nothing; a removal removes.
    let (a, l) = ("00:00".to_owned(), saved[0].1 .1.clone().unwrap_or_default());
    let fields = [("date", today.as_str()), ("action", "correct"), ("arrived", &a), ("left", &l), ("collector", &kari)];
    let res = post(&app, &mut staff, &f, f.oskar, &fields).await;
    assert_redirects_to(&res, &done(&f, f.today, "unchanged"));
    let res = post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "clear")]).await;
    assert_redirects_to(&res, &done(&f, f.today, "cleared"));
    assert!(records(&app, f.oskar).await.is_empty());
    assert_eq!(sfo_audit(&app, "delete", f.oskar).await, 1);
}

/// A contact person collects, and a child goes home alone, only as the guardians have
/// said on their pick-up page: before that both are refused by the field.
#[tokio::test]
async fn a_contact_person_or_home_alone_only_with_the_guardians_permission() {
    let app = spawn_app().await;
    let f = fix(&app).await;
    let yesterday = iso(f.today - Duration::days(1));
    let grandma: Uuid = sqlx::query_scalar(
        "INSERT INTO contact_persons (tenant_id, pupil_id, relation, given_name, family_name) \
         SELECT tenant_id, person_id, 'grandparent', 'Randi', 'Nordmann' FROM pupils WHERE person_id = $1 RETURNING id",
    )
    .bind(f.oskar)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let mut staff = app.sign_in_as("sfo_staff").await;
    let randi = format!("contact-{grandma}");
    let correct = |left: &str, collector: &str| {
        vec![
            ("date".to_owned(), yesterday.clone()),
            ("action".into(), "correct".into()),
            ("arrived".into(), "12:05".into()),
            ("left".into(), left.to_owned()),
            ("collector".into(), collector.to_owned()),
        ]
    };
    for fields in [correct("15:40", &randi), correct("15:10", "alone"), correct("15:10", "transport")] {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = post(&app, &mut staff, &f, f.oskar, &refs).await;
        assert_422_at(&res, &format!("#col-err-{}", f.oskar));
    }
    assert!(records(&app, f.oskar).await.is_empty());

    // Kari (parental responsibility) gives Randi a permission and lets Oskar go home alone
    // from 15:00; a contact person of another child is refused by the field.
    let mut kari = app.sign_in_as("guardian").await;
    let pickup = format!("/sfo/children/{}/pickup", f.oskar);
    let page = app.get(&mut kari, &pickup).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count(&format!("#contact-{grandma}")), 1);
    let other: Uuid = sqlx::query_scalar("SELECT id FROM contact_persons WHERE pupil_id <> $1 LIMIT 1")
        .bind(f.oskar)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let refused = app.post_form(&mut kari, &pickup, &[("contact", &other.to_string()), ("alone_after", "15:00")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.html().select_first_attr("#home_alone", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(refused.html().count("#contacts-err"), 1);
    let saved = app
        .post_form(
            &mut kari,
            &pickup,
            &[("contact", &grandma.to_string()), ("home_alone", "yes"), ("alone_after", "15:00")],
        )
        .await;
    assert_redirects_to(&saved, &format!("{pickup}?done=saved"));
    assert_eq!(sfo_audit_of(&app, "pickup_permissions", "update", f.oskar).await, 1);

    let fields = correct("15:40", &randi);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = post(&app, &mut staff, &f, f.oskar, &refs).await;
    assert_redirects_to(&res, &done(&f, f.today - Duration::days(1), "corrected"));
    assert_eq!(
        records(&app, f.oskar).await[0].1,
        ("12:05".to_owned(), Some("15:40".to_owned()), None, Some(grandma), None)
    );
    let page = app.get(&mut staff, &format!("{}?date={yesterday}", day_path(&f))).await;
    let line = page.html().select_texts(&format!("#child-{} p", f.oskar)).join(" ");
    assert!(line.contains("Randi Nordmann (besteforelder)"), "{line}");

    // Home alone: not before 15:00; then as said. School transport: still not.
    for (left, collector) in [("14:30", "alone"), ("15:10", "transport")] {
        let fields = correct(left, collector);
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_422_at(&post(&app, &mut staff, &f, f.oskar, &refs).await, &format!("#col-err-{}", f.oskar));
    }
    let fields = correct("15:10", "alone");
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_redirects_to(
        &post(&app, &mut staff, &f, f.oskar, &refs).await,
        &done(&f, f.today - Duration::days(1), "corrected"),
    );
    assert_eq!(
        records(&app, f.oskar).await[0].1,
        ("12:05".to_owned(), Some("15:10".to_owned()), None, None, Some("alone".to_owned()))
    );

    // The office records on the guardians' behalf (here: Randi stays, home alone ends).
    let mut clerk = app.sign_in_as("office_clerk").await;
    let on_behalf = app.post_form(&mut clerk, &pickup, &[("contact", &grandma.to_string())]).await;
    assert_redirects_to(&on_behalf, &format!("{pickup}?done=saved"));
    assert_eq!(sfo_audit_of(&app, "pickup_permissions", "update", f.oskar).await, 2);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pickup_arrangements WHERE pupil_id = $1 AND NOT home_alone")
        .bind(f.oskar)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(n, 1, "home alone withdrawn");
}

async fn sfo_audit_of(app: &TestApp, resource: &str, action: &str, pupil: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = $1 AND action = $2 AND $3 = ANY(subject_ids)",
    )
    .bind(resource)
    .bind(action)
    .bind(pupil)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_bad_input_is_refused_by_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let f = fix(&app).await;
    let today = iso(f.today);
    let yesterday = iso(f.today - Duration::days(1));
    let mut staff = app.sign_in_as("sfo_staff").await;
    let o = f.oskar;
    let kari = format!("guardian-{}", f.kari);

    // Leaving before arriving.
    let res = post(&app, &mut staff, &f, o, &[("date", &today), ("action", "leave"), ("collector", &kari)]).await;
    assert_422_at(&res, &format!("#act-err-{o}"));
    assert!(records(&app, o).await.is_empty());

    // "Now" on another day than today.
    let res = post(&app, &mut staff, &f, o, &[("date", &yesterday), ("action", "arrive")]).await;
    assert_422_at(&res, &format!("#act-err-{o}"));
    // A date in the future, too far back, or not a date.
    let tomorrow = iso(f.today + Duration::days(1));
    let far = iso(f.today - Duration::days(30));
    for date in [tomorrow.as_str(), far.as_str(), "i går"] {
        let res = post(&app, &mut staff, &f, o, &[("date", date), ("action", "arrive")]).await;
        assert_422_at(&res, "#date-err");
    }
    let res = app.get(&mut staff, &format!("{}?date={tomorrow}", day_path(&f))).await;
    assert_422_at(&res, "#date-err");
    assert!(records(&app, o).await.is_empty());

    // A correction: departure before arrival, a collector without a departure, a
    // departure without a collector, and a time that is not a time.
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("arrived", "15:00"), ("left", "14:00"), ("collector", &kari)], "left-err"),
        (&[("arrived", "15:00"), ("left", "15:00"), ("collector", &kari)], "left-err"),
        (&[("arrived", "15:00"), ("left", ""), ("collector", &kari)], "left-err"),
        (&[("arrived", "15:00"), ("left", "16:00"), ("collector", "")], "col-err"),
        (&[("arrived", "kl 3"), ("left", ""), ("collector", "")], "arr-err"),
    ];
    for (fields, err) in cases {
        let mut all = vec![("date", yesterday.as_str()), ("action", "correct")];
        all.extend_from_slice(fields);
        let res = post(&app, &mut staff, &f, o, &all).await;
        assert_422_at(&res, &format!("#{err}-{o}"));
        // The form comes back open with what was typed.
        let html = res.html();
        assert_eq!(html.count(&format!("#child-{o} details[open]")), 1);
        if let Some((_, typed)) = fields.iter().find(|(k, v)| *k == "left" && !v.is_empty()) {
            assert_eq!(html.select_first_attr(&format!("#left-{o}"), "value").as_deref(), Some(*typed));
        }
    }
    assert!(records(&app, o).await.is_empty());

    // A collector not on Oskar's list: someone else's guardian, another child's
    // contact person, a made-up code, a name typed in.
    let (teacher, _) = app.persona("teacher").await;
    let other_contact: Uuid = sqlx::query_scalar("SELECT id FROM contact_persons WHERE pupil_id <> $1 LIMIT 1")
        .bind(o)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let arrive = post(&app, &mut staff, &f, o, &[("date", &today), ("action", "arrive")]).await;
    assert!(arrive.status.is_redirection());
    backdate_arrival(&app, o).await;
    for bad in [
        format!("guardian-{teacher}"),
        format!("contact-{other_contact}"),
        "taxi".to_owned(),
        "Mormor".to_owned(),
        String::new(),
    ] {
        let res = post(&app, &mut staff, &f, o, &[("date", &today), ("action", "leave"), ("collector", &bad)]).await;
        assert_422_at(&res, &format!("#q-err-{o}"));
    }
    // Free text and unknown fields are refused whole.
    for extra in [("note", "hentet av naboen"), ("comment", "syk"), ("action", "arrive")] {
        let res =
            post(&app, &mut staff, &f, o, &[("date", &today), ("action", "leave"), ("collector", &kari), extra]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    let res = post(&app, &mut staff, &f, o, &[("date", &today), ("action", "delete")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    // Still only the arrival.
    let saved = records(&app, o).await;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].1, ("00:00".to_owned(), None, None, None, None));
    assert_eq!(sfo_audit(&app, "update", o).await, 0);
}

#[tokio::test]
async fn only_the_childs_own_sfo_records_and_a_teacher_cannot() {
    let app = spawn_app().await;
    let f = fix(&app).await;
    let today = iso(f.today);
    let arrive = [("date", today.as_str()), ("action", "arrive")];

    // A child of another Solbakken SFO group, named under Oskar's group: not found.
    let other: Uuid = uuid(
        &app,
        &format!(
            "SELECT m.pupil_id FROM group_memberships m JOIN groups g ON g.id = m.group_id \
             WHERE g.kind = 'sfo' AND g.school_id = (SELECT school_id FROM groups WHERE id = '{}') \
               AND m.group_id <> '{}' LIMIT 1",
            f.group, f.group
        ),
    )
    .await;
    let mut staff = app.sign_in_as("sfo_staff").await;
    assert_eq!(post(&app, &mut staff, &f, other, &arrive).await.status, StatusCode::NOT_FOUND);
    // Another school's SFO group is not found, neither its list nor its children.
    let (nordlys_group, nordlys_child): (Uuid, Uuid) = sqlx::query_as(
        "SELECT g.id, m.pupil_id FROM groups g JOIN group_memberships m ON m.group_id = g.id \
         JOIN schools s ON s.id = g.school_id WHERE g.kind = 'sfo' AND s.name <> 'Solbakken skole' LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let res = app.get(&mut staff, &format!("/sfo/groups/{nordlys_group}/attendance")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res =
        app.post_form(&mut staff, &format!("/sfo/groups/{nordlys_group}/attendance/{nordlys_child}"), &arrive).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A class (not an SFO group) is not found either.
    let class = uuid(&app, &format!("SELECT group_id FROM group_memberships m JOIN groups g ON g.id = m.group_id WHERE g.kind = 'base' AND m.pupil_id = '{}'", f.oskar)).await;
    assert_eq!(app.get(&mut staff, &format!("/sfo/groups/{class}/attendance")).await.status, StatusCode::NOT_FOUND);

    // A teacher at Solbakken who is not SFO staff: nothing.
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.get(&mut teacher, "/sfo").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut teacher, &day_path(&f)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(&app, &mut teacher, &f, f.oskar, &arrive).await.status, StatusCode::NOT_FOUND);
    assert!(!app.get(&mut teacher, "/").await.body.contains("href=\"/sfo\""), "the teacher's menu offers SFO");

    // The municipal director reads, without a single button, and may not record.
    let mut director = app.sign_in_as("municipal_director").await;
    let page = app.get(&mut director, &day_path(&f)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("input[name=action]"), 0);
    assert_eq!(post(&app, &mut director, &f, f.oskar, &arrive).await.status, StatusCode::FORBIDDEN);
    assert!(records(&app, f.oskar).await.is_empty());
    assert!(records(&app, other).await.is_empty());

    // The school office records (and is audited as the office).
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert!(post(&app, &mut clerk, &f, f.oskar, &arrive).await.status.is_redirection());
    assert_eq!(records(&app, f.oskar).await.len(), 1);
    let purpose: String = sqlx::query_scalar(
        "SELECT purpose FROM audit_events WHERE resource = 'sfo_attendance' AND action = 'create' AND $1 = ANY(subject_ids)",
    )
    .bind(f.oskar)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(purpose, "school_administration");
}

#[tokio::test]
async fn the_sfo_table_has_no_free_text_column() {
    let app = spawn_app().await;
    let free: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         WHERE a.attrelid = 'sfo_attendance'::regclass AND a.attnum > 0 AND t.typcategory = 'S' \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'c' \
                           AND a.attnum = ANY (k.conkey) AND pg_get_constraintdef(k.oid) LIKE '%= ANY (ARRAY[%')",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(free.is_empty(), "columns that could hold free text: {free:?}");
}

/// A restriction on a guardian (recorded by the office) takes away every path to the
/// child at once: the card, the SFO page, the pick-up page, SFO's collectors; her other
/// child stays hers; ending it gives access back. A bad form stores nothing.
#[tokio::test]
async fn a_restricted_guardian_has_no_path_to_the_child_until_the_restriction_ends() {
    let app = spawn_app().await;
    let f = fix(&app).await;
    let emma: Uuid = uuid(
        &app,
        "SELECT id FROM persons WHERE given_name = 'Emma' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .await;
    let mut kari = app.sign_in_as("guardian").await;
    let card = format!("/pupils/{}", f.oskar);
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::OK);

    let mut clerk = app.sign_in_as("office_clerk").await;
    let path = format!("/pupils/{}/restrictions", f.oskar);
    assert_eq!(app.get(&mut clerk, &path).await.status, StatusCode::OK);
    let kari_id = f.kari.to_string();
    let tomorrow = iso(f.today + Duration::days(1));
    let today = iso(f.today);
    for (fields, field) in [
        ([("guardian", uuid_str(f.oskar)), ("kind", "visiting_ban".into()), ("from", today.clone())], "guardian"),
        ([("guardian", kari_id.clone()), ("kind", "bad_mood".into()), ("from", today.clone())], "kind"),
        ([("guardian", kari_id.clone()), ("kind", "visiting_ban".into()), ("from", tomorrow.clone())], "from"),
    ] {
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.post_form(&mut clerk, &path, &refs).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(res.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"));
    }
    let none: i64 =
        sqlx::query_scalar("SELECT count(*) FROM guardian_restrictions").fetch_one(&app.owner).await.unwrap();
    assert_eq!(none, 0);
    let added =
        app.post_form(&mut clerk, &path, &[("guardian", &kari_id), ("kind", "visiting_ban"), ("from", &today)]).await;
    assert_redirects_to(&added, &format!("{path}?done=added"));

    // Kari's own session, on its next request: Oskar is gone everywhere, Emma is not.
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut kari, &format!("/sfo/children/{}/pickup", f.oskar)).await.status, StatusCode::NOT_FOUND);
    assert!(!app.get(&mut kari, "/sfo").await.body.contains("Oskar"));
    assert_eq!(app.get(&mut kari, &format!("/pupils/{emma}")).await.status, StatusCode::OK);
    // SFO cannot record that she collected him.
    let mut staff = app.sign_in_as("sfo_staff").await;
    let arrive = post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "arrive")]).await;
    assert!(arrive.status.is_redirection());
    backdate_arrival(&app, f.oskar).await;
    let collector = format!("guardian-{}", f.kari);
    let res =
        post(&app, &mut staff, &f, f.oskar, &[("date", &today), ("action", "leave"), ("collector", &collector)]).await;
    assert_422_at(&res, &format!("#q-err-{}", f.oskar));

    // Ended: access back on the next request.
    let id: Uuid = uuid(&app, "SELECT id FROM guardian_restrictions").await;
    let ended = app.post_form(&mut clerk, &format!("{path}/{id}/end"), &[]).await;
    assert_redirects_to(&ended, &format!("{path}?done=ended"));
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::OK);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'guardian_restrictions' AND action IN ('create', 'update') \
           AND $1 = ANY(subject_ids)",
    )
    .bind(f.kari)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 2);
}

fn uuid_str(id: Uuid) -> String {
    id.to_string()
}
