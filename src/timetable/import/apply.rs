//! A read file against the school, then applied: what the lines are checked against
//! ([`Known`]), the lessons they plan, the lessons there are now ([`existing`]), and
//! the writes that make the school's timetable the file's ([`apply`]). Nothing is
//! written until every line has passed; the caller's transaction holds it all.

use std::collections::{HashMap, HashSet};

use crate::db::Conn;
use time::{Date, Duration, Time};
use uuid::Uuid;

use super::file::{column_key, Line, LineError};
use super::{ImportError, Report};
use crate::timetable::fields::{self, hhmm, msg, Msg};
use crate::timetable::queries::{self, LessonRow};

/// A lesson that a line of the file plans, with the line's number.
pub(super) type Planned = (u64, LessonRow);

/// What the lines are checked against: the school, the school year of the file's
/// first day, the year's groups, the subjects, the staff and who is employed at the
/// school.
pub(super) struct Known {
    pub(super) school_name: String,
    pub(super) year_name: String,
    year_starts: Date,
    year_ends: Date,
    groups: HashMap<String, (Uuid, Option<Uuid>)>,
    subjects: HashMap<String, Uuid>,
    staff: HashMap<String, Uuid>,
    employments: Vec<(Uuid, Date, Option<Date>)>,
}

impl Known {
    /// None when no school year holds `start`.
    pub(super) async fn load(mut conn: Conn<'_>, school: Uuid, start: Date) -> Result<Option<Self>, sqlx::Error> {
        let school_name: String = sqlx::query_scalar("SELECT name FROM schools WHERE tenant_id = $1 AND id = $2")
            .bind(conn.tenant)
            .bind(school)
            .fetch_one(&mut *conn)
            .await?;
        let year: Option<(Uuid, String, Date, Date)> = sqlx::query_as(
            "SELECT id, name, starts, ends FROM school_years WHERE tenant_id = $1 AND starts <= $2 AND ends >= $2",
        )
        .bind(conn.tenant)
        .bind(start)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((year_id, year_name, year_starts, year_ends)) = year else {
            return Ok(None);
        };
        let groups: HashMap<String, (Uuid, Option<Uuid>)> = sqlx::query_as::<_, (String, Uuid, Option<Uuid>)>(
            "SELECT name, id, subject_id FROM groups WHERE tenant_id = $1 AND school_id = $2 AND school_year_id = $3",
        )
        .bind(conn.tenant)
        .bind(school)
        .bind(year_id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(n, id, s)| (n, (id, s)))
        .collect();
        let subjects: HashMap<String, Uuid> = sqlx::query_as("SELECT code, id FROM subjects WHERE tenant_id = $1")
            .bind(conn.tenant)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        let staff: HashMap<String, Uuid> =
            sqlx::query_as("SELECT resource_number, person_id FROM staff WHERE tenant_id = $1")
                .bind(conn.tenant)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect();
        let employments: Vec<(Uuid, Date, Option<Date>)> = sqlx::query_as(
            "SELECT staff_id, from_date, to_date FROM employments WHERE tenant_id = $1 AND school_id = $2",
        )
        .bind(conn.tenant)
        .bind(school)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Some(Self { school_name, year_name, year_starts, year_ends, groups, subjects, staff, employments }))
    }

    /// The lessons the lines plan: each line against the school, its year, subjects
    /// and staff, then the lines against each other (a group or a teacher in two
    /// places at once). Every problem goes to `errors`.
    pub(super) fn plan(&self, lines: &[Line], errors: &mut Vec<LineError>) -> Vec<Planned> {
        let Known { year_name, year_starts, year_ends, groups, subjects, staff, employments, .. } = self;
        let (year_starts, year_ends) = (*year_starts, *year_ends);
        let range = format!("{}–{}", fields::day_month_year(year_starts), fields::day_month_year(year_ends));
        let mut planned: Vec<Planned> = Vec::new();
        for l in lines {
            let mut err = |column: &str, m: Msg| errors.push(LineError::new(l.line, Some(column_key(column)), m));
            let group = groups.get(&l.group);
            if group.is_none() {
                err("group", msg("timetable.error.group_unknown").with("group", &l.group).with("year", year_name));
            }
            let subject = match &l.subject {
                None => Some(group.and_then(|g| g.1)),
                Some(code) => match subjects.get(code) {
                    Some(id) => Some(Some(*id)),
                    None => {
                        err("subject", msg("timetable.error.subject_unknown").with("code", code));
                        None
                    }
                },
            };
            let teacher = match &l.teacher {
                None => Some(None),
                Some(number) => match staff.get(number) {
                    None => {
                        err("teacher", msg("timetable.error.teacher_unknown").with("number", number));
                        None
                    }
                    Some(id) => {
                        let employed = employments.iter().any(|(s, from, to)| {
                            s == id && *from < l.until.unwrap_or(Date::MAX) && to.is_none_or(|t| t > l.from)
                        });
                        if !employed {
                            err("teacher", msg("timetable.error.teacher_not_here"));
                        }
                        Some(Some(*id))
                    }
                },
            };
            let outside = || msg("timetable.error.outside_year").with("year", year_name).with("range", &range);
            if l.from < year_starts || l.from > year_ends {
                err("from", outside());
            }
            if l.until.is_some_and(|u| u > year_ends + Duration::days(1)) {
                err("to", outside());
            }
            if let (Some(g), Some(subject), Some(teacher)) = (group, subject, teacher) {
                planned.push((
                    l.line,
                    LessonRow {
                        id: Uuid::nil(),
                        group_id: g.0,
                        subject_id: subject,
                        teacher_id: teacher,
                        room: l.room.clone(),
                        weekday: l.weekday,
                        starts: l.starts,
                        ends: l.ends,
                        valid_from: l.from,
                        valid_to: l.until,
                    },
                ));
            }
        }

        // The lines against each other: a group or a teacher in two places at once.
        for (i, (line, a)) in planned.iter().enumerate() {
            if let Some((first, b)) = planned[..i].iter().find(|(_, b)| {
                overlap(a, b) && (a.group_id == b.group_id || (a.teacher_id.is_some() && a.teacher_id == b.teacher_id))
            }) {
                let column = if a.group_id == b.group_id { "group" } else { "teacher" };
                errors.push(LineError::new(
                    *line,
                    Some(column_key(column)),
                    msg("timetable.import.error.overlaps_line").with("line", first.to_string()),
                ));
            }
        }
        planned
    }

    /// The school's groups of the year: the lessons the file replaces are theirs.
    fn scope(&self) -> Vec<Uuid> {
        self.groups.values().map(|g| g.0).collect()
    }
}

