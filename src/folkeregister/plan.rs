//! What a register file changes, decided without the database: each line matched,
//! created or queued; which persons' values differ; which guardianships are added,
//! changed, opened again or ended. `mod.rs` loads what this needs and writes what it
//! decides, so the rules read in one place and are tested without PostgreSQL.

use std::collections::{BTreeSet, HashMap, HashSet};

use sqlx::postgres::PgArguments;
use sqlx::{Arguments as _, Postgres};
use time::Date;
use uuid::Uuid;

use super::file::{LineError, Protection, RegisterPerson};

/// What an import changed (or, for a dry run, would have).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub tenant: String,
    pub dry_run: bool,
    pub persons: usize,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Items added to the office's queue by this run.
    pub queued: usize,
    /// Lines whose item was already waiting in the queue (a second run of a file).
    pub already_queued: usize,
    pub guardianships_added: usize,
    pub guardianships_changed: usize,
    pub guardianships_ended: usize,
    /// Relations the register names that a restriction blocks: not added, not changed.
    pub kept_restricted: usize,
    /// Manual links (the principal's) the register named: left as they are.
    pub kept_manual: usize,
    pub newly_protected: usize,
    pub deaths: usize,
    /// Children with parents in the file who are not pupils in Tavle (yet).
    pub children_not_pupils: usize,
}

/// A line's match in Tavle and, for a matched person, the values Tavle has.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Existing {
    pub line: i64,
    pub person_id: Option<Uuid>,
    pub former_person_id: Option<Uuid>,
    pub duplicate_of: Option<Uuid>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birth_date: Option<Date>,
    pub address_protection: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub postal_town: Option<String>,
    pub deceased_on: Option<Date>,
    pub moved_out_on: Option<Date>,
    pub moved_to_municipality: Option<String>,
    pub is_pupil: bool,
    pub is_enrolled: bool,
    pub is_guardian: bool,
}

/// A person Tavle has, as far as linking a guardian needs.
#[derive(Debug, Clone)]
pub struct Known {
    pub id: Uuid,
    pub street: Option<String>,
    pub postal_code: Option<String>,
}

/// A guardianship as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Guardianship {
    pub pupil_id: Uuid,
    pub guardian_id: Uuid,
    pub parental_responsibility: bool,
    pub from_date: Date,
    pub to_date: Option<Date>,
    /// Linked by the principal, not given by the register: the register never changes
    /// or ends it.
    pub manual: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Update(Uuid),
    Create,
    Created(Uuid),
    Queue(&'static str, Uuid),
}

/// A guardianship to write: added, changed or opened again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetGuardianship {
    pub pupil: Uuid,
    pub guardian: Uuid,
    pub responsible: bool,
    pub lives_with: bool,
    pub from_date: Date,
}

#[derive(Debug, Default)]
pub struct GuardianshipChanges {
    pub set: Vec<SetGuardianship>,
    /// (pupil, guardian) ended today.
    pub ended: Vec<(Uuid, Uuid)>,
    /// (pupil, guardian) that had not begun: removed.
    pub removed: Vec<(Uuid, Uuid)>,
}

/// One item for the office's queue.
pub struct QueueItem<'a> {
    pub kind: &'static str,
    pub person_id: Uuid,
    pub person: &'a RegisterPerson,
}

pub struct Plan {
    pub report: Report,
    today: Date,
    decisions: Vec<Decision>,
    changed: Vec<usize>,
    tasks: Vec<(&'static str, Uuid, usize)>,
    newly_deceased: Vec<Uuid>,
    pupils: HashMap<usize, bool>,
    ids: HashMap<String, Known>,
    pub guardianship_changes: GuardianshipChanges,
    pub register_parents: RegisterParents,
    subjects: BTreeSet<Uuid>,
}

/// The register's parents of children who are not pupils (`register_parents`, for the
/// first-grade intake): each settled child's rows become exactly `links`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterParents {
    /// The children whose every parent is known: rows their line no longer names go.
    pub settled: Vec<Uuid>,
    /// (child, parent, parental responsibility) as the file says.
    pub links: Vec<(Uuid, Uuid, bool)>,
}

/// The links to persons neither in the file nor in Tavle: the file is refused.
pub fn unknown_parents(persons: &[RegisterPerson], others: &HashMap<String, Known>) -> Vec<LineError> {
    let in_file: HashSet<&str> = persons.iter().map(|p| p.national_id.as_str()).collect();
    persons
        .iter()
        .filter(|p| {
            p.links.iter().any(|l| !in_file.contains(l.national_id.as_str()) && !others.contains_key(&l.national_id))
        })
        .map(|p| {
            LineError::new(p.line, "a parent or holder of parental responsibility is neither in the file nor in Tavle")
        })
        .collect()
}

