-- Absence (fravær): the reasons a guardian may give, the teacher's register per
-- lesson, and the guardians' own reports.
--
-- There is no free-text column anywhere in absence, on purpose: a municipality was
-- fined for letting guardians type health information into one. A reason is a code
-- from the tenant's list ("sick", never a diagnosis); every other text column is an
-- enumeration. tests/tavle/absence.rs checks the catalogue for it.
--
-- Dates: `first_day` and `last_day` of a report are both included, as a guardian says
-- "til og med" (the same convention as calendar_breaks).

-- The code list of absence reasons, per tenant. The application may only read it: a
-- reason is data the municipality decides, not something a request can add.
CREATE TABLE absence_reasons (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    code text NOT NULL CHECK (code ~ '^[a-z_]{2,40}$'),
    name_nb text NOT NULL CHECK (length(name_nb) BETWEEN 1 AND 80),
    name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 80),
    sort_order smallint NOT NULL,
    -- Whether a guardian may choose it (the school's "unknown" is not for them).
    for_guardians boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, code)
);

-- The teacher's register: one row per (lesson, pupil, date), so that saving the same
-- register twice updates and never duplicates. "present" is stored too: it records
-- that the register was taken.
CREATE TABLE absence_registrations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    lesson_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    date date NOT NULL,
    status text NOT NULL CHECK (status IN ('present', 'absent', 'late')),
    minutes_late smallint CHECK (minutes_late BETWEEN 1 AND 240),
    registered_by uuid NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    -- Acting as a teacher, or as the school office (principal, clerk, department head).
    source text NOT NULL CHECK (source IN ('teacher', 'office')),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, lesson_id, pupil_id, date),
    FOREIGN KEY (tenant_id, lesson_id) REFERENCES lessons (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, registered_by) REFERENCES persons (tenant_id, id),
    CHECK ((status = 'late') = (minutes_late IS NOT NULL))
);
CREATE INDEX absence_registrations_pupil_idx ON absence_registrations (tenant_id, pupil_id, date);

-- A guardian's report: a day or a range of days, whole days or (on one day) from one
-- time to another, with a reason code. Both guardians with parental responsibility
-- see it. Overlaps with another report of the same child are refused by the
-- application, inside the transaction that holds a lock on the child.
CREATE TABLE absence_reports (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    reported_by uuid NOT NULL,
    first_day date NOT NULL,
    last_day date NOT NULL,
    from_time time,
    to_time time,
    reason_code text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, reported_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, reason_code) REFERENCES absence_reasons (tenant_id, code),
    CHECK (first_day <= last_day),
    CHECK ((from_time IS NULL) = (to_time IS NULL)),
    CHECK (from_time IS NULL OR (from_time < to_time AND first_day = last_day))
);
CREATE INDEX absence_reports_pupil_idx ON absence_reports (tenant_id, pupil_id, first_day);

-- The default reasons of a tenant. Called for every existing tenant below and by a
-- trigger for every tenant created later (the demo generator, a future admin command),
-- so no municipality is ever without its list. The tenant is set for the insert (row
-- level security is forced) and put back as it was.
CREATE FUNCTION tavle_seed_absence_reasons(t uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    previous text := current_setting('tavle.tenant_id', true);
BEGIN
    PERFORM set_config('tavle.tenant_id', t::text, true);
    INSERT INTO absence_reasons (tenant_id, code, name_nb, name_en, sort_order, for_guardians)
    VALUES
        (t, 'illness', 'Syk', 'Sick', 10, true),
        (t, 'medical_appointment', 'Time hos lege, tannlege eller helsesykepleier',
            'Doctor, dentist or school nurse appointment', 20, true),
        (t, 'family_matter', 'Familiære forhold', 'Family matter', 30, true),
        (t, 'religious_holiday', 'Religiøs høytid', 'Religious holiday', 40, true),
        (t, 'transport', 'Transportproblemer', 'Transport problems', 50, true),
        (t, 'other_valid', 'Annen gyldig grunn', 'Other valid reason', 60, true),
        (t, 'unknown', 'Ukjent', 'Unknown', 90, false)
    ON CONFLICT (tenant_id, code) DO NOTHING;
    PERFORM set_config('tavle.tenant_id', coalesce(previous, ''), true);
END
$$;

CREATE FUNCTION tavle_tenant_absence_reasons() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM tavle_seed_absence_reasons(NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER tenants_absence_reasons AFTER INSERT ON tenants
    FOR EACH ROW EXECUTE FUNCTION tavle_tenant_absence_reasons();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['absence_reasons', 'absence_registrations', 'absence_reports'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

SELECT tavle_seed_absence_reasons(id) FROM tenants;

GRANT SELECT ON absence_reasons TO tavle_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON absence_registrations, absence_reports TO tavle_app;
REVOKE ALL ON FUNCTION tavle_seed_absence_reasons(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tavle_tenant_absence_reasons() FROM PUBLIC;
