//! One group's page: rename it, place pupils in it and take them out (each from a day),
//! give it teachers and contact teachers, close it. Every change is audited with the
//! pupils it concerns; reading the page is audited with the pupils it names.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use time::Date;
use uuid::Uuid;

use super::queries::{self, GroupHead, MemberRow, StaffRow};
use super::{group_name, subject_name, DoneQuery};
use crate::audit::{Action, Resource};
use crate::domain::date::{display_date, iso, parse};
use crate::error::{AppError, Result};
use crate::policy::{self, SchoolOfficeAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The assignments of staff to a group (stored; never rename one).
pub const ASSIGNMENTS: [&str; 2] = ["contact_teacher", "teacher"];

/// What the done-message says after each change.
const DONE: [&str; 8] =
    ["created", "renamed", "added", "none_added", "removed", "staff_added", "staff_removed", "closed"];

#[derive(askama::Template)]
#[template(path = "groups/group.html")]
pub struct GroupPage {
    pub ui: Ui,
    pub group: GroupHead,
    pub today: Date,
    pub members: Vec<MemberRow>,
    pub candidates: Vec<MemberRow>,
    pub staff: Vec<StaffRow>,
    pub school_staff: Vec<StaffRow>,
    /// The forms' values as typed (after a refusal) or their defaults.
    pub name: String,
    pub chosen: Vec<String>,
    pub from: String,
    pub removed: Vec<String>,
    pub on: String,
    pub staff_choice: String,
    pub assignment: String,
    pub close_on: String,
    pub errors: FieldErrors,
    pub done: String,
}

impl GroupPage {
    pub fn kind(&self) -> &'static str {
        self.ui.t(&format!("groups.kind.{}", self.group.kind))
    }
    pub fn subject(&self) -> String {
        subject_name(&self.ui, self.group.subject_nb.as_deref(), self.group.subject_en.as_deref())
    }
    pub fn closed_on(&self) -> String {
        self.group.closed_on.map(display_date).unwrap_or_default()
    }
    pub fn stay(&self, m: &MemberRow) -> String {
        match (m.from_date, m.to_date) {
            (Some(from), _) if from > self.today => self.ui.tf("groups.joins_on", "date", &display_date(from)),
            (_, Some(to)) => self.ui.tf("groups.leaves_on", "date", &display_date(to)),
            _ => String::new(),
        }
    }
    pub fn grade(&self, m: &MemberRow) -> String {
        m.grade_level.map(|g| g.to_string()).unwrap_or_default()
    }
    pub fn class_of(&self, m: &MemberRow) -> String {
        m.class_name.clone().unwrap_or_default()
    }
    pub fn is_chosen(&self, m: &MemberRow) -> bool {
        self.chosen.contains(&m.pupil_id.to_string())
    }
    pub fn is_removed(&self, m: &MemberRow) -> bool {
        self.removed.contains(&m.pupil_id.to_string())
    }
    pub fn assignment_label(&self, code: &str) -> &'static str {
        self.ui.t(&format!("groups.assignment.{code}"))
    }
    pub fn assignments(&self) -> Vec<(&'static str, &'static str)> {
        ASSIGNMENTS.iter().map(|a| (*a, self.assignment_label(a))).collect()
    }
    pub fn staff_assignment(&self, s: &StaffRow) -> &'static str {
        self.assignment_label(s.assignment.as_deref().unwrap_or("teacher"))
    }
    pub fn done_text(&self) -> &'static str {
        if DONE.contains(&self.done.as_str()) {
            self.ui.t(&format!("groups.done.{}", self.done))
        } else {
            ""
        }
    }
}

/// The group page's forms as sent: every form posts a few of these.
#[derive(Debug, Default)]
struct Sent {
    name: String,
    pupils: Vec<String>,
    from: String,
    on: String,
    staff: String,
    assignment: String,
}

