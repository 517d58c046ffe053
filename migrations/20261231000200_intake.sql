-- First-grade intake (issue 18, point 7): the children who start school next August,
-- each with the school of their district, the guardians' request for another school,
-- and the school's decision.

-- The school year whose first graders are being taken in: from August (when this
-- year's starters have begun) next year's, before it this year's. The starters are the
-- children born six years before it (a child starts school in the calendar year it
-- turns six).
CREATE FUNCTION tavle_intake_year() RETURNS integer
    LANGUAGE sql STABLE
    AS $$ SELECT extract(year FROM tavle_today())::integer + (extract(month FROM tavle_today()) >= 8)::integer $$;

-- The street of an address as districts name it: without its house number (and
-- letter), lower case. 'Storgata 12 B' is 'storgata'.
CREATE FUNCTION tavle_street_name(address text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT lower(btrim(regexp_replace(address, '\s+[0-9]+\s*[A-Za-z]?\s*$', ''))) $$;

-- The parents the population register names for a child who is not a pupil (yet), and
-- whether they have parental responsibility: `guardianships` holds only pupils'. Set by
-- the register import, which replaces a child's rows with what its line says.
CREATE TABLE register_parents (
    tenant_id uuid NOT NULL,
    child_id uuid NOT NULL,
    parent_id uuid NOT NULL,
    parental_responsibility boolean NOT NULL,
    PRIMARY KEY (tenant_id, child_id, parent_id),
    FOREIGN KEY (tenant_id, child_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES persons (tenant_id, id),
    CHECK (child_id <> parent_id)
);
CREATE INDEX register_parents_parent_idx ON register_parents (tenant_id, parent_id);
ALTER TABLE register_parents ENABLE ROW LEVEL SECURITY;
ALTER TABLE register_parents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON register_parents
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON register_parents TO tavle_app;
-- A parent with parental responsibility signs in to see the intake: a change is a
-- change of access, seen on the next request.
CREATE CONSTRAINT TRIGGER register_parents_access_changed AFTER INSERT OR UPDATE OR DELETE ON register_parents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();

-- School districts (skolekretser): the school of a street in a postal code, or of a
-- whole postal code (street ''). The street is the address without its house number,
-- compared without regard to case. Replaced as a whole by `tavle import districts`.
CREATE TABLE school_districts (
    tenant_id uuid NOT NULL,
    postal_code char(4) NOT NULL CHECK (postal_code ~ '^[0-9]{4}$'),
    street text NOT NULL CHECK (street = lower(street) AND length(street) <= 200),
    school_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, postal_code, street),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id)
);
ALTER TABLE school_districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE school_districts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON school_districts
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, DELETE ON school_districts TO tavle_app;

-- A child the district cannot place (no address, a protected one, a street in no
-- district) placed at a school by its principal.
CREATE TABLE intake_placements (
    tenant_id uuid NOT NULL,
    child_id uuid NOT NULL,
    start_year integer NOT NULL,
    school_id uuid NOT NULL,
    placed_by uuid NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, child_id, start_year),
    FOREIGN KEY (tenant_id, child_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, placed_by) REFERENCES persons (tenant_id, id)
);
ALTER TABLE intake_placements ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake_placements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON intake_placements
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT ON intake_placements TO tavle_app;

-- A guardian's request for another school than the district's, one per child and
-- year, with a reason code (never free text), and the requested school's decision.
-- Asked again before the decision: the request is replaced (requested_by/at say who
-- and when); decided: kept as it is (an appeal goes outside Tavle).
CREATE TABLE intake_requests (
    tenant_id uuid NOT NULL,
    child_id uuid NOT NULL,
    start_year integer NOT NULL,
    school_id uuid NOT NULL,
    reason text NOT NULL CHECK (reason IN ('siblings', 'closer_to_home', 'after_school_care', 'child_needs', 'other')),
    requested_by uuid NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    decision text CHECK (decision IN ('granted', 'refused')),
    decision_reason text CHECK (decision_reason IN ('school_full', 'district_priority', 'needs_met_at_district_school', 'other')),
    decided_by uuid,
    decided_at timestamptz,
    PRIMARY KEY (tenant_id, child_id, start_year),
    FOREIGN KEY (tenant_id, child_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, requested_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, decided_by) REFERENCES persons (tenant_id, id),
    -- Decided: by whom and when; refused: why; granted: no reason needed.
    CHECK ((decision IS NULL) = (decided_by IS NULL) AND (decision IS NULL) = (decided_at IS NULL)),
    CHECK (CASE decision WHEN 'refused' THEN decision_reason IS NOT NULL ELSE decision_reason IS NULL END)
);
CREATE INDEX intake_requests_school_idx ON intake_requests (tenant_id, school_id, start_year);
ALTER TABLE intake_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE intake_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON intake_requests
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON intake_requests TO tavle_app;
