//! The day register, for schools that record absence per day (many primary schools):
//! a class's pupils on a date with present / absent (the whole day) / late (minutes).
//! It is another form over the same data as the lesson register: saving writes one
//! ordinary registration per lesson the pupil has that day (the lessons of all the
//! pupil's groups at the school held on the date): absent makes every lesson absent,
//! late makes the first lesson late and the rest present, present makes all present.
//! One statement upserts by (lesson, pupil, date), in one transaction with its audit
//! event, so saving twice never duplicates and a refused form stores nothing.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::domain::{self, Status};
use super::queries;
use super::queries::day::{self as day_queries, ClassRow, DayEntry, Mode, PupilLessonRow};
use super::register::{line_error, parse_sent, RowNote};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, AbsenceRegisterAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct DayRegisterQuery {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub saved: String,
}

/// A pupil's line in the form.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub pupil_id: Uuid,
    pub name: String,
    pub status: Status,
    pub minutes: String,
    pub reports: Vec<String>,
    pub saved: bool,
    /// Lessons the pupil has that day, and how many of them are saved as absent (a
    /// part of the day, when registered per lesson).
    pub lessons: usize,
    pub absent_lessons: usize,
}

impl DayRow {
    pub fn partly_absent(&self) -> bool {
        self.absent_lessons > 0 && self.absent_lessons < self.lessons
    }
}

#[derive(askama::Template)]
#[template(path = "absence/day_register.html")]
pub struct DayRegisterPage {
    pub ui: Ui,
    pub class: ClassRow,
    pub date_value: String,
    pub errors: FieldErrors,
    /// The day shown, when it is valid and has lessons.
    pub date: Option<Date>,
    pub rows: Vec<DayRow>,
    pub saved: bool,
    /// A valid school day on which no pupil of the class has a lesson.
    pub no_lessons: bool,
}

impl DayRegisterPage {
    pub fn date_input(&self) -> String {
        domain::date_value(&self.date_value)
    }
    pub fn date_label(&self) -> String {
        self.date.map(domain::display_date).unwrap_or_default()
    }
    pub fn chosen_date(&self) -> String {
        self.date.map(domain::iso).unwrap_or_default()
    }
    pub fn is(&self, row: &DayRow, s: &Status) -> bool {
        row.status == *s
    }
    pub fn statuses(&self) -> [Status; 3] {
        Status::ALL
    }
    pub fn back_href(&self) -> String {
        format!("/absence/register?date={}", self.date_input())
    }
    pub fn lessons_note(&self, row: &DayRow) -> String {
        self.ui
            .t("absence.day_register.partly_absent")
            .replace("{absent}", &row.absent_lessons.to_string())
            .replace("{lessons}", &row.lessons.to_string())
    }
    /// The note under a pupil's name: reports, and how much of the day is saved absent.
    pub fn notes(&self, row: &DayRow) -> Vec<RowNote> {
        let mut note = RowNote::reports(row.pupil_id, &row.reports, &self.ui)
            .unwrap_or_else(|| RowNote { id: format!("rep-{}", row.pupil_id), parts: Vec::new() });
        if row.partly_absent() {
            note.parts.push(("warning", self.lessons_note(row), String::new()));
        }
        if note.parts.is_empty() {
            Vec::new()
        } else {
            vec![note]
        }
    }
}

/// Check the date: `required` for a save (a page without one shows today).
async fn check_date(
    mut tx: crate::db::Conn<'_>,
    class: &ClassRow,
    raw: &str,
    required: bool,
) -> Result<(Option<Date>, Option<&'static str>)> {
    let today = queries::today(tx.re()).await?;
    let date = if raw.trim().is_empty() && !required { Some(today) } else { domain::parse_date(raw) };
    let error = match date {
        None => Some("absence.error.date_format"),
        Some(d) if d > today => Some("absence.error.date_future"),
        Some(d) if d < class.year_starts || d > class.year_ends => Some("absence.error.date_outside_year"),
        Some(d) if day_queries::is_day_off(tx.re(), class.id, d).await? => Some("absence.error.day_off"),
        Some(_) => None,
    };
    Ok((date, error))
}

fn report_lines(reports: &[queries::DayReportRow], pupil: Uuid, ui: &Ui) -> Vec<String> {
    reports
        .iter()
        .filter(|r| r.pupil_id == pupil)
        .map(|r| match (r.from_time, r.to_time) {
            (Some(a), Some(b)) => format!("{} ({}–{})", r.reason, domain::display_time(a), domain::display_time(b)),
            _ => format!("{} ({})", r.reason, ui.t("absence.whole_day").to_lowercase()),
        })
        .collect()
}

