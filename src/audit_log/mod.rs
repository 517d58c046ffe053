//! The audit log page (`/audit`) for the data protection officer: the tenant's
//! events, newest first, 50 at a time, with who (name and role), what (action and
//! resource), whose data (names), when (Norwegian time), why (purpose) and from where
//! (IP address).
//!
//! Filters: the person who acted, the person the data concerned, the action, and a
//! date range. Person filters are sent with POST only (like the pupil search), so
//! that no person's id lands in a URL or an access log; the action and the dates may
//! travel in the URL. Paging is by `seq` (keyset), not by offset, so the thousandth
//! page costs what the first does. Every view of the log is itself logged, with the
//! persons whose names the page showed as its subjects.
//!
//! A feature of its own rather than a part of `audit`: writing the log is the spine's
//! (every request's `Work` does it), reading it is a page like any other, built on a
//! `Work`. `queries` reads the log for this page.

pub mod queries;

use std::collections::HashSet;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use self::queries::{events, nameable, AuditFilter, Cursor};
use crate::audit::{self, Action, Resource};
use crate::domain::role::Role;
use crate::error::Result;
use crate::policy::{self, Purpose};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::i18n::{self, Lang};
use crate::web::layout::Ui;
use crate::web::{render, render_with};
use crate::work::Work;

/// Names shown per event; a pupil list event concerns up to 50 pupils.
const SUBJECTS_SHOWN: usize = 5;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list).post(search))
}

/// The filter as the user sent it (kept as typed, to show again with errors).
#[derive(Debug, Default, Deserialize)]
pub struct FilterForm {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Show events older than this seq (the next page).
    #[serde(default)]
    pub before: String,
    /// Show events newer than this seq (the previous page).
    #[serde(default)]
    pub after: String,
}

fn parse_date(raw: &str) -> std::result::Result<Option<Date>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    // The shared parser (as the date input sends it): a year PostgreSQL cannot hold
    // (`-4713`) is a field error.
    crate::domain::date::parse_iso(raw).map(Some).ok_or(())
}

fn parse_person(raw: &str) -> std::result::Result<Option<Uuid>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    // Only the hyphenated form Tavle shows; `Uuid::parse_str` also takes others.
    if raw.len() != 36 {
        return Err(());
    }
    Uuid::parse_str(raw).map(Some).map_err(|_| ())
}

/// Parse what can be parsed without the database; person ids are checked to exist
/// afterwards.
pub fn parse_filter(form: &FilterForm) -> (AuditFilter, FieldErrors) {
    let mut e = FieldErrors::new();
    let mut f = AuditFilter::default();
    match parse_person(&form.actor) {
        Ok(id) => f.actor = id,
        Err(()) => {
            e.add("actor", "audit.error.person_id");
        }
    }
    match parse_person(&form.subject) {
        Ok(id) => f.subject = id,
        Err(()) => {
            e.add("subject", "audit.error.person_id");
        }
    }
    if !form.action.is_empty() {
        match Action::from_code(form.action.trim()) {
            Some(a) => f.action = Some(a),
            None => {
                e.add("action", "audit.error.action_unknown");
            }
        }
    }
    match parse_date(&form.from) {
        Ok(d) => f.from = d,
        Err(()) => {
            e.add("from", "audit.error.date");
        }
    }
    match parse_date(&form.to) {
        Ok(d) => f.to = d,
        Err(()) => {
            e.add("to", "audit.error.date");
        }
    }
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if to < from {
            e.add("to", "audit.error.date_order");
        }
    }
    // A hand-edited cursor is ignored, like a bad page number in the pupil list.
    let seq = |s: &str| s.trim().parse::<i64>().ok().filter(|n| *n > 0);
    f.cursor = match (seq(&form.before), seq(&form.after)) {
        (Some(b), _) => Cursor::Before(b),
        (None, Some(a)) => Cursor::After(a),
        (None, None) => Cursor::Newest,
    };
    (f, e)
}

/// A person named on the page.
#[derive(Debug, Clone)]
pub struct PersonRef {
    pub id: Uuid,
    pub name: Option<String>,
}

/// One event as shown.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub local_time: String,
    pub at_iso: String,
    pub actor: Option<PersonRef>,
    pub role: Option<String>,
    pub action: String,
    pub resource: String,
    pub subjects: Vec<PersonRef>,
    pub more_subjects: usize,
    pub purpose: String,
    pub ip: Option<String>,
    /// There is an address, but not for this reader (a guardian's or pupil's, for a principal).
    pub ip_hidden: bool,
}

/// The name of a role or audience code as stored in `actor_role`.
fn role_label(lang: Lang, code: &str) -> String {
    let key = match Role::from_code(code) {
        Some(r) => r.label_key(),
        None => match code {
            "guardian" => "role.guardian",
            "pupil" => "role.pupil",
            "staff" => "audit.role.staff",
            _ => return code.to_owned(),
        },
    };
    i18n::t(lang, key).to_owned()
}

