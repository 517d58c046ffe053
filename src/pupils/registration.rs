//! Registering a pupil by hand (issue 18, points 1 and 5), by the office of the school:
//! a pupil the population register does not have yet (a newly arrived child with a DUF
//! number), a child moving into the municipality, or a guest pupil from another
//! municipality (its number recorded). The national id decides who it is:
//!
//! - a number the municipality knows (a child under school age from the register, a
//!   pupil who left and comes back) enrols that person, with the register's names, once
//!   the family name typed matches the one on record (a typo in the number must not
//!   enrol someone else); a person enrolled today or later is refused (that school moves
//!   them), as is a deceased one;
//! - a new number creates the person, with the names and birth date typed (the birth
//!   date is the number's, for a fødselsnummer or D-number).
//!
//! The pupil is enrolled from a day at a grade of the school, optionally placed in a
//! class, with the other mother tongue when given. One transaction, audited with the
//! pupil; a refused form keeps what was typed and stores nothing.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Duration};
use uuid::Uuid;

use super::move_queries::{self, ClassChoice};
use super::person_name;
use super::registration_queries as q;
use crate::audit::{Action, Resource};
use crate::domain::date::{date_value, display_date, iso, parse};
use crate::domain::mother_tongue;
use crate::domain::national_id::{NationalId, NationalIdKind};
use crate::error::{AppError, Result};
use crate::policy::{self, SchoolOfficeAccess};
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// How far back and ahead an enrolment may begin.
const BACK_DAYS: i64 = 31;
const AHEAD_DAYS: i64 = 366;

#[derive(askama::Template)]
#[template(path = "pupils/new.html")]
pub struct NewPupilPage {
    pub ui: Ui,
    pub school_id: Uuid,
    pub school_name: String,
    pub first_grade: i16,
    pub last_grade: i16,
    pub classes: Vec<ClassChoice>,
    pub form: NewPupilForm,
    pub errors: FieldErrors,
    /// A pupil registered from a later day: not in the list until then.
    pub planned: String,
}

impl NewPupilPage {
    pub fn grades(&self) -> Vec<i16> {
        (self.first_grade..=self.last_grade).collect()
    }
    pub fn languages(&self) -> Vec<(&'static str, &'static str)> {
        languages(&self.ui)
    }
    pub fn planned_text(&self) -> String {
        parse(&self.planned).map(|d| self.ui.tf("pupils.new.planned", "date", &display_date(d))).unwrap_or_default()
    }
}

/// The mother tongues with their names in the page's language, by name.
pub fn languages(ui: &Ui) -> Vec<(&'static str, &'static str)> {
    let mut list: Vec<(&'static str, &'static str)> =
        mother_tongue::MOTHER_TONGUES.iter().map(|c| (*c, ui.t(&format!("language.{c}")))).collect();
    list.sort_by(|a, b| a.1.cmp(b.1));
    list
}

/// The form as sent (kept as typed to show again).
#[derive(Debug, Default, Deserialize)]
pub struct NewPupilForm {
    #[serde(default)]
    pub national_id: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub home_municipality: String,
    #[serde(default)]
    pub mother_tongue: String,
}

