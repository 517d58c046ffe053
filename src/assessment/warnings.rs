//! Written warnings (varsel): a class's pupils who risk getting no grade (IV entered in
//! a subject) or a lowered order or conduct grade (NG or LG entered) in a period, and
//! the warnings sent. The contact teacher (or a leader) sends them in good time before
//! the period's window closes: each warning is recorded with the pupil (once per period
//! and subject or aspect), audited, shown on the pupil's and the guardians' grade page,
//! and announced by e-mail through the outbox to the pupil and the guardians with
//! parental responsibility. The e-mail names no child and no subject: it points into
//! Tavle, where the warning is read after signing in.

use std::collections::HashSet;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::domain::{Aspect, Window};
use super::grid::{choose, class_page};
use super::queries::class::{self, ClassRow, WarningLine};
use super::queries::PeriodRow;
use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::error::{AppError, Result};
use crate::mail::outbox::{self, Kind, NewMessage};
use crate::policy::GradeGroupAccess;
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::i18n::{self, Lang};
use crate::web::layout::Ui;
use crate::web::render_with;
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct WarningsQuery {
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub sent: String,
}

#[derive(askama::Template)]
#[template(path = "assessment/warnings.html")]
pub struct WarningsPage {
    pub ui: Ui,
    pub class: ClassRow,
    pub periods: Vec<PeriodRow>,
    pub period: Option<PeriodRow>,
    pub lines: Vec<WarningLine>,
    /// Whether warnings may be sent now (the window has not closed).
    pub may_send: bool,
    pub errors: FieldErrors,
    pub sent: Option<usize>,
}

impl WarningsPage {
    pub fn period_label(&self, p: &PeriodRow) -> String {
        format!("{} {}", self.ui.t(p.kind().label_key()), p.year_name)
    }
    pub fn chosen(&self, p: &PeriodRow) -> bool {
        self.period.as_ref().is_some_and(|c| c.id == p.id)
    }
    pub fn name(&self, l: &WarningLine) -> String {
        format!("{} {}", l.given_name, l.family_name)
    }
    pub fn what(&self, l: &WarningLine) -> String {
        match (l.subject(self.ui.lang), l.aspect.as_deref().and_then(Aspect::from_code)) {
            (Some(s), _) => i18n::tf(self.ui.lang, "assessment.warnings.risk_grade", &[("subject", &s)]),
            (None, Some(a)) => {
                i18n::tf(self.ui.lang, "assessment.warnings.risk_conduct", &[("aspect", self.ui.t(a.label_key()))])
            }
            _ => String::new(),
        }
    }
    pub fn sent_on(&self, l: &WarningLine) -> String {
        l.sent_at.map(|t| display_date(t.date())).unwrap_or_default()
    }
    pub fn to_send(&self) -> usize {
        self.lines.iter().filter(|l| l.sent_at.is_none()).count()
    }
    pub fn deadline(&self) -> String {
        self.period.as_ref().map(|p| display_date(p.closes_on)).unwrap_or_default()
    }
}

async fn load(work: &mut Work, class_id: &str) -> Result<(GradeGroupAccess, ClassRow, Vec<PeriodRow>)> {
    class_page(work, class_id, |p, grade| p.kind().in_grid() && p.kind().applies_to_grade(grade)).await
}

fn may_send(access: &GradeGroupAccess, period: &PeriodRow) -> bool {
    (access.teaches || access.leads) && period.window() != Window::Closed
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(class_id): Path<String>,
    Query(q): Query<WarningsQuery>,
) -> Result<Response> {
    let (access, class, periods) = load(&mut work, &class_id).await?;
    let period = choose(&periods, &q.period);
    if period.is_none() && !q.period.trim().is_empty() {
        return Err(AppError::NotFound);
    }
    let lines = match &period {
        Some(p) => class::warning_lines(work.conn(), class.id, p).await?,
        None => Vec::new(),
    };
    if !lines.is_empty() {
        let mut subjects: Vec<Uuid> = lines.iter().map(|l| l.pupil_id).collect();
        subjects.dedup();
        work.audit(&access, Action::Read, Resource::AssessmentWarnings, Some(class.id), &subjects).await?;
    }
    work.commit().await?;
    let page = WarningsPage {
        may_send: period.as_ref().is_some_and(|p| may_send(&access, p)),
        sent: q.sent.parse().ok(),
        ui,
        class,
        periods,
        period,
        lines,
        errors: FieldErrors::new(),
    };
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn send(
    State(state): State<AppState>,
    mut work: Work,
    ui: Ui,
    Path(class_id): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let (access, class, periods) = load(&mut work, &class_id).await?;
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let mut period_raw = String::new();
    let mut chosen: HashSet<String> = HashSet::new();
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => {}
            "period" => period_raw = value,
            _ if name.starts_with("w-") && name.len() <= 80 && value == "1" => {
                chosen.insert(name);
            }
            _ => return Err(AppError::BadRequest),
        }
    }
    let period = Uuid::parse_str(period_raw.trim())
        .ok()
        .and_then(|id| periods.iter().find(|p| p.id == id).cloned())
        .ok_or(AppError::NotFound)?;
    if !may_send(&access, &period) {
        return Err(AppError::Forbidden);
    }
    let lines = class::warning_lines(work.conn(), class.id, &period).await?;
    // Every box ticked must be a warning this page offers.
    if chosen.iter().any(|f| !lines.iter().any(|l| l.field() == *f)) {
        return Err(AppError::BadRequest);
    }
    // Ticking one sent before (a second click, another tab) is not a mistake: it is sent.
    let to_send: Vec<&WarningLine> =
        lines.iter().filter(|l| l.sent_at.is_none() && chosen.contains(&l.field())).collect();
    if chosen.is_empty() {
        let page = WarningsPage {
            may_send: true,
            ui,
            class,
            periods,
            period: Some(period),
            lines,
            errors: FieldErrors::one("warnings", "assessment.error.choose_warning"),
            sent: None,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let by = work.actor().person_id;
    let link = state.config.public_url.join("/assessment").map(|u| u.to_string()).unwrap_or_default();
    let mut warned: Vec<Uuid> = Vec::new();
    for line in to_send {
        let Some(id) =
            class::record_warning(work.conn(), period.id, line.pupil_id, line.subject_id, line.aspect.as_deref(), by)
                .await?
        else {
            continue;
        };
        for r in class::warning_recipients(work.conn(), line.pupil_id).await? {
            let lang = Lang::from_code(&r.lang).unwrap_or(Lang::Nb);
            let body =
                i18n::tf(lang, "assessment.warning.mail_body", &[("school", &class.school_name), ("link", &link)]);
            outbox::enqueue(
                work.conn(),
                &NewMessage {
                    kind: Kind::AssessmentWarning,
                    dedupe_key: &id.to_string(),
                    school_id: class.school_id,
                    recipient_id: r.person_id,
                    recipient_address: &r.address,
                    lang,
                    subject: i18n::t(lang, "assessment.warning.mail_subject"),
                    body_text: &body,
                    body_html: None,
                },
            )
            .await?;
        }
        warned.push(line.pupil_id);
    }
    warned.sort();
    warned.dedup();
    if !warned.is_empty() {
        work.audit(&access, Action::Create, Resource::AssessmentWarnings, Some(class.id), &warned).await?;
    }
    work.commit().await?;
    let sent = warned.len();
    Ok(Redirect::to(&format!("/assessment/classes/{}/warnings?period={}&sent={sent}", class.id, period.id))
        .into_response())
}
