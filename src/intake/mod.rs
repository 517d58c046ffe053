//! First-grade intake (issue 18, point 7): the children who start school next August
//! (born six years before), from the population register, each with the school of
//! its district (`school_districts`, kept by `tavle import districts`, `crate::districts`).
//!
//! - The office of a school (`/schools/{id}/intake`) sees its starters and why each
//!   starts there, and the requests for the school; its leaders decide a request
//!   (granted, or refused with a reason code) and place a child no district gives a
//!   school (no address, a protected one, a street in no district).
//! - A guardian with parental responsibility in the register (`/intake`, Min side)
//!   sees the school, asks for another with a reason code (never free text), may
//!   withdraw or change the request until it is decided, and sees the decision.
//!
//! No page shows an address: the district is matched in SQL and only the school named.

pub mod queries;

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::error::{AppError, Result};
use crate::policy::{self, IntakeAccess};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::i18n::tf;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;
use queries::{Basis, School, Starter, Which};

/// Why guardians ask for another school (stored codes; never rename one).
pub const REASONS: [&str; 5] = ["siblings", "closer_to_home", "after_school_care", "child_needs", "other"];
/// A decision, with the reason for a refusal: the value of the decision's choice.
pub const DECISIONS: [&str; 5] = [
    "granted",
    "refused:school_full",
    "refused:district_priority",
    "refused:needs_met_at_district_school",
    "refused:other",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/intake", get(guardian_page).post(ask))
        .route("/schools/{school_id}/intake", get(school_page))
        .route("/schools/{school_id}/intake/decide", post(decide))
        .route("/schools/{school_id}/intake/place", post(place))
        .route("/schools/{school_id}/intake/enrol", post(enrol))
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// Names of the first-grade schools, by id.
struct Schools(Vec<School>);

impl Schools {
    fn name(&self, id: Uuid) -> String {
        self.0.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------
// The school's office.

#[derive(askama::Template)]
#[template(path = "intake/school.html")]
pub struct SchoolPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    pub year: i32,
    pub takes_first_graders: bool,
    pub decides: bool,
    pub starting: Vec<Starter>,
    pub requests: Vec<Starter>,
    pub unplaced: Vec<Starter>,
    /// Those starting here whom the office may enrol now (no request waiting).
    pub to_enrol: usize,
    /// The first day of the intake year's school year, if entered.
    pub year_start: Option<Date>,
    pub errors: FieldErrors,
    pub done: String,
    schools: Schools,
}

impl SchoolPage {
    pub fn date(&self, d: &Option<Date>) -> String {
        d.map(display_date).unwrap_or_default()
    }
    pub fn enrol_intro(&self, start: &Date) -> String {
        tf(
            self.ui.lang,
            "intake.enrol_intro",
            &[("count", &self.to_enrol.to_string()), ("date", &display_date(*start))],
        )
    }
    pub fn basis(&self, s: &Starter) -> &'static str {
        match s.school().map(|(_, b)| b) {
            Some(Basis::Enrolled) => self.ui.t("intake.basis.enrolled"),
            Some(Basis::Granted) => self.ui.t("intake.basis.granted"),
            Some(Basis::Placed) => self.ui.t("intake.basis.placed"),
            _ => self.ui.t("intake.basis.district"),
        }
    }
    /// A request for another school by a child starting here.
    pub fn elsewhere(&self, s: &Starter) -> String {
        match s.requested_school {
            Some(other) if other != self.school_id => {
                let (school, status) = (self.schools.name(other), self.status(s));
                tf(self.ui.lang, "intake.asked_elsewhere", &[("school", &school), ("status", &status)])
            }
            _ => String::new(),
        }
    }
    pub fn reason(&self, s: &Starter) -> &'static str {
        s.reason.as_deref().map(|r| self.ui.t(&format!("intake.reason.{r}"))).unwrap_or_default()
    }
    pub fn status(&self, s: &Starter) -> String {
        status(&self.ui, s)
    }
    pub fn district(&self, s: &Starter) -> String {
        match s.district_school {
            Some(d) => self.schools.name(d),
            None => self.ui.t("intake.no_district").to_owned(),
        }
    }
    pub fn decisions(&self) -> Vec<(&'static str, &'static str)> {
        DECISIONS.iter().map(|d| (*d, self.ui.t(&format!("intake.decision.{}", d.replace(':', "_"))))).collect()
    }
    pub fn field(&self, name: &str, s: &Starter) -> String {
        format!("{name}-{}", s.id)
    }
}

