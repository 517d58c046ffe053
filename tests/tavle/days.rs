//! The days tests need, picked from the demo's calendar around the run's date (see
//! `helpers::today`), never written as literal dates: the tests pass on any day of the
//! year (`scripts/test-dates` runs them on the school year's first and last day, in each
//! holiday and in the summer).

use time::{Date, Duration, Weekday};

use tavle::demo::DemoYears;
use tavle::domain::calendar::SchoolCalendar;

/// The demo's school years around the run's date.
pub struct Days {
    pub today: Date,
    pub years: DemoYears,
}

/// The days around the run's date.
pub fn days() -> Days {
    Days::at(crate::helpers::today())
}

/// The days around the date `app` runs as.
pub fn days_of(app: &crate::helpers::TestApp) -> Days {
    Days::at(app.today)
}

impl Days {
    pub fn at(today: Date) -> Self {
        Days { today, years: DemoYears::around(today) }
    }

    pub fn current(&self) -> &SchoolCalendar {
        &self.years.current
    }

    /// The current school year's name (`2026-2027`).
    pub fn year_name(&self) -> String {
        self.years.current.year.name()
    }

    /// The current year's school days after the demo's absence history, up to today.
    pub fn school_days_since_history(&self) -> Vec<Date> {
        let end = tavle::demo::history_end(self.today);
        self.years.current.school_days().into_iter().filter(|&d| d > end && d <= self.today).collect()
    }

    /// The day to run a test on that needs `k` school days of this year behind it: the
    /// school day the demo is told around, or the year's (k+1)th school day when that is
    /// later (early in the autumn).
    pub fn after_school_days(&self, k: usize) -> Date {
        let school_days = self.years.current.school_days();
        let enough = school_days.get(k).copied().unwrap_or(self.years.current.last_day());
        self.years.school_today().max(enough)
    }

    /// The last day of the demo's absence history.
    pub fn history_end(&self) -> Date {
        tavle::demo::history_end(self.today)
    }

    /// A weekday of the current year's named days off (`Høstferie`, `Planleggingsdag`, …).
    pub fn day_off(&self, name: &str) -> Date {
        let off = self.years.current.days_off_named(name).unwrap_or_else(|| panic!("no {name} in the calendar"));
        let mut d = off.first;
        while d.weekday() == Weekday::Saturday || d.weekday() == Weekday::Sunday {
            d = d.next_day().expect("a day");
        }
        d
    }

    /// The Monday of a school week with school on all five days and on the Monday after
    /// (so its weekend is inside a term): the latest such week up to the school day the
    /// demo is told around, else the year's first.
    pub fn full_week(&self) -> Date {
        let c = &self.years.current;
        let full = |monday: Date| [0, 1, 2, 3, 4, 7].iter().all(|&i| c.is_school_day(monday + Duration::days(i)));
        let mut monday = Self::monday_of(self.years.school_today());
        while monday >= c.first_day() {
            if full(monday) {
                return monday;
            }
            monday -= Duration::days(7);
        }
        let mut monday = Self::monday_of(c.first_day());
        while !full(monday) {
            monday += Duration::days(7);
        }
        monday
    }

    /// The Monday of the week of the current year's named days off.
    pub fn week_of(&self, name: &str) -> Date {
        Self::monday_of(self.day_off(name))
    }

    /// A Monday in the summer after the current school year.
    pub fn summer_monday(&self) -> Date {
        Self::monday_of(self.years.current.last_day() + Duration::days(21))
    }

    /// A Sunday inside the current year's autumn term.
    pub fn sunday_in_term(&self) -> Date {
        let mut d = self.years.current.first_day();
        while d.weekday() != Weekday::Sunday {
            d = d.next_day().expect("a day");
        }
        d
    }

    /// A day of the previous school year's teaching (before the current one).
    pub fn last_year(&self) -> Date {
        self.years.previous.first_day() + Duration::days(14)
    }

    /// The Monday of the week of `d`.
    pub fn monday_of(d: Date) -> Date {
        d - Duration::days(i64::from(d.weekday().number_days_from_monday()))
    }
}
