//! The SQL of assessment. Every statement names the municipality as `$1`.
//! `class`: order and conduct and the written warnings; `remarks`: remarks;
//! `statistics`: counts of grades without names.

pub mod class;
pub mod diploma;
pub mod exams;
pub mod remarks;
pub mod statistics;

use time::{Date, Time};
use uuid::Uuid;

use super::domain::{PeriodKind, Scale, Window};
use crate::db::Conn;
use crate::error::Result;
use crate::web::i18n::Lang;

/// The school year a school works in today: the latest that has begun.
pub(super) const CURRENT_YEAR: &str =
    "(SELECT y.id FROM school_years y WHERE y.tenant_id = $1 AND y.starts <= tavle_today() \
                             ORDER BY y.starts DESC LIMIT 1)";

/// A subject's name in the reader's language.
fn subject_name(lang: Lang, nb: &str, en: &str) -> String {
    match lang {
        Lang::En => en.to_owned(),
        _ => nb.to_owned(),
    }
}

/// An assessment period of a school's year.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PeriodRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_year_id: Uuid,
    pub year_name: String,
    pub kind: String,
    pub opens_on: Date,
    pub closes_on: Date,
    pub publish_on: Option<Date>,
    pub publish_time: Time,
    /// Whether pupils and guardians see it now.
    pub published: bool,
    pub today: Date,
}

impl PeriodRow {
    pub fn kind(&self) -> PeriodKind {
        PeriodKind::from_code(&self.kind).unwrap_or(PeriodKind::Autumn)
    }
    pub fn window(&self) -> Window {
        Window::on(self.today, self.opens_on, self.closes_on)
    }
}

/// The `published` column: the publication day has come, and on that day its time
/// (Norwegian time) has passed.
const PUBLISHED: &str = "(p.publish_on IS NOT NULL AND (p.publish_on < tavle_today() OR \
     (p.publish_on = tavle_today() AND p.publish_time <= (now() AT TIME ZONE 'Europe/Oslo')::time)))";

pub(super) fn period_columns() -> String {
    format!(
        "p.id, p.school_id, p.school_year_id, y.name AS year_name, p.kind, p.opens_on, p.closes_on, \
         p.publish_on, p.publish_time, {PUBLISHED} AS published, tavle_today() AS today"
    )
}

/// The periods of `school`'s current school year, in the order of the year.
pub async fn current_periods(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<PeriodRow>> {
    let sql = format!(
        "SELECT {} FROM assessment_periods p \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         WHERE p.tenant_id = $1 AND y.tenant_id = $1 AND p.school_id = $2 AND p.school_year_id = {CURRENT_YEAR} \
         ORDER BY array_position(ARRAY['autumn', 'spring', 'final', 'exam'], p.kind)",
        period_columns()
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(school).fetch_all(&mut *conn).await?)
}

/// The period `id` of `school`.
pub async fn period(mut conn: Conn<'_>, id: Uuid, school: Uuid) -> Result<Option<PeriodRow>> {
    let sql = format!(
        "SELECT {} FROM assessment_periods p \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         WHERE p.tenant_id = $1 AND y.tenant_id = $1 AND p.id = $2 AND p.school_id = $3",
        period_columns()
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(id).bind(school).fetch_optional(&mut *conn).await?)
}

/// The current school year of the municipality and its dates, for the periods page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct YearRow {
    pub id: Uuid,
    pub name: String,
    pub starts: Date,
    pub ends: Date,
    pub school_name: String,
    pub today: Date,
}

pub async fn current_year(mut conn: Conn<'_>, school: Uuid) -> Result<Option<YearRow>> {
    let sql = format!(
        "SELECT y.id, y.name, y.starts, y.ends, s.name AS school_name, tavle_today() AS today \
         FROM school_years y JOIN schools s ON s.tenant_id = y.tenant_id AND s.id = $2 \
         WHERE y.tenant_id = $1 AND s.tenant_id = $1 AND y.id = {CURRENT_YEAR}"
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(school).fetch_optional(&mut *conn).await?)
}

