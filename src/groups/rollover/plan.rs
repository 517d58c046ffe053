//! What a school's rollover into the next school year does, decided from what the
//! register holds (pure: no database). The preview shows this plan and the rollover
//! applies exactly it, recomputed in the rollover's transaction: if the register
//! changed in between, the two differ (their fingerprints), and nothing is applied.
//!
//! - Each pupil enrolled at the school at the end of the year (an enrolment that runs
//!   on, with no end planned) advances a grade, or leaves after the school's last grade.
//!   A pupil whose enrolment already ends (a planned move) is left to that move.
//! - Each class and teaching group of the year that is open goes on into the next year
//!   with the pupils who advance: a group with a grade gets the next grade and its name
//!   moves with it (`4A` → `5A`, `Matematikk 9 gr. 2` → `Matematikk 10 gr. 2`); a group of
//!   the last grade ends with its leavers. Its teachers and contact teachers go with it.
//!   A group the next year already has under that name gets the pupils instead of a new
//!   one. SFO groups are not carried (SFO places are applied for per year).
//! - Classes from a list (`placements`, read by `placements::read`): a pupil the office
//!   lists goes into the named class of the next year instead of the class carried on
//!   from this year's; a class the list names that is not carried on (nor there already)
//!   is created, with the pupils' next grade. A carried class that the list empties is
//!   not created.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A pupil enrolled at the school at the end of the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PupilIn {
    pub pupil_id: Uuid,
    pub enrolment_id: Uuid,
    pub name: String,
    pub grade: i16,
    /// The enrolment already ends (a planned move): the rollover leaves the pupil alone.
    pub ends: bool,
    /// The national id number, to find the pupil a list names.
    pub national_id: String,
}

/// A pupil the office's list places in a class of the next year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub pupil_id: Uuid,
    pub class: String,
}

/// A group of the year, with the pupils in it at the end of the year and its staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupIn {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub grade: Option<i16>,
    pub subject: Option<Uuid>,
    pub closed: bool,
    pub members: Vec<Uuid>,
    pub staff: Vec<(Uuid, String)>,
}

/// What the rollover starts from.
#[derive(Debug, Clone)]
pub struct Input {
    pub last_grade: i16,
    pub pupils: Vec<PupilIn>,
    pub groups: Vec<GroupIn>,
    /// The next year's groups at the school already: name → (id, kind, grade).
    pub next_groups: BTreeMap<String, (Uuid, String, Option<i16>)>,
    /// Classes from the office's list (checked: see `placements::read`).
    pub placements: Vec<Placement>,
}

/// A pupil who advances.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Advance {
    pub pupil_id: Uuid,
    pub enrolment_id: Uuid,
    pub name: String,
    pub from: i16,
    pub to: i16,
}

/// A pupil who leaves, or is left alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Named {
    pub pupil_id: Uuid,
    pub enrolment_id: Uuid,
    pub name: String,
    pub grade: i16,
}

/// A group of the next year, new or already there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupOut {
    pub from_group: Uuid,
    pub from_name: String,
    pub kind: String,
    pub name: String,
    pub grade: Option<i16>,
    pub subject: Option<Uuid>,
    /// The next year's group of that name, when it is there already.
    pub existing: Option<Uuid>,
    pub members: Vec<Uuid>,
    pub staff: Vec<(Uuid, String)>,
}

/// The rollover, as the preview shows it and the rollover applies it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Plan {
    pub advance: Vec<Advance>,
    pub leave: Vec<Named>,
    /// Pupils whose enrolment already ends (a planned move).
    pub untouched: Vec<Named>,
    pub groups: Vec<GroupOut>,
    /// Groups of the last grade, which end with their leavers.
    pub ended_groups: Vec<String>,
}

impl Plan {
    /// A fingerprint of everything the plan does: the preview sends it, the rollover
    /// compares it with the plan it recomputed.
    pub fn fingerprint(&self) -> String {
        let text = format!("{self:?}");
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// How many pupils advance to each grade, in grade order.
    pub fn per_grade(&self) -> Vec<(i16, i16, usize)> {
        let mut by: BTreeMap<i16, usize> = BTreeMap::new();
        for a in &self.advance {
            *by.entry(a.from).or_default() += 1;
        }
        by.into_iter().map(|(from, n)| (from, from + 1, n)).collect()
    }

    /// Every pupil the rollover changes.
    pub fn pupils(&self) -> Vec<Uuid> {
        self.advance.iter().map(|a| a.pupil_id).chain(self.leave.iter().map(|l| l.pupil_id)).collect()
    }
}

/// A group's name in the next year: the grade in it moves on (as the first number in
/// the name that is the grade), else the name stays.
pub fn next_name(name: &str, grade: i16) -> String {
    let want = grade.to_string();
    let bytes: Vec<char> = name.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let number: String = bytes[start..i].iter().collect();
            if number == want {
                let before: String = bytes[..start].iter().collect();
                let after: String = bytes[i..].iter().collect();
                return format!("{before}{}{after}", grade + 1);
            }
        } else {
            i += 1;
        }
    }
    name.to_owned()
}

