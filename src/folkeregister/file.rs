//! The population register file: one person per line as a JSON object (JSON Lines),
//! named after the fields of Folkeregisteret's person document. Reading it and checking
//! every line on its own and against the other lines; nothing here touches the
//! database (`import` adds the checks that need it).
//!
//! The format is documented in README.md ("Population register file format") and shown
//! in `docs/folkeregister-example.jsonl`. Fields Tavle does not know are ignored, as
//! the register adds fields over time.
//!
//! Messages never contain a national id number or any other value from the file: JSON
//! is read as a tree first (a syntax error names only the column), and every field is
//! then checked here with messages of our own.

use std::collections::HashMap;

use serde_json::{Map, Value};
use time::{macros::format_description, Date};

use crate::domain::national_id::{NationalId, NationalIdKind};
use crate::hr::fields::name;
pub use crate::hr::file::LineError;

/// How strongly the register protects a person's address (adressebeskyttelse), as
/// stored in `persons.address_protection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    None,
    /// `fortrolig`, and `klientadresse` (the register gives a client address instead
    /// of where the person lives): shown to nobody.
    Confidential,
    /// `strengtFortrolig`: the register gives no address at all.
    StrictlyConfidential,
}

impl Protection {
    pub fn code(self) -> &'static str {
        match self {
            Protection::None => "none",
            Protection::Confidential => "confidential",
            Protection::StrictlyConfidential => "strictly_confidential",
        }
    }
}

/// Where the register says a person lives (bostedsadresse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub street: String,
    pub postal_code: String,
    pub postal_town: String,
}

/// A parent or a holder of parental responsibility named in a child's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub national_id: String,
    pub responsible: bool,
}

/// One person as the register gives them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterPerson {
    /// The line in the file (from 1).
    pub line: u64,
    pub national_id: String,
    /// The number the person had before (a D-number replaced by a fødselsnummer).
    pub former_national_id: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Date,
    pub protection: Protection,
    /// None when the register gives none, and always for a strictly confidential one.
    pub address: Option<Address>,
    pub deceased_on: Option<Date>,
    pub moved_out_on: Option<Date>,
    pub moved_to_municipality: Option<String>,
    /// The document has `foreldreansvar`: then it is the whole truth about the child's
    /// guardians (`links`, possibly none); without it guardianships are left alone.
    pub has_responsibility: bool,
    pub links: Vec<Link>,
}

/// The lines that passed every check of their own, and every problem found.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub persons: Vec<RegisterPerson>,
    pub errors: Vec<LineError>,
}

/// Read and check the whole file; every problem is reported with its line.
/// `synthetic_allowed`: the municipality takes synthetic numbers (a test or demo).
#[must_use]
pub fn parse(input: &[u8], synthetic_allowed: bool) -> ParsedFile {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut parsed = ParsedFile::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (index, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let mut problems = Vec::new();
        match read_line(raw, synthetic_allowed, &mut problems) {
            Some(mut person) if problems.is_empty() => {
                person.line = line;
                if let Some(first) = seen.insert(person.national_id.clone(), line) {
                    parsed.errors.push(LineError::new(line, format!("the same person as on line {first}")));
                } else {
                    parsed.persons.push(person);
                }
            }
            _ => parsed.errors.extend(problems.into_iter().map(|p| LineError::new(line, p))),
        }
    }
    if parsed.persons.is_empty() && parsed.errors.is_empty() {
        parsed.errors.push(LineError::new(1, "the file has no persons"));
    }
    parsed
}

