//! Classes and groups, kept by the school office (issue 18, point 4): the school's
//! groups of the school year (`list`, `create`), and one group's page (`group`): its
//! name, its pupils (placed in bulk from a day, taken out from a day), its teachers and
//! contact teachers, and closing it.
//!
//! A stay in a group is never rewritten once it has begun: taking a pupil out ends the
//! stay on a day; only a stay that has not begun yet is withdrawn. Closing a group ends
//! every stay and takes its teachers off it; the group stays, for the lessons, registers
//! and grades that name it. Moving a pupil to another class is a move, on the pupil's
//! move page (`pupils::moves`), so that a class is left and joined on the same day.

mod exports;
mod group;
pub mod queries;
mod rollover;

use axum::extract::rejection::FormRejection;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::domain::text::{has_hidden_characters, nfc};
use crate::error::{AppError, Result};
use crate::policy::{self, SchoolOfficeAccess};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;
use queries::{GroupRow, NewGroup, SubjectRow, YearRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schools/{school_id}/groups", get(list).post(create))
        .route("/groups/{group_id}", get(group::show).post(group::rename))
        .route("/groups/{group_id}/members", post(group::add_members))
        .route("/groups/{group_id}/members/remove", post(group::remove_members))
        .route("/groups/{group_id}/staff", post(group::add_staff))
        .route("/groups/{group_id}/staff/remove", post(group::remove_staff))
        .route("/groups/{group_id}/close", post(group::close))
        // Lists for use outside Tavle, each with its purpose: class lists, letters on paper.
        .route("/schools/{school_id}/exports", get(exports::show))
        .route("/schools/{school_id}/letters.csv", get(exports::letters_csv))
        .route("/groups/{group_id}/members.csv", get(exports::class_csv))
        // One school's rollover into the next school year: a preview, then all of it.
        .route("/schools/{school_id}/rollover", get(rollover::show).post(rollover::apply))
}

/// The kinds of group (stored; never rename one): a class (basisgruppe), a teaching
/// group for a subject, an SFO group.
pub const KINDS: [&str; 3] = ["base", "teaching", "sfo"];

#[derive(askama::Template)]
#[template(path = "groups/list.html")]
pub struct GroupsPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    pub first_grade: i16,
    pub last_grade: i16,
    pub year: Option<YearRow>,
    pub groups: Vec<GroupRow>,
    pub subjects: Vec<SubjectRow>,
    pub form: GroupForm,
    pub errors: FieldErrors,
}

impl GroupsPage {
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        KINDS.iter().map(|k| (*k, self.ui.t(&format!("groups.kind.{k}")))).collect()
    }
    pub fn kind(&self, g: &GroupRow) -> &'static str {
        self.ui.t(&format!("groups.kind.{}", g.kind))
    }
    pub fn subject(&self, g: &GroupRow) -> String {
        subject_name(&self.ui, g.subject_nb.as_deref(), g.subject_en.as_deref())
    }
    pub fn subject_label(&self, s: &SubjectRow) -> String {
        format!("{} ({})", subject_name(&self.ui, Some(&s.name_nb), Some(&s.name_en)), s.code)
    }
    pub fn grades(&self) -> Vec<i16> {
        (self.first_grade..=self.last_grade).collect()
    }
    pub fn closed(&self, g: &GroupRow) -> String {
        g.closed_on
            .map(|d| self.ui.tf("groups.closed_on", "date", &crate::domain::date::display_date(d)))
            .unwrap_or_default()
    }
}

/// A subject's name in the page's language (bokmål when there is no English one).
pub fn subject_name(ui: &Ui, nb: Option<&str>, en: Option<&str>) -> String {
    match ui.lang {
        crate::web::i18n::Lang::En => en.or(nb),
        _ => nb,
    }
    .unwrap_or_default()
    .to_owned()
}

