//! Leave applications (permisjon): who applies, who sees, who decides.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use super::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// Absence: leave applications (permisjon)
// ---------------------------------------------------------------------------------

/// Who decides a leave application, and in which capacity a decision is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveDecider {
    /// The child's contact teacher (of the current base group): short leave only.
    ContactTeacher,
    Principal,
    DepartmentHead,
}

impl LeaveDecider {
    pub fn code(self) -> &'static str {
        match self {
            LeaveDecider::ContactTeacher => "contact_teacher",
            LeaveDecider::Principal => "principal",
            LeaveDecider::DepartmentHead => "department_head",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [LeaveDecider::ContactTeacher, LeaveDecider::Principal, LeaveDecider::DepartmentHead]
            .into_iter()
            .find(|d| d.code() == code)
    }

    /// Translation key of the capacity's name (shown to guardians instead of a name).
    pub fn label_key(self) -> &'static str {
        match self {
            LeaveDecider::ContactTeacher => "leave.decider.contact_teacher",
            LeaveDecider::Principal => "leave.decider.principal",
            LeaveDecider::DepartmentHead => "leave.decider.department_head",
        }
    }
}

/// May the actor apply for leave for `pupil` and see the child's applications? As
/// for absence reports: only a guardian with parental responsibility for a child
/// under 18; the other guardian with responsibility sees the same. Not found otherwise.
pub fn leave_guardian_access(actor: &Actor, pupil: Uuid) -> Result<AbsenceReportAccess> {
    absence_report_access(actor, pupil)
}

/// School leaders: they decide every leave application of their school.
const LEAVE_LEADERS: [Role; 2] = [Role::Principal, Role::DepartmentHead];

/// Which applications the actor's list of leave applications holds, and which
/// schools' limits they may change.
#[derive(Debug, Clone)]
pub struct LeaveQueueScope {
    pub person_id: Uuid,
    /// Schools where the actor teaches: applications of their own pupils (as contact
    /// teacher of the pupil's base group).
    pub teacher_at: Vec<Uuid>,
    /// Schools where the actor leads or works in the office: every application.
    pub school_at: Vec<Uuid>,
    /// Schools whose limit the actor may change (see [`leave_settings_access`]);
    /// `None`: every school of the municipality.
    pub settings_at: Option<Vec<Uuid>>,
    /// The actor's most capable role here, for the audit log.
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor open the list of leave applications? Staff who take the register
/// (contact teachers are teachers; the office and the leaders of a school), and the
/// system administrator, who sees no applications there, only the schools' limits.
/// Not found otherwise.
pub fn leave_queue_scope(actor: &Actor) -> Result<LeaveQueueScope> {
    let admin = actor.tenant_wide(&[Role::SystemAdmin]).is_some();
    let scope = absence_register_scope(actor).ok();
    if scope.is_none() && !admin {
        return Err(AppError::NotFound);
    }
    let (teacher_at, school_at) = scope.map(|s| (s.teacher_at, s.office_at)).unwrap_or_default();
    let mut principal_at: Vec<Uuid> =
        actor.grants.iter().filter(|g| g.role == Role::Principal).filter_map(|g| g.school_id).collect();
    principal_at.sort();
    principal_at.dedup();
    const ORDER: [Role; 5] =
        [Role::Principal, Role::DepartmentHead, Role::OfficeClerk, Role::Teacher, Role::SystemAdmin];
    let role = ORDER
        .into_iter()
        .find(|r| actor.grants.iter().any(|g| g.role == *r && (g.school_id.is_some() || *r == Role::SystemAdmin)))
        .unwrap_or(Role::SystemAdmin);
    Ok(LeaveQueueScope {
        person_id: actor.person_id,
        teacher_at,
        school_at,
        settings_at: if admin { None } else { Some(principal_at) },
        role,
        purpose: Purpose::for_role(role),
    })
}

impl Actor {
    /// Whether the actor may open the list of leave applications (for the navigation:
    /// the system administrator has no register, but sets the schools' limits there).
    pub fn may_open_leave_queue(&self) -> bool {
        leave_queue_scope(self).is_ok()
    }
}

/// The actor may see a leave application, acting as `role`; `decides_as` says
/// whether (and as what) they may decide it now.
#[derive(Debug, Clone, Copy)]
pub struct LeaveApplicationAccess {
    pub application_id: Uuid,
    pub pupil_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// Who decides this application under the school's current limit.
    pub level: LeaveDecider,
    pub decides_as: Option<LeaveDecider>,
}

/// Facts about an application relative to the actor, fetched in one query.
#[derive(sqlx::FromRow)]
struct LeaveFacts {
    pupil_id: Uuid,
    school_id: Uuid,
    school_days: i16,
    max_short_days: i16,
    contact_teacher: bool,
}

static LEAVE_FACTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT a.pupil_id, a.school_id, a.school_days, \
           coalesce((SELECT s.short_leave_max_days FROM leave_school_settings s \
                     WHERE s.tenant_id = $1 AND s.school_id = a.school_id), \
                    (SELECT m.short_leave_max_days FROM leave_settings m WHERE m.tenant_id = $1), 2::smallint) \
             AS max_short_days, \
           {contact} AS contact_teacher \
         FROM leave_applications a WHERE a.tenant_id = $1 AND a.id = $2",
        contact = super::staffing::is_contact_teacher("a.pupil_id", "$3", Some("a.school_id"))
    )
});

