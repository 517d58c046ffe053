//! Messages between school and home (issue 19, point 2): threads about one pupil.
//!
//! - A guardian writes to the child's contact teacher or the school office, and chooses
//!   whether the child's other guardians see the thread (rule 13: only if the writer
//!   chooses so, and only guardians the message would reach, `policy::recipients`).
//! - Staff write to one or more of the pupil's guardians: the page lists those the
//!   message reaches and those it leaves out, with why.
//! - Everyone on a thread sees all of it, and nobody is added to the home side later: a
//!   reply reaches only the sender's side (rule 6). Read state is per participant;
//!   the writer of a message sees who on the thread has read it.
//! - A new message is told by e-mail (a link, no names, no text) to those on the thread
//!   Tavle may write to digitally.
//! - A message may not carry a national id number (M4): it is refused, on the field.
//!
//! Every open of a thread, and every message, is audited with the pupil as subject.

pub mod group;
pub mod queries;

use std::collections::HashSet;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::domain::calendar::{oslo_date, oslo_offset};
use crate::domain::date::{display_date, display_time, machine_time};
use crate::domain::national_id::NationalId;
use crate::domain::text::{has_hidden_characters, nfc};
use crate::error::{AppError, Result};
use crate::mail::outbox::{self, Kind, NewMessage};
use crate::policy::recipients::{self, Recipients, To};
use crate::policy::{self, Audience, NewThreadAccess, Side, ThreadAccess};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::i18n::{self, tf, Lang};
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;
use queries::{MessageRow, Named, Participant, ThreadRow};

/// The longest topic and message, in characters.
pub const TOPIC_MAX: usize = 120;
pub const BODY_MAX: usize = 5000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(inbox).post(start))
        .route("/messages/new", get(compose))
        .route("/pupils/{pupil_id}/messages/new", get(compose_to_home))
        .route("/pupils/{pupil_id}/messages", post(start_to_home))
        .route("/messages/{thread_id}", get(show))
        .route("/messages/{thread_id}/reply", post(reply))
        .route("/messages/{thread_id}/archive", post(archive))
        .route("/groups/{group_id}/messages/new", get(group::compose))
        .route("/groups/{group_id}/messages", post(group::send))
        .route("/messages/broadcasts/{broadcast_id}", get(group::show))
        .route("/messages/broadcasts/{broadcast_id}/withdraw", post(group::withdraw))
}

/// `07.12.2026 14:05`, Norwegian time.
pub fn local(at: OffsetDateTime) -> String {
    let here = at.to_offset(oslo_offset(at));
    format!("{} {}", display_date(oslo_date(at)), display_time(here.time()))
}

/// Whether `text` holds a valid national id number: eleven digits in a row, or six and
/// five with one space, dot or dash between (how they are written by hand).
pub fn holds_national_id(text: &str) -> bool {
    let runs: Vec<(usize, usize)> = {
        let b = text.as_bytes();
        let mut runs = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                runs.push((start, i));
            } else {
                i += 1;
            }
        }
        runs
    };
    let valid = |s: &str| NationalId::parse(s).is_ok();
    runs.iter().any(|&(a, b)| b - a == 11 && valid(&text[a..b]))
        || runs.windows(2).any(|w| {
            let ((a1, b1), (a2, b2)) = (w[0], w[1]);
            b1 - a1 == 6 && b2 - a2 == 5 && a2 == b1 + 1 && matches!(text.as_bytes()[b1], b' ' | b'.' | b'-') && {
                let joined = format!("{}{}", &text[a1..b1], &text[a2..b2]);
                valid(&joined)
            }
        })
}

/// Check a topic or message: not empty, not too long, no national id number.
fn check_text(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    let n = value.chars().count();
    // A message has lines (and may have tabs); a topic is one line.
    let hidden = if field == "topic" {
        has_hidden_characters(value)
    } else {
        has_hidden_characters(&value.replace(['\n', '\t'], " "))
    };
    if hidden {
        errors.add(field.to_owned(), "messages.error.hidden_characters");
    } else if value.trim().is_empty() {
        errors.add(
            field.to_owned(),
            if field == "topic" { "messages.error.topic_empty" } else { "messages.error.body_empty" },
        );
    } else if n > max {
        errors.add(
            field.to_owned(),
            if field == "topic" { "messages.error.topic_long" } else { "messages.error.body_long" },
        );
    } else if holds_national_id(value) {
        errors.add(field.to_owned(), "messages.error.national_id");
    }
}

