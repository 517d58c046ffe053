//! A guardian's phone and e-mail, kept by the school office where the registers have
//! none (issue 18, point 1): the office of a school the pupil attends corrects them for
//! one of the pupil's guardians. The earlier values are kept in `person_history`
//! (source `office`) and every change is audited. KRR's details, when fresh, replace
//! these on its next import (`krr`), and a guardian reserved in KRR gets no e-mail
//! whatever is entered here: the page says so.
//!
//! The same page corrects whether the guardian lives with the pupil (`lives_with`), which
//! the register import sets only when it adds a guardianship. For a child whose address
//! is strictly confidential it decides whether the guardian is told where the child is,
//! so there only the principal may change it (`policy::lives_with_access`); the value
//! before is kept in `guardianship_history` and the change is audited.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::queries;
use crate::audit::{Action, Resource};
use crate::db::Conn;
use crate::domain::text::{email_ok, phone_ok};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Guardian {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub reserved: bool,
    pub lives_with: bool,
    /// The child's address is strictly confidential.
    pub strict: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GuardianContactForm {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(askama::Template)]
#[template(path = "pupils/guardian_contact.html")]
pub struct GuardianContactPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub pupil_name: String,
    pub guardian: Guardian,
    pub form: GuardianContactForm,
    pub errors: FieldErrors,
    pub saved: bool,
    /// Whether this actor may correct `lives_with` (the principal only, for a child
    /// whose address is strictly confidential).
    pub may_set_lives_with: bool,
    /// What was sent for `lives_with`, kept when refused.
    pub lives_with_sent: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LivesWithForm {
    #[serde(default)]
    pub lives_with: String,
}

/// One of the pupil's guardians (a current guardianship, with or without parental
/// responsibility), with whether KRR says they are reserved.
async fn guardian(mut conn: Conn<'_>, pupil: Uuid, guardian: Uuid) -> Result<Option<Guardian>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, p.phone, p.email, coalesce(k.reserved, false) AS reserved, \
           g.lives_with, c.address_protection = 'strictly_confidential' AS strict \
         FROM guardianships g JOIN persons p ON p.tenant_id = g.tenant_id AND p.id = g.guardian_id \
         JOIN persons c ON c.tenant_id = g.tenant_id AND c.id = g.pupil_id \
         LEFT JOIN krr_contacts k ON k.tenant_id = g.tenant_id AND k.person_id = g.guardian_id \
         WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.guardian_id = $3 \
           AND (g.to_date IS NULL OR g.to_date > tavle_today())",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .fetch_optional(&mut *conn)
    .await?)
}

struct Loaded {
    access: ContactPersonsAccess,
    pupil_name: String,
    guardian: Guardian,
    may_set_lives_with: bool,
}

async fn load(work: &mut Work, pupil: &str, guardian_id: &str) -> Result<Loaded> {
    let guardian_id = path_id(guardian_id)?;
    let actor = work.actor();
    let access = policy::contact_persons_access(work.conn(), &actor, path_id(pupil)?).await?;
    let pupil_name = queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let guardian = guardian(work.conn(), access.pupil_id, guardian_id).await?.ok_or(AppError::NotFound)?;
    let may_set_lives_with = policy::lives_with_access(work.conn(), &actor, access.pupil_id).await.is_ok();
    Ok(Loaded { access, pupil_name, guardian, may_set_lives_with })
}

impl GuardianContactPage {
    pub fn lives_with_options(&self) -> Vec<(&'static str, &'static str)> {
        vec![("yes", self.ui.t("guardian_contact.lives_with.yes")), ("no", self.ui.t("guardian_contact.lives_with.no"))]
    }

