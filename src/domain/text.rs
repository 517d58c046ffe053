//! Text as people type it, made safe to store, compare and show.
//!
//! **Names in NFC.** An «å» may arrive as one code point (U+00E5) or as «a» followed
//! by a combining ring (U+0061 U+030A): they look the same, but compare, sort and
//! `LIKE`-match differently. Names are stored in Unicode normalization form C (the
//! composed form that keyboards, browsers and the population register produce), and a
//! search term is normalised the same way, so either spelling finds the same people.
//!
//! **Hidden characters.** Control characters (NUL among them, which a PostgreSQL text
//! value cannot hold), the invisible bidirectional controls (which can make a text
//! display otherwise than it reads, as in «Trojan Source») and the invisible spaces
//! (zero-width space, word joiner, byte order mark, which make two equal-looking names
//! differ) belong in no name, room or code; fields that store text refuse them. The
//! zero-width (non-)joiners stay allowed: Persian and Indic scripts need them.

use unicode_normalization::UnicodeNormalization;

/// `text` in Unicode normalization form C.
#[must_use]
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// Whether `text` holds a control character, an invisible bidirectional control
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) or an invisible space
/// (U+200B, U+2060, U+FEFF).
#[must_use]
pub fn has_hidden_characters(text: &str) -> bool {
    text.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\u{061C}'
                    | '\u{200B}'
                    | '\u{200E}'
                    | '\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}'
            )
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn composed_and_decomposed_letters_become_one() {
        assert_eq!(nfc("a\u{30a}se"), "\u{e5}se");
        assert_eq!(nfc("Bj\u{f8}rn \u{c6}"), "Bj\u{f8}rn \u{c6}");
        // Northern Sami: č (c + caron), ŋ has no decomposition.
        assert_eq!(nfc("c\u{30c}\u{14b}"), "\u{10d}\u{14b}");
    }

    #[test]
    fn hidden_characters() {
        for bad in [
            "a\u{0}b",
            "\u{1b}[31m",
            "a\r\nb",
            "\t",
            "\u{7f}",
            "\u{202e}gnp.exe",
            "x\u{2067}",
            "\u{200f}",
            "Å\u{200b}se",
            "\u{feff}Åse",
        ] {
            assert!(has_hidden_characters(bad), "{bad:?}");
        }
        for good in ["Åse Bø", "Máret Ánne Čuoppa", "محمد", "O'Brien-Ødegård", "می\u{200c}خواهم", ""]
        {
            assert!(!has_hidden_characters(good), "{good:?}");
        }
    }

    proptest! {
        #[test]
        fn nfc_is_idempotent(s in "\\PC{0,16}") {
            let once = nfc(&s);
            prop_assert_eq!(nfc(&once), once);
        }
    }
}

/// A phone number as `persons.phone` and `contact_persons.phone` take it: an optional
/// leading `+`, then digits and spaces, 5-20 characters in all, at least 5 digits.
#[must_use]
pub fn phone_ok(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&phone.len())
        && digits >= 5
        && phone.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || c == ' ' || (c == '+' && i == 0))
}

/// An e-mail address as `persons.email` takes it: something before and after one `@`,
/// no spaces or hidden characters, at most 320 characters.
#[must_use]
pub fn email_ok(email: &str) -> bool {
    email.len() <= 320
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.contains(char::is_whitespace)
        && !has_hidden_characters(email)
}

#[cfg(test)]
mod contact_tests {
    use super::*;

    #[test]
    fn phones_and_addresses_as_the_schema_takes_them() {
        assert!(phone_ok("+47 912 34 567") && phone_ok("91234567"));
        assert!(!phone_ok("+47") && !phone_ok("ring meg") && !phone_ok("9+1234567") && !phone_ok(&"1".repeat(21)));
        assert!(email_ok("kari.nordmann@example.no"));
        assert!(
            !email_ok("kari at home") && !email_ok("@example.no") && !email_ok("kari@") && !email_ok("kari@example")
        );
    }
}
