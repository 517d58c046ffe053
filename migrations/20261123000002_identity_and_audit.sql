-- Identity and access: the per-tenant role mapping, server-side sessions, and the
-- append-only, hash-chained audit log.

-- (workplace kind × position code) → role. Edited by the system administrator;
-- defaults are inserted when a tenant is created (src/access/roles.rs).
CREATE TABLE role_mappings (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    workplace_kind text NOT NULL CHECK (workplace_kind IN ('school', 'municipal')),
    position_code text NOT NULL CHECK (position_code ~ '^[0-9]{4}$'),
    role text NOT NULL CHECK (role ~ '^[a-z_]{2,40}$'),
    PRIMARY KEY (tenant_id, workplace_kind, position_code)
);

-- A signed-in browser. The cookie carries a random secret; only its SHA-256 is stored,
-- so a copy of this table signs nobody in. Roles are not stored here: they are derived
-- on every request from the employment or guardianship, so access ends with them.
CREATE TABLE sessions (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    person_id uuid NOT NULL,
    -- How the person signed in bounds what they may act as: 'feide' (staff, pupils),
    -- 'idporten' (guardians), 'demo' (demo mode only).
    method text NOT NULL CHECK (method IN ('feide', 'idporten', 'demo')),
    audience text NOT NULL CHECK (audience IN ('staff', 'pupil', 'guardian')),
    acr text,
    csrf_token text NOT NULL CHECK (length(csrf_token) >= 32),
    id_token_hint text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    idle_timeout_seconds integer NOT NULL CHECK (idle_timeout_seconds > 0),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);
CREATE INDEX sessions_person_idx ON sessions (tenant_id, person_id);

-- Every read of a person's data and every write: who, what, when, why, from where.
-- The application may INSERT only. `seq`, `prev_hash` and `hash` are set by the
-- trigger below, which chains each tenant's events with SHA-256 so that a changed or
-- removed row is detected by `tavle audit verify`.
CREATE TABLE audit_events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    seq bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_person_id uuid,
    actor_role text CHECK (actor_role ~ '^[a-z_]{2,40}$'),
    session_id uuid,
    action text NOT NULL CHECK (action ~ '^[a-z_]{2,40}$'),
    resource text NOT NULL CHECK (resource ~ '^[a-z_]{2,40}$'),
    resource_id uuid,
    subject_ids uuid[] NOT NULL DEFAULT '{}',
    purpose text NOT NULL CHECK (purpose ~ '^[a-z_]{2,40}$'),
    ip text CHECK (ip ~ '^[0-9a-fA-F:.]{2,45}$'),
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_subjects_idx ON audit_events USING gin (subject_ids);
CREATE INDEX audit_events_actor_idx ON audit_events (tenant_id, actor_person_id, at);

CREATE TABLE audit_heads (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    seq bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (tenant_id)
);

-- The canonical text of an event that the hash covers. `tavle audit verify`
-- (src/audit/verify.rs) rebuilds the same text in Rust, independently of this function.
CREATE FUNCTION tavle_audit_canonical(e audit_events) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT concat_ws(chr(31),
        e.tenant_id::text,
        e.seq::text,
        (extract(epoch FROM e.at) * 1000000)::bigint::text,
        coalesce(e.actor_person_id::text, ''),
        coalesce(e.actor_role, ''),
        coalesce(e.session_id::text, ''),
        e.action,
        e.resource,
        coalesce(e.resource_id::text, ''),
        array_to_string(e.subject_ids, ','),
        e.purpose,
        coalesce(e.ip, ''))
    $$;

CREATE FUNCTION tavle_audit_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
BEGIN
    -- The head row serialises the tenant's chain: concurrent inserts wait here until
    -- the earlier transaction commits, so seq has no gaps and no forks.
    INSERT INTO audit_heads (tenant_id, seq, hash)
        VALUES (NEW.tenant_id, 0, sha256(convert_to('tavle-audit-genesis', 'UTF8')))
        ON CONFLICT (tenant_id) DO NOTHING;
    SELECT seq, hash INTO head_seq, head_hash
        FROM audit_heads WHERE tenant_id = NEW.tenant_id FOR UPDATE;
    NEW.seq := head_seq + 1;
    NEW.at := date_trunc('microseconds', clock_timestamp());
    NEW.prev_hash := head_hash;
    NEW.hash := sha256(head_hash || convert_to(tavle_audit_canonical(NEW), 'UTF8'));
    UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION tavle_audit_chain();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['role_mappings', 'sessions', 'audit_events', 'audit_heads'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON role_mappings, sessions TO tavle_app;
-- Append-only: no UPDATE, no DELETE, and no access at all to the chain heads.
GRANT SELECT, INSERT ON audit_events TO tavle_app;
REVOKE ALL ON audit_heads FROM tavle_app;
REVOKE ALL ON FUNCTION tavle_audit_chain() FROM PUBLIC;
