//! The school office's lists for use outside Tavle (issue 18, point 11), each with its
//! purpose stated on the page and recorded in the audit row of every download:
//!
//! - a class list (`/groups/{id}/members.csv`): names and grade, for the class's
//!   teachers and the school's own use; no national id, no address, no contact detail;
//! - the guardians' addresses for letters on paper (`/schools/{id}/letters.csv`, a mail
//!   merge): the guardians the school may write to about each pupil (parental
//!   responsibility, no restriction, the child's whereabouts not kept from them, neither
//!   deceased: `policy::guardianship::writes_to`), never a protected address: a guardian
//!   whose address is protected, or who has none, is left out and counted on the page,
//!   for the office to reach another way.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::LazyLock;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::db::Conn;
use crate::error::{AppError, Result};
use crate::policy::{self, guardianship, ExportAccess, Purpose};
use crate::web::layout::Ui;
use crate::web::{csv, path_id, render_with};
use crate::work::Work;

/// A class of the school year, for the page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassLink {
    pub id: Uuid,
    pub name: String,
    pub members: i64,
}

#[derive(askama::Template)]
#[template(path = "groups/exports.html")]
pub struct ExportsPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    pub classes: Vec<ClassLink>,
    /// Guardians left out of the letters: a protected address, or none.
    pub left_out: i64,
}

/// One guardian's letter line.
#[derive(Debug, Clone, sqlx::FromRow)]
struct LetterRow {
    pupil_id: Uuid,
    pupil: String,
    class: Option<String>,
    guardian_id: Uuid,
    guardian: String,
    street: Option<String>,
    postal_code: Option<String>,
    town: Option<String>,
    /// A protected address, or none: not in the file.
    left_out: bool,
}

static LETTERS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT c.id AS pupil_id, c.given_name || ' ' || c.family_name AS pupil, \
           (SELECT bg.name FROM group_memberships m JOIN groups bg ON bg.tenant_id = $1 AND bg.id = m.group_id \
              WHERE m.tenant_id = $1 AND m.pupil_id = c.id AND bg.kind = 'base' AND m.from_date <= tavle_today() \
                AND (m.to_date IS NULL OR m.to_date > tavle_today()) LIMIT 1) AS class, \
           gp.id AS guardian_id, gp.given_name || ' ' || gp.family_name AS guardian, \
           CASE WHEN gp.address_protection = 'none' THEN gp.street_address END AS street, \
           CASE WHEN gp.address_protection = 'none' THEN gp.postal_code::text END AS postal_code, \
           CASE WHEN gp.address_protection = 'none' THEN gp.postal_town END AS town, \
           (gp.address_protection <> 'none' OR gp.street_address IS NULL OR gp.postal_code IS NULL) AS left_out \
         FROM enrolments e \
         JOIN persons c ON c.tenant_id = $1 AND c.id = e.pupil_id \
         JOIN guardianships g ON g.tenant_id = $1 AND g.pupil_id = e.pupil_id \
         JOIN persons gp ON gp.tenant_id = $1 AND gp.id = g.guardian_id \
         WHERE e.tenant_id = $1 AND e.school_id = $2 AND e.from_date <= tavle_today() \
           AND (e.to_date IS NULL OR e.to_date > tavle_today()) AND {writes} \
         ORDER BY class NULLS LAST, c.family_name, c.given_name, c.id, gp.family_name, gp.given_name, gp.id",
        writes = guardianship::writes_to("g", "c", "tavle_today()")
    )
});

async fn letters(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<LetterRow>> {
    Ok(sqlx::query_as(&LETTERS_SQL).bind(conn.tenant).bind(school).fetch_all(&mut *conn).await?)
}

/// How many guardians the letters leave out, counted in the database (the page names nobody).
static LEFT_OUT_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT count(*) FILTER (WHERE l.left_out) FROM ({}) l", LETTERS_SQL.as_str()));

async fn left_out(mut conn: Conn<'_>, school: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar(&LEFT_OUT_SQL).bind(conn.tenant).bind(school).fetch_one(&mut *conn).await?)
}

async fn classes(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<ClassLink>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = g.id \
              AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())) AS members \
         FROM groups g JOIN school_years y ON y.tenant_id = $1 AND y.id = g.school_year_id \
         WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.kind = 'base' AND g.closed_on IS NULL \
           AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         ORDER BY g.grade_level, g.name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}

/// The exports page: what each list holds and is for. It names no pupil (counts only).
pub async fn show(mut work: Work, ui: Ui, Path(school): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let access = policy::school_export_access(&actor, path_id(&school)?, Purpose::LetterMailing)?;
    let school =
        crate::groups::queries::schools(work.conn(), &[access.school_id]).await?.pop().ok_or(AppError::NotFound)?;
    let classes = classes(work.conn(), access.school_id).await?;
    let left_out = left_out(work.conn(), access.school_id).await?;
    work.commit().await?;
    let page = ExportsPage { ui, school_id: access.school_id, school_name: school.name, classes, left_out };
    Ok(render_with(StatusCode::OK, &page))
}

/// The guardians' addresses for letters on paper, without a protected address.
pub async fn letters_csv(mut work: Work, ui: Ui, Path(school): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let access: ExportAccess = policy::school_export_access(&actor, path_id(&school)?, Purpose::LetterMailing)?;
    let rows: Vec<LetterRow> =
        letters(work.conn(), access.school_id).await?.into_iter().filter(|r| !r.left_out).collect();
    let mut subjects: Vec<Uuid> = rows.iter().flat_map(|r| [r.pupil_id, r.guardian_id]).collect();
    subjects.sort_unstable();
    subjects.dedup();
    work.audit(&access, Action::Export, Resource::LetterAddresses, Some(access.school_id), &subjects).await?;
    work.commit().await?;
    let header = [
        ui.t("exports.col.pupil"),
        ui.t("exports.col.class"),
        ui.t("exports.col.guardian"),
        ui.t("exports.col.street"),
        ui.t("exports.col.postal_code"),
        ui.t("exports.col.town"),
    ]
    .join(";");
    let lines = rows.into_iter().map(|r| {
        vec![
            r.pupil,
            r.class.unwrap_or_default(),
            r.guardian,
            r.street.unwrap_or_default(),
            r.postal_code.unwrap_or_default(),
            r.town.unwrap_or_default(),
        ]
    });
    csv::attachment("letters", &header, lines)
}

/// A class list: names and grade.
pub async fn class_csv(mut work: Work, ui: Ui, Path(group): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let office = policy::group_access(work.conn(), &actor, path_id(&group)?).await?;
    let access = policy::school_export_access(&actor, office.school_id, Purpose::ClassList)?;
    let group = super::queries::group(work.conn(), path_id(&group)?, false).await?.ok_or(AppError::NotFound)?;
    let members = super::queries::members(work.conn(), group.id).await?;
    let subjects: Vec<Uuid> = members.iter().map(|m| m.pupil_id).collect();
    work.audit(&access, Action::Export, Resource::GroupMembers, Some(group.id), &subjects).await?;
    work.commit().await?;
    let header = [
        ui.t("exports.col.family_name"),
        ui.t("exports.col.given_name"),
        ui.t("exports.col.grade"),
        ui.t("exports.col.group"),
    ]
    .join(";");
    let name = group.name.clone();
    let lines = members.into_iter().map(move |m| {
        vec![m.family_name, m.given_name, m.grade_level.map(|g| g.to_string()).unwrap_or_default(), name.clone()]
    });
    csv::attachment("class-list", &header, lines)
}
