//! Features a municipality turns on (messaging.md rule 7, M12): off in a new
//! municipality, turned on and off by its system administrator alone, each change
//! audited. The pages that depend on one ask here.

use uuid::Uuid;

use super::actor::*;
use crate::db::Conn;
use crate::domain::coded::coded_enum;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

coded_enum! {
    /// A feature that is off until the municipality turns it on.
    pub enum Feature {
        /// SMS to guardians (emergency notices); without it they go by e-mail only.
        Sms = "sms",
        /// Guardians answering a group message (privately, to its sender).
        GroupReplies = "group_replies",
        /// Pupils writing to their teachers (from grade 5; not built yet).
        PupilMessaging = "pupil_messaging",
    }
}

impl Feature {
    pub fn label_key(self) -> String {
        format!("features.{}", self.code())
    }
    pub fn text_key(self) -> String {
        format!("features.{}_text", self.code())
    }
}

/// SQL that is true when `feature` is on in the municipality of `tenant` (a
/// placeholder such as `$1`).
pub fn enabled_sql(feature: Feature, tenant: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM tenant_features tf WHERE tf.tenant_id = {tenant} AND tf.feature = '{}' \
           AND tf.enabled)",
        feature.code()
    )
}

/// Whether `feature` is on in the transaction's municipality.
pub async fn enabled(mut conn: Conn<'_>, feature: Feature) -> Result<bool> {
    Ok(sqlx::query_scalar(&format!("SELECT {}", enabled_sql(feature, "$1")))
        .bind(conn.tenant)
        .fetch_one(&mut *conn)
        .await?)
}

/// Each feature and whether it is on, with who changed it last.
pub async fn all(mut conn: Conn<'_>) -> Result<Vec<(Feature, bool, Option<Uuid>)>> {
    let rows: Vec<(String, bool, Uuid)> =
        sqlx::query_as("SELECT feature, enabled, changed_by FROM tenant_features WHERE tenant_id = $1")
            .bind(conn.tenant)
            .fetch_all(&mut *conn)
            .await?;
    Ok(Feature::ALL
        .iter()
        .map(|f| match rows.iter().find(|r| r.0 == f.code()) {
            Some((_, on, by)) => (*f, *on, Some(*by)),
            None => (*f, false, None),
        })
        .collect())
}

/// The actor turns the municipality's features on and off, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct FeatureAdmin {
    pub role: Role,
    pub purpose: Purpose,
}

/// Who turns features on and off? The municipality's system administrator. Not found
/// otherwise.
pub fn feature_admin(actor: &Actor) -> Result<FeatureAdmin> {
    let role = actor.tenant_wide(&[Role::SystemAdmin]).ok_or(AppError::NotFound)?;
    Ok(FeatureAdmin { role, purpose: Purpose::SystemAdministration })
}

impl Actor {
    /// Whether the menu links to the features page.
    pub fn may_manage_features(&self) -> bool {
        feature_admin(self).is_ok()
    }
}

access_in_role!(FeatureAdmin);
