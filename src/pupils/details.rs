//! The details of a pupil the office keeps (`/pupils/{id}/details`): the other mother
//! tongue (a code), and the names and birth date of a pupil the population register
//! does not have (a DUF number); for everyone else the register decides those, and the
//! page shows them without a field. Each change keeps the earlier values in the
//! person's history (source `office`) and is audited.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::person_name;
use super::registration::languages;
use super::registration_queries::{self as q, Details};
use crate::audit::{Action, Resource};
use crate::domain::date::{date_value, display_date, iso, parse};
use crate::domain::mother_tongue;
use crate::domain::national_id::{NationalId, NationalIdKind};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

#[derive(askama::Template)]
#[template(path = "pupils/details.html")]
pub struct DetailsPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub details: Details,
    /// Names and birth date are the office's to keep (not in the register).
    pub own_names: bool,
    pub form: DetailsForm,
    pub errors: FieldErrors,
    pub saved: bool,
}

impl DetailsPage {
    pub fn languages(&self) -> Vec<(&'static str, &'static str)> {
        languages(&self.ui)
    }
    pub fn birth_date(&self) -> String {
        self.details.birth_date.map(display_date).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub mother_tongue: String,
}

impl DetailsForm {
    fn of(d: &Details) -> Self {
        Self {
            given_name: d.given_name.clone(),
            family_name: d.family_name.clone(),
            birth_date: d.birth_date.map(iso).unwrap_or_default(),
            mother_tongue: d.other_mother_tongue.clone().unwrap_or_default(),
        }
    }
    pub fn birth_date_value(&self) -> String {
        date_value(&self.birth_date)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailsQuery {
    #[serde(default)]
    pub saved: String,
}

async fn load(work: &mut Work, pupil: &str) -> Result<(ContactPersonsAccess, Details, bool)> {
    let actor = work.actor();
    let access = policy::pupil_details_access(work.conn(), &actor, path_id(pupil)?).await?;
    let details = q::details(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let own_names = NationalId::parse(&details.national_id).is_ok_and(|id| id.kind() == NationalIdKind::Duf);
    Ok((access, details, own_names))
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    Query(q): Query<DetailsQuery>,
) -> Result<Response> {
    let (access, details, own_names) = load(&mut work, &pupil).await?;
    work.audit(&access, Action::Read, Resource::PupilDetails, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    let form = DetailsForm::of(&details);
    let page = DetailsPage {
        ui,
        pupil_id: access.pupil_id,
        details,
        own_names,
        form,
        errors: FieldErrors::new(),
        saved: q.saved == "yes",
    };
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn update(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<DetailsForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (access, details, own_names) = load(&mut work, &pupil).await?;
    let mut errors = FieldErrors::new();
    let tongue = match form.mother_tongue.trim() {
        "" => None,
        raw => match mother_tongue::parse(raw) {
            Some(code) => Some(code),
            None => {
                errors.add("mother_tongue", "pupils.new.error.mother_tongue");
                None
            }
        },
    };
    let names: Option<(String, String, Date)> = if own_names {
        let given = person_name(&form.given_name, "given_name".to_owned(), &mut errors);
        let family = person_name(&form.family_name, "family_name".to_owned(), &mut errors);
        let today = crate::db::current_date(work.conn()).await?;
        let born = match parse(&form.birth_date) {
            Some(d) if (today.year() - 21..=today.year() - 4).contains(&d.year()) => Some(d),
            _ => {
                errors.add("birth_date", "pupils.new.error.birth_date");
                None
            }
        };
        given.zip(family).zip(born).map(|((g, f), b)| (g, f, b))
    } else {
        None
    };
    if errors.any() {
        work.commit().await?;
        errors.order(&["given_name", "family_name", "birth_date", "mother_tongue"]);
        let page = DetailsPage { ui, pupil_id: access.pupil_id, details, own_names, form, errors, saved: false };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    // The values before the change, kept once for the whole change.
    let pupil = access.pupil_id;
    let changes_names = names.as_ref().is_some_and(|(g, f, b)| {
        *g != details.given_name || *f != details.family_name || Some(*b) != details.birth_date
    });
    let changes_tongue = tongue != details.other_mother_tongue.as_deref();
    if changes_names || changes_tongue {
        super::queries::keep_person_history(work.conn(), &[pupil], &[true], "office").await?;
        if let Some((g, f, b)) = &names {
            q::correct_person(work.conn(), pupil, g, f, *b).await?;
        }
        q::set_mother_tongue(work.conn(), pupil, tongue).await?;
        work.audit(&access, Action::Update, Resource::PupilDetails, Some(pupil), &[pupil]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/details?saved=yes")).into_response())
}
