//! The school's absence settings: whether the school takes the register per lesson
//! or per day. Changed by the school's principal (or the system administrator) and
//! audited.

use std::collections::HashSet;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::queries::day::{self as day_queries, Mode};
use super::queries::statistics as sq;
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    pub saved: String,
}

#[derive(askama::Template)]
#[template(path = "absence/settings.html")]
pub struct SettingsPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    /// The mode shown as chosen (saved, or as sent).
    pub mode: String,
    pub errors: FieldErrors,
    pub saved: bool,
}

impl SettingsPage {
    pub fn mode_options(&self) -> Vec<(&'static str, &'static str)> {
        Mode::ALL.iter().map(|m| (m.code(), self.ui.t(m.label_key()))).collect()
    }
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<SettingsQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let school_id = path_id(&school)?;
    policy::absence_settings_editor(&actor, school_id)?;
    let school_name = sq::school_name(work.conn(), school_id).await?.ok_or(AppError::NotFound)?;
    let mode = day_queries::mode(work.conn(), school_id).await?;
    work.commit().await?;
    let page = SettingsPage {
        ui,
        school_id,
        school_name,
        mode: mode.code().to_owned(),
        errors: FieldErrors::new(),
        saved: q.saved == "1",
    };
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let mut sent = String::new();
    let mut seen = HashSet::new();
    for (key, value) in fields {
        if !seen.insert(key.clone()) {
            return Err(AppError::BadRequest);
        }
        match key.as_str() {
            "csrf" => {}
            "mode" => sent = value,
            _ => return Err(AppError::BadRequest),
        }
    }
    let school_id = path_id(&school)?;
    let editor = policy::absence_settings_editor(&actor, school_id)?;
    let school_name = sq::school_name(work.conn(), school_id).await?.ok_or(AppError::NotFound)?;
    let Some(mode) = Mode::from_code(&sent) else {
        let page = SettingsPage {
            ui,
            school_id,
            school_name,
            mode: sent,
            errors: {
                let mut e = FieldErrors::one("mode", "absence.settings.error.mode");
                e.at_first_radio("mode", Some(Mode::ALL[0].code()));
                e
            },
            saved: false,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    day_queries::set_mode(work.conn(), school_id, mode, actor.person_id).await?;
    work.audit(&editor, Action::Update, Resource::AbsenceSettings, Some(school_id), &[]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{school_id}/absence/settings?saved=1")).into_response())
}
