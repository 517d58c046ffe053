//! A school's assessment periods of the current school year: for the autumn and spring
//! half-year assessments and the final assessment, the days teachers enter grades
//! (from, to: the office opens and closes the window by moving them) and when pupils
//! and guardians see them (a day and a time). Set by the school office and the
//! school's leaders; every change is audited.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use time::{Date, Time};

use super::domain::PeriodKind;
use super::queries::{self, PeriodRow, YearRow};
use crate::audit::{Action, Resource};
use crate::domain::date::{display_date, iso, parse_iso, parse_time};
use crate::error::{AppError, Result};
use crate::policy;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;
use crate::web::{path_id, render_with};
use crate::work::Work;

/// The kinds set on this page (exam periods come with the exam files).
pub const KINDS: [PeriodKind; 3] = [PeriodKind::Autumn, PeriodKind::Spring, PeriodKind::Final];

/// One period's fields as typed.
#[derive(Debug, Clone, Default)]
pub struct PeriodFields {
    pub kind: Option<PeriodKind>,
    pub opens: String,
    pub closes: String,
    pub publish_on: String,
    pub publish_time: String,
}

impl PeriodFields {
    fn of(kind: PeriodKind, row: Option<&PeriodRow>) -> Self {
        match row {
            Some(p) => PeriodFields {
                kind: Some(kind),
                opens: iso(p.opens_on),
                closes: iso(p.closes_on),
                publish_on: p.publish_on.map(iso).unwrap_or_default(),
                publish_time: format!("{:02}:{:02}", p.publish_time.hour(), p.publish_time.minute()),
            },
            None => PeriodFields { kind: Some(kind), publish_time: "08:00".to_owned(), ..Default::default() },
        }
    }

    fn is_empty(&self) -> bool {
        self.opens.trim().is_empty() && self.closes.trim().is_empty() && self.publish_on.trim().is_empty()
    }

    pub fn code(&self) -> &'static str {
        self.kind.map_or("autumn", PeriodKind::code)
    }
}

#[derive(askama::Template)]
#[template(path = "assessment/periods.html")]
pub struct PeriodsPage {
    pub ui: Ui,
    pub school_id: uuid::Uuid,
    pub year: YearRow,
    pub fields: Vec<PeriodFields>,
    /// The periods as stored, for their state (open, published).
    pub stored: Vec<PeriodRow>,
    pub errors: FieldErrors,
    pub saved: bool,
}

