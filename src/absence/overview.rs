//! Absence overviews by the rules: the pupil's own, a guardian's per child, and the
//! contact teacher's (or the office's) per class, with warnings. The numbers come
//! from `totals`, fed with the timetable's lessons, the register's marks and the
//! reviews of the pupil's current school year, and the rule parameters of that year
//! and the pupil's school type. Every look is audited.

use crate::db::Conn;
use axum::extract::Path;
use axum::response::Response;
use time::Date;
use uuid::Uuid;

use super::domain;
use super::queries;
use super::queries::review::{self as rq, ClassRow, PupilRow, ReviewRow, YearRow};
use super::totals::{self, Day, Diploma, Params, SchoolType, Subject};
use crate::audit::{Action, Resource};
use crate::error::{AppError, Result};
use crate::policy::{self};
use crate::web::i18n::Lang;
use crate::web::layout::Ui;
use crate::web::path_id;
use crate::web::render;
use crate::work::Work;

/// Everything the pages show about one pupil's absence in the school year.
#[derive(Debug, Clone)]
pub struct PupilTotals {
    pub pupil: PupilRow,
    pub year: Option<YearRow>,
    pub school_type: SchoolType,
    pub params: Option<Params>,
    pub days: Vec<Day>,
    pub diploma: Diploma,
    /// Per subject against the limit (upper secondary only).
    pub subjects: Vec<Subject>,
    pub reviews: Vec<ReviewRow>,
}

impl PupilTotals {
    pub fn upper(&self) -> bool {
        self.school_type == SchoolType::UpperSecondary
    }

    pub fn has_diploma(&self) -> bool {
        self.school_type.has_diploma()
    }

    /// The year's maximum of deducted days is reached.
    pub fn deduction_max_reached(&self) -> bool {
        self.has_diploma() && self.params.is_some_and(|p| self.diploma.deducted_days >= p.max_deducted_days)
    }

    /// Subjects at or over the warning percentage.
    pub fn warned_subjects(&self) -> Vec<&Subject> {
        self.subjects.iter().filter(|s| s.state.is_warning()).collect()
    }

    pub fn has_warning(&self) -> bool {
        self.deduction_max_reached() || !self.warned_subjects().is_empty()
    }

    /// The days with absence, newest first.
    pub fn absence_days(&self) -> Vec<&Day> {
        self.days.iter().rev().filter(|d| d.has_absence()).collect()
    }

    pub fn review_of(&self, date: &Date) -> Option<&ReviewRow> {
        self.reviews.iter().find(|r| r.date == *date)
    }

    pub fn max_days(&self) -> String {
        self.params.map(|p| p.max_deducted_days.to_string()).unwrap_or_default()
    }
}

/// Compute the pupil's totals for the school year of today.
pub async fn pupil_totals(mut conn: Conn<'_>, pupil: Uuid, lang: Lang) -> Result<PupilTotals> {
    let today = queries::today(conn.re()).await?;
    let row = rq::pupil(conn.re(), pupil, today).await?.ok_or(AppError::NotFound)?;
    let school_type = SchoolType::of_grade(row.grade_level.unwrap_or(1));
    let year = rq::school_year(conn.re(), today).await?;
    let (params, lessons, reviews) = match &year {
        Some(y) => (
            rq::params(conn.re(), &y.name, school_type).await?,
            rq::lessons(conn.re(), pupil, y, lang).await?,
            rq::reviews(conn.re(), pupil, y, lang).await?,
        ),
        None => (None, Vec::new(), Vec::new()),
    };
    let map = rq::review_map(&reviews);
    let days = totals::days(&lessons, today);
    let diploma = totals::diploma(&days, &map);
    let subjects = match (school_type, params, &year) {
        (SchoolType::UpperSecondary, Some(p), Some(y)) => {
            let half_year = rq::half_year(conn.re(), y, today).await?;
            totals::subjects(&lessons, &map, today, half_year, &p)
        }
        _ => Vec::new(),
    };
    Ok(PupilTotals { pupil: row, year, school_type, params, days, diploma, subjects, reviews })
}

