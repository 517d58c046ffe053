//! The municipality itself: its role mappings, the subject catalogue, the three
//! school years with their calendars, the municipal unit, and the schools.

use super::{uuid_from, Builder, School, SchoolPlan};
use crate::domain::role::DEFAULT_ROLE_MAPPINGS;

/// The subject catalogue: the local code, the names, and the directorate's subject
/// code (Grep's fagkode for lower secondary's assessment) where the demo names one.
const SUBJECTS: &[(&str, &str, &str, Option<&str>)] = &[
    ("NOR", "Norsk", "Norwegian", Some("NOR0214")),
    ("MAT", "Matematikk", "Mathematics", Some("MAT0010")),
    ("ENG", "Engelsk", "English", Some("ENG0012")),
    ("NAT", "Naturfag", "Science", Some("NAT0010")),
    ("SAF", "Samfunnsfag", "Social studies", Some("SAF0010")),
    ("KRLE", "KRLE", "Religion, philosophies of life and ethics", Some("RLE0030")),
    ("KHV", "Kunst og håndverk", "Art and crafts", Some("KHV0010")),
    ("MUS", "Musikk", "Music", Some("MUS0010")),
    ("MHE", "Mat og helse", "Food and health", Some("MHE0010")),
    ("KRO", "Kroppsøving", "Physical education", Some("KRO0020")),
    ("SPA", "Spansk", "Spanish", None),
    ("TYS", "Tysk", "German", None),
    ("SAM", "Samisk", "Sami", None),
];

impl<'a> Builder<'a> {
    pub(super) fn header(&mut self) {
        let tenant = self.tenant;
        for (kind, code, role) in DEFAULT_ROLE_MAPPINGS {
            self.t.role_mappings.uuid(tenant).text(kind.code()).text(code).text(role.code()).end();
        }
        for (code, nb, en, grep) in SUBJECTS {
            let id = self.uuid();
            self.t.subjects.uuid(tenant).uuid(id).text(code).text(nb).text(en).opt(*grep).end();
            self.subjects.push((code, id));
        }
        let previous = self.uuid();
        self.previous_year = previous;
        let p = self.years.previous.year;
        self.t.school_years.uuid(tenant).uuid(previous).text(&p.name()).date(p.starts()).date(p.ends()).end();
        self.year = self.uuid();
        let (year, c) = (self.year, self.years.current.year);
        self.t.school_years.uuid(tenant).uuid(year).text(&c.name()).date(c.starts()).date(c.ends()).end();
        // From its own stream, so the ids drawn after it stay as they were.
        let next = uuid_from(&mut self.timetable_rng);
        let n = self.years.next.year;
        self.t.school_years.uuid(tenant).uuid(next).text(&n.name()).date(n.starts()).date(n.ends()).end();
        self.calendar(previous, year, next);
        self.unit = self.uuid();
        let (unit, org) = (self.unit, self.org_number());
        self.t.units.uuid(tenant).uuid(unit).text(&org).text(self.plan.unit_name).end();
        for (i, sp) in self.plan.schools.iter().enumerate() {
            let id = uuid_from(&mut self.rng);
            let org = self.org_number();
            self.t
                .schools
                .uuid(tenant)
                .uuid(id)
                .text(&org)
                .text(&sp.name)
                .num(sp.first)
                .num(sp.last)
                .bool(sp.sfo)
                .end();
            let grades = usize::try_from(sp.last - sp.first + 1).unwrap_or(0);
            self.schools.push(School {
                id,
                plan_index: i,
                free: vec![sp.per_grade; grades],
                pupils: (0..grades).map(|_| Vec::new()).collect(),
                teachers: Vec::new(),
                fixed_contact: Vec::new(),
                fixed_subject: Vec::new(),
                has_principal: false,
                department_heads: 0,
                clerks: 0,
                sfo_staff: 0,
            });
        }
        self.counts.schools = self.schools.len() as u64;
    }

    pub(super) fn school_named(&self, name: &str) -> Option<usize> {
        self.schools.iter().position(|s| self.plan.schools[s.plan_index].name == name)
    }

    pub(super) fn plan_of(&self, s: usize) -> &'a SchoolPlan {
        &self.plan.schools[self.schools[s].plan_index]
    }
}
