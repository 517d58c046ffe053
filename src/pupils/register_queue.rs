//! The office's queue of what the population register import did not apply by itself
//! (`folkeregister`): a record that may be someone Tavle has under another number, a
//! changed number, two numbers that are two persons in Tavle, and the death or move out
//! of a pupil or guardian. The office decides each item with an outcome; a decision
//! that changes a number keeps the earlier one in `person_history` and is audited.
//! The register's numbers are shown masked.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::db::Conn;
use crate::domain::date::display_date;
use crate::domain::national_id::NationalId;
use crate::error::{AppError, Result};
use crate::policy::{self, RegisterQueueAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The outcomes the office may choose for an item of each kind.
pub fn outcomes(kind: &str) -> &'static [&'static str] {
    match kind {
        "possible_duplicate" => &["same_person", "different_persons"],
        "id_change" => &["number_changed", "noted"],
        _ => &["noted"],
    }
}

/// At most this many items on the page, oldest first.
const SHOWN: i64 = 200;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: Uuid,
    pub kind: String,
    pub national_id: String,
    pub person_id: Uuid,
    pub school_id: Option<Uuid>,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Date,
    pub raised_at: OffsetDateTime,
    pub resolved: bool,
    pub tavle_given_name: String,
    pub tavle_family_name: String,
    pub tavle_national_id: String,
    pub is_pupil: bool,
    pub school: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "pupils/register_queue.html")]
pub struct RegisterQueuePage {
    pub ui: Ui,
    pub rows: Vec<QueueRow>,
    pub errors: FieldErrors,
    pub done: bool,
}

impl RegisterQueuePage {
    pub fn kind(&self, r: &QueueRow) -> &'static str {
        self.ui.t(&format!("register_queue.kind.{}", r.kind))
    }
    pub fn outcomes(&self, r: &QueueRow) -> Vec<(&'static str, &'static str)> {
        outcomes(&r.kind).iter().map(|o| (*o, self.ui.t(&format!("register_queue.outcome.{o}")))).collect()
    }
    pub fn masked(&self, nid: &str) -> String {
        NationalId::parse(nid).map(|n| n.masked()).unwrap_or_else(|_| "***********".to_owned())
    }
    pub fn date(&self, d: &Date) -> String {
        display_date(*d)
    }
    pub fn raised(&self, r: &QueueRow) -> String {
        display_date(crate::domain::calendar::oslo_date(r.raised_at))
    }
    pub fn field(&self, r: &QueueRow) -> String {
        format!("outcome-{}", r.id)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    pub done: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    pub outcome: String,
}

const ITEM_SQL: &str = "SELECT q.id, q.kind, q.national_id, q.person_id, q.school_id, q.given_name, q.family_name, \
        q.birth_date, q.raised_at, q.resolved_at IS NOT NULL AS resolved, \
        p.given_name AS tavle_given_name, p.family_name AS tavle_family_name, p.national_id AS tavle_national_id, \
        EXISTS (SELECT 1 FROM pupils pu WHERE pu.tenant_id = $1 AND pu.person_id = q.person_id) AS is_pupil, \
        s.name AS school \
     FROM register_queue q \
     JOIN persons p ON p.tenant_id = q.tenant_id AND p.id = q.person_id \
     LEFT JOIN schools s ON s.tenant_id = q.tenant_id AND s.id = q.school_id \
     WHERE q.tenant_id = $1 AND p.tenant_id = $1 ";

/// The open items the actor sees, oldest first.
async fn open_items(mut conn: Conn<'_>, access: &RegisterQueueAccess) -> Result<Vec<QueueRow>> {
    Ok(sqlx::query_as(&format!(
        "{ITEM_SQL} AND q.resolved_at IS NULL AND ($2::uuid[] IS NULL OR q.school_id = ANY($2)) \
         ORDER BY q.raised_at, q.id LIMIT $3"
    ))
    .bind(conn.tenant)
    .bind(access.schools.as_deref())
    .bind(SHOWN)
    .fetch_all(&mut *conn)
    .await?)
}

