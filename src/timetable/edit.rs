//! The office edits a group's lessons (`/groups/{id}/lessons`): add, change, remove.
//!
//! Every field is checked (weekday, times, the period inside the group's school
//! year, the teacher employed at the school during it), and a lesson that would put
//! the group or the teacher in two places at once is refused, naming the lesson it
//! clashes with. Each change is one transaction with its audit event (resource
//! `lesson`); the municipality's timetable writers are serialised so that two clashing
//! lessons cannot both pass the check.

use crate::db::Conn;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::Duration;
use uuid::Uuid;

use super::fields::{self, hhmm, msg};
use super::queries::{self, GroupInfo, LessonListRow, LessonRow, SubjectRow, TeacherRow};
use super::week::weekday_n_key;
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, TimetableEditor};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::{render, render_with};
use crate::work::Work;

/// The audit log's name for a lesson (a stored code: never rename it).
pub const AUDIT_RESOURCE: &str = "lesson";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups/{group_id}/lessons", get(list).post(save))
        .route("/groups/{group_id}/lessons/remove", post(remove))
}

/// The lesson form as typed. `valid_to` is the *last* day (stored as the day after).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct LessonForm {
    #[serde(default)]
    pub lesson: String,
    #[serde(default)]
    pub weekday: String,
    #[serde(default)]
    pub starts: String,
    #[serde(default)]
    pub ends: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub teacher: String,
    #[serde(default)]
    pub room: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: String,
}

impl LessonForm {
    fn from_row(l: &LessonRow) -> Self {
        Self {
            lesson: l.id.to_string(),
            weekday: l.weekday.to_string(),
            starts: hhmm(l.starts),
            ends: hhmm(l.ends),
            subject: l.subject_id.map(|s| s.to_string()).unwrap_or_default(),
            teacher: l.teacher_id.map(|s| s.to_string()).unwrap_or_default(),
            room: l.room.clone().unwrap_or_default(),
            valid_from: l.valid_from.to_string(),
            valid_to: l.valid_to.map(|d| (d - Duration::days(1)).to_string()).unwrap_or_default(),
        }
    }
}

/// The form's fields in order, for the error summary (the database's checks come
/// after the form's own).
const FIELD_ORDER: [&str; 8] = ["weekday", "starts", "ends", "subject", "teacher", "room", "valid_from", "valid_to"];

/// The school year's bounds as a message argument (`17.8.2026–18.6.2027`).
fn year_range(group: &GroupInfo) -> String {
    format!("{}–{}", fields::day_month_year(group.year_starts), fields::day_month_year(group.year_ends))
}

/// The lesson the form describes (with a nil id), or every problem by its field.
/// Checks that need the database (the teacher's employment, clashes) come after.
pub fn parse_form(
    form: &LessonForm,
    group: &GroupInfo,
    subjects: &[SubjectRow],
) -> Result<LessonRow, Box<FieldErrors>> {
    let mut e = FieldErrors::new();
    let weekday = fields::weekday(&form.weekday)
        .map_err(|m| {
            e.add("weekday", m);
        })
        .ok();
    let starts = fields::time_of_day(&form.starts)
        .map_err(|m| {
            e.add("starts", m);
        })
        .ok();
    let ends = fields::time_of_day(&form.ends)
        .map_err(|m| {
            e.add("ends", m);
        })
        .ok();
    if let (Some(s), Some(t)) = (starts, ends) {
        if t <= s {
            e.add("ends", msg("timetable.error.ends_before"));
        }
    }
    let subject = match form.subject.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw).ok().filter(|id| subjects.iter().any(|s| s.id == *id)) {
            Some(id) => Some(id),
            None => {
                e.add("subject", msg("timetable.error.subject_choose"));
                None
            }
        },
    };
    let teacher = match form.teacher.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw) {
            Ok(id) => Some(id),
            Err(_) => {
                e.add("teacher", msg("timetable.error.teacher_not_here"));
                None
            }
        },
    };
    let room = fields::room(&form.room)
        .map_err(|m| {
            e.add("room", m);
        })
        .ok()
        .flatten();
    let outside =
        || msg("timetable.error.outside_year").with("year", &group.year_name).with("range", year_range(group));
    let from = fields::date(&form.valid_from)
        .map_err(|m| {
            e.add("valid_from", m);
        })
        .ok();
    if let Some(f) = from {
        if f < group.year_starts || f > group.year_ends {
            e.add("valid_from", outside());
        }
    }
    let last = match form.valid_to.trim() {
        "" => None,
        raw => fields::date(raw)
            .map_err(|m| {
                e.add("valid_to", m);
            })
            .ok(),
    };
    if let Some(l) = last {
        if from.is_some_and(|f| l < f) {
            e.add("valid_to", msg("timetable.error.to_before_from"));
        } else if l > group.year_ends || l < group.year_starts {
            e.add("valid_to", outside());
        }
    }
    match (weekday, starts, ends, from) {
        (Some(weekday), Some(starts), Some(ends), Some(valid_from)) if !e.any() => Ok(LessonRow {
            id: Uuid::nil(),
            group_id: group.id,
            subject_id: subject,
            teacher_id: teacher,
            room,
            weekday,
            starts,
            ends,
            valid_from,
            valid_to: last.map(|d| d + Duration::days(1)),
        }),
        _ => Err(Box::new(e)),
    }
}