fn label(lang: Lang, key: Option<&str>, code: &str) -> String {
    key.map_or_else(|| code.to_owned(), |k| i18n::t(lang, k).to_owned())
}

#[derive(askama::Template)]
#[template(path = "audit/list.html")]
pub struct AuditLogPage {
    pub ui: Ui,
    pub form: FilterForm,
    pub errors: FieldErrors,
    pub actions: Vec<(&'static str, &'static str)>,
    pub events: Vec<EventRow>,
    pub filter_actor: Option<PersonRef>,
    pub filter_subject: Option<PersonRef>,
    pub has_older: bool,
    pub has_newer: bool,
}

impl AuditLogPage {
    pub fn action_selected(&self, code: &str) -> bool {
        self.form.action.trim() == code
    }
    /// Whether paging must be a POST (a person filter never goes in a URL).
    pub fn person_filtered(&self) -> bool {
        self.filter_actor.is_some() || self.filter_subject.is_some()
    }
    pub fn oldest_seq(&self) -> i64 {
        self.events.last().map_or(0, |e| e.seq)
    }
    pub fn newest_seq(&self) -> i64 {
        self.events.first().map_or(0, |e| e.seq)
    }
    /// Query string for a GET page link (action and dates only).
    pub fn page_query(&self, key: &str, seq: i64) -> String {
        self.query(Some((key, seq)))
    }
    pub fn newest_query(&self) -> String {
        self.query(None)
    }
    fn query(&self, cursor: Option<(&str, i64)>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some((key, seq)) = cursor {
            q.append_pair(key, &seq.to_string());
        }
        for (k, v) in [("action", &self.form.action), ("from", &self.form.from), ("to", &self.form.to)] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        let q = q.finish();
        if q.is_empty() {
            q
        } else {
            format!("?{q}")
        }
    }
    pub fn filter_name(&self, p: &PersonRef) -> String {
        p.name.clone().unwrap_or_else(|| self.ui.t("audit.unknown_person").to_owned())
    }
}

async fn list(work: Work, ui: Ui, Query(form): Query<FilterForm>) -> Result<Response> {
    // Person ids never travel in a URL; hand-made ones are ignored.
    let form = FilterForm { actor: String::new(), subject: String::new(), ..form };
    page(work, ui, form).await
}

async fn search(work: Work, ui: Ui, Form(form): Form<FilterForm>) -> Result<Response> {
    page(work, ui, form).await
}

async fn page(mut work: Work, ui: Ui, form: FilterForm) -> Result<Response> {
    let actor = work.actor();
    let access = policy::audit_log_access(&actor)?;
    let (mut filter, mut errors) = parse_filter(&form);
    filter.schools = access.schools.clone();
    let mut view = AuditLogPage {
        ui,
        form,
        errors: FieldErrors::new(),
        actions: Action::ALL.iter().map(|a| (a.code(), a.label_key())).collect(),
        events: Vec::new(),
        filter_actor: None,
        filter_subject: None,
        has_older: false,
        has_newer: false,
    };
    // Events other commits left pending get their place first: the log is never behind.
    audit::chain_pending(&mut work.conn(), actor.tenant_id).await?;
    let filter_ids: Vec<Uuid> = filter.actor.iter().chain(filter.subject.iter()).copied().collect();
    let schools = access.schools.as_deref();
    let filter_names = nameable(work.conn(), &filter_ids, schools).await?;
    // An id of no one in this municipality (row-level security hides the others), or of
    // someone the reader may not name: the same answer for both filters. Checked along
    // with the other fields so that every mistake is reported at once.
    if filter.actor.is_some_and(|id| !filter_names.contains_key(&id)) {
        errors.add("actor", "audit.error.person_unknown");
    }
    if filter.subject.is_some_and(|id| !filter_names.contains_key(&id)) {
        errors.add("subject", "audit.error.person_unknown");
    }
    if errors.any() {
        // Nothing is shown or logged; the form comes back as typed.
        work.commit().await?;
        view.errors = errors;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &view));
    }
    let person = |id: Option<Uuid>| id.map(|id| PersonRef { id, name: filter_names.get(&id).cloned() });
    view.filter_actor = person(filter.actor);
    view.filter_subject = person(filter.subject);

    let (raw, has_older, has_newer) = events(work.conn(), &filter).await?;
    let mut actors: HashSet<Uuid> = HashSet::new();
    let mut subjects: HashSet<Uuid> = HashSet::new();
    for e in &raw {
        actors.extend(e.actor_person_id);
        subjects.extend(e.subject_ids.iter().flatten().take(SUBJECTS_SHOWN));
    }
    let wanted: Vec<Uuid> = actors.union(&subjects).copied().collect();
    let found = nameable(work.conn(), &wanted, schools).await?;
    let lang = work.lang();
    let named = |id: Uuid| PersonRef { id, name: found.get(&id).cloned() };
    let events: Vec<EventRow> = raw
        .into_iter()
        .map(|e| {
            let subjects: Vec<Uuid> = e.subject_ids.iter().flatten().copied().collect();
            EventRow {
                seq: e.seq,
                local_time: e.local_time,
                at_iso: crate::domain::date::machine_time(e.at),
                actor: e.actor_person_id.map(named),
                role: e.actor_role.as_deref().map(|r| role_label(lang, r)),
                action: label(lang, Action::from_code(&e.action).map(Action::label_key), &e.action),
                resource: label(
                    lang,
                    Resource::from_code(&e.resource).map(Resource::label_key).as_deref(),
                    &e.resource,
                ),
                more_subjects: subjects.len().saturating_sub(SUBJECTS_SHOWN),
                subjects: subjects.into_iter().take(SUBJECTS_SHOWN).map(named).collect(),
                purpose: label(lang, Purpose::from_code(&e.purpose).map(Purpose::label_key), &e.purpose),
                ip_hidden: e.ip.is_some() && !access.sees_citizen_ips && is_citizen(e.actor_role.as_deref()),
                ip: e.ip.filter(|_| access.sees_citizen_ips || !is_citizen(e.actor_role.as_deref())),
            }
        })
        .collect();

    // The review is logged with everyone the page names: their data was looked at.
    let mut shown: HashSet<Uuid> = wanted.into_iter().filter(|id| found.contains_key(id)).collect();
    shown.extend(filter_ids.iter().copied());
    let mut shown: Vec<Uuid> = shown.into_iter().collect();
    shown.sort();
    work.audit(&access, Action::Read, Resource::AuditLog, None, &shown).await?;
    work.commit().await?;
    view.events = events;
    view.has_older = has_older;
    view.has_newer = has_newer;
    Ok(render(&view))
}

