//! The roster as a PIFU-IMS 1.3 document (the directorate's profile of IMS Enterprise
//! 1.1, the format a school owner's user administration reads to provision Feide and
//! learning platforms): one `enterprise` of type `full`, its elements in the schema's
//! order: properties, persons, groups, memberships.
//!
//! - Persons: pupils and staff with their national id number (Feide requires it as
//!   norEduPersonNIN) and Feide id; guardians by name, with e-mail and mobile only where
//!   not reserved, and linked from each pupil as `pifu_hasContactPerson type="guardian"`.
//!   No person carries an address.
//! - Groups: the school owner (`skoleeier`, its own parent), each school (`skole`, with
//!   its organisation number as `NO` and nine digits), each grade at each school
//!   (`trinn`, with Grep's grade URI), classes (`basisgruppe`), teaching groups
//!   (`undervisningsgruppe`, with the subject's Grep code where it has one) and SFO
//!   groups (`sfo`); every group below the owner has its school as parent, and the
//!   school year as its time frame. A group's id is its id in Tavle, stable and never
//!   reused, as Feide's group ids must be.
//! - Memberships: in the school (01 pupil, 02 teacher, 05 school leader, 07 office,
//!   08 assistant), in the grade, and in each group (01 pupil, 02 teacher, 06 contact
//!   teacher).

use quick_xml::escape::escape;
use uuid::Uuid;

use super::roster::{GroupKind, Roster, StaffRole};

pub const NAMESPACE: &str = "http://pifu.no/xsd/pifu-ims_sas/pifu-ims_sas-v1";

/// Grep's URI of a grade (årstrinn).
pub fn grade_uri(grade: i16) -> String {
    format!("http://psi.udir.no/laereplan/aarstrinn/aarstrinn{grade}")
}

/// Grep's URI of a subject code (fagkode).
pub fn subject_uri(code: &str) -> String {
    format!("http://psi.udir.no/kl06/{code}")
}

/// A phone number in the international form PIFU requires (`+` and digits), or none:
/// a Norwegian number of eight digits gets `+47`.
pub fn international_phone(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = digits.strip_prefix('+').unwrap_or(&digits);
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if digits.starts_with('+') {
        Some(digits)
    } else if rest.len() == 8 {
        Some(format!("+47{rest}"))
    } else {
        None
    }
}

/// An e-mail address of the form the schema accepts (`x@y.z`), or none.
pub fn plain_email(email: &str) -> Option<&str> {
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.split('.').count() >= 2
        && domain.split('.').all(|part| !part.is_empty())
        && !email.chars().any(char::is_whitespace);
    ok.then_some(email)
}

/// The school year as PIFU writes it: `2026/2027`.
fn admin_period(name: &str) -> String {
    name.replace('-', "/")
}

/// The document being written: a buffer handed to `sink` a megabyte at a time, after a
/// whole top-level element, so that a municipality's file is never whole in memory.
struct Xml<'a> {
    out: String,
    depth: usize,
    sink: &'a mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl Xml<'_> {
    fn flush(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.sink.write_all(self.out.as_bytes()) {
                self.error = Some(e);
            }
        }
        self.out.clear();
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push_str(&format!(" {key}=\"{}\"", escape(*value)));
        }
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn end(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
        if self.depth <= 1 && self.out.len() >= 1 << 20 {
            self.flush();
        }
    }

    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push_str(&format!(" {key}=\"{}\"", escape(*value)));
        }
        self.out.push_str(&format!(">{}</{name}>\n", escape(text)));
    }

    fn sourcedid(&mut self, source: &str, id: &str) {
        self.start("sourcedid", &[]);
        self.leaf("source", &[], source);
        self.leaf("id", &[], id);
        self.end("sourcedid");
    }

    fn name(&mut self, given: &str, family: &str) {
        self.start("name", &[]);
        self.leaf("fn", &[], &format!("{given} {family}"));
        self.start("n", &[]);
        self.leaf("family", &[], family);
        self.leaf("given", &[], given);
        self.end("n");
        self.end("name");
    }

    fn pifu_id(&mut self, kind: &str, value: &str, scope: &str, unique: bool) {
        self.start("pifu_id", &[("type", kind)]);
        self.leaf("pifu_value", &[], value);
        self.leaf("pifu_scope", &[], scope);
        self.leaf("pifu_unique", &[], if unique { "1" } else { "0" });
        self.end("pifu_id");
    }
}