impl NewPupilForm {
    pub fn birth_date_value(&self) -> String {
        date_value(&self.birth_date)
    }
    pub fn start_value(&self) -> String {
        date_value(&self.from)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewPupilQuery {
    #[serde(default)]
    pub planned: String,
}

struct Loaded {
    access: SchoolOfficeAccess,
    school: super::queries::SchoolRow,
    today: Date,
    year: Option<crate::groups::queries::YearRow>,
    classes: Vec<ClassChoice>,
}

async fn load(work: &mut Work, school: &str) -> Result<Loaded> {
    let actor = work.actor();
    let access = policy::pupil_registration_access(&actor, path_id(school)?)?;
    let school = super::queries::schools(work.conn(), &[access.school_id]).await?.pop().ok_or(AppError::NotFound)?;
    let today = crate::db::current_date(work.conn()).await?;
    let year = crate::groups::queries::current_year(work.conn()).await?;
    let classes = match &year {
        Some(y) => move_queries::classes(work.conn(), access.school_id, y.id).await?,
        None => Vec::new(),
    };
    Ok(Loaded { access, school, today, year, classes })
}

fn page(ui: Ui, l: Loaded, form: NewPupilForm, errors: FieldErrors, planned: String) -> NewPupilPage {
    NewPupilPage {
        ui,
        school_id: l.access.school_id,
        school_name: l.school.name,
        first_grade: l.school.first_grade,
        last_grade: l.school.last_grade,
        classes: l.classes,
        form,
        errors,
        planned,
    }
}

/// The form for a new pupil.
pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<NewPupilQuery>,
) -> Result<Response> {
    let l = load(&mut work, &school).await?;
    work.commit().await?;
    let form = NewPupilForm { from: iso(l.today), ..NewPupilForm::default() };
    let planned = if parse(&q.planned).is_some() { q.planned } else { String::new() };
    Ok(render_with(StatusCode::OK, &page(ui, l, form, FieldErrors::new(), planned)))
}

/// The form, checked.
struct Checked {
    national_id: NationalId,
    given: String,
    family: String,
    birth_date: Date,
    grade: i16,
    from: Date,
    class: Option<Uuid>,
    home: Option<String>,
    mother_tongue: Option<&'static str>,
}

fn check(
    form: &NewPupilForm,
    l: &Loaded,
    own: &str,
    synthetic_allowed: bool,
) -> std::result::Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::new();
    let national_id = match NationalId::parse(&form.national_id) {
        Err(_) => {
            errors.add("national_id", "pupils.new.error.national_id");
            None
        }
        Ok(id) if id.admissible(synthetic_allowed).is_err() => {
            errors.add("national_id", "pupils.new.error.national_id_kind");
            None
        }
        Ok(id) => Some(id),
    };
    let given = person_name(&form.given_name, "given_name".to_owned(), &mut errors);
    let family = person_name(&form.family_name, "family_name".to_owned(), &mut errors);
    // A school child: between 4 and 21 years old this year.
    let this_year = l.today.year();
    let typed = match form.birth_date.trim() {
        "" => None,
        raw => match parse(raw) {
            Some(d) if (this_year - 21..=this_year - 4).contains(&d.year()) => Some(d),
            _ => {
                errors.add("birth_date", "pupils.new.error.birth_date");
                None
            }
        },
    };
    let from_number = national_id.as_ref().and_then(NationalId::birth_date);
    let birth_date = match (&national_id, from_number, typed) {
        (Some(id), _, None) if id.kind() == NationalIdKind::Duf => {
            errors.add("birth_date", "pupils.new.error.birth_date_required");
            None
        }
        (_, Some(number), Some(typed)) if number != typed => {
            errors.add("birth_date", "pupils.new.error.birth_date_number");
            None
        }
        (_, Some(number), _) if !(this_year - 21..=this_year - 4).contains(&number.year()) => {
            errors.add("national_id", "pupils.new.error.age");
            None
        }
        (_, Some(number), _) => Some(number),
        (_, None, typed) => typed,
    };
    let grade = match form.grade.trim().parse::<i16>() {
        Ok(g) if (l.school.first_grade..=l.school.last_grade).contains(&g) => Some(g),
        _ => {
            errors.add("grade", "pupils.new.error.grade");
            None
        }
    };
    let from = match parse(&form.from) {
        None => {
            errors.add("from", "pupils.new.error.from");
            None
        }
        Some(d) if d < l.today - Duration::days(BACK_DAYS) || d > l.today + Duration::days(AHEAD_DAYS) => {
            errors.add("from", "pupils.new.error.from_range");
            None
        }
        Some(d) => Some(d),
    };
    let class = match form.class.trim() {
        "" => None,
        raw => match Uuid::parse_str(raw).ok().and_then(|id| l.classes.iter().find(|c| c.id == id)) {
            Some(c) if grade.is_some() && c.grade_level.is_some() && c.grade_level != grade => {
                errors.add("class", "pupils.new.error.class_grade");
                None
            }
            Some(_) if from.is_some_and(|f| l.year.as_ref().is_some_and(|y| f > y.ends)) => {
                errors.add("class", "pupils.new.error.class_year");
                None
            }
            Some(c) => Some(c.id),
            None => {
                errors.add("class", "pupils.new.error.class");
                None
            }
        },
    };
    let home = match super::moves::other_municipality(&form.home_municipality, own, "pupils.new.error.own_municipality")
    {
        Ok(home) => home,
        Err(key) => {
            errors.add("home_municipality", key);
            None
        }
    };
    let mother_tongue = match form.mother_tongue.trim() {
        "" => None,
        raw => match mother_tongue::parse(raw) {
            Some(code) => Some(code),
            None => {
                errors.add("mother_tongue", "pupils.new.error.mother_tongue");
                None
            }
        },
    };
    match (national_id, given, family, birth_date, grade, from, errors.any()) {
        (Some(national_id), Some(given), Some(family), Some(birth_date), Some(grade), Some(from), false) => {
            Ok(Checked { national_id, given, family, birth_date, grade, from, class, home, mother_tongue })
        }
        _ => {
            errors.order(&[
                "national_id",
                "given_name",
                "family_name",
                "birth_date",
                "grade",
                "from",
                "class",
                "home_municipality",
                "mother_tongue",
            ]);
            Err(errors)
        }
    }
}

