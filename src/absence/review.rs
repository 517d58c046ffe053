//! Review and deduction: the pupil's contact teacher (or the school office) marks a
//! day of absence with a code from the municipality's list (documented or not) and,
//! where the rules allow, leaves it off the diploma (fratrekk). A day is the unit: all
//! of the day's absent and late lessons take its code. No free text: the form is a
//! strict struct. A guardian's report is shown beside the form as information; it is
//! not a review. Every change is audited in the same transaction.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::domain;
use super::overview::{self, PupilTotals};
use super::queries::review::{self as rq, CodeRow, DayLessonRow};
use super::queries::{self, DayReportRow};
use super::totals::{self, DeductionRefusal};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, AbsenceReviewAccess};
use crate::web::form::{msg, FieldErrors};
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

/// The review form. Strict: any other field (a "note", a "diagnosis") refuses the
/// whole request before anything is read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewForm {
    #[serde(default)]
    #[expect(dead_code, reason = "read by the CSRF middleware, not here")]
    pub csrf: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub code: String,
    /// `yes` when the day is to be left off the diploma.
    #[serde(default)]
    pub deduct: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub done: String,
}

#[derive(askama::Template)]
#[template(path = "absence/review.html")]
pub struct ReviewPage {
    pub ui: Ui,
    pub t: PupilTotals,
    pub codes: Vec<CodeRow>,
    /// The day in the form, when one is chosen.
    pub day: Option<Date>,
    pub lessons: Vec<DayLessonRow>,
    pub reports: Vec<DayReportRow>,
    pub form: ReviewForm,
    pub errors: FieldErrors,
    pub notice: Option<&'static str>,
}

impl ReviewPage {
    pub fn pct(&self, v: &f64) -> String {
        overview::percent(self.ui.lang, *v)
    }
    pub fn hours(&self, m: &u32) -> String {
        overview::hours(*m)
    }
    pub fn date(&self, d: &Date) -> String {
        domain::display_date(*d)
    }
    pub fn iso(&self, d: &Date) -> String {
        domain::iso(*d)
    }
    pub fn time(&self, l: &DayLessonRow) -> String {
        format!("{}–{}", domain::display_time(l.starts), domain::display_time(l.ends))
    }
    pub fn report_extent(&self, r: &DayReportRow) -> String {
        match (r.from_time, r.to_time) {
            (Some(a), Some(b)) => format!("{}–{}", domain::display_time(a), domain::display_time(b)),
            _ => self.ui.t("absence.whole_day").to_owned(),
        }
    }
    pub fn status_key(&self, l: &DayLessonRow) -> &'static str {
        domain::Status::from_code(&l.status).map(|s| s.label_key()).unwrap_or("absence.status.absent")
    }
    pub fn deduct_checked(&self) -> bool {
        self.form.deduct == "yes"
    }
}

