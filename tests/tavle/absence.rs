//! Absence: the teacher's register (saved idempotently, every bad input refused with
//! a message by the field and nothing stored), the guardians' reports (the other
//! guardian sees them; no responsibility, no access), and no free text anywhere.

use axum::http::StatusCode;
use time::Date;
use uuid::Uuid;

use crate::helpers::{spawn_app_at_school, Browser, TestApp, TestResponse};
use tavle::auth::session::{self, Method, NewSession};
use tavle::policy::Audience;

/// A lesson of `teacher_feide`'s (or, with `None`, of `pupil`'s group) and the latest
/// day up to today on which it is held.
pub struct HeldLesson {
    pub lesson: Uuid,
    pub group: Uuid,
    pub date: Date,
}

/// The lesson's days up to today this school year: its weekday, within a term and its
/// validity, not a day off (in the summer and the holidays, the last one before).
const HELD: &str = "SELECT l.id, l.group_id, d::date FROM lessons l \
     JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
     JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
     CROSS JOIN generate_series(y.starts, LEAST(tavle_today(), y.ends), interval '1 day') d \
     WHERE extract(isodow FROM d) = l.weekday AND d >= l.valid_from AND (l.valid_to IS NULL OR d < l.valid_to) \
       AND EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = g.tenant_id AND t.school_year_id = g.school_year_id \
           AND d BETWEEN t.starts AND t.ends) \
       AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = g.tenant_id \
           AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
           AND d BETWEEN b.first_day AND b.last_day) ";

pub async fn lesson_of_teacher(app: &TestApp, feide: &str) -> HeldLesson {
    let (lesson, group, date): (Uuid, Uuid, Date) = sqlx::query_as(&format!(
        "{HELD} AND l.teacher_id = (SELECT id FROM persons WHERE feide_id = $1) ORDER BY d DESC, l.starts LIMIT 1"
    ))
    .bind(feide)
    .fetch_one(&app.owner)
    .await
    .expect("a lesson held lately (is today within the demo school year?)");
    HeldLesson { lesson, group, date }
}

pub async fn lesson_of_pupil(app: &TestApp, pupil: Uuid) -> HeldLesson {
    let (lesson, group, date): (Uuid, Uuid, Date) = sqlx::query_as(&format!(
        "{HELD} AND EXISTS (SELECT 1 FROM group_memberships m WHERE m.group_id = g.id AND m.pupil_id = $1) \
         ORDER BY d DESC, l.starts LIMIT 1"
    ))
    .bind(pupil)
    .fetch_one(&app.owner)
    .await
    .expect("a lesson of the pupil");
    HeldLesson { lesson, group, date }
}

const JONAS: &str = "jonas.lie@fjordvik.kommune.no";

async fn person(app: &TestApp, given: &str, family: &str, born: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM persons WHERE given_name = $1 AND family_name = $2 AND birth_date = $3::date")
        .bind(given)
        .bind(family)
        .bind(born)
        .fetch_one(&app.owner)
        .await
        .expect("person")
}

async fn oskar(app: &TestApp) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .expect("Oskar")
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The group's members on `h.date`.
async fn members_on(app: &TestApp, h: &HeldLesson) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT pupil_id FROM group_memberships WHERE group_id = $1 AND from_date <= $2 \
           AND (to_date IS NULL OR to_date > $2) ORDER BY 1",
    )
    .bind(h.group)
    .bind(h.date)
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

/// The demo's absence history is stamped with its own days, and at the latest a day
/// before the demo was built; what a test stores is stamped now. These conditions keep
/// to the test's own rows.
pub const NEW_REGISTRATION: &str = "registered_at > now() - interval '12 hours'";
pub const NEW_REPORT: &str = "created_at > now() - interval '12 hours'";

/// Rows of `table` that the test stored (not the demo's history).
async fn count(app: &TestApp, table: &str) -> i64 {
    let new = if table == "absence_registrations" { NEW_REGISTRATION } else { NEW_REPORT };
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {new}")).fetch_one(&app.owner).await.unwrap()
}

/// Sign in as a person who is not a demo persona (e.g. the other guardian).
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
    let home = app.get(&mut b, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    b
}

fn register_path(h: &HeldLesson) -> String {
    format!("/absence/groups/{}/register", h.group)
}

