//! The unit of work of a signed-in request: who is asking, a connection in their
//! municipality's transaction, and the audit log, in one value that every feature's
//! handler takes as its first argument.
//!
//! ```ignore
//! async fn show(mut work: Work, ui: Ui, Path(id): Path<String>) -> Result<Response> {
//!     let access = policy::pupil_card_access(work.conn(), &work.actor(), id).await?;
//!     let card = queries::card(work.conn(), &access).await?;
//!     work.audit(&access, Action::Read, Resource::PupilCard, Some(id), &[id]).await?;
//!     work.commit().await?;
//!     Ok(render(&CardPage { ui, card }))
//! }
//! ```
//!
//! Extracting a `Work` requires a live session (otherwise the visitor is sent to sign
//! in) and begins the transaction bound to the actor's municipality, so a handler never
//! opens one itself. An actor from the session cache is checked first, in that
//! transaction (`session::check`): a session that has ended since is refused as not
//! signed in, and an actor whose access has changed is read again, so the handler and
//! the page's layout see it as it is now. [`Work::audit`] takes the policy's answer ([`Access`]: the role the
//! actor acts in and why) and writes the event into the same transaction, so the work
//! and its audit row are committed together by [`Work::commit`], or neither is: a
//! handler that returns early (an error, a refusal) drops the `Work` and everything it
//! wrote is rolled back.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Action, Event, Resource};
use crate::auth::session::{self, Checked, SessionCache};
use crate::auth::Ctx;
use crate::db::{self, Tx};
use crate::error::{AppError, Result};
use crate::policy::{Access, Actor};
use crate::web::i18n::Lang;
use crate::web::request::RequestContext;

/// A signed-in request's transaction (see the module documentation).
pub struct Work {
    ctx: Ctx,
    tx: Tx,
}

impl Work {
    /// Begin the unit of work of `ctx` (for the rare handler that needs the pool first),
    /// checking a cached actor first (see the module documentation).
    pub async fn begin(pool: &PgPool, sessions: &SessionCache, mut ctx: Ctx) -> Result<Self> {
        let mut tx = db::begin(pool, ctx.actor.tenant_id).await?;
        if let Some(cached) = ctx.cached.take() {
            match session::check(db::Conn::new(&mut tx, ctx.actor.tenant_id), sessions, &ctx.actor, cached).await? {
                Checked::Current => {}
                Checked::Renewed(loaded) => ctx.actor = loaded.actor,
                Checked::Ended => {
                    // The session is ended in this transaction; keep that.
                    tx.commit().await?;
                    return Err(AppError::Unauthenticated);
                }
            }
        }
        Ok(Self { ctx, tx })
    }

    /// Begin as [`Work::begin`] for a request, and let the request's context (the page's
    /// layout) see the actor as the check found it.
    async fn begin_for(parts: &mut Parts, pool: &PgPool, sessions: &SessionCache, ctx: Ctx) -> Result<Self> {
        let before = ctx.actor.clone();
        let begun = Self::begin(pool, sessions, ctx).await;
        if let Some(rc) = parts.extensions.get_mut::<RequestContext>() {
            let found = match &begun {
                Ok(work) if !Arc::ptr_eq(&work.ctx.actor, &before) => Some(Some(work.ctx.actor.clone())),
                Err(AppError::Unauthenticated) => Some(None),
                _ => None,
            };
            if let Some(found) = found {
                rc.actor = found.clone();
                // Set once: only the first `Work` of a request checks (`cached` is taken).
                let _ = rc.checked.set(found);
            }
            rc.cached = None;
        }
        begun
    }

    /// The signed-in person as the policy sees them.
    pub fn actor(&self) -> Arc<Actor> {
        self.ctx.actor.clone()
    }

    /// The request's signed-in context (actor, client address, language).
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// The municipality the work is bound to (the first parameter of every query).
    pub fn tenant(&self) -> Uuid {
        self.ctx.actor.tenant_id
    }

