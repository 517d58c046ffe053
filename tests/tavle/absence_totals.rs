//! Review, deduction and totals by the rules: the principal reviews Emma's (grade 9)
//! absent days and deducts where the rules allow, the refusals (health before the
//! fourth day, over the year's maximum, codes and fields that do not exist), the audit
//! rows, and the overviews of the pupil, the guardian and the class; and an upper-
//! secondary pupil's subject percentages computed from the database.

use axum::http::StatusCode;
use time::Date;
use uuid::Uuid;

use crate::helpers::{spawn_app_on, TestApp, TestResponse};
use tavle::absence::overview::pupil_totals;
use tavle::absence::totals::{LimitState, SchoolType};
use tavle::web::i18n::Lang;

async fn emma(app: &TestApp) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Emma' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The pupil's lessons held on the school days before today, per day, newest last:
/// the lessons of their groups by the timetable (as the totals count them).
async fn school_days_before_today(app: &TestApp, pupil: Uuid, n: i64) -> Vec<(Date, Vec<Uuid>)> {
    let rows: Vec<(Date, Vec<Uuid>)> = sqlx::query_as(
        "SELECT d::date, array_agg(l.id ORDER BY l.starts) FROM group_memberships m \
         JOIN groups g ON g.id = m.group_id AND g.kind <> 'sfo' \
         JOIN school_years y ON y.id = g.school_year_id \
         JOIN lessons l ON l.group_id = g.id \
         CROSS JOIN generate_series(y.starts, tavle_today() - 1, interval '1 day') d \
         WHERE m.pupil_id = $1 AND extract(isodow FROM d) = l.weekday AND d >= l.valid_from \
           AND (l.valid_to IS NULL OR d < l.valid_to) AND d BETWEEN y.starts AND y.ends AND d >= m.from_date \
           AND EXISTS (SELECT 1 FROM terms t WHERE t.school_year_id = g.school_year_id AND d BETWEEN t.starts AND t.ends) \
           AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.school_year_id = g.school_year_id \
                AND (b.school_id IS NULL OR b.school_id = g.school_id) AND d BETWEEN b.first_day AND b.last_day) \
         GROUP BY 1 ORDER BY 1 DESC LIMIT $2",
    )
    .bind(pupil)
    .bind(n)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    rows.into_iter().rev().collect()
}

async fn mark(app: &TestApp, pupil: Uuid, date: Date, lessons: &[Uuid], status: &str) {
    for l in lessons {
        sqlx::query(
            "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, minutes_late, \
                 registered_by, source) \
             SELECT l.tenant_id, l.id, $2, $3, $4, CASE WHEN $4 = 'late' THEN 10 END, \
                    (SELECT id FROM persons WHERE feide_id = 'jonas.lie@fjordvik.kommune.no'), 'teacher' \
             FROM lessons l WHERE l.id = $1",
        )
        .bind(l)
        .bind(pupil)
        .bind(date)
        .bind(status)
        .execute(&app.owner)
        .await
        .unwrap();
    }
}

fn iso(d: Date) -> String {
    crate::absence::iso(d)
}

fn assert_422_at(res: &TestResponse, field_error: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &res.body[..res.body.len().min(3000)]);
    let html = res.html();
    assert_eq!(html.count(field_error), 1, "no message {field_error}");
    assert!(html.count(".ds-error-summary a") >= 1, "no error summary");
}

fn text(res: &TestResponse, css: &str) -> String {
    res.html().select_texts(css).join(" ")
}

