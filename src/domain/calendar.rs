//! Norwegian dates: today in Oslo, the school year a date belongs to, and the usual
//! school calendar (skolerute) of a school year, with its holidays.
//!
//! A school year runs administratively from 1 August to 31 July (`2026-2027`), so
//! that a pupil stays in their class over the summer; teaching happens in two terms
//! inside it. [`SchoolYear::usual_calendar`] gives the calendar most Norwegian
//! municipalities adopt (first day in week 34, autumn break in week 41, a planning day
//! in November, Christmas, winter break in week 8, Easter, the spring's public holidays,
//! last day in the week of 16-22 June). The demo municipalities use it; a real
//! municipality's calendar is its own decision and is stored as data.

use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

/// Oslo's offset from UTC at `instant`: CET (+1), or CEST (+2) from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October (the EU rule,
/// which Norway follows).
pub fn oslo_offset(instant: OffsetDateTime) -> UtcOffset {
    let utc = instant.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let starts = last_sunday(year, Month::March).with_hms(1, 0, 0).map(|t| t.assume_utc());
    let ends = last_sunday(year, Month::October).with_hms(1, 0, 0).map(|t| t.assume_utc());
    let summer = matches!((starts, ends), (Ok(s), Ok(e)) if s <= utc && utc < e);
    let hours = if summer { 2 } else { 1 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The date in Oslo at `instant`.
pub fn oslo_date(instant: OffsetDateTime) -> Date {
    instant.to_offset(oslo_offset(instant)).date()
}

/// Today's date in Oslo by the system clock.
pub fn oslo_today() -> Date {
    oslo_date(OffsetDateTime::now_utc())
}

fn last_sunday(year: i32, month: Month) -> Date {
    let last = Date::from_calendar_date(year, month, month.length(year)).unwrap_or(Date::MIN);
    let back = i64::from(last.weekday().number_days_from_sunday());
    last - Duration::days(back)
}

/// Easter Sunday of `year` (Gregorian; the anonymous algorithm, "Meeus/Jones/Butcher").
pub fn easter_sunday(year: i32) -> Date {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = if month == 3 { Month::March } else { Month::April };
    Date::from_calendar_date(year, month, u8::try_from(day).unwrap_or(1)).unwrap_or(Date::MIN)
}

/// A school year, named by the calendar year it starts in (2026 is `2026-2027`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchoolYear(pub i32);

/// A period without teaching inside the terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaysOff {
    /// `holiday` or `planning_day` (the codes of `calendar_breaks.kind`).
    pub kind: &'static str,
    /// The name as Norwegian calendars print it.
    pub name: &'static str,
    pub first: Date,
    pub last: Date,
}

/// The teaching terms and the days off of a school year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCalendar {
    pub year: SchoolYear,
    /// Autumn and spring: first and last school day of each, inclusive.
    pub terms: [(Date, Date); 2],
    pub days_off: Vec<DaysOff>,
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

/// Monday of ISO week `week` of `year`.
fn iso_monday(year: i32, week: u8) -> Date {
    Date::from_iso_week_date(year, week, Weekday::Monday).unwrap_or(Date::MIN)
}

fn is_weekday(d: Date) -> bool {
    d.weekday().number_from_monday() <= 5
}

/// The first weekday after `d`.
fn next_weekday(d: Date) -> Date {
    let mut n = d.next_day().unwrap_or(d);
    while !is_weekday(n) {
        n = n.next_day().unwrap_or(n);
    }
    n
}

/// The last weekday before `d`.
fn previous_weekday(d: Date) -> Date {
    let mut p = d.previous_day().unwrap_or(d);
    while !is_weekday(p) {
        p = p.previous_day().unwrap_or(p);
    }
    p
}

impl SchoolYear {
    /// The school year `date` belongs to (1 August to 31 July).
    pub fn containing(date: Date) -> Self {
        if date.month() >= Month::August {
            SchoolYear(date.year())
        } else {
            SchoolYear(date.year() - 1)
        }
    }

    /// `2026-2027`, as stored in `school_years.name`.
    pub fn name(self) -> String {
        format!("{}-{}", self.0, self.0 + 1)
    }

    /// 1 August.
    pub fn starts(self) -> Date {
        date(self.0, Month::August, 1)
    }

    /// 31 July of the next calendar year.
    pub fn ends(self) -> Date {
        date(self.0 + 1, Month::July, 31)
    }

    pub fn previous(self) -> Self {
        SchoolYear(self.0 - 1)
    }

    pub fn next(self) -> Self {
        SchoolYear(self.0 + 1)
    }

    /// The usual Norwegian school calendar of the year (see the module documentation).
    pub fn usual_calendar(self) -> SchoolCalendar {
        let (y, n) = (self.0, self.0 + 1);
        let first_day = iso_monday(y, 34);
        // The last weekday on or before 20 December; teaching starts again on the first
        // weekday on or after 3 January.
        let mut autumn_ends = date(y, Month::December, 20);
        while !is_weekday(autumn_ends) {
            autumn_ends = autumn_ends.previous_day().unwrap_or(autumn_ends);
        }
        let mut spring_starts = date(n, Month::January, 3);
        while !is_weekday(spring_starts) {
            spring_starts = spring_starts.next_day().unwrap_or(spring_starts);
        }
        // The Friday between 16 and 22 June.
        let mut last_day = date(n, Month::June, 16);
        while last_day.weekday() != Weekday::Friday {
            last_day = last_day.next_day().unwrap_or(last_day);
        }
        let easter = easter_sunday(n);
        let autumn_break = iso_monday(y, 41);
        let winter_break = iso_monday(n, 8);
        let mut days_off = vec![
            DaysOff {
                kind: "holiday", name: "Høstferie", first: autumn_break, last: autumn_break + Duration::days(4)
            },
            DaysOff {
                kind: "planning_day",
                name: "Planleggingsdag",
                first: iso_monday(y, 46) + Duration::days(4),
                last: iso_monday(y, 46) + Duration::days(4),
            },
            // The weekdays between the terms.
            DaysOff {
                kind: "holiday",
                name: "Juleferie",
                first: next_weekday(autumn_ends),
                last: previous_weekday(spring_starts),
            },
            DaysOff {
                kind: "holiday",
                name: "Vinterferie",
                first: winter_break,
                last: winter_break + Duration::days(4),
            },
            // From the Monday of Holy Week to Easter Monday.
            DaysOff {
                kind: "holiday",
                name: "Påskeferie",
                first: easter - Duration::days(6),
                last: easter + Duration::days(1),
            },
            // Ascension Day and the Friday after it.
            DaysOff {
                kind: "holiday",
                name: "Kristi himmelfartsdag",
                first: easter + Duration::days(39),
                last: easter + Duration::days(40),
            },
        ];
        let whit_monday = easter + Duration::days(50);
        let may_1 = date(n, Month::May, 1);
        let may_17 = date(n, Month::May, 17);
        if is_weekday(may_1) {
            days_off.push(DaysOff { kind: "holiday", name: "Arbeidernes dag", first: may_1, last: may_1 });
        }
        if whit_monday == may_17 {
            days_off.push(DaysOff {
                kind: "holiday",
                name: "Grunnlovsdag og 2. pinsedag",
                first: may_17,
                last: may_17,
            });
        } else {
            if is_weekday(may_17) {
                days_off.push(DaysOff { kind: "holiday", name: "Grunnlovsdag", first: may_17, last: may_17 });
            }
            days_off.push(DaysOff { kind: "holiday", name: "2. pinsedag", first: whit_monday, last: whit_monday });
        }
        days_off.sort_by_key(|d| d.first);
        SchoolCalendar { year: self, terms: [(first_day, autumn_ends), (spring_starts, last_day)], days_off }
    }
}

impl SchoolCalendar {
    /// The first school day of the year.
    pub fn first_day(&self) -> Date {
        self.terms[0].0
    }

    /// The last school day of the year.
    pub fn last_day(&self) -> Date {
        self.terms[1].1
    }

    /// Whether pupils have school on `d`: a weekday inside a term and not a day off.
    pub fn is_school_day(&self, d: Date) -> bool {
        is_weekday(d)
            && self.terms.iter().any(|&(a, b)| a <= d && d <= b)
            && !self.days_off.iter().any(|o| o.first <= d && d <= o.last)
    }

    /// Every school day of the year, in order.
    pub fn school_days(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut d = self.first_day();
        while d <= self.last_day() {
            if self.is_school_day(d) {
                out.push(d);
            }
            d = d.next_day().unwrap_or(Date::MAX);
        }
        out
    }

    /// The days off named `name`, if the calendar has them.
    pub fn days_off_named(&self, name: &str) -> Option<&DaysOff> {
        self.days_off.iter().find(|o| o.name == name)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn oslo_is_an_hour_ahead_in_winter_and_two_in_summer() {
        assert_eq!(oslo_date(datetime!(2026-12-06 23:30 UTC)), date!(2026 - 12 - 07));
        assert_eq!(oslo_date(datetime!(2026-12-06 22:59 UTC)), date!(2026 - 12 - 06));
        assert_eq!(oslo_date(datetime!(2027-06-30 22:00 UTC)), date!(2027 - 07 - 01));
        assert_eq!(oslo_date(datetime!(2027-06-30 21:59 UTC)), date!(2027 - 06 - 30));
        // Summer time starts 28 March 2027 at 01:00 UTC and ends 31 October at 01:00 UTC.
        assert_eq!(oslo_offset(datetime!(2027-03-28 00:59 UTC)).whole_hours(), 1);
        assert_eq!(oslo_offset(datetime!(2027-03-28 01:00 UTC)).whole_hours(), 2);
        assert_eq!(oslo_offset(datetime!(2027-10-31 00:59 UTC)).whole_hours(), 2);
        assert_eq!(oslo_offset(datetime!(2027-10-31 01:00 UTC)).whole_hours(), 1);
    }

    #[test]
    fn easter_sundays() {
        for (year, easter) in [
            (2024, date!(2024 - 03 - 31)),
            (2025, date!(2025 - 04 - 20)),
            (2026, date!(2026 - 04 - 05)),
            (2027, date!(2027 - 03 - 28)),
            (2028, date!(2028 - 04 - 16)),
            (2038, date!(2038 - 04 - 25)),
        ] {
            assert_eq!(easter_sunday(year), easter, "{year}");
        }
    }

    #[test]
    fn the_school_year_turns_on_the_first_of_august() {
        assert_eq!(SchoolYear::containing(date!(2026 - 07 - 31)), SchoolYear(2025));
        assert_eq!(SchoolYear::containing(date!(2026 - 08 - 01)), SchoolYear(2026));
        assert_eq!(SchoolYear::containing(date!(2027 - 06 - 18)), SchoolYear(2026));
        assert_eq!(SchoolYear(2026).name(), "2026-2027");
        assert_eq!(
            (SchoolYear(2026).starts(), SchoolYear(2026).ends()),
            (date!(2026 - 08 - 01), date!(2027 - 07 - 31))
        );
    }

    /// The demo's calendar of 2026-27 as it was written by hand before it was computed.
    #[test]
    fn the_usual_calendar_of_2026_27() {
        let c = SchoolYear(2026).usual_calendar();
        assert_eq!(
            c.terms,
            [(date!(2026 - 08 - 17), date!(2026 - 12 - 18)), (date!(2027 - 01 - 04), date!(2027 - 06 - 18))]
        );
        let off: Vec<(&str, Date, Date)> = c.days_off.iter().map(|o| (o.name, o.first, o.last)).collect();
        assert_eq!(
            off,
            vec![
                ("Høstferie", date!(2026 - 10 - 05), date!(2026 - 10 - 09)),
                ("Planleggingsdag", date!(2026 - 11 - 13), date!(2026 - 11 - 13)),
                ("Juleferie", date!(2026 - 12 - 21), date!(2027 - 01 - 01)),
                ("Vinterferie", date!(2027 - 02 - 22), date!(2027 - 02 - 26)),
                ("Påskeferie", date!(2027 - 03 - 22), date!(2027 - 03 - 29)),
                ("Kristi himmelfartsdag", date!(2027 - 05 - 06), date!(2027 - 05 - 07)),
                ("Grunnlovsdag og 2. pinsedag", date!(2027 - 05 - 17), date!(2027 - 05 - 17)),
            ]
        );
        let days = c.school_days();
        assert_eq!(days.first(), Some(&date!(2026 - 08 - 17)));
        assert_eq!(days.last(), Some(&date!(2027 - 06 - 18)));
        assert!(!c.is_school_day(date!(2026 - 12 - 06)), "a Sunday");
        assert!(!c.is_school_day(date!(2027 - 05 - 17)));
        assert!(c.is_school_day(date!(2026 - 12 - 07)));
    }

    #[test]
    fn separate_spring_holidays_when_they_fall_apart() {
        // 2028: Easter 16 April, Whit Monday 5 June; 1 May and 17 May are weekdays.
        let c = SchoolYear(2027).usual_calendar();
        for (name, day) in [
            ("Arbeidernes dag", date!(2028 - 05 - 01)),
            ("Grunnlovsdag", date!(2028 - 05 - 17)),
            ("2. pinsedag", date!(2028 - 06 - 05)),
        ] {
            let o = c.days_off_named(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!((o.first, o.last), (day, day));
        }
        assert_eq!(c.first_day(), date!(2027 - 08 - 23));
        assert_eq!(c.last_day(), date!(2028 - 06 - 16));
    }

    proptest::proptest! {
        /// Every year's calendar has about 190 school days (the law's 38 weeks), its days
        /// off inside it, and its terms in order.
        #[test]
        fn every_year_looks_like_a_school_year(year in 2000i32..2100) {
            let c = SchoolYear(year).usual_calendar();
            let days = c.school_days().len();
            proptest::prop_assert!((180..=195).contains(&days), "{} school days in {}", days, year);
            proptest::prop_assert!(c.terms[0].1 < c.terms[1].0);
            for o in &c.days_off {
                proptest::prop_assert!(o.first <= o.last);
                proptest::prop_assert!(SchoolYear::containing(o.first) == SchoolYear(year));
            }
            proptest::prop_assert!(SchoolYear::containing(c.first_day()) == SchoolYear(year));
            proptest::prop_assert!(SchoolYear::containing(c.last_day()) == SchoolYear(year));
        }
    }
}
