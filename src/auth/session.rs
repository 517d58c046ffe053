//! Server-side sessions in PostgreSQL.
//!
//! The cookie holds `<tenant id>.<secret>`; only SHA-256 of the secret is stored. A
//! new secret is made at every sign-in (no fixation). A session ends after its idle
//! timeout, at its absolute expiry, at sign-out, and, in effect, as soon as the
//! employment or guardianship that granted access ends: the actor's grants are
//! derived afresh on every request, and a session with none is ended.

use std::sync::{Arc, LazyLock};

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::audit::{self, Action};
use crate::config::Config;
use crate::config::Mode;
use crate::db;
use crate::domain::role::Role;
use crate::error::Result;
use crate::policy::{Actor, Audience, Grant};
use crate::web::i18n::Lang;

/// How the identity was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Feide,
    IdPorten,
    Demo,
}

impl Method {
    pub fn code(self) -> &'static str {
        match self {
            Method::Feide => "feide",
            Method::IdPorten => "idporten",
            Method::Demo => "demo",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub tenant_id: Uuid,
    pub person_id: Uuid,
    pub method: Method,
    pub audience: Audience,
    pub acr: Option<String>,
    pub id_token_hint: Option<String>,
    /// The language the person signs in with: kept for what Tavle sends them unasked
    /// (the weekly summary), see migration 000013.
    pub lang: Lang,
}

/// A live session and who it belongs to.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub actor: Arc<Actor>,
    pub csrf: String,
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Split a cookie value into tenant and secret; anything malformed is no session.
fn parse_cookie(value: &str) -> Option<(Uuid, &str)> {
    let (tenant, secret) = value.split_once('.')?;
    let tenant = Uuid::parse_str(tenant).ok()?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((tenant, secret))
}

/// Create a session (and its sign-in audit event) and return the cookie value.
/// Refuses, as not found, a person who has no access at all.
pub async fn create(pool: &PgPool, config: &Config, new: NewSession, ip: Option<&str>) -> Result<String> {
    create_replacing(pool, config, new, ip, None).await
}

/// As [`create`], for a browser that may still carry a session cookie (`previous`):
/// the session it names, if any and in whatever municipality, ends in the same
/// transaction, recorded as a sign-out. Otherwise a shared computer would keep the
/// first person's session alive on the server behind the second person's sign-in, and
/// a copy of the first cookie would go on working. Nothing ends when the sign-in is
/// refused (the transaction is rolled back).
pub async fn create_replacing(
    pool: &PgPool,
    config: &Config,
    new: NewSession,
    ip: Option<&str>,
    previous: Option<&str>,
) -> Result<String> {
    let secret = random_token();
    let idle = match new.audience {
        Audience::Staff => config.staff_idle,
        Audience::Pupil | Audience::Guardian => config.citizen_idle,
    };
    let mut tx = db::begin(pool, new.tenant_id).await?;
    let (grants, children) = grants(&mut tx, new.person_id, new.audience).await?;
    if grants.is_empty() && children.is_empty() && new.audience != Audience::Pupil {
        return Err(crate::error::AppError::NotFound);
    }
    if new.audience == Audience::Pupil && !is_enrolled(&mut tx, new.person_id).await? {
        return Err(crate::error::AppError::NotFound);
    }
    if let Some((old_tenant, old_secret)) = previous.and_then(parse_cookie) {
        // Row-level security binds the transaction to one municipality at a time: visit
        // the old session's, then come back.
        if old_tenant != new.tenant_id {
            db::set_tenant(&mut tx, old_tenant).await?;
        }
        end_by_hash(&mut tx, old_tenant, &hash(old_secret), ip).await?;
        if old_tenant != new.tenant_id {
            db::set_tenant(&mut tx, new.tenant_id).await?;
        }
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO sessions (tenant_id, token_hash, person_id, method, audience, acr, csrf_token, \
             id_token_hint, idle_timeout_seconds, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10)) \
         RETURNING id",
    )
    .bind(new.tenant_id)
    .bind(hash(&secret))
    .bind(new.person_id)
    .bind(new.method.code())
    .bind(new.audience.code())
    .bind(&new.acr)
    .bind(random_token())
    .bind(&new.id_token_hint)
    .bind(i32::try_from(idle.as_secs()).unwrap_or(i32::MAX))
    .bind(config.session_max.as_secs() as f64)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO person_languages (tenant_id, person_id, lang) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, person_id) DO UPDATE SET lang = EXCLUDED.lang, updated_at = now() \
         WHERE person_languages.lang <> EXCLUDED.lang",
    )
    .bind(new.tenant_id)
    .bind(new.person_id)
    .bind(new.lang.code())
    .execute(&mut *tx)
    .await?;
    audit::record_session(&mut tx, new.tenant_id, new.person_id, new.audience.code(), id, ip, Action::SignIn).await?;
    tx.commit().await?;
    Ok(format!("{}.{secret}", new.tenant_id))
}

