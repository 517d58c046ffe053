//! Absence totals by the Norwegian rules, computed from plain inputs (no database, no
//! clock): the pupil's lessons of the school year as the timetable holds them, the
//! register's marks on them, and the reviewed days. The numbers of the rules come in
//! as [`Params`], per school year and school type, because the directorate changes
//! them (table `absence_rule_parameters`).
//!
//! The rules (opplæringslova 2023 and opplæringsforskrifta, in force 1 August 2024):
//!
//! - **Diploma** (§ 9-44 for lower secondary; the same recording in upper secondary):
//!   absence is recorded as *days* and *single hours*. A day counts as a day when the
//!   pupil was absent from every lesson of theirs that day; the absence of any other
//!   day counts as single hours. Hours are **never** turned into days, however many.
//!   Single hours are counted in 60-minute units (Udir's guide to the diploma: «Enkelt-
//!   timene regnes i 60-minutters enheter»): we add the minutes of the absent lessons
//!   and of late arrivals (the minutes late, at most the lesson's length) and round
//!   the sum to the nearest whole hour, half up, only when the diploma figure is made.
//!   A late arrival never makes a day a whole day of absence: the pupil came.
//! - **Deduction** (fratrekk, § 9-44 third and fourth paragraphs): up to
//!   [`Params::max_deducted_days`] days a school year may be left off the diploma, when
//!   documented as health reasons (by a doctor's certificate, and only from the
//!   [`Params::health_deduction_from_day`]th day of a run of absence days, unless a
//!   documented risk from chronic illness or disability) or as leave granted. Only
//!   whole days are deducted (the rule speaks of days). [`check_deduction`] says why
//!   a deduction is refused.
//! - **The limit in upper secondary** (§ 9-8): more than [`Params::limit_percent`] of
//!   a subject's lessons absent means no grade in it; up to
//!   [`Params::discretion_percent`] the principal may decide that the pupil still gets
//!   one. Documented absence for the reasons the regulation lists does not count. The
//!   percentage is of the subject's *time* (a 90-minute lesson weighs twice a 45-minute
//!   one, and a late arrival its minutes). Its base is the grade it decides: a
//!   **half-year grade** is judged against the lessons *planned for that half-year*
//!   (the term), the **final grade** against the lessons *planned for the subject's
//!   year* (the limit is a share of the hours the grade covers). Both are shown, with
//!   the share of the lessons *held so far* beside them as the present pace; the
//!   subject's state is the worse of the two. (Until issue 17 both were measured
//!   against the year, so a half-year's percentage came out about half the real one.)
//!   The pupil is warned when one reaches [`Params::warning_percent`], so that the
//!   warning comes before the limit, as the regulation requires.
//!
//! Lessons held are the timetable's (the lessons of the pupil's groups on school days,
//! minus days off, within each lesson's validity and the pupil's membership), not rows
//! marked "present", which a school need not store. A lesson without a mark was
//! attended. Absence not yet reviewed is undocumented until the review says otherwise.

use std::collections::BTreeMap;

use time::Date;

/// The school type, from the pupil's grade level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SchoolType {
    /// Grades 1-7: no diploma, no deduction, no limit.
    Primary,
    /// Grades 8-10: days and hours on the diploma, deduction.
    LowerSecondary,
    /// Grades 11-13 (Vg1-Vg3): as lower secondary, and the limit per subject.
    UpperSecondary,
}

impl SchoolType {
    pub fn of_grade(grade: i16) -> Self {
        match grade {
            ..=7 => SchoolType::Primary,
            8..=10 => SchoolType::LowerSecondary,
            _ => SchoolType::UpperSecondary,
        }
    }

    /// The code in `absence_rule_parameters.school_type`.
    pub fn code(self) -> &'static str {
        match self {
            SchoolType::Primary => "primary",
            SchoolType::LowerSecondary => "lower_secondary",
            SchoolType::UpperSecondary => "upper_secondary",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            SchoolType::Primary => "totals.school_type.primary",
            SchoolType::LowerSecondary => "totals.school_type.lower_secondary",
            SchoolType::UpperSecondary => "totals.school_type.upper_secondary",
        }
    }

    /// Whether absence goes on a diploma (and so may be deducted).
    pub fn has_diploma(self) -> bool {
        self != SchoolType::Primary
    }
}

/// The numbers of the rules for one school year and school type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub max_deducted_days: u32,
    pub health_deduction_from_day: u32,
    pub warning_percent: f64,
    pub limit_percent: f64,
    pub discretion_percent: f64,
}

