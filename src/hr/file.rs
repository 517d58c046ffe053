//! The HR import file: reading it and checking every line on its own and against the
//! other lines. Nothing here touches the database; `import` adds the checks that need it
//! (workplaces, resource numbers already in Tavle).
//!
//! The format is documented in README.md ("HR import file format") and shown in
//! `docs/hr-import-example.csv`: a header row naming the columns (in any order, extra
//! columns ignored), `;` or `,` as the separator, UTF-8 with or without a BOM.
//!
//! Messages never contain a full national id: a number that does not parse is not
//! repeated at all ([`NationalIdError`](crate::domain::national_id::NationalIdError)
//! never does), and one that does is shown masked.

use std::collections::HashMap;
use std::fmt;

use time::Date;

use super::fields::{leave, name, org_number, parse_date, position_code, resource_number, Percentage};
use crate::domain::national_id::NationalId;

/// The columns every file must have, as written in the header row.
pub const COLUMNS: [&str; 10] =
    [RESOURCE_NUMBER, NATIONAL_ID, GIVEN_NAME, FAMILY_NAME, WORKPLACE, POSITION_CODE, PERCENTAGE, FROM, TO, LEAVE];

const RESOURCE_NUMBER: &str = "resource_number";
const NATIONAL_ID: &str = "national_id";
const GIVEN_NAME: &str = "given_name";
const FAMILY_NAME: &str = "family_name";
const WORKPLACE: &str = "workplace_org_number";
const POSITION_CODE: &str = "position_code";
const PERCENTAGE: &str = "position_percentage";
const FROM: &str = "from";
const TO: &str = "to";
const LEAVE: &str = "leave";

/// One problem with one line of the file. `Display` gives `line 7: national id: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line number in the file (the header is line 1).
    pub line: u64,
    pub message: String,
}

impl LineError {
    pub(crate) fn new(line: u64, message: impl Into<String>) -> Self {
        Self { line, message: message.into() }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// One employment as the HR system gives it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrLine {
    /// Where in the file it was (for messages).
    pub line: u64,
    /// The HR system's employee number (ressursnummer).
    pub resource_number: String,
    pub national_id: NationalId,
    pub given_name: String,
    pub family_name: String,
    /// Organisation number of the school or municipal unit (tjenestested), 9 digits.
    pub workplace: String,
    /// Stillingskode, 4 digits.
    pub position_code: String,
    pub percentage: Percentage,
    /// First day of the employment.
    pub from: Date,
    /// The first day *after* the employment (the file's `to` is the last day; Tavle
    /// stores ends exclusive, as everywhere in the schema). None while open-ended.
    pub until: Option<Date>,
    pub on_leave: bool,
}

impl HrLine {
    /// What identifies an employment: the same person, workplace, position code and
    /// start date are the same employment, whatever else changed.
    #[must_use]
    pub fn key(&self) -> (&str, &str, &str, Date) {
        (&self.resource_number, &self.workplace, &self.position_code, self.from)
    }
}

/// The lines that passed every check of their own, and every problem found.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub lines: Vec<HrLine>,
    pub errors: Vec<LineError>,
}

/// The line (from 1, as an editor shows it) where the record at byte `offset` starts.
/// The csv reader's own line count goes wrong with CRLF line ends, and its offset
/// points before any blank lines it skipped, so step over those and count here.
fn line_at(input: &[u8], offset: u64) -> u64 {
    let mut start = usize::try_from(offset).unwrap_or(usize::MAX).min(input.len());
    while start < input.len() && matches!(input[start], b'\r' | b'\n') {
        start += 1;
    }
    1 + input[..start].iter().filter(|&&b| b == b'\n').count() as u64
}

