//! The population register (Folkeregisteret) import, `tavle import folkeregister`:
//! persons as the register gives them, applied to one municipality in one transaction
//! or not at all (issue 18, point 9).
//!
//! - `file`: reading and checking the file (JSON Lines, README "Population register
//!   file format"); every problem with its line, never with a number from the file.
//! - here: matching each person to Tavle, deciding what changes (`plan`), and writing
//!   it set-wise, a handful of statements whatever the file's size.
//!
//! What the register decides, and what it never does:
//! - names, birth date, address and its protection, death and a move out are the
//!   register's: a change is applied, the earlier values kept in `person_history` (an
//!   address only while neither it nor the new one is protected: protecting an
//!   address wipes it from the history too);
//! - parental responsibility decides who is a guardian with access (research O4): a
//!   child's line with `foreldreansvar` is the whole truth about it. Guardianships it
//!   no longer names are ended, never deleted once begun; the earlier values are kept in
//!   `guardianship_history`. Sessions see the change on their next request (access epoch);
//! - a restriction recorded by the office (`guardian_restrictions`) is never touched,
//!   and a restricted relation the register names is not added or re-opened;
//! - what cannot be matched safely is not applied but queued for the office
//!   (`register_queue`): a new number whose name and birth date Tavle already has under
//!   another number, a changed number, two numbers that are two persons in Tavle; and
//!   the death or move out of a pupil or guardian is applied and queued, for the office
//!   to end enrolments and tell whoever needs to know.
//!
//! A second run of the same file changes nothing and queues nothing new. Audited as done
//! by Tavle itself, with every person whose data changed.

pub mod file;
mod plan;
pub mod scheduled;

use std::collections::{HashMap, HashSet};
use std::fmt;

use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use crate::audit::{self, Resource};
use crate::db::{self, Conn};
use crate::policy::Purpose;
use file::{LineError, RegisterPerson};
pub use plan::Report;
use plan::{Existing, Guardianship, Known, Plan};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Check and count everything, then roll back.
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no municipality with the slug {0:?}")]
    UnknownTenant(String),
    /// Every problem, in line order. Nothing was written.
    #[error("nothing imported: {} problem(s)", .0.len())]
    Invalid(Vec<LineError>),
    #[error("database error during the population register import")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the population register import's audit event")]
    Audit(#[from] crate::error::AppError),
}

/// Import `input` (the file's bytes) into the municipality `tenant_slug`.
///
/// # Errors
///
/// [`ImportError::Invalid`] with every problem; an unknown tenant; database errors.
pub async fn import(
    pool: &PgPool,
    tenant_slug: &str,
    input: &[u8],
    options: ImportOptions,
) -> Result<Report, ImportError> {
    let (tenant, synthetic_allowed) = db::import_tenant(pool, tenant_slug)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(tenant_slug.to_owned()))?;
    let parsed = file::parse(input, synthetic_allowed);
    let mut errors = parsed.errors;
    let persons = parsed.persons;

    let mut tx = db::begin(pool, tenant).await?;
    db::lock_import(&mut tx, "tavle.folkeregister.", tenant).await?;
    let today: Date = sqlx::query_scalar("SELECT tavle_today()").fetch_one(&mut *tx).await?;

    let existing = load_existing(Conn::new(&mut tx, tenant), &persons).await?;
    let others = load_others(Conn::new(&mut tx, tenant), &persons).await?;
    errors.extend(plan::unknown_parents(&persons, &others));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        tx.rollback().await?;
        return Err(ImportError::Invalid(errors));
    }

    let mut plan = Plan::new(tenant_slug, options.dry_run, today, &persons, &existing);
    let created = create_persons(Conn::new(&mut tx, tenant), &plan.to_create(&persons)).await?;
    plan.created(&persons, &created, others);
    let pupils: Vec<Uuid> = plan.children_to_reconcile(&persons);
    let (guardianships, restricted) = load_guardianships(Conn::new(&mut tx, tenant), &pupils, today).await?;
    plan.guardianships(&persons, &guardianships, &restricted);

    let (queued, asked) = write(Conn::new(&mut tx, tenant), &plan, &persons, today).await?;
    plan.report.queued = queued;
    plan.report.already_queued = asked - queued;

    let subjects = plan.subjects();
    let imported = audit::Imported {
        resource: Resource::FolkeregisterImport,
        resource_id: None,
        subjects: &subjects,
        purpose: Purpose::SchoolAdministration,
        changed: !subjects.is_empty(),
    };
    audit::end_import(tx, tenant, options.dry_run, imported).await?;
    Ok(plan.report)
}

