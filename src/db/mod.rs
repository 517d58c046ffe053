//! The database: connection pools, migrations, the tenant transaction every request
//! runs in, the embedded PostgreSQL used by `tavle demo` and the tests, and backups.

pub mod backup;
pub mod distribute;
pub mod embedded;

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use time::Date;
use uuid::Uuid;

use crate::domain::calendar;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A transaction that has set its tenant: row-level security shows and accepts only
/// that tenant's rows.
pub type Tx = Transaction<'static, Postgres>;

/// The date this process pretends it is, if any (see [`fix_today`]).
static FIXED_TODAY: OnceLock<Date> = OnceLock::new();

/// Pretend, for the rest of this process, that today is `date`: every connection opened
/// afterwards sets `tavle.today`, which `tavle_today()` answers in SQL (migration
/// 20261206000100), and [`today`] answers in Rust. For `tavle demo` and the tests only,
/// so that they run as on any day of the school year; `tavle serve` never calls it and
/// refuses to start when TAVLE_TODAY is set. A second call with another date fails.
pub fn fix_today(date: Date) -> anyhow::Result<()> {
    let fixed = *FIXED_TODAY.get_or_init(|| date);
    if fixed != date {
        bail!("today is fixed to {fixed} in this process already");
    }
    Ok(())
}

/// The date this process pretends it is, when [`fix_today`] was called.
pub fn fixed_today() -> Option<Date> {
    FIXED_TODAY.get().copied()
}

/// Today in Norway, as the database's `tavle_today()` sees it through our connections.
pub fn today() -> Date {
    fixed_today().unwrap_or_else(calendar::oslo_today)
}

/// Open a pool. `max` bounds concurrent connections.
pub async fn connect(url: &str, max: u32) -> anyhow::Result<PgPool> {
    connect_with(url, max, Duration::from_secs(10), fixed_today()).await
}

/// Open a pool whose requests wait at most `acquire_timeout` for a connection (then
/// `sqlx::Error::PoolTimedOut`, which a request answers with the calm 503). A
/// connection is checked before it is handed out (sqlx's default), so after the
/// database was restarted the pool replaces its dead connections by itself.
pub async fn connect_with_timeout(url: &str, max: u32, acquire_timeout: Duration) -> anyhow::Result<PgPool> {
    connect_with(url, max, acquire_timeout, fixed_today()).await
}

/// Open a pool whose connections run as on `today` (`None`: the real date). Tests use
/// it to run one app on a day the calendar gives them; everything else calls [`connect`].
pub async fn connect_as_of(url: &str, max: u32, today: Option<Date>) -> anyhow::Result<PgPool> {
    connect_with(url, max, Duration::from_secs(10), today).await
}

/// A pool with the given connection wait and date (see the functions above).
pub async fn connect_with(
    url: &str,
    max: u32,
    acquire_timeout: Duration,
    today: Option<Date>,
) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid URL")?;
    // "Today" is a Norwegian school day, whatever the server's zone.
    let mut settings = vec![("timezone", "Europe/Oslo".to_owned())];
    if let Some(today) = today {
        settings.push(("tavle.today", today.to_string()));
    }
    PgPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(true)
        .connect_with(options.application_name("tavle").options(settings))
        .await
        .context("cannot connect to the database")
}

/// Refuse to serve in production with a date that is not today: the process has fixed
/// one, or the database hands our connections a `tavle.today` (e.g. `ALTER DATABASE …
/// SET tavle.today`).
pub async fn check_real_today(app: &PgPool) -> anyhow::Result<()> {
    if fixed_today().is_some() {
        bail!("TAVLE_TODAY is for the demo and the tests only: `tavle serve` always runs on today's date");
    }
    let set: Option<String> = sqlx::query_scalar("SELECT nullif(current_setting('tavle.today', true), '')")
        .fetch_one(app)
        .await
        .context("cannot read the database's date setting")?;
    if set.is_some() {
        bail!(
            "the database sets tavle.today for Tavle's connections (ALTER DATABASE/ROLE … SET tavle.today?): \
             remove it; `tavle serve` always runs on today's date"
        );
    }
    Ok(())
}