impl Plan {
    pub fn new(tenant: &str, dry_run: bool, today: Date, persons: &[RegisterPerson], existing: &[Existing]) -> Self {
        let mut plan = Plan {
            report: Report { tenant: tenant.to_owned(), dry_run, persons: persons.len(), ..Report::default() },
            today,
            decisions: Vec::with_capacity(persons.len()),
            changed: Vec::new(),
            tasks: Vec::new(),
            newly_deceased: Vec::new(),
            pupils: HashMap::new(),
            ids: HashMap::new(),
            guardianship_changes: GuardianshipChanges::default(),
            register_parents: RegisterParents::default(),
            subjects: BTreeSet::new(),
        };
        for (i, (p, e)) in persons.iter().zip(existing).enumerate() {
            debug_assert_eq!(p.line as i64, e.line);
            let decision = match (e.person_id, e.former_person_id, e.duplicate_of) {
                (Some(id), Some(former), _) if former != id => Decision::Queue("conflicting_ids", id),
                (Some(id), _, _) => Decision::Update(id),
                (None, Some(former), _) => Decision::Queue("id_change", former),
                (None, None, Some(duplicate)) => Decision::Queue("possible_duplicate", duplicate),
                (None, None, None) => Decision::Create,
            };
            if let Decision::Update(id) = decision {
                plan.compare(i, id, p, e);
                plan.pupils.insert(i, e.is_pupil);
                let (street, postal_code) = new_address(p, e);
                plan.ids.insert(p.national_id.clone(), Known { id, street, postal_code });
            }
            plan.decisions.push(decision);
        }
        plan
    }

    fn compare(&mut self, i: usize, id: Uuid, p: &RegisterPerson, e: &Existing) {
        let (street, postal_code) = new_address(p, e);
        let town = match (p.protection, &p.address) {
            (Protection::StrictlyConfidential, _) => None,
            (_, Some(a)) => Some(a.postal_town.clone()),
            (_, None) => e.postal_town.clone(),
        };
        let differs = e.given_name.as_deref() != Some(p.given_name.as_str())
            || e.family_name.as_deref() != Some(p.family_name.as_str())
            || e.birth_date != Some(p.birth_date)
            || e.address_protection.as_deref() != Some(p.protection.code())
            || e.street_address != street
            || e.postal_code != postal_code
            || e.postal_town != town
            || e.deceased_on != p.deceased_on
            || e.moved_out_on != p.moved_out_on
            || e.moved_to_municipality != p.moved_to_municipality;
        if !differs {
            self.report.unchanged += 1;
            return;
        }
        self.report.changed += 1;
        self.changed.push(i);
        self.subjects.insert(id);
        if e.address_protection.as_deref() == Some("none") && p.protection != Protection::None {
            self.report.newly_protected += 1;
        }
        if e.deceased_on.is_none() && p.deceased_on.is_some() {
            self.report.deaths += 1;
            self.newly_deceased.push(id);
            if e.is_pupil || e.is_guardian {
                self.tasks.push(("deceased", id, i));
            }
        }
        if e.moved_out_on.is_none() && p.moved_out_on.is_some() && e.is_enrolled {
            self.tasks.push(("moved_out", id, i));
        }
    }

