//! Who a message to guardians reaches (issue 19, point 1; messaging.md M1): for an
//! audience (one pupil's guardians, a group's, a school's) on a day, the persons it
//! reaches with their channels, and every guardian it names but leaves out, with why.
//!
//! Two steps. [`relations`] reads, set-wise, every guardianship of the addressed pupils
//! with each condition of the rule (`guardianship::conditions`) as a column; [`decide`]
//! is the pure function that turns those facts into recipients and exclusions. The rule
//! is written once, in `guardianship`; this module only names its failures.
//!
//! A guardian of two addressed children gets one copy. A guardian left out for one
//! child but reached through another is reached, and not listed as left out.

use std::collections::BTreeMap;

use time::Date;
use uuid::Uuid;

use super::guardianship::{self, LeftOut};
use crate::db::Conn;
use crate::error::Result;

/// Whose guardians a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    /// One pupil's guardians.
    Pupil(Uuid),
    /// The guardians of the pupils in a group on the day.
    Group(Uuid),
    /// The guardians of the pupils enrolled at a school on the day.
    School(Uuid),
}

/// One guardianship of an addressed pupil, with each condition of the rule judged.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Relation {
    pub pupil_id: Uuid,
    pub person_id: Uuid,
    /// `met[i]`: the i-th condition of `guardianship::conditions` holds.
    pub met: Vec<bool>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: String,
}

/// A person the message reaches, once, with the addressed children that give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub person_id: Uuid,
    pub pupils: Vec<Uuid>,
    /// Told by e-mail too (always in the inbox on Min side).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: String,
}

/// A guardian the audience names whom the message does not reach, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Excluded {
    pub person_id: Uuid,
    pub pupil_id: Uuid,
    pub reason: LeftOut,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    pub reached: Vec<Recipient>,
    pub left_out: Vec<Excluded>,
}

impl Recipients {
    pub fn reaches(&self, person: Uuid) -> bool {
        self.reached.iter().any(|r| r.person_id == person)
    }
    /// Those left out who need a letter on paper: only their KRR reservation keeps the
    /// message from them.
    pub fn on_paper(&self) -> impl Iterator<Item = &Excluded> {
        self.left_out.iter().filter(|e| e.reason == LeftOut::ReservedKrr)
    }
}

/// The reason a relation fails, if it does: the first condition not met.
pub fn first_failure(met: &[bool]) -> Option<LeftOut> {
    LeftOut::ALL.iter().zip(met).find(|(_, ok)| !**ok).map(|(reason, _)| *reason)
}

/// The pure step: recipients (one per person, ordered by id) and exclusions (one per
/// person not reached, with the reason of their first relation in pupil order).
pub fn decide(relations: &[Relation]) -> Recipients {
    let mut reached: BTreeMap<Uuid, Recipient> = BTreeMap::new();
    let mut failed: BTreeMap<Uuid, Excluded> = BTreeMap::new();
    let mut sorted: Vec<&Relation> = relations.iter().collect();
    sorted.sort_by_key(|r| (r.person_id, r.pupil_id));
    for r in sorted {
        // A relation judged on fewer conditions than the rule has is not trusted.
        let reason = if r.met.len() < LeftOut::ALL.len() { Some(LeftOut::NotCurrent) } else { first_failure(&r.met) };
        match reason {
            None => {
                let entry = reached.entry(r.person_id).or_insert_with(|| Recipient {
                    person_id: r.person_id,
                    pupils: Vec::new(),
                    email: r.email.clone(),
                    phone: r.phone.clone(),
                    lang: r.lang.clone(),
                });
                entry.pupils.push(r.pupil_id);
            }
            Some(reason) => {
                failed.entry(r.person_id).or_insert(Excluded { person_id: r.person_id, pupil_id: r.pupil_id, reason });
            }
        }
    }
    let left_out = failed.into_values().filter(|e| !reached.contains_key(&e.person_id)).collect();
    Recipients { reached: reached.into_values().collect(), left_out }
}

