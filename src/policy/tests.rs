//! The rules that need no database, by who asks (DOMAIN.md's roles), with what each
//! answer says of the role acted in and the purpose recorded.

use uuid::Uuid;

use super::*;
use crate::domain::role::Role;
use crate::error::AppError;

const SCHOOL: Uuid = Uuid::from_u128(1);
const OTHER_SCHOOL: Uuid = Uuid::from_u128(2);
const CHILD: Uuid = Uuid::from_u128(10);
const PROTECTED_CHILD: Uuid = Uuid::from_u128(11);

fn actor(audience: Audience, grants: &[(Role, Option<Uuid>)]) -> Actor {
    Actor {
        tenant_id: Uuid::from_u128(100),
        person_id: Uuid::from_u128(200),
        session_id: Uuid::from_u128(300),
        audience,
        grants: grants.iter().map(|&(role, school_id)| Grant { role, school_id }).collect(),
        children: Vec::new(),
        protected_children: Vec::new(),
        starters: Vec::new(),
        display_name: "Test".to_owned(),
    }
}

fn staff(role: Role, school: Option<Uuid>) -> Actor {
    actor(Audience::Staff, &[(role, school)])
}

fn guardian() -> Actor {
    let mut a = actor(Audience::Guardian, &[]);
    a.children = vec![CHILD, PROTECTED_CHILD];
    a.protected_children = vec![PROTECTED_CHILD];
    a
}

fn hidden<T: std::fmt::Debug>(r: crate::error::Result<T>) -> bool {
    matches!(r, Err(AppError::NotFound))
}

#[test]
fn a_schools_pupil_list_is_for_its_staff_and_the_municipal_readers() {
    let clerk = pupil_list_scope(&staff(Role::OfficeClerk, Some(SCHOOL)), SCHOOL).unwrap();
    assert_eq!((clerk.acting_as(), clerk.purpose()), (Some(Role::OfficeClerk), Purpose::SchoolAdministration));
    assert!(clerk.keeps_register && !clerk.sfo_only);
    let sfo = pupil_list_scope(&staff(Role::SfoStaff, Some(SCHOOL)), SCHOOL).unwrap();
    assert!(sfo.sfo_only && !sfo.keeps_register);
    assert_eq!(sfo.purpose(), Purpose::SfoCare);
    let teacher = pupil_list_scope(&staff(Role::Teacher, Some(SCHOOL)), SCHOOL).unwrap();
    assert!(!teacher.keeps_register);
    assert!(hidden(pupil_list_scope(&staff(Role::OfficeClerk, Some(OTHER_SCHOOL)), SCHOOL)));
    let director = pupil_list_scope(&staff(Role::MunicipalDirector, None), SCHOOL).unwrap();
    assert_eq!(director.purpose(), Purpose::MunicipalOversight);
    for role in [Role::BillingOfficer, Role::DataProtectionOfficer] {
        assert!(hidden(pupil_list_scope(&staff(role, None), SCHOOL)), "{role:?}");
    }
    // A grant held as a guardian or pupil gives nothing (the audience bounds the roles).
    assert!(hidden(pupil_list_scope(&actor(Audience::Guardian, &[(Role::Principal, Some(SCHOOL))]), SCHOOL)));
}

#[test]
fn the_audit_log_is_for_the_dpo_the_administrator_and_principals_of_their_schools() {
    let dpo = audit_log_access(&staff(Role::DataProtectionOfficer, None)).unwrap();
    assert!(dpo.schools.is_none() && dpo.sees_citizen_ips);
    let principal = audit_log_access(&staff(Role::Principal, Some(SCHOOL))).unwrap();
    assert_eq!(principal.schools, Some(vec![SCHOOL]));
    assert!(!principal.sees_citizen_ips);
    assert_eq!(principal.purpose(), Purpose::AuditReview);
    for (role, school) in [(Role::OfficeClerk, Some(SCHOOL)), (Role::ItSupport, None), (Role::Teacher, Some(SCHOOL))] {
        assert!(hidden(audit_log_access(&staff(role, school))), "{role:?}");
    }
}

