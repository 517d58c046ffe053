//! The fixed people of the demo: the persona picker signs in as them, the tests use
//! them, and the generator builds their workplaces and families around them.

use time::{Date, Month};

use crate::domain::national_id::NationalId;

/// What a persona is in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Employed at the named school (or the municipal unit when `None`) with a
    /// position code; `ended` employments finished before the current school year.
    Staff { school: Option<&'static str>, position_code: &'static str, ended: bool },
    /// A pupil at the named school and grade level.
    Pupil { school: &'static str, grade: i16 },
    /// A guardian; the family is built by the generator.
    Guardian,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub key: &'static str,
    pub tenant: &'static str,
    pub given: &'static str,
    pub family: &'static str,
    pub born: (i32, Month, u8),
    pub feide_id: Option<&'static str>,
    pub part: Part,
}

pub const SOLBAKKEN: &str = "Solbakken skole";
pub const UNGDOMSSKOLE: &str = "Fjordvik ungdomsskole";
pub const NORDLYS: &str = "Nordlys oppvekstsenter";
pub const SMAOY_SCHOOL: &str = "Småøy skule";

const fn staff(school: Option<&'static str>, position_code: &'static str) -> Part {
    Part::Staff { school, position_code, ended: false }
}

pub const SPECS: &[Spec] = &[
    Spec {
        key: "office_clerk",
        tenant: "fjordvik",
        given: "Siri",
        family: "Haugen",
        born: (1978, Month::April, 3),
        feide_id: Some("siri.haugen@fjordvik.kommune.no"),
        part: staff(Some(SOLBAKKEN), "7065"),
    },
    Spec {
        key: "principal",
        tenant: "fjordvik",
        given: "Tor Einar",
        family: "Bakken",
        born: (1969, Month::October, 17),
        feide_id: Some("tor.einar.bakken@fjordvik.kommune.no"),
        part: staff(Some(UNGDOMSSKOLE), "7950"),
    },
    Spec {
        key: "department_head",
        tenant: "fjordvik",
        given: "Máret",
        family: "Sara",
        born: (1975, Month::February, 8),
        feide_id: Some("maret.sara@fjordvik.kommune.no"),
        part: staff(Some(NORDLYS), "7951"),
    },
    Spec {
        key: "teacher",
        tenant: "fjordvik",
        given: "Jonas",
        family: "Lie",
        born: (1988, Month::June, 24),
        feide_id: Some("jonas.lie@fjordvik.kommune.no"),
        part: staff(Some(SOLBAKKEN), "7956"),
    },
    Spec {
        key: "contact_teacher",
        tenant: "fjordvik",
        given: "Ingrid",
        family: "Østby",
        born: (1983, Month::September, 1),
        feide_id: Some("ingrid.ostby@fjordvik.kommune.no"),
        part: staff(Some(SOLBAKKEN), "7956"),
    },
    Spec {
        key: "sfo_staff",
        tenant: "fjordvik",
        given: "Aisha",
        family: "Rahimi",
        born: (1991, Month::March, 14),
        feide_id: Some("aisha.rahimi@fjordvik.kommune.no"),
        part: staff(Some(SOLBAKKEN), "7041"),
    },
    Spec {
        key: "municipal_director",
        tenant: "fjordvik",
        given: "Kjersti",
        family: "Ålvik",
        born: (1966, Month::December, 5),
        feide_id: Some("kjersti.aalvik@fjordvik.kommune.no"),
        part: staff(None, "7451"),
    },
    Spec {
        key: "system_admin",
        tenant: "fjordvik",
        given: "Bjørn",
        family: "Dahl",
        born: (1972, Month::July, 19),
        feide_id: Some("bjorn.dahl@fjordvik.kommune.no"),
        part: staff(None, "7070"),
    },
    Spec {
        key: "it_support",
        tenant: "fjordvik",
        given: "Minh",
        family: "Nguyen",
        born: (1993, Month::January, 27),
        feide_id: Some("minh.nguyen@fjordvik.kommune.no"),
        part: staff(None, "7071"),
    },
    Spec {
        key: "billing_officer",
        tenant: "fjordvik",
        given: "Lise",
        family: "Strand",
        born: (1980, Month::May, 30),
        feide_id: Some("lise.strand@fjordvik.kommune.no"),
        part: staff(None, "7066"),
    },
    Spec {
        key: "dpo",
        tenant: "fjordvik",
        given: "Hanne",
        family: "Vik",
        born: (1977, Month::August, 11),
        feide_id: Some("hanne.vik@fjordvik.kommune.no"),
        part: staff(None, "7072"),
    },
    Spec {
        key: "guardian",
        tenant: "fjordvik",
        given: "Kari",
        family: "Nordmann",
        born: (1984, Month::March, 12),
        feide_id: None,
        part: Part::Guardian,
    },
    Spec {
        key: "guardian_no_responsibility",
        tenant: "fjordvik",
        given: "Geir",
        family: "Nilsen",
        born: (1979, Month::June, 21),
        feide_id: None,
        part: Part::Guardian,
    },
    Spec {
        key: "pupil",
        tenant: "fjordvik",
        given: "Emma",
        family: "Nordmann",
        born: (2012, Month::May, 9),
        feide_id: Some("emma.nordmann@fjordvik.kommune.no"),
        part: Part::Pupil { school: UNGDOMSSKOLE, grade: 9 },
    },
    Spec {
        key: "former_teacher",
        tenant: "fjordvik",
        given: "Arne",
        family: "Moen",
        born: (1961, Month::November, 29),
        feide_id: Some("arne.moen@fjordvik.kommune.no"),
        part: Part::Staff { school: Some(SOLBAKKEN), position_code: "7956", ended: true },
    },
    // A subject teacher at the lower secondary school: mathematics in grade 9 (Emma's
    // groups among them) and contact teacher of 9A, so the demo has someone who enters
    // grades and conduct and sends warnings.
    Spec {
        key: "subject_teacher",
        tenant: "fjordvik",
        given: "Sindre",
        family: "Holm",
        born: (1986, Month::November, 4),
        feide_id: Some("sindre.holm@fjordvik.kommune.no"),
        part: staff(Some(UNGDOMSSKOLE), "7956"),
    },
    Spec {
        key: "smaoy_office_clerk",
        tenant: "smaoy",
        given: "Solveig",
        family: "Aasen",
        born: (1974, Month::October, 2),
        feide_id: Some("solveig.aasen@smaoy.kommune.no"),
        part: staff(Some(SMAOY_SCHOOL), "7065"),
    },
];