    fn of(ui: Ui, l: Loaded, form: GuardianContactForm, errors: FieldErrors, saved: bool) -> Self {
        let lives_with_sent = if l.guardian.lives_with { "yes" } else { "no" }.to_owned();
        Self {
            ui,
            pupil_id: l.access.pupil_id,
            pupil_name: l.pupil_name,
            guardian: l.guardian,
            form,
            errors,
            saved,
            may_set_lives_with: l.may_set_lives_with,
            lives_with_sent,
        }
    }
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path((pupil, guardian_id)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
) -> Result<Response> {
    let l = load(&mut work, &pupil, &guardian_id).await?;
    let subjects = [l.access.pupil_id, l.guardian.id];
    work.audit(&l.access, Action::Read, Resource::GuardianContact, Some(l.guardian.id), &subjects).await?;
    work.commit().await?;
    let form = GuardianContactForm {
        phone: l.guardian.phone.clone().unwrap_or_default(),
        email: l.guardian.email.clone().unwrap_or_default(),
    };
    let page = GuardianContactPage::of(ui, l, form, FieldErrors::new(), q.done == "saved");
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn update(
    mut work: Work,
    ui: Ui,
    Path((pupil, guardian_id)): Path<(String, String)>,
    form: std::result::Result<Form<GuardianContactForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &pupil, &guardian_id).await?;
    let phone = form.phone.trim().to_owned();
    let email = form.email.trim().to_owned();
    let mut errors = FieldErrors::new();
    if !phone.is_empty() && !phone_ok(&phone) {
        errors.add("phone", "guardian_contact.error.phone");
    }
    if !email.is_empty() && !email_ok(&email) {
        errors.add("email", "guardian_contact.error.email");
    }
    if errors.any() {
        work.commit().await?;
        let page = GuardianContactPage::of(ui, l, form, errors, false);
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let (phone, email) = (Some(phone).filter(|p| !p.is_empty()), Some(email).filter(|e| !e.is_empty()));
    let (pupil, guardian) = (l.access.pupil_id, l.guardian.id);
    if (&phone, &email) != (&l.guardian.phone, &l.guardian.email) {
        save(work.conn(), guardian, phone.as_deref(), email.as_deref()).await?;
        work.audit(&l.access, Action::Update, Resource::GuardianContact, Some(guardian), &[pupil, guardian]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/guardians/{guardian}?done=saved")).into_response())
}

/// Whether the guardian lives with the pupil: corrected, with the value before kept.
pub async fn set_lives_with(
    mut work: Work,
    ui: Ui,
    Path((pupil, guardian_id)): Path<(String, String)>,
    form: std::result::Result<Form<LivesWithForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let actor = work.actor();
    let access = policy::lives_with_access(work.conn(), &actor, path_id(&pupil)?).await?;
    let l = load(&mut work, &pupil, &guardian_id).await?;
    let lives_with = match form.lives_with.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            work.commit().await?;
            let mut errors = FieldErrors::new();
            errors.add("lives_with", "guardian_contact.error.lives_with");
            errors.at_first_radio("lives_with", Some("yes"));
            let contact = GuardianContactForm {
                phone: l.guardian.phone.clone().unwrap_or_default(),
                email: l.guardian.email.clone().unwrap_or_default(),
            };
            let mut page = GuardianContactPage::of(ui, l, contact, errors, false);
            page.lives_with_sent = form.lives_with;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let (pupil, guardian) = (access.pupil_id, l.guardian.id);
    if lives_with != l.guardian.lives_with {
        save_lives_with(work.conn(), pupil, guardian, lives_with).await?;
        work.audit(&access, Action::Update, Resource::GuardianLinks, Some(guardian), &[pupil, guardian]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/guardians/{guardian}?done=saved")).into_response())
}

/// Keep the guardianship as it was (source `office`), then write the new value.
async fn save_lives_with(mut conn: Conn<'_>, pupil: Uuid, guardian: Uuid, lives_with: bool) -> Result<()> {
    super::link_queries::keep_history(conn.re(), pupil, guardian).await?;
    sqlx::query(
        "UPDATE guardianships g SET lives_with = $4 WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.guardian_id = $3",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .bind(lives_with)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keep the values before, then write the new ones.
async fn save(mut conn: Conn<'_>, person: Uuid, phone: Option<&str>, email: Option<&str>) -> Result<()> {
    queries::keep_person_history(conn.re(), &[person], &[true], "office").await?;
    sqlx::query("UPDATE persons SET phone = $3, email = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(conn.tenant)
        .bind(person)
        .bind(phone)
        .bind(email)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