type Key = (Uuid, Option<Uuid>, Option<Uuid>, Option<String>, i16, Time, Time, Date, Option<Date>);

fn key(l: &LessonRow) -> Key {
    (l.group_id, l.subject_id, l.teacher_id, l.room.clone(), l.weekday, l.starts, l.ends, l.valid_from, l.valid_to)
}

/// Do two lessons meet at the same time (same weekday, overlapping times and periods)?
fn overlap(a: &LessonRow, b: &LessonRow) -> bool {
    let far = Date::MAX;
    a.weekday == b.weekday
        && a.starts < b.ends
        && b.starts < a.ends
        && a.valid_from < b.valid_to.unwrap_or(far)
        && b.valid_from < a.valid_to.unwrap_or(far)
}

#[derive(sqlx::FromRow)]
pub(super) struct Existing {
    #[sqlx(flatten)]
    lesson: LessonRow,
    group_name: String,
    subject_code: Option<String>,
}

/// What is there now: the school's lessons of the year, and other lessons of the
/// file's teachers (at other schools, or in other years).
pub(super) async fn existing(
    mut conn: Conn<'_>,
    known: &Known,
    planned: &[Planned],
) -> Result<Vec<Existing>, sqlx::Error> {
    let scope = known.scope();
    let teachers: Vec<Uuid> =
        planned.iter().filter_map(|(_, l)| l.teacher_id).collect::<HashSet<_>>().into_iter().collect();
    sqlx::query_as(
        "SELECT l.id, l.group_id, l.subject_id, l.teacher_id, l.room, l.weekday, l.starts, l.ends, l.valid_from, \
                l.valid_to, g.name AS group_name, s.code AS subject_code \
         FROM lessons l JOIN groups g ON g.tenant_id = $1 AND g.tenant_id = l.tenant_id AND g.id = l.group_id \
         LEFT JOIN subjects s ON s.tenant_id = $1 AND s.tenant_id = l.tenant_id AND s.id = l.subject_id \
         WHERE l.tenant_id = $1 AND (l.group_id = ANY($2) OR l.teacher_id = ANY($3))",
    )
    .bind(conn.tenant)
    .bind(&scope)
    .bind(&teachers)
    .fetch_all(&mut *conn)
    .await
}

