//! The office's pupil register: the pupil list of a school (filter by class and
//! grade level, search by name, paging) and the pupil card.
//!
//! Name searches are sent with POST so that a name never appears in a URL, a
//! browser history or an access log. Every list and card shown is audited with the
//! pupils it showed.

mod arrangements;
mod contacts;
mod details;
mod guardians;
mod information;
mod link_queries;
mod links;
mod move_queries;
mod moves;
mod paper;
pub mod queries;
mod register_queue;
mod registration;
mod registration_queries;
mod restrictions;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, GuardianDetail, Purpose};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render, render_with};
use crate::work::Work;
use queries::{AddressView, ClassRow, ListFilter, PupilCard, PupilRow, SchoolRow, PAGE_SIZE};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pupils", get(schools))
        // The office decides what the population register import could not apply.
        .route("/pupils/register-queue", get(register_queue::show))
        .route("/pupils/register-queue/{item_id}", post(register_queue::resolve))
        // Guardians the office writes to on paper (KRR reservation, no e-mail address).
        .route("/pupils/paper-letters", get(paper::show))
        .route("/schools/{school_id}/pupils", get(list).post(search))
        // The office registers a pupil by hand (not in the register yet, moving in, a guest).
        .route("/schools/{school_id}/pupils/new", get(registration::show).post(registration::create))
        // The office keeps a pupil's other mother tongue (and a DUF pupil's names).
        .route("/pupils/{pupil_id}/details", get(details::show).post(details::update))
        .route("/pupils/{pupil_id}", get(show))
        .route("/pupils/{pupil_id}/national-id", post(reveal_national_id))
        // The office keeps the pupil's contact persons.
        .route("/pupils/{pupil_id}/contacts", get(contacts::show).post(contacts::add))
        .route("/pupils/{pupil_id}/contacts/{contact_id}", post(contacts::update))
        .route("/pupils/{pupil_id}/contacts/{contact_id}/remove", post(contacts::remove))
        // The office keeps a guardian's phone and e-mail where the registers have none.
        .route("/pupils/{pupil_id}/guardians/{guardian_id}", get(guardians::show).post(guardians::update))
        .route("/pupils/{pupil_id}/guardians/{guardian_id}/lives-with", post(guardians::set_lives_with))
        // A parent without parental responsibility asks for information (barnelova § 47).
        .route("/pupils/{pupil_id}/information-requests", get(information::show).post(information::record))
        // The office records a pupil's special arrangements (not the decisions).
        .route("/pupils/{pupil_id}/arrangements", get(arrangements::show).post(arrangements::add))
        .route("/pupils/{pupil_id}/arrangements/{arrangement_id}/end", post(arrangements::end))
        // The principal links a guardian the register does not give, with a reason.
        .route("/pupils/{pupil_id}/guardian-links", get(links::show).post(links::add))
        .route("/pupils/{pupil_id}/guardian-links/{guardian_id}/end", post(links::end))
        // The office records restrictions on a guardian (no access while in force).
        .route("/pupils/{pupil_id}/restrictions", get(restrictions::show).post(restrictions::add))
        .route("/pupils/{pupil_id}/restrictions/{restriction_id}/end", post(restrictions::end))
        // The office moves a pupil: another class, another school, out of the municipality.
        .route("/pupils/{pupil_id}/move", get(moves::show).post(moves::apply))
        .route("/pupils/{pupil_id}/move/cancel", post(moves::cancel))
}

/// A person's name as typed (a given or family name): trimmed, NFC, 1-200 characters,
/// no hidden characters; else the field's message.
pub(super) fn person_name(raw: &str, field: String, errors: &mut FieldErrors) -> Option<String> {
    let name = crate::domain::text::nfc(raw.trim());
    let key = if name.is_empty() {
        "contacts.error.name_required"
    } else if name.chars().count() > 200 {
        "contacts.error.name_long"
    } else if crate::domain::text::has_hidden_characters(&name) {
        "contacts.error.name_hidden"
    } else {
        return Some(name);
    };
    errors.add(field, key);
    None
}

#[derive(askama::Template)]
#[template(path = "pupils/schools.html")]
pub struct SchoolsPage {
    pub ui: Ui,
    pub schools: Vec<SchoolRow>,
    /// Links to the population register queue.
    pub register_queue: bool,
}

