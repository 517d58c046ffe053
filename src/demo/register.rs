//! The demo's population register: after a municipality is loaded, one register file
//! goes through the real import (`folkeregister::import`), so the demo has what a live
//! municipality has after its daily file: here a record with a number Tavle does not
//! know for a Solbakken pupil's name and birth date (a newly arrived pupil's D-number
//! replaced by a fødselsnummer), which the import queues for the office instead of
//! creating a second person. The office's queue page shows it. Then a KRR answer goes
//! through the real KRR import (`krr::import`): one of that pupil's guardians has
//! reserved themself against digital communication, so the office's list of letters on
//! paper has a name, and the guardian gets no e-mail.

use sqlx::PgPool;

use crate::domain::national_id::NationalId;
use crate::folkeregister::{self, ImportOptions};
use crate::krr;

/// The pupil: names, birth date, the numbers of everyone born that day, and a guardian's number.
type Chosen = (String, String, time::Date, Vec<String>, Option<String>);

/// Import the demo register file into `slug` (Fjordvik only; a no-op elsewhere).
pub async fn import(owner: &PgPool, slug: &str) -> anyhow::Result<()> {
    if slug != "fjordvik" {
        return Ok(());
    }
    // The last pupil of Solbakken by number: not one a persona's story is about.
    let pupil: Option<Chosen> = sqlx::query_as(
        "SELECT p.given_name, p.family_name, p.birth_date, \
                array(SELECT national_id FROM persons q WHERE q.tenant_id = p.tenant_id AND q.birth_date = p.birth_date), \
                (SELECT gp.national_id FROM guardianships g JOIN persons gp ON gp.tenant_id = g.tenant_id AND gp.id = g.guardian_id \
                 WHERE g.tenant_id = p.tenant_id AND g.pupil_id = p.id AND g.parental_responsibility \
                 ORDER BY gp.national_id LIMIT 1) \
         FROM persons p JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.pupil_id = p.id \
         JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id AND s.name = 'Solbakken skole' \
         JOIN tenants t ON t.id = p.tenant_id AND t.slug = $1 \
         WHERE p.birth_date IS NOT NULL AND e.to_date IS NULL ORDER BY p.national_id DESC LIMIT 1",
    )
    .bind(slug)
    .fetch_optional(owner)
    .await?;
    let Some((given, family, born, taken, guardian)) = pupil else { return Ok(()) };
    let Some(number) =
        (500..1000).filter_map(|i| NationalId::synthetic(born, i)).find(|n| !taken.iter().any(|t| t == n.as_str()))
    else {
        return Ok(());
    };
    let line = serde_json::json!({
        "foedselsEllerDNummer": number.as_str(),
        "fornavn": given,
        "etternavn": family,
        "foedselsdato": born.to_string(),
    });
    folkeregister::import(owner, slug, line.to_string().as_bytes(), ImportOptions::default()).await?;
    if let Some(guardian) = guardian {
        let answer = serde_json::json!({ "personer": [{
            "personidentifikator": guardian,
            "reservasjon": "JA",
            "status": "AKTIV",
            "varslingsstatus": "KAN_IKKE_VARSLES",
        }]});
        krr::import(owner, slug, answer.to_string().as_bytes(), krr::ImportOptions::default()).await?;
    }
    Ok(())
}
