//! A pupil's special arrangements (issue 18, point 8), recorded by the office from the
//! decision (which is not stored): the right to school transport, special Norwegian
//! instruction, bilingual subject teaching, mother-tongue teaching, special education
//! (hours a week, with which teacher, on which weekdays). Codes and numbers only, never
//! free text. The card shows those in force to the office, the teachers who teach the
//! pupil and the guardians (`PupilCardAccess::arrangements`). Recorded from a day, ended
//! from today (one that has not begun is withdrawn); every change audited.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Duration};
use uuid::Uuid;

use super::queries::{self, ArrangementRow};
use crate::audit::{Action, Resource};
use crate::domain::date::{date_value, display_date, iso, parse};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The kinds (stored; never rename one).
pub const KINDS: [&str; 5] =
    ["school_transport", "special_norwegian", "bilingual_teaching", "mother_tongue_teaching", "special_education"];

/// The weekdays a form offers (ISO: 1 is Monday).
const WEEKDAYS: [i16; 5] = [1, 2, 3, 4, 5];

/// An arrangement as a line of text in the page's language: kind, hours a week, teacher,
/// weekdays, and from when (to when).
pub fn describe(ui: &Ui, a: &ArrangementRow) -> String {
    let mut parts = vec![ui.t(&format!("arrangements.kind.{}", a.kind)).to_owned()];
    if let Some(tenths) = a.tenths {
        let hours =
            if tenths % 10 == 0 { format!("{}", tenths / 10) } else { format!("{},{}", tenths / 10, tenths % 10) };
        parts.push(ui.tf("arrangements.hours_a_week", "hours", &hours));
    }
    if let Some(t) = &a.teacher {
        parts.push(ui.tf("arrangements.with", "teacher", t));
    }
    if !a.weekdays.is_empty() {
        let days: Vec<&str> = a.weekdays.iter().map(|d| ui.t(&format!("arrangements.day.{d}"))).collect();
        parts.push(days.join(", "));
    }
    let period = match a.to_date {
        Some(to) => format!("{} – {}", display_date(a.from_date), display_date(to)),
        None => ui.tf("links.since", "date", &display_date(a.from_date)),
    };
    parts.push(period);
    parts.join(" · ")
}

#[derive(askama::Template)]
#[template(path = "pupils/arrangements.html")]
pub struct ArrangementsPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    pub today: Date,
    pub arrangements: Vec<ArrangementRow>,
    pub teachers: Vec<(Uuid, String)>,
    pub form: ArrangementForm,
    pub errors: FieldErrors,
    pub done: String,
}

impl ArrangementsPage {
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        KINDS.iter().map(|k| (*k, self.ui.t(&format!("arrangements.kind.{k}")))).collect()
    }
    pub fn describe(&self, a: &ArrangementRow) -> String {
        describe(&self.ui, a)
    }
    pub fn in_force(&self, a: &ArrangementRow) -> bool {
        a.to_date.is_none_or(|t| t > self.today)
    }
    pub fn weekdays(&self) -> Vec<(String, &'static str, bool)> {
        WEEKDAYS
            .iter()
            .map(|d| {
                (d.to_string(), self.ui.t(&format!("arrangements.day.{d}")), self.form.days.contains(&d.to_string()))
            })
            .collect()
    }
    pub fn done_text(&self) -> &'static str {
        match self.done.as_str() {
            "added" => self.ui.t("arrangements.done.added"),
            "ended" => self.ui.t("arrangements.done.ended"),
            _ => "",
        }
    }
}

/// The form as sent (kept as typed).
#[derive(Debug, Default)]
pub struct ArrangementForm {
    pub kind: String,
    pub from: String,
    pub to: String,
    pub hours: String,
    pub teacher: String,
    pub days: Vec<String>,
}

impl ArrangementForm {
    fn read(fields: Vec<(String, String)>) -> Self {
        let mut f = Self::default();
        for (k, v) in fields {
            match k.as_str() {
                "kind" => f.kind = v,
                "from" => f.from = v,
                "to" => f.to = v,
                "hours" => f.hours = v,
                "teacher" => f.teacher = v,
                "day" => f.days.push(v),
                _ => {}
            }
        }
        f
    }
    pub fn start_value(&self) -> String {
        date_value(&self.from)
    }
    pub fn end_value(&self) -> String {
        date_value(&self.to)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ArrangementsQuery {
    #[serde(default)]
    pub done: String,
}

struct Loaded {
    access: ContactPersonsAccess,
    name: String,
    today: Date,
    arrangements: Vec<ArrangementRow>,
    teachers: Vec<(Uuid, String)>,
}

async fn load(work: &mut Work, pupil: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::special_arrangements_access(work.conn(), &actor, path_id(pupil)?).await?;
    let name = queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let today = crate::db::current_date(work.conn()).await?;
    let arrangements = queries::arrangements(work.conn(), access.pupil_id, true).await?;
    let schools = policy::current_schools(work.conn(), access.pupil_id).await?;
    let mut teachers = Vec::new();
    for school in schools {
        for s in crate::groups::queries::school_staff(work.conn(), school).await? {
            teachers.push((s.staff_id, format!("{} {}", s.given_name, s.family_name)));
        }
    }
    teachers.dedup_by_key(|t| t.0);
    Ok(Loaded { access, name, today, arrangements, teachers })
}

fn page(ui: Ui, l: Loaded, form: ArrangementForm, errors: FieldErrors, done: String) -> ArrangementsPage {
    ArrangementsPage {
        ui,
        pupil_id: l.access.pupil_id,
        name: l.name,
        today: l.today,
        arrangements: l.arrangements,
        teachers: l.teachers,
        form,
        errors,
        done,
    }
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    Query(q): Query<ArrangementsQuery>,
) -> Result<Response> {
    let l = load(&mut work, &pupil).await?;
    let pupil = l.access.pupil_id;
    work.audit(&l.access, Action::Read, Resource::SpecialArrangements, Some(pupil), &[pupil]).await?;
    work.commit().await?;
    let form = ArrangementForm { from: iso(l.today), ..ArrangementForm::default() };
    let done = if matches!(q.done.as_str(), "added" | "ended") { q.done } else { String::new() };
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new(), done)))
}

