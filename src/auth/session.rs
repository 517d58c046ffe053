//! Server-side sessions in PostgreSQL.
//!
//! The cookie holds `<tenant id>.<secret>`; only SHA-256 of the secret is stored. A
//! new secret is made at every sign-in (no fixation). A session ends after its idle
//! timeout, at its absolute expiry, at sign-out, and, in effect, as soon as the
//! employment or guardianship that granted access ends: the actor's grants are
//! derived afresh whenever they may have changed, and a session with none is ended.
//!
//! [`SessionCache`] keeps what a session's load found for a short while, so that a
//! request need not read the session and its grants again; every request that works
//! on data checks a cached session in its own transaction first ([`check`]), so a
//! change committed before the request began reaches it (see the cache's documentation).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{self, Action};
use crate::config::{Config, Mode};
use crate::db::{self, Conn};
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
    /// Set when the actor came from the cache: what the request's transaction must
    /// check before it trusts the actor ([`check`]). `None` when read just now.
    pub cached: Option<Cached>,
}

/// What a cached actor was read with: the municipality's access epoch (migration
/// 20261214000100) and the date (grants hold between dates), and the cache's key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cached {
    key: Key,
    epoch: i64,
    today: time::Date,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key holds the token's hash: not the secret, but nothing to print either.
        f.debug_struct("Cached").field("epoch", &self.epoch).field("today", &self.today).finish_non_exhaustive()
    }
}

/// A session's municipality and the SHA-256 of its secret.
type Key = (Uuid, [u8; 32]);

/// Sessions with their actors, as last read, for a short while (`TAVLE_SESSION_CACHE_SECONDS`).
///
/// The context middleware takes a signed-in person from here without asking the
/// database; a [`Work`](crate::work::Work) then checks, in the request's own
/// transaction and in the same round trip as its first statement would be, that the
/// session is still live and not due for its once-a-minute `last_seen_at`, that the
/// municipality's access epoch is the one the actor was read with (every change to
/// role mappings, employments, guardianships, enrolments and persons raises it as it
/// commits), and that the date is the same. Otherwise it reads the session and
/// grants again in that transaction, and the request goes on with what it found (or
/// as not signed in). So the cache never lets a request act on access that a committed
/// change has taken away: "the next request" sees the change, as without the cache.
///
/// What is not checked is a page that reads no data (no `Work`), e.g. the layout's
/// menu on a page of the sign-in flow: it may show a session's name and menu for up
/// to the cache's lifetime after the session ended elsewhere. Signing out through
/// this process removes the session from the cache at once.
pub struct SessionCache {
    ttl: Duration,
    mode: Mode,
    entries: Mutex<HashMap<Key, (Instant, Loaded)>>,
}

/// The most sessions the cache holds; beyond it, expired entries go, then all.
const CACHE_CAPACITY: usize = 100_000;