/// Load the page: the totals, the codes, and the chosen day's lessons and reports.
async fn page(
    mut tx: crate::db::Conn<'_>,
    ui: Ui,
    pupil: Uuid,
    day: Option<Date>,
    form: ReviewForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<ReviewPage> {
    let t = overview::pupil_totals(tx.re(), pupil, ui.lang).await?;
    let codes = rq::codes(tx.re(), ui.lang).await?;
    let (lessons, reports) = match day {
        Some(d) => (
            rq::day_lessons(tx.re(), pupil, d, ui.lang).await?,
            queries::reports_on(tx.re(), &[pupil], d, ui.lang).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(ReviewPage { ui, t, codes, day, lessons, reports, form, errors, notice })
}

/// Looking at the review page is reading the pupil's absence totals.
async fn audit_read(work: &mut Work, access: &AbsenceReviewAccess) -> Result<()> {
    work.audit(access, Action::Read, Resource::AbsenceTotals, Some(access.pupil_id), &[access.pupil_id]).await
}

/// The pupil's totals, the days with absence, and the form for the chosen day (by
/// default the oldest day nobody has reviewed).
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let pupil = path_id(&pupil_id)?;
    let access = policy::absence_review_access(work.conn(), &actor, pupil).await?;
    let notice = (q.done == "saved").then_some("totals.review.saved");
    let t = overview::pupil_totals(work.conn(), access.pupil_id, ui.lang).await?;
    let day = domain::parse_date(&q.date)
        .filter(|d| t.days.iter().any(|x| x.date == *d && x.has_absence()))
        .or_else(|| t.days.iter().find(|d| d.has_absence() && t.review_of(&d.date).is_none()).map(|d| d.date));
    let form = match day.and_then(|d| t.review_of(&d)) {
        Some(r) => ReviewForm {
            date: domain::iso(r.date),
            code: r.code.clone(),
            deduct: if r.deducted { "yes".to_owned() } else { String::new() },
            ..ReviewForm::default()
        },
        None => ReviewForm { date: day.map(domain::iso).unwrap_or_default(), ..ReviewForm::default() },
    };
    let page = page(work.conn(), ui, access.pupil_id, day, form, FieldErrors::new(), notice).await?;
    audit_read(&mut work, &access).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

/// Save the day's review. 400 for a form with a field it should not have; 422 with
/// the message by the field for a day without absence, an unknown code, or a
/// deduction the rules do not allow (nothing is stored then).
pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    form: std::result::Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let pupil = path_id(&pupil_id)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let access = policy::absence_review_access(work.conn(), &actor, pupil).await?;
    rq::lock_pupil(work.conn(), access.pupil_id).await?;
    let t = overview::pupil_totals(work.conn(), access.pupil_id, ui.lang).await?;
    let codes = rq::codes(work.conn(), ui.lang).await?;
    let mut errors = FieldErrors::new();
    let day = domain::parse_date(&form.date).filter(|d| t.days.iter().any(|x| x.date == *d && x.has_absence()));
    if day.is_none() {
        errors.add("date", "totals.error.date");
    }
    let code = codes.iter().find(|c| c.code == form.code);
    if code.is_none() {
        errors.add("code", "totals.error.code_required");
    }
    let deduct = match form.deduct.as_str() {
        "" => false,
        "yes" => true,
        _ => return Err(AppError::BadRequest),
    };
    if let (Some(d), Some(c), true) = (day, code, deduct) {
        match (t.params, t.school_type.has_diploma()) {
            (None, true) => {
                errors.add("deduct", "totals.error.no_params");
            }
            (None, false) => {
                errors.add("deduct", DeductionRefusal::NoDiploma.message_key());
            }
            (Some(p), _) => {
                let map = rq::review_map(&t.reviews);
                if let Err(refusal) = totals::check_deduction(t.school_type, &t.days, &map, d, c.flags(), &p) {
                    let value = match refusal {
                        DeductionRefusal::MaxReached { max } => max.to_string(),
                        DeductionRefusal::HealthTooShort { from_day } => from_day.to_string(),
                        _ => String::new(),
                    };
                    errors.add("deduct", msg(refusal.message_key()).with("value", value));
                }
            }
        }
    }
    let (Some(d), Some(c), false) = (day, code, errors.any()) else {
        let page = page(work.conn(), ui, access.pupil_id, day, form, errors, None).await?;
        audit_read(&mut work, &access).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let existed = t.review_of(&d).is_some();
    let changed =
        rq::save_review(work.conn(), access.pupil_id, d, &c.code, deduct, actor.person_id, access.source).await?;
    if changed {
        work.audit(
            &access,
            if existed { Action::Update } else { Action::Create },
            Resource::AbsenceReview,
            Some(access.pupil_id),
            &[access.pupil_id],
        )
        .await?;
    }
    work.commit().await?;
    let to = format!("/absence/pupils/{}/review?date={}&done=saved", access.pupil_id, domain::iso(d));
    Ok(Redirect::to(&to).into_response())
}