async fn schools(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    let ids = policy::pupil_list_schools(work.conn(), &actor).await?;
    let schools = queries::schools(work.conn(), &ids).await?;
    work.commit().await?;
    match schools.as_slice() {
        [] => Err(AppError::NotFound),
        [one] => Ok(Redirect::to(&format!("/schools/{}/pupils", one.id)).into_response()),
        _ => Ok(render(&SchoolsPage { ui, schools, register_queue: actor.may_open_register_queue() })),
    }
}

/// The filter as the user sent it (kept as typed, to show again with errors).
#[derive(Debug, Default, Deserialize)]
pub struct FilterForm {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub grade: String,
    /// `birth_date`: only pupils without a birth date in the register.
    #[serde(default)]
    pub missing: String,
    #[serde(default)]
    pub page: String,
}

const MAX_NAME_SEARCH: usize = 100;

fn parse_filter(form: &FilterForm, school: &SchoolRow, classes: &[ClassRow]) -> (ListFilter, FieldErrors) {
    let mut errors = FieldErrors::new();
    let mut f = ListFilter::default();
    let q = form.q.trim();
    if q.chars().count() > MAX_NAME_SEARCH {
        errors.add("q", "pupils.error.q_too_long");
    } else if !q.is_empty() {
        // Names are stored in NFC: an å typed as a + combining ring finds them too.
        f.name = Some(crate::domain::text::nfc(q));
    }
    if !form.class.is_empty() {
        match Uuid::parse_str(&form.class) {
            Ok(id) if classes.iter().any(|c| c.id == id) => f.class = Some(id),
            _ => {
                errors.add("class", "pupils.error.class_unknown");
            }
        }
    }
    if !form.grade.is_empty() {
        match form.grade.trim().parse::<i16>() {
            Ok(g) if (school.first_grade..=school.last_grade).contains(&g) => f.grade = Some(g),
            _ => {
                errors.add("grade", "pupils.error.grade_range");
            }
        }
    }
    match form.missing.as_str() {
        "" => {}
        "birth_date" => f.no_birth_date = true,
        _ => {
            errors.add("missing", "pupils.error.missing_unknown");
        }
    }
    f.page = form.page.trim().parse::<i64>().unwrap_or(1).clamp(1, 100_000) - 1;
    (f, errors)
}

#[derive(askama::Template)]
#[template(path = "pupils/list.html")]
pub struct ListPage {
    pub ui: Ui,
    pub school: SchoolRow,
    pub classes: Vec<ClassRow>,
    pub grades: Vec<i16>,
    pub form: FilterForm,
    pub errors: FieldErrors,
    pub pupils: Vec<PupilRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub searched_by_name: bool,
    pub sfo_only: bool,
    /// The school's current pupils without a birth date, for those who keep the register.
    pub without_birth_date: i64,
    /// The viewer keeps the school's register (links to the population register queue).
    pub keeps_register: bool,
    /// The viewer keeps the school's classes and groups (a link to them).
    pub keeps_groups: bool,
}

impl ListPage {
    pub fn class_selected(&self, id: &Uuid) -> bool {
        self.form.class == id.to_string()
    }
    pub fn grade_selected(&self, g: i16) -> bool {
        self.form.grade.trim() == g.to_string()
    }
    pub fn prev_query(&self) -> String {
        self.page_query(self.page)
    }
    pub fn next_query(&self) -> String {
        self.page_query(self.page + 2)
    }
    fn page_query(&self, page: i64) -> String {
        let mut q = format!("?page={page}");
        if !self.form.class.is_empty() {
            q.push_str(&format!("&class={}", self.form.class));
        }
        if !self.form.grade.is_empty() {
            q.push_str(&format!("&grade={}", self.form.grade.trim()));
        }
        if self.form.missing == "birth_date" {
            q.push_str("&missing=birth_date");
        }
        q
    }
    pub fn missing_birth_date(&self) -> bool {
        self.form.missing == "birth_date"
    }
    pub fn page_label(&self) -> String {
        format!("{} / {}", self.page + 1, self.pages)
    }
    /// The table's caption: how many were found, and which of them this page shows.
    pub fn caption(&self) -> String {
        let count = self.ui.tf("pupils.count", "count", &self.total.to_string());
        if self.total > 0 {
            format!("{count} · {}", self.ui.tf("pupils.showing", "range", &self.range_label()))
        } else {
            count
        }
    }
    pub fn range_label(&self) -> String {
        format!("{}–{}", self.first_shown(), self.last_shown())
    }
    pub fn first_shown(&self) -> i64 {
        if self.total == 0 {
            0
        } else {
            self.page * PAGE_SIZE + 1
        }
    }
    pub fn last_shown(&self) -> i64 {
        (self.page * PAGE_SIZE + self.pupils.len() as i64).min(self.total)
    }
}

