//! The SQL of remarks (anmerkninger).

use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use super::super::domain::{Aspect, RemarkCategory};
use crate::db::Conn;
use crate::error::Result;
use crate::web::i18n::{self, Lang};

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
    /// The names of the school's own category (None for a standard one).
    pub own_nb: Option<String>,
    pub own_en: Option<String>,
}

impl RemarkRow {
    /// The category's name: the school's own, else the standard one's translation.
    pub fn category_label(&self, lang: Lang) -> String {
        category_label(lang, &self.category, self.own_nb.as_deref(), self.own_en.as_deref())
    }

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
           r.recorded_by, pe.given_name AS by_given, pe.family_name AS by_family, r.withdrawn_at, \
           rc.name_nb AS own_nb, rc.name_en AS own_en \
         FROM remarks r \
         JOIN persons pe ON pe.tenant_id = r.tenant_id AND pe.id = r.recorded_by \
         LEFT JOIN remark_categories rc ON rc.tenant_id = $1 AND rc.school_id = r.school_id AND rc.code = r.category \
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

/// A category's name in `lang`: a school's own (its English name, else its bokmål
/// one), else the standard category's translation; the code itself for a code no list
/// knows (never expected).
pub fn category_label(lang: Lang, code: &str, own_nb: Option<&str>, own_en: Option<&str>) -> String {
    match (own_nb, own_en, lang) {
        (_, Some(en), Lang::En) => en.to_owned(),
        (Some(nb), _, _) => nb.to_owned(),
        _ => {
            RemarkCategory::from_code(code).map_or_else(|| code.to_owned(), |c| i18n::t(lang, c.label_key()).to_owned())
        }
    }
}

/// A row of a school's list as stored: a standard category's use, or an own category.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredCategory {
    pub code: String,
    pub aspect: String,
    pub name_nb: Option<String>,
    pub name_en: Option<String>,
    pub active: bool,
}

/// A category on a school's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCategory {
    pub code: String,
    pub aspect: Aspect,
    /// The school's own names (bokmål, English); None for a standard category.
    pub own: Option<(String, Option<String>)>,
    pub active: bool,
}

impl SchoolCategory {
    pub fn label(&self, lang: Lang) -> String {
        let (nb, en) = match &self.own {
            Some((nb, en)) => (Some(nb.as_str()), en.as_deref()),
            None => (None, None),
        };
        category_label(lang, &self.code, nb, en)
    }
}

/// The school's list: the standard categories in their order (out of use where the
/// school has said so), then the school's own by number.
#[must_use]
pub fn school_list(stored: &[StoredCategory]) -> Vec<SchoolCategory> {
    let mut list: Vec<SchoolCategory> = RemarkCategory::ALL
        .iter()
        .map(|c| SchoolCategory {
            code: c.code().to_owned(),
            aspect: c.aspect(),
            own: None,
            active: stored.iter().find(|s| s.code == c.code()).is_none_or(|s| s.active),
        })
        .collect();
    let mut own: Vec<&StoredCategory> = stored.iter().filter(|s| s.name_nb.is_some()).collect();
    own.sort_by_key(|s| (s.code.len(), s.code.clone()));
    list.extend(own.into_iter().filter_map(|s| {
        Some(SchoolCategory {
            code: s.code.clone(),
            aspect: Aspect::from_code(&s.aspect)?,
            own: Some((s.name_nb.clone()?, s.name_en.clone())),
            active: s.active,
        })
    }));
    list
}

/// The rows of the school's list.
pub async fn stored_categories(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<StoredCategory>> {
    Ok(sqlx::query_as(
        "SELECT rc.code, rc.aspect, rc.name_nb, rc.name_en, rc.active FROM remark_categories rc \
         WHERE rc.tenant_id = $1 AND rc.school_id = $2",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}

/// Whether the school uses a category (a row for a standard one is made the first time).
pub async fn set_category_use(
    mut conn: Conn<'_>,
    school: Uuid,
    category: &SchoolCategory,
    active: bool,
    by: Uuid,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO remark_categories (tenant_id, school_id, code, aspect, active, changed_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, school_id, code) DO UPDATE \
         SET active = EXCLUDED.active, changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(&category.code)
    .bind(category.aspect.code())
    .bind(active)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Add a category of the school's own, numbered after the last: its code.
pub async fn add_category(
    mut conn: Conn<'_>,
    school: Uuid,
    aspect: Aspect,
    name_nb: &str,
    name_en: Option<&str>,
    by: Uuid,
) -> Result<String> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('tavle.remark_categories.' || $1::text || $2::text, 0))",
    )
    .bind(conn.tenant)
    .bind(school)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO remark_categories (tenant_id, school_id, code, aspect, name_nb, name_en, changed_by) \
         SELECT $1, $2, 'own_' || (coalesce(max(substring(rc.code FROM 5)::int), 0) + 1), $3, $4, $5, $6 \
         FROM remark_categories rc WHERE rc.tenant_id = $1 AND rc.school_id = $2 AND rc.code LIKE 'own\\_%' \
         RETURNING code",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(aspect.code())
    .bind(name_nb)
    .bind(name_en)
    .bind(by)
    .fetch_one(&mut *conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, own: Option<&str>, active: bool) -> StoredCategory {
        StoredCategory {
            code: code.into(),
            aspect: "conduct".into(),
            name_nb: own.map(str::to_owned),
            name_en: None,
            active,
        }
    }

    #[test]
    fn the_list_is_the_standard_categories_then_the_schools_own_by_number() {
        let stored = [row("own_10", Some("Ti"), true), row("phone", None, false), row("own_2", Some("To"), false)];
        let list = school_list(&stored);
        let codes: Vec<(&str, bool)> = list.iter().map(|c| (c.code.as_str(), c.active)).collect();
        assert_eq!(
            codes,
            [
                ("late", true),
                ("homework", true),
                ("equipment", true),
                ("left_without_leave", true),
                ("disruption", true),
                ("phone", false),
                ("language", true),
                ("threats", true),
                ("own_2", false),
                ("own_10", true),
            ]
        );
        assert_eq!(list[8].label(Lang::En), "To", "no English name: the bokmål one");
        assert_eq!(list[0].label(Lang::Nb), i18n::t(Lang::Nb, "assessment.remark.late"));
        assert_eq!(category_label(Lang::En, "own_1", Some("Snus"), Some("Snuff")), "Snuff");
        assert_eq!(category_label(Lang::Nb, "own_1", Some("Snus"), Some("Snuff")), "Snus");
    }
}
