//! The morning-peak benchmark's references (see benches/morning-peak.sh): the least a
//! page can do here, in three layers, so that the cost of each shows beside the
//! register page. Each reads a group's 30 pupils and renders them with askama, with no
//! session, policy or middleware:
//!
//! - `/bare/{group}`: one query on a connection that carries its municipality from the
//!   start (a connection parameter), no transaction;
//! - `/baseline/{group}`: the same read in a tenant transaction (`db::begin`, the
//!   query, `COMMIT`), as every request of Tavle runs: the benchmark's ratios are
//!   relative to this one;
//! - `/audited/{group}`: the tenant transaction, the read, and one audit event for the
//!   pupils read (`audit::insert`, as `Work::audit` writes it), committed durably
//!   before the answer.
//!
//! The group's municipality is looked up once at start, so teachers of several
//! municipalities can be played at once.
//!
//! `cargo run --release --example bench_baseline -- DATA_DIR LISTEN`

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::postgres::PgConnectOptions;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use tavle::audit::{self, Action, Event, Resource};
use tavle::policy::Purpose;

#[derive(Template)]
#[template(path = "bench/baseline.html")]
struct Baseline {
    pupils: Vec<(String, String)>,
}

#[derive(Clone)]
struct Bench {
    /// Connections bound to no municipality: each request begins a tenant transaction.
    pool: PgPool,
    /// Per municipality, connections that carry it as a connection parameter.
    bare: Arc<HashMap<Uuid, PgPool>>,
    /// Each group's municipality.
    groups: Arc<HashMap<Uuid, Uuid>>,
}

// The municipality named as `$1`, as Tavle's own statements name it (issue 16): the
// row-level security policy compares with IS NOT DISTINCT FROM, which no index can
// use, so without it the read is a sequential scan of every municipality's
// memberships (about 50 ms of PostgreSQL CPU in the large demo instead of 0.2 ms).
const PUPILS_SQL: &str = "SELECT p.id, p.given_name, p.family_name FROM group_memberships m \
     JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.pupil_id \
     WHERE m.tenant_id = $1 AND p.tenant_id = $1 AND m.group_id = $2 \
     ORDER BY p.family_name, p.given_name LIMIT 30";

async fn pupils(
    conn: &mut PgConnection,
    tenant: Uuid,
    group: Uuid,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    sqlx::query_as(PUPILS_SQL).bind(tenant).bind(group).fetch_all(conn).await
}

fn page(pupils: Vec<(Uuid, String, String)>) -> anyhow::Result<String> {
    Ok(Baseline { pupils: pupils.into_iter().map(|(_, g, f)| (g, f)).collect() }.render()?)
}

fn answer(result: anyhow::Result<String>) -> Response {
    match result {
        Ok(html) => Html(html).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn bare(State(b): State<Bench>, Path(group): Path<Uuid>) -> Response {
    answer(
        async {
            let tenant = b.groups.get(&group).ok_or_else(|| anyhow!("unknown group"))?;
            let pool = b.bare.get(tenant).ok_or_else(|| anyhow!("unknown municipality"))?;
            let mut conn = pool.acquire().await?;
            page(pupils(&mut conn, *tenant, group).await?)
        }
        .await,
    )
}

async fn baseline(State(b): State<Bench>, Path(group): Path<Uuid>) -> Response {
    answer(
        async {
            let tenant = *b.groups.get(&group).ok_or_else(|| anyhow!("unknown group"))?;
            let mut tx = tavle::db::begin(&b.pool, tenant).await?;
            let rows = pupils(&mut tx, tenant, group).await?;
            tx.commit().await?;
            page(rows)
        }
        .await,
    )
}

async fn audited(State(b): State<Bench>, Path(group): Path<Uuid>) -> Response {
    answer(
        async {
            let tenant = *b.groups.get(&group).ok_or_else(|| anyhow!("unknown group"))?;
            let mut tx = tavle::db::begin(&b.pool, tenant).await?;
            let rows = pupils(&mut tx, tenant, group).await?;
            let subjects: Vec<Uuid> = rows.iter().map(|(id, ..)| *id).collect();
            let event = Event {
                action: Action::Read,
                resource: Resource::AbsenceRegister,
                resource_id: Some(group),
                subjects: &subjects,
                purpose: Purpose::Teaching,
            };
            audit::insert(&mut tx, tenant, None, Some("teacher"), None, Some("127.0.0.1"), event)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            tx.commit().await?;
            page(rows)
        }
        .await,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, data_dir, listen] = args.as_slice() else {
        return Err(anyhow!("usage: bench_baseline DATA_DIR LISTEN"));
    };
    let url = format!("postgres://{}@localhost/tavle?host={data_dir}", tavle::db::embedded::APP_USER);
    let pool = tavle::db::connect(&url, 16).await?;
    let tenants: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug LIKE 'stor%' ORDER BY slug").fetch_all(&pool).await?;
    if tenants.is_empty() {
        return Err(anyhow!("no large municipality: build it with `tavle demo --size large`"));
    }
    let mut groups = HashMap::new();
    let mut bare_pools = HashMap::new();
    for tenant in tenants {
        let mut tx = tavle::db::begin(&pool, tenant).await?;
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM groups").fetch_all(&mut *tx).await?;
        tx.commit().await?;
        groups.extend(ids.into_iter().map(|g| (g, tenant)));
        let options: PgConnectOptions = url.parse().context("url")?;
        let options = options
            .application_name("tavle-bench-bare")
            .options([("timezone", "Europe/Oslo".to_owned()), ("tavle.tenant_id", tenant.to_string())]);
        let tenant_pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect_with(options).await?;
        bare_pools.insert(tenant, tenant_pool);
    }
    let state = Bench { pool, bare: Arc::new(bare_pools), groups: Arc::new(groups) };
    let app = Router::new()
        .route("/bare/{group}", get(bare))
        .route("/baseline/{group}", get(baseline))
        .route("/audited/{group}", get(audited))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen).await.context("listen")?;
    println!("baseline listening on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
