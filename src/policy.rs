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
    /// Guardians: those of `children` whose whereabouts are kept from this guardian: the
    /// child's address is strictly confidential (strengt fortrolig) and the guardian is
    /// not registered as living with the child. See [`Actor::whereabouts_protected`].
    pub protected_children: Vec<Uuid>,
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

/// What the policy answers when it allows something: the role the actor acts in (none
/// for a guardian or a pupil, who act as themselves) and why. The audit log records both
/// with every event (`Work::audit` takes the answer, so an event's role and purpose are
/// always the ones the access decision gave).
pub trait Access {
    fn acting_as(&self) -> Option<Role>;
    fn purpose(&self) -> Purpose;
}

/// `Access` for answers with a `role` (staff acting in that role) and a `purpose`.
macro_rules! access_in_role {
    ($($t:ty),* $(,)?) => {
        $(impl Access for $t {
            fn acting_as(&self) -> Option<Role> {
                Some(self.role)
            }
            fn purpose(&self) -> Purpose {
                self.purpose
            }
        })*
    };
}

/// `Access` for answers whose `acting_as` is a role for staff and none for a guardian or pupil.
macro_rules! access_acting_as {
    ($($t:ty),* $(,)?) => {
        $(impl Access for $t {
            fn acting_as(&self) -> Option<Role> {
                self.acting_as
            }
            fn purpose(&self) -> Purpose {
                self.purpose
            }
        })*
    };
}

/// `Access` for answers to a guardian or a pupil about a child or themself.
macro_rules! access_as_themself {
    ($($t:ty),* $(,)?) => {
        $(impl Access for $t {
            fn acting_as(&self) -> Option<Role> {
                None
            }
            fn purpose(&self) -> Purpose {
                self.purpose
            }
        })*
    };
}

access_in_role!(
    PupilListScope,
    AuditLogAccess,
    RoleMappingAdmin,
    AbsenceRegisterAccess,
    SchoolTimetableAccess,
    TimetableEditor,
    AbsenceReviewAccess,
    AbsenceClassAccess,
    SfoAttendanceAccess,
    LeaveQueueScope,
    LeaveApplicationAccess,
    LeaveSettingsAccess,
    AbsenceStatisticsAccess,
    AbsenceSettingsEditor,
    MailOutboxAccess,
);
access_acting_as!(PupilCardAccess, PupilTimetableAccess);
access_as_themself!(AbsenceReportAccess, AbsenceOverviewAccess, SfoGuardianAccess);

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

    /// Whether nothing that places `pupil` may reach this actor: a guardian who holds
    /// parental responsibility but does not live with a child whose address is
    /// strictly confidential (strengt fortrolig adresse) learns the child's name, that
    /// the child's details are protected, and what the law gives them through the
    /// school; never the school, class, groups, timetable, SFO, teachers, contact
    /// persons, or who else the child lives with. Every guardian-facing access function
    /// below asks this, and so do the choosers that list a guardian's children.
    pub fn whereabouts_protected(&self, pupil: Uuid) -> bool {
        self.audience == Audience::Guardian && self.protected_children.contains(&pupil)
    }

    /// A guardian's children whose school life they may follow (timetable, absence,
    /// leave, SFO): those whose whereabouts are not protected from them.
    pub fn placed_children(&self) -> Vec<Uuid> {
        self.children.iter().copied().filter(|c| !self.whereabouts_protected(*c)).collect()
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
    /// The school office and the municipality's readers keep the register: they are
    /// told which pupils lack what the register must have (a birth date).
    pub keeps_register: bool,
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
    Ok(PupilListScope {
        school_id: school,
        sfo_only: role == Role::SfoStaff,
        keeps_register: SCHOOL_ADMINISTRATORS.contains(&role) || TENANT_WIDE_PUPIL_READERS.contains(&role),
        role,
        purpose: Purpose::for_role(role),
    })
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
    /// The viewer is a guardian from whom the child's whereabouts are protected: the
    /// card says so and shows nothing that places the child.
    pub whereabouts_protected: bool,
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
            whereabouts_protected: false,
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
            whereabouts_protected: false,
        }
    }

    /// The child's name and that its details are protected; nothing else is fetched.
    fn protected_whereabouts(pupil_id: Uuid) -> Self {
        let mut a = Self::limited(pupil_id, None, Purpose::GuardianAccess);
        a.groups = false;
        a.whereabouts_protected = true;
        a
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
            if actor.whereabouts_protected(pupil) {
                return Ok(PupilCardAccess::protected_whereabouts(pupil));
            }
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
                     WHERE m.pupil_id = p.person_id AND g.kind = 'sfo' AND m.from_date <= tavle_today() \
                       AND (m.to_date IS NULL OR m.to_date > tavle_today())), '{}') AS sfo_schools, \
           EXISTS (SELECT 1 FROM group_memberships m \
                   JOIN group_staff s ON s.tenant_id = m.tenant_id AND s.group_id = m.group_id \
                   WHERE m.pupil_id = p.person_id AND s.staff_id = $2 \
                     AND s.assignment = 'contact_teacher' AND m.from_date <= tavle_today() \
                     AND (m.to_date IS NULL OR m.to_date > tavle_today())) AS contact_teacher \
         FROM pupils p \
         LEFT JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.pupil_id = p.person_id \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
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
    /// events about pupils who are or were enrolled at these schools (who looked at or
    /// changed pupil X of my school), naming only the people a principal may name (see
    /// `audit::queries::nameable`): those pupils, their guardians, and staff. Anyone
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
             AND NOT e.on_leave AND e.from_date <= tavle_today() \
             AND (e.to_date IS NULL OR e.to_date > tavle_today()))",
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
    // The child's absence page names lessons, teachers and the school: not for a
    // guardian from whom the child's whereabouts are protected.
    if actor.audience == Audience::Guardian && actor.children.contains(&pupil) && !actor.whereabouts_protected(pupil) {
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
        self.audience == Audience::Guardian && !self.placed_children().is_empty()
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
// Absence review, deduction and totals
// ---------------------------------------------------------------------------------

/// The actor may review a pupil's absence (mark days documented or not, deduct), and
/// see the pupil's totals, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceReviewAccess {
    pub pupil_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// How a review records who made it: `contact_teacher` or `office`.
    pub source: &'static str,
}