/// What the register says about a lesson the pupil did not fully attend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Absent,
    /// Late by this many minutes.
    Late(u32),
}

/// One lesson of the pupil on one school day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub date: Date,
    /// The subject's name (or the group's, for a lesson without a subject).
    pub subject: String,
    pub minutes: u32,
    pub mark: Option<Mark>,
}

impl Lesson {
    /// Minutes of the lesson the pupil missed.
    fn missed(&self) -> u32 {
        match self.mark {
            None => 0,
            Some(Mark::Absent) => self.minutes,
            Some(Mark::Late(m)) => m.min(self.minutes),
        }
    }
}

/// The flags of a review code (table `absence_review_codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeFlags {
    /// Does not count toward the upper-secondary limit.
    pub documented: bool,
    /// May be left off the diploma.
    pub deductible: bool,
    /// Health reasons: deductible only from the parameter's day of a run on.
    pub health: bool,
}

/// The review of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Review {
    pub code: CodeFlags,
    pub deducted: bool,
}

/// One school day of the pupil, up to today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    pub lessons: u32,
    pub absent_lessons: u32,
    pub late_lessons: u32,
    pub missed_minutes: u32,
    /// Of `missed_minutes`, those of late arrivals.
    pub late_minutes: u32,
    /// Absent from every lesson of the day.
    pub whole: bool,
}

impl Day {
    pub fn has_absence(&self) -> bool {
        self.missed_minutes > 0
    }
}

/// The school days up to and including `today`, in date order, with what was missed.
pub fn days(lessons: &[Lesson], today: Date) -> Vec<Day> {
    let mut by_date: BTreeMap<Date, Day> = BTreeMap::new();
    for l in lessons.iter().filter(|l| l.date <= today) {
        let d = by_date.entry(l.date).or_insert(Day {
            date: l.date,
            lessons: 0,
            absent_lessons: 0,
            late_lessons: 0,
            missed_minutes: 0,
            late_minutes: 0,
            whole: false,
        });
        d.lessons += 1;
        match l.mark {
            Some(Mark::Absent) => d.absent_lessons += 1,
            Some(Mark::Late(_)) => {
                d.late_lessons += 1;
                d.late_minutes += l.missed();
            }
            None => {}
        }
        d.missed_minutes += l.missed();
    }
    let mut days: Vec<Day> = by_date.into_values().collect();
    for d in &mut days {
        d.whole = d.lessons > 0 && d.absent_lessons == d.lessons;
    }
    days
}

/// What goes on the diploma, and how it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Diploma {
    /// Whole days of absence.
    pub days: u32,
    /// Of those, documented (a code with `documented`).
    pub documented_days: u32,
    /// Of those, left off the diploma.
    pub deducted_days: u32,
    /// Minutes of absence on the other days (single hours).
    pub hour_minutes: u32,
    /// Of those, documented.
    pub documented_hour_minutes: u32,
    /// Of `hour_minutes`, those of late arrivals (on the diploma or not by the
    /// municipality's rule, see [`Diploma::hours_on_diploma`]).
    pub late_minutes: u32,
    /// Days with absence that nobody has reviewed yet.
    pub unreviewed_days: u32,
}

impl Diploma {
    /// Days on the diploma.
    pub fn diploma_days(&self) -> u32 {
        self.days.saturating_sub(self.deducted_days)
    }

    /// Single hours on the diploma: the minutes in 60-minute units, rounded half up.
    pub fn diploma_hours(&self) -> u32 {
        (self.hour_minutes + 30) / 60
    }

    /// Single hours on the diploma by the municipality's rule for late arrivals: with
    /// them (`late_counts`, the default, as Tavle has always counted) or without.
    pub fn hours_on_diploma(&self, late_counts: bool) -> u32 {
        let minutes = if late_counts { self.hour_minutes } else { self.hour_minutes - self.late_minutes };
        (minutes + 30) / 60
    }

    /// Several school years together (the lower-secondary diploma counts grades 8-10):
    /// days and minutes are added, and the hours are rounded once, from the sum.
    pub fn sum<'a>(years: impl IntoIterator<Item = &'a Diploma>) -> Diploma {
        years.into_iter().fold(Diploma::default(), |a, y| Diploma {
            days: a.days + y.days,
            documented_days: a.documented_days + y.documented_days,
            deducted_days: a.deducted_days + y.deducted_days,
            hour_minutes: a.hour_minutes + y.hour_minutes,
            documented_hour_minutes: a.documented_hour_minutes + y.documented_hour_minutes,
            late_minutes: a.late_minutes + y.late_minutes,
            unreviewed_days: a.unreviewed_days + y.unreviewed_days,
        })
    }
}

