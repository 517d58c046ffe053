//! Builds one demo municipality in memory, deterministically from its seed: schools,
//! staff with employments, families (siblings, one or two guardians, some without
//! parental responsibility, a few protected addresses), enrolment history, classes,
//! teaching groups and SFO groups. The rows are then bulk-loaded by [`super::load`].

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Month};
use uuid::Uuid;

use super::copy::Table;
use super::history::History;
use super::names::{self, Origin};
use super::personas::{self, Part, Spec};
use crate::domain::calendar::{SchoolCalendar, SchoolYear};
use crate::domain::national_id::NationalId;
use crate::domain::role::DEFAULT_ROLE_MAPPINGS;

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
const SUBJECTS: &[(&str, &str, &str)] = &[
    ("NOR", "Norsk", "Norwegian"),
    ("MAT", "Matematikk", "Mathematics"),
    ("ENG", "Engelsk", "English"),
    ("NAT", "Naturfag", "Science"),
    ("SAF", "Samfunnsfag", "Social studies"),
    ("KRLE", "KRLE", "Religion, philosophies of life and ethics"),
    ("KHV", "Kunst og håndverk", "Art and crafts"),
    ("MUS", "Musikk", "Music"),
    ("MHE", "Mat og helse", "Food and health"),
    ("KRO", "Kroppsøving", "Physical education"),
    ("SPA", "Spansk", "Spanish"),
    ("TYS", "Tysk", "German"),
    ("SAM", "Samisk", "Sami"),
];

pub fn date(y: i32, m: Month, d: u8) -> Date {
    // Only called with valid dates.
    Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN)
}

/// The demo's years are built around the school year of "today" (1 August to 31 July,
/// see `domain::calendar`): that year with its classes, groups and timetable, the year
/// before (last year's enrolments) and the next one (its calendar only, as a
/// municipality adopts it a year ahead). Dates of the demo's stories (a move in the
/// autumn, an employment that ended in the summer) are placed in the same way, and
/// children's birth years follow the year, so a persona is always in the same grade.
#[derive(Debug, Clone)]
pub struct DemoYears {
    pub today: Date,
    pub current: SchoolCalendar,
    pub previous: SchoolCalendar,
    pub next: SchoolCalendar,
}

impl DemoYears {
    pub fn around(today: Date) -> Self {
        let year = SchoolYear::containing(today);
        Self {
            today,
            current: year.usual_calendar(),
            previous: year.previous().usual_calendar(),
            next: year.next().usual_calendar(),
        }
    }

    /// The school day the demo's stories are told around: today when it is one, else the
    /// latest school day of the year before it (in a holiday, in the summer), else the
    /// year's first school day (in August before school starts). The absence history
    /// ends the week before last from it, and tests that need a school day run on it.
    pub fn school_today(&self) -> Date {
        let c = &self.current;
        if c.is_school_day(self.today) {
            return self.today;
        }
        c.school_days().into_iter().rfind(|&d| d < self.today).unwrap_or_else(|| c.first_day())
    }

    /// The calendar year the current school year starts in (2026 for 2026-2027).
    pub fn y(&self) -> i32 {
        self.current.year.0
    }

    /// How many years the demo has moved on from 2026-2027, the year it was written for
    /// (children's birth dates move with it).
    pub fn shift(&self) -> i32 {
        self.y() - 2026
    }
}

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
}

impl Tables {
    fn new() -> Self {
        Self {
            schools: Table::new("schools", "tenant_id, id, org_number, name, first_grade, last_grade, has_sfo"),
            units: Table::new("municipal_units", "tenant_id, id, org_number, name"),
            subjects: Table::new("subjects", "tenant_id, id, code, name_nb, name_en"),
            school_years: Table::new("school_years", "tenant_id, id, name, starts, ends"),
            role_mappings: Table::new("role_mappings", "tenant_id, workplace_kind, position_code, role"),
            persons: Table::new(
                "persons",
                "tenant_id, id, national_id, given_name, family_name, birth_date, address_protection, \
                 street_address, postal_code, postal_town, phone, email, feide_id",
            ),
            pupils: Table::new("pupils", "tenant_id, person_id, other_mother_tongue"),
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
        }
    }

