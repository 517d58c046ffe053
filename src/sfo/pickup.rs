//! A child's pick-up permissions (henteordning): which of the child's contact persons
//! may collect the child from SFO (the guardians with parental responsibility always
//! may), whether the child may go home alone (from which day, not before which time)
//! and whether the child goes by school transport. Given by a guardian with parental
//! responsibility on Min side, or recorded by the school office on the guardians'
//! behalf; every change is audited. SFO's "collected by" list reads these.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Time};
use uuid::Uuid;

use super::domain::Arrangement;
use super::queries::{self, PickupContactRow};
use crate::audit::{Action, Resource};
use crate::domain::date::{iso, parse_iso, parse_time};
use crate::error::{AppError, Result};
use crate::policy::{self, PickupAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

#[derive(askama::Template)]
#[template(path = "sfo/pickup.html")]
pub struct PickupPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    pub contacts: Vec<PickupContactRow>,
    pub form: PickupFields,
    pub errors: FieldErrors,
    pub saved: bool,
    /// Recorded by the office on the guardians' behalf.
    pub on_behalf: bool,
}

impl PickupPage {
    pub fn relation(&self, c: &PickupContactRow) -> &'static str {
        self.ui.t(&format!("relation.{}", c.relation))
    }
    pub fn permitted(&self, c: &PickupContactRow) -> bool {
        self.form.contacts.contains(&c.id)
    }
}

/// The form as typed (or as stored).
#[derive(Debug, Clone, Default)]
pub struct PickupFields {
    pub contacts: Vec<Uuid>,
    pub home_alone: bool,
    pub alone_from: String,
    pub alone_after: String,
    pub transport: bool,
}

impl PickupFields {
    fn stored(contacts: &[PickupContactRow], a: Arrangement) -> Self {
        PickupFields {
            contacts: contacts.iter().filter(|c| c.permitted).map(|c| c.id).collect(),
            home_alone: a.home_alone,
            alone_from: a.alone_from.map(iso).unwrap_or_default(),
            alone_after: a.alone_after.map(|t| format!("{:02}:{:02}", t.hour(), t.minute())).unwrap_or_default(),
            transport: a.school_transport,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PickupQuery {
    #[serde(default)]
    pub done: String,
}

struct Loaded {
    access: PickupAccess,
    name: String,
    contacts: Vec<PickupContactRow>,
    stored: Arrangement,
}

async fn load(work: &mut Work, pupil: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::pickup_access(work.conn(), &actor, path_id(pupil)?).await?;
    let name = crate::pupils::queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let contacts = queries::pickup_contacts(work.conn(), access.pupil_id).await?;
    let stored = queries::arrangements(work.conn(), &[access.pupil_id])
        .await?
        .into_iter()
        .next()
        .map(|(_, a)| a)
        .unwrap_or_default();
    Ok(Loaded { access, name, contacts, stored })
}

fn page(ui: Ui, l: Loaded, form: PickupFields, errors: FieldErrors, saved: bool) -> PickupPage {
    PickupPage {
        ui,
        pupil_id: l.access.pupil_id,
        name: l.name,
        contacts: l.contacts,
        form,
        errors,
        saved,
        on_behalf: l.access.acting_as.is_some(),
    }
}

pub async fn show(mut work: Work, ui: Ui, Path(pupil): Path<String>, Query(q): Query<PickupQuery>) -> Result<Response> {
    let l = load(&mut work, &pupil).await?;
    work.audit(&l.access, Action::Read, Resource::PickupPermissions, Some(l.access.pupil_id), &[l.access.pupil_id])
        .await?;
    work.commit().await?;
    let form = PickupFields::stored(&l.contacts, l.stored);
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new(), q.done == "saved")))
}

/// Check the form: the contact persons must be the child's; a day and a time, if
/// given, must be ones. The arrangement to store, or the errors by field.
fn check(fields: &PickupFields, contacts: &[PickupContactRow]) -> std::result::Result<Arrangement, FieldErrors> {
    let mut errors = FieldErrors::new();
    if fields.contacts.iter().any(|id| !contacts.iter().any(|c| c.id == *id)) {
        errors.add("contacts", "sfo.pickup.error.contact");
    }
    let (mut alone_from, mut alone_after): (Option<Date>, Option<Time>) = (None, None);
    if fields.home_alone {
        if !fields.alone_from.trim().is_empty() {
            alone_from = parse_iso(&fields.alone_from);
            if alone_from.is_none() {
                errors.add("alone_from", "sfo.pickup.error.date");
            }
        }
        if !fields.alone_after.trim().is_empty() {
            alone_after = parse_time(&fields.alone_after);
            if alone_after.is_none() {
                errors.add("alone_after", "sfo.pickup.error.time");
            }
        }
    } else if !fields.alone_from.trim().is_empty() || !fields.alone_after.trim().is_empty() {
        errors.add("home_alone", "sfo.pickup.error.alone_unchecked");
    }
    if errors.any() {
        return Err(errors);
    }
    Ok(Arrangement { home_alone: fields.home_alone, alone_from, alone_after, school_transport: fields.transport })
}

pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let Form(sent) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &pupil).await?;
    let mut fields = PickupFields::default();
    for (name, value) in sent {
        if name == "csrf" {
            continue;
        }
        if value.len() > 40 {
            return Err(AppError::BadRequest);
        }
        match name.as_str() {
            "contact" => fields.contacts.push(Uuid::parse_str(value.trim()).map_err(|_| AppError::BadRequest)?),
            "home_alone" => fields.home_alone = value == "yes",
            "alone_from" => fields.alone_from = value,
            "alone_after" => fields.alone_after = value,
            "transport" => fields.transport = value == "yes",
            _ => return Err(AppError::BadRequest),
        }
    }
    let arrangement = match check(&fields, &l.contacts) {
        Ok(a) => a,
        Err(errors) => {
            work.commit().await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, fields, errors, false)));
        }
    };
    let by = work.actor().person_id;
    let pupil = l.access.pupil_id;
    let mut changed = queries::set_permissions(work.conn(), pupil, &fields.contacts, by).await?;
    changed |= queries::set_arrangement(work.conn(), pupil, &arrangement, by).await?;
    if changed {
        work.audit(&l.access, Action::Update, Resource::PickupPermissions, Some(pupil), &[pupil]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/sfo/children/{pupil}/pickup?done=saved")).into_response())
}