/// Days and single hours, from the days and their reviews. A deduction counts only on
/// a whole day (a day whose registrations changed after the review no longer counts).
pub fn diploma(days: &[Day], reviews: &BTreeMap<Date, Review>) -> Diploma {
    let mut t = Diploma::default();
    for d in days.iter().filter(|d| d.has_absence()) {
        let review = reviews.get(&d.date);
        let documented = review.is_some_and(|r| r.code.documented);
        if review.is_none() {
            t.unreviewed_days += 1;
        }
        if d.whole {
            t.days += 1;
            if documented {
                t.documented_days += 1;
            }
            if review.is_some_and(|r| r.deducted && r.code.deductible) {
                t.deducted_days += 1;
            }
        } else {
            t.hour_minutes += d.missed_minutes;
            t.late_minutes += d.late_minutes;
            if documented {
                t.documented_hour_minutes += d.missed_minutes;
            }
        }
    }
    t
}

/// Where a subject stands against the upper-secondary limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LimitState {
    Ok,
    /// At or over the warning percentage: the pupil and guardians are warned.
    Warning,
    /// Over the limit, up to the discretion percentage: the principal decides.
    PrincipalDecides,
    /// Over the discretion percentage: no grade in the subject.
    OverLimit,
}

impl LimitState {
    pub fn label_key(self) -> &'static str {
        match self {
            LimitState::Ok => "totals.state.ok",
            LimitState::Warning => "totals.state.warning",
            LimitState::PrincipalDecides => "totals.state.principal_decides",
            LimitState::OverLimit => "totals.state.over_limit",
        }
    }

    pub fn is_warning(self) -> bool {
        self != LimitState::Ok
    }
}

/// One subject's absence against the limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub name: String,
    pub held_lessons: u32,
    pub planned_lessons: u32,
    pub held_minutes: u32,
    pub planned_minutes: u32,
    /// Minutes missed, all of them.
    pub missed_minutes: u32,
    /// Minutes missed that count toward the limit (not documented).
    pub counting_minutes: u32,
    /// Counting minutes as a share of the minutes held so far (0-100).
    pub percent_so_far: f64,
    /// Counting minutes as a share of the year's planned minutes (0-100): the final
    /// grade's base.
    pub percent_of_year: f64,
    /// Planned minutes of the half-year (the term of the half-year grade), and the
    /// counting minutes in it.
    pub half_year_planned_minutes: u32,
    pub half_year_counting_minutes: u32,
    /// Counting minutes of the half-year as a share of its planned minutes (0-100):
    /// the half-year grade's base.
    pub percent_of_half_year: f64,
    pub state: LimitState,
}

fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (f64::from(part) * 100.0 / f64::from(whole)).clamp(0.0, 100.0)
    }
}

/// The state of a subject from its two percentages.
pub fn state(percent_so_far: f64, percent_of_year: f64, p: &Params) -> LimitState {
    if percent_of_year > p.discretion_percent {
        LimitState::OverLimit
    } else if percent_of_year > p.limit_percent {
        LimitState::PrincipalDecides
    } else if percent_of_year >= p.warning_percent || percent_so_far >= p.warning_percent {
        LimitState::Warning
    } else {
        LimitState::Ok
    }
}

