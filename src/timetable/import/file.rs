//! Reading a timetable file on its own, with no database: the header, then each line
//! as one CSV record whose fields are parsed by [`crate::timetable::fields`]. Every bad line
//! is reported with its number; the good ones go on to be checked against the school.

use time::{Date, Duration, Time};

use crate::timetable::fields::{self, msg, Msg};
use crate::web::i18n::{self, Lang};

/// The columns every file must have, as written in the header row.
pub const COLUMNS: [&str; 9] = ["group", "subject", "teacher", "room", "weekday", "start", "end", "from", "to"];

/// One problem with one line. `field` names the column (a translation key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: Option<&'static str>,
    pub msg: Msg,
}

impl LineError {
    pub(super) fn new(line: u64, field: Option<&'static str>, msg: Msg) -> Self {
        Self { line, field, msg }
    }

    /// `Line 7: start: write a time as HH:MM, e.g. 08:30`, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let message = match self.field {
            Some(f) => format!("{}: {}", i18n::t(lang, f), self.msg.text(lang)),
            None => self.msg.text(lang),
        };
        i18n::tf(lang, "timetable.import.line", &[("line", &self.line.to_string()), ("message", &message)])
    }
}

pub(super) fn column_key(c: &str) -> &'static str {
    match c {
        "group" => "timetable.column.group",
        "subject" => "timetable.column.subject",
        "teacher" => "timetable.column.teacher",
        "room" => "timetable.column.room",
        "weekday" => "timetable.column.weekday",
        "start" => "timetable.column.start",
        "end" => "timetable.column.end",
        "from" => "timetable.column.from",
        _ => "timetable.column.to",
    }
}

/// A line that passed the checks of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub line: u64,
    pub group: String,
    pub subject: Option<String>,
    pub teacher: Option<String>,
    pub room: Option<String>,
    pub weekday: i16,
    pub starts: Time,
    pub ends: Time,
    pub from: Date,
    /// The file's `to` is the last day; this is the day after (exclusive, as stored).
    pub until: Option<Date>,
}

#[derive(Debug, Default)]
pub struct ParsedFile {
    pub lines: Vec<Line>,
    pub errors: Vec<LineError>,
}

/// Read and check the file on its own (no database). Every bad line is reported.
///
/// The file is read line by line (a lesson never needs a line break inside a field),
/// each line as one CSV record, so that every message names the line a text editor
/// shows, whatever blank lines or line endings the file has.
pub fn parse(input: &[u8]) -> ParsedFile {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut parsed = ParsedFile::default();
    let mut lines = input.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let header_line = lines.next().unwrap_or_default();
    let separator = if header_line.contains(&b';') { b';' } else { b',' };
    let index = match record(header_line, separator) {
        None => {
            let m = msg("timetable.import.error.empty").with("columns", COLUMNS.join(";"));
            parsed.errors.push(LineError::new(1, None, m));
            return parsed;
        }
        Some(Err(key)) => {
            parsed.errors.push(LineError::new(1, None, msg(key)));
            return parsed;
        }
        Some(Ok(header)) => match header_index(&header) {
            Ok(i) => i,
            Err(errors) => {
                parsed.errors = errors;
                return parsed;
            }
        },
    };
    for (n, text) in (2u64..).zip(lines) {
        let record = match record(text, separator) {
            None => continue,
            Some(Err(key)) => {
                parsed.errors.push(LineError::new(n, None, msg(key)));
                continue;
            }
            Some(Ok(r)) => r,
        };
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue; // blank lines and lines of separators only
        }
        match parse_line(n, &record, &index) {
            Ok(l) => parsed.lines.push(l),
            Err(errors) => parsed.errors.extend(errors),
        }
    }
    parsed
}

/// One line as a CSV record; None for an empty line, else the record or why not.
fn record(line: &[u8], separator: u8) -> Option<Result<csv::ByteRecord, &'static str>> {
    if line.trim_ascii().is_empty() {
        return None;
    }
    let mut reader = csv::ReaderBuilder::new().delimiter(separator).has_headers(false).flexible(true).from_reader(line);
    let mut records = reader.byte_records();
    match (records.next(), records.next()) {
        (Some(Ok(r)), None) => Some(Ok(r)),
        (Some(Err(e)), _) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
            Some(Err("timetable.import.error.not_utf8"))
        }
        _ => Some(Err("timetable.import.error.malformed")),
    }
}

fn header_index(header: &csv::ByteRecord) -> Result<[usize; 9], Vec<LineError>> {
    let mut found: [Option<usize>; 9] = [None; 9];
    let mut errors = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(raw) else {
            errors.push(LineError::new(1, None, msg("timetable.import.error.not_utf8")));
            continue;
        };
        let name = name.trim().to_lowercase();
        if let Some(k) = COLUMNS.iter().position(|c| *c == name) {
            if found[k].replace(i).is_some() {
                errors.push(LineError::new(
                    1,
                    None,
                    msg("timetable.import.error.duplicate_column").with("column", COLUMNS[k]),
                ));
            }
        }
    }
    let mut index = [0; 9];
    for ((slot, f), name) in index.iter_mut().zip(found).zip(COLUMNS) {
        match f {
            Some(i) => *slot = i,
            None => {
                errors.push(LineError::new(1, None, msg("timetable.import.error.missing_column").with("column", name)))
            }
        }
    }
    if errors.is_empty() {
        Ok(index)
    } else {
        Err(errors)
    }
}

