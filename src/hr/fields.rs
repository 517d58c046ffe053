//! The fields of an HR file, each parsed on its own: the error is a short message that
//! names the field and never repeats a national id (those are parsed by `NationalId`).

use std::fmt;

use time::{Date, Month};

use crate::domain::text::{has_hidden_characters, nfc};

/// The longest name the schema stores.
const MAX_NAME_CHARS: usize = 200;
/// Years outside this range are typing errors, not employments.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

/// A position percentage (stillingsprosent), in hundredths of a percent: more than 0,
/// at most 100, at most two decimals (the schema's `numeric(5, 2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Percentage(u16);

impl Percentage {
    const MAX_HUNDREDTHS: u16 = 10_000;

    /// Accepts `80`, `80,5`, `62.25` (a decimal comma or point).
    ///
    /// # Errors
    ///
    /// Why the text is not a percentage, as a short message.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let text = input.trim();
        if text.is_empty() {
            return Err("is empty");
        }
        let (whole, fraction) = match text.split_once([',', '.']) {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || text.ends_with([',', '.']) {
            return Err("not a number (write e.g. 80 or 62,5)");
        }
        if fraction.len() > 2 {
            return Err("at most two decimals");
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 3 {
            return Err("must be more than 0 and at most 100");
        }
        // At most three digits each side of the point: no overflow in u32.
        let parse = |s: &str| s.parse::<u32>().unwrap_or(0);
        let fraction_hundredths = match fraction.len() {
            1 => parse(fraction) * 10,
            2 => parse(fraction),
            _ => 0,
        };
        let hundredths = parse(whole) * 100 + fraction_hundredths;
        match u16::try_from(hundredths) {
            Ok(h) if (1..=Self::MAX_HUNDREDTHS).contains(&h) => Ok(Self(h)),
            _ => Err("must be more than 0 and at most 100"),
        }
    }

    /// The value in hundredths of a percent (10000 is 100 %).
    #[must_use]
    pub fn hundredths(self) -> u16 {
        self.0
    }

    /// From hundredths of a percent, as stored; None outside (0, 100].
    #[must_use]
    pub fn from_hundredths(hundredths: u16) -> Option<Self> {
        (1..=Self::MAX_HUNDREDTHS).contains(&hundredths).then_some(Self(hundredths))
    }
}

impl fmt::Display for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 100, self.0 % 100);
        match fraction {
            0 => write!(f, "{whole}"),
            f2 if f2 % 10 == 0 => write!(f, "{whole}.{}", f2 / 10),
            f2 => write!(f, "{whole}.{f2:02}"),
        }
    }
}

pub(super) fn resource_number(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("resource number: is empty".to_owned());
    }
    if text.len() > 20 || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("resource number: use 1 to 20 letters (a-z), digits or hyphens".to_owned());
    }
    Ok(text.to_owned())
}

/// A name as stored: in Unicode NFC (see [`crate::domain::text`]), so that the same
/// name typed with a combining ring is the same name, and a second run of the same
/// file changes nothing.
pub(crate) fn name(label: &str, text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err(format!("{label}: is empty"));
    }
    if has_hidden_characters(text) {
        return Err(format!("{label}: contains a control character or an invisible direction mark"));
    }
    let text = nfc(text);
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(format!("{label}: longer than {MAX_NAME_CHARS} characters"));
    }
    Ok(text)
}

/// Nine digits; spaces as in `912 345 678` are allowed.
pub(super) fn org_number(text: &str) -> Result<String, String> {
    let digits: String = text.chars().filter(|c| *c != ' ').collect();
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("workplace: an organisation number has 9 digits".to_owned());
    }
    Ok(digits)
}

pub(super) fn position_code(text: &str) -> Result<String, String> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("position code: must be 4 digits".to_owned());
    }
    Ok(text.to_owned())
}

