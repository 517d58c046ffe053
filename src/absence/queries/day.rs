//! Queries of the day register and of a school's registration mode. Each takes the
//! request's tenant-bound connection; whether the actor may ask was decided by
//! `policy` beforehand.

use crate::db::Conn;
use time::Date;
use uuid::Uuid;

use super::HELD_ON_DATE;
use crate::error::Result;
use crate::policy::{self, AbsenceRegisterScope, Actor};

/// How a school takes the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Lesson,
    Day,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Lesson, Mode::Day];

    pub fn code(self) -> &'static str {
        match self {
            Mode::Lesson => "lesson",
            Mode::Day => "day",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Mode::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Mode::Lesson => "absence.mode.lesson",
            Mode::Day => "absence.mode.day",
        }
    }
}

/// The school's registration mode; per lesson unless the school chose otherwise.
pub async fn mode(mut conn: Conn<'_>, school: Uuid) -> Result<Mode> {
    let code: Option<String> = sqlx::query_scalar(
        "SELECT registration_mode FROM absence_school_settings WHERE tenant_id = $1 AND school_id = $2",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(code.as_deref().and_then(Mode::from_code).unwrap_or(Mode::Lesson))
}

pub async fn set_mode(mut conn: Conn<'_>, school: Uuid, mode: Mode, by: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO absence_school_settings (tenant_id, school_id, registration_mode, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, now()) \
         ON CONFLICT (tenant_id, school_id) DO UPDATE \
            SET registration_mode = EXCLUDED.registration_mode, updated_by = EXCLUDED.updated_by, \
                updated_at = EXCLUDED.updated_at \
          WHERE absence_school_settings.registration_mode IS DISTINCT FROM EXCLUDED.registration_mode",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(mode.code())
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A class whose day register the register's day page links to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayClassRow {
    pub id: Uuid,
    pub name: String,
    pub school_name: String,
    /// Pupils of the class with anything saved for the day.
    pub registered: i64,
    pub pupils: i64,
}

/// The classes of those of `schools` that register per day, in the school year of
/// `date`.
pub async fn day_classes(mut conn: Conn<'_>, schools: &[Uuid], date: Date) -> Result<Vec<DayClassRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, s.name AS school_name, \
                (SELECT count(DISTINCT r.pupil_id) FROM group_memberships m \
                   JOIN absence_registrations r ON r.tenant_id = m.tenant_id AND r.pupil_id = m.pupil_id AND r.date = $3 \
                  WHERE m.tenant_id = $1 AND m.group_id = g.id AND m.from_date <= $3 \
                    AND (m.to_date IS NULL OR m.to_date > $3)) AS registered, \
                (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = g.id \
                   AND m.from_date <= $3 AND (m.to_date IS NULL OR m.to_date > $3)) AS pupils \
         FROM groups g \
         JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         JOIN absence_school_settings st ON st.tenant_id = g.tenant_id AND st.school_id = g.school_id \
              AND st.registration_mode = 'day' \
         JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id AND $3 BETWEEN y.starts AND y.ends \
         WHERE g.tenant_id = $1 AND g.kind = 'base' AND g.school_id = ANY($2) \
         ORDER BY s.name, g.grade_level NULLS LAST, g.name",
    )
    .bind(conn.tenant)
    .bind(schools)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?)
}

/// A school the actor reads the statistics of, and may perhaps set the mode of.
#[derive(Debug, Clone)]
pub struct OfficeSchool {
    pub id: Uuid,
    pub name: String,
    pub may_edit_settings: bool,
}

/// What the register's day page offers besides the lessons: the day registers of
/// classes at schools that register per day, and the office's own pages.
#[derive(Debug, Clone, Default)]
pub struct OfficeLinks {
    pub classes: Vec<DayClassRow>,
    pub schools: Vec<OfficeSchool>,
}

pub async fn office_links(
    mut conn: Conn<'_>,
    actor: &Actor,
    scope: &AbsenceRegisterScope,
    date: Option<Date>,
) -> Result<OfficeLinks> {
    let classes = match date {
        Some(d) => day_classes(conn.re(), &scope.schools(), d).await?,
        None => Vec::new(),
    };
    let ids = actor.absence_statistics_schools();
    let named: Vec<(Uuid, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as("SELECT id, name FROM schools WHERE tenant_id = $1 AND id = ANY($2) ORDER BY name")
            .bind(conn.tenant)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?
    };
    let schools = named
        .into_iter()
        .map(|(id, name)| OfficeSchool {
            may_edit_settings: policy::absence_settings_editor(actor, id).is_ok(),
            id,
            name,
        })
        .collect();
    Ok(OfficeLinks { classes, schools })
}

/// The class with its school and school year.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassRow {
    pub id: Uuid,
    pub name: String,
    pub school_id: Uuid,
    pub school_name: String,
    pub year_starts: Date,
    pub year_ends: Date,
}

pub async fn class(mut conn: Conn<'_>, class: Uuid) -> Result<Option<ClassRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.school_id, s.name AS school_name, y.starts AS year_starts, y.ends AS year_ends \
         FROM groups g JOIN schools s ON s.tenant_id = g.tenant_id AND s.id = g.school_id \
         JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE g.tenant_id = $1 AND g.id = $2 AND g.kind = 'base'",
    )
    .bind(conn.tenant)
    .bind(class)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Is `date` a day off for the class: a weekend, outside the terms, or a break of the