/// Each subject's absence against the limit, in the subjects' name order. `lessons`
/// are all the pupil's lessons of the year (planned); those after `today` count only
/// in the planned figures. `half_year` is the first and last day of the term whose
/// half-year grade is at stake (the current one); without it, the half-year's figures
/// are the year's.
pub fn subjects(
    lessons: &[Lesson],
    reviews: &BTreeMap<Date, Review>,
    today: Date,
    half_year: Option<(Date, Date)>,
    p: &Params,
) -> Vec<Subject> {
    let in_half_year = |d: Date| half_year.is_none_or(|(first, last)| first <= d && d <= last);
    let mut by_name: BTreeMap<&str, Subject> = BTreeMap::new();
    for l in lessons {
        let s = by_name.entry(l.subject.as_str()).or_insert_with(|| Subject {
            name: l.subject.clone(),
            held_lessons: 0,
            planned_lessons: 0,
            held_minutes: 0,
            planned_minutes: 0,
            missed_minutes: 0,
            counting_minutes: 0,
            percent_so_far: 0.0,
            percent_of_year: 0.0,
            half_year_planned_minutes: 0,
            half_year_counting_minutes: 0,
            percent_of_half_year: 0.0,
            state: LimitState::Ok,
        });
        s.planned_lessons += 1;
        s.planned_minutes += l.minutes;
        let half = in_half_year(l.date);
        if half {
            s.half_year_planned_minutes += l.minutes;
        }
        if l.date > today {
            continue;
        }
        s.held_lessons += 1;
        s.held_minutes += l.minutes;
        let missed = l.missed();
        s.missed_minutes += missed;
        if !reviews.get(&l.date).is_some_and(|r| r.code.documented) {
            s.counting_minutes += missed;
            if half {
                s.half_year_counting_minutes += missed;
            }
        }
    }
    let mut out: Vec<Subject> = by_name.into_values().collect();
    for s in &mut out {
        s.percent_so_far = percent(s.counting_minutes, s.held_minutes);
        s.percent_of_year = percent(s.counting_minutes, s.planned_minutes);
        s.percent_of_half_year = percent(s.half_year_counting_minutes, s.half_year_planned_minutes);
        // The worse of the two grades at stake: the half-year's and the final one.
        s.state = state(s.percent_so_far, s.percent_of_year, p).max(state(s.percent_so_far, s.percent_of_half_year, p));
    }
    out
}

/// Why a deduction is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeductionRefusal {
    /// Primary school: no diploma, nothing to deduct from.
    NoDiploma,
    /// The code is not one the regulation allows deducting (only health and leave).
    CodeNotDeductible,
    /// Only whole days are deducted.
    NotWholeDay,
    /// Health absence: only from this day of a run of absence days on.
    HealthTooShort { from_day: u32 },
    /// The year's days are used up.
    MaxReached { max: u32 },
}

impl DeductionRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            DeductionRefusal::NoDiploma => "totals.error.deduct_no_diploma",
            DeductionRefusal::CodeNotDeductible => "totals.error.deduct_code",
            DeductionRefusal::NotWholeDay => "totals.error.deduct_not_whole_day",
            DeductionRefusal::HealthTooShort { .. } => "totals.error.deduct_health_short",
            DeductionRefusal::MaxReached { .. } => "totals.error.deduct_max",
        }
    }
}

/// May `date` be deducted with `code`? `days` are the pupil's school days of the year
/// (from [`days`]), `reviews` the other days' reviews (this day's is replaced by the
/// proposed code). Counts the days already deducted on *other* dates, so saving the
/// same deduction twice is allowed.
pub fn check_deduction(
    school_type: SchoolType,
    days: &[Day],
    reviews: &BTreeMap<Date, Review>,
    date: Date,
    code: CodeFlags,
    p: &Params,
) -> Result<(), DeductionRefusal> {
    if !school_type.has_diploma() {
        return Err(DeductionRefusal::NoDiploma);
    }
    if !code.deductible {
        return Err(DeductionRefusal::CodeNotDeductible);
    }
    let Some(idx) = days.iter().position(|d| d.date == date && d.whole) else {
        return Err(DeductionRefusal::NotWholeDay);
    };
    if code.health {
        // The run of whole days of health absence that ends on this day, counting
        // school days only (a weekend or a holiday does not break it).
        let is_health = |d: &Day| {
            d.whole && (d.date == date || reviews.get(&d.date).is_some_and(|r| r.code.health && r.code.documented))
        };
        let run = days[..=idx].iter().rev().take_while(|d| is_health(d)).count();
        let position = u32::try_from(run).unwrap_or(u32::MAX);
        if position < p.health_deduction_from_day {
            return Err(DeductionRefusal::HealthTooShort { from_day: p.health_deduction_from_day });
        }
    }
    let used = days
        .iter()
        .filter(|d| d.whole && d.date != date)
        .filter(|d| reviews.get(&d.date).is_some_and(|r| r.deducted && r.code.deductible))
        .count();
    if u32::try_from(used).unwrap_or(u32::MAX) >= p.max_deducted_days {
        return Err(DeductionRefusal::MaxReached { max: p.max_deducted_days });
    }
    Ok(())
}

#[cfg(test)]
#[path = "totals_tests.rs"]
mod tests;