/// Display helpers shared by the pages (askama calls them on the page).
pub fn percent(lang: Lang, v: f64) -> String {
    let s = format!("{v:.1}");
    match lang {
        Lang::Nb => s.replace('.', ","),
        Lang::En => s,
    }
}

pub fn hours(minutes: u32) -> String {
    ((minutes + 30) / 60).to_string()
}

#[derive(askama::Template)]
#[template(path = "absence/overview.html")]
pub struct OverviewPage {
    pub ui: Ui,
    pub t: PupilTotals,
    /// The pupil looks at their own overview (the heading says "My absence").
    pub own: bool,
}

impl OverviewPage {
    pub fn pct(&self, v: &f64) -> String {
        percent(self.ui.lang, *v)
    }
    pub fn hours(&self, m: &u32) -> String {
        hours(*m)
    }
    pub fn date(&self, d: &Date) -> String {
        domain::display_date(*d)
    }
}

/// The signed-in pupil's own overview.
pub async fn me(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    let access = policy::own_absence_access(&actor)?;
    let t = pupil_totals(work.conn(), access.pupil_id, ui.lang).await?;
    work.audit(&access, Action::Read, Resource::AbsenceTotals, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(render(&OverviewPage { ui, t, own: true }))
}

/// A child's overview, for a guardian with parental responsibility.
pub async fn child(mut work: Work, ui: Ui, Path(pupil_id): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let access = policy::child_absence_access(&actor, path_id(&pupil_id)?)?;
    let t = pupil_totals(work.conn(), access.pupil_id, ui.lang).await?;
    work.audit(&access, Action::Read, Resource::AbsenceTotals, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(render(&OverviewPage { ui, t, own: false }))
}

#[derive(askama::Template)]
#[template(path = "absence/classes.html")]
pub struct ClassesPage {
    pub ui: Ui,
    pub classes: Vec<ClassRow>,
}

/// The classes whose overview the actor may open (none: a short note).
pub async fn classes(mut work: Work, ui: Ui) -> Result<Response> {
    let actor = work.actor();
    policy::absence_register_scope(&actor)?;
    let ids = policy::absence_classes(work.conn(), &actor).await?;
    let classes = rq::classes(work.conn(), &ids).await?;
    work.commit().await?;
    Ok(render(&ClassesPage { ui, classes }))
}

#[derive(askama::Template)]
#[template(path = "absence/class.html")]
pub struct ClassPage {
    pub ui: Ui,
    pub class: ClassRow,
    pub pupils: Vec<PupilTotals>,
}

impl ClassPage {
    pub fn pct(&self, v: &f64) -> String {
        percent(self.ui.lang, *v)
    }
    pub fn hours(&self, m: &u32) -> String {
        hours(*m)
    }
    pub fn any_upper(&self) -> bool {
        self.pupils.iter().any(|p| p.upper())
    }
    pub fn warnings(&self) -> usize {
        self.pupils.iter().filter(|p| p.has_warning()).count()
    }
}

/// A class's overview: per pupil days and hours, the subjects past the warning in
/// upper secondary, warnings highlighted, a link to each pupil's review.
pub async fn class(mut work: Work, ui: Ui, Path(group_id): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let group = path_id(&group_id)?;
    let access = policy::absence_class_access(work.conn(), &actor, group).await?;
    let class = rq::class(work.conn(), access.group_id).await?.ok_or(AppError::NotFound)?;
    let today = queries::today(work.conn()).await?;
    let ids = rq::class_pupils(work.conn(), access.group_id, today).await?;
    let mut pupils = Vec::with_capacity(ids.len());
    for id in &ids {
        pupils.push(pupil_totals(work.conn(), *id, ui.lang).await?);
    }
    work.audit(&access, Action::Read, Resource::AbsenceClassOverview, Some(access.group_id), &ids).await?;
    work.commit().await?;
    Ok(render(&ClassPage { ui, class, pupils }))
}
