//! `tavle import pas`: a file PAS sent back, applied to the candidates a school drew:
//! `PameldteKandidater` gives each candidate's number, `Karakteroversikt` each result.
//! Every candidate of the file must be one the school drew in Tavle (same subject, same
//! national id number) and, once PAS has given a number, carry that number. One
//! problem and nothing is applied; a second run of the same file changes nothing.
//! Audited as done by Tavle itself, with the candidates whose data changed.

use std::collections::HashMap;
use std::fmt;

use sqlx::PgPool;
use uuid::Uuid;

use super::pas::{self, PasFile, Problem};
use crate::audit::{self, Resource};
use crate::db::{self, Conn};
use crate::policy::Purpose;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The school's organisation number: needed for `PameldteKandidater` (which does
    /// not name the school); for `Karakteroversikt` it must be the file's.
    pub school: Option<String>,
    /// The exam period (`V-2027`): for `Karakteroversikt`, which does not name it
    /// (default: the current school year's); for `PameldteKandidater` it must be the file's.
    pub period: Option<String>,
    /// Check and count everything, then roll back.
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    #[error("no school of the municipality has the organisation number {0:?}")]
    UnknownSchool(String),
    #[error("a PameldteKandidater file does not name the school: give it with --school ORGNR")]
    SchoolRequired,
    #[error("the file is for the school {file}, not {given}")]
    OtherSchool { file: String, given: String },
    #[error("no school year of the municipality ends in the spring of the exam period {0:?} (V-YYYY)")]
    UnknownPeriod(String),
    /// Every problem, by line. Nothing was written.
    #[error("nothing imported: {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("database error during the PAS import")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the PAS import's audit event")]
    Audit(#[from] crate::error::AppError),
}

/// What an import changed (or, for a dry run, would have).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tenant: String,
    pub school: String,
    /// "candidate numbers" or "results".
    pub what: &'static str,
    pub period: String,
    pub dry_run: bool,
    pub candidates: usize,
    pub changed: usize,
    pub unchanged: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.dry_run { "dry run, nothing saved: " } else { "" };
        write!(
            f,
            "{prefix}PAS {} for {}, {} ({}): {} candidate(s), {} changed, {} unchanged",
            self.what, self.school, self.period, self.tenant, self.candidates, self.changed, self.unchanged
        )
    }
}

/// A drawn candidate as stored.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    subject_code: String,
    national_id: String,
    subject_id: Uuid,
    pupil_id: Uuid,
    candidate_number: Option<String>,
    participation: Option<String>,
    grade: Option<i16>,
}

