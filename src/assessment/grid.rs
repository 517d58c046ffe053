//! A teaching group's grades for one period: one form with a line per pupil, a text
//! field each, typed from the keyboard (Tab to the next pupil) and saved at once. The
//! form works without JavaScript; a refused save shows every mistake next to its
//! field and keeps what was typed. Saving writes only what differs from what is
//! stored (saving twice changes nothing), with a history row per change, and its
//! audit event, in one transaction.
//!
//! Who may write: the group's teachers while the window is open; after it has closed,
//! the school's leaders, with a reason code (kept in the history). Before it opens,
//! and otherwise, the grid is read-only.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::domain::{ChangeReason, GradeValue, PeriodKind, Slot, Window};
use super::queries::{self, GridGroup, GridLine, PeriodRow};
use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::error::{AppError, Result};
use crate::policy::{self, GradeGroupAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct GridQuery {
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub saved: String,
}

/// What the actor may do with the chosen period's grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing to write (not open yet, or open and the actor is a leader who reads).
    Read,
    /// A teacher of the group while the window is open.
    Enter,
    /// A leader after the window has closed: each change needs a reason.
    ChangeLocked,
}

pub(super) fn mode(access: &GradeGroupAccess, window: Window) -> Mode {
    match window {
        Window::Open if access.teaches => Mode::Enter,
        Window::Closed if access.leads => Mode::ChangeLocked,
        _ => Mode::Read,
    }
}

/// A pupil's line as shown.
#[derive(Debug, Clone)]
pub struct Row {
    pub pupil_id: Uuid,
    pub name: String,
    /// The value as stored, or as typed in a refused save.
    pub value: String,
    pub stored: Option<String>,
    pub exempt: bool,
    pub changed_after_close: bool,
}

#[derive(askama::Template)]
#[template(path = "assessment/grid.html")]
pub struct GridPage {
    pub ui: Ui,
    pub group: GridGroup,
    /// The periods the group's grade level gets, for the chooser.
    pub periods: Vec<PeriodRow>,
    pub period: Option<PeriodRow>,
    pub mode: Mode,
    pub rows: Vec<Row>,
    pub errors: FieldErrors,
    pub reason: String,
    pub saved: Option<usize>,
    /// A leader of the school: the pupils' names lead to their grades and history.
    pub leads: bool,
}

impl GridPage {
    pub fn subject(&self) -> String {
        self.group.subject(self.ui.lang)
    }
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
    pub fn mode_text(&self) -> &'static str {
        match self.mode {
            Mode::Enter => self.ui.t("assessment.grid.mode_enter"),
            Mode::ChangeLocked => self.ui.t("assessment.grid.mode_locked"),
            Mode::Read => self.ui.t("assessment.grid.mode_read"),
        }
    }
    /// The legend of the values this group may get (the scale's, plus Fritatt where
    /// some pupil is exempt).
    pub fn legend(&self) -> Vec<(&'static str, &'static str)> {
        let Some(p) = &self.period else { return Vec::new() };
        let any_exempt = self.rows.iter().any(|r| r.exempt);
        Slot {
            kind: p.kind(),
            grade_level: self.group.grade_level,
            scale: self.group.scale(p.kind()),
            exempt: any_exempt,
        }
        .allowed()
        .into_iter()
        .map(|v| (v.code(), self.ui.t(v.label_key())))
        .collect()
    }
    pub fn value_word(&self, row: &Row) -> String {
        row.stored
            .as_deref()
            .and_then(GradeValue::from_code)
            .map(|v| self.ui.t(v.label_key()).to_owned())
            .unwrap_or_default()
    }
    pub fn reasons(&self) -> Vec<(&'static str, &'static str)> {
        ChangeReason::ALL.iter().map(|r| (r.code(), self.ui.t(r.label_key()))).collect()
    }
    pub fn no_grades(&self) -> bool {
        !super::domain::grade_level_has_grades(self.group.grade_level)
    }
    pub fn pupil_href(&self, row: &Row) -> String {
        format!("/assessment/pupils/{}", row.pupil_id)
    }
}

