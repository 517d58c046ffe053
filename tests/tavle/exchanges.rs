//! The roster for Feide and learning platforms (issue 18, point 11): the system
//! administrator's PIFU-IMS document and OneRoster zip of the demo municipality.
//!
//! The PIFU document is checked for what the schema and Feide need: the elements in the
//! schema's order, every membership, member and parent resolving, the owner its own
//! parent and every group below a school, national ids for pupils and staff only, and no
//! address at all (so none of the demo's protected addresses). With `TAVLE_PIFU_XSD`
//! pointing at the directorate's `PIFU-IMS_SAS.xsd` (github.com/Utdanningsdirektoratet/
//! pifu, not reachable from CI) the document is also validated with `xmllint`.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::helpers::{spawn_app, spawn_app_at_school, TestApp};

/// An element: name, attributes, text, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// `sourcedid/id`.
    fn id(&self) -> String {
        self.child("sourcedid").and_then(|s| s.child("id")).map(|i| i.text.clone()).unwrap_or_default()
    }
    fn descendants(&self, out: &mut Vec<String>) {
        for c in &self.children {
            out.push(c.name.clone());
            c.descendants(out);
        }
    }
}

fn tree(xml: &str) -> Node {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        let value = String::from_utf8_lossy(&a.value).into_owned();
                        (String::from_utf8_lossy(a.key.as_ref()).into_owned(), value)
                    })
                    .collect();
                stack.push(Node {
                    name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    attrs,
                    ..Node::default()
                });
            }
            Event::End(_) => {
                let node = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(node);
            }
            Event::Text(t) => {
                let text = t.decode().expect("text").into_owned();
                stack.last_mut().expect("element").text.push_str(text.trim());
            }
            Event::GeneralRef(r) => {
                let name = r.decode().expect("entity").into_owned();
                let ch = quick_xml::escape::resolve_predefined_entity(&name).expect("predefined entity");
                stack.last_mut().expect("element").text.push_str(ch);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().expect("document").children.pop().expect("root")
}

