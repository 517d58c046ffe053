//! Registering a pupil by hand and the details the office keeps (issue 18, points 1
//! and 5): a newly arrived pupil with a DUF number, a child the register knows moving
//! into school, a guest pupil; the checks that keep a typo from enrolling someone else;
//! the other mother tongue, with its earlier value kept.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app, TestApp};

async fn school(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

fn today() -> time::Date {
    crate::helpers::today()
}

async fn person_by_number(app: &TestApp, number: &str) -> Option<Uuid> {
    sqlx::query_scalar("SELECT id FROM persons WHERE national_id = $1")
        .bind(number)
        .fetch_optional(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_office_registers_a_newly_arrived_pupil_and_keeps_their_details() {
    let app = spawn_app().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let path = format!("/schools/{solbakken}/pupils/new");
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, &path).await.status, StatusCode::OK);
    let born = format!("{}-03-14", today().year() - 9);
    let iso_today = tavle::domain::date::iso(today());
    let duf = "201912345678";
    let valid = |f: &mut Vec<(&'static str, String)>, k: &'static str, v: &str| {
        f.retain(|(x, _)| *x != k);
        f.push((k, v.to_owned()));
    };
    let base: Vec<(&'static str, String)> = vec![
        ("national_id", duf.to_owned()),
        ("given_name", "Amina".to_owned()),
        ("family_name", "Yusuf".to_owned()),
        ("birth_date", born.clone()),
        ("grade", "4".to_owned()),
        ("from", iso_today.clone()),
        ("class", String::new()),
        ("home_municipality", String::new()),
        ("mother_tongue", "so".to_owned()),
    ];
    for (field, value, target) in [
        ("national_id", "12345", "national_id"),
        ("birth_date", "", "birth_date"),
        ("birth_date", "1950-01-01", "birth_date"),
        ("grade", "11", "grade"),
        ("from", "2001-01-01", "from"),
        ("home_municipality", "12", "home_municipality"),
        ("mother_tongue", "klingon", "mother_tongue"),
        ("class", "00000000-0000-0000-0000-000000000000", "class"),
    ] {
        let mut form = base.clone();
        valid(&mut form, field, value);
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.post_form(&mut clerk, &path, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field} = {value}");
        let html = res.html();
        assert_eq!(html.select_first_attr(&format!("#{target}"), "aria-invalid").as_deref(), Some("true"), "{field}");
        assert_eq!(html.select_first_attr("#given_name", "value").as_deref(), Some("Amina"), "typed is kept");
    }
    assert_eq!(person_by_number(&app, duf).await, None, "nothing stored");

    let fields: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.post_form(&mut clerk, &path, &fields).await;
    let pupil = person_by_number(&app, duf).await.expect("the pupil is created");
    assert_redirects_to(&res, &format!("/pupils/{pupil}"));
    let card = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, StatusCode::OK, "the office keeps the new pupil");
    assert!(card.body.contains("Amina Yusuf"));
    let tongue: Option<String> = sqlx::query_scalar("SELECT other_mother_tongue FROM pupils WHERE person_id = $1")
        .bind(pupil)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(tongue.as_deref(), Some("so"));
    assert_eq!(app.audit_count("create", pupil).await, 1, "audited with the pupil");

    // Sent again: enrolled already, refused by the number.
    let again = app.post_form(&mut clerk, &path, &fields).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.html().select_first_attr("#national_id", "aria-invalid").as_deref(), Some("true"));

    // The details: a DUF pupil's names are the office's; the earlier values are kept.
    let details = format!("/pupils/{pupil}/details");
    assert_eq!(app.get(&mut clerk, &details).await.html().count("#given_name"), 1);
    let saved = app
        .post_form(
            &mut clerk,
            &details,
            &[("given_name", "Amina"), ("family_name", "Yusuf Ali"), ("birth_date", &born), ("mother_tongue", "ar")],
        )
        .await;
    assert_redirects_to(&saved, &format!("{details}?saved=yes"));
    let kept: (String, Option<String>) = sqlx::query_as(
        "SELECT family_name, other_mother_tongue FROM person_history WHERE person_id = $1 AND source = 'office'",
    )
    .bind(pupil)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(kept, ("Yusuf".to_owned(), Some("so".to_owned())), "the earlier values are kept");
    let bad = app
        .post_form(&mut clerk, &details, &[("given_name", " "), ("family_name", "Yusuf Ali"), ("birth_date", &born)])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A pupil in the register: names are the register's, only the mother tongue is kept here.
    let oskar_details = format!("/pupils/{}/details", app.pupil_at("Solbakken skole").await);
    let page = app.get(&mut clerk, &oskar_details).await;
    assert_eq!(page.html().count("#given_name"), 0, "no name field for a pupil in the register");

    // A teacher does not register pupils.
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.get(&mut teacher, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut teacher, &details).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_child_the_register_knows_is_enrolled_as_recorded_and_a_wrong_name_enrols_no_one() {
    let app = spawn_app().await;
    let solbakken = school(&app, "Solbakken skole").await;
    let path = format!("/schools/{solbakken}/pupils/new");
    let mut clerk = app.sign_in_as("office_clerk").await;
    // A child of school age the municipality knows, enrolled nowhere: made so from a pupil
    // elsewhere whose enrolments are taken away (owner's SQL, as the register would leave it).
    let (child, number, family, grade): (Uuid, String, String, i16) = sqlx::query_as(
        "SELECT p.id, p.national_id, p.family_name, e.grade_level FROM persons p \
         JOIN enrolments e ON e.pupil_id = p.id AND e.to_date IS NULL \
         JOIN schools s ON s.id = e.school_id AND s.name <> 'Solbakken skole' \
         WHERE p.deceased_on IS NULL AND length(p.national_id) = 11 AND e.grade_level <= 7 ORDER BY p.id LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    for sql in [
        "DELETE FROM group_memberships WHERE pupil_id = $1",
        "UPDATE enrolments SET to_date = from_date + 1 WHERE pupil_id = $1",
    ] {
        sqlx::query(sql).bind(child).execute(&app.owner).await.unwrap();
    }
    let iso_today = tavle::domain::date::iso(today());
    let grade = grade.to_string();
    let wrong = app
        .post_form(
            &mut clerk,
            &path,
            &[
                ("national_id", &number),
                ("given_name", "Someone"),
                ("family_name", "Else"),
                ("grade", &grade),
                ("from", &iso_today),
                ("home_municipality", "1103"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "a number with another name enrols no one");
    assert_eq!(wrong.html().select_first_attr("#family_name", "aria-invalid").as_deref(), Some("true"));
    let enrolled = app
        .post_form(
            &mut clerk,
            &path,
            &[
                ("national_id", &number),
                ("given_name", "Someone"),
                ("family_name", &family),
                ("grade", &grade),
                ("from", &iso_today),
                ("home_municipality", "1103"),
            ],
        )
        .await;
    assert_redirects_to(&enrolled, &format!("/pupils/{child}"));
    let (guest, given): (Option<String>, String) = sqlx::query_as(
        "SELECT e.guest_home_municipality::text, p.given_name FROM enrolments e JOIN persons p ON p.id = e.pupil_id \
         WHERE e.pupil_id = $1 AND e.school_id = $2",
    )
    .bind(child)
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(guest.as_deref(), Some("1103"), "a guest pupil's home municipality");
    assert_ne!(given, "Someone", "the register's names stay");
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM persons WHERE national_id = $1")
            .bind(&number)
            .fetch_one(&app.owner)
            .await
            .unwrap(),
        1,
        "no second person"
    );
}
