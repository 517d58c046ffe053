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
