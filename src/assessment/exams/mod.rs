//! Exams through PAS, the directorate's exam system: the school office draws the
//! pupils of a grade-10 group for an exam in a subject (trekk), records each drawn
//! pupil's written form (målform), and downloads the registration for PAS
//! (`Pamelding`); what PAS sends back, the candidate numbers and the results, is read
//! by `tavle import pas` ([`import`]). The exam grade feeds the diploma.
//!
//! - `pas`: the file formats on their own.
//! - `import`: a file from PAS applied to a school's candidates, all or nothing.
//!
//! Who: the school office and the school's leaders (as for the assessment periods).
//! Every draw, withdrawal and export is audited, the export as an export with the
//! candidates as its subjects.

pub mod import;
pub mod pas;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::queries::exams::{self, CandidateRow, ExamSubject};
use super::queries::{self, YearRow};
use crate::audit::{Action, Resource};
use crate::domain::text::has_hidden_characters;
use crate::error::{AppError, Result};
use crate::policy::{self, AssessmentPeriodsAccess};
use crate::web::form::{msg, FieldErrors};
use crate::web::i18n::Lang;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

#[derive(askama::Template)]
#[template(path = "assessment/exams.html")]
pub struct ExamsPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub year: YearRow,
    pub period_code: String,
    pub candidates: Vec<CandidateRow>,
    pub subjects: Vec<ExamSubject>,
    /// The school's groups with grade-10 pupils: (id, name, pupils).
    pub groups: Vec<(Uuid, String, i64)>,
    pub form: ExamForm,
    pub errors: FieldErrors,
    pub done: String,
}

impl ExamsPage {
    pub fn subject_name(&self, c: &CandidateRow) -> String {
        format!("{} {}", c.subject_code, if self.ui.lang == Lang::En { &c.subject_en } else { &c.subject_nb })
    }
    pub fn exam_subject_name(&self, s: &ExamSubject) -> String {
        format!("{} {}", s.code, if self.ui.lang == Lang::En { &s.name_en } else { &s.name_nb })
    }
    pub fn group_label(&self, name: &str, pupils: &i64) -> String {
        crate::web::i18n::tf(
            self.ui.lang,
            "assessment.exams.group_option",
            &[("group", name), ("count", &pupils.to_string())],
        )
    }
    pub fn result(&self, c: &CandidateRow) -> String {
        match (c.participation.as_deref(), c.grade) {
            (Some("took_part"), Some(g)) => g.to_string(),
            (Some(p), _) => self.ui.t(&format!("assessment.exams.participation.{p}")).to_owned(),
            (None, _) => String::new(),
        }
    }
    pub fn done_text(&self) -> &str {
        match self.done.as_str() {
            "drawn" => self.ui.t("assessment.exams.drawn"),
            "withdrawn" => self.ui.t("assessment.exams.withdrawn"),
            "written_form" => self.ui.t("assessment.exams.written_form_saved"),
            _ => "",
        }
    }
    pub fn form_field(&self, c: &CandidateRow) -> String {
        format!("wf-{}-{}", c.subject_id, c.pupil_id)
    }
}

/// The page's forms as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExamForm {
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub pas_user: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ExamsQuery {
    #[serde(default)]
    pub done: String,
}

struct Loaded {
    access: AssessmentPeriodsAccess,
    year: YearRow,
    candidates: Vec<CandidateRow>,
}

async fn load(work: &mut Work, school: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::exam_access(&actor, path_id(school)?)?;
    let year = queries::current_year(work.conn(), access.school_id).await?.ok_or(AppError::NotFound)?;
    let candidates = exams::candidates(work.conn(), access.school_id, year.id).await?;
    Ok(Loaded { access, year, candidates })
}

async fn page(
    work: &mut Work,
    ui: Ui,
    l: Loaded,
    form: ExamForm,
    errors: FieldErrors,
    done: String,
) -> Result<ExamsPage> {
    let subjects = exams::subjects(work.conn()).await?;
    let groups = exams::groups(work.conn(), l.access.school_id, l.year.id).await?;
    let pupils: Vec<Uuid> = l.candidates.iter().map(|c| c.pupil_id).collect();
    if !pupils.is_empty() {
        work.audit(&l.access, Action::Read, Resource::ExamCandidates, Some(l.access.school_id), &pupils).await?;
    }
    Ok(ExamsPage {
        ui,
        school_id: l.access.school_id,
        period_code: pas::spring_period_code(l.year.ends.year()),
        year: l.year,
        candidates: l.candidates,
        subjects,
        groups,
        form,
        errors,
        done,
    })
}