/// A line whose teacher teaches another school's or year's lesson at the same time.
pub(super) fn check_teachers_elsewhere(
    known: &Known,
    planned: &[Planned],
    existing: &[Existing],
    errors: &mut Vec<LineError>,
) {
    let in_scope: HashSet<Uuid> = known.scope().into_iter().collect();
    for (line, a) in planned {
        // Lessons of the school's year that stay overlap no line (they end by `start`);
        // the others are another school's or year's, taught by the same teacher.
        if let Some(b) = existing.iter().find(|b| {
            !in_scope.contains(&b.lesson.group_id)
                && a.teacher_id.is_some()
                && b.lesson.teacher_id == a.teacher_id
                && overlap(a, &b.lesson)
        }) {
            let label = format!("{} {}–{}", b.group_name, hhmm(b.lesson.starts), hhmm(b.lesson.ends));
            let label = match &b.subject_code {
                Some(c) if !b.group_name.contains(c.as_str()) => {
                    format!("{} {c} {}–{}", b.group_name, hhmm(b.lesson.starts), hhmm(b.lesson.ends))
                }
                _ => label,
            };
            errors.push(LineError::new(
                *line,
                Some(column_key("teacher")),
                msg("timetable.error.teacher_busy").with("lesson", label),
            ));
        }
    }
}

/// Make the school's timetable from `start` on the file's: keep what the file repeats,
/// end what runs across the start, remove the rest, insert what is new; counted into
/// `report`, with the teachers whose lessons changed.
pub(super) async fn apply(
    mut conn: Conn<'_>,
    tenant: Uuid,
    start: Date,
    known: &Known,
    existing: &[Existing],
    planned: Vec<Planned>,
    report: &mut Report,
) -> Result<(), ImportError> {
    let in_scope: HashSet<Uuid> = known.scope().into_iter().collect();
    let mut touched: HashSet<Uuid> = HashSet::new();
    let mut candidates: HashMap<Key, Vec<Uuid>> = HashMap::new();
    for e in existing.iter().filter(|e| in_scope.contains(&e.lesson.group_id)) {
        let l = &e.lesson;
        if l.valid_to.is_some_and(|t| t <= start) {
            continue; // history
        }
        if l.valid_from < start {
            sqlx::query("UPDATE lessons SET valid_to = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(l.id)
                .bind(start)
                .execute(&mut *conn)
                .await?;
            report.ended += 1;
            touched.extend(l.teacher_id);
        } else {
            candidates.entry(key(l)).or_default().push(l.id);
        }
    }
    let mut to_insert = Vec::new();
    for (_, mut l) in planned {
        match candidates.get_mut(&key(&l)).and_then(Vec::pop) {
            Some(_) => report.unchanged += 1,
            None => {
                l.id = Uuid::new_v4();
                to_insert.push(l);
            }
        }
    }
    let stale: Vec<Uuid> = candidates.into_values().flatten().collect();
    if !stale.is_empty() {
        let (removed, ended) = queries::remove_lessons(conn.re(), &stale).await?;
        report.removed = removed.len() - ended;
        report.ended += ended;
        touched.extend(removed.into_iter().flatten());
    }
    for l in &to_insert {
        crate::timetable::edit::insert(conn.re(), tenant, l).await?;
        touched.extend(l.teacher_id);
    }
    report.created = to_insert.len();
    let mut teachers: Vec<Uuid> = touched.into_iter().collect();
    teachers.sort();
    report.teachers = teachers;
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::{date, time};

    use super::*;

    #[test]
    fn overlaps() {
        let l = |weekday, s: Time, e: Time, from: Date, to: Option<Date>| LessonRow {
            id: Uuid::nil(),
            group_id: Uuid::nil(),
            subject_id: None,
            teacher_id: None,
            room: None,
            weekday,
            starts: s,
            ends: e,
            valid_from: from,
            valid_to: to,
        };
        let a = l(1, time!(08:30), time!(09:15), date!(2026 - 08 - 17), None);
        assert!(overlap(&a, &l(1, time!(09:00), time!(10:00), date!(2026 - 09 - 01), None)));
        assert!(!overlap(&a, &l(1, time!(09:15), time!(10:00), date!(2026 - 09 - 01), None)), "back to back");
        assert!(!overlap(&a, &l(2, time!(08:30), time!(09:15), date!(2026 - 09 - 01), None)), "another day");
        let before = l(1, time!(08:30), time!(09:15), date!(2026 - 08 - 01), Some(date!(2026 - 08 - 17)));
        assert!(!overlap(&a, &before), "one ends as the other begins");
    }
}
