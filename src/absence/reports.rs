//! A guardian's absence reports (Min side): for a child under their parental
//! responsibility, a day or days, whole days or hours on one day, and a reason from
//! the municipality's code list. No free text: the form is a strict struct that
//! refuses any field it does not name. Both guardians with parental responsibility
//! see every report of the child; a report that has not begun may be withdrawn.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Duration};
use uuid::Uuid;

use super::day_range::{self, Window};
use super::domain;
use super::queries::{self, ChildRow, NewReport, ReasonRow, ReportRow};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, AbsenceReportAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

/// How far ahead a guardian may report (planned absence beyond it is a leave
/// application to the school, not a report).
pub const MAX_DAYS_AHEAD: i64 = 30;
/// How far back a guardian may report (a forgotten report of last week, not last term).
pub const MAX_DAYS_BACK: i64 = 14;

/// The report form. Strict: a field not named here (a "note", a "comment") makes the
/// whole request fail before anything is read, let alone stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportForm {
    /// Checked by the CSRF middleware before the handler runs; named here so that
    /// the strict form accepts it.
    #[serde(default)]
    #[expect(dead_code, reason = "read by the CSRF middleware, not here")]
    pub csrf: String,
    #[serde(default)]
    pub first_day: String,
    #[serde(default)]
    pub last_day: String,
    /// `whole_day` or `hours`.
    #[serde(default)]
    pub extent: String,
    #[serde(default)]
    pub from_time: String,
    #[serde(default)]
    pub to_time: String,
    #[serde(default)]
    pub reason: String,
}

/// The withdraw button's form: nothing but the CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawForm {
    #[serde(default)]
    #[expect(dead_code, reason = "read by the CSRF middleware, not here")]
    pub csrf: String,
}

#[derive(askama::Template)]
#[template(path = "absence/child.html")]
pub struct ChildPage {
    pub ui: Ui,
    pub child: ChildRow,
    pub reasons: Vec<ReasonRow>,
    pub reports: Vec<ReportRow>,
    pub form: ReportForm,
    pub errors: FieldErrors,
    pub today: Date,
    pub notice: Option<&'static str>,
}

impl ChildPage {
    /// The extent radio to show chosen: hours only when asked for.
    pub fn extent(&self) -> &'static str {
        if self.form.extent == "hours" {
            "hours"
        } else {
            "whole_day"
        }
    }
    pub fn reason_options(&self) -> Vec<(&str, &str)> {
        self.reasons.iter().map(|r| (r.code.as_str(), r.name.as_str())).collect()
    }
    pub fn period(&self, r: &ReportRow) -> String {
        if r.first_day == r.last_day {
            domain::display_date(r.first_day)
        } else {
            format!("{}–{}", domain::display_date(r.first_day), domain::display_date(r.last_day))
        }
    }
    pub fn extent_label(&self, r: &ReportRow) -> String {
        match (r.from_time, r.to_time) {
            (Some(a), Some(b)) => format!("{}–{}", domain::display_time(a), domain::display_time(b)),
            _ => self.ui.t("absence.whole_day").to_owned(),
        }
    }
    pub fn may_withdraw(&self, r: &ReportRow) -> bool {
        r.first_day > self.today
    }
    pub fn min_date(&self) -> String {
        domain::iso(self.today - Duration::days(MAX_DAYS_BACK))
    }
    pub fn max_date(&self) -> String {
        domain::iso(self.today + Duration::days(MAX_DAYS_AHEAD))
    }
    pub fn date(&self, raw: &str) -> String {
        domain::date_value(raw)
    }
    pub fn time(&self, raw: &str) -> String {
        domain::time_value(raw)
    }
    pub fn days_ahead(&self) -> String {
        MAX_DAYS_AHEAD.to_string()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub done: String,
}

