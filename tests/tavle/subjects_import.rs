//! `tavle import subjects`: the directorate's subject codes from Grep's JSON. All or
//! nothing, idempotent, every bad entry reported by its position in the file, one
//! municipality only, and the municipality's grade scales never touched.

use std::process::Command;

use time::macros::date;
use time::Date;
use uuid::Uuid;

use tavle::assessment::subjects_import::{self, ImportError, ImportOptions, Report};

use crate::helpers::{spawn_app, TestApp};

const EXAMPLE: &[u8] = include_bytes!("../../docs/grep-fagkoder.example.json");
const BAD: &[u8] = include_bytes!("../fixtures/grep-fagkoder.bad.json");
/// The subject codes of the example, in its order; UTV0010 has expired.
const CODES: [&str; 14] = [
    "NOR0214", "NOR0215", "NOR0216", "MAT0010", "ENG0012", "ENG0013", "NAT0010", "SAF0010", "RLE0030", "KHV0010",
    "MUS0010", "MHE0010", "KRO0020", "UTV0010",
];
/// Every problem of the bad example, in the order they are reported.
const BAD_PROBLEMS: [&str; 9] = [
    "entry 2: not an object (a subject code is {\"kode\": …, \"tittel\": …})",
    "entry 3: kode: is missing",
    "entry 4 (sam01): kode: not a subject code (3-12 capital letters A-Z, Æ, Ø, Å or digits, e.g. MAT0010)",
    "entry 5 (ENG0012): tittel: no usable title (none in bokmål, nob, or default)",
    "entry 6 (KHV0010): tittel (nob): longer than 200 characters",
    "entry 7 (MUS0010): gyldig-fra: not a date (YYYY-MM-DD)",
    "entry 8 (MHE0010): gyldig-til: is before gyldig-fra",
    "entry 9 (MAT0010): the same code as entry 1",
    "entry 10 (ØKO1001): the code has letters a local subject code cannot hold (A-Z and 0-9 only), \
     and no subject in Tavle has it as its Grep code",
];

fn options(app: &TestApp) -> ImportOptions {
    ImportOptions { dry_run: false, today: Some(app.today) }
}

/// The demo's subjects carry the directorate's codes already (as a municipality that
/// has imported once); these tests start from one that has not.
async fn without_codes(app: &TestApp) {
    sqlx::query("UPDATE subjects SET grep_code = NULL").execute(&app.owner).await.expect("no codes yet");
}

async fn import(app: &TestApp, tenant: &str, file: &[u8]) -> Result<Report, ImportError> {
    // The application's login: row-level security applies to the import as to a request.
    subjects_import::import(&app.db, tenant, file, options(app)).await
}

fn problems(result: Result<Report, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Invalid(problems)) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected a rejected file, got {other:?}"),
    }
}