/// `YYYY-MM-DD`, or the Norwegian `DD.MM.YYYY` (day and month may have one digit).
pub(super) fn parse_date(text: &str) -> Result<Date, String> {
    const FORMATS: &str = "not a date (write YYYY-MM-DD or DD.MM.YYYY)";
    let number = |s: &str, len: std::ops::RangeInclusive<usize>| {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i32>().ok()).flatten()
    };
    let parts: Vec<&str> = if text.contains('-') { text.split('-').collect() } else { text.split('.').collect() };
    let (year, month, day) = match parts.as_slice() {
        [y, m, d] if text.contains('-') => (number(y, 4..=4), number(m, 2..=2), number(d, 2..=2)),
        [d, m, y] => (number(y, 4..=4), number(m, 1..=2), number(d, 1..=2)),
        _ => return Err(FORMATS.to_owned()),
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(FORMATS.to_owned());
    };
    if !YEARS.contains(&year) {
        return Err(format!("the year must be between {} and {}", YEARS.start(), YEARS.end()));
    }
    let month = u8::try_from(month).ok().and_then(|m| Month::try_from(m).ok());
    let day = u8::try_from(day).ok();
    match (month, day) {
        (Some(month), Some(day)) => {
            Date::from_calendar_date(year, month, day).map_err(|_| "no such day in the calendar".to_owned())
        }
        _ => Err("no such day in the calendar".to_owned()),
    }
}

/// yes/no, ja/nei, true/false, 1/0 (any case); empty is no.
pub(super) fn leave(text: &str) -> Result<bool, String> {
    match text.to_lowercase().as_str() {
        "yes" | "ja" | "true" | "1" => Ok(true),
        "" | "no" | "nei" | "false" | "0" => Ok(false),
        _ => Err("leave: write yes or no (or ja/nei, true/false, 1/0)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    #[test]
    fn percentages() {
        for (text, hundredths) in [("100", 10000), ("80", 8000), ("62,5", 6250), ("33.33", 3333), ("0,01", 1)] {
            assert_eq!(Percentage::parse(text).map(Percentage::hundredths), Ok(hundredths), "{text}");
        }
        for text in [
            "0", "0,00", "100,01", "101", "999", "999,99", "655,36", "1000", "-5", "", "80%", "8 0", ",5", "5,",
            "1,234", "00001000",
        ] {
            assert!(Percentage::parse(text).is_err(), "{text}");
        }
        for (hundredths, shown) in [(10000, "100"), (6250, "62.5"), (3333, "33.33"), (5, "0.05")] {
            assert_eq!(Percentage::from_hundredths(hundredths).unwrap().to_string(), shown);
        }
        assert_eq!(Percentage::from_hundredths(0), None);
        assert_eq!(Percentage::from_hundredths(10001), None);
    }

    #[test]
    fn dates() {
        for (text, expected) in [
            ("2024-02-29", date!(2024 - 02 - 29)),
            ("29.02.2024", date!(2024 - 02 - 29)),
            ("1.8.2024", date!(2024 - 08 - 01)),
        ] {
            assert_eq!(parse_date(text), Ok(expected), "{text}");
        }
        for text in ["2023-02-29", "2024-2-1", "24-08-01", "01.08.24", "2024/08/01", "1899-12-31", "x", "01.13.2024"] {
            assert!(parse_date(text).is_err(), "{text}");
        }
    }

    #[test]
    fn names_are_stored_composed_and_without_hidden_characters() {
        assert_eq!(name("given name", "A\u{30a}se"), Ok("\u{c5}se".to_owned()));
        assert_eq!(name("given name", "Åse"), Ok("Åse".to_owned()));
        for bad in ["Å\u{0}se", "Åse\u{202e}", "\u{7}"] {
            assert!(name("given name", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn leave_values() {
        for yes in ["yes", "Ja", "TRUE", "1"] {
            assert_eq!(leave(yes), Ok(true));
        }
        for no in ["no", "NEI", "false", "0", ""] {
            assert_eq!(leave(no), Ok(false));
        }
        assert!(leave("permisjon").is_err());
    }

    proptest! {
        #[test]
        fn percentages_round_trip(hundredths in 1u16..=10_000) {
            let p = Percentage::from_hundredths(hundredths).unwrap();
            prop_assert_eq!(Percentage::parse(&p.to_string()), Ok(p));
            prop_assert_eq!(Percentage::parse(&p.to_string().replace('.', ",")), Ok(p));
        }

        #[test]
        fn percentage_parse_never_panics(text in "[0-9,.]{0,12}") {
            if let Ok(p) = Percentage::parse(&text) {
                prop_assert!((1..=10_000).contains(&p.hundredths()));
            }
        }
    }
}
