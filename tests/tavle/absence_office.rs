//! Absence for the school office: the day register (one row per lesson of the day,
//! idempotent, every bad input refused by the field with nothing stored), the
//! registration mode, and the school's statistics and CSV against a small data set
//! made here, so that every figure could be wrong.

use axum::http::StatusCode;
use time::Date;
use uuid::Uuid;

use crate::absence::{iso, NEW_REGISTRATION};
use crate::days::{days_of, Days};
use crate::helpers::{spawn_app, spawn_app_at_school, spawn_app_on, TestApp, TestResponse};

/// 4A at Solbakken (which registers per day in the demo) and the latest school day
/// after the demo's absence history, up to the day the app runs as (a school day: see
/// `spawn_app_at_school`).
async fn solbakken_class(app: &TestApp) -> (Uuid, Date) {
    let class: Uuid = sqlx::query_scalar(
        "SELECT g.id FROM groups g JOIN schools s ON s.id = g.school_id \
         WHERE s.name = 'Solbakken skole' AND g.kind = 'base' AND g.name = '4A'",
    )
    .fetch_one(&app.owner)
    .await
    .expect("4A");
    let day = *days_of(app).school_days_since_history().last().expect("a school day since the history");
    (class, day)
}

/// The class's members on `day`, in the order of the page.
async fn members(app: &TestApp, class: Uuid, day: Date) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT m.pupil_id FROM group_memberships m JOIN persons p ON p.id = m.pupil_id \
         WHERE m.group_id = $1 AND m.from_date <= $2 AND (m.to_date IS NULL OR m.to_date > $2) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(class)
    .bind(day)
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

/// The pupil's lessons on `day` at Solbakken, in the order of the day, counted
/// independently of the application's query.
async fn lessons_of(app: &TestApp, pupil: Uuid, day: Date) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT l.id FROM group_memberships m JOIN groups g ON g.id = m.group_id \
         JOIN lessons l ON l.group_id = g.id \
         WHERE m.pupil_id = $1 AND g.kind <> 'sfo' AND l.weekday = extract(isodow FROM $2::date) \
           AND l.valid_from <= $2 AND (l.valid_to IS NULL OR l.valid_to > $2) ORDER BY l.starts, l.id",
    )
    .bind(pupil)
    .bind(day)
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

/// (lesson, status, minutes, registered_at) of the rows the test stored for `pupil`.
type Stored = Vec<(Uuid, String, Option<i16>, time::OffsetDateTime)>;

async fn stored(app: &TestApp, pupil: Uuid) -> Stored {
    sqlx::query_as(&format!(
        "SELECT r.lesson_id, r.status, r.minutes_late, r.registered_at FROM absence_registrations r \
         JOIN lessons l ON l.id = r.lesson_id WHERE r.pupil_id = $1 AND {NEW_REGISTRATION} ORDER BY l.starts, l.id"
    ))
    .bind(pupil)
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

async fn new_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM absence_registrations WHERE {NEW_REGISTRATION}"))
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
}