/// Read and check the whole file. Never stops at the first problem: every bad line is
/// reported, each problem with its line number. `synthetic_allowed`: the municipality
/// takes synthetic national ids (a test or demo municipality; see
/// [`NationalId::admissible`]).
#[must_use]
pub fn parse(input: &[u8], synthetic_allowed: bool) -> ParsedFile {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut parsed = ParsedFile::default();
    let mut reader =
        csv::ReaderBuilder::new().delimiter(separator(input)).has_headers(false).flexible(true).from_reader(input);
    let mut records = reader.byte_records();
    let columns = match records.next() {
        None => {
            parsed
                .errors
                .push(LineError::new(1, format!("the file is empty; expected a header row: {}", COLUMNS.join(";"))));
            return parsed;
        }
        Some(Err(e)) => {
            parsed.errors.push(LineError::new(1, format!("header: cannot be read ({})", csv_reason(&e))));
            return parsed;
        }
        Some(Ok(header)) => match header_columns(&header) {
            Ok(columns) => columns,
            Err(errors) => {
                parsed.errors = errors;
                return parsed;
            }
        },
    };
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // The reader cannot go on reliably after a malformed record.
                let line = e.position().map_or(0, |p| line_at(input, p.byte()));
                parsed.errors.push(LineError::new(line, format!("cannot be read ({})", csv_reason(&e))));
                break;
            }
        };
        let line = record.position().map_or(0, |p| line_at(input, p.byte()));
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue; // blank lines and lines of separators only, as spreadsheets leave them
        }
        match parse_line(line, &record, &columns, synthetic_allowed) {
            Ok(l) => parsed.lines.push(l),
            Err(messages) => parsed.errors.extend(messages.into_iter().map(|m| LineError::new(line, m))),
        }
    }
    cross_check(&mut parsed);
    parsed.errors.sort_by_key(|e| e.line);
    parsed
}

/// `;` when the header row has one (the usual Norwegian export), `,` otherwise.
fn separator(input: &[u8]) -> u8 {
    let header = input.split(|&b| b == b'\n').next().unwrap_or_default();
    if header.contains(&b';') {
        b';'
    } else {
        b','
    }
}

/// A csv error without the record's contents.
fn csv_reason(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Io(_) => "read error",
        csv::ErrorKind::Utf8 { .. } => "not UTF-8",
        _ => "malformed CSV; check the quotes",
    }
}

/// Where each of [`COLUMNS`] is in a record, and how many columns the header has.
struct Columns {
    index: [usize; COLUMNS.len()],
    header_len: usize,
}

fn header_columns(header: &csv::ByteRecord) -> Result<Columns, Vec<LineError>> {
    let mut found: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    let mut errors = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(raw) else {
            errors.push(LineError::new(1, "header: not UTF-8 (save the file as UTF-8)"));
            continue;
        };
        let name = name.trim().to_lowercase();
        // Other columns are the HR system's business; only ours are read.
        if let Some(known) = COLUMNS.iter().position(|c| *c == name) {
            if found[known].replace(index).is_some() {
                errors.push(LineError::new(1, format!("header: column {} appears twice", COLUMNS[known])));
            }
        }
    }
    let mut index = [0; COLUMNS.len()];
    for ((slot, found), name) in index.iter_mut().zip(found).zip(COLUMNS) {
        match found {
            Some(i) => *slot = i,
            None => errors.push(LineError::new(1, format!("header: missing column {name}"))),
        }
    }
    if errors.is_empty() {
        Ok(Columns { index, header_len: header.len() })
    } else {
        Err(errors)
    }
}