/// (what is wrong, the form, the selector of the message by the field)
type BadCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[track_caller]
fn assert_422_at(res: &TestResponse, field_error: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &res.body[..res.body.len().min(3000)]);
    let html = res.html();
    assert_eq!(html.count(field_error), 1, "no message {field_error}");
    assert!(html.count(".ds-error-summary a") >= 1, "no error summary");
}

#[tokio::test]
async fn the_register_saves_and_saving_twice_never_duplicates() {
    let app = spawn_app_at_school().await;
    let h = lesson_of_teacher(&app, JONAS).await;
    let pupils = members_on(&app, &h).await;
    assert!(pupils.len() >= 3);
    let mut b = app.sign_in_as("teacher").await;

    let day = app.get(&mut b, &format!("/absence/register?date={}", iso(h.date))).await;
    assert_eq!(day.status, StatusCode::OK);
    assert!(day.html().count(&format!("a[href*='lesson={}']", h.lesson)) == 1, "the lesson is listed");

    let path = format!("{}?date={}&lesson={}", register_path(&h), iso(h.date), h.lesson);
    let page = app.get(&mut b, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    assert_eq!(html.count("fieldset.tavle-register__pupil"), pupils.len());
    assert_eq!(html.count("fieldset.tavle-register__pupil > legend"), pupils.len(), "every radio group has a legend");
    assert_eq!(html.count("input[type=radio][value=present][checked]"), pupils.len(), "present by default");

    let (date, lesson) = (iso(h.date), h.lesson.to_string());
    let keys: Vec<(String, String)> = pupils
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let status = match i {
                0 => "absent",
                1 => "late",
                _ => "present",
            };
            [
                (format!("status-{p}"), status.to_owned()),
                (format!("minutes-{p}"), if i == 1 { "7" } else { "" }.to_owned()),
            ]
        })
        .collect();
    let mut form: Vec<(&str, &str)> = vec![("date", &date), ("lesson", &lesson)];
    form.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    let saved = app.post_form(&mut b, &register_path(&h), &form).await;
    assert!(saved.status.is_redirection(), "{}", saved.status);
    assert!(saved.location.as_deref().unwrap_or_default().contains("saved=1"));
    assert_eq!(count(&app, "absence_registrations").await, pupils.len() as i64);
    let stamp: Vec<(Uuid, String, Option<i16>, time::OffsetDateTime)> = sqlx::query_as(&format!(
        "SELECT pupil_id, status, minutes_late, registered_at FROM absence_registrations WHERE {NEW_REGISTRATION} \
         ORDER BY pupil_id"
    ))
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(stamp[0], (pupils[0], "absent".to_owned(), None, stamp[0].3));
    assert_eq!((stamp[1].1.as_str(), stamp[1].2), ("late", Some(7)));

    // The same register again: nothing new, nothing changed, not even the time stamps.
    let again = app.post_form(&mut b, &register_path(&h), &form).await;
    assert!(again.status.is_redirection());
    let after: Vec<(Uuid, String, Option<i16>, time::OffsetDateTime)> = sqlx::query_as(&format!(
        "SELECT pupil_id, status, minutes_late, registered_at FROM absence_registrations WHERE {NEW_REGISTRATION} \
         ORDER BY pupil_id"
    ))
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(after, stamp);

    // The page shows what is saved.
    let page = app.get(&mut b, &path).await;
    let html = page.html();
    assert_eq!(html.count(&format!("#s-{}-absent[checked]", pupils[0])), 1);
    assert_eq!(html.select_first_attr(&format!("#minutes-{}", pupils[1]), "value").as_deref(), Some("7"));
    assert_eq!(html.count("[role=status]"), 0);

    // A change updates the one row.
    let changed: Vec<(&str, &str)> =
        form.iter().map(|&(k, v)| if k == format!("status-{}", pupils[0]) { (k, "present") } else { (k, v) }).collect();
    app.post_form(&mut b, &register_path(&h), &changed).await;
    assert_eq!(count(&app, "absence_registrations").await, pupils.len() as i64);
    let status: String = sqlx::query_scalar(&format!(
        "SELECT status FROM absence_registrations WHERE pupil_id = $1 AND {NEW_REGISTRATION}"
    ))
    .bind(pupils[0])
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(status, "present");
    let source: String =
        sqlx::query_scalar(&format!("SELECT DISTINCT source FROM absence_registrations WHERE {NEW_REGISTRATION}"))
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(source, "teacher");
    assert!(app.audit_count("update", pupils[0]).await >= 3, "every save is audited with the pupils");
}

