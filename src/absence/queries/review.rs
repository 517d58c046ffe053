//! Queries for review and totals: the pupil's school year, school type and rule
//! parameters, the lessons of the year from the timetable with the register's marks,
//! and the reviews. Whether the actor may ask was decided by `policy` beforehand.

use std::collections::BTreeMap;

use crate::db::Conn;
use time::{Date, Time};
use uuid::Uuid;

use super::name_column;
use crate::absence::totals::{CodeFlags, Lesson, Mark, Params, Review, SchoolType};
use crate::error::Result;
use crate::web::i18n::Lang;

/// The school year that `date` falls in, by its terms (from the first term's start to
/// the last term's end); in the summer, the year that ended last.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct YearRow {
    pub id: Uuid,
    pub name: String,
    pub starts: Date,
    pub ends: Date,
}

pub async fn school_year(mut conn: Conn<'_>, date: Date) -> Result<Option<YearRow>> {
    Ok(sqlx::query_as(
        "SELECT y.id, y.name, min(t.starts) AS starts, max(t.ends) AS ends FROM terms t \
         JOIN school_years y ON y.tenant_id = t.tenant_id AND y.id = t.school_year_id \
         WHERE t.tenant_id = $1 \
         GROUP BY y.id, y.name HAVING min(t.starts) <= $2 \
         ORDER BY (max(t.ends) >= $2) DESC, max(t.ends) DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The first and last day of the term (half-year) of `year` that `date` is in, or the
/// latest that has begun by then: the half-year whose grade is at stake.
pub async fn half_year(mut conn: Conn<'_>, year: &YearRow, date: Date) -> Result<Option<(Date, Date)>> {
    Ok(sqlx::query_as(
        "SELECT t.starts, t.ends FROM terms t WHERE t.tenant_id = $1 AND t.school_year_id = $2 AND t.starts <= $3 \
         ORDER BY t.starts DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(year.id)
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The pupil's name and grade level (from the enrolment on `date`, else the latest).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade_level: Option<i16>,
}

pub async fn pupil(mut conn: Conn<'_>, pupil: Uuid, date: Date) -> Result<Option<PupilRow>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name, \
                (SELECT e.grade_level FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = p.id \
                 ORDER BY (e.from_date <= $3 AND (e.to_date IS NULL OR e.to_date > $3)) DESC, e.from_date DESC \
                 LIMIT 1) AS grade_level \
         FROM persons p JOIN pupils u ON u.tenant_id = p.tenant_id AND u.person_id = p.id \
         WHERE p.tenant_id = $1 AND p.id = $2",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(date)
    .fetch_optional(&mut *conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct ParamsRow {
    max_deducted_days: i16,
    health_deduction_from_day: i16,
    warning_percent: f64,
    limit_percent: f64,
    discretion_percent: f64,
}

/// The rule parameters in force in a school year for a school type: the municipality's
/// row for that year, or else its latest row of an earlier year (the rules stay as they
/// were until the municipality sets new ones); `None` if it has none.
pub async fn params(mut conn: Conn<'_>, year: &str, school_type: SchoolType) -> Result<Option<Params>> {
    // `YYYY-YYYY` names sort as their years do.
    let row: Option<ParamsRow> = sqlx::query_as(
        "SELECT max_deducted_days, health_deduction_from_day, warning_percent::float8 AS warning_percent, \
                limit_percent::float8 AS limit_percent, discretion_percent::float8 AS discretion_percent \
         FROM absence_rule_parameters WHERE tenant_id = $1 AND school_year <= $2 AND school_type = $3 \
         ORDER BY school_year DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(year)
    .bind(school_type.code())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Params {
        max_deducted_days: u32::try_from(r.max_deducted_days).unwrap_or(0),
        health_deduction_from_day: u32::try_from(r.health_deduction_from_day).unwrap_or(1),
        warning_percent: r.warning_percent,
        limit_percent: r.limit_percent,
        discretion_percent: r.discretion_percent,
    }))
}

#[derive(sqlx::FromRow)]
struct LessonRow {
    date: Date,
    subject: String,
    minutes: i32,
    status: Option<String>,
    minutes_late: Option<i16>,
}

/// The pupil's lessons of the school year as the timetable holds them (the lessons of
/// their groups on the terms' days, within each lesson's validity and the pupil's
/// membership, minus the days off of the municipality and of the group's school), each
/// with the register's mark when absent or late.
pub async fn lessons(mut conn: Conn<'_>, pupil: Uuid, year: &YearRow, lang: Lang) -> Result<Vec<Lesson>> {
    let sql = format!(
        "SELECT d::date AS date, coalesce(sub.{name}, g.name) AS subject, \
                (extract(epoch FROM (l.ends - l.starts)) / 60)::int AS minutes, r.status, r.minutes_late \
         FROM group_memberships m \
         JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind <> 'sfo' \
         JOIN lessons l ON l.tenant_id = g.tenant_id AND l.group_id = g.id \
         JOIN terms t ON t.tenant_id = g.tenant_id AND t.school_year_id = g.school_year_id \
         CROSS JOIN LATERAL generate_series(greatest(t.starts, l.valid_from, m.from_date), \
              least(t.ends, coalesce(l.valid_to - 1, t.ends), coalesce(m.to_date - 1, t.ends)), \
              interval '1 day') d \
         LEFT JOIN subjects sub ON sub.tenant_id = l.tenant_id AND sub.id = l.subject_id \
         LEFT JOIN absence_registrations r ON r.tenant_id = l.tenant_id AND r.lesson_id = l.id \
              AND r.pupil_id = m.pupil_id AND r.date = d::date AND r.status <> 'present' \
         WHERE m.tenant_id = $1 AND m.pupil_id = $2 AND g.school_year_id = $3 AND extract(isodow FROM d) = l.weekday \
           AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = $1 \
                 AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
                 AND d::date BETWEEN b.first_day AND b.last_day) \
         ORDER BY 1, l.starts",
        name = name_column(lang)
    );
    let rows: Vec<LessonRow> =
        sqlx::query_as(&sql).bind(conn.tenant).bind(pupil).bind(year.id).fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| Lesson {
            date: r.date,
            subject: r.subject,
            minutes: u32::try_from(r.minutes).unwrap_or(0),
            mark: match (r.status.as_deref(), r.minutes_late) {
                (Some("absent"), _) => Some(Mark::Absent),
                (Some("late"), Some(m)) => Some(Mark::Late(u32::try_from(m).unwrap_or(0))),
                _ => None,
            },
        })
        .collect())
}

/// A review code of the tenant's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub code: String,
    pub name: String,
    pub documented: bool,
    pub deductible: bool,
    pub health: bool,
}

impl CodeRow {
    pub fn flags(&self) -> CodeFlags {
        CodeFlags { documented: self.documented, deductible: self.deductible, health: self.health }
    }
}

pub async fn codes(mut conn: Conn<'_>, lang: Lang) -> Result<Vec<CodeRow>> {
    let sql = format!(
        "SELECT code, {name} AS name, documented, deductible, health FROM absence_review_codes \
         WHERE tenant_id = $1 ORDER BY sort_order, code",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).fetch_all(&mut *conn).await?)
}

/// A saved review, with its code's name, for the review page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    pub date: Date,
    pub code: String,
    pub code_name: String,
    pub documented: bool,
    pub deductible: bool,
    pub health: bool,
    pub deducted: bool,
}