/// Whether an event's actor acted as a guardian or a pupil (as stored in `actor_role`).
fn is_citizen(role: Option<&str>) -> bool {
    matches!(role, Some("guardian" | "pupil"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FilterForm {
        let mut f = FilterForm::default();
        for (k, v) in pairs {
            let v = (*v).to_owned();
            match *k {
                "actor" => f.actor = v,
                "subject" => f.subject = v,
                "action" => f.action = v,
                "from" => f.from = v,
                "to" => f.to = v,
                "before" => f.before = v,
                "after" => f.after = v,
                _ => {}
            }
        }
        f
    }

    #[test]
    fn a_good_filter_parses() {
        let id = Uuid::new_v4();
        let (f, e) = parse_filter(&form(&[
            ("subject", &id.to_string()),
            ("action", "read"),
            ("from", "2026-01-31"),
            ("to", "2026-02-01"),
            ("before", "120"),
        ]));
        assert!(!e.any());
        assert_eq!(f.subject, Some(id));
        assert_eq!(f.action, Some(Action::Read));
        assert_eq!(f.cursor, Cursor::Before(120));
    }

    #[test]
    fn bad_input_is_reported_by_the_field() {
        let (_, e) = parse_filter(&form(&[
            ("actor", "Ola Nordmann"),
            ("subject", "0b5e"),
            ("action", "drop_table"),
            ("from", "31.01.2026"),
            ("to", "-4713-01-01"),
        ]));
        assert_eq!(e.key("actor"), Some("audit.error.person_id"));
        assert_eq!(e.key("subject"), Some("audit.error.person_id"));
        assert_eq!(e.key("action"), Some("audit.error.action_unknown"));
        assert_eq!(e.key("from"), Some("audit.error.date"));
        assert_eq!(e.key("to"), Some("audit.error.date"), "a year PostgreSQL cannot hold");
        let (_, e) = parse_filter(&form(&[("from", "2026-02-02"), ("to", "2026-02-01")]));
        assert_eq!(e.key("to"), Some("audit.error.date_order"));
        // A hand-made cursor is ignored, not an error.
        let (f, e) = parse_filter(&form(&[("before", "-3"), ("after", "x")]));
        assert!(!e.any());
        assert_eq!(f.cursor, Cursor::Newest);
    }

    /// Every action, resource and purpose the log can hold has its name in every
    /// language of the catalogue (a new one without fails here).
    #[test]
    fn every_action_resource_and_purpose_has_a_name_in_every_language() {
        let mut keys: Vec<String> = Action::ALL.iter().map(|a| a.label_key().to_owned()).collect();
        keys.extend(Resource::ALL.iter().map(|r| r.label_key()));
        keys.extend(Purpose::ALL.iter().map(|p| p.label_key().to_owned()));
        keys.push("audit.role.staff".to_owned());
        for lang in Lang::ALL {
            let known: HashSet<&str> = i18n::keys(lang).into_iter().collect();
            for k in &keys {
                assert!(known.contains(k.as_str()), "missing translation {k} ({lang:?})");
            }
        }
        // And the codes never collide.
        let codes: HashSet<&str> = Resource::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Resource::ALL.len());
    }
}
