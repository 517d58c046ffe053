//! The right to information of a parent without parental responsibility (barnelova
//! § 47, issue 18, point 2): such a parent has no access to the child in Tavle, but may
//! ask the school for information about the child, unless a decision has taken that
//! right away. The school office records each request from one of the pupil's
//! guardians without parental responsibility: the day it came, and what was given (as
//! codes) or that it was refused because of such a decision. Recorded, never changed.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::queries::{self, GuardianChoice};
use crate::audit::{Action, Resource};
use crate::db::Conn;
use crate::domain::date::{display_date, iso, parse_iso};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// What may be given (stored codes; never rename one).
pub const ITEMS: [&str; 5] = ["assessment", "absence", "timetable", "meetings", "other"];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub given_name: String,
    pub family_name: String,
    pub received_on: Date,
    pub outcome: String,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    pub requester: String,
    #[serde(default)]
    pub received: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub item_assessment: String,
    #[serde(default)]
    pub item_absence: String,
    #[serde(default)]
    pub item_timetable: String,
    #[serde(default)]
    pub item_meetings: String,
    #[serde(default)]
    pub item_other: String,
}

impl RequestForm {
    fn ticked(&self) -> [&String; 5] {
        [&self.item_assessment, &self.item_absence, &self.item_timetable, &self.item_meetings, &self.item_other]
    }

    /// The items ticked (a checkbox sends `yes`), in catalogue order.
    fn items(&self) -> Vec<&'static str> {
        ITEMS.iter().zip(self.ticked()).filter(|(_, v)| v.as_str() == "yes").map(|(k, _)| *k).collect()
    }

    /// The boxes that sent something other than a checkbox does.
    fn odd_items(&self) -> Vec<&'static str> {
        ITEMS.iter().zip(self.ticked()).filter(|(_, v)| !v.is_empty() && v.as_str() != "yes").map(|(k, _)| *k).collect()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(askama::Template)]
#[template(path = "pupils/information_requests.html")]
pub struct InformationRequestsPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    pub requesters: Vec<GuardianChoice>,
    pub requests: Vec<RequestRow>,
    pub form: RequestForm,
    pub errors: FieldErrors,
    pub done: bool,
}

impl InformationRequestsPage {
    pub fn date(&self, d: &Date) -> String {
        display_date(*d)
    }
    pub fn what(&self, r: &RequestRow) -> String {
        if r.outcome == "refused" {
            return self.ui.t("information.refused").to_owned();
        }
        r.items.iter().map(|i| self.ui.t(&format!("information.item.{i}"))).collect::<Vec<_>>().join(", ")
    }
    pub fn outcomes(&self) -> Vec<(&'static str, &'static str)> {
        vec![("given", self.ui.t("information.outcome.given")), ("refused", self.ui.t("information.outcome.refused"))]
    }
    /// (field, label, ticked) of each item's checkbox.
    pub fn items(&self) -> Vec<(String, &'static str, bool)> {
        let ticked = self.form.items();
        ITEMS
            .iter()
            .map(|i| (format!("item_{i}"), self.ui.t(&format!("information.item.{i}")), ticked.contains(i)))
            .collect()
    }
}

async fn requests(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<RequestRow>> {
    Ok(sqlx::query_as(
        "SELECT p.given_name, p.family_name, r.received_on, r.outcome, r.items FROM information_requests r \
         JOIN persons p ON p.tenant_id = r.tenant_id AND p.id = r.requester_id \
         WHERE r.tenant_id = $1 AND p.tenant_id = $1 AND r.pupil_id = $2 ORDER BY r.received_on DESC, r.recorded_at DESC",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

struct Loaded {
    access: ContactPersonsAccess,
    name: String,
    requesters: Vec<GuardianChoice>,
    requests: Vec<RequestRow>,
}

async fn load(work: &mut Work, pupil: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::information_requests_access(work.conn(), &actor, path_id(pupil)?).await?;
    let name = queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let requesters = queries::guardian_choices(work.conn(), access.pupil_id)
        .await?
        .into_iter()
        .filter(|g| !g.parental_responsibility)
        .collect();
    let requests = requests(work.conn(), access.pupil_id).await?;
    Ok(Loaded { access, name, requesters, requests })
}

fn page(ui: Ui, l: Loaded, form: RequestForm, errors: FieldErrors, done: bool) -> InformationRequestsPage {
    InformationRequestsPage {
        ui,
        pupil_id: l.access.pupil_id,
        name: l.name,
        requesters: l.requesters,
        requests: l.requests,
        form,
        errors,
        done,
    }
}

pub async fn show(mut work: Work, ui: Ui, Path(pupil): Path<String>, Query(q): Query<DoneQuery>) -> Result<Response> {
    let l = load(&mut work, &pupil).await?;
    let today = crate::db::current_date(work.conn()).await?;
    let mut subjects: Vec<Uuid> = std::iter::once(l.access.pupil_id).chain(l.requesters.iter().map(|g| g.id)).collect();
    subjects.dedup();
    work.audit(&l.access, Action::Read, Resource::InformationRequests, Some(l.access.pupil_id), &subjects).await?;
    work.commit().await?;
    let form = RequestForm { received: iso(today), ..RequestForm::default() };
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new(), q.done == "recorded")))
}

/// Record a request and its outcome.
pub async fn record(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<RequestForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &pupil).await?;
    let today = crate::db::current_date(work.conn()).await?;
    let mut errors = FieldErrors::new();
    let requester = Uuid::parse_str(form.requester.trim()).ok().filter(|r| l.requesters.iter().any(|g| g.id == *r));
    if requester.is_none() {
        errors.add("requester", "information.error.requester");
    }
    let received = match parse_iso(&form.received) {
        Some(d) if d > today => {
            errors.add("received", "information.error.future");
            None
        }
        Some(d) if d < today - time::Duration::days(366) => {
            errors.add("received", "information.error.too_old");
            None
        }
        Some(d) => Some(d),
        None => {
            errors.add("received", "information.error.date");
            None
        }
    };
    let items = form.items();
    for odd in form.odd_items() {
        errors.add(format!("item_{odd}"), "information.error.item");
    }
    let outcome = match form.outcome.trim() {
        "given" if items.is_empty() => {
            errors.add("item_assessment", "information.error.items");
            None
        }
        "refused" if !items.is_empty() => {
            errors.add("item_assessment", "information.error.refused_items");
            None
        }
        o @ ("given" | "refused") => Some(o.to_owned()),
        _ => {
            errors.add("outcome", "information.error.outcome");
            None
        }
    };
    let (Some(requester), Some(received), Some(outcome), false) = (requester, received, outcome, errors.any()) else {
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors, false)));
    };
    let by = work.actor().person_id;
    let pupil = l.access.pupil_id;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO information_requests (tenant_id, pupil_id, requester_id, received_on, outcome, items, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(work.tenant())
    .bind(pupil)
    .bind(requester)
    .bind(received)
    .bind(&outcome)
    .bind(&items)
    .bind(by)
    .fetch_one(&mut *work.conn())
    .await?;
    work.audit(&l.access, Action::Create, Resource::InformationRequests, Some(id), &[pupil, requester]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/information-requests?done=recorded")).into_response())
}
