//! Queries about absence. Each takes the request's tenant-bound connection; whether
//! the actor may ask was decided by `policy` beforehand.
//!
//! - here: what several pages share: today, a child's name, the school year of a
//!   date, the child's lock, and the SQL pieces the queries are built of.
//! - `register`: the lesson register (re-exported here, as the register's handlers
//!   read `queries::group`, `queries::save_register`).
//! - `reports`: the guardians' reports (re-exported here too).
//! - `day`: the day register and a school's registration mode.
//! - `review`: the contact teacher's review and the totals by the rules.
//! - `statistics`: the school office's statistics over the school year.
//!
//! Leave applications have their own, in `leave::queries`.

pub mod day;
mod register;
mod reports;
pub mod review;
pub mod statistics;

use crate::db::Conn;
use time::Date;
use uuid::Uuid;

use crate::error::Result;
use crate::web::i18n::Lang;
pub use register::{
    group, group_lessons, lessons_held_on, lessons_on, member_ids, register_lines, register_lines_sql, reports_on,
    save_register, DayLessonRow, DayReportRow, Entry, GroupLessonRow, GroupRow, LineRow,
};
pub use reports::{
    guardian_reasons, insert_report, overlaps, reports_of, withdraw_report, NewReport, ReasonRow, ReportRow,
};

/// Whether lesson `l` of group `g` is held on the date bound as `$2` (`$1` is the
/// tenant, as in every statement): its weekday, within its validity, within the
/// group's school year, and not a day off of the calendar (a break of the whole
/// municipality or of the group's school).
pub(crate) const HELD_ON_DATE: &str = "l.weekday = extract(isodow FROM $2::date)::smallint \
     AND l.valid_from <= $2 AND (l.valid_to IS NULL OR l.valid_to > $2) \
     AND EXISTS (SELECT 1 FROM school_years y WHERE y.tenant_id = $1 AND y.id = g.school_year_id \
                 AND y.starts <= $2 AND y.ends >= $2) \
     AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = $1 \
                     AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
                     AND $2 BETWEEN b.first_day AND b.last_day)";

pub use crate::db::current_date as today;

/// The child's name, for the page heading.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
}

pub async fn children(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<ChildRow>> {
    Ok(sqlx::query_as(
        "SELECT id, given_name, family_name FROM persons WHERE tenant_id = $1 AND id = ANY($2) \
         ORDER BY birth_date, given_name, id",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// The first and last day of the school year that `date` falls in, if any.
pub async fn school_year_of(mut conn: Conn<'_>, date: Date) -> Result<Option<(Date, Date)>> {
    Ok(sqlx::query_as(
        "SELECT starts, ends FROM school_years WHERE tenant_id = $1 AND starts <= $2 AND ends >= $2 \
         ORDER BY starts LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Hold the child's row until the transaction ends, so that two guardians reporting
/// at the same moment cannot both pass the overlap check.
pub async fn lock_child(mut conn: Conn<'_>, pupil: Uuid) -> Result<()> {
    sqlx::query("SELECT 1 FROM pupils WHERE tenant_id = $1 AND person_id = $2 FOR NO KEY UPDATE")
        .bind(conn.tenant)
        .bind(pupil)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The column of a code list's name in `lang` (absence's and leave's lists alike).
pub(in crate::absence) fn name_column(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "name_en",
        Lang::Nb => "name_nb",
    }
}

/// What is saved for `pupil` in `lesson` on `day` (SQL expressions), as a subquery
/// for `LEFT JOIN LATERAL (…) reg ON true`: one index probe per pupil.
///
/// As a plain join the planner may instead read every registration of the day (or,
/// through the index on pupil and date, of the whole municipality) and filter: it
/// estimates "registrations on today's date" from statistics gathered before today's
/// registers were taken, finds none, and picks the scan. Every school morning starts
/// like that, and the table grows by a row per pupil and lesson every school day.
/// `LIMIT 1` (the unique key allows one row at most anyway) keeps the subquery from
/// being merged into the join. The tenant is `$1`, as in every statement.
fn saved_registration(lesson: &str, pupil: &str, day: &str) -> String {
    format!(
        "SELECT reg.status, reg.minutes_late FROM absence_registrations reg \
         WHERE reg.tenant_id = $1 AND reg.lesson_id = {lesson} AND reg.pupil_id = {pupil} AND reg.date = {day} LIMIT 1"
    )
}

/// A guardian's report (`alias`) covers the day `day` (an SQL expression).
fn report_covers(alias: &str, day: &str) -> String {
    format!("{alias}.first_day <= {day} AND {alias}.last_day >= {day}")
}

/// A membership `m` that holds on `$2` (`$1` is the tenant).
const MEMBER_ON_DATE: &str = "m.from_date <= $2 AND (m.to_date IS NULL OR m.to_date > $2)";
