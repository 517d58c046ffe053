//! The school's side of leave: the list of pending applications the actor may see
//! (oldest first), and one application's page with the decision. A decision is
//! approve, or reject with a code from the list (no free text); it is audited with
//! the change, and an application already decided is never decided again (409).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::queries::{self, ApplicationRow, CodeRow, QueueRow};
use super::LeaveStatus;
use crate::absence::domain;
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, LeaveApplicationAccess, LeaveDecider};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(askama::Template)]
#[template(path = "absence/leave_list.html")]
pub struct LeaveListPage {
    pub ui: Ui,
    pub rows: Vec<QueueRow>,
    /// Schools whose limit the actor may change.
    pub settings: Vec<(Uuid, String)>,
    pub notice: Option<&'static str>,
}

impl LeaveListPage {
    pub fn period(&self, r: &QueueRow) -> String {
        super::period(r.first_day, r.last_day)
    }
    pub fn applied(&self, r: &QueueRow) -> String {
        domain::display_date(r.created_at.date())
    }
    pub fn level(&self, r: &QueueRow) -> &'static str {
        if r.school_days <= r.max_short_days {
            LeaveDecider::ContactTeacher.label_key()
        } else {
            LeaveDecider::Principal.label_key()
        }
    }
}

/// The pending applications the actor may see, oldest first.
pub async fn list(mut work: Work, ui: Ui, Query(q): Query<DoneQuery>) -> Result<Response> {
    let actor = work.actor();
    let scope = policy::leave_queue_scope(&actor)?;
    let rows = queries::queue(work.conn(), scope.person_id, &scope.teacher_at, &scope.school_at, ui.lang).await?;
    let settings = queries::schools(work.conn(), scope.settings_at.as_deref()).await?;
    let subjects: Vec<Uuid> = rows.iter().map(|r| r.pupil_id).collect();
    work.audit(&scope, Action::Read, Resource::LeaveQueue, None, &subjects).await?;
    work.commit().await?;
    let notice = match q.done.as_str() {
        "approved" => Some("leave.decided.approved"),
        "rejected" => Some("leave.decided.rejected"),
        _ => None,
    };
    Ok(render_with(StatusCode::OK, &LeaveListPage { ui, rows, settings, notice }))
}

/// The decision form. Strict, as every absence form: no field it does not name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideForm {
    /// Checked by the CSRF middleware before the handler runs.
    #[serde(default)]
    pub csrf: String,
    /// `approve` or `reject`.
    #[serde(default)]
    pub decision: String,
    /// A rejection code (only with `reject`).
    #[serde(default)]
    pub rejection: String,
}

#[derive(askama::Template)]
#[template(path = "absence/leave_show.html")]
pub struct ApplicationPage {
    pub ui: Ui,
    pub app: ApplicationRow,
    pub access: LeaveApplicationAccess,
    pub codes: Vec<CodeRow>,
    pub form: DecideForm,
    pub errors: FieldErrors,
    /// Set when a decision came too late: it was decided or withdrawn meanwhile.
    pub conflict: bool,
}

impl ApplicationPage {
    pub fn rejection_options(&self) -> Vec<(&str, &str)> {
        self.codes.iter().map(|c| (c.code.as_str(), c.name.as_str())).collect()
    }
    pub fn period(&self) -> String {
        super::period(self.app.first_day, self.app.last_day)
    }
    pub fn applied(&self) -> String {
        domain::display_date(self.app.created_at.date())
    }
    pub fn status(&self) -> LeaveStatus {
        LeaveStatus::from_code(&self.app.status)
    }
    pub fn pending(&self) -> bool {
        self.status() == LeaveStatus::Pending
    }
    pub fn may_decide(&self) -> bool {
        self.pending() && self.access.decides_as.is_some()
    }
    pub fn level(&self) -> &'static str {
        self.access.level.label_key()
    }
    pub fn decided_as(&self) -> Option<&'static str> {
        self.app.decided_as.as_deref().and_then(LeaveDecider::from_code).map(LeaveDecider::label_key)
    }
    pub fn days(&self) -> String {
        self.app.school_days.to_string()
    }
}

async fn load(
    work: &mut Work,
    id: &str,
    lang: crate::web::i18n::Lang,
) -> Result<(LeaveApplicationAccess, ApplicationRow)> {
    let id = path_id(id)?;
    let actor = work.actor();
    let access = policy::leave_application_access(work.conn(), &actor, id).await?;
    let app = queries::application(work.conn(), id, lang).await?.ok_or(AppError::NotFound)?;
    Ok((access, app))
}

/// Record `action` on the application (the pupil is its subject).
async fn audit(work: &mut Work, access: &LeaveApplicationAccess, action: Action) -> Result<()> {
    work.audit(access, action, Resource::LeaveApplication, Some(access.application_id), &[access.pupil_id]).await
}

/// One application, with the decision form for those who decide it.
pub async fn show_application(mut work: Work, ui: Ui, Path(id): Path<String>) -> Result<Response> {
    let (access, app) = load(&mut work, &id, ui.lang).await?;
    let codes = queries::rejection_codes(work.conn(), ui.lang).await?;
    audit(&mut work, &access, Action::Read).await?;
    work.commit().await?;
    let page = ApplicationPage {
        ui,
        app,
        access,
        codes,
        form: DecideForm::default(),
        errors: FieldErrors::new(),
        conflict: false,
    };
    Ok(render_with(StatusCode::OK, &page))
}

/// Approve or reject. Refused (403) to those who see the application but do not
/// decide it; 422 by the field for a missing decision or code; 409 when it is no
/// longer pending. Nothing is stored in any of those cases.
pub async fn decide(
    mut work: Work,
    ui: Ui,
    Path(id): Path<String>,
    form: std::result::Result<Form<DecideForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let (access, app) = load(&mut work, &id, ui.lang).await?;
    let decider = policy::leave_decision(&access)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let codes = queries::rejection_codes(work.conn(), ui.lang).await?;
    let mut errors = FieldErrors::new();
    let approve = match form.decision.as_str() {
        "approve" => Some(true),
        "reject" => Some(false),
        _ => {
            errors.add("decision", "leave.error.decision_required");
            None
        }
    };
    let rejection = match approve {
        Some(false) if codes.iter().any(|c| c.code == form.rejection) => Some(form.rejection.as_str()),
        Some(false) => {
            errors.add("rejection", "leave.error.rejection_required");
            None
        }
        _ => None,
    };
    let (status, conflict) = match approve {
        Some(approve) if !errors.any() => {
            let done = queries::decide(
                work.conn(),
                access.application_id,
                approve,
                rejection,
                actor.person_id,
                decider.code(),
            )
            .await?;
            if done {
                audit(&mut work, &access, Action::Update).await?;
                work.commit().await?;
                let done = if approve { "approved" } else { "rejected" };
                return Ok(Redirect::to(&format!("/absence/leave?done={done}")).into_response());
            }
            (StatusCode::CONFLICT, true)
        }
        _ => (StatusCode::UNPROCESSABLE_ENTITY, false),
    };
    // Nothing was stored: show the application as it is now, with the form as sent.
    let app = if conflict {
        queries::application(work.conn(), access.application_id, ui.lang).await?.unwrap_or(app)
    } else {
        app
    };
    audit(&mut work, &access, Action::Read).await?;
    work.commit().await?;
    errors.at_first_radio("decision", Some("approve"));
    errors.at_first_radio("rejection", codes.first().map(|c| c.code.as_str()));
    let page = ApplicationPage { ui, app, access, codes, form, errors, conflict };
    Ok(render_with(status, &page))
}
