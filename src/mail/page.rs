//! The school office's view of its outbox: how many messages are waiting, sent and
//! failed, which did not go out (the guardian's name, the address masked, the error
//! category and attempts), and "retry now" for a failed one. Listing recipients is a
//! read of guardians' data and is audited; a retry is audited as a change.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::outbox::{self, ProblemRow, Requeue, StatusCounts};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy;
use crate::timetable::queries::{self as schools_q, SchoolRow};
use crate::web::i18n;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render;
use crate::work::Work;

/// At most this many problem messages are listed (newest first).
const LIST_LIMIT: i64 = 200;

#[derive(askama::Template)]
#[template(path = "mail/schools.html")]
pub struct SchoolsPage {
    pub ui: Ui,
    pub schools: Vec<SchoolRow>,
}

/// Where "E-mail" in the menu leads: the one school's outbox, or a choice of schools.
pub async fn entry(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    if !actor.may_view_mail_outbox() {
        return Err(AppError::NotFound);
    }
    let ids = policy::mail_outbox_schools(work.conn(), &actor).await?;
    let schools = schools_q::schools(work.conn(), &ids).await?;
    work.commit().await?;
    match schools.as_slice() {
        [one] => Ok(Redirect::to(&format!("/schools/{}/mail", one.id)).into_response()),
        _ => Ok(render(&SchoolsPage { ui, schools })),
    }
}

#[derive(askama::Template)]
#[template(path = "mail/outbox.html")]
pub struct OutboxPage {
    pub ui: Ui,
    pub school: SchoolRow,
    pub counts: StatusCounts,
    pub rows: Vec<ProblemRow>,
    pub notice: Option<&'static str>,
}

impl OutboxPage {
    pub fn kind(&self, r: &ProblemRow) -> String {
        let label = self.ui.t(outbox::Kind::label_key(&r.kind));
        match super::weekly::IsoWeek::parse(&r.dedupe_key) {
            Some(w) => {
                let week = i18n::tf(
                    self.ui.lang,
                    "mail.outbox.week",
                    &[("week", &w.week.to_string()), ("year", &w.year.to_string())],
                );
                format!("{label}, {week}")
            }
            None => label.to_owned(),
        }
    }

    /// `k***@example.no`: enough to tell two addresses of a guardian apart.
    pub fn masked(&self, r: &ProblemRow) -> String {
        mask(&r.recipient_address)
    }

    pub fn error(&self, r: &ProblemRow) -> String {
        error_text(&self.ui, r.last_error.as_deref())
    }

    pub fn status(&self, r: &ProblemRow) -> String {
        if r.status == "failed" {
            self.ui.t("mail.outbox.status_failed").to_owned()
        } else {
            self.ui.tf("mail.outbox.status_retrying", "time", &r.next_attempt)
        }
    }

    pub fn n(&self, count: &i64) -> String {
        count.to_string()
    }
}

/// The local part's first letter, stars, and the domain.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// An error category in words (`smtp_451` → "the recipient's mail server refused for
/// now (451)").
pub fn error_text(ui: &Ui, category: Option<&str>) -> String {
    let Some(c) = category else { return String::new() };
    if let Some(code) =
        c.strip_prefix("smtp_").filter(|code| code.len() == 3 && code.chars().all(|d| d.is_ascii_digit()))
    {
        let key = if code.starts_with('4') { "mail.error.smtp_transient" } else { "mail.error.smtp_permanent" };
        return ui.tf(key, "code", code);
    }
    ui.t(match c {
        "connect_failed" => "mail.error.connect_failed",
        "timeout" => "mail.error.timeout",
        "tls_failed" => "mail.error.tls_failed",
        "smtp_protocol" => "mail.error.smtp_protocol",
        "invalid_address" => "mail.error.invalid_address",
        _ => "mail.error.other",
    })
    .to_owned()
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub done: String,
}

/// The outbox of one school.
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(school_id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::mail_outbox_access(&actor, path_id(&school_id)?)?;
    let school =
        schools_q::schools(work.conn(), &[access.school_id]).await?.into_iter().next().ok_or(AppError::NotFound)?;
    let counts = outbox::status_counts(work.conn(), access.school_id).await?;
    let rows = outbox::problems(work.conn(), access.school_id, LIST_LIMIT).await?;
    let mut guardians: Vec<Uuid> = rows.iter().map(|r| r.recipient_id).collect();
    guardians.sort();
    guardians.dedup();
    work.audit(&access, Action::Read, Resource::MailOutbox, Some(access.school_id), &guardians).await?;
    work.commit().await?;
    let notice = match q.done.as_str() {
        "retried" => Some("mail.outbox.retried"),
        "unchanged" => Some("mail.outbox.unchanged"),
        _ => None,
    };
    Ok(render(&OutboxPage { ui, school, counts, rows, notice }))
}

/// "Retry now": a failed message goes back in the queue with a fresh round of
/// attempts. One that is not failed (already retried, or sent since) is left alone.
pub async fn retry(
    mut work: Work,
    Path((school_id, message_id)): Path<(String, String)>,
    form: std::result::Result<Form<crate::web::form::CsrfOnly>, FormRejection>,
) -> Result<Response> {
    let actor = work.actor();
    let access = policy::mail_outbox_access(&actor, path_id(&school_id)?)?;
    let message = path_id(&message_id)?;
    let Form(_) = form.map_err(|_| AppError::BadRequest)?;
    let done = match outbox::requeue(work.conn(), access.school_id, message).await? {
        Requeue::Missing => return Err(AppError::NotFound),
        Requeue::NotFailed => "unchanged",
        Requeue::Requeued { recipient } => {
            work.audit(&access, Action::Update, Resource::MailMessage, Some(message), &[recipient]).await?;
            "retried"
        }
    };
    work.commit().await?;
    Ok(Redirect::to(&format!("/schools/{}/mail?done={done}", access.school_id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask("kari.nordmann@example.no"), "k***@example.no");
        assert_eq!(mask("æ@example.no"), "æ***@example.no");
        assert_eq!(mask("nonsense"), "***");
    }
}
