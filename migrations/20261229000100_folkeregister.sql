-- The population register (Folkeregisteret) import (issue 18, point 9): what the
-- register says about a person beyond names and address, the values each change
-- replaced, and the office's queue of what an import could not apply safely.

-- Death and a move out of the municipality, as the register gives them. A deceased
-- person gets no e-mail or message from Tavle (the outbox skips them); a pupil who
-- moved out stays enrolled until the office records the move (the queue asks it to).
ALTER TABLE persons
    ADD COLUMN deceased_on date,
    ADD COLUMN moved_out_on date,
    ADD COLUMN moved_to_municipality char(4) CHECK (moved_to_municipality ~ '^[0-9]{4}$');

-- A person's values before each change by the population register, the contact register
-- (KRR: phone and e-mail) or the office: the earlier
-- value is never lost. An address is kept only while it was not protected and the
-- new one is not: when the register protects an address, the earlier addresses of
-- that person are wiped here too (the import does it in the same transaction).
CREATE TABLE person_history (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    person_id uuid NOT NULL,
    source text NOT NULL CHECK (source IN ('folkeregister', 'krr', 'office')),
    changed_at timestamptz NOT NULL DEFAULT now(),
    national_id text NOT NULL,
    given_name text NOT NULL,
    family_name text NOT NULL,
    birth_date date,
    address_protection text NOT NULL,
    street_address text,
    postal_code char(4),
    postal_town text,
    deceased_on date,
    moved_out_on date,
    moved_to_municipality char(4),
    phone text,
    email text,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);
CREATE INDEX person_history_person_idx ON person_history (tenant_id, person_id, changed_at);

ALTER TABLE person_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE person_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON person_history
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
-- Added to; an address in it is wiped when the register protects it.
GRANT SELECT, INSERT, UPDATE ON person_history TO tavle_app;

-- A guardianship's values before each change (parental responsibility, the dates).
CREATE TABLE guardianship_history (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    guardian_id uuid NOT NULL,
    source text NOT NULL CHECK (source IN ('folkeregister', 'office')),
    changed_at timestamptz NOT NULL DEFAULT now(),
    parental_responsibility boolean NOT NULL,
    from_date date NOT NULL,
    to_date date,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES persons (tenant_id, id)
);
CREATE INDEX guardianship_history_pupil_idx ON guardianship_history (tenant_id, pupil_id, changed_at);

ALTER TABLE guardianship_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE guardianship_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON guardianship_history
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT ON guardianship_history TO tavle_app;

-- What an import did not apply by itself, for the office to decide (O5 of the
-- research draft): a record that may be a person Tavle already has under another
-- number, a changed number, two numbers that are two persons in Tavle, and deaths and
-- moves out of pupils and guardians. One open item per kind and number: a second run
-- of the same file adds none. `school_id` is the school whose office sees it (the
-- pupil's, or a guardian's child's); NULL for the system administrator.
CREATE TABLE register_queue (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('possible_duplicate', 'id_change', 'conflicting_ids', 'deceased', 'moved_out')),
    national_id text NOT NULL CHECK (national_id ~ '^[0-9]{11}$'),
    -- The person in Tavle it concerns (the possible duplicate, the holder of the old
    -- number, the deceased or moved pupil).
    person_id uuid NOT NULL,
    school_id uuid,
    given_name text NOT NULL,
    family_name text NOT NULL,
    birth_date date NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by uuid,
    outcome text CHECK (outcome IN ('same_person', 'different_persons', 'number_changed', 'noted')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, resolved_by) REFERENCES persons (tenant_id, id),
    CHECK ((resolved_at IS NULL) = (outcome IS NULL) AND (resolved_at IS NULL) = (resolved_by IS NULL))
);
CREATE UNIQUE INDEX register_queue_open_idx ON register_queue (tenant_id, kind, national_id) WHERE resolved_at IS NULL;
CREATE INDEX register_queue_school_idx ON register_queue (tenant_id, school_id, resolved_at);

ALTER TABLE register_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE register_queue FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON register_queue
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
-- Raised by imports, resolved by the office: never deleted.
GRANT SELECT, INSERT, UPDATE ON register_queue TO tavle_app;

