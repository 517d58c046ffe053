//! Every access decision in Tavle: who (an [`Actor`]) may do what to which resource,
//! and the query scoping that follows from it. Handlers never decide access
//! themselves; they ask here and act on the answer.
//!
//! The rules come from the municipalities' own processing records (shared/DOMAIN.md):
//! school staff see pupils of the school where they work, a contact teacher sees their
//! own pupils' guardians, municipal roles see the whole municipality, a guardian sees
//! a child only through a guardianship *with* parental responsibility until the child
//! turns 18, a pupil sees themself. An object the actor may not see is reported as
//! not found, so that a refusal does not reveal that it exists.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::role::Role;
use crate::error::{AppError, Result};

/// How the person signed in, which bounds what they may act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Staff,
    Pupil,
    Guardian,
}

impl Audience {
    pub fn code(self) -> &'static str {
        match self {
            Audience::Staff => "staff",
            Audience::Pupil => "pupil",
            Audience::Guardian => "guardian",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "staff" => Some(Audience::Staff),
            "pupil" => Some(Audience::Pupil),
            "guardian" => Some(Audience::Guardian),
            _ => None,
        }
    }
}

/// A role held through a current employment: at a school, or municipality-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub school_id: Option<Uuid>,
}

/// The signed-in person as the policy sees them. Built per request from the session
/// and the person's *current* employments or guardianships.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: Uuid,
    pub person_id: Uuid,
    pub session_id: Uuid,
    pub audience: Audience,
    pub grants: Vec<Grant>,
    /// Guardians: children under 18 with parental responsibility.
    pub children: Vec<Uuid>,
    pub display_name: String,
}

/// Why data is processed; recorded with every audit event. One catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SchoolAdministration,
    Teaching,
    SfoCare,
    Billing,
    MunicipalOversight,
    SystemAdministration,
    UserSupport,
    GuardianAccess,
    OwnData,
    AuditReview,
    SignIn,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Purpose::SchoolAdministration => "school_administration",
            Purpose::Teaching => "teaching",
            Purpose::SfoCare => "sfo_care",
            Purpose::Billing => "billing",
            Purpose::MunicipalOversight => "municipal_oversight",
            Purpose::SystemAdministration => "system_administration",
            Purpose::UserSupport => "user_support",
            Purpose::GuardianAccess => "guardian_access",
            Purpose::OwnData => "own_data",
            Purpose::AuditReview => "audit_review",
            Purpose::SignIn => "sign_in",
        }
    }

    pub fn for_role(role: Role) -> Self {
        match role {
            Role::OfficeClerk | Role::Principal | Role::DepartmentHead => Purpose::SchoolAdministration,
            Role::Teacher => Purpose::Teaching,
            Role::SfoStaff => Purpose::SfoCare,
            Role::MunicipalDirector => Purpose::MunicipalOversight,
            Role::SystemAdmin => Purpose::SystemAdministration,
            Role::ItSupport => Purpose::UserSupport,
            Role::BillingOfficer => Purpose::Billing,
            Role::DataProtectionOfficer => Purpose::AuditReview,
        }
    }
}

/// Roles that may read every pupil in the municipality.
const TENANT_WIDE_PUPIL_READERS: [Role; 3] = [Role::MunicipalDirector, Role::SystemAdmin, Role::ItSupport];
/// School roles that see the full pupil record at their school.
const SCHOOL_ADMINISTRATORS: [Role; 3] = [Role::OfficeClerk, Role::Principal, Role::DepartmentHead];

impl Actor {
    pub fn is_staff(&self) -> bool {
        self.audience == Audience::Staff
    }

    fn tenant_wide(&self, roles: &[Role]) -> Option<Role> {
        if !self.is_staff() {
            return None;
        }
        self.grants.iter().find(|g| g.school_id.is_none() && roles.contains(&g.role)).map(|g| g.role)
    }

    /// The most capable role the actor holds at `school`, among `roles` (in order).
    fn at_school(&self, school: Uuid, roles: &[Role]) -> Option<Role> {
        if !self.is_staff() {
            return None;
        }
        roles.iter().copied().find(|r| self.grants.iter().any(|g| g.role == *r && g.school_id == Some(school)))
    }

