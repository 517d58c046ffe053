//! Emergency notices (issue 19, point 5; messaging.md M6): the school's principal or
//! office alerts every guardian of the school by SMS and e-mail at once, and follows on
//! the crisis page who has confirmed.
//!
//! - `compose`/`send`: write, preview (how many it reaches by SMS and e-mail, who must
//!   be called, the SMS's parts; an SMS cannot be withdrawn), send on the preview's
//!   fingerprint. An exercise is labelled ØVELSE/EXERCISE in every SMS and e-mail.
//! - `crisis`: the households (pupils) none of whose guardians has confirmed, with the
//!   guardians' phone numbers for calling; resend to the unconfirmed; mark a household
//!   reached by phone.
//! - `confirm`: the link in the SMS and e-mail (no sign-in: it is 08:05 and something
//!   has happened), and an OK answered by SMS.
//!
//! The SMS carries no name and no text typed by staff: the school's name and a link.
//! The notice's text is on the link's page and in the e-mail.

pub mod confirm;
mod queries;

use std::collections::BTreeSet;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::domain::text::has_hidden_characters;
use crate::error::{AppError, Result};
use crate::mail::outbox::{self as mail, Kind as MailKind, NewMessage};
use crate::messages::DoneQuery;
use crate::messages::{holds_national_id, local};
use crate::policy::features::{self, Feature};
use crate::policy::guardianship::LeftOut;
use crate::policy::recipients::{self, first_failure, To};
use crate::policy::{self, EmergencyAccess};
use crate::sms::outbox::{self as sms, Kind as SmsKind, NewSms};
use crate::sms::segment::{segments, Encoding};
use crate::sms::Number;
use crate::state::AppState;
use crate::timetable::queries::{self as schools_q, SchoolRow};
use crate::web::form::{CsrfOnly, FieldErrors};
use crate::web::i18n::{self, tf, Lang};
use crate::web::layout::Ui;
use crate::web::{path_id, render, render_with};
use crate::work::Work;

pub use queries::{Household, NoticeRow};

/// The longest notice text (it goes in the e-mail and on the link's page, not the SMS).
pub const BODY_MAX: usize = 1000;

pub fn routes() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new()
        .route("/emergency", get(entry))
        .route("/schools/{school_id}/emergency", get(compose).post(send))
        .route("/emergency/{notice_id}", get(crisis))
        .route("/emergency/{notice_id}/resend", post(resend))
        .route("/emergency/{notice_id}/households/{pupil_id}/reached", post(reached))
        .route("/e/{municipality}/{token}", get(confirm::show).post(confirm::confirm))
}

/// An OK answered by SMS: outside the session and CSRF middleware, signed by the gateway.
pub fn inbound_router() -> Router<AppState> {
    Router::new().route("/sms/inbound/{tenant_id}", post(confirm::inbound))
}

/// A fresh confirmation token and its SHA-256, which is all that is stored: 128 random
/// bits as 32 letters `a`–`p`, one per four bits. Letters only, so that a token can
/// never look like a national id number (which `sms::outbox` would rightly refuse).
pub fn new_token() -> (String, Vec<u8>) {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token: String = bytes.iter().flat_map(|b| [b >> 4, b & 0x0f]).map(|n| char::from(b'a' + n)).collect();
    let hash = token_hash(&token);
    (token, hash)
}

