//! `tavle audit verify`: recompute a tenant's audit chain in Rust and say whether it
//! is whole.
//!
//! The chaining trigger (identity migration) sets, for each new event,
//! `hash = SHA-256(prev_hash || canonical text)`, where the canonical text is the
//! event's fields joined by the unit separator (U+001F) and `prev_hash` is the hash
//! of the tenant's previous event (the genesis hash for the first). `audit_heads`
//! holds the tenant's last `seq` and hash.
//!
//! The check rebuilds the canonical text and the hashes here, from the stored columns,
//! and never calls the database's `tavle_audit_text` or `sha256`: a trigger or
//! function that someone has replaced would otherwise vouch for itself. It walks the
//! events in `seq` order in batches (keyset, not offset) inside one read-only
//! REPEATABLE READ transaction, so memory stays flat for millions of events and the
//! rows and the head are read from the same snapshot while the application keeps
//! writing.
//!
//! What it can and cannot see: a changed, deleted, inserted or reordered row, a
//! truncated tail, and a head that does not match. It cannot see a chain that was
//! rewritten from the tampered row onwards *including the head* by someone who also
//! knows the algorithm (it is public); against that, record the head hash this
//! command prints somewhere the database's administrators cannot write, and compare.

use std::fmt;

use sha2::{Digest, Sha256};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db;

/// The text the first event's `prev_hash` is the SHA-256 of.
const GENESIS: &[u8] = b"tavle-audit-genesis";
/// Events read per round trip.
const BATCH: i64 = 5_000;
/// Between fields of the canonical text (`chr(31)` in the SQL).
const SEPARATOR: char = '\u{1f}';

/// The hash a tenant's chain starts from.
pub fn genesis_hash() -> [u8; 32] {
    Sha256::digest(GENESIS).into()
}

/// An audit event as stored: the fields the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub tenant_id: Uuid,
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor_person_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub session_id: Option<Uuid>,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<Uuid>,
    /// `None` elements are kept as stored (the SQL skips them, and so do we).
    pub subject_ids: Vec<Option<Uuid>>,
    pub purpose: String,
    pub ip: Option<String>,
}

impl ChainedEvent {
    /// The canonical text, exactly as `tavle_audit_text` builds it.
    pub fn canonical(&self) -> String {
        fn opt<T: ToString>(v: &Option<T>) -> String {
            v.as_ref().map(ToString::to_string).unwrap_or_default()
        }
        // `(extract(epoch FROM at) * 1000000)::bigint`: the time is stored with
        // microsecond precision, so this is exact (and negative before 1970).
        let micros = self.at.unix_timestamp_nanos().div_euclid(1_000);
        let subjects: Vec<String> = self.subject_ids.iter().flatten().map(Uuid::to_string).collect();
        let fields = [
            self.tenant_id.to_string(),
            self.seq.to_string(),
            micros.to_string(),
            opt(&self.actor_person_id),
            opt(&self.actor_role),
            opt(&self.session_id),
            self.action.clone(),
            self.resource.clone(),
            opt(&self.resource_id),
            subjects.join(","),
            self.purpose.clone(),
            opt(&self.ip),
        ];
        let mut text = String::new();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                text.push(SEPARATOR);
            }
            text.push_str(f);
        }
        text
    }

    /// `SHA-256(prev_hash || canonical text)`.
    pub fn hash(&self, prev_hash: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(prev_hash);
        h.update(self.canonical().as_bytes());
        h.finalize().into()
    }
}

