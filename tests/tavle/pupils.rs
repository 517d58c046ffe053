//! The office's pupil register as its users meet it: the list, the search, the card,
//! and what each role may and may not see of it.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{assert_redirects_to, spawn_app, Browser, TestApp};

async fn school_id(app: &TestApp, name: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM schools WHERE name = $1").bind(name).fetch_one(&app.owner).await.unwrap()
}

async fn name_of(app: &TestApp, person: Uuid) -> (String, String) {
    sqlx::query_as("SELECT given_name, family_name FROM persons WHERE id = $1")
        .bind(person)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

async fn national_id_of(app: &TestApp, person: Uuid) -> String {
    sqlx::query_scalar("SELECT national_id FROM persons WHERE id = $1")
        .bind(person)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn office_clerk_finds_a_pupil_by_name_and_opens_the_card() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let solbakken = school_id(&app, "Solbakken skole").await;

    let res = app.get(&mut clerk, "/pupils").await;
    assert_redirects_to(&res, &format!("/schools/{solbakken}/pupils"));
    let list = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils")).await;
    assert_eq!(list.status, StatusCode::OK);
    let page = list.html();
    assert_eq!(page.count("table tbody tr"), 50, "first page holds 50 pupils");
    // The search form never puts a name in a URL.
    assert_eq!(page.select_first_attr("form[role=search]", "method").as_deref(), Some("post"));

    let pupil = app.pupil_at("Solbakken skole").await;
    let (given, family) = name_of(&app, pupil).await;
    let found = app.post_form(&mut clerk, &format!("/schools/{solbakken}/pupils"), &[("q", family.as_str())]).await;
    assert_eq!(found.status, StatusCode::OK);
    let links = found.html().select_attrs("table tbody a", "href");
    assert!(links.contains(&format!("/pupils/{pupil}")), "{family} not found");
    assert_eq!(found.html().select_first_attr("#q", "value").as_deref(), Some(family.as_str()));

    let card = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, StatusCode::OK);
    let html = card.html();
    assert_eq!(html.select_texts("h1"), vec![format!("{given} {family}")]);
    let nid = national_id_of(&app, pupil).await;
    let shown = html.select_texts("#national-id").join("");
    assert_eq!(shown, format!("{} *****", &nid[..6]), "national id masked");
    assert!(!card.body.contains(&nid), "the full national id must not be in the page");
    assert!(html.count("#guardians") == 1, "office sees guardians");
    // Reading the list and the card were both logged with the pupil as subject.
    assert!(app.audit_count("read", pupil).await >= 2);
    assert_eq!(card.headers.get("cache-control").unwrap(), "no-store");
}

/// Names are stored in Unicode NFC; an å typed as a + combining ring (as some
/// keyboards and pasted text send it) finds the same pupils as the composed å.
#[tokio::test]
async fn a_search_with_a_combining_ring_finds_the_names_with_a_ring() {
    let app = spawn_app().await;
    let clerk = app.sign_in_as("office_clerk").await;
    let solbakken = school_id(&app, "Solbakken skole").await;
    let (pupil, family): (Uuid, String) = sqlx::query_as(
        "SELECT p.id, p.family_name FROM enrolments e JOIN persons p ON p.tenant_id = e.tenant_id AND p.id = e.pupil_id \
         WHERE e.school_id = $1 AND e.to_date IS NULL AND p.family_name ~ '[åÅ]' ORDER BY p.id LIMIT 1",
    )
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let decomposed = family.replace('å', "a\u{30a}").replace('Å', "A\u{30a}");
    assert_ne!(decomposed, family);
    let search = |q: String| {
        let (app, mut clerk) = (&app, clerk.clone());
        async move {
            let res = app.post_form(&mut clerk, &format!("/schools/{solbakken}/pupils"), &[("q", q.as_str())]).await;
            assert_eq!(res.status, StatusCode::OK);
            res.html().select_attrs("table tbody a", "href")
        }
    };
    let composed = search(family.clone()).await;
    assert!(composed.contains(&format!("/pupils/{pupil}")), "the composed spelling finds the pupil");
    assert_eq!(search(decomposed).await, composed, "the decomposed spelling finds the same pupils");
    // And a part of a name: the ring alone after an a.
    assert!(search("a\u{30a}".to_owned()).await.contains(&format!("/pupils/{pupil}")));
}

