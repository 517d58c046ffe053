//! Worked examples of the rollover's plan.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::*;
use crate::groups::rollover::placements;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn pupil(n: u128, grade: i16) -> PupilIn {
    PupilIn {
        pupil_id: id(n),
        enrolment_id: id(1000 + n),
        name: format!("Elev {n}"),
        grade,
        ends: false,
        national_id: format!("{:011}", 10_000_000_000 + n),
    }
}

fn group(n: u128, kind: &str, name: &str, grade: Option<i16>, members: &[u128]) -> GroupIn {
    GroupIn {
        id: id(n),
        kind: kind.to_owned(),
        name: name.to_owned(),
        grade,
        subject: None,
        closed: false,
        members: members.iter().map(|m| id(*m)).collect(),
        staff: vec![(id(900 + n), "contact_teacher".to_owned())],
    }
}

#[test]
fn a_grade_in_a_name_moves_on_and_other_numbers_stay() {
    assert_eq!(next_name("4A", 4), "5A");
    assert_eq!(next_name("9 B", 9), "10 B");
    assert_eq!(next_name("Matematikk 9 gr. 2", 9), "Matematikk 10 gr. 2");
    assert_eq!(next_name("Gruppe 2 trinn 3", 3), "Gruppe 2 trinn 4", "the grade, not the first number");
    assert_eq!(next_name("14A", 4), "14A", "4 is not in 14");
    assert_eq!(next_name("Blå", 3), "Blå", "no grade in the name: it stays");
}

#[test]
fn pupils_advance_leavers_leave_and_a_planned_move_is_left_alone() {
    let mut moving = pupil(3, 2);
    moving.ends = true;
    let input = Input {
        last_grade: 7,
        pupils: vec![pupil(1, 1), pupil(2, 7), moving, pupil(4, 6)],
        groups: vec![],
        next_groups: BTreeMap::new(),
        placements: Vec::new(),
    };
    let p = plan(&input);
    assert_eq!(
        p.advance.iter().map(|a| (a.pupil_id, a.from, a.to)).collect::<Vec<_>>(),
        vec![(id(1), 1, 2), (id(4), 6, 7)]
    );
    assert_eq!(p.leave.iter().map(|l| l.pupil_id).collect::<Vec<_>>(), vec![id(2)]);
    assert_eq!(p.untouched.iter().map(|l| l.pupil_id).collect::<Vec<_>>(), vec![id(3)]);
    assert_eq!(p.per_grade(), vec![(1, 2, 1), (6, 7, 1)]);
    assert_eq!(p.pupils(), vec![id(1), id(4), id(2)]);
}

#[test]
fn classes_go_on_with_the_pupils_who_advance_and_the_last_grades_end() {
    let mut next = BTreeMap::new();
    next.insert("5A".to_owned(), (id(77), "base".to_owned(), Some(5)));
    let mut closed = group(13, "base", "4C", Some(4), &[]);
    closed.closed = true;
    let input = Input {
        last_grade: 7,
        pupils: vec![pupil(1, 4), pupil(2, 4), pupil(3, 7)],
        groups: vec![
            group(10, "base", "4A", Some(4), &[1]),
            group(11, "base", "7A", Some(7), &[3]),
            group(12, "teaching", "Kor", None, &[2, 3]),
            group(14, "sfo", "SFO Blå", None, &[1]),
            closed,
        ],
        next_groups: next,
        placements: Vec::new(),
    };
    let p = plan(&input);
    let names: Vec<(&str, &str, Option<i16>, Option<Uuid>)> =
        p.groups.iter().map(|g| (g.from_name.as_str(), g.name.as_str(), g.grade, g.existing)).collect();
    assert_eq!(names, vec![("4A", "5A", Some(5), Some(id(77))), ("Kor", "Kor", None, None)]);
    assert_eq!(p.groups[0].members, vec![id(1)]);
    assert_eq!(p.groups[1].members, vec![id(2)], "the leaver does not go on");
    assert_eq!(p.groups[0].staff, vec![(id(910), "contact_teacher".to_owned())], "the contact teacher follows");
    assert_eq!(p.ended_groups, vec!["7A".to_owned()], "SFO groups are not carried, nor named");
}

