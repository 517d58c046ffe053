//! The threads' reads and writes. Every function takes a connection whose transaction
//! has set the municipality; `$1` is it, as everywhere.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::policy::Side;

/// A thread in an inbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadRow {
    pub id: Uuid,
    pub topic: String,
    pub pupil_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub school_name: String,
    pub office: bool,
    pub last_message_at: OffsetDateTime,
    /// A message by someone else since the reader last opened it.
    pub unread: bool,
    /// Kept for the archive instead of deleted by the retention rule.
    pub archive_worthy: bool,
}

const THREAD_COLUMNS: &str =
    "t.id, t.topic, t.pupil_id, c.given_name, c.family_name, s.name AS school_name, t.office, \
     t.last_message_at, \
     EXISTS (SELECT 1 FROM thread_messages m WHERE m.tenant_id = $1 AND m.thread_id = t.id AND m.author_id <> $2 \
               AND m.sent_at > coalesce((SELECT tp.last_read_at FROM thread_participants tp \
                                         WHERE tp.tenant_id = $1 AND tp.thread_id = t.id AND tp.person_id = $2), \
                                        '-infinity')) AS unread, t.archive_worthy \
     FROM message_threads t \
     JOIN persons c ON c.tenant_id = $1 AND c.id = t.pupil_id \
     JOIN schools s ON s.tenant_id = $1 AND s.id = t.school_id";

/// A guardian's threads: those they are on the home side of, about `children`.
pub async fn guardian_inbox(mut conn: Conn<'_>, person: Uuid, children: &[Uuid]) -> Result<Vec<ThreadRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {THREAD_COLUMNS} \
         WHERE t.tenant_id = $1 AND t.pupil_id = ANY($3) AND t.withdrawn_at IS NULL \
           AND EXISTS (SELECT 1 FROM thread_participants tp WHERE tp.tenant_id = $1 AND tp.thread_id = t.id \
                         AND tp.person_id = $2 AND tp.side = 'home') \
         ORDER BY t.last_message_at DESC, t.id LIMIT 200"
    ))
    .bind(conn.tenant)
    .bind(person)
    .bind(children)
    .fetch_all(&mut *conn)
    .await?)
}

/// Staff's threads: those they are on, and the office's threads of `office_schools`;
/// a group message's copy once its guardian has answered (the rest are counted on the
/// group message's page).
pub async fn staff_inbox(mut conn: Conn<'_>, person: Uuid, office_schools: &[Uuid]) -> Result<Vec<ThreadRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {THREAD_COLUMNS} \
         WHERE t.tenant_id = $1 \
           AND (EXISTS (SELECT 1 FROM thread_participants tp WHERE tp.tenant_id = $1 AND tp.thread_id = t.id \
                          AND tp.person_id = $2 AND tp.side = 'school') \
                OR (t.office AND t.school_id = ANY($3))) \
           AND (t.broadcast_id IS NULL OR EXISTS (SELECT 1 FROM thread_messages m WHERE m.tenant_id = $1 \
                  AND m.thread_id = t.id AND m.author_id <> t.started_by)) \
         ORDER BY t.last_message_at DESC, t.id LIMIT 200"
    ))
    .bind(conn.tenant)
    .bind(person)
    .bind(office_schools)
    .fetch_all(&mut *conn)
    .await?)
}

/// One thread, as `reader` sees it in the list.
pub async fn thread(mut conn: Conn<'_>, reader: Uuid, id: Uuid) -> Result<Option<ThreadRow>> {
    Ok(sqlx::query_as(&format!("SELECT {THREAD_COLUMNS} WHERE t.tenant_id = $1 AND t.id = $3"))
        .bind(conn.tenant)
        .bind(reader)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// A message of a thread, with its author.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub author_id: Uuid,
    pub author_given: String,
    pub author_family: String,
    /// The author's side; none for staff who read without being on the thread.
    pub side: Option<String>,
    pub body: String,
    pub sent_at: OffsetDateTime,
}

pub async fn messages(mut conn: Conn<'_>, thread: Uuid) -> Result<Vec<MessageRow>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.author_id, a.given_name AS author_given, a.family_name AS author_family, tp.side, m.body, \
                m.sent_at \
         FROM thread_messages m \
         JOIN persons a ON a.tenant_id = $1 AND a.id = m.author_id \
         LEFT JOIN thread_participants tp ON tp.tenant_id = $1 AND tp.thread_id = m.thread_id \
              AND tp.person_id = m.author_id \
         WHERE m.tenant_id = $1 AND m.thread_id = $2 ORDER BY m.sent_at, m.id",
    )
    .bind(conn.tenant)
    .bind(thread)
    .fetch_all(&mut *conn)
    .await?)
}

