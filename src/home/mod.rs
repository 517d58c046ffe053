//! The start page: a welcome for visitors, and for a signed-in person the places
//! their role leads to.

use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::error::Result;
use crate::policy::Audience;
use crate::pupils::queries::{self, ChildRow};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::render;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show))
}

#[derive(askama::Template)]
#[template(path = "home/start.html")]
pub struct StartPage {
    pub ui: Ui,
    pub may_list_pupils: bool,
    pub may_view_audit: bool,
    pub may_manage_role_mappings: bool,
    pub children: Vec<ChildRow>,
    pub own_card: Option<String>,
}

async fn show(work: Option<Work>, ui: Ui) -> Result<Response> {
    let Some(mut work) = work else {
        return Ok(render(&StartPage {
            ui,
            may_list_pupils: false,
            may_view_audit: false,
            may_manage_role_mappings: false,
            children: Vec::new(),
            own_card: None,
        }));
    };
    let actor = work.actor();
    let children = if actor.audience == Audience::Guardian && !actor.children.is_empty() {
        queries::children(work.conn(), &actor.children, &actor.placed_children()).await?
    } else {
        Vec::new()
    };
    work.commit().await?;
    Ok(render(&StartPage {
        may_list_pupils: actor.may_list_pupils(),
        may_view_audit: actor.may_view_audit(),
        may_manage_role_mappings: actor.may_manage_role_mappings(),
        own_card: (actor.audience == Audience::Pupil).then(|| format!("/pupils/{}", actor.person_id)),
        children,
        ui,
    }))
}
