//! Emergency notices (issue 19, point 5): who alerts a school's guardians, and who
//! follows the crisis page.
//!
//! The school's principal and office clerk, and nobody else: a notice goes to every
//! guardian of the school by SMS, which cannot be withdrawn. Staff sign in through
//! Feide with the municipality's multi-factor level (`auth::oidc::flow` refuses a staff
//! sign-in without it), so a notice is always sent from a multi-factor session outside
//! the demo.

use uuid::Uuid;

use super::actor::*;
use crate::db::Conn;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

const EMERGENCY_ROLES: [Role; 2] = [Role::Principal, Role::OfficeClerk];

/// The actor alerts `school_id`'s guardians and follows its notices, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct EmergencyAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor send and follow emergency notices of `school`? Not found otherwise.
pub fn emergency_access(actor: &Actor, school: Uuid) -> Result<EmergencyAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let role = actor.at_school(school, &EMERGENCY_ROLES).ok_or(AppError::NotFound)?;
    Ok(EmergencyAccess { school_id: school, role, purpose: Purpose::EmergencyPreparedness })
}

/// The same, for the school of the notice `notice`.
pub async fn notice_access(mut conn: Conn<'_>, actor: &Actor, notice: Uuid) -> Result<EmergencyAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> =
        sqlx::query_scalar("SELECT n.school_id FROM emergency_notices n WHERE n.tenant_id = $1 AND n.id = $2")
            .bind(conn.tenant)
            .bind(notice)
            .fetch_optional(&mut *conn)
            .await?;
    emergency_access(actor, school.ok_or(AppError::NotFound)?)
}

/// The schools whose emergency notices the actor sends.
pub fn emergency_schools(actor: &Actor) -> Vec<Uuid> {
    let mut schools: Vec<Uuid> = actor
        .grants
        .iter()
        .filter(|g| actor.is_staff() && EMERGENCY_ROLES.contains(&g.role))
        .filter_map(|g| g.school_id)
        .collect();
    schools.sort();
    schools.dedup();
    schools
}

impl Actor {
    /// Whether the menu links to emergency notices.
    pub fn may_send_emergency_notices(&self) -> bool {
        !emergency_schools(self).is_empty()
    }
}

access_in_role!(EmergencyAccess);
