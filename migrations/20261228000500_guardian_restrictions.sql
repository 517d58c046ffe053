-- Restrictions on a guardian (issue 18, point 2): a court decision, a child-welfare
-- measure or a visiting ban, recorded by the school office for a pupil and one of
-- their guardians, from a day (until a day, or open). While one is in force the
-- guardian has no access to the child by any path (Min side, messages, e-mail, SFO's
-- "collected by" list), whatever their parental responsibility says. A restriction is
-- its own record, never a column of the guardianship, so that no import of the
-- population register can overwrite it; it is ended (a day), never deleted.
CREATE TABLE guardian_restrictions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    guardian_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('court_decision', 'child_welfare', 'visiting_ban')),
    from_date date NOT NULL,
    to_date date,
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    ended_by uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, recorded_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, ended_by) REFERENCES persons (tenant_id, id),
    CHECK (pupil_id <> guardian_id),
    -- Ended on the day it began: it never held (recorded by mistake).
    CHECK (to_date IS NULL OR to_date >= from_date)
);
CREATE INDEX guardian_restrictions_guardian_idx ON guardian_restrictions (tenant_id, guardian_id);
CREATE INDEX guardian_restrictions_pupil_idx ON guardian_restrictions (tenant_id, pupil_id);

ALTER TABLE guardian_restrictions ENABLE ROW LEVEL SECURITY;
ALTER TABLE guardian_restrictions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON guardian_restrictions
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
-- Recorded, and ended by setting to_date: never deleted.
GRANT SELECT, INSERT, UPDATE ON guardian_restrictions TO tavle_app;

-- A restriction changes who has access: cached sessions are read again (as for
-- guardianships, migration 20261214000100).
CREATE CONSTRAINT TRIGGER guardian_restrictions_access_changed AFTER INSERT OR UPDATE OR DELETE ON guardian_restrictions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();