fn parse_line(line: u64, record: &csv::ByteRecord, index: &[usize; 9]) -> Result<Line, Vec<LineError>> {
    let mut f = [""; 9];
    for (slot, &i) in f.iter_mut().zip(index) {
        let Ok(text) = std::str::from_utf8(record.get(i).unwrap_or_default()) else {
            return Err(vec![LineError::new(line, None, msg("timetable.import.error.not_utf8"))]);
        };
        *slot = text.trim();
    }
    let [group, subject, teacher, room, weekday, start, end, from, to] = f;
    let mut errors = Vec::new();
    let mut c = Checks { line, errors: &mut errors };
    let group =
        c.ok("group", if group.is_empty() { Err(msg("timetable.error.required")) } else { Ok(group.to_owned()) });
    let room = c.ok("room", fields::room(room));
    let weekday = c.ok("weekday", fields::weekday(weekday));
    let starts = c.ok("start", fields::time_of_day(start));
    let ends = c.ok("end", fields::time_of_day(end));
    let ends = match (starts, ends) {
        (Some(s), Some(e)) if e <= s => c.ok("end", Err(msg("timetable.error.ends_before"))),
        (_, e) => e,
    };
    let from = c.ok("from", fields::date(from));
    let last = if to.is_empty() { Some(None) } else { c.ok("to", fields::date(to).map(Some)) };
    let last = match (from, last) {
        (Some(f), Some(Some(l))) if l < f => c.ok("to", Err(msg("timetable.error.to_before_from"))),
        (_, l) => l,
    };
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    match (group, room, weekday, starts, ends, from, last) {
        (Some(group), Some(room), Some(weekday), Some(starts), Some(ends), Some(from), Some(last))
            if errors.is_empty() =>
        {
            Ok(Line {
                line,
                group,
                subject: non_empty(subject).map(|s| s.to_uppercase()),
                teacher: non_empty(teacher),
                room,
                weekday,
                starts,
                ends,
                from,
                until: last.map(|d| d + Duration::days(1)),
            })
        }
        _ => Err(errors),
    }
}

/// Collects a line's problems while each field is parsed.
struct Checks<'a> {
    line: u64,
    errors: &'a mut Vec<LineError>,
}

impl Checks<'_> {
    fn ok<T>(&mut self, column: &str, r: Result<T, Msg>) -> Option<T> {
        r.map_err(|m| self.errors.push(LineError::new(self.line, Some(column_key(column)), m))).ok()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, time};

    use super::*;

    const HEADER: &str = "group;subject;teacher;room;weekday;start;end;from;to\n";

    fn messages(p: &ParsedFile) -> Vec<String> {
        p.errors.iter().map(|e| e.text(Lang::En)).collect()
    }

    #[test]
    fn a_good_file_with_bom_commas_and_any_column_order() {
        let text = "\u{FEFF}To,From,End,Start,Weekday,Room,Teacher,Subject,Group,extra\r\n\
                    18.6.2027,17.08.2026,09:15,8:30,mandag,Rom 4A,T-1,nor,4A NOR,x\r\n,2026-08-17,10:05,09:20,2,,,,4A MAT,\r\n";
        let p = parse(text.as_bytes());
        assert_eq!(messages(&p), Vec::<String>::new());
        assert_eq!(p.lines.len(), 2);
        let l = &p.lines[0];
        assert_eq!(
            (l.line, l.group.as_str(), l.subject.as_deref(), l.teacher.as_deref()),
            (2, "4A NOR", Some("NOR"), Some("T-1"))
        );
        assert_eq!((l.weekday, l.starts, l.ends), (1, time!(08:30), time!(09:15)));
        assert_eq!((l.from, l.until), (date!(2026 - 08 - 17), Some(date!(2027 - 06 - 19))));
        assert_eq!((p.lines[1].room.as_ref(), p.lines[1].until), (None, None));
    }

    #[test]
    fn every_bad_line_with_its_number_and_reason() {
        let text = format!(
            "{HEADER}4A NOR;NOR;;;1;08:30;09:15;2026-08-17;\n\
             ;NOR;;;9;8;09:15;2026-08-17;\n\
             4A NOR;NOR;;;1;10:00;09:00;31.02.2027;2026-01-01\n\
             \n\
             4A NOR;NOR;;{};1;10:00;11:00;2026-09-01;2026-08-31\n",
            "x".repeat(41)
        );
        let p = parse(text.as_bytes());
        assert_eq!(p.lines.len(), 1);
        assert_eq!(
            messages(&p),
            [
                "Line 3: group: Required",
                "Line 3: weekday: Write a weekday: 1 to 7, or its name (mandag, Monday …)",
                "Line 3: start: Write a time as HH:MM, e.g. 08:30",
                "Line 4: end: The end must be after the start",
                "Line 4: from: Write a date as YYYY-MM-DD or DD.MM.YYYY",
                "Line 6: room: At most 40 characters",
                "Line 6: to: The last day cannot be before the first",
            ]
        );
    }

    #[test]
    fn header_problems() {
        assert!(messages(&parse(b""))[0].starts_with("Line 1: The file is empty"));
        let got = messages(&parse(b"group;subject;group\n"));
        assert!(got.contains(&"Line 1: The column group appears twice".to_owned()), "{got:?}");
        assert!(got.contains(&"Line 1: The header lacks the column weekday".to_owned()), "{got:?}");
    }

    #[test]
    fn the_documented_example_parses() {
        let p = parse(include_bytes!("../../../docs/timetable-import-example.csv"));
        assert_eq!(messages(&p), Vec::<String>::new());
        assert!(p.lines.len() >= 5);
    }
}
