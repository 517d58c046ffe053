//! Families: the persona families (the Nordmanns, the Bergs), and random households of
//! siblings with one or two guardians (some without parental responsibility, a few at
//! protected addresses) and other contact persons.

use rand::seq::SliceRandom;
use rand::Rng;
use time::{Date, Month};
use uuid::Uuid;

use super::{Address, Builder};
use crate::demo::names::{self, Origin};
use crate::demo::personas;

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn person(
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

    pub(super) fn origin(&mut self) -> Origin {
        match self.rng.gen_range(0..100) {
            0..=77 => Origin::Norwegian,
            78..=84 => Origin::Sami,
            _ => Origin::Other,
        }
    }

    /// Emma and Oskar Nordmann with Kari (the guardian persona) and Ola; Tuva Berg with
    /// Hilde (parental responsibility) and Geir Nilsen (none).
    pub(super) fn persona_families(&mut self) {
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

    pub(super) fn fixed_adult(
        &mut self,
        given: &str,
        family: &str,
        born: (i32, Month, u8),
        home: &Address,
    ) -> Option<Uuid> {
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
    pub(super) fn fixed_child(
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
        self.t.pupils.uuid(self.tenant).uuid(id).opt(None).text(written_form(id)).end();
        self.counts.pupils += 1;
        let g = usize::try_from(grade - self.plan_of(school).first).unwrap_or(0);
        self.schools[school].free[g] = self.schools[school].free[g].saturating_sub(1);
        self.enrol(id, school, grade, false);
        if let Some(h) = &mut self.history {
            h.persona(id);
        }
        Some((id, born))
    }

    pub(super) fn guardianship(
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

    pub(super) fn random_family(&mut self, s: usize, g: usize) {
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
            self.t.pupils.uuid(self.tenant).uuid(id).opt(tongue).text(written_form(id)).end();
            self.counts.pupils += 1;
            self.enrol(id, school, grade, true);
            for (n, &(guardian, responsibility, lives_with)) in guardians.iter().enumerate() {
                self.guardianship(id, guardian, responsibility, lives_with, n == 0, born);
            }
            if self.rng.gen_bool(0.6) {
                // The first guardian with parental responsibility gives the pick-up
                // permission (for family; neighbours and others are contacts only).
                let giver = guardians.iter().find(|g| g.1).map(|g| g.0);
                self.contact_person(id, origin, giver);
            }
            // Some children in grades 3 and 4 may go home alone after 15:00.
            if (3..=4).contains(&grade) && id.as_bytes()[14] % 3 == 0 {
                if let Some(giver) = guardians.iter().find(|g| g.1).map(|g| g.0) {
                    let t = self.tenant;
                    self.t.pickup_arrangements.uuid(t).uuid(id).text("t").text("15:00").text("f").uuid(giver).end();
                }
            }
        }
    }

    pub(super) fn random_adult(
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

    pub(super) fn contact_person(&mut self, pupil: Uuid, origin: Origin, giver: Option<Uuid>) {
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
        if let (Some(giver), "grandparent" | "relative" | "family_friend") = (giver, relation) {
            self.t.pickup_permissions.uuid(self.tenant).uuid(pupil).uuid(id).uuid(giver).end();
        }
    }
}

/// A pupil's written form of Norwegian (målform): nynorsk for about one in twelve, as
/// the country's share; from the pupil's id, so that the demo's random stream (and so
/// every other generated value) stays as it was.
fn written_form(id: Uuid) -> &'static str {
    if id.as_bytes()[15] % 12 == 0 {
        "nn"
    } else {
        "nb"
    }
}
