//! Exams through PAS: the office draws a grade-10 group for an exam (a bad form
//! refused by its fields, drawing twice changes nothing), the registration is refused
//! until every candidate has a written form and then comes as the directorate's
//! `Pamelding`, audited as an export; `tavle import pas` reads the candidate numbers
//! and the results, all or nothing, each bad candidate by its line, twice changes
//! nothing; the exam grade is on the diploma; a pupil with a result cannot be withdrawn.

use axum::http::StatusCode;
use uuid::Uuid;

use tavle::assessment::exams::import::{self, ImportError, ImportOptions, Report};

use crate::helpers::{spawn_app, Browser, TestApp};

struct Setup {
    school: Uuid,
    org: String,
    group: Uuid,
    subject: Uuid,
    /// The group's grade-10 pupils, with their national id numbers, by id.
    pupils: Vec<(Uuid, String)>,
    period: String,
}

async fn setup(app: &TestApp) -> Setup {
    // A municipality whose schools have not drawn yet (the demo has drawn grade 10 for
    // mathematics).
    sqlx::query("DELETE FROM exam_candidates").execute(&app.owner).await.expect("none drawn");
    let (school, org): (Uuid, String) =
        sqlx::query_as("SELECT id, org_number::text FROM schools WHERE name = 'Fjordvik ungdomsskole'")
            .fetch_one(&app.owner)
            .await
            .expect("school");
    let group: Uuid = sqlx::query_scalar(
        "SELECT g.id FROM groups g JOIN group_memberships m ON m.group_id = g.id \
         JOIN enrolments e ON e.pupil_id = m.pupil_id AND e.school_id = g.school_id AND e.grade_level = 10 \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         WHERE g.school_id = $1 AND g.kind = 'base' \
           AND g.school_year_id = (SELECT id FROM school_years WHERE starts <= tavle_today() ORDER BY starts DESC LIMIT 1) \
         GROUP BY g.id, g.name HAVING count(*) >= 3 ORDER BY g.name LIMIT 1",
    )
    .bind(school)
    .fetch_one(&app.owner)
    .await
    .expect("a grade-10 class");
    let subject: Uuid = sqlx::query_scalar("SELECT id FROM subjects WHERE grep_code = 'MAT0010' LIMIT 1")
        .fetch_one(&app.owner)
        .await
        .expect("mathematics");
    let pupils = sqlx::query_as(
        "SELECT pe.id, pe.national_id FROM group_memberships m JOIN persons pe ON pe.id = m.pupil_id \
         JOIN enrolments e ON e.pupil_id = m.pupil_id AND e.grade_level = 10 \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         WHERE m.group_id = $1 AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
         ORDER BY pe.id",
    )
    .bind(group)
    .fetch_all(&app.owner)
    .await
    .expect("pupils");
    let period = sqlx::query_scalar(
        "SELECT 'V-' || extract(year FROM ends)::int FROM school_years WHERE starts <= tavle_today() \
         ORDER BY starts DESC LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .expect("period");
    Setup { school, org, group, subject, pupils, period }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every candidate row with its row version, to see that nothing was written.
async fn snapshot(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT coalesce(string_agg(concat_ws(',', pupil_id, xmin, candidate_number, participation, grade), ';' \
                ORDER BY pupil_id), '') FROM exam_candidates",
    )
    .fetch_one(&app.owner)
    .await
    .expect("snapshot")
}

fn candidates_file(s: &Setup, numbers: &[(String, String)]) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\"?>\n<pa:PameldteKandidater xmlns:pa=\"http://pas.udir.no/Pamelding\">\n\
         <Eksamensperiodekode>{}</Eksamensperiodekode>\n<Eksamenspameldinger>\n<Eksamenspamelding>\n\
         <Fagkode>MAT0010</Fagkode>\n<Kandidatgrupper>\n<Kandidatgruppe>\n<Navn>10A</Navn>\n\
         <Kandidatgruppeansvarlige/>\n<Kandidater>\n",
        s.period
    );
    for (id, number) in numbers {
        x.push_str(&format!(
            "<Kandidat>\n<Fodselsnr>{id}</Fodselsnr>\n<Fornavn>X</Fornavn>\n<Etternavn>Y</Etternavn>\n\
             <Malform>Bokmal</Malform>\n<Kandidattype>Elev</Kandidattype>\n<Kandidatnummer>{number}</Kandidatnummer>\n\
             </Kandidat>\n"
        ));
    }
    x.push_str(
        "</Kandidater>\n</Kandidatgruppe>\n</Kandidatgrupper>\n</Eksamenspamelding>\n</Eksamenspameldinger>\n\
                </pa:PameldteKandidater>\n",
    );
    x
}

