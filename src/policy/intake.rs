//! First-grade intake (issue 18, point 7): who sees the children who start school next
//! August, who asks for another school, who decides, and who places a child the school
//! districts cannot.
//!
//! The children are not pupils yet, so no guardianship gives access to them: a guardian
//! reaches a child through the population register's parents (`register_parents`) with
//! parental responsibility, and only to the intake (`Actor::starters`, read per request
//! with the session). A school's office sees the children its district or a decision
//! gives it and the requests for it; its leaders decide.

use uuid::Uuid;

use super::actor::*;
use super::pupils::OFFICE;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

/// Those of the school's office who decide a request and place a child: its leaders.
const LEADERS: [Role; 2] = [Role::Principal, Role::DepartmentHead];

/// The children starting school next August (`tavle_intake_year()`, migration
/// 20261231000200) of whom the person `p` is a parent with parental responsibility in
/// the population register ([`starting_school`]).
pub fn starters_sql(p: &str) -> String {
    format!(
        "SELECT rp.child_id FROM register_parents rp \
         JOIN persons c ON c.tenant_id = rp.tenant_id AND c.id = rp.child_id \
         WHERE rp.tenant_id = $1 AND c.tenant_id = $1 AND rp.parent_id = {p} AND rp.parental_responsibility \
           AND {starting} \
         ORDER BY c.birth_date, c.id",
        starting = starting_school("c")
    )
}

/// The person `c` starts school next August: born six years before the intake year,
/// alive, not moved out, and not at a school before it (one enrolled in grade 1 for it
/// still is). The one definition of a starter, for the session and the intake's pages.
pub fn starting_school(c: &str) -> String {
    format!(
        "{c}.birth_date >= make_date(tavle_intake_year() - 6, 1, 1) \
         AND {c}.birth_date < make_date(tavle_intake_year() - 5, 1, 1) \
         AND {c}.deceased_on IS NULL AND {c}.moved_out_on IS NULL \
         AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = {c}.id \
                           AND e.from_date < make_date(tavle_intake_year(), 8, 1))"
    )
}

/// The actor works `school_id`'s intake, acting as `role`; `decides`: a leader, who
/// decides requests and places children.
#[derive(Debug, Clone, Copy)]
pub struct IntakeAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    pub decides: bool,
}

/// Who sees a school's intake? Its office and leaders. Not found otherwise.
pub fn school_intake_access(actor: &Actor, school: Uuid) -> Result<IntakeAccess> {
    let role = actor.at_school(school, &OFFICE).ok_or(AppError::NotFound)?;
    Ok(IntakeAccess {
        school_id: school,
        role,
        purpose: Purpose::for_role(role),
        decides: actor.at_school(school, &LEADERS).is_some(),
    })
}

/// Who decides a request for the school, or places a child there? Its leaders; the
/// clerk, who sees the intake, is refused (403). Not found otherwise.
pub fn intake_decision_access(actor: &Actor, school: Uuid) -> Result<IntakeAccess> {
    let access = school_intake_access(actor, school)?;
    if !access.decides {
        return Err(AppError::Forbidden);
    }
    Ok(access)
}

/// A guardian's access to the intake of their children who start school.
#[derive(Debug, Clone)]
pub struct GuardianIntakeAccess {
    pub children: Vec<Uuid>,
    pub purpose: Purpose,
}

/// Who sees the intake on Min side? A guardian with a child starting school next
/// August. Not found otherwise.
pub fn guardian_intake_access(actor: &Actor) -> Result<GuardianIntakeAccess> {
    if actor.audience != Audience::Guardian || actor.starters.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(GuardianIntakeAccess { children: actor.starters.clone(), purpose: Purpose::GuardianAccess })
}

/// Who asks for another school for `child`? A guardian of whom the child is one of
/// the starters. Not found otherwise.
pub fn intake_request_access(actor: &Actor, child: Uuid) -> Result<GuardianIntakeAccess> {
    let access = guardian_intake_access(actor)?;
    if !access.children.contains(&child) {
        return Err(AppError::NotFound);
    }
    Ok(GuardianIntakeAccess { children: vec![child], purpose: access.purpose })
}

impl Actor {
    /// Whether Min side links to the intake.
    pub fn may_see_intake(&self) -> bool {
        guardian_intake_access(self).is_ok()
    }
}

access_in_role!(IntakeAccess);
access_as_themself!(GuardianIntakeAccess);
