//! The database: connection pools, migrations, the tenant transaction every request
//! runs in, and the embedded PostgreSQL used by `tavle demo` and the tests.

pub mod embedded;

use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A transaction that has set its tenant: row-level security shows and accepts only
/// that tenant's rows.
pub type Tx = Transaction<'static, Postgres>;

/// Open a pool. `max` bounds concurrent connections.
pub async fn connect(url: &str, max: u32) -> anyhow::Result<PgPool> {
    connect_with_timeout(url, max, Duration::from_secs(10)).await
}

/// Open a pool whose requests wait at most `acquire_timeout` for a connection (then
/// `sqlx::Error::PoolTimedOut`, which a request answers with the calm 503). A
/// connection is checked before it is handed out (sqlx's default), so after the
/// database was restarted the pool replaces its dead connections by itself.
pub async fn connect_with_timeout(url: &str, max: u32, acquire_timeout: Duration) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a valid URL")?;
    PgPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .test_before_acquire(true)
        .connect_with(
            options
                .application_name("tavle")
                // "Today" is a Norwegian school day, whatever the server's zone.
                .options([("timezone", "Europe/Oslo")]),
        )
        .await
        .context("cannot connect to the database")
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
