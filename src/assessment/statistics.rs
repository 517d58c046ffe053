//! Grade statistics for the school's leaders and the municipal director: the current
//! school year's grades of one kind of period (autumn, spring, final), counted per
//! value and averaged per subject and school, or per class; never a name. A row of
//! fewer than [`MIN_COUNT`] grades shows no distribution, so a small class cannot be
//! read pupil by pupil. As a page and as CSV (the same rows); every look is audited.

use axum::extract::Query;
use axum::response::Response;
use serde::Deserialize;

use super::domain::PeriodKind;
use super::queries::statistics::{self, DistributionRow, VALUES};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, GradeStatisticsScope};
use crate::web::expensive::ExpensiveSlot;
use crate::web::layout::Ui;
use crate::web::render;
use crate::work::Work;

/// The fewest grades a row shows its distribution for.
pub const MIN_COUNT: i64 = 5;

#[derive(Debug, Default, Deserialize)]
pub struct StatisticsQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub by: String,
}

impl StatisticsQuery {
    fn kind(&self) -> Result<PeriodKind> {
        if self.kind.is_empty() {
            return Ok(PeriodKind::Autumn);
        }
        PeriodKind::from_code(&self.kind).filter(|k| k.in_grid()).ok_or(AppError::BadRequest)
    }
    fn by_class(&self) -> Result<bool> {
        match self.by.as_str() {
            "" | "school" => Ok(false),
            "class" => Ok(true),
            _ => Err(AppError::BadRequest),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "assessment/statistics.html")]
pub struct StatisticsPage {
    pub ui: Ui,
    pub kind: PeriodKind,
    pub by_class: bool,
    pub rows: Vec<DistributionRow>,
    /// None: the choices are lists (the macros want it).
    pub errors: crate::web::form::FieldErrors,
}

impl StatisticsPage {
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        [PeriodKind::Autumn, PeriodKind::Spring, PeriodKind::Final]
            .iter()
            .map(|k| (k.code(), self.ui.t(k.label_key())))
            .collect()
    }
    pub fn values(&self) -> [&'static str; 11] {
        VALUES
    }
    pub fn shown(&self, r: &DistributionRow) -> bool {
        r.total >= MIN_COUNT
    }
    pub fn average(&self, r: &DistributionRow) -> String {
        r.average.map(|a| format!("{a:.2}")).unwrap_or_default()
    }
    pub fn subject(&self, r: &DistributionRow) -> String {
        r.subject(self.ui.lang)
    }
    pub fn csv_href(&self) -> String {
        format!(
            "/assessment/statistics.csv?kind={}&by={}",
            self.kind.code(),
            if self.by_class { "class" } else { "school" }
        )
    }
    pub fn min_count(&self) -> String {
        MIN_COUNT.to_string()
    }
}

async fn rows(work: &mut Work, scope: &GradeStatisticsScope, q: &StatisticsQuery) -> Result<Vec<DistributionRow>> {
    statistics::distribution(work.conn(), q.kind()?.code(), scope.schools.as_deref(), q.by_class()?).await
}

pub async fn show(_slot: ExpensiveSlot, mut work: Work, ui: Ui, Query(q): Query<StatisticsQuery>) -> Result<Response> {
    let scope = policy::grade_statistics_scope(&work.actor())?;
    let rows = rows(&mut work, &scope, &q).await?;
    work.audit(&scope, Action::Read, Resource::GradeStatistics, None, &[]).await?;
    work.commit().await?;
    Ok(render(&StatisticsPage { ui, kind: q.kind()?, by_class: q.by_class()?, rows, errors: Default::default() }))
}

/// The columns of the export (stable names, documented in the README).
pub const CSV_HEADER: &str = "school;class;subject;period;total;g1;g2;g3;g4;g5;g6;iv;fr;b;ib;d;average";

pub async fn csv(_slot: ExpensiveSlot, mut work: Work, Query(q): Query<StatisticsQuery>) -> Result<Response> {
    let scope = policy::grade_statistics_scope(&work.actor())?;
    let rows = rows(&mut work, &scope, &q).await?;
    work.audit(&scope, Action::Export, Resource::GradeStatistics, None, &[]).await?;
    work.commit().await?;
    let kind = q.kind()?;
    let lines = rows.iter().map(|r| {
        let mut cells =
            vec![r.school_name.clone(), r.class_name.clone(), r.subject_code.clone(), kind.code().to_owned()];
        if r.total >= MIN_COUNT {
            cells.push(r.total.to_string());
            cells.extend(r.counts.iter().map(i64::to_string));
            cells.push(r.average.map(|a| format!("{a:.2}")).unwrap_or_default());
        } else {
            // Too few to show without pointing at pupils.
            cells.push(format!("<{MIN_COUNT}"));
            cells.extend(std::iter::repeat_n(String::new(), VALUES.len() + 1));
        }
        cells
    });
    crate::web::csv::attachment(&format!("grade-statistics-{}", kind.code()), CSV_HEADER, lines)
}
