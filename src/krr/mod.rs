//! The contact and reservation register (Kontakt- og reservasjonsregisteret, KRR)
//! import, `tavle import krr` (issue 18, point 10): what KRR answers about the persons
//! Tavle asked for, applied to one municipality in one transaction or not at all.
//!
//! - A person reserved against digital communication (`reservasjon: JA`) gets no
//!   e-mail or digital message from Tavle: `policy::guardianship::reaches` leaves them
//!   out, whatever address Tavle has, and the office's list of who needs letters on
//!   paper (`pupils::paper`) names them.
//! - KRR's e-mail and mobile number are written to the person when they are fresh:
//!   verified (or, without a verification date, updated) within 18 months of the
//!   import day, as KRR's terms require; older ones are not used. The earlier values
//!   are kept in `person_history` (source `krr`). KRR never removes an address the
//!   office entered: a person without details in KRR keeps Tavle's.
//! - A person Tavle does not know is skipped and counted: KRR is asked about Tavle's
//!   own persons, so it is a file for another municipality or an old one.
//!
//! The file is the JSON KRR's REST API (oppslagstjenesten, `POST /rest/v1/personer`)
//! returns, `{"personer": [...]}` (README, "KRR file format"). Every problem is
//! reported with the entry's position, never with a number, address or value from the
//! file; one problem and nothing is applied. A second run of the same file changes
//! nothing. Audited as done by Tavle itself, with every person whose data changed.

use std::fmt;

use serde_json::Value;
use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::audit::{self, Resource};
use crate::db::{self, Conn};
use crate::domain::national_id::NationalId;
use crate::domain::text::{email_ok, phone_ok};
use crate::policy::Purpose;

/// Contact details not verified for this long are not used (KRR's terms of use).
const FRESH_MONTHS: i64 = 18;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check and count everything, then roll back.
    pub dry_run: bool,
}

/// One problem: `entry 7: mobiltelefonnummer: …`, or the message alone for the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub entry: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(n) => write!(f, "entry {n}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    #[error("nothing imported: {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("database error during the KRR import")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the KRR import's audit event")]
    Audit(#[from] crate::error::AppError),
}

/// What an import changed (or, for a dry run, would have).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tenant: String,
    pub dry_run: bool,
    pub entries: usize,
    pub not_in_tavle: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub reserved: usize,
    /// Entries whose contact details were too old to use.
    pub stale: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.dry_run { "dry run, nothing saved: " } else { "" };
        write!(
            f,
            "{prefix}KRR for {}: {} entries; {} changed, {} unchanged, {} not in Tavle; {} reserved against \
             digital communication; {} with contact details too old to use",
            self.tenant, self.entries, self.changed, self.unchanged, self.not_in_tavle, self.reserved, self.stale
        )
    }
}

/// One person as KRR answers, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub entry: usize,
    pub national_id: String,
    pub reserved: bool,
    pub status: &'static str,
    pub can_notify: bool,
    pub email: Option<Contact>,
    pub phone: Option<Contact>,
}

/// An address or number with the day it was last verified (or updated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub value: String,
    pub verified: Option<Date>,
}

