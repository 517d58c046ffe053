//! The guardians' leave page for a child: apply for whole school days in advance
//! with a reason from the list, see every application of the child with the school's
//! answer, and withdraw one that is still pending. No free text: the form is a strict
//! struct that refuses any field it does not name.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Duration};
use uuid::Uuid;

use super::queries::{self, CodeRow, GuardianRow, NewApplication};
use super::{LeaveStatus, MAX_DAYS_AHEAD};
use crate::absence::day_range::{self, Window};
use crate::absence::domain;
use crate::absence::queries::{self as absence_queries, ChildRow};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, AbsenceReportAccess, LeaveDecider};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

/// The application form. Strict: a field not named here (a "note", a "comment")
/// makes the whole request fail before anything is read, let alone stored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveForm {
    /// Checked by the CSRF middleware before the handler runs.
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub first_day: String,
    #[serde(default)]
    pub last_day: String,
    #[serde(default)]
    pub reason: String,
}

/// The withdraw button's form: nothing but the CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawForm {
    /// Checked by the CSRF middleware before the handler runs.
    #[serde(default)]
    pub csrf: String,
}

#[derive(askama::Template)]
#[template(path = "absence/leave_child.html")]
pub struct LeaveChildPage {
    pub ui: Ui,
    pub child: ChildRow,
    pub reasons: Vec<CodeRow>,
    pub applications: Vec<GuardianRow>,
    pub form: LeaveForm,
    pub errors: FieldErrors,
    pub today: Date,
    /// A success message, or (`conflict`) why a withdrawal did not happen.
    pub notice: Option<&'static str>,
    pub conflict: bool,
}

