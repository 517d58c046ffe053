//! The SQL of grade statistics: counts per value, never names.

use uuid::Uuid;

use super::CURRENT_YEAR;
use crate::db::Conn;
use crate::error::Result;
use crate::web::i18n::Lang;

/// The distribution of one subject's grades at a school (and class, when asked for).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DistributionRow {
    pub school_name: String,
    pub class_name: String,
    pub subject_code: String,
    pub subject_nb: String,
    pub subject_en: String,
    pub total: i64,
    /// Grades 1 to 6, then IV and FR, then B, IB and D.
    pub counts: Vec<i64>,
    /// The mean of the grades 1-6 (two decimals), when there are any.
    pub average: Option<f64>,
}

impl DistributionRow {
    pub fn subject(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.subject_en.clone(),
            _ => self.subject_nb.clone(),
        }
    }
}

/// The value codes in the order of [`DistributionRow::counts`].
pub const VALUES: [&str; 11] = ["1", "2", "3", "4", "5", "6", "IV", "FR", "B", "IB", "D"];

/// The current school year's grades of the periods of `kind`, per school and subject
/// (and class with `by_class`: the pupil's class in that year), at `schools` (`None`:
/// every school).
pub async fn distribution(
    mut conn: Conn<'_>,
    kind: &str,
    schools: Option<&[Uuid]>,
    by_class: bool,
) -> Result<Vec<DistributionRow>> {
    let sql = format!(
        "SELECT sc.name AS school_name, CASE WHEN $4 THEN coalesce(cls.name, '') ELSE '' END AS class_name, \
           coalesce(su.grep_code, su.code) AS subject_code, su.name_nb AS subject_nb, su.name_en AS subject_en, \
           count(*) AS total, \
           ARRAY[{counts}] AS counts, \
           round(avg(CASE WHEN g.value IN ('1', '2', '3', '4', '5', '6') THEN g.value::numeric END), 2)::float8 \
             AS average \
         FROM grades g \
         JOIN assessment_periods p ON p.tenant_id = g.tenant_id AND p.id = g.period_id \
         JOIN schools sc ON sc.tenant_id = p.tenant_id AND sc.id = p.school_id \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = g.subject_id \
         LEFT JOIN LATERAL ( \
           SELECT b.name FROM group_memberships m \
           JOIN groups b ON b.tenant_id = m.tenant_id AND b.id = m.group_id \
           WHERE m.tenant_id = $1 AND b.tenant_id = $1 AND m.pupil_id = g.pupil_id AND b.kind = 'base' \
             AND b.school_year_id = p.school_year_id AND b.school_id = p.school_id \
           ORDER BY m.from_date DESC LIMIT 1) cls ON $4 \
         WHERE g.tenant_id = $1 AND p.tenant_id = $1 AND sc.tenant_id = $1 AND su.tenant_id = $1 \
           AND p.kind = $2 AND p.school_year_id = {CURRENT_YEAR} \
           AND ($3::uuid[] IS NULL OR p.school_id = ANY($3)) \
         GROUP BY sc.name, 2, su.code, su.grep_code, su.name_nb, su.name_en \
         ORDER BY sc.name, 2, su.code",
        counts =
            VALUES.iter().map(|v| format!("count(*) FILTER (WHERE g.value = '{v}')")).collect::<Vec<_>>().join(", ")
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(kind).bind(schools).bind(by_class).fetch_all(&mut *conn).await?)
}