/// May the actor review `pupil`'s absence? The contact teacher of a base group the
/// pupil belongs to now, teaching at that group's school (DOMAIN.md: contact teachers
/// review "their" pupils' absence), and the office of a school where the pupil is
/// enrolled now (principal, clerk, department head decide and document too). Not
/// found otherwise: other teachers register absence but do not review it.
pub async fn absence_review_access(conn: &mut PgConnection, actor: &Actor, pupil: Uuid) -> Result<AbsenceReviewAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let schools: Vec<Uuid> = sqlx::query_scalar(
        "SELECT school_id FROM enrolments WHERE pupil_id = $1 AND from_date <= tavle_today() \
           AND (to_date IS NULL OR to_date > tavle_today())",
    )
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?;
    for &school in &schools {
        if let Some(role) = actor.at_school(school, &SCHOOL_ADMINISTRATORS) {
            return Ok(AbsenceReviewAccess {
                pupil_id: pupil,
                role,
                purpose: Purpose::for_role(role),
                source: "office",
            });
        }
    }
    let contact_at: Vec<Uuid> = sqlx::query_scalar(
        "SELECT g.school_id FROM group_memberships m \
         JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
         JOIN group_staff s ON s.tenant_id = g.tenant_id AND s.group_id = g.id \
              AND s.staff_id = $2 AND s.assignment = 'contact_teacher' \
         WHERE m.pupil_id = $1 AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())",
    )
    .bind(pupil)
    .bind(actor.person_id)
    .fetch_all(&mut *conn)
    .await?;
    if contact_at.iter().any(|&s| schools.contains(&s) && actor.at_school(s, &[Role::Teacher]).is_some()) {
        return Ok(AbsenceReviewAccess {
            pupil_id: pupil,
            role: Role::Teacher,
            purpose: Purpose::Teaching,
            source: "contact_teacher",
        });
    }
    Err(AppError::NotFound)
}

/// The actor may see a class's absence overview, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceClassAccess {
    pub group_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor see the absence overview of `group` (a base group)? Its contact
