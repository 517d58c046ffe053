-- A commit chains audit events only when the tenant's chain is free (issue 5, the
-- morning-peak benchmark).
--
-- Since migration 000011 every audited commit of a municipality locked the tenant's
-- head row in audit_heads and kept it through its WAL flush: one durable commit at a
-- time per municipality, with no group commit. Sampling pg_stat_activity under the
-- benchmark showed nearly every busy connection waiting on that lock.
--
-- Now the deferred trigger tries the head with SKIP LOCKED. When it is free, the
-- commit chains every pending event of the tenant it can see (its own and any left by
-- earlier commits), as before. When another commit holds it, the event stays in
-- audit_pending, committed together with the work it records, and the transaction
-- commits without waiting: the next commit that finds the chain free chains it, and a
-- sweep (`tavle_audit_sweep()`, run every second by `tavle serve`) chains what a quiet
-- moment leaves behind. Reading the log (the audit page, `tavle audit verify`) chains
-- everything pending first, waiting for the head, so it is never behind.
--
-- What this changes: an event is durable at its commit exactly as before (it is in
-- audit_pending, which the application may only INSERT into), but it may get its place
-- in the chain up to about a second later. `at` is therefore the time the event was
-- written, carried from audit_pending, not the time it was chained; and the
-- application may no longer insert into audit_events itself, so that only the chaining
-- function can set `at`. The chain, its canonical text and `tavle audit verify` are
-- unchanged.

ALTER TABLE audit_pending ADD COLUMN at timestamptz NOT NULL DEFAULT clock_timestamp();

-- Keep the time the event was written (set by audit_pending's default); chained rows
-- come only from tavle_audit_chain_pending() below.
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
    NEW.hash := sha256(head_hash || convert_to(tavle_audit_canonical(NEW), 'UTF8'));
    UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id;
    RETURN NEW;
END
$$;

-- Chain the tenant's pending events in the order they were written. With `wait` false
-- it gives up at once (returning 0) when another transaction holds the tenant's head;
-- with `wait` true it waits for it. Only READ COMMITTED transactions chain: each
-- statement here then sees what the previous holder of the head committed, so no
-- event is chained twice. Returns how many events it chained.
CREATE FUNCTION tavle_audit_chain_pending(tenant uuid, wait boolean) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    p audit_pending;
    n integer := 0;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RETURN 0;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit_pending WHERE tenant_id = tenant) THEN
        RETURN 0;
    END IF;
    -- A tenant's first event makes its head (a concurrent first event waits here on
    -- the unique index, then finds the head).
    IF NOT EXISTS (SELECT 1 FROM audit_heads WHERE tenant_id = tenant) THEN
        INSERT INTO audit_heads (tenant_id, seq, hash)
            VALUES (tenant, 0, sha256(convert_to('tavle-audit-genesis', 'UTF8')))
            ON CONFLICT (tenant_id) DO NOTHING;
    END IF;
    IF wait THEN
        PERFORM 1 FROM audit_heads WHERE tenant_id = tenant FOR UPDATE;
    ELSE
        PERFORM 1 FROM audit_heads WHERE tenant_id = tenant FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN 0;
        END IF;
    END IF;
    -- seq, prev_hash and hash are set by the chaining trigger on audit_events.
    FOR p IN SELECT * FROM audit_pending WHERE tenant_id = tenant ORDER BY id LOOP
        INSERT INTO audit_events (tenant_id, seq, at, actor_person_id, actor_role, session_id, action,
                resource, resource_id, subject_ids, purpose, ip, prev_hash, hash)
            VALUES (p.tenant_id, 0, p.at, p.actor_person_id, p.actor_role, p.session_id, p.action,
                p.resource, p.resource_id, p.subject_ids, p.purpose, p.ip, '', '');
        DELETE FROM audit_pending WHERE tenant_id = tenant AND id = p.id;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- At commit, for each event the transaction wrote: chain if the head is free. The
-- first of a transaction's events chains them all; the rest find nothing to do.
CREATE OR REPLACE FUNCTION tavle_audit_commit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    PERFORM tavle_audit_chain_pending(NEW.tenant_id, false);
    RETURN NULL;
END
$$;

-- Chain what is pending in every tenant whose head is free; the tenant setting is
-- changed only for this transaction and put back. Returns how many events it chained.
CREATE FUNCTION tavle_audit_sweep() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    t uuid;
    n integer := 0;
    before text := current_setting('tavle.tenant_id', true);
BEGIN
    FOR t IN SELECT id FROM tenants ORDER BY id LOOP
        PERFORM set_config('tavle.tenant_id', t::text, true);
        n := n + tavle_audit_chain_pending(t, false);
    END LOOP;
    PERFORM set_config('tavle.tenant_id', coalesce(before, ''), true);
    RETURN n;
END
$$;

-- Only the chaining function writes the log; the application writes audit_pending.
REVOKE INSERT ON audit_events FROM tavle_app;
REVOKE ALL ON FUNCTION tavle_audit_chain_pending(uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tavle_audit_sweep() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tavle_audit_chain_pending(uuid, boolean) TO tavle_app;
GRANT EXECUTE ON FUNCTION tavle_audit_sweep() TO tavle_app;
