//! Reading the audit log for its page: one page of events by filter and keyset
//! cursor, and the names of the persons an event names. Access was decided by
//! `policy::audit_log_access` before these are called.

use std::collections::HashMap;

use crate::db::Conn;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::audit::Action;
use crate::error::Result;

pub const PAGE_SIZE: i64 = 50;

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cursor {
    #[default]
    Newest,
    Before(i64),
    After(i64),
}

/// A parsed filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<Uuid>,
    pub subject: Option<Uuid>,
    pub action: Option<Action>,
    pub from: Option<Date>,
    /// Inclusive.
    pub to: Option<Date>,
    pub cursor: Cursor,
    /// A principal's view: only events about pupils enrolled (now or before) at these schools.
    pub schools: Option<Vec<Uuid>>,
}

/// An event as read, before names are looked up.
#[derive(Debug, sqlx::FromRow)]
pub struct RawEvent {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub local_time: String,
    pub actor_person_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource: String,
    pub subject_ids: Vec<Option<Uuid>>,
    pub purpose: String,
    pub ip: Option<String>,
}

/// One page of events (newest first) and whether older and newer ones exist.
pub async fn events(mut conn: Conn<'_>, f: &AuditFilter) -> Result<(Vec<RawEvent>, bool, bool)> {
    async fn fetch(mut conn: Conn<'_>, f: &AuditFilter, cursor: Cursor) -> Result<Vec<RawEvent>> {
        let (before, after, order) = match cursor {
            Cursor::Newest => (None, None, "DESC"),
            Cursor::Before(s) => (Some(s), None, "DESC"),
            Cursor::After(s) => (None, Some(s), "ASC"),
        };
        // `order` is one of two constants; every value is a bind parameter. Dates are
        // Norwegian days: from the start of `from` to the end of `to`, Oslo time.
        let sql = format!(
            "SELECT seq, at, to_char(at AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD HH24:MI:SS') AS local_time, \
                    actor_person_id, actor_role, action, resource, subject_ids, purpose, ip \
             FROM audit_events \
             WHERE audit_events.tenant_id = $1 \
               AND ($2::uuid IS NULL OR actor_person_id = $2) \
               AND ($3::uuid IS NULL OR subject_ids @> ARRAY[$3::uuid]) \
               AND ($4::text IS NULL OR action = $4) \
               AND ($5::date IS NULL OR at >= ($5::date::timestamp AT TIME ZONE 'Europe/Oslo')) \
               AND ($6::date IS NULL OR at < (($6::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo')) \
               AND ($7::bigint IS NULL OR seq < $7) \
               AND ($8::bigint IS NULL OR seq > $8) \
               AND ($10::uuid[] IS NULL OR EXISTS (SELECT 1 FROM enrolments en \
                    WHERE en.tenant_id = $1 AND en.pupil_id = ANY(audit_events.subject_ids) \
                      AND en.school_id = ANY($10))) \
             ORDER BY seq {order} LIMIT $9"
        );
        Ok(sqlx::query_as(&sql)
            .bind(conn.tenant)
            .bind(f.actor)
            .bind(f.subject)
            .bind(f.action.map(Action::code))
            .bind(f.from)
            .bind(f.to)
            .bind(before)
            .bind(after)
            .bind(PAGE_SIZE + 1)
            .bind(f.schools.as_deref())
            .fetch_all(&mut *conn)
            .await?)
    }

    let mut cursor = f.cursor;
    if let Cursor::After(_) = cursor {
        let mut rows = fetch(conn.re(), f, cursor).await?;
        if rows.len() as i64 > PAGE_SIZE {
            rows.truncate(PAGE_SIZE as usize);
            rows.reverse();
            // Came from an older page, so older events exist.
            return Ok((rows, true, true));
        }
        // Fewer than a page newer than the cursor: that is the newest page.
        cursor = Cursor::Newest;
    }
    let mut rows = fetch(conn.re(), f, cursor).await?;
    let has_older = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok((rows, has_older, cursor != Cursor::Newest))
}

/// Names of those of `ids` the reader may name (`policy::AuditLogAccess::schools`):
/// everyone in the municipality for the municipality-wide readers (`None`); for a
/// principal, the pupils enrolled (now or before) at their schools, those pupils'
/// guardians, and staff of the municipality. The rest get no name, and the page shows no
/// id of theirs.
pub async fn nameable(mut conn: Conn<'_>, ids: &[Uuid], schools: Option<&[Uuid]>) -> Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT p.id, p.given_name || ' ' || p.family_name FROM persons p WHERE p.tenant_id = $1 AND p.id = ANY($2) \
         AND ($3::uuid[] IS NULL \
              OR EXISTS (SELECT 1 FROM enrolments e WHERE e.tenant_id = $1 AND e.tenant_id = p.tenant_id \
                         AND e.pupil_id = p.id AND e.school_id = ANY($3)) \
              OR EXISTS (SELECT 1 FROM staff s WHERE s.tenant_id = $1 AND s.tenant_id = p.tenant_id \
                         AND s.person_id = p.id) \
              OR EXISTS (SELECT 1 FROM guardianships g JOIN enrolments e ON e.tenant_id = $1 \
                           AND e.tenant_id = g.tenant_id AND e.pupil_id = g.pupil_id AND e.school_id = ANY($3) \
                         WHERE g.tenant_id = $1 AND g.tenant_id = p.tenant_id AND g.guardian_id = p.id))",
    )
    .bind(conn.tenant)
    .bind(ids)
    .bind(schools)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}
