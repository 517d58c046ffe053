//! `tavle import folkeregister`: the population register decides names, addresses and
//! their protection, death, and who holds parental responsibility; the office's
//! restrictions survive it; what it cannot match goes to the office's queue. All or
//! nothing, idempotent, no number from the file in any message.

use axum::http::StatusCode;
use uuid::Uuid;

use tavle::folkeregister::{self, scheduled, ImportError, ImportOptions, Report};

use crate::helpers::{spawn_app, TestApp};

/// The register's documents for the persons `which` selects (a query giving person
/// ids), as Tavle has them now: a pupil's line names their current guardians as
/// parents and those with parental responsibility as its holders.
async fn documents(app: &TestApp, which: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "WITH chosen AS ({which}) \
         SELECT json_strip_nulls(json_build_object( \
           'foedselsEllerDNummer', p.national_id, 'fornavn', p.given_name, 'etternavn', p.family_name, \
           'foedselsdato', p.birth_date, \
           'adressebeskyttelse', CASE p.address_protection WHEN 'none' THEN 'ugradert' WHEN 'confidential' THEN 'fortrolig' \
                                 ELSE 'strengtFortrolig' END, \
           'bostedsadresse', CASE WHEN p.street_address IS NOT NULL AND p.postal_code IS NOT NULL AND p.postal_town IS NOT NULL \
                             THEN json_build_object('adressenavn', p.street_address, 'postnummer', p.postal_code, \
                                                    'poststed', p.postal_town) END, \
           'familierelasjon', (SELECT json_agg(json_build_object('relatertPerson', x.national_id, \
                                  'relatertPersonsRolle', (ARRAY['mor', 'far', 'medmor'])[x.n])) \
                               FROM (SELECT gp.national_id, row_number() OVER (ORDER BY gp.national_id) AS n \
                                     FROM guardianships g JOIN persons gp ON gp.id = g.guardian_id \
                                     WHERE g.pupil_id = p.id AND (g.to_date IS NULL OR g.to_date > tavle_today())) x), \
           'foreldreansvar', CASE WHEN EXISTS (SELECT 1 FROM pupils WHERE person_id = p.id) THEN \
                               (SELECT coalesce(json_agg(json_build_object('ansvar', 'andre', 'ansvarlig', gp.national_id)), '[]') \
                                FROM guardianships g JOIN persons gp ON gp.id = g.guardian_id \
                                WHERE g.pupil_id = p.id AND g.parental_responsibility \
                                  AND (g.to_date IS NULL OR g.to_date > tavle_today())) END \
         ))::text \
         FROM persons p WHERE p.id IN (SELECT * FROM chosen) AND p.birth_date IS NOT NULL \
           AND p.tenant_id = (SELECT id FROM tenants WHERE slug = 'fjordvik') ORDER BY p.national_id"
    ))
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

/// The document of one person, with `change` applied to its JSON.
async fn document(app: &TestApp, person: Uuid, change: impl Fn(&mut serde_json::Value)) -> String {
    let line = documents(app, &format!("SELECT '{person}'::uuid")).await.pop().expect("a document");
    let mut doc: serde_json::Value = serde_json::from_str(&line).unwrap();
    change(&mut doc);
    doc.to_string()
}

fn file(lines: &[String]) -> Vec<u8> {
    lines.join("\n").into_bytes()
}

async fn import(app: &TestApp, lines: &[String]) -> Report {
    // The application's login: row-level security holds the import to Fjordvik.
    folkeregister::import(&app.db, "fjordvik", &file(lines), ImportOptions::default()).await.expect("imported")
}

async fn uuid(app: &TestApp, sql: &str) -> Uuid {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap()
}