#[tokio::test]
async fn every_bad_register_input_is_refused_by_the_field_and_stores_nothing() {
    let app = spawn_app_at_school().await;
    let h = lesson_of_teacher(&app, JONAS).await;
    let pupils = members_on(&app, &h).await;
    let today = app.today;
    let mut b = app.sign_in_as("teacher").await;
    let path = register_path(&h);
    let (lesson, date) = (h.lesson.to_string(), iso(h.date));
    let first = format!("status-{}", pupils[0]);
    let minutes = format!("minutes-{}", pupils[0]);

    // Another group's lesson at the same school.
    let other_lesson: Uuid = sqlx::query_scalar("SELECT id FROM lessons WHERE group_id <> $1 LIMIT 1")
        .bind(h.group)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    // A day without school on the lesson's weekday, before the day it was held: a day
    // off, or a day before the first term.
    let days = crate::days::days_of(&app);
    let mut holiday = h.date - time::Duration::days(7);
    while days.current().is_school_day(holiday) {
        holiday -= time::Duration::days(7);
    }
    // Another weekday than the lesson's, before it.
    let mut wrong_day = h.date - time::Duration::days(1);
    while wrong_day.weekday().number_from_monday() > 5 {
        wrong_day -= time::Duration::days(1);
    }
    let wrong_day = iso(wrong_day);
    let last_year = iso(days.last_year());
    let stranger = app.pupil_at("Fjordvik ungdomsskole").await;
    let stranger_key = format!("status-{stranger}");
    let future = iso(today + time::Duration::days(1));
    let far_future = iso(today + time::Duration::days(400));
    let holiday = iso(holiday);
    let other_lesson = other_lesson.to_string();

    let cases: Vec<BadCase> = vec![
        ("tomorrow", vec![("date", &future), ("lesson", &lesson), (&first, "absent")], "#date-err"),
        ("far future", vec![("date", &far_future), ("lesson", &lesson), (&first, "absent")], "#date-err"),
        ("before the school year", vec![("date", &last_year), ("lesson", &lesson), (&first, "absent")], "#date-err"),
        ("not a date", vec![("date", "i går"), ("lesson", &lesson), (&first, "absent")], "#date-err"),
        ("another group's lesson", vec![("date", &date), ("lesson", &other_lesson), (&first, "absent")], "#lesson-err"),
        ("another weekday", vec![("date", &wrong_day), ("lesson", &lesson), (&first, "absent")], "#lesson-err"),
        ("a day off", vec![("date", &holiday), ("lesson", &lesson), (&first, "absent")], "#lesson-err"),
        ("no lesson", vec![("date", &date), (&first, "absent")], "#lesson-err"),
        (
            "a pupil not in the group",
            vec![("date", &date), ("lesson", &lesson), (&first, "absent"), (&stranger_key, "absent")],
            "#pupils-err",
        ),
        ("an unknown status", vec![("date", &date), ("lesson", &lesson), (&first, "sick")], "#err-"),
        ("late without minutes", vec![("date", &date), ("lesson", &lesson), (&first, "late")], "#err-"),
        ("late too long", vec![("date", &date), ("lesson", &lesson), (&first, "late"), (&minutes, "600")], "#err-"),
    ];
    for (what, form, field) in cases {
        let res = app.post_form(&mut b, &path, &form).await;
        let field = if field == "#err-" { format!("#err-{}", pupils[0]) } else { field.to_owned() };
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert_422_at(&res, &field);
        assert_eq!(count(&app, "absence_registrations").await, 0, "{what} stored something");
    }
    // The same checks guard the page itself.
    let res = app.get(&mut b, &format!("{path}?date={future}&lesson={lesson}")).await;
    assert_422_at(&res, "#date-err");
    let res = app.get(&mut b, &format!("/absence/register?date={future}")).await;
    assert_422_at(&res, "#date-err");

    // A field the form does not have is refused whole: no free text can ride along.
    for extra in [("note", "har omgangssyke"), ("comment", "x"), ("status-x", "absent"), ("minutes", "5")] {
        let res =
            app.post_form(&mut b, &path, &[("date", &date), ("lesson", &lesson), (&first, "absent"), extra]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    // A field twice, too.
    let res = app
        .post_form(&mut b, &path, &[("date", &date), ("lesson", &lesson), (&first, "absent"), (&first, "present")])
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "absence_registrations").await, 0);

    // Staff of another school do not find the group at all.
    let mut principal = app.sign_in_as("principal").await;
    let res = app.post_form(&mut principal, &path, &[("date", &date), ("lesson", &lesson), (&first, "absent")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "absence_registrations").await, 0);
}