/// Read and check the file; every problem with its entry.
pub fn parse(input: &[u8], synthetic_allowed: bool) -> Result<Vec<Entry>, Vec<Problem>> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let doc: Value = serde_json::from_slice(input).map_err(|e| {
        vec![Problem { entry: None, message: format!("not valid JSON (line {}, column {})", e.line(), e.column()) }]
    })?;
    let Some(items) = doc.get("personer").and_then(Value::as_array) else {
        return Err(vec![Problem { entry: None, message: "expected an object with the list \"personer\"".into() }]);
    };
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        let mut p = |m: String| problems.push(Problem { entry: Some(n), message: m });
        let nid = match item.get("personidentifikator").and_then(Value::as_str).map(NationalId::parse) {
            None => {
                p("personidentifikator: missing".into());
                None
            }
            Some(Err(e)) => {
                p(format!("personidentifikator: {e}"));
                None
            }
            Some(Ok(id)) => match id.admissible(synthetic_allowed) {
                Err(e) => {
                    p(format!("personidentifikator: {e}"));
                    None
                }
                Ok(()) => Some(id.as_str().to_owned()),
            },
        };
        let reserved = match item.get("reservasjon").and_then(Value::as_str) {
            Some("JA") => Some(true),
            Some("NEI") | None => Some(false),
            Some(_) => {
                p("reservasjon: not JA or NEI".into());
                None
            }
        };
        let status = match item.get("status").and_then(Value::as_str) {
            Some("AKTIV") | None => Some("active"),
            Some("SLETTET") => Some("deleted"),
            Some("IKKE_REGISTRERT") => Some("not_registered"),
            Some(_) => {
                p("status: not AKTIV, SLETTET or IKKE_REGISTRERT".into());
                None
            }
        };
        let can_notify = match item.get("varslingsstatus").and_then(Value::as_str) {
            Some("KAN_VARSLES") | None => Some(true),
            Some("KAN_IKKE_VARSLES") => Some(false),
            Some(_) => {
                p("varslingsstatus: not KAN_VARSLES or KAN_IKKE_VARSLES".into());
                None
            }
        };
        let contact = item.get("kontaktinformasjon").filter(|v| !v.is_null());
        let read = |field: &str, check: fn(&str) -> bool, p: &mut dyn FnMut(String)| -> Option<Contact> {
            let value = contact?.get(field).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty())?;
            if !check(value) {
                p(format!(
                    "{field}: not a valid {}",
                    if field.starts_with("epost") { "e-mail address" } else { "phone number" }
                ));
                return None;
            }
            let day = |key: String| {
                contact?.get(&key).and_then(Value::as_str).and_then(|s| {
                    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(|t| t.date())
                })
            };
            let verified = day(format!("{field}_sist_verifisert")).or_else(|| day(format!("{field}_oppdatert")));
            Some(Contact { value: value.to_owned(), verified })
        };
        let email = read("epostadresse", email_ok, &mut p);
        let phone = read("mobiltelefonnummer", phone_ok, &mut p);
        if let Some(nid) = &nid {
            if let Some(first) = seen.insert(nid.clone(), n) {
                p(format!("the same person as entry {first}"));
            }
        }
        if let (Some(national_id), Some(reserved), Some(status), Some(can_notify)) = (nid, reserved, status, can_notify)
        {
            entries.push(Entry { entry: n, national_id, reserved, status, can_notify, email, phone });
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// A person as Tavle has them, with what KRR said last time.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    national_id: String,
    id: Uuid,
    phone: Option<String>,
    email: Option<String>,
    reserved: Option<bool>,
    status: Option<String>,
    can_notify: Option<bool>,
    stale: Option<bool>,
}

/// Import `input` into the municipality `tenant_slug`.
///
/// # Errors
///
/// [`ImportError::Invalid`] with every problem; an unknown tenant; database errors.
pub async fn import(
    pool: &PgPool,
    tenant_slug: &str,
    input: &[u8],
    options: ImportOptions,
) -> Result<Report, ImportError> {
    let (tenant, synthetic_allowed) = db::import_tenant(pool, tenant_slug)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let entries = parse(input, synthetic_allowed).map_err(ImportError::Invalid)?;
    let mut tx = db::begin(pool, tenant).await?;
    db::lock_import(&mut tx, "tavle.krr.", tenant).await?;
    let today: Date = sqlx::query_scalar("SELECT tavle_today()").fetch_one(&mut *tx).await?;
    let stored = load(Conn::new(&mut tx, tenant), &entries).await?;
    let mut report = Report {
        tenant: tenant_slug.to_owned(),
        dry_run: options.dry_run,
        entries: entries.len(),
        ..Report::default()
    };
    let fresh_from = today - time::Duration::days(FRESH_MONTHS * 366 / 12);
    let fresh = |c: &Option<Contact>| {
        c.as_ref().filter(|c| c.verified.is_some_and(|d| d >= fresh_from)).map(|c| c.value.clone())
    };
    let mut subjects = Vec::new();
    let mut rows = Rows::default();
    for e in &entries {
        let Some(s) = stored.iter().find(|s| s.national_id == e.national_id) else {
            report.not_in_tavle += 1;
            continue;
        };
        let usable = e.status == "active";
        let (email, phone) = if usable { (fresh(&e.email), fresh(&e.phone)) } else { (None, None) };
        let stale = usable && (e.email.is_some() && email.is_none() || e.phone.is_some() && phone.is_none());
        report.reserved += usize::from(e.reserved);
        report.stale += usize::from(stale);
        // KRR's details replace Tavle's; none from KRR leaves Tavle's as they are.
        let new_email = email.or_else(|| s.email.clone());
        let new_phone = phone.or_else(|| s.phone.clone());
        let same = s.reserved == Some(e.reserved)
            && s.status.as_deref() == Some(e.status)
            && s.can_notify == Some(e.can_notify)
            && s.stale == Some(stale)
            && new_email == s.email
            && new_phone == s.phone;
        if same {
            report.unchanged += 1;
            continue;
        }
        report.changed += 1;
        subjects.push(s.id);
        let contact_changed = new_email != s.email || new_phone != s.phone;
        rows.push(s.id, e, stale, new_email, new_phone, contact_changed);
    }
    write(Conn::new(&mut tx, tenant), &rows, today).await?;
    subjects.sort_unstable();
    let imported = audit::Imported {
        resource: Resource::KrrImport,
        resource_id: None,
        subjects: &subjects,
        purpose: Purpose::SchoolAdministration,
        changed: !subjects.is_empty(),
    };
    audit::end_import(tx, tenant, options.dry_run, imported).await?;
    Ok(report)
}