/// An arrangement, checked.
struct Checked {
    kind: &'static str,
    from: Date,
    to: Option<Date>,
    tenths: Option<i32>,
    teacher: Option<Uuid>,
    days: Vec<i16>,
}

fn check(f: &ArrangementForm, l: &Loaded) -> std::result::Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = KINDS.iter().find(|k| **k == f.kind.trim()).copied();
    if kind.is_none() {
        errors.add("kind", "arrangements.error.kind").target(format!("kind-{}", KINDS[0]));
    }
    let transport = kind == Some("school_transport");
    // From a year back (a decision recorded late) to a year ahead.
    let from = match parse(&f.from) {
        Some(d) if d >= l.today - Duration::days(366) && d <= l.today + Duration::days(366) => Some(d),
        _ => {
            errors.add("from", "arrangements.error.from");
            None
        }
    };
    let to = match f.to.trim() {
        "" => None,
        raw => match (parse(raw), from) {
            (Some(d), Some(from)) if d > from && d <= from + Duration::days(4 * 366) => Some(d),
            _ => {
                errors.add("to", "arrangements.error.to");
                None
            }
        },
    };
    let tenths = match f.hours.trim() {
        "" => None,
        raw => {
            // Hours with at most one decimal (2 or 2,5), as tenths.
            let tenths = match raw.replace(',', ".").split_once('.') {
                None => raw.parse::<i32>().ok().and_then(|h| h.checked_mul(10)),
                Some((h, t)) if t.len() == 1 => h
                    .parse::<i32>()
                    .ok()
                    .zip(t.parse::<i32>().ok())
                    .and_then(|(h, t)| h.checked_mul(10)?.checked_add(t)),
                Some(_) => None,
            };
            match tenths {
                Some(t) if !transport && (1..=400).contains(&t) && !raw.starts_with(['+', '-']) => Some(t),
                _ => {
                    errors.add(
                        "hours",
                        if transport { "arrangements.error.transport_only" } else { "arrangements.error.hours" },
                    );
                    None
                }
            }
        }
    };
    let teacher = match f.teacher.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw).ok().filter(|id| l.teachers.iter().any(|t| t.0 == *id)) {
            Some(id) if !transport => Some(id),
            _ => {
                errors.add(
                    "teacher",
                    if transport { "arrangements.error.transport_only" } else { "arrangements.error.teacher" },
                );
                None
            }
        },
    };
    let mut days: Vec<i16> = Vec::new();
    for d in &f.days {
        match d.trim().parse::<i16>().ok().filter(|d| WEEKDAYS.contains(d)) {
            Some(d) if !transport => days.push(d),
            _ => {
                if !errors.has("day-1") {
                    let key = if transport { "arrangements.error.transport_only" } else { "arrangements.error.day" };
                    errors.add("day-1", key);
                }
            }
        }
    }
    days.sort_unstable();
    days.dedup();
    if kind == Some("special_education") && tenths.is_none() && !errors.has("hours") {
        errors.add("hours", "arrangements.error.hours_required");
    }
    match (kind, from, errors.any()) {
        (Some(kind), Some(from), false) => Ok(Checked { kind, from, to, tenths, teacher, days }),
        _ => {
            errors.order(&["kind", "from", "to", "hours", "teacher", "day-1"]);
            Err(errors)
        }
    }
}

type Fields = std::result::Result<Form<Vec<(String, String)>>, FormRejection>;

pub async fn add(mut work: Work, ui: Ui, Path(pupil): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let form = ArrangementForm::read(fields);
    let l = load(&mut work, &pupil).await?;
    let c = match check(&form, &l) {
        Ok(c) => c,
        Err(errors) => {
            work.commit().await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors, String::new())));
        }
    };
    let pupil = l.access.pupil_id;
    let by = work.actor().person_id;
    let id =
        queries::add_arrangement(work.conn(), pupil, c.kind, c.from, c.to, c.tenths, c.teacher, &c.days, by).await?;
    work.audit(&l.access, Action::Create, Resource::SpecialArrangements, Some(id), &[pupil]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/arrangements?done=added")).into_response())
}

/// End an arrangement from today (withdrawn if it was to begin later). Ending one that
/// has ended changes nothing.
pub async fn end(mut work: Work, Path((pupil, arrangement)): Path<(String, String)>) -> Result<Response> {
    let arrangement = path_id(&arrangement)?;
    let l = load(&mut work, &pupil).await?;
    let pupil = l.access.pupil_id;
    if !l.arrangements.iter().any(|a| a.id == arrangement) {
        return Err(AppError::NotFound);
    }
    if queries::end_arrangement(work.conn(), pupil, arrangement).await? {
        work.audit(&l.access, Action::Delete, Resource::SpecialArrangements, Some(arrangement), &[pupil]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/arrangements?done=ended")).into_response())
}
