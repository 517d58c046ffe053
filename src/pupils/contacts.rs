//! A pupil's contact persons (kontaktpersoner), kept by the school office: added,
//! corrected and removed, each with a relation code, a name and an optional phone
//! number; never a free-text note. Every change is audited and kept in the contact
//! person's history with its values; a removed contact person leaves every list (the
//! card, SFO's, the pick-up page) and their pick-up permission is withdrawn.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::person_name;
use super::queries::{self, ContactPerson};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The relation codes (stored; never rename one).
pub const RELATIONS: [&str; 6] = ["grandparent", "sibling", "relative", "neighbour", "family_friend", "other"];

#[derive(askama::Template)]
#[template(path = "pupils/contacts.html")]
pub struct ContactsPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    /// The contact persons, each with the values its form shows (as typed after a
    /// refused correction).
    pub contacts: Vec<ContactPerson>,
    /// The new contact person's form.
    pub new: ContactPerson,
    pub errors: FieldErrors,
    pub done: String,
}

impl ContactsPage {
    pub fn relations(&self) -> Vec<(&'static str, &'static str)> {
        RELATIONS.iter().map(|r| (*r, self.ui.t(&format!("relation.{r}")))).collect()
    }
    pub fn relation(&self, code: &str) -> &'static str {
        self.ui.t(&format!("relation.{code}"))
    }
    /// A field's id in a contact person's form (`given_name-{id}`), or the new one's.
    pub fn field(&self, name: &str, c: &ContactPerson) -> String {
        if c.id.is_nil() {
            name.to_owned()
        } else {
            format!("{name}-{}", c.id)
        }
    }
    pub fn phone(&self, c: &ContactPerson) -> String {
        c.phone.clone().unwrap_or_default()
    }
    pub fn done_text(&self) -> &'static str {
        match self.done.as_str() {
            "added" => self.ui.t("contacts.added"),
            "saved" => self.ui.t("contacts.saved"),
            "removed" => self.ui.t("contacts.removed"),
            _ => "",
        }
    }
}

/// A contact person's form as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub phone: String,
}

impl ContactForm {
    /// The values as typed (for the form again), under `id` (nil: a new one).
    fn typed(&self, id: Uuid) -> ContactPerson {
        ContactPerson {
            id,
            relation: self.relation.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            phone: Some(self.phone.clone()).filter(|p| !p.is_empty()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ContactsQuery {
    #[serde(default)]
    pub done: String,
}

/// Check a form; the contact person to store (under `id`), or the errors by the
/// fields of that form (`suffix`: `-{id}`, or empty for the new one).
fn check(form: &ContactForm, id: Uuid) -> std::result::Result<ContactPerson, FieldErrors> {
    let suffix = if id.is_nil() { String::new() } else { format!("-{id}") };
    let mut errors = FieldErrors::new();
    let relation = RELATIONS.iter().find(|r| **r == form.relation.trim()).copied();
    if relation.is_none() {
        errors.add(format!("relation{suffix}"), "contacts.error.relation");
    }
    let given = person_name(&form.given_name, format!("given_name{suffix}"), &mut errors);
    let family = person_name(&form.family_name, format!("family_name{suffix}"), &mut errors);
    let phone: String = form.phone.trim().to_owned();
    if !phone.is_empty() && !crate::domain::text::phone_ok(&phone) {
        errors.add(format!("phone{suffix}"), "contacts.error.phone");
    }
    match (relation, given, family, errors.any()) {
        (Some(relation), Some(given_name), Some(family_name), false) => Ok(ContactPerson {
            id,
            relation: relation.to_owned(),
            given_name,
            family_name,
            phone: Some(phone).filter(|p| !p.is_empty()),
        }),
        _ => Err(errors),
    }
}

async fn load(work: &mut Work, pupil: &str) -> Result<(ContactPersonsAccess, String, Vec<ContactPerson>)> {
    let actor = work.actor();
    let access = policy::contact_persons_access(work.conn(), &actor, path_id(pupil)?).await?;
    let name = queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let contacts = queries::contact_persons(work.conn(), access.pupil_id).await?;
    Ok((access, name, contacts))
}

fn done(pupil: Uuid, what: &str) -> Response {
    Redirect::to(&format!("/pupils/{pupil}/contacts?done={what}")).into_response()
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    Query(q): Query<ContactsQuery>,
) -> Result<Response> {
    let (access, name, contacts) = load(&mut work, &pupil).await?;
    work.audit(&access, Action::Read, Resource::ContactPersons, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    let done = if matches!(q.done.as_str(), "added" | "saved" | "removed") { q.done } else { String::new() };
    let page = ContactsPage {
        ui,
        pupil_id: access.pupil_id,
        name,
        contacts,
        new: ContactForm::default().typed(Uuid::nil()),
        errors: FieldErrors::new(),
        done,
    };
    Ok(render_with(StatusCode::OK, &page))
}

fn refused(
    ui: Ui,
    access: &ContactPersonsAccess,
    name: String,
    contacts: Vec<ContactPerson>,
    new: ContactPerson,
    errors: FieldErrors,
) -> Response {
    let page = ContactsPage { ui, pupil_id: access.pupil_id, name, contacts, new, errors, done: String::new() };
    render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// Add a contact person.
pub async fn add(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<ContactForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (access, name, contacts) = load(&mut work, &pupil).await?;
    let contact = match check(&form, Uuid::nil()) {
        Ok(c) => c,
        Err(errors) => {
            work.commit().await?;
            return Ok(refused(ui, &access, name, contacts, form.typed(Uuid::nil()), errors));
        }
    };
    let by = work.actor().person_id;
    let id = queries::add_contact(work.conn(), access.pupil_id, &contact, by).await?;
    work.audit(&access, Action::Create, Resource::ContactPersons, Some(id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(done(access.pupil_id, "added"))
}

/// Correct a contact person.
pub async fn update(
    mut work: Work,
    ui: Ui,
    Path((pupil, contact)): Path<(String, String)>,
    form: std::result::Result<Form<ContactForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let contact = path_id(&contact)?;
    let (access, name, mut contacts) = load(&mut work, &pupil).await?;
    if !contacts.iter().any(|c| c.id == contact) {
        return Err(AppError::NotFound);
    }
    let checked = match check(&form, contact) {
        Ok(c) => c,
        Err(errors) => {
            work.commit().await?;
            // The refused form shows what was typed; the others what is stored.
            for c in contacts.iter_mut().filter(|c| c.id == contact) {
                *c = form.typed(contact);
            }
            return Ok(refused(ui, &access, name, contacts, ContactForm::default().typed(Uuid::nil()), errors));
        }
    };
    let by = work.actor().person_id;
    match queries::update_contact(work.conn(), access.pupil_id, &checked, by).await? {
        None => return Err(AppError::NotFound),
        Some(true) => {
            work.audit(&access, Action::Update, Resource::ContactPersons, Some(contact), &[access.pupil_id]).await?
        }
        Some(false) => {}
    }
    work.commit().await?;
    Ok(done(access.pupil_id, "saved"))
}

/// Remove a contact person.
pub async fn remove(mut work: Work, Path((pupil, contact)): Path<(String, String)>) -> Result<Response> {
    let contact = path_id(&contact)?;
    let (access, _, _) = load(&mut work, &pupil).await?;
    let by = work.actor().person_id;
    if !queries::remove_contact(work.conn(), access.pupil_id, contact, by).await? {
        return Err(AppError::NotFound);
    }
    work.audit(&access, Action::Delete, Resource::ContactPersons, Some(contact), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(done(access.pupil_id, "removed"))
}