/// Why the chain is broken at a `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The row's content (or its stored hash) no longer matches its hash: changed.
    Changed,
    /// A row the application could never have written (a value that cannot be read
    /// back as the schema says): changed.
    Unreadable(String),
    /// Rows are missing before this one (`seq` jumps): deleted.
    Missing { next_present: Option<i64> },
    /// The row is intact in itself but does not follow the row before it: rows were
    /// reordered or inserted, or an earlier row was changed and re-hashed.
    Relinked,
    /// The head in `audit_heads` does not match the last event.
    HeadMismatch { head_seq: Option<i64>, last_seq: i64 },
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::Changed => f.write_str("row changed: its hash does not match its content"),
            Break::Unreadable(why) => write!(f, "row changed: it holds a value the application never writes ({why})"),
            Break::Missing { next_present: Some(next) } => {
                write!(f, "row deleted: the log jumps from here to seq {next}")
            }
            Break::Missing { next_present: None } => f.write_str("row deleted: the log ends before the head"),
            Break::Relinked => f.write_str(
                "reordered: the row does not follow the one before it (rows moved or inserted, \
                 or an earlier row changed and re-hashed)",
            ),
            Break::HeadMismatch { head_seq: Some(h), last_seq } => {
                write!(f, "head mismatch: the head is at seq {h} with another hash, the log ends at seq {last_seq}")
            }
            Break::HeadMismatch { head_seq: None, last_seq } => {
                write!(f, "head mismatch: there is no head, but the log has events up to seq {last_seq}")
            }
        }
    }
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok {
        events: i64,
        head_seq: i64,
        head_hash: [u8; 32],
    },
    Broken {
        seq: i64,
        reason: Break,
        /// Events checked and found in order before the break.
        checked: i64,
    },
}

impl Verdict {
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Ok { events, head_seq, head_hash } => {
                write!(f, "OK: {events} events, head seq {head_seq}, head hash {}", hex::encode(head_hash))
            }
            Verdict::Broken { seq, reason, checked } => {
                write!(f, "BROKEN at seq {seq}: {reason} ({checked} events before it are intact)")
            }
        }
    }
}

