//! A week of lessons as shown: the days Monday to Friday (and Saturday or Sunday
//! when something is taught then), each a school day with its lessons or a day off.

use std::collections::HashMap;

use time::{Date, Duration, Weekday};
use uuid::Uuid;

use super::fields::hhmm;
use super::queries::{LessonOnDay, SchoolDay};
use crate::web::i18n::{self, Lang};

/// The Monday of the week `week` (any ISO date of it) names, or of `today`'s week
/// when it is absent or not a date Tavle could have lessons on.
pub fn monday_of(week: Option<&str>, today: Date) -> Date {
    let day = week.and_then(crate::domain::date::parse).filter(|d| (2000..=2199).contains(&d.year())).unwrap_or(today);
    day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
}

#[derive(Debug, Clone)]
pub struct LessonView {
    pub time: String,
    pub subject: String,
    pub group: String,
    pub group_id: Uuid,
    pub room: Option<String>,
    pub teacher: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DayView {
    /// `2026-11-23`, for ids and `datetime`.
    pub iso: String,
    /// `Mandag 23.11.`
    pub label: String,
    pub today: bool,
    /// Why there is no teaching: the break's name, or "no teaching" outside the terms.
    pub off: Option<String>,
    pub lessons: Vec<LessonView>,
}

#[derive(Debug, Clone)]
pub struct Week {
    pub monday: Date,
    /// `Uke 48 · 23.11.–29.11.2026`
    pub heading: String,
    pub days: Vec<DayView>,
    pub prev: String,
    pub next: String,
    pub this_week: Option<String>,
}

impl Week {
    pub fn is_empty(&self) -> bool {
        self.days.iter().all(|d| d.lessons.is_empty())
    }
}

fn weekday_key(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "timetable.weekday.1",
        Weekday::Tuesday => "timetable.weekday.2",
        Weekday::Wednesday => "timetable.weekday.3",
        Weekday::Thursday => "timetable.weekday.4",
        Weekday::Friday => "timetable.weekday.5",
        Weekday::Saturday => "timetable.weekday.6",
        Weekday::Sunday => "timetable.weekday.7",
    }
}

/// Translation key of weekday `n` (1 is Monday).
pub fn weekday_n_key(n: i16) -> &'static str {
    match n {
        1 => "timetable.weekday.1",
        2 => "timetable.weekday.2",
        3 => "timetable.weekday.3",
        4 => "timetable.weekday.4",
        5 => "timetable.weekday.5",
        6 => "timetable.weekday.6",
        _ => "timetable.weekday.7",
    }
}

/// Put the week together. `home` are the schools the view belongs to (the pupil's,
/// the teacher's, the group's); a day is off when it is off at all of them and at
/// every school a lesson of the week belongs to. A lesson on a day its own school has
/// off is not shown. `base` is the page's path, for the week links.
pub fn build(lang: Lang, base: &str, monday: Date, today: Date, lessons: Vec<LessonOnDay>, days: &[SchoolDay]) -> Week {
    let status: HashMap<(Date, Uuid), &SchoolDay> = days.iter().map(|d| ((d.day, d.school_id), d)).collect();
    let off_at = |day: Date, school: Uuid| status.get(&(day, school)).is_some_and(|s| s.off());
    let mut views = Vec::new();
    for offset in 0..7 {
        let day = monday + Duration::days(offset);
        let todays: Vec<&LessonOnDay> = lessons.iter().filter(|l| l.day == day && !off_at(day, l.school_id)).collect();
        let school_days: Vec<&&SchoolDay> = status.iter().filter(|((d, _), _)| *d == day).map(|(_, s)| s).collect();
        let off = (!school_days.is_empty() && school_days.iter().all(|s| s.off()) && todays.is_empty()).then(|| {
            school_days
                .iter()
                .find_map(|s| s.break_name.clone())
                .unwrap_or_else(|| i18n::t(lang, "timetable.no_teaching").to_owned())
        });
        if offset >= 5 && todays.is_empty() {
            continue; // the weekend, unless something is taught
        }
        views.push(DayView {
            iso: day.to_string(),
            label: format!("{} {}.{}.", i18n::t(lang, weekday_key(day.weekday())), day.day(), u8::from(day.month())),
            today: day == today,
            off,
            lessons: todays.into_iter().map(|l| lesson_view(lang, l)).collect(),
        });
    }
    let sunday = monday + Duration::days(6);
    let range = format!("{}.{}.–{}", monday.day(), u8::from(monday.month()), super::fields::day_month_year(sunday));
    let week_no = monday.iso_week().to_string();
    let this_monday = monday_of(None, today);
    Week {
        monday,
        heading: i18n::tf(lang, "timetable.week_heading", &[("week", &week_no), ("range", &range)]),
        days: views,
        prev: format!("{base}?week={}", monday - Duration::days(7)),
        next: format!("{base}?week={}", monday + Duration::days(7)),
        this_week: (this_monday != monday).then(|| base.to_owned()),
    }
}