/// A request's state in words: waiting, granted, or refused and why.
fn status(ui: &Ui, s: &Starter) -> String {
    match (s.decision.as_deref(), s.decision_reason.as_deref()) {
        (Some("granted"), _) => ui.t("intake.status.granted").to_owned(),
        (Some(_), Some(r)) => tf(ui.lang, "intake.status.refused", &[("reason", ui.t(&format!("intake.refusal.{r}")))]),
        _ => ui.t("intake.status.pending").to_owned(),
    }
}

struct Loaded {
    access: IntakeAccess,
    name: String,
    first_grade: bool,
    year: i32,
    year_start: Option<Date>,
    starters: Vec<Starter>,
    schools: Schools,
}

async fn load(work: &mut Work, school: &str) -> Result<Loaded> {
    let access = policy::school_intake_access(&work.actor(), path_id(school)?)?;
    let (name, first): (String, i16) =
        sqlx::query_as("SELECT s.name, s.first_grade FROM schools s WHERE s.tenant_id = $1 AND s.id = $2")
            .bind(work.tenant())
            .bind(access.school_id)
            .fetch_optional(&mut *work.conn())
            .await?
            .ok_or(AppError::NotFound)?;
    let year = queries::intake_year(work.conn()).await?;
    let year_start = queries::intake_year_start(work.conn()).await?;
    let which = Which::School { school: access.school_id, unplaced: access.decides && first == 1 };
    let starters = queries::starters(work.conn(), which).await?;
    let schools = Schools(queries::first_grade_schools(work.conn()).await?);
    Ok(Loaded { access, name, first_grade: first == 1, year, year_start, starters, schools })
}

fn build_school_page(ui: Ui, l: Loaded, errors: FieldErrors, done: String) -> SchoolPage {
    let school = l.access.school_id;
    let (mut starting, mut requests, mut unplaced) = (Vec::new(), Vec::new(), Vec::new());
    for s in l.starters {
        if s.requested_school == Some(school) {
            requests.push(s.clone());
        }
        match s.school() {
            Some((at, _)) if at == school => starting.push(s),
            None => unplaced.push(s),
            _ => {}
        }
    }
    let to_enrol = to_enrol(school, &starting).len();
    SchoolPage {
        ui,
        school_id: school,
        school_name: l.name,
        year: l.year,
        takes_first_graders: l.first_grade,
        decides: l.access.decides,
        starting,
        requests,
        unplaced,
        to_enrol,
        year_start: l.year_start,
        errors,
        done,
        schools: l.schools,
    }
}

async fn school_page(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response> {
    let l = load(&mut work, &school).await?;
    let subjects: Vec<Uuid> = l.starters.iter().map(|s| s.id).collect();
    work.audit(&l.access, Action::Read, Resource::Intake, Some(l.access.school_id), &subjects).await?;
    work.commit().await?;
    let done = if ["decided", "placed", "enrolled"].contains(&q.done.as_str()) { q.done } else { String::new() };
    Ok(render_with(StatusCode::OK, &build_school_page(ui, l, FieldErrors::new(), done)))
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub child: String,
    #[serde(default)]
    pub decision: String,
}

/// A leader decides a request for the school.
async fn decide(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<DecideForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let access = policy::intake_decision_access(&work.actor(), path_id(&school)?)?;
    let l = load(&mut work, &school).await?;
    let child = Uuid::parse_str(form.child.trim()).map_err(|_| AppError::BadRequest)?;
    // Only a waiting request for this school is decided here.
    let Some(s) = l.starters.iter().find(|s| s.id == child && s.requested_school == Some(access.school_id)) else {
        return Err(AppError::NotFound);
    };
    if !s.pending() {
        work.commit().await?;
        return Ok(Redirect::to(&format!("/schools/{}/intake?done=decided", access.school_id)).into_response());
    }
    let (decision, reason) = match form.decision.trim().split_once(':') {
        Some(("refused", r)) if DECISIONS.contains(&form.decision.trim()) => ("refused", Some(r.to_owned())),
        None if form.decision.trim() == "granted" => ("granted", None),
        _ => {
            let mut errors = FieldErrors::new();
            errors.add(format!("decision-{child}"), "intake.error.decision");
            work.commit().await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &build_school_page(ui, l, errors, String::new())));
        }
    };
    let by = work.actor().person_id;
    queries::decide(work.conn(), child, access.school_id, decision, reason.as_deref(), by).await?;
    work.audit(&access, Action::Update, Resource::Intake, Some(access.school_id), &[child]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{}/intake?done=decided", access.school_id)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    pub child: String,
}