/// People of the persona families who are not personas themselves.
pub struct Relative {
    pub given: &'static str,
    pub family: &'static str,
    pub born: (i32, Month, u8),
}

/// Kari Nordmann's co-guardian and Emma's brother at Solbakken (grade 3).
pub const OLA_NORDMANN: Relative = Relative { given: "Ola", family: "Nordmann", born: (1982, Month::November, 2) };
pub const OSKAR_NORDMANN: Relative = Relative { given: "Oskar", family: "Nordmann", born: (2018, Month::February, 20) };
/// Geir Nilsen's daughter at Nordlys (grade 5) and her mother, who has the parental
/// responsibility Geir lacks.
pub const TUVA_BERG: Relative = Relative { given: "Tuva", family: "Berg", born: (2016, Month::September, 30) };
pub const HILDE_BERG: Relative = Relative { given: "Hilde", family: "Berg", born: (1981, Month::January, 15) };

pub fn date((year, month, day): (i32, Month, u8)) -> Option<Date> {
    Date::from_calendar_date(year, month, day).ok()
}

/// A fixed person's birth date in a demo built `shift` years after 2026-2027: the
/// children (born in 2000 or later) are born `shift` years later, so that they stay
/// in the grade the persona names; the adults keep theirs, and with it the national id
/// they sign in to ID-porten with (dev/idp/accounts.demo.json).
pub fn moved((year, month, day): (i32, Month, u8), shift: i32) -> (i32, Month, u8) {
    if year < 2000 {
        return (year, month, day);
    }
    let year = year + shift;
    // 29 February of a year that has none is the 28th.
    let day = day.min(month.length(year));
    (year, month, day)
}

/// The fixed synthetic national id of a fixed person: the first valid individual
/// number of the date's series from a fixed start.
pub fn fixed_national_id(born: (i32, Month, u8)) -> Option<String> {
    let date = date(born)?;
    let start = if date.year() >= 2000 { 500 } else { 100 };
    (start..1000).find_map(|individual| NationalId::synthetic(date, individual)).map(|id| id.as_str().to_owned())
}

pub fn spec(key: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_fixed_person_has_a_distinct_synthetic_national_id() {
        let mut seen = HashSet::new();
        let relatives = [&OLA_NORDMANN, &OSKAR_NORDMANN, &TUVA_BERG, &HILDE_BERG].map(|r| r.born);
        for born in SPECS.iter().map(|s| s.born).chain(relatives) {
            let id = fixed_national_id(born).expect("a valid id");
            let parsed = NationalId::parse(&id).expect("parses");
            assert!(parsed.is_synthetic(), "{id} must be synthetic");
            assert_eq!(parsed.birth_date(), date(born));
            assert!(seen.insert(id), "duplicate id for {born:?}");
        }
    }

    #[test]
    fn children_move_with_the_demo_year_and_adults_do_not() {
        assert_eq!(moved((2012, Month::May, 9), 2), (2014, Month::May, 9));
        assert_eq!(moved((2016, Month::February, 29), 1), (2017, Month::February, 28));
        assert_eq!(moved((1984, Month::March, 12), 5), (1984, Month::March, 12));
        assert_eq!(moved((2018, Month::February, 20), 0), (2018, Month::February, 20));
    }

    #[test]
    fn persona_keys_are_unique_and_have_a_login() {
        let keys: HashSet<_> = SPECS.iter().map(|s| s.key).collect();
        assert_eq!(keys.len(), SPECS.len());
        for s in SPECS {
            match s.part {
                Part::Guardian => assert!(s.feide_id.is_none(), "{} signs in with ID-porten", s.key),
                _ => assert!(s.feide_id.is_some(), "{} signs in with Feide", s.key),
            }
        }
    }
}
