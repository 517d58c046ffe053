-- SFO attendance (after-school care): when a child arrived, when the child went home
-- and who collected the child, recorded by the SFO staff at the door.
--
-- One row per (child, date): the first "arrived" creates it, "left" completes it, a
-- correction updates it. Saving the same thing twice never makes a second row.
--
-- Times are the wall-clock time in Norway (Europe/Oslo) on `date`, as the staff read
-- them off the clock and as they correct them; SFO hours never cross midnight.
--
-- Who collected the child is exactly one of: a guardian (a person), a contact person
-- registered by the school office, or a code ("went home alone, agreed with the
-- guardians", "taken by school transport", "taken to an activity"). There is no
-- free-text column, on purpose: a note at the door is where health and family
-- matters end up.
CREATE TABLE sfo_attendance (
    tenant_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    date date NOT NULL,
    -- The SFO group the child was in when the arrival was recorded.
    group_id uuid NOT NULL,
    arrived_at time NOT NULL,
    left_at time,
    collected_by_guardian uuid,
    collected_by_contact uuid,
    collected_by_code text CHECK (collected_by_code IN ('alone', 'transport', 'activity')),
    recorded_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, pupil_id, date),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, collected_by_guardian) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, collected_by_contact) REFERENCES contact_persons (tenant_id, id),
    FOREIGN KEY (tenant_id, recorded_by) REFERENCES persons (tenant_id, id),
    CHECK (left_at IS NULL OR left_at > arrived_at),
    -- Gone home exactly when one collector is recorded.
    CHECK ((left_at IS NULL) = (num_nonnulls(collected_by_guardian, collected_by_contact, collected_by_code) = 0)),
    CHECK (num_nonnulls(collected_by_guardian, collected_by_contact, collected_by_code) <= 1)
);
CREATE INDEX sfo_attendance_group_idx ON sfo_attendance (tenant_id, group_id, date);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sfo_attendance'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON sfo_attendance TO tavle_app;