/// A leader places a child no district gives a school at the school.
async fn place(
    mut work: Work,
    Path(school): Path<String>,
    form: std::result::Result<Form<PlaceForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let access = policy::intake_decision_access(&work.actor(), path_id(&school)?)?;
    let l = load(&mut work, &school).await?;
    let child = Uuid::parse_str(form.child.trim()).map_err(|_| AppError::BadRequest)?;
    let Some(s) = l.starters.iter().find(|s| s.id == child) else { return Err(AppError::NotFound) };
    if !l.first_grade || s.school().is_some() {
        // Placed meanwhile (by a decision, or another leader): nothing to do.
        work.commit().await?;
        return Ok(Redirect::to(&format!("/schools/{}/intake?done=placed", access.school_id)).into_response());
    }
    let by = work.actor().person_id;
    if queries::place(work.conn(), child, access.school_id, by).await? {
        work.audit(&access, Action::Create, Resource::Intake, Some(access.school_id), &[child]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{}/intake?done=placed", access.school_id)).into_response())
}

/// The children starting at `school` whom the office may enrol: not enrolled, and no
/// request for another school waiting (its decision may move the child).
fn to_enrol(school: Uuid, starters: &[Starter]) -> Vec<Uuid> {
    starters
        .iter()
        .filter(|s| !s.pending() && matches!(s.school(), Some((at, b)) if at == school && b != Basis::Enrolled))
        .map(|s| s.id)
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    pub confirm: String,
}

/// The office enrols the children starting at the school in grade 1 from the first day
/// of their school year: all of them in one transaction, with their register parents
/// as guardians. Refused on the page while that school year is not entered.
async fn enrol(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<EnrolForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &school).await?;
    let access = l.access;
    let mut errors = FieldErrors::new();
    if form.confirm != "yes" {
        errors.add("confirm", "intake.error.confirm");
    }
    let from = l.year_start;
    if from.is_none() {
        errors.add("confirm", "intake.error.no_year");
    }
    let children = to_enrol(access.school_id, &l.starters);
    let (Some(from), false) = (from, errors.any()) else {
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &build_school_page(ui, l, errors, String::new())));
    };
    if !l.first_grade || children.is_empty() {
        work.commit().await?;
        return Ok(Redirect::to(&format!("/schools/{}/intake?done=enrolled", access.school_id)).into_response());
    }
    let enrolled = queries::enrol(work.conn(), access.school_id, &children, from).await?;
    if !enrolled.is_empty() {
        work.audit(&access, Action::Create, Resource::Enrolment, Some(access.school_id), &enrolled).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{}/intake?done=enrolled", access.school_id)).into_response())
}

// ---------------------------------------------------------------------------------
// Min side.

#[derive(askama::Template)]
#[template(path = "intake/guardian.html")]
pub struct GuardianPage {
    pub ui: Ui,
    pub year: i32,
    pub children: Vec<Starter>,
    pub schools: Vec<School>,
    pub errors: FieldErrors,
    /// What the guardian typed, for the child whose form was refused.
    pub typed: HashMap<Uuid, AskForm>,
    pub done: String,
}

impl GuardianPage {
    fn name(&self, id: Uuid) -> String {
        self.schools.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_default()
    }
    pub fn date(&self, d: &Option<Date>) -> String {
        d.map(display_date).unwrap_or_default()
    }
    /// Where the child starts, in a sentence.
    pub fn starts_at(&self, s: &Starter) -> String {
        match s.school() {
            Some((school, basis)) => tf(
                self.ui.lang,
                &format!("intake.starts_at.{}", basis.code()),
                &[("school", &self.name(school)), ("year", &self.year.to_string())],
            ),
            None => self.ui.t("intake.starts_at.none").to_owned(),
        }
    }
    pub fn request(&self, s: &Starter) -> String {
        match (s.requested_school, s.reason.as_deref()) {
            (Some(school), Some(reason)) => tf(
                self.ui.lang,
                "intake.request_line",
                &[
                    ("school", &self.name(school)),
                    ("reason", self.ui.t(&format!("intake.reason.{reason}"))),
                    ("status", &status(&self.ui, s)),
                ],
            ),
            _ => String::new(),
        }
    }
    pub fn refused(&self, s: &Starter) -> bool {
        s.decision.as_deref() == Some("refused")
    }
    /// Schools to ask for: every first-grade school but the one the district gives.
    pub fn choices(&self, s: &Starter) -> Vec<&School> {
        self.schools.iter().filter(|c| Some(c.id) != s.district_school).collect()
    }
    pub fn reasons(&self) -> Vec<(&'static str, &'static str)> {
        REASONS.iter().map(|r| (*r, self.ui.t(&format!("intake.reason.{r}")))).collect()
    }
    pub fn field(&self, name: &str, s: &Starter) -> String {
        format!("{name}-{}", s.id)
    }
    /// The value in the child's form: what was typed, else the waiting request's.
    pub fn chosen_school(&self, s: &Starter) -> String {
        match self.typed.get(&s.id) {
            Some(f) => f.school.clone(),
            None => s.requested_school.filter(|_| s.pending()).map(|id| id.to_string()).unwrap_or_default(),
        }
    }
    pub fn chosen_reason(&self, s: &Starter) -> String {
        match self.typed.get(&s.id) {
            Some(f) => f.reason.clone(),
            None => s.reason.clone().filter(|_| s.pending()).unwrap_or_default(),
        }
    }
}