    /// Roles to show in the header.
    pub fn roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = self.grants.iter().map(|g| g.role).collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Whether the actor may open any school's pupil list (for the navigation).
    pub fn may_list_pupils(&self) -> bool {
        self.is_staff()
            && self.grants.iter().any(|g| {
                (g.role.is_school_scoped() && g.school_id.is_some()) || TENANT_WIDE_PUPIL_READERS.contains(&g.role)
            })
    }

    /// Whether the actor may open the audit log (see [`audit_log_access`]).
    pub fn may_view_audit(&self) -> bool {
        audit_log_access(self).is_ok()
    }
}

// ---------------------------------------------------------------------------------
// Pupil lists
// ---------------------------------------------------------------------------------

/// Which pupils of a school a list may contain, and why the actor looks.
#[derive(Debug, Clone, Copy)]
pub struct PupilListScope {
    pub school_id: Uuid,
    /// SFO staff see only pupils enrolled in an SFO group of the school.
    pub sfo_only: bool,
    pub role: Role,
    pub purpose: Purpose,
}

/// The schools whose pupil list the actor may open, in no particular order.
pub async fn pupil_list_schools(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<Uuid>> {
    if actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() {
        return Ok(sqlx::query_scalar("SELECT id FROM schools ORDER BY name").fetch_all(conn).await?);
    }
    let mut schools: Vec<Uuid> = actor
        .grants
        .iter()
        .filter(|g| actor.is_staff() && g.role.is_school_scoped())
        .filter_map(|g| g.school_id)
        .collect();
    schools.sort();
    schools.dedup();
    Ok(schools)
}

/// May the actor list the pupils of `school`? Not found otherwise.
pub fn pupil_list_scope(actor: &Actor, school: Uuid) -> Result<PupilListScope> {
    const ORDER: [Role; 5] = [Role::Principal, Role::OfficeClerk, Role::DepartmentHead, Role::Teacher, Role::SfoStaff];
    let role = actor
        .at_school(school, &ORDER)
        .or_else(|| actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS))
        .ok_or(AppError::NotFound)?;
    Ok(PupilListScope { school_id: school, sfo_only: role == Role::SfoStaff, role, purpose: Purpose::for_role(role) })
}

// ---------------------------------------------------------------------------------
// The pupil card
// ---------------------------------------------------------------------------------

/// How much of a guardian the viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuardianDetail {
    None,
    Names,
    /// Names, phone and e-mail (and parental responsibility, lives with, invoice).
    Contact,
}

/// What parts of a pupil's record the actor may see. Fields not granted are not
/// fetched at all.
#[derive(Debug, Clone, Copy)]
pub struct PupilCardAccess {
    pub pupil_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
    pub national_id: bool,
    pub reveal_national_id: bool,
    pub address: bool,
    pub guardians: GuardianDetail,
    pub contact_persons: bool,
    pub enrolments: bool,
    pub groups: bool,
}

impl PupilCardAccess {
    fn full(pupil_id: Uuid, role: Role, reveal: bool) -> Self {
        Self {
            pupil_id,
            acting_as: Some(role),
            purpose: Purpose::for_role(role),
            national_id: true,
            reveal_national_id: reveal,
            address: true,
            guardians: GuardianDetail::Contact,
            contact_persons: true,
            enrolments: true,
            groups: true,
        }
    }

    fn limited(pupil_id: Uuid, role: Option<Role>, purpose: Purpose) -> Self {
        Self {
            pupil_id,
            acting_as: role,
            purpose,
            national_id: false,
            reveal_national_id: false,
            address: false,
            guardians: GuardianDetail::None,
            contact_persons: false,
            enrolments: false,
            groups: true,
        }
    }
}

/// Facts about a pupil relative to the actor, fetched in one query.
#[derive(sqlx::FromRow)]
struct PupilFacts {
    schools: Vec<Uuid>,
    sfo_schools: Vec<Uuid>,
    contact_teacher: bool,
}

