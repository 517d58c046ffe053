//! The SQL of the diploma (vitnemål).

use time::Date;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// The pupil and the school as the diploma names them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DiplomaHead {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Option<Date>,
    pub grade_level: i16,
    pub school_name: String,
    pub org_number: String,
    pub year_name: String,
    pub year_ends: Date,
}

pub async fn head(mut conn: Conn<'_>, pupil: Uuid, school: Uuid) -> Result<Option<DiplomaHead>> {
    Ok(sqlx::query_as(
        "SELECT pe.given_name, pe.family_name, pe.birth_date, e.grade_level, sc.name AS school_name, \
           sc.org_number::text AS org_number, y.name AS year_name, y.ends AS year_ends \
         FROM persons pe \
         JOIN enrolments e ON e.tenant_id = pe.tenant_id AND e.pupil_id = pe.id AND e.school_id = $3 \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         JOIN schools sc ON sc.tenant_id = e.tenant_id AND sc.id = e.school_id \
         JOIN school_years y ON y.tenant_id = pe.tenant_id AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         WHERE pe.tenant_id = $1 AND e.tenant_id = $1 AND sc.tenant_id = $1 AND y.tenant_id = $1 AND pe.id = $2 \
         ORDER BY e.from_date DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A subject line: the final and exam grades of the current school year (the exam grade
/// from PAS's results, else one entered at the school), and the
/// exemption that applies on the year's last day (the subject note).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DiplomaLine {
    pub subject_code: String,
    pub subject_nb: String,
    pub subject_en: String,
    pub final_grade: Option<String>,
    pub exam_grade: Option<String>,
    pub exemption: Option<String>,
}

/// Every subject with a final or exam grade this year, or an exemption, sorted by the
/// directorate's code (the guideline's order).
pub async fn lines(mut conn: Conn<'_>, pupil: Uuid, school: Uuid, year_ends: Date) -> Result<Vec<DiplomaLine>> {
    Ok(sqlx::query_as(
        "WITH year_grades AS ( \
           SELECT g.subject_id, p.kind, g.value, 1 AS rank FROM grades g \
           JOIN assessment_periods p ON p.tenant_id = g.tenant_id AND p.id = g.period_id \
           JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
           WHERE g.tenant_id = $1 AND p.tenant_id = $1 AND y.tenant_id = $1 AND g.pupil_id = $2 \
             AND p.school_id = $3 AND p.kind IN ('final', 'exam') \
             AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
           UNION ALL \
           SELECT c.subject_id, 'exam', c.grade::text, 0 FROM exam_candidates c \
           JOIN school_years y ON y.tenant_id = c.tenant_id AND y.id = c.school_year_id \
           WHERE c.tenant_id = $1 AND y.tenant_id = $1 AND c.pupil_id = $2 AND c.school_id = $3 \
             AND c.grade IS NOT NULL AND y.starts <= tavle_today() AND y.ends >= tavle_today()), \
         notes AS ( \
           SELECT DISTINCT ON (x.subject_id) x.subject_id, x.kind FROM assessment_exemptions x \
           WHERE x.tenant_id = $1 AND x.pupil_id = $2 AND x.from_date <= $4 AND (x.to_date IS NULL OR x.to_date >= $4) \
           ORDER BY x.subject_id, x.kind DESC), \
         subjects_on AS ( \
           SELECT subject_id FROM year_grades UNION SELECT subject_id FROM notes) \
         SELECT coalesce(su.grep_code, su.code) AS subject_code, su.name_nb AS subject_nb, su.name_en AS subject_en, \
           (SELECT yg.value FROM year_grades yg WHERE yg.subject_id = s.subject_id AND yg.kind = 'final') AS final_grade, \
           (SELECT yg.value FROM year_grades yg WHERE yg.subject_id = s.subject_id AND yg.kind = 'exam' \
            ORDER BY yg.rank LIMIT 1) AS exam_grade, \
           (SELECT n.kind FROM notes n WHERE n.subject_id = s.subject_id) AS exemption \
         FROM subjects_on s JOIN subjects su ON su.tenant_id = $1 AND su.id = s.subject_id \
         ORDER BY coalesce(su.grep_code, su.code)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(year_ends)
    .fetch_all(&mut *conn)
    .await?)
}

/// Order and conduct of the final assessment this year.
pub async fn final_conduct(mut conn: Conn<'_>, pupil: Uuid, school: Uuid) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT c.aspect, c.value FROM conduct_grades c \
         JOIN assessment_periods p ON p.tenant_id = c.tenant_id AND p.id = c.period_id AND p.kind = 'final' \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         WHERE c.tenant_id = $1 AND p.tenant_id = $1 AND y.tenant_id = $1 AND c.pupil_id = $2 AND p.school_id = $3 \
           AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         ORDER BY c.aspect DESC",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}

/// The school years the pupil was in grades 8-10 (any school of the municipality), up
/// to the current one, newest first: the dates each began and ended.
pub async fn lower_secondary_years(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<Date>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT y.starts FROM school_years y \
         JOIN enrolments e ON e.tenant_id = y.tenant_id AND e.pupil_id = $2 AND e.grade_level BETWEEN 8 AND 10 \
              AND e.from_date <= y.ends AND (e.to_date IS NULL OR e.to_date > y.starts) \
         WHERE y.tenant_id = $1 AND e.tenant_id = $1 AND y.starts <= tavle_today() \
         ORDER BY y.starts DESC LIMIT 3",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// The municipality's rule: do late arrivals count toward the diploma's hours?
pub async fn late_counts(mut conn: Conn<'_>, year: &str) -> Result<bool> {
    let v: Option<bool> = sqlx::query_scalar(
        "SELECT late_counts_on_diploma FROM absence_rule_parameters \
         WHERE tenant_id = $1 AND school_year <= $2 AND school_type = 'lower_secondary' \
         ORDER BY school_year DESC LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(year)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(v.unwrap_or(true))
}

/// A grade-10 pupil of a school, for the list of diplomas.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GradeTenRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub class_name: Option<String>,
}

/// The school's pupils in grade 10 now, by class and name.
pub async fn grade_ten(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<GradeTenRow>> {
    Ok(sqlx::query_as(
        "SELECT pe.id, pe.given_name, pe.family_name, \
           (SELECT b.name FROM group_memberships m JOIN groups b ON b.tenant_id = m.tenant_id AND b.id = m.group_id \
            WHERE m.tenant_id = $1 AND b.tenant_id = $1 AND m.pupil_id = pe.id AND b.kind = 'base' AND b.school_id = $2 \
              AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
            ORDER BY b.name LIMIT 1) AS class_name \
         FROM enrolments e JOIN persons pe ON pe.tenant_id = e.tenant_id AND pe.id = e.pupil_id \
         WHERE e.tenant_id = $1 AND pe.tenant_id = $1 AND e.school_id = $2 AND e.grade_level = 10 \
           AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         ORDER BY 4 NULLS LAST, pe.family_name, pe.given_name, pe.id",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}
