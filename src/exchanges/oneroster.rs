//! The roster as OneRoster 1.2 CSV (1EdTech's binding for learning platforms): a zip of
//! `manifest.csv` and the bulk files `orgs`, `academicSessions`, `courses`, `classes`,
//! `users`, `roles` and `enrollments`; the other files of the binding are declared
//! absent. Comma-separated, RFC 4180 quoting, UTF-8, a header row naming the columns in
//! the binding's order; `status` and `dateLastModified` are empty, as a bulk file has them.
//!
//! A learning platform needs no national id number and no address: users are known by
//! Tavle's stable id and their Feide id as username; guardians (role `guardian`, linked
//! to their children by `agentSourcedIds`) carry e-mail and mobile only where not
//! reserved against digital communication. The ids of orgs match the PIFU document's
//! (`pifu::owner_id`, `pifu::school_id`), so the two files describe the same things.

use super::pifu::{international_phone, owner_id, plain_email, school_id};
use super::roster::{GroupKind, Roster, StaffRole};

const ORGS: &[&str] = &["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"];
const SESSIONS: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
];
const COURSES: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "schoolYearSourcedId",
    "title",
    "courseCode",
    "grades",
    "orgSourcedId",
    "subjects",
    "subjectCodes",
];
const CLASSES: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
];
const USERS: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
];
const ROLES: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "userSourcedId",
    "roleType",
    "role",
    "beginDate",
    "endDate",
    "orgSourcedId",
    "userProfileSourcedId",
];
const ENROLLMENTS: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
];

/// The files of the binding Tavle does not write.
const ABSENT: &[&str] = &[
    "categories",
    "classResources",
    "courseResources",
    "demographics",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "scoreScales",
    "userProfiles",
    "userResources",
];

/// One CSV file: its header, and its rows written as they come (a municipality's
/// enrolments are hundreds of thousands of rows: kept as CSV bytes, not as strings).
pub struct Table {
    pub name: &'static str,
    pub header: &'static [&'static str],
    writer: csv::Writer<Vec<u8>>,
}