impl PeriodsPage {
    pub fn kind_label(&self, f: &PeriodFields) -> &'static str {
        self.ui.t(f.kind.map_or("assessment.kind.autumn", PeriodKind::label_key))
    }
    pub fn year_hint(&self) -> String {
        crate::web::i18n::tf(
            self.ui.lang,
            "assessment.periods.year_hint",
            &[
                ("year", &self.year.name),
                ("from", &display_date(self.year.starts)),
                ("to", &display_date(self.year.ends)),
            ],
        )
    }
    /// Where the stored period of this kind stands: open, closed, published.
    pub fn state(&self, f: &PeriodFields) -> Vec<(&'static str, &'static str)> {
        let Some(p) = self.stored.iter().find(|p| Some(p.kind()) == f.kind) else {
            return vec![("neutral", self.ui.t("assessment.periods.not_set"))];
        };
        let w = p.window();
        let mut tags = vec![(w.color(), self.ui.t(w.label_key_short()))];
        if p.published {
            tags.push(("info", self.ui.t("assessment.periods.published")));
        }
        tags
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodsQuery {
    #[serde(default)]
    pub done: String,
}

async fn load(work: &mut Work, school: &str) -> Result<(policy::AssessmentPeriodsAccess, YearRow, Vec<PeriodRow>)> {
    let actor = work.actor();
    let access = policy::assessment_periods_access(&actor, path_id(school)?)?;
    let year = queries::current_year(work.conn(), access.school_id).await?.ok_or(AppError::NotFound)?;
    let stored = queries::current_periods(work.conn(), access.school_id).await?;
    Ok((access, year, stored))
}

pub async fn show(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    Query(q): Query<PeriodsQuery>,
) -> Result<Response> {
    let (access, year, stored) = load(&mut work, &school).await?;
    work.commit().await?;
    let fields = KINDS.iter().map(|k| PeriodFields::of(*k, stored.iter().find(|p| p.kind() == *k))).collect();
    let page = PeriodsPage {
        ui,
        school_id: access.school_id,
        year,
        fields,
        stored,
        errors: FieldErrors::new(),
        saved: q.done == "saved",
    };
    Ok(render_with(StatusCode::OK, &page))
}

/// A period's values once checked.
struct Checked {
    kind: PeriodKind,
    opens: Date,
    closes: Date,
    publish_on: Option<Date>,
    publish_time: Time,
}

/// Check one period's fields; its mistakes go to `errors` under `{kind}-{field}`.
fn check(f: &PeriodFields, year: &YearRow, exists: bool, errors: &mut FieldErrors) -> Option<Checked> {
    let kind = f.kind?;
    let k = kind.code();
    if f.is_empty() {
        if exists {
            errors.add(format!("{k}-opens"), "assessment.error.period_required");
        }
        return None;
    }
    let date = |raw: &str, field: &str, errors: &mut FieldErrors| -> Option<Date> {
        match parse_iso(raw) {
            None => {
                errors.add(format!("{k}-{field}"), "assessment.error.date_format");
                None
            }
            Some(d) if d < year.starts || d > year.ends + time::Duration::days(62) => {
                errors.add(format!("{k}-{field}"), "assessment.error.date_outside_year");
                None
            }
            Some(d) => Some(d),
        }
    };
    let opens = date(&f.opens, "opens", errors);
    let closes = date(&f.closes, "closes", errors);
    let publish_on = if f.publish_on.trim().is_empty() { None } else { date(&f.publish_on, "publish_on", errors) };
    let publish_time = match parse_time(&f.publish_time) {
        Some(t) => Some(t),
        None if f.publish_time.trim().is_empty() => Some(Time::from_hms(8, 0, 0).unwrap_or(Time::MIDNIGHT)),
        None => {
            errors.add(format!("{k}-publish_time"), "assessment.error.time_format");
            None
        }
    };
    let (opens, closes, publish_time) = (opens?, closes?, publish_time?);
    if closes < opens {
        errors.add(format!("{k}-closes"), "assessment.error.closes_before_opens");
        return None;
    }
    if f.publish_on.trim().is_empty() && publish_on.is_none() {
        return Some(Checked { kind, opens, closes, publish_on: None, publish_time });
    }
    let publish_on = publish_on?;
    if publish_on < opens {
        errors.add(format!("{k}-publish_on"), "assessment.error.publish_before_opens");
        return None;
    }
    Some(Checked { kind, opens, closes, publish_on: Some(publish_on), publish_time })
}

pub async fn save(
    mut work: Work,
    ui: Ui,
    Path(school): Path<String>,
    form: std::result::Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response> {
    let (access, year, stored) = load(&mut work, &school).await?;
    let Form(sent) = form.map_err(|_| AppError::BadRequest)?;
    let mut fields: Vec<PeriodFields> =
        KINDS.iter().map(|k| PeriodFields { kind: Some(*k), ..Default::default() }).collect();
    for (name, value) in sent {
        if name == "csrf" {
            continue;
        }
        let (kind, field) = name.split_once('-').ok_or(AppError::BadRequest)?;
        let f = fields.iter_mut().find(|f| f.code() == kind).ok_or(AppError::BadRequest)?;
        if value.len() > 20 {
            return Err(AppError::BadRequest);
        }
        match field {
            "opens" => f.opens = value,
            "closes" => f.closes = value,
            "publish_on" => f.publish_on = value,
            "publish_time" => f.publish_time = value,
            _ => return Err(AppError::BadRequest),
        }
    }
    let mut errors = FieldErrors::new();
    let checked: Vec<Checked> = fields
        .iter()
        .filter_map(|f| check(f, &year, stored.iter().any(|p| Some(p.kind()) == f.kind), &mut errors))
        .collect();
    if errors.any() {
        let page = PeriodsPage { ui, school_id: access.school_id, year, fields, stored, errors, saved: false };
        return Ok(render_with(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let by = work.actor().person_id;
    let mut changed = false;
    for c in checked {
        changed |= queries::save_period(
            work.conn(),
            access.school_id,
            year.id,
            c.kind,
            c.opens,
            c.closes,
            c.publish_on,
            c.publish_time,
            by,
        )
        .await?;
    }
    if changed {
        work.audit(&access, Action::Update, Resource::AssessmentPeriods, Some(access.school_id), &[]).await?;
    }
    work.commit().await?;
    Ok(Redirect::to(&format!("/assessment/schools/{}/periods?done=saved", access.school_id)).into_response())
}
