//! Norwegian national identity numbers: fødselsnummer, D-nummer, H-nummer and DUF-nummer.
//!
//! [`NationalId`] is a validated identity number. Parsing follows Skatteetaten's reference
//! validator for «fødsels- eller D-nummer», both the 1964 type and the type issued from
//! 1 January 2032 (`foedselsEllerDNummerValidator.java` in the repository
//! `Skatteetaten/folkeregisteret-api-dokumentasjon`, described on the page «Nytt fødselsnummer
//! fra 2032»):
//!
//! * 11 digits `DDMMYY III K1 K2`: birth date, a three-digit individual number, two control
//!   digits.
//! * K1 is valid when the weighted sum of the first ten digits (weights 3 7 6 1 8 9 4 5 2 1,
//!   K1 included) leaves remainder 0, 1, 2 or 3 modulo 11. Remainder 0 is the pre-2032 rule,
//!   1–3 are new from 2032. K2 is valid when the weighted sum of all eleven digits (weights
//!   5 4 3 2 7 6 5 4 3 2 1) leaves remainder 0, as before.
//! * The date is checked as if the year were 20YY, because a 2032-type number no longer tells
//!   its century; so 29 February is accepted exactly when YY is divisible by 4 (00 included),
//!   and no number is rejected for the century it would belong to.
//! * D-nummer: 40 added to the day. Synthetic numbers from Skatteetaten's test population
//!   (Tenor): 80 added to the month, possibly together with a D-nummer day.
//!
//! Beyond the reference validator this module also accepts the H-nummer used by health
//! services (40 added to the month; its own kind) and the 12-digit DUF-nummer issued by the
//! immigration authorities (UDI). The reference validator is more lenient than a calendar
//! about day numbers (its Java date parser clamps 31 February to the end of the month); this
//! module checks the real calendar of year 20YY, so 30 and 31 February or 31 April are
//! rejected.
//!
//! An identity number is personal data. [`NationalId`]'s `Display` and `Debug` show only the
//! masked form (birth date digits, then stars), so that the number does not end up in logs,
//! panic messages or error reports by accident; [`NationalIdError`] never repeats the input.
//! Use [`NationalId::as_str`] only where the full number is really needed, such as storage.

use std::fmt;
use std::str::FromStr;

use time::{Date, Month};

/// Weights for the first control digit, over the first ten digits (the last weight applies to
/// K1 itself).
const K1_WEIGHTS: [u32; 10] = [3, 7, 6, 1, 8, 9, 4, 5, 2, 1];
/// Weights for the second control digit, over all eleven digits (the last weight applies to K2
/// itself).
const K2_WEIGHTS: [u32; 11] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
/// Remainders of the K1 sum that Skatteetaten accepts since the 2032 rule; 0 alone is the
/// pre-2032 rule.
const K1_VALID_REMAINDERS: [u32; 4] = [0, 1, 2, 3];

const BIRTH_NUMBER_LEN: usize = 11;
const DUF_LEN: usize = 12;

/// Registration years accepted in the first four digits of a DUF number.
///
/// UDI documents the DUF number only as twelve digits starting with the year of the first
/// application. No control-digit rule is published by the issuer: the rule some consumers use
/// (weights 4 6 3 2 4 6 3 2 7 5, remainder modulo 11 as the last two digits) fails UDI's own
/// example number, and other third-party rules disagree with it, so only the length and a
/// plausible registration year are checked.
const DUF_YEARS: std::ops::RangeInclusive<u16> = 1990..=2099;

/// A validated Norwegian national identity number (fødselsnummer, D-, H- or DUF-nummer).
///
/// `Display` and `Debug` print only [`masked`](Self::masked).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NationalId {
    /// The 11 or 12 ASCII digits, without separators.
    digits: String,
    kind: NationalIdKind,
}

/// Which kind of identity number a [`NationalId`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NationalIdKind {
    /// Fødselsnummer, assigned by the National Population Register.
    BirthNumber,
    /// D-nummer (day + 40), for people who are not or not yet resident.
    DNumber,
    /// H-nummer (month + 40), an auxiliary number assigned by health services.
    HNumber,
    /// DUF-nummer, the 12-digit registration number of the immigration authorities.
    Duf,
}