fn results_file(org: &str, results: &[(&str, &str, &str, &str)]) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\"?>\n<Karakteroversikt xmlns=\"http://pas.udir.no/Karakteroversikt\">\n\
         <Skoleorgnr>{org}</Skoleorgnr>\n<Eksamener>\n<Eksamen>\n<Fagkode>MAT0010</Fagkode>\n<Kandidatgrupper>\n\
         <Kandidatgruppe>\n<Navn>10A</Navn>\n<Kandidater>\n"
    );
    for (id, number, status, grade) in results {
        x.push_str(&format!(
            "<Kandidat>\n<Fodselsnr>{id}</Fodselsnr>\n<Kandidatnummer>{number}</Kandidatnummer>\n\
             <Deltakelsesstatus>{status}</Deltakelsesstatus>\n<Karakter>{grade}</Karakter>\n</Kandidat>\n"
        ));
    }
    x.push_str("</Kandidater>\n</Kandidatgruppe>\n</Kandidatgrupper>\n</Eksamen>\n</Eksamener>\n</Karakteroversikt>\n");
    x
}

async fn run(app: &TestApp, file: &str, options: &ImportOptions) -> Result<Report, ImportError> {
    // The application's login: row-level security holds the import as it holds a request.
    import::import(&app.db, "fjordvik", file.as_bytes(), options).await
}

fn problems(result: Result<Report, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected a refused file, got {other:?}"),
    }
}

async fn draw(app: &TestApp, b: &mut Browser, s: &Setup, subject: &str, group: &str) -> crate::helpers::TestResponse {
    app.post_form(b, &format!("/assessment/schools/{}/exams", s.school), &[("subject", subject), ("group", group)])
        .await
}