impl Table {
    fn new(name: &'static str, header: &'static [&'static str]) -> Self {
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = writer.write_record(header);
        Self { name, header, writer }
    }

    /// A row from (column, value) pairs: the other columns are empty.
    fn push(&mut self, cells: &[(&str, String)]) {
        let row =
            self.header.iter().map(|column| cells.iter().find(|(c, _)| c == column).map_or("", |(_, v)| v.as_str()));
        let _ = self.writer.write_record(row);
    }

    /// A row of every column, in order.
    fn push_all(&mut self, cells: &[String]) {
        let _ = self.writer.write_record(cells);
    }

    pub fn csv(self) -> Vec<u8> {
        self.writer.into_inner().unwrap_or_default()
    }
}

/// OneRoster's grade: two digits.
fn grade(g: i16) -> String {
    format!("{g:02}")
}

/// The tables, manifest first.
#[must_use]
pub fn tables(r: &Roster) -> Vec<Table> {
    let owner = owner_id(r);
    let year_id = format!("aar-{}", r.year.name);
    let s = |v: &str| v.to_string();

    let mut orgs = Table::new("orgs", ORGS);
    orgs.push(&[
        ("sourcedId", owner.clone()),
        ("name", r.owner.name.clone()),
        ("type", s("district")),
        ("identifier", r.owner.municipality_number.clone()),
    ]);
    for school in &r.schools {
        orgs.push(&[
            ("sourcedId", school_id(&school.org_number)),
            ("name", school.name.clone()),
            ("type", s("school")),
            ("identifier", school.org_number.clone()),
            ("parentSourcedId", owner.clone()),
        ]);
    }

    let mut sessions = Table::new("academicSessions", SESSIONS);
    sessions.push(&[
        ("sourcedId", year_id.clone()),
        ("title", r.year.name.clone()),
        ("type", s("schoolYear")),
        ("startDate", r.year.starts.to_string()),
        ("endDate", r.year.ends.to_string()),
        ("schoolYear", r.year.ends.year().to_string()),
    ]);

    let school_of = |id| r.schools.iter().find(|s| s.id == id);
    let mut courses = Table::new("courses", COURSES);
    let mut course_ids: Vec<String> = Vec::new();
    let mut classes = Table::new("classes", CLASSES);
    let mut enrollments = Table::new("enrollments", ENROLLMENTS);
    for g in &r.groups {
        let Some(school) = school_of(g.school_id) else { continue };
        let sid = school_id(&school.org_number);
        // A course per subject at a school; classes and SFO groups each have one per school.
        let (course_id, title, code) = match (&g.subject, g.kind) {
            (Some((code, name)), _) => {
                (format!("fag-{}-{}-{code}", school.org_number, r.year.name), name.clone(), code.clone())
            }
            (None, GroupKind::Sfo) => (format!("sfo-{}-{}", school.org_number, r.year.name), s("SFO"), s("SFO")),
            (None, _) => (format!("klasse-{}-{}", school.org_number, r.year.name), s("Klasse"), s("KLASSE")),
        };
        if !course_ids.contains(&course_id) {
            course_ids.push(course_id.clone());
            courses.push(&[
                ("sourcedId", course_id.clone()),
                ("schoolYearSourcedId", year_id.clone()),
                ("title", title.clone()),
                ("courseCode", g.grep_code.clone().unwrap_or(code)),
                ("orgSourcedId", sid.clone()),
            ]);
        }
        classes.push(&[
            ("sourcedId", g.id.to_string()),
            ("title", g.name.clone()),
            ("grades", g.grade.map(grade).unwrap_or_default()),
            ("courseSourcedId", course_id),
            ("classCode", g.name.clone()),
            ("classType", s(if g.kind == GroupKind::Base { "homeroom" } else { "scheduled" })),
            ("schoolSourcedId", sid.clone()),
            ("termSourcedIds", year_id.clone()),
            ("subjects", g.subject.as_ref().map(|(_, name)| name.clone()).unwrap_or_default()),
        ]);
        let enrol = |t: &mut Table, user: &uuid::Uuid, role: &str, primary: bool| {
            t.push(&[
                ("sourcedId", format!("{}-{user}", g.id)),
                ("classSourcedId", g.id.to_string()),
                ("schoolSourcedId", sid.clone()),
                ("userSourcedId", user.to_string()),
                ("role", role.to_string()),
                ("primary", s(if primary { "true" } else { "false" })),
            ]);
        };
        for p in &g.pupils {
            enrol(&mut enrollments, p, "student", false);
        }
        for t in &g.contact_teachers {
            enrol(&mut enrollments, t, "teacher", true);
        }
        for t in g.teachers.iter().filter(|t| !g.contact_teachers.contains(t)) {
            enrol(&mut enrollments, t, "teacher", false);
        }
    }

    let mut users = Table::new("users", USERS);
    let mut roles = Table::new("roles", ROLES);
    let role_row = |t: &mut Table, user: &uuid::Uuid, org: &str, role: &str, primary: bool| {
        t.push(&[
            ("sourcedId", format!("{user}-{org}-{role}")),
            ("userSourcedId", user.to_string()),
            ("roleType", s(if primary { "primary" } else { "secondary" })),
            ("role", role.to_string()),
            ("orgSourcedId", org.to_string()),
        ]);
    };
    for p in &r.pupils {
        let Some(school) = school_of(p.school_id) else { continue };
        let org = school_id(&school.org_number);
        let agents: Vec<String> = p.guardians.iter().map(ToString::to_string).collect();
        users.push(&[
            ("sourcedId", p.id.to_string()),
            ("enabledUser", s("true")),
            ("username", p.feide_id.clone().unwrap_or_default()),
            ("givenName", p.given_name.clone()),
            ("familyName", p.family_name.clone()),
            ("agentSourcedIds", agents.join(",")),
            ("grades", grade(p.grade)),
            ("primaryOrgSourcedId", org.clone()),
        ]);
        role_row(&mut roles, &p.id, &org, "student", true);
    }
    // Each member of staff's schools and roles, in the schools' order.
    let mut works_at: std::collections::HashMap<uuid::Uuid, Vec<(String, StaffRole)>> =
        std::collections::HashMap::new();
    for school in &r.schools {
        for (id, role) in &school.staff {
            works_at.entry(*id).or_default().push((school_id(&school.org_number), *role));
        }
    }
    for st in &r.staff {
        let Some(orgs) = works_at.get(&st.id) else { continue };
        let Some((first, _)) = orgs.first() else { continue };
        users.push(&[
            ("sourcedId", st.id.to_string()),
            ("enabledUser", s("true")),
            ("username", st.feide_id.clone().unwrap_or_default()),
            ("givenName", st.given_name.clone()),
            ("familyName", st.family_name.clone()),
            ("email", st.email.as_deref().and_then(plain_email).map(str::to_string).unwrap_or_default()),
            ("primaryOrgSourcedId", first.clone()),
        ]);
        for (i, (org, role)) in orgs.iter().enumerate() {
            let role = match role {
                StaffRole::Teacher => "teacher",
                StaffRole::Leader | StaffRole::Office => "administrator",
                StaffRole::Assistant => "aide",
            };
            role_row(&mut roles, &st.id, org, role, i == 0);
        }
    }
    // Each guardian's children's schools, in the pupils' order: found once, not per guardian.
    let mut schools_of: std::collections::HashMap<uuid::Uuid, Vec<String>> = std::collections::HashMap::new();
    for p in &r.pupils {
        let Some(school) = school_of(p.school_id) else { continue };
        for g in &p.guardians {
            let orgs = schools_of.entry(*g).or_default();
            let org = school_id(&school.org_number);
            if !orgs.contains(&org) {
                orgs.push(org);
            }
        }
    }
    for gd in &r.guardians {
        let Some(orgs) = schools_of.get(&gd.id) else { continue };
        let Some(first) = orgs.first() else { continue };
        users.push(&[
            ("sourcedId", gd.id.to_string()),
            ("enabledUser", s("true")),
            ("givenName", gd.given_name.clone()),
            ("familyName", gd.family_name.clone()),
            ("email", gd.email.as_deref().and_then(plain_email).map(str::to_string).unwrap_or_default()),
            ("sms", gd.phone.as_deref().and_then(international_phone).unwrap_or_default()),
            ("primaryOrgSourcedId", first.clone()),
        ]);
        for (i, org) in orgs.iter().enumerate() {
            role_row(&mut roles, &gd.id, org, "guardian", i == 0);
        }
    }

    let written = [orgs, sessions, courses, classes, users, roles, enrollments];
    let mut manifest = Table::new("manifest", &["propertyName", "value"]);
    manifest.push_all(&[s("manifest.version"), s("1.0")]);
    manifest.push_all(&[s("oneroster.version"), s("1.2")]);
    let mut files: Vec<(&str, &str)> = written.iter().map(|t| (t.name, "bulk")).collect();
    files.extend(ABSENT.iter().map(|name| (*name, "absent")));
    files.sort_unstable();
    for (name, mode) in files {
        manifest.push_all(&[format!("file.{name}"), s(mode)]);
    }
    manifest.push_all(&[s("source.systemName"), s("Tavle")]);
    let mut all = vec![manifest];
    all.extend(written);
    all
}

/// The zip: every table as `{name}.csv`.
pub fn archive(r: &Roster) -> Option<Vec<u8>> {
    let files: Vec<(String, Vec<u8>)> = tables(r).into_iter().map(|t| (format!("{}.csv", t.name), t.csv())).collect();
    crate::web::zip::archive(&files)
}
