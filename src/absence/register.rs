//! The teacher's register: the lessons of a day, and for one lesson and day the
//! group's pupils with present / absent / late (minutes) in one form that works
//! without JavaScript. Saving upserts by (lesson, pupil, date) in one transaction
//! with its audit event, so saving twice never duplicates.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::domain::{self, Status};
use super::queries::{self, DayLessonRow, Entry, GroupLessonRow, GroupRow};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, AbsenceRegisterAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::{render, render_with};
use crate::work::Work;

// ---- the day's lessons ------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    pub date: String,
}

#[derive(askama::Template)]
#[template(path = "absence/day.html")]
pub struct DayPage {
    pub ui: Ui,
    /// The date as typed (shown again with an error).
    pub date_value: String,
    pub errors: FieldErrors,
    /// The date shown, when it is valid.
    pub date: Option<Date>,
    pub lessons: Vec<DayLessonRow>,
    /// Day registers and the office's pages (see `day_register`).
    pub office: super::queries::day::OfficeLinks,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl DayPage {
    pub fn date_input(&self) -> String {
        domain::date_value(&self.date_value)
    }
    pub fn date_label(&self) -> String {
        self.date.map(domain::display_date).unwrap_or_default()
    }
    pub fn time(&self, l: &DayLessonRow) -> String {
        format!("{}–{}", domain::display_time(l.starts), domain::display_time(l.ends))
    }
    pub fn href(&self, l: &DayLessonRow) -> String {
        format!("/absence/groups/{}/register?date={}&lesson={}", l.group_id, self.date_value, l.id)
    }
}

/// The lessons of a day (today unless `?date=`) that the actor may take the register for.
pub async fn day(mut work: Work, ui: Ui, Query(q): Query<DayQuery>) -> Result<Response> {
    let actor = work.actor();
    let scope = policy::absence_register_scope(&actor)?;
    let today = queries::today(work.conn()).await?;
    let (date, date_error) = if q.date.trim().is_empty() {
        (Some(today), None)
    } else {
        match domain::parse_date(&q.date) {
            None => (None, Some("absence.error.date_format")),
            Some(d) if d > today => (None, Some("absence.error.date_future")),
            Some(d) => (Some(d), None),
        }
    };
    let lessons = match date {
        Some(d) => {
            queries::lessons_on(work.conn(), d, actor.person_id, &scope.teacher_at, &scope.office_at, ui.lang).await?
        }
        None => Vec::new(),
    };
    let office = super::queries::day::office_links(work.conn(), &actor, &scope, date).await?;
    work.commit().await?;
    let page = DayPage {
        office,
        date_value: date.map(domain::iso).unwrap_or_else(|| q.date.clone()),
        errors: date_error.map(|e| FieldErrors::one("date", e)).unwrap_or_default(),
        previous: date.and_then(|d| d.previous_day()).map(domain::iso),
        next: date.and_then(|d| d.next_day()).filter(|d| *d <= today).map(domain::iso),
        date,
        lessons,
        ui,
    };
    if page.errors.any() {
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    Ok(render(&page))
}

// ---- one lesson's register ----------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct RegisterQuery {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub lesson: String,
    #[serde(default)]
    pub saved: String,
}

/// Whether the date or lesson chosen was refused (nothing to show then).
fn choice_refused(errors: &FieldErrors) -> bool {
    errors.has("date") || errors.has("lesson")
}

/// A pupil line's mistake in a register's errors: by the minutes when they are what
/// is wrong (the summary then leads there), else by the three choices. The message
/// stands under the line with the id `err-{pupil}` either way.
pub(super) fn line_error(errors: &mut FieldErrors, pupil: Uuid, name: &str, key: &'static str) {
    let field = if key == MINUTES_ERROR { format!("minutes-{pupil}") } else { format!("status-{pupil}") };
    let target = if key == MINUTES_ERROR { field.clone() } else { format!("s-{pupil}-present") };
    errors.add(field, key).target(target).id(format!("err-{pupil}")).about(name);
}

const MINUTES_ERROR: &str = "absence.error.minutes_late";

/// A note under a pupil's name in a register (what guardians reported, approved
/// leave, a part of the day absent): its id (the line's `aria-describedby`) and its
/// pieces, each a coloured tag and a text.
#[derive(Debug, Clone)]
pub struct RowNote {
    pub id: String,
    pub parts: Vec<(&'static str, String, String)>,
}

impl RowNote {
    /// "Reported by guardians: …" for a line with reports.
    pub(super) fn reports(pupil: Uuid, reports: &[String], ui: &Ui) -> Option<Self> {
        (!reports.is_empty()).then(|| RowNote {
            id: format!("rep-{pupil}"),
            parts: vec![("info", ui.t("absence.register.reported").to_owned(), reports.join("; "))],
        })
    }

