//! Absence (fravær): the teacher's register per lesson and the guardians' reports.
//!
//! There is no free-text field anywhere in absence: a reason is a code from the
//! municipality's list, a status one of present / absent / late with minutes, and a
//! form carrying any field it does not know is refused before anything is stored.
//! (A municipality was fined for letting guardians type health information into a
//! free-text absence field.)
//!
//! - `register`: a teacher's lessons of a day, and the register of one lesson and
//!   day for the group's pupils, saved idempotently per (lesson, pupil, date).
//! - `reports`: a guardian's reports for a child (a day or days, whole days or
//!   hours, a reason code); both guardians with parental responsibility see them.
//! - `review`, `overview`, `totals`: the contact teacher's review and deduction per
//!   day, and the totals by the rules for the pupil, the guardians and the class.
//! - `leave`: leave applications (permisjon), applied for by guardians in advance and
//!   decided by the school.
//! - `day_register`: a class's register for a whole day, for schools that record
//!   per day (`settings`); it writes the same rows as the lesson register.
//! - `statistics`: the school office's statistics over the school year, and CSV.

mod day_range;
mod day_register;
pub mod domain;
pub mod leave;
pub mod overview;
pub mod queries;
mod register;
mod reports;
mod review;
mod settings;
mod statistics;
pub mod totals;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::render;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new()
        .route("/absence", get(entry))
        .route("/absence/register", get(register::day))
        .route("/absence/groups/{group_id}/register", get(register::show).post(register::save))
        .route("/absence/children/{pupil_id}", get(reports::show).post(reports::create))
        .route("/absence/children/{pupil_id}/reports/{report_id}/withdraw", post(reports::withdraw))
        // Review, deduction and totals by the rules.
        .route("/absence/me", get(overview::me))
        .route("/absence/children/{pupil_id}/overview", get(overview::child))
        .route("/absence/classes", get(overview::classes))
        .route("/absence/classes/{group_id}", get(overview::class))
        .route("/absence/pupils/{pupil_id}/review", get(review::show).post(review::save))
        // Leave applications.
        .route("/absence/children/{pupil_id}/leave", get(leave::show).post(leave::create))
        .route("/absence/children/{pupil_id}/leave/{application_id}/withdraw", post(leave::withdraw))
        .route("/absence/leave", get(leave::list))
        .route("/absence/leave/{application_id}", get(leave::show_application).post(leave::decide))
        .route("/schools/{school_id}/leave-settings", get(leave::show_settings).post(leave::save_settings))
        .merge(office_router())
}

/// The school office's part: the day register, the registration mode, the statistics.
fn office_router() -> Router<AppState> {
    Router::new()
        .route("/absence/classes/{group_id}/day", get(day_register::show).post(day_register::save))
        .route("/schools/{school_id}/absence/settings", get(settings::show).post(settings::save))
        .route("/absence/statistics", get(statistics::index))
        .route("/schools/{school_id}/absence/statistics", get(statistics::show))
        .route("/schools/{school_id}/absence/statistics.csv", get(statistics::csv))
}

#[derive(askama::Template)]
#[template(path = "absence/children.html")]
pub struct ChildrenPage {
    pub ui: Ui,
    pub children: Vec<queries::ChildRow>,
}

/// Where "Absence" in the menu leads: the register for staff who take it, their own
/// overview for a pupil, the leave applications for the system administrator, the
/// child's page (or a choice of children) for a guardian.
async fn entry(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    if actor.may_register_absence() {
        return Ok(Redirect::to("/absence/register").into_response());
    }
    if actor.may_see_own_absence() {
        return Ok(Redirect::to("/absence/me").into_response());
    }
    if actor.may_open_leave_queue() {
        return Ok(Redirect::to("/absence/leave").into_response());
    }
    if !actor.may_report_absence() {
        return Err(AppError::NotFound);
    }
    let placed = actor.placed_children();
    if let [only] = placed.as_slice() {
        return Ok(Redirect::to(&format!("/absence/children/{only}")).into_response());
    }
    let children = queries::children(work.conn(), &placed).await?;
    work.commit().await?;
    Ok(render(&ChildrenPage { ui, children }))
}