/// The ids of the owner's, a school's and a grade's groups.
pub fn owner_id(r: &Roster) -> String {
    format!("kommune-{}", r.owner.municipality_number)
}

pub fn school_id(org_number: &str) -> String {
    format!("skole-{org_number}")
}

pub fn grade_id(org_number: &str, year: &str, grade: i16) -> String {
    format!("trinn-{org_number}-{year}-{grade}")
}

/// One group in the document: its type, names and parent.
struct GroupOut<'a> {
    id: String,
    scheme: &'a str,
    level: &'a str,
    kind: &'a str,
    short: String,
    long: String,
    /// The year as time frame (all but the organisations).
    year: bool,
    parent: (String, &'a str),
    /// Its `pifu_id`s: type, value, scope, whether unique there (the extension, if any).
    ids: Vec<(&'a str, String, &'a str, bool)>,
}

/// The document, UTF-8, written to `sink` as it is made.
///
/// # Errors
///
/// What writing to `sink` gave.
pub fn write(r: &Roster, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut x = Xml { out: String::with_capacity(2 << 20), depth: 0, sink, error: None };
    x.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.start("enterprise", &[("xmlns", NAMESPACE)]);
    x.start("properties", &[("lang", "no")]);
    x.leaf("datasource", &[], &r.source);
    x.leaf("type", &[], "full");
    x.leaf("datetime", &[], &r.created);
    x.end("properties");

    let source = r.source.as_str();
    let guardians_of: std::collections::HashSet<Uuid> = r.guardians.iter().map(|g| g.id).collect();
    for p in &r.pupils {
        x.start("person", &[]);
        x.sourcedid(source, &p.id.to_string());
        x.leaf("userid", &[("useridtype", "personNIN")], &p.national_id);
        if let Some(feide) = &p.feide_id {
            x.leaf("userid", &[("useridtype", "feideID")], feide);
        }
        x.name(&p.given_name, &p.family_name);
        if let Some(born) = p.birth_date {
            x.start("demographics", &[]);
            x.leaf("bday", &[], &born.to_string());
            x.end("demographics");
        }
        x.start("extension", &[]);
        x.leaf("pifu_status", &[("type", "activeInactive")], "aktiv");
        for g in p.guardians.iter().filter(|g| guardians_of.contains(g)) {
            x.start("pifu_hasContactPerson", &[("type", "guardian")]);
            x.sourcedid(source, &g.to_string());
            x.end("pifu_hasContactPerson");
        }
        x.end("extension");
        x.end("person");
    }
    for s in &r.staff {
        x.start("person", &[]);
        x.sourcedid(source, &s.id.to_string());
        x.leaf("userid", &[("useridtype", "personNIN")], &s.national_id);
        x.leaf("userid", &[("useridtype", "workforceID")], &s.resource_number);
        if let Some(feide) = &s.feide_id {
            x.leaf("userid", &[("useridtype", "feideID")], feide);
        }
        x.name(&s.given_name, &s.family_name);
        if let Some(email) = s.email.as_deref().and_then(plain_email) {
            x.leaf("email", &[], email);
        }
        x.end("person");
    }
    for g in &r.guardians {
        x.start("person", &[]);
        x.sourcedid(source, &g.id.to_string());
        x.name(&g.given_name, &g.family_name);
        if let Some(email) = g.email.as_deref().and_then(plain_email) {
            x.leaf("email", &[], email);
        }
        if let Some(phone) = g.phone.as_deref().and_then(international_phone) {
            x.leaf("tel", &[("teltype", "3")], &phone);
        }
        x.end("person");
    }

    // Groups: the owner, then per school the school, its grades and its groups.
    let owner = owner_id(r);
    let year = r.year.name.as_str();
    let one_group = |x: &mut Xml, g: GroupOut<'_>| {
        x.start("group", &[]);
        x.sourcedid(source, &g.id);
        x.start("grouptype", &[]);
        x.leaf("scheme", &[], g.scheme);
        x.leaf("typevalue", &[("level", g.level)], g.kind);
        x.end("grouptype");
        x.start("description", &[]);
        x.leaf("short", &[], &g.short.chars().take(60).collect::<String>());
        x.leaf("long", &[], &g.long);
        x.end("description");
        if g.year {
            x.start("timeframe", &[]);
            x.leaf("begin", &[("restrict", "0")], &r.year.starts.to_string());
            x.leaf("end", &[("restrict", "0")], &r.year.ends.to_string());
            x.leaf("adminperiod", &[], &admin_period(year));
            x.end("timeframe");
        }
        x.start("relationship", &[("relation", "1")]);
        x.sourcedid(source, &g.parent.0);
        x.leaf("label", &[], g.parent.1);
        x.end("relationship");
        if !g.ids.is_empty() {
            x.start("extension", &[]);
            for (kind, value, scope, unique) in &g.ids {
                x.pifu_id(kind, value, scope, *unique);
            }
            x.end("extension");
        }
        x.end("group");
    };
    one_group(
        &mut x,
        GroupOut {
            id: owner.clone(),
            scheme: "pifu-ims-go-org",
            level: "1",
            kind: "skoleeier",
            short: r.owner.name.clone(),
            long: r.owner.name.clone(),
            year: false,
            parent: (owner.clone(), &r.owner.name),
            ids: vec![("municipalityNumber", r.owner.municipality_number.clone(), "kommunenummer", true)],
        },
    );
    for school in &r.schools {
        let sid = school_id(&school.org_number);
        one_group(
            &mut x,
            GroupOut {
                id: sid.clone(),
                scheme: "pifu-ims-go-org",
                level: "2",
                kind: "skole",
                short: school.name.clone(),
                long: school.name.clone(),
                year: false,
                parent: (owner.clone(), &r.owner.name),
                ids: vec![("organizationNumber", format!("NO{}", school.org_number), "Enhetsregisteret", true)],
            },
        );
        for grade in r.grades(school.id) {
            one_group(
                &mut x,
                GroupOut {
                    id: grade_id(&school.org_number, year, grade),
                    scheme: "pifu-ims-go-grp",
                    level: "4",
                    kind: "trinn",
                    short: grade.to_string(),
                    long: format!("{grade}. trinn"),
                    year: true,
                    parent: (sid.clone(), &school.name),
                    ids: vec![("grepCodeGradeLevel", grade_uri(grade), "grep", false)],
                },
            );
        }
        for g in r.groups.iter().filter(|g| g.school_id == school.id) {
            let (level, kind) = match g.kind {
                GroupKind::Base => ("1", "basisgruppe"),
                GroupKind::Teaching => ("2", "undervisningsgruppe"),
                GroupKind::Sfo => ("15", "sfo"),
            };
            let long = match &g.subject {
                Some((_, subject)) => format!("{} ({subject})", g.name),
                None => g.name.clone(),
            };
            let ids = match &g.grep_code {
                Some(code) => {
                    vec![
                        ("grepCode", subject_uri(code), "grep", false),
                        ("grepCodeShortForm", code.clone(), "grep", false),
                    ]
                }
                None => Vec::new(),
            };
            one_group(
                &mut x,
                GroupOut {
                    id: g.id.to_string(),
                    scheme: "pifu-ims-go-grp",
                    level,
                    kind,
                    short: g.name.clone(),
                    long,
                    year: true,
                    parent: (sid.clone(), &school.name),
                    ids,
                },
            );
        }
    }

    // Memberships.
    let membership = |x: &mut Xml, group: &str, members: &[(Uuid, Vec<&str>)]| {
        if members.is_empty() {
            return;
        }
        x.start("membership", &[]);
        x.sourcedid(source, group);
        for (person, roles) in members {
            x.start("member", &[]);
            x.sourcedid(source, &person.to_string());
            x.leaf("idtype", &[], "1");
            for role in roles {
                x.start("role", &[("roletype", role)]);
                x.leaf("status", &[], "1");
                x.end("role");
            }
            x.end("member");
        }
        x.end("membership");
    };
    let mut pupils_at: std::collections::HashMap<Uuid, Vec<&super::roster::Pupil>> = std::collections::HashMap::new();
    for p in &r.pupils {
        pupils_at.entry(p.school_id).or_default().push(p);
    }
    for school in &r.schools {
        let pupils = pupils_at.get(&school.id).map(Vec::as_slice).unwrap_or_default();
        let mut members: Vec<(Uuid, Vec<&str>)> = pupils.iter().map(|p| (p.id, vec!["01"])).collect();
        let mut staff: Vec<(Uuid, Vec<&str>)> = Vec::new();
        for (person, role) in &school.staff {
            let code = match role {
                StaffRole::Teacher => "02",
                StaffRole::Leader => "05",
                StaffRole::Office => "07",
                StaffRole::Assistant => "08",
            };
            match staff.iter_mut().find(|(p, _)| p == person) {
                Some((_, codes)) if !codes.contains(&code) => codes.push(code),
                Some(_) => {}
                None => staff.push((*person, vec![code])),
            }
        }
        members.extend(staff);
        membership(&mut x, &school_id(&school.org_number), &members);
        for grade in r.grades(school.id) {
            let members: Vec<(Uuid, Vec<&str>)> =
                pupils.iter().filter(|p| p.grade == grade).map(|p| (p.id, vec!["01"])).collect();
            membership(&mut x, &grade_id(&school.org_number, year, grade), &members);
        }
        for g in r.groups.iter().filter(|g| g.school_id == school.id) {
            let mut members: Vec<(Uuid, Vec<&str>)> = g.pupils.iter().map(|p| (*p, vec!["01"])).collect();
            for t in &g.teachers {
                members.push((*t, vec!["02"]));
            }
            for t in &g.contact_teachers {
                match members.iter_mut().find(|(p, _)| p == t) {
                    Some((_, codes)) => codes.push("06"),
                    None => members.push((*t, vec!["06"])),
                }
            }
            membership(&mut x, &g.id.to_string(), &members);
        }
    }
    x.end("enterprise");
    x.flush();
    x.error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_written_in_the_international_form_or_not_at_all() {
        assert_eq!(international_phone("+47 912 34 567").as_deref(), Some("+4791234567"));
        assert_eq!(international_phone("912 34 567").as_deref(), Some("+4791234567"));
        assert_eq!(international_phone("+46 70 123 45 67").as_deref(), Some("+46701234567"));
        assert_eq!(international_phone("12345"), None, "too short for a Norwegian number");
        assert_eq!(international_phone("+47 9x"), None);
        assert_eq!(international_phone(""), None);
    }

    #[test]
    fn only_addresses_the_schema_accepts_are_written() {
        assert_eq!(plain_email("kari@example.no"), Some("kari@example.no"));
        assert_eq!(plain_email("kari@localhost"), None, "the schema wants a dot in the domain");
        assert_eq!(plain_email("@example.no"), None);
        assert_eq!(plain_email("kari nordmann@example.no"), None);
        assert_eq!(plain_email("kari@example."), None);
    }

    #[test]
    fn grep_uris_and_periods_are_as_the_directorate_writes_them() {
        assert_eq!(grade_uri(6), "http://psi.udir.no/laereplan/aarstrinn/aarstrinn6");
        assert_eq!(subject_uri("MAT0010"), "http://psi.udir.no/kl06/MAT0010");
        assert_eq!(admin_period("2026-2027"), "2026/2027");
    }
}