/// Each line's match in Tavle: the person with its number, the holder of its former
/// number, and (for a number Tavle does not know) a person with the same names and
/// birth date under another number, found by the birth date (migration
/// 20261229000300: under row-level security `lower(name)` cannot use the name index).
async fn load_existing(mut conn: Conn<'_>, persons: &[RegisterPerson]) -> sqlx::Result<Vec<Existing>> {
    let lines: Vec<i64> = persons.iter().map(|p| p.line as i64).collect();
    let nids: Vec<&str> = persons.iter().map(|p| p.national_id.as_str()).collect();
    let former: Vec<Option<&str>> = persons.iter().map(|p| p.former_national_id.as_deref()).collect();
    let given: Vec<&str> = persons.iter().map(|p| p.given_name.as_str()).collect();
    let family: Vec<&str> = persons.iter().map(|p| p.family_name.as_str()).collect();
    let birth: Vec<Date> = persons.iter().map(|p| p.birth_date).collect();
    sqlx::query_as(
        "SELECT f.line, p.id AS person_id, fp.id AS former_person_id, \
                CASE WHEN p.id IS NULL AND fp.id IS NULL THEN \
                  (SELECT (array_agg(d.id ORDER BY d.id))[1] FROM persons d WHERE d.tenant_id = $1 \
                     AND lower(d.family_name) = lower(f.family) AND lower(d.given_name) = lower(f.given) \
                     AND d.birth_date = f.birth) END AS duplicate_of, \
                p.given_name, p.family_name, p.birth_date, p.address_protection, p.street_address, \
                p.postal_code, p.postal_town, p.deceased_on, p.moved_out_on, p.moved_to_municipality, \
                EXISTS (SELECT 1 FROM pupils pu WHERE pu.tenant_id = $1 AND pu.person_id = p.id) AS is_pupil, \
                EXISTS (SELECT 1 FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = p.id \
                          AND (e.to_date IS NULL OR e.to_date > tavle_today())) AS is_enrolled, \
                EXISTS (SELECT 1 FROM guardianships g WHERE g.tenant_id = $1 AND g.guardian_id = p.id \
                          AND (g.to_date IS NULL OR g.to_date > tavle_today())) AS is_guardian \
         FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[]) \
              AS f(line, nid, former, given, family, birth) \
         LEFT JOIN persons p ON p.tenant_id = $1 AND p.national_id = f.nid \
         LEFT JOIN persons fp ON fp.tenant_id = $1 AND fp.national_id = f.former \
         ORDER BY f.line",
    )
    .bind(conn.tenant)
    .bind(&lines)
    .bind(&nids)
    .bind(&former)
    .bind(&given)
    .bind(&family)
    .bind(&birth)
    .fetch_all(&mut *conn)
    .await
}

/// Persons in Tavle that the file names as parents but does not carry itself.
async fn load_others(mut conn: Conn<'_>, persons: &[RegisterPerson]) -> sqlx::Result<HashMap<String, Known>> {
    let in_file: HashSet<&str> = persons.iter().map(|p| p.national_id.as_str()).collect();
    let mut wanted: Vec<&str> = persons
        .iter()
        .flat_map(|p| p.links.iter().map(|l| l.national_id.as_str()))
        .filter(|n| !in_file.contains(n))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let rows: Vec<(String, Uuid, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT national_id, id, street_address, postal_code FROM persons WHERE tenant_id = $1 AND national_id = ANY($2)",
    )
    .bind(conn.tenant)
    .bind(&wanted)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(nid, id, street, postal_code)| (nid, Known { id, street, postal_code })).collect())
}

