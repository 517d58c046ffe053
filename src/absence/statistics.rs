//! The school office's absence statistics: a chart of absence over the school year
//! (server-rendered SVG, no JavaScript, with the same figures as a table beside it),
//! broken down by grade level or by class, and a CSV export of the figures per class
//! and week or month. Only counts: no pupil is named, so neither page nor export is
//! personal data; reading and exporting are still audited (without subjects). Both
//! read a school year of registrations, so each holds an [`ExpensiveSlot`] while it
//! runs (a bound per person and per municipality).
//!
//! Absence % = absent lessons / lessons held, where lessons held come from the
//! timetable (see `queries::statistics`).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::domain;
use super::queries;
use super::queries::statistics::{self as sq, ClassPeriodRow, Period, YearRow};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self, AbsenceStatisticsAccess};
use crate::web::expensive::ExpensiveSlot;
use crate::web::i18n::Lang;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render;
use crate::work::Work;

#[derive(Debug, Default, Deserialize)]
pub struct StatisticsQuery {
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub period: String,
}

/// A line of the chart and a column of the table: a grade level, a class, or the school.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// Per week of the year: (lessons held, absent lessons).
    pub weeks: Vec<(i64, i64)>,
    pub held: i64,
    pub absent: i64,
    pub late: i64,
    pub whole_days: i64,
    /// The SVG polyline's points and its look (colour and dash, so that colour is
    /// never the only difference).
    pub points: String,
    pub colour: &'static str,
    pub dash: &'static str,
}

const COLOURS: [&str; 8] = ["#1f4e79", "#b03a2e", "#1e7b34", "#7d3c98", "#a04000", "#00707a", "#5d4037", "#333333"];
const DASHES: [&str; 3] = ["", "6 3", "2 3"];

/// The chart's geometry (SVG user units).
pub const CHART_W: i64 = 720;
pub const CHART_H: i64 = 300;
const LEFT: i64 = 56;
const RIGHT: i64 = 12;
const TOP: i64 = 12;
const BOTTOM: i64 = 36;

#[derive(Debug, Clone)]
pub struct Tick {
    pub pos: i64,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "absence/statistics.html")]
pub struct StatisticsPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    pub year: Option<YearRow>,
    pub by_class: bool,
    pub weeks: Vec<Date>,
    pub series: Vec<Series>,
    pub total: Series,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    /// The last day counted.
    pub until: Date,
}

impl StatisticsPage {
    pub fn percent(&self, held: &i64, absent: &i64) -> String {
        percent(self.ui.lang, *held, *absent)
    }
    pub fn week_label(&self, d: &Date) -> String {
        self.ui.tf("absence.statistics.week", "week", &d.iso_week().to_string())
    }
    pub fn week_of(&self, s: &Series, i: &usize) -> String {
        s.weeks.get(*i).map(|(h, a)| percent(self.ui.lang, *h, *a)).unwrap_or_default()
    }
    pub fn week_index(&self) -> Vec<(usize, Date)> {
        self.weeks.iter().copied().enumerate().collect()
    }
    pub fn plot_left(&self) -> i64 {
        LEFT
    }
    pub fn plot_right(&self) -> i64 {
        CHART_W - RIGHT
    }
    pub fn plot_bottom(&self) -> i64 {
        CHART_H - BOTTOM
    }
    pub fn plot_top(&self) -> i64 {
        TOP
    }
    pub fn label_y(&self) -> i64 {
        CHART_H - BOTTOM + 20
    }
    pub fn year_label(&self) -> String {
        match &self.year {
            Some(y) => format!("{} ({}–{})", y.name, domain::display_date(y.starts), domain::display_date(y.ends)),
            None => String::new(),
        }
    }
    pub fn until_label(&self) -> String {
        self.ui.tf("absence.statistics.until", "date", &domain::display_date(self.until))
    }
    pub fn csv_href(&self, period: &str) -> String {
        format!("/schools/{}/absence/statistics.csv?period={period}", self.school_id)
    }
}

/// `4,2 %` (one decimal, the language's decimal mark); a dash without lessons.
pub fn percent(lang: Lang, held: i64, absent: i64) -> String {
    if held <= 0 {
        return "–".to_owned();
    }
    #[expect(clippy::cast_precision_loss, reason = "lesson counts are far below 2^52")]
    let p = absent as f64 * 100.0 / held as f64;
    let s = format!("{p:.1}");
    match lang {
        Lang::Nb => format!("{} %", s.replace('.', ",")),
        Lang::En => format!("{s}%"),
    }
}