fn read(fields: Vec<(String, String)>) -> Sent {
    let mut s = Sent::default();
    for (k, v) in fields {
        match k.as_str() {
            "name" => s.name = v,
            "pupil" => s.pupils.push(v),
            "from" => s.from = v,
            "on" => s.on = v,
            "staff" => s.staff = v,
            "assignment" => s.assignment = v,
            _ => {}
        }
    }
    s
}

struct Loaded {
    access: SchoolOfficeAccess,
    group: GroupHead,
    today: Date,
    members: Vec<MemberRow>,
    candidates: Vec<MemberRow>,
    staff: Vec<StaffRow>,
    school_staff: Vec<StaffRow>,
}

impl Loaded {
    /// The pupils the page names, for the audit row.
    fn named(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self.members.iter().chain(&self.candidates).map(|m| m.pupil_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The group (locked for a change) and what its page shows.
async fn load(work: &mut Work, group: &str, lock: bool) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::group_access(work.conn(), &actor, path_id(group)?).await?;
    let group = queries::group(work.conn(), path_id(group)?, lock).await?.ok_or(AppError::NotFound)?;
    let today = crate::db::current_date(work.conn()).await?;
    let members = queries::members(work.conn(), group.id).await?;
    let candidates =
        if group.closed_on.is_some() { Vec::new() } else { queries::candidates(work.conn(), &group).await? };
    let staff = queries::staff(work.conn(), group.id).await?;
    let school_staff = queries::school_staff(work.conn(), group.school_id).await?;
    Ok(Loaded { access, group, today, members, candidates, staff, school_staff })
}

fn page(ui: Ui, l: Loaded, sent: Option<Sent>, errors: FieldErrors, done: String) -> GroupPage {
    let today = iso(l.today);
    let s = sent.unwrap_or_default();
    GroupPage {
        ui,
        name: if s.name.is_empty() { l.group.name.clone() } else { s.name },
        chosen: s.pupils.clone(),
        removed: s.pupils,
        from: if s.from.is_empty() { today.clone() } else { crate::domain::date::date_value(&s.from) },
        on: if s.on.is_empty() { today.clone() } else { crate::domain::date::date_value(&s.on) },
        close_on: if s.on.is_empty() { today.clone() } else { crate::domain::date::date_value(&s.on) },
        staff_choice: s.staff,
        assignment: if s.assignment.is_empty() { "teacher".to_owned() } else { s.assignment },
        group: l.group,
        today: l.today,
        members: l.members,
        candidates: l.candidates,
        staff: l.staff,
        school_staff: l.school_staff,
        errors,
        done,
    }
}

/// A refused form: the page again with what was typed and the messages, nothing changed.
async fn refused(work: Work, ui: Ui, l: Loaded, sent: Sent, mut errors: FieldErrors) -> Result<Response> {
    work.commit().await?;
    // Each summary link leads to a control on the page: the first box of a list of them.
    errors.at_first_radio("assignment", Some(ASSIGNMENTS[0]));
    let first = |rows: &[MemberRow], prefix: &str| match rows.first() {
        Some(m) => format!("{prefix}-{}", m.pupil_id),
        None => "members-title".to_owned(),
    };
    errors.retarget("pupil-add", first(&l.candidates, "add"));
    errors.retarget("pupil-remove", first(&l.members, "remove"));
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, Some(sent), errors, String::new())))
}

fn done(group: Uuid, what: &str) -> Response {
    Redirect::to(&format!("/groups/{group}?done={what}")).into_response()
}

/// A day from today to the end of the group's school year: a change is never dated
/// back (what has happened stays as it was).
fn day(raw: &str, field: &'static str, l: &Loaded, errors: &mut FieldErrors) -> Option<Date> {
    let key = match parse(raw) {
        None if raw.trim().is_empty() => "groups.error.date_required",
        None => "groups.error.date",
        Some(d) if d < l.today => "groups.error.date_past",
        Some(d) if d > l.group.year_ends => "groups.error.date_after_year",
        Some(d) => return Some(d),
    };
    errors.add(field, key);
    None
}