#[test]
fn the_fingerprint_changes_with_anything_the_plan_does() {
    let input = Input {
        last_grade: 7,
        pupils: vec![pupil(1, 4)],
        groups: vec![group(10, "base", "4A", Some(4), &[1])],
        next_groups: BTreeMap::new(),
        placements: Vec::new(),
    };
    let a = plan(&input);
    assert_eq!(a.fingerprint(), plan(&input).fingerprint(), "the same register, the same plan");
    let mut more = input.clone();
    more.pupils.push(pupil(2, 3));
    assert_ne!(a.fingerprint(), plan(&more).fingerprint());
    let mut renamed = input;
    renamed.groups[0].name = "4B".to_owned();
    assert_ne!(a.fingerprint(), plan(&renamed).fingerprint());
}

fn number(n: u128) -> String {
    format!("{:011}", 10_000_000_000 + n)
}

/// Grade 7 at a school of grades 1-10: 7A and 7B carried on; one pupil in grade 10 leaves.
fn seventh_grade() -> Input {
    Input {
        last_grade: 10,
        pupils: vec![pupil(1, 7), pupil(2, 7), pupil(3, 7), pupil(4, 10), pupil(5, 6)],
        groups: vec![group(10, "base", "7A", Some(7), &[1, 2]), group(11, "base", "7B", Some(7), &[3])],
        next_groups: BTreeMap::new(),
        placements: Vec::new(),
    }
}

#[test]
fn a_list_moves_pupils_into_new_classes_and_an_emptied_class_is_not_made() {
    let mut input = seventh_grade();
    let text = format!("Fødselsnummer;Klasse\n{};8C\n{} ; 8C\n\n{};8A\n", number(3), number(2), number(1));
    input.placements = placements::read(&text, &input).expect("a good list");
    let p = plan(&input);
    let classes: Vec<(&str, &str, Option<i16>, Vec<Uuid>)> =
        p.groups.iter().map(|g| (g.from_name.as_str(), g.name.as_str(), g.grade, g.members.clone())).collect();
    assert_eq!(
        classes,
        vec![("7A", "8A", Some(8), vec![id(1)]), ("", "8C", Some(8), vec![id(2), id(3)])],
        "8B, emptied by the list, is not made; 8C is new, for grade 8"
    );
    assert!(p.groups[1].staff.is_empty(), "a class from the list has no teachers yet");
    assert_ne!(p.fingerprint(), plan(&seventh_grade()).fingerprint(), "the list is part of the plan");
}

#[test]
fn every_line_of_a_bad_list_is_named_and_the_list_places_nobody() {
    let input = seventh_grade();
    let text = [
        number(1) + ";8C",           // 1: fine
        number(1) + ";8D",           // 2: twice
        number(4) + ";8C",           // 3: leaves (grade 10)
        "99999999999;8C".to_owned(), // 4: unknown
        number(2),                   // 5: no class
        number(3) + "; ",            // 6: empty class
        number(5) + ";8C",           // 7: grade 6 → 7, but 8C is grade 8
    ]
    .join("\n");
    let problems = placements::read(&text, &input).expect_err("problems");
    let got: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.key)).collect();
    assert_eq!(
        got,
        vec![
            (2, "rollover.list.twice"),
            (3, "rollover.list.leaves"),
            (4, "rollover.list.unknown"),
            (5, "rollover.list.format"),
            (6, "rollover.list.class_name"),
            (7, "rollover.list.grade"),
        ]
    );
    let mut teaching = seventh_grade();
    teaching.groups.push(group(12, "teaching", "Kor", None, &[1]));
    let problems = placements::read(&format!("{};Kor", number(2)), &teaching).expect_err("not a class");
    assert_eq!(problems[0].key, "rollover.list.not_class");
}