/// Register the pupil.
pub async fn create(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<NewPupilForm>, FormRejection>,
) -> Result<Response> {
    let Form(form) = form.map_err(|_| AppError::BadRequest)?;
    let l = load(&mut work, &school).await?;
    let own = move_queries::own_municipality(work.conn()).await?;
    let synthetic_allowed = q::synthetic_allowed(work.conn()).await?;
    let refuse = |work: Work, ui: Ui, l: Loaded, form: NewPupilForm, errors: FieldErrors| async move {
        work.commit().await?;
        Ok::<_, AppError>(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(ui, l, form, errors, String::new())))
    };
    let c = match check(&form, &l, &own, synthetic_allowed) {
        Ok(c) => c,
        Err(errors) => return refuse(work, ui, l, form, errors).await,
    };
    let person = match q::known(work.conn(), c.national_id.as_str()).await? {
        Some(k) if k.enrolled => {
            return refuse(work, ui, l, form, FieldErrors::one("national_id", "pupils.new.error.enrolled")).await
        }
        Some(k) if k.deceased => {
            return refuse(work, ui, l, form, FieldErrors::one("national_id", "pupils.new.error.deceased")).await
        }
        Some(k) if crate::domain::text::nfc(&k.family_name).to_lowercase() != c.family.to_lowercase() => {
            return refuse(work, ui, l, form, FieldErrors::one("family_name", "pupils.new.error.not_this_person")).await
        }
        Some(k) => k.id,
        None => q::create_person(work.conn(), c.national_id.as_str(), &c.given, &c.family, c.birth_date).await?,
    };
    q::ensure_pupil(work.conn(), person, c.mother_tongue).await?;
    q::enrol(work.conn(), person, l.access.school_id, c.grade, c.from, c.home.as_deref()).await?;
    if let Some(class) = c.class {
        crate::groups::queries::add_stays(work.conn(), class, &[person], c.from).await?;
    }
    work.audit(&l.access, Action::Create, Resource::Enrolment, Some(person), &[person]).await?;
    work.commit().await?;
    Ok(if c.from <= l.today {
        Redirect::to(&format!("/pupils/{person}")).into_response()
    } else {
        Redirect::to(&format!("/schools/{}/pupils/new?planned={}", l.access.school_id, iso(c.from))).into_response()
    })
}
