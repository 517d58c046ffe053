//! `tavle import hr`: staff from the HR system. All or nothing, idempotent, every bad
//! line reported, no full national id in any message, one municipality only.

use std::process::Command;

use axum::http::StatusCode;
use time::macros::date;
use time::Date;
use uuid::Uuid;

use tavle::hr::{self, ImportError, ImportOptions, ImportReport};

use crate::helpers::{spawn_app, Browser, TestApp};

const EXAMPLE: &[u8] = include_bytes!("../../docs/hr-import-example.csv");
const HEADER: &str =
    "resource_number;national_id;given_name;family_name;workplace_org_number;position_code;position_percentage;from;to;leave";
/// The demo's Solbakken skole and the municipal unit of Fjordvik (deterministic).
const SOLBAKKEN: &str = "912675378";
const UNIT: &str = "920019692";
const TODAY: Date = date!(2026 - 11 - 23);

fn options() -> ImportOptions {
    ImportOptions { today: Some(TODAY), ..ImportOptions::default() }
}

fn full() -> ImportOptions {
    ImportOptions { full: true, ..options() }
}

fn csv(lines: &[&str]) -> Vec<u8> {
    let mut s = format!("{HEADER}\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s.into_bytes()
}

/// The example file's lines, without the header.
fn example_lines() -> Vec<String> {
    std::str::from_utf8(EXAMPLE).unwrap().lines().skip(1).map(str::to_owned).collect()
}

fn example_with(change: impl Fn(&str) -> Option<String>) -> Vec<u8> {
    let lines: Vec<String> = example_lines().iter().filter_map(|l| change(l)).collect();
    csv(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

async fn import(app: &TestApp, tenant: &str, file: &[u8], options: ImportOptions) -> Result<ImportReport, ImportError> {
    // The application's login: row-level security applies to the import as to a request.
    hr::import(&app.db, tenant, file, options).await
}

fn problems(result: Result<ImportReport, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Invalid(errors)) => errors.iter().map(ToString::to_string).collect(),
        other => panic!("expected a rejected file, got {other:?}"),
    }
}

/// Every row of the tables an import writes, with its row version (`xmin` changes on
/// every update, even one that writes the same values), and the audit log's length.
async fn snapshot(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|', \
           (SELECT string_agg(concat_ws(',', id, xmin, given_name, family_name, updated_at), ';' ORDER BY id) \
              FROM persons), \
           (SELECT string_agg(concat_ws(',', person_id, xmin, resource_number), ';' ORDER BY person_id) FROM staff), \
           (SELECT string_agg(concat_ws(',', id, xmin, position_percentage, to_date, on_leave), ';' ORDER BY id) \
              FROM employments), \
           (SELECT count(*) FROM audit_events))",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

/// (percentage, to_date, on_leave) of a person's employment at a workplace.
async fn employment(app: &TestApp, national_id: &str, org: &str) -> Option<(String, Option<Date>, bool)> {
    sqlx::query_as(
        "SELECT e.position_percentage::text, e.to_date, e.on_leave FROM employments e \
         JOIN persons p ON p.tenant_id = e.tenant_id AND p.id = e.staff_id \
         LEFT JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id \
         LEFT JOIN municipal_units u ON u.tenant_id = e.tenant_id AND u.id = e.unit_id \
         WHERE p.national_id = $1 AND coalesce(s.org_number, u.org_number) = $2",
    )
    .bind(national_id)
    .bind(org)
    .fetch_optional(&app.owner)
    .await
    .unwrap()
}

/// The office clerk persona's employment as an HR line, with `leave`.
async fn office_clerk_line(app: &TestApp, leave: &str) -> (String, String) {
    let (nid, resource, given, family, code, from): (String, String, String, String, String, Date) = sqlx::query_as(
        "SELECT p.national_id, st.resource_number, p.given_name, p.family_name, e.position_code, e.from_date \
         FROM persons p JOIN staff st ON st.tenant_id = p.tenant_id AND st.person_id = p.id \
         JOIN employments e ON e.tenant_id = p.tenant_id AND e.staff_id = p.id \
         WHERE p.feide_id = 'siri.haugen@fjordvik.kommune.no'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let line = format!("{resource};{nid};{given};{family};{SOLBAKKEN};{code};100;{from};;{leave}");
    (line, nid)
}

#[tokio::test]
async fn a_good_file_imports_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let report = import(&app, "fjordvik", EXAMPLE, options()).await.unwrap();
    assert_eq!(
        report,
        ImportReport {
            tenant: "fjordvik".into(),
            lines: 6,
            persons_created: 5,
            staff_created: 5,
            employments_created: 6,
            ..ImportReport::default()
        }
    );
    let (given, family, born, resource): (String, String, Option<Date>, String) = sqlx::query_as(
        "SELECT p.given_name, p.family_name, p.birth_date, s.resource_number FROM persons p \
         JOIN staff s ON s.tenant_id = p.tenant_id AND s.person_id = p.id WHERE p.national_id = '02918643101'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        (given.as_str(), family.as_str(), born, resource.as_str()),
        ("Henrik", "Bø", Some(date!(1986 - 11 - 02)), "200002")
    );
    // The file's `to` is the last day; ends are stored exclusive.
    assert_eq!(
        employment(&app, "02918643101", "994185578").await,
        Some(("20.00".into(), Some(date!(2027 - 07 - 01)), false))
    );
    assert_eq!(employment(&app, "23819143188", "971281251").await, Some(("62.50".into(), None, true)));
    assert_eq!(employment(&app, "30896843113", UNIT).await, Some(("100.00".into(), None, false)));
    // The import is in the audit log, by no person, naming everyone it wrote about.
    let (actor, subjects): (Option<Uuid>, i32) = sqlx::query_as(
        "SELECT actor_person_id, cardinality(subject_ids) FROM audit_events \
         WHERE action = 'import' AND resource = 'hr_import'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!((actor, subjects), (None, 5));

    let before = snapshot(&app).await;
    let again = import(&app, "fjordvik", EXAMPLE, options()).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    assert_eq!(again.employments_unchanged, 6);
    assert_eq!(again.to_string(), "HR import for fjordvik: 6 lines, no changes (6 employments unchanged)");
    assert_eq!(snapshot(&app).await, before, "a second run wrote something");
}

/// H-numbers identify a health service's auxiliary record, not a person in the
/// population register: refused everywhere. Synthetic (test population) numbers only
/// where the municipality is flagged as a test or demo one, as the demo's are.
#[tokio::test]
async fn h_numbers_are_refused_and_synthetic_numbers_only_in_a_test_municipality() {
    let app = spawn_app().await;
    let before = snapshot(&app).await;
    let mut lines = example_lines();
    lines.push("200010;15451012344;Hanna;Helse;912675378;7956;100;2024-08-01;;nei".to_owned());
    let file = csv(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        problems(import(&app, "fjordvik", &file, options()).await),
        vec![
            "line 8: national id 154510 *****: an H-number is a health service's auxiliary number, \
             not a person's number in the population register"
        ]
    );
    assert_eq!(snapshot(&app).await, before, "a rejected file wrote something");

    // Fjordvik as a production municipality: the example's synthetic numbers are refused,
    // every line named.
    let flag = |on: bool| {
        sqlx::query("UPDATE tenants SET allows_synthetic_ids = $1 WHERE slug = 'fjordvik'").bind(on).execute(&app.owner)
    };
    flag(false).await.unwrap();
    let got = problems(import(&app, "fjordvik", EXAMPLE, options()).await);
    assert_eq!(got.len(), 6, "{got:?}");
    for (line, message) in (2..).zip(&got) {
        assert!(message.starts_with(&format!("line {line}: national id ")), "{message}");
        assert!(
            message.ends_with(
                "*****: a synthetic number (Skatteetaten's test population); this municipality takes real numbers only"
            ),
            "{message}"
        );
    }
    assert_eq!(snapshot(&app).await, before, "a rejected file wrote something");
    // The demo's own flag: the same file is accepted.
    flag(true).await.unwrap();
    let report = import(&app, "fjordvik", EXAMPLE, options()).await.unwrap();
    assert_eq!(report.persons_created, 5);
}

/// A name typed with a combining ring is stored composed (NFC), and the same file
/// written either way is the same file to Tavle.
#[tokio::test]
async fn names_are_stored_in_nfc() {
    let app = spawn_app().await;
    let decomposed = String::from_utf8(EXAMPLE.to_vec()).unwrap().replace("Lunde", "La\u{30a}nde");
    assert!(decomposed.contains('\u{30a}'));
    import(&app, "fjordvik", decomposed.as_bytes(), options()).await.unwrap();
    let family: String = sqlx::query_scalar("SELECT family_name FROM persons WHERE national_id = '14857943288'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(family, "L\u{e5}nde");
    let composed = decomposed.replace("La\u{30a}nde", "L\u{e5}nde");
    let before = snapshot(&app).await;
    let again = import(&app, "fjordvik", composed.as_bytes(), options()).await.unwrap();
    assert!(!again.changed(), "{again:?}");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_file_with_bad_lines_applies_nothing_and_reports_every_line() {
    let app = spawn_app().await;
    let before = snapshot(&app).await;
    let mut lines = example_lines();
    lines.extend([
        // A workplace of another municipality (Småøy skule).
        "200010;14857943288;Astrid;Lunde;904214825;7956;100;2019-08-01;;nei".to_owned(),
        "200011;1485794328;Per;Berg;912675378;7956;100;2019-08-01;;nei".to_owned(),
        "200012;07879543287;Sunniva;Dahl;912675378;79561;120;2019-08-01;;nei".to_owned(),
        "200013;30896843113;Ole Martin;Strand;920019692;7070;100;2019-08-01;2019-07-31;vet ikke".to_owned(),
        "200001;14857943288;Astrid;Lunde;912675378;7956;80;01.08.2019;;nei".to_owned(),
    ]);
    let file = csv(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let got = problems(import(&app, "fjordvik", &file, options()).await);
    let expected = [
        "line 8: national id 148579 *****: another resource number than on line 2 (a person has one)",
        "line 8: workplace: no school or municipal unit in fjordvik has organisation number 904214825",
        "line 9: national id: a national identity number has 11 digits (12 for a DUF number), but 10 digits were given",
        "line 10: position code: must be 4 digits",
        "line 10: position percentage: must be more than 0 and at most 100",
        "line 11: to: is before from",
        "line 11: leave: write yes or no (or ja/nei, true/false, 1/0)",
        "line 12: duplicate of line 2 (same resource number, workplace, position code and from)",
    ];
    assert_eq!(got, expected);
    assert_eq!(snapshot(&app).await, before, "a rejected file wrote something");
}

#[tokio::test]
async fn changes_from_hr_update_what_they_touch_and_nothing_else() {
    let app = spawn_app().await;
    import(&app, "fjordvik", EXAMPLE, options()).await.unwrap();
    // Astrid marries and works 80 %; Henrik's second employment ends earlier; Nora is
    // back from leave.
    let change = |l: &str| {
        Some(match l {
            l if l.starts_with("200001;") => l.replace(";Lunde;", ";Lunde Berg;").replace(";100;", ";80;"),
            l if l.starts_with("200002;") && l.contains("994185578") => l.replace("30.06.2027", "31.12.2026"),
            l if l.starts_with("200003;") => l.replace(";ja", ";nei"),
            l => l.to_owned(),
        })
    };
    let report = import(&app, "fjordvik", &example_with(change), options()).await.unwrap();
    assert_eq!((report.persons_created, report.persons_updated, report.staff_created), (0, 1, 0), "{report}");
    assert_eq!(
        (
            report.employments_created,
            report.employments_updated,
            report.employments_unchanged,
            report.employments_ended
        ),
        (0, 3, 3, 0),
        "{report}"
    );
    assert_eq!(employment(&app, "14857943288", SOLBAKKEN).await, Some(("80.00".into(), None, false)));
    let henrik = Some(("20.00".into(), Some(date!(2027 - 01 - 01)), false));
    assert_eq!(employment(&app, "02918643101", "994185578").await, henrik);
    assert_eq!(employment(&app, "23819143188", "971281251").await, Some(("62.50".into(), None, false)));
    let family: String = sqlx::query_scalar("SELECT family_name FROM persons WHERE national_id = '14857943288'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(family, "Lunde Berg");

    // Without --full, an employment missing from the file is left alone, and counted
    // when its person is in the file.
    let without_henriks_second =
        example_with(|l| if l.contains("994185578") && l.starts_with("200002;") { None } else { change(l) });
    let before = snapshot(&app).await;
    let report = import(&app, "fjordvik", &without_henriks_second, options()).await.unwrap();
    assert!(!report.changed(), "{report}");
    assert_eq!(report.employments_not_in_file, 1, "{report}");
    assert!(
        report
            .to_string()
            .ends_with("1 current employment of staff in the file not in it: left as they are (--full ends them)"),
        "{report}"
    );
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(employment(&app, "02918643101", "994185578").await, henrik);
}

#[tokio::test]
async fn a_full_file_ends_what_it_does_not_list_and_keeps_the_history() {
    let app = spawn_app().await;
    let mut lines = example_lines();
    // An employment that begins after the import date.
    lines.push("200005;07879543287;Sunniva;Dahl;912675378;7954;100;2027-08-01;;nei".to_owned());
    let file = csv(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    import(&app, "fjordvik", &file, options()).await.unwrap();
    let current = |tenant: &'static str| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM employments e JOIN tenants t ON t.id = e.tenant_id \
                 WHERE t.slug = $1 AND (e.to_date IS NULL OR e.to_date > $2)",
            )
            .bind(tenant)
            .bind(TODAY)
            .fetch_one(&owner)
            .await
            .unwrap()
        }
    };
    let fjordvik_before = current("fjordvik").await;
    let smaoy_before = snapshot_of_tenant(&app, "smaoy").await;
    let total_before: i64 = sqlx::query_scalar("SELECT count(*) FROM employments").fetch_one(&app.owner).await.unwrap();

    // Only Astrid and Henrik are left in HR's complete list.
    let kept = example_with(|l| (l.starts_with("200001;") || l.starts_with("200002;")).then(|| l.to_owned()));
    // Through the superuser pool, which row-level security does not bind (as the
    // embedded cluster's owner login): the import keeps to its municipality by itself.
    let report = hr::import(&app.owner, "fjordvik", &kept, full()).await.unwrap();
    assert_eq!(report.employments_unchanged, 3, "{report}");
    assert_eq!(report.employments_removed, 1, "the one not begun is removed: {report}");
    // Everyone else's current employment (Sunniva's ended in June already) is ended.
    let expected_ended = usize::try_from(fjordvik_before).unwrap() - 3 - 1;
    assert_eq!(report.employments_ended, expected_ended, "{report}");
    assert!(report.to_string().contains("1 removed before they began"), "{report}");
    assert_eq!(current("fjordvik").await, 3);
    // Ended on the import date, not deleted.
    assert_eq!(employment(&app, "30896843113", UNIT).await, Some(("100.00".into(), Some(TODAY), false)));
    let total_after: i64 = sqlx::query_scalar("SELECT count(*) FROM employments").fetch_one(&app.owner).await.unwrap();
    assert_eq!(total_after, total_before - 1);
    // The other municipality is untouched.
    assert_eq!(snapshot_of_tenant(&app, "smaoy").await, smaoy_before);

    // Idempotent with --full too.
    let before = snapshot(&app).await;
    let again = import(&app, "fjordvik", &kept, full()).await.unwrap();
    assert!(!again.changed(), "{again}");
    assert_eq!(snapshot(&app).await, before);

    // A full file with no employments would end everyone: refused.
    let got = problems(import(&app, "fjordvik", &csv(&[]), full()).await);
    assert_eq!(got, ["line 1: the file has no employments; with --full every employment would be ended"]);
}

async fn snapshot_of_tenant(app: &TestApp, slug: &str) -> String {
    sqlx::query_scalar(
        "SELECT string_agg(concat_ws(',', e.id, e.xmin, e.to_date), ';' ORDER BY e.id) FROM employments e \
         JOIN tenants t ON t.id = e.tenant_id WHERE t.slug = $1",
    )
    .bind(slug)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn leave_registered_in_hr_ends_access_and_return_restores_it() {
    let app = spawn_app().await;
    app.sign_in_as("office_clerk").await;
    let (on_leave, _) = office_clerk_line(&app, "ja").await;
    let report = import(&app, "fjordvik", &csv(&[&on_leave]), options()).await.unwrap();
    assert_eq!((report.employments_updated, report.persons_updated), (1, 0), "{report}");
    let mut b = Browser::default();
    app.get(&mut b, "/sign-in").await;
    let res = app.post_form(&mut b, "/sign-in/demo", &[("persona", "office_clerk")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let (back, _) = office_clerk_line(&app, "nei").await;
    import(&app, "fjordvik", &csv(&[&back]), options()).await.unwrap();
    app.sign_in_as("office_clerk").await;
}

#[tokio::test]
async fn messages_never_show_a_full_national_id() {
    let app = spawn_app().await;
    let (clerk, clerk_nid) = office_clerk_line(&app, "nei").await;
    // The clerk's national id under another resource number, and her resource number
    // with someone else's national id: both contradict what Tavle has.
    let clerk_resource = clerk.split(';').next().unwrap().to_owned();
    let other_resource = clerk.replacen(&clerk_resource, "300001", 1);
    let stolen_resource = format!("{clerk_resource};14857943288;Astrid;Lunde;{SOLBAKKEN};7956;100;2019-08-01;;nei");
    let bad_digit = "14857943289"; // the example's number with its last digit changed
    let bad = format!("300002;{bad_digit};Per;Berg;{SOLBAKKEN};7956;100;2019-08-01;;nei");
    let file = csv(&[&other_resource, &stolen_resource, &bad]);
    let got = problems(import(&app, "fjordvik", &file, options()).await);
    let masked = format!("{} *****", &clerk_nid[..6]);
    assert_eq!(
        got,
        [
            format!("line 2: national id {masked}: has resource number {clerk_resource} in Tavle, not 300001"),
            format!("line 3: resource number {clerk_resource}: belongs to another person in Tavle"),
            "line 4: national id: the control digits of the national identity number are wrong".to_owned(),
        ]
    );
    let all = got.join("\n");
    for nid in [clerk_nid.as_str(), "14857943288", bad_digit] {
        assert!(!all.contains(nid), "{all}");
        assert!(!all.contains(&nid[6..]), "{all}");
    }
}

#[tokio::test]
async fn an_unknown_tenant_is_one_clear_error() {
    let app = spawn_app().await;
    let err = import(&app, "atlantis", EXAMPLE, options()).await.unwrap_err();
    assert!(matches!(err, ImportError::UnknownTenant(_)), "{err:?}");
    assert_eq!(err.to_string(), "no municipality with the slug \"atlantis\"");
}

#[tokio::test]
async fn a_bom_semicolons_crlf_and_norwegian_dates_and_decimals() {
    let app = spawn_app().await;
    let file = format!(
        "\u{FEFF}{HEADER}\r\n200001;148579 43288;Astrid;Lunde;912 675 378;7956;62,5;01.08.2019;30.6.2027;Ja\r\n\r\n"
    );
    let report = import(&app, "fjordvik", file.as_bytes(), options()).await.unwrap();
    assert_eq!((report.lines, report.employments_created), (1, 1), "{report}");
    assert_eq!(
        employment(&app, "14857943288", SOLBAKKEN).await,
        Some(("62.50".into(), Some(date!(2027 - 07 - 01)), true))
    );
    let from: Date = sqlx::query_scalar(
        "SELECT e.from_date FROM employments e JOIN persons p ON p.id = e.staff_id WHERE p.national_id = '14857943288'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(from, date!(2019 - 08 - 01));
    // The same employment written the ISO way and comma-separated is the same employment.
    let iso = format!(
        "{}\n200001,14857943288,Astrid,Lunde,912675378,7956,\"62.50\",2019-08-01,2027-06-30,yes\n",
        HEADER.replace(';', ",")
    );
    let again = import(&app, "fjordvik", iso.as_bytes(), options()).await.unwrap();
    assert!(!again.changed(), "{again}");
}

#[tokio::test]
async fn the_command_reports_bad_lines_on_stderr_and_the_summary_on_stdout() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("tavle-hr-{}-{}", std::process::id(), app.db_name));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.csv");
    std::fs::write(&good, EXAMPLE).unwrap();
    let bad = dir.join("bad.csv");
    let mut bad_file = EXAMPLE.to_vec();
    bad_file.extend_from_slice(b"200009;14857943288;Astrid;Lunde;912675378;7956;100;2019-08-01;;nei\n");
    std::fs::write(&bad, bad_file).unwrap();
    let run = |file: &std::path::Path, tenant: &str| {
        Command::new(env!("CARGO_BIN_EXE_tavle"))
            .args(["import", "hr"])
            .arg(file)
            .args(["--tenant", tenant])
            .env("DATABASE_URL", app.app_database_url())
            .env("TAVLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();

    let out = run(&bad, "fjordvik");
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr).lines().collect::<Vec<_>>(),
        [
            "line 8: national id 148579 *****: another resource number than on line 2 (a person has one)",
            "error: nothing imported: 1 line with problems",
        ]
    );
    assert!(out.stdout.is_empty());

    let out = run(&good, "atlantis");
    assert!(!out.status.success());
    assert_eq!(text(&out.stderr).trim(), "error: no municipality with the slug \"atlantis\"");

    let out = run(&good, "fjordvik");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "HR import for fjordvik: 6 lines\n  persons:     5 created, 0 updated\n  staff:       5 created\n  \
         employments: 6 created, 0 updated, 0 ended, 0 unchanged"
    );
    let out = run(&good, "fjordvik");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).trim(), "HR import for fjordvik: 6 lines, no changes (6 employments unchanged)");
    std::fs::remove_dir_all(&dir).unwrap();
}
