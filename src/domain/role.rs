//! Roles and the default mapping from (workplace kind, position code) to a staff role.
//!
//! Staff roles are never stored on a person: they are derived on every request from
//! the employments imported from the HR system and the tenant's `role_mappings`
//! (editable by the system administrator). Guardians and pupils are not mapped: a
//! guardian acts through a guardianship with parental responsibility, a pupil as
//! themself.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// skolekonsulent: everything about pupils, guardians and staff at own school.
    OfficeClerk,
    /// rektor
    Principal,
    /// avdelingsleder
    DepartmentHead,
    /// lærer: absence and grades for all pupils at own school; contact-teacher
    /// rights follow group assignments.
    Teacher,
    /// SFO-ansatt: pupils enrolled at own school's SFO.
    SfoStaff,
    /// kommunalsjef oppvekst: read everything in the municipality.
    MunicipalDirector,
    /// systemforvalter: full access.
    SystemAdmin,
    /// brukerstøtte IT: full access, every use logged.
    ItSupport,
    /// faktureringsansvarlig: reduced SFO payment for anyone in the municipality.
    BillingOfficer,
    /// personvernombud: the audit log and incidents, no pupil data beyond that.
    DataProtectionOfficer,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::OfficeClerk,
        Role::Principal,
        Role::DepartmentHead,
        Role::Teacher,
        Role::SfoStaff,
        Role::MunicipalDirector,
        Role::SystemAdmin,
        Role::ItSupport,
        Role::BillingOfficer,
        Role::DataProtectionOfficer,
    ];

    /// The stable code stored in `role_mappings.role` and the audit log.
    pub fn code(self) -> &'static str {
        match self {
            Role::OfficeClerk => "office_clerk",
            Role::Principal => "principal",
            Role::DepartmentHead => "department_head",
            Role::Teacher => "teacher",
            Role::SfoStaff => "sfo_staff",
            Role::MunicipalDirector => "municipal_director",
            Role::SystemAdmin => "system_admin",
            Role::ItSupport => "it_support",
            Role::BillingOfficer => "billing_officer",
            Role::DataProtectionOfficer => "dpo",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Whether the role is held at a school (scoped to it) rather than municipality-wide.
    pub fn is_school_scoped(self) -> bool {
        matches!(self, Role::OfficeClerk | Role::Principal | Role::DepartmentHead | Role::Teacher | Role::SfoStaff)
    }

    /// Translation key of the role's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::OfficeClerk => "role.office_clerk",
            Role::Principal => "role.principal",
            Role::DepartmentHead => "role.department_head",
            Role::Teacher => "role.teacher",
            Role::SfoStaff => "role.sfo_staff",
            Role::MunicipalDirector => "role.municipal_director",
            Role::SystemAdmin => "role.system_admin",
            Role::ItSupport => "role.it_support",
            Role::BillingOfficer => "role.billing_officer",
            Role::DataProtectionOfficer => "role.dpo",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where an employment is: a school, or a municipal unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkplaceKind {
    School,
    Municipal,
}

impl WorkplaceKind {
    pub const ALL: [WorkplaceKind; 2] = [WorkplaceKind::School, WorkplaceKind::Municipal];

    pub fn code(self) -> &'static str {
        match self {
            WorkplaceKind::School => "school",
            WorkplaceKind::Municipal => "municipal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        WorkplaceKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Translation key of the kind's name.
    pub fn label_key(self) -> &'static str {
        match self {
            WorkplaceKind::School => "workplace.school",
            WorkplaceKind::Municipal => "workplace.municipal",
        }
    }
}

/// Defaults inserted for a new tenant. The position codes follow the four-digit
/// stillingskode pattern of municipal HR systems; a municipality edits them to match
/// its own code list.
pub const DEFAULT_ROLE_MAPPINGS: &[(WorkplaceKind, &str, Role)] = &[
    (WorkplaceKind::School, "7950", Role::Principal),
    (WorkplaceKind::School, "7951", Role::DepartmentHead),
    (WorkplaceKind::School, "7952", Role::DepartmentHead),
    (WorkplaceKind::School, "7954", Role::Teacher),
    (WorkplaceKind::School, "7955", Role::Teacher),
    (WorkplaceKind::School, "7956", Role::Teacher),
    (WorkplaceKind::School, "7957", Role::Teacher),
    (WorkplaceKind::School, "7065", Role::OfficeClerk),
    (WorkplaceKind::School, "7040", Role::SfoStaff),
    (WorkplaceKind::School, "7041", Role::SfoStaff),
    (WorkplaceKind::Municipal, "7451", Role::MunicipalDirector),
    (WorkplaceKind::Municipal, "7070", Role::SystemAdmin),
    (WorkplaceKind::Municipal, "7071", Role::ItSupport),
    (WorkplaceKind::Municipal, "7066", Role::BillingOfficer),
    (WorkplaceKind::Municipal, "7072", Role::DataProtectionOfficer),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code("guardian"), None);
    }

    #[test]
    fn defaults_cover_every_role() {
        for r in Role::ALL {
            assert!(DEFAULT_ROLE_MAPPINGS.iter().any(|(_, _, m)| *m == r), "{r} unmapped");
        }
    }
}