/// The Monday of each week from the year's start to `until`.
fn weeks_of(year: &YearRow, until: Date) -> Vec<Date> {
    let mut monday = year.starts - time::Duration::days(i64::from(year.starts.weekday().number_days_from_monday()));
    let mut out = Vec::new();
    while monday <= until.min(year.ends) {
        out.push(monday);
        monday += time::Duration::days(7);
    }
    out
}

fn series_of(label: String, rows: &[&ClassPeriodRow], weeks: &[Date], n: usize) -> Series {
    let mut per_week = vec![(0i64, 0i64); weeks.len()];
    let (mut held, mut absent, mut late, mut whole_days) = (0, 0, 0, 0);
    for r in rows {
        if let Ok(i) = weeks.binary_search(&r.period) {
            per_week[i].0 += r.held;
            per_week[i].1 += r.absent;
        }
        held += r.held;
        absent += r.absent;
        late += r.late;
        whole_days += r.whole_days;
    }
    Series {
        label,
        weeks: per_week,
        held,
        absent,
        late,
        whole_days,
        points: String::new(),
        colour: COLOURS[n % COLOURS.len()],
        dash: DASHES[(n / COLOURS.len() + n) % DASHES.len()],
    }
}

/// Place every series on the chart; returns the y axis' top (a whole percent).
fn plot(series: &mut [Series], weeks: usize) -> i64 {
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let pct = |h: i64, a: i64| if h > 0 { Some(a as f64 * 100.0 / h as f64) } else { None };
    let max = series.iter().flat_map(|s| s.weeks.iter().filter_map(|&(h, a)| pct(h, a))).fold(0.0f64, f64::max);
    #[expect(clippy::cast_possible_truncation, reason = "a percentage")]
    let top = ((max / 5.0).ceil() as i64 * 5).max(5);
    let (w, h) = (CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM);
    let span = i64::try_from(weeks.saturating_sub(1)).unwrap_or(1).max(1);
    for s in series.iter_mut() {
        let mut pts = Vec::new();
        for (i, &(held, absent)) in s.weeks.iter().enumerate() {
            if let Some(p) = pct(held, absent) {
                let x = LEFT + i64::try_from(i).unwrap_or(0) * w / span;
                #[expect(clippy::cast_precision_loss, reason = "small numbers")]
                #[expect(clippy::cast_possible_truncation, reason = "a pixel position")]
                let y = (TOP as f64 + h as f64 * (1.0 - p / top as f64)).round() as i64;
                pts.push(format!("{x},{y}"));
            }
        }
        s.points = pts.join(" ");
    }
    top
}

async fn open(work: &mut Work, school: &str) -> Result<(AbsenceStatisticsAccess, String)> {
    let school = path_id(school)?;
    let access = policy::absence_statistics_access(&work.actor(), school)?;
    let name = sq::school_name(work.conn(), school).await?.ok_or(AppError::NotFound)?;
    Ok((access, name))
}

/// The statistics are counts, about no one: the event names the school only.
async fn audit(work: &mut Work, access: &AbsenceStatisticsAccess, action: Action) -> Result<()> {
    work.audit(access, action, Resource::AbsenceStatistics, Some(access.school_id), &[]).await
}

/// The figures of the school year so far.
async fn figures(
    mut tx: crate::db::Conn<'_>,
    school: Uuid,
    period: Period,
) -> Result<(Option<YearRow>, Date, Vec<ClassPeriodRow>)> {
    let today = queries::today(tx.re()).await?;
    let Some(year) = sq::school_year(tx.re(), today).await? else { return Ok((None, today, Vec::new())) };
    // Up to and including yesterday: today's registers may not all be taken yet.
    let until = today.previous_day().unwrap_or(today).min(year.ends);
    let rows = sq::per_class(tx.re(), school, year.id, until, period).await?;
    Ok((Some(year), until, rows))
}

