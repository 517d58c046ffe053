//! Leave applications (permisjon): a guardian applies in advance, the contact teacher
//! decides short leave and the principal longer leave (the school's limit moves the
//! line), both guardians see the answer, every bad input is refused by the field with
//! nothing stored, no free text, and approved leave shows in the register.

use axum::http::StatusCode;
use time::Date;
use uuid::Uuid;

use crate::helpers::{spawn_app, Browser, TestApp, TestResponse};
use tavle::auth::session::{self, Method, NewSession};
use tavle::policy::Audience;

/// Today in Norway, as the application sees it (and this test's connections too).
const TODAY: &str = "tavle_today()";

/// The `n`th school day after today (1: the next one) at a school without days off
/// of its own: a weekday within a term, not a day off of the municipality.
pub async fn school_day(app: &TestApp, n: i64) -> Date {
    sqlx::query_scalar(&format!(
        "SELECT d::date FROM generate_series({TODAY} + 1, {TODAY} + 200, interval '1 day') d \
         WHERE extract(isodow FROM d) < 6 \
           AND EXISTS (SELECT 1 FROM terms t WHERE d::date BETWEEN t.starts AND t.ends) \
           AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE d::date BETWEEN b.first_day AND b.last_day) \
         ORDER BY d OFFSET $1 LIMIT 1"
    ))
    .bind(n - 1)
    .fetch_one(&app.owner)
    .await
    .expect("school days ahead (is today within the demo school year?)")
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

async fn person(app: &TestApp, given: &str, family: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = $1 AND family_name = $2 ORDER BY birth_date DESC LIMIT 1",
    )
    .bind(given)
    .bind(family)
    .fetch_one(&app.owner)
    .await
    .expect("person")
}

/// The contact teacher of the pupil's current base group.
pub async fn contact_teacher_of(app: &TestApp, pupil: Uuid) -> Uuid {
    sqlx::query_scalar(
        "SELECT gs.staff_id FROM group_memberships m \
         JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
         JOIN group_staff gs ON gs.tenant_id = g.tenant_id AND gs.group_id = g.id AND gs.assignment = 'contact_teacher' \
         WHERE m.pupil_id = $1 AND m.to_date IS NULL ORDER BY gs.staff_id LIMIT 1",
    )
    .bind(pupil)
    .fetch_one(&app.owner)
    .await
    .expect("a contact teacher")
}

async fn count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM leave_applications").fetch_one(&app.owner).await.unwrap()
}