/// The new group's form as sent.
#[derive(Debug, Default, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub subject: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// A group's name as typed: trimmed, NFC, 1-100 characters, no hidden characters.
pub fn group_name(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<String> {
    let name = nfc(raw.trim());
    let key = if name.is_empty() {
        "groups.error.name_required"
    } else if name.chars().count() > 100 {
        "groups.error.name_long"
    } else if has_hidden_characters(&name) {
        "groups.error.name_hidden"
    } else {
        return Some(name);
    };
    errors.add(field, key);
    None
}

struct Loaded {
    access: SchoolOfficeAccess,
    school: queries::SchoolRow,
    year: Option<YearRow>,
    groups: Vec<GroupRow>,
    subjects: Vec<SubjectRow>,
}

async fn load(work: &mut Work, school: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::school_groups_access(&actor, path_id(school)?)?;
    let school =
        crate::groups::queries::schools(work.conn(), &[access.school_id]).await?.pop().ok_or(AppError::NotFound)?;
    let year = queries::current_year(work.conn()).await?;
    let groups = match &year {
        Some(y) => queries::groups(work.conn(), access.school_id, y.id).await?,
        None => Vec::new(),
    };
    let subjects = queries::subjects(work.conn()).await?;
    Ok(Loaded { access, school, year, groups, subjects })
}

fn page(ui: Ui, l: Loaded, form: GroupForm, mut errors: FieldErrors) -> GroupsPage {
    errors.at_first_radio("kind", Some(KINDS[0]));
    GroupsPage {
        ui,
        school_id: l.access.school_id,
        school_name: l.school.name,
        first_grade: l.school.first_grade,
        last_grade: l.school.last_grade,
        year: l.year,
        groups: l.groups,
        subjects: l.subjects,
        form,
        errors,
    }
}

/// The school's classes and groups of the school year, and a form for a new one. It
/// names no pupil (counts only), so it is not audited.
pub async fn list(mut work: Work, ui: Ui, Path(school): Path<String>) -> Result<Response> {
    let l = load(&mut work, &school).await?;
    work.commit().await?;
    let form = GroupForm { kind: "base".to_owned(), ..GroupForm::default() };
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new())))
}

/// Check a new group against the school (its grades) and the subjects.
fn check(form: &GroupForm, l: &Loaded) -> std::result::Result<NewGroup, FieldErrors> {
    let mut errors = FieldErrors::new();
    if l.year.is_none() {
        errors.add("name", "groups.error.no_year");
    }
    let kind = KINDS.iter().find(|k| **k == form.kind.trim()).copied();
    if kind.is_none() {
        errors.add("kind", "groups.error.kind");
    }
    let name = group_name(&form.name, "name", &mut errors);
    let grade = match form.grade.trim() {
        "" => None,
        g => match g.parse::<i16>() {
            Ok(g) if (l.school.first_grade..=l.school.last_grade).contains(&g) => Some(g),
            _ => {
                errors.add("grade", "groups.error.grade");
                None
            }
        },
    };
    if kind == Some("base") && grade.is_none() && !errors.has("grade") {
        errors.add("grade", "groups.error.grade_required");
    }
    let subject = match form.subject.trim() {
        _ if kind != Some("teaching") => None,
        "" => {
            errors.add("subject", "groups.error.subject_required");
            None
        }
        s => match Uuid::parse_str(s).ok().filter(|id| l.subjects.iter().any(|x| x.id == *id)) {
            Some(id) => Some(id),
            None => {
                errors.add("subject", "groups.error.subject");
                None
            }
        },
    };
    match (kind, name, errors.any()) {
        (Some(kind), Some(name), false) => Ok(NewGroup { kind, name, grade_level: grade, subject }),
        _ => {
            errors.order(&["kind", "name", "grade", "subject"]);
            Err(errors)
        }
    }
}

/// Create a group in the school year that runs (or starts next).
pub async fn create(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<GroupForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &school).await?;
    let (new, year) = match (check(&form, &l), &l.year) {
        (Ok(new), Some(year)) => (new, year.id),
        (Err(errors), _) => {
            work.commit().await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors)));
        }
        (Ok(_), None) => return Err(AppError::NotFound),
    };
    let Some(id) = queries::create_group(work.conn(), l.access.school_id, year, &new).await? else {
        work.commit().await?;
        let errors = FieldErrors::one("name", "groups.error.name_taken");
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors)));
    };
    work.audit(&l.access, Action::Create, Resource::Groups, Some(id), &[]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/groups/{id}?done=created")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_name_is_trimmed_and_checked() {
        let mut errors = FieldErrors::new();
        assert_eq!(group_name("  5B ", "name", &mut errors).as_deref(), Some("5B"));
        assert!(!errors.any());
        assert_eq!(group_name("   ", "name", &mut errors), None);
        assert_eq!(errors.key("name"), Some("groups.error.name_required"));
        let mut errors = FieldErrors::new();
        assert_eq!(group_name(&"x".repeat(101), "name", &mut errors), None);
        assert_eq!(errors.key("name"), Some("groups.error.name_long"));
        let mut errors = FieldErrors::new();
        assert_eq!(group_name("5\u{200b}B", "name", &mut errors), None);
        assert_eq!(errors.key("name"), Some("groups.error.name_hidden"));
    }
}
