//! Group messages as private fan-out (issue 19, point 3; messaging.md M2, M3): staff
//! write to the guardians of a class's or group's pupils.
//!
//! - The sender writes, then sees a preview: how many guardians the message reaches
//!   (one copy each, also for a guardian of two pupils in the group), how many get an
//!   e-mail notice, and every guardian left out with why. Sending needs the preview's
//!   confirmation: its fingerprint (the recipients and the text) must still hold, or
//!   the preview is shown again.
//! - Each guardian reached gets a thread of their own with the sender: nobody sees
//!   another recipient, and an answer is private.
//! - The sender sees who has read it, and may withdraw the copies not yet read (a read
//!   one stays: it has been seen).

use std::collections::BTreeSet;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    check_text, clean, local, machine_time, named_left_out, notify, queries::Named, DoneQuery, Notice, BODY_MAX,
    TOPIC_MAX,
};
use crate::audit::{Action, Resource};
use crate::db::Conn;
use crate::error::{AppError, Result};
use crate::policy::recipients::{self, Recipients, To};
use crate::policy::{self, GroupMessageAccess};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::i18n::tf;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// What a preview stands for: the recipients and the text, hashed.
pub fn fingerprint(r: &Recipients, topic: &str, body: &str) -> String {
    let ids: BTreeSet<Uuid> = r.reached.iter().map(|x| x.person_id).collect();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
    }
    h.update(topic.as_bytes());
    h.update([0]);
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// The preview of a group message.
pub struct Preview {
    pub reached: usize,
    pub by_email: usize,
    pub left_out: Vec<(Named, &'static str)>,
    pub fingerprint: String,
}

#[derive(askama::Template)]
#[template(path = "messages/group_new.html")]
pub struct GroupNewPage {
    pub ui: Ui,
    pub group_id: Uuid,
    pub group_name: String,
    pub topic: String,
    pub body: String,
    pub preview: Option<Preview>,
    pub errors: FieldErrors,
}

impl GroupNewPage {
    pub fn summary(&self, p: &Preview) -> String {
        tf(
            self.ui.lang,
            "messages.group.preview_summary",
            &[("count", &p.reached.to_string()), ("email", &p.by_email.to_string())],
        )
    }
}

async fn group_name(mut conn: Conn<'_>, group: Uuid) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT g.name FROM groups g WHERE g.tenant_id = $1 AND g.id = $2")
        .bind(conn.tenant)
        .bind(group)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or_default())
}

async fn load(work: &mut Work, group: &str) -> Result<(GroupMessageAccess, String)> {
    let actor = work.actor();
    let access = policy::group_message_access(work.conn(), &actor, path_id(group)?).await?;
    let name = group_name(work.conn(), access.group_id).await?;
    Ok((access, name))
}

