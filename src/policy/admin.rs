//! Identity and access administration: the role mapping.

use crate::db::Conn;

use super::actor::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

use crate::domain::role::WorkplaceKind;

/// The actor may edit the tenant's role mapping, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct RoleMappingAdmin {
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor see and edit the role mapping (workplace kind × position code →
/// role)? Only a municipality-wide system administrator: the mapping decides
/// everyone's access. Not found otherwise.
pub fn role_mapping_admin(actor: &Actor) -> Result<RoleMappingAdmin> {
    let role = actor.tenant_wide(&[Role::SystemAdmin]).ok_or(AppError::NotFound)?;
    Ok(RoleMappingAdmin { role, purpose: Purpose::SystemAdministration })
}

impl Actor {
    /// Whether the actor may open the role mapping (for the navigation).
    pub fn may_manage_role_mappings(&self) -> bool {
        role_mapping_admin(self).is_ok()
    }

    /// Whether the actor may export the municipality's roster (for the navigation).
    pub fn may_export_rosters(&self) -> bool {
        roster_export_access(self, Purpose::FeideProvisioning).is_ok()
    }
}

/// The actor exports the whole municipality's roster (pupils, staff, guardians, schools,
/// groups and memberships) for `purpose`, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct RosterExportAccess {
    pub role: Role,
    pub purpose: Purpose,
}

/// Who exports the roster for Feide (with national id numbers, which Feide needs) or
/// for a learning platform (without)? Only a municipality-wide system administrator,
/// who keeps the school owner's provisioning: a whole municipality's pupils leave
/// Tavle in one file. IT support, though it has full access for support, does not
/// export; nor does a school's office (its lists are per school). Not found otherwise.
pub fn roster_export_access(actor: &Actor, purpose: Purpose) -> Result<RosterExportAccess> {
    let role = actor.tenant_wide(&[Role::SystemAdmin]).ok_or(AppError::NotFound)?;
    Ok(RosterExportAccess { role, purpose })
}

/// Would the actor still be a municipality-wide system administrator if the mapping
/// for (`kind`, `code`) were removed (`new_role` `None`) or pointed at `new_role`?
/// An administrator may not take away their own access to the mapping: nobody could
/// then put it back through Tavle. Mirrors how `auth::session` derives grants.
pub async fn keeps_own_admin_access(
    mut conn: Conn<'_>,
    actor: &Actor,
    kind: WorkplaceKind,
    code: &str,
    new_role: Option<Role>,
) -> Result<bool> {
    if new_role == Some(Role::SystemAdmin) {
        return Ok(true);
    }
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM employments e \
           JOIN role_mappings rm ON rm.tenant_id = e.tenant_id AND rm.position_code = e.position_code \
                AND rm.workplace_kind = 'municipal' \
           WHERE e.tenant_id = $1 AND e.staff_id = $2 AND e.school_id IS NULL AND rm.role = $3 \
             AND NOT (rm.workplace_kind = $4 AND rm.position_code = $5) \
             AND NOT e.on_leave AND e.from_date <= tavle_today() \
             AND (e.to_date IS NULL OR e.to_date > tavle_today()))",
    )
    .bind(conn.tenant)
    .bind(actor.person_id)
    .bind(Role::SystemAdmin.code())
    .bind(kind.code())
    .bind(code)
    .fetch_one(&mut *conn)
    .await?)
}

access_in_role!(RoleMappingAdmin, RosterExportAccess);
