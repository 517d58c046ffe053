//! Applying an HR file to one municipality: check it against the database, then write
//! persons, staff and employments in one transaction, or nothing at all.
//!
//! Matching: a person by national id (names updated when HR has changed them), staff by
//! resource number, an employment by (staff, workplace, position code, from date); of a
//! matched employment the percentage, end and leave are updated when they differ.
//! Nothing is ever deleted that has begun: with `full`, a current employment missing
//! from the file is ended on the import date (history matters: who worked where when).
//! Only one that has not begun yet is removed, as it never took effect.

use std::collections::{BTreeSet, HashSet};

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::apply::{Apply, Employments, Known};
use super::file::{self, LineError};
use super::report::{plural, ImportReport};
use crate::audit::{self, Resource};
use crate::db;
use crate::db::Conn;
use crate::error::AppError;
use crate::policy::Purpose;

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// The file is the complete list of employments: end every current employment in
    /// the municipality that it does not contain.
    pub full: bool,
    /// Check and count everything, then roll back.
    pub dry_run: bool,
    /// The import date (when `full` ends employments); the database's today (Norwegian
    /// time) when None.
    pub today: Option<Date>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    /// Every problem, in line order. Nothing was written.
    #[error("nothing imported: {} with problems", plural(bad_lines(.0), "line", "lines"))]
    Invalid(Vec<LineError>),
    #[error("database error during the HR import")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the HR import's audit event")]
    Audit(#[source] AppError),
}

fn bad_lines(errors: &[LineError]) -> usize {
    errors.iter().map(|e| e.line).collect::<HashSet<_>>().len()
}

/// Import `input` (the file's bytes) into the municipality `tenant_slug`. All lines are
/// checked before anything is written; any problem and nothing is.
///
/// # Errors
///
/// [`ImportError::Invalid`] with every problem; an unknown tenant; database errors.
pub async fn import(
    pool: &PgPool,
    tenant_slug: &str,
    input: &[u8],
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let (tenant, synthetic_allowed) = db::import_tenant(pool, tenant_slug)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let parsed = file::parse(input, synthetic_allowed);
    let mut errors = parsed.errors;
    if options.full && parsed.lines.is_empty() && errors.is_empty() {
        errors.push(LineError {
            line: 1,
            message: "the file has no employments; with --full every employment would be ended".to_owned(),
        });
    }

    let mut tx = db::begin(pool, tenant).await?;
    db::lock_import(&mut tx, "tavle.hr_import.", tenant).await?;
    let today = match options.today {
        Some(d) => d,
        None => sqlx::query_scalar("SELECT tavle_today()").fetch_one(&mut *tx).await?,
    };
    let known = Known::load(Conn::new(&mut tx, tenant), tenant, &parsed.lines).await?;
    errors.extend(known.check(&parsed.lines, tenant_slug));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        tx.rollback().await?;
        return Err(ImportError::Invalid(errors));
    }

    let mut apply = Apply {
        tenant,
        today,
        known,
        report: ImportReport {
            tenant: tenant_slug.to_owned(),
            dry_run: options.dry_run,
            lines: parsed.lines.len(),
            ..ImportReport::default()
        },
        subjects: BTreeSet::new(),
    };
    let mut employments =
        Employments::load(Conn::new(&mut tx, tenant), tenant, &apply.known.staff_ids(), options.full).await?;
    for line in &parsed.lines {
        apply.line(Conn::new(&mut tx, tenant), &mut employments, line).await?;
    }
    apply.unmatched(Conn::new(&mut tx, tenant), &employments, options.full).await?;

    let Apply { report, subjects, .. } = apply;
    let subjects: Vec<Uuid> = subjects.into_iter().collect();
    let imported = audit::Imported {
        resource: Resource::HrImport,
        resource_id: None,
        subjects: &subjects,
        purpose: Purpose::SystemAdministration,
        changed: report.changed(),
    };
    audit::end_import(tx, tenant, options.dry_run, imported).await.map_err(ImportError::Audit)?;
    Ok(report)
}