/// Close a pool and every connection it has made, and wait until they are closed.
///
/// `Pool::close` alone is not enough (sqlx 0.8): a connection that a finished query is
/// still handing back (its return is a task of its own) can reach the idle queue after
/// `close` has looked there for the last time, and then stays open, idle, for as long
/// as the pool value lives. So a pool of the superuser, closed after start-up, kept a
/// superuser connection open for the life of `tavle demo` (issue 14, item 11).
/// Closing again closes what came back late; the pool is dropped at the end.
pub async fn close(pool: PgPool) {
    loop {
        pool.close().await;
        if pool.size() == 0 {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// Apply pending migrations with the owner's connection; on Citus, then distribute the
/// tables not distributed yet ([`distribute`]; nothing on plain PostgreSQL).
pub async fn migrate(owner: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(owner).await.context("applying database migrations failed")?;
    if let distribute::Outcome::Distributed { newly, .. } = distribute::distribute(owner).await? {
        if !newly.is_empty() {
            tracing::info!(tables = newly.len(), "distributed by municipality (Citus)");
        }
    }
    Ok(())
}

/// Refuse to serve through a connection that row-level security cannot bind: a
/// superuser, a role with BYPASSRLS, or the owner of the schema, its tables or its
/// functions (which may replace the audit chaining, or drop the policies); nor
/// a login that is a member of one of those, directly or through other roles, with or
/// without inheriting its rights (a member may `SET ROLE` to it at any time).
pub async fn check_app_role(app: &PgPool) -> anyhow::Result<()> {
    // `pg_has_role(…, 'MEMBER')` holds for the role itself and for every role it is a
    // member of, however indirectly.
    let unfit: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls FROM pg_roles r \
         WHERE pg_has_role(current_user, r.oid, 'MEMBER') \
           AND (r.rolsuper OR r.rolbypassrls \
                OR r.oid IN (SELECT c.relowner FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace) \
                OR r.oid IN (SELECT p.proowner FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace) \
                OR r.oid = (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'public')) \
         ORDER BY r.rolname",
    )
    .fetch_all(app)
    .await
    .context("cannot inspect the application's database role")?;
    let login: String =
        sqlx::query_scalar("SELECT current_user::text").fetch_one(app).await.context("cannot read current_user")?;
    let what = |is_super: bool, bypass: bool| match (is_super, bypass) {
        (true, _) => "a superuser",
        (false, true) => "a role with BYPASSRLS",
        (false, false) => "an owner of the schema, its tables or functions",
    };
    // The login itself first: a superuser is a member of every role, so the rest
    // would only repeat it.
    let why = match unfit.iter().find(|(role, ..)| *role == login) {
        Some((_, is_super, bypass)) => format!("which is {}", what(*is_super, *bypass)),
        None if unfit.is_empty() => return Ok(()),
        None => {
            let roles: Vec<String> =
                unfit.iter().map(|(role, is_super, bypass)| format!("{role} ({})", what(*is_super, *bypass))).collect();
            format!("which is a member of {}", roles.join(", "))
        }
    };
    bail!(
        "DATABASE_URL logs in as {login}, {why}: row-level security would not apply; \
         log in as a role that is a member of tavle_app and of nothing more"
    )
}

/// A connection inside a transaction bound to a municipality, with that municipality.
///
/// Every query takes one and names the municipality itself, as its first parameter:
/// `WHERE x.tenant_id = $1` for each tenant table it reads or writes (in every
/// subquery too), `.bind(conn.tenant)` first. Distributed by tenant (Citus), that bound
/// value is what routes the statement to the one shard holding the municipality's
/// rows; on plain PostgreSQL it lets the planner use each key's leading column.
/// Row-level security stays the second wall. `scripts/check-statements.py` checks
/// every statement the test suite runs (issue 16).
pub struct Conn<'c> {
    conn: &'c mut PgConnection,
    /// The municipality the transaction is bound to.
    pub tenant: Uuid,
}

impl<'c> Conn<'c> {
    /// `conn` must be in a transaction bound to `tenant` ([`begin`] or [`set_tenant`]).
    pub fn new(conn: &'c mut PgConnection, tenant: Uuid) -> Self {
        Self { conn, tenant }
    }

    /// The same connection for a call that consumes a `Conn`, keeping this one.
    pub fn re(&mut self) -> Conn<'_> {
        Conn { conn: &mut *self.conn, tenant: self.tenant }
    }
}

