//! School districts (skolekretser), `tavle import districts FILE --tenant SLUG`: which
//! school a street in a postal code, or a whole postal code, belongs to. The file is the
//! municipality's whole list: it replaces the districts in one transaction, or, with
//! one problem, changes nothing. A second run of the same file changes nothing.
//!
//! The format (README, "School district file format"): UTF-8 text, one district per
//! line, `postnummer;gate;skole` with that header first: a four-digit postal code, a
//! street without house number (empty: the whole postal code) and the school's
//! organisation number. The school must have a first grade.

use std::collections::HashMap;
use std::fmt;

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Resource};
use crate::db;
use crate::policy::Purpose;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check and count everything, then roll back.
    pub dry_run: bool,
}

/// One problem: `line 7: skole: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    #[error("nothing imported: {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("database error during the school district import")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the school district import's audit event")]
    Audit(#[from] crate::error::AppError),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tenant: String,
    pub dry_run: bool,
    pub districts: usize,
    pub schools: usize,
    pub changed: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.dry_run { "dry run, nothing saved: " } else { "" };
        let what = if self.changed { "replaced" } else { "unchanged" };
        write!(
            f,
            "{prefix}school districts for {}: {} districts of {} schools, {what}",
            self.tenant, self.districts, self.schools
        )
    }
}

/// One checked line: the postal code, the street (lower case; empty for the whole
/// postal code) and the school's organisation number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct District {
    pub line: usize,
    pub postal_code: String,
    pub street: String,
    pub org_number: String,
}

const HEADER: &str = "postnummer;gate;skole";

