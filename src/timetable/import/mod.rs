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
//!
//! - `file`: reading the file on its own, line by line (each field by `fields`).
//! - `apply`: the lines against the school and each other, then the writes.
//! - here: [`run`], the two in the caller's transaction (the import page's), and
//!   [`import_file`], the whole import in a transaction of its own (the CLI's).

mod apply;
mod file;

use std::fmt;

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use self::apply::Known;
use self::file::column_key;
pub use self::file::{parse, Line, LineError, ParsedFile, COLUMNS};
use super::fields::{self, msg};
use super::queries;
use crate::audit::{self, Resource};
use crate::db::{self, Conn};
use crate::policy::Purpose;
use crate::web::i18n::{self, Lang};

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

/// Check `input` against the school and apply it, inside the caller's transaction
/// (bound to the school's municipality). The caller commits, or rolls back for a dry
/// run, and writes the audit event.
pub async fn run(
    mut conn: Conn<'_>,
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
    queries::lock_timetable(conn.re(), tenant).await?;
    let Some(known) = Known::load(conn.re(), school, start).await? else {
        errors.push(LineError::new(first.line, Some(column_key("from")), msg("timetable.import.error.no_year")));
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Invalid(errors));
    };
    let planned = known.plan(&lines, &mut errors);
    let existing = apply::existing(conn.re(), &known, &planned).await?;
    apply::check_teachers_elsewhere(&known, &planned, &existing, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Invalid(errors));
    }

    let mut report = Report {
        school: known.school_name.clone(),
        year: known.year_name.clone(),
        start: Some(start),
        dry_run,
        lines: lines.len(),
        ..Report::default()
    };
    apply::apply(conn.re(), tenant, start, &known, &existing, planned, &mut report).await?;
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
    let school: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE tenant_id = $1 AND org_number = $2")
        .bind(tenant)
        .bind(&org)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ImportError::UnknownSchool(org_number.to_owned()))?;
    let report = run(Conn::new(&mut tx, tenant), tenant, school, input, dry_run).await?;
    let imported = audit::Imported {
        resource: Resource::TimetableImport,
        resource_id: Some(school),
        subjects: &report.teachers,
        purpose: Purpose::SchoolAdministration,
        changed: report.changed(),
    };
    audit::end_import(tx, tenant, dry_run, imported).await?;
    Ok(report)
}
