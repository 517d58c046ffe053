//! Classes and groups, and moving pupils (issue 18, points 4 and 5): the office creates
//! a group, places pupils in it in bulk, gives it teachers, closes it; it moves a pupil
//! to another class, plans and cancels a move out, and moves a pupil to another school,
//! whose office then keeps the pupil. Nothing that has begun is rewritten.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app_at_school, TestApp};

async fn one<T>(app: &TestApp, sql: &str, id: Uuid) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql).bind(id).fetch_one(&app.owner).await.unwrap()
}

async fn school(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

/// The school day the apps here run as (`spawn_app_at_school`): classes have begun and
/// the year has days left, whatever day the suite runs.
fn school_day() -> time::Date {
    tavle::demo::DemoYears::around(crate::helpers::today()).school_today()
}

fn today() -> String {
    let day = school_day();
    tavle::domain::date::iso(day)
}

fn in_days(days: i64) -> String {
    tavle::domain::date::iso(school_day() + time::Duration::days(days))
}

#[tokio::test]
async fn the_office_creates_a_group_places_pupils_in_bulk_gives_it_a_teacher_and_closes_it() {
    let app = spawn_app_at_school().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let list = format!("/schools/{solbakken}/groups");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &list).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html().select_texts("tbody th a").iter().any(|t| t == "4A"), "the demo's classes are listed");
    let groups = "SELECT count(*) FROM groups WHERE school_id = $1";
    let before: i64 = one(&app, groups, solbakken).await;

    // Refused forms keep what was typed and store nothing.
    for (fields, field) in [
        (vec![("kind", "base"), ("name", " "), ("grade", "4"), ("subject", "")], "name"),
        (vec![("kind", "base"), ("name", "4Z"), ("grade", ""), ("subject", "")], "grade"),
        (vec![("kind", "base"), ("name", "4Z"), ("grade", "11"), ("subject", "")], "grade"),
        (vec![("kind", "teaching"), ("name", "Matte 4 gr. 2"), ("grade", ""), ("subject", "")], "subject"),
        (vec![("kind", "base"), ("name", "4A"), ("grade", "4"), ("subject", "")], "name"),
    ] {
        let res = app.post_form(&mut clerk, &list, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = res.html();
        assert_eq!(html.select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"), "{fields:?}");
        assert_eq!(html.select_first_attr("#name", "value").as_deref(), Some(fields[1].1), "typed is kept");
    }
    assert_eq!(one::<i64>(&app, groups, solbakken).await, before, "nothing stored");

    let math: Uuid =
        sqlx::query_scalar("SELECT id FROM subjects ORDER BY code LIMIT 1").fetch_one(&app.owner).await.unwrap();
    let math = math.to_string();
    let made = app
        .post_form(
            &mut clerk,
            &list,
            &[("kind", "teaching"), ("name", "Matte 4 gr. 2"), ("grade", "4"), ("subject", &math)],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let group: Uuid =
        sqlx::query_scalar("SELECT id FROM groups WHERE name = 'Matte 4 gr. 2'").fetch_one(&app.owner).await.unwrap();
    let path = format!("/groups/{group}");
    assert_redirects_to(&made, &format!("{path}?done=created"));

    // A new name must be a name, and not another group's of the school year; a refused
    // one keeps what was typed and changes nothing.
    for (name, why) in [("  ", "empty"), ("4A", "taken")] {
        let refused = app.post_form(&mut clerk, &path, &[("name", name)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        let html = refused.html();
        assert_eq!(html.select_first_attr("#name", "aria-invalid").as_deref(), Some("true"), "{why}");
        assert_eq!(html.select_first_attr("#name", "value").as_deref(), Some(name), "{why}: typed is kept");
    }
    let stored: String = one(&app, "SELECT name FROM groups WHERE id = $1", group).await;
    assert_eq!(stored, "Matte 4 gr. 2", "nothing renamed");

    // The page offers the school's grade-4 pupils; two are placed from today.
    let page = app.get(&mut clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let offered = page.html().select_attrs("input[name=pupil][id^=add-]", "value");
    assert!(offered.len() >= 2, "grade-4 pupils are offered: {offered:?}");
    let (a, b) = (offered[0].clone(), offered[1].clone());
    let open =
        "SELECT count(*) FROM group_memberships WHERE group_id = $1 AND (to_date IS NULL OR to_date > tavle_today())";
    let refused = app.post_form(&mut clerk, &format!("{path}/members"), &[("pupil", &a), ("from", "2001-01-01")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a day in the past");
    assert_eq!(
        refused.html().select_first_attr(&format!("#add-{a}"), "checked").as_deref(),
        Some(""),
        "the ticks are kept"
    );
    let nobody = app.post_form(&mut clerk, &format!("{path}/members"), &[("from", &today())]).await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY, "no pupil ticked");
    let stranger = Uuid::new_v4().to_string();
    let unknown =
        app.post_form(&mut clerk, &format!("{path}/members"), &[("pupil", &stranger), ("from", &today())]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "a pupil the page did not offer");
    assert_eq!(one::<i64>(&app, open, group).await, 0);

    let added = app
        .post_form(&mut clerk, &format!("{path}/members"), &[("pupil", &a), ("pupil", &b), ("from", &today())])
        .await;
    assert_redirects_to(&added, &format!("{path}?done=added"));
    assert_eq!(one::<i64>(&app, open, group).await, 2);
    let a_id: Uuid = a.parse().unwrap();
    assert_eq!(app.audit_count("create", a_id).await, 1, "placing is audited with the pupil");
    let again = app.post_form(&mut clerk, &format!("{path}/members"), &[("pupil", &a), ("from", &today())]).await;
    assert_redirects_to(&again, &format!("{path}?done=none_added"));
    assert_eq!(one::<i64>(&app, "SELECT count(*) FROM group_memberships WHERE group_id = $1", group).await, 2);

    // Taken out today: a stay that began today never happened.
    let out = app.post_form(&mut clerk, &format!("{path}/members/remove"), &[("pupil", &a), ("on", &today())]).await;
    assert_redirects_to(&out, &format!("{path}?done=removed"));
    assert_eq!(one::<i64>(&app, open, group).await, 1);

    // A teacher of the school, and not an unknown one or an unknown role.
    let staff: Uuid = sqlx::query_scalar(
        "SELECT e.staff_id FROM employments e WHERE e.school_id = $1 AND e.to_date IS NULL ORDER BY e.staff_id LIMIT 1",
    )
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let staff = staff.to_string();
    let bad = app.post_form(&mut clerk, &format!("{path}/staff"), &[("staff", &staff), ("assignment", "head")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad =
        app.post_form(&mut clerk, &format!("{path}/staff"), &[("staff", &stranger), ("assignment", "teacher")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let given = app
        .post_form(&mut clerk, &format!("{path}/staff"), &[("staff", &staff), ("assignment", "contact_teacher")])
        .await;
    assert_redirects_to(&given, &format!("{path}?done=staff_added"));
    assert_eq!(one::<i64>(&app, "SELECT count(*) FROM group_staff WHERE group_id = $1", group).await, 1);
    let list_page = app.get(&mut clerk, &list).await;
    assert!(list_page.body.contains("Matte 4 gr. 2"));

    // A teacher of the school does not keep its groups.
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.get(&mut teacher, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut teacher, &list).await.status, StatusCode::NOT_FOUND);

    // Closing ends every stay (on a later day: the stay ends then) and takes the teachers off.
    let close_on = in_days(1);
    let closed = app.post_form(&mut clerk, &format!("{path}/close"), &[("on", &close_on)]).await;
    assert_redirects_to(&closed, &format!("{path}?done=closed"));
    let ends: Vec<Option<time::Date>> = sqlx::query_scalar("SELECT to_date FROM group_memberships WHERE group_id = $1")
        .bind(group)
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].map(tavle::domain::date::iso), Some(close_on.clone()), "the stay ends on the day");
    assert_eq!(one::<i64>(&app, "SELECT count(*) FROM group_staff WHERE group_id = $1", group).await, 0);
    let again = app.post_form(&mut clerk, &format!("{path}/close"), &[("on", &today())]).await;
    assert_redirects_to(&again, &format!("{path}?done=closed"));
    let late = app.post_form(&mut clerk, &format!("{path}/members"), &[("pupil", &a), ("from", &today())]).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY, "no one joins a closed group");
}

/// A Solbakken pupil with a class this year, the class, and the pupil's grade.
async fn pupil_with_class(app: &TestApp) -> (Uuid, Uuid, i16) {
    sqlx::query_as(
        "SELECT m.pupil_id, g.id, e.grade_level FROM group_memberships m \
         JOIN groups g ON g.id = m.group_id AND g.kind = 'base' \
         JOIN schools s ON s.id = g.school_id AND s.name = 'Solbakken skole' \
         JOIN school_years y ON y.id = g.school_year_id AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         JOIN enrolments e ON e.pupil_id = m.pupil_id AND e.school_id = s.id AND e.to_date IS NULL \
           AND e.from_date < tavle_today() \
         WHERE m.to_date IS NULL AND m.from_date < tavle_today() ORDER BY g.name, m.pupil_id LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_office_moves_a_pupil_to_another_class_plans_and_cancels_a_move_out_and_moves_one_to_another_school() {
    let app = spawn_app_at_school().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let (pupil, class, grade) = pupil_with_class(&app).await;
    let path = format!("/pupils/{pupil}/move");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let card = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.html().count(&format!("a[href='{path}']")), 1, "the card links to the move page");

    // Another class of the grade, made by the office.
    let grade_text = grade.to_string();
    let list = format!("/schools/{solbakken}/groups");
    let made =
        app.post_form(&mut clerk, &list, &[("kind", "base"), ("name", "Ny klasse"), ("grade", &grade_text)]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let new_class: Uuid =
        sqlx::query_scalar("SELECT id FROM groups WHERE name = 'Ny klasse'").fetch_one(&app.owner).await.unwrap();
    let new_class_text = new_class.to_string();

    // Refused: no class, the same class, a day in the past, a school not chosen.
    let class_text = class.to_string();
    for (fields, field) in [
        (vec![("kind", "class".to_owned()), ("date", today()), ("class", String::new())], "class"),
        (vec![("kind", "class".to_owned()), ("date", today()), ("class", class_text.clone())], "class"),
        (
            vec![("kind", "class".to_owned()), ("date", "2001-01-01".to_owned()), ("class", new_class_text.clone())],
            "date",
        ),
        (vec![("kind", "school".to_owned()), ("date", today()), ("school", String::new())], "school"),
        (vec![("kind", "out".to_owned()), ("date", today()), ("municipality", "12".to_owned())], "municipality"),
        (vec![("kind", "moon".to_owned()), ("date", today())], "kind-class"),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.post_form(&mut clerk, &path, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert_eq!(
            res.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{fields:?}"
        );
    }

    // To the new class today: the old stay ends today, the new one begins.
    let moved =
        app.post_form(&mut clerk, &path, &[("kind", "class"), ("date", &today()), ("class", &new_class_text)]).await;
    assert_redirects_to(&moved, &format!("{path}?done=moved"));
    let stays: Vec<(Uuid, Option<time::Date>)> = sqlx::query_as(
        "SELECT group_id, to_date FROM group_memberships WHERE pupil_id = $1 AND group_id = ANY($2) ORDER BY from_date",
    )
    .bind(pupil)
    .bind(vec![class, new_class])
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(stays.len(), 2, "{stays:?}");
    assert_eq!(
        (stays[0].0, stays[0].1.map(tavle::domain::date::iso)),
        (class, Some(today())),
        "the old stay ends today"
    );
    assert_eq!(stays[1], (new_class, None));

    // A move out planned for later: shown, sent again changes nothing, another is refused
    // until it is cancelled; cancelling leaves the enrolment as it was.
    let later = in_days(30);
    let enrolment = "SELECT count(*) FROM enrolments WHERE pupil_id = $1 AND to_date IS NULL";
    let out = [("kind", "out"), ("date", later.as_str()), ("municipality", "0301")];
    assert_redirects_to(&app.post_form(&mut clerk, &path, &out).await, &format!("{path}?done=planned"));
    assert_eq!(one::<i64>(&app, enrolment, pupil).await, 0, "the enrolment ends on the day");
    let ended: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT ended_by, moved_to_municipality::text FROM enrolments WHERE pupil_id = $1 AND to_date IS NOT NULL ORDER BY from_date DESC LIMIT 1")
            .bind(pupil)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(ended, (Some("moved_out".to_owned()), Some("0301".to_owned())));
    assert_redirects_to(&app.post_form(&mut clerk, &path, &out).await, &format!("{path}?done=planned"));
    let other = app.post_form(&mut clerk, &path, &[("kind", "out"), ("date", &later), ("municipality", "1103")]).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "a planned move first");
    assert!(app.get(&mut clerk, &path).await.body.contains("0301"), "the page shows the planned move");
    let cancelled = app.post_form(&mut clerk, &format!("{path}/cancel"), &[]).await;
    assert_redirects_to(&cancelled, &format!("{path}?done=cancelled"));
    assert_eq!(one::<i64>(&app, enrolment, pupil).await, 1, "the enrolment runs on");
    let open = "SELECT count(*) FROM group_memberships WHERE pupil_id = $1 AND to_date IS NULL";
    let open_before: i64 = one(&app, open, pupil).await;
    assert!(open_before >= 1, "the class stay runs on too");

    // To Nordlys today: this office lets go, Nordlys's office keeps the pupil and sees
    // the enrolment at Solbakken.
    let nordlys = school(&app, "Nordlys oppvekstsenter").await;
    let first: i16 = sqlx::query_scalar("SELECT first_grade FROM schools WHERE id = $1")
        .bind(nordlys)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let (nordlys_text, first_text) = (nordlys.to_string(), first.to_string());
    let too_high = app
        .post_form(
            &mut clerk,
            &path,
            &[("kind", "school"), ("date", &today()), ("school", &nordlys_text), ("grade", "13")],
        )
        .await;
    assert_eq!(too_high.status, StatusCode::UNPROCESSABLE_ENTITY, "a grade the school does not have");
    let moved = app
        .post_form(
            &mut clerk,
            &path,
            &[("kind", "school"), ("date", &today()), ("school", &nordlys_text), ("grade", &first_text)],
        )
        .await;
    assert_redirects_to(&moved, &format!("/schools/{solbakken}/pupils"));
    assert_eq!(app.get(&mut clerk, &format!("/pupils/{pupil}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut clerk, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(one::<i64>(&app, open, pupil).await, 0, "no stay at Solbakken runs on");
    let mut nordlys_office = app.sign_in_as("department_head").await;
    let card = app.get(&mut nordlys_office, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.body.contains("Solbakken skole"), "the new school sees the earlier enrolment");
    let moved_by: Option<String> = sqlx::query_scalar(
        "SELECT ended_by FROM enrolments WHERE pupil_id = $1 AND school_id = $2 ORDER BY from_date DESC LIMIT 1",
    )
    .bind(pupil)
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(moved_by.as_deref(), Some("moved_school"));
    assert!(app.audit_count("update", pupil).await >= 3, "every move is audited with the pupil");
}

/// The preview's numbers: pupils advancing per grade (`from` → count), leavers' names,
/// next year's groups (name → pupils), and the fingerprint.
#[allow(clippy::type_complexity)]
fn preview(res: &crate::helpers::TestResponse) -> (Vec<(i16, usize)>, Vec<String>, Vec<(String, usize)>, String) {
    let html = res.html();
    let mut grades = Vec::new();
    for id in html.select_attrs("td[id^=advance-]", "id") {
        let from: i16 = id.trim_start_matches("advance-").parse().unwrap();
        let n: usize = html.select_texts(&format!("#{id}"))[0].trim().parse().unwrap();
        grades.push((from, n));
    }
    let leavers = html.select_texts("#leavers li");
    let names = html.select_texts("#rollover-groups tbody th");
    let counts = html.select_texts("#rollover-groups tbody td:nth-child(5)");
    let groups = names
        .iter()
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
        .zip(counts.iter().map(|c| c.trim().parse::<usize>().unwrap()))
        .collect();
    let fingerprint = html.select_first_attr("input[name=fingerprint]", "value").expect("a fingerprint");
    (grades, leavers, groups, fingerprint)
}

#[tokio::test]
async fn the_rollover_does_exactly_what_its_preview_shows_all_at_once_and_only_once() {
    let app = spawn_app_at_school().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let path = format!("/schools/{solbakken}/rollover");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let next_starts: time::Date = sqlx::query_scalar(
        "SELECT y.starts FROM school_years y WHERE y.starts > tavle_today() ORDER BY y.starts LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    // A pupil moving out early in the next school year is left to that move.
    let (moving, _, _) = pupil_with_class(&app).await;
    let moves_on = tavle::domain::date::iso(next_starts + time::Duration::days(5));
    let out = [("kind", "out"), ("date", moves_on.as_str()), ("municipality", "")];
    assert_eq!(app.post_form(&mut clerk, &format!("/pupils/{moving}/move"), &out).await.status, StatusCode::SEE_OTHER);

    let page = app.get(&mut clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let (grades, leavers, groups, fingerprint) = preview(&page);
    assert!(!grades.is_empty() && !leavers.is_empty() && !groups.is_empty(), "{grades:?} {leavers:?} {groups:?}");
    assert_eq!(page.html().select_texts("#untouched li").len(), 1, "the pupil moving out is named apart");
    let enrolments = "SELECT count(*) FROM enrolments WHERE school_id = $1";
    let before: i64 = one(&app, enrolments, solbakken).await;

    // Not confirmed, or a preview the register no longer matches: nothing is done.
    let unconfirmed = app.post_form(&mut clerk, &path, &[("fingerprint", &fingerprint)]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unconfirmed.html().select_first_attr("#confirm", "aria-invalid").as_deref(), Some("true"));
    let stale = app.post_form(&mut clerk, &path, &[("fingerprint", "0"), ("confirm", "yes")]).await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(one::<i64>(&app, enrolments, solbakken).await, before);
    assert_eq!(one::<i64>(&app, "SELECT count(*) FROM rollovers WHERE school_id = $1", solbakken).await, 0);

    let done = app.post_form(&mut clerk, &path, &[("fingerprint", &fingerprint), ("confirm", "yes")]).await;
    assert_redirects_to(&done, &format!("{path}?done=rolled"));

    // The result, read from the database, is the preview.
    let advanced: Vec<(i16, i64)> = sqlx::query_as(
        "SELECT (grade_level - 1)::smallint, count(*) FROM enrolments WHERE school_id = $1 AND from_date = $2 \
         GROUP BY grade_level ORDER BY grade_level",
    )
    .bind(solbakken)
    .bind(next_starts)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let advanced: Vec<(i16, usize)> = advanced.into_iter().map(|(g, n)| (g, usize::try_from(n).unwrap())).collect();
    assert_eq!(advanced, grades, "pupils per grade as previewed");
    let mut left: Vec<String> = sqlx::query_scalar(
        "SELECT p.given_name || ' ' || p.family_name FROM enrolments e JOIN persons p ON p.id = e.pupil_id \
         WHERE e.school_id = $1 AND e.ended_by = 'left' AND e.to_date = $2",
    )
    .bind(solbakken)
    .bind(next_starts)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut expected_leavers = leavers.clone();
    left.sort();
    expected_leavers.sort();
    assert_eq!(left, expected_leavers, "the leavers as previewed");
    let made: Vec<(String, i64)> = sqlx::query_as(
        "SELECT g.name, (SELECT count(*) FROM group_memberships m WHERE m.group_id = g.id AND m.from_date = $2) \
         FROM groups g JOIN school_years y ON y.id = g.school_year_id AND y.starts = $2 WHERE g.school_id = $1",
    )
    .bind(solbakken)
    .bind(next_starts)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut made: Vec<(String, usize)> = made.into_iter().map(|(n, c)| (n, usize::try_from(c).unwrap())).collect();
    let mut expected_groups = groups.clone();
    made.sort();
    expected_groups.sort();
    assert_eq!(made, expected_groups, "next year's groups and their pupils as previewed");
    let still: Option<time::Date> = sqlx::query_scalar(
        "SELECT to_date FROM enrolments WHERE pupil_id = $1 AND school_id = $2 ORDER BY from_date DESC LIMIT 1",
    )
    .bind(moving)
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(still.map(tavle::domain::date::iso), Some(moves_on), "the planned move is as it was");

    // Today nothing has changed: the pupils are where they were.
    let mut teacher = app.sign_in_as("contact_teacher").await;
    assert_eq!(app.get(&mut teacher, "/absence/classes").await.status, StatusCode::OK);
    // Once only: the page says what was done, and a second rollover does nothing.
    let after = app.get(&mut clerk, &format!("{path}?done=rolled")).await;
    assert_eq!(after.html().count("#rollover-done"), 1);
    assert_eq!(after.html().count("input[name=fingerprint]"), 0);
    let total: i64 = one(&app, enrolments, solbakken).await;
    let again = app.post_form(&mut clerk, &path, &[("fingerprint", &fingerprint), ("confirm", "yes")]).await;
    assert_redirects_to(&again, &format!("{path}?done=rolled"));
    assert_eq!(one::<i64>(&app, enrolments, solbakken).await, total);
    assert_eq!(
        app.audit_count("update", expected_leavers_id(&app, solbakken).await).await,
        1,
        "audited with the pupils"
    );
}

async fn expected_leavers_id(app: &TestApp, school: Uuid) -> Uuid {
    sqlx::query_scalar("SELECT pupil_id FROM enrolments WHERE school_id = $1 AND ended_by = 'left' LIMIT 1")
        .bind(school)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// The office's lists (issue 18, point 11): the letters' addresses never carry a
/// protected address (the guardian is left out and counted), a class list carries names
/// and grade only, and each download is audited with its purpose.
#[tokio::test]
async fn the_letters_list_leaves_out_protected_addresses_and_every_export_is_audited_with_its_purpose() {
    let app = spawn_app_at_school().await;
    let solbakken = school(&app, "Solbakken skole").await;
    // A Solbakken guardian's address that becomes confidential, and another that stays.
    let guardians: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (gp.street_address) gp.id, gp.street_address FROM guardianships g \
         JOIN persons gp ON gp.id = g.guardian_id AND gp.address_protection = 'none' AND gp.street_address IS NOT NULL \
         JOIN enrolments e ON e.pupil_id = g.pupil_id AND e.school_id = $1 AND e.to_date IS NULL \
         JOIN persons c ON c.id = g.pupil_id AND c.address_protection = 'none' \
         WHERE g.parental_responsibility AND g.to_date IS NULL ORDER BY gp.street_address, gp.id LIMIT 2",
    )
    .bind(solbakken)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let [(_, hidden_street), (_, shown_street)] = [guardians[0].clone(), guardians[1].clone()];
    // The whole household at that address (both parents may live there).
    sqlx::query("UPDATE persons SET address_protection = 'confidential' WHERE street_address = $1")
        .bind(&hidden_street)
        .execute(&app.owner)
        .await
        .unwrap();
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/schools/{solbakken}/exports")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("#left-out"), 1, "the office is told who is left out");
    let letters = app.get(&mut clerk, &format!("/schools/{solbakken}/letters.csv")).await;
    assert_eq!(letters.status, StatusCode::OK);
    // The address cells (the fourth column): a street may be part of another's name
    // (`Storgata 1`, `Storgata 12`), so cells are compared whole.
    let streets: Vec<&str> = letters.body.lines().skip(1).filter_map(|l| l.split(';').nth(3)).collect();
    assert!(!streets.contains(&hidden_street.as_str()), "no protected address in the letters");
    assert!(streets.contains(&shown_street.as_str()), "the others are there");
    let purpose: String = sqlx::query_scalar(
        "SELECT purpose FROM audit_events WHERE resource = 'letter_addresses' AND action = 'export' \
         UNION ALL SELECT purpose FROM audit_pending WHERE resource = 'letter_addresses' AND action = 'export'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(purpose, "letter_mailing");

    let class: Uuid =
        sqlx::query_scalar("SELECT g.id FROM groups g WHERE g.school_id = $1 AND g.name = '4A' AND g.kind = 'base'")
            .bind(solbakken)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    let list = app.get(&mut clerk, &format!("/groups/{class}/members.csv")).await;
    assert_eq!(list.status, StatusCode::OK);
    let lines: Vec<&str> = list.body.lines().collect();
    assert!(lines.len() > 5, "a header and the class: {}", lines.len());
    assert!(
        !list.body.chars().collect::<String>().split(|c: char| !c.is_ascii_digit()).any(|d| d.len() >= 11),
        "no national id"
    );
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.get(&mut teacher, &format!("/groups/{class}/members.csv")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut teacher, &format!("/schools/{solbakken}/letters.csv")).await.status, StatusCode::NOT_FOUND);
}

/// Next year's classes from the office's list: a bad list is refused line by line with
/// what was pasted kept; a good one is previewed, and the rollover that carries it on
/// places the listed pupils as previewed. The list is part of what is confirmed: the
/// same fingerprint without it is a preview that no longer matches.
#[tokio::test]
async fn the_rollover_places_the_pupils_of_the_offices_list_as_previewed() {
    let app = spawn_app_at_school().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let path = format!("/schools/{solbakken}/rollover");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let third: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT p.id, p.national_id FROM enrolments e JOIN persons p ON p.id = e.pupil_id \
         WHERE e.school_id = $1 AND e.grade_level = 3 AND e.to_date IS NULL ORDER BY p.national_id LIMIT 2",
    )
    .bind(solbakken)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let bad = format!("{};4X\n{};4X\n12345", third[0].1, third[0].1);
    let refused = app.post_form(&mut clerk, &path, &[("action", "preview"), ("placements", &bad)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    assert_eq!(html.select_first_attr("#placements", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(html.select_texts("#list-problems li").len(), 2, "line 2 twice, line 3 without a class");
    assert_eq!(html.select_texts("#placements"), vec![bad.split_whitespace().collect::<Vec<_>>().join(" ")]);

    let list = format!("{};4X\n{};4X", third[0].1, third[1].1);
    let shown = app.post_form(&mut clerk, &path, &[("action", "preview"), ("placements", &list)]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let (_, _, groups, fingerprint) = preview(&shown);
    assert!(groups.contains(&("4X".to_owned(), 2)), "{groups:?}");
    assert_eq!(shown.html().select_first_attr("form input[name=placements]", "value").as_deref(), Some(list.as_str()));

    let without = app.post_form(&mut clerk, &path, &[("fingerprint", &fingerprint), ("confirm", "yes")]).await;
    assert_eq!(without.status, StatusCode::UNPROCESSABLE_ENTITY, "the preview had the list");
    let done = app
        .post_form(&mut clerk, &path, &[("fingerprint", &fingerprint), ("confirm", "yes"), ("placements", &list)])
        .await;
    assert_redirects_to(&done, &format!("{path}?done=rolled"));
    let mut placed: Vec<Uuid> = sqlx::query_scalar(
        "SELECT m.pupil_id FROM group_memberships m JOIN groups g ON g.id = m.group_id \
         WHERE g.school_id = $1 AND g.name = '4X' AND g.grade_level = 4 AND g.kind = 'base'",
    )
    .bind(solbakken)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    placed.sort();
    let mut listed: Vec<Uuid> = third.iter().map(|t| t.0).collect();
    listed.sort();
    assert_eq!(placed, listed, "the listed pupils are in 4X next year");
}