#[tokio::test]
async fn the_day_register_writes_a_row_per_lesson_and_saving_twice_changes_nothing() {
    let app = spawn_app_at_school().await;
    let (class, day) = solbakken_class(&app).await;
    let pupils = members(&app, class, day).await;
    assert!(pupils.len() >= 3);
    let mut teacher = app.sign_in_as("teacher").await;

    // The register's day page offers the class's day register.
    let list = app.get(&mut teacher, &format!("/absence/register?date={}", iso(day))).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.html().count(&format!("a[href='/absence/classes/{class}/day?date={}']", iso(day))), 1);

    let path = format!("/absence/classes/{class}/day");
    let page = app.get(&mut teacher, &format!("{path}?date={}", iso(day))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.html();
    assert_eq!(html.count("fieldset.tavle-register__pupil"), pupils.len());
    assert_eq!(html.count("input[type=radio][value=present][checked]"), pupils.len());

    let date = iso(day);
    let mut fields: Vec<(String, String)> = vec![("date".to_owned(), date.clone())];
    for (i, p) in pupils.iter().enumerate() {
        let (status, minutes) = match i {
            0 => ("absent", ""),
            1 => ("late", "7"),
            _ => ("present", ""),
        };
        fields.push((format!("status-{p}"), status.to_owned()));
        fields.push((format!("minutes-{p}"), minutes.to_owned()));
    }
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = app.post_form(&mut teacher, &path, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", &saved.body[..saved.body.len().min(3000)]);
    assert!(saved.location.as_deref().unwrap_or_default().contains("saved=1"));

    // One row per lesson of each pupil's day: absent all day, late in the first lesson.
    let mut expected_rows = 0;
    for (i, p) in pupils.iter().enumerate() {
        let lessons = lessons_of(&app, *p, day).await;
        assert!(!lessons.is_empty(), "every pupil of 4A has lessons on a school day");
        expected_rows += lessons.len();
        let rows = stored(&app, *p).await;
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), lessons, "one row per lesson, pupil {i}");
        for (n, (_, status, minutes, _)) in rows.iter().enumerate() {
            let want = match (i, n) {
                (0, _) => ("absent", None),
                (1, 0) => ("late", Some(7)),
                _ => ("present", None),
            };
            assert_eq!((status.as_str(), *minutes), want, "pupil {i}, lesson {n}");
        }
    }
    assert_eq!(new_rows(&app).await, expected_rows as i64);

    // The same form again: nothing new, nothing changed, not even the time stamps.
    let before = stored(&app, pupils[0]).await;
    let again = app.post_form(&mut teacher, &path, &form).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(new_rows(&app).await, expected_rows as i64);
    assert_eq!(stored(&app, pupils[0]).await, before);

    // The page shows what is saved; the lesson register of the same day agrees.
    let page = app.get(&mut teacher, &format!("{path}?date={date}")).await;
    let html = page.html();
    assert_eq!(html.count(&format!("#s-{}-absent[checked]", pupils[0])), 1);
    assert_eq!(html.count(&format!("#s-{}-late[checked]", pupils[1])), 1);
    assert_eq!(html.select_first_attr(&format!("#minutes-{}", pupils[1]), "value").as_deref(), Some("7"));

    // Present again: the pupil's rows turn present, none added.
    let changed: Vec<(&str, &str)> =
        form.iter().map(|&(k, v)| if k == format!("status-{}", pupils[0]) { (k, "present") } else { (k, v) }).collect();
    let res = app.post_form(&mut teacher, &path, &changed).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(new_rows(&app).await, expected_rows as i64);
    assert!(stored(&app, pupils[0]).await.iter().all(|r| r.1 == "present"));

    // Every save and every look is audited, with the pupils.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'absence_day_register' AND resource_id = $1 \
           AND action = 'update' AND $2 = ANY(subject_ids) AND actor_role = 'teacher' AND purpose = 'teaching'",
    )
    .bind(class)
    .bind(pupils[0])
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 3);
    let reads: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'absence_day_register' AND action = 'read' \
           AND $1 = ANY(subject_ids)",
    )
    .bind(pupils[2])
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(reads, 2);
}

#[tokio::test]
async fn the_day_register_shows_what_guardians_reported() {
    let app = spawn_app_at_school().await;
    let (class, day) = solbakken_class(&app).await;
    let pupil = members(&app, class, day).await[0];
    sqlx::query(
        "INSERT INTO absence_reports (tenant_id, pupil_id, reported_by, first_day, last_day, reason_code) \
         SELECT tenant_id, pupil_id, guardian_id, $2, $2, 'illness' FROM guardianships \
         WHERE pupil_id = $1 AND parental_responsibility LIMIT 1",
    )
    .bind(pupil)
    .bind(day)
    .execute(&app.owner)
    .await
    .unwrap();
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/absence/classes/{class}/day?date={}", iso(day))).await;
    assert_eq!(page.status, StatusCode::OK);
    let note = page.html().select_texts(&format!("#rep-{pupil}"));
    assert_eq!(note.len(), 1, "{}", page.body);
    assert!(note[0].contains("Syk"), "{note:?}");
}

