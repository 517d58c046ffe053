//! `tavle backup` and `tavle restore` (issue 14, item 15): the demo database makes the
//! round trip whole, with every table's rows, the audit chains (the same head hash from
//! `tavle audit verify`), row-level security and the application's grants; a restore
//! never lands on a database that has tables unless told to replace them.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use axum::http::StatusCode;
use sqlx::PgPool;
use tavle::db::embedded;
use tavle::state::Mode;

use crate::helpers::{app_on, as_superuser, cluster_url, spawn_app, unique_name, TestApp};

/// `tavle` as the owner of `url`'s database (the migration URL, as the commands use).
fn tavle_as(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tavle"))
        .args(args)
        .env("TAVLE_MIGRATION_DATABASE_URL", url)
        .env_remove("DATABASE_URL")
        .env("TAVLE_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Rows per table of the schema, as the superuser sees them (every municipality).
pub async fn row_counts(pool: &PgPool) -> BTreeMap<String, i64> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut counts = BTreeMap::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{t}\"")).fetch_one(pool).await.unwrap();
        counts.insert(t, n);
    }
    counts
}

/// What keeps the application in its place: row-level security (on, forced), the
/// policies, the triggers, and every grant to `tavle_app` (tables, columns, functions),
/// one line each, sorted.
async fn protections(pool: &PgPool) -> Vec<String> {
    let lines: Vec<String> = sqlx::query_scalar(
        "SELECT format('rls %s %s %s', c.relname, c.relrowsecurity, c.relforcerowsecurity) FROM pg_class c \
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' \
         UNION ALL SELECT format('policy %s %s %s %s %s %s', tablename, policyname, cmd, roles, qual, with_check) \
         FROM pg_policies WHERE schemaname = 'public' \
         UNION ALL SELECT format('trigger %s %s %s', tgrelid::regclass, tgname, tgenabled) FROM pg_trigger \
         WHERE NOT tgisinternal \
         UNION ALL SELECT format('table %s %s', table_name, privilege_type) FROM information_schema.role_table_grants \
         WHERE grantee = 'tavle_app' \
         UNION ALL SELECT format('column %s %s %s', table_name, column_name, privilege_type) \
         FROM information_schema.column_privileges WHERE grantee = 'tavle_app' \
         UNION ALL SELECT format('function %s %s', p.oid::regprocedure, \
             has_function_privilege('tavle_app', p.oid, 'EXECUTE')) FROM pg_proc p \
         WHERE p.pronamespace = 'public'::regnamespace \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(lines.len() > 100, "{lines:?}");
    lines
}

/// Each demo municipality's `tavle audit verify` line (OK, events, head hash).
fn verified(url: &str) -> Vec<String> {
    ["fjordvik", "smaoy"].iter().map(|slug| ok(tavle_as(url, &["audit", "verify", "--tenant", slug]))).collect()
}

/// Audit events in both municipalities: sign-ins and a pupil card each.
async fn some_work(app: &TestApp) {
    for (persona, school) in [("office_clerk", "Solbakken skole"), ("smaoy_office_clerk", "Småøy skule")] {
        let mut b = app.sign_in_as(persona).await;
        let pupil = app.pupil_at(school).await;
        assert_eq!(app.get(&mut b, &format!("/pupils/{pupil}")).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn backup_and_restore_round_trip_the_demo_database() {
    let app = spawn_app().await;
    some_work(&app).await;
    let file = std::env::temp_dir().join(format!("{}.tavle-backup", app.db_name));
    let file_arg = file.to_str().unwrap();
    let said = ok(tavle_as(&app.owner_url(), &["backup", file_arg]));
    assert!(said.contains(file_arg), "{said}");
    let before = verified(&app.owner_url());
    assert!(before.iter().all(|line| line.contains(": OK: ")), "{before:?}");

    let restored = unique_name("restored");
    as_superuser("postgres", &[&format!("CREATE DATABASE {restored}")]).await;
    let restored_url = cluster_url(embedded::SUPERUSER, &restored);
    ok(tavle_as(&restored_url, &["restore", file_arg]));
    let restored_app = app_on(&restored, Mode::Demo, &[]).await;
    let counts = row_counts(&app.owner).await;
    assert!(counts["audit_events"] >= 4 && counts["persons"] > 1000, "{counts:?}");
    assert_eq!(row_counts(&restored_app.owner).await, counts);
    assert_eq!(verified(&restored_url), before);
    assert_eq!(protections(&restored_app.owner).await, protections(&app.owner).await);

    // A second restore over it is refused and changes nothing; told to, it replaces.
    let again = tavle_as(&restored_url, &["restore", file_arg]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("not empty") && err.contains("--replace"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    ok(tavle_as(&restored_url, &["restore", "--replace", file_arg]));
    assert_eq!(row_counts(&restored_app.owner).await, counts);
    assert_eq!(verified(&restored_url), before);

    // The application's role works on the restored database, within its municipality,
    // and the audit chain goes on from the restored head.
    some_work(&restored_app).await;
    let unbound: i64 = sqlx::query_scalar("/* all tenants: RLS test */ SELECT count(*) FROM persons")
        .fetch_one(&restored_app.db)
        .await
        .unwrap();
    assert_eq!(unbound, 0, "no municipality set, no rows");
    let after = verified(&restored_url);
    assert!(after.iter().all(|line| line.contains(": OK: ")), "{after:?}");
    assert_ne!(after, before);
    std::fs::remove_file(&file).unwrap();
}

/// A restore refuses a file that is not a backup, and a backup refuses a path it
/// cannot write, each with one line and a non-zero exit.
#[tokio::test]
async fn a_bad_file_is_refused_with_one_line() {
    let app = spawn_app().await;
    let empty = unique_name("restored");
    as_superuser("postgres", &[&format!("CREATE DATABASE {empty}")]).await;
    let not_a_backup = std::env::temp_dir().join(format!("{empty}.txt"));
    std::fs::write(&not_a_backup, "this is not a backup\n").unwrap();
    for out in [
        tavle_as(&cluster_url(embedded::SUPERUSER, &empty), &["restore", not_a_backup.to_str().unwrap()]),
        tavle_as(&app.owner_url(), &["backup", "/nonexistent/dir/backup"]),
    ] {
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        .fetch_one(&app_on(&empty, Mode::Demo, &[]).await.owner)
        .await
        .unwrap();
    assert_eq!(tables, 0);
    std::fs::remove_file(&not_a_backup).unwrap();
}