fn read_line(raw: &[u8], synthetic_allowed: bool, problems: &mut Vec<String>) -> Option<RegisterPerson> {
    let doc = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(doc)) => doc,
        Ok(_) => {
            problems.push("not a JSON object".to_owned());
            return None;
        }
        // serde_json's syntax errors name the place, never the text.
        Err(e) => {
            problems.push(format!("not valid JSON (column {})", e.column()));
            return None;
        }
    };
    let national_id = required_number(&doc, "foedselsEllerDNummer", synthetic_allowed, problems);
    let former_national_id = optional(&doc, "tidligereFoedselsEllerDNummer")
        .and_then(|v| number(v, "tidligereFoedselsEllerDNummer", synthetic_allowed, problems));
    let given_name = required_name(&doc, "fornavn", problems);
    let middle = optional(&doc, "mellomnavn").and_then(|v| text(v, "mellomnavn", problems));
    let family = required_name(&doc, "etternavn", problems);
    // Tavle keeps two names; a middle name (often a family name in Norway) goes with the family name.
    let family_name = match (middle, family) {
        (Some(m), Some(f)) => name("mellomnavn", &format!("{m} {f}")).map_err(|e| problems.push(e)).ok(),
        (None, f) => f,
        (Some(_), None) => None,
    };
    let birth_date = match optional(&doc, "foedselsdato") {
        Some(v) => date(v, "foedselsdato", problems),
        None => {
            problems.push("foedselsdato: missing".to_owned());
            None
        }
    };
    let protection = match optional(&doc, "adressebeskyttelse").map(|v| v.as_str()) {
        None | Some(Some("ugradert")) => Protection::None,
        Some(Some("fortrolig" | "klientadresse")) => Protection::Confidential,
        Some(Some("strengtFortrolig")) => Protection::StrictlyConfidential,
        Some(_) => {
            problems
                .push("adressebeskyttelse: not one of ugradert, klientadresse, fortrolig, strengtFortrolig".to_owned());
            Protection::None
        }
    };
    let address = optional(&doc, "bostedsadresse").and_then(|v| address(v, problems));
    let deceased_on = optional(&doc, "doedsdato").and_then(|v| date(v, "doedsdato", problems));
    let (moved_out_on, moved_to_municipality) = match optional(&doc, "utflytting") {
        None => (None, None),
        Some(Value::Object(m)) => {
            let on = match m.get("dato") {
                Some(v) => date(v, "utflytting.dato", problems),
                None => {
                    problems.push("utflytting.dato: missing".to_owned());
                    None
                }
            };
            let to = match m.get("tilKommunenummer") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_str() {
                    Some(s) if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.to_owned()),
                    _ => {
                        problems.push("utflytting.tilKommunenummer: not a four-digit municipality number".to_owned());
                        None
                    }
                },
            };
            (on, to)
        }
        Some(_) => {
            problems.push("utflytting: not an object".to_owned());
            (None, None)
        }
    };
    let parents =
        optional(&doc, "familierelasjon").map(|v| parents(v, synthetic_allowed, problems)).unwrap_or_default();
    let responsibility = optional(&doc, "foreldreansvar");
    let has_responsibility = responsibility.is_some();
    let mut links: Vec<Link> =
        parents.iter().map(|(_, nid)| Link { national_id: nid.clone(), responsible: false }).collect();
    if let Some(v) = responsibility {
        for holder in responsible(v, &parents, synthetic_allowed, problems) {
            match links.iter_mut().find(|l| l.national_id == holder) {
                Some(l) => l.responsible = true,
                None => links.push(Link { national_id: holder, responsible: true }),
            }
        }
    }
    let national_id = national_id?;
    if links.iter().any(|l| l.national_id == national_id) {
        problems.push("familierelasjon or foreldreansvar: names the person themselves".to_owned());
    }
    Some(RegisterPerson {
        line: 0,
        national_id,
        former_national_id,
        given_name: given_name?,
        family_name: family_name?,
        birth_date: birth_date?,
        address: if protection == Protection::StrictlyConfidential { None } else { address },
        protection,
        deceased_on,
        moved_out_on,
        moved_to_municipality,
        has_responsibility,
        links,
    })
}

/// A field that may be absent or null.
fn optional<'a>(doc: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    doc.get(key).filter(|v| !v.is_null())
}