/// The demo's protected addresses: every street of a person whose address is protected.
async fn protected_streets(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT DISTINCT street_address FROM persons WHERE address_protection <> 'none' AND street_address IS NOT NULL",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

async fn audited(app: &TestApp, purpose: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT cardinality(subject_ids) FROM audit_events WHERE resource = 'roster' AND purpose = $1 \
         UNION ALL SELECT cardinality(subject_ids) FROM audit_pending WHERE resource = 'roster' AND purpose = $1",
    )
    .bind(purpose)
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_pifu_document_is_complete_resolves_and_carries_no_address() {
    let app = spawn_app_at_school().await;
    let mut admin = app.sign_in_as("system_admin").await;
    assert_eq!(app.get(&mut admin, "/exchanges").await.status, StatusCode::OK);
    let res = app.get(&mut admin, "/exchanges/pifu.xml").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.headers["content-type"].to_str().unwrap().starts_with("application/xml"));
    let doc = tree(&res.body);
    assert_eq!(doc.name, "enterprise");
    assert_eq!(doc.attr("xmlns"), Some("http://pifu.no/xsd/pifu-ims_sas/pifu-ims_sas-v1"));

    // The schema's order: properties, persons, groups, memberships.
    let rank = |n: &str| ["properties", "person", "group", "membership"].iter().position(|x| *x == n);
    let ranks: Vec<usize> = doc.children.iter().map(|c| rank(&c.name).expect("a known element")).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "elements in the schema's order");
    assert_eq!(doc.child("properties").and_then(|p| p.child("type")).map(|t| t.text.as_str()), Some("full"));

    let persons: HashMap<String, &Node> = doc.all("person").map(|p| (p.id(), p)).collect();
    let groups: HashMap<String, &Node> = doc.all("group").map(|g| (g.id(), g)).collect();
    assert_eq!(persons.len(), doc.all("person").count(), "person ids are unique");
    assert_eq!(groups.len(), doc.all("group").count(), "group ids are unique");

    // Pupils and staff: as many as enrolled and employed at a school on the day.
    let day = tavle::demo::DemoYears::around(crate::helpers::today()).school_today();
    let (pupils, staff): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(DISTINCT e.pupil_id) FROM enrolments e JOIN persons p ON p.id = e.pupil_id \
                  WHERE e.tenant_id = (SELECT id FROM tenants WHERE slug = 'fjordvik') \
                    AND e.from_date <= $1 AND (e.to_date IS NULL OR e.to_date > $1) AND p.deceased_on IS NULL), \
                (SELECT count(DISTINCT em.staff_id) FROM employments em \
                  JOIN role_mappings rm ON rm.tenant_id = em.tenant_id AND rm.workplace_kind = 'school' \
                   AND rm.position_code = em.position_code \
                  WHERE em.tenant_id = (SELECT id FROM tenants WHERE slug = 'fjordvik') \
                    AND em.school_id IS NOT NULL AND em.from_date <= $1 AND (em.to_date IS NULL OR em.to_date > $1) \
                    AND rm.role IN ('teacher', 'principal', 'department_head', 'office_clerk', 'sfo_staff'))",
    )
    .bind(day)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(pupils > 100, "the demo has pupils: {pupils}");
    let with_nin = persons
        .values()
        .filter(|p| p.all("userid").any(|u| u.attr("useridtype") == Some("personNIN") && u.text.len() >= 11))
        .count();
    assert_eq!(with_nin as i64, pupils + staff, "a national id for every pupil and member of staff, no one else");

    // Guardians: linked from pupils, each a person in the file, none with a national id.
    let mut linked = HashSet::new();
    for p in persons.values() {
        for c in p.child("extension").into_iter().flat_map(|e| e.all("pifu_hasContactPerson")) {
            assert_eq!(c.attr("type"), Some("guardian"));
            let id = c.id();
            let guardian = persons.get(&id).expect("a guardian is a person in the file");
            assert!(guardian.child("userid").is_none(), "no national id for a guardian");
            linked.insert(id);
        }
    }
    assert!(!linked.is_empty(), "pupils are linked to guardians");

    // A parent without parental responsibility is not linked.
    let without: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "SELECT g.pupil_id, g.guardian_id FROM guardianships g WHERE NOT g.parental_responsibility \
           AND NOT EXISTS (SELECT 1 FROM guardianships o WHERE o.guardian_id = g.guardian_id AND o.parental_responsibility)",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    for (_, guardian) in &without {
        assert!(!linked.contains(&guardian.to_string()), "no access without parental responsibility");
    }

    // Groups: the owner is its own parent; schools hang under it; every other group
    // under a school. Every membership and member resolves.
    let kind = |g: &Node| g.child("grouptype").and_then(|t| t.child("typevalue")).map(|t| t.text.clone()).unwrap();
    let parent = |g: &Node| g.child("relationship").map(Node::id).unwrap();
    let owners: Vec<&&Node> = groups.values().filter(|g| kind(g) == "skoleeier").collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(parent(owners[0]), owners[0].id(), "the owner is its own parent");
    for g in groups.values() {
        let k = kind(g);
        let p = groups.get(&parent(g)).expect("the parent is a group in the file");
        match k.as_str() {
            "skoleeier" => {}
            "skole" => assert_eq!(kind(p), "skoleeier"),
            _ => assert_eq!(kind(p), "skole", "a {k} hangs under a school"),
        }
    }
    for kind_needed in ["skole", "trinn", "basisgruppe", "undervisningsgruppe"] {
        assert!(groups.values().any(|g| kind(g) == kind_needed), "the file has a {kind_needed}");
    }
    let mut contact_teachers = 0;
    for m in doc.all("membership") {
        assert!(groups.contains_key(&m.id()), "a membership's group is in the file");
        for member in m.all("member") {
            assert!(persons.contains_key(&member.id()), "a member is a person in the file");
            contact_teachers += member.all("role").filter(|r| r.attr("roletype") == Some("06")).count();
        }
    }
    assert!(contact_teachers > 0, "contact teachers are named");

    // No address at all, so none of the protected ones.
    let mut names = Vec::new();
    doc.descendants(&mut names);
    assert!(!names.iter().any(|n| n == "adr" || n == "pifu_adr"), "no address element");
    for street in protected_streets(&app).await {
        assert!(!res.body.contains(&street), "a protected address is not in the file");
    }

    // Audited with its purpose and every person in the file.
    assert_eq!(audited(&app, "feide_provisioning").await, vec![persons.len() as i32]);

    // Against the directorate's schema, where it is at hand.
    if let Ok(xsd) = std::env::var("TAVLE_PIFU_XSD") {
        let dir = std::env::temp_dir().join(format!("tavle-pifu-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pifu.xml");
        std::fs::write(&file, &res.bytes).unwrap();
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--schema", &xsd])
            .arg(&file)
            .output()
            .expect("xmllint");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success(), "the document validates: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The stored files of a zip, by reading its local headers (names and contents), each
/// checked against its CRC-32.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    let mut files = Vec::new();
    let mut at = 0;
    while bytes[at..at + 4] == *b"PK\x03\x04" {
        assert_eq!(u16_at(at + 8), 0, "stored");
        let size = u32_at(at + 18) as usize;
        let (name_len, extra_len) = (u16_at(at + 26), u16_at(at + 28));
        let name = String::from_utf8(bytes[at + 30..at + 30 + name_len].to_vec()).unwrap();
        let start = at + 30 + name_len + extra_len;
        let content = &bytes[start..start + size];
        assert_eq!(tavle::web::zip::crc32(content), u32_at(at + 14), "{name}'s checksum");
        files.push((name, String::from_utf8(content.to_vec()).unwrap()));
        at = start + size;
    }
    assert_eq!(bytes[at..at + 4], *b"PK\x01\x02", "the central directory follows");
    files
}

fn rows(csv: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows =
        r.records().map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect()).collect();
    (header, rows)
}