/// Why a string is not a national identity number. The messages never contain the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NationalIdError {
    /// Nothing but whitespace was given.
    #[error("the national identity number is empty")]
    Empty,
    /// Something other than digits (and one separator after the sixth digit) was given.
    #[error(
        "a national identity number may contain only digits, with at most one space or hyphen after the sixth digit"
    )]
    NotDigits,
    /// The number of digits is neither 11 nor 12.
    #[error("a national identity number has 11 digits (12 for a DUF number), but {found} digits were given")]
    Length {
        /// How many digits were given.
        found: usize,
    },
    /// The birth date (or a DUF number's registration year) is impossible.
    #[error("the national identity number does not contain a valid date")]
    InvalidDate,
    /// The control digits do not match the rest of the number.
    #[error("the control digits of the national identity number are wrong")]
    ControlDigit,
}

impl NationalIdError {
    /// A stable key for translating the message.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "nid-empty",
            Self::NotDigits => "nid-not-digits",
            Self::Length { .. } => "nid-length",
            Self::InvalidDate => "nid-date",
            Self::ControlDigit => "nid-control-digit",
        }
    }
}

/// Why a valid number may not identify a person in a municipality's register
/// ([`NationalId::admissible`]). The messages never contain the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Inadmissible {
    #[error("an H-number is a health service's auxiliary number, not a person's number in the population register")]
    HNumber,
    #[error("a synthetic number (Skatteetaten's test population); this municipality takes real numbers only")]
    Synthetic,
}

/// The date fields of an 11-digit number, with the D/H/synthetic offsets removed.
struct EncodedDate {
    day: u8,
    month: u8,
    /// The two year digits, 0..=99.
    year: u8,
    kind: NationalIdKind,
}

impl NationalId {
    /// Accepts 11 or 12 digits; ignores surrounding whitespace and one optional space or '-'
    /// after the 6th digit.
    ///
    /// # Errors
    ///
    /// A [`NationalIdError`] saying why the input is not a valid number. It never contains the
    /// input.
    pub fn parse(input: &str) -> Result<Self, NationalIdError> {
        let (digits, count) = normalize(input)?;
        let bytes = digit_values(&digits);
        match count {
            BIRTH_NUMBER_LEN => {
                let date = decode_date(&bytes).ok_or(NationalIdError::InvalidDate)?;
                // As in the reference validator: the date as if the year were 20YY.
                calendar_date(2000 + i32::from(date.year), date.month, date.day).ok_or(NationalIdError::InvalidDate)?;
                if !control_digits_valid(&bytes) {
                    return Err(NationalIdError::ControlDigit);
                }
                Ok(Self { digits, kind: date.kind })
            }
            DUF_LEN => {
                let year = bytes[..4].iter().fold(0u16, |acc, &d| acc * 10 + u16::from(d));
                if !DUF_YEARS.contains(&year) {
                    return Err(NationalIdError::InvalidDate);
                }
                Ok(Self { digits, kind: NationalIdKind::Duf })
            }
            found => Err(NationalIdError::Length { found }),
        }
    }

    /// Which kind of number this is.
    #[must_use]
    pub fn kind(&self) -> NationalIdKind {
        self.kind
    }

    /// Whether this is a synthetic number from Skatteetaten's test population (month + 80).
    #[must_use]
    pub fn is_synthetic(&self) -> bool {
        self.kind != NationalIdKind::Duf && self.digits.as_bytes().get(2).is_some_and(|&b| b >= b'8')
    }

    /// Whether a municipality may register a person under this number: never under an
    /// H-number (a health service's auxiliary number, which identifies no one in the
    /// population register), and under a synthetic number only in a test or demo
    /// municipality (`synthetic_allowed`, the tenant's `allows_synthetic_ids`). Every
    /// import that brings national ids into a municipality asks this.
    ///
    /// # Errors
    ///
    /// Why the number is refused; the message never contains the number.
    pub fn admissible(&self, synthetic_allowed: bool) -> Result<(), Inadmissible> {
        if self.kind == NationalIdKind::HNumber {
            Err(Inadmissible::HNumber)
        } else if self.is_synthetic() && !synthetic_allowed {
            Err(Inadmissible::Synthetic)
        } else {
            Ok(())
        }
    }

