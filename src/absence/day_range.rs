//! The first and last day a guardian's form names (an absence report, a leave
//! application): read, in order, inside the window the form allows and inside one
//! school year, with a message by the field that breaks a rule.

use crate::db::Conn;
use time::Date;

use super::domain;
use super::queries;
use crate::error::Result;
use crate::web::form::FieldErrors;

/// The days a form may name: from `earliest` to `latest`, both included, and the
/// messages for a day before or after them.
pub struct Window {
    pub earliest: Date,
    pub too_early: &'static str,
    pub latest: Date,
    pub too_late: &'static str,
}

/// Read `first_day` and `last_day` (empty: the first day) into `errors`'s fields of
/// those names; the days as read, `None` where a day could not be read.
pub async fn check(
    mut conn: Conn<'_>,
    first_day: &str,
    last_day: &str,
    window: &Window,
    errors: &mut FieldErrors,
) -> Result<(Option<Date>, Option<Date>)> {
    let first = domain::parse_date(first_day);
    if first.is_none() {
        errors.add("first_day", "absence.error.date_format");
    }
    let last = if last_day.trim().is_empty() {
        first
    } else {
        let d = domain::parse_date(last_day);
        if d.is_none() {
            errors.add("last_day", "absence.error.date_format");
        }
        d
    };
    let year = match first {
        Some(f) => queries::school_year_of(conn.re(), f).await?,
        None => None,
    };
    if let Some(f) = first {
        if f < window.earliest {
            errors.add("first_day", window.too_early);
        } else if f > window.latest {
            errors.add("first_day", window.too_late);
        } else if year.is_none() {
            errors.add("first_day", "absence.error.date_outside_year");
        }
    }
    if let (Some(f), Some(l)) = (first, last) {
        if l < f {
            errors.add("last_day", "absence.error.last_before_first");
        } else if l > window.latest {
            errors.add("last_day", window.too_late);
        } else if let Some((_, ends)) = year {
            if l > ends {
                errors.add("last_day", "absence.error.date_outside_year");
            }
        }
    }
    Ok((first, last))
}
