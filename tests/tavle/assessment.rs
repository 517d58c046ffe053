//! Assessment: a teacher enters a group's grades (a bad value refused by its field,
//! nothing stored; saving twice changes nothing; every change in the history and the
//! audit log), the window closes and only a leader changes a grade, with a reason
//! that the history keeps; pupils and guardians see grades from the publication
//! time, never before, and a guardian not after the child turns 18; the office's
//! periods page refuses bad dates by their fields.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::authz::assessment_fixtures;
use crate::helpers::{spawn_app, Browser, TestApp, TestResponse};

async fn emma(app: &TestApp) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Emma' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .expect("Emma")
}

/// The group's pupils on the grid, with their stored grades of the period.
async fn stored(app: &TestApp, group: Uuid, period: Uuid) -> Vec<(Uuid, Option<String>)> {
    sqlx::query_as(
        "SELECT m.pupil_id, g.value FROM group_memberships m \
         JOIN groups gr ON gr.id = m.group_id \
         LEFT JOIN grades g ON g.period_id = $2 AND g.subject_id = gr.subject_id AND g.pupil_id = m.pupil_id \
         WHERE m.group_id = $1 ORDER BY m.pupil_id",
    )
    .bind(group)
    .bind(period)
    .fetch_all(&app.owner)
    .await
    .expect("grades")
}

