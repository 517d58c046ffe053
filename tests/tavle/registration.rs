//! Registering a pupil by hand and the details the office keeps (issue 18, points 1
//! and 5): a newly arrived pupil with a DUF number, a child the register knows moving
//! into school, a guest pupil; the checks that keep a typo from enrolling someone else;
//! the other mother tongue, with its earlier value kept.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app_at_school, TestApp};

async fn school(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

/// The school day the apps here run as (`spawn_app_at_school`), whatever day the suite runs.
fn today() -> time::Date {
    tavle::demo::DemoYears::around(crate::helpers::today()).school_today()
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
    let app = spawn_app_at_school().await;
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
    let app = spawn_app_at_school().await;
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

/// Special arrangements (issue 18, point 8): recorded by the office as codes and
/// numbers, shown on the card to the teachers who teach the pupil and to the guardians,
/// not to the school's other teachers nor to the pupil.
#[tokio::test]
async fn special_arrangements_reach_those_who_teach_the_pupil_and_the_guardians_only() {
    let app = spawn_app_at_school().await;
    let oskar: Uuid = sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let path = format!("/pupils/{oskar}/arrangements");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let teacher_option = page.html().select_attrs("#teacher option[value]:not([value=''])", "value");
    let teacher = teacher_option.first().expect("the school's staff").clone();
    let from = tavle::domain::date::iso(today());
    for (fields, field) in [
        (vec![("kind", "special_education"), ("from", "")], "from"),
        (vec![("kind", "special_education"), ("from", &from)], "hours"),
        (vec![("kind", "school_transport"), ("from", &from), ("hours", "2")], "hours"),
        (vec![("kind", "special_education"), ("from", &from), ("hours", "2,55")], "hours"),
        (vec![("kind", "magic"), ("from", &from)], "kind-school_transport"),
    ] {
        let res = app.post_form(&mut clerk, &path, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert_eq!(
            res.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{fields:?}"
        );
    }
    let stored = "SELECT count(*) FROM special_arrangements WHERE pupil_id = $1";
    let count = || async { sqlx::query_scalar::<_, i64>(stored).bind(oskar).fetch_one(&app.owner).await.unwrap() };
    assert_eq!(count().await, 0, "nothing stored");
    let added = app
        .post_form(
            &mut clerk,
            &path,
            &[
                ("kind", "special_education"),
                ("from", &from),
                ("hours", "2,5"),
                ("teacher", &teacher),
                ("day", "1"),
                ("day", "3"),
            ],
        )
        .await;
    assert_redirects_to(&added, &format!("{path}?done=added"));
    assert_eq!(count().await, 1);
    let hours: String = sqlx::query_scalar("SELECT hours_per_week::text FROM special_arrangements WHERE pupil_id = $1")
        .bind(oskar)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(hours, "2.5");
    let card = format!("/pupils/{oskar}");
    let shown = |res: &crate::helpers::TestResponse| res.html().select_texts("#arrangement-list li").join(" | ");
    assert!(shown(&app.get(&mut clerk, &card).await).contains("2,5"), "the office sees it");
    let mut kari = app.sign_in_as("guardian").await;
    let for_guardian = shown(&app.get(&mut kari, &card).await);
    assert!(for_guardian.contains("2,5"), "the guardian sees it: {for_guardian}");

    // A teacher who teaches one of Oskar's groups sees it; one who teaches none does not.
    let teaches: Vec<(String, bool)> = sqlx::query_as(
        "SELECT pe.feide_id, EXISTS (SELECT 1 FROM group_memberships m JOIN group_staff s ON s.group_id = m.group_id \
            WHERE m.pupil_id = $1 AND s.staff_id = pe.id AND m.to_date IS NULL) \
         FROM persons pe WHERE pe.feide_id IS NOT NULL",
    )
    .bind(oskar)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut checked = Vec::new();
    for persona in ["teacher", "contact_teacher"] {
        let p = tavle::demo::personas().into_iter().find(|p| p.key == persona).unwrap();
        let Some((_, teaches)) = teaches.iter().find(|(f, _)| Some(f.as_str()) == p.feide_id.as_deref()) else {
            continue;
        };
        let mut b = app.sign_in_as(persona).await;
        let res = app.get(&mut b, &card).await;
        if res.status != StatusCode::OK {
            continue;
        }
        assert_eq!(!shown(&res).is_empty(), *teaches, "{persona} teaches Oskar: {teaches}");
        checked.push(*teaches);
    }
    assert!(!checked.is_empty(), "a teacher of the school opened the card");
    eprintln!("teachers checked (teaches Oskar?): {checked:?}");

    // Ended from today: no longer on the card.
    let id: Uuid = sqlx::query_scalar("SELECT id FROM special_arrangements WHERE pupil_id = $1")
        .bind(oskar)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let ended = app.post_form(&mut clerk, &format!("{path}/{id}/end"), &[]).await;
    assert_redirects_to(&ended, &format!("{path}?done=ended"));
    assert_eq!(count().await, 0, "begun today: withdrawn");
    assert!(shown(&app.get(&mut kari, &card).await).is_empty());
}

/// A guardian who does not live with the child, of the school and the pupil's.
async fn pupil_and_guardian(app: &TestApp, school_name: &str) -> (Uuid, Uuid) {
    sqlx::query_as(
        "SELECT g.pupil_id, g.guardian_id FROM guardianships g \
         JOIN enrolments e ON e.pupil_id = g.pupil_id AND e.to_date IS NULL \
         JOIN schools s ON s.id = e.school_id AND s.name = $1 \
         JOIN persons c ON c.id = g.pupil_id AND c.address_protection = 'none' \
         WHERE g.parental_responsibility AND g.to_date IS NULL AND NOT g.lives_with \
         ORDER BY g.pupil_id, g.guardian_id LIMIT 1",
    )
    .bind(school_name)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn lives_with(app: &TestApp, pupil: Uuid, guardian: Uuid) -> (bool, i64) {
    sqlx::query_as(
        "SELECT g.lives_with, (SELECT count(*) FROM guardianship_history h WHERE h.pupil_id = $1 \
           AND h.guardian_id = $2 AND h.source = 'office' AND h.lives_with IS NOT NULL) \
         FROM guardianships g WHERE g.pupil_id = $1 AND g.guardian_id = $2",
    )
    .bind(pupil)
    .bind(guardian)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

/// Whether a guardian lives with the pupil (issue 18): the office corrects it, with the
/// value before kept and the change audited; sending it again changes nothing; a value
/// that is neither answer is refused next to the field. For a child whose address is
/// strictly confidential it decides whether the guardian learns where the child is, so
/// there the office may not (403) and the principal may.
#[tokio::test]
async fn the_office_corrects_where_a_child_lives_and_only_the_principal_for_a_hidden_child() {
    let app = spawn_app_at_school().await;
    let (pupil, guardian) = pupil_and_guardian(&app, "Solbakken skole").await;
    let path = format!("/pupils/{pupil}/guardians/{guardian}/lives-with");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/pupils/{pupil}/guardians/{guardian}")).await;
    assert_eq!(page.html().count("#lives_with-no[checked]"), 1, "the form shows what is stored");

    let refused = app.post_form(&mut clerk, &path, &[("lives_with", "sometimes")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.html().count("#errors a[href='#lives_with-yes']"), 1, "the summary leads to the choice");
    assert_eq!(lives_with(&app, pupil, guardian).await, (false, 0), "nothing changed");

    let res = app.post_form(&mut clerk, &path, &[("lives_with", "yes")]).await;
    assert_redirects_to(&res, &format!("/pupils/{pupil}/guardians/{guardian}?done=saved"));
    assert_eq!(lives_with(&app, pupil, guardian).await, (true, 1), "changed, the value before kept");
    let kept: Option<bool> = sqlx::query_scalar(
        "SELECT lives_with FROM guardianship_history WHERE pupil_id = $1 AND guardian_id = $2 AND source = 'office'",
    )
    .bind(pupil)
    .bind(guardian)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(kept, Some(false));
    app.post_form(&mut clerk, &path, &[("lives_with", "yes")]).await;
    assert_eq!(lives_with(&app, pupil, guardian).await, (true, 1), "the same again changes nothing");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM audit_events WHERE resource = 'guardian_links' AND action = 'update' \
           AND $1 = ANY(subject_ids) UNION ALL SELECT 1 FROM audit_pending WHERE resource = 'guardian_links' \
           AND action = 'update' AND $1 = ANY(subject_ids)) a",
    )
    .bind(guardian)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // A child whose address becomes strictly confidential: the office is refused.
    let (hidden, other) = pupil_and_guardian(&app, "Solbakken skole").await;
    sqlx::query("UPDATE persons SET address_protection = 'strictly_confidential' WHERE id = $1")
        .bind(hidden)
        .execute(&app.owner)
        .await
        .unwrap();
    let page = app.get(&mut clerk, &format!("/pupils/{hidden}/guardians/{other}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("form[action$='/lives-with']"), 0, "no form for the office");
    let res = app
        .post_form(&mut clerk, &format!("/pupils/{hidden}/guardians/{other}/lives-with"), &[("lives_with", "yes")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(lives_with(&app, hidden, other).await, (false, 0));

    // The principal of the child's school may.
    let (hidden, other) = pupil_and_guardian(&app, "Fjordvik ungdomsskole").await;
    sqlx::query("UPDATE persons SET address_protection = 'strictly_confidential' WHERE id = $1")
        .bind(hidden)
        .execute(&app.owner)
        .await
        .unwrap();
    let mut principal = app.sign_in_as("principal").await;
    let path = format!("/pupils/{hidden}/guardians/{other}/lives-with");
    let res = app.post_form(&mut principal, &path, &[("lives_with", "yes")]).await;
    assert_redirects_to(&res, &format!("/pupils/{hidden}/guardians/{other}?done=saved"));
    assert_eq!(lives_with(&app, hidden, other).await, (true, 1));
}