pub async fn reviews(mut conn: Conn<'_>, pupil: Uuid, year: &YearRow, lang: Lang) -> Result<Vec<ReviewRow>> {
    let sql = format!(
        "SELECT r.date, r.code, c.{name} AS code_name, c.documented, c.deductible, c.health, r.deducted \
         FROM absence_reviews r JOIN absence_review_codes c ON c.tenant_id = r.tenant_id AND c.code = r.code \
         WHERE r.tenant_id = $1 AND r.pupil_id = $2 AND r.date BETWEEN $3 AND $4 ORDER BY r.date",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql)
        .bind(conn.tenant)
        .bind(pupil)
        .bind(year.starts)
        .bind(year.ends)
        .fetch_all(&mut *conn)
        .await?)
}

pub fn review_map(rows: &[ReviewRow]) -> BTreeMap<Date, Review> {
    rows.iter()
        .map(|r| {
            let code = CodeFlags { documented: r.documented, deductible: r.deductible, health: r.health };
            (r.date, Review { code, deducted: r.deducted })
        })
        .collect()
}

/// One lesson of a day, for the review form.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayLessonRow {
    pub starts: Time,
    pub ends: Time,
    pub subject: String,
    pub status: String,
    pub minutes_late: Option<i16>,
}

/// The pupil's absent and late lessons on `date`.
pub async fn day_lessons(mut conn: Conn<'_>, pupil: Uuid, date: Date, lang: Lang) -> Result<Vec<DayLessonRow>> {
    let sql = format!(
        "SELECT l.starts, l.ends, coalesce(sub.{name}, g.name) AS subject, r.status, r.minutes_late \
         FROM absence_registrations r JOIN lessons l ON l.tenant_id = r.tenant_id AND l.id = r.lesson_id \
         JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
         LEFT JOIN subjects sub ON sub.tenant_id = l.tenant_id AND sub.id = l.subject_id \
         WHERE r.tenant_id = $1 AND r.pupil_id = $2 AND r.date = $3 AND r.status <> 'present' ORDER BY l.starts",
        name = name_column(lang)
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(pupil).bind(date).fetch_all(&mut *conn).await?)
}

