//! Staff and their employments: the staff personas, each school's principal, heads,
//! office, teachers and SFO staff, and the municipal unit's staff.

use rand::seq::SliceRandom;
use rand::Rng;
use time::{Date, Month};
use uuid::Uuid;

use super::Builder;
use crate::demo::names;
use crate::demo::personas::{self, Part, Spec};

impl Builder<'_> {
    pub(super) fn new_staff(&mut self, given: &str, family: &str, born: Date, fixed: Option<(&str, &str)>) -> Uuid {
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

    pub(super) fn employment(&mut self, staff: Uuid, school: Option<usize>, code: &str, percentage: u8, ended: bool) {
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

    pub(super) fn percentage(&mut self) -> u8 {
        *[100, 100, 100, 100, 100, 80, 80, 60, 50].choose(&mut self.rng).unwrap_or(&100)
    }

    pub(super) fn random_staff(&mut self, school: Option<usize>, code: &str) -> Uuid {
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

    pub(super) fn persona_staff(&mut self) {
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
            // Personas added after the first demo draw from a stream of their own, so
            // every id and name drawn after them stays as it was.
            let own_stream = spec.key == "subject_teacher";
            let saved = own_stream.then(|| {
                std::mem::replace(&mut self.rng, rand::SeedableRng::seed_from_u64(self.plan.seed ^ 0x7375_626a))
            });
            let id = self.new_staff(spec.given, spec.family, born, Some((&nid, feide)));
            self.employment(id, s, position_code, 100, ended);
            if let Some(rng) = saved {
                self.rng = rng;
            }
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
                // Not among the school's teachers: the others are drawn as before.
                "subject_teacher" => {
                    school.fixed_subject.push(("MAT", 9..=9, id));
                    school.fixed_contact.push(("9A".to_owned(), id));
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

    pub(super) fn school_staff(&mut self, s: usize) {
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

    pub(super) fn unit_staff(&mut self) {
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

fn date(y: i32, m: Month, d: u8) -> Date {
    // Only called with valid dates.
    Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN)
}