/// Set one period of a school's year (created the first time). True when it changed.
#[expect(clippy::too_many_arguments, reason = "one period's fields")]
pub async fn save_period(
    mut conn: Conn<'_>,
    school: Uuid,
    year: Uuid,
    kind: PeriodKind,
    opens: Date,
    closes: Date,
    publish_on: Option<Date>,
    publish_time: Time,
    by: Uuid,
) -> Result<bool> {
    let changed: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO assessment_periods AS p (tenant_id, school_id, school_year_id, kind, opens_on, closes_on, \
           publish_on, publish_time, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) \
         ON CONFLICT (tenant_id, school_id, school_year_id, kind) DO UPDATE SET \
           opens_on = EXCLUDED.opens_on, closes_on = EXCLUDED.closes_on, publish_on = EXCLUDED.publish_on, \
           publish_time = EXCLUDED.publish_time, changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at \
         WHERE (p.opens_on, p.closes_on, p.publish_on, p.publish_time) IS DISTINCT FROM \
               (EXCLUDED.opens_on, EXCLUDED.closes_on, EXCLUDED.publish_on, EXCLUDED.publish_time) \
         RETURNING p.id",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .bind(kind.code())
    .bind(opens)
    .bind(closes)
    .bind(publish_on)
    .bind(publish_time)
    .bind(by)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(changed.is_some())
}

/// A teaching group on the staff's list, with how far its grades have come.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupListRow {
    pub id: Uuid,
    pub name: String,
    pub school_id: Uuid,
    pub school_name: String,
    pub grade_level: i16,
    pub subject_nb: String,
    pub subject_en: String,
    pub pupils: i64,
}

impl GroupListRow {
    pub fn subject(&self, lang: Lang) -> String {
        subject_name(lang, &self.subject_nb, &self.subject_en)
    }
}

/// The current year's teaching groups of grade 8 and up that the actor has grades in:
/// every group at the schools they lead, and the groups they teach at the schools
/// where they teach.
pub async fn groups_for(
    mut conn: Conn<'_>,
    person: Uuid,
    teacher_at: &[Uuid],
    leader_at: &[Uuid],
) -> Result<Vec<GroupListRow>> {
    let sql = format!(
        "SELECT g.id, g.name, g.school_id, sc.name AS school_name, g.grade_level, \
           su.name_nb AS subject_nb, su.name_en AS subject_en, \
           (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = g.id \
              AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today())) AS pupils \
         FROM groups g \
         JOIN schools sc ON sc.tenant_id = g.tenant_id AND sc.id = g.school_id \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = g.subject_id \
         WHERE g.tenant_id = $1 AND sc.tenant_id = $1 AND su.tenant_id = $1 \
           AND g.kind = 'teaching' AND g.grade_level >= 8 AND g.school_year_id = {CURRENT_YEAR} \
           AND (g.school_id = ANY($4) OR (g.school_id = ANY($3) AND EXISTS ( \
                SELECT 1 FROM group_staff s WHERE s.tenant_id = $1 AND s.group_id = g.id \
                  AND s.staff_id = $2 AND s.assignment = 'teacher'))) \
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

/// A teaching group as the grid needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridGroup {
    pub id: Uuid,
    pub name: String,
    pub school_id: Uuid,
    pub school_name: String,
    pub school_year_id: Uuid,
    pub grade_level: i16,
    pub subject_id: Uuid,
    pub subject_nb: String,
    pub subject_en: String,
    pub subject_code: String,
    pub half_year_scale: String,
    pub final_scale: String,
}

impl GridGroup {
    pub fn subject(&self, lang: Lang) -> String {
        subject_name(lang, &self.subject_nb, &self.subject_en)
    }
    /// The subject's scale for a kind of assessment.
    pub fn scale(&self, kind: PeriodKind) -> Scale {
        let code = if kind == PeriodKind::Final { &self.final_scale } else { &self.half_year_scale };
        Scale::from_code(code).unwrap_or(Scale::Grade)
    }
}

pub async fn grid_group(mut conn: Conn<'_>, group: Uuid) -> Result<Option<GridGroup>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.school_id, sc.name AS school_name, g.school_year_id, \
           coalesce(g.grade_level, 0::smallint) AS grade_level, su.id AS subject_id, \
           su.name_nb AS subject_nb, su.name_en AS subject_en, coalesce(su.grep_code, su.code) AS subject_code, \
           su.half_year_scale, su.final_scale \
         FROM groups g \
         JOIN schools sc ON sc.tenant_id = g.tenant_id AND sc.id = g.school_id \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = g.subject_id \
         WHERE g.tenant_id = $1 AND sc.tenant_id = $1 AND su.tenant_id = $1 AND g.id = $2 AND g.kind = 'teaching'",
    )
    .bind(conn.tenant)
    .bind(group)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The periods of the group's school and year.
pub async fn group_periods(mut conn: Conn<'_>, group: &GridGroup) -> Result<Vec<PeriodRow>> {
    let sql = format!(
        "SELECT {} FROM assessment_periods p \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         WHERE p.tenant_id = $1 AND y.tenant_id = $1 AND p.school_id = $2 AND p.school_year_id = $3 \
         ORDER BY array_position(ARRAY['autumn', 'spring', 'final', 'exam'], p.kind)",
        period_columns()
    );
    Ok(sqlx::query_as(&sql)
        .bind(conn.tenant)
        .bind(group.school_id)
        .bind(group.school_year_id)
        .fetch_all(&mut *conn)
        .await?)
}

/// A pupil's line in the grid.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridLine {
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub value: Option<String>,
    /// An exemption for the subject covers the period's last day of entry.
    pub exempt: bool,
    /// The grade has been changed after the window closed (its history says why).
    pub changed_after_close: bool,
}