async fn guardian_load(work: &mut Work) -> Result<(policy::GuardianIntakeAccess, i32, Vec<Starter>, Vec<School>)> {
    let access = policy::guardian_intake_access(&work.actor())?;
    let year = queries::intake_year(work.conn()).await?;
    let children = queries::starters(work.conn(), Which::Children(&access.children)).await?;
    let schools = queries::first_grade_schools(work.conn()).await?;
    Ok((access, year, children, schools))
}

async fn guardian_page(mut work: Work, ui: Ui, Query(q): Query<DoneQuery>) -> Result<Response> {
    let (access, year, children, schools) = guardian_load(&mut work).await?;
    let subjects: Vec<Uuid> = children.iter().map(|c| c.id).collect();
    work.audit(&access, Action::Read, Resource::Intake, None, &subjects).await?;
    work.commit().await?;
    let done = if ["asked", "withdrawn"].contains(&q.done.as_str()) { q.done } else { String::new() };
    let page = GuardianPage { ui, year, children, schools, errors: FieldErrors::new(), typed: HashMap::new(), done };
    Ok(render_with(StatusCode::OK, &page))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    pub child: String,
    #[serde(default)]
    pub school: String,
    #[serde(default)]
    pub reason: String,
    /// `withdraw`, or asking.
    #[serde(default)]
    pub action: String,
}

/// A guardian asks for another school, changes a waiting request, or withdraws it.
async fn ask(mut work: Work, ui: Ui, form: std::result::Result<Form<AskForm>, FormRejection>) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let child = Uuid::parse_str(form.child.trim()).map_err(|_| AppError::NotFound)?;
    let access = policy::intake_request_access(&work.actor(), child)?;
    let (_, year, children, schools) = guardian_load(&mut work).await?;
    let Some(s) = children.iter().find(|c| c.id == child) else { return Err(AppError::NotFound) };
    if s.decision.is_some() || s.enrolled() {
        // Decided meanwhile (a form from before): it stands, and the page says so.
        work.commit().await?;
        return Ok(Redirect::to("/intake").into_response());
    }
    if !["ask", "withdraw"].contains(&form.action.as_str()) {
        return Err(AppError::BadRequest);
    }
    if form.action == "withdraw" {
        if queries::withdraw(work.conn(), child).await? {
            work.audit(&access, Action::Delete, Resource::Intake, None, &[child]).await?;
        }
        work.commit().await?;
        return Ok(Redirect::to("/intake?done=withdrawn").into_response());
    }
    let mut errors = FieldErrors::new();
    let school = Uuid::parse_str(form.school.trim())
        .ok()
        .filter(|id| schools.iter().any(|c| c.id == *id) && Some(*id) != s.district_school);
    if school.is_none() {
        errors.add(format!("school-{child}"), "intake.error.school");
    }
    let reason = REASONS.iter().find(|r| **r == form.reason.trim()).copied();
    if reason.is_none() {
        errors.add(format!("reason-{child}"), "intake.error.reason");
    }
    let (Some(school), Some(reason), false) = (school, reason, errors.any()) else {
        work.commit().await?;
        let typed = HashMap::from([(child, form)]);
        let page = GuardianPage { ui, year, children, schools, errors, typed, done: String::new() };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let by = work.actor().person_id;
    if queries::ask(work.conn(), child, school, reason, by).await? {
        work.audit(&access, Action::Create, Resource::Intake, None, &[child]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to("/intake?done=asked").into_response())
}
