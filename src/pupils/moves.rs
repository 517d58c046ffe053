//! Moving a pupil (issue 18, point 5), by the office of the school the pupil attends:
//! to another class of the school, to another school of the municipality, or out of the
//! municipality, each from a day (today or later).
//!
//! A move to another school ends the enrolment here that day (with why) and every stay
//! in this school's groups, and enrols the pupil there from the same day: from then on
//! that school's office keeps the pupil, and sees the earlier enrolments on the card. A
//! move out records the municipality the pupil moves to, when it is known. Nothing that
//! has begun is rewritten. A move dated later is planned: the page shows it, sending the
//! same move again changes nothing, another move is refused until the planned one is
//! cancelled, and cancelling withdraws only what had not begun.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Duration};
use uuid::Uuid;

use super::move_queries::{self as q, ClassChoice, ClassStay, EnrolmentNow, PlannedEnrolment, SchoolChoice};
use crate::audit::{Action, Resource};
use crate::domain::date::{date_value, display_date, iso, parse};
use crate::error::{AppError, Result};
use crate::policy::{self, PupilMoveAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The kinds of move (form values).
pub const KINDS: [&str; 3] = ["class", "school", "out"];

/// How far ahead a move may be planned.
const AHEAD_DAYS: i64 = 366;

#[derive(askama::Template)]
#[template(path = "pupils/move.html")]
pub struct MovePage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    pub enrolment: EnrolmentNow,
    /// The class today, if any.
    pub class: Option<ClassStay>,
    pub plan: Option<Plan>,
    pub classes: Vec<ClassChoice>,
    pub schools: Vec<SchoolChoice>,
    pub form: MoveForm,
    pub errors: FieldErrors,
    pub done: String,
}

/// A move dated later than today.
#[derive(Debug, Clone)]
pub enum Plan {
    Class(ClassStay),
    School(Date, PlannedEnrolment),
    Out(Date, Option<String>),
}

impl MovePage {
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        KINDS.iter().map(|k| (*k, self.ui.t(&format!("move.kind.{k}")))).collect()
    }
    pub fn since(&self) -> String {
        display_date(self.enrolment.from_date)
    }
    pub fn plan_text(&self) -> String {
        let tf = |key: &str, date: Date, name: &str, value: &str| {
            crate::web::i18n::tf(self.ui.lang, key, &[("date", &display_date(date)), (name, value)])
        };
        match &self.plan {
            None => String::new(),
            Some(Plan::Class(c)) => tf("move.planned_class", c.from_date, "class", &c.name),
            Some(Plan::School(d, e)) => tf("move.planned_school", *d, "school", &e.school_name),
            Some(Plan::Out(d, m)) => {
                let unknown = self.ui.t("move.unknown_municipality");
                tf("move.planned_out", *d, "municipality", m.as_deref().unwrap_or(unknown))
            }
        }
    }
    pub fn school_label(&self, s: &SchoolChoice) -> String {
        format!("{} ({}–{})", s.name, s.first_grade, s.last_grade)
    }
    pub fn done_text(&self) -> &'static str {
        match self.done.as_str() {
            "moved" => self.ui.t("move.done.moved"),
            "planned" => self.ui.t("move.done.planned"),
            "cancelled" => self.ui.t("move.done.cancelled"),
            _ => "",
        }
    }
}

/// The move form as sent (kept as typed to show again).
#[derive(Debug, Default, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub school: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub municipality: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveQuery {
    #[serde(default)]
    pub done: String,
}

struct Loaded {
    access: PupilMoveAccess,
    name: String,
    today: Date,
    year: Option<crate::groups::queries::YearRow>,
    enrolment: EnrolmentNow,
    class: Option<ClassStay>,
    plan: Option<Plan>,
    classes: Vec<ClassChoice>,
    schools: Vec<SchoolChoice>,
}

