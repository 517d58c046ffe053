//! The database: connection pools, migrations, the tenant transaction every request
//! runs in, and the embedded PostgreSQL used by `tavle demo` and the tests.

pub mod embedded;

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
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
    connect_as_of(url, max, fixed_today()).await
}

/// Open a pool whose connections run as on `today` (`None`: the real date). Tests use
/// it to run one app on a day the calendar gives them; everything else calls [`connect`].
pub async fn connect_as_of(url: &str, max: u32, today: Option<Date>) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid URL")?;
    // "Today" is a Norwegian school day, whatever the server's zone.
    let mut settings = vec![("timezone", "Europe/Oslo".to_owned())];
    if let Some(today) = today {
        settings.push(("tavle.today", today.to_string()));
    }
    PgPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
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

/// Apply pending migrations with the owner's connection.
pub async fn migrate(owner: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(owner).await.context("applying database migrations failed")
}

/// Refuse to serve through a connection that row-level security cannot bind: a
/// superuser, a role with BYPASSRLS, or the owner of the tenant tables.
pub async fn check_app_role(app: &PgPool) -> anyhow::Result<()> {
    let (is_super, bypass, owns): (bool, bool, bool) = sqlx::query_as(
        "SELECT r.rolsuper, r.rolbypassrls, \
                EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' \
                        AND t.tableowner = current_user) \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(app)
    .await
    .context("cannot inspect the application's database role")?;
    if is_super || bypass || owns {
        bail!(
            "DATABASE_URL logs in as a superuser, a BYPASSRLS role or the tables' owner; \
             row-level security would not apply: log in as a role that is a member of tavle_app"
        );
    }
    Ok(())
}

/// Begin a transaction bound to `tenant`, in one round trip: `BEGIN` and the
/// transaction-local setting go together as one simple query. (The id is formatted
/// into the text: a `Uuid` prints as hex digits and dashes only, nothing to escape.)
pub async fn begin(pool: &PgPool, tenant: Uuid) -> Result<Tx, sqlx::Error> {
    pool.begin_with(format!("BEGIN; SELECT set_config('tavle.tenant_id', '{tenant}', true)")).await
}

/// Bind an open transaction to `tenant` (transaction-local, so a pooled connection
/// never carries a tenant into the next request).
pub async fn set_tenant(conn: &mut sqlx::PgConnection, tenant: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('tavle.tenant_id', $1, true)").bind(tenant.to_string()).execute(conn).await?;
    Ok(())
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
