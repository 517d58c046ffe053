//! First-grade intake (issue 18, point 7) on the demo: Nora Nordmann, Kari's youngest,
//! starts school next August. The district gives her Solbakken; Kari has asked for
//! Nordlys, whose department head decides. A child at a strictly confidential address
//! has no district and is placed by a leader. The register's parents decide who sees a
//! child's intake, and a school district file replaces the districts whole or not at all.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app, TestApp};

async fn school(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

/// Nora, found as the demo's intake made her.
async fn nora(app: &TestApp) -> Uuid {
    sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Nora' AND family_name = 'Nordmann' \
           AND birth_date >= make_date(tavle_intake_year() - 6, 1, 1)",
    )
    .fetch_one(&app.owner)
    .await
    .expect("the demo's Nora")
}

/// The request as stored: school, reason, decision.
async fn request(app: &TestApp, child: Uuid) -> Option<(Uuid, String, Option<String>)> {
    sqlx::query_as("SELECT school_id, reason, decision FROM intake_requests WHERE child_id = $1")
        .bind(child)
        .fetch_optional(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_guardian_asks_for_another_school_the_school_decides_and_the_guardian_sees_it() {
    let app = spawn_app().await;
    let (nora, solbakken, nordlys) =
        (nora(&app).await, school(&app, "Solbakken skole").await, school(&app, "Nordlys oppvekstsenter").await);
    let mut kari = app.sign_in_as("guardian").await;
    let page = app.get(&mut kari, "/intake").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Nora Nordmann"));
    assert!(page.body.contains("Solbakken skole"), "the district's school");
    assert_eq!(request(&app, nora).await, Some((nordlys, "after_school_care".to_owned(), None)));
    let home = app.get(&mut kari, "/").await;
    assert!(home.html().select_attrs("a", "href").contains(&"/intake".to_owned()), "Min side links to it");

    // Refused, with the message by the field, what was typed kept, and nothing changed.
    let nid = nora.to_string();
    let (sol, nor) = (solbakken.to_string(), nordlys.to_string());
    for (school, reason, field) in [
        ("", "siblings", "school"),
        (sol.as_str(), "siblings", "school"),
        ("not-a-school", "siblings", "school"),
        (nor.as_str(), "", "reason"),
        (nor.as_str(), "she has asthma", "reason"),
    ] {
        let res = app
            .post_form(
                &mut kari,
                "/intake",
                &[("child", &nid), ("school", school), ("reason", reason), ("action", "ask")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{school:?} {reason:?}");
        let html = res.html();
        let id = format!("#{field}-{nora}");
        assert_eq!(html.select_first_attr(&id, "aria-invalid").as_deref(), Some("true"), "{field}");
        assert!(!res.body.contains("asthma"), "a free-text reason is never echoed");
        assert_eq!(request(&app, nora).await.map(|r| r.1), Some("after_school_care".to_owned()), "unchanged");
    }
    let res = app
        .post_form(
            &mut kari,
            "/intake",
            &[("child", &nid), ("school", &nor), ("reason", "siblings"), ("action", "ask")],
        )
        .await;
    assert_redirects_to(&res, "/intake?done=asked");
    assert_eq!(request(&app, nora).await, Some((nordlys, "siblings".to_owned(), None)));

    // Solbakken's clerk sees Nora starting there, with her request elsewhere, and may
    // not decide; Nordlys' department head decides.
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/schools/{solbakken}/intake")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Nordmann, Nora"));
    assert_eq!(page.html().count("select[name=decision]"), 0, "the clerk has no decision to make here");
    let decide = format!("/schools/{nordlys}/intake/decide");
    let res = app.post_form(&mut clerk, &decide, &[("child", &nid), ("decision", "granted")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "not Nordlys' office");
    let mut head = app.sign_in_as("department_head").await;
    let page = app.get(&mut head, &format!("/schools/{nordlys}/intake")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html().select_first_attr(&format!("#decision-{nora}"), "name").is_some(), "a form to decide");
    for bad in ["", "refused:bogus", "refused", "maybe"] {
        let res = app.post_form(&mut head, &decide, &[("child", &nid), ("decision", bad)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert_eq!(res.html().select_first_attr(&format!("#decision-{nora}"), "aria-invalid").as_deref(), Some("true"));
        assert_eq!(request(&app, nora).await.and_then(|r| r.2), None, "undecided");
    }
    let res = app.post_form(&mut head, &decide, &[("child", &nid), ("decision", "refused:school_full")]).await;
    assert_redirects_to(&res, &format!("/schools/{nordlys}/intake?done=decided"));
    assert_eq!(request(&app, nora).await.and_then(|r| r.2).as_deref(), Some("refused"));
    assert!(app.audit_count("update", nora).await >= 1, "the decision is audited");

    // Kari sees the refusal and how to appeal, and cannot change a decided request.
    let page = app.get(&mut kari, "/intake").await;
    assert!(page.body.contains("avslått") || page.body.contains("refused"), "the decision");
    assert!(page.body.contains("Statsforvalteren"), "how to appeal");
    assert_eq!(page.html().count("select[name=school]"), 0, "no form after the decision");
    for action in ["ask", "withdraw"] {
        let res = app
            .post_form(
                &mut kari,
                "/intake",
                &[("child", &nid), ("school", &nor), ("reason", "other"), ("action", action)],
            )
            .await;
        assert_redirects_to(&res, "/intake");
    }
    assert_eq!(request(&app, nora).await.and_then(|r| r.2).as_deref(), Some("refused"), "a decision stays");
}

#[tokio::test]
async fn a_request_may_be_withdrawn_and_a_granted_one_moves_the_child() {
    let app = spawn_app().await;
    let (nora, solbakken, nordlys) =
        (nora(&app).await, school(&app, "Solbakken skole").await, school(&app, "Nordlys oppvekstsenter").await);
    let nid = nora.to_string();
    let mut head = app.sign_in_as("department_head").await;
    let res = app
        .post_form(&mut head, &format!("/schools/{nordlys}/intake/decide"), &[("child", &nid), ("decision", "granted")])
        .await;
    assert_redirects_to(&res, &format!("/schools/{nordlys}/intake?done=decided"));
    let page = app.get(&mut head, &format!("/schools/{nordlys}/intake")).await;
    let starting = page.html().select_texts("table tbody th");
    assert!(starting.iter().any(|t| t.contains("Nordmann, Nora")), "she starts at Nordlys: {starting:?}");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/schools/{solbakken}/intake")).await;
    assert!(!page.html().select_texts("table tbody th").iter().any(|t| t.contains("Nora")), "not at Solbakken");

    // Another child's request: asked, then withdrawn (nothing left).
    sqlx::query("DELETE FROM intake_requests WHERE child_id = $1").bind(nora).execute(&app.owner).await.unwrap();
    let mut kari = app.sign_in_as("guardian").await;
    let nor = nordlys.to_string();
    let res = app
        .post_form(
            &mut kari,
            "/intake",
            &[("child", &nid), ("school", &nor), ("reason", "child_needs"), ("action", "ask")],
        )
        .await;
    assert_redirects_to(&res, "/intake?done=asked");
    assert!(request(&app, nora).await.is_some());
    let res = app.post_form(&mut kari, "/intake", &[("child", &nid), ("action", "withdraw")]).await;
    assert_redirects_to(&res, "/intake?done=withdrawn");
    assert_eq!(request(&app, nora).await, None);
}

#[tokio::test]
async fn only_parents_with_parental_responsibility_see_a_starter_and_the_register_decides_it() {
    let app = spawn_app().await;
    let nora = nora(&app).await;
    // Staff have no Min side intake.
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, "/intake").await.status, StatusCode::NOT_FOUND);

    // Kari may not ask for a child who is not hers.
    let other: Uuid = sqlx::query_scalar(
        "SELECT c.id FROM register_parents rp JOIN persons c ON c.id = rp.child_id \
         WHERE c.id <> $1 AND c.birth_date >= make_date(tavle_intake_year() - 6, 1, 1) LIMIT 1",
    )
    .bind(nora)
    .fetch_one(&app.owner)
    .await
    .expect("another starter");
    let mut kari = app.sign_in_as("guardian").await;
    let nordlys = school(&app, "Nordlys oppvekstsenter").await.to_string();
    let res = app
        .post_form(
            &mut kari,
            "/intake",
            &[("child", &other.to_string()), ("school", &nordlys), ("reason", "other"), ("action", "ask")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(request(&app, other).await, None);

    // The register moves Nora's parental responsibility to her father alone: Kari's next
    // request shows no intake; the same file again changes nothing.
    let (number, ola, kari_nid): (String, String, String) = sqlx::query_as(
        "SELECT c.national_id, o.national_id, k.national_id FROM persons c, persons o, persons k \
         WHERE c.id = $1 AND o.given_name = 'Ola' AND o.family_name = 'Nordmann' \
           AND k.given_name = 'Kari' AND k.family_name = 'Nordmann'",
    )
    .bind(nora)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let line = serde_json::json!({
        "foedselsEllerDNummer": number, "fornavn": "Nora", "etternavn": "Nordmann",
        "foedselsdato": sqlx::query_scalar::<_, time::Date>("SELECT birth_date FROM persons WHERE id = $1")
            .bind(nora).fetch_one(&app.owner).await.unwrap().to_string(),
        "familierelasjon": [{"relatertPerson": kari_nid, "relatertPersonsRolle": "mor"},
                            {"relatertPerson": ola, "relatertPersonsRolle": "far"}],
        "foreldreansvar": [{"ansvar": "far"}],
    })
    .to_string();
    let import = || tavle::folkeregister::import(&app.owner, "fjordvik", line.as_bytes(), Default::default());
    import().await.expect("imports");
    let epoch = || async {
        sqlx::query_scalar::<_, i64>("SELECT epoch FROM access_epochs").fetch_one(&app.owner).await.unwrap()
    };
    let after_first = epoch().await;
    assert_eq!(app.get(&mut kari, "/intake").await.status, StatusCode::NOT_FOUND, "no responsibility, no intake");
    import().await.expect("imports again");
    assert_eq!(epoch().await, after_first, "a second run changes no access");
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT p.given_name, rp.parental_responsibility FROM register_parents rp JOIN persons p ON p.id = rp.parent_id \
         WHERE rp.child_id = $1 ORDER BY p.given_name",
    )
    .bind(nora)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(rows, vec![("Kari".to_owned(), false), ("Ola".to_owned(), true)]);
}

#[tokio::test]
async fn a_leader_places_a_child_no_district_can_and_the_clerk_may_not() {
    let app = spawn_app().await;
    let nordlys = school(&app, "Nordlys oppvekstsenter").await;
    let solbakken = school(&app, "Solbakken skole").await;
    let hidden: Uuid = sqlx::query_scalar(
        "SELECT id FROM persons WHERE address_protection = 'strictly_confidential' \
           AND birth_date >= make_date(tavle_intake_year() - 6, 1, 1) AND birth_date < make_date(tavle_intake_year() - 5, 1, 1)",
    )
    .fetch_one(&app.owner)
    .await
    .expect("the demo's starter at a protected address");
    let (given, family): (String, String) = sqlx::query_as("SELECT given_name, family_name FROM persons WHERE id = $1")
        .bind(hidden)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let name = format!("{family}, {given}");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &format!("/schools/{solbakken}/intake")).await;
    assert!(!page.body.contains(&name), "the clerk does not see children without a district");
    let res = app
        .post_form(&mut clerk, &format!("/schools/{solbakken}/intake/place"), &[("child", &hidden.to_string())])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let mut head = app.sign_in_as("department_head").await;
    let path = format!("/schools/{nordlys}/intake");
    assert!(app.get(&mut head, &path).await.body.contains(&name), "a leader sees them");
    let res = app.post_form(&mut head, &format!("{path}/place"), &[("child", &hidden.to_string())]).await;
    assert_redirects_to(&res, &format!("{path}?done=placed"));
    let placed: Option<Uuid> = sqlx::query_scalar("SELECT school_id FROM intake_placements WHERE child_id = $1")
        .bind(hidden)
        .fetch_optional(&app.owner)
        .await
        .unwrap();
    assert_eq!(placed, Some(nordlys));
    let page = app.get(&mut head, &path).await;
    assert!(page.html().select_texts("table tbody th").iter().any(|t| t == &name), "now starting at Nordlys");
}

#[tokio::test]
async fn a_district_file_replaces_the_districts_whole_or_not_at_all() {
    use tavle::districts::{import, ImportError, ImportOptions};
    let app = spawn_app().await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM school_districts").fetch_one(&app.owner).await.unwrap()
    };
    let before = count().await;
    assert!(before > 0, "the demo has districts");
    let orgs: Vec<(String, i16)> =
        sqlx::query_as("SELECT org_number, first_grade FROM schools s JOIN tenants t ON t.id = s.tenant_id AND t.slug = 'fjordvik' ORDER BY s.name")
            .fetch_all(&app.owner)
            .await
            .unwrap();
    let primary = orgs.iter().find(|o| o.1 == 1).map(|o| o.0.clone()).unwrap();
    let secondary = orgs.iter().find(|o| o.1 > 1).map(|o| o.0.clone()).unwrap();
    let bad = format!("postnummer;gate;skole\n9999;Storgata;{primary}\n9998;;{secondary}\n9997;;123456789\n");
    match import(&app.owner, "fjordvik", bad.as_bytes(), ImportOptions::default()).await {
        Err(ImportError::Invalid(problems)) => {
            let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
            assert_eq!(lines, vec![3, 4], "{problems:?}");
        }
        other => panic!("expected line problems, got {other:?}"),
    }
    assert_eq!(count().await, before, "nothing changed");
    let good = format!("postnummer;gate;skole\n9999;Storgata;{primary}\n9998;;{primary}\n");
    let report = import(&app.owner, "fjordvik", good.as_bytes(), ImportOptions::default()).await.expect("imports");
    assert!(report.changed);
    assert_eq!(count().await, 2);
    let again = import(&app.owner, "fjordvik", good.as_bytes(), ImportOptions::default()).await.expect("imports");
    assert!(!again.changed, "the same file changes nothing");
}

#[tokio::test]
async fn the_office_enrols_its_starters_in_grade_1_with_their_register_parents_as_guardians() {
    let app = spawn_app().await;
    let (nora, solbakken) = (nora(&app).await, school(&app, "Solbakken skole").await);
    let enrolled = || async {
        sqlx::query_as::<_, (Uuid, i16, time::Date)>(
            "SELECT e.pupil_id, e.grade_level, e.from_date FROM enrolments e JOIN persons p ON p.id = e.pupil_id \
             WHERE e.school_id = $1 AND p.birth_date >= make_date(tavle_intake_year() - 6, 1, 1) ORDER BY 1",
        )
        .bind(solbakken)
        .fetch_all(&app.owner)
        .await
        .unwrap()
    };
    let path = format!("/schools/{solbakken}/intake");
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, &path).await;
    assert!(page.html().select_first_attr("#confirm", "type").is_some(), "a form to enrol");
    let starting = page.html().select_texts("table tbody th");
    assert!(starting.len() >= 2, "the demo has starters at Solbakken besides Nora: {starting:?}");

    let res = app.post_form(&mut clerk, &format!("{path}/enrol"), &[("confirm", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.html().select_first_attr("#confirm", "aria-invalid").as_deref(), Some("true"));
    assert!(enrolled().await.is_empty(), "nothing enrolled");

    let res = app.post_form(&mut clerk, &format!("{path}/enrol"), &[("confirm", "yes")]).await;
    assert_redirects_to(&res, &format!("{path}?done=enrolled"));
    let rows = enrolled().await;
    assert_eq!(rows.len(), starting.len() - 1, "all but Nora, whose request waits: {rows:?}");
    assert!(rows.iter().all(|r| r.0 != nora && r.1 == 1), "grade 1, not Nora");
    let start: time::Date = sqlx::query_scalar(
        "SELECT starts FROM school_years WHERE starts >= make_date(tavle_intake_year(), 1, 1) ORDER BY starts LIMIT 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(rows.iter().all(|r| r.2 == start), "from the first day of their school year");
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let without: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM unnest($1::uuid[]) AS c WHERE NOT EXISTS \
           (SELECT 1 FROM guardianships g JOIN register_parents rp ON rp.child_id = g.pupil_id AND rp.parent_id = g.guardian_id \
            WHERE g.pupil_id = c AND g.parental_responsibility AND rp.parental_responsibility)",
    )
    .bind(&ids)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(without, 0, "each has the register's parent as guardian");
    assert!(app.audit_count("create", ids[0]).await >= 1, "audited");

    // A second time enrols nobody twice; the page says they are enrolled.
    let res = app.post_form(&mut clerk, &format!("{path}/enrol"), &[("confirm", "yes")]).await;
    assert_redirects_to(&res, &format!("{path}?done=enrolled"));
    assert_eq!(enrolled().await.len(), rows.len());
    let page = app.get(&mut clerk, &path).await;
    assert!(page.html().select_first_attr("#confirm", "type").is_none(), "nobody left to enrol");
    assert!(page.html().select_texts("table tbody th").len() == starting.len(), "still listed, as enrolled");
}