/// May the actor open `pupil`'s card, and which parts? Not found otherwise.
pub async fn pupil_card_access(conn: &mut PgConnection, actor: &Actor, pupil: Uuid) -> Result<PupilCardAccess> {
    match actor.audience {
        Audience::Guardian => {
            return if actor.children.contains(&pupil) {
                let mut a = PupilCardAccess::limited(pupil, None, Purpose::GuardianAccess);
                a.national_id = true;
                a.address = true;
                a.guardians = GuardianDetail::Names;
                a.contact_persons = true;
                a.enrolments = true;
                Ok(a)
            } else {
                Err(AppError::NotFound)
            };
        }
        Audience::Pupil => {
            return if actor.person_id == pupil {
                let mut a = PupilCardAccess::limited(pupil, None, Purpose::OwnData);
                a.guardians = GuardianDetail::Names;
                a.enrolments = true;
                Ok(a)
            } else {
                Err(AppError::NotFound)
            };
        }
        Audience::Staff => {}
    }
    // Current enrolments, SFO memberships and whether the actor is a contact teacher
    // of a base group the pupil belongs to now.
    let facts: Option<PupilFacts> = sqlx::query_as(
        "SELECT \
           coalesce(array_agg(DISTINCT e.school_id) FILTER (WHERE e.school_id IS NOT NULL), '{}') AS schools, \
           coalesce((SELECT array_agg(DISTINCT g.school_id) FROM group_memberships m \
                     JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
                     WHERE m.pupil_id = p.person_id AND g.kind = 'sfo' \
                       AND (m.to_date IS NULL OR m.to_date > current_date)), '{}') AS sfo_schools, \
           EXISTS (SELECT 1 FROM group_memberships m \
                   JOIN group_staff s ON s.tenant_id = m.tenant_id AND s.group_id = m.group_id \
                   WHERE m.pupil_id = p.person_id AND s.staff_id = $2 \
                     AND s.assignment = 'contact_teacher' \
                     AND (m.to_date IS NULL OR m.to_date > current_date)) AS contact_teacher \
         FROM pupils p \
         LEFT JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.pupil_id = p.person_id \
              AND e.from_date <= current_date AND (e.to_date IS NULL OR e.to_date > current_date) \
         WHERE p.person_id = $1 \
         GROUP BY p.person_id",
    )
    .bind(pupil)
    .bind(actor.person_id)
    .fetch_optional(&mut *conn)
    .await?;
    let facts = facts.ok_or(AppError::NotFound)?;

    if let Some(role) = actor.tenant_wide(&[Role::SystemAdmin, Role::ItSupport, Role::MunicipalDirector]) {
        let reveal = role == Role::SystemAdmin;
        return Ok(PupilCardAccess::full(pupil, role, reveal));
    }
    for &school in &facts.schools {
        if let Some(role) = actor.at_school(school, &SCHOOL_ADMINISTRATORS) {
            let reveal = matches!(role, Role::OfficeClerk | Role::Principal);
            return Ok(PupilCardAccess::full(pupil, role, reveal));
        }
    }
    let teacher_here = facts.schools.iter().any(|&s| actor.at_school(s, &[Role::Teacher]).is_some());
    if teacher_here && facts.contact_teacher {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::Teacher), Purpose::Teaching);
        a.guardians = GuardianDetail::Contact;
        a.contact_persons = true;
        a.enrolments = true;
        return Ok(a);
    }
    if teacher_here {
        return Ok(PupilCardAccess::limited(pupil, Some(Role::Teacher), Purpose::Teaching));
    }
    if facts.sfo_schools.iter().any(|&s| actor.at_school(s, &[Role::SfoStaff]).is_some()) {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::SfoStaff), Purpose::SfoCare);
        // Staff at SFO call guardians and contact persons about pick-up.
        a.guardians = GuardianDetail::Contact;
        a.contact_persons = true;
        return Ok(a);
    }
    if actor.tenant_wide(&[Role::BillingOfficer]).is_some() && !facts.sfo_schools.is_empty() {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::BillingOfficer), Purpose::Billing);
        a.guardians = GuardianDetail::Contact;
        return Ok(a);
    }
    Err(AppError::NotFound)
}

// ---------------------------------------------------------------------------------
// Identity and access administration: the audit log and the role mapping
// ---------------------------------------------------------------------------------

use crate::domain::role::WorkplaceKind;

/// Roles that read the whole tenant's audit log. The data protection officer reviews
/// it (personvernombud); the system administrator has full access (DOMAIN.md).
const AUDIT_LOG_READERS: [Role; 2] = [Role::DataProtectionOfficer, Role::SystemAdmin];