/// Emma (grade 9, lower secondary) was absent the whole of the last four school days
/// before today (days 1-4 of an illness), and two lessons of the school day before
/// them (single hours). The principal of her school reviews:
///
/// - days 1-4 "health, doctor's certificate"; deducting day 1 is refused (health
///   absence is deducted only from the fourth day), deducting day 4 is allowed;
/// - with the year's maximum set to 1 day (parameters are data), deducting a second
///   day ("leave granted" on day 3) is refused with the maximum in the message;
/// - Emma sees 4 days, 1 deducted, 3 on the diploma, and the hours; so does her mother.
#[tokio::test]
async fn lower_secondary_review_deduction_and_overviews() {
    let app = spawn_app_on(crate::days::days().after_school_days(6)).await;
    let emma = emma(&app).await;
    let days = school_days_before_today(&app, emma, 5).await;
    assert_eq!(days.len(), 5, "five school days before today");
    let (hours_day, hours_lessons) = &days[0];
    mark(&app, emma, *hours_day, &hours_lessons[..2], "absent").await;
    for (d, lessons) in &days[1..] {
        mark(&app, emma, *d, lessons, "absent").await;
    }
    let ill: Vec<Date> = days[1..].iter().map(|d| d.0).collect();
    let path = format!("/absence/pupils/{emma}/review");
    let mut principal = app.sign_in_as("principal").await;

    let page = app.get(&mut principal, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(text(&page, "#totals-days"), "4");
    assert_eq!(text(&page, "#totals-unreviewed"), "5");

    for d in &ill {
        let res = app.post_form(&mut principal, &path, &[("date", &iso(*d)), ("code", "health_certificate")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }
    let reviews = "SELECT count(*) FROM absence_reviews";
    assert_eq!(count(&app, reviews).await, 4);
    // Saving the same review again changes nothing and writes no audit row.
    let audit = "SELECT count(*) FROM audit_events WHERE resource = 'absence_review'";
    assert_eq!(count(&app, audit).await, 4);
    let res = app.post_form(&mut principal, &path, &[("date", &iso(ill[0])), ("code", "health_certificate")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, audit).await, 4);

    // Day 1 of an illness cannot be deducted; day 4 can.
    let res = app
        .post_form(&mut principal, &path, &[("date", &iso(ill[0])), ("code", "health_certificate"), ("deduct", "yes")])
        .await;
    assert_422_at(&res, "#deduct-err");
    assert!(text(&res, "#deduct-err").contains('4'), "{}", text(&res, "#deduct-err"));
    let res = app
        .post_form(&mut principal, &path, &[("date", &iso(ill[3])), ("code", "health_certificate"), ("deduct", "yes")])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(count(&app, "SELECT count(*) FROM absence_reviews WHERE deducted").await, 1);
    // The audit row names the pupil, the principal and the purpose.
    let (role, subjects, action): (String, Vec<Uuid>, String) = sqlx::query_as(
        "SELECT actor_role, subject_ids, action FROM audit_events WHERE resource = 'absence_review' \
         ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!((role.as_str(), subjects, action.as_str()), ("principal", vec![emma], "update"));

    // The hours day is not a whole day: it cannot be deducted, even as leave.
    let res = app
        .post_form(&mut principal, &path, &[("date", &iso(*hours_day)), ("code", "leave_granted"), ("deduct", "yes")])
        .await;
    assert_422_at(&res, "#deduct-err");
    // Welfare is documented, but not deductible.
    let res =
        app.post_form(&mut principal, &path, &[("date", &iso(ill[2])), ("code", "welfare"), ("deduct", "yes")]).await;
    assert_422_at(&res, "#deduct-err");

    // The year's maximum is data: at 1 day, a second deduction is refused.
    sqlx::query(
        "INSERT INTO absence_rule_parameters (tenant_id, school_year, school_type, max_deducted_days, \
             health_deduction_from_day, warning_percent, limit_percent, discretion_percent) \
         SELECT id, $1, 'lower_secondary', 1, 4, 8, 10, 15 FROM tenants WHERE slug = 'fjordvik' \
         ON CONFLICT (tenant_id, school_year, school_type) DO UPDATE SET max_deducted_days = 1",
    )
    .bind(crate::days::days_of(&app).year_name())
    .execute(&app.owner)
    .await
    .unwrap();
    let res = app
        .post_form(&mut principal, &path, &[("date", &iso(ill[2])), ("code", "leave_granted"), ("deduct", "yes")])
        .await;
    assert_422_at(&res, "#deduct-err");
    assert!(text(&res, "#deduct-err").contains('1'));
    assert_eq!(count(&app, "SELECT count(*) FROM absence_reviews WHERE deducted").await, 1);
    // The form comes back with what was chosen.
    assert_eq!(res.html().select_first_attr("#code option[selected]", "value").as_deref(), Some("leave_granted"));

    // The pupil's own overview, and the guardian's.
    let expected_minutes: i64 = count(
        &app,
        &format!(
            "SELECT sum(extract(epoch FROM (l.ends - l.starts)) / 60)::bigint FROM lessons l \
             WHERE l.id IN ('{}', '{}')",
            hours_lessons[0], hours_lessons[1]
        ),
    )
    .await;
    let hours = ((expected_minutes + 30) / 60).to_string();
    for persona in ["pupil", "guardian"] {
        let mut b = app.sign_in_as(persona).await;
        let path =
            if persona == "pupil" { "/absence/me".to_owned() } else { format!("/absence/children/{emma}/overview") };
        let page = app.get(&mut b, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{persona}");
        assert_eq!(text(&page, "#totals-days"), "4", "{persona}");
        assert_eq!(text(&page, "#totals-hours"), hours, "{persona}");
        assert_eq!(text(&page, "#totals-documented-days"), "4", "{persona}");
        assert_eq!(text(&page, "#totals-deducted"), "1 / 1", "{persona}");
        assert!(text(&page, "#totals-on-diploma").starts_with('3'), "{persona}");
        assert_eq!(text(&page, "#totals-unreviewed"), "1", "{persona}");
        // The year's one deduction is used: a warning.
        assert_eq!(page.html().count("#totals-warning"), 1, "{persona}");
    }
    let reads = "SELECT count(*) FROM audit_events WHERE resource = 'absence_totals' AND action = 'read'";
    assert!(count(&app, reads).await >= 3);
}

/// Bad input stores nothing: a day without absence, a code not in the list, a field
/// the form does not have (no free text), a deduct value that is not the checkbox's.
/// A teacher who is not the pupil's contact teacher does not find the page.
#[tokio::test]
async fn bad_review_input_is_refused_and_nothing_is_stored() {
    let app = spawn_app_on(crate::days::days().after_school_days(3)).await;
    let emma = emma(&app).await;
    let days = school_days_before_today(&app, emma, 2).await;
    mark(&app, emma, days[1].0, &days[1].1[..1], "late").await;
    let path = format!("/absence/pupils/{emma}/review");
    let mut principal = app.sign_in_as("principal").await;
    let (absent, present) = (iso(days[1].0), iso(days[0].0));

    let res = app.post_form(&mut principal, &path, &[("date", &present), ("code", "undocumented")]).await;
    assert_422_at(&res, "#date-err");
    let res = app.post_form(&mut principal, &path, &[("date", "i går"), ("code", "undocumented")]).await;
    assert_422_at(&res, "#date-err");
    let res = app.post_form(&mut principal, &path, &[("date", &absent), ("code", "sick_with_flu")]).await;
    assert_422_at(&res, "#code-err");
    let res = app.post_form(&mut principal, &path, &[("date", &absent)]).await;
    assert_422_at(&res, "#code-err");
    for extra in [("note", "hadde omgangssyke"), ("comment", "x"), ("reason", "illness")] {
        let res = app.post_form(&mut principal, &path, &[("date", &absent), ("code", "undocumented"), extra]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{extra:?}");
    }
    let res =
        app.post_form(&mut principal, &path, &[("date", &absent), ("code", "undocumented"), ("deduct", "ja")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "SELECT count(*) FROM absence_reviews").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'absence_review'").await, 0);

    // A late arrival: single minutes, never a day.
    let res = app.post_form(&mut principal, &path, &[("date", &absent), ("code", "undocumented")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app.get(&mut principal, &path).await;
    assert_eq!(text(&page, "#totals-days"), "0");

    for persona in ["teacher", "contact_teacher", "office_clerk", "guardian", "pupil"] {
        let mut b = app.sign_in_as(persona).await;
        assert_eq!(app.get(&mut b, &path).await.status, StatusCode::NOT_FOUND, "{persona}");
        let res = app.post_form(&mut b, &path, &[("date", &absent), ("code", "welfare")]).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{persona}");
    }
    let code: String = sqlx::query_scalar("SELECT code FROM absence_reviews").fetch_one(&app.owner).await.unwrap();
    assert_eq!(code, "undocumented");
}

/// The contact teacher's class overview: Ingrid's 4A lists its pupils with links to
/// their review, and a pupil with absence shows it; the review is saved as the
/// contact teacher's.
#[tokio::test]
async fn the_contact_teacher_sees_the_class_and_reviews_a_pupil() {
    let app = spawn_app_on(crate::days::days().after_school_days(2)).await;
    let class: Uuid = sqlx::query_scalar(
        "SELECT g.id FROM groups g JOIN schools s ON s.id = g.school_id AND s.name = 'Solbakken skole' \
         JOIN school_years y ON y.id = g.school_year_id AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         WHERE g.kind = 'base' AND g.name = '4A'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    // A pupil of the class without absence in the demo's history (late in the year
    // every pupil has some: clear one's), so the row shows only this test's.
    let pupil: Uuid = sqlx::query_scalar(
        "SELECT m.pupil_id FROM group_memberships m WHERE m.group_id = $1 AND m.from_date <= tavle_today() \
         ORDER BY (SELECT count(*) FROM absence_registrations r WHERE r.pupil_id = m.pupil_id), m.pupil_id LIMIT 1",
    )
    .bind(class)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    for table in ["absence_registrations", "absence_reports"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE pupil_id = $1")).bind(pupil).execute(&app.owner).await.unwrap();
    }
    let days = school_days_before_today(&app, pupil, 1).await;
    mark(&app, pupil, days[0].0, &days[0].1, "absent").await;
    let mut ingrid = app.sign_in_as("contact_teacher").await;
    let list = app.get(&mut ingrid, "/absence/classes").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html().select_attrs("a.ds-card", "href").contains(&format!("/absence/classes/{class}")));
    let page = app.get(&mut ingrid, &format!("/absence/classes/{class}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let members = count(&app, &format!("SELECT count(*) FROM group_memberships WHERE group_id = '{class}'")).await;
    assert_eq!(page.html().count("#class-table tbody tr") as i64, members);
    let row = text(&page, &format!("tr[data-pupil='{pupil}'] td"));
    assert!(row.starts_with("1 0 0 1"), "{row}");
    let res = app
        .post_form(
            &mut ingrid,
            &format!("/absence/pupils/{pupil}/review"),
            &[("date", &iso(days[0].0)), ("code", "reported_by_guardian")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // Primary school: no diploma, nothing to deduct.
    let res = app
        .post_form(
            &mut ingrid,
            &format!("/absence/pupils/{pupil}/review"),
            &[("date", &iso(days[0].0)), ("code", "leave_granted"), ("deduct", "yes")],
        )
        .await;
    assert_422_at(&res, "#deduct-err");
    let source: String = sqlx::query_scalar("SELECT source FROM absence_reviews").fetch_one(&app.owner).await.unwrap();
    assert_eq!(source, "contact_teacher");
    let (role, n): (String, i64) = sqlx::query_as(
        "SELECT actor_role, cardinality(subject_ids)::bigint FROM audit_events \
         WHERE resource = 'absence_class_overview' LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!((role.as_str(), n), ("teacher", members));
}

/// An upper-secondary pupil (Vg1, grade 11) at a school created here: one 60-minute
/// mathematics lesson every Monday of the year. Held so far H Mondays (today
/// included), planned P in the year (both counted here independently from the terms
/// and days off). Absent from 2 Mondays undocumented and 1 documented (health):
/// counting 2 × 60 minutes, so far 2/H × 100 %, of the year 2/P × 100 %; with H
/// about 14 and P about 38 the pace is past 8 %: a warning.
#[tokio::test]
async fn upper_secondary_percentages_from_the_database() {
    // Three Mondays of school behind the day the test runs on.
    let app = spawn_app_on(crate::days::days().after_school_days(16)).await;
    let days = crate::days::days_of(&app);
    let (year, starts) = (days.year_name(), days.current().year.starts());
    let tenant = app.tenant_id("fjordvik").await;
    let ids: (Uuid, Uuid, Uuid) = sqlx::query_as(
        "WITH s AS (INSERT INTO schools (tenant_id, org_number, name, first_grade, last_grade) \
                    VALUES ($1, '998877665', 'Fjordvik vidaregåande skule', 11, 13) RETURNING id), \
              p AS (INSERT INTO persons (tenant_id, national_id, given_name, family_name, birth_date) \
                    VALUES ($1, '10101099999', 'Vg', 'Elev', '2010-10-10') RETURNING id), \
              u AS (INSERT INTO pupils (tenant_id, person_id) SELECT $1, id FROM p RETURNING person_id), \
              e AS (INSERT INTO enrolments (tenant_id, pupil_id, school_id, grade_level, from_date) \
                    SELECT $1, u.person_id, s.id, 11, $3 FROM u, s RETURNING school_id), \
              g AS (INSERT INTO groups (tenant_id, school_id, school_year_id, kind, name, grade_level, subject_id) \
                    SELECT $1, s.id, y.id, 'teaching', 'Vg1 MAT', 11, sub.id FROM s, school_years y, subjects sub \
                    WHERE y.tenant_id = $1 AND y.name = $2 AND sub.tenant_id = $1 AND sub.code = 'MAT' \
                    RETURNING id, subject_id), \
              m AS (INSERT INTO group_memberships (tenant_id, group_id, pupil_id, from_date) \
                    SELECT $1, g.id, u.person_id, $3 FROM g, u RETURNING group_id), \
              l AS (INSERT INTO lessons (tenant_id, group_id, subject_id, weekday, starts, ends, valid_from) \
                    SELECT $1, g.id, g.subject_id, 1, '08:30', '09:30', $3 FROM g RETURNING id) \
         SELECT (SELECT person_id FROM u), (SELECT id FROM l), (SELECT group_id FROM m)",
    )
    .bind(tenant)
    .bind(&year)
    .bind(starts)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let (pupil, lesson, _group) = ids;
    let mondays = |until: &str| {
        format!(
            "SELECT count(*) FROM terms t JOIN school_years y ON y.id = t.school_year_id AND y.name = '{year}' \
             CROSS JOIN generate_series(t.starts, t.ends, interval '1 day') d \
             WHERE t.tenant_id = '{tenant}' AND extract(isodow FROM d) = 1 AND d <= {until} \
               AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.school_year_id = y.id \
                   AND b.school_id IS NULL AND d BETWEEN b.first_day AND b.last_day)"
        )
    };
    let held = count(&app, &mondays("tavle_today()")).await;
    let planned = count(&app, &mondays("'2100-01-01'")).await;
    let past: Vec<Date> = days
        .current()
        .school_days()
        .into_iter()
        .filter(|d| *d < app.today && d.weekday() == time::Weekday::Monday)
        .take(3)
        .collect();
    assert_eq!(past.len(), 3, "three Mondays of school so far");
    for d in &past {
        mark(&app, pupil, *d, &[lesson], "absent").await;
    }
    sqlx::query(
        "INSERT INTO absence_reviews (tenant_id, pupil_id, date, code, reviewed_by, source) \
         SELECT $1, $2, $3, 'health_certificate', id, 'office' FROM persons WHERE feide_id = 'siri.haugen@fjordvik.kommune.no'",
    )
    .bind(tenant)
    .bind(pupil)
    .bind(past[2])
    .execute(&app.owner)
    .await
    .unwrap();

    let mut tx = tavle::db::begin(&app.db, tenant).await.unwrap();
    let t = pupil_totals(tavle::db::Conn::new(&mut tx, tenant), pupil, Lang::Nb).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(t.school_type, SchoolType::UpperSecondary);
    assert_eq!(t.subjects.len(), 1);
    let s = &t.subjects[0];
    assert_eq!(s.name, "Matematikk");
    assert_eq!((i64::from(s.held_lessons), i64::from(s.planned_lessons)), (held, planned));
    assert_eq!((s.missed_minutes, s.counting_minutes), (180, 120));
    let so_far = 200.0 / held as f64;
    let of_year = 200.0 / planned as f64;
    assert!((s.percent_so_far - so_far).abs() < 1e-9, "{} vs {so_far}", s.percent_so_far);
    assert!((s.percent_of_year - of_year).abs() < 1e-9, "{} vs {of_year}", s.percent_of_year);
    // The half-year grade's base is the term's Mondays (issue 17): the term the day is in
    // (or the latest begun), and only the undocumented absences in it count.
    let (term_starts, term_ends): (Date, Date) = sqlx::query_as(&format!(
        "SELECT t.starts, t.ends FROM terms t JOIN school_years y ON y.id = t.school_year_id AND y.name = '{year}' \
         WHERE t.tenant_id = '{tenant}' AND t.starts <= tavle_today() ORDER BY t.starts DESC LIMIT 1"
    ))
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let half_planned = count(
        &app,
        &format!(
            "SELECT count(*) FROM generate_series('{term_starts}'::date, '{term_ends}'::date, interval '1 day') d \
             JOIN school_years y ON y.name = '{year}' AND y.tenant_id = '{tenant}' \
             WHERE extract(isodow FROM d) = 1 \
               AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.school_year_id = y.id \
                   AND b.school_id IS NULL AND d BETWEEN b.first_day AND b.last_day)"
        ),
    )
    .await;
    let in_term = past[..2].iter().filter(|d| term_starts <= **d && **d <= term_ends).count();
    let of_half_year = 100.0 * in_term as f64 / half_planned as f64;
    assert!((s.percent_of_half_year - of_half_year).abs() < 1e-9, "{} vs {of_half_year}", s.percent_of_half_year);
    let state = |pct: f64| {
        if pct > 15.0 {
            LimitState::OverLimit
        } else if pct > 10.0 {
            LimitState::PrincipalDecides
        } else if so_far >= 8.0 || pct >= 8.0 {
            LimitState::Warning
        } else {
            LimitState::Ok
        }
    };
    assert_eq!(s.state, state(of_year).max(state(of_half_year)));
    // Upper secondary has a diploma too: three whole days (one lesson each), none deducted.
    assert_eq!((t.diploma.days, t.diploma.documented_days, t.diploma.deducted_days), (3, 1, 0));
}