    /// All digits, without separators. For storage only: show [`masked`](Self::masked) to
    /// people and logs.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The number with everything after the birth date replaced by stars, e.g.
    /// `"010203 *****"`; a DUF number keeps its registration year, e.g. `"2015 ********"`.
    #[must_use]
    pub fn masked(&self) -> String {
        let shown = if self.kind == NationalIdKind::Duf { 4 } else { 6 };
        let (head, tail) = self.digits.split_at(shown);
        format!("{head} {}", "*".repeat(tail.len()))
    }

    /// The birth date encoded, where one can be told: D/H/synthetic offsets removed; century
    /// from the individual number under the pre-2032 rules; None for DUF or when the century
    /// cannot be told.
    ///
    /// The century cannot be told when the individual number is outside the series used for
    /// the two-digit year, or when the first control digit is valid only under the 2032 rule
    /// (such numbers say nothing about their century). A 2032-type number whose first control
    /// digit happens to satisfy the old rule is read with the old rules, which may be wrong;
    /// Folkeregisteret's own birth-date field is the authority.
    #[must_use]
    pub fn birth_date(&self) -> Option<Date> {
        if self.kind == NationalIdKind::Duf {
            return None;
        }
        let bytes = digit_values(&self.digits);
        if k1_remainder(&bytes) != 0 {
            return None;
        }
        let date = decode_date(&bytes)?;
        let year = century_year(individual_number(&bytes), date.year)?;
        calendar_date(year, date.month, date.day)
    }

    /// Build a synthetic (month + 80) birth number for test/demo data from a date and a
    /// 3-digit individual number using the pre-2032 control-digit rule; None when k1 or k2
    /// would be 10 (try the next individual number).
    ///
    /// Also None when `individual` is above 999, or is not in a series the pre-2032 rules give
    /// to the date's year (000–499 for 1900–1999, 500–749 for 1854–1899, 500–999 for
    /// 2000–2039, 900–999 also for 1940–1999), so that [`birth_date`](Self::birth_date) gives
    /// `birth_date` back.
    #[must_use]
    pub fn synthetic(birth_date: Date, individual: u16) -> Option<Self> {
        if individual > 999 {
            return None;
        }
        let year = birth_date.year();
        let two_digit_year = u8::try_from(year.rem_euclid(100)).ok()?;
        if century_year(individual, two_digit_year) != Some(year) {
            return None;
        }
        let month = u8::from(birth_date.month()) + 80;
        let mut digits = [0u8; BIRTH_NUMBER_LEN];
        for (pair, value) in digits.chunks_exact_mut(2).zip([birth_date.day(), month, two_digit_year]) {
            pair[0] = value / 10;
            pair[1] = value % 10;
        }
        for (slot, value) in digits[6..9].iter_mut().zip([individual / 100, individual / 10 % 10, individual % 10]) {
            *slot = u8::try_from(value).ok()?;
        }
        digits[9] = old_rule_control_digit(&digits[..9], &K1_WEIGHTS[..9])?;
        digits[10] = old_rule_control_digit(&digits[..10], &K2_WEIGHTS[..10])?;
        Some(Self { digits: digits.iter().map(|&d| char::from(b'0' + d)).collect(), kind: NationalIdKind::BirthNumber })
    }
}

/// Trims, removes the optional separator after the sixth digit and checks that only ASCII
/// digits remain. Returns the digits (at most 13 of them are kept, enough to tell that there
/// are too many) and how many there were.
fn normalize(input: &str) -> Result<(String, usize), NationalIdError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(NationalIdError::Empty);
    }
    let mut digits = String::with_capacity(DUF_LEN + 1);
    let mut count = 0;
    for (position, c) in trimmed.chars().enumerate() {
        if c.is_ascii_digit() {
            if count <= DUF_LEN {
                digits.push(c);
            }
            count += 1;
        } else if position == 6 && count == 6 && (c == ' ' || c == '-') {
            // The one separator allowed, right after the six date digits.
        } else {
            return Err(NationalIdError::NotDigits);
        }
    }
    Ok((digits, count))
}

/// The numeric values of a string of ASCII digits.
fn digit_values(digits: &str) -> Vec<u8> {
    digits.bytes().map(|b| b.wrapping_sub(b'0')).collect()
}

