//! Applying a subject codes file to one municipality: the file's entries against the
//! subjects Tavle has ([`plan`]), then every write in one transaction, or nothing.
//!
//! Matching, per entry: the subject whose `grep_code` is the entry's code; else the
//! subject whose local `code` is it (which then gets the `grep_code`, so a catalogue
//! typed in by hand before the import is linked, not doubled); else a new subject whose
//! `code` and `grep_code` are both the entry's. Of a matched subject the names and
//! `valid_to` are brought up to date; its grade scales are the municipality's own
//! settings and never touched. Subjects the file does not name are left alone: a file
//! may be a part of Grep's list. So importing the same file again changes nothing.
//!
//! No audit event: the subject catalogue is no one's personal data, and the audit log
//! records what is done with persons' data.

use std::collections::HashMap;
use std::fmt;

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::file::{self, fits_local_code, Entry, Problem};
use crate::db::{self, Conn};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check and count everything, then roll back.
    pub dry_run: bool,
    /// The import date (the end date of a code Grep marks expired without a
    /// `gyldig-til`); the database's today (Norwegian time) when None.
    pub today: Option<Date>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    /// Every problem, the file's first, then by entry. Nothing was written.
    #[error("nothing imported: {}", plural(.0.len(), "problem", "problems"))]
    Invalid(Vec<Problem>),
    #[error("database error during the subject import")]
    Database(#[from] sqlx::Error),
}

/// What an import changed (or, for a dry run, would have changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tenant: String,
    pub dry_run: bool,
    /// Subject codes read from the file.
    pub entries: usize,
    pub added: usize,
    /// Subjects whose names, end date or link to Grep changed.
    pub changed: usize,
    pub unchanged: usize,
    /// Of `changed`: subjects Tavle had under the same local code, now linked to Grep.
    pub linked: usize,
    /// Codes given an end date (`valid_to`) by this import, in file order: expired
    /// ones, and ones Grep says will expire. A second import of the file lists none.
    pub expired: Vec<(String, Date)>,
}

impl Report {
    /// Whether anything was (or would be) written.
    #[must_use]
    pub fn changed(&self) -> bool {
        self.added + self.changed > 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.dry_run { "dry run, nothing saved: " } else { "" };
        let codes = plural(self.entries, "subject code", "subject codes");
        write!(f, "{prefix}subject import for {}: {codes}, ", self.tenant)?;
        if !self.changed() {
            return write!(f, "no changes ({} unchanged)", self.unchanged);
        }
        write!(f, "{} added, {} changed, {} unchanged", self.added, self.changed, self.unchanged)?;
        if self.linked > 0 {
            let subjects = plural(self.linked, "subject", "subjects");
            write!(f, "\n  {subjects} Tavle had under the same code now linked to Grep")?;
        }
        if !self.expired.is_empty() {
            let codes: Vec<String> = self.expired.iter().map(|(code, to)| format!("{code} (valid to {to})")).collect();
            write!(f, "\n  expired or expiring: {}", codes.join(", "))?;
        }
        Ok(())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Import `input` (the file's bytes) into the municipality `tenant_slug`. Every entry
/// is checked before anything is written; any problem and nothing is.
///
/// # Errors
///
/// [`ImportError::Invalid`] with every problem; an unknown tenant; database errors.
pub async fn import(
    pool: &PgPool,
    tenant_slug: &str,
    input: &[u8],
    options: ImportOptions,
) -> Result<Report, ImportError> {
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
        .bind(tenant_slug)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let parsed = file::parse(input);
    let mut problems = parsed.problems;
    if parsed.entries.is_empty() {
        // Nothing readable: the problems say why, and the database has nothing to add.
        return Err(ImportError::Invalid(problems));
    }

    let mut tx = db::begin(pool, tenant).await?;
    let mut conn = Conn::new(&mut tx, tenant);
    lock(conn.re()).await?;
    let today = match options.today {
        Some(d) => d,
        None => sqlx::query_scalar("SELECT tavle_today()").fetch_one(&mut *conn).await?,
    };
    let stored = stored(conn.re()).await?;
    let planned = plan(&stored, &parsed.entries, &mut problems);
    if !problems.is_empty() {
        // Stable: an entry's problems stay in the order they were found.
        problems.sort_by_key(|p| p.entry);
        tx.rollback().await?;
        return Err(ImportError::Invalid(problems));
    }
    let mut report = Report {
        tenant: tenant_slug.to_owned(),
        dry_run: options.dry_run,
        entries: parsed.entries.len(),
        ..Report::default()
    };
    for (entry, target) in planned {
        let stored = match target {
            Target::Stored(i) => stored.get(i),
            Target::New => None,
        };
        write(conn.re(), entry, stored, today, &mut report).await?;
    }
    if options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(report)
}

/// One import per municipality at a time, so that two runs never both add a code.
async fn lock(mut conn: Conn<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('tavle.subjects_import.' || $1::text, 0))")
        .bind(conn.tenant)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A subject as stored.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    id: Uuid,
    code: String,
    grep_code: Option<String>,
    name_nb: String,
    name_en: String,
    name_nn: Option<String>,
    valid_to: Option<Date>,
}

/// Every subject of the municipality (a catalogue of some hundred rows at most).
async fn stored(mut conn: Conn<'_>) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.code, s.grep_code, s.name_nb, s.name_en, s.name_nn, s.valid_to \
         FROM subjects s WHERE s.tenant_id = $1",
    )
    .bind(conn.tenant)
    .fetch_all(&mut *conn)
    .await
}

/// Which subject an entry writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The stored subject at this index.
    Stored(usize),
    New,
}