/// The actor may read the tenant's audit log, acting as `role`.
#[derive(Debug, Clone)]
pub struct AuditLogAccess {
    pub role: Role,
    pub purpose: Purpose,
    /// `None`: the whole municipality's log. `Some(schools)`: a principal's view, only
    /// events about pupils who are or were enrolled at these schools, and only those
    /// pupils' names (who looked at or changed pupil X of my school).
    pub schools: Option<Vec<Uuid>>,
}

/// May the actor read the audit log? Not found otherwise (the page is not announced).
pub fn audit_log_access(actor: &Actor) -> Result<AuditLogAccess> {
    if let Some(role) = actor.tenant_wide(&AUDIT_LOG_READERS) {
        return Ok(AuditLogAccess { role, purpose: Purpose::AuditReview, schools: None });
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
    Ok(AuditLogAccess { role: Role::Principal, purpose: Purpose::AuditReview, schools: Some(schools) })
}

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
}

/// Would the actor still be a municipality-wide system administrator if the mapping
/// for (`kind`, `code`) were removed (`new_role` `None`) or pointed at `new_role`?
/// An administrator may not take away their own access to the mapping: nobody could
/// then put it back through Tavle. Mirrors how `auth::session` derives grants.
pub async fn keeps_own_admin_access(
    conn: &mut PgConnection,
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
           WHERE e.staff_id = $1 AND e.school_id IS NULL AND rm.role = $2 \
             AND NOT (rm.workplace_kind = $3 AND rm.position_code = $4) \
             AND NOT e.on_leave AND e.from_date <= current_date \
             AND (e.to_date IS NULL OR e.to_date > current_date))",
    )
    .bind(actor.person_id)
    .bind(Role::SystemAdmin.code())
    .bind(kind.code())
    .bind(code)
    .fetch_one(conn)
    .await?)
}

impl Purpose {
    pub const ALL: [Purpose; 11] = [
        Purpose::SchoolAdministration,
        Purpose::Teaching,
        Purpose::SfoCare,
        Purpose::Billing,
        Purpose::MunicipalOversight,
        Purpose::SystemAdministration,
        Purpose::UserSupport,
        Purpose::GuardianAccess,
        Purpose::OwnData,
        Purpose::AuditReview,
        Purpose::SignIn,
    ];

    pub fn from_code(code: &str) -> Option<Self> {
        Purpose::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Translation key of the purpose's name (audit log page).
    pub fn label_key(self) -> &'static str {
        match self {
            Purpose::SchoolAdministration => "purpose.school_administration",
            Purpose::Teaching => "purpose.teaching",
            Purpose::SfoCare => "purpose.sfo_care",
            Purpose::Billing => "purpose.billing",
            Purpose::MunicipalOversight => "purpose.municipal_oversight",
            Purpose::SystemAdministration => "purpose.system_administration",
            Purpose::UserSupport => "purpose.user_support",
            Purpose::GuardianAccess => "purpose.guardian_access",
            Purpose::OwnData => "purpose.own_data",
            Purpose::AuditReview => "purpose.audit_review",
            Purpose::SignIn => "purpose.sign_in",
        }
    }
}

// ---------------------------------------------------------------------------------
// Absence: the teacher's register and the guardians' reports
// ---------------------------------------------------------------------------------

/// School roles that may take the register for a lesson: a teacher registers for any
/// pupil of a school where they teach (DOMAIN.md: "record absence … for all pupils
/// at own school"), and the school office may correct it. In this order of
/// preference when the actor holds several.
const ABSENCE_REGISTRARS: [Role; 4] = [Role::Teacher, Role::OfficeClerk, Role::Principal, Role::DepartmentHead];

/// The schools where the actor may take registers, and whether as the school office
/// (which lists every lesson of the school, not only the actor's own).
#[derive(Debug, Clone)]
pub struct AbsenceRegisterScope {
    pub teacher_at: Vec<Uuid>,
    pub office_at: Vec<Uuid>,
}

impl AbsenceRegisterScope {
    pub fn schools(&self) -> Vec<Uuid> {
        let mut all: Vec<Uuid> = self.teacher_at.iter().chain(&self.office_at).copied().collect();
        all.sort();
        all.dedup();
        all
    }
}