fn lesson_view(lang: Lang, l: &LessonOnDay) -> LessonView {
    let subject = match lang {
        Lang::En => l.subject_en.clone(),
        Lang::Nb => l.subject_nb.clone(),
    }
    .or_else(|| l.subject_code.clone())
    .unwrap_or_else(|| l.group_name.clone());
    LessonView {
        time: format!("{}–{}", hhmm(l.starts), hhmm(l.ends)),
        subject,
        group: l.group_name.clone(),
        group_id: l.group_id,
        room: l.room.clone(),
        teacher: match (&l.teacher_given, &l.teacher_family) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, time};

    use super::*;

    fn lesson(day: Date, school: Uuid, starts: time::Time) -> LessonOnDay {
        LessonOnDay {
            day,
            id: Uuid::new_v4(),
            starts,
            ends: time!(09:15),
            room: Some("Rom 1".into()),
            group_id: Uuid::nil(),
            group_name: "4A NOR".into(),
            school_id: school,
            subject_code: Some("NOR".into()),
            subject_nb: Some("Norsk".into()),
            subject_en: Some("Norwegian".into()),
            teacher_given: Some("Kari".into()),
            teacher_family: Some("Lie".into()),
        }
    }

    #[test]
    fn the_monday_of_any_day_and_a_bad_week_is_this_week() {
        let today = date!(2026 - 11 - 25);
        assert_eq!(monday_of(Some("2026-11-29"), today), date!(2026 - 11 - 23));
        assert_eq!(monday_of(Some("2026-11-23"), today), date!(2026 - 11 - 23));
        assert_eq!(monday_of(Some("23.11.2026"), today), date!(2026 - 11 - 23));
        assert_eq!(monday_of(Some("9999-01-01"), today), date!(2026 - 11 - 23));
        assert_eq!(monday_of(None, date!(2027 - 01 - 03)), date!(2026 - 12 - 28));
    }

    #[test]
    fn days_off_show_no_lessons_and_weekends_only_when_taught() {
        let school = Uuid::new_v4();
        let monday = date!(2026 - 10 - 05);
        let days: Vec<SchoolDay> = (0..7)
            .map(|i| SchoolDay {
                day: monday + Duration::days(i),
                school_id: school,
                in_term: true,
                break_name: (i < 5).then(|| "Høstferie".to_owned()),
            })
            .collect();
        let lessons =
            vec![lesson(monday, school, time!(08:30)), lesson(monday + Duration::days(5), school, time!(10:00))];
        let week = build(Lang::Nb, "/timetable", monday, date!(2026 - 10 - 07), lessons, &days);
        assert_eq!(week.days.len(), 6, "Monday to Friday, and Saturday with a lesson");
        assert_eq!(week.days[0].off.as_deref(), Some("Høstferie"));
        assert!(week.days[0].lessons.is_empty());
        assert!(week.days[2].today);
        assert_eq!(week.days[5].lessons.len(), 1);
        assert_eq!(week.prev, "/timetable?week=2026-09-28");
        assert_eq!(week.next, "/timetable?week=2026-10-12");
        assert_eq!(week.this_week, None);
    }
}