/// Reads day, month and year from the first six of eleven digits and removes the D-nummer,
/// H-nummer and synthetic offsets. None for a month field no kind uses, or a D-nummer day
/// combined with an H-nummer month (no such number is issued).
fn decode_date(digits: &[u8]) -> Option<EncodedDate> {
    let pair = |i: usize| digits[i] * 10 + digits[i + 1];
    let (raw_day, raw_month, year) = (pair(0), pair(2), pair(4));
    // Reference validator: a first digit of 4–7 marks a D-nummer. Days 80–99 stay invalid.
    let d_number = raw_day >= 40;
    let day = if d_number { raw_day - 40 } else { raw_day };
    let (month, h_number) = match raw_month {
        1..=12 => (raw_month, false),
        41..=52 => (raw_month - 40, true),
        // Synthetic (Tenor) numbers; `is_synthetic` reads the month digit again.
        81..=92 => (raw_month - 80, false),
        _ => return None,
    };
    let kind = match (d_number, h_number) {
        (false, false) => NationalIdKind::BirthNumber,
        (true, false) => NationalIdKind::DNumber,
        (false, true) => NationalIdKind::HNumber,
        (true, true) => return None,
    };
    Some(EncodedDate { day, month, year, kind })
}

/// A calendar date, or None if it does not exist.
fn calendar_date(year: i32, month: u8, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The individual number, digits 7–9.
fn individual_number(digits: &[u8]) -> u16 {
    digits[6..9].iter().fold(0, |acc, &d| acc * 10 + u16::from(d))
}

/// The full birth year under the pre-2032 rules (Forskrift om folkeregistrering): individual
/// numbers 000–499 for 1900–1999, 500–749 for 1854–1899, 500–999 for 2000–2039 and 900–999
/// also for 1940–1999. None where no series applies.
fn century_year(individual: u16, two_digit_year: u8) -> Option<i32> {
    let year = i32::from(two_digit_year);
    match (individual, two_digit_year) {
        (0..=499, _) | (900..=999, 40..=99) => Some(1900 + year),
        (500..=749, 54..=99) => Some(1800 + year),
        (500..=999, 0..=39) => Some(2000 + year),
        _ => None,
    }
}

fn weighted_sum(digits: &[u8], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(&d, &w)| u32::from(d) * w).sum()
}

/// Remainder of the K1 sum over the first ten digits (K1 included).
fn k1_remainder(digits: &[u8]) -> u32 {
    weighted_sum(&digits[..10], &K1_WEIGHTS) % 11
}

/// Both control digits, by the rule that accepts 1964-type and 2032-type numbers.
fn control_digits_valid(digits: &[u8]) -> bool {
    K1_VALID_REMAINDERS.contains(&k1_remainder(digits)) && weighted_sum(digits, &K2_WEIGHTS) % 11 == 0
}

/// `11 - (sum mod 11)`, with 11 giving 0; None for 10, which no number may use.
fn old_rule_control_digit(digits: &[u8], weights: &[u32]) -> Option<u8> {
    match 11 - weighted_sum(digits, weights) % 11 {
        11 => Some(0),
        10 => None,
        k => u8::try_from(k).ok(),
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({})", self.masked())
    }
}