pub async fn show(mut work: Work, ui: Ui, Path(school): Path<String>, Query(q): Query<ExamsQuery>) -> Result<Response> {
    let loaded = load(&mut work, &school).await?;
    let done = if matches!(q.done.as_str(), "drawn" | "withdrawn" | "written_form") { q.done } else { String::new() };
    let page = page(&mut work, ui, loaded, ExamForm::default(), FieldErrors::new(), done).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

fn redirect(school: Uuid, done: &str) -> Response {
    Redirect::to(&format!("/assessment/schools/{school}/exams?done={done}")).into_response()
}

/// Draw a group's grade-10 pupils for the exam in a subject.
pub async fn draw(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<ExamForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let loaded = load(&mut work, &school).await?;
    let subjects = exams::subjects(work.conn()).await?;
    let groups = exams::groups(work.conn(), loaded.access.school_id, loaded.year.id).await?;
    let mut errors = FieldErrors::new();
    let subject = Uuid::parse_str(form.subject.trim()).ok().filter(|s| subjects.iter().any(|x| x.id == *s));
    if subject.is_none() {
        errors.add("subject", "assessment.exams.error.subject");
    }
    let group = Uuid::parse_str(form.group.trim()).ok().filter(|g| groups.iter().any(|x| x.0 == *g));
    if group.is_none() {
        errors.add("group", "assessment.exams.error.group");
    }
    let (Some(subject), Some(group)) = (subject, group) else {
        let page = page(&mut work, ui, loaded, form, errors, String::new()).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let by = work.actor().person_id;
    let (school_id, year) = (loaded.access.school_id, loaded.year.id);
    let drawn = exams::draw(work.conn(), school_id, year, subject, group, by).await?;
    if !drawn.is_empty() {
        work.audit(&loaded.access, Action::Create, Resource::ExamCandidates, Some(school_id), &drawn).await?;
    }
    work.commit().await?;
    Ok(redirect(school_id, "drawn"))
}

#[derive(Debug, Deserialize)]
pub struct CandidateForm {
    pub subject: String,
    pub pupil: String,
    #[serde(default)]
    pub written_form: String,
}

/// Withdraw a pupil drawn by mistake (only before PAS has sent a result).
pub async fn withdraw(
    mut work: Work,
    Path(school): Path<String>,
    form: std::result::Result<Form<CandidateForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (subject, pupil) = (path_id(&form.subject)?, path_id(&form.pupil)?);
    let loaded = load(&mut work, &school).await?;
    let (school_id, year) = (loaded.access.school_id, loaded.year.id);
    if !exams::withdraw(work.conn(), school_id, year, subject, pupil).await? {
        return Err(AppError::NotFound);
    }
    work.audit(&loaded.access, Action::Delete, Resource::ExamCandidates, Some(school_id), &[pupil]).await?;
    work.commit().await?;
    Ok(redirect(school_id, "withdrawn"))
}

/// Record a drawn pupil's written form.
pub async fn written_form(
    mut work: Work,
    Path(school): Path<String>,
    form: std::result::Result<Form<CandidateForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let pupil = path_id(&form.pupil)?;
    if pas::WrittenForm::from_code(&form.written_form).is_none() {
        // The form offers the two; anything else no form of ours sends.
        return Err(AppError::BadRequest);
    }
    let loaded = load(&mut work, &school).await?;
    let (school_id, year) = (loaded.access.school_id, loaded.year.id);
    match exams::set_written_form(work.conn(), school_id, year, pupil, &form.written_form).await? {
        None => return Err(AppError::NotFound),
        Some(true) => {
            work.audit(&loaded.access, Action::Update, Resource::ExamCandidates, Some(school_id), &[pupil]).await?
        }
        Some(false) => {}
    }
    work.commit().await?;
    Ok(redirect(school_id, "written_form"))
}

/// The registration for PAS as a file, or the page with every reason it cannot be
/// made: a candidate without a written form, or whose number PAS cannot take.
pub async fn registration(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<ExamForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let loaded = load(&mut work, &school).await?;
    let (school_id, year) = (loaded.access.school_id, loaded.year.id);
    let rows = exams::registration(work.conn(), school_id, year).await?;
    let mut errors = FieldErrors::new();
    let pas_user = form.pas_user.trim();
    let bad = |t: &str| t.chars().any(char::is_whitespace) || has_hidden_characters(t);
    if pas_user.is_empty() || pas_user.chars().count() > 100 || bad(pas_user) {
        errors.add("pas_user", "assessment.exams.error.pas_user");
    }
    let email = form.email.trim();
    if !email.is_empty() && (email.len() > 254 || !email.contains('@') || bad(email)) {
        errors.add("email", "assessment.exams.error.email");
    }
    if rows.is_empty() {
        errors.add("pas_user", "assessment.exams.error.none_drawn");
    }
    let mut groups: Vec<pas::CandidateGroup> = Vec::new();
    for r in &rows {
        let name = format!("{} {}", r.given_name, r.family_name);
        let code = r.subject_code.clone().unwrap_or_default();
        let field = format!("wf-{}-{}", r.subject_id, r.pupil_id);
        let Some(written_form) = r.written_form.as_deref().and_then(pas::WrittenForm::from_code) else {
            errors.add(field, "assessment.exams.error.written_form").about(name);
            continue;
        };
        if let Err(why) = pas::exam_number(&r.national_id) {
            tracing::info!(reason = why, "a drawn candidate's number cannot go to PAS");
            errors.add(field, msg("assessment.exams.error.national_id")).about(name);
            continue;
        }
        let candidate = pas::Candidate {
            national_id: r.national_id.clone(),
            given_name: r.given_name.clone(),
            family_name: r.family_name.clone(),
            written_form,
        };
        match groups.last_mut() {
            Some(g) if g.subject_code == code && g.name == r.group_name => g.candidates.push(candidate),
            _ => groups.push(pas::CandidateGroup {
                name: r.group_name.clone(),
                subject_code: code,
                candidates: vec![candidate],
            }),
        }
    }
    if errors.any() {
        let page = page(&mut work, ui, loaded, form, errors, String::new()).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let period_code = pas::spring_period_code(loaded.year.ends.year());
    let document = pas::registration_xml(&pas::Registration {
        pas_user: pas_user.to_owned(),
        period_code: period_code.clone(),
        org_number: exams::org_number(work.conn(), school_id).await?,
        school_name: loaded.year.school_name.clone(),
        error_email: (!email.is_empty()).then(|| email.to_owned()),
        groups,
    });
    let pupils: Vec<Uuid> = rows.iter().map(|r| r.pupil_id).collect();
    work.audit(&loaded.access, Action::Export, Resource::ExamCandidates, Some(school_id), &pupils).await?;
    work.commit().await?;
    let disposition = format!("attachment; filename=\"Pamelding-{period_code}.xml\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|_| AppError::BadRequest)?),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        document,
    )
        .into_response())
}