async fn national_id(app: &TestApp, person: Uuid) -> String {
    sqlx::query_scalar("SELECT national_id FROM persons WHERE id = $1")
        .bind(person)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// Every row an import may write, with its row version, and the audit log's length.
async fn snapshot(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|', \
           md5((SELECT string_agg(concat_ws(',', id, xmin), ';' ORDER BY id) FROM persons)), \
           md5((SELECT string_agg(concat_ws(',', pupil_id, guardian_id, xmin), ';' ORDER BY pupil_id, guardian_id) \
                FROM guardianships)), \
           (SELECT count(*) FROM person_history), (SELECT count(*) FROM guardianship_history), \
           (SELECT count(*) FROM register_queue), \
           (SELECT count(*) FROM audit_events WHERE resource = 'folkeregister_import'), \
           (SELECT count(*) FROM audit_pending WHERE resource = 'folkeregister_import'))",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

struct Family {
    oskar: Uuid,
    kari: Uuid,
    ola: Uuid,
}

async fn family(app: &TestApp) -> Family {
    let oskar = uuid(
        app,
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .await;
    let parent = |given: &str| {
        format!(
            "SELECT guardian_id FROM guardianships g JOIN persons p ON p.id = g.guardian_id \
             WHERE g.pupil_id = '{oskar}' AND p.given_name = '{given}'"
        )
    };
    Family { oskar, kari: uuid(app, &parent("Kari")).await, ola: uuid(app, &parent("Ola")).await }
}

/// The register as Tavle has it, for every pupil of the demo and their guardians:
/// nothing to change but what the register's rules require (a strictly confidential
/// address is not kept), and a second run changes nothing at all.
#[tokio::test]
async fn the_register_as_tavle_has_it_changes_nothing_and_a_second_run_neither() {
    let app = spawn_app().await;
    let everyone = "SELECT person_id FROM pupils UNION SELECT guardian_id FROM guardianships \
                    WHERE to_date IS NULL OR to_date > tavle_today()";
    let lines = documents(&app, everyone).await;
    assert!(lines.len() > 100, "the demo's pupils and guardians: {}", lines.len());
    let must_change: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM persons WHERE id IN ({everyone}) AND birth_date IS NOT NULL \
           AND tenant_id = (SELECT id FROM tenants WHERE slug = 'fjordvik') \
           AND address_protection = 'strictly_confidential' AND street_address IS NOT NULL"
    ))
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let first = import(&app, &lines).await;
    assert_eq!((first.created, first.queued, first.changed), (0, 0, must_change as usize), "{first}");
    assert_eq!(
        (first.guardianships_added, first.guardianships_changed, first.guardianships_ended),
        (0, 0, 0),
        "{first}"
    );
    let before = snapshot(&app).await;
    let second = import(&app, &lines).await;
    assert_eq!((second.changed, second.unchanged), (0, lines.len()), "{second}");
    assert_eq!(snapshot(&app).await, before, "a second run writes nothing, not even the same values");
}

/// Parental responsibility moves with the register: Kari loses it and her session
/// loses Oskar on its next request; the register gives it back and she has him again.
/// Each change keeps the earlier value.
#[tokio::test]
async fn parental_responsibility_in_the_register_starts_and_ends_access() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let mut kari = app.sign_in_as("guardian").await;
    let card = format!("/pupils/{}", f.oskar);
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::OK);

    let ola_nid = national_id(&app, f.ola).await;
    let kari_nid = national_id(&app, f.kari).await;
    let only_ola = document(&app, f.oskar, |d| {
        d["foreldreansvar"] = serde_json::json!([{ "ansvar": "andre", "ansvarlig": ola_nid }]);
    })
    .await;
    let report = import(&app, &[only_ola]).await;
    assert_eq!(report.guardianships_changed, 1, "{report}");
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::NOT_FOUND, "no access on her next request");
    let kept: (bool,) = sqlx::query_as(
        "SELECT parental_responsibility FROM guardianship_history WHERE pupil_id = $1 AND guardian_id = $2 \
         ORDER BY changed_at DESC LIMIT 1",
    )
    .bind(f.oskar)
    .bind(f.kari)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(kept.0, "the history keeps that she held it");

    let both = document(&app, f.oskar, |d| {
        d["foreldreansvar"] = serde_json::json!([{ "ansvar": "andre", "ansvarlig": kari_nid }]);
    })
    .await;
    import(&app, &[both]).await;
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::OK);

    // A parent the register no longer names is ended, not deleted.
    let without_ola = document(&app, f.oskar, |d| {
        let rel = d["familierelasjon"].as_array().unwrap().iter().filter(|r| r["relatertPerson"] != ola_nid.as_str());
        d["familierelasjon"] = serde_json::Value::Array(rel.cloned().collect());
    })
    .await;
    let report = import(&app, &[without_ola]).await;
    assert_eq!(report.guardianships_ended, 1, "{report}");
    let ended: Option<time::Date> =
        sqlx::query_scalar("SELECT to_date FROM guardianships WHERE pupil_id = $1 AND guardian_id = $2")
            .bind(f.oskar)
            .bind(f.ola)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(ended, Some(app.today));
}

