//! The demo's messages (Fjordvik only), written as rows as the pages write them:
//!
//! - Kari Nordmann asked Oskar's contact teacher about Friday's outing, for herself
//!   only (Ola does not see it); the contact teacher answered, and Kari has not read
//!   the answer yet.
//! - Solbakken's office wrote to both Kari and Ola about a meeting, and Kari answered.
//! - Solbakken's office wrote to the guardians of Oskar's class about a parents'
//!   evening: a group message, one private copy per guardian it reaches (by the same
//!   rule as `policy::recipients`), none read yet.
//!
//! The threads' ids are made from Oskar's (itself fixed by the generator's seed), so
//! that every demo built has the same: the browser suite opens them by the ids the
//! authorization matrix found.

use sqlx::PgPool;
use time::Month;

use super::personas;

pub async fn load(owner: &PgPool, slug: &str) -> anyhow::Result<()> {
    if slug != "fjordvik" {
        return Ok(());
    }
    let ids = |born: (i32, Month, u8)| personas::fixed_national_id(born).unwrap_or_default();
    let kari = personas::spec("guardian").map(|s| ids(s.born)).unwrap_or_default();
    let clerk = personas::spec("office_clerk").map(|s| ids(s.born)).unwrap_or_default();
    let (ola, oskar) = (ids(personas::OLA_NORDMANN.born), ids(personas::OSKAR_NORDMANN.born));
    let mut tx = owner.begin().await?;
    let tenant: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1").bind(slug).fetch_one(&mut *tx).await?;

    // Kari to Oskar's contact teachers, and their answer.
    sqlx::query(
        "WITH k AS (SELECT id FROM persons WHERE tenant_id = $1 AND national_id = $2), \
              o AS (SELECT p.id, e.school_id FROM persons p JOIN enrolments e ON e.tenant_id = p.tenant_id \
                      AND e.pupil_id = p.id AND e.to_date IS NULL WHERE p.tenant_id = $1 AND p.national_id = $3), \
              ct AS (SELECT DISTINCT s.staff_id FROM group_memberships m \
                       JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
                       JOIN group_staff s ON s.tenant_id = m.tenant_id AND s.group_id = m.group_id \
                       WHERE m.tenant_id = $1 AND m.pupil_id = (SELECT id FROM o) AND s.assignment = 'contact_teacher' \
                         AND m.to_date IS NULL), \
              t AS (INSERT INTO message_threads (tenant_id, id, school_id, pupil_id, topic, office, started_by, \
                                                 started_at, last_message_at) \
                    SELECT $1, md5('trip' || o.id::text)::uuid, o.school_id, o.id, 'Turdagen på fredag', false, k.id, now() - interval '2 days', \
                           now() - interval '1 day' FROM o, k RETURNING id), \
              pk AS (INSERT INTO thread_participants (tenant_id, thread_id, person_id, side, last_read_at) \
                     SELECT $1, t.id, k.id, 'home', now() - interval '2 days' FROM t, k), \
              pt AS (INSERT INTO thread_participants (tenant_id, thread_id, person_id, side, last_read_at) \
                     SELECT $1, t.id, ct.staff_id, 'school', now() - interval '1 day' FROM t, ct), \
              m1 AS (INSERT INTO thread_messages (tenant_id, thread_id, author_id, body, sent_at) \
                     SELECT $1, t.id, k.id, 'Hei! Trenger Oskar matpakke og ekstra klær til turdagen på fredag?', \
                            now() - interval '2 days' FROM t, k) \
         INSERT INTO thread_messages (tenant_id, thread_id, author_id, body, sent_at) \
         SELECT $1, t.id, ct.staff_id, 'Hei, ja: matpakke, drikke og skift. Vi er tilbake ved skolen kl. 14.', \
                now() - interval '1 day' FROM t, (SELECT staff_id FROM ct ORDER BY staff_id LIMIT 1) ct",
    )
    .bind(tenant)
    .bind(&kari)
    .bind(&oskar)
    .execute(&mut *tx)
    .await?;

    // The office to Kari and Ola, and Kari's answer.
    sqlx::query(
        "WITH k AS (SELECT id FROM persons WHERE tenant_id = $1 AND national_id = $2), \
              l AS (SELECT id FROM persons WHERE tenant_id = $1 AND national_id = $3), \
              c AS (SELECT id FROM persons WHERE tenant_id = $1 AND national_id = $4), \
              o AS (SELECT p.id, e.school_id FROM persons p JOIN enrolments e ON e.tenant_id = p.tenant_id \
                      AND e.pupil_id = p.id AND e.to_date IS NULL WHERE p.tenant_id = $1 AND p.national_id = $5), \
              t AS (INSERT INTO message_threads (tenant_id, id, school_id, pupil_id, topic, office, started_by, \
                                                 started_at, last_message_at) \
                    SELECT $1, md5('meeting' || o.id::text)::uuid, o.school_id, o.id, 'Utviklingssamtale', true, c.id, now() - interval '4 days', \
                           now() - interval '3 days' FROM o, c RETURNING id), \
              p AS (INSERT INTO thread_participants (tenant_id, thread_id, person_id, side, last_read_at) \
                    SELECT $1, t.id, x.id, x.side, now() - interval '3 days' \
                    FROM t, (SELECT id, 'school' AS side FROM c UNION ALL SELECT id, 'home' FROM k \
                             UNION ALL SELECT id, 'home' FROM l) x), \
              m1 AS (INSERT INTO thread_messages (tenant_id, thread_id, author_id, body, sent_at) \
                     SELECT $1, t.id, c.id, 'Vi inviterer til utviklingssamtale. Svar gjerne med hvilken dag neste uke \
                            som passer best.', now() - interval '4 days' FROM t, c) \
         INSERT INTO thread_messages (tenant_id, thread_id, author_id, body, sent_at) \
         SELECT $1, t.id, k.id, 'Tirsdag etter kl. 15 passer fint for oss.', now() - interval '3 days' FROM t, k",
    )
    .bind(tenant)
    .bind(&kari)
    .bind(&ola)
    .bind(&clerk)
    .bind(&oskar)
    .execute(&mut *tx)
    .await?;
    // Fjordvik has turned on SMS and answers to group messages (off in a new municipality).
    let admin = personas::spec("system_admin").map(|s| ids(s.born)).unwrap_or_default();
    sqlx::query(
        "INSERT INTO tenant_features (tenant_id, feature, enabled, changed_by) \
         SELECT $1, f, true, p.id FROM unnest(ARRAY['sms', 'group_replies']) AS f, persons p \
         WHERE p.tenant_id = $1 AND p.national_id = $2",
    )
    .bind(tenant)
    .bind(&admin)
    .execute(&mut *tx)
    .await?;
    // The office to the guardians of Oskar's class: one copy each.
    sqlx::query(&BROADCAST_SQL).bind(tenant).bind(&clerk).bind(&oskar).execute(&mut *tx).await?;
    // A fire drill's emergency notice a week ago (for Oskar's class, to keep the demo's
    // crisis page short), confirmed by Ola; Kari's link is `drill_token`.
    sqlx::query(&DRILL_SQL).bind(tenant).bind(&clerk).bind(&oskar).bind(&ola).bind(&kari).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The demo drill's confirmation token for Kari (the browser suite opens her link):