/// May the actor open the register at all? Not found otherwise.
pub fn absence_register_scope(actor: &Actor) -> Result<AbsenceRegisterScope> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let at = |roles: &[Role]| -> Vec<Uuid> {
        let mut v: Vec<Uuid> =
            actor.grants.iter().filter(|g| roles.contains(&g.role)).filter_map(|g| g.school_id).collect();
        v.sort();
        v.dedup();
        v
    };
    let scope = AbsenceRegisterScope { teacher_at: at(&[Role::Teacher]), office_at: at(&SCHOOL_ADMINISTRATORS) };
    if scope.teacher_at.is_empty() && scope.office_at.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(scope)
}

/// The actor may take the register of a group's lessons, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceRegisterAccess {
    pub group_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

impl AbsenceRegisterAccess {
    /// How a registration records who made it.
    pub fn source(&self) -> &'static str {
        if self.role == Role::Teacher {
            "teacher"
        } else {
            "office"
        }
    }
}

/// May the actor take the register of `group` (a class or teaching group with
/// lessons)? Only at the group's own school. Not found otherwise.
pub async fn absence_register_access(
    conn: &mut PgConnection,
    actor: &Actor,
    group: Uuid,
) -> Result<AbsenceRegisterAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> = sqlx::query_scalar("SELECT school_id FROM groups WHERE id = $1 AND kind <> 'sfo'")
        .bind(group)
        .fetch_optional(conn)
        .await?;
    let school = school.ok_or(AppError::NotFound)?;
    let role = actor.at_school(school, &ABSENCE_REGISTRARS).ok_or(AppError::NotFound)?;
    Ok(AbsenceRegisterAccess { group_id: group, school_id: school, role, purpose: Purpose::for_role(role) })
}

/// The actor may read and make absence reports for a child, as their guardian.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceReportAccess {
    pub pupil_id: Uuid,
    pub purpose: Purpose,
}

/// May the actor report absence for `pupil`? Only a guardian with parental
/// responsibility for a child under 18 (`Actor::children`); the other guardian with
/// responsibility sees the same reports. Not found otherwise.
pub fn absence_report_access(actor: &Actor, pupil: Uuid) -> Result<AbsenceReportAccess> {
    if actor.audience == Audience::Guardian && actor.children.contains(&pupil) {
        Ok(AbsenceReportAccess { pupil_id: pupil, purpose: Purpose::GuardianAccess })
    } else {
        Err(AppError::NotFound)
    }
}

impl Actor {
    /// Whether the actor may take registers (for the navigation).
    pub fn may_register_absence(&self) -> bool {
        absence_register_scope(self).is_ok()
    }

    /// Whether the actor may report a child's absence (for the navigation).
    pub fn may_report_absence(&self) -> bool {
        self.audience == Audience::Guardian && !self.children.is_empty()
    }
}

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
pub async fn pupil_timetable_access(
    conn: &mut PgConnection,
    actor: &Actor,
    pupil: Uuid,
) -> Result<PupilTimetableAccess> {
    let card = pupil_card_access(conn, actor, pupil).await?;
    if !card_shows_timetable(&card) {
        return Err(AppError::NotFound);
    }
    Ok(PupilTimetableAccess { pupil_id: pupil, acting_as: card.acting_as, purpose: card.purpose })
}

/// Whether a viewer with this access to the pupil card may also see the pupil's week
/// (for the card's link).
pub fn card_shows_timetable(card: &PupilCardAccess) -> bool {
    card.acting_as != Some(Role::BillingOfficer)
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
pub async fn timetable_schools(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<Uuid>> {
    pupil_list_schools(conn, actor).await
}

/// May the actor see the week of `group`? As for its school. Not found otherwise
/// (also when the group does not exist).
pub async fn group_timetable_access(
    conn: &mut PgConnection,
    actor: &Actor,
    group: Uuid,
) -> Result<SchoolTimetableAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> =
        sqlx::query_scalar("SELECT school_id FROM groups WHERE id = $1").bind(group).fetch_optional(conn).await?;
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
pub async fn mail_outbox_schools(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<Uuid>> {
    if actor.tenant_wide(&[Role::SystemAdmin]).is_some() {
        return Ok(sqlx::query_scalar("SELECT id FROM schools ORDER BY name").fetch_all(conn).await?);
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
