//! The municipality's features (`/admin/features`): SMS, answers to group messages and
//! pupils' messages are off until the system administrator turns them on
//! (messaging.md rule 7, M12). Each change is one transaction with its audit row.

use axum::extract::rejection::FormRejection;
use axum::extract::Query;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::messages::DoneQuery;
use crate::policy::{self, features, Feature};
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::render;
use crate::work::Work;

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new().route("/admin/features", get(list).post(set))
}

/// A feature's row on the page.
pub struct FeatureRow {
    pub code: &'static str,
    pub label_key: String,
    pub text_key: String,
    pub on: bool,
}

#[derive(askama::Template)]
#[template(path = "admin/features.html")]
pub struct FeaturesPage {
    pub ui: Ui,
    pub rows: Vec<FeatureRow>,
    pub done: bool,
}

async fn list(mut work: Work, ui: Ui, Query(q): Query<DoneQuery>) -> Result<Response> {
    policy::feature_admin(&work.actor())?;
    let rows = features::all(work.conn())
        .await?
        .into_iter()
        .map(|(f, on, _)| FeatureRow { code: f.code(), label_key: f.label_key(), text_key: f.text_key(), on })
        .collect();
    work.commit().await?;
    Ok(render(&FeaturesPage { ui, rows, done: q.done == "saved" }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub feature: String,
    /// `1`: on, `0`: off.
    #[serde(default)]
    pub enabled: String,
}

/// Turn one feature on or off. A form no page of ours sends is a bad request.
async fn set(mut work: Work, form: std::result::Result<Form<FeatureForm>, FormRejection>) -> Result<Response> {
    let access = policy::feature_admin(&work.actor())?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let feature = Feature::from_code(&form.feature).ok_or(AppError::BadRequest)?;
    let enabled = match form.enabled.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest),
    };
    let me = work.actor().person_id;
    let changed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO tenant_features (tenant_id, feature, enabled, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, feature) DO UPDATE SET enabled = $3, changed_by = $4, changed_at = $5 \
         WHERE tenant_features.enabled <> $3 RETURNING changed_by",
    )
    .bind(work.tenant())
    .bind(feature.code())
    .bind(enabled)
    .bind(me)
    .bind(time::OffsetDateTime::now_utc())
    .fetch_optional(&mut *work.conn())
    .await?;
    // Pressing "turn on" for a feature that is on changes nothing and audits nothing.
    if changed.is_some() {
        work.audit(&access, Action::Update, Resource::TenantFeatures, None, &[]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to("/admin/features?done=saved").into_response())
}
