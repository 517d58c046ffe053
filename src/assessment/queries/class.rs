//! The SQL of a class's assessment: order and conduct, and the written warnings.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{period_columns, PeriodRow, CURRENT_YEAR};
use crate::db::Conn;
use crate::error::Result;
use crate::web::i18n::Lang;

/// A class (base group).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassRow {
    pub id: Uuid,
    pub name: String,
    pub school_id: Uuid,
    pub school_name: String,
    pub school_year_id: Uuid,
    pub grade_level: i16,
}

pub async fn class(mut conn: Conn<'_>, id: Uuid) -> Result<Option<ClassRow>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.school_id, sc.name AS school_name, g.school_year_id, \
           coalesce(g.grade_level, 0::smallint) AS grade_level \
         FROM groups g JOIN schools sc ON sc.tenant_id = g.tenant_id AND sc.id = g.school_id \
         WHERE g.tenant_id = $1 AND sc.tenant_id = $1 AND g.id = $2 AND g.kind = 'base'",
    )
    .bind(conn.tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The current year's classes of grade 8 and up that the actor has conduct work in: every
/// class at the schools they lead, their own classes as contact teacher where they teach.
pub async fn classes_for(
    mut conn: Conn<'_>,
    person: Uuid,
    teacher_at: &[Uuid],
    leader_at: &[Uuid],
) -> Result<Vec<ClassRow>> {
    let sql = format!(
        "SELECT g.id, g.name, g.school_id, sc.name AS school_name, g.school_year_id, g.grade_level \
         FROM groups g JOIN schools sc ON sc.tenant_id = g.tenant_id AND sc.id = g.school_id \
         WHERE g.tenant_id = $1 AND sc.tenant_id = $1 AND g.kind = 'base' AND g.grade_level >= 8 \
           AND g.school_year_id = {CURRENT_YEAR} \
           AND (g.school_id = ANY($4) OR (g.school_id = ANY($3) AND EXISTS ( \
                SELECT 1 FROM group_staff s WHERE s.tenant_id = $1 AND s.group_id = g.id \
                  AND s.staff_id = $2 AND s.assignment = 'contact_teacher'))) \
         ORDER BY sc.name, g.grade_level, g.name"
    );
    Ok(sqlx::query_as(&sql)
        .bind(conn.tenant)
        .bind(person)
        .bind(teacher_at)
        .bind(leader_at)
        .fetch_all(&mut *conn)
        .await?)
}

/// The periods of the class's school and year.
pub async fn periods(mut conn: Conn<'_>, class: &ClassRow) -> Result<Vec<PeriodRow>> {
    let sql = format!(
        "SELECT {} FROM assessment_periods p \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         WHERE p.tenant_id = $1 AND y.tenant_id = $1 AND p.school_id = $2 AND p.school_year_id = $3 \
         ORDER BY array_position(ARRAY['autumn', 'spring', 'final', 'exam'], p.kind)",
        period_columns()
    );
    Ok(sqlx::query_as(&sql)
        .bind(conn.tenant)
        .bind(class.school_id)
        .bind(class.school_year_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// A pupil's line in the conduct grid.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConductLine {
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub order_value: Option<String>,
    pub conduct_value: Option<String>,
    pub changed_after_close: bool,
}

/// The class's pupils on the period's reference day, with their order and conduct.
pub async fn conduct_lines(mut conn: Conn<'_>, class: Uuid, period: &PeriodRow) -> Result<Vec<ConductLine>> {
    Ok(sqlx::query_as(
        "SELECT pe.id AS pupil_id, pe.given_name, pe.family_name, o.value AS order_value, c.value AS conduct_value, \
           EXISTS (SELECT 1 FROM conduct_history h WHERE h.tenant_id = $1 AND h.period_id = $3 \
                   AND h.pupil_id = m.pupil_id AND h.reason IS NOT NULL) AS changed_after_close \
         FROM group_memberships m \
         JOIN persons pe ON pe.tenant_id = m.tenant_id AND pe.id = m.pupil_id \
         LEFT JOIN conduct_grades o ON o.tenant_id = m.tenant_id AND o.period_id = $3 AND o.pupil_id = m.pupil_id \
              AND o.aspect = 'order' \
         LEFT JOIN conduct_grades c ON c.tenant_id = m.tenant_id AND c.period_id = $3 AND c.pupil_id = m.pupil_id \
              AND c.aspect = 'conduct' \
         WHERE m.tenant_id = $1 AND pe.tenant_id = $1 AND m.group_id = $2 \
           AND m.from_date <= least($4, tavle_today()) AND (m.to_date IS NULL OR m.to_date > least($4, tavle_today())) \
         ORDER BY pe.family_name, pe.given_name, pe.id",
    )
    .bind(conn.tenant)
    .bind(class)
    .bind(period.id)
    .bind(period.closes_on)
    .fetch_all(&mut *conn)
    .await?)
}

/// Save order and conduct as the grades are saved (one statement, only what differs,
/// a history row per change). Returns the pupils whose order or conduct changed.
pub async fn save_conduct(
    mut conn: Conn<'_>,
    period: Uuid,
    pupils: &[Uuid],
    aspects: &[String],
    values: &[String],
    by: Uuid,
    reason: Option<&str>,
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "WITH input AS ( \
           SELECT i.pupil_id, i.aspect, nullif(i.value, '') AS value \
           FROM unnest($3::uuid[], $4::text[], $5::text[]) AS i (pupil_id, aspect, value)), \
         old AS ( \
           SELECT c.pupil_id, c.aspect, c.value FROM conduct_grades c \
           WHERE c.tenant_id = $1 AND c.period_id = $2 AND c.pupil_id = ANY($3) FOR UPDATE), \
         changes AS ( \
           SELECT i.pupil_id, i.aspect, i.value, o.value AS previous FROM input i \
           LEFT JOIN old o ON o.pupil_id = i.pupil_id AND o.aspect = i.aspect \
           WHERE i.value IS DISTINCT FROM o.value), \
         upserted AS ( \
           INSERT INTO conduct_grades AS c (tenant_id, period_id, pupil_id, aspect, value, changed_by, changed_at) \
           SELECT $1, $2, ch.pupil_id, ch.aspect, ch.value, $6, now() FROM changes ch WHERE ch.value IS NOT NULL \
           ON CONFLICT (tenant_id, period_id, pupil_id, aspect) DO UPDATE SET \
             value = EXCLUDED.value, changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at \
           RETURNING c.pupil_id), \
         deleted AS ( \
           DELETE FROM conduct_grades c USING changes ch \
           WHERE c.tenant_id = $1 AND c.period_id = $2 AND c.pupil_id = ch.pupil_id AND c.aspect = ch.aspect \
             AND ch.value IS NULL \
           RETURNING c.pupil_id), \
         history AS ( \
           INSERT INTO conduct_history (tenant_id, period_id, pupil_id, aspect, value, previous, reason, \
             changed_by, changed_at) \
           SELECT $1, $2, ch.pupil_id, ch.aspect, ch.value, ch.previous, $7, $6, now() FROM changes ch \
           RETURNING pupil_id) \
         SELECT DISTINCT ch.pupil_id FROM changes ch",
    )
    .bind(conn.tenant)
    .bind(period)
    .bind(pupils)
    .bind(aspects)
    .bind(values)
    .bind(by)
    .bind(reason)
    .fetch_all(&mut *conn)
    .await?)
}

/// A risk that calls for a written warning, or a warning sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarningLine {
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub subject_id: Option<Uuid>,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
    pub aspect: Option<String>,
    /// The value entered now (IV, NG, LG), if any.
    pub value: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

impl WarningLine {
    pub fn subject(&self, lang: Lang) -> Option<String> {
        match lang {
            Lang::En => self.subject_en.clone(),
            _ => self.subject_nb.clone(),
        }
    }
    /// The form field that sends this warning.
    pub fn field(&self) -> String {
        match (&self.subject_id, &self.aspect) {
            (Some(s), _) => format!("w-{}-{s}", self.pupil_id),
            (None, Some(a)) => format!("w-{}-{a}", self.pupil_id),
            _ => format!("w-{}", self.pupil_id),
        }
    }
}

/// The class's pupils who should be warned in the period (IV entered in a subject, order
/// or conduct entered lower than G), and every warning sent in the period, in one list.
pub async fn warning_lines(mut conn: Conn<'_>, class: Uuid, period: &PeriodRow) -> Result<Vec<WarningLine>> {
    Ok(sqlx::query_as(
        "WITH members AS ( \
           SELECT m.pupil_id FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $2 \
             AND m.from_date <= least($4, tavle_today()) AND (m.to_date IS NULL OR m.to_date > least($4, tavle_today()))), \
         risks AS ( \
           SELECT g.pupil_id, g.subject_id, NULL::text AS aspect, g.value FROM grades g \
           WHERE g.tenant_id = $1 AND g.period_id = $3 AND g.value = 'IV' AND g.pupil_id IN (SELECT pupil_id FROM members) \
           UNION ALL \
           SELECT c.pupil_id, NULL::uuid, c.aspect, c.value FROM conduct_grades c \
           WHERE c.tenant_id = $1 AND c.period_id = $3 AND c.value <> 'G' AND c.pupil_id IN (SELECT pupil_id FROM members) \
           UNION ALL \
           SELECT w.pupil_id, w.subject_id, w.aspect, NULL FROM assessment_warnings w \
           WHERE w.tenant_id = $1 AND w.period_id = $3 AND w.pupil_id IN (SELECT pupil_id FROM members)), \
         lines AS ( \
           SELECT r.pupil_id, r.subject_id, r.aspect, max(r.value) AS value FROM risks r \
           GROUP BY r.pupil_id, r.subject_id, r.aspect) \
         SELECT l.pupil_id, pe.given_name, pe.family_name, l.subject_id, su.name_nb AS subject_nb, \
           su.name_en AS subject_en, l.aspect, l.value, w.sent_at \
         FROM lines l \
         JOIN persons pe ON pe.tenant_id = $1 AND pe.id = l.pupil_id \
         LEFT JOIN subjects su ON su.tenant_id = $1 AND su.id = l.subject_id \
         LEFT JOIN assessment_warnings w ON w.tenant_id = $1 AND w.period_id = $3 AND w.pupil_id = l.pupil_id \
              AND w.subject_id IS NOT DISTINCT FROM l.subject_id AND w.aspect IS NOT DISTINCT FROM l.aspect \
         ORDER BY pe.family_name, pe.given_name, pe.id, su.name_nb NULLS LAST, l.aspect",
    )
    .bind(conn.tenant)
    .bind(class)
    .bind(period.id)
    .bind(period.closes_on)
    .fetch_all(&mut *conn)
    .await?)
}

/// Record a warning; `None` when it was sent before (once per period, pupil and subject
/// or aspect).
pub async fn record_warning(
    mut conn: Conn<'_>,
    period: Uuid,
    pupil: Uuid,
    subject: Option<Uuid>,
    aspect: Option<&str>,
    by: Uuid,
) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO assessment_warnings (tenant_id, period_id, pupil_id, subject_id, aspect, sent_by, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(conn.tenant)
    .bind(period)
    .bind(pupil)
    .bind(subject)
    .bind(aspect)
    .bind(by)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Who a warning about `pupil` goes to by e-mail: the pupil, and the guardians with
/// parental responsibility while the pupil is under 18 (not one from whom a strictly
/// confidential address keeps the child's whereabouts), each with an address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub person_id: Uuid,
    pub address: String,
    pub lang: String,
}

/// The pupil and the guardians Tavle may write to about them (none once the pupil has died).
static WARNING_RECIPIENTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT p.id AS person_id, p.email AS address, coalesce(pl.lang, 'nb') AS lang \
         FROM persons p LEFT JOIN person_languages pl ON pl.tenant_id = $1 AND pl.person_id = p.id \
         WHERE p.tenant_id = $1 AND p.email IS NOT NULL AND p.deceased_on IS NULL AND {digital} AND (p.id = $2 OR p.id IN ( \
           SELECT g.guardian_id FROM guardianships g JOIN persons c ON c.tenant_id = $1 AND c.id = g.pupil_id \
           WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND {reaches})) \
         ORDER BY p.id",
        reaches = crate::policy::guardianship::reaches("g", "c", "tavle_today()"),
        digital = crate::policy::guardianship::digital("p.id")
    )
});