#[tokio::test]
async fn revealing_a_national_id_is_explicit_and_audited() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let nid = national_id_of(&app, pupil).await;
    app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_eq!(app.audit_count("reveal_national_id", pupil).await, 0);
    // Without a reason (or with one that is not on the list): the card again, the
    // field marked, the number masked, nothing revealed.
    for reason in ["", "curiosity"] {
        let res = app.post_form(&mut clerk, &format!("/pupils/{pupil}/national-id"), &[("reason", reason)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{reason:?}");
        assert_eq!(res.html().select_first_attr("#reason", "aria-invalid").as_deref(), Some("true"));
        assert!(!res.body.contains(&nid));
    }
    assert_eq!(app.audit_count("reveal_national_id", pupil).await, 0);
    let res = app
        .post_form(&mut clerk, &format!("/pupils/{pupil}/national-id"), &[("reason", "external_registration")])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.html().select_texts("#national-id").join(""), nid);
    assert_eq!(app.audit_count("reveal_national_id", pupil).await, 1);
    // The reason is the event's purpose.
    let purpose: String = sqlx::query_scalar(
        "SELECT purpose FROM audit_events WHERE action = 'reveal_national_id' AND $1 = ANY(subject_ids)",
    )
    .bind(pupil)
    .fetch_one(&app.owner)
    .await
    .expect("the event");
    assert_eq!(purpose, "external_registration");

    // A teacher may not.
    let mut teacher = app.sign_in_as("teacher").await;
    let res =
        app.post_form(&mut teacher, &format!("/pupils/{pupil}/national-id"), &[("reason", "identity_check")]).await;
    assert!(matches!(res.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", res.status);
    assert!(!res.body.contains(&nid));
    assert_eq!(app.audit_count("reveal_national_id", pupil).await, 1);
}

#[tokio::test]
async fn a_protected_address_is_never_rendered() {
    let app = spawn_app().await;
    let protected: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT p.id, p.street_address FROM persons p JOIN pupils u ON u.tenant_id = p.tenant_id AND u.person_id = p.id \
         JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = 'fjordvik' AND p.address_protection <> 'none'",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(!protected.is_empty(), "the demo has children with protected addresses");
    assert!(protected.iter().any(|(_, street)| street.is_some()), "some protected addresses are stored (confidential)");
    // The municipal director may read every record in full, and still never sees one.
    let mut director = app.sign_in_as("municipal_director").await;
    for (pupil, street) in protected {
        let card = app.get(&mut director, &format!("/pupils/{pupil}")).await;
        assert_eq!(card.status, StatusCode::OK);
        assert_eq!(card.html().count("#address-protected"), 1);
        if let Some(street) = street {
            assert!(!card.body.contains(&street), "protected street address rendered");
        }
    }
}

#[tokio::test]
async fn bad_filter_input_gets_a_message_by_the_field_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let solbakken = school_id(&app, "Solbakken skole").await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&app.owner).await.unwrap();
    let res = app
        .post_form(
            &mut clerk,
            &format!("/schools/{solbakken}/pupils"),
            &[("q", "Ås"), ("grade", "9"), ("class", "not-a-class")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.html();
    assert_eq!(page.select_texts("#grade-err"), vec!["Velg et trinn skolen har.".to_owned()]);
    assert_eq!(page.select_texts("#class-err"), vec!["Velg en klasse fra listen.".to_owned()]);
    assert_eq!(page.select_first_attr("#grade", "aria-describedby").as_deref(), Some("grade-err"));
    assert_eq!(page.count(".ds-error-summary a[href='#grade']"), 1);
    assert_eq!(page.select_first_attr("#q", "value").as_deref(), Some("Ås"));
    assert_eq!(page.count("table"), 0, "no results for a rejected filter");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&app.owner).await.unwrap();
    assert_eq!(before, after, "nothing searched, nothing logged");

    // An over-long name.
    let long = "x".repeat(101);
    let res = app.post_form(&mut clerk, &format!("/schools/{solbakken}/pupils"), &[("q", long.as_str())]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.html().count("#q-err"), 1);
}

#[tokio::test]
async fn filters_by_class_and_grade_and_pages() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let solbakken = school_id(&app, "Solbakken skole").await;
    let list = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils?grade=3")).await;
    assert_eq!(list.status, StatusCode::OK);
    let grades = list.html().select_texts("table tbody td.tavle-num");
    assert!(!grades.is_empty());
    assert!(grades.iter().all(|g| g == "3"), "{grades:?}");

    let class: (Uuid, String) = sqlx::query_as(
        "SELECT g.id, g.name FROM groups g WHERE g.school_id = $1 AND g.kind = 'base' ORDER BY g.name LIMIT 1",
    )
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let list = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils?class={}", class.0)).await;
    let classes: Vec<String> = list.html().select_texts("table tbody td:nth-child(2)");
    assert!(!classes.is_empty());
    assert!(classes.iter().all(|c| *c == class.1), "{classes:?}");

    let page2 = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils?page=2")).await;
    let first = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils")).await;
    let a = first.html().select_attrs("table tbody a", "href");
    let b = page2.html().select_attrs("table tbody a", "href");
    assert!(!b.is_empty());
    assert!(a.iter().all(|x| !b.contains(x)), "pages overlap");
}

