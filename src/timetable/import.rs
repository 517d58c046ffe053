//! The import of a school's timetable from a CSV file (README.md, "Timetable import
//! file format"), run from the import page and by `tavle import timetable`.
//!
//! Every line is checked first, on its own (`parse`) and against the database and the
//! other lines (`run`): one problem and nothing is applied, and every problem is
//! reported with its line number, in the reader's language. The file *replaces* the
//! school's timetable for one school year from its earliest `from` date on: lessons of
//! the school's groups that end before that date are history and stay; a lesson that
//! runs across it is ended there; the others are removed, unless a line of the file
//! describes exactly that lesson, in which case it is kept as it is. So importing the
//! same file twice changes nothing the second time.

use std::collections::{HashMap, HashSet};
use std::fmt;

use sqlx::{PgConnection, PgPool};
use time::{Date, Duration, Time};
use uuid::Uuid;

use super::fields::{self, hhmm, msg, Msg};
use super::queries::{self, LessonRow};
use crate::audit::{self, Action, Resource};
use crate::db;
use crate::policy::Purpose;
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
    fn new(line: u64, field: Option<&'static str>, msg: Msg) -> Self {
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

fn column_key(c: &str) -> &'static str {
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

/// What an import changed (or, in a dry run, would have changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub school: String,
    pub year: String,
    /// The date from which the file replaces the timetable.
    pub start: Option<Date>,
    pub dry_run: bool,
    pub lines: usize,
    pub created: usize,
    pub removed: usize,
    /// Lessons that ran across the start date, ended there.
    pub ended: usize,
    pub unchanged: usize,
    /// Teachers of lessons created, removed or ended (the audit event's subjects).
    pub teachers: Vec<Uuid>,
}

impl Report {
    #[must_use]
    pub fn changed(&self) -> bool {
        self.created + self.removed + self.ended > 0
    }

