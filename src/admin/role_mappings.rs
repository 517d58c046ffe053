//! The role mapping (`/admin/role-mappings`): the tenant's table from (workplace kind,
//! four-digit position code) to a staff role, which decides everyone's access.
//!
//! Roles are derived afresh on every request from the employments and this table
//! (`auth::session`), so a change applies from each person's next page view; a person
//! left with no role at all has their session ended. Each change is one transaction
//! with its audit event: whole or nothing. An administrator cannot remove or re-map
//! the mapping their own administrator access comes from (the policy says so).

use crate::db::Conn;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::audit::{Action, Resource};
use crate::domain::role::{Role, WorkplaceKind};
use crate::error::{AppError, Result};
use crate::policy;
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{render, render_with};
use crate::work::Work;

const PATH: &str = "/admin/role-mappings";

pub fn router() -> Router<AppState> {
    // Paths written out: the authorization matrix test finds routes by reading them.
    Router::new().route("/admin/role-mappings", get(list).post(save)).route("/admin/role-mappings/remove", post(remove))
}

/// A mapping as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MappingRow {
    pub workplace_kind: String,
    pub position_code: String,
    pub role: String,
}

impl MappingRow {
    pub fn kind_key(&self) -> &'static str {
        WorkplaceKind::from_code(&self.workplace_kind).map_or("admin.role_mappings.unknown", WorkplaceKind::label_key)
    }
    pub fn role_key(&self) -> &'static str {
        Role::from_code(&self.role).map_or("admin.role_mappings.unknown", Role::label_key)
    }
    /// Id of the row's remove button (the error summary links to it).
    pub fn button_id(&self) -> String {
        format!("remove-{}-{}", self.workplace_kind, self.position_code)
    }
}

async fn mappings(mut conn: Conn<'_>) -> Result<Vec<MappingRow>> {
    Ok(sqlx::query_as(
        "SELECT workplace_kind, position_code, role FROM role_mappings WHERE tenant_id = $1 \
         ORDER BY workplace_kind DESC, position_code",
    )
    .bind(conn.tenant)
    .fetch_all(&mut *conn)
    .await?)
}

/// The add/change form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub role: String,
}

/// A position code: exactly four ASCII digits.
fn parse_code(raw: &str) -> Option<&str> {
    let code = raw.trim();
    (code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// A valid mapping, or the errors by field.
pub fn parse_mapping(form: &MappingForm) -> std::result::Result<(WorkplaceKind, String, Role), FieldErrors> {
    let mut e = FieldErrors::new();
    let kind = WorkplaceKind::from_code(form.kind.trim());
    if kind.is_none() {
        e.add("kind", "admin.role_mappings.error.kind");
    }
    let code = parse_code(&form.code);
    if code.is_none() {
        e.add("code", "admin.role_mappings.error.code");
    }
    let role = Role::from_code(form.role.trim());
    match (kind, role) {
        (_, None) => {
            e.add("role", "admin.role_mappings.error.role");
        }
        // A school role held municipality-wide, or the reverse, grants nothing: the
        // policy scopes school roles to the school and the others to the tenant.
        (Some(WorkplaceKind::Municipal), Some(r)) if r.is_school_scoped() => {
            e.add("role", "admin.role_mappings.error.role_school_only");
        }
        (Some(WorkplaceKind::School), Some(r)) if !r.is_school_scoped() => {
            e.add("role", "admin.role_mappings.error.role_municipal_only");
        }
        _ => {}
    }
    match (kind, code, role) {
        (Some(k), Some(c), Some(r)) if !e.any() => Ok((k, c.to_owned(), r)),
        _ => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "admin/role_mappings.html")]
pub struct RoleMappingsPage {
    pub ui: Ui,
    pub rows: Vec<MappingRow>,
    pub form: MappingForm,
    pub errors: FieldErrors,
    pub status_key: Option<&'static str>,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub roles: Vec<(&'static str, &'static str)>,
}

impl RoleMappingsPage {
    fn new(ui: Ui, rows: Vec<MappingRow>, form: MappingForm) -> Self {
        Self {
            ui,
            rows,
            form,
            errors: FieldErrors::new(),
            status_key: None,
            kinds: WorkplaceKind::ALL.iter().map(|k| (k.code(), k.label_key())).collect(),
            roles: Role::ALL.iter().map(|r| (r.code(), r.label_key())).collect(),
        }
    }
    pub fn kind_selected(&self, code: &str) -> bool {
        self.form.kind.trim() == code
    }
    pub fn role_selected(&self, code: &str) -> bool {
        self.form.role.trim() == code
    }
    pub fn count(&self) -> String {
        self.rows.len().to_string()
    }
}

/// What the last change did (shown after the redirect; no personal data).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    /// Fill the form with an existing mapping ("Change" links).
    #[serde(default)]
    kind: String,
    #[serde(default)]
    code: String,
}

fn status_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "admin.role_mappings.status.created",
        "updated" => "admin.role_mappings.status.updated",
        "removed" => "admin.role_mappings.status.removed",
        "unchanged" => "admin.role_mappings.status.unchanged",
        _ => return None,
    })
}