impl FromStr for NationalId {
    type Err = NationalIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for NationalId {
    type Error = NationalIdError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for NationalId {
    type Error = NationalIdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn parse(s: &str) -> NationalId {
        NationalId::parse(s).unwrap()
    }

    fn err(s: &str) -> NationalIdError {
        NationalId::parse(s).unwrap_err()
    }

    /// Completes nine digits with control digits whose K1 sum leaves `remainder` (0 is the
    /// pre-2032 rule, 1–3 are 2032-type numbers). None when a control digit would be 10.
    fn complete(first_nine: &[u8; 9], remainder: u32) -> Option<String> {
        let mut digits = first_nine.to_vec();
        let sum1 = weighted_sum(&digits, &K1_WEIGHTS[..9]);
        let k1 = (remainder + 11 - sum1 % 11) % 11;
        digits.push(u8::try_from(k1).ok().filter(|&k| k < 10)?);
        let sum2 = weighted_sum(&digits, &K2_WEIGHTS[..10]);
        let k2 = (11 - sum2 % 11) % 11;
        digits.push(u8::try_from(k2).ok().filter(|&k| k < 10)?);
        Some(digits.iter().map(|&d| char::from(b'0' + d)).collect())
    }

    // Skatteetaten's examples on «Nytt fødselsnummer fra 2032».
    #[test]
    fn official_2032_examples_parse() {
        for s in ["02013299997", "30108299920", "30108299939"] {
            let id = parse(s);
            assert_eq!(id.kind(), NationalIdKind::BirthNumber, "{s}");
            assert!(!id.is_synthetic());
            assert_eq!(id.as_str(), s);
        }
    }

    // The test cases shipped with Skatteetaten's reference validator (foedselsnummer.csv).
    #[test]
    fn reference_test_cases() {
        let valid = [
            ("30108299939", NationalIdKind::BirthNumber, false),
            ("30908299902", NationalIdKind::BirthNumber, true),
            ("20036914700", NationalIdKind::BirthNumber, false),
            ("03851598730", NationalIdKind::BirthNumber, true),
            ("29020073150", NationalIdKind::BirthNumber, false),
            ("55102499947", NationalIdKind::DNumber, false),
            ("41819077906", NationalIdKind::DNumber, true),
            ("41819077302", NationalIdKind::DNumber, true),
        ];
        for (s, kind, synthetic) in valid {
            let id = parse(s);
            assert_eq!(id.kind(), kind, "{s}");
            assert_eq!(id.is_synthetic(), synthetic, "{s}");
        }
        assert_eq!(err("20036914712"), NationalIdError::ControlDigit);
        // 29 February 2001 does not exist.
        assert_eq!(err("29020105729"), NationalIdError::InvalidDate);
    }

    #[test]
    fn classic_numbers_parse() {
        for s in [
            "01020312560",
            "15080940006",
            "31129900183",
            "15087060060",
            "01011050162",
            "01020399046",
            "15087091276",
            "29020012380",
        ] {
            assert_eq!(parse(s).kind(), NationalIdKind::BirthNumber, "{s}");
        }
    }

    #[test]
    fn new_rule_accepts_every_k1_remainder_up_to_three() {
        // Same first nine digits where possible; remainders 0, 1, 2, 3 of the K1 sum.
        for s in ["15070599993", "15070599810", "15070599829", "15070599918"] {
            assert!(NationalId::parse(s).is_ok(), "{s}");
        }
        let first_nine = [1, 5, 0, 7, 0, 5, 9, 9, 9];
        for remainder in 4..11 {
            if let Some(s) = complete(&first_nine, remainder) {
                assert_eq!(err(&s), NationalIdError::ControlDigit, "{remainder}");
            }
        }
    }

    #[test]
    fn d_h_and_synthetic_numbers() {
        let d = parse("45031012485");
        assert_eq!(d.kind(), NationalIdKind::DNumber);
        assert!(!d.is_synthetic());
        assert_eq!(d.birth_date(), Some(date!(1910 - 03 - 05)));

        let h = parse("15451012344");
        assert_eq!(h.kind(), NationalIdKind::HNumber);
        assert!(!h.is_synthetic());
        assert_eq!(h.birth_date(), Some(date!(1910 - 05 - 15)));

        let synthetic = parse("15899012302");
        assert_eq!(synthetic.kind(), NationalIdKind::BirthNumber);
        assert!(synthetic.is_synthetic());
        assert_eq!(synthetic.birth_date(), Some(date!(1990 - 09 - 15)));

        let synthetic_d = parse("55819012376");
        assert_eq!(synthetic_d.kind(), NationalIdKind::DNumber);
        assert!(synthetic_d.is_synthetic());
        assert_eq!(synthetic_d.birth_date(), Some(date!(1990 - 01 - 15)));
    }

    #[test]
    fn h_numbers_are_never_admissible_and_synthetic_ones_only_where_allowed() {
        let h = parse("15451012344");
        assert_eq!(h.admissible(true), Err(Inadmissible::HNumber));
        assert_eq!(h.admissible(false), Err(Inadmissible::HNumber));
        for synthetic in ["15899012302", "55819012376"] {
            let id = parse(synthetic);
            assert_eq!(id.admissible(false), Err(Inadmissible::Synthetic), "{synthetic}");
            assert_eq!(id.admissible(true), Ok(()), "{synthetic}");
        }
        for real in ["45031012485", "02013299997", "201512345678"] {
            assert_eq!(parse(real).admissible(false), Ok(()), "{real}");
        }
        for e in [Inadmissible::HNumber, Inadmissible::Synthetic] {
            assert!(!e.to_string().chars().any(|c| c.is_ascii_digit()), "{e}");
        }
    }

    #[test]
    fn d_number_day_with_h_number_month_is_rejected() {
        let s = complete(&[4, 5, 4, 3, 1, 0, 1, 2, 3], 0).unwrap();
        assert_eq!(err(&s), NationalIdError::InvalidDate);
    }

    #[test]
    fn duf_numbers() {
        // UDI's example on «DUF-nummer».
        let id = parse("201258697561");
        assert_eq!(id.kind(), NationalIdKind::Duf);
        assert!(!id.is_synthetic());
        assert_eq!(id.birth_date(), None);
        assert_eq!(id.masked(), "2012 ********");
        assert_eq!(err("198958697561"), NationalIdError::InvalidDate);
        assert_eq!(err("210058697561"), NationalIdError::InvalidDate);
    }

    #[test]
    fn separators_and_whitespace() {
        for s in ["01020312560", "  01020312560\n", "010203 12560", "010203-12560", "\t010203-12560 "] {
            assert_eq!(parse(s).as_str(), "01020312560", "{s:?}");
        }
        for s in [
            "0102031-2560",
            "01020 312560",
            "010203--12560",
            "010203 -12560",
            "010203  12560",
            "010203_12560",
            "0102 0312560",
            "01020312560-",
        ] {
            assert_eq!(err(s), NationalIdError::NotDigits, "{s:?}");
        }
    }

    #[test]
    fn rejections() {
        assert_eq!(err(""), NationalIdError::Empty);
        assert_eq!(err(" \t\n"), NationalIdError::Empty);
        assert_eq!(err("0102031256"), NationalIdError::Length { found: 10 });
        assert_eq!(err("0102031256000"), NationalIdError::Length { found: 13 });
        assert_eq!(err("1"), NationalIdError::Length { found: 1 });
        let many = "1".repeat(10_000);
        assert_eq!(err(&many), NationalIdError::Length { found: 10_000 });
        assert_eq!(err("010203-"), NationalIdError::Length { found: 6 });
        assert_eq!(err("0102031256O"), NationalIdError::NotDigits);
        assert_eq!(err("abcdefghijk"), NationalIdError::NotDigits);
        // Non-ASCII digits are not digits here.
        assert_eq!(err("0102031256٠"), NationalIdError::NotDigits);
        // 31 February 2020 and 29 February 2021, each with correct control digits.
        assert_eq!(err("31022012315"), NationalIdError::InvalidDate);
        assert_eq!(err("29022112358"), NationalIdError::InvalidDate);
        // Month 13 and month 15, with correct control digits.
        assert_eq!(err("01132012330"), NationalIdError::InvalidDate);
        assert_eq!(err("15151012490"), NationalIdError::InvalidDate);
        // Day 0, day 32, month 0 and month 80.
        for first_six in [[0, 0, 0, 1, 2, 0], [3, 2, 0, 1, 2, 0], [0, 1, 0, 0, 2, 0]] {
            let mut first_nine = [0u8; 9];
            first_nine[..6].copy_from_slice(&first_six);
            for individual in 0..10u8 {
                first_nine[8] = individual;
                if let Some(s) = complete(&first_nine, 0) {
                    assert_eq!(err(&s), NationalIdError::InvalidDate, "{first_six:?}");
                }
            }
        }
        // Each control digit wrong on its own.
        assert_eq!(err("01020312570"), NationalIdError::ControlDigit);
        assert_eq!(err("01020312561"), NationalIdError::ControlDigit);
        assert_eq!(err("30108299921"), NationalIdError::ControlDigit);
    }

    #[test]
    fn error_codes_and_messages() {
        let cases = [
            (NationalIdError::Empty, "nid-empty"),
            (NationalIdError::NotDigits, "nid-not-digits"),
            (NationalIdError::Length { found: 3 }, "nid-length"),
            (NationalIdError::InvalidDate, "nid-date"),
            (NationalIdError::ControlDigit, "nid-control-digit"),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code);
            assert!(!error.to_string().is_empty());
        }
        for input in ["31022012315", "01020312570", "0102031256", "0102031256O"] {
            let message = err(input).to_string();
            assert!(!message.contains(input), "{message}");
            assert!(!message.contains(&input[..6]), "{message}");
        }
    }

    #[test]
    fn masking() {
        let id = parse("01020312560");
        assert_eq!(id.masked(), "010203 *****");
        assert_eq!(id.to_string(), "010203 *****");
        assert_eq!(format!("{id:?}"), "NationalId(010203 *****)");
        let debug = format!("{:?}", Some(&id));
        assert!(!debug.contains(id.as_str()));
        assert!(!debug.contains("12560"));
        let pretty = format!("{id:#?}");
        assert!(!pretty.contains("12560"));
    }

    #[test]
    fn conversions() {
        let id: NationalId = "010203 12560".parse().unwrap();
        assert_eq!(NationalId::try_from("01020312560").unwrap(), id);
        assert_eq!(NationalId::try_from(String::from("010203-12560")).unwrap(), id);
        assert_eq!("".parse::<NationalId>().unwrap_err(), NationalIdError::Empty);
    }

    #[test]
    fn birth_date_centuries() {
        let cases = [
            // 000–499: 1900s, whatever the year.
            ("01020312560", Some(date!(1903 - 02 - 01))),
            ("15080940006", Some(date!(1909 - 08 - 15))),
            ("31129900183", Some(date!(1999 - 12 - 31))),
            // 500–749 with year 54–99: 1800s.
            ("15087060060", Some(date!(1870 - 08 - 15))),
            // 500–999 with year 00–39: 2000s.
            ("01011050162", Some(date!(2010 - 01 - 01))),
            ("01020399046", Some(date!(2003 - 02 - 01))),
            ("29020073150", Some(date!(2000 - 02 - 29))),
            ("02013299997", Some(date!(2032 - 01 - 02))),
            // 900–999 with year 40–99: 1900s.
            ("15087091276", Some(date!(1970 - 08 - 15))),
            ("30108299920", Some(date!(1982 - 10 - 30))),
            // 750–899 with year 40–99, and 500–749 with year 40–53: no series.
            ("01014080054", None),
            ("01015060057", None),
            // Parses (29.02.00 is a date in 2000) but 1900 was no leap year.
            ("29020012380", None),
            // K1 valid only under the 2032 rule: the century cannot be told.
            ("30108299939", None),
            ("30908299902", None),
            ("55102499947", None),
        ];
        for (s, expected) in cases {
            assert_eq!(parse(s).birth_date(), expected, "{s}");
        }
    }

    #[test]
    fn synthetic_numbers() {
        let id = NationalId::synthetic(date!(1990 - 09 - 15), 123).unwrap();
        assert_eq!(id.as_str(), "15899012302");
        assert!(id.is_synthetic());
        assert_eq!(id.birth_date(), Some(date!(1990 - 09 - 15)));
        // Individual number out of range or not in the date's series.
        assert_eq!(NationalId::synthetic(date!(1990 - 09 - 15), 1000), None);
        assert_eq!(NationalId::synthetic(date!(1990 - 09 - 15), 600), None);
        assert_eq!(NationalId::synthetic(date!(2015 - 01 - 01), 100), None);
        assert_eq!(NationalId::synthetic(date!(1853 - 12 - 31), 700), None);
        assert_eq!(NationalId::synthetic(date!(2040 - 01 - 01), 999), None);
        // Some individual numbers give a control digit of 10; the next one may not.
        let results: Vec<_> = (0..20).map(|n| NationalId::synthetic(date!(2012 - 06 - 30), 500 + n)).collect();
        assert!(results.iter().any(Option::is_none));
        assert!(results.iter().any(Option::is_some));
    }

    fn valid_number() -> impl Strategy<Value = String> {
        (
            1u8..=28,
            1u8..=12,
            0u8..=99,
            0u16..=999,
            prop_oneof![Just(0u8), Just(40)],
            prop_oneof![Just(0u8), Just(40), Just(80)],
            0u32..=3,
        )
            .prop_filter_map(
                "a control digit would be 10, or D combined with H",
                |(day, month, year, individual, day_offset, month_offset, remainder)| {
                    if day_offset == 40 && month_offset == 40 {
                        return None;
                    }
                    let fields = [day + day_offset, month + month_offset, year];
                    let mut first_nine = [0u8; 9];
                    for (pair, value) in first_nine.chunks_exact_mut(2).zip(fields) {
                        pair[0] = value / 10;
                        pair[1] = value % 10;
                    }
                    first_nine[6] = u8::try_from(individual / 100).ok()?;
                    first_nine[7] = u8::try_from(individual / 10 % 10).ok()?;
                    first_nine[8] = u8::try_from(individual % 10).ok()?;
                    complete(&first_nine, remainder)
                },
            )
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1854i32..=2039, 1u16..=366)
            .prop_filter_map("no such day", |(year, ordinal)| Date::from_ordinal_date(year, ordinal).ok())
    }