    /// The summary in `lang` (the import page).
    pub fn text(&self, lang: Lang) -> String {
        let n = |v: usize| v.to_string();
        let start = self.start.map(fields::day_month_year).unwrap_or_default();
        let key = match (self.dry_run, self.changed()) {
            (_, false) => "timetable.import.report.none",
            (true, true) => "timetable.import.report.dry_run",
            (false, true) => "timetable.import.report.done",
        };
        i18n::tf(
            lang,
            key,
            &[
                ("lines", &n(self.lines)),
                ("created", &n(self.created)),
                ("removed", &n(self.removed)),
                ("ended", &n(self.ended)),
                ("unchanged", &n(self.unchanged)),
                ("start", &start),
                ("year", &self.year),
            ],
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.school, self.text(Lang::En))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    #[error("no school with the organisation number {0:?} in this municipality")]
    UnknownSchool(String),
    /// Every problem, in line order. Nothing was written.
    #[error("nothing imported: {} problems", .0.len())]
    Invalid(Vec<LineError>),
    #[error("database error during the timetable import")]
    Database(#[from] sqlx::Error),
    #[error("the timetable import failed")]
    App(#[source] crate::error::AppError),
}

impl From<crate::error::AppError> for ImportError {
    fn from(e: crate::error::AppError) -> Self {
        match e {
            crate::error::AppError::Db(e) => ImportError::Database(e),
            other => ImportError::App(other),
        }
    }
}

type Key = (Uuid, Option<Uuid>, Option<Uuid>, Option<String>, i16, Time, Time, Date, Option<Date>);

fn key(l: &LessonRow) -> Key {
    (l.group_id, l.subject_id, l.teacher_id, l.room.clone(), l.weekday, l.starts, l.ends, l.valid_from, l.valid_to)
}

/// Do two lessons meet at the same time (same weekday, overlapping times and periods)?
fn overlap(a: &LessonRow, b: &LessonRow) -> bool {
    let far = Date::MAX;
    a.weekday == b.weekday
        && a.starts < b.ends
        && b.starts < a.ends
        && a.valid_from < b.valid_to.unwrap_or(far)
        && b.valid_from < a.valid_to.unwrap_or(far)
}

#[derive(sqlx::FromRow)]
struct Existing {
    #[sqlx(flatten)]
    lesson: LessonRow,
    group_name: String,
    subject_code: Option<String>,
}

/// Check `input` against the school and apply it, inside the caller's transaction
/// (bound to the school's municipality). The caller commits, or rolls back for a dry
/// run, and writes the audit event.
pub async fn run(
    conn: &mut PgConnection,
    tenant: Uuid,
    school: Uuid,
    input: &[u8],
    dry_run: bool,
) -> Result<Report, ImportError> {
    let parsed = parse(input);
    let mut errors = parsed.errors;
    let lines = parsed.lines;
    if lines.is_empty() && errors.is_empty() {
        errors.push(LineError::new(1, None, msg("timetable.import.error.no_lessons")));
    }
    let Some(first) = lines.iter().min_by_key(|l| (l.from, l.line)) else {
        return Err(ImportError::Invalid(errors));
    };
    let start = first.from;
    queries::lock_timetable(conn, tenant).await?;
    let school_name: String =
        sqlx::query_scalar("SELECT name FROM schools WHERE id = $1").bind(school).fetch_one(&mut *conn).await?;
    let year: Option<(Uuid, String, Date, Date)> =
        sqlx::query_as("SELECT id, name, starts, ends FROM school_years WHERE starts <= $1 AND ends >= $1")
            .bind(start)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((year_id, year_name, year_starts, year_ends)) = year else {
        errors.push(LineError::new(first.line, Some(column_key("from")), msg("timetable.import.error.no_year")));
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Invalid(errors));
    };
    let groups: HashMap<String, (Uuid, Option<Uuid>)> = sqlx::query_as::<_, (String, Uuid, Option<Uuid>)>(
        "SELECT name, id, subject_id FROM groups WHERE school_id = $1 AND school_year_id = $2",
    )
    .bind(school)
    .bind(year_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(n, id, s)| (n, (id, s)))
    .collect();
    let subjects: HashMap<String, Uuid> =
        sqlx::query_as("SELECT code, id FROM subjects").fetch_all(&mut *conn).await?.into_iter().collect();
    let staff: HashMap<String, Uuid> = sqlx::query_as("SELECT resource_number, person_id FROM staff")
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let employments: Vec<(Uuid, Date, Option<Date>)> =
        sqlx::query_as("SELECT staff_id, from_date, to_date FROM employments WHERE school_id = $1")
            .bind(school)
            .fetch_all(&mut *conn)
            .await?;

    // Each line against the school, its year, subjects and staff.
    let range = format!("{}–{}", fields::day_month_year(year_starts), fields::day_month_year(year_ends));
    let mut planned: Vec<(u64, LessonRow)> = Vec::new();
    for l in &lines {
        let mut err = |column: &str, m: Msg| errors.push(LineError::new(l.line, Some(column_key(column)), m));
        let group = groups.get(&l.group);
        if group.is_none() {
            err("group", msg("timetable.error.group_unknown").with("group", &l.group).with("year", &year_name));
        }
        let subject = match &l.subject {
            None => Some(group.and_then(|g| g.1)),
            Some(code) => match subjects.get(code) {
                Some(id) => Some(Some(*id)),
                None => {
                    err("subject", msg("timetable.error.subject_unknown").with("code", code));
                    None
                }
            },
        };
        let teacher = match &l.teacher {
            None => Some(None),
            Some(number) => match staff.get(number) {
                None => {
                    err("teacher", msg("timetable.error.teacher_unknown").with("number", number));
                    None
                }
                Some(id) => {
                    let employed = employments.iter().any(|(s, from, to)| {
                        s == id && *from < l.until.unwrap_or(Date::MAX) && to.is_none_or(|t| t > l.from)
                    });
                    if !employed {
                        err("teacher", msg("timetable.error.teacher_not_here"));
                    }
                    Some(Some(*id))
                }
            },
        };
        let outside = || msg("timetable.error.outside_year").with("year", &year_name).with("range", &range);
        if l.from < year_starts || l.from > year_ends {
            err("from", outside());
        }
        if l.until.is_some_and(|u| u > year_ends + Duration::days(1)) {
            err("to", outside());
        }
        if let (Some(g), Some(subject), Some(teacher)) = (group, subject, teacher) {
            planned.push((
                l.line,
                LessonRow {
                    id: Uuid::nil(),
                    group_id: g.0,
                    subject_id: subject,
                    teacher_id: teacher,
                    room: l.room.clone(),
                    weekday: l.weekday,
                    starts: l.starts,
                    ends: l.ends,
                    valid_from: l.from,
                    valid_to: l.until,
                },
            ));
        }
    }

    // The lines against each other: a group or a teacher in two places at once.
    for (i, (line, a)) in planned.iter().enumerate() {
        if let Some((first, b)) = planned[..i].iter().find(|(_, b)| {
            overlap(a, b) && (a.group_id == b.group_id || (a.teacher_id.is_some() && a.teacher_id == b.teacher_id))
        }) {
            let column = if a.group_id == b.group_id { "group" } else { "teacher" };
            errors.push(LineError::new(
                *line,
                Some(column_key(column)),
                msg("timetable.import.error.overlaps_line").with("line", first.to_string()),
            ));
        }
    }

    // What is there now: the school's lessons of the year, and other lessons of the
    // file's teachers (at other schools, or in other years).
    let scope: Vec<Uuid> = groups.values().map(|g| g.0).collect();
    let teachers: Vec<Uuid> =
        planned.iter().filter_map(|(_, l)| l.teacher_id).collect::<HashSet<_>>().into_iter().collect();
    let existing: Vec<Existing> = sqlx::query_as(
        "SELECT l.id, l.group_id, l.subject_id, l.teacher_id, l.room, l.weekday, l.starts, l.ends, l.valid_from, \
                l.valid_to, g.name AS group_name, s.code AS subject_code \
         FROM lessons l JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         LEFT JOIN subjects s ON s.tenant_id = l.tenant_id AND s.id = l.subject_id \
         WHERE l.group_id = ANY($1) OR l.teacher_id = ANY($2)",
    )
    .bind(&scope)
    .bind(&teachers)
    .fetch_all(&mut *conn)
    .await?;
    let in_scope: HashSet<Uuid> = scope.iter().copied().collect();
    for (line, a) in &planned {
        // Lessons of the school's year that stay overlap no line (they end by `start`);
        // the others are another school's or year's, taught by the same teacher.
        if let Some(b) = existing.iter().find(|b| {
            !in_scope.contains(&b.lesson.group_id)
                && a.teacher_id.is_some()
                && b.lesson.teacher_id == a.teacher_id
                && overlap(a, &b.lesson)
        }) {
            let label = format!("{} {}–{}", b.group_name, hhmm(b.lesson.starts), hhmm(b.lesson.ends));
            let label = match &b.subject_code {
                Some(c) if !b.group_name.contains(c.as_str()) => {
                    format!("{} {c} {}–{}", b.group_name, hhmm(b.lesson.starts), hhmm(b.lesson.ends))
                }
                _ => label,
            };
            errors.push(LineError::new(
                *line,
                Some(column_key("teacher")),
                msg("timetable.error.teacher_busy").with("lesson", label),
            ));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Invalid(errors));
    }

    // Apply: keep what the file repeats, end what runs across the start, remove the rest.
    let mut report = Report {
        school: school_name,
        year: year_name,
        start: Some(start),
        dry_run,
        lines: lines.len(),
        ..Report::default()
    };
    let mut touched: HashSet<Uuid> = HashSet::new();
    let mut candidates: HashMap<Key, Vec<Uuid>> = HashMap::new();
    for e in existing.iter().filter(|e| in_scope.contains(&e.lesson.group_id)) {
        let l = &e.lesson;
        if l.valid_to.is_some_and(|t| t <= start) {
            continue; // history
        }
        if l.valid_from < start {
            sqlx::query("UPDATE lessons SET valid_to = $2, updated_at = now() WHERE id = $1")
                .bind(l.id)
                .bind(start)
                .execute(&mut *conn)
                .await?;
            report.ended += 1;
            touched.extend(l.teacher_id);
        } else {
            candidates.entry(key(l)).or_default().push(l.id);
        }
    }
    let mut to_insert = Vec::new();
    for (_, mut l) in planned {
        match candidates.get_mut(&key(&l)).and_then(Vec::pop) {
            Some(_) => report.unchanged += 1,
            None => {
                l.id = Uuid::new_v4();
                to_insert.push(l);
            }
        }
    }
    let stale: Vec<Uuid> = candidates.into_values().flatten().collect();
    if !stale.is_empty() {
        let (removed, ended) = super::queries::remove_lessons(&mut *conn, &stale).await?;
        report.removed = removed.len() - ended;
        report.ended += ended;
        touched.extend(removed.into_iter().flatten());
    }
    for l in &to_insert {
        super::edit::insert(conn, tenant, l).await?;
        touched.extend(l.teacher_id);
    }
    report.created = to_insert.len();
    let mut teachers: Vec<Uuid> = touched.into_iter().collect();
    teachers.sort();
    report.teachers = teachers;
    Ok(report)
}

/// `tavle import timetable`: the whole import in one transaction, audited as done by
/// Tavle itself (no actor).
pub async fn import_file(
    pool: &PgPool,
    tenant_slug: &str,
    org_number: &str,
    input: &[u8],
    dry_run: bool,
) -> Result<Report, ImportError> {
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
        .bind(tenant_slug)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let mut tx = db::begin(pool, tenant).await?;
    let org: String = org_number.chars().filter(|c| !c.is_whitespace()).collect();
    let school: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE org_number = $1")
        .bind(&org)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ImportError::UnknownSchool(org_number.to_owned()))?;
    let report = run(&mut tx, tenant, school, input, dry_run).await?;
    if dry_run {
        tx.rollback().await?;
        return Ok(report);
    }
    if report.changed() {
        let purpose = Purpose::SchoolAdministration;
        audit::record_by_system(
            &mut tx,
            tenant,
            Action::Import,
            Resource::TimetableImport,
            Some(school),
            &report.teachers,
            purpose,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
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
    fn overlaps() {
        let l = |weekday, s: Time, e: Time, from: Date, to: Option<Date>| LessonRow {
            id: Uuid::nil(),
            group_id: Uuid::nil(),
            subject_id: None,
            teacher_id: None,
            room: None,
            weekday,
            starts: s,
            ends: e,
            valid_from: from,
            valid_to: to,
        };
        let a = l(1, time!(08:30), time!(09:15), date!(2026 - 08 - 17), None);
        assert!(overlap(&a, &l(1, time!(09:00), time!(10:00), date!(2026 - 09 - 01), None)));
        assert!(!overlap(&a, &l(1, time!(09:15), time!(10:00), date!(2026 - 09 - 01), None)), "back to back");
        assert!(!overlap(&a, &l(2, time!(08:30), time!(09:15), date!(2026 - 09 - 01), None)), "another day");
        let before = l(1, time!(08:30), time!(09:15), date!(2026 - 08 - 01), Some(date!(2026 - 08 - 17)));
        assert!(!overlap(&a, &before), "one ends as the other begins");
    }

    #[test]
    fn the_documented_example_parses() {
        let p = parse(include_bytes!("../../docs/timetable-import-example.csv"));
        assert_eq!(messages(&p), Vec::<String>::new());
        assert!(p.lines.len() >= 5);
    }
}