/// The form's lines, with the status the saved rows of the day add up to.
async fn rows(
    mut tx: crate::db::Conn<'_>,
    class: Uuid,
    date: Date,
    lessons: &[PupilLessonRow],
    ui: &Ui,
) -> Result<Vec<DayRow>> {
    let members = day_queries::members(tx.re(), class, date).await?;
    let ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    let reports = queries::reports_on(tx.re(), &ids, date, ui.lang).await?;
    Ok(members
        .into_iter()
        .map(|m| {
            let own: Vec<&PupilLessonRow> = lessons.iter().filter(|l| l.pupil_id == m.id).collect();
            let saved: Vec<&str> = own.iter().filter_map(|l| l.status.as_deref()).collect();
            let absent = saved.iter().filter(|s| **s == "absent").count();
            let late = own.iter().find(|l| l.status.as_deref() == Some("late"));
            let status = if !own.is_empty() && absent == own.len() {
                Status::Absent
            } else if late.is_some() {
                Status::Late
            } else {
                Status::Present
            };
            DayRow {
                pupil_id: m.id,
                name: format!("{} {}", m.given_name, m.family_name),
                status,
                minutes: late.and_then(|l| l.minutes_late).map(|n| n.to_string()).unwrap_or_default(),
                reports: report_lines(&reports, m.id, ui),
                saved: !saved.is_empty(),
                lessons: own.len(),
                absent_lessons: absent,
            }
        })
        .collect())
}

async fn load(work: &mut Work, class_id: &str) -> Result<(AbsenceRegisterAccess, ClassRow)> {
    let class_id = path_id(class_id)?;
    let actor = work.actor();
    let access = policy::absence_day_register_access(work.conn(), &actor, class_id).await?;
    let class = day_queries::class(work.conn(), class_id).await?.ok_or(AppError::NotFound)?;
    // Only schools that register per day have a day register.
    if day_queries::mode(work.conn(), class.school_id).await? != Mode::Day {
        return Err(AppError::NotFound);
    }
    Ok((access, class))
}

/// The class's day register for a day (`?date=`, today without one).
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(class_id): Path<String>,
    Query(q): Query<DayRegisterQuery>,
) -> Result<Response> {
    let (access, class) = load(&mut work, &class_id).await?;
    let (date, date_error) = check_date(work.conn(), &class, &q.date, false).await?;
    let mut rows_shown = Vec::new();
    let mut no_lessons = false;
    if let (Some(d), None) = (date, date_error) {
        let lessons = day_queries::pupil_lessons(work.conn(), class.id, d).await?;
        if lessons.is_empty() {
            no_lessons = true;
        } else {
            rows_shown = rows(work.conn(), class.id, d, &lessons, &ui).await?;
            let subjects: Vec<Uuid> = rows_shown.iter().map(|r| r.pupil_id).collect();
            work.audit(&access, Action::Read, Resource::AbsenceDayRegister, Some(access.group_id), &subjects).await?;
        }
    }
    work.commit().await?;
    let status = if date_error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = DayRegisterPage {
        date_value: date.map(domain::iso).unwrap_or_else(|| q.date.clone()),
        date: if date_error.is_none() && !no_lessons { date } else { None },
        errors: date_error.map(|e| FieldErrors::one("date", e)).unwrap_or_default(),
        saved: q.saved == "1",
        no_lessons,
        rows: rows_shown,
        ui,
        class,
    };
    Ok(render_with(status, &page))
}

/// The rows a pupil's whole-day status comes to, over their lessons of the day.
fn entries_for(pupil: Uuid, status: Status, minutes: Option<i16>, lessons: &[Uuid]) -> Vec<DayEntry> {
    lessons
        .iter()
        .enumerate()
        .map(|(i, &lesson_id)| {
            let (status, minutes_late) = match status {
                Status::Absent => ("absent", None),
                Status::Late if i == 0 => ("late", minutes),
                _ => ("present", None),
            };
            DayEntry { lesson_id, pupil_id: pupil, status, minutes_late }
        })
        .collect()
}