#[tokio::test]
async fn a_guardian_reports_and_the_other_guardian_and_the_school_see_it() {
    let app = spawn_app_at_school().await;
    let oskar = oskar(&app).await;
    let ola = person(&app, "Ola", "Nordmann", "1982-11-02").await;
    let h = lesson_of_pupil(&app, oskar).await;
    let today = app.today;
    let mut kari = app.sign_in_as("guardian").await;
    let path = format!("/absence/children/{oskar}");

    let page = app.get(&mut kari, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    assert_eq!(html.count("textarea"), 0, "no free text");
    assert_eq!(html.count("input[type=text]"), 0, "no free text");
    assert_eq!(html.count("input[name=reason][type=radio]"), 6, "the guardians' reasons, not 'unknown'");
    assert_eq!(html.count("input[value=unknown]"), 0);

    // The day of the lesson (this week), hours; and a future day, whole day.
    let lesson_day = iso(h.date);
    let res = app
        .post_form(
            &mut kari,
            &path,
            &[
                ("first_day", &lesson_day),
                ("extent", "hours"),
                ("from_time", "08:00"),
                ("to_time", "15:00"),
                ("reason", "medical_appointment"),
            ],
        )
        .await;
    assert!(res.status.is_redirection(), "{} {}", res.status, &res.body[..res.body.len().min(2000)]);
    let later = iso(today + time::Duration::days(3));
    let later2 = iso(today + time::Duration::days(4));
    let res = app
        .post_form(
            &mut kari,
            &path,
            &[("first_day", &later), ("last_day", &later2), ("extent", "whole_day"), ("reason", "illness")],
        )
        .await;
    assert!(res.status.is_redirection());
    assert_eq!(count(&app, "absence_reports").await, 2);
    assert!(app.audit_count("create", oskar).await >= 2);

    // Ola, the other guardian with parental responsibility, sees both.
    let mut ola_b = sign_in_person(&app, ola, Audience::Guardian).await;
    let page = app.get(&mut ola_b, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let rows = page.html().select_texts("table tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.contains("Kari Nordmann")), "{rows:?}");

    // The school sees the report in the register of that day.
    let mut clerk = app.sign_in_as("office_clerk").await;
    let reg = app.get(&mut clerk, &format!("{}?date={}&lesson={}", register_path(&h), lesson_day, h.lesson)).await;
    assert_eq!(reg.status, StatusCode::OK);
    let note = reg.html().select_texts(&format!("#rep-{oskar}"));
    assert_eq!(note.len(), 1);
    assert!(note[0].contains("08:00–15:00"), "{note:?}");

    // Ola withdraws the future report; the one that has begun cannot be withdrawn.
    let ids: Vec<(Uuid, Date)> =
        sqlx::query_as(&format!("SELECT id, first_day FROM absence_reports WHERE {NEW_REPORT} ORDER BY first_day"))
            .fetch_all(&app.owner)
            .await
            .unwrap();
    let res = app.post_form(&mut ola_b, &format!("{path}/reports/{}/withdraw", ids[0].0), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "a report that has begun stays");
    let res = app.post_form(&mut ola_b, &format!("{path}/reports/{}/withdraw", ids[1].0), &[]).await;
    assert!(res.status.is_redirection());
    assert_eq!(count(&app, "absence_reports").await, 1);
    assert_eq!(app.audit_count("delete", oskar).await, 1);
}

#[tokio::test]
async fn every_bad_report_is_refused_by_the_field_and_stores_nothing() {
    let app = spawn_app_at_school().await;
    let oskar = oskar(&app).await;
    let today = app.today;
    let d = |n: i64| iso(today + time::Duration::days(n));
    let mut kari = app.sign_in_as("guardian").await;
    let path = format!("/absence/children/{oskar}");
    let ok =
        app.post_form(&mut kari, &path, &[("first_day", &d(2)), ("extent", "whole_day"), ("reason", "illness")]).await;
    assert!(ok.status.is_redirection());
    let (t0, t1, t2, t5, t8, t31, back) = (d(0), d(1), d(2), d(5), d(8), d(31), d(-30));
    let last_year = iso(crate::days::days_of(&app).last_year());
    let cases: Vec<BadCase> = vec![
        ("far future", vec![("first_day", &t31), ("extent", "whole_day"), ("reason", "illness")], "#first_day-err"),
        (
            "range into the far future",
            vec![("first_day", &t1), ("last_day", &t31), ("extent", "whole_day"), ("reason", "illness")],
            "#last_day-err",
        ),
        ("long ago", vec![("first_day", &back), ("extent", "whole_day"), ("reason", "illness")], "#first_day-err"),
        (
            "before the school year",
            vec![("first_day", &last_year), ("extent", "whole_day"), ("reason", "illness")],
            "#first_day-err",
        ),
        (
            "not a date",
            vec![("first_day", "i morgen"), ("extent", "whole_day"), ("reason", "illness")],
            "#first_day-err",
        ),
        (
            "last before first",
            vec![("first_day", &t5), ("last_day", &t1), ("extent", "whole_day"), ("reason", "illness")],
            "#last_day-err",
        ),
        (
            "overlapping",
            vec![("first_day", &t1), ("last_day", &t5), ("extent", "whole_day"), ("reason", "family_matter")],
            "#first_day-err",
        ),
        (
            "overlapping hours",
            vec![
                ("first_day", &t2),
                ("extent", "hours"),
                ("from_time", "09:00"),
                ("to_time", "10:00"),
                ("reason", "transport"),
            ],
            "#first_day-err",
        ),
        (
            "hours backwards",
            vec![
                ("first_day", &t0),
                ("extent", "hours"),
                ("from_time", "12:00"),
                ("to_time", "09:00"),
                ("reason", "illness"),
            ],
            "#to_time-err",
        ),
        (
            "hours over days",
            vec![
                ("first_day", &t0),
                ("last_day", &t1),
                ("extent", "hours"),
                ("from_time", "09:00"),
                ("to_time", "10:00"),
                ("reason", "illness"),
            ],
            "#last_day-err",
        ),
        ("hours without times", vec![("first_day", &t0), ("extent", "hours"), ("reason", "illness")], "#from_time-err"),
        ("no extent", vec![("first_day", &t0), ("reason", "illness")], "#extent-err"),
        ("no reason", vec![("first_day", &t0), ("extent", "whole_day")], "#reason-err"),
        (
            "a reason not on the list",
            vec![("first_day", &t0), ("extent", "whole_day"), ("reason", "influensa")],
            "#reason-err",
        ),
        (
            "the school's own reason",
            vec![("first_day", &t0), ("extent", "whole_day"), ("reason", "unknown")],
            "#reason-err",
        ),
    ];
    for (what, form, field) in cases {
        let res = app.post_form(&mut kari, &path, &form).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert_422_at(&res, field);
        assert_eq!(count(&app, "absence_reports").await, 1, "{what} stored something");
    }

    // Outside the school year: make this school year end soon.
    sqlx::query("UPDATE school_years SET ends = $1 WHERE starts <= $2 AND ends >= $2")
        .bind(today + time::Duration::days(6))
        .bind(today)
        .execute(&app.owner)
        .await
        .unwrap();
    let res = app
        .post_form(
            &mut kari,
            &path,
            &[("first_day", &t5), ("last_day", &t8), ("extent", "whole_day"), ("reason", "illness")],
        )
        .await;
    assert_422_at(&res, "#last_day-err");
    assert_eq!(count(&app, "absence_reports").await, 1);

    // No free text: any field the form does not name is refused, and nothing stored.
    for extra in [("note", "har feber og omgangssyke"), ("comment", "x"), ("description", "x"), ("reason_text", "x")] {
        let res = app
            .post_form(&mut kari, &path, &[("first_day", &t0), ("extent", "whole_day"), ("reason", "illness"), extra])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    let res = app
        .post_form(
            &mut kari,
            &path,
            &[("first_day", &t0), ("extent", "whole_day"), ("reason", "illness"), ("reason", "other_valid")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "a field twice");
    assert_eq!(count(&app, "absence_reports").await, 1);
}

#[tokio::test]
async fn only_guardians_with_parental_responsibility_reach_a_child() {
    let app = spawn_app_at_school().await;
    let oskar = oskar(&app).await;
    let ola = person(&app, "Ola", "Nordmann", "1982-11-02").await;
    let today = iso(app.today);
    let path = format!("/absence/children/{oskar}");
    let form = [("first_day", today.as_str()), ("extent", "whole_day"), ("reason", "illness")];

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

    // Another family's child, and staff: not found either.
    let mut kari = app.sign_in_as("guardian").await;
    let stranger = app.pupil_at("Solbakken skole").await;
    assert_ne!(stranger, oskar);
    let other = format!("/absence/children/{stranger}");
    assert_eq!(app.get(&mut kari, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&mut kari, &other, &form).await.status, StatusCode::NOT_FOUND);
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.post_form(&mut teacher, &path, &form).await.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "absence_reports").await, 0);
}

/// The schema cannot hold free text: every text column of the absence tables a
/// request can write is an enumeration (a CHECK … IN) or a code with a foreign key
/// to the tenant's list, and the list itself cannot be written by the application.
#[tokio::test]
async fn the_absence_tables_have_no_free_text_column() {
    let app = spawn_app_at_school().await;
    let columns: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, \
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' \
                        AND a.attnum = ANY (k.conkey) AND pg_get_constraintdef(k.oid) LIKE '%= ANY (ARRAY[%'), \
                EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' \
                        AND a.attnum = ANY (k.conkey)) \
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         JOIN pg_type t ON t.oid = a.atttypid \
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'absence%' \
           AND t.typcategory = 'S' ORDER BY 1, 2",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let tables: std::collections::BTreeSet<&str> = columns.iter().map(|c| c.0.as_str()).collect();
    // The code lists and rule parameters are read-only for the application (checked below).
    const READ_ONLY: [&str; 3] = ["absence_reasons", "absence_review_codes", "absence_rule_parameters"];
    for t in
        ["absence_reasons", "absence_registrations", "absence_reports", "absence_reviews", "absence_school_settings"]
    {
        assert!(tables.contains(t), "{t}");
    }
    for (table, column, enumerated, coded) in &columns {
        if READ_ONLY.contains(&table.as_str()) {
            continue;
        }
        assert!(*enumerated || *coded, "{table}.{column} could hold free text");
    }
    for table in READ_ONLY {
        let writable: bool = sqlx::query_scalar(
            "SELECT has_table_privilege('tavle_app', $1, 'INSERT') OR has_table_privilege('tavle_app', $1, 'UPDATE')",
        )
        .bind(table)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert!(!writable, "the application must not write {table}");
    }
}

#[tokio::test]
async fn every_municipality_has_the_reason_list_also_a_new_one() {
    let app = spawn_app_at_school().await;
    let per_tenant: Vec<i64> = sqlx::query_scalar(
        "SELECT count(r.code) FROM tenants t LEFT JOIN absence_reasons r ON r.tenant_id = t.id GROUP BY t.id",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(per_tenant.len() >= 2 && per_tenant.iter().all(|&n| n == 7), "{per_tenant:?}");
    let id: Uuid = sqlx::query_scalar("SELECT tavle_create_tenant(NULL, '9909', 'Nykommune', 'nykommune')")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM absence_reasons WHERE tenant_id = $1 ORDER BY sort_order")
            .bind(id)
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert_eq!(
        codes,
        ["illness", "medical_appointment", "family_matter", "religious_holiday", "transport", "other_valid", "unknown"]
    );
    // Creating it leaves the transaction's tenant as it was (none).
    let tenant: Option<String> =
        sqlx::query_scalar("SELECT current_setting('tavle.tenant_id', true)").fetch_one(&app.owner).await.unwrap();
    assert!(tenant.unwrap_or_default().is_empty());
}

/// Many saves of the same register at once (a double click, two tabs, a morning
/// peak), each listing the pupils in another order: every one is saved (no deadlock
/// turned into a 500), the rows are still one per pupil, and each save is audited.
#[tokio::test]
async fn concurrent_saves_of_one_register_all_succeed() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;

    let app = spawn_app_at_school().await;
    let h = lesson_of_teacher(&app, JONAS).await;
    let pupils = members_on(&app, &h).await;
    assert!(pupils.len() >= 10);
    let mut b = app.sign_in_as("teacher").await;
    let page = app.get(&mut b, &format!("{}?date={}&lesson={}", register_path(&h), iso(h.date), h.lesson)).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");

    let saves = 12;
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..saves {
        let mut order = pupils.clone();
        order.rotate_left(round * 5 % pupils.len());
        if round % 2 == 1 {
            order.reverse();
        }
        // Only uuids, dates, hex and plain words: nothing to escape.
        let mut body = format!("csrf={}&date={}&lesson={}", b.csrf, iso(h.date), h.lesson);
        for (i, p) in order.iter().enumerate() {
            let status = if (i + round) % 4 == 0 { "absent" } else { "present" };
            body.push_str(&format!("&status-{p}={status}"));
        }
        let req = Request::post(register_path(&h))
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let router = app.router.clone();
        tasks.spawn(async move { router.oneshot(req).await.expect("infallible").status() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("task"));
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::SEE_OTHER), "{statuses:?}");
    assert_eq!(count(&app, "absence_registrations").await, pupils.len() as i64);
    assert_eq!(app.audit_count("update", pupils[0]).await, saves as i64, "every save is audited");
}

/// The register finds what is saved for each pupil by one index probe, whatever the
/// statistics say. Every school morning they were gathered before today's registers
/// were taken; a plan that believes "no registrations today" reads every registration
/// of the day, or of the municipality, for each register shown.
#[tokio::test]
async fn the_register_finds_each_pupils_saved_line_by_an_index_probe() {
    let app = spawn_app_at_school().await;
    let held = lesson_of_teacher(&app, JONAS).await;
    // A municipality's registrations of earlier days, as there are on every school
    // morning (the demo's history is empty early in the autumn): last school year's.
    sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, registered_by, source) \
         SELECT l.tenant_id, l.id, m.pupil_id, d::date, 'absent', l.teacher_id, 'teacher' FROM lessons l \
         JOIN group_memberships m ON m.tenant_id = l.tenant_id AND m.group_id = l.group_id \
         CROSS JOIN generate_series($1::date - 307, $1::date - 301, interval '1 day') d \
         WHERE l.teacher_id IS NOT NULL AND extract(isodow FROM d) = l.weekday \
           AND (SELECT count(*) FROM absence_registrations) < 20000 \
         ON CONFLICT DO NOTHING",
    )
    .bind(held.date)
    .execute(&app.owner)
    .await
    .unwrap();
    sqlx::query("ANALYZE absence_registrations").execute(&app.owner).await.unwrap();
    let tenant = app.tenant_id("fjordvik").await;
    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let sql =
        format!("EXPLAIN (COSTS OFF) {}", tavle::absence::queries::register_lines_sql(tavle::web::i18n::Lang::Nb));
    let plan: Vec<String> = sqlx::query_scalar(&sql)
        .bind(tenant)
        .bind(held.date)
        .bind(held.group)
        .bind(held.lesson)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let scans: Vec<usize> =
        plan.iter().enumerate().filter(|(_, l)| l.contains("on absence_registrations")).map(|(i, _)| i).collect();
    assert!(!scans.is_empty(), "the plan reads absence_registrations:\n{}", plan.join("\n"));
    for i in scans {
        assert!(plan[i].contains("Index Scan"), "an index scan:\n{}", plan.join("\n"));
        let cond = plan.get(i + 1).map(String::as_str).unwrap_or_default();
        assert!(
            cond.contains("Index Cond") && cond.contains("pupil_id = m.pupil_id") && cond.contains("date ="),
            "probed by pupil and date (a handful of rows), not by date or municipality:\n{}",
            plan.join("\n")
        );
    }
}