#[test]
fn only_a_municipal_system_administrator_maps_roles() {
    assert!(role_mapping_admin(&staff(Role::SystemAdmin, None)).is_ok());
    assert!(hidden(role_mapping_admin(&staff(Role::Principal, Some(SCHOOL)))));
    assert!(hidden(role_mapping_admin(&staff(Role::ItSupport, None))));
}

#[test]
fn registers_are_taken_by_teachers_and_the_office_of_the_school() {
    let both = absence_register_scope(&actor(
        Audience::Staff,
        &[(Role::Teacher, Some(SCHOOL)), (Role::OfficeClerk, Some(OTHER_SCHOOL))],
    ))
    .unwrap();
    assert_eq!((both.teacher_at.clone(), both.office_at.clone()), (vec![SCHOOL], vec![OTHER_SCHOOL]));
    assert_eq!(both.schools(), vec![SCHOOL, OTHER_SCHOOL]);
    for role in [Role::SfoStaff, Role::SystemAdmin, Role::MunicipalDirector] {
        let school = role.is_school_scoped().then_some(SCHOOL);
        assert!(hidden(absence_register_scope(&staff(role, school))), "{role:?}");
    }
}

#[test]
fn a_guardian_reports_absence_for_a_placed_child_only() {
    let g = guardian();
    let access = absence_report_access(&g, CHILD).unwrap();
    assert_eq!((access.acting_as(), access.purpose()), (None, Purpose::GuardianAccess));
    assert!(hidden(absence_report_access(&g, PROTECTED_CHILD)), "whereabouts protected");
    assert!(hidden(absence_report_access(&g, Uuid::from_u128(12))), "not their child");
    assert!(hidden(leave_guardian_access(&g, PROTECTED_CHILD)));
    assert!(hidden(child_absence_access(&g, PROTECTED_CHILD)));
    assert!(hidden(absence_report_access(&staff(Role::Principal, Some(SCHOOL)), CHILD)));
    assert_eq!(g.placed_children(), vec![CHILD]);
    assert!(g.may_report_absence());
    let sfo = sfo_guardian_children(&g).unwrap();
    assert_eq!(sfo.children, vec![CHILD]);
    // Only protected children: nothing to report, and no SFO page.
    let mut only_protected = guardian();
    only_protected.children = vec![PROTECTED_CHILD];
    assert!(!only_protected.may_report_absence());
    assert!(hidden(sfo_guardian_children(&only_protected)));
}

#[test]
fn a_pupil_reads_their_own_overview() {
    let mut pupil = actor(Audience::Pupil, &[]);
    pupil.person_id = CHILD;
    let own = own_absence_access(&pupil).unwrap();
    assert_eq!((own.pupil_id, own.purpose()), (CHILD, Purpose::OwnData));
    assert!(hidden(own_absence_access(&staff(Role::Teacher, Some(SCHOOL)))));
    assert!(!pupil.whereabouts_protected(CHILD), "only guardians are kept from a child's whereabouts");
}

#[test]
fn school_settings_and_statistics_belong_to_the_school_and_the_municipality() {
    assert_eq!(absence_settings_editor(&staff(Role::Principal, Some(SCHOOL)), SCHOOL).unwrap().role, Role::Principal);
    assert!(absence_settings_editor(&staff(Role::SystemAdmin, None), SCHOOL).is_ok());
    assert!(hidden(absence_settings_editor(&staff(Role::OfficeClerk, Some(SCHOOL)), SCHOOL)));
    assert!(hidden(absence_settings_editor(&staff(Role::Principal, Some(OTHER_SCHOOL)), SCHOOL)));
    assert!(absence_statistics_access(&staff(Role::DepartmentHead, Some(SCHOOL)), SCHOOL).is_ok());
    assert!(absence_statistics_access(&staff(Role::ItSupport, None), SCHOOL).is_ok());
    assert!(hidden(absence_statistics_access(&staff(Role::Teacher, Some(SCHOOL)), SCHOOL)));
    assert!(leave_settings_access(&staff(Role::Principal, Some(SCHOOL)), SCHOOL).is_ok());
    assert!(hidden(leave_settings_access(&staff(Role::DepartmentHead, Some(SCHOOL)), SCHOOL)));
    assert!(mail_outbox_access(&staff(Role::OfficeClerk, Some(SCHOOL)), SCHOOL).is_ok());
    assert!(mail_outbox_access(&staff(Role::SystemAdmin, None), SCHOOL).is_ok());
    assert!(hidden(mail_outbox_access(&staff(Role::DepartmentHead, Some(SCHOOL)), SCHOOL)));
}

