//! The school's absence statistics, set-based: one query over the whole school year.
//!
//! The denominator is computed from the timetable, not from stored "present" rows (a
//! school need not store them): the lessons held are the lessons of each pupil's
//! groups at the school on the days of the year it is held (its weekday within a
//! term, not a day off of the calendar, within the lesson's validity and the pupil's
//! membership of the group). A registration counts where it matches such a
//! lesson; one for a lesson that the timetable no longer holds that day is left out.
//! A whole day absent is a pupil's school day on which every lesson held was absent.
//!
//! Each lesson's days are generated from its own weekday (a series per lesson, not a
//! calendar joined on the weekday), which also gives the planner row estimates of
//! the right size, so it hash-joins the memberships and registrations: about 1-2 s for
//! the demo's largest school over a whole year on a busy two-core machine (EXPLAIN
//! ANALYZE, 240,000 pupil-lessons), and no query per pupil.

use crate::db::Conn;
use time::Date;
use uuid::Uuid;

use crate::error::Result;

/// The school year the statistics cover (its teaching period as `starts` and `ends`).
pub use super::review::YearRow;

/// The school year running on `today`, or else the latest one begun before it, with its
/// teaching period (first to last day of its terms; the year itself runs from 1 August
/// to 31 July) as `starts` and `ends`, so the chart starts with the first school week.
pub async fn school_year(mut conn: Conn<'_>, today: Date) -> Result<Option<YearRow>> {
    Ok(sqlx::query_as(
        "SELECT y.id, y.name, \
                coalesce((SELECT min(t.starts) FROM terms t WHERE t.tenant_id = $1 AND t.school_year_id = y.id), \
                         y.starts) AS starts, \
                coalesce((SELECT max(t.ends) FROM terms t WHERE t.tenant_id = $1 AND t.school_year_id = y.id), \
                         y.ends) AS ends \
         FROM school_years y WHERE y.tenant_id = $1 AND y.starts <= $2 \
         ORDER BY (y.ends >= $2) DESC, y.starts DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(today)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The school's name.
pub async fn school_name(mut conn: Conn<'_>, school: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM schools WHERE tenant_id = $1 AND id = $2")
        .bind(conn.tenant)
        .bind(school)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The schools' names, by name.
pub async fn school_names(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    Ok(sqlx::query_as("SELECT id, name FROM schools WHERE tenant_id = $1 AND id = ANY($2) ORDER BY name")
        .bind(conn.tenant)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?)
}

/// How the figures are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Week,
    Month,
}

impl Period {
    pub fn code(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "" | "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }
}

/// A class's figures for a week or month (the first day of it: a Monday, or the 1st).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClassPeriodRow {
    pub class_id: Uuid,
    pub class_name: String,
    pub grade_level: Option<i16>,
    pub period: Date,
    pub held: i64,
    pub absent: i64,
    pub late: i64,
    pub whole_days: i64,
}

/// Per class of `school` and week (or month) of the school year, up to and including
/// `until`: lessons held, absent lessons, late lessons, whole days absent.
pub async fn per_class(
    mut conn: Conn<'_>,
    school: Uuid,
    year: Uuid,
    until: Date,
    period: Period,
) -> Result<Vec<ClassPeriodRow>> {
    Ok(sqlx::query_as(
        "WITH held AS ( \
             SELECT l.tenant_id, l.id AS lesson_id, l.group_id, d::date AS day \
             FROM groups g \
             JOIN lessons l ON l.tenant_id = g.tenant_id AND l.group_id = g.id \
             JOIN terms t ON t.tenant_id = g.tenant_id AND t.school_year_id = g.school_year_id \
             CROSS JOIN LATERAL (SELECT greatest(t.starts, l.valid_from) AS first, \
                                        least(t.ends, $4, l.valid_to - 1) AS last) span \
             CROSS JOIN LATERAL generate_series( \
                 span.first + (l.weekday - extract(isodow FROM span.first)::int + 7) % 7, span.last, \
                 interval '7 days') d \
             WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.school_year_id = $3 AND g.kind <> 'sfo' \
               AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = $1 \
                   AND b.school_year_id = $3 AND (b.school_id IS NULL OR b.school_id = $2) \
                   AND d::date BETWEEN b.first_day AND b.last_day) \
         ), classes AS ( \
             SELECT c.tenant_id, c.id, c.name, c.grade_level FROM groups c \
             WHERE c.tenant_id = $1 AND c.school_id = $2 AND c.school_year_id = $3 AND c.kind = 'base' \
         ), pupil_days AS ( \
             SELECT cm.group_id AS class_id, m.pupil_id, h.day, count(*) AS held, \
                    count(r.id) FILTER (WHERE r.status = 'absent') AS absent, \
                    count(r.id) FILTER (WHERE r.status = 'late') AS late \
             FROM held h \
             JOIN group_memberships m ON m.tenant_id = $1 AND m.group_id = h.group_id \
                  AND m.from_date <= h.day AND (m.to_date IS NULL OR m.to_date > h.day) \
             JOIN group_memberships cm ON cm.tenant_id = $1 AND cm.pupil_id = m.pupil_id \
                  AND cm.from_date <= h.day AND (cm.to_date IS NULL OR cm.to_date > h.day) \
                  AND cm.group_id IN (SELECT id FROM classes) \
             LEFT JOIN absence_registrations r ON r.tenant_id = $1 AND r.lesson_id = h.lesson_id \
                  AND r.pupil_id = m.pupil_id AND r.date = h.day \
             GROUP BY cm.group_id, m.pupil_id, h.day \
         ) \
         SELECT c.id AS class_id, c.name AS class_name, c.grade_level, \
                date_trunc($5, pd.day::timestamp)::date AS period, \
                sum(pd.held)::bigint AS held, sum(pd.absent)::bigint AS absent, sum(pd.late)::bigint AS late, \
                count(*) FILTER (WHERE pd.absent = pd.held)::bigint AS whole_days \
         FROM pupil_days pd JOIN classes c ON c.id = pd.class_id \
         GROUP BY 1, 2, 3, 4 \
         ORDER BY c.grade_level NULLS LAST, c.name, period",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .bind(until)
    .bind(period.code())
    .fetch_all(&mut *conn)
    .await?)
}
