//! The subject codes file: Grep's JSON (API version v201906, as
//! `https://data.udir.no/kl06/v201906/fagkoder` serves it), read and checked entry by
//! entry. Nothing here touches the database; `apply` adds the checks that need it.
//!
//! The file is a JSON array of fagkode objects (or one such object). Of each object
//! only `kode`, `tittel`, `status`, `gyldig-fra` and `gyldig-til` are read; Grep's
//! other fields (`id`, `uri`, `url-data`, `sist-endret`, `opplaeringsfag`, …) and any
//! it adds later are ignored. The format is documented in README.md ("Subject import
//! file format (Grep)") and shown in `docs/grep-fagkoder.example.json`.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};
use time::Date;

use crate::domain::date::parse_iso;
use crate::domain::text::{has_hidden_characters, nfc};

/// The longest title stored (the schema's `name_nn` check; the same for every language).
const MAX_TITLE_CHARS: usize = 200;
/// A code longer than this is not repeated in messages: it is not a code.
const MAX_CODE_SHOWN: usize = 20;

/// One problem with the file. `Display` gives `entry 7 (MAT0010): tittel: …`, or the
/// message alone for a problem of the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The entry's position in the file's array, from 1; None for the whole file.
    pub entry: Option<usize>,
    /// The entry's `kode`, when it is a short enough text to repeat.
    pub code: Option<String>,
    pub message: String,
}

impl Problem {
    pub(super) fn file(message: impl Into<String>) -> Self {
        Self { entry: None, code: None, message: message.into() }
    }

    pub(super) fn entry(entry: usize, code: Option<&str>, message: impl Into<String>) -> Self {
        Self { entry: Some(entry), code: code.map(str::to_owned), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.entry, &self.code) {
            (None, _) => write!(f, "{}", self.message),
            (Some(n), None) => write!(f, "entry {n}: {}", self.message),
            (Some(n), Some(code)) => write!(f, "entry {n} ({code}): {}", self.message),
        }
    }
}

/// One subject code as Grep gives it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The position in the file (for messages), from 1.
    pub entry: usize,
    /// Grep's fagkode (`MAT0010`): 3-12 of A-Z, Æ, Ø, Å and 0-9.
    pub code: String,
    /// The bokmål title (Grep's `nob`, else `default`), in NFC.
    pub name_nb: String,
    /// The English title (`eng`, else the bokmål one).
    pub name_en: String,
    /// The nynorsk title (`nno`), if Grep has one.
    pub name_nn: Option<String>,
    /// `gyldig-til`: the last day the code is valid, if Grep gives one.
    pub valid_to: Option<Date>,
    /// The status is `…/utgaatt`: the code has expired, whether or not it has a
    /// `gyldig-til`.
    pub expired: bool,
}

impl Entry {
    /// Whether the subject is to have an end date: expired, or with a `gyldig-til`.
    #[must_use]
    pub fn ends(&self) -> bool {
        self.expired || self.valid_to.is_some()
    }
}

/// The entries that passed every check of their own, and every problem found.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// Read and check the whole file. Never stops at the first bad entry: every problem
/// of every entry is reported, numbered by the entry's position in the file.
#[must_use]
pub fn parse(input: &[u8]) -> ParsedFile {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut parsed = ParsedFile::default();
    let items = match serde_json::from_slice::<Value>(input) {
        Err(e) if e.is_eof() && input.trim_ascii().is_empty() => {
            parsed.problems.push(Problem::file("the file is empty; expected Grep's JSON list of subject codes"));
            return parsed;
        }
        Err(e) => {
            // serde_json's message names the line and column, never more of the file.
            parsed.problems.push(Problem::file(format!("the file is not JSON ({e})")));
            return parsed;
        }
        Ok(Value::Array(items)) => items,
        Ok(item @ Value::Object(_)) => vec![item],
        Ok(_) => {
            parsed.problems.push(Problem::file(
                "expected a JSON array of subject codes (as Grep's /fagkoder gives it) or one subject code object",
            ));
            return parsed;
        }
    };
    if items.is_empty() {
        parsed.problems.push(Problem::file("no subject codes: the file's list is empty"));
        return parsed;
    }
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (n, item) in (1..).zip(&items) {
        let Value::Object(object) = item else {
            parsed.problems.push(Problem::entry(
                n,
                None,
                "not an object (a subject code is {\"kode\": …, \"tittel\": …})",
            ));
            continue;
        };
        // Twice in the file is a problem whatever else is wrong with either entry.
        let code = code(object.get("kode")).ok();
        let first = code.as_ref().and_then(|c| first_of.get(c).copied());
        if let (Some(c), None) = (&code, first) {
            first_of.insert(c.clone(), n);
        }
        match parse_entry(n, object) {
            Ok(entry) if first.is_none() => parsed.entries.push(entry),
            Ok(_) => {}
            Err(problems) => parsed.problems.extend(problems),
        }
        if let Some(first) = first {
            parsed.problems.push(Problem::entry(n, code.as_deref(), format!("the same code as entry {first}")));
        }
    }
    parsed
}

