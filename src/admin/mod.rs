//! Administration of the municipality's own set-up by its system administrator.
//! First: the role mapping (which position code at which kind of workplace gives
//! which role).

pub mod features;
pub mod role_mappings;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(role_mappings::router()).merge(features::router())
}