/// Line ends as `\n`, in Unicode NFC, trimmed: the text as stored.
pub(crate) fn clean(value: &str) -> String {
    nfc(value.replace("\r\n", "\n").trim())
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

// ---------------------------------------------------------------------------------
// The inbox.

#[derive(askama::Template)]
#[template(path = "messages/inbox.html")]
pub struct InboxPage {
    pub ui: Ui,
    pub threads: Vec<ThreadRow>,
    pub guardian: bool,
    /// Staff: the group messages they sent, and the groups they may write to.
    pub broadcasts: Vec<queries::SentBroadcast>,
    pub groups: Vec<Named>,
}

impl InboxPage {
    pub fn when(&self, t: &ThreadRow) -> String {
        local(t.last_message_at)
    }
    pub fn iso(&self, t: &ThreadRow) -> String {
        machine_time(t.last_message_at)
    }
    pub fn sent_when(&self, b: &queries::SentBroadcast) -> String {
        local(b.sent_at)
    }
    pub fn sent_iso(&self, b: &queries::SentBroadcast) -> String {
        machine_time(b.sent_at)
    }
}

async fn inbox(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    let access = policy::inbox_access(&actor)?;
    let (threads, broadcasts, groups) = if actor.audience == Audience::Guardian {
        (queries::guardian_inbox(work.conn(), actor.person_id, &access.children).await?, vec![], vec![])
    } else {
        (
            queries::staff_inbox(work.conn(), actor.person_id, &access.office_schools).await?,
            queries::sent_broadcasts(work.conn(), actor.person_id).await?,
            queries::my_groups(work.conn(), actor.person_id).await?,
        )
    };
    let mut subjects: Vec<Uuid> = threads.iter().map(|t| t.pupil_id).collect();
    subjects.sort();
    subjects.dedup();
    if !subjects.is_empty() {
        work.audit(&access, Action::Read, Resource::MessageThreads, None, &subjects).await?;
    }
    work.commit().await?;
    let guardian = actor.audience == Audience::Guardian;
    Ok(render_with(StatusCode::OK, &InboxPage { ui, threads, guardian, broadcasts, groups }))
}

// ---------------------------------------------------------------------------------
// Writing a new thread.

#[derive(Debug, Default, Deserialize)]
pub struct ComposeQuery {
    #[serde(default)]
    pub pupil: String,
}

/// What the writer typed, kept on a refused form.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub pupil: String,
    pub to: String,
    pub share: bool,
    pub guardians: Vec<String>,
    pub topic: String,
    pub body: String,
}

