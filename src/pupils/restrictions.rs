//! Restrictions on a pupil's guardians (a court decision, a child-welfare measure, a
//! visiting ban), recorded by the school office from a day (today or earlier: the
//! decision is in force when the school learns of it) and ended, never deleted. While
//! one is in force the guardian has no access to the child by any path: the session's
//! children (`auth::session`), e-mail and written warnings, SFO's collectors. The kind is
//! a code; the decision itself is not stored (seed 000).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::queries::{self, GuardianChoice, RestrictionRow};
use crate::audit::{Action, Resource};
use crate::domain::date::{display_date, iso, parse_iso};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The kinds of restriction (stored codes; never rename one).
pub const KINDS: [&str; 3] = ["court_decision", "child_welfare", "visiting_ban"];

#[derive(askama::Template)]
#[template(path = "pupils/restrictions.html")]
pub struct RestrictionsPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    pub guardians: Vec<GuardianChoice>,
    pub restrictions: Vec<RestrictionRow>,
    pub form: RestrictionForm,
    pub errors: FieldErrors,
    pub done: String,
}

impl RestrictionsPage {
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        KINDS.iter().map(|k| (*k, self.ui.t(&format!("restrictions.kind.{k}")))).collect()
    }
    pub fn kind(&self, r: &RestrictionRow) -> &'static str {
        self.ui.t(&format!("restrictions.kind.{}", r.kind))
    }
    pub fn period(&self, r: &RestrictionRow) -> String {
        match r.to_date {
            Some(to) => format!("{} – {}", display_date(r.from_date), display_date(to)),
            None => format!("{} –", display_date(r.from_date)),
        }
    }
    pub fn guardian_label(&self, g: &GuardianChoice) -> String {
        let pr = if g.parental_responsibility { "restrictions.with_responsibility" } else { "restrictions.without" };
        format!("{} {} ({})", g.given_name, g.family_name, self.ui.t(pr))
    }
    pub fn done_text(&self) -> &'static str {
        match self.done.as_str() {
            "added" => self.ui.t("restrictions.added"),
            "ended" => self.ui.t("restrictions.ended"),
            _ => "",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RestrictionForm {
    #[serde(default)]
    pub guardian: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub from: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RestrictionsQuery {
    #[serde(default)]
    pub done: String,
}

struct Loaded {
    access: ContactPersonsAccess,
    name: String,
    guardians: Vec<GuardianChoice>,
    restrictions: Vec<RestrictionRow>,
}

async fn load(work: &mut Work, pupil: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::guardian_restrictions_access(work.conn(), &actor, path_id(pupil)?).await?;
    let name = queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let guardians = queries::guardian_choices(work.conn(), access.pupil_id).await?;
    let restrictions = queries::restrictions(work.conn(), access.pupil_id).await?;
    Ok(Loaded { access, name, guardians, restrictions })
}

fn page(ui: Ui, l: Loaded, form: RestrictionForm, errors: FieldErrors, done: String) -> RestrictionsPage {
    RestrictionsPage {
        ui,
        pupil_id: l.access.pupil_id,
        name: l.name,
        guardians: l.guardians,
        restrictions: l.restrictions,
        form,
        errors,
        done,
    }
}

fn subjects(l: &Loaded) -> Vec<Uuid> {
    let mut s: Vec<Uuid> =
        std::iter::once(l.access.pupil_id).chain(l.restrictions.iter().map(|r| r.guardian_id)).collect();
    s.sort_unstable();
    s.dedup();
    s
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    Query(q): Query<RestrictionsQuery>,
) -> Result<Response> {
    let l = load(&mut work, &pupil).await?;
    let today = crate::db::current_date(work.conn()).await?;
    work.audit(&l.access, Action::Read, Resource::GuardianRestrictions, Some(l.access.pupil_id), &subjects(&l)).await?;
    work.commit().await?;
    let done = if matches!(q.done.as_str(), "added" | "ended") { q.done } else { String::new() };
    let form = RestrictionForm { from: iso(today), ..RestrictionForm::default() };
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new(), done)))
}

/// Record a restriction.
pub async fn add(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<RestrictionForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &pupil).await?;
    let today = crate::db::current_date(work.conn()).await?;
    let mut errors = FieldErrors::new();
    let guardian = Uuid::parse_str(form.guardian.trim()).ok().filter(|g| l.guardians.iter().any(|x| x.id == *g));
    if guardian.is_none() {
        errors.add("guardian", "restrictions.error.guardian");
    }
    let kind = KINDS.iter().find(|k| **k == form.kind.trim()).copied();
    if kind.is_none() {
        errors.add("kind", "restrictions.error.kind");
    }
    let from = match parse_iso(&form.from) {
        None => {
            errors.add("from", "restrictions.error.date");
            None
        }
        Some(d) if d > today => {
            errors.add("from", "restrictions.error.future");
            None
        }
        // A decision about a child under 18 is younger than 18 years (and a typo like
        // 0206 is not a day to record).
        Some(d) if d < today - time::Duration::days(18 * 366) => {
            errors.add("from", "restrictions.error.too_old");
            None
        }
        Some(d) => Some(d),
    };
    let (Some(guardian), Some(kind), Some(from), false) = (guardian, kind, from, errors.any()) else {
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors, String::new())));
    };
    let by = work.actor().person_id;
    let pupil = l.access.pupil_id;
    let id = queries::add_restriction(work.conn(), pupil, guardian, kind, from, by).await?;
    work.audit(&l.access, Action::Create, Resource::GuardianRestrictions, Some(id), &[pupil, guardian]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/restrictions?done=added")).into_response())
}

/// End a restriction from today.
pub async fn end(mut work: Work, Path((pupil, restriction)): Path<(String, String)>) -> Result<Response> {
    let restriction = path_id(&restriction)?;
    let l = load(&mut work, &pupil).await?;
    let by = work.actor().person_id;
    let pupil = l.access.pupil_id;
    let guardian = queries::end_restriction(work.conn(), pupil, restriction, by).await?.ok_or(AppError::NotFound)?;
    work.audit(&l.access, Action::Update, Resource::GuardianRestrictions, Some(restriction), &[pupil, guardian])
        .await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/restrictions?done=ended")).into_response())
}
