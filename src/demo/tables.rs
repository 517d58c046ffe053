//! The tables a demo municipality is loaded into, each gathering its rows for one
//! `COPY` (see `copy`), in the order their foreign keys need.

use super::copy::Table;

pub struct Tables {
    pub schools: Table,
    pub units: Table,
    pub subjects: Table,
    pub school_years: Table,
    pub role_mappings: Table,
    pub persons: Table,
    pub pupils: Table,
    pub staff: Table,
    pub enrolments: Table,
    pub guardianships: Table,
    pub contact_persons: Table,
    pub employments: Table,
    pub groups: Table,
    pub memberships: Table,
    pub group_staff: Table,
    pub terms: Table,
    pub breaks: Table,
    pub lessons: Table,
    pub school_settings: Table,
    pub registrations: Table,
    pub reports: Table,
    pub periods: Table,
    pub grades: Table,
    pub grade_history: Table,
    pub exam_candidates: Table,
    pub pickup_permissions: Table,
    pub pickup_arrangements: Table,
}

impl Tables {
    pub(super) fn new() -> Self {
        Self {
            schools: Table::new("schools", "tenant_id, id, org_number, name, first_grade, last_grade, has_sfo"),
            units: Table::new("municipal_units", "tenant_id, id, org_number, name"),
            subjects: Table::new("subjects", "tenant_id, id, code, name_nb, name_en, grep_code"),
            school_years: Table::new("school_years", "tenant_id, id, name, starts, ends"),
            role_mappings: Table::new("role_mappings", "tenant_id, workplace_kind, position_code, role"),
            persons: Table::new(
                "persons",
                "tenant_id, id, national_id, given_name, family_name, birth_date, address_protection, \
                 street_address, postal_code, postal_town, phone, email, feide_id",
            ),
            pupils: Table::new("pupils", "tenant_id, person_id, other_mother_tongue, written_form"),
            staff: Table::new("staff", "tenant_id, person_id, resource_number"),
            enrolments: Table::new(
                "enrolments",
                "tenant_id, id, pupil_id, school_id, grade_level, from_date, to_date, guest_home_municipality",
            ),
            guardianships: Table::new(
                "guardianships",
                "tenant_id, pupil_id, guardian_id, parental_responsibility, lives_with, invoice_recipient, from_date",
            ),
            contact_persons: Table::new(
                "contact_persons",
                "tenant_id, id, pupil_id, relation, given_name, family_name, phone",
            ),
            employments: Table::new(
                "employments",
                "tenant_id, id, staff_id, school_id, unit_id, position_code, position_percentage, from_date, \
                 to_date, on_leave",
            ),
            groups: Table::new(
                "groups",
                "tenant_id, id, school_id, school_year_id, kind, name, grade_level, subject_id",
            ),
            memberships: Table::new("group_memberships", "tenant_id, group_id, pupil_id, from_date"),
            group_staff: Table::new("group_staff", "tenant_id, group_id, staff_id, assignment"),
            terms: Table::new("terms", "tenant_id, school_year_id, term, starts, ends"),
            breaks: Table::new("calendar_breaks", "tenant_id, id, school_year_id, kind, name, first_day, last_day"),
            lessons: Table::new(
                "lessons",
                "tenant_id, id, group_id, subject_id, teacher_id, room, weekday, starts, ends, valid_from",
            ),
            school_settings: Table::new("absence_school_settings", "tenant_id, school_id, registration_mode"),
            registrations: Table::new(
                "absence_registrations",
                "tenant_id, id, lesson_id, pupil_id, date, status, minutes_late, registered_by, registered_at, source",
            ),
            reports: Table::new(
                "absence_reports",
                "tenant_id, id, pupil_id, reported_by, first_day, last_day, reason_code, created_at",
            ),
            periods: Table::new(
                "assessment_periods",
                "tenant_id, id, school_id, school_year_id, kind, opens_on, closes_on, publish_on, publish_time",
            ),
            grades: Table::new(
                "grades",
                "tenant_id, period_id, subject_id, pupil_id, value, group_id, changed_by, changed_at",
            ),
            grade_history: Table::new(
                "grade_history",
                "tenant_id, period_id, subject_id, pupil_id, value, changed_by, changed_at",
            ),
            pickup_permissions: Table::new("pickup_permissions", "tenant_id, pupil_id, contact_person_id, given_by"),
            pickup_arrangements: Table::new(
                "pickup_arrangements",
                "tenant_id, pupil_id, home_alone, alone_after, school_transport, changed_by",
            ),
            exam_candidates: Table::new(
                "exam_candidates",
                "tenant_id, school_year_id, subject_id, pupil_id, school_id, group_name",
            ),
        }
    }

    /// In foreign-key order.
    pub fn in_load_order(&self) -> [&Table; 27] {
        [
            &self.schools,
            &self.units,
            &self.subjects,
            &self.school_years,
            &self.role_mappings,
            &self.persons,
            &self.pupils,
            &self.staff,
            &self.enrolments,
            &self.guardianships,
            &self.contact_persons,
            &self.pickup_permissions,
            &self.pickup_arrangements,
            &self.employments,
            &self.groups,
            &self.memberships,
            &self.group_staff,
            &self.terms,
            &self.breaks,
            &self.lessons,
            &self.school_settings,
            &self.registrations,
            &self.reports,
            &self.periods,
            &self.grades,
            &self.grade_history,
            &self.exam_candidates,
        ]
    }
}