/// Someone on a thread, and when they last opened it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Participant {
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub side: String,
    pub last_read_at: Option<OffsetDateTime>,
}

pub async fn participants(mut conn: Conn<'_>, thread: Uuid) -> Result<Vec<Participant>> {
    Ok(sqlx::query_as(
        "SELECT tp.person_id, p.given_name, p.family_name, tp.side, tp.last_read_at \
         FROM thread_participants tp JOIN persons p ON p.tenant_id = $1 AND p.id = tp.person_id \
         WHERE tp.tenant_id = $1 AND tp.thread_id = $2 ORDER BY tp.side, p.family_name, p.given_name, tp.person_id",
    )
    .bind(conn.tenant)
    .bind(thread)
    .fetch_all(&mut *conn)
    .await?)
}

/// A thread to start.
pub struct NewThread<'a> {
    pub school: Uuid,
    pub pupil: Uuid,
    pub topic: &'a str,
    /// The school's office is a party.
    pub office: bool,
    pub by: Uuid,
}

/// Start a thread with its participants and first message; the thread's and the
/// message's ids.
pub async fn start(
    mut conn: Conn<'_>,
    t: &NewThread<'_>,
    parties: &[(Uuid, Side)],
    body: &str,
) -> Result<(Uuid, Uuid)> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO message_threads (tenant_id, school_id, pupil_id, topic, office, started_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(conn.tenant)
    .bind(t.school)
    .bind(t.pupil)
    .bind(t.topic)
    .bind(t.office)
    .bind(t.by)
    .fetch_one(&mut *conn)
    .await?;
    let persons: Vec<Uuid> = parties.iter().map(|(p, _)| *p).collect();
    let sides: Vec<&str> = parties.iter().map(|(_, s)| s.code()).collect();
    sqlx::query(
        "INSERT INTO thread_participants (tenant_id, thread_id, person_id, side) \
         SELECT $1, $2, x.person_id, x.side FROM unnest($3::uuid[], $4::text[]) AS x(person_id, side) \
         ON CONFLICT DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(id)
    .bind(&persons)
    .bind(&sides)
    .execute(&mut *conn)
    .await?;
    let message = add_message(conn, id, t.by, body).await?;
    Ok((id, message))
}

/// Join `person` to the thread on `side` (nothing if on it already).
pub async fn join(mut conn: Conn<'_>, thread: Uuid, person: Uuid, side: Side) -> Result<()> {
    sqlx::query(
        "INSERT INTO thread_participants (tenant_id, thread_id, person_id, side) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(thread)
    .bind(person)
    .bind(side.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Add a message by `author` (a participant), who has read the thread by writing in it.
pub async fn add_message(mut conn: Conn<'_>, thread: Uuid, author: Uuid, body: &str) -> Result<Uuid> {
    let (id, at): (Uuid, OffsetDateTime) = sqlx::query_as(
        "INSERT INTO thread_messages (tenant_id, thread_id, author_id, body) VALUES ($1, $2, $3, $4) \
         RETURNING id, sent_at",
    )
    .bind(conn.tenant)
    .bind(thread)
    .bind(author)
    .bind(body)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE message_threads t SET last_message_at = $3 WHERE t.tenant_id = $1 AND t.id = $2")
        .bind(conn.tenant)
        .bind(thread)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    mark_read(conn, thread, author).await?;
    Ok(id)
}

/// `person` (a participant) has read the thread now: written only when there is
/// something new to them, so that reading a read thread again writes nothing.
pub async fn mark_read(mut conn: Conn<'_>, thread: Uuid, person: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE thread_participants tp SET last_read_at = clock_timestamp() FROM message_threads t \
         WHERE tp.tenant_id = $1 AND tp.thread_id = $2 AND tp.person_id = $3 \
           AND t.tenant_id = $1 AND t.id = tp.thread_id \
           AND (tp.last_read_at IS NULL OR tp.last_read_at < t.last_message_at)",
    )
    .bind(conn.tenant)
    .bind(thread)
    .bind(person)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whom to tell of a new message by e-mail: the thread's other participants who have
/// an address and may be written to digitally. Home-side guardians must still be
/// reached for the child (`policy::guardianship::reaches`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRecipient {
    pub person_id: Uuid,
    pub address: String,
    pub lang: String,
}

static NOTICE_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT p.id AS person_id, p.email AS address, coalesce(pl.lang, 'nb') AS lang \
         FROM thread_participants tp \
         JOIN message_threads t ON t.tenant_id = $1 AND t.id = tp.thread_id \
         JOIN persons p ON p.tenant_id = $1 AND p.id = tp.person_id \
         LEFT JOIN person_languages pl ON pl.tenant_id = $1 AND pl.person_id = p.id \
         WHERE tp.tenant_id = $1 AND tp.thread_id = $2 AND tp.person_id <> $3 AND p.email IS NOT NULL \
           AND p.deceased_on IS NULL AND {digital} \
           AND (tp.side = 'school' OR EXISTS ( \
                 SELECT 1 FROM guardianships g JOIN persons c ON c.tenant_id = $1 AND c.id = g.pupil_id \
                 WHERE g.tenant_id = $1 AND g.pupil_id = t.pupil_id AND g.guardian_id = tp.person_id \
                   AND {reaches})) \
         ORDER BY p.id",
        digital = crate::policy::guardianship::digital("p.id"),
        reaches = crate::policy::guardianship::reaches("g", "c", "tavle_today()"),
    )
});