/// The group's pupils on the period's reference day (its last day of entry, or today
/// if that is earlier), with their grades of the period in the group's subject.
pub async fn grid_lines(mut conn: Conn<'_>, group: &GridGroup, period: &PeriodRow) -> Result<Vec<GridLine>> {
    Ok(sqlx::query_as(
        "SELECT pe.id AS pupil_id, pe.given_name, pe.family_name, gr.value, \
           EXISTS (SELECT 1 FROM assessment_exemptions x WHERE x.tenant_id = $1 AND x.pupil_id = m.pupil_id \
                   AND x.subject_id = $4 AND x.from_date <= $5 AND (x.to_date IS NULL OR x.to_date >= $5)) AS exempt, \
           EXISTS (SELECT 1 FROM grade_history h WHERE h.tenant_id = $1 AND h.period_id = $3 \
                   AND h.subject_id = $4 AND h.pupil_id = m.pupil_id AND h.reason IS NOT NULL) AS changed_after_close \
         FROM group_memberships m \
         JOIN persons pe ON pe.tenant_id = m.tenant_id AND pe.id = m.pupil_id \
         LEFT JOIN grades gr ON gr.tenant_id = m.tenant_id AND gr.period_id = $3 AND gr.subject_id = $4 \
              AND gr.pupil_id = m.pupil_id \
         WHERE m.tenant_id = $1 AND pe.tenant_id = $1 AND m.group_id = $2 \
           AND m.from_date <= least($5, tavle_today()) AND (m.to_date IS NULL OR m.to_date > least($5, tavle_today())) \
         ORDER BY pe.family_name, pe.given_name, pe.id",
    )
    .bind(conn.tenant)
    .bind(group.id)
    .bind(period.id)
    .bind(group.subject_id)
    .bind(period.closes_on)
    .fetch_all(&mut *conn)
    .await?)
}