#[tokio::test]
async fn the_office_draws_registers_with_pas_and_reads_numbers_and_results_back() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let n = i64::try_from(s.pupils.len()).expect("a class");
    let path = format!("/assessment/schools/{}/exams", s.school);
    let mut principal = app.sign_in_as("principal").await;
    let page = app.get(&mut principal, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&s.period), "the period code");

    // Refused: no subject, a group of another school (not offered). Nothing drawn.
    let refused = draw(&app, &mut principal, &s, "", &Uuid::new_v4().to_string()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["subject", "group"] {
        assert_eq!(refused.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"));
    }
    assert_eq!(count(&app, "SELECT count(*) FROM exam_candidates").await, 0);

    // Drawn: the class's grade-10 pupils; a second draw adds no one.
    let (subject, group) = (s.subject.to_string(), s.group.to_string());
    assert_eq!(draw(&app, &mut principal, &s, &subject, &group).await.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM exam_candidates").await, n);
    assert_eq!(draw(&app, &mut principal, &s, &subject, &group).await.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM exam_candidates").await, n);
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'exam_candidates' AND action = 'create'").await,
        1
    );

    // The registration: refused without a user name and while a written form is missing
    // (a pupil who moved here without one).
    let registration = format!("{path}/registration");
    let first = s.pupils[0].0;
    sqlx::query("UPDATE pupils SET written_form = NULL WHERE person_id = $1")
        .bind(first)
        .execute(&app.owner)
        .await
        .expect("no written form");
    let refused = app.post_form(&mut principal, &registration, &[("pas_user", ""), ("email", "nope")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    for field in ["pas_user".to_owned(), "email".to_owned(), format!("wf-{}-{first}", s.subject)] {
        assert_eq!(html.select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"), "{field}");
    }
    assert_eq!(html.select_first_attr("#pas_user", "value").as_deref(), Some(""), "what was typed is kept");
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE action = 'export'").await, 0);
    for (i, (pupil, _)) in s.pupils.iter().enumerate() {
        let form = if i == 0 { "nn" } else { "nb" };
        let saved = app
            .post_form(
                &mut principal,
                &format!("{path}/written-form"),
                &[("subject", &subject), ("pupil", &pupil.to_string()), ("written_form", form)],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
    }
    let file = app.post_form(&mut principal, &registration, &[("pas_user", "fjordvik-us"), ("email", "")]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(file.headers[axum::http::header::CONTENT_TYPE].to_str().unwrap_or("").starts_with("application/xml"));
    let xml = &file.body;
    assert!(xml.contains(&format!("<Orgnr>{}</Orgnr>", s.org)) && xml.contains(&s.period), "{xml}");
    assert_eq!(xml.matches("<Kandidattype>Elev</Kandidattype>").count(), s.pupils.len());
    assert_eq!(xml.matches("<Malform>Nynorsk</Malform>").count(), 1);
    assert!(xml.contains(&format!("<Fodselsnr>{}</Fodselsnr>", s.pupils[0].1)));
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'exam_candidates' AND action = 'export'").await,
        1
    );

    // PAS's candidate numbers: the school is needed; then all are stored; twice: no change.
    let numbers: Vec<(String, String)> =
        s.pupils.iter().enumerate().map(|(i, (_, id))| (id.clone(), format!("{}ABC-V", 100 + i))).collect();
    let candidates = candidates_file(&s, &numbers);
    assert!(matches!(run(&app, &candidates, &ImportOptions::default()).await, Err(ImportError::SchoolRequired)));
    let options = ImportOptions { school: Some(s.org.clone()), ..ImportOptions::default() };
    let report = run(&app, &candidates, &options).await.expect("the numbers");
    assert_eq!((report.changed, report.unchanged), (s.pupils.len(), 0));
    let again = run(&app, &candidates, &options).await.expect("again");
    assert_eq!((again.changed, again.unchanged), (0, s.pupils.len()));
    assert_eq!(count(&app, "SELECT count(*) FROM exam_candidates WHERE candidate_number LIKE '%ABC-V'").await, n);

    // Results: one bad line and nothing is applied; every bad candidate by its line.
    let (id0, id1) = (s.pupils[0].1.as_str(), s.pupils[1].1.as_str());
    let before = snapshot(&app).await;
    let bad = results_file(
        &s.org,
        &[(id0, "100ABC-V", "Deltatt", "4"), (id1, "999XYZ-V", "Deltatt", "7"), (id1, "999XYZ-V", "Deltatt", "3")],
    );
    let found = problems(run(&app, &bad, &ImportOptions::default()).await);
    assert_eq!(found, ["line 17: <Karakter> \"7\" is not an exam grade (1-6)"]);
    let wrong_number = results_file(&s.org, &[(id0, "100ABC-V", "Deltatt", "4"), (id1, "999XYZ-V", "Deltatt", "3")]);
    let found = problems(run(&app, &wrong_number, &ImportOptions::default()).await);
    assert_eq!(found, ["line 17: candidate 999XYZ-V has the number 101ABC-V from PAS in Tavle"]);
    assert_eq!(snapshot(&app).await, before, "nothing written");

    let good = results_file(&s.org, &[(id0, "100ABC-V", "Deltatt", "4"), (id1, "101ABC-V", "DokumentertFravaer", "0")]);
    let report = run(&app, &good, &ImportOptions::default()).await.expect("the results");
    assert_eq!((report.changed, report.unchanged, report.what), (2, 0, "results"));
    assert_eq!(run(&app, &good, &ImportOptions::default()).await.expect("again").changed, 0);
    let stored: Vec<(Option<String>, Option<i16>)> =
        sqlx::query_as("SELECT participation, grade FROM exam_candidates WHERE pupil_id = ANY($1) ORDER BY pupil_id")
            .bind(vec![s.pupils[0].0, s.pupils[1].0])
            .fetch_all(&app.owner)
            .await
            .expect("results");
    assert_eq!(stored, [(Some("took_part".into()), Some(4)), (Some("documented_absence".into()), None)]);
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_events WHERE resource = 'exam_candidates' AND action = 'import'").await,
        2,
        "the numbers and the results, each once"
    );
    // The results file of another school is refused as a whole.
    assert!(matches!(
        run(&app, &good, &ImportOptions { school: Some("999999999".into()), ..ImportOptions::default() }).await,
        Err(ImportError::OtherSchool { .. })
    ));

    // The exam grade is on the diploma.
    let diploma = app.get(&mut principal, &format!("/assessment/pupils/{first}/diploma")).await;
    assert_eq!(diploma.status, StatusCode::OK);
    let rows = diploma.html().select_texts("table tbody tr").join("\n");
    assert!(rows.lines().any(|r| r.contains("MAT0010") && r.contains("4")), "{rows}");

    // A pupil with a result stays; one without is withdrawn.
    let withdraw = format!("{path}/withdraw");
    let kept = app.post_form(&mut principal, &withdraw, &[("subject", &subject), ("pupil", &first.to_string())]).await;
    assert_eq!(kept.status, StatusCode::NOT_FOUND);
    let third = s.pupils[2].0.to_string();
    let gone = app.post_form(&mut principal, &withdraw, &[("subject", &subject), ("pupil", &third)]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM exam_candidates").await, n - 1);
}

#[tokio::test]
async fn a_candidate_the_school_did_not_draw_is_named_by_line_and_nothing_is_applied() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let mut principal = app.sign_in_as("principal").await;
    let (subject, group) = (s.subject.to_string(), s.group.to_string());
    assert_eq!(draw(&app, &mut principal, &s, &subject, &group).await.status, StatusCode::SEE_OTHER);
    let before = snapshot(&app).await;
    // The first pupil is drawn; the PAS sample's number is no one of the school.
    let numbers =
        vec![(s.pupils[0].1.clone(), "100ABC-V".to_owned()), ("17011099955".to_owned(), "564HBS-V".to_owned())];
    let options = ImportOptions { school: Some(s.org.clone()), ..ImportOptions::default() };
    let found = problems(run(&app, &candidates_file(&s, &numbers), &options).await);
    assert_eq!(
        found,
        ["line 20: no pupil of the school is drawn in Tavle for MAT0010 under this national id number \
          (draw the pupil on the school's exam page first)"]
    );
    assert_eq!(snapshot(&app).await, before);
    // A dry run counts and writes nothing.
    let one = vec![(s.pupils[0].1.clone(), "100ABC-V".to_owned())];
    let dry = ImportOptions { dry_run: true, ..options };
    let report = run(&app, &candidates_file(&s, &one), &dry).await.expect("dry run");
    assert_eq!(report.changed, 1);
    assert_eq!(snapshot(&app).await, before);
}
