//! The school years the demo is built around, as seen from "today".

use time::Date;

use crate::domain::calendar::{SchoolCalendar, SchoolYear};

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