/// Each entry's subject, and a problem for each entry that has none: its code is the
/// local code of a subject already linked to another Grep code, or it cannot be a
/// new subject's local code. (Two entries never reach the same subject: the codes of a
/// file are distinct, a Grep code is linked to one subject, and a subject found by its
/// local code has no Grep code yet.)
fn plan<'a>(stored: &[Stored], entries: &'a [Entry], problems: &mut Vec<Problem>) -> Vec<(&'a Entry, Target)> {
    let by_grep: HashMap<&str, usize> =
        stored.iter().enumerate().filter_map(|(i, s)| Some((s.grep_code.as_deref()?, i))).collect();
    let by_code: HashMap<&str, usize> = stored.iter().enumerate().map(|(i, s)| (s.code.as_str(), i)).collect();
    let mut planned = Vec::with_capacity(entries.len());
    for entry in entries {
        let code = entry.code.as_str();
        let problem = |message: String| Problem::entry(entry.entry, Some(code), message);
        if let Some(&i) = by_grep.get(code) {
            planned.push((entry, Target::Stored(i)));
        } else if let Some(&i) = by_code.get(code) {
            match &stored[i].grep_code {
                Some(other) => problems.push(problem(format!(
                    "the local subject {code} is linked to the Grep code {other} already; \
                     the code would name two subjects"
                ))),
                None => planned.push((entry, Target::Stored(i))),
            }
        } else if fits_local_code(code) {
            planned.push((entry, Target::New));
        } else {
            problems.push(problem(
                "the code has letters a local subject code cannot hold (A-Z and 0-9 only), \
                 and no subject in Tavle has it as its Grep code"
                    .to_owned(),
            ));
        }
    }
    planned
}