/// A restriction recorded by the office survives every import: the register naming
/// the restricted guardian with parental responsibility neither changes nor opens the
/// relation, also after the guardianship was ended, and she stays without access.
#[tokio::test]
async fn a_restriction_survives_the_register_and_a_blocked_relation_is_never_added_again() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let (clerk, _) = app.persona("office_clerk").await;
    sqlx::query(
        "INSERT INTO guardian_restrictions (tenant_id, pupil_id, guardian_id, kind, from_date, recorded_by) \
         SELECT tenant_id, $1, $2, 'visiting_ban', tavle_today(), $3 FROM persons WHERE id = $1",
    )
    .bind(f.oskar)
    .bind(f.kari)
    .bind(clerk)
    .execute(&app.owner)
    .await
    .unwrap();
    let mut kari = app.sign_in_as("guardian").await;
    let card = format!("/pupils/{}", f.oskar);
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::NOT_FOUND);

    let as_is = document(&app, f.oskar, |_| {}).await;
    let report = import(&app, std::slice::from_ref(&as_is)).await;
    assert_eq!(report.kept_restricted, 1, "{report}");
    // Ended by hand (a court moved the child), then the old register file again.
    sqlx::query("UPDATE guardianships SET to_date = tavle_today() WHERE pupil_id = $1 AND guardian_id = $2")
        .bind(f.oskar)
        .bind(f.kari)
        .execute(&app.owner)
        .await
        .unwrap();
    let report = import(&app, &[as_is]).await;
    assert_eq!((report.kept_restricted, report.guardianships_added), (1, 0), "{report}");
    let open: bool = sqlx::query_scalar(
        "SELECT to_date IS NULL OR to_date > tavle_today() FROM guardianships WHERE pupil_id = $1 AND guardian_id = $2",
    )
    .bind(f.oskar)
    .bind(f.kari)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(!open, "not re-opened");
    assert_eq!(app.get(&mut kari, &card).await.status, StatusCode::NOT_FOUND);
}

/// One bad line and nothing is applied; every problem has its line and no number
/// from the file appears in any message.
#[tokio::test]
async fn a_file_with_bad_lines_applies_nothing_and_names_no_number() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let oskar_nid = national_id(&app, f.oskar).await;
    let renamed = document(&app, f.oskar, |d| d["fornavn"] = "Oscar".into()).await;
    let mut wrong = oskar_nid.clone();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(10..11, last);
    let bad_number = document(&app, f.kari, |d| d["foedselsEllerDNummer"] = wrong.clone().into()).await;
    let unknown_parent = document(&app, f.oskar, |d| {
        d["foedselsEllerDNummer"] = national_id_of_demo_child().into();
        d["foreldreansvar"] = serde_json::json!([{ "ansvar": "andre", "ansvarlig": national_id_of_demo_adult() }]);
    })
    .await;
    let before = snapshot(&app).await;
    let result = folkeregister::import(
        &app.db,
        "fjordvik",
        &file(&[renamed, bad_number, "{\"fornavn\": 3".to_owned(), unknown_parent]),
        ImportOptions::default(),
    )
    .await;
    let problems: Vec<String> = match result {
        Err(ImportError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected a refused file, got {other:?}"),
    };
    let lines: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(lines, ["line 2", "line 3", "line 4"], "{problems:?}");
    for p in &problems {
        assert!(!p.contains(&oskar_nid) && !p.contains(&wrong), "{p}");
    }
    assert_eq!(snapshot(&app).await, before);
}

/// A synthetic number nobody in the demo has (a child born 2019).
fn national_id_of_demo_child() -> String {
    (900..999)
        .find_map(|i| tavle::domain::national_id::NationalId::synthetic(time::macros::date!(2019 - 05 - 17), i))
        .unwrap()
        .as_str()
        .to_owned()
}

/// A synthetic number nobody in the demo has (an adult born 1961).
fn national_id_of_demo_adult() -> String {
    (400..499)
        .find_map(|i| tavle::domain::national_id::NationalId::synthetic(time::macros::date!(1961 - 02 - 13), i))
        .unwrap()
        .as_str()
        .to_owned()
}