static RELATIONS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    // An unknown fact (a birth date missing, say) is a condition not met.
    let met = guardianship::conditions("g", "c", "$3")
        .into_iter()
        .map(|(_, _, sql)| format!("coalesce(({sql}), false)"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT g.pupil_id, g.guardian_id AS person_id, ARRAY[{met}] AS met, p.email, p.phone, \
                coalesce(pl.lang, 'nb') AS lang \
         FROM guardianships g \
         JOIN persons c ON c.tenant_id = $1 AND c.id = g.pupil_id \
         JOIN persons p ON p.tenant_id = $1 AND p.id = g.guardian_id \
         LEFT JOIN person_languages pl ON pl.tenant_id = $1 AND pl.person_id = g.guardian_id \
         WHERE g.tenant_id = $1 AND g.pupil_id = ANY($2) \
         ORDER BY g.guardian_id, g.pupil_id"
    )
});

/// The pupils `to` addresses on `day`.
pub async fn pupils(mut conn: Conn<'_>, to: To, day: Date) -> Result<Vec<Uuid>> {
    Ok(match to {
        To::Pupil(p) => vec![p],
        To::Group(group) => {
            sqlx::query_scalar(
                "SELECT DISTINCT m.pupil_id FROM group_memberships m \
                 WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.from_date <= $3 \
                   AND (m.to_date IS NULL OR m.to_date > $3) ORDER BY 1",
            )
            .bind(conn.tenant)
            .bind(group)
            .bind(day)
            .fetch_all(&mut *conn)
            .await?
        }
        To::School(school) => {
            sqlx::query_scalar(
                "SELECT DISTINCT e.pupil_id FROM enrolments e \
                 WHERE e.tenant_id = $1 AND e.school_id = $2 AND e.from_date <= $3 \
                   AND (e.to_date IS NULL OR e.to_date > $3) ORDER BY 1",
            )
            .bind(conn.tenant)
            .bind(school)
            .bind(day)
            .fetch_all(&mut *conn)
            .await?
        }
    })
}

/// Every guardianship of `pupils`, judged on `day`.
pub async fn relations(mut conn: Conn<'_>, pupils: &[Uuid], day: Date) -> Result<Vec<Relation>> {
    Ok(sqlx::query_as(&RELATIONS_SQL).bind(conn.tenant).bind(pupils).bind(day).fetch_all(&mut *conn).await?)
}

/// Who a message to `to` on `day` reaches, and who it leaves out.
pub async fn resolve(mut conn: Conn<'_>, to: To, day: Date) -> Result<Recipients> {
    let pupils = pupils(conn.re(), to, day).await?;
    Ok(decide(&relations(conn, &pupils, day).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(pupil: u128, person: u128, failing: Option<LeftOut>) -> Relation {
        Relation {
            pupil_id: Uuid::from_u128(pupil),
            person_id: Uuid::from_u128(person),
            met: LeftOut::ALL.iter().map(|r| Some(*r) != failing).collect(),
            email: Some(format!("{person}@example.org")),
            phone: None,
            lang: "nb".into(),
        }
    }

    #[test]
    fn joint_responsibility_reaches_both_and_sole_one() {
        let r = decide(&[rel(1, 10, None), rel(1, 11, None)]);
        assert_eq!(r.reached.len(), 2);
        let r = decide(&[rel(1, 10, None), rel(1, 11, Some(LeftOut::NoParentalResponsibility))]);
        assert_eq!(r.reached.iter().map(|x| x.person_id).collect::<Vec<_>>(), vec![Uuid::from_u128(10)]);
        assert_eq!(
            r.left_out,
            vec![Excluded {
                person_id: Uuid::from_u128(11),
                pupil_id: Uuid::from_u128(1),
                reason: LeftOut::NoParentalResponsibility
            }]
        );
    }

    #[test]
    fn the_first_failing_condition_is_the_reason() {
        let mut r = rel(1, 10, Some(LeftOut::Restricted));
        r.met[6] = false; // also reserved in KRR
        assert_eq!(decide(&[r]).left_out[0].reason, LeftOut::Restricted);
        // Too few judged conditions: never reached.
        let mut short = rel(1, 10, None);
        short.met.pop();
        assert!(decide(&[short]).reached.is_empty());
    }

    #[test]
    fn one_copy_per_person_and_reached_through_another_child_is_not_left_out() {
        let r = decide(&[rel(1, 10, None), rel(2, 10, None), rel(3, 10, Some(LeftOut::Restricted))]);
        assert_eq!(r.reached.len(), 1);
        assert_eq!(r.reached[0].pupils, vec![Uuid::from_u128(1), Uuid::from_u128(2)]);
        assert!(r.left_out.is_empty());
        let r = decide(&[rel(1, 12, Some(LeftOut::ReservedKrr))]);
        assert_eq!(r.on_paper().count(), 1);
    }
}