/// Import `input` into the municipality `tenant_slug`.
///
/// # Errors
///
/// [`ImportError::Invalid`] with every problem; the school or period not found;
/// database errors. Nothing is written on any error.
pub async fn import(
    pool: &PgPool,
    tenant_slug: &str,
    input: &[u8],
    options: &ImportOptions,
) -> Result<Report, ImportError> {
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
        .bind(tenant_slug)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let file = pas::parse(input).map_err(ImportError::Invalid)?;
    let given = options.school.as_deref().map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>());
    let (org, period, what) = match &file {
        PasFile::Candidates { period_code, .. } => {
            let org = given.ok_or(ImportError::SchoolRequired)?;
            if let Some(p) = options.period.as_deref().filter(|p| p.trim() != period_code) {
                return Err(ImportError::UnknownPeriod(format!("{p} (the file is for {period_code})")));
            }
            (org, Some(period_code.clone()), "candidate numbers")
        }
        PasFile::Results { org_number, .. } => {
            if let Some(g) = given.filter(|g| g != org_number) {
                return Err(ImportError::OtherSchool { file: org_number.clone(), given: g });
            }
            (org_number.clone(), options.period.clone(), "results")
        }
    };
    let mut tx = db::begin(pool, tenant).await?;
    let mut conn = Conn::new(&mut tx, tenant);
    let school: (Uuid, String) =
        sqlx::query_as("SELECT s.id, s.name FROM schools s WHERE s.tenant_id = $1 AND s.org_number = $2")
            .bind(conn.tenant)
            .bind(&org)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| ImportError::UnknownSchool(org.clone()))?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('tavle.pas_import.' || $1::text || $2::text, 0))")
        .bind(conn.tenant)
        .bind(school.0)
        .execute(&mut *conn)
        .await?;
    let year: Option<(Uuid, i32)> = match &period {
        Some(code) => {
            let spring = pas::spring_period_year(code).ok_or_else(|| ImportError::UnknownPeriod(code.clone()))?;
            sqlx::query_as(
                "SELECT y.id, extract(year FROM y.ends)::int FROM school_years y \
                 WHERE y.tenant_id = $1 AND extract(year FROM y.ends)::int = $2",
            )
            .bind(conn.tenant)
            .bind(spring)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_as(
                "SELECT y.id, extract(year FROM y.ends)::int FROM school_years y \
             WHERE y.tenant_id = $1 AND y.starts <= tavle_today() ORDER BY y.starts DESC LIMIT 1",
            )
            .bind(conn.tenant)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let (year, spring) = year.ok_or_else(|| ImportError::UnknownPeriod(period.clone().unwrap_or_default()))?;
    let stored: Vec<Stored> = sqlx::query_as(
        "SELECT coalesce(su.grep_code, su.code) AS subject_code, pe.national_id, c.subject_id, c.pupil_id, \
           c.candidate_number, c.participation, c.grade \
         FROM exam_candidates c \
         JOIN subjects su ON su.tenant_id = c.tenant_id AND su.id = c.subject_id \
         JOIN persons pe ON pe.tenant_id = c.tenant_id AND pe.id = c.pupil_id \
         WHERE c.tenant_id = $1 AND su.tenant_id = $1 AND pe.tenant_id = $1 AND c.school_id = $2 AND c.school_year_id = $3 \
         FOR UPDATE OF c",
    )
    .bind(conn.tenant)
    .bind(school.0)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?;
    let by_key: HashMap<(&str, &str), &Stored> =
        stored.iter().map(|s| ((s.subject_code.as_str(), s.national_id.as_str()), s)).collect();
    let mut problems = Vec::new();
    let mut writes: Vec<(&Stored, &pas::Line)> = Vec::new();
    let mut report = Report {
        tenant: tenant_slug.to_owned(),
        school: school.1.clone(),
        what,
        period: pas::spring_period_code(spring),
        dry_run: options.dry_run,
        candidates: file.lines().len(),
        ..Report::default()
    };
    for line in file.lines() {
        let Some(s) = by_key.get(&(line.subject_code.as_str(), line.national_id.as_str())) else {
            problems.push(Problem::at(
                line.line,
                format!(
                    "no pupil of the school is drawn in Tavle for {} under this national id number \
                     (draw the pupil on the school's exam page first)",
                    line.subject_code
                ),
            ));
            continue;
        };
        match (&s.candidate_number, line.result) {
            (Some(number), Some(_)) if *number != line.candidate_number => {
                problems.push(Problem::at(
                    line.line,
                    format!("candidate {} has the number {number} from PAS in Tavle", line.candidate_number),
                ));
                continue;
            }
            _ => {}
        }
        let number_same = s.candidate_number.as_deref() == Some(line.candidate_number.as_str());
        let result_same = match line.result {
            None => true,
            Some((participation, grade)) => {
                s.participation.as_deref() == Some(participation.code()) && s.grade == grade
            }
        };
        if number_same && result_same {
            report.unchanged += 1;
        } else {
            report.changed += 1;
            writes.push((s, line));
        }
    }
    if !problems.is_empty() {
        tx.rollback().await?;
        return Err(ImportError::Invalid(problems));
    }
    for (s, line) in &writes {
        let (participation, grade) = match line.result {
            Some((p, g)) => (Some(p.code()), g),
            None => (s.participation.as_deref(), s.grade),
        };
        let result_changed = participation != s.participation.as_deref() || grade != s.grade;
        sqlx::query(
            "UPDATE exam_candidates c SET candidate_number = $6, participation = $7, grade = $8, \
               result_at = coalesce($9, c.result_at) \
             WHERE c.tenant_id = $1 AND c.school_year_id = $2 AND c.subject_id = $3 AND c.pupil_id = $4 \
               AND c.school_id = $5",
        )
        .bind(conn.tenant)
        .bind(year)
        .bind(s.subject_id)
        .bind(s.pupil_id)
        .bind(school.0)
        .bind(&line.candidate_number)
        .bind(participation)
        .bind(grade)
        .bind(result_changed.then(time::OffsetDateTime::now_utc))
        .execute(&mut *conn)
        .await?;
    }
    let mut pupils: Vec<Uuid> = writes.iter().map(|(s, _)| s.pupil_id).collect();
    pupils.sort_unstable();
    pupils.dedup();
    let imported = audit::Imported {
        resource: Resource::ExamCandidates,
        resource_id: Some(school.0),
        subjects: &pupils,
        purpose: Purpose::SchoolAdministration,
        changed: !writes.is_empty(),
    };
    audit::end_import(tx, tenant, options.dry_run, imported).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::pas::Participation;
    use super::*;

    #[test]
    fn the_report_as_printed() {
        let report = Report {
            tenant: "fjordvik".into(),
            school: "Fjordvik ungdomsskole".into(),
            what: "results",
            period: "V-2027".into(),
            dry_run: true,
            candidates: 2,
            changed: 1,
            unchanged: 1,
        };
        assert_eq!(
            report.to_string(),
            "dry run, nothing saved: PAS results for Fjordvik ungdomsskole, V-2027 (fjordvik): \
             2 candidate(s), 1 changed, 1 unchanged"
        );
    }

    #[test]
    fn participation_codes_are_the_stored_ones() {
        assert_eq!(Participation::TookPart.code(), "took_part");
        assert_eq!(Participation::NoAnswer.code(), "no_answer");
    }
}
