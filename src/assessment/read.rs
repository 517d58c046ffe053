//! A pupil's grades: the pupil's own and a guardian's child's (published grades of the
//! current and the previous school year, never before the publication time), and the
//! school's view of a pupil (every grade as entered, unpublished ones marked, with each
//! grade's history: earlier values, who changed them, when, and after closing why).
//! Every reading is audited.

use axum::extract::rejection::FormRejection;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::domain::{Aspect, ChangeReason, ConductValue, ExemptionKind, GradeValue};
use super::queries::class::{self, PupilConductRow, PupilWarningRow};
use super::queries::remarks::{self, RemarkRow};
use super::queries::{self, ExemptionRow, HistoryRow, PupilGradeRow, PupilHead, SubjectOption};
use crate::audit::{Action, Resource};
use crate::domain::date::{display_date, parse_iso};
use crate::error::{AppError, Result};
use crate::policy::{self, PupilGradesAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// One period's grades on the page.
#[derive(Debug, Clone)]
pub struct PeriodBlock {
    pub period_id: Uuid,
    pub title: String,
    pub published: bool,
    pub publish_on: Option<String>,
    pub grades: Vec<PupilGradeRow>,
}

#[derive(askama::Template)]
#[template(path = "assessment/grades.html")]
pub struct GradesPage {
    pub ui: Ui,
    pub head: PupilHead,
    pub own: bool,
    pub as_school: bool,
    pub blocks: Vec<PeriodBlock>,
    pub history: Vec<HistoryRow>,
    pub conduct: Vec<PupilConductRow>,
    pub remarks: Vec<RemarkRow>,
    pub warnings: Vec<PupilWarningRow>,
    pub exemptions: Vec<ExemptionRow>,
    /// For a leader: the exemption form (the pupil's subjects, what was typed, errors).
    pub exemption_form: Option<ExemptionFormView>,
}

/// The form to record an exemption (leaders only).
#[derive(Debug, Clone, Default)]
pub struct ExemptionFormView {
    pub pupil_id: Uuid,
    pub subjects: Vec<SubjectOption>,
    pub sent: ExemptionForm,
    pub errors: FieldErrors,
    pub saved: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionForm {
    /// Checked by the CSRF middleware before the handler runs; the strict form accepts it.
    #[serde(default)]
    #[expect(dead_code, reason = "read by the CSRF middleware, not here")]
    pub csrf: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl GradesPage {
    pub fn name(&self) -> String {
        format!("{} {}", self.head.given_name, self.head.family_name)
    }
    pub fn subject(&self, g: &PupilGradeRow) -> String {
        g.subject(self.ui.lang)
    }
    pub fn word(&self, g: &PupilGradeRow) -> &'static str {
        GradeValue::from_code(&g.value).map_or("", |v| self.ui.t(v.label_key()))
    }
    pub fn no_grades_level(&self) -> bool {
        self.head.grade_level.is_some_and(|g| !super::domain::grade_level_has_grades(g))
    }
    /// A leader sees the way to a grade-10 pupil's diploma.
    pub fn shows_diploma(&self) -> bool {
        self.exemption_form.is_some() && self.head.grade_level == Some(10)
    }
    pub fn pupil_id(&self) -> String {
        self.exemption_form.as_ref().map(|f| f.pupil_id.to_string()).unwrap_or_default()
    }
    pub fn exemption_subject(&self, x: &ExemptionRow) -> String {
        x.subject(self.ui.lang)
    }
    pub fn exemption_kind(&self, x: &ExemptionRow) -> &'static str {
        ExemptionKind::from_code(&x.kind).map_or("", |k| self.ui.t(k.label_key()))
    }
    pub fn exemption_period(&self, x: &ExemptionRow) -> String {
        match x.to_date {
            Some(t) => format!("{}–{}", display_date(x.from_date), display_date(t)),
            None => format!("{} –", display_date(x.from_date)),
        }
    }
    pub fn exemption_kinds(&self) -> Vec<(&'static str, &'static str)> {
        [ExemptionKind::Assessment, ExemptionKind::Subject]
            .iter()
            .map(|k| (k.code(), self.ui.t(k.label_key())))
            .collect()
    }
    pub fn subject_name(&self, s: &SubjectOption) -> String {
        s.name(self.ui.lang)
    }
    /// Order and conduct in a period: (aspect's name, value, value in words).
    pub fn conduct_of(&self, b: &PeriodBlock) -> Vec<(&'static str, String, &'static str)> {
        self.conduct
            .iter()
            .filter(|c| c.period_id == b.period_id)
            .filter_map(|c| {
                let a = Aspect::from_code(&c.aspect)?;
                let v = ConductValue::from_code(&c.value)?;
                Some((self.ui.t(a.label_key()), c.value.clone(), self.ui.t(v.label_key())))
            })
            .collect()
    }
    pub fn remark_category(&self, r: &RemarkRow) -> String {
        r.category_label(self.ui.lang)
    }
    pub fn remark_when(&self, r: &RemarkRow) -> String {
        let mut s = display_date(r.day);
        if let Some(subject) = r.subject(self.ui.lang) {
            s.push_str(&format!(" · {subject}"));
        }
        s
    }
    pub fn warning_text(&self, w: &PupilWarningRow) -> String {
        let period = format!(
            "{} {}",
            self.ui.t(super::domain::PeriodKind::from_code(&w.kind).map_or("", |k| k.label_key())),
            w.year_name
        );
        let what = match (w.subject(self.ui.lang), w.aspect.as_deref().and_then(Aspect::from_code)) {
            (Some(s), _) => crate::web::i18n::tf(self.ui.lang, "assessment.warnings.risk_grade", &[("subject", &s)]),
            (None, Some(a)) => crate::web::i18n::tf(
                self.ui.lang,
                "assessment.warnings.risk_conduct",
                &[("aspect", self.ui.t(a.label_key()))],
            ),
            _ => String::new(),
        };
        format!("{}: {what} ({period})", display_date(w.sent_at.date()))
    }
    /// The grade's history (for the school), oldest first.
    pub fn history_of(&self, b: &PeriodBlock, g: &PupilGradeRow) -> Vec<&HistoryRow> {
        self.history.iter().filter(|h| h.period_id == b.period_id && h.subject_id == g.subject_id).collect()
    }
    /// Whether the grade has a history worth showing: more than its first entry, or a
    /// change after closing.
    pub fn shows_history(&self, b: &PeriodBlock, g: &PupilGradeRow) -> bool {
        let changes = self.history_of(b, g);
        changes.len() > 1 || changes.iter().any(|h| h.reason.is_some())
    }
    pub fn change_text(&self, h: &HistoryRow) -> String {
        let value = |v: &Option<String>| v.clone().unwrap_or_else(|| self.ui.t("assessment.history.none").to_owned());
        let mut s = crate::web::i18n::tf(
            self.ui.lang,
            "assessment.history.change",
            &[
                ("previous", &value(&h.previous)),
                ("value", &value(&h.value)),
                ("date", &display_date(h.changed_at.date())),
                ("name", &format!("{} {}", h.by_given, h.by_family)),
            ],
        );
        if let Some(r) = h.reason.as_deref().and_then(ChangeReason::from_code) {
            s.push_str(" – ");
            s.push_str(self.ui.t(r.label_key()));
        }
        s
    }
}

fn blocks(ui: &Ui, grades: Vec<PupilGradeRow>) -> Vec<PeriodBlock> {
    let mut out: Vec<PeriodBlock> = Vec::new();
    for g in grades {
        match out.last_mut() {
            Some(b) if b.period_id == g.period_id => b.grades.push(g),
            _ => out.push(PeriodBlock {
                period_id: g.period_id,
                title: format!("{} {}", ui.t(g.kind().label_key()), g.year_name),
                published: g.published,
                publish_on: g.publish_on.map(display_date),
                grades: vec![g],
            }),
        }
    }
    out
}

async fn page(
    mut work: Work,
    ui: Ui,
    access: PupilGradesAccess,
    own: bool,
    exemption_form: Option<ExemptionFormView>,
) -> Result<Response> {
    let head = queries::pupil_head(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let grades = queries::pupil_grades(work.conn(), access.pupil_id, access.as_school).await?;
    let history =
        if access.as_school { queries::pupil_history(work.conn(), access.pupil_id).await? } else { Vec::new() };
    let conduct = class::pupil_conduct(work.conn(), access.pupil_id).await?;
    let remarks = remarks::pupil_remarks(work.conn(), access.pupil_id, false).await?;
    let warnings = class::pupil_warnings(work.conn(), access.pupil_id).await?;
    let exemptions = queries::pupil_exemptions(work.conn(), access.pupil_id).await?;
    let exemption_form = match exemption_form {
        Some(mut f) => {
            f.subjects = queries::pupil_subjects(work.conn(), access.pupil_id).await?;
            Some(f)
        }
        None => None,
    };
    work.audit(&access, Action::Read, Resource::Grades, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    let blocks = blocks(&ui, grades);
    let status = if exemption_form.as_ref().is_some_and(|f| f.errors.any()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render_with(
        status,
        &GradesPage {
            ui,
            head,
            own,
            as_school: access.as_school,
            blocks,
            history,
            conduct,
            remarks,
            warnings,
            exemptions,
            exemption_form,
        },
    ))
}

/// The signed-in pupil's own grades.
pub async fn me(work: Work, ui: Ui) -> Result<Response> {
    let access = policy::own_grades_access(&work.actor())?;
    page(work, ui, access, true, None).await
}

/// A guardian's child's grades.
pub async fn child(work: Work, ui: Ui, Path(pupil): Path<String>) -> Result<Response> {
    let access = policy::child_grades_access(&work.actor(), path_id(&pupil)?)?;
    page(work, ui, access, false, None).await
}

/// The school's view of a pupil's grades, with their history.
pub async fn pupil(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::pupil_grades_access(work.conn(), &actor, path_id(&pupil)?).await?;
    let form = policy::exemption_access(&access).ok().map(|_| ExemptionFormView {
        pupil_id: access.pupil_id,
        saved: q.done == "exemption",
        ..Default::default()
    });
    page(work, ui, access, false, form).await
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// Record an exemption (from an individual decision, which is not stored): the
/// school's leaders. The subject is one the pupil is taught now; the period is from a
/// day, until a day or open. Refused by its fields and nothing stored otherwise.
pub async fn add_exemption(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<ExemptionForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::pupil_grades_access(work.conn(), &actor, path_id(&pupil)?).await?;
    policy::exemption_access(&access)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let subjects = queries::pupil_subjects(work.conn(), access.pupil_id).await?;
    let mut errors = FieldErrors::new();
    let subject = Uuid::parse_str(form.subject.trim()).ok().filter(|id| subjects.iter().any(|s| s.id == *id));
    if subject.is_none() {
        errors.add("subject", "assessment.error.exemption_subject");
    }
    let kind = ExemptionKind::from_code(form.kind.trim());
    if kind.is_none() {
        errors.add("kind", "assessment.error.exemption_kind").target("kind-assessment");
    }
    let from = parse_iso(&form.from);
    if from.is_none() {
        errors.add("from", "assessment.error.date_format");
    }
    let to = if form.to.trim().is_empty() { Ok(None) } else { parse_iso(&form.to).map(Some).ok_or(()) };
    match (&to, from) {
        (Err(()), _) => {
            errors.add("to", "assessment.error.date_format");
        }
        (Ok(Some(t)), Some(f)) if *t < f => {
            errors.add("to", "assessment.error.exemption_to_before_from");
        }
        _ => {}
    }
    let (Some(subject), Some(kind), Some(from), Ok(to), false) = (subject, kind, from, to, errors.any()) else {
        let view =
            ExemptionFormView { pupil_id: access.pupil_id, subjects: Vec::new(), sent: form, errors, saved: false };
        return page(work, ui, access, false, Some(view)).await;
    };
    let id =
        queries::add_exemption(work.conn(), access.pupil_id, subject, kind.code(), from, to, actor.person_id).await?;
    work.audit(&access, Action::Create, Resource::Exemptions, Some(id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/pupils/{}?done=exemption", access.pupil_id)).into_response())
}