/// One entry's subject: added, updated where it differs, or counted as unchanged.
async fn write(
    mut conn: Conn<'_>,
    entry: &Entry,
    stored: Option<&Stored>,
    today: Date,
    report: &mut Report,
) -> Result<(), sqlx::Error> {
    // An expired code without a `gyldig-til` ends on the day an import first saw it
    // expired, and keeps that day: a later run of the same file changes nothing.
    let valid_to =
        if entry.ends() { entry.valid_to.or_else(|| stored.and_then(|s| s.valid_to)).or(Some(today)) } else { None };
    let Some(s) = stored else {
        sqlx::query(
            "INSERT INTO subjects (tenant_id, code, grep_code, name_nb, name_en, name_nn, valid_to) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(conn.tenant)
        .bind(&entry.code)
        .bind(&entry.code)
        .bind(&entry.name_nb)
        .bind(&entry.name_en)
        .bind(&entry.name_nn)
        .bind(valid_to)
        .execute(&mut *conn)
        .await?;
        report.added += 1;
        if let Some(to) = valid_to {
            report.expired.push((entry.code.clone(), to));
        }
        return Ok(());
    };
    if s.grep_code.as_deref() == Some(entry.code.as_str())
        && s.name_nb == entry.name_nb
        && s.name_en == entry.name_en
        && s.name_nn == entry.name_nn
        && s.valid_to == valid_to
    {
        report.unchanged += 1;
        return Ok(());
    }
    sqlx::query(
        "UPDATE subjects SET grep_code = $3, name_nb = $4, name_en = $5, name_nn = $6, valid_to = $7 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(conn.tenant)
    .bind(s.id)
    .bind(&entry.code)
    .bind(&entry.name_nb)
    .bind(&entry.name_en)
    .bind(&entry.name_nn)
    .bind(valid_to)
    .execute(&mut *conn)
    .await?;
    report.changed += 1;
    if s.grep_code.is_none() {
        report.linked += 1;
    }
    if let Some(to) = valid_to.filter(|to| s.valid_to != Some(*to)) {
        report.expired.push((entry.code.clone(), to));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(code: &str, grep_code: Option<&str>) -> Stored {
        Stored {
            id: Uuid::new_v4(),
            code: code.into(),
            grep_code: grep_code.map(str::to_owned),
            name_nb: "x".into(),
            name_en: "x".into(),
            name_nn: None,
            valid_to: None,
        }
    }

    fn entry(n: usize, code: &str) -> Entry {
        Entry {
            entry: n,
            code: code.into(),
            name_nb: "x".into(),
            name_en: "x".into(),
            name_nn: None,
            valid_to: None,
            expired: false,
        }
    }

    #[test]
    fn entries_find_their_subject_by_grep_code_then_by_local_code() {
        let subjects = [
            stored("MAT", Some("MAT0010")),
            stored("NOR0214", None),
            stored("NAT0010", Some("NAT0011")),
            stored("MAT0010", None),
        ];
        let entries =
            [entry(1, "MAT0010"), entry(2, "NOR0214"), entry(3, "NAT0010"), entry(4, "ÅRS0010"), entry(5, "ENG0012")];
        let mut problems = Vec::new();
        let planned = plan(&subjects, &entries, &mut problems);
        let targets: Vec<(&str, Target)> = planned.iter().map(|(e, t)| (e.code.as_str(), *t)).collect();
        // MAT0010 is the Grep code of MAT: that subject, not the local MAT0010.
        assert_eq!(targets, [("MAT0010", Target::Stored(0)), ("NOR0214", Target::Stored(1)), ("ENG0012", Target::New)]);
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "entry 3 (NAT0010): the local subject NAT0010 is linked to the Grep code NAT0011 already; \
                 the code would name two subjects",
                "entry 4 (ÅRS0010): the code has letters a local subject code cannot hold (A-Z and 0-9 only), \
                 and no subject in Tavle has it as its Grep code",
            ]
        );
    }

    #[test]
    fn the_report_as_printed() {
        let mut report = Report { tenant: "fjordvik".into(), entries: 14, unchanged: 14, ..Report::default() };
        assert_eq!(report.to_string(), "subject import for fjordvik: 14 subject codes, no changes (14 unchanged)");
        report = Report {
            dry_run: true,
            added: 12,
            changed: 1,
            unchanged: 1,
            linked: 1,
            expired: vec![("UTV0010".into(), time::macros::date!(2020 - 07 - 31))],
            ..report
        };
        assert_eq!(
            report.to_string(),
            "dry run, nothing saved: subject import for fjordvik: 14 subject codes, 12 added, 1 changed, 1 unchanged\n  \
             1 subject Tavle had under the same code now linked to Grep\n  \
             expired or expiring: UTV0010 (valid to 2020-07-31)"
        );
    }
}