impl std::ops::Deref for Conn<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
    }
}

/// Begin a transaction bound to `tenant`. `SET LOCAL` is a statement of its own after
/// `BEGIN`, not a `set_config` call sent with it: Citus propagates a `SET LOCAL` (with
/// `citus.propagate_set_commands = 'local'`) to the workers a transaction reaches,
/// and nothing else (issue 16). The same statement sets the transaction's date
/// (`tavle_today()` in SQL) from the application, so that no worker's clock decides
/// what "today" is.
pub async fn begin(pool: &PgPool, tenant: Uuid) -> Result<Tx, sqlx::Error> {
    let today = pool_today(pool).unwrap_or_else(calendar::oslo_today);
    let mut tx = pool.begin().await?;
    bind(&mut tx, tenant, today).await?;
    Ok(tx)
}

/// The municipality an import names by its slug: its id, and whether it takes
/// synthetic national id numbers (a demo or test municipality). None when unknown.
pub async fn import_tenant(pool: &PgPool, slug: &str) -> Result<Option<(Uuid, bool)>, sqlx::Error> {
    sqlx::query_as("SELECT id, allows_synthetic_ids FROM tenants WHERE slug = $1").bind(slug).fetch_optional(pool).await
}

/// One import of a kind (`key`, e.g. `tavle.hr_import.`) per municipality at a time:
/// a lock held until the transaction ends, so that two runs never race to create the
/// same rows.
pub async fn lock_import(conn: &mut PgConnection, key: &str, tenant: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($2 || $1::text, 0))")
        .bind(tenant)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Bind an open transaction to `tenant` (transaction-local, so a pooled connection
/// never carries a tenant into the next request), keeping its date.
pub async fn set_tenant(conn: &mut PgConnection, tenant: Uuid) -> Result<(), sqlx::Error> {
    use sqlx::Executor as _;
    conn.execute(format!("SET LOCAL tavle.tenant_id = '{tenant}'").as_str()).await?;
    Ok(())
}

/// `SET LOCAL` the tenant and the date, in one round trip. (A `Uuid` and a `Date`
/// print as digits, letters a-f, and dashes only: nothing to escape; `SET` takes no
/// parameters.)
async fn bind(conn: &mut PgConnection, tenant: Uuid, today: Date) -> Result<(), sqlx::Error> {
    use sqlx::Executor as _;
    let sql = format!("SET LOCAL tavle.tenant_id = '{tenant}'; SET LOCAL tavle.today = '{today}'");
    conn.execute(sql.as_str()).await?;
    Ok(())
}

/// The date a pool was opened to run as ([`connect_with`]: the demo and the tests),
/// read back from its connection options.
fn pool_today(pool: &PgPool) -> Option<Date> {
    let options = pool.connect_options();
    let set = options.get_options()?;
    let value = set.split_whitespace().find_map(|o| o.strip_prefix("tavle.today="))?;
    Date::parse(value, &time::format_description::well_known::Iso8601::DATE).ok()
}

/// The embedded cluster's application login: created once, with LOGIN, as a member of
/// nothing more than `tavle_app` itself.
pub async fn ensure_app_login(superuser: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "DO $$ BEGIN \
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tavle_app') THEN \
             CREATE ROLE tavle_app LOGIN; \
           ELSE ALTER ROLE tavle_app LOGIN; END IF; \
         END $$",
    )
    .execute(superuser)
    .await
    .context("cannot create the tavle_app role")?;
    Ok(())
}

/// Create `name` if it does not exist (embedded cluster only).
pub async fn ensure_database(superuser: &PgPool, name: &str) -> anyhow::Result<()> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(superuser)
        .await?;
    if !exists {
        // Identifiers cannot be bound; `name` comes from our own code, never from input.
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(superuser).await?;
    }
    Ok(())
}

/// Today in Norway (the transaction's `tavle_today()`, so every check agrees with the SQL).
pub async fn current_date(mut conn: Conn<'_>) -> crate::error::Result<Date> {
    Ok(sqlx::query_scalar("SELECT tavle_today()").fetch_one(&mut *conn).await?)
}