pub async fn warning_recipients(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<Recipient>> {
    Ok(sqlx::query_as(&WARNING_RECIPIENTS_SQL).bind(conn.tenant).bind(pupil).fetch_all(&mut *conn).await?)
}

/// A warning on the pupil's and the guardians' page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilWarningRow {
    pub kind: String,
    pub year_name: String,
    pub subject_nb: Option<String>,
    pub subject_en: Option<String>,
    pub aspect: Option<String>,
    pub sent_at: OffsetDateTime,
}

impl PupilWarningRow {
    pub fn subject(&self, lang: Lang) -> Option<String> {
        match lang {
            Lang::En => self.subject_en.clone(),
            _ => self.subject_nb.clone(),
        }
    }
}

pub async fn pupil_warnings(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<PupilWarningRow>> {
    Ok(sqlx::query_as(
        "SELECT p.kind, y.name AS year_name, su.name_nb AS subject_nb, su.name_en AS subject_en, w.aspect, w.sent_at \
         FROM assessment_warnings w \
         JOIN assessment_periods p ON p.tenant_id = w.tenant_id AND p.id = w.period_id \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         LEFT JOIN subjects su ON su.tenant_id = $1 AND su.id = w.subject_id \
         WHERE w.tenant_id = $1 AND p.tenant_id = $1 AND y.tenant_id = $1 AND w.pupil_id = $2 \
           AND y.ends >= tavle_today() - 366 \
         ORDER BY w.sent_at DESC",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// Order and conduct of a pupil (published ones for the pupil and guardians).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilConductRow {
    pub period_id: Uuid,
    pub aspect: String,
    pub value: String,
}

pub async fn pupil_conduct(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<PupilConductRow>> {
    Ok(sqlx::query_as(
        "SELECT c.period_id, c.aspect, c.value FROM conduct_grades c \
         WHERE c.tenant_id = $1 AND c.pupil_id = $2 ORDER BY c.period_id, c.aspect DESC",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}
