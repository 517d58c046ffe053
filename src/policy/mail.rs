//! Mail to guardians: a school's outbox.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// Mail to guardians: a school's outbox (delivery of the weekly absence summary)
// ---------------------------------------------------------------------------------

/// School roles that follow the delivery of their school's e-mail to guardians and
/// retry what failed: the school office (DOMAIN.md: "everything about … guardians at
/// the school where employed").
const MAIL_OUTBOX_SCHOOL_ROLES: [Role; 2] = [Role::OfficeClerk, Role::Principal];

/// The actor may see a school's outbox and retry its failed messages, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct MailOutboxAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor see `school`'s outbox? The school's office clerk or principal, and the
/// municipality's system administrator (who runs the mail service). The recipients are
/// guardians, whose contact details these roles see anyway. Not found otherwise.
pub fn mail_outbox_access(actor: &Actor, school: Uuid) -> Result<MailOutboxAccess> {
    let role = actor
        .at_school(school, &MAIL_OUTBOX_SCHOOL_ROLES)
        .or_else(|| actor.tenant_wide(&[Role::SystemAdmin]))
        .ok_or(AppError::NotFound)?;
    Ok(MailOutboxAccess { school_id: school, role, purpose: Purpose::for_role(role) })
}

/// The schools whose outbox the actor may open, in no particular order.
pub async fn mail_outbox_schools(mut conn: Conn<'_>, actor: &Actor) -> Result<Vec<Uuid>> {
    if actor.tenant_wide(&[Role::SystemAdmin]).is_some() {
        return Ok(sqlx::query_scalar("SELECT id FROM schools WHERE tenant_id = $1 ORDER BY name")
            .bind(conn.tenant)
            .fetch_all(&mut *conn)
            .await?);
    }
    let mut schools: Vec<Uuid> = actor
        .grants
        .iter()
        .filter(|g| actor.is_staff() && MAIL_OUTBOX_SCHOOL_ROLES.contains(&g.role))
        .filter_map(|g| g.school_id)
        .collect();
    schools.sort();
    schools.dedup();
    Ok(schools)
}

impl Actor {
    /// Whether the actor may open any school's outbox (for the navigation).
    pub fn may_view_mail_outbox(&self) -> bool {
        self.tenant_wide(&[Role::SystemAdmin]).is_some()
            || self
                .grants
                .iter()
                .any(|g| self.is_staff() && g.school_id.is_some() && MAIL_OUTBOX_SCHOOL_ROLES.contains(&g.role))
    }
}

access_in_role!(MailOutboxAccess);
