-- Distributable by tenant (issue 16): nothing left that Citus cannot run.
--
-- 1. A new municipality's code lists are seeded by the function that creates it, in
--    its transaction, not by triggers on `tenants` (a reference table under Citus has
--    a copy on every node, and a trigger there fires on each copy).
-- 2. The audit chain hashes fields, not a table's row type: on a Citus worker the
--    chaining trigger runs on a shard, whose rows are of the shard's own type.
-- 3. Row-level security compares with IS NOT DISTINCT FROM: with `=`, PostgreSQL 15's
--    planner makes the policy and a query's own `tenant_id = $1` a "pseudoconstant"
--    under an outer join, which Citus refuses ("Distributed queries with outer joins
--    and pseudoconstant quals are not supported"). A tenant_id is never NULL, and an
--    unset tenant (NULL) matches no row, as before.

-- 1. Creating a municipality ------------------------------------------------------

DROP TRIGGER tenants_absence_reasons ON tenants;
DROP TRIGGER tenants_leave_codes ON tenants;
DROP TRIGGER tenants_absence_review ON tenants;
DROP FUNCTION tavle_tenant_absence_reasons();
DROP FUNCTION tavle_tenant_leave_codes();
DROP FUNCTION tavle_tenant_absence_review();

-- Create a municipality with its default code lists (absence reasons, leave reasons
-- and rejection codes, review codes), in the caller's transaction. Returns its id.
-- The lists are written as the new municipality (row-level security is forced): with
-- SET LOCAL, which Citus propagates to the workers, not set_config, which it does not.
CREATE FUNCTION tavle_create_tenant(
    id uuid,
    municipality_number text,
    name text,
    slug text,
    allows_synthetic_ids boolean DEFAULT false
) RETURNS uuid
    LANGUAGE plpgsql
    AS $$
DECLARE
    created uuid;
    previous text := current_setting('tavle.tenant_id', true);
BEGIN
    INSERT INTO tenants (id, municipality_number, name, slug, allows_synthetic_ids)
        VALUES (coalesce(tavle_create_tenant.id, gen_random_uuid()), tavle_create_tenant.municipality_number,
                tavle_create_tenant.name, tavle_create_tenant.slug, tavle_create_tenant.allows_synthetic_ids)
        RETURNING tenants.id INTO created;
    EXECUTE format('SET LOCAL tavle.tenant_id = %L', created);
    PERFORM tavle_seed_absence_reasons(created);
    PERFORM tavle_seed_leave_codes(created);
    PERFORM tavle_seed_absence_review(created);
    EXECUTE format('SET LOCAL tavle.tenant_id = %L', coalesce(previous, ''));
    RETURN created;
END
$$;

REVOKE ALL ON FUNCTION tavle_create_tenant(uuid, text, text, text, boolean) FROM PUBLIC;

-- 2. The audit chain over fields ----------------------------------------------------

-- The canonical text of an event that the hash covers. `tavle audit verify`
-- (src/audit/verify.rs) rebuilds the same text in Rust, independently of this function.
CREATE FUNCTION tavle_audit_text(
    tenant_id uuid,
    seq bigint,
    at timestamptz,
    actor_person_id uuid,
    actor_role text,
    session_id uuid,
    action text,
    resource text,
    resource_id uuid,
    subject_ids uuid[],
    purpose text,
    ip text
) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT concat_ws(chr(31),
        tenant_id::text,
        seq::text,
        (extract(epoch FROM at) * 1000000)::bigint::text,
        coalesce(actor_person_id::text, ''),
        coalesce(actor_role, ''),
        coalesce(session_id::text, ''),
        action,
        resource,
        coalesce(resource_id::text, ''),
        array_to_string(subject_ids, ','),
        purpose,
        coalesce(ip, ''))
    $$;

CREATE OR REPLACE FUNCTION tavle_audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
BEGIN
    INSERT INTO audit_heads (tenant_id, seq, hash)
        VALUES (NEW.tenant_id, 0, sha256(convert_to('tavle-audit-genesis', 'UTF8')))
        ON CONFLICT (tenant_id) DO NOTHING;
    SELECT seq, hash INTO head_seq, head_hash
        FROM audit_heads WHERE tenant_id = NEW.tenant_id FOR UPDATE;
    NEW.seq := head_seq + 1;
    NEW.at := date_trunc('microseconds', NEW.at);
    NEW.prev_hash := head_hash;
    NEW.hash := sha256(head_hash || convert_to(tavle_audit_text(NEW.tenant_id, NEW.seq, NEW.at,
        NEW.actor_person_id, NEW.actor_role, NEW.session_id, NEW.action, NEW.resource, NEW.resource_id,
        NEW.subject_ids, NEW.purpose, NEW.ip), 'UTF8'));
    UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id;
    RETURN NEW;
END
$$;

DROP FUNCTION tavle_audit_canonical(audit_events);

-- 3. Row-level security the distributed planner accepts --------------------------------

DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT tablename FROM pg_policies
             WHERE schemaname = 'public' AND policyname = 'tenant_isolation' LOOP
        EXECUTE format(
            'ALTER POLICY tenant_isolation ON %I '
            'USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant()) '
            'WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())', p.tablename);
    END LOOP;
END
$$;
