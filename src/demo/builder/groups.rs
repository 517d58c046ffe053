//! Groups: each school's classes with their contact teachers, teaching groups with
//! their subject teachers and weekly lessons, and SFO groups.

use rand::seq::SliceRandom;
use rand::Rng;
use time::Date;
use uuid::Uuid;

use super::{Builder, CLASS_CAP};

impl Builder<'_> {
    pub(super) fn classes_at(&self, s: usize) -> usize {
        self.schools[s].pupils.iter().map(|p| p.len().div_ceil(CLASS_CAP)).sum()
    }

    pub(super) fn group(
        &mut self,
        s: usize,
        kind: &str,
        name: &str,
        grade: Option<i16>,
        subject: Option<&str>,
    ) -> Uuid {
        let id = self.uuid();
        let subject = subject.and_then(|c| self.subjects.iter().find(|(code, _)| *code == c).map(|x| x.1));
        self.t
            .groups
            .uuid(self.tenant)
            .uuid(id)
            .uuid(self.schools[s].id)
            .uuid(self.year)
            .text(kind)
            .text(name)
            .num(grade.map_or(String::new(), |g| g.to_string()))
            .opt_uuid(subject)
            .end();
        id
    }

    pub(super) fn members(&mut self, group: Uuid, pupils: &[(Uuid, Date)]) {
        for &(pupil, from) in pupils {
            self.t.memberships.uuid(self.tenant).uuid(group).uuid(pupil).date(from).end();
            if let Some(h) = &mut self.history {
                h.member(group, pupil, from);
            }
        }
    }

    pub(super) fn assign(&mut self, group: Uuid, staff: Uuid, assignment: &str) {
        self.t.group_staff.uuid(self.tenant).uuid(group).uuid(staff).text(assignment).end();
    }

    pub(super) fn groups(&mut self, s: usize) {
        let plan = self.plan_of(s);
        let teachers = self.schools[s].teachers.clone();
        let fixed_contact = self.schools[s].fixed_contact.clone();
        let fixed_subject = self.schools[s].fixed_subject.clone();
        // Contact teachers first: a fixed one (a persona) keeps its class; the others
        // take the rest, so no teacher is contact teacher of two classes.
        let mut free_contacts: Vec<Uuid> = teachers
            .iter()
            .copied()
            .filter(|t| !fixed_contact.iter().any(|(_, f)| f == t) && !fixed_subject.iter().any(|(_, _, f)| f == t))
            .collect();
        free_contacts.shuffle(&mut self.rng);
        let mut subject_pool: Vec<Uuid> = teachers.clone();
        subject_pool.shuffle(&mut self.rng);
        let mut next_subject = 0usize;
        for g in 0..self.schools[s].pupils.len() {
            let grade = plan.first + i16::try_from(g).unwrap_or(0);
            let mut pupils: Vec<(Uuid, Date)> = self.schools[s].pupils[g].iter().map(|p| (p.id, p.from)).collect();
            pupils.shuffle(&mut self.rng);
            let n_classes = pupils.len().div_ceil(CLASS_CAP).max(1);
            let chunk = pupils.len().div_ceil(n_classes).max(1);
            let mut class_lists = Vec::new();
            for (c, members) in pupils.chunks(chunk).enumerate() {
                let letter = char::from(b'A' + u8::try_from(c % 26).unwrap_or(0));
                let name = format!("{grade}{letter}");
                let class = self.group(s, "base", &name, Some(grade), None);
                self.members(class, members);
                let contact = fixed_contact
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|x| x.1)
                    .or_else(|| free_contacts.pop())
                    .or_else(|| teachers.first().copied());
                if let Some(t) = contact {
                    self.assign(class, t, "contact_teacher");
                }
                class_lists.push((name, members.to_vec(), contact));
            }
            let mut pick = |code: &str, rng_pool: &[Uuid]| -> Option<Uuid> {
                if let Some((_, _, t)) =
                    fixed_subject.iter().find(|(c, grades, _)| *c == code && grades.contains(&grade))
                {
                    return Some(*t);
                }
                if rng_pool.is_empty() {
                    return None;
                }
                next_subject += 1;
                Some(rng_pool[next_subject % rng_pool.len()])
            };
            if grade <= 7 {
                for (name, members, contact) in &class_lists {
                    let mut slot = 0;
                    for (code, per_week) in [("NOR", 5), ("MAT", 4), ("ENG", 2), ("NAT", 2), ("KRO", 2)] {
                        let group = self.group(s, "teaching", &format!("{name} {code}"), Some(grade), Some(code));
                        self.members(group, members);
                        let teacher = match code {
                            "NOR" | "MAT" => *contact,
                            _ => pick(code, &subject_pool),
                        };
                        if let Some(t) = teacher {
                            self.assign(group, t, "teacher");
                        }
                        let room = if code == "KRO" { "Gymsal".to_owned() } else { format!("Rom {name}") };
                        self.lessons(group, code, teacher, &room, slot..slot + per_week);
                        slot += per_week;
                    }
                }
            } else {
                // The groups of a subject meet at the same time (a block), so no pupil
                // is in two places; each grade's week starts at another slot.
                let mut slot = usize::try_from(grade - 8).unwrap_or(0) * 7;
                for (code, per_week) in [("NOR", 4), ("MAT", 4), ("ENG", 3), ("NAT", 3), ("SAF", 3)] {
                    pupils.shuffle(&mut self.rng);
                    for (i, members) in pupils.chunks(chunk).enumerate() {
                        let name = format!("{grade} {code} {}", i + 1);
                        let group = self.group(s, "teaching", &name, Some(grade), Some(code));
                        self.members(group, members);
                        let teacher = pick(code, &subject_pool);
                        if let Some(t) = teacher {
                            self.assign(group, t, "teacher");
                        }
                        let graded = super::assessment::Graded::new(s, group, &name, code, grade, members, teacher);
                        self.graded.push(graded);
                        self.lessons(group, code, teacher, &format!("{grade}0{}", i + 1), slot..slot + per_week);
                    }
                    slot += per_week;
                }
                let half = pupils.len() / 2;
                let (spanish, german) = pupils.split_at(half);
                let mut room = 0;
                for (code, list) in [("SPA", spanish), ("TYS", german)] {
                    for (i, members) in list.chunks(CLASS_CAP).enumerate() {
                        let name = format!("{grade} {code} {}", i + 1);
                        let group = self.group(s, "teaching", &name, Some(grade), Some(code));
                        self.members(group, members);
                        let teacher = pick(code, &subject_pool);
                        if let Some(t) = teacher {
                            self.assign(group, t, "teacher");
                        }
                        let graded = super::assessment::Graded::new(s, group, &name, code, grade, members, teacher);
                        self.graded.push(graded);
                        room += 1;
                        self.lessons(group, code, teacher, &format!("Språk {room}"), slot..slot + 2);
                    }
                }
            }
            if plan.sfo && grade <= 4 {
                let share = [0.9, 0.8, 0.65, 0.45][usize::try_from(grade - 1).unwrap_or(3).min(3)];
                let members: Vec<(Uuid, Date)> = pupils
                    .iter()
                    .copied()
                    .filter(|p| self.rng.gen_bool(share) || self.sfo_forced.contains(&p.0))
                    .collect();
                let group = self.group(s, "sfo", &format!("SFO {grade}. trinn"), Some(grade), None);
                self.members(group, &members);
            }
        }
    }
}
