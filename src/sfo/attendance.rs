//! The day list of an SFO group: the children enrolled that day with not arrived /
//! arrived (time) / gone home (time, collected by whom), and per child the quick
//! "arrived now" and "left now" buttons (the server's clock) and a correction form.
//! One page that works without JavaScript, on a phone at the door.
//!
//! Every post names one child and one action and is idempotent: a second "arrived"
//! or "left" changes nothing, and the record is unique per child and day.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Duration, Time};
use uuid::Uuid;

use super::domain::{Action, Arrangement, Collector, LeaveCode, CORRECTION_DAYS};
use super::page::{child_errors, AttendanceForm, DayPage, DayRow, Sent};
use super::queries::{self, ChildRow, Correction, SfoGroupRow};
use crate::audit::{self, Resource};
use crate::domain::date as dates;
use crate::error::{AppError, Result};
use crate::policy::{self, SfoAttendanceAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render_with;
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub done: String,
}

/// Check a date against the school year and today. `for_change`: also within the
/// correction window.
fn check_date(raw: &str, group: &SfoGroupRow, today: Date, for_change: bool) -> (Option<Date>, Option<&'static str>) {
    let date = if raw.trim().is_empty() { Some(today) } else { dates::parse(raw) };
    match date {
        None => (None, Some("sfo.error.date_format")),
        Some(d) if d > today => (None, Some("sfo.error.date_future")),
        Some(d) if d < group.year_starts || d > group.year_ends => (None, Some("sfo.error.date_outside_year")),
        Some(d) if for_change && d < today - Duration::days(CORRECTION_DAYS) => (None, Some("sfo.error.too_far_back")),
        Some(d) => (Some(d), None),
    }
}

/// Load the group and build the page for `date` (when valid), auditing the read.
#[expect(clippy::too_many_arguments, reason = "the page's parts, gathered in one place")]
async fn day_page(
    work: &mut Work,
    ui: Ui,
    access: &SfoAttendanceAccess,
    group: SfoGroupRow,
    (today, _): (Date, Time),
    date_value: String,
    date: Option<Date>,
    date_error: Option<&'static str>,
    failed: Option<(Uuid, FieldErrors, Sent)>,
    notice: Option<&'static str>,
) -> Result<DayPage> {
    let mut rows = Vec::new();
    let mut page_errors = date_error.map(|e| FieldErrors::one("date", e)).unwrap_or_default();
    if let Some(d) = date {
        let children = queries::children(work.conn(), access.group_id, d, None).await?;
        let ids: Vec<Uuid> = children.iter().map(|c| c.id).collect();
        let collectors = queries::collectors(work.conn(), &ids, d).await?;
        let arrangements = queries::arrangements(work.conn(), &ids).await?;
        for child in children {
            let mine = collectors.iter().filter(|c| c.pupil_id == child.id).cloned().collect();
            let arrangement = arrangements.iter().find(|(id, _)| *id == child.id).map(|(_, a)| *a).unwrap_or_default();
            let mut row = DayRow::new(child, mine, arrangement.codes(d));
            if let Some((id, errors, sent)) = &failed {
                if *id == row.child.id {
                    let name = format!("{} {}", row.child.given_name, row.child.family_name);
                    child_errors(&mut page_errors, row.child.id, &name, errors);
                    row.sent = Some(sent.clone());
                }
            }
            rows.push(row);
        }
        work.audit(access, audit::Action::Read, Resource::SfoAttendance, Some(access.group_id), &ids).await?;
    }
    let editable = date.is_some_and(|d| d >= today - Duration::days(CORRECTION_DAYS)) && access.may_record;
    Ok(DayPage {
        ui,
        previous: date.and_then(|d| d.previous_day()).filter(|d| *d >= group.year_starts).map(dates::iso),
        next: date.and_then(|d| d.next_day()).filter(|d| *d <= today).map(dates::iso),
        group,
        date_value,
        date,
        errors: page_errors,
        today,
        editable,
        rows,
        notice,
    })
}

