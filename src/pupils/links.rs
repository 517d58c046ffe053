//! Manual guardian links (issue 18, point 2): guardianships come from parental
//! responsibility in the population register; where the register cannot give one yet
//! (parental responsibility from a foreign decision for a newly arrived child, a court
//! decision not registered yet, a guardian appointed for an unaccompanied minor, a
//! register error reported), the principal links the guardian with a reason code. Such
//! a link gives parental responsibility from today; the register import never changes
//! or ends it (`manual_reason`); a restriction in force blocks it; the principal ends
//! it. Each link and end is audited with the pupil and the guardian, and the values
//! before are kept in `guardianship_history` (source `office`).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::link_queries::{self as q, LinkRow};
use super::person_name;
use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::domain::national_id::{NationalId, NationalIdKind};
use crate::error::{AppError, Result};
use crate::policy::{self, ContactPersonsAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// Why the principal links a guardian (stored; never rename one).
pub const REASONS: [&str; 4] =
    ["foreign_decision", "court_decision_not_registered", "appointed_guardian", "register_error_reported"];

#[derive(askama::Template)]
#[template(path = "pupils/links.html")]
pub struct LinksPage {
    pub ui: Ui,
    pub pupil_id: Uuid,
    pub name: String,
    pub links: Vec<LinkRow>,
    pub form: LinkForm,
    pub errors: FieldErrors,
    pub done: String,
}

impl LinksPage {
    pub fn reasons(&self) -> Vec<(&'static str, &'static str)> {
        REASONS.iter().map(|r| (*r, self.ui.t(&format!("links.reason.{r}")))).collect()
    }
    pub fn reason(&self, l: &LinkRow) -> &'static str {
        self.ui.t(&format!("links.reason.{}", l.reason))
    }
    pub fn period(&self, l: &LinkRow) -> String {
        match l.to_date {
            Some(to) => format!("{} – {}", display_date(l.from_date), display_date(to)),
            None => self.ui.tf("links.since", "date", &display_date(l.from_date)),
        }
    }
    pub fn current(&self, l: &LinkRow) -> bool {
        l.to_date.is_none()
    }
    pub fn done_text(&self) -> &'static str {
        match self.done.as_str() {
            "linked" => self.ui.t("links.done.linked"),
            "ended" => self.ui.t("links.done.ended"),
            _ => "",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    pub national_id: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub lives_with: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct LinksQuery {
    #[serde(default)]
    pub done: String,
}

async fn load(work: &mut Work, pupil: &str) -> Result<(ContactPersonsAccess, String, Vec<LinkRow>)> {
    let actor = work.actor();
    let access = policy::manual_guardian_access(work.conn(), &actor, path_id(pupil)?).await?;
    let name = super::queries::pupil_name(work.conn(), access.pupil_id).await?.ok_or(AppError::NotFound)?;
    let links = q::links(work.conn(), access.pupil_id).await?;
    Ok((access, name, links))
}

fn subjects(pupil: Uuid, links: &[LinkRow]) -> Vec<Uuid> {
    std::iter::once(pupil).chain(links.iter().map(|l| l.guardian_id)).collect()
}

pub async fn show(mut work: Work, ui: Ui, Path(pupil): Path<String>, Query(q): Query<LinksQuery>) -> Result<Response> {
    let (access, name, links) = load(&mut work, &pupil).await?;
    let named = subjects(access.pupil_id, &links);
    work.audit(&access, Action::Read, Resource::GuardianLinks, Some(access.pupil_id), &named).await?;
    work.commit().await?;
    let done = if matches!(q.done.as_str(), "linked" | "ended") { q.done } else { String::new() };
    let page = LinksPage {
        ui,
        pupil_id: access.pupil_id,
        name,
        links,
        form: LinkForm::default(),
        errors: FieldErrors::new(),
        done,
    };
    Ok(render_with(StatusCode::OK, &page))
}

/// Link a guardian.
pub async fn add(
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<LinkForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (access, name, links) = load(&mut work, &pupil).await?;
    let pupil = access.pupil_id;
    let mut errors = FieldErrors::new();
    let today = crate::db::current_date(work.conn()).await?;
    let synthetic_allowed = super::registration_queries::synthetic_allowed(work.conn()).await?;
    // An adult with a fødselsnummer or D-number.
    let number = match NationalId::parse(&form.national_id) {
        Ok(id) if id.kind() == NationalIdKind::Duf => Err("links.error.duf"),
        Ok(id) if id.admissible(synthetic_allowed).is_err() => Err("pupils.new.error.national_id_kind"),
        Ok(id) => match id.birth_date() {
            Some(born) if born.year() <= today.year() - 18 => Ok((id, born)),
            _ => Err("links.error.adult"),
        },
        Err(_) => Err("links.error.national_id"),
    };
    let number = number.map_err(|key| errors.add("national_id", key)).ok();
    let given = person_name(&form.given_name, "given_name".to_owned(), &mut errors);
    let family = person_name(&form.family_name, "family_name".to_owned(), &mut errors);
    let reason = REASONS.iter().find(|r| **r == form.reason.trim()).copied();
    if reason.is_none() {
        errors.add("reason", "links.error.reason").target(format!("reason-{}", REASONS[0]));
    }
    let lives_with = match form.lives_with.as_str() {
        "" => false,
        "yes" => true,
        _ => {
            errors.add("lives_with", "links.error.lives_with");
            false
        }
    };
    let refuse = |work: Work, ui: Ui, form: LinkForm, mut errors: FieldErrors| async move {
        work.commit().await?;
        errors.order(&["national_id", "given_name", "family_name", "reason", "lives_with"]);
        let page = LinksPage { ui, pupil_id: pupil, name, links, form, errors, done: String::new() };
        Ok::<_, AppError>(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
    };
    let (Some((number, born)), Some(given), Some(family), Some(reason), false) =
        (number, given, family, reason, errors.any())
    else {
        return refuse(work, ui, form, errors).await;
    };
    let guardian = match q::person(work.conn(), number.as_str()).await? {
        Some((_, _, true)) => {
            return refuse(work, ui, form, FieldErrors::one("national_id", "pupils.new.error.deceased")).await
        }
        Some((id, _, _)) if id == pupil => {
            return refuse(work, ui, form, FieldErrors::one("national_id", "links.error.self")).await
        }
        Some((_, recorded, _)) if crate::domain::text::nfc(&recorded).to_lowercase() != family.to_lowercase() => {
            return refuse(work, ui, form, FieldErrors::one("family_name", "pupils.new.error.not_this_person")).await
        }
        Some((id, _, _)) => id,
        None => super::registration_queries::create_person(work.conn(), number.as_str(), &given, &family, born).await?,
    };
    match q::obstacles(work.conn(), pupil, guardian).await? {
        (true, _) => return refuse(work, ui, form, FieldErrors::one("national_id", "links.error.restricted")).await,
        (_, true) => return refuse(work, ui, form, FieldErrors::one("national_id", "links.error.already")).await,
        _ => {}
    }
    q::link(work.conn(), pupil, guardian, reason, lives_with).await?;
    work.audit(&access, Action::Create, Resource::GuardianLinks, Some(guardian), &[pupil, guardian]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/guardian-links?done=linked")).into_response())
}

/// End a manual link from today. Ending one that has ended changes nothing.
pub async fn end(mut work: Work, Path((pupil, guardian)): Path<(String, String)>) -> Result<Response> {
    let guardian = path_id(&guardian)?;
    let (access, _, _) = load(&mut work, &pupil).await?;
    let pupil = access.pupil_id;
    match q::end(work.conn(), pupil, guardian).await? {
        None => return Err(AppError::NotFound),
        Some(true) => {
            work.audit(&access, Action::Delete, Resource::GuardianLinks, Some(guardian), &[pupil, guardian]).await?
        }
        Some(false) => {}
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/pupils/{pupil}/guardian-links?done=ended")).into_response())
}
