//! The start page: a welcome for visitors, and for a signed-in person the places
//! their role leads to.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::auth::Ctx;
use crate::db;
use crate::error::Result;
use crate::policy::Audience;
use crate::pupils::queries::{self, ChildRow};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::render;

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

async fn show(State(state): State<AppState>, ui: Ui, ctx: Option<Ctx>) -> Result<Response> {
    let Some(ctx) = ctx else {
        return Ok(render(&StartPage {
            ui,
            may_list_pupils: false,
            may_view_audit: false,
            may_manage_role_mappings: false,
            children: Vec::new(),
            own_card: None,
        }));
    };
    let actor = &ctx.actor;
    let children = if actor.audience == Audience::Guardian && !actor.children.is_empty() {
        let mut tx = db::begin(&state.db, actor.tenant_id).await?;
        let rows = queries::children(&mut tx, &actor.children, &actor.placed_children()).await?;
        tx.commit().await?;
        rows
    } else {
        Vec::new()
    };
    Ok(render(&StartPage {
        may_list_pupils: actor.may_list_pupils(),
        may_view_audit: actor.may_view_audit(),
        may_manage_role_mappings: actor.may_manage_role_mappings(),
        own_card: (actor.audience == Audience::Pupil).then(|| format!("/pupils/{}", actor.person_id)),
        children,
        ui,
    }))
}
