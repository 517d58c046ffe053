//! The morning-peak benchmark's baseline (see benches/morning-peak.sh): the least a
//! page can do here — read a group's 30 pupils in a tenant transaction and render them
//! with askama — with no session, policy, audit or middleware. The register page is
//! measured against it.
//!
//! `cargo run --release --example bench_baseline -- DATA_DIR LISTEN`

use anyhow::{anyhow, Context};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "bench/baseline.html")]
struct Baseline {
    pupils: Vec<(String, String)>,
}

#[derive(Clone)]
struct Bench {
    pool: PgPool,
    tenant: Uuid,
}

async fn page(State(b): State<Bench>, Path(group): Path<Uuid>) -> Response {
    let result = async {
        let mut tx = tavle::db::begin(&b.pool, b.tenant).await?;
        let pupils: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.given_name, p.family_name FROM group_memberships m \
             JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.pupil_id \
             WHERE m.group_id = $1 ORDER BY p.family_name, p.given_name LIMIT 30",
        )
        .bind(group)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        anyhow::Ok(Baseline { pupils }.render()?)
    }
    .await;
    match result {
        Ok(html) => Html(html).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, data_dir, listen] = args.as_slice() else {
        return Err(anyhow!("usage: bench_baseline DATA_DIR LISTEN"));
    };
    let url = format!("postgres://{}@localhost/tavle?host={data_dir}", tavle::db::embedded::APP_USER);
    let pool = tavle::db::connect(&url, 16).await?;
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'storby'").fetch_one(&pool).await?;
    let app = Router::new().route("/baseline/{group}", get(page)).with_state(Bench { pool, tenant });
    let listener = tokio::net::TcpListener::bind(listen).await.context("listen")?;
    println!("baseline listening on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
