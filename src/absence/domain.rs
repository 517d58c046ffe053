//! The values of absence, parsed once at the edge: dates and times as a browser sends
//! them, the register's status per pupil, and minutes late.

use time::macros::format_description;
use time::{Date, Time};

/// A date as `<input type="date">` sends it (`2026-11-23`), or as typed in Norway
/// where no date picker is shown (`23.11.2026`, `1.9.2026`); None outside the years a
/// date in Tavle can have (see [`crate::domain::date`]).
pub fn parse_date(raw: &str) -> Option<Date> {
    crate::domain::date::parse(raw)
}

/// A time as `<input type="time">` sends it (`08:30`, or `08:30:00` with seconds).
pub fn parse_time(raw: &str) -> Option<Time> {
    let s = raw.trim();
    Time::parse(s, format_description!("[hour]:[minute]"))
        .or_else(|_| Time::parse(s, format_description!("[hour]:[minute]:[second]")))
        .ok()
}

/// `2026-11-23`: the form value of a date.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `23.11.2026`: a date as Norwegians read it (also on the English pages, where the
/// numeric form is unambiguous enough).
pub fn display_date(d: Date) -> String {
    format!("{:02}.{:02}.{:04}", d.day(), u8::from(d.month()), d.year())
}

/// The value attribute of an `<input type="date">`: a date that does not parse is
/// left out (the page would not be valid HTML with it; the message says what is wrong).
pub fn date_value(raw: &str) -> String {
    parse_date(raw).map(iso).unwrap_or_default()
}

/// The value attribute of an `<input type="time">` (see [`date_value`]).
pub fn time_value(raw: &str) -> String {
    parse_time(raw).map(display_time).unwrap_or_default()
}

/// `08:30`.
pub fn display_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

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
    use time::Month;

    #[test]
    fn dates_parse_in_both_forms() {
        let d = Date::from_calendar_date(2026, Month::November, 3).unwrap();
        assert_eq!(parse_date("2026-11-03"), Some(d));
        assert_eq!(parse_date(" 3.11.2026 "), Some(d));
        assert_eq!(parse_date("03.11.2026"), Some(d));
        for bad in ["", "2026-13-01", "31.02.2026", "3.11.26", "1.2.3.2026", "i dag", "2026-11-03T00:00", "-4713-01-01"]
        {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_and_minutes() {
        assert_eq!(parse_time("08:30").map(display_time).as_deref(), Some("08:30"));
        assert_eq!(parse_time("08:30:00").map(display_time).as_deref(), Some("08:30"));
        assert_eq!(parse_time("8.30"), None);
        assert_eq!(parse_minutes("5"), Some(5));
        for bad in ["0", "-3", "241", "fem", ""] {
            assert_eq!(parse_minutes(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_date_survives_its_form_value(days in 0i32..40_000) {
            let d = Date::from_calendar_date(1990, Month::January, 1).unwrap() + time::Duration::days(i64::from(days));
            prop_assert_eq!(parse_date(&iso(d)), Some(d));
            prop_assert_eq!(parse_date(&display_date(d)), Some(d));
        }

        #[test]
        fn statuses_are_only_the_three_codes(s in "\\PC{0,12}") {
            let parsed = Status::from_code(&s);
            prop_assert_eq!(parsed.is_some(), ["present", "absent", "late"].contains(&s.as_str()));
        }
    }
}