async fn load(work: &mut Work, group_id: &str) -> Result<(GradeGroupAccess, GridGroup, Vec<PeriodRow>)> {
    let actor = work.actor();
    let access = policy::grade_group_access(work.conn(), &actor, path_id(group_id)?).await?;
    let group = queries::grid_group(work.conn(), access.group_id).await?.ok_or(AppError::NotFound)?;
    let periods: Vec<PeriodRow> = queries::group_periods(work.conn(), &group)
        .await?
        .into_iter()
        .filter(|p| p.kind().in_grid() && p.kind().applies_to_grade(group.grade_level))
        .collect();
    Ok((access, group, periods))
}

/// The period asked for, or the one open now, else the last that has opened.
/// A class's page of the assessment (conduct, warnings): the access, the class, and its
/// periods that `keep` (given the period and the class's grade) says belong on it.
pub(super) async fn class_page(
    work: &mut Work,
    class_id: &str,
    keep: impl Fn(&PeriodRow, i16) -> bool,
) -> Result<(GradeGroupAccess, queries::class::ClassRow, Vec<PeriodRow>)> {
    let actor = work.actor();
    let access = policy::class_assessment_access(work.conn(), &actor, path_id(class_id)?).await?;
    let class = queries::class::class(work.conn(), access.group_id).await?.ok_or(AppError::NotFound)?;
    let periods: Vec<PeriodRow> = queries::class::periods(work.conn(), &class)
        .await?
        .into_iter()
        .filter(|p| keep(p, class.grade_level))
        .collect();
    Ok((access, class, periods))
}

pub(super) fn choose(periods: &[PeriodRow], raw: &str) -> Option<PeriodRow> {
    if let Ok(id) = Uuid::parse_str(raw.trim()) {
        return periods.iter().find(|p| p.id == id).cloned();
    }
    periods
        .iter()
        .find(|p| p.window() == Window::Open)
        .or_else(|| periods.iter().rev().find(|p| p.window() != Window::NotYetOpen))
        .or_else(|| periods.first())
        .cloned()
}

fn rows(lines: Vec<GridLine>) -> Vec<Row> {
    lines
        .into_iter()
        .map(|l| Row {
            pupil_id: l.pupil_id,
            name: format!("{} {}", l.given_name, l.family_name),
            value: l.value.clone().unwrap_or_default(),
            stored: l.value,
            exempt: l.exempt,
            changed_after_close: l.changed_after_close,
        })
        .collect()
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(group_id): Path<String>,
    Query(q): Query<GridQuery>,
) -> Result<Response> {
    let (access, group, periods) = load(&mut work, &group_id).await?;
    let period = choose(&periods, &q.period);
    if period.is_none() && !q.period.trim().is_empty() {
        return Err(AppError::NotFound);
    }
    let rows = match &period {
        Some(p) => rows(queries::grid_lines(work.conn(), &group, p).await?),
        None => Vec::new(),
    };
    if !rows.is_empty() {
        let subjects: Vec<Uuid> = rows.iter().map(|r| r.pupil_id).collect();
        work.audit(&access, Action::Read, Resource::Grades, Some(group.id), &subjects).await?;
    }
    work.commit().await?;
    let page = GridPage {
        mode: period.as_ref().map_or(Mode::Read, |p| mode(&access, p.window())),
        saved: q.saved.parse().ok(),
        ui,
        group,
        periods,
        period,
        rows,
        errors: FieldErrors::new(),
        reason: String::new(),
        leads: access.leads,
    };
    Ok(render_with(StatusCode::OK, &page))
}

/// The form as sent: the period, the reason (after closing), and `g-{pupil}` per line.
/// Any other field is refused (the form has no others).
struct Sent {
    period: String,
    reason: String,
    values: HashMap<Uuid, String>,
}

