//! Dates as people type them in a form: `2026-11-23` (what `<input type="date">`
//! sends) or the Norwegian `23.11.2026` (day and month may have one digit), times of
//! day as `<input type="time">` sends them, and both as a page shows them. One parser
//! for every form, so that each refuses the same things: anything but digits in their
//! places (no signs, no six-digit years) and years outside [`YEARS`]. PostgreSQL and
//! `time` each end somewhere (PostgreSQL before 4714 BC, `time` after 9999), and a date
//! near either end makes the next day, a school year or a query fail: a field error,
//! not a 500.

use std::ops::RangeInclusive;

use time::macros::format_description;
use time::{Date, Month, Time};

/// The years a date in Tavle can be in: from well before any employment in an HR file
/// to well after any school year planned.
pub const YEARS: RangeInclusive<i32> = 1900..=2199;

/// A date in either form, or None.
#[must_use]
pub fn parse(raw: &str) -> Option<Date> {
    parse_in(raw, true)
}

/// A date in the form `<input type="date">` sends (`2026-11-23`) only, or None: for
/// fields whose message asks for that form.
#[must_use]
pub fn parse_iso(raw: &str) -> Option<Date> {
    parse_in(raw, false)
}

fn parse_in(raw: &str, norwegian_too: bool) -> Option<Date> {
    let t = raw.trim();
    let number = |s: &str, len: RangeInclusive<usize>| {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i32>().ok()).flatten()
    };
    let parts: Vec<&str> = if t.contains('-') { t.split('-').collect() } else { t.split('.').collect() };
    let (y, m, d) = match parts.as_slice() {
        [y, m, d] if t.contains('-') => (number(y, 4..=4)?, number(m, 2..=2)?, number(d, 2..=2)?),
        [d, m, y] if norwegian_too => (number(y, 4..=4)?, number(m, 1..=2)?, number(d, 1..=2)?),
        _ => return None,
    };
    if !YEARS.contains(&y) {
        return None;
    }
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(y, month, u8::try_from(d).ok()?).ok()
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
    parse(raw).map(iso).unwrap_or_default()
}

/// The value attribute of an `<input type="time">` (see [`date_value`]).
pub fn time_value(raw: &str) -> String {
    parse_time(raw).map(display_time).unwrap_or_default()
}

/// An instant for `<time datetime>`: UTC to the second (HTML allows at most three
/// digits of fractions; the database keeps microseconds).
pub fn machine_time(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap_or_default()
}

/// `08:30`.
pub fn display_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    #[test]
    fn machine_times_are_valid_html_datetimes() {
        let at = time::macros::datetime!(2026-11-23 15:21:32.940614 +01:00);
        assert_eq!(machine_time(at), "2026-11-23T14:21:32Z");
    }

    #[test]
    fn both_forms() {
        assert_eq!(parse("2026-11-03"), Some(date!(2026 - 11 - 03)));
        assert_eq!(parse(" 3.11.2026 "), Some(date!(2026 - 11 - 03)));
        assert_eq!(parse("03.11.2026"), Some(date!(2026 - 11 - 03)));
        assert_eq!(parse("1900-01-01"), Some(date!(1900 - 01 - 01)));
        assert_eq!(parse("31.12.2199"), Some(date!(2199 - 12 - 31)));
        assert_eq!(parse_iso("2026-11-03"), Some(date!(2026 - 11 - 03)));
        assert_eq!(parse_iso("3.11.2026"), None);
        assert_eq!(parse_iso("-4713-01-01"), None);
    }

    #[test]
    fn dates_at_and_beyond_the_ends_are_none() {
        for bad in [
            "",
            "-4713-01-01",
            "0000-01-01",
            "1899-12-31",
            "2200-01-01",
            "9999-12-31",
            "+275760-09-13",
            "31.12.9999",
            "1.1.-123",
            "1.+1.2026",
            "+1.1.2026",
            "2026-02-30",
            "2026-13-01",
            "2026-2-1",
            "3.11.26",
            "1.2.3.2026",
            "2026-11-03T00:00",
            "i dag",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_parse_in_both_forms() {
        let d = date!(2026 - 11 - 03);
        assert_eq!(parse("2026-11-03"), Some(d));
        assert_eq!(parse(" 3.11.2026 "), Some(d));
        assert_eq!(parse("03.11.2026"), Some(d));
        for bad in ["", "2026-13-01", "31.02.2026", "3.11.26", "1.2.3.2026", "i dag", "2026-11-03T00:00", "-4713-01-01"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("08:30").map(display_time).as_deref(), Some("08:30"));
        assert_eq!(parse_time("08:30:00").map(display_time).as_deref(), Some("08:30"));
        assert_eq!(parse_time("8.30"), None);
    }

    proptest! {
        #[test]
        fn a_date_survives_its_form_value(days in 0i32..40_000) {
            let d = date!(1990 - 01 - 01) + time::Duration::days(i64::from(days));
            prop_assert_eq!(parse(&iso(d)), Some(d));
            prop_assert_eq!(parse(&display_date(d)), Some(d));
        }

        #[test]
        fn a_date_survives_both_forms(days in 0i64..109_000) {
            let d = date!(1900 - 01 - 01) + time::Duration::days(days);
            let iso = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            let nb = format!("{}.{}.{}", d.day(), u8::from(d.month()), d.year());
            prop_assert_eq!(parse(&iso), YEARS.contains(&d.year()).then_some(d));
            prop_assert_eq!(parse(&nb), YEARS.contains(&d.year()).then_some(d));
        }

        #[test]
        fn parse_never_panics_and_stays_in_range(s in "[0-9.+-]{0,14}") {
            if let Some(d) = parse(&s) {
                prop_assert!(YEARS.contains(&d.year()));
            }
        }
    }
}