/// Whether `token` has a token's form.
pub fn token_shaped(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The SMS: the label of an exercise, the school's name and the link; nothing typed.
pub fn sms_text(lang: Lang, exercise: bool, school: &str, link: &str) -> String {
    let text = tf(lang, "emergency.sms", &[("school", school), ("link", link)]);
    if exercise {
        format!("{} {text}", i18n::t(lang, "emergency.exercise_prefix"))
    } else {
        text
    }
}

fn link(state: &AppState, municipality: &str, token: &str) -> String {
    state.config.public_url.join(&format!("/e/{municipality}/{token}")).map(|u| u.to_string()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// The entry: the actor's schools and their notices.

#[derive(askama::Template)]
#[template(path = "emergency/entry.html")]
pub struct EntryPage {
    pub ui: Ui,
    pub schools: Vec<SchoolRow>,
    pub notices: Vec<NoticeRow>,
}

impl EntryPage {
    pub fn sent(&self, n: &NoticeRow) -> String {
        local(n.sent_at)
    }
    pub fn confirmed(&self, n: &NoticeRow) -> String {
        tf(
            self.ui.lang,
            "emergency.confirmed_count",
            &[("confirmed", &n.confirmed.to_string()), ("households", &n.households.to_string())],
        )
    }
}

async fn entry(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    let ids = policy::emergency_schools(&actor);
    if ids.is_empty() {
        return Err(AppError::NotFound);
    }
    let schools = schools_q::schools(work.conn(), &ids).await?;
    let notices = queries::notices(work.conn(), &ids).await?;
    work.commit().await?;
    Ok(render(&EntryPage { ui, schools, notices }))
}

// ---------------------------------------------------------------------------------
// Writing, previewing and sending.

/// What the preview shows.
pub struct Preview {
    pub households: usize,
    pub reached: usize,
    pub by_sms: usize,
    pub by_email: usize,
    /// Reserved in KRR, reached all the same (an emergency).
    pub reserved: usize,
    /// With neither a mobile number nor an e-mail address: to be called.
    pub to_call: usize,
    /// The municipality has SMS on.
    pub sms_on: bool,
    /// Guardians left out for another reason, by reason (a translated phrase, count).
    pub left_out: Vec<(&'static str, usize)>,
    pub sms_sample: String,
    pub sms_parts: usize,
    pub sms_ucs2: bool,
    pub fingerprint: String,
}

#[derive(askama::Template)]
#[template(path = "emergency/new.html")]
pub struct NewPage {
    pub ui: Ui,
    pub school: SchoolRow,
    pub body: String,
    pub kind: String,
    pub preview: Option<Preview>,
    pub errors: FieldErrors,
}

impl NewPage {
    pub fn summary(&self, p: &Preview) -> String {
        tf(
            self.ui.lang,
            "emergency.preview_summary",
            &[
                ("count", &p.reached.to_string()),
                ("households", &p.households.to_string()),
                ("sms", &p.by_sms.to_string()),
                ("email", &p.by_email.to_string()),
            ],
        )
    }
    pub fn parts(&self, p: &Preview) -> String {
        let encoding = if p.sms_ucs2 { "UCS-2" } else { "GSM-7" };
        tf(self.ui.lang, "emergency.sms_parts", &[("parts", &p.sms_parts.to_string()), ("encoding", encoding)])
    }
    pub fn to_call(&self, p: &Preview) -> String {
        tf(self.ui.lang, "emergency.to_call", &[("count", &p.to_call.to_string())])
    }
    pub fn reserved(&self, p: &Preview) -> String {
        tf(self.ui.lang, "emergency.reserved", &[("count", &p.reserved.to_string())])
    }
    pub fn exercise(&self) -> bool {
        self.kind == "exercise"
    }
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        vec![("real", self.ui.t("emergency.kind.real")), ("exercise", self.ui.t("emergency.kind.exercise"))]
    }
}

async fn school_of(work: &mut Work, id: Uuid) -> Result<SchoolRow> {
    schools_q::schools(work.conn(), &[id]).await?.into_iter().next().ok_or(AppError::NotFound)
}

async fn compose(mut work: Work, ui: Ui, Path(school): Path<String>) -> Result<Response> {
    let access = policy::emergency_access(&work.actor(), path_id(&school)?)?;
    let school = school_of(&mut work, access.school_id).await?;
    work.commit().await?;
    let page =
        NewPage { ui, school, body: String::new(), kind: String::new(), preview: None, errors: FieldErrors::new() };
    Ok(render(&page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub body: String,
    /// `real` or `exercise`: chosen every time, never defaulted.
    #[serde(default)]
    pub kind: String,
    /// `preview`, `edit` or `send`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub fingerprint: String,
}

fn check(errors: &mut FieldErrors, body: &str, kind: &str) {
    if has_hidden_characters(&body.replace(['\n', '\t'], " ")) {
        errors.add("body", "messages.error.hidden_characters");
    } else if body.is_empty() {
        errors.add("body", "emergency.error.body_empty");
    } else if body.chars().count() > BODY_MAX {
        errors.add("body", "emergency.error.body_long");
    } else if holds_national_id(body) {
        errors.add("body", "messages.error.national_id");
    }
    if !["real", "exercise"].contains(&kind) {
        errors.add("kind", "emergency.error.kind");
    }
}

/// Who a notice to the school reaches today: the facts, and the households.
struct Audience {
    households: Vec<Uuid>,
    relations: Vec<recipients::Relation>,
    decided: recipients::Recipients,
    /// Whether the municipality has turned SMS on.
    sms: bool,
}

/// A guardian a notice goes to.
struct Target {
    person: Uuid,
    pupils: Vec<Uuid>,
    email: Option<String>,
    number: Option<Number>,
    lang: Lang,
    /// Reserved in KRR: an emergency notice goes to them all the same (messaging.md
    /// rule 14: the reservation does not cover emergency notices).
    reserved: bool,
}

async fn audience(work: &mut Work, school: Uuid) -> Result<Audience> {
    let today = crate::db::today();
    let households = recipients::pupils(work.conn(), To::School(school), today).await?;
    let relations = recipients::relations(work.conn(), &households, today).await?;
    let decided = recipients::decide(&relations);
    let sms = features::enabled(work.conn(), Feature::Sms).await?;
    Ok(Audience { households, relations, decided, sms })
}

impl Audience {
    /// Everyone the notice goes to: the guardians every message reaches, and those
    /// only their KRR reservation keeps from digital messages, each once with all
    /// their households.
    fn targets(&self) -> Vec<Target> {
        let number = |phone: Option<&str>| phone.and_then(Number::parse).filter(|_| self.sms);
        let mut out: Vec<Target> = self
            .decided
            .reached
            .iter()
            .map(|r| Target {
                person: r.person_id,
                pupils: r.pupils.clone(),
                email: r.email.clone(),
                number: number(r.phone.as_deref()),
                lang: Lang::from_code(&r.lang).unwrap_or(Lang::Nb),
                reserved: false,
            })
            .collect();
        let mut reserved: std::collections::BTreeMap<Uuid, Target> = Default::default();
        for r in &self.relations {
            if first_failure(&r.met) == Some(LeftOut::ReservedKrr) && !self.decided.reaches(r.person_id) {
                reserved
                    .entry(r.person_id)
                    .or_insert_with(|| Target {
                        person: r.person_id,
                        pupils: Vec::new(),
                        email: r.email.clone(),
                        number: number(r.phone.as_deref()),
                        lang: Lang::from_code(&r.lang).unwrap_or(Lang::Nb),
                        reserved: true,
                    })
                    .pupils
                    .push(r.pupil_id);
            }
        }
        out.extend(reserved.into_values());
        out
    }

    fn fingerprint(&self, body: &str, kind: &str) -> String {
        let ids: BTreeSet<Uuid> = self.targets().iter().map(|x| x.person).collect();
        let mut h = Sha256::new();
        for id in ids.iter().chain(self.households.iter()) {
            h.update(id.as_bytes());
        }
        h.update(kind.as_bytes());
        h.update([u8::from(self.sms), 0]);
        h.update(body.as_bytes());
        hex::encode(h.finalize())
    }
}

async fn send(
    State(state): State<AppState>,
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<NoticeForm>, FormRejection>,
) -> Result<Response> {
    let access = policy::emergency_access(&work.actor(), path_id(&school)?)?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    if !["preview", "edit", "send"].contains(&form.action.as_str()) {
        return Err(AppError::BadRequest);
    }
    let school = school_of(&mut work, access.school_id).await?;
    let body = crate::messages::clean(&form.body);
    let mut errors = FieldErrors::new();
    check(&mut errors, &body, &form.kind);
    let page = |ui, preview, errors| NewPage {
        ui,
        school: school.clone(),
        body: form.body.clone(),
        kind: form.kind.clone(),
        preview,
        errors,
    };
    if errors.any() || form.action == "edit" {
        work.commit().await?;
        let status = if errors.any() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok(render_with(status, &page(ui, None, errors)));
    }
    let exercise = form.kind == "exercise";
    let who = audience(&mut work, access.school_id).await?;
    let print = who.fingerprint(&body, &form.kind);
    if form.action == "preview" || form.fingerprint != print || who.households.is_empty() {
        let mut errors = FieldErrors::new();
        if form.action == "send" && who.households.is_empty() {
            errors.add("body", "emergency.error.nobody");
        } else if form.action == "send" {
            errors.add("fingerprint", "messages.group.error.changed");
        }
        let municipality = queries::slug(work.conn()).await?;
        let preview = preview(&state, &work, &who, exercise, &school, &municipality, print);
        let subjects: Vec<Uuid> = who.relations.iter().map(|r| r.person_id).collect();
        work.audit(&access, Action::Read, Resource::MessageRecipients, Some(access.school_id), &subjects).await?;
        work.commit().await?;
        let status = if errors.any() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok(render_with(status, &page(ui, Some(preview), errors)));
    }
    let id = store(&state, &mut work, &access, &who, &school, exercise, &body).await?;
    work.commit().await?;
    crate::sms::delivery::wake();
    Ok(Redirect::to(&format!("/emergency/{id}?done=sent")).into_response())
}

fn preview(
    state: &AppState,
    work: &Work,
    who: &Audience,
    exercise: bool,
    school: &SchoolRow,
    municipality: &str,
    print: String,
) -> Preview {
    let mut left: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for e in &who.decided.left_out {
        if e.reason != LeftOut::ReservedKrr {
            *left.entry(i18n::t(work.lang(), &format!("recipients.left_out.{}", e.reason.code()))).or_default() += 1;
        }
    }
    // The longest SMS any recipient gets (the languages differ in length), with a link
    // as long as a real one; the sample's token opens nothing.
    let (sample_token, _) = new_token();
    let sample = link(state, municipality, &sample_token);
    let texts: Vec<String> =
        [Lang::Nb, Lang::En].iter().map(|l| sms_text(*l, exercise, &school.name, &sample)).collect();
    let sizes: Vec<_> = texts.iter().map(|t| segments(t)).collect();
    let sms_parts = sizes.iter().map(|s| s.parts).max().unwrap_or(1);
    let sms_ucs2 = sizes.iter().any(|s| s.encoding == Encoding::Ucs2);
    let targets = who.targets();
    Preview {
        households: who.households.len(),
        reached: targets.len(),
        by_sms: targets.iter().filter(|t| t.number.is_some()).count(),
        by_email: targets.iter().filter(|t| t.email.is_some()).count(),
        reserved: targets.iter().filter(|t| t.reserved).count(),
        to_call: targets.iter().filter(|t| t.number.is_none() && t.email.is_none()).count(),
        sms_on: who.sms,
        left_out: left.into_iter().collect(),
        sms_sample: sms_text(work.lang(), exercise, &school.name, &sample),
        sms_parts,
        sms_ucs2,
        fingerprint: print,
    }
}

/// The notice, its households and recipients, a link each, the SMS and e-mail.
async fn store(
    state: &AppState,
    work: &mut Work,
    access: &EmergencyAccess,
    who: &Audience,
    school: &SchoolRow,
    exercise: bool,
    body: &str,
) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let me = work.actor().person_id;
    let municipality = queries::slug(work.conn()).await?;
    let targets = who.targets();
    let persons: Vec<Uuid> = targets.iter().map(|t| t.person).collect();
    let pupils: Vec<Vec<Uuid>> = targets.iter().map(|t| t.pupils.clone()).collect();
    let digital: Vec<bool> = targets.iter().map(|t| t.number.is_some() || t.email.is_some()).collect();
    let numbers: Vec<Option<Number>> = targets.iter().map(|t| t.number.clone()).collect();
    queries::insert(work.conn(), id, access.school_id, exercise, body, me, &who.households).await?;
    queries::insert_recipients(work.conn(), id, &persons, &pupils, &digital, &numbers).await?;
    let round = 1;
    let mut links = Vec::new();
    let mut texts = Vec::new();
    for t in targets.iter().filter(|t| t.number.is_some() || t.email.is_some()) {
        let (token, hash) = new_token();
        links.push((t.person, hash));
        let url = link(state, &municipality, &token);
        if let Some(number) = &t.number {
            let body = sms_text(t.lang, exercise, &school.name, &url);
            texts.push(sms::To { person: t.person, number: number.clone(), body });
        }
        if let Some(address) = &t.email {
            email(work, access.school_id, id, t.person, address, t.lang, exercise, &school.name, body, &url).await?;
        }
    }
    queries::insert_links(work.conn(), id, &links).await?;
    let key = format!("{id}-{round}");
    let batch = NewSms { kind: SmsKind::EmergencyNotice, dedupe_key: &key, school_id: Some(access.school_id) };
    sms::enqueue(work.conn(), &batch, &texts).await?;
    work.audit(access, Action::Create, Resource::EmergencyNotice, Some(id), &who.households).await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn email(
    work: &mut Work,
    school: Uuid,
    notice: Uuid,
    person: Uuid,
    address: &str,
    lang: Lang,
    exercise: bool,
    school_name: &str,
    body: &str,
    url: &str,
) -> Result<()> {
    let mut subject = tf(lang, "emergency.mail_subject", &[("school", school_name)]);
    if exercise {
        subject = format!("{} {subject}", i18n::t(lang, "emergency.exercise_prefix"));
    }
    let text = format!(
        "{body}\n\n{}\n\n{}",
        tf(lang, "emergency.mail_confirm", &[("link", url)]),
        i18n::t(lang, "emergency.mail_footer")
    );
    mail::enqueue(
        work.conn(),
        &NewMessage {
            kind: MailKind::EmergencyNotice,
            dedupe_key: &notice.to_string(),
            school_id: school,
            recipient_id: person,
            recipient_address: address,
            lang,
            subject: &subject,
            body_text: &text,
            body_html: None,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------
// The crisis page.

#[derive(askama::Template)]
#[template(path = "emergency/crisis.html")]
pub struct CrisisPage {
    pub ui: Ui,
    pub notice: NoticeRow,
    pub households: Vec<Household>,
    pub sms: queries::SmsCounts,
    /// The municipality has SMS on (resending is by SMS).
    pub sms_on: bool,
    pub done: String,
}

impl CrisisPage {
    pub fn sent(&self) -> String {
        local(self.notice.sent_at)
    }
    pub fn confirmed(&self) -> String {
        tf(
            self.ui.lang,
            "emergency.confirmed_count",
            &[("confirmed", &self.notice.confirmed.to_string()), ("households", &self.notice.households.to_string())],
        )
    }
    pub fn sms_summary(&self) -> String {
        let s = &self.sms;
        tf(
            self.ui.lang,
            "emergency.sms_summary",
            &[
                ("sent", &s.total.to_string()),
                ("delivered", &s.delivered.to_string()),
                ("waiting", &s.waiting.to_string()),
                ("failed", &s.failed.to_string()),
            ],
        )
    }
    pub fn tel(&self, phone: &str) -> String {
        phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
    }
    pub fn sms_state(&self, code: &str) -> &'static str {
        self.ui.t(&format!("emergency.sms_state.{code}"))
    }
}

async fn crisis(mut work: Work, ui: Ui, Path(notice): Path<String>, Query(q): Query<DoneQuery>) -> Result<Response> {
    let id = path_id(&notice)?;
    let actor = work.actor();
    let access = policy::notice_access(work.conn(), &actor, id).await?;
    let notice = queries::notice(work.conn(), id).await?.ok_or(AppError::NotFound)?;
    let households = queries::open_households(work.conn(), id).await?;
    let sms = queries::sms_counts(work.conn(), id).await?;
    let sms_on = features::enabled(work.conn(), Feature::Sms).await?;
    let subjects: Vec<Uuid> = households
        .iter()
        .flat_map(|h| std::iter::once(h.pupil_id).chain(h.guardians.iter().map(|g| g.person_id)))
        .collect();
    work.audit(&access, Action::Read, Resource::EmergencyRecipients, Some(id), &subjects).await?;
    work.commit().await?;
    let done = if ["sent", "resent", "reached"].contains(&q.done.as_str()) { q.done } else { String::new() };
    Ok(render(&CrisisPage { ui, notice, households, sms, sms_on, done }))
}

/// Send again, with a fresh link, to every guardian with a mobile number who has not
/// confirmed, in a household nobody has confirmed.
async fn resend(
    State(state): State<AppState>,
    mut work: Work,
    Path(notice): Path<String>,
    form: std::result::Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response> {
    let id = path_id(&notice)?;
    let actor = work.actor();
    let access = policy::notice_access(work.conn(), &actor, id).await?;
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let notice = queries::notice(work.conn(), id).await?.ok_or(AppError::NotFound)?;
    // Resending is by SMS: refused where the municipality has SMS off (no button shows).
    if !features::enabled(work.conn(), Feature::Sms).await? {
        return Err(AppError::Forbidden);
    }
    let round = queries::next_round(work.conn(), id).await?.ok_or(AppError::Conflict)?;
    let municipality = queries::slug(work.conn()).await?;
    let open = queries::unconfirmed_numbers(work.conn(), id).await?;
    let mut links = Vec::new();
    let mut texts = Vec::new();
    for (person, number, lang) in &open {
        let Some(number) = Number::parse(number) else { continue };
        let (token, hash) = new_token();
        links.push((*person, hash));
        let lang = Lang::from_code(lang).unwrap_or(Lang::Nb);
        let url = link(&state, &municipality, &token);
        texts.push(sms::To {
            person: *person,
            number,
            body: sms_text(lang, notice.exercise, &notice.school_name, &url),
        });
    }
    queries::insert_links(work.conn(), id, &links).await?;
    let key = format!("{id}-{round}");
    let batch = NewSms { kind: SmsKind::EmergencyNotice, dedupe_key: &key, school_id: Some(access.school_id) };
    sms::enqueue(work.conn(), &batch, &texts).await?;
    let subjects: Vec<Uuid> = open.iter().map(|(p, _, _)| *p).collect();
    work.audit(&access, Action::Update, Resource::EmergencyNotice, Some(id), &subjects).await?;
    work.commit().await?;
    crate::sms::delivery::wake();
    Ok(Redirect::to(&format!("/emergency/{id}?done=resent")).into_response())
}

/// The office reached the household by phone.
async fn reached(
    mut work: Work,
    Path((notice, pupil)): Path<(String, String)>,
    form: std::result::Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response> {
    let id = path_id(&notice)?;
    let actor = work.actor();
    let access = policy::notice_access(work.conn(), &actor, id).await?;
    let pupil = path_id(&pupil)?;
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let me = work.actor().person_id;
    if !queries::mark_reached(work.conn(), id, pupil, me).await? {
        return Err(AppError::NotFound);
    }
    work.audit(&access, Action::Update, Resource::EmergencyNotice, Some(id), &[pupil]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/emergency/{id}?done=reached#households")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_letters_and_never_hold_digits() {
        for _ in 0..1000 {
            let (token, hash) = new_token();
            assert!(token_shaped(&token), "{token}");
            assert!(!token.bytes().any(|b| b.is_ascii_digit()));
            assert_eq!(hash, token_hash(&token));
        }
        assert!(!token_shaped("0123456789abcdef0123456789abcdef"));
        assert!(!token_shaped("abc"));
    }
}