pub async fn compose(mut work: Work, ui: Ui, Path(group): Path<String>) -> Result<Response> {
    let (access, group_name) = load(&mut work, &group).await?;
    work.commit().await?;
    let page = GroupNewPage {
        ui,
        group_id: access.group_id,
        group_name,
        topic: String::new(),
        body: String::new(),
        preview: None,
        errors: FieldErrors::new(),
    };
    Ok(render_with(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub body: String,
    /// `preview`, `edit` or `send`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub fingerprint: String,
}

/// Preview, edit again, or send (with the preview's fingerprint).
pub async fn send(
    State(state): State<AppState>,
    mut work: Work,
    ui: Ui,
    Path(group): Path<String>,
    form: std::result::Result<Form<GroupForm>, FormRejection>,
) -> Result<Response> {
    let (access, group_name) = load(&mut work, &group).await?;
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    if !["preview", "edit", "send"].contains(&form.action.as_str()) {
        return Err(AppError::BadRequest);
    }
    let (topic, body) = (clean(&form.topic), clean(&form.body));
    let mut errors = FieldErrors::new();
    check_text(&mut errors, "topic", &topic, TOPIC_MAX);
    check_text(&mut errors, "body", &body, BODY_MAX);
    let page = |ui, preview, errors| GroupNewPage {
        ui,
        group_id: access.group_id,
        group_name: group_name.clone(),
        topic: form.topic.clone(),
        body: form.body.clone(),
        preview,
        errors,
    };
    if errors.any() || form.action == "edit" {
        work.commit().await?;
        let status = if errors.any() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok(render_with(status, &page(ui, None, errors)));
    }
    let today = crate::db::today();
    let r = recipients::resolve(work.conn(), To::Group(access.group_id), today).await?;
    let print = fingerprint(&r, &topic, &body);
    if form.action == "preview" || form.fingerprint != print || r.reached.is_empty() {
        let named = named_left_out(&mut work, &r).await?;
        let mut errors = FieldErrors::new();
        if form.action == "send" && r.reached.is_empty() {
            errors.add("body", "messages.group.error.nobody");
        } else if form.action == "send" {
            errors.add("fingerprint", "messages.group.error.changed");
        }
        let preview = Preview {
            reached: r.reached.len(),
            by_email: r.reached.iter().filter(|x| x.email.is_some()).count(),
            left_out: named,
            fingerprint: print,
        };
        let subjects: Vec<Uuid> =
            r.reached.iter().map(|x| x.person_id).chain(r.left_out.iter().map(|x| x.person_id)).collect();
        work.audit(&access, Action::Read, Resource::MessageRecipients, Some(access.group_id), &subjects).await?;
        work.commit().await?;
        let status = if errors.any() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok(render_with(status, &page(ui, Some(preview), errors)));
    }

    // One broadcast, and a thread per guardian reached: the sender and that guardian.
    let me = work.actor().person_id;
    let id = Uuid::new_v4();
    let left = i32::try_from(r.left_out.len()).unwrap_or(i32::MAX);
    let reached = i32::try_from(r.reached.len()).unwrap_or(i32::MAX);
    sqlx::query(
        "INSERT INTO broadcasts (tenant_id, id, school_id, group_id, topic, body, sent_by, reached, left_out) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(work.tenant())
    .bind(id)
    .bind(access.school_id)
    .bind(access.group_id)
    .bind(&topic)
    .bind(&body)
    .bind(me)
    .bind(reached)
    .bind(left)
    .execute(&mut *work.conn())
    .await?;
    let threads: Vec<Uuid> = r.reached.iter().map(|_| Uuid::new_v4()).collect();
    let guardians: Vec<Uuid> = r.reached.iter().map(|x| x.person_id).collect();
    let pupils: Vec<Uuid> = r.reached.iter().map(|x| x.pupils[0]).collect();
    sqlx::query(
        "WITH c AS (SELECT * FROM unnest($3::uuid[], $4::uuid[], $5::uuid[]) AS c(thread, guardian, pupil)), \
              t AS (INSERT INTO message_threads (tenant_id, id, school_id, pupil_id, topic, office, started_by, \
                                                 broadcast_id) \
                    SELECT $1, c.thread, $6, c.pupil, $7, $8, $9, $2 FROM c), \
              p AS (INSERT INTO thread_participants (tenant_id, thread_id, person_id, side, last_read_at) \
                    SELECT $1, c.thread, c.guardian, 'home', NULL FROM c \
                    UNION ALL SELECT $1, c.thread, $9, 'school', clock_timestamp() FROM c) \
         INSERT INTO thread_messages (tenant_id, thread_id, author_id, body) SELECT $1, c.thread, $9, $10 FROM c",
    )
    .bind(work.tenant())
    .bind(id)
    .bind(&threads)
    .bind(&guardians)
    .bind(&pupils)
    .bind(access.school_id)
    .bind(&topic)
    .bind(access.office)
    .bind(me)
    .bind(&body)
    .execute(&mut *work.conn())
    .await?;
    for (x, thread) in r.reached.iter().zip(&threads) {
        let Some(address) = &x.email else { continue };
        let to = Notice { person: x.person_id, address, lang: &x.lang };
        notify(&state, &mut work, &to, *thread, &thread.to_string(), access.school_id).await?;
    }
    let mut subjects: Vec<Uuid> = pupils.clone();
    subjects.sort();
    subjects.dedup();
    work.audit(&access, Action::Create, Resource::Broadcast, Some(id), &subjects).await?;
    work.commit().await?;
    Ok(Redirect::to(&format!("/messages/broadcasts/{id}?done=sent")).into_response())
}

// ---------------------------------------------------------------------------------
// A sent group message: who got it, who read it; withdraw.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BroadcastHead {
    pub topic: String,
    pub body: String,
    pub group_name: String,
    pub sent_at: OffsetDateTime,
    pub reached: i32,
    pub left_out: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Copy {
    pub thread_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub read: bool,
    pub answered: bool,
    pub withdrawn: bool,
}

#[derive(askama::Template)]
#[template(path = "messages/broadcast.html")]
pub struct BroadcastPage {
    pub ui: Ui,
    pub id: Uuid,
    pub head: BroadcastHead,
    pub copies: Vec<Copy>,
    pub withdraws: bool,
    pub done: String,
}

impl BroadcastPage {
    pub fn when(&self) -> String {
        local(self.head.sent_at)
    }
    pub fn iso(&self) -> String {
        machine_time(self.head.sent_at)
    }
    pub fn read_count(&self) -> usize {
        self.copies.iter().filter(|c| c.read).count()
    }
    pub fn unread(&self) -> usize {
        self.copies.iter().filter(|c| !c.read && !c.withdrawn).count()
    }
    pub fn counts(&self) -> String {
        tf(
            self.ui.lang,
            "messages.group.counts",
            &[
                ("count", &self.head.reached.to_string()),
                ("read", &self.read_count().to_string()),
                ("left", &self.head.left_out.to_string()),
            ],
        )
    }
}

pub async fn show(mut work: Work, ui: Ui, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Result<Response> {
    let actor = work.actor();
    let access = policy::broadcast_access(work.conn(), &actor, path_id(&id)?).await?;
    let head: BroadcastHead = sqlx::query_as(
        "SELECT b.topic, b.body, g.name AS group_name, b.sent_at, b.reached, b.left_out \
         FROM broadcasts b JOIN groups g ON g.tenant_id = $1 AND g.id = b.group_id \
         WHERE b.tenant_id = $1 AND b.id = $2",
    )
    .bind(work.tenant())
    .bind(access.broadcast_id)
    .fetch_one(&mut *work.conn())
    .await?;
    let copies: Vec<Copy> = sqlx::query_as(
        "SELECT t.id AS thread_id, p.given_name, p.family_name, tp.last_read_at IS NOT NULL AS read, \
                EXISTS (SELECT 1 FROM thread_messages m WHERE m.tenant_id = $1 AND m.thread_id = t.id \
                          AND m.author_id = tp.person_id) AS answered, \
                t.withdrawn_at IS NOT NULL AS withdrawn \
         FROM message_threads t \
         JOIN thread_participants tp ON tp.tenant_id = $1 AND tp.thread_id = t.id AND tp.side = 'home' \
         JOIN persons p ON p.tenant_id = $1 AND p.id = tp.person_id \
         WHERE t.tenant_id = $1 AND t.broadcast_id = $2 ORDER BY p.family_name, p.given_name, t.id",
    )
    .bind(work.tenant())
    .bind(access.broadcast_id)
    .fetch_all(&mut *work.conn())
    .await?;
    let subjects: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT t.pupil_id FROM message_threads t WHERE t.tenant_id = $1 AND t.broadcast_id = $2 ORDER BY 1",
    )
    .bind(work.tenant())
    .bind(access.broadcast_id)
    .fetch_all(&mut *work.conn())
    .await?;
    work.audit(&access, Action::Read, Resource::Broadcast, Some(access.broadcast_id), &subjects).await?;
    work.commit().await?;
    let done = if ["sent", "withdrawn"].contains(&q.done.as_str()) { q.done } else { String::new() };
    let page = BroadcastPage { ui, id: access.broadcast_id, head, copies, withdraws: access.withdraws, done };
    Ok(render_with(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawForm {
    #[serde(default)]
    pub csrf: String,
}

/// Withdraw the copies nobody has read yet; the read ones stay.
pub async fn withdraw(
    mut work: Work,
    Path(id): Path<String>,
    form: std::result::Result<Form<WithdrawForm>, FormRejection>,
) -> Result<Response> {
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let actor = work.actor();
    let access = policy::broadcast_access(work.conn(), &actor, path_id(&id)?).await?;
    policy::broadcast_withdrawal(&access)?;
    let withdrawn: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE message_threads t SET withdrawn_at = clock_timestamp() \
         WHERE t.tenant_id = $1 AND t.broadcast_id = $2 AND t.withdrawn_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM thread_participants tp WHERE tp.tenant_id = $1 AND tp.thread_id = t.id \
                             AND tp.side = 'home' AND tp.last_read_at IS NOT NULL) \
         RETURNING t.id, t.pupil_id",
    )
    .bind(work.tenant())
    .bind(access.broadcast_id)
    .fetch_all(&mut *work.conn())
    .await?;
    let (threads, pupils): (Vec<Uuid>, Vec<Uuid>) = withdrawn.into_iter().unzip();
    if !pupils.is_empty() {
        // Their e-mail notices not sent yet are not sent.
        let keys: Vec<String> = threads.iter().map(Uuid::to_string).collect();
        sqlx::query(
            "DELETE FROM mail_outbox o WHERE o.tenant_id = $1 AND o.kind = 'message_notice' AND o.status = 'pending' \
               AND o.dedupe_key = ANY($2)",
        )
        .bind(work.tenant())
        .bind(&keys)
        .execute(&mut *work.conn())
        .await?;
        sqlx::query(
            "UPDATE broadcasts b SET withdrawn_at = clock_timestamp() \
             WHERE b.tenant_id = $1 AND b.id = $2 AND b.withdrawn_at IS NULL",
        )
        .bind(work.tenant())
        .bind(access.broadcast_id)
        .execute(&mut *work.conn())
        .await?;
        let mut subjects = pupils;
        subjects.sort();
        subjects.dedup();
        work.audit(&access, Action::Update, Resource::Broadcast, Some(access.broadcast_id), &subjects).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/messages/broadcasts/{}?done=withdrawn", access.broadcast_id)).into_response())
}
