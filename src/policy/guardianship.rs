//! When a guardianship gives a guardian the child, as SQL conditions: the one rule
//! every query that decides a guardian's access or reach uses (the session's children,
//! the weekly summary, written warnings, SFO's collectors), so that a new exception
//! (a restriction, a death) is added once and holds on every path.
//!
//! Each function takes the aliases of the query: `g` a row of `guardianships`, `c` the
//! child's row of `persons`, and `day` the SQL date to judge on (`tavle_today()` or a
//! parameter); `$1` is the municipality, as everywhere.

/// No restriction recorded by the office holds for the guardianship `g` on `day`.
pub fn unrestricted(g: &str, day: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM guardian_restrictions r WHERE r.tenant_id = $1 AND r.pupil_id = {g}.pupil_id \
           AND r.guardian_id = {g}.guardian_id AND r.from_date <= {day} AND (r.to_date IS NULL OR r.to_date > {day}))"
    )
}

/// The guardianship `g` gives access to the child `c` on `day`: parental
/// responsibility, current, a child under 18, and no restriction.
pub fn gives_access(g: &str, c: &str, day: &str) -> String {
    format!(
        "{g}.parental_responsibility AND {g}.from_date <= {day} AND ({g}.to_date IS NULL OR {g}.to_date > {day}) \
         AND {c}.birth_date > {day} - interval '18 years' AND {}",
        unrestricted(g, day)
    )
}

/// The school may write to the guardian about the child (on paper or otherwise):
/// access, the child's whereabouts are not kept from the guardian, and neither has died.
pub fn writes_to(g: &str, c: &str, day: &str) -> String {
    format!(
        "{} AND NOT ({c}.address_protection = 'strictly_confidential' AND NOT {g}.lives_with) \
         AND {c}.deceased_on IS NULL \
         AND NOT EXISTS (SELECT 1 FROM persons dg WHERE dg.tenant_id = $1 AND dg.id = {g}.guardian_id \
                           AND dg.deceased_on IS NOT NULL)",
        gives_access(g, c, day)
    )
}

/// Tavle may write to the guardian digitally (e-mail, messages): it may write to them,
/// and the guardian has not reserved themself against digital communication (KRR).
pub fn reaches(g: &str, c: &str, day: &str) -> String {
    format!("{} AND {}", writes_to(g, c, day), digital(&format!("{g}.guardian_id")))
}

/// The person `p` (an SQL expression of a person id) may get digital messages: not
/// reserved against digital communication in KRR.
pub fn digital(p: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM krr_contacts k WHERE k.tenant_id = $1 AND k.person_id = {p} AND k.reserved)")
}