/// The day list of an SFO group (`?date=`, today by default).
pub async fn show(mut work: Work, ui: Ui, Path(group_id): Path<String>, Query(q): Query<DayQuery>) -> Result<Response> {
    let actor = work.actor();
    let group_id = path_id(&group_id)?;
    let access = policy::sfo_attendance_access(work.conn(), &actor, group_id).await?;
    let clock = queries::now(work.conn()).await?;
    let group = queries::group(work.conn(), group_id, clock.0).await?.ok_or(AppError::NotFound)?;
    let (date, date_error) = check_date(&q.date, &group, clock.0, false);
    let notice = match q.done.as_str() {
        "arrived" => Some("sfo.done.arrived"),
        "left" => Some("sfo.done.left"),
        "corrected" => Some("sfo.done.corrected"),
        "cleared" => Some("sfo.done.cleared"),
        "unchanged" => Some("sfo.done.unchanged"),
        _ => None,
    };
    let date_value = date.map(dates::iso).unwrap_or_else(|| q.date.clone());
    let page = day_page(&mut work, ui, &access, group, clock, date_value, date, date_error, None, notice).await?;
    work.commit().await?;
    let status = if page.errors.has("date") { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render_with(status, &page))
}

/// What a valid post comes to.
enum Change {
    Arrive(Time),
    Leave(Time, Collector),
    Correct(Correction),
    Clear,
}

/// Check one child's post against the rules; the errors by the fields otherwise.
fn check(
    form: &AttendanceForm,
    action: Action,
    child: &ChildRow,
    allowed: &[Collector],
    arrangement: &Arrangement,
    date: Date,
    (today, now): (Date, Time),
) -> std::result::Result<Change, FieldErrors> {
    // Fields by the short names `child_errors` expects.
    let mut e = FieldErrors::new();
    // A person or a code only if on this child's list (`allowed`: the guardians, the
    // contact persons with a pick-up permission, the codes the guardians' word allows).
    let is_allowed = |raw: &str| Collector::parse(raw).filter(|c| allowed.contains(c));
    let alone = Collector::Code(LeaveCode::Alone);
    match action {
        Action::Arrive | Action::Leave if date != today => {
            e.add("act", "sfo.error.now_only_today");
        }
        Action::Arrive => return Ok(Change::Arrive(now)),
        Action::Leave => match (child.arrived_at, is_allowed(&form.collector)) {
            (None, _) => {
                e.add("act", "sfo.error.not_arrived");
            }
            (Some(_), None) => {
                e.add("q", "sfo.error.collector");
            }
            (Some(a), Some(_)) if now <= a => {
                e.add("act", "sfo.error.left_same_minute");
            }
            (Some(_), Some(c)) if c == alone && arrangement.too_early_alone(now) => {
                e.add("q", "sfo.error.alone_too_early");
            }
            (Some(_), Some(c)) => return Ok(Change::Leave(now, c)),
        },
        Action::Clear => return Ok(Change::Clear),
        Action::Correct => {
            let in_future = |t: Time| date == today && t > now;
            let arrived = dates::parse_time(&form.arrived);
            match arrived {
                None => {
                    e.add("arr", "sfo.error.arrived_required");
                }
                Some(t) if in_future(t) => {
                    e.add("arr", "sfo.error.time_future");
                }
                Some(_) => {}
            }
            let left = if form.left.trim().is_empty() { None } else { Some(dates::parse_time(&form.left)) };
            let collector = if form.collector.trim().is_empty() { None } else { Some(is_allowed(&form.collector)) };
            match (left, arrived) {
                (Some(None), _) => {
                    e.add("left", "sfo.error.time_format");
                }
                (Some(Some(l)), _) if in_future(l) => {
                    e.add("left", "sfo.error.time_future");
                }
                (Some(Some(l)), Some(a)) if l <= a => {
                    e.add("left", "sfo.error.left_before_arrived");
                }
                (None, _) if collector.is_some() => {
                    e.add("left", "sfo.error.left_required");
                }
                _ => {}
            }
            match (left, collector) {
                (_, Some(None)) => {
                    e.add("col", "sfo.error.collector");
                }
                (Some(Some(l)), Some(Some(c))) if c == alone && arrangement.too_early_alone(l) => {
                    e.add("col", "sfo.error.alone_too_early");
                }
                (Some(_), None) => {
                    e.add("col", "sfo.error.collector");
                }
                _ => {}
            }
            if e.any() {
                return Err(e);
            }
            let (Some(arrived_at), left) = (arrived, left.flatten().zip(collector.flatten())) else {
                return Err(e);
            };
            return Ok(Change::Correct(Correction { arrived_at, left }));
        }
    }
    Err(e)
}

