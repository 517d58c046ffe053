//! The school-year rollover of one school (issue 18, point 6), by the school's office:
//! a preview of everything it will do (`plan.rs`, pure), then one all-or-nothing
//! operation that does exactly that (`queries.rs`, set-wise). The preview carries the
//! plan's fingerprint; the rollover recomputes the plan in its own transaction, under
//! the school's lock, and applies it only if the fingerprints agree, so the result is
//! the preview. Done once per school and year.
//!
//! Next year's classes can come from a list the office pastes (`placements.rs`): the
//! preview shows the plan with it (a POST with `action=preview`, or the list's problems
//! by line), and the rollover form carries the list on, so that it is applied as shown.
//!
//! It runs in the request: a few statements with arrays, whatever the school's size
//! (see the README for the time it takes on the largest school of the Oslo-size demo),
//! so the page answers with the result rather than a progress bar.

mod placements;
mod plan;
mod queries;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::error::{AppError, Result};
use crate::groups::queries::YearRow;
use crate::policy::{self, SchoolOfficeAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;
pub use plan::Plan;
use queries::DoneRow;

#[derive(askama::Template)]
#[template(path = "groups/rollover.html")]
pub struct RolloverPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    pub year: Option<YearRow>,
    pub next: Option<YearRow>,
    pub done: Option<DoneRow>,
    pub plan: Plan,
    pub errors: FieldErrors,
    /// The register changed between the preview and the rollover.
    pub changed: bool,
    pub just_done: bool,
    /// The office's list of next year's classes, as sent.
    pub list: String,
    /// What is wrong with the list, by line.
    pub problems: Vec<placements::Problem>,
}

impl RolloverPage {
    pub fn fingerprint(&self) -> String {
        self.plan.fingerprint()
    }
    pub fn kind(&self, kind: &str) -> &'static str {
        self.ui.t(&format!("groups.kind.{kind}"))
    }
    pub fn grade_text(&self, grade: &Option<i16>) -> String {
        grade.map(|g| g.to_string()).unwrap_or_default()
    }
    pub fn done_text(&self) -> String {
        let Some(d) = &self.done else { return String::new() };
        crate::web::i18n::tf(
            self.ui.lang,
            "rollover.done",
            &[
                ("date", &display_date(d.done_on)),
                ("advanced", &d.advanced.to_string()),
                ("leavers", &d.leavers.to_string()),
                ("groups", &d.groups_created.to_string()),
            ],
        )
    }
    pub fn problem_text(&self, p: &placements::Problem) -> String {
        crate::web::i18n::tf(self.ui.lang, p.key, &[("line", &p.line.to_string())])
    }
    /// Next year's classes that the list makes (new ones, with no class of this year).
    pub fn listed(&self, g: &plan::GroupOut) -> bool {
        g.from_name.is_empty()
    }
    pub fn intro(&self) -> String {
        let name = |y: &Option<YearRow>| y.as_ref().map(|y| y.name.clone()).unwrap_or_default();
        crate::web::i18n::tf(self.ui.lang, "rollover.intro", &[("from", &name(&self.year)), ("to", &name(&self.next))])
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RolloverQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RolloverForm {
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub confirm: String,
    /// Next year's classes from a list (see `placements`).
    #[serde(default)]
    pub placements: String,
    /// `preview`: show the plan with the list; otherwise roll over.
    #[serde(default)]
    pub action: String,
}

struct Loaded {
    access: SchoolOfficeAccess,
    school_name: String,
    year: Option<YearRow>,
    next: Option<YearRow>,
    done: Option<DoneRow>,
    plan: Plan,
    list: String,
    problems: Vec<placements::Problem>,
}

/// The school, its years, whether the rollover is done, and else its plan, with the
/// office's `list` of classes if it has no problem.
async fn load(work: &mut Work, school: &str, lock: bool, list: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::school_groups_access(&actor, path_id(school)?)?;
    let school =
        crate::groups::queries::schools(work.conn(), &[access.school_id]).await?.pop().ok_or(AppError::NotFound)?;
    let (year, next) = queries::years(work.conn()).await?.map_or((None, None), |(y, n)| (Some(y), n));
    let mut l = Loaded {
        access,
        school_name: school.name,
        year,
        next,
        done: None,
        plan: Plan::default(),
        list: list.to_owned(),
        problems: Vec::new(),
    };
    if let (Some(year), Some(next)) = (&l.year, &l.next) {
        l.done = queries::done(work.conn(), l.access.school_id, year.id, lock).await?;
        if l.done.is_none() {
            let mut input = queries::input(work.conn(), l.access.school_id, school.last_grade, year, next).await?;
            if !list.trim().is_empty() {
                match placements::read(list, &input) {
                    Ok(listed) => input.placements = listed,
                    Err(problems) => l.problems = problems,
                }
            }
            l.plan = plan::plan(&input);
        }
    }
    Ok(l)
}

fn page(ui: Ui, l: Loaded, errors: FieldErrors, changed: bool, just_done: bool) -> RolloverPage {
    RolloverPage {
        ui,
        school_id: l.access.school_id,
        school_name: l.school_name,
        year: l.year,
        next: l.next,
        done: l.done,
        plan: l.plan,
        errors,
        changed,
        just_done,
        list: l.list,
        problems: l.problems,
    }
}

/// The pupils the preview names (leavers and those left alone), for the audit row.
fn named(plan: &Plan) -> Vec<Uuid> {
    plan.leave.iter().chain(&plan.untouched).map(|n| n.pupil_id).collect()
}

/// The preview, or what the rollover did.
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<RolloverQuery>,
) -> Result<Response> {
    let l = load(&mut work, &school, false, "").await?;
    let subjects = named(&l.plan);
    if !subjects.is_empty() {
        work.audit(&l.access, Action::Read, Resource::Rollover, Some(l.access.school_id), &subjects).await?;
    }
    work.commit().await?;
    let just_done = q.done == "rolled" && l.done.is_some();
    Ok(render_with(StatusCode::OK, &page(ui, l, FieldErrors::new(), false, just_done)))
}

