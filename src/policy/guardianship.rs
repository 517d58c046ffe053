//! When a guardianship gives a guardian the child, as SQL conditions: the one rule
//! every query that decides a guardian's access or reach uses (the session's children,
//! the weekly summary, written warnings, SFO's collectors, a message's recipients), so
//! that a new exception (a restriction, a death) is added once and holds on every path.
//!
//! The rule is a list of named conditions ([`conditions`]), each with the reason a
//! guardian is left out when it fails ([`LeftOut`]). [`gives_access`], [`writes_to`] and
//! [`reaches`] are their conjunctions; the recipients of a message
//! (`policy::recipients`) select each of them as a column, so that the preview can say
//! why someone is left out without a second copy of the rule.
//!
//! Each function takes the aliases of the query: `g` a row of `guardianships`, `c` the
//! child's row of `persons`, and `day` the SQL date to judge on (`tavle_today()` or a
//! parameter); `$1` is the municipality, as everywhere.

use crate::domain::coded::coded_enum;

coded_enum! {
    /// Why a guardian a message names is not reached, in the order the conditions are
    /// judged (the first that fails is the reason given).
    pub enum LeftOut {
        NoParentalResponsibility = "no_parental_responsibility",
        NotCurrent = "not_current",
        ChildAdult = "child_adult",
        Restricted = "restricted",
        WhereaboutsProtected = "whereabouts_protected",
        Deceased = "deceased",
        ReservedKrr = "reserved_krr",
    }
}

/// How far a condition goes: access to the child, the school writing to the guardian at
/// all (on paper too), or writing digitally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    Access,
    Writes,
    Digital,
}

/// The named conditions of the rule, in the order of [`LeftOut`], each with the widest
/// [`Reach`] it belongs to.
pub fn conditions(g: &str, c: &str, day: &str) -> [(LeftOut, Reach, String); 7] {
    [
        (LeftOut::NoParentalResponsibility, Reach::Access, format!("{g}.parental_responsibility")),
        (
            LeftOut::NotCurrent,
            Reach::Access,
            format!("({g}.from_date <= {day} AND ({g}.to_date IS NULL OR {g}.to_date > {day}))"),
        ),
        (LeftOut::ChildAdult, Reach::Access, format!("{c}.birth_date > {day} - interval '18 years'")),
        (LeftOut::Restricted, Reach::Access, unrestricted(g, day)),
        (
            LeftOut::WhereaboutsProtected,
            Reach::Writes,
            format!("NOT ({c}.address_protection = 'strictly_confidential' AND NOT {g}.lives_with)"),
        ),
        (
            LeftOut::Deceased,
            Reach::Writes,
            format!(
                "({c}.deceased_on IS NULL AND NOT EXISTS (SELECT 1 FROM persons dg WHERE dg.tenant_id = $1 \
                   AND dg.id = {g}.guardian_id AND dg.deceased_on IS NOT NULL))"
            ),
        ),
        (LeftOut::ReservedKrr, Reach::Digital, digital(&format!("{g}.guardian_id"))),
    ]
}

fn all_of(g: &str, c: &str, day: &str, reach: Reach) -> String {
    conditions(g, c, day)
        .into_iter()
        .filter(|(_, r, _)| *r <= reach)
        .map(|(_, _, sql)| sql)
        .collect::<Vec<_>>()
        .join(" AND ")
}

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
    all_of(g, c, day, Reach::Access)
}

/// The school may write to the guardian about the child (on paper or otherwise):
/// access, the child's whereabouts are not kept from the guardian, and neither has died.
pub fn writes_to(g: &str, c: &str, day: &str) -> String {
    all_of(g, c, day, Reach::Writes)
}

/// Tavle may write to the guardian digitally (e-mail, messages): it may write to them,
/// and the guardian has not reserved themself against digital communication (KRR).
pub fn reaches(g: &str, c: &str, day: &str) -> String {
    all_of(g, c, day, Reach::Digital)
}

/// The person `p` (an SQL expression of a person id) may get digital messages: not
/// reserved against digital communication in KRR.
pub fn digital(p: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM krr_contacts k WHERE k.tenant_id = $1 AND k.person_id = {p} AND k.reserved)")
}
