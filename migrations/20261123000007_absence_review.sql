-- Absence review (fraværsbehandling), deduction (fratrekk) and the rule parameters of
-- the totals. The rules are those of the Education Act of 2023 (opplæringslova, in
-- force 1 August 2024) and its regulation (opplæringsforskrifta):
--
-- * § 9-44 (grunnskolen, lower secondary): from grade 8 absence goes on the diploma as
--   days and single hours; hours are never turned into days. A pupil or the parents
--   may require that up to ten days of absence a school year are left off the diploma
--   when the absence is documented by a doctor's certificate as illness or other
--   health reasons (only from the fourth day of such an absence, unless a documented
--   risk of absence from a disability or chronic illness), or is leave granted under
--   opplæringslova § 2-2 (fourth paragraph).
-- * § 9-8 (vidaregåande, upper secondary): more than 10 per cent absence in a subject
--   means no half-year or final grade in it; between 10 and 15 per cent the principal
--   may decide that the pupil still gets one; documented absence for the reasons the
--   regulation lists (health, welfare, representation, religious holidays, …) does
--   not count toward the limit; the pupil (and the parents of a pupil under 18) are
--   warned before the limit is reached.
--
-- The numbers of these rules change with the directorate's decisions, so they are
-- data: one row per tenant, school year and school type.

-- The numbers of the rules, per school year (its name, as in school_years, so that a
-- coming year may be set before the school year itself is created) and school type.
-- A school type follows from the pupil's grade level: 1-7 primary (no diploma), 8-10
-- lower secondary, 11-13 upper secondary.
CREATE TABLE absence_rule_parameters (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    school_year text NOT NULL CHECK (school_year ~ '^[0-9]{4}-[0-9]{4}$'),
    school_type text NOT NULL CHECK (school_type IN ('primary', 'lower_secondary', 'upper_secondary')),
    -- Days of documented absence a year that may be left off the diploma (10).
    max_deducted_days smallint NOT NULL CHECK (max_deducted_days BETWEEN 0 AND 200),
    -- Health absence may be deducted only from this day of an absence on (the fourth).
    health_deduction_from_day smallint NOT NULL CHECK (health_deduction_from_day BETWEEN 1 AND 30),
    -- Upper secondary: warn at, the limit, and the principal's discretion up to (per cent).
    warning_percent numeric(4, 1) NOT NULL CHECK (warning_percent BETWEEN 0 AND 100),
    limit_percent numeric(4, 1) NOT NULL CHECK (limit_percent BETWEEN 0 AND 100),
    discretion_percent numeric(4, 1) NOT NULL CHECK (discretion_percent BETWEEN 0 AND 100),
    PRIMARY KEY (tenant_id, school_year, school_type),
    CHECK (warning_percent <= limit_percent AND limit_percent <= discretion_percent)
);

-- The codes a reviewer marks a day of absence with. The flags carry the rules:
-- `documented` absence does not count toward the upper-secondary limit (§ 9-8);
-- `deductible` absence may be left off the diploma (§ 9-44); `health` absence only
-- from the parameter's day of a run of absence days on.
CREATE TABLE absence_review_codes (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    code text NOT NULL CHECK (code ~ '^[a-z_]{2,40}$'),
    name_nb text NOT NULL CHECK (length(name_nb) BETWEEN 1 AND 120),
    name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 120),
    sort_order smallint NOT NULL,
    documented boolean NOT NULL,
    deductible boolean NOT NULL,
    health boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, code),
    CHECK (documented OR NOT deductible)
);

-- The review of one pupil's absence on one day: all of the day's absent and late
-- lessons take the day's code (a day is what a guardian reports, a doctor certifies
-- and the diploma counts). `deducted`: the day is left off the diploma.
CREATE TABLE absence_reviews (
    tenant_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    date date NOT NULL,
    code text NOT NULL,
    deducted boolean NOT NULL DEFAULT false,
    reviewed_by uuid NOT NULL,
    reviewed_at timestamptz NOT NULL DEFAULT now(),
    -- The pupil's contact teacher, or the school office (principal, clerk, head).
    source text NOT NULL CHECK (source IN ('contact_teacher', 'office')),
    PRIMARY KEY (tenant_id, pupil_id, date),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, code) REFERENCES absence_review_codes (tenant_id, code),
    FOREIGN KEY (tenant_id, reviewed_by) REFERENCES persons (tenant_id, id)
);

-- The default parameters and codes of a tenant, for the school years 2025-2026 to
-- 2027-2028. Called for every existing tenant below and by a trigger for every
-- tenant created later (as tavle_seed_absence_reasons in 000005).
CREATE FUNCTION tavle_seed_absence_review(t uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    previous text := current_setting('tavle.tenant_id', true);
BEGIN
    PERFORM set_config('tavle.tenant_id', t::text, true);
    INSERT INTO absence_rule_parameters (tenant_id, school_year, school_type, max_deducted_days,
        health_deduction_from_day, warning_percent, limit_percent, discretion_percent)
    SELECT t, y, st, CASE WHEN st = 'primary' THEN 0 ELSE 10 END, 4, 8, 10, 15
    FROM unnest(ARRAY['2025-2026', '2026-2027', '2027-2028']) y,
         unnest(ARRAY['primary', 'lower_secondary', 'upper_secondary']) st
    ON CONFLICT DO NOTHING;
    INSERT INTO absence_review_codes (tenant_id, code, name_nb, name_en, sort_order, documented, deductible, health)
    VALUES
        (t, 'health_certificate', 'Helsegrunner, dokumentert med legeerklæring',
            'Health reasons, documented by a doctor''s certificate', 10, true, true, true),
        (t, 'health_chronic', 'Helsegrunner, dokumentert risiko (kronisk sykdom, nedsatt funksjonsevne)',
            'Health reasons, documented risk (chronic illness, disability)', 20, true, true, false),
        (t, 'leave_granted', 'Innvilget permisjon', 'Leave granted', 30, true, true, false),
        (t, 'welfare', 'Velferdsgrunner, dokumentert', 'Welfare reasons, documented', 40, true, false, false),
        (t, 'religious_holiday', 'Religiøs høytid', 'Religious holiday', 50, true, false, false),
        (t, 'representation', 'Representasjon, tillitsverv eller politisk arbeid',
            'Representation, elected office or political work', 60, true, false, false),
        (t, 'legal_obligation', 'Lovpålagt oppmøte', 'Attendance required by law', 70, true, false, false),
        (t, 'reported_by_guardian', 'Meldt av foresatte, ikke dokumentert',
            'Reported by guardians, not documented', 80, false, false, false),
        (t, 'undocumented', 'Udokumentert', 'Undocumented', 90, false, false, false)
    ON CONFLICT DO NOTHING;
    PERFORM set_config('tavle.tenant_id', coalesce(previous, ''), true);
END
$$;

CREATE FUNCTION tavle_tenant_absence_review() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM tavle_seed_absence_review(NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER tenants_absence_review AFTER INSERT ON tenants
    FOR EACH ROW EXECUTE FUNCTION tavle_tenant_absence_review();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['absence_rule_parameters', 'absence_review_codes', 'absence_reviews'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

SELECT tavle_seed_absence_review(id) FROM tenants;

-- The rules and the codes are the municipality's decision, not a request's.
GRANT SELECT ON absence_rule_parameters, absence_review_codes TO tavle_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON absence_reviews TO tavle_app;
REVOKE ALL ON FUNCTION tavle_seed_absence_review(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tavle_tenant_absence_review() FROM PUBLIC;
