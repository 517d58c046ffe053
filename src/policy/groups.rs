//! Classes and groups, and moving pupils: who keeps a school's groups, and who moves a
//! pupil between classes, schools and municipalities.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use super::pupils::{office_for_pupil, OFFICE};
use crate::domain::role::Role;
use crate::error::{AppError, Result};

/// The actor works in the office of `school_id` (its classes and groups, its rollover,
/// registering new pupils), acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct SchoolOfficeAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// Who creates, renames and closes a school's classes and groups, and places pupils and
/// teachers in them? The office and leaders of that school. Not found otherwise.
pub fn school_groups_access(actor: &Actor, school: Uuid) -> Result<SchoolOfficeAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let role = actor.at_school(school, &OFFICE).ok_or(AppError::NotFound)?;
    Ok(SchoolOfficeAccess { school_id: school, role, purpose: Purpose::for_role(role) })
}

/// Who registers a new pupil at a school (one not in the population register yet, or
/// moving in, or a guest pupil)? The office and leaders of that school.
pub fn pupil_registration_access(actor: &Actor, school: Uuid) -> Result<SchoolOfficeAccess> {
    school_groups_access(actor, school)
}

/// The office exports a list of `school_id` for a stated purpose (a class list, the
/// guardians' addresses for letters), acting as `role`: the purpose goes in the audit row.
#[derive(Debug, Clone, Copy)]
pub struct ExportAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// Who exports a school's class lists and its guardians' addresses for letters? The
/// office and leaders of that school, each export for its own purpose.
pub fn school_export_access(actor: &Actor, school: Uuid, purpose: Purpose) -> Result<ExportAccess> {
    let office = school_groups_access(actor, school)?;
    Ok(ExportAccess { school_id: school, role: office.role, purpose })
}

/// The same for one group: the office and leaders of the group's school.
pub async fn group_access(mut conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<SchoolOfficeAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> =
        sqlx::query_scalar("SELECT g.school_id FROM groups g WHERE g.tenant_id = $1 AND g.id = $2")
            .bind(conn.tenant)
            .bind(group)
            .fetch_optional(&mut *conn)
            .await?;
    school_groups_access(actor, school.ok_or(AppError::NotFound)?)
}

/// The actor moves `pupil_id`, who attends `school_id` today, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct PupilMoveAccess {
    pub pupil_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// Who moves a pupil to another class, another school or out of the municipality? The
/// office and leaders of a school the pupil attends today: the school the pupil leaves.
/// Not found otherwise.
pub async fn pupil_move_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<PupilMoveAccess> {
    let (school, role) = office_for_pupil(conn, actor, pupil).await?;
    Ok(PupilMoveAccess { pupil_id: pupil, school_id: school, role, purpose: Purpose::for_role(role) })
}

access_in_role!(SchoolOfficeAccess, PupilMoveAccess, ExportAccess);