/// What cannot be matched safely waits for the office instead: a new number with the
/// names and birth date of someone Tavle has, and a changed number. A second run of
/// the file queues nothing new and creates no one.
#[tokio::test]
async fn records_that_cannot_be_matched_safely_go_to_the_queue_once() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let oskar_nid = national_id(&app, f.oskar).await;
    let twin = document(&app, f.oskar, |d| {
        d["foedselsEllerDNummer"] = national_id_of_demo_child().into();
        d.as_object_mut().unwrap().remove("foreldreansvar");
        d.as_object_mut().unwrap().remove("familierelasjon");
    })
    .await;
    let new_number = document(&app, f.kari, |d| {
        d["tidligereFoedselsEllerDNummer"] = d["foedselsEllerDNummer"].clone();
        d["foedselsEllerDNummer"] = national_id_of_demo_adult().into();
    })
    .await;
    let persons_before: i64 = sqlx::query_scalar("SELECT count(*) FROM persons").fetch_one(&app.owner).await.unwrap();
    let lines = [twin, new_number];
    let first = import(&app, &lines).await;
    assert_eq!((first.queued, first.created, first.already_queued), (2, 0, 0), "{first}");
    let second = import(&app, &lines).await;
    assert_eq!((second.queued, second.already_queued), (0, 2), "{second}");
    let persons_after: i64 = sqlx::query_scalar("SELECT count(*) FROM persons").fetch_one(&app.owner).await.unwrap();
    assert_eq!(persons_after, persons_before);
    let queue: Vec<(String, Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT kind, person_id, school_id FROM register_queue WHERE person_id IN ($1, $2) ORDER BY kind",
    )
    .bind(f.oskar)
    .bind(f.kari)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!((queue[0].0.as_str(), queue[0].1), ("id_change", f.kari));
    assert_eq!((queue[1].0.as_str(), queue[1].1), ("possible_duplicate", f.oskar));
    assert!(queue.iter().all(|q| q.2.is_some()), "each for the office of Oskar's school");
    assert_eq!(national_id(&app, f.oskar).await, oskar_nid, "nothing changed by itself");
}

/// A parent whose number changed waits in the queue, and meanwhile the child's line
/// (naming the parent by the new number) does not end the parent's guardianship.
#[tokio::test]
async fn a_parent_waiting_in_the_queue_keeps_the_guardianship() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let new_number = national_id_of_demo_adult();
    let old_number = national_id(&app, f.kari).await;
    let kari = document(&app, f.kari, |d| {
        d["tidligereFoedselsEllerDNummer"] = d["foedselsEllerDNummer"].clone();
        d["foedselsEllerDNummer"] = new_number.clone().into();
    })
    .await;
    let oskar = document(&app, f.oskar, |d| {
        let swap = |v: &mut serde_json::Value, key: &str| {
            for r in v.as_array_mut().into_iter().flatten() {
                if r[key] == old_number.as_str() {
                    r[key] = new_number.clone().into();
                }
            }
        };
        swap(&mut d["familierelasjon"], "relatertPerson");
        swap(&mut d["foreldreansvar"], "ansvarlig");
    })
    .await;
    let report = import(&app, &[kari, oskar]).await;
    assert_eq!((report.queued, report.guardianships_ended), (1, 0), "{report}");
    let mut browser = app.sign_in_as("guardian").await;
    assert_eq!(app.get(&mut browser, &format!("/pupils/{}", f.oskar)).await.status, StatusCode::OK);
}

