//! The timetable: week views, editing a group's lessons, a school's import.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use super::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// The timetable: week views, editing a group's lessons, the school's import
// ---------------------------------------------------------------------------------

/// School roles that see every group's week at their school (in this order of capability).
const TIMETABLE_SCHOOL_READERS: [Role; 5] =
    [Role::Principal, Role::OfficeClerk, Role::DepartmentHead, Role::Teacher, Role::SfoStaff];

/// The actor may read a pupil's week, acting as `role` (None: as guardian or as the pupil).
#[derive(Debug, Clone, Copy)]
pub struct PupilTimetableAccess {
    pub pupil_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
}

/// May the actor see `pupil`'s week? Whoever may open the pupil's card (which already
/// lists the pupil's groups) may, except the billing officer, whose duty (SFO payment)
/// needs no timetable. Not found otherwise.
pub async fn pupil_timetable_access(mut conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<PupilTimetableAccess> {
    let card = pupil_card_access(conn.re(), actor, pupil).await?;
    if !card_shows_timetable(&card) {
        return Err(AppError::NotFound);
    }
    Ok(PupilTimetableAccess { pupil_id: pupil, acting_as: card.acting_as, purpose: card.purpose })
}

/// Whether a viewer with this access to the pupil card may also see the pupil's week
/// (for the card's link).
pub fn card_shows_timetable(card: &PupilCardAccess) -> bool {
    card.acting_as != Some(Role::BillingOfficer) && !card.whereabouts_protected
}

/// The actor may see a school's timetable (its groups' weeks), acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct SchoolTimetableAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// May also change lessons and import the school's timetable.
    pub may_edit: bool,
}

/// May the actor see the timetable of `school`? Staff of the school (any school role)
/// and the municipality-wide readers. Not found otherwise.
pub fn school_timetable_access(actor: &Actor, school: Uuid) -> Result<SchoolTimetableAccess> {
    let role = actor
        .at_school(school, &TIMETABLE_SCHOOL_READERS)
        .or_else(|| actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS))
        .ok_or(AppError::NotFound)?;
    Ok(SchoolTimetableAccess {
        school_id: school,
        role,
        purpose: Purpose::for_role(role),
        may_edit: timetable_editor(actor, school).is_ok(),
    })
}

/// The schools whose timetable the actor may open: the same as the pupil lists.
pub async fn timetable_schools(mut conn: Conn<'_>, actor: &Actor) -> Result<Vec<Uuid>> {
    pupil_list_schools(conn.re(), actor).await
}

/// May the actor see the week of `group`? As for its school. Not found otherwise
/// (also when the group does not exist).
pub async fn group_timetable_access(mut conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<SchoolTimetableAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> = sqlx::query_scalar("SELECT school_id FROM groups WHERE tenant_id = $1 AND id = $2")
        .bind(conn.tenant)
        .bind(group)
        .fetch_optional(&mut *conn)
        .await?;
    school_timetable_access(actor, school.ok_or(AppError::NotFound)?)
}

/// The actor may change the lessons of a school's groups and import its timetable.
#[derive(Debug, Clone, Copy)]
pub struct TimetableEditor {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor edit `school`'s timetable? The school's office (office clerk,
/// principal, department head) and the municipality's system administrator. Not
/// found otherwise.
pub fn timetable_editor(actor: &Actor, school: Uuid) -> Result<TimetableEditor> {
    let role = actor
        .at_school(school, &SCHOOL_ADMINISTRATORS)
        .or_else(|| actor.tenant_wide(&[Role::SystemAdmin]))
        .ok_or(AppError::NotFound)?;
    Ok(TimetableEditor { school_id: school, role, purpose: Purpose::for_role(role) })
}

access_in_role!(SchoolTimetableAccess, TimetableEditor);
access_acting_as!(PupilTimetableAccess);
