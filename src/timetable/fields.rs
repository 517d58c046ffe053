//! The fields of a lesson as people type them (in the edit form and in the import
//! file), each parsed on its own. An error is a translation key (`msg(…)`), so that
//! the form and the web import speak the user's language and the CLI speaks English.

use time::{Date, Time};

pub use crate::web::form::{msg, Msg};

/// The longest room name the schema stores.
pub const MAX_ROOM_CHARS: usize = 40;

/// ISO weekday 1 (Monday) to 7, written as a number or a Norwegian or English name
/// (the first three letters are enough: `man`, `Mon`, `tirsdag`, `Thu`).
pub fn weekday(text: &str) -> Result<i16, Msg> {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        return Err(msg("timetable.error.required"));
    }
    if let Ok(n) = t.parse::<i16>() {
        return if (1..=7).contains(&n) { Ok(n) } else { Err(msg("timetable.error.weekday")) };
    }
    const NAMES: [[&str; 2]; 7] = [
        ["mandag", "monday"],
        ["tirsdag", "tuesday"],
        ["onsdag", "wednesday"],
        ["torsdag", "thursday"],
        ["fredag", "friday"],
        ["lørdag", "saturday"],
        ["søndag", "sunday"],
    ];
    let hits: Vec<i16> = (1..=7)
        .zip(NAMES)
        .filter(|(_, names)| names.iter().any(|n| t.chars().count() >= 3 && n.starts_with(t.as_str())))
        .map(|(d, _)| d)
        .collect();
    match hits.as_slice() {
        [d] => Ok(*d),
        _ => Err(msg("timetable.error.weekday")),
    }
}

/// A time of day: `08:30`, `8:30` or `08.30`.
pub fn time_of_day(text: &str) -> Result<Time, Msg> {
    let t = text.trim();
    if t.is_empty() {
        return Err(msg("timetable.error.required"));
    }
    let bad = || msg("timetable.error.time");
    let (h, m) = t.split_once([':', '.']).ok_or_else(bad)?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u8>().ok()).flatten()
    };
    let (Some(h), Some(m)) = (digits(h, 1..=2), digits(m, 2..=2)) else {
        return Err(bad());
    };
    Time::from_hms(h, m, 0).map_err(|_| bad())
}

/// `HH:MM`, as shown and as the form's time input sends it.
pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// A date: `YYYY-MM-DD` (as the form's date input sends it) or the Norwegian
/// `DD.MM.YYYY` (day and month may have one digit).
pub fn date(text: &str) -> Result<Date, Msg> {
    let t = text.trim();
    if t.is_empty() {
        return Err(msg("timetable.error.required"));
    }
    // The shared parser, and no lessons before 2000 (a typing error).
    crate::domain::date::parse(t).filter(|d| d.year() >= 2000).ok_or_else(|| msg("timetable.error.date"))
}

/// A room: empty is none; at most [`MAX_ROOM_CHARS`] characters, none of them hidden
/// (control characters, direction marks, zero-width spaces: see [`crate::domain::text`]).
pub fn room(text: &str) -> Result<Option<String>, Msg> {
    let t = text.trim();
    if t.is_empty() {
        Ok(None)
    } else if t.chars().count() > MAX_ROOM_CHARS || crate::domain::text::has_hidden_characters(t) {
        Err(msg("timetable.error.room"))
    } else {
        Ok(Some(t.to_owned()))
    }
}

/// `23.11.2026`, as Norwegian calendars print a date.
pub fn day_month_year(d: Date) -> String {
    format!("{}.{}.{}", d.day(), u8::from(d.month()), d.year())
}

#[cfg(test)]
mod tests {
    use time::macros::{date, time};

    use super::*;

    #[test]
    fn weekdays() {
        for (text, n) in
            [("1", 1), ("7", 7), ("mandag", 1), ("Tir", 2), ("ONS", 3), ("thu", 4), ("lørdag", 6), ("Sun", 7)]
        {
            assert_eq!(weekday(text), Ok(n), "{text}");
        }
        for text in ["0", "8", "x", "t", "ma", "-1", "fredagx"] {
            assert!(weekday(text).is_err(), "{text}");
        }
        assert_eq!(weekday(" ").unwrap_err().key, "timetable.error.required");
    }

    #[test]
    fn times() {
        assert_eq!(time_of_day("08:30"), Ok(time!(08:30)));
        assert_eq!(time_of_day("8.05"), Ok(time!(08:05)));
        for text in ["24:00", "8", "8:5", "08:60", "ab:cd", "08:30:00"] {
            assert!(time_of_day(text).is_err(), "{text}");
        }
        assert_eq!(hhmm(time!(08:05)), "08:05");
    }

    #[test]
    fn dates() {
        assert_eq!(date("2026-11-23"), Ok(date!(2026 - 11 - 23)));
        assert_eq!(date("1.8.2026"), Ok(date!(2026 - 08 - 01)));
        for text in ["2026-2-1", "31.02.2027", "1999-01-01", "x", "2026/11/23"] {
            assert!(date(text).is_err(), "{text}");
        }
        assert_eq!(day_month_year(date!(2026 - 11 - 23)), "23.11.2026");
    }

    #[test]
    fn rooms() {
        assert_eq!(room("  "), Ok(None));
        assert_eq!(room(" Rom 4A "), Ok(Some("Rom 4A".to_owned())));
        assert!(room(&"x".repeat(41)).is_err());
        for hidden in ["4\u{202e}A", "A\u{200b}", "\u{feff}A", "A\u{7}"] {
            assert!(room(hidden).is_err(), "{hidden:?}");
        }
    }
}