async fn list(work: Work, ui: Ui, Path(school_id): Path<String>, Query(form): Query<FilterForm>) -> Result<Response> {
    // A name never travels in a URL; a hand-made one is ignored.
    let form = FilterForm { q: String::new(), ..form };
    list_page(work, ui, &school_id, form).await
}

async fn search(work: Work, ui: Ui, Path(school_id): Path<String>, Form(form): Form<FilterForm>) -> Result<Response> {
    list_page(work, ui, &school_id, form).await
}

async fn list_page(mut work: Work, ui: Ui, school_id: &str, form: FilterForm) -> Result<Response> {
    let school_id = path_id(school_id)?;
    let scope = policy::pupil_list_scope(&work.actor(), school_id)?;
    let keeps_groups = policy::school_groups_access(&work.actor(), school_id).is_ok();
    let school = queries::schools(work.conn(), &[school_id]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    let classes = queries::classes(work.conn(), school_id).await?;
    let (filter, errors) = parse_filter(&form, &school, &classes);
    let grades = (school.first_grade..=school.last_grade).collect();
    let without_birth_date =
        if scope.keeps_register { queries::without_birth_date(work.conn(), school_id).await? } else { 0 };
    if errors.any() {
        // Nothing is searched or logged; the form comes back as typed.
        work.commit().await?;
        let page = ListPage {
            ui,
            school,
            classes,
            grades,
            form,
            errors,
            pupils: Vec::new(),
            total: 0,
            page: 0,
            pages: 0,
            searched_by_name: false,
            sfo_only: scope.sfo_only,
            without_birth_date,
            keeps_register: scope.keeps_register,
            keeps_groups,
        };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let (pupils, total) = queries::list(work.conn(), &scope, &filter).await?;
    let subjects: Vec<Uuid> = pupils.iter().map(|p| p.id).collect();
    work.audit(&scope, Action::Read, Resource::PupilList, Some(school_id), &subjects).await?;
    work.commit().await?;
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    Ok(render(&ListPage {
        ui,
        school,
        classes,
        grades,
        searched_by_name: filter.name.is_some(),
        form,
        errors,
        pupils,
        total,
        page: filter.page,
        pages,
        sfo_only: scope.sfo_only,
        without_birth_date,
        keeps_register: scope.keeps_register,
        keeps_groups,
    }))
}

#[derive(askama::Template)]
#[template(path = "pupils/card.html")]
pub struct CardPage {
    pub ui: Ui,
    pub card: PupilCard,
    pub guardian_contact: bool,
    pub show_guardians: bool,
    pub show_contact_persons: bool,
    pub show_enrolments: bool,
    pub may_reveal: bool,
    pub revealed: bool,
    /// The reason chosen for a reveal (kept when the form is refused), and its error.
    pub reason: String,
    pub errors: FieldErrors,
    /// The viewer keeps the child's pick-up permissions (the office, a guardian).
    pub may_pickup: bool,
    /// The viewer keeps the pupil's contact persons (the office).
    pub may_keep_contacts: bool,
    /// The viewer links guardians by hand (the principal).
    pub may_link_guardians: bool,
    /// Siblings the viewer may open (id, name), and how many others there are.
    pub siblings: Vec<(Uuid, String)>,
    pub other_siblings: usize,
    pub show_timetable: bool,
    /// A guardian from whom the child's whereabouts are protected (strictly
    /// confidential address, not living with the child): the card says so.
    pub whereabouts_protected: bool,
    /// Where the viewer writes a message about the pupil, if they may: staff to the
    /// guardians, a guardian to the school.
    pub write_href: Option<String>,
}

impl CardPage {
    pub fn arrangement(&self, a: &queries::ArrangementRow) -> String {
        arrangements::describe(&self.ui, a)
    }
    /// A phone number as a `tel:` URI (digits and a leading +), so that a tap calls.
    pub fn tel(&self, phone: &str) -> String {
        phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
    }

    pub fn relation_key(&self, code: &str) -> &'static str {
        match code {
            "grandparent" => "relation.grandparent",
            "sibling" => "relation.sibling",
            "relative" => "relation.relative",
            "neighbour" => "relation.neighbour",
            "family_friend" => "relation.family_friend",
            _ => "relation.other",
        }
    }
    pub fn other_siblings_text(&self) -> String {
        if self.other_siblings == 1 {
            self.ui.t("card.other_sibling_one").to_owned()
        } else {
            self.ui.tf("card.other_siblings", "count", &self.other_siblings.to_string())
        }
    }
    /// The reasons one may give to see the full number: (code, label).
    pub fn reveal_reasons(&self) -> Vec<(&'static str, &'static str)> {
        policy::REVEAL_REASONS.iter().map(|p| (p.code(), self.ui.t(p.label_key()))).collect()
    }
    pub fn group_kind_key(&self, code: &str) -> &'static str {
        match code {
            "base" => "group.kind.base",
            "sfo" => "group.kind.sfo",
            _ => "group.kind.teaching",
        }
    }
}