/// The child's page with its reports, whose reading is audited.
async fn page(
    work: &mut Work,
    access: &AbsenceReportAccess,
    ui: Ui,
    form: ReportForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<ChildPage> {
    let (pupil, me) = (access.pupil_id, work.actor().person_id);
    let child = queries::children(work.conn(), &[pupil]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    let reasons = queries::guardian_reasons(work.conn(), ui.lang).await?;
    let reports = queries::reports_of(work.conn(), pupil, me, ui.lang).await?;
    let today = queries::today(work.conn()).await?;
    work.audit(access, Action::Read, Resource::AbsenceReports, Some(pupil), &[pupil]).await?;
    let mut errors = errors;
    errors.order(&["first_day", "last_day", "extent", "from_time", "to_time", "reason"]);
    errors.at_first_radio("extent", Some("whole_day"));
    errors.at_first_radio("reason", reasons.first().map(|r| r.code.as_str()));
    Ok(ChildPage { ui, child, reasons, reports, form, errors, today, notice })
}

/// The child's reports and the form for a new one.
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let pupil = path_id(&pupil_id)?;
    let access = policy::absence_report_access(&actor, pupil)?;
    let notice = match q.done.as_str() {
        "created" => Some("absence.report.created"),
        "withdrawn" => Some("absence.report.withdrawn"),
        _ => None,
    };
    let today = queries::today(work.conn()).await?;
    let form = ReportForm { first_day: domain::iso(today), extent: "whole_day".to_owned(), ..ReportForm::default() };
    let page = page(&mut work, &access, ui, form, FieldErrors::new(), notice).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

/// Check a report against the rules; `None` with the errors filled in when it breaks one.
async fn check(
    mut tx: crate::db::Conn<'_>,
    pupil: Uuid,
    form: &ReportForm,
    reasons: &[ReasonRow],
    errors: &mut FieldErrors,
) -> Result<Option<NewReport>> {
    let today = queries::today(tx.re()).await?;
    let window = Window {
        earliest: today - Duration::days(MAX_DAYS_BACK),
        too_early: "absence.error.too_far_back",
        latest: today + Duration::days(MAX_DAYS_AHEAD),
        too_late: "absence.error.too_far_ahead",
    };
    let (first, last) = day_range::check(tx.re(), &form.first_day, &form.last_day, &window, errors).await?;
    let hours = match form.extent.as_str() {
        "whole_day" => None,
        "hours" => {
            let from = domain::parse_time(&form.from_time);
            let to = domain::parse_time(&form.to_time);
            if from.is_none() {
                errors.add("from_time", "absence.error.time_format");
            }
            if to.is_none() {
                errors.add("to_time", "absence.error.time_format");
            }
            if let (Some(a), Some(b)) = (from, to) {
                if b <= a {
                    errors.add("to_time", "absence.error.to_before_from");
                }
            }
            if first != last && !errors.has("last_day") {
                errors.add("last_day", "absence.error.hours_one_day");
            }
            from.zip(to)
        }
        _ => {
            errors.add("extent", "absence.error.extent_required");
            None
        }
    };
    if !reasons.iter().any(|r| r.code == form.reason) {
        errors.add("reason", "absence.error.reason_required");
    }
    if errors.any() {
        return Ok(None);
    }
    let (Some(first_day), Some(last_day)) = (first, last) else { return Ok(None) };
    let report = NewReport { first_day, last_day, hours, reason: form.reason.clone() };
    queries::lock_child(tx.re(), pupil).await?;
    if queries::overlaps(tx.re(), pupil, &report).await? {
        errors.add("first_day", "absence.error.overlap");
        return Ok(None);
    }
    Ok(Some(report))
}

/// Make a report. Refused whole (400) if the form has any field it should not; 422
/// with the messages by the fields if it breaks a rule; nothing is stored then.
pub async fn create(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    form: std::result::Result<Form<ReportForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let pupil = path_id(&pupil_id)?;
    let access = policy::absence_report_access(&actor, pupil)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let reasons = queries::guardian_reasons(work.conn(), ui.lang).await?;
    let mut errors = FieldErrors::new();
    let Some(report) = check(work.conn(), access.pupil_id, &form, &reasons, &mut errors).await? else {
        let page = page(&mut work, &access, ui, form, errors, None).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let id = queries::insert_report(work.conn(), access.pupil_id, actor.person_id, &report).await?;
    work.audit(&access, Action::Create, Resource::AbsenceReport, Some(id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/absence/children/{}?done=created", access.pupil_id)).into_response())
}

/// Withdraw a report that has not begun. One that has begun (or is not the child's)
/// is not found: the school may already have acted on it.
pub async fn withdraw(
    mut work: Work,
    Path((pupil_id, report_id)): Path<(String, String)>,
    form: std::result::Result<Form<WithdrawForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let pupil = path_id(&pupil_id)?;
    let report = path_id(&report_id)?;
    let access = policy::absence_report_access(&actor, pupil)?;
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let today = queries::today(work.conn()).await?;
    if !queries::withdraw_report(work.conn(), access.pupil_id, report, today).await? {
        return Err(AppError::NotFound);
    }
    work.audit(&access, Action::Delete, Resource::AbsenceReport, Some(report), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/absence/children/{}?done=withdrawn", access.pupil_id)).into_response())
}
