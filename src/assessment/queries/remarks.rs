//! The SQL of remarks (anmerkninger).

use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::web::i18n::Lang;

/// A remark as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RemarkRow {
    pub id: Uuid,
    pub category: String,
    pub day: Date,
    pub starts: Option<Time>,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
    pub note: Option<String>,
    pub recorded_by: Uuid,
    pub by_given: String,
    pub by_family: String,
    pub withdrawn_at: Option<OffsetDateTime>,
}

impl RemarkRow {
    pub fn subject(&self, lang: Lang) -> Option<String> {
        match lang {
            Lang::En => self.subject_en.clone(),
            _ => self.subject_nb.clone(),
        }
    }
}

/// The pupil's remarks of the current and the previous school year, newest first; with
/// the withdrawn ones for the school only.
pub async fn pupil_remarks(mut conn: Conn<'_>, pupil: Uuid, with_withdrawn: bool) -> Result<Vec<RemarkRow>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.category, r.day, l.starts, su.name_nb AS subject_nb, su.name_en AS subject_en, r.note, \
           r.recorded_by, pe.given_name AS by_given, pe.family_name AS by_family, r.withdrawn_at \
         FROM remarks r \
         JOIN persons pe ON pe.tenant_id = r.tenant_id AND pe.id = r.recorded_by \
         LEFT JOIN lessons l ON l.tenant_id = $1 AND l.id = r.lesson_id \
         LEFT JOIN subjects su ON su.tenant_id = $1 AND su.id = l.subject_id \
         WHERE r.tenant_id = $1 AND pe.tenant_id = $1 AND r.pupil_id = $2 \
           AND r.day >= tavle_today() - 400 AND ($3 OR r.withdrawn_at IS NULL) \
         ORDER BY r.day DESC, r.recorded_at DESC",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(with_withdrawn)
    .fetch_all(&mut *conn)
    .await?)
}

/// A lesson of the pupil's week, to say which lesson a remark was given in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LessonOption {
    pub id: Uuid,
    pub weekday: i16,
    pub starts: Time,
    pub ends: Time,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
}

/// The lessons of the pupil's current groups that are valid today, in the week's order.
pub async fn pupil_lessons(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<LessonOption>> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.weekday, l.starts, l.ends, su.name_nb AS subject_nb, su.name_en AS subject_en \
         FROM group_memberships m \
         JOIN lessons l ON l.tenant_id = m.tenant_id AND l.group_id = m.group_id \
         LEFT JOIN subjects su ON su.tenant_id = $1 AND su.id = l.subject_id \
         WHERE m.tenant_id = $1 AND l.tenant_id = $1 AND m.pupil_id = $2 \
           AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
           AND l.valid_from <= tavle_today() AND (l.valid_to IS NULL OR l.valid_to > tavle_today()) \
         ORDER BY l.weekday, l.starts, l.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

#[expect(clippy::too_many_arguments, reason = "one remark's fields")]
pub async fn create(
    mut conn: Conn<'_>,
    pupil: Uuid,
    school: Uuid,
    category: &str,
    day: Date,
    lesson: Option<Uuid>,
    note: Option<&str>,
    by: Uuid,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO remarks (tenant_id, pupil_id, school_id, category, day, lesson_id, note, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(category)
    .bind(day)
    .bind(lesson)
    .bind(note)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?)
}

/// Withdraw a remark of the pupil (by the one who gave it, or any when `any` is set).
/// False when there was none to withdraw.
pub async fn withdraw(mut conn: Conn<'_>, pupil: Uuid, id: Uuid, by: Uuid, any: bool) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE remarks SET withdrawn_by = $4, withdrawn_at = now() \
         WHERE tenant_id = $1 AND pupil_id = $2 AND id = $3 AND withdrawn_at IS NULL AND ($5 OR recorded_by = $4)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(id)
    .bind(by)
    .bind(any)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