    proptest! {
        #[test]
        fn synthetic_round_trips(birth_date in any_date(), individual in 0u16..=999) {
            if let Some(id) = NationalId::synthetic(birth_date, individual) {
                let parsed = NationalId::parse(id.as_str()).unwrap();
                prop_assert_eq!(&parsed, &id);
                prop_assert_eq!(parsed.kind(), NationalIdKind::BirthNumber);
                prop_assert!(parsed.is_synthetic());
                prop_assert_eq!(parsed.birth_date(), Some(birth_date));
                prop_assert_eq!(&parsed.as_str()[6..9], format!("{individual:03}"));
            }
        }

        #[test]
        fn generated_numbers_are_valid(s in valid_number()) {
            prop_assert!(NationalId::parse(&s).is_ok(), "{}", s);
        }

        // Changing any one digit of a valid 11-digit number makes it invalid, under the
        // pre-2032 rule and the 2032 rule alike, because both keep the same check on K2: the
        // sum of all eleven digits weighted 5 4 3 2 7 6 5 4 3 2 1 must be divisible by 11.
        // (The pre-2032 K2 = 11 - (sum of ten mod 11), with 11 -> 0, says exactly that.)
        // Changing digit i by delta (1 <= |delta| <= 9) changes that sum by weight_i * delta.
        // Every weight is between 1 and 10 and 11 is prime, so 11 divides neither factor nor
        // their product: the sum is no longer divisible by 11 and parsing fails (at the latest
        // at the control digits; the date check may already fail first). The 2032 rule only
        // widens K1; it does not touch this argument. DUF numbers have no control digits, so
        // this holds for 11-digit numbers only.
        #[test]
        fn any_single_digit_change_is_rejected(
            s in valid_number(),
            position in 0usize..11,
            delta in 1u8..=9,
        ) {
            let mut bytes = s.clone().into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(NationalId::parse(&changed).is_err(), "{} -> {}", s, changed);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = NationalId::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_digit_like_input(s in "[ 0-9\\-\t]{0,16}") {
            if let Ok(id) = NationalId::parse(&s) {
                prop_assert!(matches!(id.as_str().len(), 11 | 12));
                let _ = id.birth_date();
                let _ = id.masked();
            }
        }

        #[test]
        fn masked_hides_the_personal_number(s in valid_number()) {
            let id = NationalId::parse(&s).unwrap();
            let masked = id.masked();
            // Exactly the six date digits are shown; digits 7-11 never appear.
            prop_assert_eq!(&masked, &format!("{} *****", &s[..6]));
            prop_assert_eq!(masked.bytes().filter(u8::is_ascii_digit).count(), 6);
            prop_assert!(!masked[6..].bytes().any(|b| b.is_ascii_digit()));
            prop_assert_eq!(id.to_string(), masked.clone());
            prop_assert_eq!(format!("{id:?}"), format!("NationalId({masked})"));
        }

        #[test]
        fn masked_duf_shows_only_the_year(year in 1990u16..=2099, rest in 0u64..100_000_000) {
            let s = format!("{year}{rest:08}");
            let id = NationalId::parse(&s).unwrap();
            prop_assert_eq!(id.kind(), NationalIdKind::Duf);
            prop_assert_eq!(id.masked(), format!("{year} ********"));
        }
    }
}