/// municipality or of the class's school?
pub async fn is_day_off(mut conn: Conn<'_>, class: Uuid, date: Date) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT extract(isodow FROM $2::date) > 5 \
             OR NOT EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = $1 \
                  AND t.school_year_id = g.school_year_id AND $2 BETWEEN t.starts AND t.ends) \
             OR EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = $1 \
                  AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
                  AND $2 BETWEEN b.first_day AND b.last_day) \
         FROM groups g WHERE g.tenant_id = $1 AND g.id = $3",
    )
    .bind(conn.tenant)
    .bind(date)
    .bind(class)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(true))
}

/// A pupil of the class on the day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayMemberRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
}

pub async fn members(mut conn: Conn<'_>, class: Uuid, date: Date) -> Result<Vec<DayMemberRow>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name FROM group_memberships m \
         JOIN persons p ON p.tenant_id = m.tenant_id AND p.id = m.pupil_id \
         WHERE m.tenant_id = $1 AND m.group_id = $3 AND m.from_date <= $2 AND (m.to_date IS NULL OR m.to_date > $2) \
         ORDER BY p.family_name, p.given_name, p.id",
    )
    .bind(conn.tenant)
    .bind(date)
    .bind(class)
    .fetch_all(&mut *conn)
    .await?)
}

/// A lesson a pupil of the class has on the day, with what is saved for it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilLessonRow {
    pub pupil_id: Uuid,
    pub lesson_id: Uuid,
    pub status: Option<String>,
    pub minutes_late: Option<i16>,
}

/// Every lesson each pupil of the class has on `date`: the lessons of all the pupil's
/// groups at the class's school (the class itself, teaching groups) held that day, in
/// the order of the day, with the saved status of each.
pub async fn pupil_lessons(mut conn: Conn<'_>, class: Uuid, date: Date) -> Result<Vec<PupilLessonRow>> {
    let sql = format!(
        "SELECT cm.pupil_id, l.id AS lesson_id, r.status, r.minutes_late \
         FROM group_memberships cm \
         JOIN groups c ON c.tenant_id = cm.tenant_id AND c.id = cm.group_id \
         JOIN group_memberships m ON m.tenant_id = cm.tenant_id AND m.pupil_id = cm.pupil_id \
              AND m.from_date <= $2 AND (m.to_date IS NULL OR m.to_date > $2) \
         JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.school_id = c.school_id \
              AND g.kind <> 'sfo' \
         JOIN lessons l ON l.tenant_id = g.tenant_id AND l.group_id = g.id \
         LEFT JOIN LATERAL ({saved}) r ON true \
         WHERE cm.tenant_id = $1 AND cm.group_id = $3 AND cm.from_date <= $2 \
           AND (cm.to_date IS NULL OR cm.to_date > $2) AND {HELD_ON_DATE} \
         ORDER BY cm.pupil_id, l.starts, l.id",
        saved = super::saved_registration("l.id", "cm.pupil_id", "$2"),
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(date).bind(class).fetch_all(&mut *conn).await?)
}

/// One registration row to save.
#[derive(Debug, Clone, Copy)]
pub struct DayEntry {
    pub lesson_id: Uuid,
    pub pupil_id: Uuid,
    pub status: &'static str,
    pub minutes_late: Option<i16>,
}

/// Save the day's rows in one statement, upserting by (lesson, pupil, date) exactly
/// as the lesson register does: saving again changes nothing, and a row whose status
/// is unchanged keeps who registered it and when. Returns the rows inserted or changed.
pub async fn save_day(mut conn: Conn<'_>, date: Date, by: Uuid, source: &str, entries: &[DayEntry]) -> Result<u64> {
    let lessons: Vec<Uuid> = entries.iter().map(|e| e.lesson_id).collect();
    let pupils: Vec<Uuid> = entries.iter().map(|e| e.pupil_id).collect();
    let statuses: Vec<&str> = entries.iter().map(|e| e.status).collect();
    let minutes: Vec<Option<i16>> = entries.iter().map(|e| e.minutes_late).collect();
    Ok(sqlx::query(
        "INSERT INTO absence_registrations (tenant_id, lesson_id, pupil_id, date, status, minutes_late, \
             registered_by, source, registered_at) \
         SELECT $1, e.lesson_id, e.pupil_id, $6, e.status, e.minutes_late, $7, $8, now() \
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::smallint[]) AS e (lesson_id, pupil_id, status, minutes_late) \
         ON CONFLICT (tenant_id, lesson_id, pupil_id, date) DO UPDATE \
            SET status = EXCLUDED.status, minutes_late = EXCLUDED.minutes_late, \
                registered_by = EXCLUDED.registered_by, registered_at = EXCLUDED.registered_at, \
                source = EXCLUDED.source \
          WHERE (absence_registrations.status, absence_registrations.minutes_late) \
                IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late)",
    )
    .bind(conn.tenant)
    .bind(&lessons)
    .bind(&pupils)
    .bind(&statuses)
    .bind(&minutes)
    .bind(date)
    .bind(by)
    .bind(source)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