/// `8A NOR 08:30–09:15`: a clashing lesson, as the message names it.
fn clash_label(c: &queries::Clash) -> String {
    let mut s = c.group_name.clone();
    if let Some(code) = &c.subject_code {
        if !s.contains(code.as_str()) {
            s.push(' ');
            s.push_str(code);
        }
    }
    format!("{s} {}–{}", hhmm(c.starts), hhmm(c.ends))
}

#[derive(askama::Template)]
#[template(path = "timetable/lessons.html")]
pub struct LessonsPage {
    pub ui: Ui,
    pub group: GroupInfo,
    pub rows: Vec<LessonListRow>,
    pub form: LessonForm,
    pub errors: FieldErrors,
    pub status_key: Option<&'static str>,
    pub subjects: Vec<SubjectRow>,
    pub teachers: Vec<TeacherRow>,
}

impl LessonsPage {
    pub fn editing(&self) -> bool {
        !self.form.lesson.is_empty()
    }
    pub fn weekday_key(&self, n: &i16) -> &'static str {
        weekday_n_key(*n)
    }
    pub fn weekdays(&self) -> Vec<(String, &'static str)> {
        (1..=7).map(|n| (n.to_string(), weekday_n_key(n))).collect()
    }
    pub fn time(&self, l: &LessonRow) -> String {
        format!("{}–{}", hhmm(l.starts), hhmm(l.ends))
    }
    pub fn period(&self, l: &LessonRow) -> String {
        let from = fields::day_month_year(l.valid_from);
        match l.valid_to {
            Some(to) => format!("{from}–{}", fields::day_month_year(to - Duration::days(1))),
            None => format!("{from}–"),
        }
    }
    pub fn subject_name(&self, s: &SubjectRow) -> String {
        let name = match self.ui.lang {
            crate::web::i18n::Lang::En => &s.name_en,
            crate::web::i18n::Lang::Nb => &s.name_nb,
        };
        format!("{} ({})", name, s.code)
    }
    pub fn selected(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "weekday" => &self.form.weekday,
            "subject" => &self.form.subject,
            _ => &self.form.teacher,
        };
        current.trim() == value
    }
    pub fn count(&self) -> String {
        self.rows.len().to_string()
    }
}

async fn page(
    mut conn: Conn<'_>,
    ui: Ui,
    group: GroupInfo,
    form: LessonForm,
    errors: FieldErrors,
    status_key: Option<&'static str>,
) -> Result<LessonsPage> {
    let rows = queries::group_lessons(conn.re(), group.id).await?;
    let subjects = queries::subjects(conn.re()).await?;
    let current_teacher = Uuid::parse_str(form.teacher.trim()).ok();
    let teachers = queries::school_teachers(conn.re(), group.school_id, current_teacher).await?;
    Ok(LessonsPage { ui, group, rows, form, errors, status_key, subjects, teachers })
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    /// Fill the form with this lesson ("Change").
    #[serde(default)]
    lesson: String,
}

fn status_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "timetable.status.created",
        "updated" => "timetable.status.updated",
        "removed" => "timetable.status.removed",
        "unchanged" => "timetable.status.unchanged",
        "gone" => "timetable.status.gone",
        _ => return None,
    })
}

fn done(group: Uuid, status: &str) -> Response {
    Redirect::to(&format!("/groups/{group}/lessons?status={status}")).into_response()
}

/// The group, and the actor's right to edit its school's timetable. Not found otherwise.
async fn group_for_editor(work: &mut Work, raw: &str) -> Result<(GroupInfo, TimetableEditor)> {
    let id = path_id(raw)?;
    let group = queries::group(work.conn(), id).await?.ok_or(AppError::NotFound)?;
    let editor = policy::timetable_editor(&work.actor(), group.school_id)?;
    Ok((group, editor))
}