/// One entry on its own: every problem, or the entry.
fn parse_entry(n: usize, object: &Map<String, Value>) -> Result<Entry, Vec<Problem>> {
    let shown = shown_code(object.get("kode"));
    let mut messages = Vec::new();
    let code = ok(&mut messages, code(object.get("kode")));
    let titles = titles(object.get("tittel")).map_err(|m| messages.extend(m)).ok();
    let expired = ok(&mut messages, expired(object.get("status")));
    let from = ok(&mut messages, date("gyldig-fra", object.get("gyldig-fra")));
    let to = ok(&mut messages, date("gyldig-til", object.get("gyldig-til")));
    if let (Some(Some(from)), Some(Some(to))) = (from, to) {
        if to < from {
            messages.push("gyldig-til: is before gyldig-fra".to_owned());
        }
    }
    match (code, titles, expired, to) {
        (Some(code), Some((name_nb, name_en, name_nn)), Some(expired), Some(valid_to)) if messages.is_empty() => {
            Ok(Entry { entry: n, code, name_nb, name_en, name_nn, valid_to, expired })
        }
        _ => Err(messages.into_iter().map(|m| Problem::entry(n, shown.as_deref(), m)).collect()),
    }
}

fn ok<T>(messages: &mut Vec<String>, result: Result<T, String>) -> Option<T> {
    result.map_err(|m| messages.push(m)).ok()
}

/// The `kode` to name an entry by in messages: a text, short and visible enough.
fn shown_code(value: Option<&Value>) -> Option<String> {
    let text = value?.as_str()?.trim();
    let fits = !text.is_empty() && text.chars().count() <= MAX_CODE_SHOWN && !has_hidden_characters(text);
    fits.then(|| text.to_owned())
}

/// Grep's fagkode: 3-12 of A-Z, Æ, Ø, Å and 0-9 (usually three letters and four
/// digits, but Grep has others, and any that fits is taken).
fn code(value: Option<&Value>) -> Result<String, String> {
    let text = match value {
        None | Some(Value::Null) => return Err("kode: is missing".to_owned()),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err("kode: is not a text".to_owned()),
    };
    if text.is_empty() {
        return Err("kode: is empty".to_owned());
    }
    let allowed = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, 'Æ' | 'Ø' | 'Å');
    if !(3..=12).contains(&text.chars().count()) || !text.chars().all(allowed) {
        return Err("kode: not a subject code (3-12 capital letters A-Z, Æ, Ø, Å or digits, e.g. MAT0010)".to_owned());
    }
    Ok(text.to_owned())
}

/// Whether `code` can also be a local subject code (`subjects.code`: 2-12 of A-Z
/// and 0-9), as a new subject's code is the directorate's.
pub(super) fn fits_local_code(code: &str) -> bool {
    (2..=12).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// (bokmål, English, nynorsk) from Grep's `tittel`: `[{"spraak": "nob", "verdi": …}, …]`.
/// Only the languages Tavle stores are read (`default`, `nob`, `nno`, `eng`); titles in
/// others (`sme`, `sma`, `smj`, …) are left alone.
fn titles(value: Option<&Value>) -> Result<(String, String, Option<String>), Vec<String>> {
    let items = match value {
        None | Some(Value::Null) => return Err(vec!["tittel: is missing (at least one title)".to_owned()]),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(vec!["tittel: must be a list of titles, each {\"spraak\": …, \"verdi\": …}".to_owned()]),
    };
    let mut found: HashMap<&'static str, String> = HashMap::new();
    let mut problems = Vec::new();
    for item in items {
        let (Some(language), Some(text)) =
            (item.get("spraak").and_then(Value::as_str), item.get("verdi").and_then(Value::as_str))
        else {
            problems.push("tittel: each title is {\"spraak\": …, \"verdi\": …} with texts".to_owned());
            continue;
        };
        let Some(language) = stored_language(language) else { continue };
        match title(language, text) {
            Ok(text) => {
                if found.insert(language, text).is_some() {
                    problems.push(format!("tittel ({language}): given twice"));
                }
            }
            Err(m) => problems.push(m),
        }
    }
    problems.dedup();
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(nb) = found.get("nob").or_else(|| found.get("default")).cloned() else {
        return Err(vec!["tittel: no usable title (none in bokmål, nob, or default)".to_owned()]);
    };
    let en = found.get("eng").cloned().unwrap_or_else(|| nb.clone());
    Ok((nb, en, found.remove("nno")))
}

/// The language of a title when it is one Tavle stores. Grep's older versions named
/// it by URI (`http://psi.oasis-open.org/iso/639/#nob`); the last part is the code.
fn stored_language(spraak: &str) -> Option<&'static str> {
    let code = spraak.trim().rsplit(['#', '/']).next().unwrap_or_default().to_ascii_lowercase();
    ["default", "nob", "nno", "eng"].into_iter().find(|l| *l == code)
}