/// The live session behind a cookie value, with its actor; `None` when there is no
/// such session, it has expired, or its person no longer has any access. In
/// production a session made by the demo sign-in is none either, and is ended.
pub async fn load(pool: &PgPool, cookie: &str, mode: Mode) -> Result<Option<Loaded>> {
    let Some((tenant, secret)) = parse_cookie(cookie) else {
        return Ok(None);
    };
    let mut tx = db::begin(pool, tenant).await?;
    // The session, its person and what grants access (by audience), in one round trip.
    let row: Option<SessionRow> =
        sqlx::query_as(SESSION_SQL.as_str()).bind(hash(secret)).fetch_optional(&mut *tx).await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let Some(audience) = Audience::from_code(&row.audience) else {
        return Ok(None);
    };
    let (session_id, person_id, csrf, stale, name) = (row.id, row.person_id, row.csrf_token, row.stale, row.name);
    let grants = to_grants(row.roles.unwrap_or_default().into_iter().zip(row.schools.unwrap_or_default()));
    let children = row.children.unwrap_or_default();
    let live = match audience {
        Audience::Staff => !grants.is_empty(),
        Audience::Guardian => !children.is_empty(),
        Audience::Pupil => row.enrolled,
    };
    // Only `tavle demo` signs anyone in without an identity provider, so only it
    // accepts such a session: `tavle serve` pointed at a database a demo has used
    // must not (issue 14, item 10).
    let demo_made_in_production = row.method == Method::Demo.code() && mode != Mode::Demo;
    if !live || demo_made_in_production {
        // The access that justified the session has ended (or never held here): end
        // the session too.
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(session_id).execute(&mut *tx).await?;
        tx.commit().await?;
        return Ok(None);
    }
    // Idle time has a granularity of a minute; this saves a write on most requests.
    if stale {
        sqlx::query("UPDATE sessions SET last_seen_at = now() WHERE id = $1")
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(Loaded {
        actor: Arc::new(Actor {
            tenant_id: tenant,
            person_id,
            session_id,
            audience,
            grants,
            children,
            protected_children: row.protected_children.unwrap_or_default(),
            display_name: name,
        }),
        csrf,
    }))
}

/// What an ended session leaves for RP-initiated logout at its provider.
#[derive(Debug, Clone)]
pub struct Ended {
    pub method: String,
    pub id_token_hint: Option<String>,
}

/// End a session (sign-out), recording it.
pub async fn end(pool: &PgPool, actor: &Actor, ip: Option<&str>) -> Result<Option<Ended>> {
    let mut tx = db::begin(pool, actor.tenant_id).await?;
    let ended: Option<(String, Option<String>)> =
        sqlx::query_as("DELETE FROM sessions WHERE id = $1 RETURNING method, id_token_hint")
            .bind(actor.session_id)
            .fetch_optional(&mut *tx)
            .await?;
    audit::record_session(
        &mut tx,
        actor.tenant_id,
        actor.person_id,
        actor.audience.code(),
        actor.session_id,
        ip,
        Action::SignOut,
    )
    .await?;
    tx.commit().await?;
    Ok(ended.map(|(method, id_token_hint)| Ended { method, id_token_hint }))
}

/// End the session with this token hash, if it exists (expired or not), recorded as
/// its person's sign-out; in the caller's transaction, bound to `tenant`.
async fn end_by_hash(conn: &mut PgConnection, tenant: Uuid, token_hash: &[u8], ip: Option<&str>) -> Result<()> {
    let ended: Option<(Uuid, Uuid, String)> =
        sqlx::query_as("DELETE FROM sessions WHERE token_hash = $1 RETURNING id, person_id, audience")
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((id, person, audience)) = ended else {
        return Ok(());
    };
    audit::record_session(conn, tenant, person, &audience, id, ip, Action::SignOut).await
}

/// The person's current grants (staff) or children (guardians).
async fn grants(conn: &mut PgConnection, person: Uuid, audience: Audience) -> Result<(Vec<Grant>, Vec<Uuid>)> {
    match audience {
        Audience::Staff => {
            let rows: Vec<(String, Option<Uuid>)> =
                sqlx::query_as(&staff_grants_sql("$1")).bind(person).fetch_all(conn).await?;
            let grants = to_grants(rows);
            Ok((grants, Vec::new()))
        }
        Audience::Guardian => {
            // Parental responsibility, a current guardianship, and a child under 18.
            let rows: Vec<(Uuid, Option<time::Date>, bool)> =
                sqlx::query_as(&children_sql("$1")).bind(person).fetch_all(conn).await?;
            let children = rows.into_iter().map(|(id, _, _)| id).collect();
            Ok((Vec::new(), children))
        }
        Audience::Pupil => Ok((Vec::new(), Vec::new())),
    }
}

