//! The SQL of exams through PAS: the pupils a school has drawn for the exams of a
//! school year, their registration, and what PAS sent back.

use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// A drawn candidate as the office's page lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub subject_id: Uuid,
    pub subject_code: String,
    pub subject_nb: String,
    pub subject_en: String,
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub group_name: String,
    pub written_form: Option<String>,
    pub candidate_number: Option<String>,
    pub participation: Option<String>,
    pub grade: Option<i16>,
}

/// Every candidate the school has drawn in the year, by subject code, group and name.
pub async fn candidates(mut conn: Conn<'_>, school: Uuid, year: Uuid) -> Result<Vec<CandidateRow>> {
    Ok(sqlx::query_as(
        "SELECT c.subject_id, coalesce(su.grep_code, su.code) AS subject_code, su.name_nb AS subject_nb, \
           su.name_en AS subject_en, c.pupil_id, pe.given_name, pe.family_name, c.group_name, pu.written_form, \
           c.candidate_number, c.participation, c.grade \
         FROM exam_candidates c \
         JOIN subjects su ON su.tenant_id = c.tenant_id AND su.id = c.subject_id \
         JOIN persons pe ON pe.tenant_id = c.tenant_id AND pe.id = c.pupil_id \
         JOIN pupils pu ON pu.tenant_id = c.tenant_id AND pu.person_id = c.pupil_id \
         WHERE c.tenant_id = $1 AND su.tenant_id = $1 AND pe.tenant_id = $1 AND pu.tenant_id = $1 \
           AND c.school_id = $2 AND c.school_year_id = $3 \
         ORDER BY 2, c.group_name, pe.family_name, pe.given_name, c.pupil_id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?)
}

/// A subject a pupil may be drawn in: one with a Grep code that has not expired.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExamSubject {
    pub id: Uuid,
    pub code: String,
    pub name_nb: String,
    pub name_en: String,
}

pub async fn subjects(mut conn: Conn<'_>) -> Result<Vec<ExamSubject>> {
    Ok(sqlx::query_as(
        "SELECT su.id, su.grep_code AS code, su.name_nb, su.name_en FROM subjects su \
         WHERE su.tenant_id = $1 AND su.grep_code IS NOT NULL AND (su.valid_to IS NULL OR su.valid_to >= tavle_today()) \
         ORDER BY su.grep_code",
    )
    .bind(conn.tenant)
    .fetch_all(&mut *conn)
    .await?)
}

/// The school's groups of the year with pupils in grade 10 today: (id, name, pupils).
pub async fn groups(mut conn: Conn<'_>, school: Uuid, year: Uuid) -> Result<Vec<(Uuid, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, count(*) FROM groups g \
         JOIN group_memberships m ON m.tenant_id = g.tenant_id AND m.group_id = g.id \
              AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
         JOIN enrolments e ON e.tenant_id = m.tenant_id AND e.pupil_id = m.pupil_id AND e.school_id = g.school_id \
              AND e.grade_level = 10 AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         WHERE g.tenant_id = $1 AND m.tenant_id = $1 AND e.tenant_id = $1 AND g.school_id = $2 \
           AND g.school_year_id = $3 AND g.kind IN ('base', 'teaching') \
         GROUP BY g.id, g.name ORDER BY g.name, g.id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?)
}

/// Draw the group's grade-10 pupils for an exam in the subject, as a candidate group
/// named after the group. Pupils drawn in the subject already stay as they are. The
/// pupils drawn now.
pub async fn draw(
    mut conn: Conn<'_>,
    school: Uuid,
    year: Uuid,
    subject: Uuid,
    group: Uuid,
    by: Uuid,
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO exam_candidates (tenant_id, school_year_id, subject_id, pupil_id, school_id, group_name, drawn_by) \
         SELECT $1, $3, su.id, m.pupil_id, $2, g.name, $6 FROM groups g \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = $4 AND su.grep_code IS NOT NULL \
         JOIN group_memberships m ON m.tenant_id = g.tenant_id AND m.group_id = g.id \
              AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
         JOIN enrolments e ON e.tenant_id = m.tenant_id AND e.pupil_id = m.pupil_id AND e.school_id = g.school_id \
              AND e.grade_level = 10 AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         WHERE g.tenant_id = $1 AND su.tenant_id = $1 AND m.tenant_id = $1 AND e.tenant_id = $1 \
           AND g.id = $5 AND g.school_id = $2 AND g.school_year_id = $3 \
         ORDER BY m.pupil_id \
         ON CONFLICT (tenant_id, school_year_id, subject_id, pupil_id) DO NOTHING \
         RETURNING pupil_id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .bind(subject)
    .bind(group)
    .bind(by)
    .fetch_all(&mut *conn)
    .await?)
}

