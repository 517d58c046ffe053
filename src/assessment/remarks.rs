//! Remarks (anmerkninger): a teacher records that a pupil broke the school's rules of
//! order or conduct, with a category from the school's list, the day and the lesson,
//! and at most a short factual note (the form says it must never hold health or family
//! information; a national id is refused). The pupil's teachers and the school's
//! leaders see and record them; the pupil and the guardians see them on their grade
//! page. A remark is withdrawn (by the one who gave it, or a leader), never deleted.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::domain::{check_note, NoteError, REMARK_NOTE_MAX};
use super::queries::remarks::{self, LessonOption, RemarkRow, SchoolCategory};
use super::queries::{self, PupilHead};
use crate::absence::domain::weekday_key;
use crate::audit::{Action, Resource};
use crate::domain::date::{display_date, display_time, iso, parse_iso};
use crate::error::{AppError, Result};
use crate::policy::{self, RemarkAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemarkForm {
    /// Checked by the CSRF middleware before the handler runs; the strict form accepts it.
    #[serde(default)]
    #[expect(dead_code, reason = "read by the CSRF middleware, not here")]
    pub csrf: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub lesson: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RemarksQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(askama::Template)]
#[template(path = "assessment/remarks.html")]
pub struct RemarksPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub head: PupilHead,
    pub remarks: Vec<RemarkRow>,
    pub lessons: Vec<LessonOption>,
    /// The school's list of categories (also those out of use).
    pub list: Vec<SchoolCategory>,
    pub form: RemarkForm,
    pub errors: FieldErrors,
    pub done: String,
    /// Who is looking: they may withdraw their own remarks (a leader any).
    pub me: Uuid,
    pub leads: bool,
}

impl RemarksPage {
    pub fn name(&self) -> String {
        format!("{} {}", self.head.given_name, self.head.family_name)
    }
    /// The categories in use at the school, for the form.
    pub fn categories(&self) -> Vec<(String, String)> {
        self.list
            .iter()
            .filter(|c| c.active)
            .map(|c| (c.code.clone(), format!("{} – {}", self.ui.t(c.aspect.label_key()), c.label(self.ui.lang))))
            .collect()
    }
    pub fn category(&self, r: &RemarkRow) -> String {
        r.category_label(self.ui.lang)
    }
    pub fn lesson_label(&self, l: &LessonOption) -> String {
        let subject = match self.ui.lang {
            crate::web::i18n::Lang::En => l.subject_en.clone(),
            _ => l.subject_nb.clone(),
        };
        format!(
            "{} {}–{}{}",
            self.ui.t(weekday_key(l.weekday)),
            display_time(l.starts),
            display_time(l.ends),
            subject.map(|s| format!(" · {s}")).unwrap_or_default()
        )
    }
    pub fn when(&self, r: &RemarkRow) -> String {
        let mut s = display_date(r.day);
        if let Some(t) = r.starts {
            s.push_str(&format!(" {}", display_time(t)));
        }
        if let Some(subject) = r.subject(self.ui.lang) {
            s.push_str(&format!(" · {subject}"));
        }
        s
    }
    pub fn may_withdraw(&self, r: &RemarkRow) -> bool {
        r.withdrawn_at.is_none() && (self.leads || r.recorded_by == self.me)
    }
    pub fn note_max(&self) -> String {
        REMARK_NOTE_MAX.to_string()
    }
}

async fn page(
    work: &mut Work,
    ui: Ui,
    access: &RemarkAccess,
    form: RemarkForm,
    errors: FieldErrors,
    done: String,
) -> Result<RemarksPage> {
    let head = queries::pupil_head(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let remarks = remarks::pupil_remarks(work.conn(), access.pupil_id, true).await?;
    let lessons = remarks::pupil_lessons(work.conn(), access.pupil_id).await?;
    let list = remarks::school_list(&remarks::stored_categories(work.conn(), access.school_id).await?);
    Ok(RemarksPage {
        ui,
        pupil_id: access.pupil_id,
        head,
        remarks,
        lessons,
        list,
        form,
        errors,
        done,
        me: work.actor().person_id,
        leads: access.leads,
    })
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    Query(q): Query<RemarksQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::remark_access(work.conn(), &actor, path_id(&pupil)?).await?;
    let today: Date = crate::db::current_date(work.conn()).await?;
    let form = RemarkForm { day: iso(today), ..Default::default() };
    let page = page(&mut work, ui, &access, form, FieldErrors::new(), q.done).await?;
    work.audit(&access, Action::Read, Resource::Remarks, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

pub async fn create(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<RemarkForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::remark_access(work.conn(), &actor, path_id(&pupil)?).await?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let today: Date = crate::db::current_date(work.conn()).await?;
    let mut errors = FieldErrors::new();
    let list = remarks::school_list(&remarks::stored_categories(work.conn(), access.school_id).await?);
    let category = list.iter().find(|c| c.active && c.code == form.category.trim()).map(|c| c.code.clone());
    if category.is_none() {
        errors.add("category", "assessment.error.remark_category");
    }
    let day = match parse_iso(&form.day) {
        None => {
            errors.add("day", "assessment.error.date_format");
            None
        }
        Some(d) if d > today => {
            errors.add("day", "assessment.error.remark_future");
            None
        }
        Some(d) if d < today - time::Duration::days(60) => {
            errors.add("day", "assessment.error.remark_too_old");
            None
        }
        Some(d) => Some(d),
    };
    let lessons = remarks::pupil_lessons(work.conn(), access.pupil_id).await?;
    let lesson = if form.lesson.trim().is_empty() {
        None
    } else {
        match Uuid::parse_str(form.lesson.trim()).ok().and_then(|id| lessons.iter().find(|l| l.id == id)) {
            None => {
                errors.add("lesson", "assessment.error.remark_lesson");
                None
            }
            Some(l) if day.is_some_and(|d| i16::from(d.weekday().number_from_monday()) != l.weekday) => {
                errors.add("lesson", "assessment.error.remark_lesson_day");
                None
            }
            Some(l) => Some(l.id),
        }
    };
    let note = match check_note(&form.note) {
        Ok(n) => n,
        Err(NoteError::TooLong) => {
            errors.add("note", "assessment.error.remark_note_long");
            None
        }
        Err(NoteError::NationalId) => {
            errors.add("note", "assessment.error.remark_note_id");
            None
        }
        Err(NoteError::Hidden) => {
            errors.add("note", "assessment.error.remark_note_hidden");
            None
        }
    };
    let (Some(category), Some(day), false) = (category, day, errors.any()) else {
        let page = page(&mut work, ui, &access, form, errors, String::new()).await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let id = remarks::create(
        work.conn(),
        access.pupil_id,
        access.school_id,
        &category,
        day,
        lesson,
        note.as_deref(),
        actor.person_id,
    )
    .await?;
    work.audit(&access, Action::Create, Resource::Remarks, Some(id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/pupils/{}/remarks?done=created", access.pupil_id)).into_response())
}

pub async fn withdraw(mut work: Work, Path((pupil, remark)): Path<(String, String)>) -> Result<Response> {
    let actor = work.actor();
    let access = policy::remark_access(work.conn(), &actor, path_id(&pupil)?).await?;
    let remark = path_id(&remark)?;
    if !remarks::withdraw(work.conn(), access.pupil_id, remark, actor.person_id, access.leads).await? {
        return Err(AppError::NotFound);
    }
    work.audit(&access, Action::Update, Resource::Remarks, Some(remark), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/pupils/{}/remarks?done=withdrawn", access.pupil_id)).into_response())
}
