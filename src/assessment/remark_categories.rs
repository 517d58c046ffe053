//! A school's list of remark categories, from its rules of order and conduct
//! (ordensreglement): Tavle's standard categories, which the school may take out of
//! use, and categories of its own, named in bokmål and, if it likes, English. Teachers
//! choose from the categories in use; remarks given keep their category also after it
//! is taken out of use. Kept by the school office and the school's leaders.
//!
//! The list is no one's personal data: its changes are kept with who made them
//! (`remark_categories.changed_by`), not in the audit log.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::domain::Aspect;
use super::queries::remarks::{self, SchoolCategory};
use super::queries::{self, YearRow};
use crate::domain::text::{has_hidden_characters, nfc};
use crate::error::{AppError, Result};
use crate::policy::{self, AssessmentPeriodsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The longest name of a category.
pub const NAME_MAX: usize = 80;

#[derive(askama::Template)]
#[template(path = "assessment/remark_categories.html")]
pub struct CategoriesPage {
    pub ui: Ui,
    pub school_id: uuid::Uuid,
    pub year: YearRow,
    pub list: Vec<SchoolCategory>,
    pub form: NewCategory,
    pub errors: FieldErrors,
    pub done: String,
}

impl CategoriesPage {
    pub fn label(&self, c: &SchoolCategory) -> String {
        c.label(self.ui.lang)
    }
    pub fn aspect(&self, c: &SchoolCategory) -> &'static str {
        self.ui.t(c.aspect.label_key())
    }
    pub fn kind(&self, c: &SchoolCategory) -> &'static str {
        self.ui.t(if c.own.is_some() { "assessment.categories.own" } else { "assessment.categories.standard" })
    }
    pub fn aspects(&self) -> Vec<(&'static str, &'static str)> {
        [Aspect::Order, Aspect::Conduct].iter().map(|a| (a.code(), self.ui.t(a.label_key()))).collect()
    }
    pub fn done_text(&self) -> &'static str {
        match self.done.as_str() {
            "saved" => self.ui.t("assessment.categories.saved"),
            "added" => self.ui.t("assessment.categories.added"),
            _ => "",
        }
    }
}

/// A category of the school's own, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCategory {
    #[serde(default)]
    pub name_nb: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub aspect: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CategoriesQuery {
    #[serde(default)]
    pub done: String,
}

async fn load(work: &mut Work, school: &str) -> Result<(AssessmentPeriodsAccess, YearRow, Vec<SchoolCategory>)> {
    let actor = work.actor();
    let access = policy::remark_categories_access(&actor, path_id(school)?)?;
    let year = queries::current_year(work.conn(), access.school_id).await?.ok_or(AppError::NotFound)?;
    let list = remarks::school_list(&remarks::stored_categories(work.conn(), access.school_id).await?);
    Ok((access, year, list))
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<CategoriesQuery>,
) -> Result<Response> {
    let (access, year, list) = load(&mut work, &school).await?;
    work.commit().await?;
    let done = if matches!(q.done.as_str(), "saved" | "added") { q.done } else { String::new() };
    let page = CategoriesPage {
        ui,
        school_id: access.school_id,
        year,
        list,
        form: NewCategory::default(),
        errors: FieldErrors::new(),
        done,
    };
    Ok(render_with(StatusCode::OK, &page))
}

/// Which categories are in use: the codes checked (`use`); the others are taken out.
pub async fn save(
    mut work: Work,
    Path(school): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let Form(sent) = form.map_err(|_| AppError::BadRequest)?;
    let (access, _, list) = load(&mut work, &school).await?;
    let mut used = Vec::new();
    for (name, value) in &sent {
        match name.as_str() {
            "csrf" => {}
            // Only codes on the list: anything else no form of ours sends.
            "use" if list.iter().any(|c| c.code == *value) => used.push(value.as_str()),
            _ => return Err(AppError::BadRequest),
        }
    }
    let by = work.actor().person_id;
    for c in &list {
        let active = used.contains(&c.code.as_str());
        if active != c.active {
            remarks::set_category_use(work.conn(), access.school_id, c, active, by).await?;
        }
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/schools/{}/remark-categories?done=saved", access.school_id)).into_response())
}

/// A name as typed, checked: trimmed, in NFC, 1-80 characters, no hidden characters.
fn name(raw: &str, field: &'static str, required: bool, errors: &mut FieldErrors) -> Option<String> {
    let name = nfc(raw.trim());
    if name.is_empty() {
        if required {
            errors.add(field, "assessment.categories.error.name_required");
        }
        return None;
    }
    if name.chars().count() > NAME_MAX {
        errors.add(field, "assessment.categories.error.name_long");
        return None;
    }
    if has_hidden_characters(&name) {
        errors.add(field, "assessment.categories.error.name_hidden");
        return None;
    }
    Some(name)
}

/// Add a category of the school's own.
pub async fn add(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<NewCategory>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (access, year, list) = load(&mut work, &school).await?;
    let mut errors = FieldErrors::new();
    let name_nb = name(&form.name_nb, "name_nb", true, &mut errors);
    let name_en = name(&form.name_en, "name_en", false, &mut errors);
    if let Some(nb) = &name_nb {
        let taken = list.iter().any(|c| c.label(crate::web::i18n::Lang::Nb).to_lowercase() == nb.to_lowercase());
        if taken {
            errors.add("name_nb", "assessment.categories.error.name_taken");
        }
    }
    let aspect = Aspect::from_code(form.aspect.trim());
    if aspect.is_none() {
        errors.add("aspect", "assessment.categories.error.aspect").target("aspect-order");
    }
    let (Some(nb), Some(aspect), false) = (name_nb, aspect, errors.any()) else {
        work.commit().await?;
        let page = CategoriesPage { ui, school_id: access.school_id, year, list, form, errors, done: String::new() };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let by = work.actor().person_id;
    remarks::add_category(work.conn(), access.school_id, aspect, &nb, name_en.as_deref(), by).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/schools/{}/remark-categories?done=added", access.school_id)).into_response())
}