fn text(v: &Value, field: &str, problems: &mut Vec<String>) -> Option<String> {
    match v.as_str() {
        Some(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => {
            problems.push(format!("{field}: not a text"));
            None
        }
    }
}

fn required_name(doc: &Map<String, Value>, field: &str, problems: &mut Vec<String>) -> Option<String> {
    match doc.get(field).filter(|v| !v.is_null()) {
        None => {
            problems.push(format!("{field}: missing"));
            None
        }
        Some(v) => text(v, field, problems).and_then(|t| name(field, &t).map_err(|e| problems.push(e)).ok()),
    }
}

fn required_number(
    doc: &Map<String, Value>,
    field: &str,
    synthetic_allowed: bool,
    problems: &mut Vec<String>,
) -> Option<String> {
    match doc.get(field).filter(|v| !v.is_null()) {
        None => {
            problems.push(format!("{field}: missing"));
            None
        }
        Some(v) => number(v, field, synthetic_allowed, problems),
    }
}

/// A fødselsnummer or D-number (the register gives no other kind).
fn number(v: &Value, field: &str, synthetic_allowed: bool, problems: &mut Vec<String>) -> Option<String> {
    let Some(s) = v.as_str() else {
        problems.push(format!("{field}: not a text"));
        return None;
    };
    match NationalId::parse(s) {
        Err(e) => {
            problems.push(format!("{field}: {e}"));
            None
        }
        Ok(id) if !matches!(id.kind(), NationalIdKind::BirthNumber | NationalIdKind::DNumber) => {
            problems.push(format!("{field}: the register gives only fødselsnummer and D-numbers"));
            None
        }
        Ok(id) => match id.admissible(synthetic_allowed) {
            Err(e) => {
                problems.push(format!("{field}: {e}"));
                None
            }
            Ok(()) => Some(id.as_str().to_owned()),
        },
    }
}

fn date(v: &Value, field: &str, problems: &mut Vec<String>) -> Option<Date> {
    let parsed = v.as_str().and_then(|s| Date::parse(s, format_description!("[year]-[month]-[day]")).ok());
    if parsed.is_none() {
        problems.push(format!("{field}: not a date (YYYY-MM-DD)"));
    }
    parsed
}

fn address(v: &Value, problems: &mut Vec<String>) -> Option<Address> {
    let Value::Object(m) = v else {
        problems.push("bostedsadresse: not an object".to_owned());
        return None;
    };
    let field = |key: &str, problems: &mut Vec<String>| match m.get(key).filter(|v| !v.is_null()) {
        Some(v) => text(v, &format!("bostedsadresse.{key}"), problems),
        None => {
            problems.push(format!("bostedsadresse.{key}: missing"));
            None
        }
    };
    let street = field("adressenavn", problems);
    let postal_code = field("postnummer", problems);
    let postal_town = field("poststed", problems);
    let postal_code = postal_code.filter(|c| {
        let ok = c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            problems.push("bostedsadresse.postnummer: not four digits".to_owned());
        }
        ok
    });
    Some(Address { street: street?, postal_code: postal_code?, postal_town: postal_town? })
}

/// The parents in `familierelasjon` (role mor, far or medmor; other relations ignored).
fn parents(v: &Value, synthetic_allowed: bool, problems: &mut Vec<String>) -> Vec<(String, String)> {
    let Value::Array(items) = v else {
        problems.push("familierelasjon: not a list".to_owned());
        return Vec::new();
    };
    let mut found = Vec::new();
    for item in items {
        let role = item.get("relatertPersonsRolle").and_then(Value::as_str);
        let Some(role @ ("mor" | "far" | "medmor")) = role else {
            if role.is_none() {
                problems.push("familierelasjon: an entry without relatertPersonsRolle".to_owned());
            }
            continue;
        };
        match item.get("relatertPerson") {
            Some(p) => {
                if let Some(nid) = number(p, "familierelasjon.relatertPerson", synthetic_allowed, problems) {
                    if found.iter().any(|(r, _): &(String, String)| r == role) {
                        problems.push(format!("familierelasjon: two entries with the role {role}"));
                    } else {
                        found.push((role.to_owned(), nid));
                    }
                }
            }
            None => problems.push("familierelasjon.relatertPerson: missing".to_owned()),
        }
    }
    found
}

