//! The timetable as its users meet it: the weeks of a pupil, a guardian's child, a
//! teacher and a group (with the calendar's days off), the office's editing of a
//! group's lessons, and the import of a school's timetable (page and command line).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use time::Duration;
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app, TestApp, TestResponse};

async fn scalar(app: &TestApp, sql: &str) -> Uuid {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn group_named(app: &TestApp, school: &str, name: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT g.id FROM groups g JOIN schools s ON s.id = g.school_id WHERE s.name = $1 AND g.name = $2",
    )
    .bind(school)
    .bind(name)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

/// The groups of the lessons shown on a week page.
fn shown_groups(res: &TestResponse) -> BTreeSet<String> {
    res.html().select_attrs(".tavle-lesson", "data-group").into_iter().collect()
}

fn lessons_on(res: &TestResponse, day: &str) -> usize {
    res.html().count(&format!("#day-{day} .tavle-lesson"))
}

async fn lesson_count(app: &TestApp, group: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM lessons WHERE group_id = $1")
        .bind(group)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

async fn events(app: &TestApp, action: &str, resource: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1 AND resource = $2")
        .bind(action)
        .bind(resource)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pupil_sees_their_own_week_with_days_off_and_the_look_is_logged() {
    let app = spawn_app().await;
    let (emma, _) = app.persona("pupil").await;
    let mut pupil = app.sign_in_as("pupil").await;
    let res = app.get(&mut pupil, "/timetable").await;
    assert_redirects_to(&res, &format!("/pupils/{emma}/timetable"));

    let days = crate::days::days_of(&app);
    let monday = days.full_week();
    let before = app.audit_count("read", emma).await;
    let week = app.get(&mut pupil, &format!("/pupils/{emma}/timetable?week={}", monday + Duration::days(2))).await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(week.html().count(".tavle-lesson") >= 15, "a full week of lessons");
    // Only lessons of Emma's own groups.
    let own: BTreeSet<String> =
        sqlx::query_scalar::<_, Uuid>("SELECT group_id FROM group_memberships WHERE pupil_id = $1")
            .bind(emma)
            .fetch_all(&app.owner)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.to_string())
            .collect();
    let shown = shown_groups(&week);
    assert!(!shown.is_empty() && shown.is_subset(&own), "{shown:?} not all in {own:?}");
    assert_eq!(app.audit_count("read", emma).await, before + 1, "reading a pupil's week is logged");
    assert_eq!(events(&app, "read", "pupil_timetable").await, 1);
    // The week navigation carries the Monday.
    let html = week.html();
    assert_eq!(
        html.select_first_attr("a[rel=prev]", "href"),
        Some(format!("/pupils/{emma}/timetable?week={}", monday - Duration::days(7)))
    );
    assert_eq!(
        html.select_first_attr("a[rel=next]", "href"),
        Some(format!("/pupils/{emma}/timetable?week={}", monday + Duration::days(7)))
    );

    // The autumn break: five days off, no lessons.
    let autumn = app.get(&mut pupil, &format!("/pupils/{emma}/timetable?week={}", days.week_of("Høstferie"))).await;
    assert_eq!(autumn.html().count(".tavle-lesson"), 0);
    assert_eq!(autumn.html().count("[data-off]"), 5);
    assert!(autumn.body.contains("Høstferie"));
    // A planning day on a Friday in November: that day off, the others taught.
    let planning_day = days.day_off("Planleggingsdag");
    let planning =
        app.get(&mut pupil, &format!("/pupils/{emma}/timetable?week={}", days.week_of("Planleggingsdag"))).await;
    assert_eq!(lessons_on(&planning, &planning_day.to_string()), 0);
    assert_eq!(planning.html().count(&format!("#day-{planning_day} [data-off]")), 1);
    assert!(lessons_on(&planning, &(planning_day - Duration::days(1)).to_string()) > 0);
    // Summer: outside the terms, no teaching.
    let summer = app.get(&mut pupil, &format!("/pupils/{emma}/timetable?week={}", days.summer_monday())).await;
    assert_eq!(summer.html().count(".tavle-lesson"), 0);
    // Another pupil's week is not there for a pupil.
    let other = app.pupil_at("Solbakken skole").await;
    assert_eq!(app.get(&mut pupil, &format!("/pupils/{other}/timetable")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_guardian_chooses_among_their_own_children_only() {
    let app = spawn_app().await;
    let mut guardian = app.sign_in_as("guardian").await;
    let page = app.get(&mut guardian, "/timetable").await;
    assert_eq!(page.status, StatusCode::OK);
    let links = page.html().select_attrs("a.ds-card", "href");
    assert_eq!(links.len(), 2, "two children");
    let monday = crate::days::days_of(&app).full_week();
    for href in &links {
        let week = app.get(&mut guardian, &format!("{href}?week={monday}")).await;
        assert_eq!(week.status, StatusCode::OK, "{href}");
        assert!(week.html().count(".tavle-lesson") > 0, "{href}");
        // No links to staff pages from a guardian's view.
        assert_eq!(week.html().count(".tavle-lesson a"), 0);
    }
    let stranger = app.pupil_at("Nordlys oppvekstsenter").await;
    let res = app.get(&mut guardian, &format!("/pupils/{stranger}/timetable")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_teacher_sees_the_lessons_they_teach_and_the_school_timetables() {
    let app = spawn_app().await;
    let (jonas, _) = app.persona("teacher").await;
    let mut teacher = app.sign_in_as("teacher").await;
    let monday = crate::days::days_of(&app).full_week();
    let week = app.get(&mut teacher, &format!("/timetable?week={monday}")).await;
    assert_eq!(week.status, StatusCode::OK);
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM lessons WHERE teacher_id = $1 AND weekday BETWEEN 1 AND 5 AND valid_from <= $2",
    )
    .bind(jonas)
    .bind(monday)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(expected > 0);
    assert_eq!(week.html().count(".tavle-lesson") as i64, expected);
    let taught: BTreeSet<String> =
        sqlx::query_scalar::<_, Uuid>("SELECT DISTINCT group_id FROM lessons WHERE teacher_id = $1")
            .bind(jonas)
            .fetch_all(&app.owner)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.to_string())
            .collect();
    assert!(shown_groups(&week).is_subset(&taught));
    // The teacher's own page leads to the school's timetables, and a group's week.
    let solbakken = scalar(&app, "SELECT id FROM schools WHERE name = 'Solbakken skole'").await;
    assert!(week.html().select_attrs("a", "href").contains(&format!("/schools/{solbakken}/timetable")));
    let school = app.get(&mut teacher, &format!("/schools/{solbakken}/timetable")).await;
    assert_eq!(school.status, StatusCode::OK);
    assert_eq!(school.html().count("a[href$='/lessons']"), 0, "a teacher does not edit the timetable");
    let group = group_named(&app, "Solbakken skole", "4A NOR").await;
    let res = app.get(&mut teacher, &format!("/groups/{group}/timetable?week={monday}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.html().count(".tavle-lesson") as i64, lesson_count(&app, group).await);
    assert_eq!(app.get(&mut teacher, &format!("/groups/{group}/lessons")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_office_edits_lessons_with_checks_and_no_double_booking() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let (jonas, _) = app.persona("teacher").await;
    let group = group_named(&app, "Solbakken skole", "4A NOR").await;
    let other = group_named(&app, "Solbakken skole", "5A NOR").await;
    let path = format!("/groups/{group}/lessons");
    let page = app.get(&mut clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let before = lesson_count(&app, group).await;
    assert_eq!(page.html().count("tbody tr") as i64, before);

    // Bad fields: each reported by its field, the form kept as typed, nothing saved.
    let bad = app
        .post_form(
            &mut clerk,
            &path,
            &[
                ("weekday", "9"),
                ("starts", "25:99"),
                ("ends", "08:00"),
                ("room", "Rom 4A"),
                ("valid_from", "2025-01-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.html();
    for field in ["weekday", "starts", "valid_from"] {
        assert_eq!(html.count(&format!("#{field}-err")), 1, "{field}");
    }
    assert_eq!(html.select_first_attr("#starts", "value").as_deref(), Some("25:99"));
    assert_eq!(html.select_first_attr("#room", "value").as_deref(), Some("Rom 4A"));
    assert_eq!(lesson_count(&app, group).await, before);

    // A Saturday lesson taught by Jonas: added and audited.
    let monday = crate::days::days_of(&app).full_week();
    let form = saturday(monday, jonas, "Gymsal", "10:00", "10:45");
    let borrowed = borrow(&form);
    let res = app.post_form(&mut clerk, &path, &borrowed).await;
    assert_redirects_to(&res, &format!("{path}?status=created"));
    assert_eq!(lesson_count(&app, group).await, before + 1);
    assert_eq!(events(&app, "create", "lesson").await, 1);
    let added: Uuid = sqlx::query_scalar("SELECT id FROM lessons WHERE group_id = $1 AND weekday = 6")
        .bind(group)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let valid_to: Option<time::Date> = sqlx::query_scalar("SELECT valid_to FROM lessons WHERE id = $1")
        .bind(added)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(valid_to, Some(monday + Duration::days(26)), "the last day is stored exclusive");
    // It shows in the group's week on that Saturday.
    let week = app.get(&mut clerk, &format!("/groups/{group}/timetable?week={monday}")).await;
    assert_eq!(lessons_on(&week, &(monday + Duration::days(5)).to_string()), 1);

    // The same group at the same time again: refused, naming the lesson.
    let res = app.post_form(&mut clerk, &path, &borrowed).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = res.html().select_texts("#starts-err").join("");
    assert!(msg.contains("Gruppen har allerede en time") && msg.contains("10:00–10:45"), "{msg}");
    // Jonas in another group at the same time: refused on the teacher.
    let res = app.post_form(&mut clerk, &format!("/groups/{other}/lessons"), &borrowed).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = res.html().select_texts("#teacher-err").join("");
    assert!(msg.contains("Læreren underviser allerede") && msg.contains("4A NOR"), "{msg}");
    // A teacher from another school: not employed here.
    let stranger = scalar(
        &app,
        "SELECT e.staff_id FROM employments e JOIN schools s ON s.id = e.school_id \
         WHERE s.name = 'Nordlys oppvekstsenter' AND NOT EXISTS (SELECT 1 FROM employments x \
           JOIN schools y ON y.id = x.school_id WHERE x.staff_id = e.staff_id AND y.name = 'Solbakken skole') LIMIT 1",
    )
    .await;
    let form2 = saturday(monday, stranger, "Rom 1", "12:00", "12:45");
    let b2 = borrow(&form2);
    let res = app.post_form(&mut clerk, &path, &b2).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.html().count("#teacher-err"), 1);
    assert_eq!(lesson_count(&app, group).await, before + 1);

    // Change the room of the added lesson; then remove it.
    let added_s = added.to_string();
    let mut change: Vec<(&str, &str)> = vec![("lesson", added_s.as_str())];
    let form3 = saturday(monday, jonas, "Rom 2", "10:00", "10:45");
    change.extend(borrow(&form3));
    let res = app.post_form(&mut clerk, &path, &change).await;
    assert_redirects_to(&res, &format!("{path}?status=updated"));
    let room: Option<String> =
        sqlx::query_scalar("SELECT room FROM lessons WHERE id = $1").bind(added).fetch_one(&app.owner).await.unwrap();
    assert_eq!(room.as_deref(), Some("Rom 2"));
    let res = app.post_form(&mut clerk, &path, &change).await;
    assert_redirects_to(&res, &format!("{path}?status=unchanged"));
    assert_eq!(events(&app, "update", "lesson").await, 1);
    let res = app.post_form(&mut clerk, &format!("{path}/remove"), &[("lesson", added_s.as_str())]).await;
    assert_redirects_to(&res, &format!("{path}?status=removed"));
    assert_eq!(lesson_count(&app, group).await, before);
    assert_eq!(events(&app, "delete", "lesson").await, 1);
    // A lesson of another group cannot be changed or removed through this group.
    let foreign: Uuid = sqlx::query_scalar("SELECT id FROM lessons WHERE group_id = $1 LIMIT 1")
        .bind(other)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let res = app.post_form(&mut clerk, &format!("{path}/remove"), &[("lesson", foreign.to_string().as_str())]).await;
    assert_redirects_to(&res, &format!("{path}?status=gone"));
    assert!(lesson_count(&app, other).await > 0);
}

/// A Saturday lesson in the edit form's fields, valid from `monday` to the Friday
/// three weeks later.
fn saturday(monday: time::Date, teacher: Uuid, room: &str, starts: &str, ends: &str) -> Vec<(&'static str, String)> {
    vec![
        ("weekday", "6".to_owned()),
        ("starts", starts.to_owned()),
        ("ends", ends.to_owned()),
        ("teacher", teacher.to_string()),
        ("room", room.to_owned()),
        ("valid_from", monday.to_string()),
        ("valid_to", (monday + Duration::days(25)).to_string()),
    ]
}

fn borrow<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

const HEADER: &str = "group;subject;teacher;room;weekday;start;end;from;to";

/// These tests are about replacing a timetable that has no absence yet: the demo's
/// absence history would keep (end) every lesson it touches instead of removing it.
async fn without_absence_history(app: &TestApp) {
    sqlx::query("DELETE FROM absence_registrations").execute(&app.owner).await.unwrap();
}

#[tokio::test]
async fn the_import_is_all_or_nothing_reports_every_bad_line_and_can_be_repeated() {
    let app = spawn_app().await;
    without_absence_history(&app).await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let solbakken = scalar(&app, "SELECT id FROM schools WHERE name = 'Solbakken skole'").await;
    let path = format!("/schools/{solbakken}/timetable/import");
    assert_eq!(app.get(&mut clerk, &path).await.status, StatusCode::OK);
    let school_lessons = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM lessons l JOIN groups g ON g.id = l.group_id WHERE g.school_id = $1",
        )
        .bind(solbakken)
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    let before = school_lessons().await;
    let jonas_number: String = sqlx::query_scalar(
        "SELECT s.resource_number FROM staff s JOIN persons p ON p.id = s.person_id WHERE p.feide_id = 'jonas.lie@fjordvik.kommune.no'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();

    let days = crate::days::days_of(&app);
    let c = days.current();
    let (first, last) = (c.first_day(), c.last_day());
    // The Norwegian way of writing a date, as the file may.
    let dotted = |d: time::Date| format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year());
    let after_year = c.year.ends() + Duration::days(2);
    let bad = format!(
        "{HEADER}\n4A NOR;NOR;{jonas_number};Rom 4A;1;08:30;09:15;{first};\n\
         9Z NOR;;;;1;08:30;09:15;{first};\n\
         4A MAT;XYZ;999999;;tirsdag;8:30;09:15;{};\n\
         4A NOR;;;;mandag;08:45;09:30;{first};\n\
         4A ENG;;;;1;10:00;09:00;{first};\n\
         4A ENG;;;;3;10:00;11:00;{first};{after_year}\n",
        dotted(first)
    );
    let res = app.post_form(&mut clerk, &path, &[("csv", bad.as_str())]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems = res.html().select_texts("#problems li");
    let lines: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap_or_default()).collect();
    assert_eq!(lines, ["Linje 3", "Linje 4", "Linje 4", "Linje 5", "Linje 6", "Linje 7"], "{problems:?}");
    assert!(problems[0].contains("9Z NOR"), "{problems:?}");
    assert!(problems[3].contains("linje 2"), "{problems:?}");
    // The text comes back as typed; nothing was applied.
    assert_eq!(res.html().select_texts("#csv").join(""), bad.split_whitespace().collect::<Vec<_>>().join(" "));
    assert_eq!(school_lessons().await, before);
    assert_eq!(events(&app, "import", "timetable_import").await, 0);

    // A good file replaces the school's timetable from the first school day.
    let good = format!(
        "\u{FEFF}{HEADER}\r\n4A NOR;NOR;{jonas_number};Rom 4A;1;08:30;09:15;{first};\r\n\
         4A NOR;;;Rom 4A;onsdag;08:30;09:15;{};{}\r\n4A MAT;MAT;;Rom 4A;2;08:30;09:15;{first};\r\n",
        dotted(first),
        dotted(last)
    );
    let dry = app.post_form(&mut clerk, &path, &[("csv", good.as_str()), ("dry_run", "yes")]).await;
    assert_eq!(dry.status, StatusCode::OK);
    assert!(dry.html().select_texts("#status").join("").contains("3 timer ville blitt lagt til"), "{}", dry.body);
    assert_eq!(school_lessons().await, before);
    let res = app.post_form(&mut clerk, &path, &[("csv", good.as_str())]).await;
    assert_eq!(res.status, StatusCode::OK);
    let status = res.html().select_texts("#status").join("");
    assert!(status.contains(&format!("3 timer lagt til, {before} fjernet")), "{status}");
    assert_eq!(school_lessons().await, 3);
    assert_eq!(events(&app, "import", "timetable_import").await, 1);
    let group = group_named(&app, "Solbakken skole", "4A NOR").await;
    let mut b = clerk.clone();
    let monday = days.full_week();
    let week = app.get(&mut b, &format!("/groups/{group}/timetable?week={monday}")).await;
    assert_eq!(week.html().count(".tavle-lesson"), 2);
    assert_eq!(lessons_on(&week, &(monday + Duration::days(2)).to_string()), 1);

    // The same file again: nothing changes, nothing logged.
    let ids = || async {
        sqlx::query_scalar::<_, Uuid>(
            "SELECT l.id FROM lessons l JOIN groups g ON g.id = l.group_id WHERE g.school_id = $1 ORDER BY 1",
        )
        .bind(solbakken)
        .fetch_all(&app.owner)
        .await
        .unwrap()
    };
    let first = ids().await;
    let again = app.post_form(&mut clerk, &path, &[("csv", good.as_str())]).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.html().select_texts("#status").join("").contains("ingen endringer"), "{}", again.body);
    assert_eq!(ids().await, first);
    assert_eq!(events(&app, "import", "timetable_import").await, 1);

    // From a later date: what ran across it is ended there, the history stays.
    let spring = c.terms[1].0;
    let later = format!("{HEADER}\n4A NOR;NOR;;Rom 4B;1;08:30;09:15;{spring};\n");
    let res = app.post_form(&mut clerk, &path, &[("csv", later.as_str())]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM lessons l JOIN groups g ON g.id = l.group_id WHERE g.school_id = $1 AND l.valid_to = $2",
    )
    .bind(solbakken)
    .bind(spring)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(ended, 3);
    assert_eq!(school_lessons().await, 4);
}

#[tokio::test]
async fn the_command_line_imports_a_school_timetable() {
    let app = spawn_app().await;
    without_absence_history(&app).await;
    let org: String = sqlx::query_scalar("SELECT org_number FROM schools WHERE name = 'Solbakken skole'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("tavle-timetable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("timetable.csv");
    let first = crate::days::days_of(&app).current().first_day();
    std::fs::write(
        &file,
        format!("{HEADER}\n4A NOR;NOR;;Rom 4A;1;08:30;09:15;{first};\n9Z;;;;1;08:00;09:15;{first};\n4A NOR;;;;2;x;09:15;{first};\n"),
    )
        .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_tavle"))
            .args(["import", "timetable"])
            .arg(&file)
            .args(["--tenant", "fjordvik", "--school", &org])
            .env("DATABASE_URL", app.app_database_url())
            .env("TAVLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Line 4: start: Write a time as HH:MM"), "{err}");
    assert!(err.contains("Line 3: group: The school has no group 9Z"), "{err}");
    std::fs::write(&file, format!("{HEADER}\n4A NOR;NOR;;Rom 4A;1;08:30;09:15;{first};\n")).unwrap();
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 lessons added"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no changes"), "{}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A lesson with absence registered against it is history: removing it (by hand or
/// by an import that no longer lists it) ends it after its last register instead of
/// deleting it, and the absence stays.
#[tokio::test]
async fn removing_a_lesson_with_absence_recorded_ends_it_and_keeps_the_absence() {
    let app = crate::helpers::spawn_app_at_school().await;
    let held = crate::absence::lesson_of_teacher(&app, "jonas.lie@fjordvik.kommune.no").await;
    let date = crate::absence::iso(held.date);
    let pupil: Uuid = sqlx::query_scalar(
        "SELECT pupil_id FROM group_memberships WHERE group_id = $1 AND from_date <= $2 AND to_date IS NULL \
         ORDER BY 1 LIMIT 1",
    )
    .bind(held.group)
    .bind(held.date)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let mut teacher = app.sign_in_as("teacher").await;
    let register = format!("/absence/groups/{}/register", held.group);
    app.get(&mut teacher, &format!("{register}?date={date}&lesson={}", held.lesson)).await;
    let status_field = format!("status-{pupil}");
    let saved = app
        .post_form(
            &mut teacher,
            &register,
            &[("date", date.as_str()), ("lesson", &held.lesson.to_string()), (status_field.as_str(), "absent")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let mut clerk = app.sign_in_as("office_clerk").await;
    app.get(&mut clerk, &format!("/groups/{}/lessons", held.group)).await;
    let res = app
        .post_form(
            &mut clerk,
            &format!("/groups/{}/lessons/remove", held.group),
            &[("lesson", &held.lesson.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let valid_to: Option<time::Date> = sqlx::query_scalar("SELECT valid_to FROM lessons WHERE id = $1")
        .bind(held.lesson)
        .fetch_one(&app.owner)
        .await
        .expect("the lesson is kept");
    assert_eq!(valid_to, held.date.next_day(), "ended the day after its last register");
    // (The demo's absence history may hold earlier registrations of the lesson too.)
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM absence_registrations WHERE lesson_id = $1 AND date = $2")
        .bind(held.lesson)
        .bind(held.date)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(kept, 1);
}
