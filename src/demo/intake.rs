//! The demo's first-grade intake (Fjordvik only), written through the real imports:
//! school districts (`tavle import districts`: each postal code to the first-grade
//! school most of its pupils attend, and Kari Nordmann's street to Solbakken), then a
//! register file (`tavle import folkeregister`) with next August's starters and their
//! parents: Nora, Kari and Ola Nordmann's youngest, a dozen children of other families,
//! and one child at a strictly confidential address, whom no district can place. Kari
//! has asked for Nordlys for Nora (after-school care), so Nordlys' department head has
//! a request to decide.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration, Month};

use super::names::NORWEGIAN;
use super::personas;
use crate::districts;
use crate::domain::national_id::NationalId;
use crate::folkeregister::{self, ImportOptions};

/// A parent's number, family name, address (street, postal code, town) and the street
/// as districts name it (`tavle_street_name`).
type Parent = (String, String, String, String, String, String);

/// How many starters of other families.
const OTHERS: usize = 12;

pub async fn load(owner: &PgPool, slug: &str) -> anyhow::Result<()> {
    if slug != "fjordvik" {
        return Ok(());
    }
    let (Some(kari), Some(ola)) = (
        personas::spec("guardian").and_then(|s| personas::fixed_national_id(s.born)),
        personas::fixed_national_id(personas::OLA_NORDMANN.born),
    ) else {
        return Ok(());
    };
    let parents: Vec<Parent> = sqlx::query_as(
        "SELECT DISTINCT ON (gp.national_id) gp.national_id, gp.family_name, gp.street_address, gp.postal_code, gp.postal_town, \
                tavle_street_name(gp.street_address) \
         FROM guardianships g JOIN persons gp ON gp.tenant_id = g.tenant_id AND gp.id = g.guardian_id \
         JOIN tenants t ON t.id = g.tenant_id AND t.slug = $1 \
         WHERE g.parental_responsibility AND gp.address_protection = 'none' AND gp.street_address IS NOT NULL \
           AND gp.postal_code IS NOT NULL AND gp.postal_town IS NOT NULL AND gp.deceased_on IS NULL \
           AND gp.national_id <> $3 AND $2 <> '' \
         ORDER BY gp.national_id",
    )
    .bind(slug)
    .bind(&kari)
    .bind(&ola)
    .fetch_all(owner)
    .await?;
    let Some(kari_home) = parents.iter().find(|p| p.0 == kari).cloned() else { return Ok(()) };

    // The districts: each street, and each postal code as a whole, to the first-grade
    // school most of its pupils attend; Kari's street to Solbakken.
    let by_street: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (c.postal_code, c.street) c.postal_code, coalesce(c.street, ''), c.org_number FROM ( \
           SELECT p.postal_code, s.org_number, s.name, count(*) AS n, \
                  tavle_street_name(p.street_address) AS street FROM persons p \
           JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.pupil_id = p.id AND e.to_date IS NULL \
           JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id AND s.first_grade = 1 \
           JOIN tenants t ON t.id = p.tenant_id AND t.slug = $1 \
           WHERE p.postal_code IS NOT NULL AND p.street_address IS NOT NULL \
           GROUP BY GROUPING SETS ((p.postal_code, s.org_number, s.name, tavle_street_name(p.street_address)), \
                                   (p.postal_code, s.org_number, s.name))) c \
         ORDER BY c.postal_code, c.street NULLS FIRST, c.n DESC, c.name",
    )
    .bind(slug)
    .fetch_all(owner)
    .await?;
    let solbakken: Option<String> = sqlx::query_scalar(
        "SELECT s.org_number FROM schools s JOIN tenants t ON t.id = s.tenant_id AND t.slug = $1 WHERE s.name = $2",
    )
    .bind(slug)
    .bind(personas::SOLBAKKEN)
    .fetch_optional(owner)
    .await?;
    let mut districts: BTreeMap<(String, String), String> =
        by_street.into_iter().map(|(postal, street, org)| ((postal, street), org)).collect();
    if let Some(org) = solbakken {
        districts.insert((kari_home.3.clone(), kari_home.5.clone()), org);
    }
    let mut file = String::from("postnummer;gate;skole\n");
    for ((postal, street), org) in &districts {
        file.push_str(&format!("{postal};{street};{org}\n"));
    }
    districts::import(owner, slug, file.as_bytes(), districts::ImportOptions::default()).await?;

    // The starters, born six years before the intake year.
    let year: i32 = sqlx::query_scalar("SELECT tavle_intake_year()").fetch_one(owner).await?;
    let first = Date::from_calendar_date(year - 6, Month::January, 1)?;
    let mut taken: HashSet<String> = HashSet::new();
    let mut number = |born: Date| -> Option<String> {
        let n = (500..1000).filter_map(|i| NationalId::synthetic(born, i)).find(|n| !taken.contains(n.as_str()))?;
        taken.insert(n.as_str().to_owned());
        Some(n.as_str().to_owned())
    };
    let address = |p: &Parent| json!({"adressenavn": p.2, "postnummer": p.3, "poststed": p.4});
    let mut lines = Vec::new();
    let nora_born = first + Duration::days(72);
    let nora = number(nora_born);
    if let Some(nora) = &nora {
        lines.push(json!({
            "foedselsEllerDNummer": nora, "fornavn": "Nora", "etternavn": "Nordmann",
            "foedselsdato": nora_born.to_string(), "bostedsadresse": address(&kari_home),
            "familierelasjon": [{"relatertPerson": kari, "relatertPersonsRolle": "mor"},
                                {"relatertPerson": ola, "relatertPersonsRolle": "far"}],
            "foreldreansvar": [{"ansvar": "felles"}],
        }));
    }
    let others: Vec<&Parent> = parents.iter().filter(|p| p.0 != kari).step_by(7).take(OTHERS + 1).collect();
    for (i, parent) in others.iter().enumerate() {
        let born = first + Duration::days(11 + 27 * i as i64);
        let Some(nid) = number(born) else { continue };
        let names = if i % 2 == 0 { NORWEGIAN.girls } else { NORWEGIAN.boys };
        let given = names[(i * 5 + 3) % names.len()];
        let mut line = json!({
            "foedselsEllerDNummer": nid, "fornavn": given, "etternavn": parent.1,
            "foedselsdato": born.to_string(),
            "familierelasjon": [{"relatertPerson": parent.0, "relatertPersonsRolle": "mor"}],
            "foreldreansvar": [{"ansvar": "mor"}],
        });
        // The last lives at a strictly confidential address: the register gives none.
        if i == OTHERS {
            line["adressebeskyttelse"] = json!("strengtFortrolig");
        } else {
            line["bostedsadresse"] = address(parent);
        }
        lines.push(line);
    }
    let file: String = lines.iter().map(|l| format!("{l}\n")).collect();
    folkeregister::import(owner, slug, file.as_bytes(), ImportOptions::default()).await?;

    // Kari has asked for Nordlys for Nora (a row as the guardian's page writes it).
    sqlx::query(
        "INSERT INTO intake_requests (tenant_id, child_id, start_year, school_id, reason, requested_by) \
         SELECT t.id, c.id, tavle_intake_year(), s.id, 'after_school_care', k.id FROM tenants t \
         JOIN persons c ON c.tenant_id = t.id AND c.national_id = $2 \
         JOIN persons k ON k.tenant_id = t.id AND k.national_id = $3 \
         JOIN schools s ON s.tenant_id = t.id AND s.name = $4 WHERE t.slug = $1",
    )
    .bind(slug)
    .bind(nora.unwrap_or_default())
    .bind(&kari)
    .bind(personas::NORDLYS)
    .execute(owner)
    .await?;
    Ok(())
}
