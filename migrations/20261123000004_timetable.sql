-- The timetable, as far as absence needs it: the school year's terms and days off,
-- and the weekly lessons of each group. Date ranges named `*_to` / `valid_to` end
-- *before* that date (exclusive, as enrolments and employments do); `first_day` and
-- `last_day` of a break are both days off (inclusive), as calendars print them.

-- The two halves of a school year (høst, vår), for "grades from the last term" and
-- for absence totals per term.
CREATE TABLE terms (
    tenant_id uuid NOT NULL,
    school_year_id uuid NOT NULL,
    term smallint NOT NULL CHECK (term IN (1, 2)),
    starts date NOT NULL,
    ends date NOT NULL,
    PRIMARY KEY (tenant_id, school_year_id, term),
    FOREIGN KEY (tenant_id, school_year_id) REFERENCES school_years (tenant_id, id),
    CHECK (starts <= ends)
);

-- Days without teaching: holidays, planning days. A break without a school applies to
-- every school of the municipality.
CREATE TABLE calendar_breaks (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    school_year_id uuid NOT NULL,
    school_id uuid,
    kind text NOT NULL CHECK (kind IN ('holiday', 'planning_day', 'other')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    first_day date NOT NULL,
    last_day date NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_year_id) REFERENCES school_years (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    CHECK (first_day <= last_day)
);
CREATE INDEX calendar_breaks_year_idx ON calendar_breaks (tenant_id, school_year_id, first_day);

-- A weekly lesson of a group: the same weekday and times every week from `valid_from`
-- until (not including) `valid_to`, except on the days off of the calendar.
CREATE TABLE lessons (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    group_id uuid NOT NULL,
    subject_id uuid,
    teacher_id uuid,
    room text CHECK (length(room) BETWEEN 1 AND 40),
    weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7), -- ISO 8601: 1 is Monday
    starts time NOT NULL,
    ends time NOT NULL,
    valid_from date NOT NULL,
    valid_to date,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    FOREIGN KEY (tenant_id, teacher_id) REFERENCES staff (tenant_id, person_id),
    CHECK (starts < ends),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX lessons_group_idx ON lessons (tenant_id, group_id, weekday);
CREATE INDEX lessons_teacher_idx ON lessons (tenant_id, teacher_id, weekday);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['terms', 'calendar_breaks', 'lessons'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO tavle_app', t);
    END LOOP;
END
$$;
