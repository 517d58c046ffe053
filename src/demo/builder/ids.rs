//! Invented identifiers and contact details, each unique where the database wants it:
//! ids, synthetic national ids and DUF numbers, Feide ids, organisation numbers, phone
//! numbers, birth dates and addresses.

use rand::seq::SliceRandom;
use rand::Rng;
use time::Date;
use uuid::Uuid;

use super::{uuid_from, Address, Builder};
use crate::demo::names;
use crate::domain::national_id::NationalId;

impl Builder<'_> {
    pub(super) fn uuid(&mut self) -> Uuid {
        uuid_from(&mut self.rng)
    }

    /// A synthetic national id not used before; moves the birth date a day on when a
    /// date's series is exhausted (only conceivable in the large municipality).
    pub(super) fn national_id(&mut self, mut born: Date) -> (String, Date) {
        loop {
            let series = if born.year() >= 2000 { 500..=999 } else { 0..=499 };
            for _ in 0..400 {
                let individual = self.rng.gen_range(series.clone());
                if let Some(id) = NationalId::synthetic(born, individual) {
                    if self.used_ids.insert(id.as_str().to_owned()) {
                        return (id.as_str().to_owned(), born);
                    }
                }
            }
            born = born.next_day().unwrap_or(born);
        }
    }

    pub(super) fn duf_number(&mut self) -> String {
        let y = self.years.y();
        loop {
            let id = format!("{}{:08}", self.rng.gen_range(y - 5..=y - 1), self.rng.gen_range(0..100_000_000u32));
            if self.used_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    pub(super) fn feide_id(&mut self, given: &str, family: &str) -> String {
        let first = given.split_whitespace().next().unwrap_or(given);
        let base = format!("{}.{}", names::ascii_fold(first), names::ascii_fold(family));
        let mut n = 1;
        loop {
            let id =
                if n == 1 { format!("{base}@{}", self.plan.realm) } else { format!("{base}{n}@{}", self.plan.realm) };
            if self.used_feide.insert(id.clone()) {
                return id;
            }
            n += 1;
        }
    }

    /// A nine-digit organisation number with a valid modulus-11 control digit.
    pub(super) fn org_number(&mut self) -> String {
        const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
        loop {
            let mut digits = vec![9u32];
            digits.extend((0..7).map(|_| self.rng.gen_range(0..10u32)));
            let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
            let control = (11 - sum % 11) % 11;
            if control == 10 {
                continue;
            }
            digits.push(control);
            let org: String = digits.iter().map(|d| char::from(b'0' + d.to_le_bytes()[0])).collect();
            if self.used_org.insert(org.clone()) {
                return org;
            }
        }
    }

    pub(super) fn phone(&mut self) -> String {
        let lead = if self.rng.gen_bool(0.5) { 4 } else { 9 };
        format!(
            "+47 {lead}{:02} {:02} {:03}",
            self.rng.gen_range(0..100),
            self.rng.gen_range(0..100),
            self.rng.gen_range(0..1000)
        )
    }

    pub(super) fn random_date(&mut self, year: i32) -> Date {
        let days = if time::util::is_leap_year(year) { 366 } else { 365 };
        Date::from_ordinal_date(year, self.rng.gen_range(1..=days)).unwrap_or(Date::MIN)
    }

    pub(super) fn address(&mut self, protection: &'static str) -> Address {
        if protection == "strictly_confidential" {
            // Strengt fortrolig: the address is not even given to the municipality.
            return Address { protection, street: None, postal: None };
        }
        let street = names::STREETS.choose(&mut self.rng).copied().unwrap_or("Storgata");
        let mut number = self.rng.gen_range(1..=140).to_string();
        if self.rng.gen_bool(0.15) {
            number.push(['A', 'B', 'C'][self.rng.gen_range(0..3)]);
        }
        let postal = self.plan.postal.choose(&mut self.rng).cloned();
        Address { protection, street: Some(format!("{street} {number}")), postal }
    }
}