/// Read and check the file; every problem with its line.
pub fn parse(input: &[u8]) -> Result<Vec<District>, Vec<Problem>> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let Ok(text) = std::str::from_utf8(input) else {
        return Err(vec![Problem { line: 1, message: "the file is not UTF-8 text".into() }]);
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    if lines.next().map(|(_, h)| h.trim().to_lowercase()) != Some(HEADER.to_owned()) {
        return Err(vec![Problem { line: 1, message: format!("the first line must be the header {HEADER}") }]);
    }
    let mut problems = Vec::new();
    let mut out: Vec<District> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let mut p = |m: &str| problems.push(Problem { line, message: m.to_owned() });
        let fields: Vec<&str> = text.split(';').map(str::trim).collect();
        let [postal_code, street, org] = fields[..] else {
            p("expected three fields: postnummer;gate;skole");
            continue;
        };
        let mut ok = true;
        if postal_code.len() != 4 || !postal_code.bytes().all(|b| b.is_ascii_digit()) {
            p("postnummer: four digits");
            ok = false;
        }
        if street.chars().count() > 200 || street.chars().any(char::is_control) {
            p("gate: at most 200 characters, no control characters");
            ok = false;
        }
        if street.split_whitespace().last().is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit())) {
            p("gate: the street without its house number");
            ok = false;
        }
        if org.len() != 9 || !org.bytes().all(|b| b.is_ascii_digit()) {
            p("skole: the school's organisation number, nine digits");
            ok = false;
        }
        if !ok {
            continue;
        }
        let street = street.to_lowercase();
        if let Some(first) = seen.insert((postal_code.to_owned(), street.clone()), line) {
            p(&format!("the same postal code and street as line {first}"));
            continue;
        }
        out.push(District { line, postal_code: postal_code.to_owned(), street, org_number: org.to_owned() });
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(Problem { line: 1, message: "the file has no districts".into() });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Replace the municipality `tenant_slug`'s districts with the file's.
///
/// # Errors
///
/// [`ImportError::Invalid`] with every problem (nothing is changed); an unknown
/// tenant; database errors.
pub async fn import(
    pool: &PgPool,
    tenant_slug: &str,
    input: &[u8],
    options: ImportOptions,
) -> Result<Report, ImportError> {
    let (tenant, _) = db::import_tenant(pool, tenant_slug)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let districts = parse(input).map_err(ImportError::Invalid)?;
    let mut tx = db::begin(pool, tenant).await?;
    db::lock_import(&mut tx, "tavle.districts.", tenant).await?;
    let schools: Vec<(String, Uuid, i16)> =
        sqlx::query_as("SELECT s.org_number, s.id, s.first_grade FROM schools s WHERE s.tenant_id = $1")
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await?;
    let schools: HashMap<String, (Uuid, i16)> = schools.into_iter().map(|(o, id, g)| (o, (id, g))).collect();
    let mut problems = Vec::new();
    let mut school_ids = Vec::new();
    for d in &districts {
        match schools.get(&d.org_number) {
            None => problems.push(Problem {
                line: d.line,
                message: "skole: no school of the municipality has this organisation number".into(),
            }),
            Some((_, first)) if *first != 1 => {
                problems.push(Problem { line: d.line, message: "skole: the school has no first grade".into() })
            }
            Some((id, _)) => school_ids.push(*id),
        }
    }
    if !problems.is_empty() {
        tx.rollback().await?;
        return Err(ImportError::Invalid(problems));
    }
    let postal: Vec<&str> = districts.iter().map(|d| d.postal_code.as_str()).collect();
    let street: Vec<&str> = districts.iter().map(|d| d.street.as_str()).collect();
    // The same set as stored: nothing to do.
    let same: bool = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM school_districts d WHERE d.tenant_id = $1) = cardinality($2::text[]) \
            AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[], $4::uuid[]) AS f(postal, street, school) \
                            WHERE NOT EXISTS (SELECT 1 FROM school_districts d WHERE d.tenant_id = $1 \
                                AND d.postal_code = f.postal AND d.street = f.street AND d.school_id = f.school))",
    )
    .bind(tenant)
    .bind(&postal)
    .bind(&street)
    .bind(&school_ids)
    .fetch_one(&mut *tx)
    .await?;
    if !same {
        sqlx::query("DELETE FROM school_districts d WHERE d.tenant_id = $1").bind(tenant).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO school_districts (tenant_id, postal_code, street, school_id) \
             SELECT $1, f.postal, f.street, f.school FROM unnest($2::text[], $3::text[], $4::uuid[]) AS f(postal, street, school)",
        )
        .bind(tenant)
        .bind(&postal)
        .bind(&street)
        .bind(&school_ids)
        .execute(&mut *tx)
        .await?;
    }
    let mut distinct = school_ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let imported = audit::Imported {
        resource: Resource::SchoolDistricts,
        resource_id: None,
        subjects: &[],
        purpose: Purpose::SchoolAdministration,
        changed: !same,
    };
    audit::end_import(tx, tenant, options.dry_run, imported).await?;
    Ok(Report {
        tenant: tenant_slug.to_owned(),
        dry_run: options.dry_run,
        districts: districts.len(),
        schools: distinct.len(),
        changed: !same,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_is_read_with_streets_in_lower_case() {
        let file = "\u{feff}postnummer;gate;skole\r\n0150;Storgata;974000001\n\n0151;;974000002\n";
        let d = parse(file.as_bytes()).expect("parses");
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[0].street.as_str()), (2, "storgata"));
        assert_eq!((d[1].line, d[1].street.as_str(), d[1].org_number.as_str()), (4, "", "974000002"));
    }

    #[test]
    fn every_bad_line_is_reported_with_its_line() {
        let file = "postnummer;gate;skole\n015;Storgata;974000001\n0150;Storgata 12;974000001\n0151;;97\n0152\n\
                    0160;Ringveien;974000001\n0160;RINGVEIEN;974000002\n";
        let problems = parse(file.as_bytes()).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 7]);
        assert!(problems[4].message.contains("line 6"), "{}", problems[4]);
    }

    #[test]
    fn a_file_without_its_header_or_districts_is_refused() {
        assert_eq!(parse(b"0150;Storgata;974000001\n").unwrap_err()[0].line, 1);
        assert!(parse(b"postnummer;gate;skole\n").unwrap_err()[0].message.contains("no districts"));
    }
}