impl LeaveChildPage {
    pub fn reason_options(&self) -> Vec<(&str, &str)> {
        self.reasons.iter().map(|r| (r.code.as_str(), r.name.as_str())).collect()
    }
    pub fn period(&self, a: &GuardianRow) -> String {
        super::period(a.first_day, a.last_day)
    }
    pub fn status(&self, a: &GuardianRow) -> LeaveStatus {
        LeaveStatus::from_code(&a.status)
    }
    /// "Approved by the contact teacher", "Rejected by the principal: <code>".
    pub fn answer(&self, a: &GuardianRow) -> String {
        let status = self.status(a);
        let mut s = self.ui.t(status.label_key()).to_owned();
        if let Some(by) = a.decided_as.as_deref().and_then(LeaveDecider::from_code) {
            s = format!("{s} ({})", self.ui.t(by.label_key()));
        }
        if let Some(r) = &a.rejection {
            s = format!("{s}: {r}");
        }
        s
    }
    pub fn may_withdraw(&self, a: &GuardianRow) -> bool {
        self.status(a) == LeaveStatus::Pending
    }
    pub fn min_date(&self) -> String {
        self.today.next_day().map(domain::iso).unwrap_or_default()
    }
    pub fn max_date(&self) -> String {
        domain::iso(self.today + Duration::days(MAX_DAYS_AHEAD))
    }
    pub fn date(&self, raw: &str) -> String {
        domain::date_value(raw)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub done: String,
}

/// The child's page with its applications, whose reading is audited.
async fn page(
    work: &mut Work,
    access: &AbsenceReportAccess,
    ui: Ui,
    form: LeaveForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
    conflict: bool,
) -> Result<LeaveChildPage> {
    let (pupil, me) = (access.pupil_id, work.actor().person_id);
    let child = absence_queries::children(work.conn(), &[pupil]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    let reasons = queries::reasons(work.conn(), ui.lang).await?;
    let applications = queries::applications_of(work.conn(), pupil, me, ui.lang).await?;
    let today = absence_queries::today(work.conn()).await?;
    work.audit(access, Action::Read, Resource::LeaveApplications, Some(pupil), &[pupil]).await?;
    let mut errors = errors;
    errors.order(&["first_day", "last_day", "reason"]);
    errors.at_first_radio("reason", reasons.first().map(|r| r.code.as_str()));
    Ok(LeaveChildPage { ui, child, reasons, applications, form, errors, today, notice, conflict })
}

/// The child's applications and the form for a new one.
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::leave_guardian_access(&actor, path_id(&pupil_id)?)?;
    let notice = match q.done.as_str() {
        "created" => Some("leave.created"),
        "withdrawn" => Some("leave.withdrawn"),
        _ => None,
    };
    let page = page(&mut work, &access, ui, LeaveForm::default(), FieldErrors::new(), notice, false).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

/// Check an application against the rules; `None` with the errors filled in when it
/// breaks one. Holds the child's row from the overlap check to the commit.
async fn check(
    mut tx: crate::db::Conn<'_>,
    pupil: Uuid,
    form: &LeaveForm,
    reasons: &[CodeRow],
    errors: &mut FieldErrors,
) -> Result<Option<NewApplication>> {
    let today = absence_queries::today(tx.re()).await?;
    // Applied for in advance: from tomorrow.
    let window = Window {
        earliest: today + Duration::days(1),
        too_early: "leave.error.not_in_advance",
        latest: today + Duration::days(MAX_DAYS_AHEAD),
        too_late: "leave.error.too_far_ahead",
    };
    let (first, last) = day_range::check(tx.re(), &form.first_day, &form.last_day, &window, errors).await?;
    if !reasons.iter().any(|r| r.code == form.reason) {
        errors.add("reason", "absence.error.reason_required");
    }
    if errors.any() {
        return Ok(None);
    }
    let (Some(first_day), Some(last_day)) = (first, last) else { return Ok(None) };
    // The school that decides: where the child is enrolled now.
    let Some(school_id) = queries::school_of(tx.re(), pupil, today).await? else {
        errors.add("first_day", "leave.error.no_school");
        return Ok(None);
    };
    let days = queries::school_days(tx.re(), school_id, first_day, last_day).await?;
    if days == 0 {
        errors.add("first_day", "leave.error.no_school_days");
        return Ok(None);
    }
    absence_queries::lock_child(tx.re(), pupil).await?;
    if queries::overlaps(tx.re(), pupil, first_day, last_day).await? {
        errors.add("first_day", "leave.error.overlap");
        return Ok(None);
    }
    let school_days = i16::try_from(days).map_err(|_| AppError::BadRequest)?;
    Ok(Some(NewApplication { school_id, first_day, last_day, school_days, reason: form.reason.clone() }))
}

/// Apply for leave. Refused whole (400) if the form has any field it should not; 422
/// with the messages by the fields if it breaks a rule; nothing is stored then.
pub async fn create(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    form: std::result::Result<Form<LeaveForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::leave_guardian_access(&actor, path_id(&pupil_id)?)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let reasons = queries::reasons(work.conn(), ui.lang).await?;
    let mut errors = FieldErrors::new();
    let Some(application) = check(work.conn(), access.pupil_id, &form, &reasons, &mut errors).await? else {
        let page = page(&mut work, &access, ui, form, errors, None, false).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let id = queries::insert(work.conn(), access.pupil_id, actor.person_id, &application).await?;
    work.audit(&access, Action::Create, Resource::LeaveApplication, Some(id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/absence/children/{}/leave?done=created", access.pupil_id)).into_response())
}

/// Withdraw a pending application. One already decided (or withdrawn) stays as it
/// is: the page comes back with 409 and says why.
pub async fn withdraw(
    mut work: Work,
    ui: Ui,
    Path((pupil_id, application_id)): Path<(String, String)>,
    form: std::result::Result<Form<WithdrawForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::leave_guardian_access(&actor, path_id(&pupil_id)?)?;
    let application = path_id(&application_id)?;
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let status = queries::status_of(work.conn(), access.pupil_id, application).await?.ok_or(AppError::NotFound)?;
    if LeaveStatus::from_code(&status) != LeaveStatus::Pending
        || !queries::withdraw(work.conn(), access.pupil_id, application, actor.person_id).await?
    {
        let notice = Some("leave.error.not_pending");
        let page = page(&mut work, &access, ui, LeaveForm::default(), FieldErrors::new(), notice, true).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::CONFLICT, &page));
    }
    work.audit(&access, Action::Update, Resource::LeaveApplication, Some(application), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/absence/children/{}/leave?done=withdrawn", access.pupil_id)).into_response())
}
