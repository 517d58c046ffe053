//! The role mapping as the system administrator meets it: the table, adding,
//! changing and removing a mapping (each audited, whole or nothing), validation by
//! the field, the guard against locking oneself out, and the effect on the very next
//! request of the people the mapping concerns.

use axum::http::StatusCode;

use crate::helpers::{assert_redirects_to, spawn_app, Browser, TestApp};
use tavle::domain::role::DEFAULT_ROLE_MAPPINGS;

const PAGE: &str = "/admin/role-mappings";

async fn mapping(app: &TestApp, kind: &str, code: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT m.role FROM role_mappings m JOIN tenants t ON t.id = m.tenant_id \
         WHERE t.slug = 'fjordvik' AND m.workplace_kind = $1 AND m.position_code = $2",
    )
    .bind(kind)
    .bind(code)
    .fetch_optional(&app.owner)
    .await
    .unwrap()
}

async fn changes(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT action, actor_role, purpose FROM audit_events WHERE resource = 'role_mapping' ORDER BY seq")
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

async fn all_mappings(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT tenant_id::text, workplace_kind || position_code, role FROM role_mappings ORDER BY 1, 2")
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_administrator_sees_the_mapping_of_the_municipality() {
    let app = spawn_app().await;
    let mut admin = app.sign_in_as("system_admin").await;
    let res = app.get(&mut admin, PAGE).await;
    assert_eq!(res.status, StatusCode::OK);
    let page = res.html();
    assert_eq!(page.count("#mappings tbody tr"), DEFAULT_ROLE_MAPPINGS.len(), "Fjordvik's own mapping only");
    assert_eq!(
        page.select_texts("tr[data-kind=school][data-code='7065'] td[data-role]"),
        vec!["skolekonsulent".to_owned()]
    );
    assert_eq!(page.count("nav a[href='/admin/role-mappings'][aria-current=page]"), 1);
    // Every remove button is in a form with the CSRF token.
    assert_eq!(page.count("form[action^='/admin/role-mappings/remove'] input[name=csrf]"), DEFAULT_ROLE_MAPPINGS.len());
    // "Change" fills the form.
    let res = app.get(&mut admin, &format!("{PAGE}?kind=school&code=7065")).await;
    let page = res.html();
    assert_eq!(page.select_first_attr("#code", "value").as_deref(), Some("7065"));
    assert_eq!(page.select_first_attr("#role option[selected]", "value").as_deref(), Some("office_clerk"));
    assert_eq!(page.select_first_attr("#kind option[selected]", "value").as_deref(), Some("school"));
}

#[tokio::test]
async fn adding_changing_and_removing_a_mapping_is_audited() {
    let app = spawn_app().await;
    let mut admin = app.sign_in_as("system_admin").await;
    app.get(&mut admin, PAGE).await;

    let res = app.post_form(&mut admin, PAGE, &[("kind", "school"), ("code", "7958"), ("role", "teacher")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=created");
    assert_eq!(mapping(&app, "school", "7958").await.as_deref(), Some("teacher"));
    let page = app.get(&mut admin, res.location.as_deref().unwrap()).await.html();
    assert_eq!(page.select_texts("#status"), vec!["Tilordningen er lagt til.".to_owned()]);
    assert_eq!(page.select_texts("tr[data-code='7958'] td[data-role]"), vec!["lærer".to_owned()]);

    let res = app.post_form(&mut admin, PAGE, &[("kind", "school"), ("code", "7958"), ("role", "sfo_staff")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=updated");
    assert_eq!(mapping(&app, "school", "7958").await.as_deref(), Some("sfo_staff"));
    // The same again changes nothing and records nothing.
    let res = app.post_form(&mut admin, PAGE, &[("kind", "school"), ("code", "7958"), ("role", "sfo_staff")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=unchanged");

    let res = app.post_form(&mut admin, &format!("{PAGE}/remove"), &[("kind", "school"), ("code", "7958")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=removed");
    assert_eq!(mapping(&app, "school", "7958").await, None);
    // Removing it twice: it changed in the meantime.
    let res = app.post_form(&mut admin, &format!("{PAGE}/remove"), &[("kind", "school"), ("code", "7958")]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);

    let sa = ("system_admin".to_owned(), "system_administration".to_owned());
    let expected: Vec<(String, String, String)> =
        ["create", "update", "delete"].iter().map(|a| ((*a).to_owned(), sa.0.clone(), sa.1.clone())).collect();
    assert_eq!(changes(&app).await, expected);
    // The chain still verifies with the new events in it.
    let tenant = app.tenant_id("fjordvik").await;
    assert!(tavle::audit::verify::verify(&app.owner, tenant).await.unwrap().is_ok());
}

#[tokio::test]
async fn bad_input_gets_messages_by_the_fields_and_changes_nothing() {
    let app = spawn_app().await;
    let mut admin = app.sign_in_as("system_admin").await;
    app.get(&mut admin, PAGE).await;
    let before = all_mappings(&app).await;
    let res = app.post_form(&mut admin, PAGE, &[("kind", "hospital"), ("code", "70a5"), ("role", "janitor")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.html();
    assert_eq!(page.select_texts("#kind-err"), vec!["Velg et arbeidssted fra listen.".to_owned()]);
    assert_eq!(page.select_texts("#code-err"), vec!["Stillingskoden må være fire siffer.".to_owned()]);
    assert_eq!(page.select_texts("#role-err"), vec!["Velg en rolle fra listen.".to_owned()]);
    assert_eq!(page.select_first_attr("#code", "aria-describedby").as_deref(), Some("code-err code-desc"));
    assert_eq!(page.select_first_attr("#role", "aria-invalid").as_deref(), Some("true"));
    for field in ["kind", "code", "role"] {
        assert_eq!(page.count(&format!(".ds-error-summary a[href='#{field}']")), 1, "{field}");
    }
    assert_eq!(page.select_first_attr("#code", "value").as_deref(), Some("70a5"), "kept as typed");
    assert!(page.select_texts("title").join("").starts_with("Feil:"));

    // A school role at a municipal unit grants nothing, so it is refused; in English.
    app.get(&mut admin, "/language?lang=en&next=/").await;
    let res = app.post_form(&mut admin, PAGE, &[("kind", "municipal"), ("code", "7065"), ("role", "teacher")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.html();
    assert_eq!(
        page.select_texts("#role-err"),
        vec!["This role is held at a school: choose workplace school.".to_owned()]
    );
    assert_eq!(page.count("#kind-err, #code-err"), 0);

    assert_eq!(all_mappings(&app).await, before);
    assert!(changes(&app).await.is_empty());
}

#[tokio::test]
async fn an_administrator_cannot_remove_their_own_access() {
    let app = spawn_app().await;
    let mut admin = app.sign_in_as("system_admin").await;
    app.get(&mut admin, PAGE).await;
    let res = app.post_form(&mut admin, &format!("{PAGE}/remove"), &[("kind", "municipal"), ("code", "7070")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.html();
    assert_eq!(page.count(".ds-error-summary a[href='#remove-municipal-7070']"), 1);
    assert_eq!(
        page.select_first_attr("#remove-municipal-7070", "aria-describedby").as_deref(),
        Some("remove-municipal-7070-err")
    );
    let res = app.post_form(&mut admin, PAGE, &[("kind", "municipal"), ("code", "7070"), ("role", "it_support")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.html().count("#role-err"), 1);
    assert_eq!(mapping(&app, "municipal", "7070").await.as_deref(), Some("system_admin"));
    assert!(changes(&app).await.is_empty());
    assert_eq!(app.get(&mut admin, PAGE).await.status, StatusCode::OK, "still an administrator");
}

/// Roles are derived on every request: a change to the mapping reaches the office
/// clerk (position code 7065 at Solbakken skole) at their next page view.
#[tokio::test]
async fn a_change_takes_effect_on_the_next_request() {
    let app = spawn_app().await;
    let pupil = app.pupil_at("Solbakken skole").await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, "/pupils").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&mut clerk, &format!("/pupils/{pupil}")).await.html().count("#guardians"), 1);

    let mut admin = app.sign_in_as("system_admin").await;
    app.get(&mut admin, PAGE).await;
    // 7065 now means teacher: the clerk's next card no longer shows the family.
    let res = app.post_form(&mut admin, PAGE, &[("kind", "school"), ("code", "7065"), ("role", "teacher")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=updated");
    let card = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert_eq!(card.html().count("#guardians"), 0);

    // Without a mapping for 7065 the clerk has no role at all: the session ends at the
    // next request, and signing in again is refused.
    let res = app.post_form(&mut admin, &format!("{PAGE}/remove"), &[("kind", "school"), ("code", "7065")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=removed");
    let res = app.get(&mut clerk, "/pupils").await;
    assert_redirects_to(&res, "/sign-in");
    let res = app.get(&mut clerk, &format!("/pupils/{pupil}")).await;
    assert_redirects_to(&res, "/sign-in");
    let mut again = Browser::default();
    app.get(&mut again, "/sign-in").await;
    let res = app.post_form(&mut again, "/sign-in/demo", &[("persona", "office_clerk")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Småøy's mapping is its own: its clerk (also 7065) is unaffected.
    let mut smaoy = app.sign_in_as("smaoy_office_clerk").await;
    assert_eq!(app.get(&mut smaoy, "/pupils").await.status, StatusCode::SEE_OTHER);

    // Restored: access is back.
    let res = app.post_form(&mut admin, PAGE, &[("kind", "school"), ("code", "7065"), ("role", "office_clerk")]).await;
    assert_redirects_to(&res, "/admin/role-mappings?status=created");
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, "/pupils").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&mut clerk, &format!("/pupils/{pupil}")).await.html().count("#guardians"), 1);
}

#[tokio::test]
async fn no_one_but_the_system_administrator_may_see_or_change_the_mapping() {
    let app = spawn_app().await;
    let before = all_mappings(&app).await;
    for persona in ["office_clerk", "teacher", "principal", "it_support", "dpo", "guardian", "pupil"] {
        let mut b = app.sign_in_as(persona).await;
        assert_eq!(app.get(&mut b, PAGE).await.status, StatusCode::NOT_FOUND, "{persona}");
        let res = app.post_form(&mut b, PAGE, &[("kind", "school"), ("code", "7065"), ("role", "principal")]).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{persona}");
        let res = app.post_form(&mut b, &format!("{PAGE}/remove"), &[("kind", "school"), ("code", "7065")]).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{persona}");
        let home = app.get(&mut b, "/").await.html();
        assert_eq!(home.count("a[href='/admin/role-mappings']"), 0, "{persona}");
    }
    // A forged post from the administrator's browser without the token.
    let mut admin = app.sign_in_as("system_admin").await;
    admin.csrf = "0".repeat(64);
    let res = app.post_form(&mut admin, &format!("{PAGE}/remove"), &[("kind", "school"), ("code", "7065")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(all_mappings(&app).await, before);
    assert!(changes(&app).await.is_empty());
}