/// A protected address is applied at once, history included; a death stops the mail
/// waiting for the person and asks the office to act.
#[tokio::test]
async fn a_protected_address_and_a_death_take_effect_at_once() {
    let app = spawn_app().await;
    let f = family(&app).await;
    // Kari's address was corrected once: the earlier one is in the history.
    sqlx::query(
        "INSERT INTO person_history (tenant_id, person_id, source, national_id, given_name, family_name, address_protection, \
             street_address, postal_code, postal_town) \
         SELECT tenant_id, id, 'office', national_id, given_name, family_name, 'none', 'Gamleveien 1', '0150', 'OSLO' \
         FROM persons WHERE id = $1",
    )
    .bind(f.kari)
    .execute(&app.owner)
    .await
    .unwrap();
    let school: Uuid =
        uuid(&app, &format!("SELECT school_id FROM enrolments WHERE pupil_id = '{}' LIMIT 1", f.oskar)).await;
    sqlx::query(
        "INSERT INTO mail_outbox (tenant_id, kind, dedupe_key, school_id, recipient_id, recipient_address, lang, subject, body_text) \
         SELECT tenant_id, 'weekly_absence_summary', 'test', $2, id, 'ola@example.no', 'nb', 'Uke', 'Hei' FROM persons WHERE id = $1",
    )
    .bind(f.ola)
    .bind(school)
    .execute(&app.owner)
    .await
    .unwrap();

    let protected = document(&app, f.kari, |d| {
        d["adressebeskyttelse"] = "strengtFortrolig".into();
        d["bostedsadresse"] =
            serde_json::json!({ "adressenavn": "Hemmelig vei 9", "postnummer": "9999", "poststed": "X" });
    })
    .await;
    let died = document(&app, f.ola, |d| d["doedsdato"] = "2026-11-01".into()).await;
    let report = import(&app, &[protected, died]).await;
    assert_eq!((report.newly_protected, report.deaths), (1, 1), "{report}");

    let (protection, street): (String, Option<String>) =
        sqlx::query_as("SELECT address_protection, street_address FROM persons WHERE id = $1")
            .bind(f.kari)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!((protection.as_str(), street), ("strictly_confidential", None));
    let traces: i64 =
        sqlx::query_scalar("SELECT count(*) FROM person_history WHERE person_id = $1 AND street_address IS NOT NULL")
            .bind(f.kari)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(traces, 0, "no earlier address is kept for a protected person");

    let mail: (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM mail_outbox WHERE recipient_id = $1")
            .bind(f.ola)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!((mail.0.as_str(), mail.1.as_deref()), ("failed", Some("recipient_deceased")));
    let task: i64 =
        sqlx::query_scalar("SELECT count(*) FROM register_queue WHERE kind = 'deceased' AND person_id = $1")
            .bind(f.ola)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(task, 1);
}

/// The scheduled run imports each waiting file: a good one goes to `done/` with its
/// report, a refused one to `failed/` with its problems, and nothing of it is applied.
#[tokio::test]
async fn the_scheduled_run_files_each_file_by_its_outcome() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let dir = std::env::temp_dir().join(crate::helpers::unique_name("freg"));
    let inbox = dir.join("fjordvik");
    std::fs::create_dir_all(&inbox).unwrap();
    let renamed = document(&app, f.oskar, |d| d["fornavn"] = "Oscar".into()).await;
    std::fs::write(inbox.join("2026-12-01.jsonl"), renamed).unwrap();
    std::fs::write(inbox.join("2026-12-02.jsonl"), "{\"fornavn\": \"Tor\"}\n").unwrap();

    let outcomes = scheduled::run_folder(&app.db, &dir).await.unwrap();
    assert_eq!(
        outcomes,
        vec![
            scheduled::Outcome::Imported(inbox.join("done/2026-12-01.jsonl")),
            scheduled::Outcome::Refused(inbox.join("failed/2026-12-02.jsonl")),
        ]
    );
    let problems = std::fs::read_to_string(inbox.join("failed/2026-12-02.jsonl.txt")).unwrap();
    assert!(problems.starts_with("line 1: foedselsEllerDNummer: missing"), "{problems}");
    let name: String = sqlx::query_scalar("SELECT given_name FROM persons WHERE id = $1")
        .bind(f.oskar)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(name, "Oscar");
    assert!(scheduled::run_folder(&app.db, &dir).await.unwrap().is_empty(), "nothing left to do");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The office decides the queue on its page: a wrong choice is refused by the field and
/// changes nothing; "different persons" adds the register's person, whom the next run
/// of the file then simply updates; a new number replaces the old one, which is kept.
#[tokio::test]
async fn the_office_decides_the_queue_and_the_next_run_follows() {
    let app = spawn_app().await;
    let f = family(&app).await;
    let kari_nid = national_id(&app, f.kari).await;
    let twin = document(&app, f.oskar, |d| {
        d["foedselsEllerDNummer"] = national_id_of_demo_child().into();
        d.as_object_mut().unwrap().remove("foreldreansvar");
        d.as_object_mut().unwrap().remove("familierelasjon");
    })
    .await;
    let new_number = document(&app, f.kari, |d| {
        d["tidligereFoedselsEllerDNummer"] = d["foedselsEllerDNummer"].clone();
        d["foedselsEllerDNummer"] = national_id_of_demo_adult().into();
    })
    .await;
    let lines = [twin, new_number];
    import(&app, &lines).await;
    let item = |kind: &'static str, person: Uuid| {
        let app = &app;
        async move {
            uuid(
                app,
                &format!("SELECT id FROM register_queue WHERE kind = '{kind}' AND person_id = '{person}' AND resolved_at IS NULL"),
            )
            .await
        }
    };
    let (duplicate, changed) = (item("possible_duplicate", f.oskar).await, item("id_change", f.kari).await);
    let open_items = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM register_queue WHERE resolved_at IS NULL")
            .fetch_one(&app.owner)
            .await
            .unwrap();
        n
    };
    let open = open_items().await;

    // Oskar's item is for his school's office; the system administrator sees every item.
    let mut clerk = app.sign_in_as("office_clerk").await;
    let page = app.get(&mut clerk, "/pupils/register-queue").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html().select_texts("tbody tr td a").iter().any(|t| t.contains("Oskar")), "{}", page.body);
    let mut admin = app.sign_in_as("system_admin").await;
    let page = app.get(&mut admin, "/pupils/register-queue").await;
    assert_eq!(page.html().count("tbody tr") as i64, open, "the two, and the demo's own");
    assert!(!page.body.contains(&kari_nid), "numbers are masked");

    let path = format!("/pupils/register-queue/{duplicate}");
    let wrong = app.post_form(&mut clerk, &path, &[("outcome", "number_changed")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let field = format!("#outcome-{duplicate}");
    assert_eq!(wrong.html().select_first_attr(&field, "aria-invalid").as_deref(), Some("true"));
    assert_eq!(open_items().await, open, "nothing decided");

    let res = app.post_form(&mut clerk, &path, &[("outcome", "different_persons")]).await;
    crate::helpers::assert_redirects_to(&res, "/pupils/register-queue?done=resolved");
    let res =
        app.post_form(&mut admin, &format!("/pupils/register-queue/{changed}"), &[("outcome", "number_changed")]).await;
    crate::helpers::assert_redirects_to(&res, "/pupils/register-queue?done=resolved");
    assert_eq!(national_id(&app, f.kari).await, national_id_of_demo_adult());
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM person_history WHERE person_id = $1 AND national_id = $2")
        .bind(f.kari)
        .bind(&kari_nid)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(kept, 1, "the earlier number is kept");
    let decided: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE resource = 'register_queue' AND action = 'update'")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(decided, 2);

    let again = import(&app, &lines).await;
    assert_eq!((again.queued, again.already_queued, again.created), (0, 0, 0), "{again}");
    // Kari as she is; the added person gets the rest of the register's record (the address).
    assert_eq!((again.unchanged, again.changed), (1, 1), "{again}");
}

/// `tavle import folkeregister` with the documented example: a dry run saves nothing,
/// the run creates the family (the children are not pupils, so no guardianship is
/// stored), and a second run changes nothing.
#[tokio::test]
async fn the_command_imports_the_documented_example() {
    let app = spawn_app().await;
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/folkeregister-example.jsonl");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tavle"))
            .args(["import", "folkeregister", file, "--tenant", "fjordvik"])
            .args(extra)
            .env("DATABASE_URL", app.app_database_url())
            .env("TAVLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let numbers: Vec<String> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["foedselsEllerDNummer"].as_str().unwrap().to_owned()
        })
        .collect();
    let haugen = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM persons WHERE national_id = ANY($1)")
            .bind(&numbers)
            .fetch_one(&app.owner)
            .await
            .unwrap();
        n
    };
    let out = run(&["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout)
        .starts_with("dry run, nothing saved: population register for fjordvik: 4 person(s) read; 4 created"));
    assert_eq!(haugen().await, 0);
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 child(ren) not in school yet"), "{}", text(&out.stdout));
    assert_eq!(haugen().await, 4);
    let (street, protection): (Option<String>, String) =
        sqlx::query_as("SELECT street_address, address_protection FROM persons WHERE national_id = $1")
            .bind(&numbers[3])
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!((street, protection.as_str()), (None, "strictly_confidential"));
    let out = run(&[]);
    assert!(text(&out.stdout).contains("0 created, 0 changed, 4 unchanged"), "{}", text(&out.stdout));
}