async fn load(work: &mut Work, pupil: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::pupil_move_access(work.conn(), &actor, path_id(pupil)?).await?;
    let (pupil, school) = (access.pupil_id, access.school_id);
    let name = super::queries::pupil_name(work.conn(), pupil).await?.ok_or(AppError::NotFound)?;
    let today = crate::db::current_date(work.conn()).await?;
    let enrolment = q::enrolment_now(work.conn(), pupil, school).await?.ok_or(AppError::NotFound)?;
    let year = crate::groups::queries::current_year(work.conn()).await?;
    let (stays, classes) = match &year {
        Some(y) => {
            (q::class_stays(work.conn(), pupil, school, y.id).await?, q::classes(work.conn(), school, y.id).await?)
        }
        None => (Vec::new(), Vec::new()),
    };
    let class = stays.iter().find(|s| s.from_date <= today).cloned();
    let plan = match q::planned_leaving(work.conn(), pupil, school).await? {
        Some((on, ended_by, to)) if ended_by == "moved_out" => Some(Plan::Out(on, to)),
        Some((on, _, _)) => q::planned_enrolment(work.conn(), pupil, on).await?.map(|e| Plan::School(on, e)),
        None => stays.iter().find(|s| s.from_date > today).cloned().map(Plan::Class),
    };
    let schools = q::other_schools(work.conn(), school).await?;
    Ok(Loaded { access, name, today, year, enrolment, class, plan, classes, schools })
}

fn page(ui: Ui, l: Loaded, form: MoveForm, mut errors: FieldErrors, done: String) -> MovePage {
    errors.at_first_radio("kind", Some(KINDS[0]));
    MovePage {
        ui,
        pupil_id: l.access.pupil_id,
        name: l.name,
        enrolment: l.enrolment,
        class: l.class,
        plan: l.plan,
        classes: l.classes,
        schools: l.schools,
        form,
        errors,
        done,
    }
}

/// The pupil's move page.
pub async fn show(mut work: Work, ui: Ui, Path(pupil): Path<String>, Query(q): Query<MoveQuery>) -> Result<Response> {
    let l = load(&mut work, &pupil).await?;
    work.audit(&l.access, Action::Read, Resource::Enrolment, Some(l.access.pupil_id), &[l.access.pupil_id]).await?;
    work.commit().await?;
    let form = MoveForm { kind: "class".to_owned(), date: iso(l.today), ..MoveForm::default() };
    let form = MoveForm { grade: l.enrolment.grade_level.to_string(), ..form };
    let done = if matches!(q.done.as_str(), "moved" | "planned" | "cancelled") { q.done } else { String::new() };
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new(), done)))
}

/// A move, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Move {
    Class(Uuid),
    School(Uuid, i16),
    Out(Option<String>),
}

fn check(form: &MoveForm, l: &Loaded, own_municipality: &str) -> std::result::Result<(Move, Date), FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = KINDS.iter().find(|k| **k == form.kind.trim()).copied();
    if kind.is_none() {
        errors.add("kind", "move.error.kind");
    }
    let date = match parse(&form.date) {
        None if form.date.trim().is_empty() => Err("move.error.date_required"),
        None => Err("move.error.date"),
        Some(d) if d < l.today => Err("move.error.date_past"),
        Some(d) if d > l.today + Duration::days(AHEAD_DAYS) => Err("move.error.date_far"),
        Some(d) if kind != Some("class") && d <= l.enrolment.from_date => Err("move.error.date_before_enrolment"),
        Some(d) if kind == Some("class") && l.year.as_ref().is_some_and(|y| d > y.ends) => {
            Err("move.error.date_after_year")
        }
        Some(d) => Ok(d),
    };
    let date = date.map_err(|key| errors.add("date", key)).ok();
    let chosen = match kind {
        Some("class") => {
            let class = Uuid::parse_str(form.class.trim()).ok().filter(|id| l.classes.iter().any(|c| c.id == *id));
            match class {
                None => {
                    let key =
                        if form.class.trim().is_empty() { "move.error.class_required" } else { "move.error.class" };
                    errors.add("class", key);
                    None
                }
                Some(id) if l.class.as_ref().is_some_and(|c| c.group_id == id) => {
                    errors.add("class", "move.error.same_class");
                    None
                }
                Some(id) => Some(Move::Class(id)),
            }
        }
        Some("school") => {
            let school = Uuid::parse_str(form.school.trim()).ok().and_then(|id| l.schools.iter().find(|s| s.id == id));
            if school.is_none() {
                let key =
                    if form.school.trim().is_empty() { "move.error.school_required" } else { "move.error.school" };
                errors.add("school", key);
            }
            let grade = form.grade.trim().parse::<i16>().ok();
            match (school, grade) {
                (Some(s), Some(g)) if (s.first_grade..=s.last_grade).contains(&g) => Some(Move::School(s.id, g)),
                (Some(_), _) => {
                    errors.add("grade", "move.error.grade");
                    None
                }
                (None, _) => None,
            }
        }
        Some(_) => match other_municipality(&form.municipality, own_municipality, "move.error.own_municipality") {
            Ok(to) => Some(Move::Out(to)),
            Err(key) => {
                errors.add("municipality", key);
                None
            }
        },
        None => None,
    };
    match (chosen, date, errors.any()) {
        (Some(m), Some(d), false) => Ok((m, d)),
        _ => {
            errors.order(&["kind", "date", "class", "school", "grade", "municipality"]);
            Err(errors)
        }
    }
}

