//! How many SMS parts a text takes (GSM 03.38 / 3GPP TS 23.038), so that a preview can
//! say what a message costs before it is sent. Pure.
//!
//! A text made only of the GSM 7-bit default alphabet (æøå and ÆØÅ are in it) is sent
//! as GSM-7: 160 septets in one SMS, or 153 per part when it is split (the
//! concatenation header takes the rest); the extension table's characters (`€ [ ] { }
//! \ ^ ~ |` and form feed) take two septets each, and a pair is never split across
//! parts. Any other character (Northern Sami's á č đ ŋ š ŧ ž, emoji, ’) makes the whole
//! text UCS-2: 70 UTF-16 units in one SMS, 67 per part, a surrogate pair never split.

/// The encoding a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// A text's size as SMS: its encoding, its length in that encoding's units (septets
/// or UTF-16 code units) and the number of parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    pub units: usize,
    pub parts: usize,
}

/// The GSM 7-bit default alphabet (one septet each), in table order.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table (escape plus one septet each).
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets of `c` in GSM-7, or `None` when GSM-7 cannot carry it.
fn septets(c: char) -> Option<usize> {
    if c != '\u{1b}' && BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The parts needed for `sizes` (each character's units, never split) when one SMS
/// holds `single` units and a part of a longer message `part`.
fn parts(sizes: impl Iterator<Item = usize> + Clone, single: usize, part: usize) -> (usize, usize) {
    let units: usize = sizes.clone().sum();
    if units <= single {
        return (units, 1);
    }
    let (mut count, mut used) = (1, 0);
    for size in sizes {
        if used + size > part {
            count += 1;
            used = 0;
        }
        used += size;
    }
    (units, count)
}

/// How `text` goes as SMS. An empty text is one (empty) SMS.
pub fn segments(text: &str) -> Segments {
    if text.chars().all(|c| septets(c).is_some()) {
        let (units, parts) = parts(text.chars().filter_map(septets), 160, 153);
        Segments { encoding: Encoding::Gsm7, units, parts }
    } else {
        let (units, parts) = parts(text.chars().map(char::len_utf16), 70, 67);
        Segments { encoding: Encoding::Ucs2, units, parts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> (Encoding, usize, usize) {
        let s = segments(text);
        (s.encoding, s.units, s.parts)
    }

    #[test]
    fn the_alphabet_has_its_128_places() {
        assert_eq!(BASIC.chars().count(), 128);
        assert_eq!(EXTENSION.chars().count(), 10);
    }

    #[test]
    fn norwegian_is_gsm7_and_160_is_the_boundary() {
        assert_eq!(of(""), (Encoding::Gsm7, 0, 1));
        assert_eq!(of("Skolen er stengt i dag. Les mer i Tavle: æøå ÆØÅ"), (Encoding::Gsm7, 48, 1));
        assert_eq!(of(&"a".repeat(160)), (Encoding::Gsm7, 160, 1));
        assert_eq!(of(&"a".repeat(161)), (Encoding::Gsm7, 161, 2));
        assert_eq!(of(&"a".repeat(306)), (Encoding::Gsm7, 306, 2));
        assert_eq!(of(&"a".repeat(307)), (Encoding::Gsm7, 307, 3));
    }

    #[test]
    fn extension_characters_take_two_septets_and_stay_whole() {
        assert_eq!(of("€"), (Encoding::Gsm7, 2, 1));
        assert_eq!(of(&"€".repeat(80)), (Encoding::Gsm7, 160, 1));
        assert_eq!(of(&"€".repeat(81)), (Encoding::Gsm7, 162, 2));
        // 152 septets, then a two-septet € that does not fit in the first part's 153.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(of(&text), (Encoding::Gsm7, 164, 2));
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(of(&text), (Encoding::Gsm7, 306, 3), "306 plain septets are 2 parts; the moved € makes 3");
    }

    #[test]
    fn northern_sami_letters_force_ucs2() {
        for c in ['á', 'č', 'đ', 'ŋ', 'š', 'ŧ', 'ž', 'Á', 'Č', 'Đ', 'Ŋ', 'Š', 'Ŧ', 'Ž'] {
            assert_eq!(segments(&format!("Skuvla {c}")).encoding, Encoding::Ucs2, "{c}");
        }
        assert_eq!(of("Skuvla lea giddejuvvon odne. Loga eanet Tavles: čđŋšŧž"), (Encoding::Ucs2, 54, 1));
        assert_eq!(of(&"š".repeat(70)), (Encoding::Ucs2, 70, 1));
        assert_eq!(of(&"š".repeat(71)), (Encoding::Ucs2, 71, 2));
        assert_eq!(of(&"š".repeat(134)), (Encoding::Ucs2, 134, 2));
        assert_eq!(of(&"š".repeat(135)), (Encoding::Ucs2, 135, 3));
    }

    #[test]
    fn a_surrogate_pair_counts_two_and_is_never_split() {
        assert_eq!(of("🙂"), (Encoding::Ucs2, 2, 1));
        let text = format!("{}🙂{}", "x".repeat(66), "x".repeat(10));
        assert_eq!(of(&text), (Encoding::Ucs2, 78, 2));
        let text = format!("{}🙂{}", "x".repeat(66), "x".repeat(65));
        assert_eq!(of(&text), (Encoding::Ucs2, 133, 2), "66 in part 1, the pair and 65 in part 2");
        let text = format!("{}🙂{}", "x".repeat(66), "x".repeat(66));
        assert_eq!(of(&text), (Encoding::Ucs2, 134, 3));
    }

    #[test]
    fn a_typographic_apostrophe_costs_the_cheap_encoding() {
        assert_eq!(segments("Det er ikke skole i dag").encoding, Encoding::Gsm7);
        assert_eq!(segments("Det er ikke skole i dag – les mer").encoding, Encoding::Ucs2);
    }
}
