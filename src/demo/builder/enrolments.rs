//! Enrolments: a pupil's current school and grade, last year's, the odd change of
//! school this autumn and the guest pupil, and the free places siblings are put in.

use rand::seq::SliceRandom;
use rand::Rng;
use time::Date;
use uuid::Uuid;

use super::{Builder, PlacedPupil};

impl Builder<'_> {
    /// One enrolment row (school `s`, grade, from, to, guest pupil's home municipality).
    pub(super) fn enrolment_row(
        &mut self,
        pupil: Uuid,
        s: usize,
        grade: i16,
        from: Date,
        to: Option<Date>,
        guest: Option<&str>,
    ) {
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
    pub(super) fn enrol(&mut self, pupil: Uuid, s: usize, grade: i16, random_history: bool) {
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
    pub(super) fn feeder(&mut self, s: usize, grade: i16) -> Option<usize> {
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
    pub(super) fn sibling_slot(&mut self, area: usize, grade: i16) -> Option<(usize, i16)> {
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
}