/// A guardian the principal linked by hand (a reason code, parental responsibility from
/// today) survives the register, which does not name them; only the principal ends the
/// link, and the office sees the page but may not use it.
#[tokio::test]
async fn a_manual_guardian_link_survives_the_register_and_only_the_principal_makes_one() {
    let app = spawn_app().await;
    let emma = uuid(
        &app,
        "SELECT id FROM persons WHERE given_name = 'Emma' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .await;
    let path = format!("/pupils/{emma}/guardian-links");
    let mut principal = app.sign_in_as("principal").await;
    assert_eq!(app.get(&mut principal, &path).await.status, StatusCode::OK);
    let number = crate::authz::adult_number();
    let form = |reason: &'static str, number: String| {
        vec![
            ("national_id", number),
            ("given_name", "Aziz".to_owned()),
            ("family_name", "Rahimi".to_owned()),
            ("reason", reason.to_owned()),
            ("lives_with", "yes".to_owned()),
        ]
    };
    for (fields, field) in [
        (form("because", number.clone()), "reason-foreign_decision"),
        (form("appointed_guardian", "201912345678".to_owned()), "national_id"),
        (form("appointed_guardian", national_id(&app, emma).await), "national_id"),
    ] {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.post_form(&mut principal, &path, &pairs).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert_eq!(res.html().select_first_attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"));
    }
    let fields = form("appointed_guardian", number.clone());
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let linked = app.post_form(&mut principal, &path, &pairs).await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER);
    let guardian = uuid(&app, &format!("SELECT id FROM persons WHERE national_id = '{number}'")).await;
    let stored: (bool, bool, Option<String>) = sqlx::query_as(
        "SELECT parental_responsibility, lives_with, manual_reason FROM guardianships WHERE pupil_id = $1 AND guardian_id = $2",
    )
    .bind(emma)
    .bind(guardian)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(stored, (true, true, Some("appointed_guardian".to_owned())));
    let again = app.post_form(&mut principal, &path, &pairs).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "linked already");

    // Emma's line from the register, which does not name the appointed guardian.
    let as_is = document(&app, emma, |_| {}).await;
    let report = import(&app, &[as_is]).await;
    assert_eq!(report.guardianships_ended, 0, "{report}");
    let open: bool =
        sqlx::query_scalar("SELECT to_date IS NULL FROM guardianships WHERE pupil_id = $1 AND guardian_id = $2")
            .bind(emma)
            .bind(guardian)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(open, "the register does not end a manual link");

    // The principal ends it (today it began: withdrawn; the values kept).
    let end = app.post_form(&mut principal, &format!("{path}/{guardian}/end"), &[]).await;
    assert_eq!(end.status, StatusCode::SEE_OTHER);
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM guardianships WHERE pupil_id = $1 AND guardian_id = $2 \
           AND (to_date IS NULL OR to_date > tavle_today())",
    )
    .bind(emma)
    .bind(guardian)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(left, 0);
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM guardianship_history WHERE pupil_id = $1 AND guardian_id = $2 AND source = 'office'",
    )
    .bind(emma)
    .bind(guardian)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(kept >= 1, "the link's values are kept");

    // A restriction in force blocks a link.
    let (principal_id, _) = app.persona("principal").await;
    sqlx::query(
        "INSERT INTO guardian_restrictions (tenant_id, pupil_id, guardian_id, kind, from_date, recorded_by) \
         SELECT tenant_id, $1, $2, 'court_decision', tavle_today(), $3 FROM persons WHERE id = $1",
    )
    .bind(emma)
    .bind(guardian)
    .bind(principal_id)
    .execute(&app.owner)
    .await
    .unwrap();
    let blocked = app.post_form(&mut principal, &path, &pairs).await;
    assert_eq!(blocked.status, StatusCode::UNPROCESSABLE_ENTITY, "a restriction blocks the link");

    // The office of Oskar's school sees Oskar, but links no guardian: 403.
    let oskar = family(&app).await.oskar;
    let mut clerk = app.sign_in_as("office_clerk").await;
    assert_eq!(app.get(&mut clerk, &format!("/pupils/{oskar}/guardian-links")).await.status, StatusCode::FORBIDDEN);
}