/// made from her person id, as the demo's other ids are made from fixed ones.
pub fn drill_token_sql(person: &str) -> String {
    format!("translate(md5('drill-link' || {person}::text), '0123456789abcdef', 'abcdefghijklmnop')")
}

static DRILL_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH s AS (SELECT id FROM persons WHERE tenant_id = $1 AND national_id = $2), \
              k AS (SELECT m.group_id, g.school_id FROM persons p \
                    JOIN group_memberships m ON m.tenant_id = p.tenant_id AND m.pupil_id = p.id AND m.to_date IS NULL \
                    JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
                    WHERE p.tenant_id = $1 AND p.national_id = $3), \
              h AS (SELECT DISTINCT m.pupil_id FROM k JOIN group_memberships m ON m.tenant_id = $1 \
                      AND m.group_id = k.group_id AND m.from_date <= tavle_today() \
                      AND (m.to_date IS NULL OR m.to_date > tavle_today())), \
              r AS (SELECT g.guardian_id, array_agg(g.pupil_id ORDER BY g.pupil_id) AS pupils \
                    FROM h JOIN guardianships g ON g.tenant_id = $1 AND g.pupil_id = h.pupil_id \
                    JOIN persons c ON c.tenant_id = $1 AND c.id = g.pupil_id \
                    WHERE ({reaches}) GROUP BY g.guardian_id), \
              n AS (INSERT INTO emergency_notices (tenant_id, id, school_id, exercise, body, sent_by, sent_at) \
                    SELECT $1, md5('drill' || k.school_id::text)::uuid, k.school_id, true, \
                           'Brannøvelse: alle elever er samlet på fotballbanen og har det bra. Skoledagen fortsetter \
                            som vanlig etter øvelsen.', s.id, now() - interval '7 days' FROM k, s RETURNING id), \
              hh AS (INSERT INTO emergency_households (tenant_id, notice_id, pupil_id) SELECT $1, n.id, h.pupil_id FROM n, h), \
              rr AS (INSERT INTO emergency_recipients (tenant_id, notice_id, person_id, pupils, digital, number, \
                                                      confirmed_at, confirmed_how) \
                     SELECT $1, n.id, r.guardian_id, r.pupils, true, \
                            CASE WHEN regexp_replace(p.phone, '[^0-9]', '', 'g') ~ '^(47)?[49][0-9]{{7}}$' \
                                 THEN '+47' || right(regexp_replace(p.phone, '[^0-9]', '', 'g'), 8) END, \
                            CASE WHEN p.national_id = $4 THEN now() - interval '7 days' END, \
                            CASE WHEN p.national_id = $4 THEN 'link' END \
                     FROM n, r JOIN persons p ON p.tenant_id = $1 AND p.id = r.guardian_id \
                     RETURNING person_id, notice_id, number), \
              so AS (INSERT INTO sms_outbox (tenant_id, kind, dedupe_key, school_id, recipient_id, recipient_number, \
                                             sender, body, parts, status, attempts, created_at, sent_at, gateway_id) \
                     SELECT $1, 'emergency_notice', rr.notice_id::text || '-1', k.school_id, rr.person_id, rr.number, \
                            'Fjordvik', 'ØVELSE: Viktig melding fra Solbakken skole. Les og bekreft i Tavle eller svar OK.', \
                            1, 'sent', 1, now() - interval '7 days', now() - interval '7 days', \
                            'demo-' || rr.person_id::text \
                     FROM rr, k WHERE rr.number IS NOT NULL RETURNING id, recipient_id), \
              rep AS (INSERT INTO sms_reports (tenant_id, sms_id, status, reported_at) \
                      SELECT $1, so.id, 'delivered', now() - interval '7 days' FROM so) \
         INSERT INTO emergency_links (tenant_id, token_hash, notice_id, person_id) \
         SELECT $1, sha256(convert_to({token}, 'UTF8')), rr.notice_id, rr.person_id \
         FROM rr JOIN persons p ON p.tenant_id = $1 AND p.id = rr.person_id AND p.national_id = $5",
        reaches = crate::policy::guardianship::reaches("g", "c", "tavle_today()"),
        token = drill_token_sql("rr.person_id"),
    )
});

