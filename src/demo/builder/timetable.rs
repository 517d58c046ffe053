//! The school calendar (terms and days off of the three school years) and the weekly
//! lessons of a group.

use uuid::Uuid;

use super::{uuid_from, Builder};

impl Builder<'_> {
    /// The terms and days off of the three school years (see [`DemoYears`]); the
    /// history skips the current year's days off.
    pub(super) fn calendar(&mut self, previous: Uuid, current: Uuid, next: Uuid) {
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
    pub(super) fn lessons(
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
}