/// Record one child's arrival, departure, correction or removal. 400 for a field no
/// form of ours has; 404 for a child not in the group that day; 403 for a reader;
/// 422 with the messages by the fields for a rule broken; nothing is stored then.
pub async fn record(
    mut work: Work,
    ui: Ui,
    Path((group_id, pupil_id)): Path<(String, String)>,
    form: std::result::Result<Form<AttendanceForm>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let action = Action::from_code(&form.action).ok_or(AppError::BadRequest)?;
    let (group_id, pupil) = (path_id(&group_id)?, path_id(&pupil_id)?);
    let access = policy::sfo_attendance_access(work.conn(), &actor, group_id).await?;
    access.recorder()?;
    let clock = queries::now(work.conn()).await?;
    let group = queries::group(work.conn(), group_id, clock.0).await?.ok_or(AppError::NotFound)?;
    let (date, date_error) = check_date(&form.date, &group, clock.0, true);
    let Some(date) = date else {
        let page =
            day_page(&mut work, ui, &access, group, clock, form.date.clone(), None, date_error, None, None).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let child = queries::children(work.conn(), group_id, date, Some(pupil)).await?.into_iter().next();
    let child = child.ok_or(AppError::NotFound)?;
    let arrangement =
        queries::arrangements(work.conn(), &[pupil]).await?.into_iter().next().map(|(_, a)| a).unwrap_or_default();
    let mut allowed: Vec<Collector> =
        queries::collectors(work.conn(), &[pupil], date).await?.iter().map(|c| c.collector()).collect();
    allowed.extend(arrangement.codes(date).into_iter().map(Collector::Code));
    let change = match check(&form, action, &child, &allowed, &arrangement, date, clock) {
        Ok(c) => c,
        Err(errors) => {
            let sent = Sent::from_form(&form, action);
            let failed = Some((pupil, errors, sent));
            let page = day_page(&mut work, ui, &access, group, clock, dates::iso(date), Some(date), None, failed, None)
                .await?;
            work.commit().await?;
            return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let me = actor.person_id;
    let (changed, audit_action, done) = match change {
        Change::Arrive(at) => {
            (queries::arrive(work.conn(), pupil, date, group_id, at, me).await?, audit::Action::Create, "arrived")
        }
        Change::Leave(at, who) => {
            (queries::leave(work.conn(), pupil, date, at, who, me).await?, audit::Action::Update, "left")
        }
        Change::Correct(c) => {
            (queries::correct(work.conn(), pupil, date, group_id, &c, me).await?, audit::Action::Update, "corrected")
        }
        Change::Clear => (queries::clear(work.conn(), pupil, date).await?, audit::Action::Delete, "cleared"),
    };
    if changed {
        work.audit(&access, audit_action, Resource::SfoAttendance, Some(group_id), &[pupil]).await?;
    }
    work.commit().await?;
    let done = if changed { done } else { "unchanged" };
    Ok(Redirect::to(&format!("/sfo/groups/{group_id}/attendance?date={}&done={done}#child-{pupil}", dates::iso(date)))
        .into_response())
}