#[tokio::test]
async fn staff_of_another_school_or_municipality_get_not_found() {
    let app = spawn_app().await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let solbakken = school_id(&app, "Solbakken skole").await;
    // The principal of the lower secondary school has no business at Solbakken.
    let mut principal = app.sign_in_as("principal").await;
    let res = app.get(&mut principal, &format!("/pupils/{pupil}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.get(&mut principal, &format!("/schools/{solbakken}/pupils")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Another municipality entirely: the same answer as for an id that does not exist.
    let mut other = app.sign_in_as("smaoy_office_clerk").await;
    let res = app.get(&mut other, &format!("/pupils/{pupil}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let missing = app.get(&mut other, &format!("/pupils/{}", Uuid::new_v4())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(res.html().select_texts("h1"), missing.html().select_texts("h1"));
    let res = app.get(&mut other, &format!("/schools/{solbakken}/pupils")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count("read", pupil).await, 0, "refusals read nothing");
}

#[tokio::test]
async fn a_teacher_sees_a_pupil_but_not_the_family() {
    let app = spawn_app().await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let mut teacher = app.sign_in_as("teacher").await;
    let card = app.get(&mut teacher, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, StatusCode::OK);
    let html = card.html();
    assert_eq!(html.count("#national-id"), 0);
    assert_eq!(html.count("#guardians"), 0);
    assert_eq!(html.count("#groups"), 1);
}

async fn children_of(app: &TestApp, guardian_key: &str) -> (Vec<Uuid>, Browser) {
    let b = app.sign_in_as(guardian_key).await;
    let home = app.get(&mut b.clone(), "/").await;
    let ids = home
        .html()
        .select_attrs("a.ds-card[href^='/pupils/']", "href")
        .into_iter()
        .filter_map(|h| h.strip_prefix("/pupils/").and_then(|id| Uuid::parse_str(id).ok()))
        .collect();
    (ids, b)
}

#[tokio::test]
async fn a_guardian_sees_own_children_and_no_one_else() {
    let app = spawn_app().await;
    let (children, mut guardian) = children_of(&app, "guardian").await;
    assert_eq!(children.len(), 2, "the demo guardian has two children");
    for child in &children {
        let card = app.get(&mut guardian, &format!("/pupils/{child}")).await;
        assert_eq!(card.status, StatusCode::OK);
    }
    // Changing the id in the URL to another family's child (the flaw fined in Norway).
    let other: Uuid = sqlx::query_scalar(
        "SELECT e.pupil_id FROM enrolments e WHERE e.to_date IS NULL AND NOT (e.pupil_id = ANY($1)) LIMIT 1",
    )
    .bind(&children)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let res = app.get(&mut guardian, &format!("/pupils/{other}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.get(&mut guardian, "/pupils").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_guardian_without_parental_responsibility_gets_no_access() {
    let app = spawn_app().await;
    let mut b = Browser::default();
    app.get(&mut b, "/sign-in").await;
    let res = app.post_form(&mut b, "/sign-in/demo", &[("persona", "guardian_no_responsibility")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.iter().any(|(k, _)| k == "tavle-session"));
    assert_eq!(res.html().count("h1"), 1);
}

#[tokio::test]
async fn a_pupil_sees_only_themself() {
    let app = spawn_app().await;
    let mut pupil = app.sign_in_as("pupil").await;
    let home = app.get(&mut pupil, "/").await;
    let own = home.html().select_attrs("a.ds-card[href^='/pupils/']", "href");
    assert_eq!(own.len(), 1);
    let me = app.get(&mut pupil, &own[0]).await;
    assert_eq!(me.status, StatusCode::OK);
    let own_id = Uuid::parse_str(own[0].trim_start_matches("/pupils/")).unwrap();
    let classmate: Uuid = sqlx::query_scalar(
        "SELECT m2.pupil_id FROM group_memberships m JOIN groups g ON g.id = m.group_id AND g.kind = 'base' \
         JOIN group_memberships m2 ON m2.group_id = m.group_id WHERE m.pupil_id = $1 AND m2.pupil_id <> $1 LIMIT 1",
    )
    .bind(own_id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let res = app.get(&mut pupil, &format!("/pupils/{classmate}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

/// The office keeps a pupil's contact persons: bad fields refused by their fields with
/// nothing stored, a correction keeps the earlier values in the history, a removal takes
/// the person off the card and withdraws their pick-up permission; a teacher cannot.
#[tokio::test]
async fn the_office_adds_corrects_and_removes_a_contact_person_and_the_history_keeps_each() {
    let app = spawn_app().await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let path = format!("/pupils/{pupil}/contacts");
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, &path).await.status, StatusCode::OK);
    let count = |sql: &'static str| {
        let owner = app.owner.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).bind(pupil).fetch_one(&owner).await.unwrap() }
    };
    let stored = "SELECT count(*) FROM contact_persons WHERE pupil_id = $1";
    let before = count(stored).await;
    for (fields, field) in [
        ([("relation", "aunt"), ("given_name", "Randi"), ("family_name", "Berg"), ("phone", "")], "relation"),
        ([("relation", "grandparent"), ("given_name", " "), ("family_name", "Berg"), ("phone", "")], "given_name"),
        (
            [("relation", "grandparent"), ("given_name", "Randi"), ("family_name", "B\u{200b}erg"), ("phone", "")],
            "family_name",
        ),
        (
            [("relation", "grandparent"), ("given_name", "Randi"), ("family_name", "Berg"), ("phone", "ring meg")],
            "phone",
        ),
    ] {
        let res = app.post_form(&mut clerk, &path, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = res.html();
        assert_eq!(html.select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"), "{field}");
        assert_eq!(html.select_first_attr("#family_name", "value").as_deref(), Some(fields[2].1), "typed is kept");
    }
    assert_eq!(count(stored).await, before, "nothing stored");

    let added = app
        .post_form(
            &mut clerk,
            &path,
            &[
                ("relation", "grandparent"),
                ("given_name", "Randi"),
                ("family_name", "Berg"),
                ("phone", "+47 912 34 567"),
            ],
        )
        .await;
    assert_redirects_to(&added, &format!("{path}?done=added"));
    let id: Uuid = sqlx::query_scalar("SELECT id FROM contact_persons WHERE pupil_id = $1 AND given_name = 'Randi'")
        .bind(pupil)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let card = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert!(card.body.contains("Randi Berg") && card.body.contains("+47 912 34 567"));

    // Corrected: the history has the values before (created) and after (updated).
    let correct = [("relation", "relative"), ("given_name", "Randi"), ("family_name", "Berg-Hansen"), ("phone", "")];
    assert_redirects_to(
        &app.post_form(&mut clerk, &format!("{path}/{id}"), &correct).await,
        &format!("{path}?done=saved"),
    );
    // The same again writes nothing.
    assert_redirects_to(
        &app.post_form(&mut clerk, &format!("{path}/{id}"), &correct).await,
        &format!("{path}?done=saved"),
    );
    let history: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT change, family_name, phone FROM contact_person_history WHERE contact_person_id = $1 ORDER BY changed_at, change",
    )
    .bind(id)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        history,
        [
            ("created".to_owned(), "Berg".to_owned(), Some("+47 912 34 567".to_owned())),
            ("updated".to_owned(), "Berg-Hansen".to_owned(), None)
        ]
    );

    // Given a pick-up permission, then removed: off the card, the permission withdrawn.
    sqlx::query(
        "INSERT INTO pickup_permissions (tenant_id, pupil_id, contact_person_id, given_by) \
         SELECT tenant_id, pupil_id, id, pupil_id FROM contact_persons WHERE id = $1",
    )
    .bind(id)
    .execute(&app.owner)
    .await
    .unwrap();
    assert_redirects_to(
        &app.post_form(&mut clerk, &format!("{path}/{id}/remove"), &[]).await,
        &format!("{path}?done=removed"),
    );
    assert!(!app.get(&mut clerk, &format!("/pupils/{pupil}")).await.body.contains("Berg-Hansen"));
    let permitted: i64 = sqlx::query_scalar("SELECT count(*) FROM pickup_permissions WHERE contact_person_id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(permitted, 0, "the permission is withdrawn");
    assert_eq!(
        count("SELECT count(*) FROM contact_person_history WHERE pupil_id = $1 AND change = 'removed'").await,
        1
    );
    // Removing twice: nothing there.
    assert_eq!(app.post_form(&mut clerk, &format!("{path}/{id}/remove"), &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        count("SELECT count(*) FROM audit_events WHERE resource = 'contact_persons' AND $1 = ANY(subject_ids) AND action <> 'read'").await,
        3
    );

    // A teacher reads the card but keeps no contact persons.
    let mut teacher = app.sign_in_as("teacher").await;
    assert_eq!(app.get(&mut teacher, &path).await.status, StatusCode::NOT_FOUND);
}

/// Siblings (a guardian with parental responsibility for both) on the card: named and
/// linked where the viewer may open their card (and the reading audited for them too),
/// only counted where not.
#[tokio::test]
async fn the_card_names_the_siblings_the_viewer_may_open_and_counts_the_others() {
    let app = spawn_app().await;
    let oskar: Uuid = sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let mut clerk = app.sign_in_as("office_clerk").await;
    // Emma, his sister, is at the lower secondary school: the Solbakken office only
    // learns that there is one more.
    let card = app.get(&mut clerk, &format!("/pupils/{oskar}")).await;
    let section = card.html().select_texts("section[aria-labelledby=siblings]").join(" ");
    assert!(section.contains("Ett søsken til") && !section.contains("Emma"), "{section}");

    // A Solbakken pupil with Kari as a guardian with parental responsibility: named, linked.
    let sibling: Uuid = sqlx::query_scalar(
        "INSERT INTO guardianships (tenant_id, pupil_id, guardian_id, parental_responsibility, from_date) \
         SELECT g.tenant_id, e.pupil_id, g.guardian_id, true, '2020-01-01' \
         FROM guardianships g JOIN persons k ON k.id = g.guardian_id AND k.given_name = 'Kari' \
         JOIN enrolments e ON e.tenant_id = g.tenant_id AND e.to_date IS NULL AND e.pupil_id <> g.pupil_id \
         JOIN schools s ON s.id = e.school_id AND s.name = 'Solbakken skole' \
         WHERE g.pupil_id = $1 AND NOT EXISTS (SELECT 1 FROM guardianships x WHERE x.pupil_id = e.pupil_id AND x.guardian_id = g.guardian_id) \
         ORDER BY e.pupil_id LIMIT 1 RETURNING pupil_id",
    )
    .bind(oskar)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let card = app.get(&mut clerk, &format!("/pupils/{oskar}")).await;
    assert_eq!(card.html().count(&format!("section[aria-labelledby=siblings] a[href='/pupils/{sibling}']")), 1);
    assert!(app.audit_count("read", sibling).await >= 1, "the sibling's name was read");
    // The guardian reads the card of her child, but siblings are the school's view.
    let mut kari = app.sign_in_as("guardian").await;
    let res = app.get(&mut kari, &format!("/pupils/{oskar}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.html().count("section[aria-labelledby=siblings]"), 0);
}

/// The office keeps a guardian's phone and e-mail: a bad value is refused by its field
/// with what was typed kept and nothing stored; a good one is saved with the earlier
/// values kept and audited; a guardian of another pupil is not found through this one.
#[tokio::test]
async fn the_office_keeps_a_guardians_contact_details() {
    let app = spawn_app().await;
    let oskar: Uuid = sqlx::query_scalar(
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let ola: Uuid = sqlx::query_scalar(
        "SELECT g.guardian_id FROM guardianships g JOIN persons p ON p.id = g.guardian_id \
         WHERE g.pupil_id = $1 AND p.given_name = 'Ola'",
    )
    .bind(oskar)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let before: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT phone, email FROM persons WHERE id = $1").bind(ola).fetch_one(&app.owner).await.unwrap();
    let mut clerk = app.sign_in_as("office_clerk").await;
    let card = app.get(&mut clerk, &format!("/pupils/{oskar}")).await;
    let path = format!("/pupils/{oskar}/guardians/{ola}");
    assert!(card.html().select_attrs("a", "href").contains(&path), "the card links to it");

    let bad = app.post_form(&mut clerk, &path, &[("phone", "ring meg"), ("email", "ola at home")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["#phone", "#email"] {
        assert_eq!(bad.html().select_first_attr(field, "aria-invalid").as_deref(), Some("true"), "{field}");
    }
    assert_eq!(bad.html().select_first_attr("#email", "value").as_deref(), Some("ola at home"));
    let now: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT phone, email FROM persons WHERE id = $1").bind(ola).fetch_one(&app.owner).await.unwrap();
    assert_eq!(now, before, "nothing stored");

    let ok = app.post_form(&mut clerk, &path, &[("phone", "+47 900 00 001"), ("email", "ola.ny@example.no")]).await;
    assert_redirects_to(&ok, &format!("{path}?done=saved"));
    let now: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT phone, email FROM persons WHERE id = $1").bind(ola).fetch_one(&app.owner).await.unwrap();
    assert_eq!(now, (Some("+47 900 00 001".into()), Some("ola.ny@example.no".into())));
    let kept: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT phone, email FROM person_history WHERE person_id = $1 AND source = 'office'")
            .bind(ola)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(kept, before);
    assert_eq!(app.audit_count("update", ola).await, 1);

    // Through a pupil he is no guardian of, Ola is not found.
    let other: Uuid = sqlx::query_scalar(
        "SELECT e.pupil_id FROM enrolments e JOIN schools s ON s.id = e.school_id WHERE s.name = 'Solbakken skole' \
           AND e.to_date IS NULL AND e.pupil_id <> $1 \
           AND NOT EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = e.pupil_id AND g.guardian_id = $2) LIMIT 1",
    )
    .bind(oskar)
    .bind(ola)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let res = app.get(&mut clerk, &format!("/pupils/{other}/guardians/{ola}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

/// A parent without parental responsibility asks the school for information (barnelova
/// § 47): the office records what was given, or a refusal; a bad form is refused by
/// its fields and records nothing; the parent still has no access to the child.
#[tokio::test]
async fn the_office_records_a_parents_request_for_information() {
    let app = spawn_app().await;
    let tuva: Uuid = sqlx::query_scalar("SELECT id FROM persons WHERE given_name = 'Tuva' AND family_name = 'Berg'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let (geir, _) = app.persona("guardian_no_responsibility").await;
    let (kari, _) = app.persona("guardian").await;
    let path = format!("/pupils/{tuva}/information-requests");
    let mut head = app.sign_in_as("department_head").await;
    let page = app.get(&mut head, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.html().select_attrs("#requester option", "value"), vec![String::new(), geir.to_string()]);

    let today = crate::absence::iso(app.today);
    let kari_id = kari.to_string();
    let geir_id = geir.to_string();
    for (fields, field) in [
        (
            vec![
                ("requester", kari_id.as_str()),
                ("received", today.as_str()),
                ("outcome", "given"),
                ("item_absence", "yes"),
            ],
            "#requester",
        ),
        (vec![("requester", geir_id.as_str()), ("received", today.as_str()), ("outcome", "given")], "#item_assessment"),
        (
            vec![
                ("requester", geir_id.as_str()),
                ("received", today.as_str()),
                ("outcome", "refused"),
                ("item_other", "yes"),
            ],
            "#item_assessment",
        ),
        (vec![("requester", geir_id.as_str()), ("received", "2999-01-01"), ("outcome", "refused")], "#received"),
    ] {
        let res = app.post_form(&mut head, &path, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(res.html().select_first_attr(field, "aria-invalid").as_deref(), Some("true"), "{field}");
    }
    let none: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_requests").fetch_one(&app.owner).await.unwrap();
    assert_eq!(none, 0);

    let ok = app
        .post_form(
            &mut head,
            &path,
            &[
                ("requester", &geir_id),
                ("received", &today),
                ("outcome", "given"),
                ("item_assessment", "yes"),
                ("item_absence", "yes"),
            ],
        )
        .await;
    assert_redirects_to(&ok, &format!("{path}?done=recorded"));
    let stored: (String, Vec<String>) =
        sqlx::query_as("SELECT outcome, items FROM information_requests WHERE requester_id = $1")
            .bind(geir)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(stored, ("given".to_owned(), vec!["assessment".to_owned(), "absence".to_owned()]));
    assert_eq!(app.audit_count("create", geir).await, 1);
    let page = app.get(&mut head, &path).await;
    assert_eq!(page.html().count("tbody tr"), 1);

    // Recording it gave Geir nothing: no guardianship with responsibility, no access epoch moved.
    let responsible: bool = sqlx::query_scalar(
        "SELECT parental_responsibility FROM guardianships WHERE pupil_id = $1 AND guardian_id = $2",
    )
    .bind(tuva)
    .bind(geir)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(!responsible);
}
