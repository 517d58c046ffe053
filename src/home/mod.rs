//! The start page: a welcome for visitors, and for a signed-in person a card for each
//! place in their menu (`web::places`), and for a pupil or guardian the people's cards.

use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::error::Result;
use crate::policy::Audience;
use crate::pupils::queries::{self, ChildRow};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::places::{places_for, Place};
use crate::web::render;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show))
}

#[derive(askama::Template)]
#[template(path = "home/start.html")]
pub struct StartPage {
    pub ui: Ui,
    /// The places the person has: the same list, and the same policy answers, as the
    /// main menu.
    pub places: Vec<&'static Place>,
    pub children: Vec<ChildRow>,
    pub own_card: Option<String>,
}

async fn show(work: Option<Work>, ui: Ui) -> Result<Response> {
    let Some(mut work) = work else {
        return Ok(render(&StartPage { ui, places: Vec::new(), children: Vec::new(), own_card: None }));
    };
    let actor = work.actor();
    let children = if actor.audience == Audience::Guardian && !actor.children.is_empty() {
        queries::children(work.conn(), &actor.children, &actor.placed_children()).await?
    } else {
        Vec::new()
    };
    work.commit().await?;
    Ok(render(&StartPage {
        places: places_for(&actor).collect(),
        own_card: (actor.audience == Audience::Pupil).then(|| format!("/pupils/{}", actor.person_id)),
        children,
        ui,
    }))
}
