//! Who is asking, and why: the [`Actor`] (audience, grants, a guardian's children), the
//! catalogue of [`Purpose`]s every audit event carries, and the [`Access`] answer every
//! rule gives. Shared by every rule of the policy.

use uuid::Uuid;

use crate::domain::coded::coded_enum;
use crate::domain::role::Role;

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
    /// Guardians: children who start school next August, with this guardian as a
    /// parent with parental responsibility in the population register
    /// (`policy::starters_sql`). Not pupils: they give no access but to the intake.
    pub starters: Vec<Uuid>,
    pub display_name: String,
}

coded_enum! {
    /// Why data is processed; recorded with every audit event. One catalogue.
    pub enum Purpose {
        SchoolAdministration = "school_administration",
        Teaching = "teaching",
        SfoCare = "sfo_care",
        Billing = "billing",
        MunicipalOversight = "municipal_oversight",
        SystemAdministration = "system_administration",
        UserSupport = "user_support",
        GuardianAccess = "guardian_access",
        OwnData = "own_data",
        AuditReview = "audit_review",
        SignIn = "sign_in",
        // Why a full national id number was shown (the reason asked for on reveal).
        IdentityCheck = "identity_check",
        ExternalRegistration = "external_registration",
        AuthorityReport = "authority_report",
        RegisterCorrection = "register_correction",
        // Why the office exported a list (the export's stated purpose).
        ClassList = "class_list",
        LetterMailing = "letter_mailing",
        // Why the system administrator exported the municipality's roster.
        FeideProvisioning = "feide_provisioning",
        LearningPlatform = "learning_platform",
        // Alerting guardians in an emergency, and following who has been reached.
        EmergencyPreparedness = "emergency_preparedness",
    }
}

impl Purpose {
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

/// Roles that may read every pupil in the municipality.
pub(crate) const TENANT_WIDE_PUPIL_READERS: [Role; 3] = [Role::MunicipalDirector, Role::SystemAdmin, Role::ItSupport];
/// School roles that see the full pupil record at their school.
pub(crate) const SCHOOL_ADMINISTRATORS: [Role; 3] = [Role::OfficeClerk, Role::Principal, Role::DepartmentHead];

impl Actor {
    pub fn is_staff(&self) -> bool {
        self.audience == Audience::Staff
    }

    pub(crate) fn tenant_wide(&self, roles: &[Role]) -> Option<Role> {
        if !self.is_staff() {
            return None;
        }
        self.grants.iter().find(|g| g.school_id.is_none() && roles.contains(&g.role)).map(|g| g.role)
    }

    /// The most capable role the actor holds at `school`, among `roles` (in order).
    pub(crate) fn at_school(&self, school: Uuid, roles: &[Role]) -> Option<Role> {
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

impl Purpose {
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
            Purpose::IdentityCheck => "purpose.identity_check",
            Purpose::ExternalRegistration => "purpose.external_registration",
            Purpose::AuthorityReport => "purpose.authority_report",
            Purpose::RegisterCorrection => "purpose.register_correction",
            Purpose::ClassList => "purpose.class_list",
            Purpose::LetterMailing => "purpose.letter_mailing",
            Purpose::FeideProvisioning => "purpose.feide_provisioning",
            Purpose::LearningPlatform => "purpose.learning_platform",
            Purpose::EmergencyPreparedness => "purpose.emergency_preparedness",
        }
    }
}
