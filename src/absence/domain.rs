//! The values of absence, parsed once at the edge: the register's status per pupil,
//! minutes late, and (from [`crate::domain::date`]) dates and times as a browser
//! sends them.

// The dates and times of a form and a page are shared with SFO, so they live in
// `crate::domain::date`; absence's pages keep calling them through this module.
pub use crate::domain::date::{
    date_value, display_date, display_time, iso, parse as parse_date, parse_time, time_value,
};

/// Translation key of an ISO weekday (1 is Monday).
pub fn weekday_key(weekday: i16) -> &'static str {
    match weekday {
        1 => "absence.weekday.1",
        2 => "absence.weekday.2",
        3 => "absence.weekday.3",
        4 => "absence.weekday.4",
        5 => "absence.weekday.5",
        6 => "absence.weekday.6",
        _ => "absence.weekday.7",
    }
}

/// A pupil's status in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Present,
    Absent,
    Late,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Present, Status::Absent, Status::Late];

    pub fn code(self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Absent => "absent",
            Status::Late => "late",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Status::Present => "absence.status.present",
            Status::Absent => "absence.status.absent",
            Status::Late => "absence.status.late",
        }
    }
}

/// The most minutes a pupil can be late and still be "late" (a longer lesson block).
pub const MAX_MINUTES_LATE: i16 = 240;

/// Minutes late: a whole number from 1 to [`MAX_MINUTES_LATE`].
pub fn parse_minutes(raw: &str) -> Option<i16> {
    raw.trim().parse::<i16>().ok().filter(|m| (1..=MAX_MINUTES_LATE).contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minutes() {
        assert_eq!(parse_minutes("5"), Some(5));
        for bad in ["0", "-3", "241", "fem", ""] {
            assert_eq!(parse_minutes(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn statuses_are_only_the_three_codes(s in "\\PC{0,12}") {
            let parsed = Status::from_code(&s);
            prop_assert_eq!(parsed.is_some(), ["present", "absent", "late"].contains(&s.as_str()));
        }
    }
}
