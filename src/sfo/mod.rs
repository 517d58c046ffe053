//! SFO (after-school care) attendance: SFO staff record when each child arrived, when
//! the child went home and who collected the child, for the children of their own
//! school's SFO.
//!
//! - `attendance`: an SFO group's day list with "arrived now" / "left now" buttons
//!   and corrections, saved once per child and day;
//! - `page`: that page's view; `queries`, `domain`: its data and values;
//! - `pickup`: a child's pick-up permissions, given by the guardians (or recorded by
//!   the office on their behalf).
//!
//! Who collected is chosen from the child's list (guardians with parental
//! responsibility and the contact persons they have given a pick-up permission) or is
//! one of the codes the guardians' word allows (home alone, school transport; an
//! activity always); there is no free text. `/sfo` lists a staff member's SFO groups,
//! and shows a guardian their children's SFO day.

mod attendance;
pub mod domain;
mod page;
mod pickup;
pub mod queries;

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::domain::date as dates;
use crate::error::Result;
use crate::policy::{self, Audience};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::render;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new()
        .route("/sfo", get(entry))
        .route("/sfo/groups/{group_id}/attendance", get(attendance::show))
        .route("/sfo/groups/{group_id}/attendance/{pupil_id}", post(attendance::record))
        // A child's pick-up permissions: the guardians, or the office on their behalf.
        .route("/sfo/children/{pupil_id}/pickup", get(pickup::show).post(pickup::save))
}

#[derive(askama::Template)]
#[template(path = "sfo/groups.html")]
pub struct GroupsPage {
    pub ui: Ui,
    pub groups: Vec<queries::SfoGroupRow>,
    pub today: time::Date,
}

impl GroupsPage {
    pub fn today_label(&self) -> String {
        dates::display_date(self.today)
    }
    pub fn here(&self, g: &queries::SfoGroupRow) -> i64 {
        g.arrived - g.gone
    }
}

#[derive(askama::Template)]
#[template(path = "sfo/children.html")]
pub struct ChildrenPage {
    pub ui: Ui,
    pub children: Vec<queries::GuardianChildRow>,
    pub today: time::Date,
}

impl ChildrenPage {
    pub fn today_label(&self) -> String {
        dates::display_date(self.today)
    }
    pub fn any_in_sfo(&self) -> bool {
        self.children.iter().any(|c| c.group_name.is_some())
    }
    pub fn time(&self, t: &Option<time::Time>) -> String {
        t.map(dates::display_time).unwrap_or_default()
    }
    pub fn collector(&self, c: &queries::GuardianChildRow) -> String {
        match (&c.collector_name, c.collected_by_code.as_deref().and_then(domain::LeaveCode::from_code)) {
            (Some(name), _) => name.clone(),
            (None, Some(code)) => self.ui.t(code.label_key()).to_owned(),
            (None, None) => String::new(),
        }
    }
}

/// Where "SFO" in the menu leads: the staff member's SFO groups today (straight to the
/// only one), or a guardian's children's SFO day.
async fn entry(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    let (today, _) = queries::now(work.conn()).await?;
    if actor.audience == Audience::Guardian {
        let access = policy::sfo_guardian_children(&actor)?;
        let children = queries::guardian_children(work.conn(), &access.children, today).await?;
        let shown: Vec<Uuid> = children.iter().filter(|c| c.group_name.is_some()).map(|c| c.id).collect();
        work.audit(&access, Action::Read, Resource::SfoAttendance, None, &shown).await?;
        work.commit().await?;
        return Ok(render(&ChildrenPage { ui, children, today }));
    }
    let scope = policy::sfo_overview_scope(&actor)?;
    let groups = queries::groups(work.conn(), scope.schools.as_deref(), today).await?;
    work.commit().await?;
    if let [only] = groups.as_slice() {
        return Ok(Redirect::to(&format!("/sfo/groups/{}/attendance", only.id)).into_response());
    }
    Ok(render(&GroupsPage { ui, groups, today }))
}
