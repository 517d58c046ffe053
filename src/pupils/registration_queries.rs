//! Queries for registering a pupil by hand (`registration`) and correcting the details
//! the office keeps (`details`).

use time::Date;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// A person the municipality has under a national id already.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Known {
    pub id: Uuid,
    pub family_name: String,
    /// Enrolled at a school of the municipality today or later.
    pub enrolled: bool,
    pub deceased: bool,
}

pub async fn known(mut conn: Conn<'_>, national_id: &str) -> Result<Option<Known>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.family_name, \
           EXISTS (SELECT 1 FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = p.id \
                   AND (e.to_date IS NULL OR e.to_date > tavle_today())) AS enrolled, \
           p.deceased_on IS NOT NULL AS deceased \
         FROM persons p WHERE p.tenant_id = $1 AND p.national_id = $2 FOR UPDATE OF p",
    )
    .bind(conn.tenant)
    .bind(national_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A new person, as the office typed them (a pupil, or a guardian the principal links;
/// no address: the register gives one).
pub async fn create_person(
    mut conn: Conn<'_>,
    national_id: &str,
    given: &str,
    family: &str,
    birth_date: Date,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO persons (tenant_id, national_id, given_name, family_name, birth_date) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(national_id)
    .bind(given)
    .bind(family)
    .bind(birth_date)
    .fetch_one(&mut *conn)
    .await?)
}

/// Make the person a pupil (if not already), with their other mother tongue when given.
pub async fn ensure_pupil(mut conn: Conn<'_>, person: Uuid, mother_tongue: Option<&str>) -> Result<()> {
    sqlx::query(
        "INSERT INTO pupils (tenant_id, person_id, other_mother_tongue) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, person_id) DO UPDATE \
           SET other_mother_tongue = coalesce(EXCLUDED.other_mother_tongue, pupils.other_mother_tongue)",
    )
    .bind(conn.tenant)
    .bind(person)
    .bind(mother_tongue)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Enrol the pupil at the school from a day, as a guest from another municipality when
/// `home` is given.
pub async fn enrol(
    mut conn: Conn<'_>,
    pupil: Uuid,
    school: Uuid,
    grade: i16,
    from: Date,
    home: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO enrolments (tenant_id, pupil_id, school_id, grade_level, from_date, guest_home_municipality) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(grade)
    .bind(from)
    .bind(home)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What the office keeps of a pupil, for the details page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Details {
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Option<Date>,
    pub other_mother_tongue: Option<String>,
}

pub async fn details(mut conn: Conn<'_>, pupil: Uuid) -> Result<Option<Details>> {
    Ok(sqlx::query_as(
        "SELECT p.national_id, p.given_name, p.family_name, p.birth_date, pu.other_mother_tongue \
         FROM pupils pu JOIN persons p ON p.tenant_id = $1 AND p.id = pu.person_id \
         WHERE pu.tenant_id = $1 AND pu.person_id = $2 FOR UPDATE OF p, pu",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Change the names and birth date (a pupil the register does not have); whether
/// anything changed.
pub async fn correct_person(mut conn: Conn<'_>, pupil: Uuid, given: &str, family: &str, born: Date) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE persons p SET given_name = $3, family_name = $4, birth_date = $5, updated_at = now() \
         WHERE p.tenant_id = $1 AND p.id = $2 \
           AND (p.given_name, p.family_name, p.birth_date) IS DISTINCT FROM ($3, $4, $5)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(given)
    .bind(family)
    .bind(born)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0)
}

/// Set the other mother tongue (None: none); whether it changed.
pub async fn set_mother_tongue(mut conn: Conn<'_>, pupil: Uuid, code: Option<&str>) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE pupils pu SET other_mother_tongue = $3 WHERE pu.tenant_id = $1 AND pu.person_id = $2 \
           AND pu.other_mother_tongue IS DISTINCT FROM $3",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(code)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0)
}

/// Whether the municipality takes synthetic (test population) numbers.
pub async fn synthetic_allowed(mut conn: Conn<'_>) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT t.allows_synthetic_ids FROM tenants t WHERE t.id = $1")
        .bind(conn.tenant)
        .fetch_one(&mut *conn)
        .await?)
}