/// Save a grid's values in one statement: for each pupil the value (empty: none), and
/// only what differs from what is stored is written, with a history row each (the
/// reason when the window has closed). Returns the pupils whose grade changed.
#[expect(clippy::too_many_arguments, reason = "one grid's save")]
pub async fn save_grades(
    mut conn: Conn<'_>,
    period: Uuid,
    subject: Uuid,
    group: Uuid,
    pupils: &[Uuid],
    values: &[String],
    by: Uuid,
    reason: Option<&str>,
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "WITH input AS ( \
           SELECT i.pupil_id, nullif(i.value, '') AS value FROM unnest($5::uuid[], $6::text[]) AS i (pupil_id, value)), \
         old AS ( \
           SELECT g.pupil_id, g.value FROM grades g \
           WHERE g.tenant_id = $1 AND g.period_id = $2 AND g.subject_id = $3 AND g.pupil_id = ANY($5) FOR UPDATE), \
         changes AS ( \
           SELECT i.pupil_id, i.value, o.value AS previous FROM input i LEFT JOIN old o ON o.pupil_id = i.pupil_id \
           WHERE i.value IS DISTINCT FROM o.value), \
         upserted AS ( \
           INSERT INTO grades AS g (tenant_id, period_id, subject_id, pupil_id, value, group_id, changed_by, changed_at) \
           SELECT $1, $2, $3, c.pupil_id, c.value, $4, $7, now() FROM changes c WHERE c.value IS NOT NULL \
           ON CONFLICT (tenant_id, period_id, subject_id, pupil_id) DO UPDATE SET \
             value = EXCLUDED.value, group_id = EXCLUDED.group_id, changed_by = EXCLUDED.changed_by, \
             changed_at = EXCLUDED.changed_at \
           RETURNING g.pupil_id), \
         deleted AS ( \
           DELETE FROM grades g USING changes c \
           WHERE g.tenant_id = $1 AND g.period_id = $2 AND g.subject_id = $3 AND g.pupil_id = c.pupil_id \
             AND c.value IS NULL \
           RETURNING g.pupil_id), \
         history AS ( \
           INSERT INTO grade_history (tenant_id, period_id, subject_id, pupil_id, value, previous, reason, \
             changed_by, changed_at) \
           SELECT $1, $2, $3, c.pupil_id, c.value, c.previous, $8, $7, now() FROM changes c \
           RETURNING pupil_id) \
         SELECT c.pupil_id FROM changes c",
    )
    .bind(conn.tenant)
    .bind(period)
    .bind(subject)
    .bind(group)
    .bind(pupils)
    .bind(values)
    .bind(by)
    .bind(reason)
    .fetch_all(&mut *conn)
    .await?)
}

/// A grade on a pupil's page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilGradeRow {
    pub period_id: Uuid,
    pub year_name: String,
    pub year_starts: Date,
    pub kind: String,
    pub subject_id: Uuid,
    pub subject_nb: String,
    pub subject_en: String,
    pub subject_code: String,
    pub value: String,
    pub published: bool,
    pub publish_on: Option<Date>,
}

impl PupilGradeRow {
    pub fn subject(&self, lang: Lang) -> String {
        subject_name(lang, &self.subject_nb, &self.subject_en)
    }
    pub fn kind(&self) -> PeriodKind {
        PeriodKind::from_code(&self.kind).unwrap_or(PeriodKind::Autumn)
    }
}

/// The pupil's grades, newest period first: every grade for the school; for the pupil
/// and guardians only published ones of the current and the previous school year
/// (the last term and the current one).
pub async fn pupil_grades(mut conn: Conn<'_>, pupil: Uuid, as_school: bool) -> Result<Vec<PupilGradeRow>> {
    let sql = format!(
        "SELECT p.id AS period_id, y.name AS year_name, y.starts AS year_starts, p.kind, su.id AS subject_id, \
           su.name_nb AS subject_nb, su.name_en AS subject_en, coalesce(su.grep_code, su.code) AS subject_code, \
           g.value, {PUBLISHED} AS published, p.publish_on \
         FROM grades g \
         JOIN assessment_periods p ON p.tenant_id = g.tenant_id AND p.id = g.period_id \
         JOIN school_years y ON y.tenant_id = p.tenant_id AND y.id = p.school_year_id \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = g.subject_id \
         WHERE g.tenant_id = $1 AND p.tenant_id = $1 AND y.tenant_id = $1 AND su.tenant_id = $1 \
           AND g.pupil_id = $2 \
           AND ($3 OR ({PUBLISHED} AND y.ends >= tavle_today() - 366)) \
         ORDER BY y.starts DESC, array_position(ARRAY['exam', 'final', 'spring', 'autumn'], p.kind), su.code"
    );
    Ok(sqlx::query_as(&sql).bind(conn.tenant).bind(pupil).bind(as_school).fetch_all(&mut *conn).await?)
}