fn read_form(fields: Vec<(String, String)>) -> Result<Sent> {
    let mut sent = Sent { period: String::new(), reason: String::new(), values: HashMap::new() };
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => {}
            "period" => sent.period = value,
            "reason" => sent.reason = value,
            _ => {
                let id = name.strip_prefix("g-").and_then(|s| Uuid::parse_str(s).ok()).ok_or(AppError::BadRequest)?;
                if value.chars().count() > 20 || sent.values.insert(id, value).is_some() {
                    return Err(AppError::BadRequest);
                }
            }
        }
    }
    Ok(sent)
}

pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(group_id): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let (access, group, periods) = load(&mut work, &group_id).await?;
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read_form(fields)?;
    let period = Uuid::parse_str(sent.period.trim())
        .ok()
        .and_then(|id| periods.iter().find(|p| p.id == id).cloned())
        .ok_or(AppError::NotFound)?;
    let mode = mode(&access, period.window());
    if mode == Mode::Read {
        // They may see the grid, but not write to it now (or at all).
        return Err(AppError::Forbidden);
    }
    let lines = queries::grid_lines(work.conn(), &group, &period).await?;
    // Every pupil sent must be on the grid.
    if sent.values.keys().any(|id| !lines.iter().any(|l| l.pupil_id == *id)) {
        return Err(AppError::BadRequest);
    }
    let kind: PeriodKind = period.kind();
    let mut errors = FieldErrors::new();
    let mut pupils = Vec::new();
    let mut values = Vec::new();
    let mut changes = 0usize;
    for line in &lines {
        let Some(raw) = sent.values.get(&line.pupil_id) else { continue };
        let slot = Slot { kind, grade_level: group.grade_level, scale: group.scale(kind), exempt: line.exempt };
        match slot.check(raw) {
            Ok(value) => {
                let code = value.map(|v| v.code().to_owned()).unwrap_or_default();
                if line.value.as_deref().unwrap_or_default() != code {
                    changes += 1;
                }
                pupils.push(line.pupil_id);
                values.push(code);
            }
            Err(e) => {
                let name = format!("{} {}", line.given_name, line.family_name);
                errors.add(format!("g-{}", line.pupil_id), e.message_key()).about(name);
            }
        }
    }
    let reason = if mode == Mode::ChangeLocked {
        let r = ChangeReason::from_code(sent.reason.trim());
        if r.is_none() && changes > 0 {
            errors.add("reason", "assessment.error.reason_required").target("reason");
        }
        r
    } else {
        None
    };
    if errors.any() {
        let mut rows = rows(lines);
        for r in &mut rows {
            if let Some(v) = sent.values.get(&r.pupil_id) {
                r.value = v.clone();
            }
        }
        // The reason first in the summary, where it stands on the page.
        if errors.has("reason") {
            let mut order: Vec<String> = vec!["reason".to_owned()];
            order.extend(rows.iter().map(|r| format!("g-{}", r.pupil_id)));
            let refs: Vec<&str> = order.iter().map(String::as_str).collect();
            errors.order(&refs);
        }
        let page = GridPage {
            ui,
            group,
            periods,
            period: Some(period),
            mode,
            rows,
            errors,
            reason: sent.reason,
            saved: None,
            leads: access.leads,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let by = work.actor().person_id;
    let changed = queries::save_grades(
        work.conn(),
        period.id,
        group.subject_id,
        group.id,
        &pupils,
        &values,
        by,
        reason.map(ChangeReason::code),
    )
    .await?;
    if !changed.is_empty() {
        work.audit(&access, Action::Update, Resource::Grades, Some(group.id), &changed).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/groups/{}?period={}&saved={}", group.id, period.id, changed.len()))
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_holds_only_its_own_fields() {
        let id = Uuid::nil();
        let ok = read_form(vec![
            ("csrf".into(), "x".into()),
            ("period".into(), "p".into()),
            (format!("g-{id}"), "4".into()),
        ]);
        assert!(ok.is_ok());
        assert!(read_form(vec![("note".into(), "sick".into())]).is_err(), "no free text field");
        assert!(read_form(vec![(format!("g-{id}"), "4".into()), (format!("g-{id}"), "5".into())]).is_err());
        assert!(read_form(vec![(format!("g-{id}"), "x".repeat(21))]).is_err());
    }
}
