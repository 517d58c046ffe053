-- Leave applications (permisjon): a guardian with parental responsibility applies in
-- advance for whole school days; the school decides. Short leave (up to a number of
-- school days set per school, with a municipal default) is decided by the child's
-- contact teacher, longer leave by the principal or a department head.
--
-- As in the rest of absence there is no free-text column: the reason and a rejection
-- are codes from the tenant's lists, every other text column an enumeration.
-- `first_day` and `last_day` are both included ("til og med").

-- The reasons a guardian may give, per tenant. Read-only for the application.
CREATE TABLE leave_reasons (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    code text NOT NULL CHECK (code ~ '^[a-z_]{2,40}$'),
    name_nb text NOT NULL CHECK (length(name_nb) BETWEEN 1 AND 80),
    name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 80),
    sort_order smallint NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

-- Why the school said no, per tenant (a code, never a written justification that
-- could carry personal details). Read-only for the application.
CREATE TABLE leave_rejection_codes (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    code text NOT NULL CHECK (code ~ '^[a-z_]{2,40}$'),
    name_nb text NOT NULL CHECK (length(name_nb) BETWEEN 1 AND 120),
    name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 120),
    sort_order smallint NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

-- The municipality's default: leave of up to this many school days is decided by
-- the contact teacher, longer leave by the school's leaders. One row per tenant.
CREATE TABLE leave_settings (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    short_leave_max_days smallint NOT NULL DEFAULT 2 CHECK (short_leave_max_days BETWEEN 0 AND 20),
    PRIMARY KEY (tenant_id)
);

-- A school's own limit, set by its principal (or the system administrator). No row:
-- the municipal default applies.
CREATE TABLE leave_school_settings (
    tenant_id uuid NOT NULL,
    school_id uuid NOT NULL,
    short_leave_max_days smallint NOT NULL CHECK (short_leave_max_days BETWEEN 0 AND 20),
    updated_by uuid NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, school_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, updated_by) REFERENCES persons (tenant_id, id)
);

-- An application. `school_id` is the child's school when it was made, and
-- `school_days` the school days it covered then (weekdays within a term, not a day
-- off): compared with the school's current limit it decides who may decide.
-- A decided application keeps who decided it and in which capacity; a withdrawn
-- one stays (the school may have seen it), marked withdrawn.
CREATE TABLE leave_applications (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    school_id uuid NOT NULL,
    applied_by uuid NOT NULL,
    first_day date NOT NULL,
    last_day date NOT NULL,
    school_days smallint NOT NULL CHECK (school_days > 0),
    reason_code text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_by uuid,
    decided_as text CHECK (decided_as IN ('contact_teacher', 'principal', 'department_head')),
    decided_at timestamptz,
    rejection_code text,
    withdrawn_by uuid,
    withdrawn_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, applied_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, decided_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, withdrawn_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, reason_code) REFERENCES leave_reasons (tenant_id, code),
    FOREIGN KEY (tenant_id, rejection_code) REFERENCES leave_rejection_codes (tenant_id, code),
    CHECK (first_day <= last_day),
    CHECK ((status IN ('approved', 'rejected'))
           = (decided_by IS NOT NULL AND decided_as IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK ((status = 'rejected') = (rejection_code IS NOT NULL)),
    CHECK ((status = 'withdrawn') = (withdrawn_by IS NOT NULL AND withdrawn_at IS NOT NULL))
);
CREATE INDEX leave_applications_pupil_idx ON leave_applications (tenant_id, pupil_id, first_day);
CREATE INDEX leave_applications_queue_idx ON leave_applications (tenant_id, school_id, status, created_at);

-- The default lists and setting of a tenant, for every existing tenant below and by
-- a trigger for every tenant created later (as for the absence reasons).
CREATE FUNCTION tavle_seed_leave_codes(t uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    previous text := current_setting('tavle.tenant_id', true);
BEGIN
    PERFORM set_config('tavle.tenant_id', t::text, true);
    INSERT INTO leave_reasons (tenant_id, code, name_nb, name_en, sort_order)
    VALUES
        (t, 'family_event', 'Familiebegivenhet (bryllup, begravelse, dåp o.l.)',
            'Family event (wedding, funeral, christening etc.)', 10),
        (t, 'travel', 'Reise', 'Travel', 20),
        (t, 'religious_holiday', 'Religiøs høytid', 'Religious holiday', 30),
        (t, 'sports_culture', 'Idretts- eller kulturarrangement', 'Sports or cultural event', 40),
        (t, 'other_welfare', 'Andre velferdsgrunner', 'Other welfare reason', 50)
    ON CONFLICT (tenant_id, code) DO NOTHING;
    INSERT INTO leave_rejection_codes (tenant_id, code, name_nb, name_en, sort_order)
    VALUES
        (t, 'not_justifiable', 'Skolen vurderer at fraværet ikke er faglig forsvarlig',
            'The school finds the absence not justifiable for the pupil''s learning', 10),
        (t, 'assessment_period', 'Viktige prøver eller vurderinger i perioden',
            'Important tests or assessments in the period', 20),
        (t, 'high_absence', 'Eleven har mye fravær fra før', 'The pupil already has much absence', 30),
        (t, 'too_long', 'Permisjonen er for lang', 'The leave is too long', 40),
        (t, 'other', 'Annen grunn – ta kontakt med skolen', 'Other reason – please contact the school', 90)
    ON CONFLICT (tenant_id, code) DO NOTHING;
    INSERT INTO leave_settings (tenant_id) VALUES (t) ON CONFLICT (tenant_id) DO NOTHING;
    PERFORM set_config('tavle.tenant_id', coalesce(previous, ''), true);
END
$$;

CREATE FUNCTION tavle_tenant_leave_codes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM tavle_seed_leave_codes(NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER tenants_leave_codes AFTER INSERT ON tenants
    FOR EACH ROW EXECUTE FUNCTION tavle_tenant_leave_codes();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['leave_reasons', 'leave_rejection_codes', 'leave_settings',
                             'leave_school_settings', 'leave_applications'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

SELECT tavle_seed_leave_codes(id) FROM tenants;

GRANT SELECT ON leave_reasons, leave_rejection_codes, leave_settings TO tavle_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON leave_school_settings TO tavle_app;
-- Applications are never deleted by the application: withdrawn is a status.
GRANT SELECT, INSERT, UPDATE ON leave_applications TO tavle_app;
REVOKE ALL ON FUNCTION tavle_seed_leave_codes(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tavle_tenant_leave_codes() FROM PUBLIC;