#[test]
fn a_school_timetable_is_read_by_its_staff_and_edited_by_its_office() {
    let teacher = school_timetable_access(&staff(Role::Teacher, Some(SCHOOL)), SCHOOL).unwrap();
    assert!(!teacher.may_edit);
    let clerk = school_timetable_access(&staff(Role::OfficeClerk, Some(SCHOOL)), SCHOOL).unwrap();
    assert!(clerk.may_edit);
    assert!(timetable_editor(&staff(Role::SystemAdmin, None), SCHOOL).is_ok());
    assert!(hidden(timetable_editor(&staff(Role::Teacher, Some(SCHOOL)), SCHOOL)));
    assert!(hidden(school_timetable_access(&staff(Role::BillingOfficer, None), SCHOOL)));
}

#[test]
fn the_leave_queue_is_for_registrars_and_the_administrator_who_sets_limits() {
    let principal = leave_queue_scope(&staff(Role::Principal, Some(SCHOOL))).unwrap();
    assert_eq!(principal.settings_at, Some(vec![SCHOOL]));
    assert_eq!(principal.acting_as(), Some(Role::Principal));
    let admin = leave_queue_scope(&staff(Role::SystemAdmin, None)).unwrap();
    assert!(admin.settings_at.is_none() && admin.school_at.is_empty() && admin.teacher_at.is_empty());
    assert!(hidden(leave_queue_scope(&staff(Role::BillingOfficer, None))));
    assert!(hidden(leave_queue_scope(&guardian())));
}

#[test]
fn a_schools_office_sees_its_intake_and_only_its_leaders_decide() {
    for role in [Role::OfficeClerk, Role::Principal, Role::DepartmentHead] {
        let a = school_intake_access(&staff(role, Some(SCHOOL)), SCHOOL).expect("the office sees its intake");
        assert_eq!(a.decides, role != Role::OfficeClerk, "{role:?}");
        assert_eq!(a.purpose(), Purpose::SchoolAdministration);
        assert!(hidden(school_intake_access(&staff(role, Some(OTHER_SCHOOL)), SCHOOL)), "{role:?} elsewhere");
    }
    assert!(matches!(
        intake_decision_access(&staff(Role::OfficeClerk, Some(SCHOOL)), SCHOOL),
        Err(AppError::Forbidden)
    ));
    assert!(intake_decision_access(&staff(Role::Principal, Some(SCHOOL)), SCHOOL).is_ok());
    for role in [Role::Teacher, Role::SfoStaff] {
        assert!(hidden(school_intake_access(&staff(role, Some(SCHOOL)), SCHOOL)), "{role:?}");
    }
    for role in [Role::MunicipalDirector, Role::SystemAdmin, Role::ItSupport] {
        assert!(hidden(school_intake_access(&staff(role, None), SCHOOL)), "{role:?}");
    }
    assert!(hidden(school_intake_access(&guardian(), SCHOOL)));
}

#[test]
fn a_guardian_sees_and_asks_for_their_starters_only() {
    let mut g = guardian();
    assert!(hidden(guardian_intake_access(&g)), "no starters, no intake");
    assert!(!g.may_see_intake());
    let starter = Uuid::from_u128(20);
    g.starters = vec![starter];
    assert!(g.may_see_intake());
    assert_eq!(guardian_intake_access(&g).expect("sees").children, vec![starter]);
    assert!(intake_request_access(&g, starter).is_ok());
    assert!(hidden(intake_request_access(&g, CHILD)), "a pupil child is not a starter");
    assert!(hidden(intake_request_access(&g, Uuid::from_u128(21))));
    let mut s = staff(Role::Principal, Some(SCHOOL));
    s.starters = vec![starter];
    assert!(hidden(guardian_intake_access(&s)), "staff have no Min side");
}
