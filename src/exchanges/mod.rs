//! The municipality's roster for systems outside Tavle (issue 18, point 11), exported
//! by the system administrator, who keeps the school owner's provisioning:
//!
//! - `/exchanges/pifu.xml`: PIFU-IMS 1.3 for the user administration that provisions
//!   Feide (purpose `feide_provisioning`); the one export with national id numbers
//!   (pupils' and staff's), because Feide requires them;
//! - `/exchanges/oneroster.zip`: OneRoster 1.2 CSV for a learning platform (purpose
//!   `learning_platform`); no national id number.
//!
//! `tavle export pifu|oneroster FILE --tenant SLUG` writes the same files from the
//! command line, for the school owner's daily provisioning ([`export`]).
//!
//! Neither carries an address, so neither can carry a protected one. Each download is
//! one audit row with its purpose and every person in the file. The page
//! (`/exchanges`) says what each file holds and is for. Both read the whole
//! municipality, so each holds an [`ExpensiveSlot`] while it runs.

mod command;
pub mod oneroster;
pub mod pifu;
pub mod roster;

pub use command::{export, Format};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, Purpose};
use crate::state::AppState;
use crate::web::expensive::ExpensiveSlot;
use crate::web::layout::Ui;
use crate::web::render_with;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/exchanges", get(show))
        .route("/exchanges/pifu.xml", get(pifu_file))
        .route("/exchanges/oneroster.zip", get(oneroster_file))
}

#[derive(askama::Template)]
#[template(path = "exchanges/show.html")]
pub struct ExchangesPage {
    pub ui: Ui,
    /// The school year the files describe, if the municipality has one from today.
    pub year: Option<String>,
}

/// The page: what each file holds and is for. It names nobody.
pub async fn show(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    policy::roster_export_access(&actor, Purpose::FeideProvisioning)?;
    let today = crate::db::current_date(work.conn()).await?;
    let year = roster::year(work.conn(), today).await?.map(|y| y.name);
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &ExchangesPage { ui, year }))
}

/// A file to download, never cached.
fn download(name: &'static str, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static(name)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// The roster's file in `format`, its export recorded; `None` without a school year.
async fn exported(work: &mut Work, format: Format) -> Result<Option<Vec<u8>>> {
    let actor = work.actor();
    let access = policy::roster_export_access(&actor, format.purpose())?;
    let today = crate::db::current_date(work.conn()).await?;
    let Some(roster) = roster::load(work.conn(), today).await? else {
        return Ok(None);
    };
    let mut body = Vec::new();
    format.write(&roster, &mut body).map_err(AppError::Internal)?;
    work.audit(&access, Action::Export, Resource::Roster, None, &roster.person_ids()).await?;
    Ok(Some(body))
}

/// The PIFU-IMS document for Feide provisioning.
pub async fn pifu_file(_slot: ExpensiveSlot, mut work: Work) -> Result<Response> {
    let Some(body) = exported(&mut work, Format::Pifu).await? else {
        return Ok(Redirect::to("/exchanges").into_response());
    };
    work.commit().await?;
    Ok(download("attachment; filename=\"tavle-pifu.xml\"", "application/xml; charset=utf-8", body))
}

/// The OneRoster files for a learning platform.
pub async fn oneroster_file(_slot: ExpensiveSlot, mut work: Work) -> Result<Response> {
    let Some(body) = exported(&mut work, Format::Oneroster).await? else {
        return Ok(Redirect::to("/exchanges").into_response());
    };
    work.commit().await?;
    Ok(download("attachment; filename=\"tavle-oneroster.zip\"", "application/zip", body))
}
