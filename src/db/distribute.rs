//! Distribution by municipality (Citus; issue 16): every table with a `tenant_id` is
//! distributed by it, all co-located, so that one municipality's rows of every table
//! live on one node and each request (which names its municipality as `$1`, see
//! [`super::Conn`]) is routed to one shard; `tenants` and the other tables without a
//! `tenant_id` become reference tables, copied to every node.
//!
//! [`distribute`] runs after the migrations (`tavle migrate`, `tavle serve`, `tavle
//! demo`) and by hand (`tavle distribute`). It does nothing on plain PostgreSQL, and
//! on Citus it distributes only what is not distributed yet, so the tables a later
//! migration creates are distributed the next time it runs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use sqlx::PgPool;

/// What distribution would do, or did: the reference tables, then the tenant tables
/// in an order in which every table comes after the tables its foreign keys name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub reference: Vec<String>,
    pub distributed: Vec<String>,
}

/// What [`distribute`] found.
#[derive(Debug)]
pub enum Outcome {
    /// The `citus` extension is not installed in the database: nothing to do.
    NoCitus,
    /// Distributed (the tables already distributed are left as they are).
    Distributed { plan: Plan, newly: Vec<String> },
}

/// The tables the migrations made, in the order Citus needs.
pub async fn plan(owner: &PgPool) -> anyhow::Result<Plan> {
    let tables: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                                         AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') \
           AND NOT c.relispartition AND c.relname NOT LIKE '\\_sqlx%' \
         ORDER BY 1",
    )
    .fetch_all(owner)
    .await
    .context("cannot list the tables")?;
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c \
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    )
    .fetch_all(owner)
    .await
    .context("cannot list the foreign keys")?;
    let tenant: BTreeSet<String> = tables.iter().filter(|(_, t)| *t).map(|(n, _)| n.clone()).collect();
    let reference = tables.iter().filter(|(_, t)| !*t).map(|(n, _)| n.clone()).collect();
    Ok(Plan { reference, distributed: in_key_order(&tenant, &references)? })
}

/// `tables` ordered so that each comes after the tables (of `tables`) it references.
fn in_key_order(tables: &BTreeSet<String>, references: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let mut needs: BTreeMap<&str, BTreeSet<&str>> = tables.iter().map(|t| (t.as_str(), BTreeSet::new())).collect();
    for (from, to) in references {
        if from != to && tables.contains(to) {
            if let Some(n) = needs.get_mut(from.as_str()) {
                n.insert(to.as_str());
            }
        }
    }
    let mut done: Vec<String> = Vec::new();
    while done.len() < tables.len() {
        let ready: Vec<&str> = needs
            .iter()
            .filter(|(t, n)| !done.iter().any(|d| d == *t) && n.iter().all(|x| done.iter().any(|d| d == x)))
            .map(|(t, _)| *t)
            .collect();
        if ready.is_empty() {
            anyhow::bail!("the foreign keys between tenant tables go round in a circle");
        }
        done.extend(ready.into_iter().map(str::to_owned));
    }
    Ok(done)
}

/// Distribute what is not distributed yet (see the module documentation).
pub async fn distribute(owner: &PgPool) -> anyhow::Result<Outcome> {
    let citus: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")
        .fetch_one(owner)
        .await
        .context("cannot look for the citus extension")?;
    if !citus {
        return Ok(Outcome::NoCitus);
    }
    let plan = plan(owner).await?;
    let mut conn = owner.acquire().await?;
    let done: BTreeSet<String> = sqlx::query_scalar("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    // The application sets its municipality with SET LOCAL, which Citus passes on to
    // the workers only when told to; for every role of this database.
    sqlx::query("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', current_database(), 'local'); END $$")
        .execute(&mut *conn)
        .await
        .context("cannot make the database pass SET LOCAL on to the workers (citus propagate_set_commands; run as its owner)")?;
    // The audit chain and the access epochs are triggers on tenant tables. They touch
    // only rows of their own municipality, which live on the same node (co-located):
    // safe to run on the shards.
    sqlx::query("SET citus.enable_unsafe_triggers = on").execute(&mut *conn).await?;
    // Citus distributes no table that a local table's foreign key names, nor one whose
    // keys name a local table: the keys of the tables not yet distributed go, the
    // tables are distributed, and the same keys come back (each leads with tenant_id,
    // as a key between co-located tables must).
    let pending: Vec<String> =
        plan.reference.iter().chain(&plan.distributed).filter(|t| !done.contains(*t)).cloned().collect();
    let keys: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
           AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1)) \
         ORDER BY 1, 2",
    )
    .bind(&pending)
    .fetch_all(&mut *conn)
    .await?;
    for (table, name, _) in &keys {
        // Identifiers from the catalogue, quoted.
        sqlx::query(&format!("ALTER TABLE \"{table}\" DROP CONSTRAINT \"{name}\""))
            .execute(&mut *conn)
            .await
            .with_context(|| format!("cannot set aside the key {name} of {table}"))?;
    }
    let mut newly = Vec::new();
    for t in &plan.reference {
        if !done.contains(t) {
            sqlx::query("SELECT create_reference_table($1::regclass)")
                .bind(t)
                .execute(&mut *conn)
                .await
                .with_context(|| format!("cannot make {t} a reference table"))?;
            newly.push(t.clone());
        }
    }
    let first = plan.distributed.first().cloned().unwrap_or_default();
    for t in &plan.distributed {
        if done.contains(t) {
            continue;
        }
        let colocate = if *t == first { "default".to_owned() } else { first.clone() };
        sqlx::query("SELECT create_distributed_table($1::regclass, 'tenant_id', colocate_with => $2)")
            .bind(t)
            .bind(&colocate)
            .execute(&mut *conn)
            .await
            .with_context(|| format!("cannot distribute {t} by tenant_id"))?;
        newly.push(t.clone());
    }
    for (table, name, definition) in &keys {
        sqlx::query(&format!("ALTER TABLE \"{table}\" ADD CONSTRAINT \"{name}\" {definition}"))
            .execute(&mut *conn)
            .await
            .with_context(|| format!("cannot restore the key {name} of {table}"))?;
    }
    Ok(Outcome::Distributed { plan, newly })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referenced_tables_come_first_and_a_circle_is_refused() {
        let tables: BTreeSet<String> = ["a", "b", "c", "d"].into_iter().map(str::to_owned).collect();
        let refs: Vec<(String, String)> = [("a", "b"), ("b", "c"), ("d", "tenants"), ("c", "c")]
            .into_iter()
            .map(|(x, y)| (x.to_owned(), y.to_owned()))
            .collect();
        let order = in_key_order(&tables, &refs).unwrap();
        let at = |t: &str| order.iter().position(|x| x == t).unwrap();
        assert_eq!(order.len(), 4);
        assert!(at("c") < at("b") && at("b") < at("a"), "{order:?}");
        let circle = [("a", "b"), ("b", "a")].map(|(x, y)| (x.to_owned(), y.to_owned()));
        assert!(in_key_order(&tables, &circle).is_err());
    }
}
