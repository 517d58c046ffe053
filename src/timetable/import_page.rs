//! The import page of a school's timetable (`/schools/{id}/timetable/import`): the
//! office pastes the CSV file's text (see `import` for what it does). A paste rather
//! than a file upload: the request's CSRF check reads URL-encoded forms only, a
//! school's timetable is a few hundred lines (well inside the form size limit), and a
//! refused paste comes back exactly as typed, to be corrected in place.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::import::{self, ImportError};
use super::queries::{self, SchoolRow};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy;
use crate::state::AppState;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::{render, render_with};
use crate::work::Work;

/// At most this many problems are listed (the count says how many there are).
const MAX_SHOWN: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new().route("/schools/{school_id}/timetable/import", get(show).post(submit))
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    pub csv: String,
    #[serde(default)]
    pub dry_run: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "timetable/import.html")]
pub struct ImportPage {
    pub ui: Ui,
    pub school: SchoolRow,
    pub csv: String,
    pub dry_run: bool,
    pub problems: Vec<String>,
    pub problem_count: usize,
    pub report: Option<String>,
    pub columns: String,
}

impl ImportPage {
    fn new(ui: Ui, school: SchoolRow) -> Self {
        Self {
            ui,
            school,
            csv: String::new(),
            dry_run: false,
            problems: Vec::new(),
            problem_count: 0,
            report: None,
            columns: import::COLUMNS.join(";"),
        }
    }
    pub fn count(&self) -> String {
        self.problem_count.to_string()
    }
    pub fn more(&self) -> bool {
        self.problem_count > self.problems.len()
    }
}

async fn school_for_editor(work: &mut Work, raw: &str) -> Result<(SchoolRow, policy::TimetableEditor)> {
    let id = path_id(raw)?;
    let editor = policy::timetable_editor(&work.actor(), id)?;
    let school = queries::schools(work.conn(), &[id]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    Ok((school, editor))
}

async fn show(mut work: Work, ui: Ui, Path(school_id): Path<String>) -> Result<Response> {
    let (school, _) = school_for_editor(&mut work, &school_id).await?;
    work.commit().await?;
    Ok(render(&ImportPage::new(ui, school)))
}

async fn submit(
    mut work: Work,
    ui: Ui,
    Path(school_id): Path<String>,
    Form(form): Form<ImportForm>,
) -> Result<Response> {
    let (school, editor) = school_for_editor(&mut work, &school_id).await?;
    let tenant = work.actor().tenant_id;
    let dry_run = form.dry_run.is_some();
    let mut page = ImportPage::new(ui, school);
    page.dry_run = dry_run;
    // A refused file or a dry run drops the work: nothing it wrote is kept.
    match import::run(work.conn(), tenant, page.school.id, form.csv.as_bytes(), dry_run).await {
        Err(ImportError::Invalid(problems)) => {
            page.problem_count = problems.len();
            page.problems = problems.iter().take(MAX_SHOWN).map(|p| p.text(page.ui.lang)).collect();
            page.csv = form.csv;
            Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(ImportError::Database(e)) => Err(AppError::Db(e)),
        Err(ImportError::App(e)) => Err(e),
        Err(e @ (ImportError::UnknownTenant(_) | ImportError::UnknownSchool(_))) => Err(AppError::Internal(e.into())),
        Ok(report) => {
            if dry_run {
                page.csv = form.csv;
            } else {
                if report.changed() {
                    work.audit(
                        &editor,
                        Action::Import,
                        Resource::TimetableImport,
                        Some(page.school.id),
                        &report.teachers,
                    )
                    .await?;
                }
                work.commit().await?;
            }
            page.report = Some(report.text(page.ui.lang));
            Ok(render(&page))
        }
    }
}
