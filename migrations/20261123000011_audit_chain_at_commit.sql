-- Audit events are chained when their transaction commits, not when they are written
-- (issue 5, the morning-peak benchmark).
--
-- Until now the application inserted into audit_events, and the chaining trigger
-- locked the tenant's head row in audit_heads at once and kept it until the
-- transaction ended: across the answer's way back to Tavle, Tavle getting round to the
-- request again under load, the COMMIT's round trip and the WAL flush. Every audited
-- request of a municipality queued behind that lock; under load it was held about
-- 3 ms a request (the flush itself about 0.5 ms), which capped the register page at
-- ~330 requests/s whatever else was done.
--
-- Now the application inserts the event into audit_pending (INSERT only, like the
-- log). A deferred constraint trigger moves each pending event into audit_events when
-- the transaction commits, inside that same transaction (so an event still commits
-- together with the work it records, or not at all), where the unchanged chaining
-- trigger sets seq, at, prev_hash and hash. The head is now locked only from that
-- moment to the end of the commit, with no round trip to the application in between.
-- The chain, its canonical text and `tavle audit verify` are unchanged; `at` is the
-- time of the commit instead of the time of the insert (microseconds later).

CREATE TABLE audit_pending (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    actor_person_id uuid,
    actor_role text CHECK (actor_role ~ '^[a-z_]{2,40}$'),
    session_id uuid,
    action text NOT NULL CHECK (action ~ '^[a-z_]{2,40}$'),
    resource text NOT NULL CHECK (resource ~ '^[a-z_]{2,40}$'),
    resource_id uuid,
    subject_ids uuid[] NOT NULL DEFAULT '{}',
    purpose text NOT NULL CHECK (purpose ~ '^[a-z_]{2,40}$'),
    ip text CHECK (ip ~ '^[0-9a-fA-F:.]{2,45}$'),
    PRIMARY KEY (tenant_id, id)
);

CREATE FUNCTION tavle_audit_commit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    -- seq, at, prev_hash and hash are set by the chaining trigger on audit_events.
    INSERT INTO audit_events (tenant_id, seq, actor_person_id, actor_role, session_id, action,
            resource, resource_id, subject_ids, purpose, ip, prev_hash, hash)
        VALUES (NEW.tenant_id, 0, NEW.actor_person_id, NEW.actor_role, NEW.session_id, NEW.action,
            NEW.resource, NEW.resource_id, NEW.subject_ids, NEW.purpose, NEW.ip, '', '');
    DELETE FROM audit_pending WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    RETURN NULL;
END
$$;

-- Deferred: runs at COMMIT, for each event in the order the transaction wrote them.
CREATE CONSTRAINT TRIGGER audit_pending_commit AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tavle_audit_commit();

ALTER TABLE audit_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_pending FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_pending USING (tenant_id = tavle_current_tenant())
    WITH CHECK (tenant_id = tavle_current_tenant());

-- Write only: the application can neither read, change nor remove a pending event.
REVOKE ALL ON audit_pending FROM tavle_app;
GRANT INSERT ON audit_pending TO tavle_app;
REVOKE ALL ON FUNCTION tavle_audit_commit() FROM PUBLIC;