/// The group's page.
pub async fn show(mut work: Work, ui: Ui, Path(group): Path<String>, Query(q): Query<DoneQuery>) -> Result<Response> {
    let l = load(&mut work, &group, false).await?;
    let named = l.named();
    work.audit(&l.access, Action::Read, Resource::GroupMembers, Some(l.group.id), &named).await?;
    work.commit().await?;
    let done = if DONE.contains(&q.done.as_str()) { q.done } else { String::new() };
    Ok(render_with(StatusCode::OK, &page(ui, l, None, FieldErrors::new(), done)))
}

type Fields = std::result::Result<Form<Vec<(String, String)>>, FormRejection>;

/// Rename the group (the school's other groups of the year keep their names).
pub async fn rename(mut work: Work, ui: Ui, Path(group): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read(fields);
    let l = load(&mut work, &group, true).await?;
    let mut errors = FieldErrors::new();
    let Some(name) = group_name(&sent.name, "name", &mut errors) else {
        return refused(work, ui, l, sent, errors).await;
    };
    match queries::rename(work.conn(), l.group.id, &name).await? {
        queries::RenameOutcome::Taken => {
            refused(work, ui, l, sent, FieldErrors::one("name", "groups.error.name_taken")).await
        }
        queries::RenameOutcome::Same => {
            work.commit().await?;
            Ok(done(l.group.id, "renamed"))
        }
        queries::RenameOutcome::Renamed => {
            work.audit(&l.access, Action::Update, Resource::Groups, Some(l.group.id), &[]).await?;
            work.commit().await?;
            Ok(done(l.group.id, "renamed"))
        }
    }
}

/// The chosen pupils among `allowed` (or already handled, in `also`); an error when
/// none is chosen or one is neither.
fn chosen(
    sent: &Sent,
    allowed: &[MemberRow],
    also: &[MemberRow],
    field: &'static str,
    errors: &mut FieldErrors,
) -> Vec<Uuid> {
    let ids: Option<Vec<Uuid>> = sent.pupils.iter().map(|p| Uuid::parse_str(p.trim()).ok()).collect();
    let known = |id: &Uuid| allowed.iter().chain(also).any(|m| m.pupil_id == *id);
    match ids {
        Some(ids) if ids.is_empty() => {
            errors.add(field, "groups.error.no_pupil");
            Vec::new()
        }
        Some(ids) if ids.iter().all(known) => ids,
        _ => {
            errors.add(field, "groups.error.pupil_unknown");
            Vec::new()
        }
    }
}

/// Place the chosen pupils in the group from a day. A pupil already in it is left as is
/// (sending the form twice changes nothing).
pub async fn add_members(mut work: Work, ui: Ui, Path(group): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read(fields);
    let l = load(&mut work, &group, true).await?;
    let mut errors = FieldErrors::new();
    if l.group.closed_on.is_some() {
        errors.add("pupil-add", "groups.error.closed");
        return refused(work, ui, l, sent, errors).await;
    }
    let pupils = chosen(&sent, &l.candidates, &l.members, "pupil-add", &mut errors);
    let from = day(&sent.from, "from", &l, &mut errors);
    let Some(from) = from.filter(|_| !errors.any()) else {
        return refused(work, ui, l, sent, errors).await;
    };
    let added = queries::add_stays(work.conn(), l.group.id, &pupils, from).await?;
    if added.is_empty() {
        work.commit().await?;
        return Ok(done(l.group.id, "none_added"));
    }
    work.audit(&l.access, Action::Create, Resource::GroupMembers, Some(l.group.id), &added).await?;
    work.commit().await?;
    Ok(done(l.group.id, "added"))
}