/// Every subject of a municipality with its row version (`xmin` changes on every
/// update, even one that writes the same values).
async fn snapshot(app: &TestApp, slug: &str) -> String {
    sqlx::query_scalar(
        "SELECT coalesce(string_agg(concat_ws(',', s.id, s.xmin, s.code, s.grep_code, s.name_nb, s.name_en, \
                s.name_nn, s.valid_to, s.half_year_scale, s.final_scale), ';' ORDER BY s.id), '') \
         FROM subjects s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = $1",
    )
    .bind(slug)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn count(app: &TestApp, slug: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM subjects s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = $1")
        .bind(slug)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// (code, name_nb, name_en, name_nn, valid_to, half_year_scale, final_scale) of the
/// subject with a Grep code.
type Row = (String, String, String, Option<String>, Option<Date>, String, String);

async fn subject(app: &TestApp, slug: &str, grep_code: &str) -> Row {
    sqlx::query_as(
        "SELECT s.code, s.name_nb, s.name_en, s.name_nn, s.valid_to, s.half_year_scale, s.final_scale \
         FROM subjects s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = $1 AND s.grep_code = $2",
    )
    .bind(slug)
    .bind(grep_code)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

fn row(code: &str, nb: &str, en: &str, nn: Option<&str>, valid_to: Option<Date>) -> Row {
    let grade = || "grade".to_owned();
    (code.into(), nb.into(), en.into(), nn.map(str::to_owned), valid_to, grade(), grade())
}

/// A file of one entry.
fn one(code: &str, nob: &str, status: &str, gyldig_til: Option<&str>) -> Vec<u8> {
    serde_json::json!([{
        "kode": code,
        "tittel": [{"spraak": "nob", "verdi": nob}],
        "status": format!("http://psi.udir.no/ontologi/status/{status}"),
        "gyldig-til": gyldig_til,
    }])
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn the_example_imports_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    without_codes(&app).await;
    let fjordvik_before = count(&app, "fjordvik").await;
    let smaoy_before = snapshot(&app, "smaoy").await;

    let report = import(&app, "fjordvik", EXAMPLE).await.unwrap();
    assert_eq!(
        report,
        Report {
            tenant: "fjordvik".into(),
            entries: 14,
            added: 14,
            expired: vec![("UTV0010".into(), date!(2020 - 07 - 31))],
            ..Report::default()
        }
    );
    assert_eq!(count(&app, "fjordvik").await, fjordvik_before + 14);
    for code in CODES {
        assert_eq!(subject(&app, "fjordvik", code).await.0, code, "a new subject's local code is Grep's");
    }
    // Each language where Tavle keeps it; English falls back to bokmål; other
    // languages (the file has Northern Sami for MAT0010) are not stored.
    assert_eq!(
        subject(&app, "fjordvik", "MAT0010").await,
        row("MAT0010", "Matematikk", "Mathematics", Some("Matematikk"), None)
    );
    assert_eq!(
        subject(&app, "fjordvik", "KHV0010").await,
        row("KHV0010", "Kunst og håndverk", "Art and crafts", Some("Kunst og handverk"), None)
    );
    assert_eq!(
        subject(&app, "fjordvik", "NOR0216").await,
        row("NOR0216", "Norsk muntlig", "Norsk muntlig", Some("Norsk munnleg"), None)
    );
    assert_eq!(
        subject(&app, "fjordvik", "UTV0010").await,
        row("UTV0010", "Utdanningsvalg", "Educational choices", Some("Utdanningsval"), Some(date!(2020 - 07 - 31)))
    );
    // The demo's own subjects (MAT, NOR, …) are another catalogue: left as they were.
    let linked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM subjects s JOIN tenants t ON t.id = s.tenant_id \
         WHERE t.slug = 'fjordvik' AND s.code IN ('MAT', 'NOR') AND s.grep_code IS NULL",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(linked, 2);
    // The other municipality is untouched.
    assert_eq!(snapshot(&app, "smaoy").await, smaoy_before);

    let before = snapshot(&app, "fjordvik").await;
    let again = import(&app, "fjordvik", EXAMPLE).await.unwrap();
    assert_eq!((again.added, again.changed, again.unchanged), (0, 0, 14), "{again}");
    assert!(again.expired.is_empty(), "{again}");
    assert_eq!(again.to_string(), "subject import for fjordvik: 14 subject codes, no changes (14 unchanged)");
    assert_eq!(snapshot(&app, "fjordvik").await, before, "a second run wrote something");
}

#[tokio::test]
async fn a_changed_title_is_one_change_and_the_grade_scales_stay() {
    let app = spawn_app().await;
    without_codes(&app).await;
    import(&app, "fjordvik", EXAMPLE).await.unwrap();
    // The municipality's own setting for physical education.
    sqlx::query(
        "UPDATE subjects SET half_year_scale = 'participated', final_scale = 'pass_fail' WHERE grep_code = 'KRO0020'",
    )
    .execute(&app.owner)
    .await
    .unwrap();
    let text = std::str::from_utf8(EXAMPLE).unwrap();
    assert_eq!(text.matches("\"Physical education\"").count(), 1);
    let changed = text.replace("\"Physical education\"", "\"Physical education and health\"");

    let report = import(&app, "fjordvik", changed.as_bytes()).await.unwrap();
    assert_eq!((report.added, report.changed, report.unchanged, report.linked), (0, 1, 13, 0), "{report}");
    assert_eq!(report.to_string(), "subject import for fjordvik: 14 subject codes, 0 added, 1 changed, 13 unchanged");
    let (code, nb, en, nn, valid_to, half_year, final_scale) = subject(&app, "fjordvik", "KRO0020").await;
    assert_eq!(
        (code.as_str(), nb.as_str(), en.as_str(), nn.as_deref(), valid_to),
        ("KRO0020", "Kroppsøving", "Physical education and health", Some("Kroppsøving"), None)
    );
    assert_eq!((half_year.as_str(), final_scale.as_str()), ("participated", "pass_fail"));
}

#[tokio::test]
async fn a_bad_file_reports_every_numbered_problem_and_writes_nothing() {
    let app = spawn_app().await;
    without_codes(&app).await;
    let before = snapshot(&app, "fjordvik").await;
    let result = import(&app, "fjordvik", BAD).await;
    assert_eq!(result.as_ref().unwrap_err().to_string(), "nothing imported: 9 problems");
    assert_eq!(problems(result), BAD_PROBLEMS);
    assert_eq!(snapshot(&app, "fjordvik").await, before, "a rejected file wrote something");

    // A file that is not JSON at all, or has no subject codes: one clear problem.
    let got = problems(import(&app, "fjordvik", b"kode;tittel\nMAT0010;Matematikk\n").await);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("the file is not JSON (expected value at line 1 column 1"), "{got:?}");
    assert_eq!(problems(import(&app, "fjordvik", b"[]").await), ["no subject codes: the file's list is empty"]);
    assert_eq!(snapshot(&app, "fjordvik").await, before);
}

#[tokio::test]
async fn a_subject_with_the_code_as_its_local_code_is_linked_not_doubled() {
    let app = spawn_app().await;
    without_codes(&app).await;
    let fjordvik = app.tenant_id("fjordvik").await;
    // Typed in by hand before the import, with the municipality's own scale.
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO subjects (tenant_id, code, name_nb, name_en, final_scale) \
         VALUES ($1, 'MAT0010', 'Matte', 'Maths', 'pass_fail') RETURNING id",
    )
    .bind(fjordvik)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let before = count(&app, "fjordvik").await;

    let report = import(&app, "fjordvik", EXAMPLE).await.unwrap();
    assert_eq!((report.added, report.changed, report.linked), (13, 1, 1), "{report}");
    assert!(report.to_string().contains("\n  1 subject Tavle had under the same code now linked to Grep"), "{report}");
    assert_eq!(count(&app, "fjordvik").await, before + 13);
    let (linked_id, grep_code, nb, en, nn, final_scale): (Uuid, String, String, String, Option<String>, String) =
        sqlx::query_as(
            "SELECT id, grep_code, name_nb, name_en, name_nn, final_scale FROM subjects \
             WHERE tenant_id = $1 AND code = 'MAT0010'",
        )
        .bind(fjordvik)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(linked_id, id);
    assert_eq!(
        (grep_code.as_str(), nb.as_str(), en.as_str(), nn.as_deref(), final_scale.as_str()),
        ("MAT0010", "Matematikk", "Mathematics", Some("Matematikk"), "pass_fail")
    );

    // A local code already linked to another Grep code cannot take this one too.
    sqlx::query(
        "INSERT INTO subjects (tenant_id, code, grep_code, name_nb, name_en) \
         VALUES ($1, 'TYS0010', 'FSP6090', 'Tysk', 'German')",
    )
    .bind(fjordvik)
    .execute(&app.owner)
    .await
    .unwrap();
    let before = snapshot(&app, "fjordvik").await;
    let mut file: Vec<serde_json::Value> = serde_json::from_slice(EXAMPLE).unwrap();
    file.extend(serde_json::from_slice::<Vec<serde_json::Value>>(&one("TYS0010", "Tysk", "publisert", None)).unwrap());
    let file = serde_json::to_vec(&file).unwrap();
    assert_eq!(
        problems(import(&app, "fjordvik", &file).await),
        ["entry 15 (TYS0010): the local subject TYS0010 is linked to the Grep code FSP6090 already; \
          the code would name two subjects"]
    );
    assert_eq!(snapshot(&app, "fjordvik").await, before);
}

/// Each municipality has its own catalogue. The import names its municipality in every
/// statement, so even through the superuser's pool, which row-level security does not
/// bind, it writes the one it was given.
#[tokio::test]
async fn each_municipality_gets_its_own_catalogue() {
    let app = spawn_app().await;
    without_codes(&app).await;
    import(&app, "fjordvik", EXAMPLE).await.unwrap();
    let fjordvik = snapshot(&app, "fjordvik").await;
    let smaoy_before = count(&app, "smaoy").await;
    let report = subjects_import::import(&app.owner, "smaoy", EXAMPLE, options(&app)).await.unwrap();
    assert_eq!((report.added, report.changed), (14, 0), "{report}");
    assert_eq!(count(&app, "smaoy").await, smaoy_before + 14);
    assert_eq!(snapshot(&app, "fjordvik").await, fjordvik);

    let err = import(&app, "atlantis", EXAMPLE).await.unwrap_err();
    assert!(matches!(err, ImportError::UnknownTenant(_)), "{err:?}");
    assert_eq!(err.to_string(), "no municipality with the slug \"atlantis\"");
}

#[tokio::test]
async fn a_dry_run_reports_the_same_and_writes_nothing() {
    let app = spawn_app().await;
    without_codes(&app).await;
    let before = snapshot(&app, "fjordvik").await;
    let dry = ImportOptions { dry_run: true, ..options(&app) };
    let report = subjects_import::import(&app.db, "fjordvik", EXAMPLE, dry).await.unwrap();
    assert!(report.to_string().starts_with("dry run, nothing saved: subject import for fjordvik"), "{report}");
    assert_eq!(snapshot(&app, "fjordvik").await, before, "a dry run wrote something");
    let real = import(&app, "fjordvik", EXAMPLE).await.unwrap();
    assert_eq!(Report { dry_run: false, ..report }, real);
}

/// Expired without a `gyldig-til`: the subject ends on the day an import first saw it
/// expired, and keeps that day; published again, it has no end.
#[tokio::test]
async fn an_expired_code_without_an_end_date_ends_on_the_import_date() {
    let app = spawn_app().await;
    without_codes(&app).await;
    let on = |today: Date| ImportOptions { dry_run: false, today: Some(today) };
    let expired = one("SPA0010", "Spansk", "utgaatt", Some(""));
    let report = subjects_import::import(&app.db, "fjordvik", &expired, on(date!(2026 - 01 - 05))).await.unwrap();
    assert_eq!((report.added, &report.expired), (1, &vec![("SPA0010".to_owned(), date!(2026 - 01 - 05))]));
    assert_eq!(subject(&app, "fjordvik", "SPA0010").await.4, Some(date!(2026 - 01 - 05)));

    let before = snapshot(&app, "fjordvik").await;
    let later = subjects_import::import(&app.db, "fjordvik", &expired, on(date!(2026 - 03 - 01))).await.unwrap();
    assert!(!later.changed(), "{later}");
    assert_eq!(snapshot(&app, "fjordvik").await, before);

    let published = one("SPA0010", "Spansk", "publisert", None);
    let report = subjects_import::import(&app.db, "fjordvik", &published, on(date!(2026 - 03 - 01))).await.unwrap();
    assert_eq!((report.changed, report.expired.len()), (1, 0), "{report}");
    assert_eq!(subject(&app, "fjordvik", "SPA0010").await.4, None);
}

#[tokio::test]
async fn the_command_reports_problems_on_stderr_and_the_summary_on_stdout() {
    let app = spawn_app().await;
    without_codes(&app).await;
    let dir = std::env::temp_dir().join(format!("tavle-subjects-{}-{}", std::process::id(), app.db_name));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("fagkoder.json");
    std::fs::write(&good, EXAMPLE).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, BAD).unwrap();
    let run = |file: &std::path::Path, flags: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tavle"))
            .args(["import", "subjects"])
            .arg(file)
            .args(flags)
            .env("DATABASE_URL", app.app_database_url())
            .env("TAVLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let out = run(&bad, &["--municipality", "fjordvik"]);
    assert!(!out.status.success());
    let mut expected: Vec<&str> = BAD_PROBLEMS.to_vec();
    expected.push("error: nothing imported: 9 problems");
    assert_eq!(text(&out.stderr).lines().collect::<Vec<_>>(), expected);
    assert!(out.stdout.is_empty());

    let out = run(&good, &["--tenant", "atlantis"]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stderr).trim(), "error: no municipality with the slug \"atlantis\"");

    let summary = "subject import for fjordvik: 14 subject codes, 14 added, 0 changed, 0 unchanged\n  \
                   expired or expiring: UTV0010 (valid to 2020-07-31)";
    let out = run(&good, &["--municipality", "fjordvik", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("dry run, nothing saved: {summary}"));
    let out = run(&good, &["--tenant", "fjordvik"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), summary);
    let out = run(&good, &["--tenant", "fjordvik"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).trim(), "subject import for fjordvik: 14 subject codes, no changes (14 unchanged)");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The demo's subjects already carry their directorate codes: the example updates those
/// ten (their titles) and adds only the four it has beside them, so nothing is doubled.
#[tokio::test]
async fn subjects_with_the_code_already_are_updated_not_doubled() {
    let app = spawn_app().await;
    let before = count(&app, "fjordvik").await;
    let report = import(&app, "fjordvik", EXAMPLE).await.unwrap();
    assert_eq!((report.added, report.changed, report.unchanged), (4, 10, 0), "{report}");
    assert_eq!(count(&app, "fjordvik").await, before + 4);
    let (code, nb): (String, String) =
        sqlx::query_as("SELECT code, name_nb FROM subjects WHERE grep_code = 'MAT0010' AND tenant_id = (SELECT id FROM tenants WHERE slug = 'fjordvik')")
            .fetch_one(&app.owner)
            .await
            .expect("mathematics");
    assert_eq!((code.as_str(), nb.as_str()), ("MAT", "Matematikk"), "the local code stays; the title is Grep's");
}