static BROADCAST_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH s AS (SELECT id FROM persons WHERE tenant_id = $1 AND national_id = $2), \
              k AS (SELECT m.group_id, g.school_id FROM persons p \
                    JOIN group_memberships m ON m.tenant_id = p.tenant_id AND m.pupil_id = p.id AND m.to_date IS NULL \
                    JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id AND g.kind = 'base' \
                    WHERE p.tenant_id = $1 AND p.national_id = $3), \
              named AS (SELECT DISTINCT ON (g.guardian_id) g.guardian_id, g.pupil_id, ({reaches}) AS reached \
                    FROM k JOIN group_memberships m ON m.tenant_id = $1 AND m.group_id = k.group_id \
                         AND m.from_date <= tavle_today() AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
                    JOIN guardianships g ON g.tenant_id = $1 AND g.pupil_id = m.pupil_id \
                    JOIN persons c ON c.tenant_id = $1 AND c.id = g.pupil_id \
                    ORDER BY g.guardian_id, ({reaches}) DESC, g.pupil_id), \
              r AS (SELECT guardian_id, pupil_id FROM named WHERE reached), \
              b AS (INSERT INTO broadcasts (tenant_id, id, school_id, group_id, topic, body, sent_by, sent_at, \
                                            reached, left_out) \
                    SELECT $1, md5('parents-evening' || k.group_id::text)::uuid, k.school_id, k.group_id, \
                           'Foreldremøte torsdag', 'Velkommen til foreldremøte torsdag kl. 18 i klasserommet.', \
                           s.id, now() - interval '1 day', (SELECT count(*) FROM r), \
                           (SELECT count(*) FROM named WHERE NOT reached) \
                    FROM k, s RETURNING id, school_id), \
              t AS (INSERT INTO message_threads (tenant_id, id, school_id, pupil_id, topic, office, started_by, \
                                                 started_at, last_message_at, broadcast_id) \
                    SELECT $1, md5(b.id::text || r.guardian_id::text)::uuid, b.school_id, r.pupil_id, \
                           'Foreldremøte torsdag', true, s.id, now() - interval '1 day', now() - interval '1 day', b.id \
                    FROM b, r, s RETURNING id), \
              p AS (INSERT INTO thread_participants (tenant_id, thread_id, person_id, side, last_read_at) \
                    SELECT $1, md5(b.id::text || r.guardian_id::text)::uuid, r.guardian_id, 'home', NULL FROM b, r \
                    UNION ALL SELECT $1, t.id, s.id, 'school', now() - interval '1 day' FROM t, s) \
         INSERT INTO thread_messages (tenant_id, thread_id, author_id, body, sent_at) \
         SELECT $1, t.id, s.id, 'Velkommen til foreldremøte torsdag kl. 18 i klasserommet.', now() - interval '1 day' \
         FROM t, s",
        reaches = crate::policy::guardianship::reaches("g", "c", "tavle_today()")
    )
});