async fn status(app: &TestApp, id: Uuid) -> (String, Option<String>, Option<String>) {
    sqlx::query_as("SELECT status, decided_as, rejection_code FROM leave_applications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

async fn audit(app: &TestApp, action: &str, resource: &str, id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1 AND resource = $2 AND resource_id = $3")
        .bind(action)
        .bind(resource)
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// Sign in as a person who is not a demo persona (the other guardian, a contact teacher).
async fn sign_in_person(app: &TestApp, person: Uuid, audience: Audience) -> Browser {
    let tenant = app.tenant_id("fjordvik").await;
    let cookie = session::create(
        &app.db,
        &app.state.config,
        NewSession {
            tenant_id: tenant,
            person_id: person,
            method: Method::Demo,
            audience,
            acr: None,
            id_token_hint: None,
            lang: tavle::web::i18n::Lang::Nb,
        },
        None,
    )
    .await
    .expect("session");
    let mut b = Browser { cookies: vec![("tavle-session".to_owned(), cookie)], csrf: String::new() };
    assert_eq!(app.get(&mut b, "/").await.status, StatusCode::OK);
    b
}

/// Apply as `b` and return the new application's id.
async fn apply(app: &TestApp, b: &mut Browser, child: Uuid, first: Date, last: Date, reason: &str) -> Uuid {
    let path = format!("/absence/children/{child}/leave");
    let res =
        app.post_form(b, &path, &[("first_day", &iso(first)), ("last_day", &iso(last)), ("reason", reason)]).await;
    assert!(res.status.is_redirection(), "{} {}", res.status, &res.body[..res.body.len().min(3000)]);
    assert_eq!(res.location.as_deref(), Some(format!("{path}?done=created").as_str()));
    sqlx::query_scalar(
        "SELECT id FROM leave_applications WHERE pupil_id = $1 AND first_day = $2 AND status = 'pending'",
    )
    .bind(child)
    .bind(first)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

/// (what is wrong, the form, the selector of the message by the field)
type BadCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[track_caller]
fn assert_422_at(res: &TestResponse, field_error: &str, what: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", &res.body[..res.body.len().min(3000)]);
    let html = res.html();
    assert_eq!(html.count(field_error), 1, "{what}: no message {field_error}");
    assert!(html.count(".ds-error-summary a") >= 1, "{what}: no error summary");
    assert!(html.count("[aria-invalid=true]") >= 1, "{what}: no field marked");
}

#[tokio::test]
async fn a_guardian_applies_the_contact_teacher_approves_and_both_guardians_see_it() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let ola = person(&app, "Ola", "Nordmann").await;
    let mut kari = app.sign_in_as("guardian").await;
    let path = format!("/absence/children/{oskar}/leave");

    let page = app.get(&mut kari, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    assert_eq!(html.count("textarea"), 0, "no free text");
    assert_eq!(html.count("input[type=text]"), 0, "no free text");
    assert_eq!(html.count("input[name=reason][type=radio]"), 5);
    // The absence page links here.
    let reports = app.get(&mut kari, &format!("/absence/children/{oskar}")).await;
    assert_eq!(reports.html().count(&format!("a[href='{path}']")), 1);

    let day = school_day(&app, 3).await;
    let id = apply(&app, &mut kari, oskar, day, day, "family_event").await;
    assert_eq!(count(&app).await, 1);
    assert_eq!(audit(&app, "create", "leave_application", id).await, 1);
    let school_days: i16 = sqlx::query_scalar("SELECT school_days FROM leave_applications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(school_days, 1);

    // Oskar's contact teacher finds it in the list and approves it.
    let teacher = contact_teacher_of(&app, oskar).await;
    let mut t = sign_in_person(&app, teacher, Audience::Staff).await;
    let list = app.get(&mut t, "/absence/leave").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.html().count(&format!("a[href='/absence/leave/{id}']")), 1);
    let show = app.get(&mut t, &format!("/absence/leave/{id}")).await;
    assert_eq!(show.status, StatusCode::OK);
    assert_eq!(show.html().count("input[name=decision]"), 2);
    let res = app.post_form(&mut t, &format!("/absence/leave/{id}"), &[("decision", "approve")]).await;
    assert!(res.status.is_redirection(), "{}", res.status);
    assert_eq!(status(&app, id).await, ("approved".to_owned(), Some("contact_teacher".to_owned()), None));
    assert_eq!(audit(&app, "update", "leave_application", id).await, 1);

    // Deciding again is a conflict, not an overwrite.
    let again =
        app.post_form(&mut t, &format!("/absence/leave/{id}"), &[("decision", "reject"), ("rejection", "other")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.html().count("#status[data-status=approved]"), 1);
    assert_eq!(status(&app, id).await.0, "approved");
    assert_eq!(audit(&app, "update", "leave_application", id).await, 1);
    // No longer in the list of pending applications.
    let list = app.get(&mut t, "/absence/leave").await;
    assert_eq!(list.html().count(&format!("a[href='/absence/leave/{id}']")), 0);

    // Kari and Ola see the answer and who decided in which capacity, not the name.
    let (teacher_given, teacher_family): (String, String) =
        sqlx::query_as("SELECT given_name, family_name FROM persons WHERE id = $1")
            .bind(teacher)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    let mut ola_b = sign_in_person(&app, ola, Audience::Guardian).await;
    for b in [&mut kari, &mut ola_b] {
        let page = app.get(b, &path).await;
        assert_eq!(page.status, StatusCode::OK);
        let rows = page.html().select_texts("tr[data-status=approved]");
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].contains("Innvilget (kontaktlærer)"), "{rows:?}");
        assert!(!page.body.contains(&teacher_family) || !page.body.contains(&teacher_given), "no decider's name");
        assert_eq!(page.html().count("tr[data-status=approved] form"), 0, "a decided one cannot be withdrawn");
    }
}

#[tokio::test]
async fn long_leave_goes_to_the_principal_and_the_contact_teacher_cannot_decide_it() {
    let app = spawn_app().await;
    let emma = person(&app, "Emma", "Nordmann").await;
    let mut kari = app.sign_in_as("guardian").await;
    let (first, last) = (school_day(&app, 5).await, school_day(&app, 7).await);
    let id = apply(&app, &mut kari, emma, first, last, "travel").await;

    let teacher = contact_teacher_of(&app, emma).await;
    let mut t = sign_in_person(&app, teacher, Audience::Staff).await;
    let show = app.get(&mut t, &format!("/absence/leave/{id}")).await;
    assert_eq!(show.status, StatusCode::OK, "the contact teacher sees it");
    assert_eq!(show.html().count("input[name=decision]"), 0);
    assert_eq!(show.html().count("#not-yours"), 1);
    let res = app.post_form(&mut t, &format!("/absence/leave/{id}"), &[("decision", "approve")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, id).await.0, "pending");

    // The principal: a rejection needs a code from the list.
    let mut principal = app.sign_in_as("principal").await;
    let list = app.get(&mut principal, "/absence/leave").await;
    assert_eq!(list.html().count(&format!("a[href='/absence/leave/{id}']")), 1);
    let path = format!("/absence/leave/{id}");
    for (what, form, field) in [
        ("no decision", vec![], "#decision-err"),
        ("an unknown decision", vec![("decision", "maybe")], "#decision-err"),
        ("a rejection without a code", vec![("decision", "reject")], "#rejection-err"),
        ("a rejection code not on the list", vec![("decision", "reject"), ("rejection", "fordi")], "#rejection-err"),
    ] {
        let res = app.post_form(&mut principal, &path, &form).await;
        assert_422_at(&res, field, what);
        assert_eq!(status(&app, id).await.0, "pending", "{what}");
    }
    let res = app.post_form(&mut principal, &path, &[("decision", "reject"), ("note", "for lenge")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "no free text in a decision");
    let res = app.post_form(&mut principal, &path, &[("decision", "reject"), ("rejection", "assessment_period")]).await;
    assert!(res.status.is_redirection());
    assert_eq!(
        status(&app, id).await,
        ("rejected".to_owned(), Some("principal".to_owned()), Some("assessment_period".to_owned()))
    );
    let page = app.get(&mut kari, &format!("/absence/children/{emma}/leave")).await;
    let rows = page.html().select_texts("tr[data-status=rejected]");
    assert!(rows[0].contains("Avslått (rektor): Viktige prøver"), "{rows:?}");

    // The principal may also decide short leave.
    let day = school_day(&app, 12).await;
    let short = apply(&app, &mut kari, emma, day, day, "sports_culture").await;
    let res = app.post_form(&mut principal, &format!("/absence/leave/{short}"), &[("decision", "approve")]).await;
    assert!(res.status.is_redirection());
    assert_eq!(status(&app, short).await.1.as_deref(), Some("principal"));
}

#[tokio::test]
async fn the_schools_limit_moves_the_level_and_is_audited() {
    let app = spawn_app().await;
    let emma = person(&app, "Emma", "Nordmann").await;
    let school: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Fjordvik ungdomsskole'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let mut kari = app.sign_in_as("guardian").await;
    let (first, last) = (school_day(&app, 5).await, school_day(&app, 7).await);
    let three_days = apply(&app, &mut kari, emma, first, last, "travel").await;
    let teacher = contact_teacher_of(&app, emma).await;
    let mut t = sign_in_person(&app, teacher, Audience::Staff).await;
    assert_eq!(app.get(&mut t, &format!("/absence/leave/{three_days}")).await.html().count("#not-yours"), 1);

    let mut principal = app.sign_in_as("principal").await;
    let settings = format!("/schools/{school}/leave-settings");
    let page = app.get(&mut principal, &settings).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().select_first_attr("#max_days", "value").as_deref(), Some(""), "the default applies");
    for bad in ["21", "-1", "to", "2.5"] {
        let res = app.post_form(&mut principal, &settings, &[("max_days", bad)]).await;
        assert_422_at(&res, "#max_days-err", bad);
    }
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM leave_school_settings").fetch_one(&app.owner).await.unwrap();
    assert_eq!(rows, 0);
    let res = app.post_form(&mut principal, &settings, &[("max_days", "5"), ("comment", "x")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    let res = app.post_form(&mut principal, &settings, &[("max_days", "5")]).await;
    assert!(res.status.is_redirection());
    assert_eq!(audit(&app, "update", "leave_settings", school).await, 1);
    // Saving the same value again changes nothing and records nothing.
    app.post_form(&mut principal, &settings, &[("max_days", "5")]).await;
    assert_eq!(audit(&app, "update", "leave_settings", school).await, 1);

    // Now three days are short: the contact teacher decides the pending application.
    let show = app.get(&mut t, &format!("/absence/leave/{three_days}")).await;
    assert_eq!(show.html().count("input[name=decision]"), 2);
    let res = app.post_form(&mut t, &format!("/absence/leave/{three_days}"), &[("decision", "approve")]).await;
    assert!(res.status.is_redirection());
    assert_eq!(status(&app, three_days).await.1.as_deref(), Some("contact_teacher"));

    // 0: every application goes to the leaders, even one day.
    app.post_form(&mut principal, &settings, &[("max_days", "0")]).await;
    let day = school_day(&app, 12).await;
    let one_day = apply(&app, &mut kari, emma, day, day, "travel").await;
    let res = app.post_form(&mut t, &format!("/absence/leave/{one_day}"), &[("decision", "approve")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Empty: back to the municipality's default of two days.
    app.post_form(&mut principal, &settings, &[("max_days", "")]).await;
    assert_eq!(audit(&app, "update", "leave_settings", school).await, 3);
    let res = app.post_form(&mut t, &format!("/absence/leave/{one_day}"), &[("decision", "approve")]).await;
    assert!(res.status.is_redirection());
}

#[tokio::test]
async fn every_bad_application_is_refused_by_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let mut kari = app.sign_in_as("guardian").await;
    let path = format!("/absence/children/{oskar}/leave");
    let today: Date = sqlx::query_scalar(&format!("SELECT {TODAY}")).fetch_one(&app.owner).await.unwrap();
    let d = |n: i64| iso(today + time::Duration::days(n));
    let (s2, s3, s4, s6) = (
        iso(school_day(&app, 2).await),
        iso(school_day(&app, 3).await),
        iso(school_day(&app, 4).await),
        iso(school_day(&app, 6).await),
    );
    let pending = apply(&app, &mut kari, oskar, school_day(&app, 3).await, school_day(&app, 4).await, "travel").await;
    assert_eq!(count(&app).await, 1);
    // A weekend ahead, and a day off of Oskar's school only.
    let saturday: Date = sqlx::query_scalar(&format!(
        "SELECT d::date FROM generate_series({TODAY} + 1, {TODAY} + 14, interval '1 day') d \
         WHERE extract(isodow FROM d) = 6 LIMIT 1"
    ))
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let (sat, sun) = (iso(saturday), iso(saturday.next_day().unwrap()));
    sqlx::query(
        "INSERT INTO calendar_breaks (tenant_id, school_year_id, school_id, kind, name, first_day, last_day) \
         SELECT s.tenant_id, y.id, s.id, 'planning_day', 'Planleggingsdag', $1, $1 FROM schools s \
         JOIN school_years y ON y.tenant_id = s.tenant_id AND $1 BETWEEN y.starts AND y.ends \
         WHERE s.name = 'Solbakken skole'",
    )
    .bind(school_day(&app, 6).await)
    .execute(&app.owner)
    .await
    .unwrap();
    let (yesterday, t0, far) = (d(-1), d(0), d(181));
    let long_ago = iso(crate::days::days_of(&app).last_year());
    let cases: Vec<BadCase> = vec![
        ("today is not in advance", vec![("first_day", &t0), ("reason", "travel")], "#first_day-err"),
        ("the past", vec![("first_day", &yesterday), ("last_day", &s2), ("reason", "travel")], "#first_day-err"),
        ("long ago", vec![("first_day", &long_ago), ("reason", "travel")], "#first_day-err"),
        ("far future", vec![("first_day", &far), ("reason", "travel")], "#first_day-err"),
        (
            "a range into the far future",
            vec![("first_day", &s2), ("last_day", &far), ("reason", "travel")],
            "#last_day-err",
        ),
        ("not a date", vec![("first_day", "neste uke"), ("reason", "travel")], "#first_day-err"),
        ("no date", vec![("reason", "travel")], "#first_day-err"),
        ("last not a date", vec![("first_day", &s2), ("last_day", "snart"), ("reason", "travel")], "#last_day-err"),
        ("last before first", vec![("first_day", &s6), ("last_day", &s2), ("reason", "travel")], "#last_day-err"),
        ("a weekend", vec![("first_day", &sat), ("last_day", &sun), ("reason", "travel")], "#first_day-err"),
        ("the school's day off", vec![("first_day", &s6), ("reason", "travel")], "#first_day-err"),
        (
            "overlapping a pending one",
            vec![("first_day", &s2), ("last_day", &s3), ("reason", "travel")],
            "#first_day-err",
        ),
        ("inside a pending one", vec![("first_day", &s4), ("reason", "family_event")], "#first_day-err"),
        ("no reason", vec![("first_day", &s2)], "#reason-err"),
        ("a reason not on the list", vec![("first_day", &s2), ("reason", "ferie")], "#reason-err"),
        ("an absence reason", vec![("first_day", &s2), ("reason", "illness")], "#reason-err"),
    ];
    for (what, form, field) in cases {
        let res = app.post_form(&mut kari, &path, &form).await;
        assert_422_at(&res, field, what);
        assert_eq!(count(&app).await, 1, "{what} stored something");
        // The message says why.
        let message = res.html().select_texts(field).join(" ");
        let expected = match what {
            "today is not in advance" | "the past" | "long ago" => "på forhånd",
            "far future" | "a range into the far future" => "180 dager",
            "a weekend" | "the school's day off" => "ingen skoledager",
            "overlapping a pending one" | "inside a pending one" => "overlapper",
            "last before first" => "Til og med-datoen",
            _ => "",
        };
        assert!(message.contains(expected), "{what}: {message}");
    }
    // What was typed comes back.
    let res = app.post_form(&mut kari, &path, &[("first_day", &s2), ("reason", "ferie")]).await;
    assert_eq!(res.html().select_first_attr("#first_day", "value"), Some(s2.clone()));

    // Outside the school year: make this school year end in a week (and back after).
    let ends: Date = sqlx::query_scalar(&format!(
        "UPDATE school_years y SET ends = {TODAY} + 7 FROM school_years o \
         WHERE o.id = y.id AND y.starts <= {TODAY} AND y.ends >= {TODAY} RETURNING o.ends"
    ))
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let res = app.post_form(&mut kari, &path, &[("first_day", &d(5)), ("last_day", &d(9)), ("reason", "travel")]).await;
    assert_422_at(&res, "#last_day-err", "past the end of the year");
    let res = app.post_form(&mut kari, &path, &[("first_day", &d(8)), ("reason", "travel")]).await;
    assert_422_at(&res, "#first_day-err", "after the end of the year");
    assert_eq!(count(&app).await, 1);
    sqlx::query(&format!("UPDATE school_years SET ends = $1 WHERE starts <= {TODAY} AND ends >= {TODAY}"))
        .bind(ends)
        .execute(&app.owner)
        .await
        .unwrap();

    // No free text: any field the form does not name is refused, and nothing stored.
    for extra in
        [("note", "skal til bestemor som er syk"), ("comment", "x"), ("description", "x"), ("reason_text", "x")]
    {
        let res = app.post_form(&mut kari, &path, &[("first_day", &s2), ("reason", "travel"), extra]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    let res =
        app.post_form(&mut kari, &path, &[("first_day", &s2), ("reason", "travel"), ("reason", "other_welfare")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "a field twice");
    assert_eq!(count(&app).await, 1);

    // A withdrawn application no longer blocks its days.
    let res = app.post_form(&mut kari, &format!("{path}/{pending}/withdraw"), &[]).await;
    assert!(res.status.is_redirection());
    let res = app.post_form(&mut kari, &path, &[("first_day", &s3), ("reason", "travel")]).await;
    assert!(res.status.is_redirection(), "{}", res.status);
    assert_eq!(count(&app).await, 2);
}

#[tokio::test]
async fn the_other_guardian_withdraws_and_a_decided_one_stays() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let ola = person(&app, "Ola", "Nordmann").await;
    let mut kari = app.sign_in_as("guardian").await;
    let path = format!("/absence/children/{oskar}/leave");
    let (a, b) = (school_day(&app, 2).await, school_day(&app, 4).await);
    let first = apply(&app, &mut kari, oskar, a, a, "travel").await;
    let second = apply(&app, &mut kari, oskar, b, b, "religious_holiday").await;

    let mut ola_b = sign_in_person(&app, ola, Audience::Guardian).await;
    let page = app.get(&mut ola_b, &path).await;
    let rows = page.html().select_texts("tr[data-status=pending]");
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.contains("Kari Nordmann")), "{rows:?}");
    let res = app.post_form(&mut ola_b, &format!("{path}/{first}/withdraw"), &[]).await;
    assert!(res.status.is_redirection());
    assert_eq!(status(&app, first).await.0, "withdrawn");
    assert_eq!(audit(&app, "update", "leave_application", first).await, 1);
    // Again: no longer pending.
    let res = app.post_form(&mut ola_b, &format!("{path}/{first}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(audit(&app, "update", "leave_application", first).await, 1);

    // A decided one cannot be withdrawn; the school's withdrawn one cannot be decided.
    let teacher = contact_teacher_of(&app, oskar).await;
    let mut t = sign_in_person(&app, teacher, Audience::Staff).await;
    let res = app.post_form(&mut t, &format!("/absence/leave/{first}"), &[("decision", "approve")]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(status(&app, first).await.0, "withdrawn");
    app.post_form(&mut t, &format!("/absence/leave/{second}"), &[("decision", "approve")]).await;
    let res = app.post_form(&mut kari, &format!("{path}/{second}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(status(&app, second).await.0, "approved");
    // Another child's application is not found under this child.
    let emma = person(&app, "Emma", "Nordmann").await;
    let res = app.post_form(&mut kari, &format!("/absence/children/{emma}/leave/{second}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_guardians_with_parental_responsibility_and_the_childs_school_reach_it() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    let ola = person(&app, "Ola", "Nordmann").await;
    let mut kari = app.sign_in_as("guardian").await;
    let day = school_day(&app, 2).await;
    let id = apply(&app, &mut kari, oskar, day, day, "travel").await;
    let path = format!("/absence/children/{oskar}/leave");
    let form = [("first_day", iso(school_day(&app, 5).await)), ("reason", "travel".to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // Ola loses parental responsibility for Oskar (he keeps it for Emma, so he can sign in).
    sqlx::query("UPDATE guardianships SET parental_responsibility = false WHERE pupil_id = $1 AND guardian_id = $2")
        .bind(oskar)
        .bind(ola)
        .execute(&app.owner)
        .await
        .unwrap();
    let mut ola_b = sign_in_person(&app, ola, Audience::Guardian).await;
    assert_eq!(app.get(&mut ola_b, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&mut ola_b, &path, &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&mut ola_b, &format!("{path}/{id}/withdraw"), &[]).await.status, StatusCode::NOT_FOUND);
    // Another family's child.
    let stranger = app.pupil_at("Solbakken skole").await;
    assert_ne!(stranger, oskar);
    let other = format!("/absence/children/{stranger}/leave");
    assert_eq!(app.get(&mut kari, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&mut kari, &other, &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app).await, 1);
    assert_eq!(status(&app, id).await.0, "pending");

    // The school office sees it but does not decide; a teacher who is not the child's
    // contact teacher does not see it.
    let mut clerk = app.sign_in_as("office_clerk").await;
    let list = app.get(&mut clerk, "/absence/leave").await;
    assert_eq!(list.html().count(&format!("a[href='/absence/leave/{id}']")), 1);
    let show = app.get(&mut clerk, &format!("/absence/leave/{id}")).await;
    assert_eq!(show.status, StatusCode::OK);
    assert_eq!(show.html().count("input[name=decision]"), 0);
    let res = app.post_form(&mut clerk, &format!("/absence/leave/{id}"), &[("decision", "approve")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let mut jonas = app.sign_in_as("teacher").await;
    assert_ne!(contact_teacher_of(&app, oskar).await, app.persona("teacher").await.0);
    assert_eq!(app.get(&mut jonas, "/absence/leave").await.html().count(&format!("a[href='/absence/leave/{id}']")), 0);
    assert_eq!(app.get(&mut jonas, &format!("/absence/leave/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(status(&app, id).await.0, "pending");
}

#[tokio::test]
async fn approved_leave_shows_in_the_register() {
    let app = spawn_app().await;
    let oskar = person(&app, "Oskar", "Nordmann").await;
    // A lesson of Oskar's held lately (the register takes no future days).
    let (lesson, group, date): (Uuid, Uuid, Date) = sqlx::query_as(&format!(
        "SELECT l.id, l.group_id, d::date FROM lessons l \
         JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         JOIN group_memberships m ON m.group_id = g.id AND m.pupil_id = $1 \
         CROSS JOIN generate_series({TODAY} - 20, {TODAY}, interval '1 day') d \
         WHERE extract(isodow FROM d) = l.weekday AND d >= l.valid_from \
           AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE d::date BETWEEN b.first_day AND b.last_day) \
         ORDER BY d DESC, l.starts LIMIT 1"
    ))
    .bind(oskar)
    .fetch_one(&app.owner)
    .await
    .expect("a lesson of Oskar's");
    // Leave approved earlier for that day (applied in advance, so inserted here).
    let insert = "INSERT INTO leave_applications (tenant_id, pupil_id, school_id, applied_by, first_day, last_day, \
                      school_days, reason_code, status, decided_by, decided_as, decided_at) \
                  SELECT e.tenant_id, e.pupil_id, e.school_id, g.guardian_id, $2, $2, 1, 'religious_holiday', $3, \
                         g.guardian_id, 'principal', now() \
                  FROM enrolments e JOIN guardianships g ON g.pupil_id = e.pupil_id \
                  WHERE e.pupil_id = $1 AND e.to_date IS NULL LIMIT 1";
    let path = format!("/absence/groups/{group}/register?date={}&lesson={lesson}", iso(date));
    let mut teacher = app.sign_in_as("office_clerk").await;
    // A rejected application is not leave.
    sqlx::query(insert).bind(oskar).bind(date).bind("approved").execute(&app.owner).await.unwrap();
    sqlx::query("UPDATE leave_applications SET status = 'rejected', rejection_code = 'other'")
        .execute(&app.owner)
        .await
        .unwrap();
    let page = app.get(&mut teacher, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count(&format!("#leave-{oskar}")), 0);

    sqlx::query(insert).bind(oskar).bind(date).bind("approved").execute(&app.owner).await.unwrap();
    let page = app.get(&mut teacher, &path).await;
    let note = page.html().select_texts(&format!("#leave-{oskar}"));
    assert_eq!(note.len(), 1, "one note, by Oskar");
    assert!(note[0].contains("Innvilget permisjon") && note[0].contains("Religiøs høytid"), "{note:?}");
    assert_eq!(page.html().count("[id^=leave-]"), 1, "only Oskar has leave");
    let described =
        page.html().select_first_attr(&format!("fieldset[aria-describedby*='leave-{oskar}']"), "aria-describedby");
    assert!(described.is_some(), "the note describes Oskar's line");

    // The query other features use.
    let tenant = app.tenant_id("fjordvik").await;
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let rows = tavle::absence::leave::queries::approved_leave(
        tavle::db::Conn::new(&mut tx, tenant),
        &[oskar],
        date - time::Duration::days(7),
        date,
        tavle::web::i18n::Lang::En,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].reason_code.as_str(), rows[0].reason.as_str()), ("religious_holiday", "Religious holiday"));
}

/// As for the rest of absence: no column of the leave tables can hold free text.
#[tokio::test]
async fn the_leave_tables_have_no_free_text_column_and_every_municipality_has_the_lists() {
    let app = spawn_app().await;
    let columns: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, \
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' \
                        AND a.attnum = ANY (k.conkey) AND pg_get_constraintdef(k.oid) LIKE '%= ANY (ARRAY[%'), \
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' \
                        AND a.attnum = ANY (k.conkey)) \
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         JOIN pg_type t ON t.oid = a.atttypid \
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'leave%' \
           AND t.typcategory = 'S' ORDER BY 1, 2",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(columns.iter().any(|c| c.0 == "leave_applications"));
    for (table, column, enumerated, coded) in &columns {
        if table == "leave_reasons" || table == "leave_rejection_codes" {
            continue; // read-only for the application, checked below
        }
        assert!(*enumerated || *coded, "{table}.{column} could hold free text");
    }
    for table in ["leave_reasons", "leave_rejection_codes", "leave_settings"] {
        let writable: bool = sqlx::query_scalar(
            "SELECT has_table_privilege('tavle_app', $1, 'INSERT') OR has_table_privilege('tavle_app', $1, 'UPDATE')",
        )
        .bind(table)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert!(!writable, "the application must not write {table}");
    }
    let id: Uuid = sqlx::query_scalar("SELECT tavle_create_tenant(NULL, '9908', 'Nykommune', 'nykommune')")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let per_tenant: Vec<(i64, i64, i16)> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM leave_reasons r WHERE r.tenant_id = t.id), \
                (SELECT count(*) FROM leave_rejection_codes c WHERE c.tenant_id = t.id), \
                (SELECT short_leave_max_days FROM leave_settings s WHERE s.tenant_id = t.id) \
         FROM tenants t ORDER BY t.id = $1",
    )
    .bind(id)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(per_tenant.len() >= 3 && per_tenant.iter().all(|&p| p == (5, 5, 2)), "{per_tenant:?}");
}
