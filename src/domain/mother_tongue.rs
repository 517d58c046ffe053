//! Other mother tongue (annet morsmål), recorded for a pupil by the school office: a
//! language code from a fixed list (ISO 639, two letters where there are two), never
//! free text. The list holds the languages most often spoken by newly arrived pupils in
//! Norwegian schools, and the national minority and Sami languages; each has a name in
//! the translation catalogue (`language.{code}`), which a test checks.

/// The codes (stored; never rename one), in the order a form lists them.
pub const MOTHER_TONGUES: [&str; 32] = [
    "ar", "am", "sq", "bs", "prs", "en", "tl", "fi", "fr", "ku", "lt", "fa", "pl", "pt", "ps", "ro", "ru", "se", "so",
    "es", "sv", "ta", "th", "ti", "tr", "de", "uk", "ur", "vi", "zh", "fkv", "rom",
];

/// The code as sent, if it is one of the list.
pub fn parse(raw: &str) -> Option<&'static str> {
    let raw = raw.trim();
    MOTHER_TONGUES.iter().find(|c| **c == raw).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_of_the_list_are_taken() {
        assert_eq!(parse(" so "), Some("so"));
        assert_eq!(parse("SO"), None);
        assert_eq!(parse("klingon"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn every_code_has_a_name_in_every_language() {
        for lang in crate::web::i18n::Lang::ALL {
            for code in MOTHER_TONGUES {
                let key = format!("language.{code}");
                assert!(crate::web::i18n::keys(lang).contains(&key.as_str()), "{key} in {lang:?}");
            }
        }
    }

    #[test]
    fn no_code_is_listed_twice() {
        let mut codes = MOTHER_TONGUES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), MOTHER_TONGUES.len());
    }
}