fn done(status: &str) -> Response {
    Redirect::to(&format!("{PATH}?status={status}")).into_response()
}

async fn list(mut work: Work, ui: Ui, Query(q): Query<ListQuery>) -> Result<Response> {
    policy::role_mapping_admin(&work.actor())?;
    let rows = mappings(work.conn()).await?;
    work.commit().await?;
    // "Change" fills the form with the mapping's current values.
    let form = rows
        .iter()
        .find(|r| r.workplace_kind == q.kind && r.position_code == q.code)
        .map(|r| MappingForm { kind: r.workplace_kind.clone(), code: r.position_code.clone(), role: r.role.clone() })
        .unwrap_or_default();
    let mut page = RoleMappingsPage::new(ui, rows, form);
    page.status_key = status_key(&q.status);
    Ok(render(&page))
}

/// Re-render the page with errors (422); nothing was changed (the work is dropped
/// uncommitted).
async fn refuse(mut work: Work, ui: Ui, form: MappingForm, errors: FieldErrors) -> Result<Response> {
    let rows = mappings(work.conn()).await?;
    let mut page = RoleMappingsPage::new(ui, rows, form);
    page.errors = errors;
    Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// Add a mapping, or give an existing (kind, code) another role.
async fn save(mut work: Work, ui: Ui, Form(form): Form<MappingForm>) -> Result<Response> {
    let actor = work.actor();
    let admin = policy::role_mapping_admin(&actor)?;
    let (kind, code, role) = match parse_mapping(&form) {
        Ok(m) => m,
        Err(errors) => return refuse(work, ui, form, errors).await,
    };
    let current: Option<String> = sqlx::query_scalar(
        "SELECT role FROM role_mappings WHERE tenant_id = $1 AND workplace_kind = $2 AND position_code = $3 FOR UPDATE",
    )
    .bind(work.tenant())
    .bind(kind.code())
    .bind(&code)
    .fetch_optional(&mut *work.conn())
    .await?;
    if current.as_deref() == Some(role.code()) {
        work.commit().await?;
        return Ok(done("unchanged"));
    }
    if current.is_some() && !policy::keeps_own_admin_access(work.conn(), &actor, kind, &code, Some(role)).await? {
        let mut errors = FieldErrors::new();
        errors.add("role", "admin.role_mappings.error.own_access");
        return refuse(work, ui, form, errors).await;
    }
    let action = if current.is_some() {
        sqlx::query(
            "UPDATE role_mappings SET role = $4 WHERE tenant_id = $1 AND workplace_kind = $2 AND position_code = $3",
        )
        .bind(work.tenant())
        .bind(kind.code())
        .bind(&code)
        .bind(role.code())
        .execute(&mut *work.conn())
        .await?;
        Action::Update
    } else {
        let inserted = sqlx::query(
            "INSERT INTO role_mappings (tenant_id, workplace_kind, position_code, role) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(actor.tenant_id)
        .bind(kind.code())
        .bind(&code)
        .bind(role.code())
        .execute(&mut *work.conn())
        .await?;
        if inserted.rows_affected() == 0 {
            // Someone added the same mapping a moment ago.
            return Err(AppError::Conflict);
        }
        Action::Create
    };
    // A mapping concerns no person's data and has no id of its own; the event says
    // who changed the mapping, how and when.
    work.audit(&admin, action, Resource::RoleMapping, None, &[]).await?;
    work.commit().await?;
    Ok(done(if action == Action::Create { "created" } else { "updated" }))
}

#[derive(Debug, Default, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub code: String,
}

async fn remove(mut work: Work, ui: Ui, Form(form): Form<RemoveForm>) -> Result<Response> {
    let actor = work.actor();
    let admin = policy::role_mapping_admin(&actor)?;
    // The buttons carry values from the table; anything else is not our form.
    let kind = WorkplaceKind::from_code(&form.kind).ok_or(AppError::BadRequest)?;
    let code = parse_code(&form.code).ok_or(AppError::BadRequest)?.to_owned();
    if !policy::keeps_own_admin_access(work.conn(), &actor, kind, &code, None).await? {
        let button = format!("remove-{}-{code}", kind.code());
        // The message stands by the row's remove button, and is kept under its id.
        let mut errors = FieldErrors::new();
        errors.add(button, "admin.role_mappings.error.own_access");
        return refuse(work, ui, MappingForm::default(), errors).await;
    }
    let removed =
        sqlx::query("DELETE FROM role_mappings WHERE tenant_id = $1 AND workplace_kind = $2 AND position_code = $3")
            .bind(work.tenant())
            .bind(kind.code())
            .bind(&code)
            .execute(&mut *work.conn())
            .await?;
    if removed.rows_affected() == 0 {
        // Already gone (another administrator, or a second click).
        return Err(AppError::Conflict);
    }
    work.audit(&admin, Action::Delete, Resource::RoleMapping, None, &[]).await?;
    work.commit().await?;
    Ok(done("removed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str, code: &str, role: &str) -> MappingForm {
        MappingForm { kind: kind.into(), code: code.into(), role: role.into() }
    }

    #[test]
    fn a_good_mapping_parses() {
        let (k, c, r) = parse_mapping(&form("school", " 7065 ", "office_clerk")).unwrap();
        assert_eq!((k, c.as_str(), r), (WorkplaceKind::School, "7065", Role::OfficeClerk));
        assert!(parse_mapping(&form("municipal", "7072", "dpo")).is_ok());
    }

    #[test]
    fn bad_fields_are_reported_each_by_itself() {
        let e = parse_mapping(&form("hospital", "70a5", "janitor")).unwrap_err();
        assert_eq!(e.key("kind"), Some("admin.role_mappings.error.kind"));
        assert_eq!(e.key("code"), Some("admin.role_mappings.error.code"));
        assert_eq!(e.key("role"), Some("admin.role_mappings.error.role"));
        for code in ["706", "70655", "٧٠٦٥", "", "-706"] {
            assert!(parse_mapping(&form("school", code, "teacher")).unwrap_err().has("code"), "{code}");
        }
    }

    #[test]
    fn roles_must_fit_the_kind_of_workplace() {
        let e = parse_mapping(&form("municipal", "7065", "teacher")).unwrap_err();
        assert_eq!(e.key("role"), Some("admin.role_mappings.error.role_school_only"));
        let e = parse_mapping(&form("school", "7070", "system_admin")).unwrap_err();
        assert_eq!(e.key("role"), Some("admin.role_mappings.error.role_municipal_only"));
    }
}