/// Save the day register. Pupils missing from the form are left as they are; a pupil
/// not in the class, one without lessons that day, an unknown status or bad minutes
/// refuse the whole save.
pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(class_id): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    // The day register's form has no lesson: the day's lessons follow from the date.
    let sent = parse_sent(fields, false)?;
    let (access, class) = load(&mut work, &class_id).await?;
    let (date, mut date_error) = check_date(work.conn(), &class, &sent.date, true).await?;
    let mut pupils_error = None;
    let mut line_errors: HashMap<Uuid, &'static str> = HashMap::new();
    let mut entries = Vec::new();
    let mut lessons = Vec::new();
    if let (Some(d), None) = (date, date_error) {
        lessons = day_queries::pupil_lessons(work.conn(), class.id, d).await?;
        if lessons.is_empty() {
            date_error = Some("absence.error.no_lessons_that_day");
        }
        let members: HashSet<Uuid> = queries::member_ids(work.conn(), class.id, d).await?.into_iter().collect();
        if sent.lines.keys().any(|id| !members.contains(id)) {
            pupils_error = Some("absence.error.pupil_not_in_class");
        }
        for (id, line) in sent.lines.iter().filter(|(id, _)| members.contains(id)) {
            let own: Vec<Uuid> = lessons.iter().filter(|l| l.pupil_id == *id).map(|l| l.lesson_id).collect();
            let parsed = match Status::from_code(&line.status) {
                None => Err("absence.error.status_invalid"),
                Some(Status::Late) => domain::parse_minutes(&line.minutes)
                    .map(|m| (Status::Late, Some(m)))
                    .ok_or("absence.error.minutes_late"),
                Some(s) => Ok((s, None)),
            };
            match parsed {
                Err(e) => {
                    line_errors.insert(*id, e);
                }
                Ok(_) if own.is_empty() && date_error.is_none() => {
                    line_errors.insert(*id, "absence.error.pupil_no_lessons");
                }
                Ok((status, minutes)) => entries.extend(entries_for(*id, status, minutes, &own)),
            }
        }
    }
    if date_error.is_some() || pupils_error.is_some() || !line_errors.is_empty() {
        // Nothing is stored; the form comes back as sent, with the messages.
        let mut rows_shown = Vec::new();
        if let (Some(d), None) = (date, date_error) {
            rows_shown = rows(work.conn(), class.id, d, &lessons, &ui).await?;
        }
        let mut errors = FieldErrors::new();
        if let Some(e) = date_error {
            errors.add("date", e);
        }
        if let Some(e) = pupils_error {
            errors.add("pupils", e);
        }
        for row in &mut rows_shown {
            if let Some(line) = sent.lines.get(&row.pupil_id) {
                if let Some(s) = Status::from_code(&line.status) {
                    row.status = s;
                }
                row.minutes = line.minutes.clone();
            }
            if let Some(key) = line_errors.get(&row.pupil_id) {
                line_error(&mut errors, row.pupil_id, &row.name, key);
            }
        }
        // Dropping the work keeps nothing.
        let page = DayRegisterPage {
            date_value: date.map(domain::iso).unwrap_or_else(|| sent.date.clone()),
            date: if date_error.is_none() { date } else { None },
            errors,
            saved: false,
            no_lessons: false,
            rows: rows_shown,
            ui,
            class,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let Some(date) = date else { return Err(AppError::BadRequest) };
    day_queries::save_day(work.conn(), date, actor.person_id, access.source(), &entries).await?;
    let mut subjects: Vec<Uuid> = entries.iter().map(|e| e.pupil_id).collect();
    subjects.sort();
    subjects.dedup();
    work.audit(&access, Action::Update, Resource::AbsenceDayRegister, Some(access.group_id), &subjects).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/absence/classes/{}/day?date={}&saved=1", class.id, domain::iso(date))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_day_becomes_one_row_per_lesson() {
        let pupil = Uuid::from_u128(1);
        let lessons = [Uuid::from_u128(10), Uuid::from_u128(11), Uuid::from_u128(12)];
        let codes = |e: Vec<DayEntry>| e.into_iter().map(|e| (e.status, e.minutes_late)).collect::<Vec<_>>();
        assert_eq!(codes(entries_for(pupil, Status::Absent, None, &lessons)), vec![("absent", None); 3]);
        assert_eq!(
            codes(entries_for(pupil, Status::Late, Some(7), &lessons)),
            vec![("late", Some(7)), ("present", None), ("present", None)]
        );
        assert_eq!(codes(entries_for(pupil, Status::Present, None, &lessons)), vec![("present", None); 3]);
        assert!(entries_for(pupil, Status::Absent, None, &[]).is_empty());
    }
}