    /// In foreign-key order.
    pub fn in_load_order(&self) -> [&Table; 21] {
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
        ]
    }
}

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
        Built { tenant_id: self.tenant, tables: self.t, counts: self.counts }
    }

    // ---- municipality, schools, catalogue -------------------------------------------

    fn header(&mut self) {
        let tenant = self.tenant;
        for (kind, code, role) in DEFAULT_ROLE_MAPPINGS {
            self.t.role_mappings.uuid(tenant).text(kind.code()).text(code).text(role.code()).end();
        }
        for (code, nb, en) in SUBJECTS {
            let id = self.uuid();
            self.t.subjects.uuid(tenant).uuid(id).text(code).text(nb).text(en).end();
            self.subjects.push((code, id));
        }
        let previous = self.uuid();
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

    fn school_named(&self, name: &str) -> Option<usize> {
        self.schools.iter().position(|s| self.plan.schools[s.plan_index].name == name)
    }

    fn plan_of(&self, s: usize) -> &'a SchoolPlan {
        &self.plan.schools[self.schools[s].plan_index]
    }

    // ---- identifiers ------------------------------------------------------------------

    fn uuid(&mut self) -> Uuid {
        uuid_from(&mut self.rng)
    }

    /// A synthetic national id not used before; moves the birth date a day on when a
    /// date's series is exhausted (only conceivable in the large municipality).
    fn national_id(&mut self, mut born: Date) -> (String, Date) {
        loop {
            let series = if born.year() >= 2000 { 500..=999 } else { 0..=499 };
            for _ in 0..400 {
                let individual = self.rng.gen_range(series.clone());
                if let Some(id) = NationalId::synthetic(born, individual) {
                    if self.used_ids.insert(id.as_str().to_owned()) {
                        return (id.as_str().to_owned(), born);
                    }
                }
            }
            born = born.next_day().unwrap_or(born);
        }
    }

    fn duf_number(&mut self) -> String {
        let y = self.years.y();
        loop {
            let id = format!("{}{:08}", self.rng.gen_range(y - 5..=y - 1), self.rng.gen_range(0..100_000_000u32));
            if self.used_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn feide_id(&mut self, given: &str, family: &str) -> String {
        let first = given.split_whitespace().next().unwrap_or(given);
        let base = format!("{}.{}", names::ascii_fold(first), names::ascii_fold(family));
        let mut n = 1;
        loop {
            let id =
                if n == 1 { format!("{base}@{}", self.plan.realm) } else { format!("{base}{n}@{}", self.plan.realm) };
            if self.used_feide.insert(id.clone()) {
                return id;
            }
            n += 1;
        }
    }

    /// A nine-digit organisation number with a valid modulus-11 control digit.
    fn org_number(&mut self) -> String {
        const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
        loop {
            let mut digits = vec![9u32];
            digits.extend((0..7).map(|_| self.rng.gen_range(0..10u32)));
            let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
            let control = (11 - sum % 11) % 11;
            if control == 10 {
                continue;
            }
            digits.push(control);
            let org: String = digits.iter().map(|d| char::from(b'0' + d.to_le_bytes()[0])).collect();
            if self.used_org.insert(org.clone()) {
                return org;
            }
        }
    }

    fn phone(&mut self) -> String {
        let lead = if self.rng.gen_bool(0.5) { 4 } else { 9 };
        format!(
            "+47 {lead}{:02} {:02} {:03}",
            self.rng.gen_range(0..100),
            self.rng.gen_range(0..100),
            self.rng.gen_range(0..1000)
        )
    }

    fn random_date(&mut self, year: i32) -> Date {
        let days = if time::util::is_leap_year(year) { 366 } else { 365 };
        Date::from_ordinal_date(year, self.rng.gen_range(1..=days)).unwrap_or(Date::MIN)
    }

    fn address(&mut self, protection: &'static str) -> Address {
        if protection == "strictly_confidential" {
            // Strengt fortrolig: the address is not even given to the municipality.
            return Address { protection, street: None, postal: None };
        }
        let street = names::STREETS.choose(&mut self.rng).copied().unwrap_or("Storgata");
        let mut number = self.rng.gen_range(1..=140).to_string();
        if self.rng.gen_bool(0.15) {
            number.push(['A', 'B', 'C'][self.rng.gen_range(0..3)]);
        }
        let postal = self.plan.postal.choose(&mut self.rng).cloned();
        Address { protection, street: Some(format!("{street} {number}")), postal }
    }

    // ---- people -----------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn person(
        &mut self,
        id: Uuid,
        national_id: &str,
        given: &str,
        family: &str,
        born: Date,
        address: &Address,
        phone: Option<&str>,
        email: Option<&str>,
        feide: Option<&str>,
    ) {
        let postal = address.postal.as_ref();
        self.t
            .persons
            .uuid(self.tenant)
            .uuid(id)
            .text(national_id)
            .text(given)
            .text(family)
            // A DUF number (12 digits) carries no birth date, and the population
            // register has none yet for the newly arrived: the office's pupil list shows
            // who lacks one, and their guardians get no access until it is recorded.
            .opt_date((national_id.len() == 11).then_some(born))
            .text(address.protection)
            .opt(address.street.as_deref())
            .opt(postal.map(|p| p.0.as_str()))
            .opt(postal.map(|p| p.1))
            .opt(phone)
            .opt(email)
            .opt(feide)
            .end();
    }

    fn new_staff(&mut self, given: &str, family: &str, born: Date, fixed: Option<(&str, &str)>) -> Uuid {
        let id = self.uuid();
        let (nid, born) = match fixed {
            Some((nid, _)) => (nid.to_owned(), born),
            None => self.national_id(born),
        };
        let feide = match fixed {
            Some((_, feide)) => feide.to_owned(),
            None => self.feide_id(given, family),
        };
        let home = self.address("none");
        let phone = self.phone();
        self.person(id, &nid, given, family, born, &home, Some(&phone), Some(&feide), Some(&feide));
        self.resource_seq += 1;
        let resource = format!("{}", 100_000 + self.resource_seq);
        self.t.staff.uuid(self.tenant).uuid(id).text(&resource).end();
        self.counts.staff += 1;
        id
    }

    fn employment(&mut self, staff: Uuid, school: Option<usize>, code: &str, percentage: u8, ended: bool) {
        let id = self.uuid();
        let school_id = school.map(|s| self.schools[s].id);
        let unit = if school.is_none() { Some(self.unit) } else { None };
        // Employments start on 1 August of an earlier year; an ended one ended on 30 June,
        // before the current school year.
        let y = self.years.y();
        let from = date(self.rng.gen_range(y - 22..=y - 1), Month::August, 1);
        let to = ended.then(|| date(y, Month::June, 30));
        let from = if ended { date(y - 14, Month::August, 1) } else { from };
        let on_leave = !ended && self.rng.gen_bool(0.02);
        self.t
            .employments
            .uuid(self.tenant)
            .uuid(id)
            .uuid(staff)
            .opt_uuid(school_id)
            .opt_uuid(unit)
            .text(code)
            .num(percentage)
            .date(from)
            .opt_date(to)
            .bool(on_leave)
            .end();
    }

    fn percentage(&mut self) -> u8 {
        *[100, 100, 100, 100, 100, 80, 80, 60, 50].choose(&mut self.rng).unwrap_or(&100)
    }

    fn random_staff(&mut self, school: Option<usize>, code: &str) -> Uuid {
        let origin = self.origin();
        let pool = names::pool(origin);
        let given =
            if self.rng.gen_bool(0.6) { pool.girls } else { pool.boys }.choose(&mut self.rng).copied().unwrap_or("Kim");
        let family = pool.families.choose(&mut self.rng).copied().unwrap_or("Hansen");
        let year = self.rng.gen_range(1962..=1998);
        let born = self.random_date(year);
        let id = self.new_staff(given, family, born, None);
        let pct = self.percentage();
        self.employment(id, school, code, pct, false);
        id
    }

    fn persona_staff(&mut self) {
        let specs: Vec<&Spec> = personas::SPECS
            .iter()
            .filter(|s| s.tenant == self.plan.slug && matches!(s.part, Part::Staff { .. }))
            .collect();
        for spec in specs {
            let Part::Staff { school, position_code, ended } = spec.part else {
                continue;
            };
            let (Some(nid), Some(feide), Some(born)) =
                (personas::fixed_national_id(spec.born), spec.feide_id, personas::date(spec.born))
            else {
                continue;
            };
            let s = school.and_then(|name| self.school_named(name));
            let id = self.new_staff(spec.given, spec.family, born, Some((&nid, feide)));
            self.employment(id, s, position_code, 100, ended);
            let Some(s) = s else { continue };
            if ended {
                continue;
            }
            let school = &mut self.schools[s];
            match spec.key {
                "principal" => school.has_principal = true,
                "department_head" => school.department_heads += 1,
                "office_clerk" | "smaoy_office_clerk" => school.clerks += 1,
                "sfo_staff" => school.sfo_staff += 1,
                "contact_teacher" => {
                    school.fixed_contact.push(("4A".to_owned(), id));
                    school.teachers.push(id);
                }
                "teacher" => {
                    school.fixed_subject.push(("ENG", 3..=5, id));
                    school.fixed_subject.push(("KRO", 5..=7, id));
                    school.teachers.push(id);
                }
                _ => {}
            }
        }
    }

    fn origin(&mut self) -> Origin {
        match self.rng.gen_range(0..100) {
            0..=77 => Origin::Norwegian,
            78..=84 => Origin::Sami,
            _ => Origin::Other,
        }
    }

    /// Emma and Oskar Nordmann with Kari (the guardian persona) and Ola; Tuva Berg with
    /// Hilde (parental responsibility) and Geir Nilsen (none).
    fn persona_families(&mut self) {
        if self.plan.slug != "fjordvik" {
            return;
        }
        let (Some(solbakken), Some(ungdom), Some(nordlys)) = (
            self.school_named(personas::SOLBAKKEN),
            self.school_named(personas::UNGDOMSSKOLE),
            self.school_named(personas::NORDLYS),
        ) else {
            return;
        };
        let home = self.address("none");
        let kari = personas::spec("guardian").map(|s| (s.given, s.family, s.born));
        let ola = &personas::OLA_NORDMANN;
        let emma = personas::spec("pupil");
        let oskar = &personas::OSKAR_NORDMANN;
        let (Some(kari), Some(emma)) = (kari, emma) else { return };
        let kari = self.fixed_adult(kari.0, kari.1, kari.2, &home);
        let ola = self.fixed_adult(ola.given, ola.family, ola.born, &home);
        let guardians: Vec<(Uuid, bool, bool, bool)> = [(kari, true), (ola, false)]
            .into_iter()
            .filter_map(|(g, invoice)| g.map(|g| (g, true, true, invoice)))
            .collect();
        let emma_id = self.fixed_child(emma.given, emma.family, emma.born, emma.feide_id, &home, ungdom, 9);
        let oskar_id = self.fixed_child(oskar.given, oskar.family, oskar.born, None, &home, solbakken, 3);
        self.sfo_forced.extend(oskar_id.map(|o| o.0));
        for child in [emma_id, oskar_id].into_iter().flatten() {
            for &(g, responsibility, lives_with, invoice) in &guardians {
                self.guardianship(child.0, g, responsibility, lives_with, invoice, child.1);
            }
        }

        let home = self.address("none");
        let elsewhere = self.address("none");
        let hilde = &personas::HILDE_BERG;
        let tuva = &personas::TUVA_BERG;
        let geir = personas::spec("guardian_no_responsibility").map(|s| (s.given, s.family, s.born));
        let Some(geir) = geir else { return };
        let hilde = self.fixed_adult(hilde.given, hilde.family, hilde.born, &home);
        let geir = self.fixed_adult(geir.0, geir.1, geir.2, &elsewhere);
        if let Some((tuva, born)) = self.fixed_child(tuva.given, tuva.family, tuva.born, None, &home, nordlys, 5) {
            if let Some(hilde) = hilde {
                self.guardianship(tuva, hilde, true, true, true, born);
            }
            if let Some(geir) = geir {
                self.guardianship(tuva, geir, false, false, false, born);
            }
        }
    }

    fn fixed_adult(&mut self, given: &str, family: &str, born: (i32, Month, u8), home: &Address) -> Option<Uuid> {
        let nid = personas::fixed_national_id(born)?;
        let born = personas::date(born)?;
        let id = self.uuid();
        let phone = self.phone();
        let email = format!("{}.{}@epost.example", names::ascii_fold(given), names::ascii_fold(family));
        self.person(id, &nid, given, family, born, home, Some(&phone), Some(&email), None);
        self.counts.guardians += 1;
        Some(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn fixed_child(
        &mut self,
        given: &str,
        family: &str,
        born: (i32, Month, u8),
        feide: Option<&str>,
        home: &Address,
        school: usize,
        grade: i16,
    ) -> Option<(Uuid, Date)> {
        let born = personas::moved(born, self.years.shift());
        let nid = personas::fixed_national_id(born)?;
        let born = personas::date(born)?;
        let id = self.uuid();
        let feide = match feide {
            Some(f) => f.to_owned(),
            None => self.feide_id(given, family),
        };
        self.person(id, &nid, given, family, born, home, None, None, Some(&feide));
        self.t.pupils.uuid(self.tenant).uuid(id).opt(None).end();
        self.counts.pupils += 1;
        let g = usize::try_from(grade - self.plan_of(school).first).unwrap_or(0);
        self.schools[school].free[g] = self.schools[school].free[g].saturating_sub(1);
        self.enrol(id, school, grade, false);
        if let Some(h) = &mut self.history {
            h.persona(id);
        }
        Some((id, born))
    }

    fn guardianship(
        &mut self,
        pupil: Uuid,
        guardian: Uuid,
        responsibility: bool,
        lives_with: bool,
        invoice: bool,
        from: Date,
    ) {
        if let (true, Some(h)) = (responsibility, &mut self.history) {
            h.guardian(pupil, guardian);
        }
        self.t
            .guardianships
            .uuid(self.tenant)
            .uuid(pupil)
            .uuid(guardian)
            .bool(responsibility)
            .bool(lives_with)
            .bool(invoice)
            .date(from)
            .end();
    }

    /// One enrolment row (school `s`, grade, from, to, guest pupil's home municipality).
    fn enrolment_row(&mut self, pupil: Uuid, s: usize, grade: i16, from: Date, to: Option<Date>, guest: Option<&str>) {
        let (id, school) = (self.uuid(), self.schools[s].id);
        self.t
            .enrolments
            .uuid(self.tenant)
            .uuid(id)
            .uuid(pupil)
            .uuid(school)
            .num(grade)
            .date(from)
            .opt_date(to)
            .opt(guest)
            .end();
    }

    /// Current enrolment (and last year's, for grade 2 and up); now and then a pupil
    /// who changed school this autumn, or a guest pupil from another municipality.
    fn enrol(&mut self, pupil: Uuid, s: usize, grade: i16, random_history: bool) {
        let plan = self.plan_of(s);
        // Enrolments run by school year (1 August to 31 July), so a pupil is enrolled
        // over the summer too; this year's starts when last year's ends.
        let (last_year, this_year) = (self.years.previous.year, self.years.current.year);
        let mut from = this_year.starts();
        if grade > 1 {
            let previous = if grade > plan.first { Some(s) } else { self.feeder(s, grade - 1) };
            if let Some(p) = previous {
                self.enrolment_row(pupil, p, grade - 1, last_year.starts(), Some(this_year.starts()), None);
            }
        }
        if random_history && self.rng.gen_bool(0.01) {
            // Moved within the municipality at the start of the autumn break.
            let others: Vec<usize> = (0..self.schools.len())
                .filter(|&o| o != s && self.plan_of(o).first <= grade && grade <= self.plan_of(o).last)
                .collect();
            if let Some(&o) = others.choose(&mut self.rng) {
                let moved = self.years.current.days_off_named("Høstferie").map_or(this_year.starts(), |o| o.first);
                self.enrolment_row(pupil, o, grade, this_year.starts(), Some(moved), None);
                from = moved;
            }
        }
        let guest = if random_history && self.rng.gen_bool(0.01) {
            self.plan.guest_from.choose(&mut self.rng).copied()
        } else {
            None
        };
        self.enrolment_row(pupil, s, grade, from, None, guest);
        let g = usize::try_from(grade - plan.first).unwrap_or(0);
        self.schools[s].pupils[g].push(PlacedPupil { id: pupil, from });
    }

    /// The school of the same area a pupil came from (primary school before lower secondary).
    fn feeder(&mut self, s: usize, grade: i16) -> Option<usize> {
        let area = self.plan_of(s).area;
        let candidates: Vec<usize> = (0..self.schools.len())
            .filter(|&o| {
                let p = self.plan_of(o);
                o != s && p.area == area && p.first <= grade && grade <= p.last
            })
            .collect();
        candidates.choose(&mut self.rng).copied()
    }

    /// A free place for a sibling in the same area, a few grades apart.
    fn sibling_slot(&mut self, area: usize, grade: i16) -> Option<(usize, i16)> {
        let offset = self.rng.gen_range(1..=4) * if self.rng.gen_bool(0.5) { 1 } else { -1 };
        let want = grade + offset;
        let candidates: Vec<usize> = (0..self.schools.len())
            .filter(|&s| {
                let p = self.plan_of(s);
                p.area == area
                    && p.first <= want
                    && want <= p.last
                    && self.schools[s].free[usize::try_from(want - p.first).unwrap_or(0)] > 0
            })
            .collect();
        candidates.choose(&mut self.rng).map(|&s| (s, want))
    }

    fn random_family(&mut self, s: usize, g: usize) {
        self.families += 1;
        let family_no = self.families;
        let plan = self.plan_of(s);
        let grade = plan.first + i16::try_from(g).unwrap_or(0);
        let area = plan.area;
        let mut places = vec![(s, grade)];
        self.schools[s].free[g] -= 1;
        let siblings = match self.rng.gen_range(0..100) {
            0..=44 => 0,
            45..=84 => 1,
            _ => 2,
        };
        for _ in 0..siblings {
            if let Some((o, want)) = self.sibling_slot(area, grade) {
                let og = usize::try_from(want - self.plan_of(o).first).unwrap_or(0);
                self.schools[o].free[og] -= 1;
                places.push((o, want));
            }
        }

        // A few families every municipality has: protected addresses, newly arrived
        // children with a DUF number.
        let protection = match family_no {
            5 => "confidential",
            11 => "strictly_confidential",
            _ if self.rng.gen_bool(0.004) => "confidential",
            _ if self.rng.gen_bool(0.002) => "strictly_confidential",
            _ => "none",
        };
        let duf = family_no == 20 || family_no == 40 || (family_no > 40 && self.rng.gen_bool(0.001));
        let origin = if duf { Origin::Other } else { self.origin() };
        let pool = names::pool(origin);
        let family_name = pool.families.choose(&mut self.rng).copied().unwrap_or("Hansen");
        let home = self.address(protection);
        let youngest = places.iter().map(|p| p.1).min().unwrap_or(grade);
        let parent_year = self.years.y() - 5 - i32::from(youngest) - self.rng.gen_range(25..=42);

        // Guardians: (id, parental responsibility, lives with the children).
        let pattern = self.rng.gen_range(0..100);
        let mut guardians: Vec<(Uuid, bool, bool)> = Vec::new();
        let first = self.random_adult(origin, true, family_name, parent_year, &home, duf);
        guardians.push((first, true, true));
        if pattern >= 8 {
            let other_name = if self.rng.gen_bool(0.7) {
                family_name
            } else {
                pool.families.choose(&mut self.rng).copied().unwrap_or(family_name)
            };
            let (together, responsibility) = match pattern {
                8..=77 => (true, true),
                78..=91 => (false, true),
                _ => (false, false),
            };
            let address = if together { home.clone() } else { self.address("none") };
            let year = parent_year + self.rng.gen_range(-3..=3);
            let second = self.random_adult(origin, false, other_name, year, &address, duf);
            guardians.push((second, responsibility, together));
        }

        for (school, grade) in places {
            let girl = self.rng.gen_bool(0.5);
            let given = if girl { pool.girls } else { pool.boys }.choose(&mut self.rng).copied().unwrap_or("Alex");
            // A child starts school in the autumn of the year they turn six.
            let born = self.random_date(self.years.y() - 5 - i32::from(grade));
            let (nid, born) = if duf { (self.duf_number(), born) } else { self.national_id(born) };
            let id = self.uuid();
            let feide = self.feide_id(given, family_name);
            let phone = (grade >= 8 && self.rng.gen_bool(0.6)).then(|| self.phone());
            self.person(id, &nid, given, family_name, born, &home, phone.as_deref(), None, Some(&feide));
            let tongue = (origin == Origin::Other && self.rng.gen_bool(0.6))
                .then(|| names::MOTHER_TONGUES.choose(&mut self.rng).copied())
                .flatten();
            self.t.pupils.uuid(self.tenant).uuid(id).opt(tongue).end();
            self.counts.pupils += 1;
            self.enrol(id, school, grade, true);
            for (n, &(guardian, responsibility, lives_with)) in guardians.iter().enumerate() {
                self.guardianship(id, guardian, responsibility, lives_with, n == 0, born);
            }
            if self.rng.gen_bool(0.6) {
                self.contact_person(id, origin);
            }
        }
    }

    fn random_adult(
        &mut self,
        origin: Origin,
        woman: bool,
        family: &str,
        year: i32,
        home: &Address,
        duf: bool,
    ) -> Uuid {
        let pool = names::pool(origin);
        let given = if woman { pool.girls } else { pool.boys }.choose(&mut self.rng).copied().unwrap_or("Kim");
        let born = self.random_date(year);
        let (nid, born) = if duf { (self.duf_number(), born) } else { self.national_id(born) };
        let id = self.uuid();
        let phone = self.phone();
        let email = format!("{}.{}@epost.example", names::ascii_fold(given), names::ascii_fold(family));
        self.person(id, &nid, given, family, born, home, Some(&phone), Some(&email), None);
        self.counts.guardians += 1;
        id
    }

    fn contact_person(&mut self, pupil: Uuid, origin: Origin) {
        let relation = *[
            "grandparent",
            "grandparent",
            "grandparent",
            "relative",
            "neighbour",
            "family_friend",
            "sibling",
            "other",
        ]
        .choose(&mut self.rng)
        .unwrap_or(&"grandparent");
        let pool = names::pool(origin);
        let given =
            if self.rng.gen_bool(0.5) { pool.girls } else { pool.boys }.choose(&mut self.rng).copied().unwrap_or("Kim");
        let family = pool.families.choose(&mut self.rng).copied().unwrap_or("Hansen");
        let id = self.uuid();
        let phone = self.phone();
        self.t
            .contact_persons
            .uuid(self.tenant)
            .uuid(id)
            .uuid(pupil)
            .text(relation)
            .text(given)
            .text(family)
            .text(&phone)
            .end();
    }

    // ---- staff and groups -------------------------------------------------------------

    fn classes_at(&self, s: usize) -> usize {
        self.schools[s].pupils.iter().map(|p| p.len().div_ceil(CLASS_CAP)).sum()
    }

    fn school_staff(&mut self, s: usize) {
        let pupils: usize = self.schools[s].pupils.iter().map(Vec::len).sum();
        let plan = self.plan_of(s);
        if !self.schools[s].has_principal {
            self.random_staff(Some(s), "7950");
        }
        let heads = (pupils / 250).max(1).saturating_sub(self.schools[s].department_heads);
        for _ in 0..heads {
            self.random_staff(Some(s), "7951");
        }
        let clerks = (1 + pupils / 400).saturating_sub(self.schools[s].clerks);
        for _ in 0..clerks {
            self.random_staff(Some(s), "7065");
        }
        let classes = self.classes_at(s);
        let teachers = (classes + classes * 3 / 5 + 1).saturating_sub(self.schools[s].teachers.len());
        for _ in 0..teachers {
            let code = ["7956", "7956", "7955", "7957"].choose(&mut self.rng).copied().unwrap_or("7956");
            let id = self.random_staff(Some(s), code);
            self.schools[s].teachers.push(id);
        }
        if plan.sfo {
            let young: usize = self.schools[s].pupils.iter().take(4).map(Vec::len).sum();
            let sfo = (1 + young / 20).saturating_sub(self.schools[s].sfo_staff);
            self.random_staff(Some(s), "7040");
            for _ in 0..sfo {
                self.random_staff(Some(s), "7041");
            }
        }
        // A teacher who also works part-time at another school.
        if self.schools.len() > 1 && self.rng.gen_bool(0.5) {
            if let Some(&t) = self.schools[s].teachers.last() {
                let other = (s + 1) % self.schools.len();
                self.employment(t, Some(other), "7956", 20, false);
            }
        }
    }

    fn group(&mut self, s: usize, kind: &str, name: &str, grade: Option<i16>, subject: Option<&str>) -> Uuid {
        let id = self.uuid();
        let subject = subject.and_then(|c| self.subjects.iter().find(|(code, _)| *code == c).map(|x| x.1));
        self.t
            .groups
            .uuid(self.tenant)
            .uuid(id)
            .uuid(self.schools[s].id)
            .uuid(self.year)
            .text(kind)
            .text(name)
            .num(grade.map_or(String::new(), |g| g.to_string()))
            .opt_uuid(subject)
            .end();
        id
    }

    fn members(&mut self, group: Uuid, pupils: &[(Uuid, Date)]) {
        for &(pupil, from) in pupils {
            self.t.memberships.uuid(self.tenant).uuid(group).uuid(pupil).date(from).end();
            if let Some(h) = &mut self.history {
                h.member(group, pupil, from);
            }
        }
    }

    fn assign(&mut self, group: Uuid, staff: Uuid, assignment: &str) {
        self.t.group_staff.uuid(self.tenant).uuid(group).uuid(staff).text(assignment).end();
    }

    /// The terms and days off of the three school years (see [`DemoYears`]); the
    /// history skips the current year's days off.
    fn calendar(&mut self, previous: Uuid, current: Uuid, next: Uuid) {
        let tenant = self.tenant;
        let years = [
            (previous, self.years.previous.clone()),
            (current, self.years.current.clone()),
            (next, self.years.next.clone()),
        ];
        for (year, cal) in &years {
            for (term, (starts, ends)) in (1..).zip(cal.terms) {
                self.t.terms.uuid(tenant).uuid(*year).num(term).date(starts).date(ends).end();
            }
        }
        for (year, cal) in &years {
            for off in &cal.days_off {
                let id = uuid_from(&mut self.timetable_rng);
                if let (true, Some(h)) = (*year == current, &mut self.history) {
                    h.day_off(off.first, off.last);
                }
                self.t
                    .breaks
                    .uuid(tenant)
                    .uuid(id)
                    .uuid(*year)
                    .text(off.kind)
                    .text(off.name)
                    .date(off.first)
                    .date(off.last)
                    .end();
            }
        }
    }

    /// Weekly lessons of a teaching group in the given slots of the school week
    /// (slot = weekday and period: six 45-minute periods a day, Monday to Friday).
    fn lessons(
        &mut self,
        group: Uuid,
        subject: &str,
        teacher: Option<Uuid>,
        room: &str,
        slots: std::ops::Range<usize>,
    ) {
        const PERIODS: [(&str, &str); 6] = [
            ("08:30", "09:15"),
            ("09:20", "10:05"),
            ("10:20", "11:05"),
            ("11:10", "11:55"),
            ("12:30", "13:15"),
            ("13:20", "14:05"),
        ];
        let subject = self.subjects.iter().find(|(code, _)| *code == subject).map(|x| x.1);
        for slot in slots {
            let (weekday, period) = (slot % 5 + 1, slot / 5 % PERIODS.len());
            let id = uuid_from(&mut self.timetable_rng);
            if let Some(h) = &mut self.history {
                h.lesson(group, id, weekday, period, teacher);
            }
            self.t
                .lessons
                .uuid(self.tenant)
                .uuid(id)
                .uuid(group)
                .opt_uuid(subject)
                .opt_uuid(teacher)
                .text(room)
                .num(weekday)
                .text(PERIODS[period].0)
                .text(PERIODS[period].1)
                .date(self.years.current.first_day())
                .end();
        }
    }

    fn groups(&mut self, s: usize) {
        let plan = self.plan_of(s);
        let teachers = self.schools[s].teachers.clone();
        let fixed_contact = self.schools[s].fixed_contact.clone();
        let fixed_subject = self.schools[s].fixed_subject.clone();
        // Contact teachers first: a fixed one (a persona) keeps its class; the others
        // take the rest, so no teacher is contact teacher of two classes.
        let mut free_contacts: Vec<Uuid> = teachers
            .iter()
            .copied()
            .filter(|t| !fixed_contact.iter().any(|(_, f)| f == t) && !fixed_subject.iter().any(|(_, _, f)| f == t))
            .collect();
        free_contacts.shuffle(&mut self.rng);
        let mut subject_pool: Vec<Uuid> = teachers.clone();
        subject_pool.shuffle(&mut self.rng);
        let mut next_subject = 0usize;
        for g in 0..self.schools[s].pupils.len() {
            let grade = plan.first + i16::try_from(g).unwrap_or(0);
            let mut pupils: Vec<(Uuid, Date)> = self.schools[s].pupils[g].iter().map(|p| (p.id, p.from)).collect();
            pupils.shuffle(&mut self.rng);
            let n_classes = pupils.len().div_ceil(CLASS_CAP).max(1);
            let chunk = pupils.len().div_ceil(n_classes).max(1);
            let mut class_lists = Vec::new();
            for (c, members) in pupils.chunks(chunk).enumerate() {
                let letter = char::from(b'A' + u8::try_from(c % 26).unwrap_or(0));
                let name = format!("{grade}{letter}");
                let class = self.group(s, "base", &name, Some(grade), None);
                self.members(class, members);
                let contact = fixed_contact
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|x| x.1)
                    .or_else(|| free_contacts.pop())
                    .or_else(|| teachers.first().copied());
                if let Some(t) = contact {
                    self.assign(class, t, "contact_teacher");
                }
                class_lists.push((name, members.to_vec(), contact));
            }
            let mut pick = |code: &str, rng_pool: &[Uuid]| -> Option<Uuid> {
                if let Some((_, _, t)) =
                    fixed_subject.iter().find(|(c, grades, _)| *c == code && grades.contains(&grade))
                {
                    return Some(*t);
                }
                if rng_pool.is_empty() {
                    return None;
                }
                next_subject += 1;
                Some(rng_pool[next_subject % rng_pool.len()])
            };
            if grade <= 7 {
                for (name, members, contact) in &class_lists {
                    let mut slot = 0;
                    for (code, per_week) in [("NOR", 5), ("MAT", 4), ("ENG", 2), ("NAT", 2), ("KRO", 2)] {
                        let group = self.group(s, "teaching", &format!("{name} {code}"), Some(grade), Some(code));
                        self.members(group, members);
                        let teacher = match code {
                            "NOR" | "MAT" => *contact,
                            _ => pick(code, &subject_pool),
                        };
                        if let Some(t) = teacher {
                            self.assign(group, t, "teacher");
                        }
                        let room = if code == "KRO" { "Gymsal".to_owned() } else { format!("Rom {name}") };
                        self.lessons(group, code, teacher, &room, slot..slot + per_week);
                        slot += per_week;
                    }
                }
            } else {
                // The groups of a subject meet at the same time (a block), so no pupil
                // is in two places; each grade's week starts at another slot.
                let mut slot = usize::try_from(grade - 8).unwrap_or(0) * 7;
                for (code, per_week) in [("NOR", 4), ("MAT", 4), ("ENG", 3), ("NAT", 3), ("SAF", 3)] {
                    pupils.shuffle(&mut self.rng);
                    for (i, members) in pupils.chunks(chunk).enumerate() {
                        let group =
                            self.group(s, "teaching", &format!("{grade} {code} {}", i + 1), Some(grade), Some(code));
                        self.members(group, members);
                        let teacher = pick(code, &subject_pool);
                        if let Some(t) = teacher {
                            self.assign(group, t, "teacher");
                        }
                        self.lessons(group, code, teacher, &format!("{grade}0{}", i + 1), slot..slot + per_week);
                    }
                    slot += per_week;
                }
                let half = pupils.len() / 2;
                let (spanish, german) = pupils.split_at(half);
                let mut room = 0;
                for (code, list) in [("SPA", spanish), ("TYS", german)] {
                    for (i, members) in list.chunks(CLASS_CAP).enumerate() {
                        let group =
                            self.group(s, "teaching", &format!("{grade} {code} {}", i + 1), Some(grade), Some(code));
                        self.members(group, members);
                        let teacher = pick(code, &subject_pool);
                        if let Some(t) = teacher {
                            self.assign(group, t, "teacher");
                        }
                        room += 1;
                        self.lessons(group, code, teacher, &format!("Språk {room}"), slot..slot + 2);
                    }
                }
            }
            if plan.sfo && grade <= 4 {
                let share = [0.9, 0.8, 0.65, 0.45][usize::try_from(grade - 1).unwrap_or(3).min(3)];
                let members: Vec<(Uuid, Date)> = pupils
                    .iter()
                    .copied()
                    .filter(|p| self.rng.gen_bool(share) || self.sfo_forced.contains(&p.0))
                    .collect();
                let group = self.group(s, "sfo", &format!("SFO {grade}. trinn"), Some(grade), None);
                self.members(group, &members);
            }
        }
    }

    /// The standard demo's absence: its primary school (1-7) takes the register per
    /// day, and the history of the autumn so far (see `history`).
    fn absence(&mut self) {
        let Some(history) = self.history.take() else { return };
        for s in 0..self.schools.len() {
            let plan = self.plan_of(s);
            if plan.first == 1 && plan.last == 7 {
                self.t.school_settings.uuid(self.tenant).uuid(self.schools[s].id).text("day").end();
            }
        }
        history.write(self.tenant, self.plan.seed, &self.years, &mut self.t);
    }

    fn unit_staff(&mut self) {
        // Municipal staff beyond the personas; an adviser whose position code maps to
        // no role (and so has no access), as in every real HR export.
        let has_personas = personas::SPECS
            .iter()
            .any(|s| s.tenant == self.plan.slug && matches!(s.part, Part::Staff { school: None, .. }));
        if !has_personas {
            self.random_staff(None, "7451");
            self.random_staff(None, "7070");
        }
        self.random_staff(None, "7071");
        self.random_staff(None, "7460");
    }
}

fn uuid_from(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}