/// Take the chosen pupils out of the group on a day (their stay ends; one not begun is
/// withdrawn). A pupil already out is left as is.
pub async fn remove_members(mut work: Work, ui: Ui, Path(group): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read(fields);
    let l = load(&mut work, &group, true).await?;
    let mut errors = FieldErrors::new();
    // A pupil who has left since the page was shown is no error: there is nothing to do.
    let was = queries::ever_members(work.conn(), l.group.id).await?;
    let pupils = chosen(&sent, &l.members, &was, "pupil-remove", &mut errors);
    let on = day(&sent.on, "on", &l, &mut errors);
    let Some(on) = on.filter(|_| !errors.any()) else {
        return refused(work, ui, l, sent, errors).await;
    };
    let ended = queries::end_stays(work.conn(), l.group.id, Some(&pupils), on).await?;
    if !ended.is_empty() {
        work.audit(&l.access, Action::Update, Resource::GroupMembers, Some(l.group.id), &ended).await?;
    }
    work.commit().await?;
    Ok(done(l.group.id, "removed"))
}

/// The staff member and assignment a staff form names, checked against the school's
/// staff (adding) or the group's (removing, where one no longer there is no error).
fn staff_choice(sent: &Sent, staff: &[StaffRow], errors: &mut FieldErrors) -> Option<(Uuid, &'static str)> {
    let person = Uuid::parse_str(sent.staff.trim()).ok().filter(|id| staff.iter().any(|s| s.staff_id == *id));
    if person.is_none() {
        errors.add(
            "staff",
            if sent.staff.trim().is_empty() { "groups.error.staff_required" } else { "groups.error.staff" },
        );
    }
    let assignment = ASSIGNMENTS.iter().find(|a| **a == sent.assignment.trim()).copied();
    if assignment.is_none() {
        errors.add("assignment", "groups.error.assignment");
    }
    Some((person?, assignment?))
}

/// Give a member of the school's staff an assignment in the group.
pub async fn add_staff(mut work: Work, ui: Ui, Path(group): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read(fields);
    let l = load(&mut work, &group, true).await?;
    let mut errors = FieldErrors::new();
    if l.group.closed_on.is_some() {
        errors.add("staff", "groups.error.closed");
        return refused(work, ui, l, sent, errors).await;
    }
    let Some((staff, assignment)) = staff_choice(&sent, &l.school_staff, &mut errors) else {
        return refused(work, ui, l, sent, errors).await;
    };
    if queries::add_staff(work.conn(), l.group.id, staff, assignment).await? {
        work.audit(&l.access, Action::Create, Resource::GroupStaff, Some(l.group.id), &[]).await?;
    }
    work.commit().await?;
    Ok(done(l.group.id, "staff_added"))
}

/// Take an assignment in the group off a member of staff.
pub async fn remove_staff(mut work: Work, ui: Ui, Path(group): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read(fields);
    let l = load(&mut work, &group, true).await?;
    let mut errors = FieldErrors::new();
    // Anyone of the school's staff or the group's own (who may have left the school).
    let known: Vec<StaffRow> = l.school_staff.iter().chain(&l.staff).cloned().collect();
    let Some((staff, assignment)) = staff_choice(&sent, &known, &mut errors) else {
        return refused(work, ui, l, sent, errors).await;
    };
    if queries::remove_staff(work.conn(), l.group.id, staff, assignment).await? {
        work.audit(&l.access, Action::Delete, Resource::GroupStaff, Some(l.group.id), &[]).await?;
    }
    work.commit().await?;
    Ok(done(l.group.id, "staff_removed"))
}

/// Close the group on a day: every stay ends then, its teachers are taken off it.
/// Closing a closed group changes nothing.
pub async fn close(mut work: Work, ui: Ui, Path(group): Path<String>, form: Fields) -> Result<Response> {
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let sent = read(fields);
    let l = load(&mut work, &group, true).await?;
    if l.group.closed_on.is_some() {
        work.commit().await?;
        return Ok(done(l.group.id, "closed"));
    }
    let mut errors = FieldErrors::new();
    let Some(on) = day(&sent.on, "close-on", &l, &mut errors) else {
        return refused(work, ui, l, sent, errors).await;
    };
    let ended = queries::close(work.conn(), l.group.id, on).await?;
    work.audit(&l.access, Action::Update, Resource::Groups, Some(l.group.id), &ended).await?;
    work.commit().await?;
    Ok(done(l.group.id, "closed"))
}