/// Hold the pupil's row so that two reviewers cannot both pass the deduction count.
pub async fn lock_pupil(mut conn: Conn<'_>, pupil: Uuid) -> Result<()> {
    sqlx::query("SELECT 1 FROM pupils WHERE tenant_id = $1 AND person_id = $2 FOR NO KEY UPDATE")
        .bind(conn.tenant)
        .bind(pupil)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Save the day's review (one row per pupil and day). Returns whether anything changed.
pub async fn save_review(
    mut conn: Conn<'_>,
    pupil: Uuid,
    date: Date,
    code: &str,
    deducted: bool,
    by: Uuid,
    source: &str,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO absence_reviews (tenant_id, pupil_id, date, code, deducted, reviewed_by, source, reviewed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, now()) \
         ON CONFLICT (tenant_id, pupil_id, date) DO UPDATE \
            SET code = EXCLUDED.code, deducted = EXCLUDED.deducted, reviewed_by = EXCLUDED.reviewed_by, \
                reviewed_at = EXCLUDED.reviewed_at, source = EXCLUDED.source \
          WHERE (absence_reviews.code, absence_reviews.deducted) IS DISTINCT FROM (EXCLUDED.code, EXCLUDED.deducted)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(date)
    .bind(code)
    .bind(deducted)
    .bind(by)
    .bind(source)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// A class (base group) with its current pupils.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassRow {
    pub id: Uuid,
    pub name: String,
    pub school_name: String,
}

pub async fn class(mut conn: Conn<'_>, group: Uuid) -> Result<Option<ClassRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, s.name AS school_name FROM groups g \
         JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         WHERE g.tenant_id = $1 AND g.id = $2 AND g.kind = 'base'",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn classes(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<ClassRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, s.name AS school_name FROM groups g \
         JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         WHERE g.tenant_id = $1 AND g.id = ANY($2) ORDER BY s.name, g.grade_level, g.name",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// The class's pupils on `date`.
pub async fn class_pupils(mut conn: Conn<'_>, group: Uuid, date: Date) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT m.pupil_id FROM group_memberships m JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.pupil_id \
         WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.from_date <= $3 AND (m.to_date IS NULL OR m.to_date > $3) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?)
}
