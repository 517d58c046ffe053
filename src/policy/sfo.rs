//! SFO attendance: who records and reads arrivals, departures and collectors.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use super::pupils::office_for_pupil;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// SFO attendance: arrival, departure and who collected the child
// ---------------------------------------------------------------------------------

/// School roles that record SFO attendance at their own school, in this order of
/// preference. SFO staff do it at the door (DOMAIN.md: "pupils enrolled at *their*
/// SFO"); the principal is responsible for the school's SFO, and the office
/// (principal, clerk, department head) stands in for absent staff and corrects a
/// mistake, so they may record and correct too. Teachers may not: a teacher who is
/// not SFO staff has no duty at the SFO door.
const SFO_RECORDERS: [Role; 4] = [Role::SfoStaff, Role::Principal, Role::OfficeClerk, Role::DepartmentHead];

/// Which SFO groups the actor may open: those of some schools, or (for the
/// municipality-wide readers) of every school.
#[derive(Debug, Clone)]
pub struct SfoOverviewScope {
    /// `None`: every school of the municipality (read only).
    pub schools: Option<Vec<Uuid>>,
}

/// May the actor open the list of SFO groups? Staff with an SFO recording role at a
/// school, and the municipality-wide readers (who read, never record). Not found
/// otherwise.
pub fn sfo_overview_scope(actor: &Actor) -> Result<SfoOverviewScope> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    if actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() {
        return Ok(SfoOverviewScope { schools: None });
    }
    let mut schools: Vec<Uuid> =
        actor.grants.iter().filter(|g| SFO_RECORDERS.contains(&g.role)).filter_map(|g| g.school_id).collect();
    schools.sort();
    schools.dedup();
    if schools.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(SfoOverviewScope { schools: Some(schools) })
}

/// The actor may see an SFO group's day list, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct SfoAttendanceAccess {
    pub group_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// May record arrivals and departures and correct them (else read only).
    pub may_record: bool,
}

impl SfoAttendanceAccess {
    /// Recording needs a recording role at the group's school. A reader who may see
    /// the list is refused (403): they plainly know it exists.
    pub fn recorder(&self) -> Result<()> {
        if self.may_record {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// May the actor see the day list of `group`, an SFO group? Staff with a recording
/// role at the group's own school record; the municipality-wide readers read. Not
/// found otherwise, also when the group is not an SFO group.
pub async fn sfo_attendance_access(mut conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<SfoAttendanceAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> =
        sqlx::query_scalar("SELECT school_id FROM groups WHERE tenant_id = $1 AND id = $2 AND kind = 'sfo'")
            .bind(conn.tenant)
            .bind(group)
            .fetch_optional(&mut *conn)
            .await?;
    let school = school.ok_or(AppError::NotFound)?;
    if let Some(role) = actor.at_school(school, &SFO_RECORDERS) {
        return Ok(SfoAttendanceAccess {
            group_id: group,
            school_id: school,
            role,
            purpose: Purpose::for_role(role),
            may_record: true,
        });
    }
    let role = actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS).ok_or(AppError::NotFound)?;
    Ok(SfoAttendanceAccess {
        group_id: group,
        school_id: school,
        role,
        purpose: Purpose::for_role(role),
        may_record: false,
    })
}

/// A guardian may see the SFO day of these children of theirs.
#[derive(Debug, Clone)]
pub struct SfoGuardianAccess {
    pub children: Vec<Uuid>,
    pub purpose: Purpose,
}

/// The children whose SFO day a guardian may see: those under their parental
/// responsibility (`Actor::children`) whose whereabouts are not protected from them.
/// Not found for anyone else.
pub fn sfo_guardian_children(actor: &Actor) -> Result<SfoGuardianAccess> {
    let placed = actor.placed_children();
    if actor.audience == Audience::Guardian && !placed.is_empty() {
        Ok(SfoGuardianAccess { children: placed, purpose: Purpose::GuardianAccess })
    } else {
        Err(AppError::NotFound)
    }
}

impl Actor {
    /// Whether the navigation shows "SFO": staff who may open the groups, guardians
    /// of children (whose page says when none of them is at SFO).
    pub fn may_open_sfo(&self) -> bool {
        sfo_overview_scope(self).is_ok() || sfo_guardian_children(self).is_ok()
    }
}

access_in_role!(SfoAttendanceAccess);
access_as_themself!(SfoGuardianAccess);

/// The actor may see and set a child's pick-up permissions: a guardian with parental
/// responsibility (`acting_as` None), or the school office on the guardians' behalf.
#[derive(Debug, Clone, Copy)]
pub struct PickupAccess {
    pub pupil_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
}

/// Who keeps a child's pick-up permissions? The guardians with parental responsibility
/// for a child whose whereabouts are not protected from them (Min side), and the
/// office and leaders of a school the child attends today (recording on the guardians'
/// behalf). Not found for anyone else.
pub async fn pickup_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<PickupAccess> {
    match actor.audience {
        Audience::Guardian if actor.placed_children().contains(&pupil) => {
            return Ok(PickupAccess { pupil_id: pupil, acting_as: None, purpose: Purpose::GuardianAccess });
        }
        Audience::Staff => {}
        _ => return Err(AppError::NotFound),
    }
    let (_, role) = office_for_pupil(conn, actor, pupil).await?;
    Ok(PickupAccess { pupil_id: pupil, acting_as: Some(role), purpose: Purpose::for_role(role) })
}

access_acting_as!(PickupAccess);

/// Which keeping pages a pupil's card links to for the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardLinks {
    /// The contact persons and the restrictions on guardians (the office).
    pub register: bool,
    /// The pick-up permissions (the office, a guardian with parental responsibility).
    pub pickup: bool,
    /// The manual guardian links (the principal).
    pub guardian_links: bool,
}

/// The card's links, with one lookup: for staff both answers are the office role of
/// [`pickup_access`] and `contact_persons_access`.
pub async fn card_links(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<CardLinks> {
    if actor.audience != Audience::Staff {
        let pickup = pickup_access(conn, actor, pupil).await.is_ok();
        return Ok(CardLinks { register: false, pickup, guardian_links: false });
    }
    let (office, principal) = match office_for_pupil(conn, actor, pupil).await {
        Ok((_, role)) => (true, role == crate::domain::role::Role::Principal),
        Err(AppError::NotFound) => (false, false),
        Err(e) => return Err(e),
    };
    Ok(CardLinks { register: office, pickup: office, guardian_links: principal })
}
