//! A class's order and conduct (orden og oppførsel) for one period: a line per pupil
//! with two choices, G, NG or LG (or none yet), set by the class's contact teacher while
//! the period's window is open; after it has closed, by the school's leaders with a
//! reason. Saved like grades: one statement, only what differs, a history row per
//! change, and the audit event, together.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use uuid::Uuid;

use super::domain::{conduct_applies, Aspect, ChangeReason, ConductValue};
use super::grid::{choose, class_page, mode, GridQuery, Mode};
use super::queries::class::{self, ClassRow, ConductLine};
use super::queries::PeriodRow;
use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::error::{AppError, Result};
use crate::policy::GradeGroupAccess;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::render_with;
use crate::work::Work;

/// A pupil's line as shown: the two values (as stored, or as sent in a refused save).
#[derive(Debug, Clone)]
pub struct Row {
    pub pupil_id: Uuid,
    pub name: String,
    pub order: String,
    pub conduct: String,
    pub changed_after_close: bool,
}

#[derive(askama::Template)]
#[template(path = "assessment/conduct.html")]
pub struct ConductPage {
    pub ui: Ui,
    pub class: ClassRow,
    pub periods: Vec<PeriodRow>,
    pub period: Option<PeriodRow>,
    pub mode: Mode,
    pub rows: Vec<Row>,
    pub errors: FieldErrors,
    pub reason: String,
    pub saved: Option<usize>,
}

impl ConductPage {
    pub fn period_label(&self, p: &PeriodRow) -> String {
        format!("{} {}", self.ui.t(p.kind().label_key()), p.year_name)
    }
    pub fn chosen(&self, p: &PeriodRow) -> bool {
        self.period.as_ref().is_some_and(|c| c.id == p.id)
    }
    pub fn window_text(&self) -> String {
        match &self.period {
            Some(p) => crate::web::i18n::tf(
                self.ui.lang,
                p.window().label_key(),
                &[("from", &display_date(p.opens_on)), ("to", &display_date(p.closes_on))],
            ),
            None => String::new(),
        }
    }
    pub fn window_color(&self) -> &'static str {
        self.period.as_ref().map_or("neutral", |p| p.window().color())
    }
    pub fn writable(&self) -> bool {
        self.mode != Mode::Read
    }
    pub fn locked(&self) -> bool {
        self.mode == Mode::ChangeLocked
    }
    pub fn aspects(&self) -> [Aspect; 2] {
        [Aspect::Order, Aspect::Conduct]
    }
    pub fn value<'a>(&self, row: &'a Row, a: &Aspect) -> &'a str {
        if *a == Aspect::Order {
            &row.order
        } else {
            &row.conduct
        }
    }
    pub fn field(&self, row: &Row, a: &Aspect) -> String {
        format!("{}-{}", a.code(), row.pupil_id)
    }
    pub fn label(&self, row: &Row, a: &Aspect) -> String {
        format!("{}: {}", self.ui.t(a.label_key()), row.name)
    }
    pub fn options(&self) -> Vec<(&'static str, &'static str)> {
        ConductValue::ALL.iter().map(|v| (v.code(), self.ui.t(v.label_key()))).collect()
    }
    pub fn reasons(&self) -> Vec<(&'static str, &'static str)> {
        ChangeReason::ALL.iter().map(|r| (r.code(), self.ui.t(r.label_key()))).collect()
    }
    pub fn mode_text(&self) -> &'static str {
        match self.mode {
            Mode::Enter => self.ui.t("assessment.conduct.mode_enter"),
            Mode::ChangeLocked => self.ui.t("assessment.grid.mode_locked"),
            Mode::Read => self.ui.t("assessment.grid.mode_read"),
        }
    }
}

async fn load(work: &mut Work, class_id: &str) -> Result<(GradeGroupAccess, ClassRow, Vec<PeriodRow>)> {
    class_page(work, class_id, |p, grade| conduct_applies(p.kind(), grade)).await
}