/// Decide the rollover.
pub fn plan(input: &Input) -> Plan {
    let mut p = Plan::default();
    let mut pupils = input.pupils.clone();
    pupils.sort_by(|a, b| (a.grade, &a.name, a.pupil_id).cmp(&(b.grade, &b.name, b.pupil_id)));
    for x in &pupils {
        let named = Named { pupil_id: x.pupil_id, enrolment_id: x.enrolment_id, name: x.name.clone(), grade: x.grade };
        if x.ends {
            p.untouched.push(named);
        } else if x.grade >= input.last_grade {
            p.leave.push(named);
        } else {
            p.advance.push(Advance {
                pupil_id: x.pupil_id,
                enrolment_id: x.enrolment_id,
                name: x.name.clone(),
                from: x.grade,
                to: x.grade + 1,
            });
        }
    }
    let advancing: std::collections::HashSet<Uuid> = p.advance.iter().map(|a| a.pupil_id).collect();
    let mut groups = input.groups.clone();
    // Groups with a grade first, by grade; then the others (the preview's order).
    groups
        .sort_by(|a, b| (a.grade.is_none(), a.grade, &a.name, a.id).cmp(&(b.grade.is_none(), b.grade, &b.name, b.id)));
    for g in groups.iter().filter(|g| !g.closed) {
        if g.kind == "sfo" {
            continue;
        }
        if g.grade.is_some_and(|grade| grade >= input.last_grade) {
            p.ended_groups.push(g.name.clone());
            continue;
        }
        let name = match g.grade {
            Some(grade) => next_name(&g.name, grade),
            None => g.name.clone(),
        };
        let mut members: Vec<Uuid> = g.members.iter().copied().filter(|m| advancing.contains(m)).collect();
        members.sort_unstable();
        members.dedup();
        let mut staff = g.staff.clone();
        staff.sort();
        // Two groups of this year that become one name next year: the second's pupils
        // and staff join the first's.
        if let Some(same) = p.groups.iter_mut().find(|o| o.name == name) {
            same.members.extend(members);
            same.members.sort_unstable();
            same.members.dedup();
            same.staff.extend(staff);
            same.staff.sort();
            same.staff.dedup();
            continue;
        }
        p.groups.push(GroupOut {
            from_group: g.id,
            from_name: g.name.clone(),
            kind: g.kind.clone(),
            name: name.clone(),
            grade: g.grade.map(|grade| grade + 1),
            subject: g.subject,
            existing: input.next_groups.get(&name).map(|(id, _, _)| *id),
            members,
            staff,
        });
    }
    place(&mut p, input);
    p
}

/// The list's pupils leave the class carried on for them and go into the one named: an
/// existing one, or a new class of their next grade. A carried class the list empties
/// is not created.
fn place(p: &mut Plan, input: &Input) {
    if input.placements.is_empty() {
        return;
    }
    let placed: std::collections::HashSet<Uuid> = input.placements.iter().map(|x| x.pupil_id).collect();
    let mut emptied = Vec::new();
    for g in p.groups.iter_mut().filter(|g| g.kind == "base") {
        let before = g.members.len();
        g.members.retain(|m| !placed.contains(m));
        if before > 0 && g.members.is_empty() {
            emptied.push(g.name.clone());
        }
    }
    let grades: std::collections::HashMap<Uuid, i16> = p.advance.iter().map(|a| (a.pupil_id, a.to)).collect();
    let mut listed = input.placements.clone();
    listed.sort_by(|a, b| (&a.class, a.pupil_id).cmp(&(&b.class, b.pupil_id)));
    let mut new: Vec<GroupOut> = Vec::new();
    for x in &listed {
        let Some(&grade) = grades.get(&x.pupil_id) else { continue };
        if let Some(g) = p.groups.iter_mut().chain(new.iter_mut()).find(|g| g.kind == "base" && g.name == x.class) {
            g.members.push(x.pupil_id);
            g.members.sort_unstable();
            g.members.dedup();
            continue;
        }
        new.push(GroupOut {
            from_group: Uuid::nil(),
            from_name: String::new(),
            kind: "base".to_owned(),
            name: x.class.clone(),
            grade: Some(grade),
            subject: None,
            existing: input.next_groups.get(&x.class).map(|(id, _, _)| *id),
            members: vec![x.pupil_id],
            staff: Vec::new(),
        });
    }
    p.groups.retain(|g| !(g.kind == "base" && emptied.contains(&g.name) && g.members.is_empty()));
    p.groups.extend(new);
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