async fn show(work: Work, ui: Ui, Path(pupil_id): Path<String>) -> Result<Response> {
    card_page(work, ui, &pupil_id, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    pub reason: String,
}

/// Show the full national id once, on this response only (never in a URL), for a
/// reason the viewer gives, and record that it was shown with that reason as the
/// purpose. Without a reason the card comes back with the field marked.
async fn reveal_national_id(
    work: Work,
    ui: Ui,
    Path(pupil_id): Path<String>,
    form: std::result::Result<Form<RevealForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    card_page(work, ui, &pupil_id, Some(form.reason)).await
}

/// The card; with `reveal`, the reason given to see the full number.
async fn card_page(mut work: Work, ui: Ui, pupil_id: &str, reveal: Option<String>) -> Result<Response> {
    let pupil_id = path_id(pupil_id)?;
    let actor = work.actor();
    let access = policy::pupil_card_access(work.conn(), &actor, pupil_id).await?;
    if reveal.is_some() && !access.reveal_national_id {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::new();
    let reason = reveal.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let shown = match &reveal {
        None => None,
        Some(_) => match Purpose::from_code(&reason).and_then(|p| policy::national_id_reveal(&access, p).ok()) {
            Some(shown) => Some(shown),
            None => {
                errors.add("reason", "card.error.reveal_reason");
                None
            }
        },
    };
    let card = queries::card(work.conn(), &access, shown.is_some()).await?.ok_or(AppError::NotFound)?;
    // Siblings, for staff who see the guardians: named (and linked) only where the
    // viewer may open the sibling's card; the others counted.
    let mut siblings = Vec::new();
    let mut other_siblings = 0;
    if access.guardians != GuardianDetail::None && actor.audience == policy::Audience::Staff {
        for (id, given, family) in queries::siblings(work.conn(), pupil_id).await? {
            if policy::pupil_card_access(work.conn(), &actor, id).await.is_ok() {
                siblings.push((id, format!("{given} {family}")));
            } else {
                other_siblings += 1;
            }
        }
    }
    let links = policy::card_links(work.conn(), &actor, pupil_id).await?;
    let write_href = match policy::new_thread_access(work.conn(), &actor, pupil_id).await {
        Ok(a) if a.side == policy::Side::School => Some(format!("/pupils/{pupil_id}/messages/new")),
        Ok(_) => Some(format!("/messages/new?pupil={pupil_id}")),
        Err(_) => None,
    };
    let (may_pickup, may_keep_contacts) = (access.contact_persons && links.pickup, links.register);
    match &shown {
        Some(r) => work.audit(r, Action::RevealNationalId, Resource::PupilCard, Some(pupil_id), &[pupil_id]).await?,
        None => {
            // The siblings named are read too.
            let subjects: Vec<Uuid> = std::iter::once(pupil_id).chain(siblings.iter().map(|s| s.0)).collect();
            work.audit(&access, Action::Read, Resource::PupilCard, Some(pupil_id), &subjects).await?
        }
    }
    work.commit().await?;
    let status = if errors.any() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render_with(
        status,
        &CardPage {
            ui,
            guardian_contact: access.guardians == GuardianDetail::Contact,
            show_guardians: access.guardians != GuardianDetail::None,
            show_contact_persons: access.contact_persons,
            show_enrolments: access.enrolments,
            may_reveal: access.reveal_national_id && shown.is_none(),
            revealed: shown.is_some(),
            reason,
            errors,
            may_pickup,
            may_keep_contacts,
            may_link_guardians: links.guardian_links,
            siblings,
            other_siblings,
            show_timetable: policy::card_shows_timetable(&access),
            whereabouts_protected: access.whereabouts_protected,
            write_href,
            card,
        },
    ))
}

/// Used by templates: is this address protected?
pub fn is_protected(a: &AddressView) -> bool {
    matches!(a, AddressView::Protected)
}