/// Create the persons Tavle does not have; their ids by national id.
async fn create_persons(mut conn: Conn<'_>, new: &[&RegisterPerson]) -> sqlx::Result<HashMap<String, Uuid>> {
    if new.is_empty() {
        return Ok(HashMap::new());
    }
    let c = plan::Columns::of(new.iter().copied());
    let args = c.arguments(conn.tenant, &c.nid).map_err(sqlx::Error::Encode)?;
    let rows: Vec<(String, Uuid)> = sqlx::query_as_with(
        "INSERT INTO persons (tenant_id, national_id, given_name, family_name, birth_date, address_protection, \
             street_address, postal_code, postal_town, deceased_on, moved_out_on, moved_to_municipality) \
         SELECT $1, f.nid, f.given, f.family, f.birth, f.protection, f.street, f.postal_code, f.town, \
                f.deceased, f.moved_out, f.moved_to \
         FROM unnest($2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[], $9::text[], \
                     $10::date[], $11::date[], $12::text[]) \
              AS f(nid, given, family, birth, protection, street, postal_code, town, deceased, moved_out, moved_to) \
         RETURNING national_id, id",
        args,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The guardianships of `pupils`, and the (pupil, guardian) pairs a restriction blocks today.
async fn load_guardianships(
    mut conn: Conn<'_>,
    pupils: &[Uuid],
    today: Date,
) -> sqlx::Result<(Vec<Guardianship>, HashSet<(Uuid, Uuid)>)> {
    if pupils.is_empty() {
        return Ok((Vec::new(), HashSet::new()));
    }
    let stored = sqlx::query_as(
        "SELECT g.pupil_id, g.guardian_id, g.parental_responsibility, g.from_date, g.to_date, \
           g.manual_reason IS NOT NULL AS manual \
         FROM guardianships g WHERE g.tenant_id = $1 AND g.pupil_id = ANY($2)",
    )
    .bind(conn.tenant)
    .bind(pupils)
    .fetch_all(&mut *conn)
    .await?;
    let restricted: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT r.pupil_id, r.guardian_id FROM guardian_restrictions r WHERE r.tenant_id = $1 AND r.pupil_id = ANY($2) \
           AND r.from_date <= $3 AND (r.to_date IS NULL OR r.to_date > $3)",
    )
    .bind(conn.tenant)
    .bind(pupils)
    .bind(today)
    .fetch_all(&mut *conn)
    .await?;
    Ok((stored, restricted.into_iter().collect()))
}

/// Write the plan: history first (the values before), then the changes. Gives the
/// number of queue items added and the number the plan asked for.
async fn write(
    mut conn: Conn<'_>,
    plan: &Plan,
    persons: &[RegisterPerson],
    today: Date,
) -> sqlx::Result<(usize, usize)> {
    let tenant = conn.tenant;
    let changed = plan.changed_persons(persons);
    if !changed.is_empty() {
        let ids: Vec<Uuid> = changed.iter().map(|(id, _)| *id).collect();
        let keep: Vec<bool> = changed.iter().map(|(_, p)| p.protection == file::Protection::None).collect();
        crate::pupils::queries::keep_person_history(conn.re(), &ids, &keep, "folkeregister").await?;
        let c = plan::Columns::of(changed.iter().map(|(_, p)| *p));
        let args = c.arguments(tenant, &ids).map_err(sqlx::Error::Encode)?;
        sqlx::query_with(
            "UPDATE persons p SET given_name = f.given, family_name = f.family, birth_date = f.birth, \
                 address_protection = f.protection, \
                 street_address = CASE WHEN f.protection = 'strictly_confidential' THEN NULL ELSE coalesce(f.street, p.street_address) END, \
                 postal_code = CASE WHEN f.protection = 'strictly_confidential' THEN NULL ELSE coalesce(f.postal_code, p.postal_code) END, \
                 postal_town = CASE WHEN f.protection = 'strictly_confidential' THEN NULL ELSE coalesce(f.town, p.postal_town) END, \
                 deceased_on = f.deceased, moved_out_on = f.moved_out, moved_to_municipality = f.moved_to, updated_at = now() \
             FROM unnest($2::uuid[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[], $9::text[], \
                         $10::date[], $11::date[], $12::text[]) \
                  AS f(id, given, family, birth, protection, street, postal_code, town, deceased, moved_out, moved_to) \
             WHERE p.tenant_id = $1 AND p.id = f.id",
            args,
        )
        .execute(&mut *conn)
        .await?;
        // A protected address leaves no trace in the history either.
        let protected: Vec<Uuid> =
            changed.iter().filter(|(_, p)| p.protection != file::Protection::None).map(|(id, _)| *id).collect();
        sqlx::query(
            "UPDATE person_history SET street_address = NULL, postal_code = NULL, postal_town = NULL \
             WHERE tenant_id = $1 AND person_id = ANY($2) AND street_address IS NOT NULL",
        )
        .bind(tenant)
        .bind(&protected)
        .execute(&mut *conn)
        .await?;
    }
    let deceased = plan.newly_deceased();
    if !deceased.is_empty() {
        // A death stops the mail already waiting for the person.
        sqlx::query(
            "UPDATE mail_outbox SET status = 'failed', last_error = 'recipient_deceased' \
             WHERE tenant_id = $1 AND status = 'pending' AND recipient_id = ANY($2)",
        )
        .bind(tenant)
        .bind(&deceased)
        .execute(&mut *conn)
        .await?;
    }
    let queue = plan.queue(persons);
    let mut queued = 0;
    if !queue.is_empty() {
        queued = sqlx::query(
            "INSERT INTO register_queue (tenant_id, kind, national_id, person_id, school_id, given_name, family_name, birth_date) \
             SELECT $1, q.kind, q.nid, q.person, coalesce( \
                      (SELECT e.school_id FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = q.person \
                         AND (e.to_date IS NULL OR e.to_date > $9) ORDER BY e.from_date DESC, e.id LIMIT 1), \
                      (SELECT e.school_id FROM guardianships g JOIN enrolments e ON e.tenant_id = g.tenant_id AND e.pupil_id = g.pupil_id \
                         WHERE g.tenant_id = $1 AND e.tenant_id = $1 AND g.guardian_id = q.person \
                           AND (e.to_date IS NULL OR e.to_date > $9) ORDER BY e.from_date DESC, e.id LIMIT 1)), \
                    q.given, q.family, q.birth \
             FROM unnest($2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::date[], $8::int8[]) \
                  AS q(kind, nid, person, given, family, birth, line) \
             ORDER BY q.line \
             ON CONFLICT (tenant_id, kind, national_id) WHERE resolved_at IS NULL DO NOTHING",
        )
        .bind(tenant)
        .bind(queue.iter().map(|q| q.kind).collect::<Vec<_>>())
        .bind(queue.iter().map(|q| q.person.national_id.as_str()).collect::<Vec<_>>())
        .bind(queue.iter().map(|q| q.person_id).collect::<Vec<_>>())
        .bind(queue.iter().map(|q| q.person.given_name.as_str()).collect::<Vec<_>>())
        .bind(queue.iter().map(|q| q.person.family_name.as_str()).collect::<Vec<_>>())
        .bind(queue.iter().map(|q| q.person.birth_date).collect::<Vec<_>>())
        .bind(queue.iter().map(|q| q.person.line as i64).collect::<Vec<_>>())
        .bind(today)
        .execute(&mut *conn)
        .await?
        .rows_affected() as usize;
    }
    write_guardianships(conn.re(), plan, today).await?;
    write_register_parents(conn, &plan.register_parents).await?;
    Ok((queued, queue.len()))
}

/// The parents of children who are not pupils, as their lines say: set-wise, and only
/// rows that differ are written (a second run changes nothing, so no access epoch moves).
async fn write_register_parents(mut conn: Conn<'_>, r: &plan::RegisterParents) -> sqlx::Result<()> {
    if r.settled.is_empty() && r.links.is_empty() {
        return Ok(());
    }
    let child: Vec<Uuid> = r.links.iter().map(|l| l.0).collect();
    let parent: Vec<Uuid> = r.links.iter().map(|l| l.1).collect();
    let responsible: Vec<bool> = r.links.iter().map(|l| l.2).collect();
    sqlx::query(
        "DELETE FROM register_parents r WHERE r.tenant_id = $1 AND r.child_id = ANY($2) \
           AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::uuid[]) AS u(child, parent) \
                           WHERE u.child = r.child_id AND u.parent = r.parent_id)",
    )
    .bind(conn.tenant)
    .bind(&r.settled)
    .bind(&child)
    .bind(&parent)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO register_parents AS r (tenant_id, child_id, parent_id, parental_responsibility) \
         SELECT $1, u.child, u.parent, u.responsible FROM unnest($2::uuid[], $3::uuid[], $4::bool[]) AS u(child, parent, responsible) \
         ON CONFLICT (tenant_id, child_id, parent_id) DO UPDATE SET parental_responsibility = EXCLUDED.parental_responsibility \
         WHERE r.tenant_id = $1 AND r.parental_responsibility <> EXCLUDED.parental_responsibility",
    )
    .bind(conn.tenant)
    .bind(&child)
    .bind(&parent)
    .bind(&responsible)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn write_guardianships(mut conn: Conn<'_>, plan: &Plan, today: Date) -> sqlx::Result<()> {
    let tenant = conn.tenant;
    let g = &plan.guardianship_changes;
    let touched: Vec<(Uuid, Uuid)> = g
        .set
        .iter()
        .map(|s| (s.pupil, s.guardian))
        .chain(g.ended.iter().copied())
        .chain(g.removed.iter().copied())
        .collect();
    if !touched.is_empty() {
        sqlx::query(
            "INSERT INTO guardianship_history (tenant_id, pupil_id, guardian_id, source, parental_responsibility, from_date, to_date) \
             SELECT $1, g.pupil_id, g.guardian_id, 'folkeregister', g.parental_responsibility, g.from_date, g.to_date \
             FROM unnest($2::uuid[], $3::uuid[]) AS u(pupil, guardian) \
             JOIN guardianships g ON g.tenant_id = $1 AND g.pupil_id = u.pupil AND g.guardian_id = u.guardian",
        )
        .bind(tenant)
        .bind(touched.iter().map(|t| t.0).collect::<Vec<_>>())
        .bind(touched.iter().map(|t| t.1).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !g.set.is_empty() {
        // New ones, changed ones and ended ones opened again, in one statement.
        sqlx::query(
            "INSERT INTO guardianships (tenant_id, pupil_id, guardian_id, parental_responsibility, lives_with, from_date) \
             SELECT $1, u.pupil, u.guardian, u.responsible, u.lives_with, u.from_date \
             FROM unnest($2::uuid[], $3::uuid[], $4::bool[], $5::bool[], $6::date[]) \
                  AS u(pupil, guardian, responsible, lives_with, from_date) \
             ON CONFLICT (tenant_id, pupil_id, guardian_id) DO UPDATE \
                SET parental_responsibility = EXCLUDED.parental_responsibility, from_date = EXCLUDED.from_date, to_date = NULL",
        )
        .bind(tenant)
        .bind(g.set.iter().map(|s| s.pupil).collect::<Vec<_>>())
        .bind(g.set.iter().map(|s| s.guardian).collect::<Vec<_>>())
        .bind(g.set.iter().map(|s| s.responsible).collect::<Vec<_>>())
        .bind(g.set.iter().map(|s| s.lives_with).collect::<Vec<_>>())
        .bind(g.set.iter().map(|s| s.from_date).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !g.ended.is_empty() {
        sqlx::query(
            "UPDATE guardianships g SET to_date = $4 FROM unnest($2::uuid[], $3::uuid[]) AS u(pupil, guardian) \
             WHERE g.tenant_id = $1 AND g.pupil_id = u.pupil AND g.guardian_id = u.guardian",
        )
        .bind(tenant)
        .bind(g.ended.iter().map(|t| t.0).collect::<Vec<_>>())
        .bind(g.ended.iter().map(|t| t.1).collect::<Vec<_>>())
        .bind(today)
        .execute(&mut *conn)
        .await?;
    }
    if !g.removed.is_empty() {
        // Ones that had not begun: they never gave anyone access.
        sqlx::query(
            "DELETE FROM guardianships g USING unnest($2::uuid[], $3::uuid[]) AS u(pupil, guardian) \
             WHERE g.tenant_id = $1 AND g.pupil_id = u.pupil AND g.guardian_id = u.guardian",
        )
        .bind(tenant)
        .bind(g.removed.iter().map(|t| t.0).collect::<Vec<_>>())
        .bind(g.removed.iter().map(|t| t.1).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.dry_run { "dry run, nothing saved: " } else { "" };
        write!(
            f,
            "{prefix}population register for {}: {} person(s) read; {} created, {} changed, {} unchanged; \
             {} queued for the office ({} already in the queue); guardianships: {} added, {} changed, {} ended; \
             {} restricted relation(s) and {} manual link(s) left as they are; {} newly protected address(es); \
             {} death(s); \
             {} child(ren) not in school yet (guardianships not stored)",
            self.tenant,
            self.persons,
            self.created,
            self.changed,
            self.unchanged,
            self.queued,
            self.already_queued,
            self.guardianships_added,
            self.guardianships_changed,
            self.guardianships_ended,
            self.kept_restricted,
            self.kept_manual,
            self.newly_protected,
            self.deaths,
            self.children_not_pupils,
        )
    }
}
