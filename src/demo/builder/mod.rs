//! Builds one demo municipality in memory, deterministically from its seed: schools,
//! staff with employments, families (siblings, one or two guardians, some without
//! parental responsibility, a few protected addresses), enrolment history, classes,
//! teaching groups and SFO groups. The rows are then bulk-loaded by [`super::load`].
//!
//! One [`Builder`] goes through the municipality in [`Builder::build`]'s order; each
//! file adds what it builds to it:
//!
//! - `municipality`: role mappings, subjects, school years, the unit and the schools.
//! - `ids`: identifiers and contact details (national ids, Feide ids, addresses, …).
//! - `staff`: staff and employments, the personas' and each school's.
//! - `families`: pupils, guardians and contact persons, the personas' and random ones.
//! - `enrolments`: which school and grade a pupil is in, now and last year.
//! - `groups`: classes, teaching groups and SFO groups; `timetable`: the calendar and
//!   the weekly lessons.
//! - `absence`: the register mode and the absence history (see `super::history`).

mod absence;
mod assessment;
mod enrolments;
mod families;
mod groups;
mod ids;
mod municipality;
mod staff;
mod timetable;

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::Date;
use uuid::Uuid;

use super::history::History;
use super::personas;
use super::tables::Tables;
use super::years::DemoYears;

pub struct SchoolPlan {
    pub name: String,
    pub first: i16,
    pub last: i16,
    pub sfo: bool,
    pub per_grade: usize,
    /// Schools of one area share families (siblings) and feed each other
    /// (a primary school's grade 7 goes on to the area's lower secondary school).
    pub area: usize,
}

pub struct TenantPlan {
    pub slug: &'static str,
    pub name: &'static str,
    pub number: &'static str,
    pub seed: u64,
    pub realm: &'static str,
    pub unit_name: &'static str,
    pub postal: Vec<(String, &'static str)>,
    pub guest_from: &'static [&'static str],
    pub schools: Vec<SchoolPlan>,
}

/// Pupils per class before a grade is split into another class.
const CLASS_CAP: usize = 26;

/// A household's address, shared by the children and the guardians who live with them.
#[derive(Clone)]
struct Address {
    protection: &'static str,
    street: Option<String>,
    postal: Option<(String, &'static str)>,
}

struct PlacedPupil {
    id: Uuid,
    from: Date,
}

struct School {
    id: Uuid,
    plan_index: usize,
    /// Places still free, by grade level (index = grade - first).
    free: Vec<usize>,
    /// Pupils by grade level (index = grade - first).
    pupils: Vec<Vec<PlacedPupil>>,
    /// Staff to draw teachers from.
    teachers: Vec<Uuid>,
    /// Fixed assignments: (class name, contact teacher).
    fixed_contact: Vec<(String, Uuid)>,
    /// Fixed subject teacher: (subject code, grades, teacher).
    fixed_subject: Vec<(&'static str, std::ops::RangeInclusive<i16>, Uuid)>,
    has_principal: bool,
    department_heads: usize,
    clerks: usize,
    sfo_staff: usize,
}

pub struct Counts {
    pub pupils: u64,
    pub guardians: u64,
    pub staff: u64,
    pub schools: u64,
}

pub struct Built {
    pub tenant_id: Uuid,
    pub tables: Tables,
    pub counts: Counts,
}

pub struct Builder<'a> {
    plan: &'a TenantPlan,
    rng: ChaCha8Rng,
    /// Ids of the timetable (terms, breaks, lessons) come from a stream of their own, so
    /// adding them left every earlier id and organisation number as it was.
    timetable_rng: ChaCha8Rng,
    /// The standard demo's absence history (not the large demo's), gathered while
    /// building and written last, from a random stream of its own.
    history: Option<History>,
    tenant: Uuid,
    t: Tables,
    used_ids: HashSet<String>,
    used_feide: HashSet<String>,
    used_org: HashSet<String>,
    schools: Vec<School>,
    unit: Uuid,
    subjects: Vec<(&'static str, Uuid)>,
    years: DemoYears,
    year: Uuid,
    resource_seq: u32,
    families: usize,
    /// Pupils who are at SFO whatever the dice say (Oskar, whose SFO the demo shows).
    sfo_forced: Vec<Uuid>,
    /// Grades' ids and values come from a stream of their own (see `assessment`).
    assessment_rng: ChaCha8Rng,
    previous_year: Uuid,
    /// The teaching groups of grade 8 and up, for their grades.
    graded: Vec<assessment::Graded>,
    counts: Counts,
}

impl<'a> Builder<'a> {
    /// A builder of `plan` as on the date `today` (see [`DemoYears`]).
    pub fn new(plan: &'a TenantPlan, today: Date) -> Self {
        let years = DemoYears::around(today);
        let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
        let tenant = uuid_from(&mut rng);
        let mut used_ids = HashSet::new();
        let relatives =
            [&personas::OLA_NORDMANN, &personas::OSKAR_NORDMANN, &personas::TUVA_BERG, &personas::HILDE_BERG]
                .map(|r| r.born);
        for born in personas::SPECS.iter().map(|s| s.born).chain(relatives) {
            used_ids.extend(personas::fixed_national_id(personas::moved(born, years.shift())));
        }
        let used_feide = personas::SPECS.iter().filter_map(|s| s.feide_id).map(str::to_owned).collect();
        Self {
            plan,
            rng,
            timetable_rng: ChaCha8Rng::seed_from_u64(plan.seed ^ 0x7469_6d65_7461_626c),
            history: super::SLUGS.contains(&plan.slug).then(History::default),
            tenant,
            t: Tables::new(),
            used_ids,
            used_feide,
            used_org: HashSet::new(),
            schools: Vec::new(),
            unit: Uuid::nil(),
            subjects: Vec::new(),
            years,
            year: Uuid::nil(),
            resource_seq: 0,
            families: 0,
            sfo_forced: Vec::new(),
            assessment_rng: ChaCha8Rng::seed_from_u64(plan.seed ^ 0x6772_6164_6573),
            previous_year: Uuid::nil(),
            graded: Vec::new(),
            counts: Counts { pupils: 0, guardians: 0, staff: 0, schools: 0 },
        }
    }

    pub fn build(mut self, progress: &(dyn Fn(&str) + Sync)) -> Built {
        self.header();
        self.persona_staff();
        self.persona_families();
        let total: usize = self.schools.iter().flat_map(|s| &s.free).sum();
        let mut slots: Vec<(usize, usize)> = self
            .schools
            .iter()
            .enumerate()
            .flat_map(|(s, school)| {
                school.free.iter().enumerate().flat_map(move |(g, &n)| std::iter::repeat_n((s, g), n))
            })
            .collect();
        slots.shuffle(&mut self.rng);
        let mut placed_before = 0;
        for (s, g) in slots {
            if self.schools[s].free[g] == 0 {
                continue; // taken by a sibling
            }
            self.random_family(s, g);
            let placed = total - self.schools.iter().flat_map(|x| &x.free).sum::<usize>();
            if total > 20_000 && placed / 10_000 != placed_before / 10_000 {
                progress(&format!("{}: {placed} of {total} pupils", self.plan.name));
            }
            placed_before = placed;
        }
        for s in 0..self.schools.len() {
            self.school_staff(s);
            self.groups(s);
        }
        self.unit_staff();
        self.absence();
        self.assessment();
        Built { tenant_id: self.tenant, tables: self.t, counts: self.counts }
    }
}

fn uuid_from(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}