impl SessionCache {
    /// `ttl` zero: no cache (every request reads the session).
    pub fn new(ttl: Duration, mode: Mode) -> Self {
        Self { ttl, mode, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, key: &Key) -> Option<Loaded> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match entries.get(key) {
            Some((at, loaded)) if at.elapsed() < self.ttl => Some(loaded.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&self, loaded: &Loaded) {
        let Some(cached) = loaded.cached else { return };
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHE_CAPACITY {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(cached.key, (Instant::now(), loaded.clone()));
    }

    /// Forget the session behind a cookie value (signing in again, or out).
    fn forget_cookie(&self, cookie: &str) {
        if let Some((tenant, secret)) = parse_cookie(cookie) {
            self.forget(&(tenant, hash32(secret)));
        }
    }

    /// Forget a session by its id (signing out).
    fn forget_session(&self, session: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, (_, l)| l.actor.session_id != session);
    }

    /// How many sessions the cache holds (expired ones included until they are next asked for).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn forget(&self, key: &Key) {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash(secret: &str) -> Vec<u8> {
    hash32(secret).to_vec()
}

fn hash32(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
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
    create_in(pool, config, new, ip, None).await
}

/// As [`create`], for a browser that may still carry a session cookie (`previous`):
/// the session it names, if any and in whatever municipality, ends in the same
/// transaction, recorded as a sign-out. Otherwise a shared computer would keep the
/// first person's session alive on the server behind the second person's sign-in, and
/// a copy of the first cookie would go on working. Nothing ends when the sign-in is
/// refused (the transaction is rolled back). Once the new session is committed, the
/// ended one leaves this process's cache too.
pub async fn create_replacing(
    pool: &PgPool,
    cache: &SessionCache,
    config: &Config,
    new: NewSession,
    ip: Option<&str>,
    previous: Option<&str>,
) -> Result<String> {
    let created = create_in(pool, config, new, ip, previous).await?;
    if let Some(previous) = previous {
        cache.forget_cookie(previous);
    }
    Ok(created)
}

async fn create_in(
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
    let (grants, children) = grants(Conn::new(&mut tx, new.tenant_id), new.person_id, new.audience).await?;
    let starting = new.audience == Audience::Guardian
        && children.is_empty()
        && !starters(Conn::new(&mut tx, new.tenant_id), new.person_id).await?.is_empty();
    if grants.is_empty() && children.is_empty() && !starting && new.audience != Audience::Pupil {
        return Err(crate::error::AppError::NotFound);
    }
    if new.audience == Audience::Pupil && !is_enrolled(Conn::new(&mut tx, new.tenant_id), new.person_id).await? {
        return Err(crate::error::AppError::NotFound);
    }
    if let Some((old_tenant, old_secret)) = previous.and_then(parse_cookie) {
        // Row-level security binds the transaction to one municipality at a time: visit
        // the old session's, then come back.
        if old_tenant != new.tenant_id {
            db::set_tenant(&mut tx, old_tenant).await?;
        }
        end_by_hash(Conn::new(&mut tx, old_tenant), &hash(old_secret), ip).await?;
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
        "INSERT INTO person_languages (tenant_id, person_id, lang, updated_at) VALUES ($1, $2, $3, now()) \
         ON CONFLICT (tenant_id, person_id) DO UPDATE SET lang = EXCLUDED.lang, updated_at = EXCLUDED.updated_at \
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
///
/// From `cache` when it has the session (then [`Loaded::cached`] says what the
/// request's transaction must [`check`]); otherwise read in a transaction of its own
/// and kept in `cache`.
pub async fn load(pool: &PgPool, cache: &SessionCache, cookie: &str) -> Result<Option<Loaded>> {
    let Some((tenant, secret)) = parse_cookie(cookie) else {
        return Ok(None);
    };
    let key = (tenant, hash32(secret));
    if let Some(hit) = cache.get(&key) {
        return Ok(Some(hit));
    }
    let mut tx = db::begin(pool, tenant).await?;
    let found = read(Conn::new(&mut tx, tenant), key, None, cache.mode).await?;
    tx.commit().await?;
    Ok(found.map(|loaded| {
        cache.put(&loaded);
        Loaded { cached: None, ..loaded }
    }))
}

/// What [`check`] found of a cached session.
#[derive(Debug)]
pub enum Checked {
    /// Nothing changed: the cached actor holds.
    Current,
    /// Something changed: the session as it is now (also kept in the cache).
    Renewed(Loaded),
    /// The session has ended, or its person has no access left (the session is then
    /// ended in this transaction).
    Ended,
}

/// Whether the cached session behind `actor` may be trusted in this transaction (bound
/// to its municipality); see [`SessionCache`]. One round trip when it may; otherwise
/// the session is read again here.
pub async fn check(mut conn: Conn<'_>, cache: &SessionCache, actor: &Actor, cached: Cached) -> Result<Checked> {
    let current: bool = sqlx::query_scalar(CHECK_SQL)
        .bind(conn.tenant)
        .bind(actor.session_id)
        .bind(cached.epoch)
        .bind(cached.today)
        .fetch_one(&mut *conn)
        .await?;
    if current {
        return Ok(Checked::Current);
    }
    cache.forget(&cached.key);
    Ok(match read(conn.re(), cached.key, Some(actor.session_id), cache.mode).await? {
        Some(loaded) => {
            cache.put(&loaded);
            Checked::Renewed(loaded)
        }
        None => Checked::Ended,
    })
}

/// Read the session of `key` (by its id when known: a cached session) and its actor in
/// `conn`'s transaction (bound to the key's municipality); end it when its access has
/// ended, and note a request once a minute (`last_seen_at`).
async fn read(mut conn: Conn<'_>, key: Key, id: Option<Uuid>, mode: Mode) -> Result<Option<Loaded>> {
    let tenant = key.0;
    // The session, its person and what grants access (by audience), in one round trip.
    let row: Option<SessionRow> = match id {
        None => {
            sqlx::query_as(SESSION_BY_TOKEN_SQL.as_str())
                .bind(tenant)
                .bind(key.1.as_slice())
                .fetch_optional(&mut *conn)
                .await?
        }
        Some(id) => sqlx::query_as(SESSION_BY_ID_SQL.as_str()).bind(tenant).bind(id).fetch_optional(&mut *conn).await?,
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let Some(audience) = Audience::from_code(&row.audience) else {
        return Ok(None);
    };
    let (session_id, person_id, csrf, stale, name) = (row.id, row.person_id, row.csrf_token, row.stale, row.name);
    let grants = to_grants(row.roles.unwrap_or_default().into_iter().zip(row.schools.unwrap_or_default()));
    let children = row.children.unwrap_or_default();
    let starters = row.starters.unwrap_or_default();
    let live = match audience {
        Audience::Staff => !grants.is_empty(),
        Audience::Guardian => !children.is_empty() || !starters.is_empty(),
        Audience::Pupil => row.enrolled,
    };
    // Only `tavle demo` signs anyone in without an identity provider, so only it
    // accepts such a session: `tavle serve` pointed at a database a demo has used
    // must not (issue 14, item 10).
    let demo_made_in_production = row.method == Method::Demo.code() && mode != Mode::Demo;
    if !live || demo_made_in_production {
        // The access that justified the session has ended (or never held here): end
        // the session too.
        sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(session_id)
            .execute(&mut *conn)
            .await?;
        return Ok(None);
    }
    // Idle time has a granularity of a minute; this saves a write on most requests.
    if stale {
        sqlx::query("UPDATE sessions SET last_seen_at = now() WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(session_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(Loaded {
        actor: Arc::new(Actor {
            tenant_id: tenant,
            person_id,
            session_id,
            audience,
            grants,
            children,
            protected_children: row.protected_children.unwrap_or_default(),
            starters,
            display_name: name,
        }),
        csrf,
        cached: Some(Cached { key, epoch: row.epoch, today: row.today }),
    }))
}

/// What an ended session leaves for RP-initiated logout at its provider.
#[derive(Debug, Clone)]
pub struct Ended {
    pub method: String,
    pub id_token_hint: Option<String>,
}

/// End a session (sign-out), recording it, and forget it in this process's cache.
pub async fn end(pool: &PgPool, cache: &SessionCache, actor: &Actor, ip: Option<&str>) -> Result<Option<Ended>> {
    let mut tx = db::begin(pool, actor.tenant_id).await?;
    let ended: Option<(String, Option<String>)> =
        sqlx::query_as("DELETE FROM sessions WHERE tenant_id = $1 AND id = $2 RETURNING method, id_token_hint")
            .bind(actor.tenant_id)
            .bind(actor.session_id)
            .fetch_optional(&mut *tx)
            .await?;
    // A session already ended elsewhere (its actor still in this process's cache): this
    // sign-out ends nothing, so there is no sign-out to record.
    if ended.is_some() {
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
    }
    tx.commit().await?;
    cache.forget_session(actor.session_id);
    Ok(ended.map(|(method, id_token_hint)| Ended { method, id_token_hint }))
}

/// End the session with this token hash, if it exists (expired or not), recorded as
/// its person's sign-out; in the caller's transaction, whose municipality `conn` carries.
async fn end_by_hash(mut conn: Conn<'_>, token_hash: &[u8], ip: Option<&str>) -> Result<()> {
    let tenant = conn.tenant;
    let ended: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2 RETURNING id, person_id, audience",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, person, audience)) = ended else {
        return Ok(());
    };
    audit::record_session(&mut conn, tenant, person, &audience, id, ip, Action::SignOut).await
}

/// The person's current grants (staff) or children (guardians).
async fn grants(mut conn: Conn<'_>, person: Uuid, audience: Audience) -> Result<(Vec<Grant>, Vec<Uuid>)> {
    match audience {
        Audience::Staff => {
            let rows: Vec<(String, Option<Uuid>)> =
                sqlx::query_as(&staff_grants_sql("$2")).bind(conn.tenant).bind(person).fetch_all(&mut *conn).await?;
            let grants = to_grants(rows);
            Ok((grants, Vec::new()))
        }
        Audience::Guardian => {
            // Parental responsibility, a current guardianship, and a child under 18.
            let rows: Vec<(Uuid, Option<time::Date>, bool)> =
                sqlx::query_as(&children_sql("$2")).bind(conn.tenant).bind(person).fetch_all(&mut *conn).await?;
            let children = rows.into_iter().map(|(id, _, _)| id).collect();
            Ok((Vec::new(), children))
        }
        Audience::Pupil => Ok((Vec::new(), Vec::new())),
    }
}

/// A guardian's children who start school next August (`policy::intake::starters_sql`).
async fn starters(mut conn: Conn<'_>, person: Uuid) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(&crate::policy::starters_sql("$2"))
        .bind(conn.tenant)
        .bind(person)
        .fetch_all(&mut *conn)
        .await?)
}

async fn is_enrolled(mut conn: Conn<'_>, person: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar(&format!("SELECT {}", enrolled_sql("$2")))
        .bind(conn.tenant)
        .bind(person)
        .fetch_one(&mut *conn)
        .await?)
}

fn to_grants(rows: impl IntoIterator<Item = (String, Option<Uuid>)>) -> Vec<Grant> {
    rows.into_iter().filter_map(|(role, school_id)| Some(Grant { role: Role::from_code(&role)?, school_id })).collect()
}

// The rules that give a person access, as SQL over the person `p` (a parameter or a
// column) in the municipality `$1`: used at sign-in, and folded into the per-request
// session query.

/// A staff member's roles: (role, school or none for municipal work), from their
/// current employments that are not on leave, through the tenant's role mappings.
fn staff_grants_sql(p: &str) -> String {
    format!(
        "SELECT DISTINCT rm.role, e.school_id FROM employments e \
         JOIN role_mappings rm ON rm.tenant_id = e.tenant_id \
              AND rm.position_code = e.position_code \
              AND rm.workplace_kind = CASE WHEN e.school_id IS NULL THEN 'municipal' ELSE 'school' END \
         WHERE e.tenant_id = $1 AND rm.tenant_id = $1 AND e.staff_id = {p} AND NOT e.on_leave AND e.from_date <= tavle_today() \
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
         WHERE g.tenant_id = $1 AND c.tenant_id = $1 AND g.guardian_id = {p} AND {access} \
         ORDER BY c.birth_date",
        access = crate::policy::guardianship::gives_access("g", "c", "tavle_today()")
    )
}

/// A pupil's current enrolment.
fn enrolled_sql(p: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM enrolments WHERE tenant_id = $1 AND pupil_id = {p} AND from_date <= tavle_today() \
           AND (to_date IS NULL OR to_date > tavle_today()))"
    )
}

