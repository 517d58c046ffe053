//! The timetable: the week views (a pupil's, a guardian's child's, a teacher's own,
//! a group's), the office's editing of a group's lessons (`edit`), and the import of
//! a school's timetable from a CSV file (`import`, also run by `tavle import
//! timetable`).
//!
//! A week is a page of its own per week (`?week=2026-11-23`, any day of it), shown day
//! by day; days off of the school-year calendar (outside the terms, holidays, planning
//! days) are shown as such, with no lessons. Reading a pupil's week is reading their
//! data and is audited like the pupil card; a group's and a teacher's own week are not
//! about a pupil.

pub mod edit;
pub mod fields;
pub mod import;
pub mod import_page;
pub mod queries;
pub mod week;

use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, Audience};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::{path_id, render};
use crate::work::Work;
use queries::{GroupRow, SchoolRow, Target};
use week::Week;

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new()
        .route("/timetable", get(mine))
        .route("/pupils/{pupil_id}/timetable", get(pupil_week))
        .route("/schools/{school_id}/timetable", get(school))
        .route("/groups/{group_id}/timetable", get(group_week))
        .merge(edit::router())
        .merge(import_page::router())
}

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    #[serde(default)]
    week: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "timetable/week.html")]
pub struct WeekPage {
    pub ui: Ui,
    pub title: String,
    pub subtitle: Option<String>,
    pub week: Week,
    /// Link each lesson's group to its week (staff views).
    pub link_groups: bool,
    pub show_group: bool,
    /// The office's link to change the group's lessons.
    pub edit_href: Option<String>,
    /// Schools whose timetables the viewer may open (the staff's own page).
    pub schools: Vec<SchoolRow>,
}

/// Build a week page for `target`.
async fn week_for(mut conn: crate::db::Conn<'_>, ui: &Ui, target: Target, base: &str, q: &WeekQuery) -> Result<Week> {
    let today = queries::today(conn.re()).await?;
    let monday = week::monday_of(q.week.as_deref(), today);
    let lessons = queries::week_lessons(conn.re(), target, monday).await?;
    let mut schools = queries::home_schools(conn.re(), target, monday).await?;
    schools.extend(lessons.iter().map(|l| l.school_id));
    schools.sort();
    schools.dedup();
    let days = queries::school_days(conn.re(), &schools, monday).await?;
    Ok(week::build(ui.lang, base, monday, today, lessons, &days))
}

#[derive(askama::Template)]
#[template(path = "timetable/children.html")]
pub struct ChildrenPage {
    pub ui: Ui,
    pub children: Vec<crate::pupils::queries::ChildRow>,
}

/// "My timetable": a pupil's own week, a guardian's children to choose from, a staff
/// member's own teaching week (and the schools' timetables they may open).
async fn mine(mut work: Work, ui: Ui, Query(q): Query<WeekQuery>) -> Result<Response> {
    let actor = work.actor();
    match actor.audience {
        Audience::Pupil => Ok(Redirect::to(&format!("/pupils/{}/timetable", actor.person_id)).into_response()),
        Audience::Guardian => {
            // Only children whose whereabouts are not protected from this guardian.
            let placed = actor.placed_children();
            let children = crate::pupils::queries::children(work.conn(), &placed, &placed).await?;
            work.commit().await?;
            match children.as_slice() {
                [] => Err(AppError::NotFound),
                [one] => Ok(Redirect::to(&format!("/pupils/{}/timetable", one.id)).into_response()),
                _ => Ok(render(&ChildrenPage { ui, children })),
            }
        }
        Audience::Staff => {
            let week = week_for(work.conn(), &ui, Target::Teacher(actor.person_id), "/timetable", &q).await?;
            let ids = policy::timetable_schools(work.conn(), &actor).await?;
            let schools = queries::schools(work.conn(), &ids).await?;
            work.commit().await?;
            Ok(render(&WeekPage {
                title: ui.t("timetable.my_week").to_owned(),
                subtitle: None,
                week,
                link_groups: !schools.is_empty(),
                show_group: true,
                edit_href: None,
                schools,
                ui,
            }))
        }
    }
}

async fn pupil_week(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response> {
    let pupil_id = path_id(&pupil_id)?;
    let actor = work.actor();
    let access = policy::pupil_timetable_access(work.conn(), &actor, pupil_id).await?;
    let (given, family) = queries::person_name(work.conn(), pupil_id).await?.ok_or(AppError::NotFound)?;
    let base = format!("/pupils/{pupil_id}/timetable");
    let week = week_for(work.conn(), &ui, Target::Pupil(pupil_id), &base, &q).await?;
    work.audit(&access, Action::Read, Resource::PupilTimetable, Some(pupil_id), &[pupil_id]).await?;
    work.commit().await?;
    Ok(render(&WeekPage {
        title: ui.t("timetable.title").to_owned(),
        subtitle: Some(format!("{given} {family}")),
        week,
        link_groups: actor.is_staff(),
        show_group: true,
        edit_href: None,
        schools: Vec::new(),
        ui,
    }))
}

async fn group_week(
    mut work: Work,
    ui: Ui,
    Path(group_id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> Result<Response> {
    let group_id = path_id(&group_id)?;
    let actor = work.actor();
    let access = policy::group_timetable_access(work.conn(), &actor, group_id).await?;
    let group = queries::group(work.conn(), group_id).await?.ok_or(AppError::NotFound)?;
    let base = format!("/groups/{group_id}/timetable");
    let week = week_for(work.conn(), &ui, Target::Group(group_id), &base, &q).await?;
    work.commit().await?;
    Ok(render(&WeekPage {
        title: ui.tf("timetable.group_title", "group", &group.name),
        subtitle: Some(group.school_name),
        week,
        link_groups: false,
        show_group: false,
        edit_href: access.may_edit.then(|| format!("/groups/{group_id}/lessons")),
        schools: Vec::new(),
        ui,
    }))
}

#[derive(askama::Template)]
#[template(path = "timetable/school.html")]
pub struct SchoolPage {
    pub ui: Ui,
    pub school: SchoolRow,
    pub classes: Vec<GroupRow>,
    pub teaching: Vec<GroupRow>,
    pub may_edit: bool,
}

/// A school's groups, each with a link to its week (and, for the office, to its lessons).
async fn school(mut work: Work, ui: Ui, Path(school_id): Path<String>) -> Result<Response> {
    let school_id = path_id(&school_id)?;
    let access = policy::school_timetable_access(&work.actor(), school_id)?;
    let school = queries::schools(work.conn(), &[school_id]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    let today = queries::today(work.conn()).await?;
    let groups = queries::school_groups(work.conn(), school_id, today).await?;
    work.commit().await?;
    let (classes, teaching) = groups.into_iter().partition(|g| g.kind == "base");
    Ok(render(&SchoolPage { ui, school, classes, teaching, may_edit: access.may_edit }))
}