#[derive(askama::Template)]
#[template(path = "messages/new.html")]
pub struct NewPage {
    pub ui: Ui,
    /// Guardians: the children they may write about. Staff: the one pupil.
    pub children: Vec<Named>,
    pub guardian: bool,
    /// Staff: the guardians the message reaches (names) and those it leaves out.
    pub reached: Vec<Named>,
    pub left_out: Vec<(Named, &'static str)>,
    pub draft: Draft,
    pub errors: FieldErrors,
}

impl NewPage {
    pub fn chosen(&self, id: &Uuid) -> bool {
        self.draft.guardians.iter().any(|g| g == &id.to_string())
    }
    pub fn to_options(&self) -> Vec<(&'static str, &'static str)> {
        vec![("contact_teacher", self.ui.t("messages.to.contact_teacher")), ("office", self.ui.t("messages.to.office"))]
    }
    pub fn limits(&self) -> String {
        tf(self.ui.lang, "messages.body_hint", &[("max", &BODY_MAX.to_string())])
    }
}

/// Staff's view of a pupil's guardians for a new thread: who the message reaches, and
/// who it leaves out with the reason's text.
async fn guardians_for(work: &mut Work, pupil: Uuid) -> Result<(Recipients, Vec<Named>, Vec<(Named, &'static str)>)> {
    let today = crate::db::today();
    let r = recipients::resolve(work.conn(), To::Pupil(pupil), today).await?;
    let ids: Vec<Uuid> = r.reached.iter().map(|x| x.person_id).collect();
    let reached = queries::names(work.conn(), &ids).await?;
    let left_out = named_left_out(work, &r).await?;
    Ok((r, reached, left_out))
}

/// Those a message leaves out, named, with the reason in the reader's language.
async fn named_left_out(work: &mut Work, r: &Recipients) -> Result<Vec<(Named, &'static str)>> {
    let ids: Vec<Uuid> = r.left_out.iter().map(|x| x.person_id).collect();
    let named = queries::names(work.conn(), &ids).await?;
    let lang = work.lang();
    Ok(r.left_out
        .iter()
        .filter_map(|e| {
            let n = named.iter().find(|n| n.id == e.person_id)?.clone();
            Some((n, i18n::t(lang, &format!("recipients.left_out.{}", e.reason.code()))))
        })
        .collect())
}

async fn new_page(work: &mut Work, ui: Ui, pupil: Option<Uuid>, draft: Draft, errors: FieldErrors) -> Result<NewPage> {
    let actor = work.actor();
    let guardian = actor.audience == Audience::Guardian;
    if guardian {
        let children = queries::names(work.conn(), &actor.placed_children()).await?;
        return Ok(NewPage { ui, children, guardian, reached: vec![], left_out: vec![], draft, errors });
    }
    let pupil = pupil.ok_or(AppError::NotFound)?;
    let access = staff_access(work, pupil).await?;
    let children = queries::names(work.conn(), &[pupil]).await?;
    let (_, reached, left_out) = guardians_for(work, pupil).await?;
    let subjects: Vec<Uuid> =
        std::iter::once(pupil).chain(reached.iter().map(|n| n.id)).chain(left_out.iter().map(|(n, _)| n.id)).collect();
    work.audit(&access, Action::Read, Resource::MessageRecipients, Some(pupil), &subjects).await?;
    Ok(NewPage { ui, children, guardian, reached, left_out, draft, errors })
}

/// Staff writing about `pupil` (a guardian gets "not found": they write from Min side).
async fn staff_access(work: &mut Work, pupil: Uuid) -> Result<NewThreadAccess> {
    let actor = work.actor();
    let access = policy::new_thread_access(work.conn(), &actor, pupil).await?;
    if access.side != Side::School {
        return Err(AppError::NotFound);
    }
    Ok(access)
}

/// A guardian's new message (`?pupil=` chooses the child).
async fn compose(mut work: Work, ui: Ui, Query(q): Query<ComposeQuery>) -> Result<Response> {
    let actor = work.actor();
    if actor.audience != Audience::Guardian {
        return Err(AppError::NotFound);
    }
    policy::inbox_access(&actor)?;
    let pupil = if q.pupil.trim().is_empty() { None } else { Some(path_id(&q.pupil)?) };
    if let Some(p) = pupil {
        policy::new_thread_access(work.conn(), &actor, p).await?;
    }
    let draft = Draft {
        pupil: pupil.map(|p| p.to_string()).unwrap_or_default(),
        to: "contact_teacher".into(),
        ..Draft::default()
    };
    let page = new_page(&mut work, ui, pupil, draft, FieldErrors::new()).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

/// Staff's new message to a pupil's guardians.
async fn compose_to_home(mut work: Work, ui: Ui, Path(pupil): Path<String>) -> Result<Response> {
    let pupil = staff_access(&mut work, path_id(&pupil)?).await?.pupil_id;
    let page = new_page(
        &mut work,
        ui,
        Some(pupil),
        Draft { pupil: pupil.to_string(), ..Draft::default() },
        FieldErrors::new(),
    )
    .await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

/// Read a form of (name, value) pairs into a draft. A field the form does not have, or
/// a value no control of it sends, is a bad request.
fn read_draft(fields: Vec<(String, String)>, guardian: bool) -> Result<Draft> {
    let mut d = Draft::default();
    for (name, value) in fields {
        match name.as_str() {
            "csrf" => {}
            "pupil" if guardian => d.pupil = value,
            "to" if guardian => d.to = value,
            "share" if guardian && value == "1" => d.share = true,
            "guardian" if !guardian && d.guardians.len() < 20 => d.guardians.push(value),
            "topic" => d.topic = value,
            "body" => d.body = value,
            _ => return Err(AppError::BadRequest),
        }
    }
    Ok(d)
}

/// The topic and message as stored, with the field errors they give.
fn read_text(draft: &Draft, errors: &mut FieldErrors) -> (String, String) {
    let topic = clean(&draft.topic);
    let body = clean(&draft.body);
    check_text(errors, "topic", &topic, TOPIC_MAX);
    check_text(errors, "body", &body, BODY_MAX);
    (topic, body)
}

/// A guardian starts a thread with the contact teacher or the office.
async fn start(
    State(state): State<AppState>,
    mut work: Work,
    ui: Ui,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    if actor.audience != Audience::Guardian {
        return Err(AppError::NotFound);
    }
    policy::inbox_access(&actor)?;
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let draft = read_draft(fields, true)?;
    let mut errors = FieldErrors::new();
    let access = match Uuid::parse_str(draft.pupil.trim()) {
        Ok(p) => Some(policy::new_thread_access(work.conn(), &actor, p).await?),
        Err(_) => {
            errors.add("pupil", "messages.error.choose_child");
            None
        }
    };
    let (topic, body) = read_text(&draft, &mut errors);
    let mut parties: Vec<(Uuid, Side)> = vec![(actor.person_id, Side::Home)];
    let mut office = false;
    if let Some(a) = &access {
        match draft.to.as_str() {
            "contact_teacher" if a.contact_teachers.is_empty() => {
                errors.add("to", "messages.error.no_contact_teacher");
            }
            "contact_teacher" => parties.extend(a.contact_teachers.iter().map(|t| (*t, Side::School))),
            "office" => office = true,
            _ => {
                errors.add("to", "messages.error.choose_to");
            }
        }
        if draft.share {
            // The child's other guardians whom the school could write to (rule 13).
            let r = recipients::resolve(work.conn(), To::Pupil(a.pupil_id), crate::db::today()).await?;
            parties
                .extend(r.reached.iter().filter(|g| g.person_id != actor.person_id).map(|g| (g.person_id, Side::Home)));
        }
    }
    let Some(a) = access.filter(|_| !errors.any()) else {
        errors.order(&["pupil", "to", "topic", "body"]);
        let page = new_page(&mut work, ui, None, draft, errors).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let new = queries::NewThread { school: a.school_id, pupil: a.pupil_id, topic: &topic, office, by: actor.person_id };
    let (thread, message) = queries::start(work.conn(), &new, &parties, &body).await?;
    tell(&state, &mut work, thread, message, a.school_id).await?;
    work.audit(&a, Action::Create, Resource::MessageThread, Some(thread), &[a.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/messages/{thread}?done=sent")).into_response())
}

/// Staff start a thread with some of a pupil's guardians: only those the message
/// reaches may be chosen. A thread written by the office is the office's.
async fn start_to_home(
    State(state): State<AppState>,
    mut work: Work,
    ui: Ui,
    Path(pupil): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let a = staff_access(&mut work, path_id(&pupil)?).await?;
    let Form(fields) = form.map_err(|_| AppError::BadRequest)?;
    let mut draft = read_draft(fields, false)?;
    draft.pupil = a.pupil_id.to_string();
    let mut errors = FieldErrors::new();
    let (topic, body) = read_text(&draft, &mut errors);
    let r = recipients::resolve(work.conn(), To::Pupil(a.pupil_id), crate::db::today()).await?;
    let chosen: HashSet<&str> = draft.guardians.iter().map(|g| g.trim()).collect();
    let picked: Vec<Uuid> =
        r.reached.iter().map(|g| g.person_id).filter(|g| chosen.contains(g.to_string().as_str())).collect();
    if picked.len() != chosen.len() {
        // A guardian the message does not reach: no form offers one.
        return Err(AppError::BadRequest);
    }
    if picked.is_empty() {
        errors.add("guardians", "messages.error.choose_guardian");
    }
    if errors.any() {
        errors.order(&["guardians", "topic", "body"]);
        let page = new_page(&mut work, ui, Some(a.pupil_id), draft, errors).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let me = work.actor().person_id;
    let parties: Vec<(Uuid, Side)> =
        std::iter::once((me, Side::School)).chain(picked.into_iter().map(|g| (g, Side::Home))).collect();
    let office = a.acting_as.is_some_and(|r| policy::OFFICE.contains(&r));
    let new = queries::NewThread { school: a.school_id, pupil: a.pupil_id, topic: &topic, office, by: me };
    let (thread, message) = queries::start(work.conn(), &new, &parties, &body).await?;
    tell(&state, &mut work, thread, message, a.school_id).await?;
    work.audit(&a, Action::Create, Resource::MessageThread, Some(thread), &[a.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/messages/{thread}?done=sent")).into_response())
}

/// Tell the thread's other participants of a new message by e-mail: a link only.
async fn tell(state: &AppState, work: &mut Work, thread: Uuid, message: Uuid, school: Uuid) -> Result<()> {
    let author = work.actor().person_id;
    for r in queries::notice_recipients(work.conn(), thread, author).await? {
        let to = Notice { person: r.person_id, address: &r.address, lang: &r.lang };
        notify(state, work, &to, thread, &message.to_string(), school).await?;
    }
    Ok(())
}

/// Who an e-mail notice goes to.
struct Notice<'a> {
    person: Uuid,
    address: &'a str,
    lang: &'a str,
}

/// Put the e-mail notice of a new message on `thread` in the outbox: a link, nothing
/// else. `key` makes it one per message (or per group message's copy) and recipient.
async fn notify(
    state: &AppState,
    work: &mut Work,
    to: &Notice<'_>,
    thread: Uuid,
    key: &str,
    school: Uuid,
) -> Result<()> {
    let link = state.config.public_url.join(&format!("/messages/{thread}")).map(|u| u.to_string()).unwrap_or_default();
    let lang = Lang::from_code(to.lang).unwrap_or(Lang::Nb);
    let body = tf(lang, "messages.mail_body", &[("link", &link)]);
    outbox::enqueue(
        work.conn(),
        &NewMessage {
            kind: Kind::MessageNotice,
            dedupe_key: key,
            school_id: school,
            recipient_id: to.person,
            recipient_address: to.address,
            lang,
            subject: i18n::t(lang, "messages.mail_subject"),
            body_text: &body,
            body_html: None,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------
// A thread.

#[derive(askama::Template)]
#[template(path = "messages/thread.html")]
pub struct ThreadPage {
    pub ui: Ui,
    pub thread: ThreadRow,
    pub messages: Vec<MessageRow>,
    pub participants: Vec<Participant>,
    pub me: Uuid,
    pub answers: bool,
    pub keeps: bool,
    pub body: String,
    pub errors: FieldErrors,
    pub done: String,
}

impl ThreadPage {
    pub fn when(&self, m: &MessageRow) -> String {
        local(m.sent_at)
    }
    pub fn iso(&self, m: &MessageRow) -> String {
        machine_time(m.sent_at)
    }
    pub fn side(&self, m: &MessageRow) -> &'static str {
        match m.side.as_deref() {
            Some("home") => self.ui.t("messages.side.home"),
            _ => self.ui.t("messages.side.school"),
        }
    }
    /// On the writer's own messages: who else on the thread has read it.
    pub fn read_by(&self, m: &MessageRow) -> String {
        if m.author_id != self.me {
            return String::new();
        }
        let readers: Vec<String> = self
            .participants
            .iter()
            .filter(|p| p.person_id != self.me && p.last_read_at.is_some_and(|at| at >= m.sent_at))
            .map(|p| format!("{} {}", p.given_name, p.family_name))
            .collect();
        if readers.is_empty() {
            self.ui.t("messages.unread_by_all").to_owned()
        } else {
            tf(self.ui.lang, "messages.read_by", &[("names", &readers.join(", "))])
        }
    }
    pub fn home(&self) -> String {
        self.names("home")
    }
    pub fn school(&self) -> String {
        let names = self.names("school");
        match (self.thread.office, names.is_empty()) {
            (true, true) => self.ui.t("messages.to.office").to_owned(),
            (true, false) => format!("{}, {names}", self.ui.t("messages.to.office")),
            _ => names,
        }
    }
    fn names(&self, side: &str) -> String {
        self.participants
            .iter()
            .filter(|p| p.side == side)
            .map(|p| format!("{} {}", p.given_name, p.family_name))
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub fn paragraphs<'a>(&self, m: &'a MessageRow) -> Vec<&'a str> {
        m.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect()
    }
    pub fn lines<'a>(&self, p: &'a str) -> Vec<&'a str> {
        p.lines().collect()
    }
}

async fn load_thread(work: &mut Work, id: &str) -> Result<(ThreadAccess, ThreadRow)> {
    let actor = work.actor();
    let access = policy::thread_access(work.conn(), &actor, path_id(id)?).await?;
    let thread = queries::thread(work.conn(), actor.person_id, access.thread_id).await?.ok_or(AppError::NotFound)?;
    Ok((access, thread))
}

async fn thread_page(
    work: &mut Work,
    ui: Ui,
    access: ThreadAccess,
    thread: ThreadRow,
    body: String,
    errors: FieldErrors,
    done: String,
) -> Result<ThreadPage> {
    let messages = queries::messages(work.conn(), access.thread_id).await?;
    let participants = queries::participants(work.conn(), access.thread_id).await?;
    let me = work.actor().person_id;
    Ok(ThreadPage {
        ui,
        thread,
        messages,
        participants,
        me,
        answers: access.answers,
        keeps: access.keeps,
        body,
        errors,
        done,
    })
}

async fn show(mut work: Work, ui: Ui, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Result<Response> {
    let (access, thread) = load_thread(&mut work, &id).await?;
    let me = work.actor().person_id;
    if access.participant {
        queries::mark_read(work.conn(), access.thread_id, me).await?;
    } else if thread.office && access.acting_as.is_some_and(|r| policy::OFFICE.contains(&r)) {
        // The office reads its threads as one: whoever opens it is on it from now.
        queries::join(work.conn(), access.thread_id, me, Side::School).await?;
        queries::mark_read(work.conn(), access.thread_id, me).await?;
    }
    let page = thread_page(
        &mut work,
        ui,
        access,
        thread,
        String::new(),
        FieldErrors::new(),
        if ["sent", "kept"].contains(&q.done.as_str()) { q.done } else { String::new() },
    )
    .await?;
    work.audit(&access, Action::Read, Resource::MessageThread, Some(access.thread_id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub body: String,
}

async fn reply(
    State(state): State<AppState>,
    mut work: Work,
    ui: Ui,
    Path(id): Path<String>,
    form: std::result::Result<Form<ReplyForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (access, thread) = load_thread(&mut work, &id).await?;
    if !access.answers {
        return Err(AppError::Forbidden);
    }
    let body = clean(&form.body);
    let mut errors = FieldErrors::new();
    check_text(&mut errors, "body", &body, BODY_MAX);
    if errors.any() {
        let page = thread_page(&mut work, ui, access, thread, form.body, errors, String::new()).await?;
        work.audit(&access, Action::Read, Resource::MessageThread, Some(access.thread_id), &[access.pupil_id]).await?;
        work.commit().await?;
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let me = work.actor().person_id;
    if !access.participant {
        queries::join(work.conn(), access.thread_id, me, access.side).await?;
    }
    let message = queries::add_message(work.conn(), access.thread_id, me, &body).await?;
    tell(&state, &mut work, access.thread_id, message, access.school_id).await?;
    work.audit(&access, Action::Create, Resource::MessageThread, Some(access.thread_id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/messages/{}?done=sent#last", access.thread_id)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub archive: String,
}

/// The office or a leader flags the thread as worth keeping for the archive, or not.
async fn archive(
    mut work: Work,
    Path(id): Path<String>,
    form: std::result::Result<Form<ArchiveForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let (access, thread) = load_thread(&mut work, &id).await?;
    policy::thread_archiving(&access)?;
    let keep = match form.archive.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest),
    };
    if keep != thread.archive_worthy {
        queries::set_archive_worthy(work.conn(), access.thread_id, keep).await?;
        work.audit(&access, Action::Update, Resource::MessageThread, Some(access.thread_id), &[access.pupil_id])
            .await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/messages/{}?done=kept", access.thread_id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_ids_are_found_however_written() {
        let id = (500..1000)
            .find_map(|i| NationalId::synthetic(time::macros::date!(2015 - 03 - 14), i))
            .expect("a valid id")
            .as_str()
            .to_owned();
        assert!(holds_national_id(&format!("Fødselsnummer {id}.")));
        assert!(holds_national_id(&format!("{} {}", &id[..6], &id[6..])));
        assert!(holds_national_id(&format!("{}-{}", &id[..6], &id[6..])));
        assert!(!holds_national_id(&format!("{}  {}", &id[..6], &id[6..])));
        // A wrong check digit, or a phone number, is not one.
        let mut wrong = id.clone();
        wrong.replace_range(10..11, if id.ends_with('0') { "1" } else { "0" });
        assert!(!holds_national_id(&wrong));
        assert!(!holds_national_id("Ring meg på 912 34 567 eller 0047 91234567."));
    }
}