#[tokio::test]
async fn every_bad_day_register_input_is_refused_by_the_field_and_stores_nothing() {
    let app = spawn_app_at_school().await;
    let (class, day) = solbakken_class(&app).await;
    let pupils = members(&app, class, day).await;
    let today = app.today;
    let days = days_of(&app);
    let (last_year, autumn, planning, sunday) = (
        iso(days.last_year()),
        iso(days.day_off("Høstferie")),
        iso(days.day_off("Planleggingsdag")),
        iso(days.sunday_in_term()),
    );
    let mut teacher = app.sign_in_as("teacher").await;
    let path = format!("/absence/classes/{class}/day");
    app.get(&mut teacher, &format!("{path}?date={}", iso(day))).await;
    let date = iso(day);
    let first = format!("status-{}", pupils[0]);
    let minutes = format!("minutes-{}", pupils[0]);
    let stranger = app.pupil_at("Fjordvik ungdomsskole").await;
    let stranger_key = format!("status-{stranger}");
    let tomorrow = iso(today + time::Duration::days(1));
    let err_first = format!("#err-{}", pupils[0]);

    let cases: Vec<BadCase> = vec![
        ("tomorrow", vec![("date", &tomorrow), (&first, "absent")], "#date-err"),
        ("before the school year", vec![("date", &last_year), (&first, "absent")], "#date-err"),
        ("not a date", vec![("date", "i går"), (&first, "absent")], "#date-err"),
        ("no date", vec![(&first, "absent")], "#date-err"),
        ("the autumn holiday", vec![("date", &autumn), (&first, "absent")], "#date-err"),
        ("the planning day", vec![("date", &planning), (&first, "absent")], "#date-err"),
        ("a Sunday", vec![("date", &sunday), (&first, "absent")], "#date-err"),
        ("a pupil not in the class", vec![("date", &date), (&stranger_key, "absent")], "#pupils-err"),
        ("an unknown status", vec![("date", &date), (&first, "sick")], &err_first),
        ("late without minutes", vec![("date", &date), (&first, "late")], &err_first),
        ("late too long", vec![("date", &date), (&first, "late"), (&minutes, "600")], &err_first),
    ];
    for (what, form, field) in cases {
        let res = app.post_form(&mut teacher, &path, &form).await;
        assert_422_at(&res, field, what);
        assert_eq!(new_rows(&app).await, 0, "{what} stored something");
    }
    // The sent form comes back as typed.
    let res = app.post_form(&mut teacher, &path, &[("date", &date), (&first, "late"), (&minutes, "600")]).await;
    let html = res.html();
    assert_eq!(html.count(&format!("#s-{}-late[checked]", pupils[0])), 1);
    assert_eq!(html.select_first_attr(&format!("#minutes-{}", pupils[0]), "value").as_deref(), Some("600"));
    // The minutes are what is wrong: they carry the message (as in the lesson register).
    assert_eq!(
        html.count(&format!("#minutes-{}[aria-invalid=true][aria-describedby='err-{}']", pupils[0], pupils[0])),
        1
    );
    // The page itself checks the date the same way.
    let res = app.get(&mut teacher, &format!("{path}?date={autumn}")).await;
    assert_422_at(&res, "#date-err", "page on a holiday");

    // Fields the form does not have, or a field twice, are refused whole.
    for extra in [("note", "har omgangssyke"), ("lesson", "x"), ("status-x", "absent"), ("minutes", "5")] {
        let res = app.post_form(&mut teacher, &path, &[("date", &date), (&first, "absent"), extra]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    let res = app.post_form(&mut teacher, &path, &[("date", &date), (&first, "absent"), (&first, "present")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // A pupil with no lessons that day (in no teaching group any more).
    sqlx::query("DELETE FROM group_memberships WHERE pupil_id = $1 AND group_id <> $2")
        .bind(pupils[0])
        .bind(class)
        .execute(&app.owner)
        .await
        .unwrap();
    let res = app.post_form(&mut teacher, &path, &[("date", &date), (&first, "absent")]).await;
    assert_422_at(&res, &err_first, "a pupil without lessons");
    // No lessons for anyone that day (the timetable starts later).
    sqlx::query(
        "UPDATE lessons l SET valid_from = $1 FROM groups g JOIN schools s ON s.id = g.school_id \
         WHERE g.id = l.group_id AND s.name = 'Solbakken skole'",
    )
    .bind(day + time::Duration::days(1))
    .execute(&app.owner)
    .await
    .unwrap();
    let second = format!("status-{}", pupils[1]);
    let res = app.post_form(&mut teacher, &path, &[("date", &date), (&second, "absent")]).await;
    assert_422_at(&res, "#date-err", "no lessons that day");
    assert_eq!(new_rows(&app).await, 0);

    // Staff of another school, a teaching group, or a school that registers per lesson: not found.
    let mut principal = app.sign_in_as("principal").await;
    let res = app.get(&mut principal, &format!("{path}?date={date}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let teaching: Uuid =
        sqlx::query_scalar("SELECT id FROM groups WHERE name = '4A NOR'").fetch_one(&app.owner).await.unwrap();
    let res = app.get(&mut teacher, &format!("/absence/classes/{teaching}/day?date={date}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    sqlx::query("UPDATE absence_school_settings SET registration_mode = 'lesson'").execute(&app.owner).await.unwrap();
    let res = app.get(&mut teacher, &format!("{path}?date={date}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_principal_sets_the_registration_mode() {
    let app = spawn_app().await;
    let school: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Fjordvik ungdomsskole'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let mut principal = app.sign_in_as("principal").await;
    let path = format!("/schools/{school}/absence/settings");
    let page = app.get(&mut principal, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("#mode-lesson[checked]"), 1, "per lesson by default");
    let res = app.post_form(&mut principal, &path, &[("mode", "weekly")]).await;
    assert_422_at(&res, "#mode-err", "an unknown mode");
    let res = app.post_form(&mut principal, &path, &[("mode", "day"), ("note", "x")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let mode = || async {
        sqlx::query_scalar::<_, String>("SELECT registration_mode FROM absence_school_settings WHERE school_id = $1")
            .bind(school)
            .fetch_optional(&app.owner)
            .await
            .unwrap()
    };
    assert_eq!(mode().await, None, "nothing stored");
    let res = app.post_form(&mut principal, &path, &[("mode", "day")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(mode().await.as_deref(), Some("day"));
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE resource = 'absence_settings' AND resource_id = $1 AND action = 'update'",
    )
    .bind(school)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

/// Two weeks of the current school year with school on their Mondays and Wednesdays,
/// in one month, after the year's first week: the Monday of the first. The statistics
/// show them from the Tuesday of the week after the two on (they go up to yesterday).
fn two_school_weeks(days: &Days) -> Date {
    let c = days.current();
    let mut monday = Days::monday_of(c.first_day()) + time::Duration::days(7);
    loop {
        let (wed, mon2, wed2) =
            (monday + time::Duration::days(2), monday + time::Duration::days(7), monday + time::Duration::days(9));
        if [monday, wed, mon2, wed2].iter().all(|&d| c.is_school_day(d)) && monday.month() == wed2.month() {
            return monday;
        }
        monday += time::Duration::days(7);
    }
}

/// A school of its own with one class of two pupils, two lessons a week (Monday and
/// Wednesday) for the two weeks from `monday`, and registrations whose figures are
/// known. Returns (school, pupil A, pupil B).
async fn known_school(app: &TestApp, monday: Date) -> (Uuid, Uuid, Uuid) {
    let day = |n: i64| monday + time::Duration::days(n);
    let tenant = app.tenant_id("fjordvik").await;
    let one = |sql: &'static str| async move {
        sqlx::query_scalar::<_, Uuid>(sql)
            .bind(tenant)
            .fetch_one(&app.owner)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let school = one("INSERT INTO schools (tenant_id, org_number, name, first_grade, last_grade) \
         VALUES ($1, '999888777', 'Teststad skule', 1, 7) RETURNING id")
    .await;
    let year: Uuid = sqlx::query_scalar("SELECT id FROM school_years WHERE tenant_id = $1 AND name = $2")
        .bind(tenant)
        .bind(days_of(app).year_name())
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let subject = one("SELECT id FROM subjects WHERE tenant_id = $1 AND code = 'NOR'").await;
    let by = one("SELECT person_id FROM staff WHERE tenant_id = $1 ORDER BY person_id LIMIT 1").await;
    let mut pupils = Vec::new();
    for (nid, name) in [("01011900011", "Aud"), ("01011900022", "Bjørn")] {
        let p: Uuid = sqlx::query_scalar(
            "INSERT INTO persons (tenant_id, national_id, given_name, family_name) VALUES ($1, $2, $3, 'Test') RETURNING id",
        )
        .bind(tenant)
        .bind(nid)
        .bind(name)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        sqlx::query("INSERT INTO pupils (tenant_id, person_id) VALUES ($1, $2)")
            .bind(tenant)
            .bind(p)
            .execute(&app.owner)
            .await
            .unwrap();
        pupils.push(p);
    }
    let group = |kind: &'static str, name: &'static str, subject: Option<Uuid>| async move {
        sqlx::query_scalar::<_, Uuid>(
            "INSERT INTO groups (tenant_id, school_id, school_year_id, kind, name, grade_level, subject_id) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
        )
        .bind(tenant)
        .bind(school)
        .bind(year)
        .bind(kind)
        .bind(name)
        .bind(subject)
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    // A class name a spreadsheet would take for a formula.
    let class = group("base", "=1A", None).await;
    let teaching = group("teaching", "1A NOR", Some(subject)).await;
    for g in [class, teaching] {
        for p in &pupils {
            sqlx::query(
                "INSERT INTO group_memberships (tenant_id, group_id, pupil_id, from_date) VALUES ($1, $2, $3, $4)",
            )
            .bind(tenant)
            .bind(g)
            .bind(p)
            .bind(days_of(app).current().year.starts())
            .execute(&app.owner)
            .await
            .unwrap();
        }
    }
    let mut lessons = Vec::new();
    for weekday in [1i16, 3] {
        let l: Uuid = sqlx::query_scalar(
            "INSERT INTO lessons (tenant_id, group_id, subject_id, weekday, starts, ends, valid_from, valid_to) \
             VALUES ($1, $2, $3, $4, '08:30', '09:15', $5, $6) RETURNING id",
        )
        .bind(tenant)
        .bind(teaching)
        .bind(subject)
        .bind(weekday)
        .bind(day(0))
        .bind(day(14))
        .fetch_one(&app.owner)
        .await
        .unwrap();
        lessons.push(l);
    }
    let (a, b) = (pupils[0], pupils[1]);
    // A absent on the first Monday and Wednesday (two whole days); B late on the second
    // Monday and present on its Wednesday; and an absence on the Monday after, when the
    // lesson is no longer held: not counted.
    for (lesson, pupil, day, status, minutes) in [
        (lessons[0], a, day(0), "absent", None),
        (lessons[1], a, day(2), "absent", None),
        (lessons[0], b, day(7), "late", Some(5i16)),
        (lessons[1], b, day(9), "present", None),
        (lessons[0], a, day(14), "absent", None),
    ] {
        sqlx::query(
            "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, minutes_late, \
                 registered_by, source) VALUES ($1, $2, $3, $4, $5, $6, $7, 'teacher')",
        )
        .bind(tenant)
        .bind(lesson)
        .bind(pupil)
        .bind(day)
        .bind(status)
        .bind(minutes)
        .bind(by)
        .execute(&app.owner)
        .await
        .unwrap();
    }
    (school, a, b)
}

#[tokio::test]
async fn the_statistics_count_lessons_held_from_the_timetable() {
    let days = crate::days::days();
    let monday = two_school_weeks(&days);
    // On the school day the demo is told around, or on the Tuesday after the two weeks
    // when that comes sooner (early in the autumn).
    let app = spawn_app_on(days.years.school_today().max(monday + time::Duration::days(15))).await;
    let (school, _, _) = known_school(&app, monday).await;
    let week = |d: Date| format!("Uke {}", d.iso_week());
    let (w0, w1, w2) = (week(monday - time::Duration::days(7)), week(monday), week(monday + time::Duration::days(7)));
    let mut admin = app.sign_in_as("system_admin").await;
    let page = app.get(&mut admin, &format!("/schools/{school}/absence/statistics")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.html();
    // Grade 1: 8 lessons held (2 pupils × 2 lessons × 2 weeks), 2 absent, 1 late, 2 whole days.
    assert_eq!(html.select_texts("#summary-cap ~ tbody tr > *"), ["1. trinn", "8", "2", "25,0 %", "1", "2"]);
    let weeks = html.select_texts("#weeks-cap ~ tbody tr > *");
    let row = |label: &str| weeks.iter().position(|c| c == label).map(|i| weeks[i..i + 3].to_vec());
    assert_eq!(row(&w1), Some(vec![w1.clone(), "50,0 %".to_owned(), "50,0 %".to_owned()]), "{weeks:?}");
    assert_eq!(row(&w2), Some(vec![w2.clone(), "0,0 %".to_owned(), "0,0 %".to_owned()]));
    assert_eq!(row(&w0), Some(vec![w0.clone(), "–".to_owned(), "–".to_owned()]), "no lessons yet");
    assert_eq!(html.count("svg polyline"), 1, "one line for the one grade");
    assert_eq!(html.count("svg[role=img][aria-labelledby]"), 1);
    let by_class = app.get(&mut admin, &format!("/schools/{school}/absence/statistics?by=class")).await;
    assert_eq!(by_class.html().select_texts("#summary-cap ~ tbody tr > *"), ["=1A", "8", "2", "25,0 %", "1", "2"]);
    // A `by` the page never links to is a hand-made URL: refused before any figures.
    let odd = app.get(&mut admin, &format!("/schools/{school}/absence/statistics?by=pupil")).await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST);

    // The export: a header, one line per class and week, nothing about a pupil.
    let csv = app.get(&mut admin, &format!("/schools/{school}/absence/statistics.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
    let disposition = csv.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "school;class;grade_level;period;period_start;lessons_held;absent_lessons;late_lessons;whole_days_absent"
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1], format!("Teststad skule;'=1A;1;week;{monday};4;2;0;2"));
    assert_eq!(lines[2], format!("Teststad skule;'=1A;1;week;{};4;0;1;0", monday + time::Duration::days(7)));
    assert!(!csv.body.contains("Aud") && !csv.body.contains("01011900011"), "no personal data");
    let month = app.get(&mut admin, &format!("/schools/{school}/absence/statistics.csv?period=month")).await;
    assert_eq!(
        month.body.trim_start_matches('\u{feff}').lines().nth(1),
        Some(
            format!("Teststad skule;'=1A;1;month;{}-{:02}-01;8;2;1;2", monday.year(), u8::from(monday.month()))
                .as_str()
        )
    );
    let bad = app.get(&mut admin, &format!("/schools/{school}/absence/statistics.csv?period=year")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Looking and exporting are audited (without subjects: the figures are counts).
    let audited: Vec<(String, i32)> = sqlx::query_as(
        "SELECT action, coalesce(array_length(subject_ids, 1), 0) FROM audit_events \
         WHERE resource = 'absence_statistics' AND resource_id = $1 ORDER BY seq",
    )
    .bind(school)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let expected: Vec<(String, i32)> =
        ["read", "read", "export", "export"].iter().map(|a| ((*a).to_owned(), 0)).collect();
    assert_eq!(audited, expected);
}

#[tokio::test]
async fn the_demo_has_an_absence_history_to_show() {
    let app = spawn_app().await;
    let days = days_of(&app);
    let history_days = days.current().school_days().into_iter().filter(|&d| d <= days.history_end()).count();
    let (held, absent, reports, after, personas): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM absence_registrations), \
                (SELECT count(*) FROM absence_registrations WHERE status = 'absent'), \
                (SELECT count(*) FROM absence_reports), \
                (SELECT count(*) FROM absence_registrations WHERE date > $1 OR date < $2), \
                (SELECT count(*) FROM absence_registrations r JOIN persons p ON p.id = r.pupil_id \
                  WHERE (p.given_name, p.family_name) IN (('Emma', 'Nordmann'), ('Oskar', 'Nordmann'), ('Tuva', 'Berg')) \
                    AND p.birth_date > '2005-01-01')",
    )
    .bind(days.history_end())
    .bind(days.current().first_day())
    .fetch_one(&app.owner)
    .await
    .unwrap();
    // Two weeks of school make a history worth showing; in the first weeks there is none.
    if history_days >= 10 {
        assert!(held > 1_000 && absent > 1_000 && reports > 50, "{held} {absent} {reports} in {history_days} days");
    } else if history_days == 0 {
        assert_eq!((held, reports), (0, 0));
    }
    assert_eq!(after, 0, "the history ends on the Friday of the week before last");
    assert_eq!(personas, 0, "the personas' children start from a clean sheet");
    let solbakken: String = sqlx::query_scalar(
        "SELECT registration_mode FROM absence_school_settings st JOIN schools s ON s.id = st.school_id \
         WHERE s.name = 'Solbakken skole'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(solbakken, "day");
}

#[tokio::test]
async fn the_statistics_are_found_from_the_menu() {
    let app = spawn_app().await;
    let mut director = app.sign_in_as("municipal_director").await;
    let page = app.get(&mut director, "/").await;
    assert_eq!(page.html().count("nav a[href='/absence/statistics']"), 1, "in the menu");
    let index = app.get(&mut director, "/absence/statistics").await;
    assert_eq!(index.status, StatusCode::OK);
    let schools = index.html().select_texts("main li a");
    assert_eq!(schools, ["Fjordvik ungdomsskole", "Nordlys oppvekstsenter", "Solbakken skole"]);
    let mut clerk = app.sign_in_as("office_clerk").await;
    let res = app.get(&mut clerk, "/absence/statistics").await;
    let solbakken: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Solbakken skole'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(res.location.as_deref(), Some(format!("/schools/{solbakken}/absence/statistics").as_str()));
    let mut teacher = app.sign_in_as("teacher").await;
    let page = app.get(&mut teacher, "/").await;
    assert_eq!(page.html().count("a[href='/absence/statistics']"), 0, "not for teachers");
}