#[tokio::test]
async fn the_oneroster_files_resolve_and_carry_no_national_id_or_address() {
    let app = spawn_app_at_school().await;
    let mut admin = app.sign_in_as("system_admin").await;
    let res = app.get(&mut admin, "/exchanges/oneroster.zip").await;
    assert_eq!(res.status, StatusCode::OK);
    let files: HashMap<String, String> = unzip(&res.bytes).into_iter().collect();
    let manifest = rows(&files["manifest.csv"]).1;
    let value = |k: &str| manifest.iter().find(|r| r["propertyName"] == k).map(|r| r["value"].clone());
    assert_eq!(value("oneroster.version").as_deref(), Some("1.2"));
    for name in ["orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments"] {
        assert_eq!(value(&format!("file.{name}")).as_deref(), Some("bulk"), "{name} is declared");
        assert!(files.contains_key(&format!("{name}.csv")), "{name}.csv is in the zip");
    }
    assert_eq!(value("file.results").as_deref(), Some("absent"));

    let (user_header, users) = rows(&files["users.csv"]);
    assert_eq!(user_header[0], "sourcedId");
    assert_eq!(user_header.len(), 23, "the binding's user columns");
    let user_ids: HashSet<&str> = users.iter().map(|u| u["sourcedId"].as_str()).collect();
    let class_ids: HashSet<String> = rows(&files["classes.csv"]).1.iter().map(|c| c["sourcedId"].clone()).collect();
    let course_ids: HashSet<String> = rows(&files["courses.csv"]).1.iter().map(|c| c["sourcedId"].clone()).collect();
    let org_ids: HashSet<String> = rows(&files["orgs.csv"]).1.iter().map(|o| o["sourcedId"].clone()).collect();
    for c in rows(&files["classes.csv"]).1 {
        assert!(course_ids.contains(&c["courseSourcedId"]), "a class's course is in courses.csv");
        assert!(org_ids.contains(&c["schoolSourcedId"]), "a class's school is in orgs.csv");
    }
    let enrollments = rows(&files["enrollments.csv"]).1;
    assert!(!enrollments.is_empty());
    for e in &enrollments {
        assert!(class_ids.contains(&e["classSourcedId"]));
        assert!(user_ids.contains(e["userSourcedId"].as_str()), "an enrolled user is in users.csv");
    }
    for r in rows(&files["roles.csv"]).1 {
        assert!(user_ids.contains(r["userSourcedId"].as_str()));
        assert!(org_ids.contains(&r["orgSourcedId"]));
    }
    // Guardians are agents of their children, and users themselves.
    let agents: Vec<&str> =
        users.iter().flat_map(|u| u["agentSourcedIds"].split(',')).filter(|a| !a.is_empty()).collect();
    assert!(!agents.is_empty());
    assert!(agents.iter().all(|a| user_ids.contains(a)));

    // No national id number and no protected address anywhere.
    let everything: String = files.values().cloned().collect();
    let numbers: Vec<String> =
        sqlx::query_scalar("SELECT national_id FROM persons").fetch_all(&app.owner).await.unwrap();
    let cells: HashSet<&str> = everything.split([',', '\r', '\n', '"']).collect();
    assert!(numbers.iter().all(|n| !cells.contains(n.as_str())), "no national id");
    for street in protected_streets(&app).await {
        assert!(!everything.contains(&street), "a protected address is not in the files");
    }
    assert_eq!(audited(&app, "learning_platform").await, vec![user_ids.len() as i32]);
}

#[tokio::test]
async fn only_the_system_administrator_exports_the_roster() {
    let app = spawn_app_at_school().await;
    for persona in ["office_clerk", "principal", "it_support", "municipal_director", "teacher", "guardian"] {
        let mut b = app.sign_in_as(persona).await;
        for path in ["/exchanges", "/exchanges/pifu.xml", "/exchanges/oneroster.zip"] {
            assert_eq!(app.get(&mut b, path).await.status, StatusCode::NOT_FOUND, "{persona} {path}");
        }
    }
    assert!(audited(&app, "feide_provisioning").await.is_empty(), "nothing was exported");
}

/// `tavle export`, for the school owner's daily provisioning: the same files, written
/// whole, each run audited as the system's; an unknown municipality is one clear error.
#[tokio::test]
async fn the_command_writes_each_file_and_audits_it() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("tavle-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tavle"))
            .arg("export")
            .args(args)
            .env("DATABASE_URL", app.app_database_url())
            .env("TAVLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let pifu = dir.join("pifu.xml");
    let out = run(&["pifu", pifu.to_str().unwrap(), "--tenant", "fjordvik"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("PIFU-IMS roster for fjordvik: "));
    let xml = std::fs::read_to_string(&pifu).unwrap();
    assert_eq!(tree(&xml).name, "enterprise");
    let zip = dir.join("oneroster.zip");
    let out = run(&["oneroster", zip.to_str().unwrap(), "--tenant", "fjordvik"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files = unzip(&std::fs::read(&zip).unwrap());
    assert_eq!(files[0].0, "manifest.csv");
    assert_eq!(audited(&app, "feide_provisioning").await.len(), 1);
    assert_eq!(audited(&app, "learning_platform").await.len(), 1);

    let out = run(&["pifu", dir.join("x.xml").to_str().unwrap(), "--tenant", "nowhere"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no municipality nowhere"));
    assert!(!dir.join("x.xml").exists() && !dir.join("x.partial").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}
