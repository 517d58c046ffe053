-- Pick-up permissions (henteordning, issue 18): who besides the guardians with parental
-- responsibility may collect a child from SFO (contact persons the guardians name),
-- whether the child may go home alone (from which day, not before which time of day),
-- and whether the child goes by school transport. Given by a guardian with parental
-- responsibility on Min side, or recorded by the school office on their behalf. SFO's
-- "collected by" list reads these: a contact person is no longer a collector by being
-- on the child's list, and "went home alone" or "school transport" is a choice only
-- for a child whose guardians have said so. Data recorded before this migration gives
-- no permission: the guardians give them.
CREATE TABLE pickup_arrangements (
    tenant_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    home_alone boolean NOT NULL DEFAULT false,
    alone_from date,
    alone_after time,
    school_transport boolean NOT NULL DEFAULT false,
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, pupil_id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id),
    CHECK (home_alone OR (alone_from IS NULL AND alone_after IS NULL))
);

CREATE TABLE pickup_permissions (
    tenant_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    contact_person_id uuid NOT NULL,
    given_by uuid NOT NULL,
    given_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, pupil_id, contact_person_id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, contact_person_id) REFERENCES contact_persons (tenant_id, id),
    FOREIGN KEY (tenant_id, given_by) REFERENCES persons (tenant_id, id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['pickup_arrangements', 'pickup_permissions'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant()) '
            'WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON pickup_arrangements TO tavle_app;
-- A permission withdrawn is deleted (the audit log keeps that it was given and withdrawn).
GRANT SELECT, INSERT, DELETE ON pickup_permissions TO tavle_app;
