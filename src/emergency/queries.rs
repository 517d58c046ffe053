//! The emergency notices' queries. Every function takes a connection whose transaction
//! has set the tenant (row-level security).

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::sms::Number;

/// The municipality's slug, for the links.
pub async fn slug(mut conn: Conn<'_>) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT t.slug FROM tenants t WHERE t.id = $1")
        .bind(conn.tenant)
        .fetch_one(&mut *conn)
        .await?)
}

pub async fn insert(
    mut conn: Conn<'_>,
    id: Uuid,
    school: Uuid,
    exercise: bool,
    body: &str,
    sent_by: Uuid,
    households: &[Uuid],
) -> Result<()> {
    sqlx::query(
        "WITH n AS (INSERT INTO emergency_notices (tenant_id, id, school_id, exercise, body, sent_by) \
                    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id) \
         INSERT INTO emergency_households (tenant_id, notice_id, pupil_id) \
         SELECT $1, n.id, h.pupil FROM n, unnest($7::uuid[]) AS h (pupil)",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(school)
    .bind(exercise)
    .bind(body)
    .bind(sent_by)
    .bind(households)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_recipients(
    mut conn: Conn<'_>,
    notice: Uuid,
    persons: &[Uuid],
    pupils: &[Vec<Uuid>],
    digital: &[bool],
    numbers: &[Option<Number>],
) -> Result<()> {
    // Arrays of arrays must be rectangular: each person's households as one text.
    let pupils: Vec<String> =
        pupils.iter().map(|p| p.iter().map(Uuid::to_string).collect::<Vec<_>>().join(",")).collect();
    let numbers: Vec<Option<&str>> = numbers.iter().map(|n| n.as_ref().map(Number::as_str)).collect();
    sqlx::query(
        "INSERT INTO emergency_recipients (tenant_id, notice_id, person_id, pupils, digital, number) \
         SELECT $1, $2, r.person, string_to_array(r.pupils, ',')::uuid[], r.digital, r.number \
         FROM unnest($3::uuid[], $4::text[], $5::bool[], $6::text[]) AS r (person, pupils, digital, number)",
    )
    .bind(conn.tenant)
    .bind(notice)
    .bind(persons)
    .bind(&pupils)
    .bind(digital)
    .bind(&numbers)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_links(mut conn: Conn<'_>, notice: Uuid, links: &[(Uuid, Vec<u8>)]) -> Result<()> {
    let persons: Vec<Uuid> = links.iter().map(|(p, _)| *p).collect();
    let hashes: Vec<&[u8]> = links.iter().map(|(_, h)| h.as_slice()).collect();
    sqlx::query(
        "INSERT INTO emergency_links (tenant_id, token_hash, notice_id, person_id) \
         SELECT $1, l.hash, $2, l.person FROM unnest($3::uuid[], $4::bytea[]) AS l (person, hash)",
    )
    .bind(conn.tenant)
    .bind(notice)
    .bind(&persons)
    .bind(&hashes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A notice with its school and how many of its households have confirmed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub school_name: String,
    pub exercise: bool,
    pub body: String,
    pub sent_at: OffsetDateTime,
    pub rounds: i16,
    pub households: i64,
    pub confirmed: i64,
}

const NOTICE_SQL: &str = "SELECT n.id, n.school_id, s.name AS school_name, n.exercise, n.body, n.sent_at, n.rounds, \
            (SELECT count(*) FROM emergency_households h WHERE h.tenant_id = $1 AND h.notice_id = n.id) \
                AS households, \
            (SELECT count(*) FROM emergency_households h WHERE h.tenant_id = $1 AND h.notice_id = n.id \
               AND (h.reached_at IS NOT NULL OR EXISTS ( \
                   SELECT 1 FROM emergency_recipients r WHERE r.tenant_id = $1 AND r.notice_id = n.id \
                     AND h.pupil_id = ANY(r.pupils) AND r.confirmed_at IS NOT NULL))) AS confirmed \
     FROM emergency_notices n JOIN schools s ON s.tenant_id = $1 AND s.id = n.school_id \
     WHERE n.tenant_id = $1";

pub async fn notice(mut conn: Conn<'_>, id: Uuid) -> Result<Option<NoticeRow>> {
    Ok(sqlx::query_as(&format!("{NOTICE_SQL} AND n.id = $2"))
        .bind(conn.tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// The schools' notices, newest first (the last 50).
pub async fn notices(mut conn: Conn<'_>, schools: &[Uuid]) -> Result<Vec<NoticeRow>> {
    Ok(sqlx::query_as(&format!("{NOTICE_SQL} AND n.school_id = ANY($2) ORDER BY n.sent_at DESC, n.id LIMIT 50"))
        .bind(conn.tenant)
        .bind(schools)
        .fetch_all(&mut *conn)
        .await?)
}

/// A guardian of a household nobody has confirmed, for calling.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Guardian {
    pub pupil_id: Uuid,
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// The phone number in the register now (it may have changed since the SMS).
    pub phone: Option<String>,
    pub digital: bool,
    /// `none` (no SMS), `pending`, `refused`, `sent`, `buffered`, `delivered`, `undelivered`.
    pub sms: String,
}

/// A household (pupil) none of whose guardians has confirmed, not reached by phone.
#[derive(Debug, Clone)]
pub struct Household {
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub class: Option<String>,
    pub guardians: Vec<Guardian>,
}

/// Households not yet confirmed, by class and name, each with the guardians to call.
pub async fn open_households(mut conn: Conn<'_>, notice: Uuid) -> Result<Vec<Household>> {
    let rows: Vec<(Uuid, String, String, Option<String>)> = sqlx::query_as(
        "SELECT h.pupil_id, p.given_name, p.family_name, \
                (SELECT g.name FROM group_memberships m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
                 WHERE m.tenant_id = $1 AND m.pupil_id = h.pupil_id AND g.kind = 'base' AND g.school_id = n.school_id \
                   AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
                 ORDER BY g.name LIMIT 1) AS class \
         FROM emergency_households h \
         JOIN emergency_notices n ON n.tenant_id = $1 AND n.id = h.notice_id \
         JOIN persons p ON p.tenant_id = $1 AND p.id = h.pupil_id \
         WHERE h.tenant_id = $1 AND h.notice_id = $2 AND h.reached_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM emergency_recipients r WHERE r.tenant_id = $1 AND r.notice_id = $2 \
                             AND h.pupil_id = ANY(r.pupils) AND r.confirmed_at IS NOT NULL) \
         ORDER BY class NULLS LAST, p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\", h.pupil_id",
    )
    .bind(conn.tenant)
    .bind(notice)
    .fetch_all(&mut *conn)
    .await?;
    let pupils: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let guardians: Vec<Guardian> = sqlx::query_as(
        "SELECT h.pupil AS pupil_id, r.person_id, p.given_name, p.family_name, p.phone, r.digital, \
                coalesce(( \
                    SELECT CASE WHEN o.status = 'pending' THEN 'pending' WHEN o.status = 'failed' THEN 'refused' \
                                WHEN EXISTS (SELECT 1 FROM sms_reports x WHERE x.tenant_id = $1 AND x.sms_id = o.id \
                                               AND x.status = 'delivered') THEN 'delivered' \
                                WHEN EXISTS (SELECT 1 FROM sms_reports x WHERE x.tenant_id = $1 AND x.sms_id = o.id \
                                               AND x.status = 'failed') THEN 'undelivered' \
                                WHEN EXISTS (SELECT 1 FROM sms_reports x WHERE x.tenant_id = $1 AND x.sms_id = o.id \
                                               AND x.status = 'buffered') THEN 'buffered' \
                                ELSE 'sent' END \
                    FROM sms_outbox o WHERE o.tenant_id = $1 AND o.kind = 'emergency_notice' \
                      AND o.recipient_id = r.person_id AND o.dedupe_key LIKE $4 || '-%' \
                    ORDER BY o.created_at DESC LIMIT 1), 'none') AS sms \
         FROM unnest($3::uuid[]) AS h (pupil) \
         JOIN emergency_recipients r ON r.tenant_id = $1 AND r.notice_id = $2 AND h.pupil = ANY(r.pupils) \
         JOIN persons p ON p.tenant_id = $1 AND p.id = r.person_id \
         ORDER BY h.pupil, p.family_name COLLATE \"nb-NO-x-icu\", p.given_name COLLATE \"nb-NO-x-icu\", r.person_id",
    )
    .bind(conn.tenant)
    .bind(notice)
    .bind(&pupils)
    .bind(notice.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut by_pupil: std::collections::HashMap<Uuid, Vec<Guardian>> = Default::default();
    for g in guardians {
        by_pupil.entry(g.pupil_id).or_default().push(g);
    }
    Ok(rows
        .into_iter()
        .map(|(pupil_id, given_name, family_name, class)| Household {
            guardians: by_pupil.remove(&pupil_id).unwrap_or_default(),
            pupil_id,
            given_name,
            family_name,
            class,
        })
        .collect())
}

/// The SMS of a notice, all rounds: how many, delivered, waiting (pending, sent or
/// buffered) and failed (refused or undelivered).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct SmsCounts {
    pub total: i64,
    pub delivered: i64,
    pub waiting: i64,
    pub failed: i64,
}

pub async fn sms_counts(mut conn: Conn<'_>, notice: Uuid) -> Result<SmsCounts> {
    Ok(sqlx::query_as(
        "WITH s AS (SELECT o.status, \
                           EXISTS (SELECT 1 FROM sms_reports x WHERE x.tenant_id = $1 AND x.sms_id = o.id \
                                     AND x.status = 'delivered') AS delivered, \
                           EXISTS (SELECT 1 FROM sms_reports x WHERE x.tenant_id = $1 AND x.sms_id = o.id \
                                     AND x.status = 'failed') AS undelivered \
                    FROM sms_outbox o WHERE o.tenant_id = $1 AND o.kind = 'emergency_notice' \
                      AND o.dedupe_key LIKE $2::text || '-%') \
         SELECT count(*) AS total, count(*) FILTER (WHERE delivered) AS delivered, \
                count(*) FILTER (WHERE status <> 'failed' AND NOT delivered AND NOT undelivered) AS waiting, \
                count(*) FILTER (WHERE status = 'failed' OR (undelivered AND NOT delivered)) AS failed \
         FROM s",
    )
    .bind(conn.tenant)
    .bind(notice.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// The next round's number, counted up; `None` after the last allowed round.
pub async fn next_round(mut conn: Conn<'_>, notice: Uuid) -> Result<Option<i16>> {
    Ok(sqlx::query_scalar(
        "UPDATE emergency_notices SET rounds = rounds + 1 WHERE tenant_id = $1 AND id = $2 AND rounds < 20 \
         RETURNING rounds",
    )
    .bind(conn.tenant)
    .bind(notice)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Guardians reached digitally who have not confirmed, in households nobody has
/// confirmed or reached, with their number now and language: (person, phone, lang).
pub async fn unconfirmed_numbers(mut conn: Conn<'_>, notice: Uuid) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT r.person_id, p.phone, coalesce(pl.lang, 'nb') \
         FROM emergency_recipients r \
         JOIN persons p ON p.tenant_id = $1 AND p.id = r.person_id \
         LEFT JOIN person_languages pl ON pl.tenant_id = $1 AND pl.person_id = r.person_id \
         WHERE r.tenant_id = $1 AND r.notice_id = $2 AND r.digital AND r.confirmed_at IS NULL \
           AND p.phone IS NOT NULL AND p.deceased_on IS NULL \
           AND EXISTS (SELECT 1 FROM emergency_households h WHERE h.tenant_id = $1 AND h.notice_id = $2 \
                         AND h.pupil_id = ANY(r.pupils) AND h.reached_at IS NULL \
                         AND NOT EXISTS (SELECT 1 FROM emergency_recipients o WHERE o.tenant_id = $1 \
                                           AND o.notice_id = $2 AND h.pupil_id = ANY(o.pupils) \
                                           AND o.confirmed_at IS NOT NULL)) \
         ORDER BY r.person_id",
    )
    .bind(conn.tenant)
    .bind(notice)
    .fetch_all(&mut *conn)
    .await?)
}

/// Mark a household reached by phone (once); `false` when the notice has no such household.
pub async fn mark_reached(mut conn: Conn<'_>, notice: Uuid, pupil: Uuid, by: Uuid) -> Result<bool> {
    let found: Option<bool> = sqlx::query_scalar(
        "WITH h AS (SELECT pupil_id FROM emergency_households WHERE tenant_id = $1 AND notice_id = $2 AND pupil_id = $3), \
              u AS (UPDATE emergency_households SET reached_at = now(), reached_by = $4 \
                    WHERE tenant_id = $1 AND notice_id = $2 AND pupil_id = $3 AND reached_at IS NULL) \
         SELECT true FROM h",
    )
    .bind(conn.tenant)
    .bind(notice)
    .bind(pupil)
    .bind(by)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}
