//! A school's limit between short leave (decided by the contact teacher) and longer
//! leave (decided by the principal or a department head), in school days. Empty means
//! the municipality's default. Changed by the school's principal or the system
//! administrator; every change is audited.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::queries::{self, SettingsRow};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

/// The most school days a school may leave to the contact teacher (the schema's limit).
pub const MAX_LIMIT: i16 = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsForm {
    /// Checked by the CSRF middleware before the handler runs.
    #[serde(default)]
    pub csrf: String,
    /// Whole school days, 0 to [`MAX_LIMIT`]; empty: the municipality's default.
    #[serde(default)]
    pub max_days: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(askama::Template)]
#[template(path = "absence/leave_settings.html")]
pub struct LeaveSettingsPage {
    pub ui: Ui,
    pub school_id: uuid::Uuid,
    pub settings: SettingsRow,
    /// The field as typed (or as stored).
    pub max_days: String,
    pub errors: FieldErrors,
    pub saved: bool,
}

impl LeaveSettingsPage {
    pub fn default_days(&self) -> String {
        self.settings.default_days.to_string()
    }
    pub fn max_limit(&self) -> String {
        MAX_LIMIT.to_string()
    }
    /// The value attribute of the number field: what was typed when it is a whole
    /// number (even out of range, to be corrected), else empty (valid HTML).
    pub fn value(&self) -> String {
        self.max_days.trim().parse::<i16>().map(|d| d.to_string()).unwrap_or_default()
    }
}

/// Parse the field: `Ok(None)` for empty (the default), `Err` for anything but a
/// whole number from 0 to [`MAX_LIMIT`].
pub fn parse_limit(raw: &str) -> std::result::Result<Option<i16>, ()> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i16>().ok().filter(|d| (0..=MAX_LIMIT).contains(d)).map(Some).ok_or(())
}

pub async fn show_settings(
    mut work: Work,
    ui: Ui,
    Path(school_id): Path<String>,
    Query(q): Query<SettingsQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::leave_settings_access(&actor, path_id(&school_id)?)?;
    let settings = queries::settings(work.conn(), access.school_id).await?.ok_or(AppError::NotFound)?;
    work.commit().await?;
    let page = LeaveSettingsPage {
        ui,
        school_id: access.school_id,
        max_days: settings.own.map(|d| d.to_string()).unwrap_or_default(),
        settings,
        errors: FieldErrors::new(),
        saved: q.done == "saved",
    };
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn save_settings(
    mut work: Work,
    ui: Ui,
    Path(school_id): Path<String>,
    form: std::result::Result<Form<SettingsForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::leave_settings_access(&actor, path_id(&school_id)?)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let settings = queries::settings(work.conn(), access.school_id).await?.ok_or(AppError::NotFound)?;
    let Ok(days) = parse_limit(&form.max_days) else {
        let page = LeaveSettingsPage {
            ui,
            school_id: access.school_id,
            settings,
            max_days: form.max_days,
            errors: FieldErrors::one("max_days", "leave.error.max_days"),
            saved: false,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    if queries::set_school_limit(work.conn(), access.school_id, days, actor.person_id).await? {
        work.audit(&access, Action::Update, Resource::LeaveSettings, Some(access.school_id), &[]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{}/leave-settings?done=saved", access.school_id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_only_as_whole_days_in_range() {
        assert_eq!(parse_limit(""), Ok(None));
        assert_eq!(parse_limit(" 0 "), Ok(Some(0)));
        assert_eq!(parse_limit("20"), Ok(Some(20)));
        for bad in ["21", "-1", "2.5", "to", "1e1"] {
            assert_eq!(parse_limit(bad), Err(()), "{bad}");
        }
    }
}
