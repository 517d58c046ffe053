//! The identity step shared by every way of signing in: from what the identity
//! provider vouched for (a Feide user id, an ID-porten `pid`) to a person of the
//! tenant and the audience they sign in as. Never by name.

use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::error::Result;
use crate::policy::Audience;

#[derive(Debug, Clone, Copy)]
pub struct Identity {
    pub tenant_id: Uuid,
    pub person_id: Uuid,
    pub audience: Audience,
}

/// The tenant with `slug`, if any (tenants are not row-level secured: public facts).
pub async fn tenant_by_slug(pool: &PgPool, slug: &str) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1").bind(slug).fetch_optional(pool).await?)
}

/// Feide: staff or pupil, by the Feide user id. A person who is both is signed in as
/// staff (Feide accounts of pupils and staff are separate in practice).
pub async fn by_feide_id(pool: &PgPool, tenant: Uuid, feide_id: &str) -> Result<Option<Identity>> {
    let mut tx = db::begin(pool, tenant).await?;
    let row: Option<(Uuid, bool, bool)> = sqlx::query_as(
        "SELECT p.id, EXISTS (SELECT 1 FROM staff s WHERE s.tenant_id = $1 AND s.person_id = p.id), \
                EXISTS (SELECT 1 FROM pupils u WHERE u.tenant_id = $1 AND u.person_id = p.id) \
         FROM persons p WHERE p.tenant_id = $1 AND p.feide_id = $2",
    )
    .bind(tenant)
    .bind(feide_id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.and_then(|(person_id, staff, pupil)| {
        let audience = if staff {
            Audience::Staff
        } else if pupil {
            Audience::Pupil
        } else {
            return None;
        };
        Some(Identity { tenant_id: tenant, person_id, audience })
    }))
}

/// ID-porten: a guardian, by national identity number (the `pid` claim).
pub async fn by_national_id(pool: &PgPool, tenant: Uuid, national_id: &str) -> Result<Option<Identity>> {
    let mut tx = db::begin(pool, tenant).await?;
    let person: Option<Uuid> = sqlx::query_scalar(
        "SELECT p.id FROM persons p WHERE p.tenant_id = $1 AND p.national_id = $2 \
         AND EXISTS (SELECT 1 FROM guardianships g WHERE g.tenant_id = $1 AND g.guardian_id = p.id)",
    )
    .bind(tenant)
    .bind(national_id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(person.map(|person_id| Identity { tenant_id: tenant, person_id, audience: Audience::Guardian }))
}