/// Roll the school over, exactly as previewed.
pub async fn apply(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<RolloverForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let preview = form.action == "preview";
    let l = load(&mut work, &school, !preview, &form.placements).await?;
    let school = l.access.school_id;
    let (Some(year), Some(next)) = (l.year.clone(), l.next.clone()) else {
        work.commit().await?;
        return Ok(Redirect::to(&format!("/schools/{school}/rollover")).into_response());
    };
    if l.done.is_some() {
        // Done already (a second click): nothing more to do.
        work.commit().await?;
        return Ok(Redirect::to(&format!("/schools/{school}/rollover?done=rolled")).into_response());
    }
    if !l.problems.is_empty() {
        work.commit().await?;
        let errors = FieldErrors::one("placements", "rollover.error.list");
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, errors, false, false)));
    }
    if preview {
        let subjects = named(&l.plan);
        if !subjects.is_empty() {
            work.audit(&l.access, Action::Read, Resource::Rollover, Some(school), &subjects).await?;
        }
        work.commit().await?;
        return Ok(render_with(StatusCode::OK, &page(ui, l, FieldErrors::new(), false, false)));
    }
    if form.fingerprint.trim() != l.plan.fingerprint() {
        work.commit().await?;
        let errors = FieldErrors::one("confirm", "rollover.error.changed");
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, errors, true, false)));
    }
    if form.confirm != "yes" {
        work.commit().await?;
        let errors = FieldErrors::one("confirm", "rollover.error.confirm");
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, errors, false, false)));
    }
    let by = work.actor().person_id;
    queries::apply(work.conn(), school, &year, &next, &l.plan, by).await?;
    let subjects = l.plan.pupils();
    work.audit(&l.access, Action::Update, Resource::Rollover, Some(school), &subjects).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{school}/rollover?done=rolled")).into_response())
}
