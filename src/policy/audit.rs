//! The audit log: who reads it, and a principal's view of their schools' pupils.

use uuid::Uuid;

use super::actor::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// Identity and access administration: the audit log and the role mapping
// ---------------------------------------------------------------------------------

/// Roles that read the whole tenant's audit log. The data protection officer reviews
/// it (personvernombud); the system administrator has full access (DOMAIN.md).
const AUDIT_LOG_READERS: [Role; 2] = [Role::DataProtectionOfficer, Role::SystemAdmin];

/// The actor may read the tenant's audit log, acting as `role`.
#[derive(Debug, Clone)]
pub struct AuditLogAccess {
    pub role: Role,
    pub purpose: Purpose,
    /// `None`: the whole municipality's log. `Some(schools)`: a principal's view, only
    /// events about pupils who are or were enrolled at these schools (who looked at or
    /// changed pupil X of my school), naming only the people a principal may name (see
    /// `audit_log::queries::nameable`): those pupils, their guardians, and staff. Anyone
    /// else stays "unknown person", and their id is never put in the page, nor resolved
    /// when posted as either filter.
    pub schools: Option<Vec<Uuid>>,
    /// Whether the IP addresses of guardians and pupils are shown (staff's always are):
    /// only to the data protection officer and the system administrator.
    pub sees_citizen_ips: bool,
}

/// May the actor read the audit log? Not found otherwise (the page is not announced).
pub fn audit_log_access(actor: &Actor) -> Result<AuditLogAccess> {
    if let Some(role) = actor.tenant_wide(&AUDIT_LOG_READERS) {
        return Ok(AuditLogAccess { role, purpose: Purpose::AuditReview, schools: None, sees_citizen_ips: true });
    }
    let mut schools: Vec<Uuid> = actor
        .grants
        .iter()
        .filter(|g| actor.is_staff() && g.role == Role::Principal)
        .filter_map(|g| g.school_id)
        .collect();
    schools.sort();
    schools.dedup();
    if schools.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(AuditLogAccess {
        role: Role::Principal,
        purpose: Purpose::AuditReview,
        schools: Some(schools),
        sees_citizen_ips: false,
    })
}

access_in_role!(AuditLogAccess);

impl Actor {
    /// Whether the actor may open the audit log (see [`audit_log_access`]).
    pub fn may_view_audit(&self) -> bool {
        audit_log_access(self).is_ok()
    }
}
