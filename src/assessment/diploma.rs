//! The diploma (vitnemål) of lower secondary school, for a pupil in grade 10, as the
//! directorate's guideline lays it out: the subjects by their codes with the final
//! grade (in digits and words) and the exam grade, the subject notes from exemptions
//! (FAM01 exempt from the subject, FAM02 exempt from assessment with grade), order and
//! conduct, and absence in days and single hours for grades 8, 9 and 10 together (each
//! school year's totals by the rules of `absence::totals`, added, and the hours rounded
//! once; late arrivals count by the municipality's rule, `late_counts_on_diploma`).
//! A printable page for the office and the school's leaders; every making of it is
//! audited. It is marked archive-worthy: the final assessment is kept (seed 000).

use axum::extract::Path;
use axum::response::Response;
use time::Date;

use super::domain::{Aspect, ConductValue, ExemptionKind, GradeValue};
use super::queries::diploma::{self, DiplomaHead, DiplomaLine};
use crate::absence::queries::review as rq;
use crate::absence::totals::{self, Diploma};
use crate::audit::{Action, Resource};
use crate::domain::date::display_date;
use crate::error::{AppError, Result};
use crate::policy;
use crate::web::layout::Ui;
use crate::web::{path_id, render};
use crate::work::Work;

#[derive(askama::Template)]
#[template(path = "assessment/diploma.html")]
pub struct DiplomaPage {
    pub ui: Ui,
    pub head: DiplomaHead,
    pub lines: Vec<DiplomaLine>,
    pub conduct: Vec<(String, String)>,
    pub absence: Diploma,
    /// The school years the absence covers (names).
    pub years: Vec<String>,
    pub late_counts: bool,
}

impl DiplomaPage {
    pub fn is_grade_ten(&self) -> bool {
        self.head.grade_level == 10
    }
    pub fn name(&self) -> String {
        format!("{} {}", self.head.given_name, self.head.family_name)
    }
    pub fn born(&self) -> String {
        self.head.birth_date.map(display_date).unwrap_or_default()
    }
    pub fn subject(&self, l: &DiplomaLine) -> String {
        match self.ui.lang {
            crate::web::i18n::Lang::En => l.subject_en.clone(),
            _ => l.subject_nb.clone(),
        }
    }
    pub fn in_words(&self, v: &Option<String>) -> &'static str {
        v.as_deref().and_then(GradeValue::from_code).map_or("", |g| self.ui.t(g.label_key()))
    }
    /// The directorate's subject note for the exemption: FAM01 or FAM02.
    pub fn note(&self, l: &DiplomaLine) -> String {
        match l.exemption.as_deref().and_then(ExemptionKind::from_code) {
            Some(ExemptionKind::Subject) => format!("FAM01 {}", self.ui.t("assessment.diploma.fam01")),
            Some(ExemptionKind::Assessment) => format!("FAM02 {}", self.ui.t("assessment.diploma.fam02")),
            None => String::new(),
        }
    }
    pub fn conduct_lines(&self) -> Vec<(&'static str, String, &'static str)> {
        self.conduct
            .iter()
            .filter_map(|(a, v)| {
                let a = Aspect::from_code(a)?;
                let value = ConductValue::from_code(v)?;
                Some((self.ui.t(a.label_key()), v.clone(), self.ui.t(value.label_key())))
            })
            .collect()
    }
    pub fn days(&self) -> String {
        self.absence.diploma_days().to_string()
    }
    pub fn hours(&self) -> String {
        self.absence.hours_on_diploma(self.late_counts).to_string()
    }
    pub fn years_text(&self) -> String {
        self.years.join(", ")
    }
}

/// Each lower-secondary school year's diploma totals, from the register and reviews.
async fn absence(work: &mut Work, ui: &Ui, pupil: uuid::Uuid) -> Result<(Diploma, Vec<String>)> {
    let today: Date = crate::db::current_date(work.conn()).await?;
    let starts = diploma::lower_secondary_years(work.conn(), pupil).await?;
    let (mut years, mut names) = (Vec::new(), Vec::new());
    for start in starts {
        let Some(year) = rq::school_year(work.conn(), start).await? else { continue };
        let lessons = rq::lessons(work.conn(), pupil, &year, ui.lang).await?;
        let reviews = rq::reviews(work.conn(), pupil, &year, ui.lang).await?;
        let days = totals::days(&lessons, today.min(year.ends));
        years.push(totals::diploma(&days, &rq::review_map(&reviews)));
        names.push(year.name);
    }
    names.reverse();
    Ok((Diploma::sum(&years), names))
}

pub async fn show(mut work: Work, ui: Ui, Path(pupil): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let access = policy::diploma_access(work.conn(), &actor, path_id(&pupil)?).await?;
    let head = diploma::head(work.conn(), access.pupil_id, access.school_id).await?.ok_or(AppError::NotFound)?;
    let lines = diploma::lines(work.conn(), access.pupil_id, access.school_id, head.year_ends).await?;
    let conduct = diploma::final_conduct(work.conn(), access.pupil_id, access.school_id).await?;
    let (absence, years) = absence(&mut work, &ui, access.pupil_id).await?;
    let late_counts = diploma::late_counts(work.conn(), &head.year_name).await?;
    work.audit(&access, Action::Read, Resource::Diploma, Some(access.pupil_id), &[access.pupil_id]).await?;
    work.commit().await?;
    Ok(render(&DiplomaPage { ui, head, lines, conduct, absence, years, late_counts }))
}

#[derive(askama::Template)]
#[template(path = "assessment/diplomas.html")]
pub struct DiplomasPage {
    pub ui: Ui,
    pub school_name: String,
    pub pupils: Vec<diploma::GradeTenRow>,
}

/// The school's grade-10 pupils, each with the way to their diploma: the office's list
/// (names only; the diploma itself is audited when opened).
pub async fn list(mut work: Work, ui: Ui, Path(school): Path<String>) -> Result<Response> {
    let actor = work.actor();
    let access = policy::assessment_periods_access(&actor, path_id(&school)?)?;
    let year = super::queries::current_year(work.conn(), access.school_id).await?.ok_or(AppError::NotFound)?;
    let pupils = diploma::grade_ten(work.conn(), access.school_id).await?;
    let subjects: Vec<uuid::Uuid> = pupils.iter().map(|p| p.id).collect();
    if !subjects.is_empty() {
        work.audit(&access, Action::Read, Resource::Diploma, Some(access.school_id), &subjects).await?;
    }
    work.commit().await?;
    Ok(render(&DiplomasPage { ui, school_name: year.school_name, pupils }))
}