/// Who holds parental responsibility (research O4): `felles` the parents, `mor`, `far`
/// or `medmor` that parent, `andre` the named `ansvarlig`, `ukjent` nobody. A named
/// `ansvarlig` always wins over the role.
fn responsible(
    v: &Value,
    parents: &[(String, String)],
    synthetic_allowed: bool,
    problems: &mut Vec<String>,
) -> Vec<String> {
    let Value::Array(items) = v else {
        problems.push("foreldreansvar: not a list".to_owned());
        return Vec::new();
    };
    let mut holders = Vec::new();
    for item in items {
        let named = item
            .get("ansvarlig")
            .filter(|v| !v.is_null())
            .and_then(|v| number(v, "foreldreansvar.ansvarlig", synthetic_allowed, problems));
        let parent = |role: &str| parents.iter().find(|(r, _)| r == role).map(|(_, n)| n.clone());
        match (item.get("ansvar").and_then(Value::as_str), named) {
            (Some("ukjent"), _) => {}
            (Some("felles" | "mor" | "far" | "medmor" | "andre"), Some(n)) => holders.push(n),
            (Some("felles"), None) => {
                if parents.is_empty() {
                    problems.push("foreldreansvar: felles, but familierelasjon names no parent".to_owned());
                }
                holders.extend(parents.iter().map(|(_, n)| n.clone()));
            }
            (Some(role @ ("mor" | "far" | "medmor")), None) => match parent(role) {
                Some(n) => holders.push(n),
                None => problems.push(format!("foreldreansvar: {role}, but familierelasjon names no {role}")),
            },
            (Some("andre"), None) => problems.push("foreldreansvar: andre without ansvarlig".to_owned()),
            _ => problems.push("foreldreansvar.ansvar: not one of felles, mor, far, medmor, andre, ukjent".to_owned()),
        }
    }
    holders.sort();
    holders.dedup();
    holders
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `n`th synthetic number for `date` (some individual numbers have no control digit).
    fn nid(date: Date, n: u16) -> String {
        let base = if date.year() >= 2000 { 500 } else { 100 };
        (base + n * 20..base + n * 20 + 20)
            .find_map(|i| NationalId::synthetic(date, i))
            .expect("a synthetic number")
            .as_str()
            .to_owned()
    }

    fn child_line(child: &str, mor: &str, far: &str, ansvar: &str) -> String {
        format!(
            r#"{{"foedselsEllerDNummer":"{child}","fornavn":"Ada","etternavn":"Berg","foedselsdato":"2015-03-02","familierelasjon":[{{"relatertPerson":"{mor}","relatertPersonsRolle":"mor"}},{{"relatertPerson":"{far}","relatertPersonsRolle":"far"}}],"foreldreansvar":[{{"ansvar":"{ansvar}"}}]}}"#
        )
    }

    #[test]
    fn felles_gives_both_parents_and_mor_only_the_mother() {
        let d = time::macros::date!(2015 - 03 - 02);
        let (c, m, f) =
            (nid(d, 1), nid(time::macros::date!(1985 - 01 - 01), 2), nid(time::macros::date!(1984 - 01 - 01), 3));
        let both = parse(child_line(&c, &m, &f, "felles").as_bytes(), true);
        assert!(both.errors.is_empty(), "{:?}", both.errors);
        assert!(both.persons[0].links.iter().all(|l| l.responsible));
        let mor = parse(child_line(&c, &m, &f, "mor").as_bytes(), true);
        let links = &mor.persons[0].links;
        assert_eq!(links.iter().filter(|l| l.responsible).map(|l| &l.national_id).collect::<Vec<_>>(), vec![&m]);
        assert!(links.iter().any(|l| l.national_id == f && !l.responsible), "the father stays a parent without it");
    }

    #[test]
    fn problems_name_the_line_and_never_the_number() {
        let d = time::macros::date!(2015 - 03 - 02);
        let good = nid(d, 1);
        let mut bad = good.clone();
        bad.replace_range(10..11, if good.ends_with('0') { "1" } else { "0" });
        let input = format!(
            "{}\n\n{{\"foedselsEllerDNummer\":\"{bad}\",\"fornavn\":\"A\",\"etternavn\":\"B\",\"foedselsdato\":\"2015-02-30\"}}\n{{oops\n{}\n",
            child_line(&good, &nid(d, 2), &nid(d, 3), "felles"),
            child_line(&good, &nid(d, 2), &nid(d, 3), "felles"),
        );
        let parsed = parse(input.as_bytes(), true);
        let lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 3, 4, 5], "{:?}", parsed.errors);
        for e in &parsed.errors {
            assert!(!e.to_string().contains(&bad) && !e.to_string().contains(&good), "{e}");
        }
        assert_eq!(parsed.persons.len(), 1);
    }

    #[test]
    fn a_strictly_confidential_address_is_never_kept() {
        let d = time::macros::date!(2015 - 03 - 02);
        let line = format!(
            r#"{{"foedselsEllerDNummer":"{}","fornavn":"A","etternavn":"B","foedselsdato":"2015-03-02","adressebeskyttelse":"strengtFortrolig","bostedsadresse":{{"adressenavn":"Skjult vei 1","postnummer":"0150","poststed":"OSLO"}}}}"#,
            nid(d, 4)
        );
        let parsed = parse(line.as_bytes(), true);
        assert_eq!(parsed.persons[0].protection, Protection::StrictlyConfidential);
        assert_eq!(parsed.persons[0].address, None);
        assert!(!parsed.persons[0].has_responsibility);
    }

    #[test]
    fn the_documented_example_reads_without_problems() {
        let parsed = parse(include_bytes!("../../docs/folkeregister-example.jsonl"), true);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.persons.len(), 4);
        assert_eq!(parsed.persons[1].family_name, "Moe Haugen");
        assert!(parsed.persons[2].links.iter().all(|l| l.responsible));
        assert_eq!(parsed.persons[3].links.iter().filter(|l| l.responsible).count(), 1);
    }

    #[test]
    fn synthetic_numbers_only_where_the_municipality_takes_them() {
        let d = time::macros::date!(2015 - 03 - 02);
        let line = format!(
            r#"{{"foedselsEllerDNummer":"{}","fornavn":"A","etternavn":"B","foedselsdato":"2015-03-02"}}"#,
            nid(d, 5)
        );
        assert!(parse(line.as_bytes(), true).errors.is_empty());
        assert_eq!(parse(line.as_bytes(), false).errors.len(), 1);
    }
}