/// One change in a grade's history (for the school).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub period_id: Uuid,
    pub subject_id: Uuid,
    pub value: Option<String>,
    pub previous: Option<String>,
    pub reason: Option<String>,
    pub changed_at: time::OffsetDateTime,
    pub by_given: String,
    pub by_family: String,
}

pub async fn pupil_history(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<HistoryRow>> {
    Ok(sqlx::query_as(
        "SELECT h.period_id, h.subject_id, h.value, h.previous, h.reason, h.changed_at, \
           pe.given_name AS by_given, pe.family_name AS by_family \
         FROM grade_history h JOIN persons pe ON pe.tenant_id = h.tenant_id AND pe.id = h.changed_by \
         WHERE h.tenant_id = $1 AND pe.tenant_id = $1 AND h.pupil_id = $2 \
         ORDER BY h.changed_at, h.id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// A pupil's name and current school and class, for the heading of their grades.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PupilHead {
    pub given_name: String,
    pub family_name: String,
    pub grade_level: Option<i16>,
}

pub async fn pupil_head(mut conn: Conn<'_>, pupil: Uuid) -> Result<Option<PupilHead>> {
    Ok(sqlx::query_as(
        "SELECT pe.given_name, pe.family_name, \
           (SELECT e.grade_level FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = pe.id \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
            ORDER BY e.from_date DESC LIMIT 1) AS grade_level \
         FROM persons pe JOIN pupils pu ON pu.tenant_id = pe.tenant_id AND pu.person_id = pe.id \
         WHERE pe.tenant_id = $1 AND pu.tenant_id = $1 AND pe.id = $2",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A guardian's children, for choosing whose grades to read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
}

pub async fn children(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<ChildRow>> {
    Ok(sqlx::query_as(
        "SELECT pe.id, pe.given_name, pe.family_name FROM persons pe \
         WHERE pe.tenant_id = $1 AND pe.id = ANY($2) ORDER BY pe.birth_date, pe.id",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// An exemption on the pupil's page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExemptionRow {
    pub subject_nb: String,
    pub subject_en: String,
    pub kind: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
}

impl ExemptionRow {
    pub fn subject(&self, lang: Lang) -> String {
        subject_name(lang, &self.subject_nb, &self.subject_en)
    }
}

pub async fn pupil_exemptions(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<ExemptionRow>> {
    Ok(sqlx::query_as(
        "SELECT su.name_nb AS subject_nb, su.name_en AS subject_en, x.kind, x.from_date, x.to_date \
         FROM assessment_exemptions x JOIN subjects su ON su.tenant_id = x.tenant_id AND su.id = x.subject_id \
         WHERE x.tenant_id = $1 AND su.tenant_id = $1 AND x.pupil_id = $2 ORDER BY x.from_date DESC, su.code",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// A subject the pupil is taught now (the choices for an exemption).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubjectOption {
    pub id: Uuid,
    pub name_nb: String,
    pub name_en: String,
}

impl SubjectOption {
    pub fn name(&self, lang: Lang) -> String {
        subject_name(lang, &self.name_nb, &self.name_en)
    }
}

pub async fn pupil_subjects(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<SubjectOption>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT su.id, su.name_nb, su.name_en FROM group_memberships m \
         JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'teaching' \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = g.subject_id \
         WHERE m.tenant_id = $1 AND g.tenant_id = $1 AND su.tenant_id = $1 AND m.pupil_id = $2 \
           AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
         ORDER BY su.name_nb",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn add_exemption(
    mut conn: Conn<'_>,
    pupil: Uuid,
    subject: Uuid,
    kind: &str,
    from: Date,
    to: Option<Date>,
    by: Uuid,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO assessment_exemptions (tenant_id, pupil_id, subject_id, kind, from_date, to_date, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(subject)
    .bind(kind)
    .bind(from)
    .bind(to)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?)
}
