//! The standard demo's absence history, so that the overviews and the office's
//! statistics have something to show: registrations from the first school day of the
//! current school year up to and including the Friday of the week before last
//! ([`history_end`]: last week and this week are left clean for the tests), and
//! guardians' reports for some of the whole days.
//!
//! Mostly nothing is stored (a school need not store "present"): a few per cent of
//! lessons absent, some whole days, some late arrivals, and a handful of pupils with
//! high absence. The demo personas' own children and pupils get no history, so what
//! tests do with them starts from a clean sheet. Drawn from a random stream of its
//! own, so adding it left every other demo row as it was.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::tables::Tables;
use super::years::DemoYears;

/// The last day of the history: the Friday of the week before last, as seen from the
/// school day the demo is told around (`DemoYears::school_today`; Friday 20 November
/// 2026 from any day of the week of 30 November 2026).
pub fn history_end(today: Date) -> Date {
    let day = DemoYears::around(today).school_today();
    let monday = day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()));
    monday - time::Duration::days(10)
}

/// When a registration or report of `day` was made, at `hh:mm` UTC that day; but never
/// later than a day before the demo was built, when the demo is built as on a date
/// ahead of the real one (TAVLE_TODAY): the history is then still in the past, and
/// what a test does is newer than any of it.
fn stamp(day: Date, hh: u8, mm: u8) -> String {
    let at = day.with_hms(hh, mm, 0).map_or(OffsetDateTime::UNIX_EPOCH, |t| t.assume_utc());
    let latest = OffsetDateTime::now_utc() - time::Duration::days(1);
    let at = at.min(latest);
    format!("{}T{:02}:{:02}:{:02}Z", iso(at.date()), at.hour(), at.minute(), at.second())
}

/// A weekly lesson as the history needs it.
#[derive(Clone, Copy)]
struct Weekly {
    id: Uuid,
    weekday: u8,
    period: usize,
    teacher: Option<Uuid>,
}

/// What the builder tells the history while it builds the municipality.
#[derive(Default)]
pub struct History {
    lessons: HashMap<Uuid, Vec<Weekly>>,
    /// Pupils in the order they were first put in a group, with their groups.
    pupils: Vec<Uuid>,
    groups_of: HashMap<Uuid, Vec<(Uuid, Date)>>,
    guardian_of: HashMap<Uuid, Uuid>,
    personas: Vec<Uuid>,
    breaks: Vec<(Date, Date)>,
}

const REASONS: [&str; 6] = ["illness", "illness", "illness", "medical_appointment", "family_matter", "other_valid"];

impl History {
    pub fn lesson(&mut self, group: Uuid, lesson: Uuid, weekday: usize, period: usize, teacher: Option<Uuid>) {
        let weekday = u8::try_from(weekday).unwrap_or(7);
        self.lessons.entry(group).or_default().push(Weekly { id: lesson, weekday, period, teacher });
    }

    pub fn member(&mut self, group: Uuid, pupil: Uuid, from: Date) {
        let groups = self.groups_of.entry(pupil).or_default();
        if groups.is_empty() {
            self.pupils.push(pupil);
        }
        groups.push((group, from));
    }

    pub fn guardian(&mut self, pupil: Uuid, guardian: Uuid) {
        self.guardian_of.entry(pupil).or_insert(guardian);
    }

    pub fn persona(&mut self, pupil: Uuid) {
        self.personas.push(pupil);
    }

    pub fn day_off(&mut self, first: Date, last: Date) {
        self.breaks.push((first, last));
    }

    /// School days of the current year up to [`history_end`].
    fn days(&self, years: &DemoYears) -> Vec<Date> {
        let end = history_end(years.today);
        let cal = &years.current;
        cal.school_days()
            .into_iter()
            .filter(|&d| d <= end && !self.breaks.iter().any(|&(a, b)| a <= d && d <= b))
            .collect()
    }

    /// Write the history's rows for tenant `tenant`, drawing from `seed`.
    pub fn write(&self, tenant: Uuid, seed: u64, years: &DemoYears, t: &mut Tables) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6162_7365_6e63_6521);
        let days = self.days(years);
        for &pupil in &self.pupils {
            if self.personas.contains(&pupil) {
                continue;
            }
            let groups = self.groups_of.get(&pupil).map(Vec::as_slice).unwrap_or_default();
            // The pupil's week: lessons per weekday in the order of the day, with the
            // day the pupil joined the lesson's group.
            let mut week: [Vec<(Weekly, Date)>; 5] = Default::default();
            for &(g, from) in groups {
                for l in self.lessons.get(&g).map(Vec::as_slice).unwrap_or_default() {
                    if let Some(day) = week.get_mut(usize::from(l.weekday).wrapping_sub(1)) {
                        day.push((*l, from));
                    }
                }
            }
            for day in &mut week {
                day.sort_by_key(|(l, _)| (l.period, l.id));
            }
            // How absent this pupil is: most seldom, some now and then, a few a lot.
            let (day_p, lesson_p, late_p) = match rng.gen_range(0..100) {
                0..=3 => (0.12, 0.04, 0.05),
                4..=29 => (0.035, 0.012, 0.02),
                _ => (rng.gen_range(0.0..0.015), 0.004, 0.008),
            };
            let mut today = Vec::new();
            for &day in &days {
                let weekday = usize::from(day.weekday().number_days_from_monday());
                today.clear();
                today.extend(week[weekday].iter().filter(|(_, from)| *from <= day).map(|(l, _)| *l));
                if today.is_empty() {
                    continue;
                }
                let roll: f64 = rng.gen();
                let mut at = Row { t: &mut *t, tenant, pupil, day };
                if roll < day_p {
                    for l in &today {
                        at.push(&mut rng, l, "absent", None);
                    }
                    if rng.gen_bool(0.6) {
                        if let Some(&guardian) = self.guardian_of.get(&pupil) {
                            let reason = REASONS.choose(&mut rng).copied().unwrap_or("illness");
                            let id = uuid_from(&mut rng);
                            t.reports
                                .uuid(tenant)
                                .uuid(id)
                                .uuid(pupil)
                                .uuid(guardian)
                                .date(day)
                                .date(day)
                                .text(reason)
                                .text(&stamp(day, 6, 45))
                                .end();
                        }
                    }
                } else if roll < day_p + late_p {
                    let minutes = rng.gen_range(3..=25u8);
                    if let Some(first) = today.first() {
                        at.push(&mut rng, first, "late", Some(minutes));
                    }
                } else {
                    for l in &today {
                        if rng.gen_bool(lesson_p) {
                            at.push(&mut rng, l, "absent", None);
                        }
                    }
                }
            }
        }
    }
}

/// Where a pupil's registration of a day goes.
struct Row<'t> {
    t: &'t mut Tables,
    tenant: Uuid,
    pupil: Uuid,
    day: Date,
}

impl Row<'_> {
    /// One registration, by the lesson's teacher in the afternoon of the day.
    fn push(&mut self, rng: &mut ChaCha8Rng, l: &Weekly, status: &str, minutes: Option<u8>) {
        let Some(teacher) = l.teacher else { return };
        let id = uuid_from(rng);
        self.t
            .registrations
            .uuid(self.tenant)
            .uuid(id)
            .uuid(l.id)
            .uuid(self.pupil)
            .date(self.day)
            .text(status)
            .opt(minutes.map(|m| m.to_string()).as_deref())
            .uuid(teacher)
            .text(&stamp(self.day, 14, 30))
            .text("teacher")
            .end();
    }
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn uuid_from(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}