async fn list(mut work: Work, ui: Ui, Path(group_id): Path<String>, Query(q): Query<ListQuery>) -> Result<Response> {
    let (group, _) = group_for_editor(&mut work, &group_id).await?;
    let rows = queries::group_lessons(work.conn(), group.id).await?;
    let form = rows
        .iter()
        .find(|r| r.lesson.id.to_string() == q.lesson)
        .map(|r| LessonForm::from_row(&r.lesson))
        .unwrap_or_else(|| LessonForm {
            subject: group.subject_id.map(|s| s.to_string()).unwrap_or_default(),
            valid_from: group.year_starts.to_string(),
            ..LessonForm::default()
        });
    let p = page(work.conn(), ui, group, form, FieldErrors::new(), status_key(&q.status)).await?;
    work.commit().await?;
    Ok(render(&p))
}

/// The form again with its errors; nothing was written, and the work (dropped
/// uncommitted) keeps nothing.
async fn refuse(mut work: Work, ui: Ui, group: GroupInfo, form: LessonForm, errors: FieldErrors) -> Result<Response> {
    let p = page(work.conn(), ui, group, form, errors, None).await?;
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &p))
}

/// A lesson's change is audited with its teachers (before and after) as subjects: a
/// lesson is no pupil's data, but a teacher's work plan is the teacher's.
fn teachers_of(teachers: &[Option<Uuid>]) -> Vec<Uuid> {
    let mut subjects: Vec<Uuid> = teachers.iter().flatten().copied().collect();
    subjects.sort();
    subjects.dedup();
    subjects
}

const LESSON_COLUMNS: &str = "id, group_id, subject_id, teacher_id, room, weekday, starts, ends, valid_from, valid_to";

/// Add a lesson, or change the one the form names.
async fn save(mut work: Work, ui: Ui, Path(group_id): Path<String>, Form(form): Form<LessonForm>) -> Result<Response> {
    let (group, editor) = group_for_editor(&mut work, &group_id).await?;
    let tenant = work.actor().tenant_id;
    queries::lock_timetable(work.conn(), tenant).await?;
    let existing: Option<LessonRow> = match form.lesson.trim() {
        "" => None,
        raw => {
            let id = Uuid::parse_str(raw).map_err(|_| AppError::BadRequest)?;
            let row = sqlx::query_as(&format!(
                "SELECT {LESSON_COLUMNS} FROM lessons WHERE tenant_id = $1 AND id = $2 AND group_id = $3 FOR UPDATE"
            ))
            .bind(tenant)
            .bind(id)
            .bind(group.id)
            .fetch_optional(&mut *work.conn())
            .await?;
            // Removed meanwhile (another clerk, another tab).
            Some(row.ok_or(AppError::Conflict)?)
        }
    };
    let subjects = queries::subjects(work.conn()).await?;
    let mut planned = match parse_form(&form, &group, &subjects) {
        Ok(l) => l,
        Err(errors) => return refuse(work, ui, group, form, *errors).await,
    };
    planned.id = existing.as_ref().map_or_else(Uuid::new_v4, |e| e.id);
    if existing.as_ref() == Some(&planned) {
        work.commit().await?;
        return Ok(done(group.id, "unchanged"));
    }
    let mut errors = FieldErrors::new();
    if let Some(teacher) = planned.teacher_id {
        if !queries::employed_at(work.conn(), teacher, group.school_id, planned.valid_from, planned.valid_to).await? {
            errors.add("teacher", msg("timetable.error.teacher_not_here"));
        }
    }
    if !errors.any() {
        for c in queries::clashes(work.conn(), &planned).await? {
            if c.same_group && !errors.has("starts") {
                errors.add("starts", msg("timetable.error.group_busy").with("lesson", clash_label(&c)));
            } else if !c.same_group && !errors.has("teacher") {
                errors.add("teacher", msg("timetable.error.teacher_busy").with("lesson", clash_label(&c)));
            }
        }
    }
    if errors.any() {
        errors.order(&FIELD_ORDER);
        return refuse(work, ui, group, form, errors).await;
    }
    let action = if existing.is_some() {
        sqlx::query(
            "UPDATE lessons SET subject_id = $3, teacher_id = $4, room = $5, weekday = $6, starts = $7, ends = $8, \
             valid_from = $9, valid_to = $10, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(planned.id)
        .bind(planned.subject_id)
        .bind(planned.teacher_id)
        .bind(&planned.room)
        .bind(planned.weekday)
        .bind(planned.starts)
        .bind(planned.ends)
        .bind(planned.valid_from)
        .bind(planned.valid_to)
        .execute(&mut *work.conn())
        .await?;
        Action::Update
    } else {
        insert(work.conn(), tenant, &planned).await?;
        Action::Create
    };
    let old_teacher = existing.as_ref().and_then(|e| e.teacher_id);
    let teachers = teachers_of(&[old_teacher, planned.teacher_id]);
    work.audit(&editor, action, Resource::Lesson, Some(planned.id), &teachers).await?;
    work.commit().await?;
    Ok(done(group.id, if action == Action::Create { "created" } else { "updated" }))
}

pub(crate) async fn insert(mut conn: Conn<'_>, tenant: Uuid, l: &LessonRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lessons (tenant_id, id, group_id, subject_id, teacher_id, room, weekday, starts, ends, \
         valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant)
    .bind(l.id)
    .bind(l.group_id)
    .bind(l.subject_id)
    .bind(l.teacher_id)
    .bind(&l.room)
    .bind(l.weekday)
    .bind(l.starts)
    .bind(l.ends)
    .bind(l.valid_from)
    .bind(l.valid_to)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    pub lesson: String,
}

async fn remove(mut work: Work, Path(group_id): Path<String>, Form(form): Form<RemoveForm>) -> Result<Response> {
    let (group, editor) = group_for_editor(&mut work, &group_id).await?;
    // The buttons carry ids from the table; anything else is not our form.
    let lesson = Uuid::parse_str(form.lesson.trim()).map_err(|_| AppError::BadRequest)?;
    let tenant = work.actor().tenant_id;
    queries::lock_timetable(work.conn(), tenant).await?;
    let in_group: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lessons WHERE tenant_id = $1 AND id = $2 AND group_id = $3)")
            .bind(tenant)
            .bind(lesson)
            .bind(group.id)
            .fetch_one(&mut *work.conn())
            .await?;
    let removed =
        if in_group { queries::remove_lessons(work.conn(), &[lesson]).await?.0.into_iter().next() } else { None };
    let Some(teacher) = removed else {
        // Already gone (a second click, another clerk): say so, change nothing.
        work.commit().await?;
        return Ok(done(group.id, "gone"));
    };
    work.audit(&editor, Action::Delete, Resource::Lesson, Some(lesson), &teachers_of(&[teacher])).await?;
    work.commit().await?;
    Ok(done(group.id, "removed"))
}