/// The live session behind a token hash, with what grants its person access (only
/// the part for the session's audience is evaluated).
static SESSION_BY_TOKEN_SQL: LazyLock<String> = LazyLock::new(|| session_sql("s.token_hash = $2"));

/// The same, by the session's id (a cached session, read again).
static SESSION_BY_ID_SQL: LazyLock<String> = LazyLock::new(|| session_sql("s.id = $2"));

/// Whether a cached session (`$1`) still holds as read with access epoch `$2` on date
/// `$3`: the session lives and noted a request within the minute (else it is read
/// again, which notes this one), and neither the epoch nor the date has moved.
const CHECK_SQL: &str = "SELECT EXISTS (SELECT 1 FROM sessions s WHERE s.tenant_id = $1 AND s.id = $2 \
            AND s.expires_at > now() \
            AND s.last_seen_at >= now() - interval '60 seconds' \
            AND s.last_seen_at + make_interval(secs => s.idle_timeout_seconds) > now()) \
        AND coalesce((SELECT e.epoch FROM access_epochs e WHERE e.tenant_id = $1), 0) = $3 \
        AND tavle_today() = $4";

/// The session query over the session `s` chosen by `which`, with the municipality's
/// access epoch and the date it was read with.
fn session_sql(which: &str) -> String {
    format!(
        "SELECT s.id, s.person_id, s.audience, s.method, s.csrf_token, \
                s.last_seen_at < now() - interval '60 seconds' AS stale, \
                p.given_name || ' ' || p.family_name AS name, \
                coalesce((SELECT e.epoch FROM access_epochs e WHERE e.tenant_id = $1), 0) AS epoch, \
                tavle_today() AS today, \
                sg.roles, sg.schools, gc.children, gc.protected_children, \
                CASE WHEN s.audience = 'guardian' THEN ARRAY({starters}) END AS starters, \
                CASE WHEN s.audience = 'pupil' THEN {enrolled} ELSE false END AS enrolled \
         FROM sessions s JOIN persons p ON p.tenant_id = s.tenant_id AND p.id = s.person_id \
         LEFT JOIN LATERAL (SELECT array_agg(g.role ORDER BY g.role, g.school_id) AS roles, \
                                   array_agg(g.school_id ORDER BY g.role, g.school_id) AS schools \
                            FROM ({staff}) g WHERE s.audience = 'staff') sg ON true \
         LEFT JOIN LATERAL (SELECT array_agg(c.pupil_id ORDER BY c.birth_date) AS children, \
                                   array_agg(c.pupil_id) FILTER (WHERE c.whereabouts_protected) AS protected_children \
                            FROM ({children}) c \
                            WHERE s.audience = 'guardian') gc ON true \
         WHERE s.tenant_id = $1 AND {which} AND s.expires_at > now() \
           AND s.last_seen_at + make_interval(secs => s.idle_timeout_seconds) > now()",
        enrolled = enrolled_sql("s.person_id"),
        staff = staff_grants_sql("s.person_id"),
        children = children_sql("s.person_id"),
        starters = crate::policy::starters_sql("s.person_id"),
    )
}

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
    starters: Option<Vec<Uuid>>,
    enrolled: bool,
    epoch: i64,
    today: time::Date,
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
