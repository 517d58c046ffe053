//! The command line: bad configuration and missing PostgreSQL each give one clear line.

use std::process::Command;

fn tavle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tavle"))
}

#[test]
fn a_malformed_setting_stops_start_up_with_one_line_naming_it() {
    let out = tavle().arg("demo").env("TAVLE_LISTEN", "everywhere").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("configuration error: TAVLE_LISTEN:"), "{err}");
}

#[test]
fn serve_without_database_url_names_it() {
    let out = tavle()
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("TAVLE_MIGRATION_DATABASE_URL")
        .env_remove("TAVLE_TODAY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.trim().lines().filter(|l| !l.contains(" INFO ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("DATABASE_URL"), "{err}");
}

#[test]
fn serve_refuses_a_date_that_is_not_today() {
    let out = tavle().arg("serve").env("TAVLE_TODAY", "2027-03-01").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("configuration error: TAVLE_TODAY:"), "{err}");
}

#[test]
fn help_explains_each_command() {
    let out = tavle().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["demo", "serve", "migrate", "import", "audit", "idp"] {
        assert!(text.contains(cmd), "{text}");
    }
    let out = tavle().args(["demo", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--data-dir", "--listen", "--reset", "--size"] {
        assert!(text.contains(flag), "{text}");
    }
}

/// After start-up `tavle demo` holds connections to its database as the application's
/// login only (issue 14, item 11): the superuser connections that created the database,
/// the login and the demo data are all gone, not left idle for the life of the process.
/// Several starts, since the leak depended on timing; the first builds the demo.
#[tokio::test]
async fn demo_keeps_no_superuser_connection_after_start_up() {
    use crate::helpers::{free_port, Running};
    use sqlx::Connection;

    /// The data directory, removed when the test ends, however it ends (after the
    /// demo, which is declared later and so stopped first).
    struct DataDir(std::path::PathBuf);
    impl Drop for DataDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let dir = DataDir(std::env::temp_dir().join(format!("tavle-demo-conns-{}", std::process::id())));
    let dir = &dir.0;
    let _ = std::fs::remove_dir_all(dir);
    for start in 0..4 {
        let port = free_port();
        let mut demo = Running(
            tavle()
                .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
                .arg(dir)
                .env("TAVLE_LOG", "warn")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        demo.wait_until_ready(port).await;
        // The cluster's superuser, over the demo's own socket (as src/db/embedded.rs makes URLs).
        let url = format!("postgres://postgres@localhost/postgres?host={}", dir.display());
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let clients: Vec<(String, String)> = sqlx::query_as(
            "SELECT usename::text, datname::text FROM pg_stat_activity \
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        assert!(demo.stop().success(), "start {start}");
        assert!(!clients.is_empty(), "start {start}: the server holds no connection at all");
        assert!(clients.iter().all(|(user, _)| user == "tavle_app"), "start {start}: {clients:?}");
    }
}

/// `tavle demo --external` builds the demo in the database the environment names (as
/// for a Citus cluster, `scripts/citus-local`), and `tavle distribute` there, on plain
/// PostgreSQL, says so and changes nothing.
#[tokio::test]
async fn the_demo_builds_in_an_external_database_and_distribute_leaves_plain_postgres_alone() {
    use crate::helpers::{as_superuser, cluster_url, unique_name};
    use tavle::db::embedded::{APP_USER, SUPERUSER};
    let name = unique_name("external");
    as_superuser("postgres", &[&format!("CREATE DATABASE {name}")]).await;
    let run = |args: &[&str]| {
        tavle()
            .args(args)
            .env("TAVLE_MIGRATION_DATABASE_URL", cluster_url(SUPERUSER, &name))
            .env("DATABASE_URL", cluster_url(APP_USER, &name))
            .env_remove("TAVLE_LISTEN")
            .output()
            .unwrap()
    };
    let out = run(&["demo", "--external", "--no-serve"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let owner = tavle::db::connect(&cluster_url(SUPERUSER, &name), 1).await.unwrap();
    let tenants: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM tenants ORDER BY slug").fetch_all(&owner).await.unwrap();
    assert_eq!(tenants, ["fjordvik", "smaoy"]);
    // Each new municipality got its lists from tavle_create_tenant, not a trigger.
    let reasons: i64 = sqlx::query_scalar("SELECT count(*) FROM absence_reasons").fetch_one(&owner).await.unwrap();
    assert_eq!(reasons, 14);
    let out = run(&["distribute"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("citus extension is not installed"), "{said}");
    tavle::db::close(owner).await;
}
