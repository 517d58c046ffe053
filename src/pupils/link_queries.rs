//! Queries for the principal's manual guardian links (`links`).

use time::Date;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// A guardian the principal linked, for the page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub guardian_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub reason: String,
    pub from_date: Date,
    pub to_date: Option<Date>,
}

/// The pupil's manual links, current first.
pub async fn links(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<LinkRow>> {
    Ok(sqlx::query_as(
        "SELECT g.guardian_id, p.given_name, p.family_name, g.manual_reason AS reason, g.from_date, g.to_date \
         FROM guardianships g JOIN persons p ON p.tenant_id = $1 AND p.id = g.guardian_id \
         WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.manual_reason IS NOT NULL \
         ORDER BY g.to_date IS NOT NULL, g.from_date DESC",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// The person with a national id: (id, family name, deceased).
pub async fn person(mut conn: Conn<'_>, national_id: &str) -> Result<Option<(Uuid, String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.family_name, p.deceased_on IS NOT NULL FROM persons p \
         WHERE p.tenant_id = $1 AND p.national_id = $2 FOR UPDATE OF p",
    )
    .bind(conn.tenant)
    .bind(national_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// What stands between the pupil and the guardian now: a restriction in force, a
/// current guardianship with parental responsibility.
pub async fn obstacles(mut conn: Conn<'_>, pupil: Uuid, guardian: Uuid) -> Result<(bool, bool)> {
    Ok(sqlx::query_as(
        "SELECT \
           EXISTS (SELECT 1 FROM guardian_restrictions r WHERE r.tenant_id = $1 AND r.pupil_id = $2 \
                   AND r.guardian_id = $3 AND r.from_date <= tavle_today() \
                   AND (r.to_date IS NULL OR r.to_date > tavle_today())), \
           EXISTS (SELECT 1 FROM guardianships g WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.guardian_id = $3 \
                   AND g.parental_responsibility AND g.from_date <= tavle_today() \
                   AND (g.to_date IS NULL OR g.to_date > tavle_today()))",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .fetch_one(&mut *conn)
    .await?)
}

/// Keep the guardianship's values as they are now, as the office's change.
pub(super) async fn keep_history(mut conn: Conn<'_>, pupil: Uuid, guardian: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO guardianship_history (tenant_id, pupil_id, guardian_id, source, parental_responsibility, \
           from_date, to_date, lives_with) \
         SELECT $1, g.pupil_id, g.guardian_id, 'office', g.parental_responsibility, g.from_date, g.to_date, \
           g.lives_with \
         FROM guardianships g WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.guardian_id = $3",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Link the guardian, with parental responsibility from today, for `reason`. A
/// guardianship the register gave without responsibility (or one that ended) becomes
/// the manual link; its values before are kept.
pub async fn link(mut conn: Conn<'_>, pupil: Uuid, guardian: Uuid, reason: &str, lives_with: bool) -> Result<()> {
    keep_history(conn.re(), pupil, guardian).await?;
    sqlx::query(
        "INSERT INTO guardianships (tenant_id, pupil_id, guardian_id, parental_responsibility, lives_with, from_date, \
             manual_reason) \
         VALUES ($1, $2, $3, true, $5, tavle_today(), $4) \
         ON CONFLICT (tenant_id, pupil_id, guardian_id) DO UPDATE SET parental_responsibility = true, \
           lives_with = EXCLUDED.lives_with, from_date = EXCLUDED.from_date, to_date = NULL, \
           manual_reason = EXCLUDED.manual_reason",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .bind(reason)
    .bind(lives_with)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// End a manual link today (withdrawn, if it began today). None: no manual link;
/// Some(false): it had ended already.
pub async fn end(mut conn: Conn<'_>, pupil: Uuid, guardian: Uuid) -> Result<Option<bool>> {
    let current: Option<bool> = sqlx::query_scalar(
        "SELECT g.to_date IS NULL OR g.to_date > tavle_today() FROM guardianships g \
         WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.guardian_id = $3 AND g.manual_reason IS NOT NULL FOR UPDATE OF g",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .fetch_optional(&mut *conn)
    .await?;
    if current != Some(true) {
        return Ok(current);
    }
    keep_history(conn.re(), pupil, guardian).await?;
    sqlx::query(
        "DELETE FROM guardianships g WHERE g.tenant_id = $1 AND g.pupil_id = $2 AND g.guardian_id = $3 \
           AND g.from_date >= tavle_today()",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE guardianships g SET to_date = tavle_today() WHERE g.tenant_id = $1 AND g.pupil_id = $2 \
           AND g.guardian_id = $3 AND g.from_date < tavle_today()",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(guardian)
    .execute(&mut *conn)
    .await?;
    Ok(Some(true))
}