async fn is_enrolled(conn: &mut PgConnection, person: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar(&format!("SELECT {}", enrolled_sql("$1"))).bind(person).fetch_one(conn).await?)
}

fn to_grants(rows: impl IntoIterator<Item = (String, Option<Uuid>)>) -> Vec<Grant> {
    rows.into_iter().filter_map(|(role, school_id)| Some(Grant { role: Role::from_code(&role)?, school_id })).collect()
}

// The rules that give a person access, as SQL over the person `p` (a parameter or a
// column): used at sign-in, and folded into the per-request session query.

/// A staff member's roles: (role, school or none for municipal work), from their
/// current employments that are not on leave, through the tenant's role mappings.
fn staff_grants_sql(p: &str) -> String {
    format!(
        "SELECT DISTINCT rm.role, e.school_id FROM employments e \
         JOIN role_mappings rm ON rm.tenant_id = e.tenant_id \
              AND rm.position_code = e.position_code \
              AND rm.workplace_kind = CASE WHEN e.school_id IS NULL THEN 'municipal' ELSE 'school' END \
         WHERE e.staff_id = {p} AND NOT e.on_leave AND e.from_date <= tavle_today() \
           AND (e.to_date IS NULL OR e.to_date > tavle_today())"
    )
}

/// A guardian's children: parental responsibility, a current guardianship, and a
/// child known to be under 18 (a child without a birth date in the register gives no
/// access until the office records it: the pupils' list shows them); the eldest first.
fn children_sql(p: &str) -> String {
    format!(
        "SELECT g.pupil_id, c.birth_date, \
                (c.address_protection = 'strictly_confidential' AND NOT g.lives_with) AS whereabouts_protected \
         FROM guardianships g \
         JOIN persons c ON c.tenant_id = g.tenant_id AND c.id = g.pupil_id \
         WHERE g.guardian_id = {p} AND g.parental_responsibility \
           AND g.from_date <= tavle_today() AND (g.to_date IS NULL OR g.to_date > tavle_today()) \
           AND c.birth_date > tavle_today() - interval '18 years' \
         ORDER BY c.birth_date"
    )
}

/// A pupil's current enrolment.
fn enrolled_sql(p: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM enrolments WHERE pupil_id = {p} AND from_date <= tavle_today() \
           AND (to_date IS NULL OR to_date > tavle_today()))"
    )
}

/// The live session behind a token hash, with what grants its person access (only
/// the part for the session's audience is evaluated).
static SESSION_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT s.id, s.person_id, s.audience, s.method, s.csrf_token, \
                s.last_seen_at < now() - interval '60 seconds' AS stale, \
                p.given_name || ' ' || p.family_name AS name, \
                sg.roles, sg.schools, gc.children, gc.protected_children, \
                CASE WHEN s.audience = 'pupil' THEN {enrolled} ELSE false END AS enrolled \
         FROM sessions s JOIN persons p ON p.tenant_id = s.tenant_id AND p.id = s.person_id \
         LEFT JOIN LATERAL (SELECT array_agg(g.role ORDER BY g.role, g.school_id) AS roles, \
                                   array_agg(g.school_id ORDER BY g.role, g.school_id) AS schools \
                            FROM ({staff}) g WHERE s.audience = 'staff') sg ON true \
         LEFT JOIN LATERAL (SELECT array_agg(c.pupil_id ORDER BY c.birth_date) AS children, \
                                   array_agg(c.pupil_id) FILTER (WHERE c.whereabouts_protected) AS protected_children \
                            FROM ({children}) c \
                            WHERE s.audience = 'guardian') gc ON true \
         WHERE s.token_hash = $1 AND s.expires_at > now() \
           AND s.last_seen_at + make_interval(secs => s.idle_timeout_seconds) > now()",
        enrolled = enrolled_sql("s.person_id"),
        staff = staff_grants_sql("s.person_id"),
        children = children_sql("s.person_id"),
    )
});

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    person_id: Uuid,
    audience: String,
    method: String,
    csrf_token: String,
    stale: bool,
    name: String,
    roles: Option<Vec<String>>,
    schools: Option<Vec<Option<Uuid>>>,
    children: Option<Vec<Uuid>>,
    protected_children: Option<Vec<Uuid>>,
    enrolled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_cookies_are_no_session() {
        assert!(parse_cookie("").is_none());
        assert!(parse_cookie("abc.def").is_none());
        let t = Uuid::new_v4();
        assert!(parse_cookie(&format!("{t}.{}", "z".repeat(64))).is_none());
        assert!(parse_cookie(&format!("{t}.{}", random_token())).is_some());
    }

    #[test]
    fn tokens_are_fresh() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 64);
    }
}
