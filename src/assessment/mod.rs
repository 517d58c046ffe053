//! Assessment (vurdering): subjects with the directorate's codes and their scales, the
//! assessment periods of a school's year, the teachers' grade entry per teaching group,
//! locking after the window closes, and the grades pupils and guardians read once
//! published. Every read and change of a pupil's grades is audited; every change is
//! kept in the grade's history.
//!
//! - `domain`: the rules as pure code (grade levels, scales, Fritatt, the window).
//! - `grid`: a teaching group's grades for one period in one keyboard-first form.
//! - `periods`: the office's page for a school's periods (entry window, publication).
//! - `read`: a pupil's own grades, a guardian's child's, and the school's view of a
//!   pupil with each grade's history.
//! - `diploma`: the lower-secondary diploma (vitnemål) of a pupil in grade 10.
//! - `conduct`: a class's order and conduct (G, NG, LG) per period.
//! - `remarks`: remarks (anmerkninger) with a category, the day and the lesson.
//! - `remark_categories`: a school's list of remark categories (standard and its own).
//! - `warnings`: the written warnings of a class, sent to the pupil and guardians.
//! - `exams`: exams through PAS: drawing candidates, the registration file, and
//!   `tavle import pas` for the candidate numbers and results.
//! - `statistics`: counts per value for the leaders and the municipal director.
//! - `subjects_import`: `tavle import subjects`, the curriculum service's subject codes.
//! - `queries`: the SQL.

mod conduct;
mod diploma;
pub mod domain;
pub mod exams;
mod grid;
mod periods;
pub mod queries;
mod read;
mod remark_categories;
mod remarks;
mod statistics;
pub mod subjects_import;
mod warnings;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use remark_categories as categories;

use crate::error::{AppError, Result};
use crate::policy::{self, Audience};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::render;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new()
        .route("/assessment", get(entry))
        .route("/assessment/groups/{group_id}", get(grid::show).post(grid::save))
        .route("/assessment/me", get(read::me))
        .route("/assessment/children/{pupil_id}", get(read::child))
        .route("/assessment/pupils/{pupil_id}", get(read::pupil))
        .route("/assessment/pupils/{pupil_id}/exemptions", post(read::add_exemption))
        .route("/assessment/pupils/{pupil_id}/diploma", get(diploma::show))
        .route("/assessment/schools/{school_id}/diplomas", get(diploma::list))
        .route("/assessment/schools/{school_id}/periods", get(periods::show).post(periods::save))
        // Exams through PAS: drawing, the written form, withdrawing, the registration file.
        .route("/assessment/schools/{school_id}/exams", get(exams::show).post(exams::draw))
        .route("/assessment/schools/{school_id}/exams/withdraw", post(exams::withdraw))
        .route("/assessment/schools/{school_id}/exams/written-form", post(exams::written_form))
        .route("/assessment/schools/{school_id}/exams/registration", post(exams::registration))
        // A class's order and conduct, and its written warnings.
        .route("/assessment/classes/{group_id}/conduct", get(conduct::show).post(conduct::save))
        .route("/assessment/classes/{group_id}/warnings", get(warnings::show).post(warnings::send))
        // Statistics without names.
        .route("/assessment/statistics", get(statistics::show))
        .route("/assessment/statistics.csv", get(statistics::csv))
        // Remarks.
        .route("/assessment/pupils/{pupil_id}/remarks", get(remarks::show).post(remarks::create))
        .route("/assessment/pupils/{pupil_id}/remarks/{remark_id}/withdraw", post(remarks::withdraw))
        .route("/assessment/schools/{school_id}/remark-categories", get(categories::show).post(categories::save))
        .route("/assessment/schools/{school_id}/remark-categories/add", post(categories::add))
}

#[derive(askama::Template)]
#[template(path = "assessment/index.html")]
pub struct IndexPage {
    pub ui: Ui,
    pub groups: Vec<queries::GroupListRow>,
    /// Classes whose order, conduct and warnings the actor keeps or reads.
    pub classes: Vec<queries::class::ClassRow>,
    /// Schools whose periods the actor sets: (id, name).
    pub period_schools: Vec<(uuid::Uuid, String)>,
    pub children: Vec<queries::ChildRow>,
    pub guardian: bool,
}

impl IndexPage {
    pub fn subject(&self, g: &queries::GroupListRow) -> String {
        g.subject(self.ui.lang)
    }
}

/// Where "Grades" in the menu leads: a pupil's own grades; a guardian's children; for
/// staff, the teaching groups they enter or read grades for, and the schools whose
/// periods they set.
async fn entry(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    match actor.audience {
        Audience::Pupil => return Ok(Redirect::to("/assessment/me").into_response()),
        Audience::Guardian => {
            let placed = actor.placed_children();
            if placed.is_empty() {
                return Err(AppError::NotFound);
            }
            if let [only] = placed.as_slice() {
                return Ok(Redirect::to(&format!("/assessment/children/{only}")).into_response());
            }
            let children = queries::children(work.conn(), &placed).await?;
            work.commit().await?;
            return Ok(render(&IndexPage {
                ui,
                groups: Vec::new(),
                classes: Vec::new(),
                period_schools: Vec::new(),
                children,
                guardian: true,
            }));
        }
        Audience::Staff => {}
    }
    let scope = policy::assessment_scope(&actor)?;
    let groups = queries::groups_for(work.conn(), scope.person_id, &scope.teacher_at, &scope.leader_at).await?;
    let classes =
        queries::class::classes_for(work.conn(), scope.person_id, &scope.teacher_at, &scope.leader_at).await?;
    let mut period_schools = Vec::new();
    for school in &scope.office_at {
        if let Some(year) = queries::current_year(work.conn(), *school).await? {
            period_schools.push((*school, year.school_name));
        }
    }
    period_schools.sort_by(|a, b| a.1.cmp(&b.1));
    work.commit().await?;
    Ok(render(&IndexPage { ui, groups, classes, period_schools, children: Vec::new(), guardian: false }))
}