/// The statistics page (`?by=class` for a line per class; by grade level otherwise).
pub async fn show(
    // The slot first: a refused request takes no database connection.
    _slot: ExpensiveSlot,
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<StatisticsQuery>,
) -> Result<Response> {
    // The page's own links: by grade level (no `by`) or `?by=class`. Anything else is a
    // hand-made URL, refused before the figures are worked out.
    let by_class = match q.by.as_str() {
        "" => false,
        "class" => true,
        _ => return Err(AppError::BadRequest),
    };
    let (access, school_name) = open(&mut work, &school).await?;
    let (year, until, rows) = figures(work.conn(), access.school_id, Period::Week).await?;
    audit(&mut work, &access, Action::Read).await?;
    work.commit().await?;
    let weeks = year.as_ref().map(|y| weeks_of(y, until)).unwrap_or_default();
    // Group the classes' rows into the series, in the order of the grades and names.
    let mut groups: BTreeMap<(i16, String), Vec<&ClassPeriodRow>> = BTreeMap::new();
    for r in &rows {
        let key = if by_class {
            (r.grade_level.unwrap_or(99), r.class_name.clone())
        } else {
            (r.grade_level.unwrap_or(99), String::new())
        };
        groups.entry(key).or_default().push(r);
    }
    let mut series: Vec<Series> = groups
        .into_iter()
        .enumerate()
        .map(|(n, ((grade, name), rows))| {
            let label = if by_class { name } else { ui.tf("absence.statistics.grade", "grade", &grade.to_string()) };
            series_of(label, &rows, &weeks, n)
        })
        .collect();
    let all: Vec<&ClassPeriodRow> = rows.iter().collect();
    let mut total = series_of(ui.t("absence.statistics.whole_school").to_owned(), &all, &weeks, 0);
    total.colour = "#000000";
    let top = plot(&mut series, weeks.len());
    let (w, h) = (CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM);
    let y_ticks =
        (0..=5).map(|i| Tick { pos: CHART_H - BOTTOM - h * i / 5, label: format!("{} %", top * i / 5) }).collect();
    let span = i64::try_from(weeks.len().saturating_sub(1)).unwrap_or(1).max(1);
    let x_ticks = weeks
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(i, d)| Tick { pos: LEFT + i64::try_from(i).unwrap_or(0) * w / span, label: d.iso_week().to_string() })
        .collect();
    Ok(render(&StatisticsPage {
        ui,
        school_id: access.school_id,
        school_name,
        year,
        by_class,
        weeks,
        series,
        total,
        y_ticks,
        x_ticks,
        until,
    }))
}

#[derive(askama::Template)]
#[template(path = "absence/statistics_index.html")]
pub struct StatisticsIndexPage {
    pub ui: Ui,
    pub schools: Vec<(Uuid, String)>,
}

/// The schools whose statistics the actor may open (one school goes straight there).
pub async fn index(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    let ids = policy::absence_statistics_school_list(work.conn(), &actor).await?;
    let schools = sq::school_names(work.conn(), &ids).await?;
    work.commit().await?;
    if let [(only, _)] = schools.as_slice() {
        return Ok(axum::response::Redirect::to(&format!("/schools/{only}/absence/statistics")).into_response());
    }
    Ok(render(&StatisticsIndexPage { ui, schools }))
}

/// The columns of the export (stable names, documented in the README).
pub const CSV_HEADER: &str =
    "school;class;grade_level;period;period_start;lessons_held;absent_lessons;late_lessons;whole_days_absent";

/// The export: one line per class and week (or `?period=month`), semicolon-separated,
/// UTF-8 with a byte order mark (so that spreadsheets in Norway open it as such).
pub async fn csv(
    // The slot first: a refused request takes no database connection.
    _slot: ExpensiveSlot,
    mut work: Work,
    Path(school): Path<String>,
    Query(q): Query<StatisticsQuery>,
) -> Result<Response> {
    let period = Period::from_code(&q.period).ok_or(AppError::BadRequest)?;
    let (access, school_name) = open(&mut work, &school).await?;
    let (_, _, rows) = figures(work.conn(), access.school_id, period).await?;
    audit(&mut work, &access, Action::Export).await?;
    work.commit().await?;
    let lines = rows.iter().map(|r| {
        vec![
            school_name.clone(),
            r.class_name.clone(),
            r.grade_level.map(|g| g.to_string()).unwrap_or_default(),
            period.code().to_owned(),
            domain::iso(r.period),
            r.held.to_string(),
            r.absent.to_string(),
            r.late.to_string(),
            r.whole_days.to_string(),
        ]
    });
    crate::web::csv::attachment(&format!("absence-statistics-{}", period.code()), CSV_HEADER, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::csv::csv_cell;

    #[test]
    fn csv_cells_cannot_become_formulas() {
        assert_eq!(csv_cell("4A"), "4A");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
    }

    #[test]
    fn percentages_read_as_each_language_writes_them() {
        assert_eq!(percent(Lang::Nb, 200, 9), "4,5 %");
        assert_eq!(percent(Lang::En, 200, 9), "4.5%");
        assert_eq!(percent(Lang::Nb, 0, 0), "–");
    }
}