/// The changed persons, as arrays for `unnest`.
#[derive(Default)]
struct Rows {
    id: Vec<Uuid>,
    reserved: Vec<bool>,
    status: Vec<&'static str>,
    can_notify: Vec<bool>,
    stale: Vec<bool>,
    /// Those whose phone or e-mail changes, with the new values.
    contact_id: Vec<Uuid>,
    email: Vec<Option<String>>,
    phone: Vec<Option<String>>,
}

impl Rows {
    fn push(&mut self, id: Uuid, e: &Entry, stale: bool, email: Option<String>, phone: Option<String>, contact: bool) {
        self.id.push(id);
        self.reserved.push(e.reserved);
        self.status.push(e.status);
        self.can_notify.push(e.can_notify);
        self.stale.push(stale);
        if contact {
            self.contact_id.push(id);
            self.email.push(email);
            self.phone.push(phone);
        }
    }
}

async fn load(mut conn: Conn<'_>, entries: &[Entry]) -> sqlx::Result<Vec<Stored>> {
    let nids: Vec<&str> = entries.iter().map(|e| e.national_id.as_str()).collect();
    sqlx::query_as(
        "SELECT p.national_id, p.id, p.phone, p.email, k.reserved, k.status, k.can_notify, k.stale \
         FROM persons p LEFT JOIN krr_contacts k ON k.tenant_id = p.tenant_id AND k.person_id = p.id \
         WHERE p.tenant_id = $1 AND p.national_id = ANY($2)",
    )
    .bind(conn.tenant)
    .bind(&nids)
    .fetch_all(&mut *conn)
    .await
}

async fn write(mut conn: Conn<'_>, rows: &Rows, today: Date) -> sqlx::Result<()> {
    if rows.id.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO krr_contacts (tenant_id, person_id, reserved, status, can_notify, stale, fetched_on) \
         SELECT $1, u.id, u.reserved, u.status, u.can_notify, u.stale, $7 \
         FROM unnest($2::uuid[], $3::bool[], $4::text[], $5::bool[], $6::bool[]) AS u(id, reserved, status, can_notify, stale) \
         ON CONFLICT (tenant_id, person_id) DO UPDATE SET reserved = EXCLUDED.reserved, status = EXCLUDED.status, \
            can_notify = EXCLUDED.can_notify, stale = EXCLUDED.stale, fetched_on = EXCLUDED.fetched_on",
    )
    .bind(conn.tenant)
    .bind(&rows.id)
    .bind(&rows.reserved)
    .bind(&rows.status)
    .bind(&rows.can_notify)
    .bind(&rows.stale)
    .bind(today)
    .execute(&mut *conn)
    .await?;
    if rows.contact_id.is_empty() {
        return Ok(());
    }
    let keep = vec![true; rows.contact_id.len()];
    crate::pupils::queries::keep_person_history(conn.re(), &rows.contact_id, &keep, "krr").await?;
    sqlx::query(
        "UPDATE persons p SET email = u.email, phone = u.phone, updated_at = now() \
         FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(id, email, phone) \
         WHERE p.tenant_id = $1 AND p.id = u.id",
    )
    .bind(conn.tenant)
    .bind(&rows.contact_id)
    .bind(&rows.email)
    .bind(&rows.phone)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_entry_and_no_value() {
        let input = br#"{"personer": [
            {"personidentifikator": "12345678901", "reservasjon": "KANSKJE"},
            {"personidentifikator": "20036914700", "kontaktinformasjon": {"epostadresse": "ikke en adresse", "mobiltelefonnummer": "+47 ring meg"}}
        ]}"#;
        let problems = parse(input, false).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(text[0].starts_with("entry 1: personidentifikator"));
        assert!(text
            .iter()
            .all(|t| !t.contains("12345678901") && !t.contains("ikke en adresse") && !t.contains("ring meg")));
    }

    #[test]
    fn the_documented_example_reads() {
        let entries = parse(include_bytes!("../../docs/krr-example.json"), true).unwrap();
        assert_eq!(entries.len(), 3);
        assert!(entries[1].reserved);
        assert_eq!(entries[2].status, "not_registered");
    }
}