#[cfg(test)]
mod tests {
    use time::macros::{date, time};

    use super::*;

    fn group() -> GroupInfo {
        GroupInfo {
            id: Uuid::nil(),
            name: "4A NOR".into(),
            kind: "teaching".into(),
            subject_id: None,
            school_id: Uuid::nil(),
            school_name: "Solbakken skole".into(),
            year_name: "2026-2027".into(),
            year_starts: date!(2026 - 08 - 17),
            year_ends: date!(2027 - 06 - 18),
        }
    }

    fn form(weekday: &str, starts: &str, ends: &str, from: &str, to: &str) -> LessonForm {
        LessonForm {
            weekday: weekday.into(),
            starts: starts.into(),
            ends: ends.into(),
            valid_from: from.into(),
            valid_to: to.into(),
            ..LessonForm::default()
        }
    }

    #[test]
    fn a_good_form_and_the_last_day_stored_exclusive() {
        let l = parse_form(&form("2", "08:30", "09:15", "2026-08-17", "2027-06-18"), &group(), &[]).unwrap();
        assert_eq!((l.weekday, l.starts, l.ends), (2, time!(08:30), time!(09:15)));
        assert_eq!(l.valid_to, Some(date!(2027 - 06 - 19)));
        assert_eq!(LessonForm::from_row(&l).valid_to, "2027-06-18");
    }

    #[test]
    fn each_bad_field_is_reported_by_itself() {
        let e = parse_form(&form("9", "25:00", "", "2026-08-01", "2027-07-01"), &group(), &[]).unwrap_err();
        assert_eq!(e.key("weekday").unwrap(), "timetable.error.weekday");
        assert_eq!(e.key("starts").unwrap(), "timetable.error.time");
        assert_eq!(e.key("ends").unwrap(), "timetable.error.required");
        assert_eq!(e.key("valid_from").unwrap(), "timetable.error.outside_year");
        assert_eq!(e.key("valid_to").unwrap(), "timetable.error.outside_year");
        let e = parse_form(&form("1", "10:00", "09:00", "2026-09-01", "2026-08-31"), &group(), &[]).unwrap_err();
        assert_eq!(e.key("ends").unwrap(), "timetable.error.ends_before");
        assert_eq!(e.key("valid_to").unwrap(), "timetable.error.to_before_from");
        let mut f = form("1", "10:00", "11:00", "2026-09-01", "");
        f.subject = Uuid::new_v4().to_string();
        assert_eq!(
            parse_form(&f, &group(), &[]).unwrap_err().key("subject").unwrap(),
            "timetable.error.subject_choose"
        );
    }
}