/// One item, open or decided, locked for the decision.
async fn item(mut conn: Conn<'_>, id: Uuid) -> Result<Option<QueueRow>> {
    Ok(sqlx::query_as(&format!("{ITEM_SQL} AND q.id = $2 FOR UPDATE OF q"))
        .bind(conn.tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

fn subjects(rows: &[QueueRow]) -> Vec<Uuid> {
    let mut s: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    s.sort_unstable();
    s.dedup();
    s
}

pub async fn show(mut work: Work, ui: Ui, Query(q): Query<QueueQuery>) -> Result<Response> {
    let access = policy::register_queue_access(&work.actor())?;
    let rows = open_items(work.conn(), &access).await?;
    work.audit(&access, Action::Read, Resource::RegisterQueue, None, &subjects(&rows)).await?;
    work.commit().await?;
    let page = RegisterQueuePage { ui, rows, errors: FieldErrors::new(), done: q.done == "resolved" };
    Ok(render_with(StatusCode::OK, &page))
}

/// Decide one item.
pub async fn resolve(
    mut work: Work,
    ui: Ui,
    Path(item): Path<String>,
    form: std::result::Result<Form<ResolveForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let item = path_id(&item)?;
    let access = policy::register_queue_access(&work.actor())?;
    let row = match self::item(work.conn(), item).await? {
        Some(r) if access.sees(r.school_id) => r,
        _ => return Err(AppError::NotFound),
    };
    if row.resolved {
        // Decided already (a second click, a colleague): nothing more to do.
        work.commit().await?;
        return Ok(Redirect::to("/pupils/register-queue?done=resolved").into_response());
    }
    let field = format!("outcome-{}", row.id);
    let mut errors = FieldErrors::new();
    let outcome = outcomes(&row.kind).iter().find(|o| **o == form.outcome.trim()).copied();
    let taken = matches!(outcome, Some("same_person" | "different_persons" | "number_changed"))
        && number_taken(work.conn(), &row.national_id).await?;
    match outcome {
        None => {
            errors.add(field.clone(), "register_queue.error.outcome");
        }
        Some(_) if taken => {
            errors.add(field.clone(), "register_queue.error.taken");
        }
        Some(_) => {}
    }
    let Some(outcome) = outcome.filter(|_| !errors.any()) else {
        let rows = open_items(work.conn(), &access).await?;
        work.commit().await?;
        let page = RegisterQueuePage { ui, rows, errors, done: false };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let by = work.actor().person_id;
    let mut subjects = vec![row.person_id];
    match outcome {
        "same_person" | "number_changed" => change_number(work.conn(), row.person_id, &row.national_id).await?,
        "different_persons" => subjects.push(create_person(work.conn(), &row).await?),
        _ => {}
    }
    sqlx::query(
        "UPDATE register_queue SET resolved_at = now(), resolved_by = $3, outcome = $4 \
         WHERE tenant_id = $1 AND id = $2 AND resolved_at IS NULL",
    )
    .bind(work.tenant())
    .bind(row.id)
    .bind(by)
    .bind(outcome)
    .execute(&mut *work.conn())
    .await?;
    work.audit(&access, Action::Update, Resource::RegisterQueue, Some(row.id), &subjects).await?;
    work.commit().await?;
    Ok(Redirect::to("/pupils/register-queue?done=resolved").into_response())
}

async fn number_taken(mut conn: Conn<'_>, national_id: &str) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM persons WHERE tenant_id = $1 AND national_id = $2)")
        .bind(conn.tenant)
        .bind(national_id)
        .fetch_one(&mut *conn)
        .await?)
}

/// Give the person the register's number, keeping the one before in the history.
async fn change_number(mut conn: Conn<'_>, person: Uuid, national_id: &str) -> Result<()> {
    super::queries::keep_person_history(conn.re(), &[person], &[true], "office").await?;
    sqlx::query("UPDATE persons SET national_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2")
        .bind(conn.tenant)
        .bind(person)
        .bind(national_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A person of their own for the register's record (the next import fills in the rest).
async fn create_person(mut conn: Conn<'_>, row: &QueueRow) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO persons (tenant_id, national_id, given_name, family_name, birth_date) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(&row.national_id)
    .bind(&row.given_name)
    .bind(&row.family_name)
    .bind(row.birth_date)
    .fetch_one(&mut *conn)
    .await?)
}