    /// The lines to create a person for.
    pub fn to_create<'a>(&self, persons: &'a [RegisterPerson]) -> Vec<&'a RegisterPerson> {
        persons.iter().zip(&self.decisions).filter(|(_, d)| **d == Decision::Create).map(|(p, _)| p).collect()
    }

    /// The ids of the persons created, and the persons outside the file that are named
    /// as parents: from here on every person a link names has an id, unless queued.
    pub fn created(
        &mut self,
        persons: &[RegisterPerson],
        created: &HashMap<String, Uuid>,
        others: HashMap<String, Known>,
    ) {
        self.report.created = created.len();
        for (i, p) in persons.iter().enumerate() {
            if self.decisions[i] != Decision::Create {
                continue;
            }
            if let Some(&id) = created.get(&p.national_id) {
                self.decisions[i] = Decision::Created(id);
                self.subjects.insert(id);
                self.pupils.insert(i, false);
                let (street, postal_code) = match &p.address {
                    Some(a) if p.protection != Protection::StrictlyConfidential => {
                        (Some(a.street.clone()), Some(a.postal_code.clone()))
                    }
                    _ => (None, None),
                };
                self.ids.insert(p.national_id.clone(), Known { id, street, postal_code });
            }
        }
        self.ids.extend(others);
    }

    /// The pupils whose guardianships the file settles (their line has
    /// `foreldreansvar`); children with parents who are not pupils are counted.
    pub fn children_to_reconcile(&mut self, persons: &[RegisterPerson]) -> Vec<Uuid> {
        let mut pupils = Vec::new();
        for (i, p) in persons.iter().enumerate() {
            if !p.has_responsibility {
                continue;
            }
            match (self.decisions[i], self.pupils.get(&i)) {
                (Decision::Update(id), Some(true)) => pupils.push(id),
                (Decision::Update(child) | Decision::Created(child), _) => {
                    if !p.links.is_empty() {
                        self.report.children_not_pupils += 1;
                    }
                    self.register_parents_of(child, p);
                }
                _ => {}
            }
        }
        pupils
    }

    /// The parents the line of `child`, who is not a pupil, names. A parent queued for
    /// the office has no id yet: the child's other rows are then kept this run.
    fn register_parents_of(&mut self, child: Uuid, p: &RegisterPerson) {
        let known: Vec<(Uuid, Uuid, bool)> = p
            .links
            .iter()
            .filter_map(|l| self.ids.get(&l.national_id).map(|parent| (child, parent.id, l.responsible)))
            .collect();
        if known.len() == p.links.len() {
            self.register_parents.settled.push(child);
        }
        self.register_parents.links.extend(known);
    }

    /// Decide the guardianships of the pupils `children_to_reconcile` gave, against
    /// what is stored and the restrictions in force.
    pub fn guardianships(
        &mut self,
        persons: &[RegisterPerson],
        stored: &[Guardianship],
        restricted: &HashSet<(Uuid, Uuid)>,
    ) {
        let today = self.today;
        let stored: HashMap<(Uuid, Uuid), &Guardianship> =
            stored.iter().map(|g| ((g.pupil_id, g.guardian_id), g)).collect();
        let mut named: HashSet<(Uuid, Uuid)> = HashSet::new();
        let mut reconciled: HashSet<Uuid> = HashSet::new();
        for (i, p) in persons.iter().enumerate() {
            let (Decision::Update(pupil), Some(true)) = (self.decisions[i], self.pupils.get(&i)) else { continue };
            if !p.has_responsibility {
                continue;
            }
            // A parent queued for the office (a changed number, a possible duplicate) has
            // no id yet: the child's guardianships are then not ended this run, lest the
            // parent's current one (under the old number) end with it; the next run,
            // after the office's decision, settles them.
            if p.links.iter().all(|l| self.ids.contains_key(&l.national_id)) {
                reconciled.insert(pupil);
            }
            let child = self.ids.get(&p.national_id).cloned();
            for link in &p.links {
                let Some(parent) = self.ids.get(&link.national_id) else { continue };
                let key = (pupil, parent.id);
                named.insert(key);
                if restricted.contains(&key) {
                    self.report.kept_restricted += 1;
                    continue;
                }
                if stored.get(&key).is_some_and(|g| g.manual) {
                    self.report.kept_manual += 1;
                    continue;
                }
                let current = |g: &Guardianship| g.to_date.is_none_or(|t| t > today);
                match stored.get(&key) {
                    Some(g) if current(g) && g.parental_responsibility == link.responsible => continue,
                    Some(g) if current(g) => {
                        self.report.guardianships_changed += 1;
                        self.guardianship_changes.set.push(SetGuardianship {
                            pupil,
                            guardian: parent.id,
                            responsible: link.responsible,
                            lives_with: false,
                            from_date: g.from_date,
                        });
                    }
                    _ => {
                        self.report.guardianships_added += 1;
                        let lives_with = child.as_ref().is_some_and(|c| {
                            p.protection == Protection::None
                                && c.street.is_some()
                                && c.street == parent.street
                                && c.postal_code == parent.postal_code
                        });
                        self.guardianship_changes.set.push(SetGuardianship {
                            pupil,
                            guardian: parent.id,
                            responsible: link.responsible,
                            lives_with,
                            from_date: today,
                        });
                    }
                }
                self.subjects.extend([pupil, parent.id]);
            }
        }
        for g in stored.values() {
            let key = (g.pupil_id, g.guardian_id);
            if !reconciled.contains(&g.pupil_id)
                || named.contains(&key)
                || g.manual
                || g.to_date.is_some_and(|t| t <= today)
            {
                continue;
            }
            self.report.guardianships_ended += 1;
            self.subjects.extend([g.pupil_id, g.guardian_id]);
            if g.from_date < today {
                self.guardianship_changes.ended.push(key);
            } else {
                self.guardianship_changes.removed.push(key);
            }
        }
    }

    /// The persons whose values change, with their line.
    pub fn changed_persons<'a>(&self, persons: &'a [RegisterPerson]) -> Vec<(Uuid, &'a RegisterPerson)> {
        self.changed
            .iter()
            .filter_map(|&i| match self.decisions[i] {
                Decision::Update(id) => Some((id, &persons[i])),
                _ => None,
            })
            .collect()
    }

    pub fn newly_deceased(&self) -> Vec<Uuid> {
        self.newly_deceased.clone()
    }

    /// What the office's queue gets: unmatched lines, deaths and moves out.
    pub fn queue<'a>(&self, persons: &'a [RegisterPerson]) -> Vec<QueueItem<'a>> {
        let unmatched = persons.iter().zip(&self.decisions).filter_map(|(p, d)| match *d {
            Decision::Queue(kind, person_id) => Some(QueueItem { kind, person_id, person: p }),
            _ => None,
        });
        let tasks = self.tasks.iter().map(|&(kind, person_id, i)| QueueItem { kind, person_id, person: &persons[i] });
        unmatched.chain(tasks).collect()
    }

    /// Every person whose data the import changed (the audit event's subjects).
    pub fn subjects(&self) -> Vec<Uuid> {
        self.subjects.iter().copied().collect()
    }
}

