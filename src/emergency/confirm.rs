//! Confirming an emergency notice: the link in the SMS and e-mail, and an OK answered
//! by SMS.
//!
//! The link works without signing in: in an emergency a guardian should not have to
//! find their ID-porten app to say "I have seen it". It carries a random token (its
//! SHA-256 is stored) and the municipality's slug, nothing personal. The page shows
//! the school's name and the notice's text, and a button; confirming records when and
//! how, once. An unknown or mistyped token is "not found", the same as no notice.
//!
//! Neither is a request by a signed-in person, so neither takes a `Work`: the link's
//! page reads the one notice the token names, and writes nothing about a pupil.

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::token_hash;
use crate::db::{self, Conn};
use crate::error::{AppError, Result};
use crate::messages::local;
use crate::messages::DoneQuery;
use crate::sms::Number;
use crate::state::AppState;
use crate::web::form::CsrfOnly;
use crate::web::layout::Ui;
use crate::web::render;

/// An OK counts for notices sent within this many hours.
const OK_WINDOW_HOURS: i64 = 72;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Linked {
    notice_id: Uuid,
    person_id: Uuid,
    school_name: String,
    exercise: bool,
    body: String,
    sent_at: OffsetDateTime,
    confirmed_at: Option<OffsetDateTime>,
}

#[derive(askama::Template)]
#[template(path = "emergency/confirm.html")]
pub struct ConfirmPage {
    pub ui: Ui,
    pub action: String,
    pub school_name: String,
    pub exercise: bool,
    pub body: String,
    pub sent: String,
    pub confirmed: bool,
}

/// The municipality and the notice and person a link names; not found for anything else.
async fn linked(state: &AppState, municipality: &str, token: &str) -> Result<(Uuid, Linked)> {
    if !super::token_shaped(token) {
        return Err(AppError::NotFound);
    }
    let (tenant, _) = db::import_tenant(&state.db, municipality).await?.ok_or(AppError::NotFound)?;
    let mut tx = db::begin(&state.db, tenant).await?;
    let row: Option<Linked> = sqlx::query_as(
        "SELECT l.notice_id, l.person_id, s.name AS school_name, n.exercise, n.body, n.sent_at, r.confirmed_at \
         FROM emergency_links l \
         JOIN emergency_notices n ON n.tenant_id = $1 AND n.id = l.notice_id \
         JOIN schools s ON s.tenant_id = $1 AND s.id = n.school_id \
         JOIN emergency_recipients r ON r.tenant_id = $1 AND r.notice_id = l.notice_id AND r.person_id = l.person_id \
         WHERE l.tenant_id = $1 AND l.token_hash = $2",
    )
    .bind(tenant)
    .bind(token_hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((tenant, row.ok_or(AppError::NotFound)?))
}

pub(super) async fn show(
    State(state): State<AppState>,
    ui: Ui,
    Path((municipality, token)): Path<(String, String)>,
    Query(_): Query<DoneQuery>,
) -> Result<Response> {
    let (_, l) = linked(&state, &municipality, &token).await?;
    Ok(render(&ConfirmPage {
        action: format!("/e/{municipality}/{token}"),
        school_name: l.school_name,
        exercise: l.exercise,
        body: l.body,
        sent: local(l.sent_at),
        confirmed: l.confirmed_at.is_some(),
        ui,
    }))
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    Path((municipality, token)): Path<(String, String)>,
    form: std::result::Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response> {
    let (tenant, l) = linked(&state, &municipality, &token).await?;
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let mut tx = db::begin(&state.db, tenant).await?;
    confirm_once(Conn::new(&mut tx, tenant), l.notice_id, &[l.person_id], "link").await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/e/{municipality}/{token}?done=confirmed")).into_response())
}

/// Record the confirmation of `persons` on `notice`, unless they have confirmed already.
async fn confirm_once(mut conn: Conn<'_>, notice: Uuid, persons: &[Uuid], how: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE emergency_recipients SET confirmed_at = now(), confirmed_how = $4 \
         WHERE tenant_id = $1 AND notice_id = $2 AND person_id = ANY($3) AND confirmed_at IS NULL",
    )
    .bind(conn.tenant)
    .bind(notice)
    .bind(persons)
    .bind(how)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

#[derive(Deserialize)]
struct Inbound {
    from: String,
    text: String,
}

/// Whether an answered SMS says OK: `OK`, `ok.`, `Ok takk`, but not `OKSE` or `Nei`.
pub fn says_ok(text: &str) -> bool {
    let t = text.trim_start();
    let Some(rest) = t.get(..2).filter(|p| p.eq_ignore_ascii_case("ok")).map(|_| &t[2..]) else { return false };
    rest.chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// `POST /sms/inbound/{tenant_id}`: an answer to an SMS, signed as delivery reports
/// are. An OK confirms every open notice of the last 72 hours sent to that number in
/// the municipality; anything else is acknowledged and dropped (nobody reads SMS
/// answers: the SMS says to use the link or answer OK).
pub(super) async fn inbound(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let tenant = match crate::sms::from_gateway(&state, &tenant, &headers, &body) {
        Ok(tenant) => tenant,
        Err(status) => return status,
    };
    let Ok(answer) = serde_json::from_slice::<Inbound>(&body) else { return StatusCode::BAD_REQUEST };
    let Some(number) = Number::parse(&answer.from) else { return StatusCode::NO_CONTENT };
    if !says_ok(&answer.text) {
        return StatusCode::NO_CONTENT;
    }
    let stored = async {
        let mut tx = db::begin(&state.db, tenant).await?;
        let n = sqlx::query(
            "UPDATE emergency_recipients r SET confirmed_at = now(), confirmed_how = 'sms' \
             FROM emergency_notices n \
             WHERE r.tenant_id = $1 AND n.tenant_id = $1 AND n.id = r.notice_id AND r.number = $2 \
               AND r.confirmed_at IS NULL AND n.sent_at > now() - make_interval(hours => $3)",
        )
        .bind(tenant)
        .bind(number.as_str())
        .bind(i32::try_from(OK_WINDOW_HOURS).unwrap_or(72))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok::<_, AppError>(n)
    };
    match stored.await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(e) => {
            tracing::error!(error = %e, "sms answer not stored");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::says_ok;

    #[test]
    fn ok_is_ok_in_the_ways_people_write_it() {
        for yes in ["OK", "ok", " Ok takk", "ok.", "OK!", "oK\n"] {
            assert!(says_ok(yes), "{yes:?}");
        }
        for no in ["", "O", "OKSE", "okay", "Nei", "ikke ok", "øk"] {
            assert!(!says_ok(no), "{no:?}");
        }
    }
}