/// Walk one tenant's chain. `pool` must be able to read `audit_events` and
/// `audit_heads` (the owner's connection; the application's role may not read the
/// heads). Errors are for a database that cannot be read, not for a broken chain.
pub async fn verify(pool: &PgPool, tenant: Uuid) -> anyhow::Result<Verdict> {
    // First give every pending event its place, so that the walk covers all of them.
    let mut tx = pool.begin().await?;
    db::set_tenant(&mut tx, tenant).await?;
    super::chain_pending(&mut tx, tenant).await?;
    tx.commit().await?;

    let mut tx = pool.begin().await?;
    // One snapshot for rows and head, and certainly no writes.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    // Row-level security is forced, for the owner too: bind the tenant.
    db::set_tenant(&mut tx, tenant).await?;

    let mut walk = Walk::new(tenant);
    let mut after = 0i64;
    loop {
        // Columns are read one by one (not as a struct) so that a row with a value
        // the schema allows but our types do not is reported by its seq.
        let rows: Vec<PgRow> = sqlx::query(
            "SELECT tenant_id, seq, at, actor_person_id, actor_role, session_id, action, resource, \
                    resource_id, subject_ids, purpose, ip, prev_hash, hash \
             FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant)
        .bind(after)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("seq")?;
        for row in &rows {
            if let Some(verdict) = walk.step(row)? {
                tx.rollback().await?;
                return Ok(verdict);
            }
        }
        if (rows.len() as i64) < BATCH {
            break;
        }
    }
    let head: Option<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_optional(&mut *tx)
        .await?;
    tx.rollback().await?;
    Ok(walk.finish(head))
}

/// The state of a walk along the chain.
#[derive(Debug)]
struct Walk {
    tenant: Uuid,
    expected_seq: i64,
    /// The hash the next row must name as its `prev_hash`: recomputed, never read.
    running: [u8; 32],
    checked: i64,
}

impl Walk {
    fn new(tenant: Uuid) -> Self {
        Self { tenant, expected_seq: 1, running: genesis_hash(), checked: 0 }
    }

    fn broken(&self, seq: i64, reason: Break) -> Verdict {
        Verdict::Broken { seq, reason, checked: self.checked }
    }

    /// Check the next row; `Some` ends the walk with a break.
    fn step(&mut self, row: &PgRow) -> anyhow::Result<Option<Verdict>> {
        let seq: i64 = row.try_get("seq")?;
        if seq != self.expected_seq {
            return Ok(Some(self.broken(self.expected_seq, Break::Missing { next_present: Some(seq) })));
        }
        let (event, prev_hash, hash) = match read_event(row) {
            Ok(r) => r,
            Err(e) => return Ok(Some(self.broken(seq, Break::Unreadable(e.to_string())))),
        };
        if event.tenant_id != self.tenant {
            return Ok(Some(self.broken(seq, Break::Unreadable("another tenant's id".into()))));
        }
        // Changed in itself: the stored hash does not cover the stored content.
        if event.hash(&prev_hash)[..] != hash[..] {
            return Ok(Some(self.broken(seq, Break::Changed)));
        }
        // Intact in itself, but not the successor of the previous row.
        if prev_hash[..] != self.running[..] {
            return Ok(Some(self.broken(seq, Break::Relinked)));
        }
        self.running = event.hash(&self.running);
        self.expected_seq += 1;
        self.checked += 1;
        Ok(None)
    }

    fn finish(self, head: Option<(i64, Vec<u8>)>) -> Verdict {
        let last_seq = self.expected_seq - 1;
        match head {
            None if last_seq == 0 => Verdict::Ok { events: 0, head_seq: 0, head_hash: self.running },
            None => self.broken(last_seq, Break::HeadMismatch { head_seq: None, last_seq }),
            // Events were deleted from the end: the head still counts them.
            Some((head_seq, _)) if head_seq > last_seq => {
                self.broken(last_seq + 1, Break::Missing { next_present: None })
            }
            Some((head_seq, head_hash)) if head_seq == last_seq && head_hash[..] == self.running[..] => {
                Verdict::Ok { events: self.checked, head_seq, head_hash: self.running }
            }
            Some((head_seq, _)) => self.broken(last_seq, Break::HeadMismatch { head_seq: Some(head_seq), last_seq }),
        }
    }
}

/// One row's fields, its stored `prev_hash` and its stored `hash`.
fn read_event(row: &PgRow) -> Result<(ChainedEvent, Vec<u8>, Vec<u8>), sqlx::Error> {
    let event = ChainedEvent {
        tenant_id: row.try_get("tenant_id")?,
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_person_id: row.try_get("actor_person_id")?,
        actor_role: row.try_get("actor_role")?,
        session_id: row.try_get("session_id")?,
        action: row.try_get("action")?,
        resource: row.try_get("resource")?,
        resource_id: row.try_get("resource_id")?,
        subject_ids: row.try_get("subject_ids")?,
        purpose: row.try_get("purpose")?,
        ip: row.try_get("ip")?,
    };
    Ok((event, row.try_get("prev_hash")?, row.try_get("hash")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Uuid {
        Uuid::parse_str(s).unwrap()
    }

    fn at(unix_nanos: i128) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(unix_nanos).unwrap()
    }

    /// Two events as the trigger chained them (copied from a test database): the first
    /// of a tenant, with empty and NULL fields, and one with every field set.
    fn sign_in() -> ChainedEvent {
        ChainedEvent {
            tenant_id: id("1af80f7f-8807-4942-a639-b4c95d346db2"),
            seq: 1,
            at: at(1_795_437_760_136_475_000),
            actor_person_id: Some(id("8b4c0acf-ed01-41c1-bd98-4f2e9dd0035d")),
            actor_role: Some("staff".into()),
            session_id: Some(id("1e9da9d5-e22c-4898-b009-850b1610f289")),
            action: "sign_in".into(),
            resource: "session".into(),
            resource_id: Some(id("1e9da9d5-e22c-4898-b009-850b1610f289")),
            subject_ids: vec![],
            purpose: "sign_in".into(),
            ip: None,
        }
    }

    fn export() -> ChainedEvent {
        ChainedEvent {
            tenant_id: id("1af80f7f-8807-4942-a639-b4c95d346db2"),
            seq: 3,
            at: at(1_795_437_760_177_241_000),
            actor_person_id: Some(id("a3d3add9-1de4-46ac-8ddc-d33f1bad80dd")),
            actor_role: Some("dpo".into()),
            session_id: Some(id("6f2f1a33-99cc-459c-aba4-373edec15e67")),
            action: "export".into(),
            resource: "pupil_list".into(),
            resource_id: Some(id("1db3b3ad-11c9-4523-9817-f9488f6842a7")),
            subject_ids: vec![
                Some(id("e3d250cd-880c-4d6a-9751-f2d5f530e527")),
                Some(id("7cd31922-38c6-4880-ae82-8a5674da9d47")),
            ],
            purpose: "audit_review".into(),
            ip: Some("2001:db8::1".into()),
        }
    }

    #[test]
    fn the_genesis_hash_is_the_one_the_trigger_starts_from() {
        assert_eq!(hex::encode(genesis_hash()), "3af3b0bc8b7ec9e08e69b16ef3657bc161d5732ea8678c75c36d2611f8b2f91b");
    }

    #[test]
    fn canonical_text_and_hash_match_what_the_trigger_produced() {
        let e = sign_in();
        assert_eq!(
            e.canonical(),
            "1af80f7f-8807-4942-a639-b4c95d346db2\u{1f}1\u{1f}1795437760136475\u{1f}\
             8b4c0acf-ed01-41c1-bd98-4f2e9dd0035d\u{1f}staff\u{1f}1e9da9d5-e22c-4898-b009-850b1610f289\u{1f}\
             sign_in\u{1f}session\u{1f}1e9da9d5-e22c-4898-b009-850b1610f289\u{1f}\u{1f}sign_in\u{1f}"
        );
        assert_eq!(
            hex::encode(e.hash(&genesis_hash())),
            "1c5e4450bb3929f570a2e8fd4ad707a8d62fe1f89ad3dc7cc7f437b6e5ca6f73"
        );

        let e = export();
        let prev = hex::decode("93bc362ba63fd777767c020f3c2388cd56c1dcfaa367e10e47186a8eb371695b").unwrap();
        assert!(e.canonical().ends_with(
            "e3d250cd-880c-4d6a-9751-f2d5f530e527,7cd31922-38c6-4880-ae82-8a5674da9d47\u{1f}audit_review\u{1f}2001:db8::1"
        ));
        assert_eq!(hex::encode(e.hash(&prev)), "eabccda8f8fa3cf86c8ae65a652860a1291d41f572181c0b5dc5ce6615d5c731");
    }

    #[test]
    fn every_field_is_covered() {
        let base = export();
        let prev = genesis_hash();
        let h = base.hash(&prev);
        let mut changed = Vec::new();
        let mut e = base.clone();
        e.at += time::Duration::microseconds(1);
        changed.push(e);
        let mut e = base.clone();
        e.actor_person_id = None;
        changed.push(e);
        let mut e = base.clone();
        e.subject_ids.reverse();
        changed.push(e);
        let mut e = base.clone();
        e.ip = Some("2001:db8::2".into());
        changed.push(e);
        let mut e = base.clone();
        e.seq = 4;
        changed.push(e);
        for e in changed {
            assert_ne!(e.hash(&prev), h, "{e:?}");
        }
        assert_ne!(base.hash(&[0; 32]), h, "the previous hash is covered");
    }

    #[test]
    fn times_before_1970_count_down_exactly() {
        let mut e = sign_in();
        e.at = at(-2_000);
        assert!(e.canonical().contains("\u{1f}-2\u{1f}"), "{}", e.canonical());
    }
}
