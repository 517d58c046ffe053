//! Who needs letters on paper: the guardians Tavle would write to about a pupil of the
//! office's schools (parental responsibility, no restriction, the child's whereabouts
//! not kept from them) but cannot reach digitally, because they are reserved against
//! digital communication in KRR or Tavle has no e-mail address for them. Names only:
//! a letter's address is taken where it is kept, never from a list (a protected address
//! must not end up in one).

use axum::http::StatusCode;
use axum::response::Response;
use std::sync::LazyLock;
use uuid::Uuid;

use crate::audit::{Action, Resource};
use crate::db::Conn;
use crate::error::Result;
use crate::policy::{self, guardianship, RegisterQueueAccess};
use crate::web::layout::Ui;
use crate::web::render_with;
use crate::work::Work;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaperRow {
    pub school: String,
    pub pupil_id: Uuid,
    pub pupil_given_name: String,
    pub pupil_family_name: String,
    pub guardian_id: Uuid,
    pub guardian_given_name: String,
    pub guardian_family_name: String,
    pub reserved: bool,
}

#[derive(askama::Template)]
#[template(path = "pupils/paper.html")]
pub struct PaperPage {
    pub ui: Ui,
    pub rows: Vec<PaperRow>,
}

impl PaperPage {
    pub fn reason(&self, r: &PaperRow) -> &'static str {
        self.ui.t(if r.reserved { "paper.reason.reserved" } else { "paper.reason.no_email" })
    }
}

static PAPER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT s.name AS school, c.id AS pupil_id, c.given_name AS pupil_given_name, c.family_name AS pupil_family_name, \
                gp.id AS guardian_id, gp.given_name AS guardian_given_name, gp.family_name AS guardian_family_name, \
                coalesce(k.reserved, false) AS reserved \
         FROM enrolments e \
         JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id \
         JOIN guardianships g ON g.tenant_id = e.tenant_id AND g.pupil_id = e.pupil_id \
         JOIN persons c ON c.tenant_id = e.tenant_id AND c.id = e.pupil_id \
         JOIN persons gp ON gp.tenant_id = e.tenant_id AND gp.id = g.guardian_id \
         LEFT JOIN krr_contacts k ON k.tenant_id = e.tenant_id AND k.person_id = gp.id \
         WHERE e.tenant_id = $1 AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
           AND ($2::uuid[] IS NULL OR e.school_id = ANY($2)) \
           AND {writes} \
           AND (k.reserved OR gp.email IS NULL) \
         ORDER BY s.name, c.family_name, c.given_name, gp.family_name, gp.given_name, gp.id \
         LIMIT 1000",
        writes = guardianship::writes_to("g", "c", "tavle_today()")
    )
});

async fn rows(mut conn: Conn<'_>, access: &RegisterQueueAccess) -> Result<Vec<PaperRow>> {
    Ok(sqlx::query_as(&PAPER_SQL).bind(conn.tenant).bind(access.schools.as_deref()).fetch_all(&mut *conn).await?)
}

pub async fn show(mut work: Work, ui: Ui) -> Result<Response> {
    let access = policy::paper_letters_access(&work.actor())?;
    let rows = rows(work.conn(), &access).await?;
    let mut subjects: Vec<Uuid> = rows.iter().flat_map(|r| [r.pupil_id, r.guardian_id]).collect();
    subjects.sort_unstable();
    subjects.dedup();
    work.audit(&access, Action::Read, Resource::PaperRecipients, None, &subjects).await?;
    work.commit().await?;
    Ok(render_with(StatusCode::OK, &PaperPage { ui, rows }))
}