/// May the actor see the leave application `id`, and decide it? The school's
/// leaders (principal, department head) see and decide every application of their
/// school; the child's contact teacher (a teacher at the school, contact teacher of
/// the child's current base group) sees the child's applications and decides the
/// short ones (up to the school's limit of school days); the school office clerk
/// sees them but does not decide. Not found otherwise.
pub async fn leave_application_access(mut conn: Conn<'_>, actor: &Actor, id: Uuid) -> Result<LeaveApplicationAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let facts: Option<LeaveFacts> = sqlx::query_as(&LEAVE_FACTS_SQL)
        .bind(conn.tenant)
        .bind(id)
        .bind(actor.person_id)
        .fetch_optional(&mut *conn)
        .await?;
    let facts = facts.ok_or(AppError::NotFound)?;
    let level =
        if facts.school_days <= facts.max_short_days { LeaveDecider::ContactTeacher } else { LeaveDecider::Principal };
    let access = |role: Role, decides_as: Option<LeaveDecider>| LeaveApplicationAccess {
        application_id: id,
        pupil_id: facts.pupil_id,
        school_id: facts.school_id,
        role,
        purpose: Purpose::for_role(role),
        level,
        decides_as,
    };
    if let Some(role) = actor.at_school(facts.school_id, &LEAVE_LEADERS) {
        let as_ = if role == Role::Principal { LeaveDecider::Principal } else { LeaveDecider::DepartmentHead };
        return Ok(access(role, Some(as_)));
    }
    if facts.contact_teacher && actor.at_school(facts.school_id, &[Role::Teacher]).is_some() {
        let decides = (level == LeaveDecider::ContactTeacher).then_some(LeaveDecider::ContactTeacher);
        return Ok(access(Role::Teacher, decides));
    }
    if actor.at_school(facts.school_id, &[Role::OfficeClerk]).is_some() {
        return Ok(access(Role::OfficeClerk, None));
    }
    Err(AppError::NotFound)
}

/// May the actor decide the application they see? Forbidden otherwise: they may know
/// it exists (they see it), but the decision belongs to another level.
pub fn leave_decision(access: &LeaveApplicationAccess) -> Result<LeaveDecider> {
    access.decides_as.ok_or(AppError::Forbidden)
}

/// The actor may change a school's limit for short leave, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct LeaveSettingsAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor see and change `school`'s limit between short leave (the contact
/// teacher decides) and longer leave (the leaders decide)? The school's principal
/// and the municipality's system administrator. Not found otherwise.
pub fn leave_settings_access(actor: &Actor, school: Uuid) -> Result<LeaveSettingsAccess> {
    let role = actor
        .at_school(school, &[Role::Principal])
        .or_else(|| actor.tenant_wide(&[Role::SystemAdmin]))
        .ok_or(AppError::NotFound)?;
    Ok(LeaveSettingsAccess { school_id: school, role, purpose: Purpose::for_role(role) })
}

access_in_role!(LeaveQueueScope, LeaveApplicationAccess, LeaveSettingsAccess);
