-- The office keeps classes and groups, and moves pupils (issue 18, points 4 and 5).
--
-- A group is closed on a day rather than deleted: its memberships end that day and
-- its lessons, registers and grades keep pointing at it.
ALTER TABLE groups ADD COLUMN closed_on date;

-- A pupil may leave a group and come back later in the year: each stay is its own row,
-- and a stay is never rewritten, only ended. (At most one open stay per pupil and group
-- is kept by the code that writes them, in one transaction under the group's lock.)
ALTER TABLE group_memberships DROP CONSTRAINT group_memberships_pkey;
ALTER TABLE group_memberships ADD PRIMARY KEY (tenant_id, group_id, pupil_id, from_date);

-- Why an enrolment ended: moved to another school of the municipality, or out of the
-- municipality (with the municipality number it went to, when known), rolled over into
-- the next school year's grade (a new enrolment follows), or left the school after its
-- last grade. NULL while it runs, and for enrolments that ended before this was recorded.
ALTER TABLE enrolments
    ADD COLUMN ended_by text CHECK (ended_by IN ('moved_school', 'moved_out', 'rolled_over', 'left')),
    ADD COLUMN moved_to_municipality char(4) CHECK (moved_to_municipality ~ '^[0-9]{4}$'),
    ADD CONSTRAINT enrolments_moved_to_only_out CHECK (moved_to_municipality IS NULL OR ended_by = 'moved_out');

-- A school's rollover into the next school year (issue 18, point 6): done once per
-- school and year, in one transaction with everything it changed; what it did is
-- counted here and in the audit log.
CREATE TABLE rollovers (
    tenant_id uuid NOT NULL,
    school_id uuid NOT NULL,
    from_year_id uuid NOT NULL,
    to_year_id uuid NOT NULL,
    advanced integer NOT NULL CHECK (advanced >= 0),
    leavers integer NOT NULL CHECK (leavers >= 0),
    groups_created integer NOT NULL CHECK (groups_created >= 0),
    done_by uuid NOT NULL,
    done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, school_id, from_year_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, from_year_id) REFERENCES school_years (tenant_id, id),
    FOREIGN KEY (tenant_id, to_year_id) REFERENCES school_years (tenant_id, id),
    FOREIGN KEY (tenant_id, done_by) REFERENCES persons (tenant_id, id)
);

ALTER TABLE rollovers ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollovers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollovers
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT ON rollovers TO tavle_app;

-- A pupil's other mother tongue is kept by the office (a code, issue 18 point 1); its
-- earlier values are kept with the person's.
ALTER TABLE person_history ADD COLUMN other_mother_tongue text;

-- A guardianship the population register does not give (issue 18, point 2): linked by
-- the principal with a reason code, e.g. parental responsibility from a foreign decision
-- for a newly arrived child, or a guardian (verge) appointed for an unaccompanied minor.
-- The register import never changes or ends one; the principal ends it. Who linked it
-- is in the audit log.
ALTER TABLE guardianships
    ADD COLUMN manual_reason text CHECK (manual_reason IN
        ('foreign_decision', 'court_decision_not_registered', 'appointed_guardian', 'register_error_reported'));

-- Special arrangements (issue 18, point 8): what a pupil has a right to, recorded by
-- the office from the decision, which itself is not stored (seed 000): school
-- transport, special Norwegian instruction, bilingual subject teaching, mother-tongue
-- teaching, special education (hours a week, with which teacher, on which weekdays).
-- Codes and numbers only, no free text. Ended; withdrawn (deleted) only before it begins.
CREATE TABLE special_arrangements (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN
        ('school_transport', 'special_norwegian', 'bilingual_teaching', 'mother_tongue_teaching', 'special_education')),
    from_date date NOT NULL,
    to_date date,
    hours_per_week numeric(4, 1) CHECK (hours_per_week > 0 AND hours_per_week <= 40),
    teacher_id uuid,
    weekdays smallint[] NOT NULL DEFAULT '{}' CHECK (weekdays <@ ARRAY[1, 2, 3, 4, 5]::smallint[]),
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, teacher_id) REFERENCES staff (tenant_id, person_id),
    FOREIGN KEY (tenant_id, recorded_by) REFERENCES persons (tenant_id, id),
    CHECK (to_date IS NULL OR to_date > from_date),
    -- Transport has no hours, teacher or days.
    CHECK (kind <> 'school_transport' OR (hours_per_week IS NULL AND teacher_id IS NULL AND weekdays = '{}'))
);
CREATE INDEX special_arrangements_pupil_idx ON special_arrangements (tenant_id, pupil_id);

ALTER TABLE special_arrangements ENABLE ROW LEVEL SECURITY;
ALTER TABLE special_arrangements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON special_arrangements
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON special_arrangements TO tavle_app;
