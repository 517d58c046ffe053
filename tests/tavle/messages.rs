//! Messages between school and home (issue 19, points 1-2; messaging.md M1, M2, M4, M10)
//! on the demo: Kari Nordmann (the guardian persona) and Ola share parental
//! responsibility for Oskar at Solbakken, whose contact teacher is a persona too.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use time::Duration;
use uuid::Uuid;

use crate::helpers::{spawn_app, Browser, TestApp};
use tavle::policy::guardianship::LeftOut;
use tavle::policy::recipients::{self, To};

async fn person(app: &TestApp, given: &str, family: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = $1 AND family_name = $2 AND birth_date > '1950-01-01' \
         ORDER BY birth_date DESC LIMIT 1",
    )
    .bind(given)
    .bind(family)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn tenant(app: &TestApp) -> Uuid {
    sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'fjordvik'").fetch_one(&app.owner).await.unwrap()
}

async fn resolve(app: &TestApp, to: To, day: time::Date) -> recipients::Recipients {
    let tenant = tenant(app).await;
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    recipients::resolve(tavle::db::Conn::new(&mut tx, tenant), to, day).await.unwrap()
}

async fn participants(app: &TestApp, thread: Uuid) -> BTreeSet<(Uuid, String)> {
    sqlx::query_as::<_, (Uuid, String)>("SELECT person_id, side FROM thread_participants WHERE thread_id = $1")
        .bind(thread)
        .fetch_all(&app.owner)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// The thread a redirect after sending names.
fn thread_of(location: &str) -> Uuid {
    let id = location.trim_start_matches("/messages/").split(['?', '/']).next().unwrap();
    Uuid::parse_str(id).expect("a thread id")
}

async fn send(app: &TestApp, b: &mut Browser, fields: &[(&'static str, String)]) -> crate::helpers::TestResponse {
    post_fields(app, b, "/messages", fields).await
}

async fn post_fields(
    app: &TestApp,
    b: &mut Browser,
    path: &str,
    fields: &[(&'static str, String)],
) -> crate::helpers::TestResponse {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(b, path, &refs).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap()
}

#[tokio::test]
async fn a_guardian_writes_to_the_contact_teacher_who_answers_and_nobody_else_sees_it() {
    let app = spawn_app().await;
    let (oskar, ola) = (person(&app, "Oskar", "Nordmann").await, person(&app, "Ola", "Nordmann").await);
    let (kari_id, _) = app.persona("guardian").await;
    let (ingrid, _) = app.persona("contact_teacher").await;
    // Ingrid (the contact teacher persona, of 4A) is Oskar's contact teacher too.
    sqlx::query(
        "INSERT INTO group_staff (tenant_id, group_id, staff_id, assignment) \
         SELECT m.tenant_id, m.group_id, $2, 'contact_teacher' FROM group_memberships m \
         JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
         WHERE m.pupil_id = $1 AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())",
    )
    .bind(oskar)
    .bind(ingrid)
    .execute(&app.owner)
    .await
    .unwrap();
    let mut kari = app.sign_in_as("guardian").await;

    // The demo's thread: the contact teacher's answer is unread.
    let inbox = app.get(&mut kari, "/messages").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Turdagen på fredag"));
    assert!(app.get(&mut kari, "/").await.html().select_attrs("a", "href").contains(&"/messages".to_owned()));

    let threads = count(&app, "SELECT count(*) FROM message_threads").await;
    let sent = app
        .post_form(
            &mut kari,
            "/messages",
            &[
                ("pupil", &oskar.to_string()),
                ("to", "contact_teacher"),
                ("topic", "Henting i dag"),
                ("body", "Oskar blir hentet av bestefar i dag.\n\nHilsen Kari"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(count(&app, "SELECT count(*) FROM message_threads").await, threads + 1);
    let thread = thread_of(sent.location.as_deref().unwrap());
    let on = participants(&app, thread).await;
    assert!(on.contains(&(kari_id, "home".to_owned())));
    assert!(on.contains(&(ingrid, "school".to_owned())), "the contact teacher: {on:?}");
    assert!(!on.iter().any(|(p, _)| *p == ola), "Ola is left out unless Kari chooses so");

    // The e-mail to the contact teacher: a link, and nothing of the message.
    let mails: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT recipient_id, body_text FROM mail_outbox WHERE kind = 'message_notice'")
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert!(mails.iter().all(|(to, _)| *to != kari_id && *to != ola), "never to the writer or Ola");
    for (_, body) in &mails {
        assert!(body.contains(&format!("/messages/{thread}")), "{body}");
        assert!(!body.contains("Oskar") && !body.contains("bestefar") && !body.contains("Henting"), "{body}");
    }

    // Not read yet; the contact teacher opens and answers it, and Kari sees both.
    let page = app.get(&mut kari, &format!("/messages/{thread}")).await;
    assert!(page.body.contains("Ikke lest ennå") || page.body.contains("Not read yet"), "{}", page.body);
    let mut teacher = app.sign_in_as("contact_teacher").await;
    assert!(app.get(&mut teacher, "/messages").await.body.contains("Henting i dag"));
    let opened = app.get(&mut teacher, &format!("/messages/{thread}")).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(opened.body.contains("bestefar"));
    let answered =
        app.post_form(&mut teacher, &format!("/messages/{thread}/reply"), &[("body", "Takk for beskjed!")]).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let page = app.get(&mut kari, &format!("/messages/{thread}")).await;
    assert!(page.body.contains("Takk for beskjed!"));
    assert!(page.body.contains("Ingrid Østby"), "read by the contact teacher");
    let audited = count(
        &app,
        &format!(
            "SELECT count(*) FROM audit_events WHERE resource = 'message_thread' AND resource_id = '{thread}' \
               AND '{oskar}' = ANY(subject_ids)"
        ),
    )
    .await;
    assert!(audited >= 4, "every open and every message is audited: {audited}");

    // Not for a teacher of the school who is not on it, another school's teacher,
    // a pupil, another school's office or the system administrator; the principal
    // reads it (rule 11).
    for who in ["teacher", "subject_teacher", "pupil", "smaoy_office_clerk", "system_admin"] {
        let mut b = app.sign_in_as(who).await;
        assert_eq!(app.get(&mut b, &format!("/messages/{thread}")).await.status, StatusCode::NOT_FOUND, "{who}");
        let reply = app.post_form(&mut b, &format!("/messages/{thread}/reply"), &[("body", "Hei")]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{who}");
    }
    // The principal (of Emma's school) does not read Oskar's thread, but reads one
    // about Emma (rule 11: all at their school).
    let mut principal = app.sign_in_as("principal").await;
    assert_eq!(app.get(&mut principal, &format!("/messages/{thread}")).await.status, StatusCode::NOT_FOUND);
    let emma = person(&app, "Emma", "Nordmann").await;
    let sent = app
        .post_form(
            &mut kari,
            "/messages",
            &[("pupil", &emma.to_string()), ("to", "office"), ("topic", "Permisjon"), ("body", "Hei")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let about_emma = sent.location.as_deref().unwrap().split('?').next().unwrap().to_owned();
    assert_eq!(app.get(&mut principal, &about_emma).await.status, StatusCode::OK);
    assert!(app.get(&mut principal, "/messages").await.body.contains("Permisjon"), "the office's thread");
}

#[tokio::test]
async fn the_other_guardian_is_added_only_by_choice_and_only_while_the_school_may_reach_them() {
    let app = spawn_app().await;
    let (oskar, ola) = (person(&app, "Oskar", "Nordmann").await, person(&app, "Ola", "Nordmann").await);
    let mut kari = app.sign_in_as("guardian").await;
    let fields = |topic: &'static str| {
        vec![
            ("pupil", oskar.to_string()),
            ("to", "office".to_owned()),
            ("share", "1".to_owned()),
            ("topic", topic.to_owned()),
            ("body", "Vi flytter i januar.".to_owned()),
        ]
    };
    let sent = send(&app, &mut kari, &fields("Flytting")).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(participants(&app, thread_of(sent.location.as_deref().unwrap())).await.contains(&(ola, "home".to_owned())));

    // A restriction on Ola: the next message leaves him out, and so do the recipients.
    let (clerk, _) = app.persona("office_clerk").await;
    sqlx::query(
        "INSERT INTO guardian_restrictions (tenant_id, pupil_id, guardian_id, kind, from_date, recorded_by) \
         SELECT tenant_id, $1, $2, 'visiting_ban', tavle_today(), $3 FROM persons WHERE id = $1",
    )
    .bind(oskar)
    .bind(ola)
    .bind(clerk)
    .execute(&app.owner)
    .await
    .unwrap();
    let r = resolve(&app, To::Pupil(oskar), app.today).await;
    assert!(!r.reaches(ola));
    assert_eq!(r.left_out.iter().find(|e| e.person_id == ola).map(|e| e.reason), Some(LeftOut::Restricted));
    let sent = send(&app, &mut kari, &fields("Flytting 2")).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert!(!participants(&app, thread_of(sent.location.as_deref().unwrap())).await.iter().any(|(p, _)| *p == ola));
}

#[tokio::test]
async fn a_refused_message_keeps_what_was_typed_and_changes_nothing() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let nid: String = sqlx::query_scalar("SELECT national_id FROM persons WHERE id = $1")
        .bind(oskar)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let mut kari = app.sign_in_as("guardian").await;
    let threads = count(&app, "SELECT count(*) FROM message_threads").await;
    let spaced = format!("Fnr {} {}", &nid[..6], &nid[6..]);
    let long = "x".repeat(5001);
    for (topic, body, field) in [
        ("Om Oskar", format!("Fødselsnummeret hans er {nid}."), "body"),
        ("Om Oskar", spaced, "body"),
        ("Om Oskar", long, "body"),
        ("", "Hei".to_owned(), "topic"),
        ("Om Oskar", "   ".to_owned(), "body"),
    ] {
        let res = app
            .post_form(
                &mut kari,
                "/messages",
                &[("pupil", &oskar.to_string()), ("to", "office"), ("topic", topic), ("body", &body)],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = res.html();
        assert_eq!(html.select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"), "{field}");
        if !topic.is_empty() {
            assert_eq!(html.select_first_attr("#topic", "value").as_deref(), Some(topic), "kept");
        }
    }
    assert_eq!(count(&app, "SELECT count(*) FROM message_threads").await, threads, "nothing written");
    // A field the form does not have, or a child who is not hers: refused outright.
    let res = app
        .post_form(
            &mut kari,
            "/messages",
            &[("pupil", &oskar.to_string()), ("to", "office"), ("topic", "t"), ("body", "b"), ("cc", "x")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let tuva = person(&app, "Tuva", "Berg").await;
    let res = app
        .post_form(
            &mut kari,
            "/messages",
            &[("pupil", &tuva.to_string()), ("to", "office"), ("topic", "t"), ("body", "b")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_write_to_the_guardians_the_message_reaches_and_see_who_is_left_out() {
    let app = spawn_app().await;
    let tuva = person(&app, "Tuva", "Berg").await;
    let (geir, _) = app.persona("guardian_no_responsibility").await;
    let hilde = person(&app, "Hilde", "Berg").await;
    // Tuva is at Nordlys, whose department head is a persona.
    let mut clerk = app.sign_in_as("department_head").await;
    let page = app.get(&mut clerk, &format!("/pupils/{tuva}/messages/new")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    assert!(html.select_attrs("input[name=guardian]", "value").contains(&hilde.to_string()));
    assert!(!html.select_attrs("input[name=guardian]", "value").contains(&geir.to_string()));
    assert!(page.body.contains("Geir Nilsen"), "listed as left out, with why");
    assert!(page.body.contains("har ikke foreldreansvar") || page.body.contains("no parental responsibility"));

    // A guardian the message does not reach cannot be chosen.
    let res = app
        .post_form(
            &mut clerk,
            &format!("/pupils/{tuva}/messages"),
            &[("guardian", &geir.to_string()), ("topic", "Møte"), ("body", "Hei")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res =
        app.post_form(&mut clerk, &format!("/pupils/{tuva}/messages"), &[("topic", "Møte"), ("body", "Hei")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "choose a guardian");
    let res = app
        .post_form(
            &mut clerk,
            &format!("/pupils/{tuva}/messages"),
            &[("guardian", &hilde.to_string()), ("topic", "Møte"), ("body", "Hei")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let on = participants(&app, thread_of(res.location.as_deref().unwrap())).await;
    assert_eq!(on.iter().filter(|(_, side)| side == "home").map(|(p, _)| *p).collect::<Vec<_>>(), vec![hilde]);
    // The office's thread is in the office's inbox, and not at another school's.
    assert!(app.get(&mut clerk, "/messages").await.body.contains("Møte"));
    let mut other = app.sign_in_as("office_clerk").await;
    assert!(!app.get(&mut other, "/messages").await.body.contains("Møte"));
    // A teacher who does not teach Tuva cannot write about her.
    let mut teacher = app.sign_in_as("subject_teacher").await;
    assert_eq!(app.get(&mut teacher, &format!("/pupils/{tuva}/messages/new")).await.status, StatusCode::NOT_FOUND);
    // Nor does a guardian write here (they write from Min side), or staff there.
    let mut kari = app.sign_in_as("guardian").await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    assert_eq!(app.get(&mut kari, &format!("/pupils/{oskar}/messages/new")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut clerk, "/messages/new").await.status, StatusCode::NOT_FOUND);
}

/// M1 over the demo: the pure decision agrees with the guardianship rule the rest of
/// Tavle uses, every recipient has a live relation to an addressed pupil, and the 18th
/// birthday is the boundary.
#[tokio::test]
async fn recipients_agree_with_the_guardianship_rule_and_end_on_the_18th_birthday() {
    let app = spawn_app().await;
    let solbakken: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Solbakken skole'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let r = resolve(&app, To::School(solbakken), app.today).await;
    assert!(r.reached.len() > 50, "{}", r.reached.len());
    let sql = format!(
        "SELECT DISTINCT g.guardian_id FROM guardianships g JOIN persons c ON c.tenant_id = g.tenant_id AND c.id = g.pupil_id \
         JOIN enrolments e ON e.tenant_id = g.tenant_id AND e.pupil_id = g.pupil_id AND e.school_id = $2 \
              AND e.from_date <= $3 AND (e.to_date IS NULL OR e.to_date > $3) \
         WHERE g.tenant_id = $1 AND {}",
        tavle::policy::guardianship::reaches("g", "c", "$3")
    );
    let tenant = tenant(&app).await;
    let expected: BTreeSet<Uuid> = sqlx::query_scalar::<_, Uuid>(&sql)
        .bind(tenant)
        .bind(solbakken)
        .bind(app.today)
        .fetch_all(&app.owner)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let got: BTreeSet<Uuid> = r.reached.iter().map(|x| x.person_id).collect();
    assert_eq!(got, expected);
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let pupils: BTreeSet<Uuid> =
        recipients::pupils(tavle::db::Conn::new(&mut tx, tenant), To::School(solbakken), app.today)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for x in &r.reached {
        assert!(x.pupils.iter().all(|p| pupils.contains(p)), "a live relation to an addressed pupil");
    }
    assert!(r.left_out.iter().all(|e| !got.contains(&e.person_id)));
    assert!(r.left_out.iter().any(|e| e.reason == LeftOut::NoParentalResponsibility), "the demo has such parents");

    // Oskar turns 18 tomorrow: his guardians are reached today, not tomorrow.
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let born = app.today + Duration::days(1);
    let eighteen_years_before = born.replace_year(born.year() - 18).unwrap();
    sqlx::query("UPDATE persons SET birth_date = $2 WHERE id = $1")
        .bind(oskar)
        .bind(eighteen_years_before)
        .execute(&app.owner)
        .await
        .unwrap();
    let today = resolve(&app, To::Pupil(oskar), app.today).await;
    let tomorrow = resolve(&app, To::Pupil(oskar), app.today + Duration::days(1)).await;
    assert_eq!(today.reached.len(), 2, "{today:?}");
    assert!(tomorrow.reached.is_empty());
    assert!(tomorrow.left_out.iter().all(|e| e.reason == LeftOut::ChildAdult), "{tomorrow:?}");
}

/// Oskar's class at Solbakken.
async fn oskars_class(app: &TestApp, oskar: Uuid) -> Uuid {
    sqlx::query_scalar(
        "SELECT m.group_id FROM group_memberships m JOIN groups g ON g.id = m.group_id AND g.kind = 'base' \
         WHERE m.pupil_id = $1 AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())",
    )
    .bind(oskar)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

/// M2 and M3: a class's guardians each get a private copy, after a preview whose
/// count is the recipients'; the sender sees who read it and withdraws the rest.
#[tokio::test]
async fn a_group_message_is_a_private_copy_per_guardian_previewed_confirmed_and_withdrawable() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let (kari_id, _) = app.persona("guardian").await;
    let class = oskars_class(&app, oskar).await;
    let r = resolve(&app, To::Group(class), app.today).await;
    assert!(r.reached.len() > 5 && r.reaches(kari_id), "{}", r.reached.len());
    let mut clerk = app.sign_in_as("office_clerk").await;
    let path = format!("/groups/{class}/messages");
    assert_eq!(app.get(&mut clerk, &format!("{path}/new")).await.status, StatusCode::OK);
    let fields = |action: &'static str, print: &str| {
        vec![
            ("topic", "Foreldremøte".to_owned()),
            ("body", "Velkommen til foreldremøte torsdag kl. 18.".to_owned()),
            ("action", action.to_owned()),
            ("fingerprint", print.to_owned()),
        ]
    };
    // Sending without the preview's confirmation shows the preview, and sends nothing.
    let demo = count(&app, "SELECT count(*) FROM broadcasts").await;
    let res = post_fields(&app, &mut clerk, &path, &fields("send", "")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app, "SELECT count(*) FROM broadcasts").await, demo, "nothing sent");
    let preview = post_fields(&app, &mut clerk, &path, &fields("preview", "")).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.body.contains(&format!("når {} foresatte", r.reached.len())), "the count is the recipients'");
    let print = preview.html().select_first_attr("input[name=fingerprint]", "value").expect("a fingerprint");
    let sent = post_fields(&app, &mut clerk, &path, &fields("send", &print)).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let broadcast: Uuid = sqlx::query_scalar("SELECT id FROM broadcasts WHERE topic = 'Foreldremøte'")
        .fetch_one(&app.owner)
        .await
        .unwrap();

    // One thread per guardian reached, each with the sender and that guardian alone.
    let copies: Vec<(Uuid, i64, Option<Uuid>)> = sqlx::query_as(
        "SELECT t.id, (SELECT count(*) FROM thread_participants tp WHERE tp.thread_id = t.id), \
                (SELECT tp.person_id FROM thread_participants tp WHERE tp.thread_id = t.id AND tp.side = 'home') \
         FROM message_threads t WHERE t.broadcast_id = $1",
    )
    .bind(broadcast)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(copies.len(), r.reached.len());
    assert!(copies.iter().all(|(_, n, _)| *n == 2));
    let homes: BTreeSet<Uuid> = copies.iter().filter_map(|c| c.2).collect();
    assert_eq!(homes, r.reached.iter().map(|x| x.person_id).collect::<BTreeSet<_>>());
    let notices = count(
        &app,
        &format!(
            "SELECT count(*) FROM mail_outbox o JOIN message_threads t ON t.id::text = o.dedupe_key \
             WHERE o.kind = 'message_notice' AND t.broadcast_id = '{broadcast}'"
        ),
    )
    .await;
    assert_eq!(notices, r.reached.iter().filter(|x| x.email.is_some()).count() as i64, "one each, no copies");

    // Kari sees her copy and no other recipient; she answers, privately.
    let mine = copies.iter().find(|c| c.2 == Some(kari_id)).unwrap().0;
    let mut kari = app.sign_in_as("guardian").await;
    let page = app.get(&mut kari, &format!("/messages/{mine}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let others: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.given_name, p.family_name FROM thread_participants tp JOIN persons p ON p.id = tp.person_id \
         JOIN message_threads t ON t.id = tp.thread_id WHERE t.broadcast_id = $1 AND tp.side = 'home' \
           AND tp.person_id <> $2",
    )
    .bind(broadcast)
    .bind(kari_id)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    for (given, family) in &others {
        assert!(!page.body.contains(&format!("{given} {family}")), "{given} {family} is another recipient");
    }
    let other_copy = copies.iter().find(|c| c.2 != Some(kari_id)).unwrap().0;
    assert_eq!(app.get(&mut kari, &format!("/messages/{other_copy}")).await.status, StatusCode::NOT_FOUND);
    let answer = app.post_form(&mut kari, &format!("/messages/{mine}/reply"), &[("body", "Vi kommer.")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(participants(&app, mine).await.len(), 2, "the answer reaches the sender alone");

    // The sender sees it read and answered, and withdraws the copies nobody has read.
    let status = app.get(&mut clerk, &format!("/messages/broadcasts/{broadcast}")).await;
    assert!(status.body.contains("Har svart"), "Kari answered");
    assert!(app.get(&mut clerk, "/messages").await.body.contains("Foreldremøte"));
    let w = app.post_form(&mut clerk, &format!("/messages/broadcasts/{broadcast}/withdraw"), &[]).await;
    assert_eq!(w.status, StatusCode::SEE_OTHER);
    let withdrawn = count(
        &app,
        &format!(
            "SELECT count(*) FROM message_threads WHERE broadcast_id = '{broadcast}' AND withdrawn_at IS NOT NULL"
        ),
    )
    .await;
    assert_eq!(withdrawn as usize, copies.len() - 1, "all but Kari's, which she read");
    assert_eq!(app.get(&mut kari, &format!("/messages/{mine}")).await.status, StatusCode::OK);
    let pending = count(
        &app,
        &format!(
            "SELECT count(*) FROM mail_outbox o JOIN message_threads t ON t.id::text = o.dedupe_key \
             WHERE o.kind = 'message_notice' AND o.status = 'pending' AND t.broadcast_id = '{broadcast}' \
               AND t.withdrawn_at IS NOT NULL"
        ),
    )
    .await;
    assert_eq!(pending, 0, "the withdrawn copies' notices are not sent");
    assert!(notices > 1, "there were notices to withdraw");

    // Not for a teacher who is not assigned to the class, a guardian, or another school.
    for who in ["teacher", "guardian", "principal", "smaoy_office_clerk"] {
        let mut b = app.sign_in_as(who).await;
        assert_eq!(app.get(&mut b, &format!("{path}/new")).await.status, StatusCode::NOT_FOUND, "{who}");
        let status = app.get(&mut b, &format!("/messages/broadcasts/{broadcast}")).await.status;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
    }
}

/// The office marks a thread as worth keeping for the archive (point 8); a guardian on
/// it may not, and a value no form sends is refused.
#[tokio::test]
async fn the_office_marks_a_thread_for_the_archive_and_a_guardian_may_not() {
    let app = spawn_app().await;
    let thread: Uuid = sqlx::query_scalar("SELECT id FROM message_threads WHERE topic = 'Utviklingssamtale'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let kept = |app: &TestApp| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, bool>("SELECT archive_worthy FROM message_threads WHERE id = $1")
                .bind(thread)
                .fetch_one(&owner)
                .await
                .unwrap()
        }
    };
    let path = format!("/messages/{thread}/archive");
    let mut kari = app.sign_in_as("guardian").await;
    assert_eq!(app.post_form(&mut kari, &path, &[("archive", "1")]).await.status, StatusCode::FORBIDDEN);
    assert!(!kept(&app).await);
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.post_form(&mut clerk, &path, &[("archive", "yes")]).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.post_form(&mut clerk, &path, &[("archive", "1")]).await.status, StatusCode::SEE_OTHER);
    assert!(kept(&app).await);
    let page = app.get(&mut clerk, &format!("/messages/{thread}?done=kept")).await;
    assert!(page.body.contains("merket for arkivet"), "the page says so");
    assert_eq!(app.post_form(&mut clerk, &path, &[("archive", "0")]).await.status, StatusCode::SEE_OTHER);
    assert!(!kept(&app).await);
}
