//! The office's list of next year's classes, read and checked against the rollover's
//! plan (pure): one line per pupil, `national id;class` (semicolons, as Tavle's other
//! lists; a first line without a number in it is a header and skipped). Every line is
//! checked; one problem and the list places nobody, each problem named with its line.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::plan::{plan, Input, Placement};
use crate::domain::text::{has_hidden_characters, nfc};

/// At most this many lines: more pupils than any school has.
pub const MAX_LINES: usize = 5000;

/// A line the list cannot use: its number (from 1) and the catalogue key of why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub key: &'static str,
}

/// The placements the list makes, or every problem in it.
pub fn read(text: &str, input: &Input) -> Result<Vec<Placement>, Vec<Problem>> {
    let mut base = input.clone();
    base.placements.clear();
    let carried = plan(&base);
    let ends_or_leaves: HashSet<&str> =
        input.pupils.iter().filter(|p| p.ends || p.grade >= input.last_grade).map(|p| p.national_id.as_str()).collect();
    let advancing: HashMap<&str, (uuid::Uuid, i16)> = carried
        .advance
        .iter()
        .filter_map(|a| {
            let pupil = input.pupils.iter().find(|p| p.pupil_id == a.pupil_id)?;
            Some((pupil.national_id.as_str(), (a.pupil_id, a.to)))
        })
        .collect();
    // The next year's groups by name: the carried ones and those there already.
    let mut kinds: BTreeMap<String, (String, Option<i16>)> =
        input.next_groups.iter().map(|(n, (_, kind, grade))| (n.clone(), (kind.clone(), *grade))).collect();
    for g in &carried.groups {
        kinds.entry(g.name.clone()).or_insert((g.kind.clone(), g.grade));
    }
    let mut problems = Vec::new();
    let mut placements: Vec<Placement> = Vec::new();
    let mut seen = HashSet::new();
    // The grade each class of the list gets: from its first pupil.
    let mut class_grade: HashMap<String, i16> = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > MAX_LINES {
        return Err(vec![Problem { line: MAX_LINES + 1, key: "rollover.list.too_long" }]);
    }
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = raw.split(';').map(str::trim).collect();
        if i == 0 && !cells[0].chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let ([number, class] | [number, class, ""]) = cells.as_slice() else {
            problems.push(Problem { line, key: "rollover.list.format" });
            continue;
        };
        let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        let class = nfc(class);
        if class.is_empty() || class.chars().count() > 100 || has_hidden_characters(&class) {
            problems.push(Problem { line, key: "rollover.list.class_name" });
            continue;
        }
        let Some(&(pupil_id, grade)) = advancing.get(number.as_str()) else {
            let key =
                if ends_or_leaves.contains(number.as_str()) { "rollover.list.leaves" } else { "rollover.list.unknown" };
            problems.push(Problem { line, key });
            continue;
        };
        if !seen.insert(pupil_id) {
            problems.push(Problem { line, key: "rollover.list.twice" });
            continue;
        }
        match kinds.get(&class) {
            Some((kind, _)) if kind != "base" => {
                problems.push(Problem { line, key: "rollover.list.not_class" });
                continue;
            }
            Some((_, Some(other))) if *other != grade => {
                problems.push(Problem { line, key: "rollover.list.grade" });
                continue;
            }
            _ => {}
        }
        if *class_grade.entry(class.clone()).or_insert(grade) != grade {
            problems.push(Problem { line, key: "rollover.list.grade" });
            continue;
        }
        placements.push(Placement { pupil_id, class });
    }
    if problems.is_empty() {
        Ok(placements)
    } else {
        Err(problems)
    }
}