/// Post the grid of `group` with `fields`.
async fn post_grid(app: &TestApp, b: &mut Browser, group: Uuid, fields: &[(String, String)]) -> TestResponse {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(b, &format!("/assessment/groups/{group}"), &refs).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn a_teacher_enters_grades_a_bad_value_changes_nothing_and_saving_twice_changes_nothing() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let before = stored(&app, a.math, a.autumn).await;
    let history_before = count(&app, "SELECT count(*) FROM grade_history").await;
    let mut b = app.sign_in_as("subject_teacher").await;
    let path = format!("/assessment/groups/{}?period={}", a.math, a.autumn);
    let page = app.get(&mut b, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count("input[name^='g-']"), before.len(), "a field per pupil");

    // One value out of range among good ones: refused by its field, what was typed kept.
    let (first, second, third) = (before[0].0, before[1].0, before[2].0);
    let period = a.autumn.to_string();
    let fields = |v1: &'static str| {
        vec![
            ("period".to_owned(), period.clone()),
            (format!("g-{first}"), v1.to_owned()),
            (format!("g-{second}"), "5".to_owned()),
            (format!("g-{third}"), "iv".to_owned()),
        ]
    };
    let refused = post_grid(&app, &mut b, a.math, &fields("7")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    assert_eq!(html.select_first_attr(&format!("#g-{first}"), "aria-invalid").as_deref(), Some("true"));
    assert_eq!(html.select_first_attr(&format!("#g-{first}"), "value").as_deref(), Some("7"), "kept as typed");
    assert_eq!(html.select_first_attr(&format!("#g-{second}"), "value").as_deref(), Some("5"));
    assert_eq!(html.count(".ds-error-summary a"), 1);
    assert_eq!(stored(&app, a.math, a.autumn).await, before, "nothing stored");
    assert_eq!(count(&app, "SELECT count(*) FROM grade_history").await, history_before);

    // Fritatt without an exemption is refused too.
    let refused = post_grid(&app, &mut b, a.math, &fields("FR")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Fritatt kan bare"), "the exemption message");

    // Valid: saved, with a history row per changed grade, and audited.
    let saved = post_grid(&app, &mut b, a.math, &fields("3")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let after = stored(&app, a.math, a.autumn).await;
    let value = |id: Uuid| after.iter().find(|(p, _)| *p == id).and_then(|(_, v)| v.clone());
    assert_eq!((value(first), value(second), value(third)), (Some("3".into()), Some("5".into()), Some("IV".into())));
    let changed = before
        .iter()
        .filter(|(p, v)| [first, second, third].contains(p) && v.as_deref() != value(*p).as_deref())
        .count() as i64;
    assert_eq!(count(&app, "SELECT count(*) FROM grade_history").await, history_before + changed);
    assert!(
        count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'grades' AND action = 'update'").await >= 1
    );

    // The same again: nothing changes, no history, and the page says so.
    let again = post_grid(&app, &mut b, a.math, &fields("3")).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(again.location.as_deref().unwrap_or_default().ends_with("saved=0"), "{:?}", again.location);
    assert_eq!(count(&app, "SELECT count(*) FROM grade_history").await, history_before + changed);

    // With an exemption recorded, Fritatt is allowed.
    sqlx::query(
        "INSERT INTO assessment_exemptions (tenant_id, pupil_id, subject_id, kind, from_date, recorded_by) \
         SELECT g.tenant_id, $2, g.subject_id, 'assessment', tavle_today() - 30, $2 FROM groups g WHERE g.id = $1",
    )
    .bind(a.math)
    .bind(first)
    .execute(&app.owner)
    .await
    .expect("an exemption");
    assert_eq!(post_grid(&app, &mut b, a.math, &fields("FR")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        stored(&app, a.math, a.autumn).await.into_iter().find(|(p, _)| *p == first).and_then(|x| x.1).as_deref(),
        Some("FR")
    );

    // A field for a pupil not in the group is refused as a whole.
    let stranger = emma_not_in(&app, a.math).await;
    let bad =
        post_grid(&app, &mut b, a.math, &[("period".into(), period.clone()), (format!("g-{stranger}"), "4".into())])
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// A pupil who is not in `group`.
async fn emma_not_in(app: &TestApp, group: Uuid) -> Uuid {
    sqlx::query_scalar(
        "SELECT p.person_id FROM pupils p WHERE NOT EXISTS \
         (SELECT 1 FROM group_memberships m WHERE m.group_id = $1 AND m.pupil_id = p.person_id) LIMIT 1",
    )
    .bind(group)
    .fetch_one(&app.owner)
    .await
    .expect("a pupil elsewhere")
}

#[tokio::test]
async fn after_closing_only_a_leader_changes_a_grade_with_a_reason_and_the_history_keeps_the_old_value() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let emma = emma(&app).await;
    sqlx::query("UPDATE grades SET value = '4' WHERE period_id = $1 AND pupil_id = $2 AND group_id = $3")
        .bind(a.autumn)
        .bind(emma)
        .bind(a.math)
        .execute(&app.owner)
        .await
        .expect("Emma's grade");
    sqlx::query(
        "INSERT INTO grades (tenant_id, period_id, subject_id, pupil_id, value, group_id, changed_by, changed_at) \
         SELECT g.tenant_id, $1, g.subject_id, $2, '4', g.id, $2, now() FROM groups g WHERE g.id = $3 \
         ON CONFLICT DO NOTHING",
    )
    .bind(a.autumn)
    .bind(emma)
    .bind(a.math)
    .execute(&app.owner)
    .await
    .expect("Emma has a grade");
    sqlx::query(
        "UPDATE assessment_periods SET opens_on = tavle_today() - 20, closes_on = tavle_today() - 1 WHERE id = $1",
    )
    .bind(a.autumn)
    .execute(&app.owner)
    .await
    .expect("close the window");
    let form = |value: &str, reason: &str| {
        vec![
            ("period".to_owned(), a.autumn.to_string()),
            (format!("g-{emma}"), value.to_owned()),
            ("reason".to_owned(), reason.to_owned()),
        ]
    };
    let path = format!("/assessment/groups/{}", a.math);
    // The teacher may no longer write.
    let mut teacher = app.sign_in_as("subject_teacher").await;
    assert_eq!(post_grid(&app, &mut teacher, a.math, &form("5", "")).await.status, StatusCode::FORBIDDEN);
    let grid = app.get(&mut teacher, &format!("{path}?period={}", a.autumn)).await;
    assert_eq!(grid.html().count("input[name^='g-']"), 0, "read-only for the teacher");

    // The principal must give a reason.
    let mut principal = app.sign_in_as("principal").await;
    let refused = post_grid(&app, &mut principal, a.math, &form("5", "")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.html().select_first_attr("#reason", "aria-invalid").as_deref(), Some("true"));
    let value = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT value FROM grades WHERE period_id = $1 AND pupil_id = $2 AND group_id = $3",
        )
        .bind(a.autumn)
        .bind(emma)
        .bind(a.math)
        .fetch_one(&app.owner)
        .await
        .expect("value")
    };
    assert_eq!(value().await, "4");
    assert_eq!(
        post_grid(&app, &mut principal, a.math, &form("5", "nonsense")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post_grid(&app, &mut principal, a.math, &form("5", "complaint_upheld")).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(value().await, "5");
    let (previous, reason): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT previous, reason FROM grade_history WHERE period_id = $1 AND pupil_id = $2 AND reason IS NOT NULL",
    )
    .bind(a.autumn)
    .bind(emma)
    .fetch_one(&app.owner)
    .await
    .expect("history");
    assert_eq!((previous.as_deref(), reason.as_deref()), (Some("4"), Some("complaint_upheld")));

    // The school's page of Emma's grades shows the change and why.
    let page = app.get(&mut principal, &format!("/assessment/pupils/{emma}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let history = page.html().select_texts(".tavle-history li").join("\n");
    assert!(history.contains("4 → 5") && history.contains("Klage tatt til følge"), "{history}");
}

#[tokio::test]
async fn pupils_and_guardians_see_grades_from_publication_and_a_guardian_not_after_the_child_is_18() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let emma = emma(&app).await;
    sqlx::query(
        "INSERT INTO grades (tenant_id, period_id, subject_id, pupil_id, value, group_id, changed_by, changed_at) \
         SELECT g.tenant_id, $1, g.subject_id, $2, '6', g.id, $2, now() FROM groups g WHERE g.id = $3 \
         ON CONFLICT (tenant_id, period_id, subject_id, pupil_id) DO UPDATE SET value = '6'",
    )
    .bind(a.autumn)
    .bind(emma)
    .bind(a.math)
    .execute(&app.owner)
    .await
    .expect("Emma's autumn grade");
    let publish = |on: &'static str, at: &'static str| {
        let sql = format!("UPDATE assessment_periods SET publish_on = {on}, publish_time = '{at}' WHERE id = $1");
        let (pool, id) = (app.owner.clone(), a.autumn);
        async move { sqlx::query(&sql).bind(id).execute(&pool).await }
    };
    let autumn_heading = |html: &str| html.contains("Halvårsvurdering høst") && html.contains(&a.autumn.to_string());
    let mut pupil = app.sign_in_as("pupil").await;
    let mut guardian = app.sign_in_as("guardian").await;
    let child = format!("/assessment/children/{emma}");

    // Not before the publication day, nor on the day before its time.
    publish("tavle_today() + 1", "00:00").await.expect("publication");
    let own = app.get(&mut pupil, "/assessment/me").await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(!autumn_heading(&own.body), "unpublished: not shown");
    assert!(own.html().count("h2") >= 1, "last year's published grades are shown");
    assert!(!autumn_heading(&app.get(&mut guardian, &child).await.body));
    publish("tavle_today()", "23:59:59").await.expect("publication");
    let late = (time::OffsetDateTime::now_utc().hour(), time::OffsetDateTime::now_utc().minute()) >= (21, 59);
    if !late {
        assert!(!autumn_heading(&app.get(&mut pupil, "/assessment/me").await.body), "the day, before its time");
    }
    publish("tavle_today()", "00:00").await.expect("publication");
    assert!(autumn_heading(&app.get(&mut pupil, "/assessment/me").await.body), "published");
    assert!(autumn_heading(&app.get(&mut guardian, &child).await.body), "published, for the guardian");
    assert!(
        count(
            &app,
            &format!("SELECT count(*) FROM audit_events WHERE resource = 'grades' AND '{emma}' = ANY(subject_ids)")
        )
        .await
            >= 3
    );

    // Emma turns 18: she decides alone; her mother no longer sees her grades.
    sqlx::query("UPDATE persons SET birth_date = tavle_today() - interval '18 years 1 day' WHERE id = $1")
        .bind(emma)
        .execute(&app.owner)
        .await
        .expect("Emma is 18");
    let mut guardian = app.sign_in_as("guardian").await;
    assert_eq!(app.get(&mut guardian, &child).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut pupil, "/assessment/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_periods_page_refuses_bad_dates_by_their_fields_and_saves_good_ones() {
    let app = spawn_app().await;
    let school: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Fjordvik ungdomsskole'")
        .fetch_one(&app.owner)
        .await
        .expect("school");
    let mut principal = app.sign_in_as("principal").await;
    let path = format!("/assessment/schools/{school}/periods");
    let page = app.get(&mut principal, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let opens = page.html().select_first_attr("#autumn-opens", "value").expect("the autumn period is set");
    let closes = page.html().select_first_attr("#autumn-closes", "value").expect("closes");
    let before = count(&app, "SELECT count(*) FROM assessment_periods").await;

    // Spring: closes before it opens, a date outside the year, a bad time.
    let refused = app
        .post_form(
            &mut principal,
            &path,
            &[
                ("autumn-opens", &opens),
                ("autumn-closes", &closes),
                ("spring-opens", "2999-05-01"),
                ("spring-closes", "2026-13-01"),
                ("spring-publish_time", "25:00"),
                ("final-opens", &closes),
                ("final-closes", &opens),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    for field in ["spring-opens", "spring-closes", "spring-publish_time"] {
        assert_eq!(html.select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"), "{field}");
    }
    // final: closes before opens (only when opens < closes in the fixture).
    if opens < closes {
        assert_eq!(html.select_first_attr("#final-closes", "aria-invalid").as_deref(), Some("true"));
    }
    assert_eq!(count(&app, "SELECT count(*) FROM assessment_periods").await, before, "nothing saved");

    // Good: the spring period is created, and the change audited.
    let saved = app
        .post_form(
            &mut principal,
            &path,
            &[
                ("autumn-opens", &opens),
                ("autumn-closes", &closes),
                ("spring-opens", &closes),
                ("spring-closes", &closes),
                ("spring-publish_time", "08:00"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(count(&app, "SELECT count(*) FROM assessment_periods").await, before + 1);
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'assessment_periods'").await, 1);
}

/// Post a form of owned pairs.
async fn post(app: &TestApp, b: &mut Browser, path: &str, fields: &[(String, String)]) -> TestResponse {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(b, path, &refs).await
}

#[tokio::test]
async fn the_contact_teacher_sets_order_and_conduct_and_a_lowered_one_calls_for_a_warning_sent_once() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let pupil = a.pupil_9a;
    let mut teacher = app.sign_in_as("subject_teacher").await;
    let conduct = format!("/assessment/classes/{}/conduct", a.class_9a);
    let page = app.get(&mut teacher, &format!("{conduct}?period={}", a.autumn)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().count(&format!("select#conduct-{pupil}")), 1);
    let period = ("period".to_owned(), a.autumn.to_string());

    // A value not on the list: refused by its field, nothing stored.
    let bad = post(&app, &mut teacher, &conduct, &[period.clone(), (format!("conduct-{pupil}"), "X".into())]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.html().select_first_attr(&format!("#conduct-{pupil}"), "aria-invalid").as_deref(), Some("true"));
    assert_eq!(count(&app, "SELECT count(*) FROM conduct_grades").await, 0);

    // Order G, conduct NG: saved with history; the same again changes nothing.
    let fields = [period.clone(), (format!("order-{pupil}"), "G".into()), (format!("conduct-{pupil}"), "NG".into())];
    let saved = post(&app, &mut teacher, &conduct, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM conduct_grades").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM conduct_history").await, 2);
    let again = post(&app, &mut teacher, &conduct, &fields).await;
    assert!(again.location.as_deref().unwrap_or_default().ends_with("saved=0"));
    assert_eq!(count(&app, "SELECT count(*) FROM conduct_history").await, 2);

    // The warnings page lists the lowered conduct and the IV in mathematics.
    let warnings = format!("/assessment/classes/{}/warnings", a.class_9a);
    let page = app.get(&mut teacher, &format!("{warnings}?period={}", a.autumn)).await;
    let html = page.html();
    let conduct_box = format!("w-{pupil}-conduct");
    let grade_box = format!("w-{pupil}-{}", a.iv_subject);
    assert_eq!(html.count(&format!("input#{conduct_box}")), 1, "{}", page.body);
    assert_eq!(html.count(&format!("input[id='{grade_box}']")), 1);

    // Nothing ticked: refused. Then send the conduct warning: recorded once, e-mailed to
    // the pupil and the guardians with parental responsibility, audited.
    let none = post(&app, &mut teacher, &warnings, std::slice::from_ref(&period)).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    let sent = post(&app, &mut teacher, &warnings, &[period.clone(), (conduct_box.clone(), "1".into())]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM assessment_warnings").await, 1);
    let mails = count(&app, "SELECT count(*) FROM mail_outbox WHERE kind = 'assessment_warning'").await;
    let expected = count(
        &app,
        &format!(
            "SELECT count(*) FROM persons p WHERE p.email IS NOT NULL AND (p.id = '{pupil}' OR p.id IN \
             (SELECT guardian_id FROM guardianships WHERE pupil_id = '{pupil}' AND parental_responsibility))"
        ),
    )
    .await;
    assert_eq!(mails, expected);
    let body: String =
        sqlx::query_scalar("SELECT body_text FROM mail_outbox WHERE kind = 'assessment_warning' LIMIT 1")
            .fetch_optional(&app.owner)
            .await
            .expect("body")
            .unwrap_or_default();
    let name: String = sqlx::query_scalar("SELECT given_name FROM persons WHERE id = $1")
        .bind(pupil)
        .fetch_one(&app.owner)
        .await
        .expect("name");
    assert!(!body.contains(&name), "the e-mail names no child");
    // Sending it again (a second click) adds nothing.
    post(&app, &mut teacher, &warnings, &[period.clone(), (conduct_box, "1".into())]).await;
    assert_eq!(count(&app, "SELECT count(*) FROM assessment_warnings").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM mail_outbox WHERE kind = 'assessment_warning'").await, mails);
    assert!(
        count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'assessment_warnings' AND action = 'create'")
            .await
            == 1
    );

    // After the window closes the teacher sends no more.
    sqlx::query(
        "UPDATE assessment_periods SET opens_on = tavle_today() - 20, closes_on = tavle_today() - 1 WHERE id = $1",
    )
    .bind(a.autumn)
    .execute(&app.owner)
    .await
    .expect("close");
    let late = post(&app, &mut teacher, &warnings, &[period, (grade_box, "1".into())]).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_teacher_gives_a_remark_with_a_code_and_a_short_note_and_the_pupil_and_guardian_see_it() {
    let app = spawn_app().await;
    let emma = emma(&app).await;
    let mut teacher = app.sign_in_as("subject_teacher").await;
    let path = format!("/assessment/pupils/{emma}/remarks");
    let page = app.get(&mut teacher, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let today = page.html().select_first_attr("#day", "value").expect("today");
    let form = |category: &str, day: &str, note: &str| {
        vec![
            ("category".to_owned(), category.to_owned()),
            ("day".into(), day.to_owned()),
            ("note".into(), note.to_owned()),
        ]
    };
    for (bad, field) in [
        (form("sick", &today, ""), "category"),
        (form("late", "2999-01-01", ""), "day"),
        (form("late", &today, &"x".repeat(201)), "note"),
        (form("late", &today, "fnr 01020312345"), "note"),
    ] {
        let res = post(&app, &mut teacher, &path, &bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(
            res.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{field}"
        );
    }
    // A free-text field for reasons is not there to fill: an unknown field is refused.
    let mut extra = form("late", &today, "");
    extra.push(("reason_text".into(), "syk".into()));
    assert_eq!(post(&app, &mut teacher, &path, &extra).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "SELECT count(*) FROM remarks").await, 0, "nothing stored");

    let ok = post(&app, &mut teacher, &path, &form("phone", &today, "Mobil i timen etter to advarsler")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM remarks").await, 1);

    let mut pupil = app.sign_in_as("pupil").await;
    let own = app.get(&mut pupil, "/assessment/me").await;
    assert!(own.html().select_texts("section[aria-labelledby=remarks-title] li").join(" ").contains("Mobil i timen"));
    let mut guardian = app.sign_in_as("guardian").await;
    let child = app.get(&mut guardian, &format!("/assessment/children/{emma}")).await;
    assert!(child.body.contains("Mobilbruk i strid med reglene"));

    // Withdrawn by the teacher who gave it: gone from the pupil's page, kept for the school.
    let id: Uuid = sqlx::query_scalar("SELECT id FROM remarks").fetch_one(&app.owner).await.expect("id");
    let res = app.post_form(&mut teacher, &format!("{path}/{id}/withdraw"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(!app.get(&mut pupil, "/assessment/me").await.body.contains("Mobil i timen"));
    assert_eq!(count(&app, "SELECT count(*) FROM remarks WHERE withdrawn_at IS NOT NULL").await, 1);
}

/// The school's list: a standard category taken out of use is no longer offered (nor
/// taken), a category of the school's own is, and the pupil reads its name; bad names
/// are refused by their fields and store nothing.
#[tokio::test]
async fn a_school_keeps_its_own_list_of_remark_categories() {
    let app = spawn_app().await;
    let emma = emma(&app).await;
    let school: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Fjordvik ungdomsskole'")
        .fetch_one(&app.owner)
        .await
        .expect("school");
    let list = format!("/assessment/schools/{school}/remark-categories");
    let mut principal = app.sign_in_as("principal").await;
    let page = app.get(&mut principal, &list).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().select_first_attr("#use-phone", "checked").as_deref(), Some(""), "in use until taken out");

    // Everything but the phone.
    let keep = ["late", "homework", "equipment", "left_without_leave", "disruption", "language", "threats"];
    let fields: Vec<(String, String)> = keep.iter().map(|c| ("use".to_owned(), (*c).to_owned())).collect();
    assert_eq!(post(&app, &mut principal, &list, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM remark_categories WHERE NOT active").await, 1);
    // The same list again writes nothing.
    let rows = "SELECT count(*) FROM remark_categories";
    let before = count(&app, rows).await;
    assert_eq!(post(&app, &mut principal, &list, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, rows).await, before);

    // Bad names, refused by their fields; nothing stored.
    let add = format!("{list}/add");
    let new = |nb: &str, en: &str, aspect: &str| {
        vec![("name_nb".to_owned(), nb.to_owned()), ("name_en".into(), en.to_owned()), ("aspect".into(), aspect.into())]
    };
    for (bad, field) in [
        (new("", "", "conduct"), "name_nb"),
        (new(&"x".repeat(81), "", "conduct"), "name_nb"),
        (new("kom for sent", "", "order"), "name_nb"),
        (new("Snus", "Snus\u{202e}", "conduct"), "name_en"),
        (new("Snus", "", "both"), "aspect-order"),
    ] {
        let res = post(&app, &mut principal, &add, &bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(
            res.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(),
            Some("true"),
            "{field}"
        );
    }
    assert_eq!(count(&app, rows).await, before, "nothing stored");
    let added =
        post(&app, &mut principal, &add, &new("Snus på skoleområdet", "Snus on school grounds", "conduct")).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let code: String = sqlx::query_scalar("SELECT code FROM remark_categories WHERE name_nb IS NOT NULL")
        .fetch_one(&app.owner)
        .await
        .expect("code");
    assert_eq!(code, "own_1");

    // The teacher's form: the school's own offered, the phone not, and not taken.
    let mut teacher = app.sign_in_as("subject_teacher").await;
    let path = format!("/assessment/pupils/{emma}/remarks");
    let form = app.get(&mut teacher, &path).await;
    let options = form.html().select_texts("#category option").join("|");
    assert!(options.contains("Snus på skoleområdet") && !options.contains("Mobilbruk"), "{options}");
    let today = form.html().select_first_attr("#day", "value").expect("today");
    let remark = |category: &str| {
        vec![
            ("category".to_owned(), category.to_owned()),
            ("day".into(), today.clone()),
            ("note".into(), String::new()),
        ]
    };
    assert_eq!(post(&app, &mut teacher, &path, &remark("phone")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(post(&app, &mut teacher, &path, &remark("own_1")).await.status, StatusCode::SEE_OTHER);
    let mut pupil = app.sign_in_as("pupil").await;
    assert!(app.get(&mut pupil, "/assessment/me").await.body.contains("Snus på skoleområdet"));
}

#[tokio::test]
async fn statistics_count_grades_per_value_without_names_and_hide_small_rows() {
    let app = spawn_app().await;
    let mut director = app.sign_in_as("municipal_director").await;
    let page = app.get(&mut director, "/assessment/statistics?kind=autumn").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    // The table's total for the school's mathematics equals the grades stored.
    let stored = count(
        &app,
        "SELECT count(*) FROM grades g JOIN assessment_periods p ON p.id = g.period_id \
         JOIN schools s ON s.id = p.school_id JOIN subjects su ON su.id = g.subject_id \
         JOIN school_years y ON y.id = p.school_year_id AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         WHERE p.kind = 'autumn' AND s.name = 'Fjordvik ungdomsskole' AND su.code = 'MAT'",
    )
    .await;
    assert!(stored >= 5, "the demo has autumn grades in mathematics");
    let csv = app.get(&mut director, "/assessment/statistics.csv?kind=autumn").await;
    assert_eq!(csv.status, StatusCode::OK);
    let line = csv
        .body
        .lines()
        .find(|l| l.starts_with("Fjordvik ungdomsskole;;MAT0010;autumn;"))
        .unwrap_or_else(|| panic!("{}", csv.body));
    assert_eq!(line.split(';').nth(4), Some(stored.to_string().as_str()), "{line}");
    // No name of any pupil anywhere.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT pe.family_name FROM grades g JOIN persons pe ON pe.id = g.pupil_id LIMIT 50",
    )
    .fetch_all(&app.owner)
    .await
    .expect("names");
    for n in names {
        assert!(!csv.body.contains(&n) && !page.body.contains(&format!(">{n}<")), "{n}");
    }
    assert!(html.count("tbody tr") >= 5);
    // By class, a class of fewer than five grades in a subject shows no distribution.
    sqlx::query(
        "DELETE FROM grades g USING group_memberships m, groups b \
         WHERE m.pupil_id = g.pupil_id AND b.id = m.group_id AND b.kind = 'base' AND b.name = '9A' \
           AND g.pupil_id NOT IN (SELECT pupil_id FROM group_memberships WHERE group_id = b.id ORDER BY pupil_id LIMIT 3)",
    )
    .execute(&app.owner)
    .await
    .expect("a small class");
    let by_class = app.get(&mut director, "/assessment/statistics.csv?kind=autumn&by=class").await;
    let small: Vec<&str> = by_class.body.lines().filter(|l| l.starts_with("Fjordvik ungdomsskole;9A;")).collect();
    assert!(!small.is_empty(), "{}", by_class.body);
    for l in small {
        assert_eq!(l.split(';').nth(4), Some("<5"), "{l}");
    }
    // A teacher reads none.
    let mut teacher = app.sign_in_as("subject_teacher").await;
    assert_eq!(app.get(&mut teacher, "/assessment/statistics").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_leader_records_an_exemption_bad_fields_store_nothing_and_then_fritatt_is_allowed() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let emma = emma(&app).await;
    let mut principal = app.sign_in_as("principal").await;
    let path = format!("/assessment/pupils/{emma}/exemptions");
    let form = |subject: &str, kind: &str, from: &str, to: &str| {
        vec![
            ("subject".to_owned(), subject.to_owned()),
            ("kind".into(), kind.to_owned()),
            ("from".into(), from.to_owned()),
            ("to".into(), to.to_owned()),
        ]
    };
    let math = a.math_subject.to_string();
    let bad = post(&app, &mut principal, &path, &form(&Uuid::nil().to_string(), "everything", "2026-13-01", "x")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.html();
    for field in ["subject", "from", "to"] {
        assert_eq!(html.select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"), "{field}");
    }
    assert_eq!(html.select_first_attr("#kind-assessment", "aria-invalid").as_deref(), Some("true"));
    let backwards = post(&app, &mut principal, &path, &form(&math, "assessment", "2026-12-01", "2026-11-01")).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app, "SELECT count(*) FROM assessment_exemptions").await, 0);

    let today: String = sqlx::query_scalar("SELECT to_char(tavle_today() - 30, 'YYYY-MM-DD')")
        .fetch_one(&app.owner)
        .await
        .expect("a day");
    let ok = post(&app, &mut principal, &path, &form(&math, "assessment", &today, "")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM assessment_exemptions").await, 1);
    // Now the teacher may enter Fritatt for Emma in mathematics.
    let mut teacher = app.sign_in_as("subject_teacher").await;
    let res = post_grid(
        &app,
        &mut teacher,
        a.math,
        &[("period".into(), a.autumn.to_string()), (format!("g-{emma}"), "FR".into())],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // And the subject teacher cannot record exemptions (not a leader).
    assert_eq!(
        post(&app, &mut teacher, &path, &form(&math, "assessment", &today, "")).await.status,
        StatusCode::NOT_FOUND
    );
    // Emma sees it among her exemptions.
    let mut pupil = app.sign_in_as("pupil").await;
    let own = app.get(&mut pupil, "/assessment/me").await;
    assert!(own.html().select_texts("section[aria-labelledby=exemptions-title] li").join(" ").contains("Matematikk"));
}

#[tokio::test]
async fn the_diploma_shows_final_grades_subject_notes_conduct_and_absence_of_grades_8_to_10() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let pupil = a.grade_ten;
    // The school's final period, a final grade in mathematics, an exemption from
    // assessment in another subject, and order and conduct.
    sqlx::query(
        "WITH p AS (INSERT INTO assessment_periods (tenant_id, school_id, school_year_id, kind, opens_on, closes_on) \
           SELECT ap.tenant_id, ap.school_id, ap.school_year_id, 'final', ap.opens_on, ap.closes_on \
           FROM assessment_periods ap WHERE ap.id = $1 RETURNING id, tenant_id), \
         g AS (INSERT INTO grades (tenant_id, period_id, subject_id, pupil_id, value, changed_by, changed_at) \
           SELECT p.tenant_id, p.id, $3, $2, '5', $2, now() FROM p RETURNING period_id), \
         c AS (INSERT INTO conduct_grades (tenant_id, period_id, pupil_id, aspect, value, changed_by, changed_at) \
           SELECT p.tenant_id, p.id, $2, a, v, $2, now() FROM p, (VALUES ('order', 'G'), ('conduct', 'NG')) x (a, v) \
           RETURNING period_id) \
         INSERT INTO assessment_exemptions (tenant_id, pupil_id, subject_id, kind, from_date, recorded_by) \
         SELECT p.tenant_id, $2, su.id, 'assessment', tavle_today() - 100, $2 FROM p, subjects su \
         WHERE su.tenant_id = p.tenant_id AND su.code = 'KRO'",
    )
    .bind(a.autumn)
    .bind(pupil)
    .bind(a.math_subject)
    .execute(&app.owner)
    .await
    .expect("the final assessment");
    let mut principal = app.sign_in_as("principal").await;
    let page = app.get(&mut principal, &format!("/assessment/pupils/{pupil}/diploma")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let rows = html.select_texts("table tbody tr").join("\n");
    assert!(rows.contains("MAT0010") && rows.contains("5 meget god kompetanse"), "{rows}");
    assert!(rows.contains("KRO0020") && rows.contains("FAM02"), "{rows}");
    assert!(page.body.contains("Oppførsel: <strong>NG</strong>"), "conduct");
    // The subjects follow the directorate's codes.
    let codes: Vec<String> = html.select_texts("table tbody tr td:first-child");
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    // The absence covers the lower-secondary years the pupil was enrolled in (at most three).
    let years: Vec<String> = sqlx::query_scalar(
        "SELECT y.name FROM school_years y WHERE y.starts <= tavle_today() AND EXISTS ( \
           SELECT 1 FROM enrolments e WHERE e.pupil_id = $1 AND e.grade_level BETWEEN 8 AND 10 \
             AND e.from_date <= y.ends AND (e.to_date IS NULL OR e.to_date > y.starts)) \
         ORDER BY y.starts DESC LIMIT 3",
    )
    .bind(pupil)
    .fetch_all(&app.owner)
    .await
    .expect("years");
    assert!(!years.is_empty());
    let text = html.select_texts("main p").join(" ");
    assert!(text.contains("Fravær fra 8.–10. trinn samlet"), "{text}");
    for y in &years {
        assert!(text.contains(y.as_str()), "{y} in {text}");
    }
    // Not for another school's office, nor for a grade-9 pupil's teacher.
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, &format!("/assessment/pupils/{pupil}/diploma")).await.status, StatusCode::NOT_FOUND);
    assert!(count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'diploma'").await == 1);
}

/// The diploma's absence is grades 8-10 together: a whole day missed last school year
/// (grade 9, a lesson of a class of that year) is added to this year's days.
#[tokio::test]
async fn the_diplomas_days_add_last_school_years_to_this_ones() {
    let app = spawn_app().await;
    let a = assessment_fixtures(&app).await;
    let pupil = a.grade_ten;
    let mut principal = app.sign_in_as("principal").await;
    let days = |html: String| -> u32 {
        let text = html.split("Dager: ").nth(1).unwrap_or_default();
        text.split('.').next().unwrap_or_default().trim().parse().unwrap_or_else(|_| panic!("days in {html}"))
    };
    let path = format!("/assessment/pupils/{pupil}/diploma");
    let before = days(app.get(&mut principal, &path).await.body);
    // Last year: a class of the pupil's with one lesson on Mondays, and the pupil
    // absent from it on the year's first Monday of school (a whole day: the only lesson).
    let previous: Vec<String> = sqlx::query_scalar(
        "WITH y AS (SELECT y.id, y.tenant_id FROM school_years y WHERE y.ends < tavle_today() ORDER BY y.starts DESC LIMIT 1), \
         t AS (SELECT min(t.starts) AS starts FROM terms t, y WHERE t.school_year_id = y.id), \
         g AS (INSERT INTO groups (tenant_id, school_id, school_year_id, kind, name, grade_level) \
               SELECT y.tenant_id, s.id, y.id, 'base', 'Test 9Z', 9 FROM y, schools s \
               WHERE s.name = 'Fjordvik ungdomsskole' RETURNING id, tenant_id), \
         m AS (INSERT INTO group_memberships (tenant_id, group_id, pupil_id, from_date) \
               SELECT g.tenant_id, g.id, $1, t.starts FROM g, t RETURNING group_id), \
         l AS (INSERT INTO lessons (tenant_id, group_id, weekday, starts, ends, valid_from) \
               SELECT g.tenant_id, g.id, 1, '08:30', '09:15', t.starts FROM g, t RETURNING id, tenant_id), \
         d AS (SELECT d::date AS day FROM t, generate_series(t.starts, t.starts + 14, interval '1 day') d \
               WHERE extract(isodow FROM d) = 1 ORDER BY d LIMIT 1) \
         INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, registered_by, source) \
         SELECT l.tenant_id, l.id, $1, d.day, 'absent', \
           (SELECT id FROM persons WHERE feide_id = 'tor.einar.bakken@fjordvik.kommune.no'), 'teacher' \
         FROM l, d RETURNING to_char(date, 'YYYY-MM-DD')",
    )
    .bind(pupil)
    .fetch_all(&app.owner)
    .await
    .expect("last year's absence");
    assert_eq!(previous.len(), 1);
    let after = days(app.get(&mut principal, &path).await.body);
    assert_eq!(after, before + 1, "last year's whole day is on the diploma ({})", previous[0]);
}