/// A title as stored: trimmed, in NFC (see [`crate::domain::text`]), so that the same
/// title written with a combining ring is the same title and a second import of the
/// same file changes nothing.
fn title(language: &str, text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("tittel ({language}): is empty"));
    }
    if has_hidden_characters(text) {
        return Err(format!("tittel ({language}): contains a control character or an invisible direction mark"));
    }
    let text = nfc(text);
    if text.chars().count() > MAX_TITLE_CHARS {
        return Err(format!("tittel ({language}): longer than {MAX_TITLE_CHARS} characters"));
    }
    Ok(text)
}

/// Grep's status is a URI; `…/utgaatt` is an expired code. Anything else (`…/publisert`,
/// or no status) is current.
fn expired(value: Option<&Value>) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(s)) => Ok(s.trim().trim_end_matches('/').rsplit('/').next() == Some("utgaatt")),
        Some(_) => Err("status: is not a text".to_owned()),
    }
}

/// `2020-08-01`; also a timestamp (`2020-08-01T00:00:00`), whose date is taken. Null,
/// an empty text or no field at all: no date.
fn date(label: &str, value: Option<&Value>) -> Result<Option<Date>, String> {
    let bad = || format!("{label}: not a date (YYYY-MM-DD)");
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err(bad()),
    };
    if text.is_empty() {
        return Ok(None);
    }
    let day = text.split_once('T').map_or(text, |(day, _)| day);
    parse_iso(day).map(Some).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    fn messages(parsed: &ParsedFile) -> Vec<String> {
        parsed.problems.iter().map(ToString::to_string).collect()
    }

    fn one(json: &str) -> Result<Entry, Vec<String>> {
        let parsed = parse(json.as_bytes());
        match (parsed.entries.as_slice(), parsed.problems.is_empty()) {
            ([entry], true) => Ok(entry.clone()),
            _ => Err(messages(&parsed)),
        }
    }

    #[test]
    fn a_fagkode_as_grep_gives_it() {
        let entry = one(r#"[{"id": "uuid:0e7f", "kode": "MAT0010", "uri": "http://psi.udir.no/kl06/MAT0010",
                "url-data": "https://data.udir.no/kl06/v201906/fagkoder/MAT0010",
                "tittel": [{"spraak": "default", "verdi": "Matematikk"},
                           {"spraak": "nob", "verdi": "Matematikk"},
                           {"spraak": "nno", "verdi": "Matematikk "},
                           {"spraak": "eng", "verdi": "Mathematics"},
                           {"spraak": "sme", "verdi": "Matematihkka"}],
                "status": "http://psi.udir.no/ontologi/status/publisert",
                "gyldig-fra": "2020-08-01", "gyldig-til": null, "grep-type": "x", "opplaeringsfag": []}]"#);
        assert_eq!(
            entry,
            Ok(Entry {
                entry: 1,
                code: "MAT0010".into(),
                name_nb: "Matematikk".into(),
                name_en: "Mathematics".into(),
                name_nn: Some("Matematikk".into()),
                valid_to: None,
                expired: false,
            })
        );
    }

    #[test]
    fn titles_fall_back_nob_to_default_and_eng_to_bokmaal() {
        let entry =
            one(r#"{"kode": "NOR0214", "tittel": [{"spraak": "default", "verdi": "Norsk hovedmål"}]}"#).unwrap();
        assert_eq!(
            (entry.name_nb.as_str(), entry.name_en.as_str(), entry.name_nn),
            ("Norsk hovedmål", "Norsk hovedmål", None)
        );
        // Older API versions name the language by URI.
        let entry = one(
            r#"{"kode": "NOR0214", "tittel": [{"spraak": "http://psi.oasis-open.org/iso/639/#nob", "verdi": "Norsk"},
                                              {"spraak": "http://psi.oasis-open.org/iso/639/#eng", "verdi": "Norwegian"}]}"#,
        )
        .unwrap();
        assert_eq!((entry.name_nb.as_str(), entry.name_en.as_str()), ("Norsk", "Norwegian"));
        // Composed (NFC), whatever the file has.
        let entry = one(r#"{"kode": "KHV0010", "tittel": [{"spraak": "nno", "verdi": "Kunst og ha\u030andverk"},
                                                         {"spraak": "nob", "verdi": "Kunst og håndverk"}]}"#)
        .unwrap();
        assert_eq!(entry.name_nn.as_deref(), Some("Kunst og h\u{e5}ndverk"));
    }

    #[test]
    fn expiry_from_status_and_gyldig_til() {
        let expired = one(r#"{"kode": "RLE0030", "tittel": [{"spraak": "nob", "verdi": "KRLE"}],
                              "status": "http://psi.udir.no/ontologi/status/utgaatt", "gyldig-til": "2020-07-31T00:00:00"}"#)
        .unwrap();
        assert_eq!((expired.expired, expired.valid_to, expired.ends()), (true, Some(date!(2020 - 07 - 31)), true));
        let undated = one(r#"{"kode": "RLE0030", "tittel": [{"spraak": "nob", "verdi": "KRLE"}],
                              "status": "http://psi.udir.no/ontologi/status/utgaatt", "gyldig-til": ""}"#)
        .unwrap();
        assert_eq!((undated.expired, undated.valid_to, undated.ends()), (true, None, true));
        let ending =
            one(r#"{"kode": "RLE0030", "tittel": [{"spraak": "nob", "verdi": "KRLE"}], "gyldig-til": "2027-07-31"}"#)
                .unwrap();
        assert_eq!((ending.expired, ending.valid_to, ending.ends()), (false, Some(date!(2027 - 07 - 31)), true));
    }

    #[test]
    fn every_bad_entry_is_numbered() {
        let long = "x".repeat(201);
        let json = format!(
            r#"[
              {{"kode": "MAT0010", "tittel": [{{"spraak": "nob", "verdi": "Matematikk"}}]}},
              "MAT0010",
              {{"tittel": [{{"spraak": "nob", "verdi": "Naturfag"}}]}},
              {{"kode": "mat01", "tittel": [{{"spraak": "nob", "verdi": "Matte"}}]}},
              {{"kode": "NAT0010", "tittel": []}},
              {{"kode": "NAT0011", "tittel": [{{"spraak": "eng", "verdi": "Science"}}]}},
              {{"kode": "SAF0010", "tittel": [{{"spraak": "nob", "verdi": "{long}"}}]}},
              {{"kode": "KHV0010", "tittel": [{{"spraak": "nob", "verdi": "Kunst"}}], "gyldig-fra": "2020-13-01"}},
              {{"kode": "MUS0010", "tittel": [{{"spraak": "nob", "verdi": "Musikk"}}],
                "gyldig-fra": "2020-08-01", "gyldig-til": "2019-07-31"}},
              {{"kode": "MAT0010", "tittel": [{{"spraak": "nob", "verdi": "Matematikk"}}]}},
              {{"kode": 17, "tittel": {{"nob": "x"}}, "status": 3, "gyldig-til": 2020}},
              {{"kode": "ENG0012", "tittel": [{{"spraak": "nob", "verdi": " "}}, {{"spraak": "nob", "verdi": "E\u0007"}}, 4]}}
            ]"#
        );
        let parsed = parse(json.as_bytes());
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(
            messages(&parsed),
            [
                "entry 2: not an object (a subject code is {\"kode\": …, \"tittel\": …})",
                "entry 3: kode: is missing",
                "entry 4 (mat01): kode: not a subject code (3-12 capital letters A-Z, Æ, Ø, Å or digits, e.g. MAT0010)",
                "entry 5 (NAT0010): tittel: no usable title (none in bokmål, nob, or default)",
                "entry 6 (NAT0011): tittel: no usable title (none in bokmål, nob, or default)",
                "entry 7 (SAF0010): tittel (nob): longer than 200 characters",
                "entry 8 (KHV0010): gyldig-fra: not a date (YYYY-MM-DD)",
                "entry 9 (MUS0010): gyldig-til: is before gyldig-fra",
                "entry 10 (MAT0010): the same code as entry 1",
                "entry 11: kode: is not a text",
                "entry 11: tittel: must be a list of titles, each {\"spraak\": …, \"verdi\": …}",
                "entry 11: status: is not a text",
                "entry 11: gyldig-til: not a date (YYYY-MM-DD)",
                "entry 12 (ENG0012): tittel (nob): is empty",
                "entry 12 (ENG0012): tittel (nob): contains a control character or an invisible direction mark",
                "entry 12 (ENG0012): tittel: each title is {\"spraak\": …, \"verdi\": …} with texts",
            ]
        );
    }

    #[test]
    fn a_code_twice_is_a_problem_even_when_its_first_entry_is_bad() {
        let parsed = parse(
            br#"[{"kode": "MAT0010", "tittel": []},
                 {"kode": "MAT0010", "tittel": [{"spraak": "nob", "verdi": "Matematikk"}]},
                 {"kode": "MAT0010", "gyldig-til": "i morgen"}]"#,
        );
        assert!(parsed.entries.is_empty());
        assert_eq!(
            messages(&parsed),
            [
                "entry 1 (MAT0010): tittel: no usable title (none in bokmål, nob, or default)",
                "entry 2 (MAT0010): the same code as entry 1",
                "entry 3 (MAT0010): tittel: is missing (at least one title)",
                "entry 3 (MAT0010): gyldig-til: not a date (YYYY-MM-DD)",
                "entry 3 (MAT0010): the same code as entry 1",
            ]
        );
    }

    #[test]
    fn problems_of_the_whole_file() {
        for (input, expected) in [
            ("", "the file is empty; expected Grep's JSON list of subject codes"),
            ("[]", "no subject codes: the file's list is empty"),
            ("42", "expected a JSON array of subject codes (as Grep's /fagkoder gives it) or one subject code object"),
        ] {
            assert_eq!(messages(&parse(input.as_bytes())), [expected], "{input:?}");
        }
        let got = messages(&parse(b"kode;tittel\nMAT0010;Matematikk\n"));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].starts_with("the file is not JSON (expected value at line 1 column 1"), "{got:?}");
        // A byte-order mark is no problem.
        let parsed =
            parse(b"\xEF\xBB\xBF{\"kode\": \"MAT0010\", \"tittel\": [{\"spraak\": \"nob\", \"verdi\": \"M\"}]}");
        assert_eq!((parsed.entries.len(), parsed.problems.len()), (1, 0));
    }

    #[test]
    fn codes() {
        for good in ["MAT0010", "NOR0214", "ÅRS0010", "FSP6089", "ABC", "ABCDEFGHIJKL"] {
            assert_eq!(code(Some(&Value::from(good))), Ok(good.to_owned()), "{good}");
        }
        for bad in ["MA", "mat0010", "MAT 0010", "MAT-0010", "ABCDEFGHIJKLM", "A\u{30a}RS0010", ""] {
            assert!(code(Some(&Value::from(bad))).is_err(), "{bad}");
        }
        assert!(fits_local_code("MAT0010"));
        assert!(!fits_local_code("ÅRS0010"));
    }

    #[test]
    fn the_documented_example_parses() {
        let parsed = parse(include_bytes!("../../../docs/grep-fagkoder.example.json"));
        assert_eq!(messages(&parsed), Vec::<String>::new());
        assert!(parsed.entries.len() >= 12);
        assert!(parsed.entries.iter().all(|e| fits_local_code(&e.code)));
        assert_eq!(parsed.entries.iter().filter(|e| e.expired && e.valid_to.is_some()).count(), 1);
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn every_problem_of_an_entry_names_a_position_in_the_file(
            body in r#"\[(\{"kode": "[A-Za-zÅ0-9 ]{0,14}", "tittel": \[\{"spraak": "(nob|eng|nno)", "verdi": "[a-z]{0,3}"\}\], "gyldig-til": "20[0-9]{2}-[01][0-9]-[0-3][0-9]"\}, ){0,4}1\]"#
        ) {
            let parsed = parse(body.as_bytes());
            let count = body.matches("\"kode\"").count() + 1;
            for p in &parsed.problems {
                prop_assert!(p.entry.is_some_and(|n| (1..=count).contains(&n)), "{p}");
            }
            prop_assert!(parsed.entries.len() < count);
        }
    }
}