/// The columns of persons to create or change, as arrays for `unnest`.
#[derive(Debug, Default)]
pub struct Columns {
    pub nid: Vec<String>,
    pub given: Vec<String>,
    pub family: Vec<String>,
    pub birth: Vec<Date>,
    pub protection: Vec<&'static str>,
    pub street: Vec<Option<String>>,
    pub postal_code: Vec<Option<String>>,
    pub town: Vec<Option<String>>,
    pub deceased: Vec<Option<Date>>,
    pub moved_out: Vec<Option<Date>>,
    pub moved_to: Vec<Option<String>>,
}

impl Columns {
    pub fn of<'a>(persons: impl Iterator<Item = &'a RegisterPerson>) -> Self {
        let mut c = Columns::default();
        for p in persons {
            c.nid.push(p.national_id.clone());
            c.given.push(p.given_name.clone());
            c.family.push(p.family_name.clone());
            c.birth.push(p.birth_date);
            c.protection.push(p.protection.code());
            c.street.push(p.address.as_ref().map(|a| a.street.clone()));
            c.postal_code.push(p.address.as_ref().map(|a| a.postal_code.clone()));
            c.town.push(p.address.as_ref().map(|a| a.postal_town.clone()));
            c.deceased.push(p.deceased_on);
            c.moved_out.push(p.moved_out_on);
            c.moved_to.push(p.moved_to_municipality.clone());
        }
        c
    }

    /// The arguments of a statement over these persons: `$1` the municipality, `$2`
    /// the key (their numbers or their ids), then the register's values as `$3`-`$12`:
    /// names, birth date, protection, address, death and move out, in that order.
    pub fn arguments<'q, K>(&'q self, tenant: Uuid, key: &'q K) -> Result<PgArguments, sqlx::error::BoxDynError>
    where
        K: sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
    {
        let mut args = PgArguments::default();
        args.add(tenant)?;
        args.add(key)?;
        args.add(&self.given)?;
        args.add(&self.family)?;
        args.add(&self.birth)?;
        args.add(&self.protection)?;
        args.add(&self.street)?;
        args.add(&self.postal_code)?;
        args.add(&self.town)?;
        args.add(&self.deceased)?;
        args.add(&self.moved_out)?;
        args.add(&self.moved_to)?;
        Ok(args)
    }
}

/// The address Tavle will hold after the import: the register's, none when strictly
/// confidential, and Tavle's own where the register gives none.
fn new_address(p: &RegisterPerson, e: &Existing) -> (Option<String>, Option<String>) {
    match (p.protection, &p.address) {
        (Protection::StrictlyConfidential, _) => (None, None),
        (_, Some(a)) => (Some(a.street.clone()), Some(a.postal_code.clone())),
        (_, None) => (e.street_address.clone(), e.postal_code.clone()),
    }
}
