//! The counts behind [`super::ExpensiveSlot`]: running expensive requests per person and
//! per municipality. Imports nothing of Tavle, so the shared state can hold it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Person(Uuid, Uuid),
    Municipality(Uuid),
}

#[derive(Debug)]
pub struct ExpensiveLimiter {
    per_person: u32,
    per_municipality: u32,
    running: Mutex<HashMap<Key, u32>>,
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This person already runs as many as allowed.
    Person,
    /// The municipality already runs as many as allowed.
    Municipality,
}

impl ExpensiveLimiter {
    pub fn new(per_person: u32, per_municipality: u32) -> Self {
        Self { per_person, per_municipality, running: Mutex::default() }
    }

    /// Take a slot for `person` of `tenant`, or say which limit is reached.
    pub fn try_acquire(self: &Arc<Self>, tenant: Uuid, person: Uuid) -> Result<Slot, Refusal> {
        let person_key = Key::Person(tenant, person);
        let tenant_key = Key::Municipality(tenant);
        // A poisoned lock only means another request panicked while counting; the
        // counts are still whole numbers, so carry on with them.
        let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if running.get(&person_key).copied().unwrap_or(0) >= self.per_person {
            return Err(Refusal::Person);
        }
        if running.get(&tenant_key).copied().unwrap_or(0) >= self.per_municipality {
            return Err(Refusal::Municipality);
        }
        *running.entry(person_key).or_insert(0) += 1;
        *running.entry(tenant_key).or_insert(0) += 1;
        Ok(Slot { limiter: Arc::clone(self), keys: [person_key, tenant_key] })
    }

    /// Slots taken now (for tests and the log).
    pub fn running(&self, tenant: Uuid) -> u32 {
        let running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        running.get(&Key::Municipality(tenant)).copied().unwrap_or(0)
    }
}

/// A taken slot; dropping it gives it back (also when the request is cancelled).
#[derive(Debug)]
pub struct Slot {
    limiter: Arc<ExpensiveLimiter>,
    keys: [Key; 2],
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.limiter.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in self.keys {
            if let Some(n) = running.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    running.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_person_and_each_municipality_has_its_own_share() {
        let l = Arc::new(ExpensiveLimiter::new(2, 3));
        let (fjordvik, smaoy) = (Uuid::new_v4(), Uuid::new_v4());
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let a1 = l.try_acquire(fjordvik, a).unwrap();
        let a2 = l.try_acquire(fjordvik, a).unwrap();
        assert_eq!(l.try_acquire(fjordvik, a).unwrap_err(), Refusal::Person);
        let b1 = l.try_acquire(fjordvik, b).unwrap();
        assert_eq!(l.try_acquire(fjordvik, b).unwrap_err(), Refusal::Municipality);
        assert_eq!(l.try_acquire(fjordvik, c).unwrap_err(), Refusal::Municipality);
        // Another municipality is not held up by Fjordvik.
        let s1 = l.try_acquire(smaoy, Uuid::new_v4()).unwrap();
        assert_eq!(l.running(fjordvik), 3);
        drop(a1);
        let c1 = l.try_acquire(fjordvik, c).unwrap();
        drop((a2, b1, c1, s1));
        assert_eq!(l.running(fjordvik), 0);
        assert!(l.running.lock().unwrap().is_empty(), "nothing left behind");
    }
}