    pub fn lang(&self) -> Lang {
        self.ctx.lang
    }

    /// The connection, inside the municipality's transaction, with the municipality
    /// every query names (see [`db::Conn`]).
    pub fn conn(&mut self) -> db::Conn<'_> {
        db::Conn::new(&mut self.tx, self.ctx.actor.tenant_id)
    }

    /// Record that the actor did `action` to `resource` (with `subjects`, the persons
    /// whose data it concerns), in the role and for the purpose the policy's `access`
    /// answer gives. Written in this transaction: it commits with the work.
    pub async fn audit(
        &mut self,
        access: &impl Access,
        action: Action,
        resource: Resource,
        resource_id: Option<Uuid>,
        subjects: &[Uuid],
    ) -> Result<()> {
        let actor = &self.ctx.actor;
        let role = access.acting_as().map_or(actor.audience.code(), |r| r.code());
        audit::insert(
            &mut self.tx,
            actor.tenant_id,
            Some(actor.person_id),
            Some(role),
            Some(actor.session_id),
            self.ctx.ip.as_deref(),
            Event { action, resource, resource_id, subjects, purpose: access.purpose() },
        )
        .await
    }

    /// Commit the work and its audit rows together.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl<S> FromRequestParts<S> for Work
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Arc<SessionCache>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = <Ctx as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Work::begin_for(parts, &PgPool::from_ref(state), &Arc::<SessionCache>::from_ref(state), ctx).await
    }
}

/// `Option<Work>`: `None` for a visitor who is not signed in (the start page).
impl<S> OptionalFromRequestParts<S> for Work
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Arc<SessionCache>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        match <Ctx as OptionalFromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(Some(ctx)) => {
                match Work::begin_for(parts, &PgPool::from_ref(state), &Arc::<SessionCache>::from_ref(state), ctx).await
                {
                    Ok(work) => Ok(Some(work)),
                    // The cached session has ended: as for a visitor not signed in.
                    Err(AppError::Unauthenticated) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Where a transaction may be begun, or an audit event built, by hand: the spine
    /// itself, signing in and out (before and after a `Work`), and the work Tavle does
    /// on its own outside requests (imports run from the command line, the mail jobs).
    const OUTSIDE_REQUESTS: [&str; 18] = [
        "src/db/",
        "src/work.rs",
        "src/audit/",
        "src/auth/",
        "src/hr/import.rs",
        "src/assessment/subjects_import/apply.rs",
        "src/assessment/exams/import.rs",
        "src/timetable/import/mod.rs",
        "src/folkeregister/mod.rs",
        "src/krr/mod.rs",
        "src/exchanges/command.rs",
        "src/districts/mod.rs",
        "src/mail/weekly.rs",
        "src/mail/delivery.rs",
        "src/sms/delivery.rs",
        // The gateway's delivery reports: no person, no session, nothing of a pupil's.
        "src/sms/webhook.rs",
        // An emergency notice's link (no sign-in) and an OK answered by SMS.
        "src/emergency/confirm.rs",
        "src/cli.rs",
    ];

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every handler takes a `Work`: none opens a transaction (`db::begin`) or builds an
    /// audit `Event` itself, so the audit write and the work always commit together.
    #[test]
    fn no_handler_opens_a_transaction_or_builds_an_audit_event() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        let mut found = Vec::new();
        for file in files {
            let rel = file.strip_prefix(root).expect("under the crate").to_string_lossy().replace('\\', "/");
            if OUTSIDE_REQUESTS.iter().any(|allowed| rel.starts_with(allowed)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("read");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                let event = code
                    .match_indices("Event {")
                    .any(|(i, _)| !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if code.contains("db::begin") || code.contains("audit::insert") || event {
                    found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(found.is_empty(), "take a `Work` instead:\n{}", found.join("\n"));
    }
}