/// One line on its own: every problem, or the line.
fn parse_line(
    line: u64,
    record: &csv::ByteRecord,
    columns: &Columns,
    synthetic_allowed: bool,
) -> Result<HrLine, Vec<String>> {
    let extra = record.iter().skip(columns.header_len).filter(|f| !f.trim_ascii().is_empty()).count();
    if extra > 0 {
        return Err(vec![format!(
            "{} fields, but the header has {} (a decimal comma in a comma-separated file must be quoted)",
            record.len(),
            columns.header_len
        )]);
    }
    let mut missing: Vec<(usize, &str)> =
        columns.index.iter().zip(COLUMNS).filter(|(i, _)| **i >= record.len()).map(|(i, c)| (*i, c)).collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        let noun = if missing.len() == 1 { "column" } else { "columns" };
        let names: Vec<&str> = missing.into_iter().map(|(_, c)| c).collect();
        return Err(vec![format!("missing {noun} {}", names.join(", "))]);
    }
    let mut fields = [""; COLUMNS.len()];
    for (field, &i) in fields.iter_mut().zip(&columns.index) {
        let Ok(text) = std::str::from_utf8(record.get(i).unwrap_or_default()) else {
            return Err(vec!["not UTF-8 (save the file as UTF-8)".to_owned()]);
        };
        *field = text.trim();
    }
    let [resource_text, nid_text, given_text, family_text, workplace_text, code_text, pct_text, from_text, to_text, leave_text] =
        fields;

    let mut problems = Vec::new();
    let mut check = Checks(&mut problems);
    let resource_number = check.ok(resource_number(resource_text));
    let national_id = check.ok(NationalId::parse(nid_text).map_err(|e| format!("national id: {e}")).and_then(|id| {
        id.admissible(synthetic_allowed).map_err(|e| format!("national id {}: {e}", id.masked()))?;
        Ok(id)
    }));
    let given_name = check.ok(name("given name", given_text));
    let family_name = check.ok(name("family name", family_text));
    let workplace = check.ok(org_number(workplace_text));
    let position_code = check.ok(position_code(code_text));
    let percentage = check.ok(Percentage::parse(pct_text).map_err(|m| format!("position percentage: {m}")));
    let from = check.ok(match from_text {
        "" => Err("from: is empty (the first day of the employment)".to_owned()),
        text => parse_date(text).map_err(|m| format!("from: {m}")),
    });
    let to = check.ok(match to_text {
        "" => Ok(None),
        text => parse_date(text).map(Some).map_err(|m| format!("to: {m}")),
    });
    let until = match (from, to) {
        (Some(from), Some(Some(to))) if to < from => check.ok(Err("to: is before from".to_owned())),
        (_, Some(Some(to))) => {
            check.ok(to.next_day().map(Some).ok_or_else(|| "to: is too far in the future".to_owned()))
        }
        _ => Some(None),
    };
    let on_leave = check.ok(leave(leave_text));
    match (
        resource_number,
        national_id,
        given_name,
        family_name,
        workplace,
        position_code,
        percentage,
        from,
        until,
        on_leave,
    ) {
        (
            Some(resource_number),
            Some(national_id),
            Some(given_name),
            Some(family_name),
            Some(workplace),
            Some(position_code),
            Some(percentage),
            Some(from),
            Some(until),
            Some(on_leave),
        ) if problems.is_empty() => Ok(HrLine {
            line,
            resource_number,
            national_id,
            given_name,
            family_name,
            workplace,
            position_code,
            percentage,
            from,
            until,
            on_leave,
        }),
        _ => Err(problems),
    }
}

/// Collects the problems of a line while each field is parsed.
struct Checks<'a>(&'a mut Vec<String>);

impl Checks<'_> {
    fn ok<T>(&mut self, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.0.push(m)).ok()
    }
}