/// Withdraw a drawn pupil who has no result yet. Whether there was one to withdraw.
pub async fn withdraw(mut conn: Conn<'_>, school: Uuid, year: Uuid, subject: Uuid, pupil: Uuid) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM exam_candidates c WHERE c.tenant_id = $1 AND c.school_id = $2 AND c.school_year_id = $3 \
           AND c.subject_id = $4 AND c.pupil_id = $5 AND c.participation IS NULL",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .bind(subject)
    .bind(pupil)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Record the written form of a pupil the school has drawn this year. Whether it
/// changed; None if the pupil is not a candidate of the school.
pub async fn set_written_form(
    mut conn: Conn<'_>,
    school: Uuid,
    year: Uuid,
    pupil: Uuid,
    form: &str,
) -> Result<Option<bool>> {
    let drawn: Option<Option<String>> = sqlx::query_scalar(
        "SELECT pu.written_form FROM pupils pu WHERE pu.tenant_id = $1 AND pu.person_id = $4 \
           AND EXISTS (SELECT 1 FROM exam_candidates c WHERE c.tenant_id = $1 AND c.pupil_id = $4 \
                       AND c.school_id = $2 AND c.school_year_id = $3) \
         FOR UPDATE OF pu",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(current) = drawn else { return Ok(None) };
    if current.as_deref() == Some(form) {
        return Ok(Some(false));
    }
    sqlx::query("UPDATE pupils SET written_form = $3 WHERE tenant_id = $1 AND person_id = $2")
        .bind(conn.tenant)
        .bind(pupil)
        .bind(form)
        .execute(&mut *conn)
        .await?;
    Ok(Some(true))
}

/// A candidate as the registration file names them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRow {
    pub pupil_id: Uuid,
    pub subject_id: Uuid,
    pub subject_code: Option<String>,
    pub group_name: String,
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub written_form: Option<String>,
}

/// Every candidate of the school's year, grouped as the file groups them.
pub async fn registration(mut conn: Conn<'_>, school: Uuid, year: Uuid) -> Result<Vec<RegistrationRow>> {
    Ok(sqlx::query_as(
        "SELECT c.pupil_id, c.subject_id, su.grep_code AS subject_code, c.group_name, pe.national_id, pe.given_name, \
           pe.family_name, pu.written_form \
         FROM exam_candidates c \
         JOIN subjects su ON su.tenant_id = c.tenant_id AND su.id = c.subject_id \
         JOIN persons pe ON pe.tenant_id = c.tenant_id AND pe.id = c.pupil_id \
         JOIN pupils pu ON pu.tenant_id = c.tenant_id AND pu.person_id = c.pupil_id \
         WHERE c.tenant_id = $1 AND su.tenant_id = $1 AND pe.tenant_id = $1 AND pu.tenant_id = $1 \
           AND c.school_id = $2 AND c.school_year_id = $3 \
         ORDER BY su.grep_code, c.group_name, pe.family_name, pe.given_name, c.pupil_id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?)
}

/// The school's organisation number.
pub async fn org_number(mut conn: Conn<'_>, school: Uuid) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT s.org_number::text FROM schools s WHERE s.tenant_id = $1 AND s.id = $2")
        .bind(conn.tenant)
        .bind(school)
        .fetch_one(&mut *conn)
        .await?)
}