/// teacher, teaching at its school, and the office of its school. Not found otherwise.
pub async fn absence_class_access(conn: &mut PgConnection, actor: &Actor, group: Uuid) -> Result<AbsenceClassAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let row: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT g.school_id, EXISTS (SELECT 1 FROM group_staff s WHERE s.tenant_id = g.tenant_id \
                AND s.group_id = g.id AND s.staff_id = $2 AND s.assignment = 'contact_teacher') \
         FROM groups g WHERE g.id = $1 AND g.kind = 'base'",
    )
    .bind(group)
    .bind(actor.person_id)
    .fetch_optional(conn)
    .await?;
    let (school, contact) = row.ok_or(AppError::NotFound)?;
    if let Some(role) = actor.at_school(school, &SCHOOL_ADMINISTRATORS) {
        return Ok(AbsenceClassAccess { group_id: group, role, purpose: Purpose::for_role(role) });
    }
    if contact && actor.at_school(school, &[Role::Teacher]).is_some() {
        return Ok(AbsenceClassAccess { group_id: group, role: Role::Teacher, purpose: Purpose::Teaching });
    }
    Err(AppError::NotFound)
}

/// The base groups of the current school years whose overview the actor may open:
/// those they are contact teacher of (at a school where they teach), and every class
/// of a school where they work in the office. Empty for everyone else.
pub async fn absence_classes(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<Uuid>> {
    if !actor.is_staff() {
        return Ok(Vec::new());
    }
    let at = |roles: &[Role]| -> Vec<Uuid> {
        actor.grants.iter().filter(|g| roles.contains(&g.role)).filter_map(|g| g.school_id).collect()
    };
    Ok(sqlx::query_scalar(
        "SELECT g.id FROM groups g JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE g.kind = 'base' AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
           AND (g.school_id = ANY($2) OR (g.school_id = ANY($3) AND EXISTS (SELECT 1 FROM group_staff s \
                WHERE s.tenant_id = g.tenant_id AND s.group_id = g.id AND s.staff_id = $1 \
                  AND s.assignment = 'contact_teacher')))",
    )
    .bind(actor.person_id)
    .bind(at(&SCHOOL_ADMINISTRATORS))
    .bind(at(&[Role::Teacher]))
    .fetch_all(conn)
    .await?)
}

/// The actor may see a pupil's absence overview as the pupil or their guardian.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceOverviewAccess {
    pub pupil_id: Uuid,
    pub purpose: Purpose,
}

/// The signed-in pupil's own overview. Not found for anyone else.
pub fn own_absence_access(actor: &Actor) -> Result<AbsenceOverviewAccess> {
    if actor.audience == Audience::Pupil {
        Ok(AbsenceOverviewAccess { pupil_id: actor.person_id, purpose: Purpose::OwnData })
    } else {
        Err(AppError::NotFound)
    }
}

/// A child's overview for a guardian: as the child's reports (parental
/// responsibility, child under 18). Not found otherwise.
pub fn child_absence_access(actor: &Actor, pupil: Uuid) -> Result<AbsenceOverviewAccess> {
    let a = absence_report_access(actor, pupil)?;
    Ok(AbsenceOverviewAccess { pupil_id: a.pupil_id, purpose: a.purpose })
}

impl Actor {
    /// Whether the actor has an absence overview of their own (for the navigation).
    pub fn may_see_own_absence(&self) -> bool {
        own_absence_access(self).is_ok()
    }
}

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
pub async fn sfo_attendance_access(conn: &mut PgConnection, actor: &Actor, group: Uuid) -> Result<SfoAttendanceAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> = sqlx::query_scalar("SELECT school_id FROM groups WHERE id = $1 AND kind = 'sfo'")
        .bind(group)
        .fetch_optional(conn)
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