/// Checks between lines: one employment once, one resource number per person and
/// one person per resource number, the same names for the same person.
fn cross_check(parsed: &mut ParsedFile) {
    let mut by_key: HashMap<(&str, &str, &str, Date), u64> = HashMap::new();
    let mut by_resource: HashMap<&str, &HrLine> = HashMap::new();
    let mut by_person: HashMap<&str, &HrLine> = HashMap::new();
    for l in &parsed.lines {
        if let Some(first) = by_key.get(&l.key()) {
            parsed.errors.push(LineError::new(
                l.line,
                format!("duplicate of line {first} (same resource number, workplace, position code and from)"),
            ));
        } else {
            by_key.insert(l.key(), l.line);
        }
        match by_resource.get(l.resource_number.as_str()) {
            Some(first) if first.national_id != l.national_id => parsed.errors.push(LineError::new(
                l.line,
                format!("resource number {}: another national id than on line {}", l.resource_number, first.line),
            )),
            Some(_) => {}
            None => {
                by_resource.insert(&l.resource_number, l);
            }
        }
        match by_person.get(l.national_id.as_str()) {
            Some(first) if first.resource_number != l.resource_number => parsed.errors.push(LineError::new(
                l.line,
                format!(
                    "national id {}: another resource number than on line {} (a person has one)",
                    l.national_id.masked(),
                    first.line
                ),
            )),
            Some(first) if (&first.given_name, &first.family_name) != (&l.given_name, &l.family_name) => {
                parsed.errors.push(LineError::new(
                    l.line,
                    format!("national id {}: other names than on line {}", l.national_id.masked(), first.line),
                ));
            }
            Some(_) => {}
            None => {
                by_person.insert(l.national_id.as_str(), l);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    const HEADER: &str =
        "resource_number;national_id;given_name;family_name;workplace_org_number;position_code;position_percentage;from;to;leave\n";

    fn nid(day: u8) -> String {
        let born = Date::from_calendar_date(1985, time::Month::March, day).unwrap();
        (100..200).find_map(|i| NationalId::synthetic(born, i)).unwrap().as_str().to_owned()
    }

    /// The number with its last digit changed: a single changed digit never passes.
    fn wrong_control_digit(id: &str) -> String {
        let last = id.as_bytes()[10] - b'0';
        format!("{}{}", &id[..10], (last + 1) % 10)
    }

    fn file(lines: &[String]) -> Vec<u8> {
        let mut s = HEADER.to_owned();
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s.into_bytes()
    }

    fn good(resource: &str, day: u8) -> String {
        format!("{resource};{};Kari;Nordmann;912345678;7956;80;2020-08-01;;nei", nid(day))
    }

    fn messages(parsed: &ParsedFile) -> Vec<String> {
        parsed.errors.iter().map(ToString::to_string).collect()
    }

    /// As for a demo municipality: these tests' numbers are synthetic.
    fn parse(input: &[u8]) -> ParsedFile {
        super::parse(input, true)
    }

    #[test]
    fn h_numbers_are_refused_and_synthetic_ones_outside_test_municipalities() {
        let h = "15451012344"; // an H-number (month + 40)
        let lines = [good("100001", 1), good("100002", 2).replace(&nid(2), h)];
        assert_eq!(
            messages(&parse(&file(&lines))),
            vec![
                "line 3: national id 154510 *****: an H-number is a health service's auxiliary number, \
                  not a person's number in the population register"
            ]
        );
        let production = super::parse(&file(&lines[..1]), false);
        assert_eq!(
            messages(&production),
            vec![format!(
                "line 2: national id {} *****: a synthetic number (Skatteetaten's test population); \
                 this municipality takes real numbers only",
                &nid(1)[..6]
            )]
        );
        assert!(production.lines.is_empty());
    }

    #[test]
    fn line_numbers_count_crlf_and_blank_lines_as_the_editor_shows_them() {
        // Header on line 1, a blank line 2, a good line 3, a bad line 4 (CRLF endings).
        let text = format!(
            "{}\r\n\r\n{}\r\n{}\r\n",
            HEADER.trim_end(),
            good("100001", 1),
            good("100002", 2).replace(";80;", ";800;")
        );
        let parsed = parse(text.as_bytes());
        assert_eq!(parsed.lines.first().map(|l| l.line), Some(3), "{:?}", messages(&parsed));
        let errors = messages(&parsed);
        assert!(errors.len() == 1 && errors[0].starts_with("line 4:"), "{errors:?}");
    }

    #[test]
    fn a_good_line() {
        let parsed = parse(&file(&[good("100001", 1)]));
        assert_eq!(messages(&parsed), Vec::<String>::new());
        let l = &parsed.lines[0];
        assert_eq!(l.line, 2);
        assert_eq!(l.resource_number, "100001");
        assert_eq!(l.national_id.as_str(), nid(1));
        assert_eq!((l.given_name.as_str(), l.family_name.as_str()), ("Kari", "Nordmann"));
        assert_eq!(l.workplace, "912345678");
        assert_eq!(l.position_code, "7956");
        assert_eq!(l.percentage.hundredths(), 8000);
        assert_eq!(l.from, date!(2020 - 08 - 01));
        assert_eq!(l.until, None);
        assert!(!l.on_leave);
    }

    #[test]
    fn bom_norwegian_dates_decimal_comma_and_any_column_order() {
        let text = format!(
            "\u{FEFF}Leave;TO;from;position_percentage;position_code;workplace_org_number;family_name;given_name;\
             national_id;resource_number;extra\r\nja;31.7.2027;01.08.2024;62,5;7954;912 345 678;Ås;Åse;{};A-17;x\r\n",
            nid(2)
        );
        let parsed = parse(text.as_bytes());
        assert_eq!(messages(&parsed), Vec::<String>::new());
        let l = &parsed.lines[0];
        assert!(l.on_leave);
        // The file's `to` is the last day; stored exclusive.
        assert_eq!(l.until, Some(date!(2027 - 08 - 01)));
        assert_eq!(l.from, date!(2024 - 08 - 01));
        assert_eq!(l.percentage.to_string(), "62.5");
        assert_eq!(l.workplace, "912345678");
        assert_eq!(l.family_name, "Ås");
    }

    #[test]
    fn comma_separated_with_a_quoted_decimal_comma() {
        let text = format!(
            "{}{},{},Per,Hansen,912345678,7956,\"50,5\",2020-08-01,2021-06-30,false\n",
            HEADER.replace(';', ","),
            "7",
            nid(3)
        );
        let parsed = parse(text.as_bytes());
        assert_eq!(messages(&parsed), Vec::<String>::new());
        assert_eq!(parsed.lines[0].percentage.hundredths(), 5050);
        // Unquoted, the comma splits the field and the line is too long.
        let text = text.replace("\"50,5\"", "50,5");
        let parsed = parse(text.as_bytes());
        assert_eq!(parsed.errors.len(), 1);
        assert!(parsed.errors[0].message.contains("must be quoted"), "{:?}", parsed.errors);
    }

    #[test]
    fn every_bad_line_with_its_number_and_reason() {
        let lines = [
            good("100001", 1),
            format!("100002;{};Kari;Nordmann;912345678;7956;80;2020-08-01;;nei", wrong_control_digit(&nid(2))),
            format!("100003;{};Kari;Nordmann;912345678;795;80;2020-08-01;;nei", nid(3)),
            format!("100004;{};Kari;Nordmann;912345678;7956;0;2020-08-01;;nei", nid(4)),
            format!("100005;{};Kari;Nordmann;912345678;7956;100,01;31.02.2020;;nei", nid(5)),
            format!("100006;{};Kari;Nordmann;912345678;7956;80;2020-08-01;2020-07-31;kanskje", nid(6)),
            format!("100007;{};Kari;Nordmann;91234567", nid(7)),
            format!("100008;{};;Nordmann;9123456789;7956;80;2020-08-01;;nei", nid(8)),
        ];
        let parsed = parse(&file(&lines));
        assert_eq!(parsed.lines.len(), 1);
        let got = messages(&parsed);
        let expected = [
            "line 3: national id: the control digits of the national identity number are wrong",
            "line 4: position code: must be 4 digits",
            "line 5: position percentage: must be more than 0 and at most 100",
            "line 6: position percentage: must be more than 0 and at most 100",
            "line 6: from: no such day in the calendar",
            "line 7: to: is before from",
            "line 7: leave: write yes or no (or ja/nei, true/false, 1/0)",
            "line 8: missing columns position_code, position_percentage, from, to, leave",
            "line 9: given name: is empty",
            "line 9: workplace: an organisation number has 9 digits",
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn national_ids_are_never_printed_in_full() {
        let id = nid(9);
        let lines = [
            good("100001", 9),
            format!("100002;{id};Kari;Nordmann;912345678;7956;80;2021-08-01;;nei"),
            format!("100001;{id};Kari;Nordmann;912345678;7956;80;2020-08-01;;nei"),
            format!("100001;{id};Kari;Olsen;912345678;7957;80;2020-08-01;;nei"),
            format!("100009;{};Kari;Nordmann;912345678;7956;80;2020-08-01;;nei", &id[..10]),
        ];
        let parsed = parse(&file(&lines));
        let all = messages(&parsed).join("\n");
        assert!(!all.contains(&id), "{all}");
        assert!(!all.contains(&id[..10]), "{all}");
        assert!(all.contains(&format!("{} *****", &id[..6])), "{all}");
    }

    #[test]
    fn lines_are_checked_against_each_other() {
        let (a, b) = (nid(10), nid(11));
        let lines = [
            format!("R1;{a};Kari;Nordmann;912345678;7956;80;2020-08-01;;nei"),
            // The same employment again, even with another percentage.
            format!("R1;{a};Kari;Nordmann;912345678;7956;60;01.08.2020;;nei"),
            // Another employment of the same person: fine.
            format!("R1;{a};Kari;Nordmann;987654321;7956;20;2020-08-01;;nei"),
            // The resource number with someone else's national id.
            format!("R1;{b};Ola;Nordmann;912345678;7957;80;2020-08-01;;nei"),
            // The same person under another resource number.
            format!("R2;{a};Kari;Nordmann;912345678;7954;80;2020-08-01;;nei"),
            // The same person with other names.
            format!("R1;{a};Kari;Hansen;912345678;7954;80;2020-08-01;;nei"),
        ];
        let parsed = parse(&file(&lines));
        let masked = format!("{} *****", &a[..6]);
        assert_eq!(
            messages(&parsed),
            [
                "line 3: duplicate of line 2 (same resource number, workplace, position code and from)".to_owned(),
                "line 5: resource number R1: another national id than on line 2".to_owned(),
                format!("line 6: national id {masked}: another resource number than on line 2 (a person has one)"),
                format!("line 7: national id {masked}: other names than on line 2"),
            ]
        );
    }

    #[test]
    fn header_problems() {
        let parsed = parse(b"");
        assert!(parsed.errors[0].to_string().starts_with("line 1: the file is empty"), "{:?}", parsed.errors);
        let parsed = parse(b"resource_number;national_id;given_name;family_name;from;from\n1;2\n");
        let got = messages(&parsed);
        assert!(got.contains(&"line 1: header: column from appears twice".to_owned()), "{got:?}");
        for missing in ["workplace_org_number", "position_code", "position_percentage", "to", "leave"] {
            assert!(got.contains(&format!("line 1: header: missing column {missing}")), "{got:?}");
        }
        assert!(parsed.lines.is_empty());
    }

    #[test]
    fn blank_lines_and_trailing_separators_are_ignored_and_numbering_is_kept() {
        let text = format!("{HEADER}\n;;;;;;;;;\n{};\n{}\n", good("1", 12), good("2", 13).replace("7956", "79x6"));
        let parsed = parse(text.as_bytes());
        assert_eq!(parsed.lines.len(), 1);
        assert_eq!(parsed.lines[0].line, 4);
        assert_eq!(messages(&parsed), ["line 5: position code: must be 4 digits"]);
    }

    #[test]
    fn a_line_that_is_not_utf8() {
        let mut bytes = file(&[good("1", 14)]);
        bytes.extend_from_slice(b"2;x;K\xE5re;Nordmann;912345678;7956;80;2020-08-01;;nei\n");
        let parsed = parse(&bytes);
        assert_eq!(messages(&parsed), ["line 3: not UTF-8 (save the file as UTF-8)"]);
    }

    #[test]
    fn the_documented_example_parses() {
        let parsed = parse(include_bytes!("../../docs/hr-import-example.csv"));
        assert_eq!(messages(&parsed), Vec::<String>::new());
        assert!(parsed.lines.len() >= 5);
        assert!(parsed.lines.iter().all(|l| l.national_id.is_synthetic()));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_csv_like_input(body in "[0-9a-zA-Z;,.\"\r\n -]{0,300}") {
            let parsed = parse(format!("{HEADER}{body}").as_bytes());
            prop_assert!(parsed.errors.iter().all(|e| e.line >= 1));
        }
    }
}