pub async fn notice_recipients(mut conn: Conn<'_>, thread: Uuid, author: Uuid) -> Result<Vec<NoticeRecipient>> {
    Ok(sqlx::query_as(&NOTICE_SQL).bind(conn.tenant).bind(thread).bind(author).fetch_all(&mut *conn).await?)
}

/// The given and family names of `ids` (pupils a guardian may choose, staff).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Named {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
}

pub async fn names(mut conn: Conn<'_>, ids: &[Uuid]) -> Result<Vec<Named>> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.given_name, p.family_name FROM persons p WHERE p.tenant_id = $1 AND p.id = ANY($2) \
         ORDER BY p.given_name, p.family_name, p.id",
    )
    .bind(conn.tenant)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

/// A group message the reader sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SentBroadcast {
    pub id: Uuid,
    pub topic: String,
    pub group_name: String,
    pub sent_at: OffsetDateTime,
}

pub async fn sent_broadcasts(mut conn: Conn<'_>, person: Uuid) -> Result<Vec<SentBroadcast>> {
    Ok(sqlx::query_as(
        "SELECT b.id, b.topic, g.name AS group_name, b.sent_at FROM broadcasts b \
         JOIN groups g ON g.tenant_id = $1 AND g.id = b.group_id \
         WHERE b.tenant_id = $1 AND b.sent_by = $2 ORDER BY b.sent_at DESC, b.id LIMIT 20",
    )
    .bind(conn.tenant)
    .bind(person)
    .fetch_all(&mut *conn)
    .await?)
}

/// The groups of this school year a teacher is assigned to (classes and teaching
/// groups), whose guardians they may write to.
pub async fn my_groups(mut conn: Conn<'_>, person: Uuid) -> Result<Vec<Named>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT g.id, g.name AS given_name, '' AS family_name FROM group_staff s \
         JOIN groups g ON g.tenant_id = s.tenant_id AND g.id = s.group_id AND g.kind IN ('base', 'teaching') \
         JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE s.tenant_id = $1 AND s.staff_id = $2 AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
         ORDER BY g.name, g.id",
    )
    .bind(conn.tenant)
    .bind(person)
    .fetch_all(&mut *conn)
    .await?)
}

/// Flag the thread as worth keeping for the archive, or not.
pub async fn set_archive_worthy(mut conn: Conn<'_>, thread: Uuid, keep: bool) -> Result<()> {
    sqlx::query("UPDATE message_threads t SET archive_worthy = $3 WHERE t.tenant_id = $1 AND t.id = $2")
        .bind(conn.tenant)
        .bind(thread)
        .bind(keep)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