    /// The notes' ids, for the line's `aria-describedby`.
    pub fn ids(notes: &[RowNote]) -> String {
        notes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// A pupil's line in the form.
#[derive(Debug, Clone)]
pub struct RegisterRow {
    pub pupil_id: Uuid,
    pub name: String,
    /// The status shown as chosen (saved, as sent, or "present" for a new register).
    pub status: Status,
    pub minutes: String,
    /// What guardians reported for the day, one line each.
    pub reports: Vec<String>,
    /// Approved leave that day (the reason), shown read-only beside the reports.
    pub leave: Option<String>,
    pub saved: bool,
}

#[derive(askama::Template)]
#[template(path = "absence/register.html")]
pub struct RegisterPage {
    pub ui: Ui,
    pub group: GroupRow,
    pub lessons: Vec<GroupLessonRow>,
    pub date_value: String,
    pub lesson_value: String,
    pub errors: FieldErrors,
    /// The chosen lesson and day, when both are valid.
    pub chosen: Option<(GroupLessonRow, Date)>,
    pub rows: Vec<RegisterRow>,
    pub saved: bool,
    /// Valid day, but the group has no lesson then (nothing to choose).
    pub no_lesson: bool,
}

impl RegisterPage {
    pub fn date_input(&self) -> String {
        domain::date_value(&self.date_value)
    }
    pub fn lesson_label(&self, l: &GroupLessonRow) -> String {
        let mut s = format!(
            "{} {}–{}",
            self.ui.t(domain::weekday_key(l.weekday)),
            domain::display_time(l.starts),
            domain::display_time(l.ends)
        );
        if let Some(subject) = &l.subject {
            s.push_str(&format!(" · {subject}"));
        }
        s
    }
    pub fn lesson_selected(&self, l: &GroupLessonRow) -> bool {
        self.lesson_value == l.id.to_string()
    }
    pub fn chosen_label(&self) -> String {
        match &self.chosen {
            Some((l, d)) => format!("{} {} · {}", self.lesson_label(l), domain::display_date(*d), self.group.name),
            None => String::new(),
        }
    }
    pub fn chosen_lesson_id(&self) -> String {
        self.chosen.as_ref().map(|(l, _)| l.id.to_string()).unwrap_or_default()
    }
    pub fn chosen_date(&self) -> String {
        self.chosen.as_ref().map(|(_, d)| domain::iso(*d)).unwrap_or_default()
    }
    pub fn is(&self, row: &RegisterRow, s: &Status) -> bool {
        row.status == *s
    }
    /// The notes under a pupil's name: reports, and approved leave.
    pub fn notes(&self, row: &RegisterRow) -> Vec<RowNote> {
        let mut notes: Vec<RowNote> = RowNote::reports(row.pupil_id, &row.reports, &self.ui).into_iter().collect();
        if let Some(l) = &row.leave {
            notes.push(RowNote {
                id: format!("leave-{}", row.pupil_id),
                parts: vec![("success", self.ui.t("leave.register.note").to_owned(), l.clone())],
            });
        }
        notes
    }
    pub fn statuses(&self) -> [Status; 3] {
        Status::ALL
    }
    pub fn back_href(&self) -> String {
        format!("/absence/register?date={}", self.date_input())
    }
}

/// What the chooser resolved to.
struct Choice {
    lesson: GroupLessonRow,
    date: Date,
}

/// Check the date and lesson the user chose. `lesson_required`: a POST must name one;
/// a GET without one takes the group's first lesson of the day.
async fn choose(
    mut tx: crate::db::Conn<'_>,
    group: &GroupRow,
    lessons: &[GroupLessonRow],
    date_raw: &str,
    lesson_raw: &str,
    lesson_required: bool,
    errors: &mut FieldErrors,
) -> Result<(Option<Choice>, Option<Date>)> {
    let today = group.today;
    let date = if date_raw.trim().is_empty() && !lesson_required { Some(today) } else { domain::parse_date(date_raw) };
    let date = match date {
        None => {
            errors.add("date", "absence.error.date_format");
            None
        }
        Some(d) if d > today => {
            errors.add("date", "absence.error.date_future");
            None
        }
        Some(d) if d < group.year_starts || d > group.year_ends => {
            errors.add("date", "absence.error.date_outside_year");
            None
        }
        Some(d) => Some(d),
    };
    let lesson = if lesson_raw.trim().is_empty() {
        if lesson_required {
            errors.add("lesson", "absence.error.lesson_required");
        }
        None
    } else {
        let found = Uuid::parse_str(lesson_raw.trim()).ok().and_then(|id| lessons.iter().find(|l| l.id == id));
        if found.is_none() {
            errors.add("lesson", "absence.error.lesson_not_in_group");
        }
        found.cloned()
    };
    let Some(date) = date else { return Ok((None, None)) };
    if lesson.is_none() && errors.has("lesson") {
        return Ok((None, Some(date)));
    }
    let held = queries::lessons_held_on(tx.re(), group.id, date).await?;
    let lesson = match lesson {
        Some(l) if held.contains(&l.id) => l,
        Some(_) => {
            errors.add("lesson", "absence.error.lesson_not_on_date");
            return Ok((None, Some(date)));
        }
        // The group's first lesson held that day, if any.
        None => match lessons.iter().find(|l| held.contains(&l.id)) {
            Some(l) => l.clone(),
            None => return Ok((None, Some(date))),
        },
    };
    Ok((Some(Choice { lesson, date }), Some(date)))
}

/// The form's lines: the group's members that day, with saved statuses (or, after a
/// refused save, what was sent) and the guardians' reports of the day.
async fn rows(
    mut tx: crate::db::Conn<'_>,
    access: &AbsenceRegisterAccess,
    choice: &Choice,
    ui: &Ui,
    sent: Option<&Sent>,
    errors: &mut FieldErrors,
) -> Result<Vec<RegisterRow>> {
    let lines = queries::register_lines(tx.re(), access.group_id, choice.lesson.id, choice.date, ui.lang).await?;
    Ok(lines
        .into_iter()
        .map(|m| {
            let saved_status = m.status.as_deref().and_then(Status::from_code);
            let reports = m.report_reasons.iter().zip(m.report_from.iter().zip(&m.report_to));
            let mut row = RegisterRow {
                pupil_id: m.id,
                name: format!("{} {}", m.given_name, m.family_name),
                status: saved_status.unwrap_or(Status::Present),
                minutes: m.minutes_late.map(|n| n.to_string()).unwrap_or_default(),
                reports: reports
                    .map(|(reason, times)| match times {
                        (Some(a), Some(b)) => {
                            format!("{reason} ({}–{})", domain::display_time(*a), domain::display_time(*b))
                        }
                        _ => format!("{reason} ({})", ui.t("absence.whole_day").to_lowercase()),
                    })
                    .collect(),
                leave: m.leave_reason,
                saved: saved_status.is_some(),
            };
            if let Some(sent) = sent {
                if let Some(line) = sent.lines.get(&m.id) {
                    if let Some(s) = Status::from_code(&line.status) {
                        row.status = s;
                    }
                    row.minutes = line.minutes.clone();
                    if let Some(key) = line.error {
                        line_error(errors, row.pupil_id, &row.name, key);
                    }
                }
            }
            row
        })
        .collect())
}

async fn load(work: &mut Work, group_id: &str) -> Result<(AbsenceRegisterAccess, GroupRow)> {
    let group_id = path_id(group_id)?;
    let actor = work.actor();
    let access = policy::absence_register_access(work.conn(), &actor, group_id).await?;
    let group = queries::group(work.conn(), group_id).await?.ok_or(AppError::NotFound)?;
    Ok((access, group))
}

/// The register of one of the group's lessons on a day (`?date=&lesson=`).
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(group_id): Path<String>,
    Query(q): Query<RegisterQuery>,
) -> Result<Response> {
    let (access, group) = load(&mut work, &group_id).await?;
    let lessons = queries::group_lessons(work.conn(), access.group_id, ui.lang).await?;
    let mut errors = FieldErrors::new();
    let (choice, date) = choose(work.conn(), &group, &lessons, &q.date, &q.lesson, false, &mut errors).await?;
    let rows = match &choice {
        Some(c) => rows(work.conn(), &access, c, &ui, None, &mut errors).await?,
        None => Vec::new(),
    };
    if let Some(c) = &choice {
        let subjects: Vec<Uuid> = rows.iter().map(|r| r.pupil_id).collect();
        work.audit(&access, Action::Read, Resource::AbsenceRegister, Some(c.lesson.id), &subjects).await?;
    }
    work.commit().await?;
    let status = if choice_refused(&errors) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = RegisterPage {
        date_value: date.map(domain::iso).unwrap_or_else(|| q.date.clone()),
        lesson_value: choice.as_ref().map(|c| c.lesson.id.to_string()).unwrap_or_else(|| q.lesson.clone()),
        no_lesson: choice.is_none() && !choice_refused(&errors),
        chosen: choice.map(|c| (c.lesson, c.date)),
        saved: q.saved == "1",
        ui,
        group,
        lessons,
        errors,
        rows,
    };
    Ok(render_with(status, &page))
}

/// One pupil's line as sent.
#[derive(Debug, Default)]
pub(super) struct SentLine {
    pub(super) status: String,
    pub(super) minutes: String,
    pub(super) error: Option<&'static str>,
}

/// A register form as sent: only `csrf`, `date`, `lesson` (the lesson register's
/// form; not the day register's), `status-<pupil>` and `minutes-<pupil>` exist;
/// anything else, or a field twice, is refused whole (400).
#[derive(Debug, Default)]
pub(super) struct Sent {
    pub(super) date: String,
    pub(super) lesson: String,
    pub(super) lines: HashMap<Uuid, SentLine>,
}

/// Parse a register form; `with_lesson` says whether it may carry a `lesson` field.
/// Shared by the lesson register and the day register (src/absence/day_register.rs).
pub(super) fn parse_sent(fields: Vec<(String, String)>, with_lesson: bool) -> Result<Sent> {
    let mut sent = Sent::default();
    let mut seen = HashSet::new();
    for (key, value) in fields {
        if !seen.insert(key.clone()) {
            return Err(AppError::BadRequest);
        }
        match key.as_str() {
            "csrf" => {}
            "date" => sent.date = value,
            "lesson" if with_lesson => sent.lesson = value,
            _ => {
                let (kind, id) = key.split_once('-').ok_or(AppError::BadRequest)?;
                let id = Uuid::parse_str(id).map_err(|_| AppError::BadRequest)?;
                let line = sent.lines.entry(id).or_default();
                match kind {
                    "status" => line.status = value,
                    "minutes" => line.minutes = value,
                    _ => return Err(AppError::BadRequest),
                }
            }
        }
    }
    Ok(sent)
}

/// Save the register. Pupils missing from the form are left as they are; a pupil
/// not in the group that day, an unknown status or bad minutes refuse the whole save.
pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(group_id): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let mut sent = parse_sent(fields, true)?;
    let (access, group) = load(&mut work, &group_id).await?;
    let lessons = queries::group_lessons(work.conn(), access.group_id, ui.lang).await?;
    let mut errors = FieldErrors::new();
    let (choice, date) = choose(work.conn(), &group, &lessons, &sent.date, &sent.lesson, true, &mut errors).await?;
    let mut entries = Vec::new();
    let mut rows_shown = Vec::new();
    if let Some(c) = &choice {
        let members: HashSet<Uuid> =
            queries::member_ids(work.conn(), access.group_id, c.date).await?.into_iter().collect();
        if sent.lines.keys().any(|id| !members.contains(id)) {
            errors.add("pupils", "absence.error.pupil_not_in_group");
        }
        for (id, line) in sent.lines.iter_mut().filter(|(id, _)| members.contains(id)) {
            match Status::from_code(&line.status) {
                None => line.error = Some("absence.error.status_invalid"),
                Some(Status::Late) => match domain::parse_minutes(&line.minutes) {
                    Some(m) => {
                        entries.push(Entry { pupil_id: *id, status: Status::Late.code(), minutes_late: Some(m) })
                    }
                    None => line.error = Some(MINUTES_ERROR),
                },
                // Minutes typed before the status was changed from "late" are dropped.
                Some(s) => {
                    line.minutes.clear();
                    entries.push(Entry { pupil_id: *id, status: s.code(), minutes_late: None });
                }
            }
        }
        let refused = errors.has("pupils") || sent.lines.values().any(|l| l.error.is_some());
        if refused {
            rows_shown = rows(work.conn(), &access, c, &ui, Some(&sent), &mut errors).await?;
        }
    }
    let refused = choice.is_none() || errors.any();
    if refused {
        // Nothing is stored; the form comes back as sent, with the messages.
        let page = RegisterPage {
            date_value: date.map(domain::iso).unwrap_or_else(|| sent.date.clone()),
            lesson_value: sent.lesson.clone(),
            no_lesson: false,
            chosen: choice.map(|c| (c.lesson, c.date)),
            saved: false,
            ui,
            group,
            lessons,
            errors,
            rows: rows_shown,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let Some(c) = choice else { return Err(AppError::BadRequest) };
    queries::save_register(work.conn(), c.lesson.id, c.date, actor.person_id, access.source(), &entries).await?;
    let subjects: Vec<Uuid> = entries.iter().map(|e| e.pupil_id).collect();
    work.audit(&access, Action::Update, Resource::AbsenceRegister, Some(c.lesson.id), &subjects).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!(
        "/absence/groups/{}/register?date={}&lesson={}&saved=1",
        access.group_id,
        domain::iso(c.date),
        c.lesson.id
    ))
    .into_response())
}