/// Another municipality's number as typed: empty (not known) or four digits that are not
/// this municipality's `own`; else the message key (`own_key` for the own number).
pub(super) fn other_municipality(
    raw: &str,
    own: &str,
    own_key: &'static str,
) -> std::result::Result<Option<String>, &'static str> {
    match raw.trim() {
        "" => Ok(None),
        m if m.len() != 4 || !m.bytes().all(|b| b.is_ascii_digit()) => Err("move.error.municipality"),
        m if m == own => Err(own_key),
        m => Ok(Some(m.to_owned())),
    }
}

/// Whether `mv` on `on` is the move already planned.
fn is_planned(plan: &Plan, mv: &Move, on: Date) -> bool {
    match (plan, mv) {
        (Plan::Class(c), Move::Class(id)) => c.group_id == *id && c.from_date == on,
        (Plan::School(d, e), Move::School(id, g)) => *d == on && e.school_id == *id && e.grade_level == *g,
        (Plan::Out(d, m), Move::Out(to)) => *d == on && m == to,
        _ => false,
    }
}

/// Move the pupil (or plan the move, when dated later).
pub async fn apply(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<MoveForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &pupil).await?;
    let own = q::own_municipality(work.conn()).await?;
    let (mv, on) = match check(&form, &l, &own) {
        Ok(x) => x,
        Err(errors) => {
            work.commit().await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors, String::new())));
        }
    };
    let (pupil, school) = (l.access.pupil_id, l.access.school_id);
    match &l.plan {
        Some(plan) if is_planned(plan, &mv, on) => {
            work.commit().await?;
            return Ok(Redirect::to(&format!("/pupils/{pupil}/move?done=planned")).into_response());
        }
        Some(_) => {
            work.commit().await?;
            let errors = FieldErrors::one("kind", "move.error.planned");
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors, String::new())));
        }
        None => {}
    }
    match &mv {
        Move::Class(class) => {
            let year = l.year.as_ref().map(|y| y.id).ok_or(AppError::NotFound)?;
            q::change_class(work.conn(), pupil, school, year, *class, on).await?
        }
        Move::School(to, grade) => {
            q::leave_school(work.conn(), pupil, school, on, "moved_school", None).await?;
            super::registration_queries::enrol(work.conn(), pupil, *to, *grade, on, None).await?;
        }
        Move::Out(to) => q::leave_school(work.conn(), pupil, school, on, "moved_out", to.as_deref()).await?,
    }
    work.audit(&l.access, Action::Update, Resource::Enrolment, Some(pupil), &[pupil]).await?;
    work.commit().await?;
    // A pupil who has left the school today is no longer this office's: back to the list.
    let gone = on == l.today && !matches!(mv, Move::Class(_));
    Ok(if gone {
        Redirect::to(&format!("/schools/{school}/pupils")).into_response()
    } else if on == l.today {
        Redirect::to(&format!("/pupils/{pupil}/move?done=moved")).into_response()
    } else {
        Redirect::to(&format!("/pupils/{pupil}/move?done=planned")).into_response()
    })
}

/// Cancel the planned move; with none planned, nothing changes.
pub async fn cancel(mut work: Work, Path(pupil): Path<String>) -> Result<Response> {
    let l = load(&mut work, &pupil).await?;
    let (pupil, school) = (l.access.pupil_id, l.access.school_id);
    match &l.plan {
        None => {
            work.commit().await?;
            return Ok(Redirect::to(&format!("/pupils/{pupil}/move")).into_response());
        }
        Some(Plan::Class(c)) => q::cancel_class_change(work.conn(), pupil, school, c).await?,
        Some(Plan::School(on, _) | Plan::Out(on, _)) => q::cancel_leaving(work.conn(), pupil, school, *on).await?,
    }
    work.audit(&l.access, Action::Update, Resource::Enrolment, Some(pupil), &[pupil]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/move?done=cancelled")).into_response())
}

/// The date field's value after a refusal.
impl MoveForm {
    pub fn date_value(&self) -> String {
        date_value(&self.date)
    }
}
