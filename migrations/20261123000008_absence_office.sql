-- Absence for the school office: how a school takes the register (per lesson, or per
-- day for schools that record a whole day at once, as many primary schools do).
--
-- The day register writes ordinary rows of absence_registrations (one per lesson the
-- pupil has that day), so every total, overview and statistic reads one table
-- whichever way the school registers.

CREATE TABLE absence_school_settings (
    tenant_id uuid NOT NULL,
    school_id uuid NOT NULL,
    -- 'lesson': the teacher takes the register of each lesson (the default, also for a
    -- school without a row here); 'day': the class's register once a day.
    registration_mode text NOT NULL DEFAULT 'lesson' CHECK (registration_mode IN ('lesson', 'day')),
    updated_by uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, school_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, updated_by) REFERENCES persons (tenant_id, id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['absence_school_settings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON absence_school_settings TO tavle_app;