fn rows(lines: Vec<ConductLine>) -> Vec<Row> {
    lines
        .into_iter()
        .map(|l| Row {
            pupil_id: l.pupil_id,
            name: format!("{} {}", l.given_name, l.family_name),
            order: l.order_value.unwrap_or_default(),
            conduct: l.conduct_value.unwrap_or_default(),
            changed_after_close: l.changed_after_close,
        })
        .collect()
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(class_id): Path<String>,
    Query(q): Query<GridQuery>,
) -> Result<Response> {
    let (access, class, periods) = load(&mut work, &class_id).await?;
    let period = choose(&periods, &q.period);
    if period.is_none() && !q.period.trim().is_empty() {
        return Err(AppError::NotFound);
    }
    let rows = match &period {
        Some(p) => rows(class::conduct_lines(work.conn(), class.id, p).await?),
        None => Vec::new(),
    };
    if !rows.is_empty() {
        let subjects: Vec<Uuid> = rows.iter().map(|r| r.pupil_id).collect();
        work.audit(&access, Action::Read, Resource::Conduct, Some(class.id), &subjects).await?;
    }
    work.commit().await?;
    let page = ConductPage {
        mode: period.as_ref().map_or(Mode::Read, |p| mode(&access, p.window())),
        saved: q.saved.parse().ok(),
        ui,
        class,
        periods,
        period,
        rows,
        errors: FieldErrors::new(),
        reason: String::new(),
    };
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(class_id): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let (access, class, periods) = load(&mut work, &class_id).await?;
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let (mut period_raw, mut reason_raw) = (String::new(), String::new());
    let mut sent: HashMap<(Uuid, Aspect), String> = HashMap::new();
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => {}
            "period" => period_raw = value,
            "reason" => reason_raw = value,
            _ => {
                let (aspect, id) = name.split_once('-').ok_or(AppError::BadRequest)?;
                let aspect = Aspect::from_code(aspect).ok_or(AppError::BadRequest)?;
                let id = Uuid::parse_str(id).map_err(|_| AppError::BadRequest)?;
                if value.len() > 4 || sent.insert((id, aspect), value).is_some() {
                    return Err(AppError::BadRequest);
                }
            }
        }
    }
    let period = Uuid::parse_str(period_raw.trim())
        .ok()
        .and_then(|id| periods.iter().find(|p| p.id == id).cloned())
        .ok_or(AppError::NotFound)?;
    let mode = mode(&access, period.window());
    if mode == Mode::Read {
        return Err(AppError::Forbidden);
    }
    let lines = class::conduct_lines(work.conn(), class.id, &period).await?;
    if sent.keys().any(|(id, _)| !lines.iter().any(|l| l.pupil_id == *id)) {
        return Err(AppError::BadRequest);
    }
    let mut errors = FieldErrors::new();
    let (mut pupils, mut aspects, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let mut changes = 0usize;
    for line in &lines {
        for (aspect, stored) in [(Aspect::Order, &line.order_value), (Aspect::Conduct, &line.conduct_value)] {
            let Some(raw) = sent.get(&(line.pupil_id, aspect)) else { continue };
            let raw = raw.trim();
            if !raw.is_empty() && ConductValue::from_code(raw).is_none() {
                let name = format!("{} {}", line.given_name, line.family_name);
                errors
                    .add(format!("{}-{}", aspect.code(), line.pupil_id), "assessment.error.conduct_value")
                    .about(name);
                continue;
            }
            if stored.as_deref().unwrap_or_default() != raw {
                changes += 1;
            }
            pupils.push(line.pupil_id);
            aspects.push(aspect.code().to_owned());
            values.push(raw.to_owned());
        }
    }
    let reason = if mode == Mode::ChangeLocked {
        let r = ChangeReason::from_code(reason_raw.trim());
        if r.is_none() && changes > 0 {
            errors.add("reason", "assessment.error.reason_required");
        }
        r
    } else {
        None
    };
    if errors.any() {
        let mut rows = rows(lines);
        for r in &mut rows {
            if let Some(v) = sent.get(&(r.pupil_id, Aspect::Order)) {
                r.order = v.clone();
            }
            if let Some(v) = sent.get(&(r.pupil_id, Aspect::Conduct)) {
                r.conduct = v.clone();
            }
        }
        let page = ConductPage {
            ui,
            class,
            periods,
            period: Some(period),
            mode,
            rows,
            errors,
            reason: reason_raw,
            saved: None,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let by = work.actor().person_id;
    let changed =
        class::save_conduct(work.conn(), period.id, &pupils, &aspects, &values, by, reason.map(ChangeReason::code))
            .await?;
    if !changed.is_empty() {
        work.audit(&access, Action::Update, Resource::Conduct, Some(class.id), &changed).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/classes/{}/conduct?period={}&saved={}", class.id, period.id, changed.len()))
        .into_response())
}