/// May the actor see the leave application `id`, and decide it? The school's
/// leaders (principal, department head) see and decide every application of their
/// school; the child's contact teacher (a teacher at the school, contact teacher of
/// the child's current base group) sees the child's applications and decides the
/// short ones (up to the school's limit of school days); the school office clerk
/// sees them but does not decide. Not found otherwise.
pub async fn leave_application_access(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<LeaveApplicationAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let facts: Option<LeaveFacts> = sqlx::query_as(
        "SELECT a.pupil_id, a.school_id, a.school_days, \
           coalesce((SELECT s.short_leave_max_days FROM leave_school_settings s WHERE s.school_id = a.school_id), \
                    (SELECT m.short_leave_max_days FROM leave_settings m), 2::smallint) AS max_short_days, \
           EXISTS (SELECT 1 FROM group_memberships m \
                   JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
                   JOIN group_staff gs ON gs.tenant_id = g.tenant_id AND gs.group_id = g.id \
                   WHERE m.pupil_id = a.pupil_id AND g.school_id = a.school_id AND gs.staff_id = $2 \
                     AND gs.assignment = 'contact_teacher' \
                     AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())) \
             AS contact_teacher \
         FROM leave_applications a WHERE a.id = $1",
    )
    .bind(id)
    .bind(actor.person_id)
    .fetch_optional(conn)
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

// ---------------------------------------------------------------------------------
// Absence for the school office: the day register, the school's registration mode,
// and the school's absence statistics
// ---------------------------------------------------------------------------------

/// May the actor take the day register of `class` (a base group)? The same people as
/// for a lesson's register ([`absence_register_access`]): teachers and the office of
/// the class's own school. Not found otherwise, also for a group that is not a class.
pub async fn absence_day_register_access(
    conn: &mut PgConnection,
    actor: &Actor,
    class: Uuid,
) -> Result<AbsenceRegisterAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let is_class: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1 AND kind = 'base')")
        .bind(class)
        .fetch_one(&mut *conn)
        .await?;
    if !is_class {
        return Err(AppError::NotFound);
    }
    absence_register_access(conn, actor, class).await
}

/// Who reads a school's absence statistics: its office (principal, department head,
/// office clerk) and the municipality-wide readers (municipal director, system
/// administrator, IT support). The statistics are counts per class, not about a
/// pupil; teachers see their own pupils elsewhere.
const ABSENCE_STATISTICS_SCHOOL_READERS: [Role; 3] = [Role::Principal, Role::DepartmentHead, Role::OfficeClerk];

/// The actor may read `school`'s absence statistics, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceStatisticsAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor read the absence statistics of `school`? Not found otherwise.
pub fn absence_statistics_access(actor: &Actor, school: Uuid) -> Result<AbsenceStatisticsAccess> {
    let role = actor
        .at_school(school, &ABSENCE_STATISTICS_SCHOOL_READERS)
        .or_else(|| actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS))
        .ok_or(AppError::NotFound)?;
    Ok(AbsenceStatisticsAccess { school_id: school, role, purpose: Purpose::for_role(role) })
}

/// The actor may change how `school` takes the register, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceSettingsEditor {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor set whether `school` registers per lesson or per day? The school's
/// principal (a decision of the school's management) and the municipality's system
/// administrator. Not found otherwise.
pub fn absence_settings_editor(actor: &Actor, school: Uuid) -> Result<AbsenceSettingsEditor> {
    let role = actor
        .at_school(school, &[Role::Principal])
        .or_else(|| actor.tenant_wide(&[Role::SystemAdmin]))
        .ok_or(AppError::NotFound)?;
    Ok(AbsenceSettingsEditor { school_id: school, role, purpose: Purpose::for_role(role) })
}

impl Actor {
    /// The schools whose absence statistics the actor may open from their own
    /// employment (for the navigation; municipal readers choose a school elsewhere).
    pub fn absence_statistics_schools(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self
            .grants
            .iter()
            .filter(|g| self.is_staff() && ABSENCE_STATISTICS_SCHOOL_READERS.contains(&g.role))
            .filter_map(|g| g.school_id)
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The schools whose absence statistics the actor may open: every school for the
/// municipality-wide readers, the schools of their employment for the school office.
/// Not found when none.
pub async fn absence_statistics_school_list(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<Uuid>> {
    if actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() {
        return Ok(sqlx::query_scalar("SELECT id FROM schools ORDER BY name").fetch_all(conn).await?);
    }
    let schools = actor.absence_statistics_schools();
    if schools.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(schools)
}

impl Actor {
    /// Whether the actor may open any school's absence statistics (for the navigation).
    pub fn may_read_absence_statistics(&self) -> bool {
        self.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() || !self.absence_statistics_schools().is_empty()
    }
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
