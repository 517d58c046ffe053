-- Schema v1: the municipality (tenant), its schools, people, pupils, guardians,
-- staff and groups.
--
-- Rules every tenant table keeps (checked by tests/tavle/schema.rs):
--   * it has `tenant_id uuid not null`, and its primary key, every unique key and
--     every foreign key lead with `tenant_id`, so the schema can be distributed by
--     tenant (Citus) without change;
--   * row-level security is enabled *and forced*, with one policy that compares
--     `tenant_id` with the tenant set by the request's transaction
--     (`tavle_current_tenant()`); a connection that has set no tenant sees nothing.
-- The application logs in as `tavle_app`, which is neither owner nor superuser.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tavle_app') THEN
        CREATE ROLE tavle_app NOLOGIN;
    END IF;
END
$$;

-- The tenant of the current transaction, or NULL when none is set. NULL makes every
-- policy comparison false, so "no tenant" means "no rows", never "all rows".
CREATE FUNCTION tavle_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('tavle.tenant_id', true), '')::uuid $$;

-- Tenants are municipalities. Not tenant-scoped itself: it holds only public facts
-- (municipality number, name) and is needed to resolve a tenant before one is set.
CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    municipality_number char(4) NOT NULL UNIQUE CHECK (municipality_number ~ '^[0-9]{4}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schools (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_number char(9) NOT NULL CHECK (org_number ~ '^[0-9]{9}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    first_grade smallint NOT NULL CHECK (first_grade BETWEEN 1 AND 13),
    last_grade smallint NOT NULL CHECK (last_grade BETWEEN 1 AND 13),
    has_sfo boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, org_number),
    CHECK (first_grade <= last_grade)
);

-- Municipal workplaces that are not schools (the education office, IT, billing).
CREATE TABLE municipal_units (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_number char(9) NOT NULL CHECK (org_number ~ '^[0-9]{9}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, org_number)
);

-- Everyone the municipality knows: pupils, guardians, staff, children under school age.
-- `national_id` is the 11-digit fødselsnummer / D-number (or 12-digit DUF number),
-- validated by `NationalId` before it gets here. Shown masked unless a person with
-- the right asks to see it (and that is audited).
CREATE TABLE persons (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    national_id text NOT NULL CHECK (national_id ~ '^[0-9]{11}$|^[0-9]{12}$'),
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    birth_date date,
    -- adressebeskyttelse: 'none', 'confidential' (fortrolig), 'strictly_confidential'
    -- (strengt fortrolig). A protected address is stored as the register gives it
    -- (usually not at all for strictly confidential) and never rendered.
    address_protection text NOT NULL DEFAULT 'none'
        CHECK (address_protection IN ('none', 'confidential', 'strictly_confidential')),
    street_address text,
    postal_code char(4) CHECK (postal_code ~ '^[0-9]{4}$'),
    postal_town text,
    phone text CHECK (phone ~ '^\+?[0-9 ]{5,20}$'),
    email text CHECK (position('@' IN email) > 1),
    feide_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, national_id),
    UNIQUE (tenant_id, feide_id)
);
-- Name search in the office's pupil list.
CREATE INDEX persons_name_idx ON persons (tenant_id, lower(family_name), lower(given_name));

CREATE TABLE pupils (
    tenant_id uuid NOT NULL,
    person_id uuid NOT NULL,
    other_mother_tongue text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, person_id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);

-- Which pupil attended which school when (archive-worthy). `to_date` is exclusive and
-- NULL while the enrolment runs. A guest pupil has a home municipality of their own.
CREATE TABLE enrolments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    school_id uuid NOT NULL,
    grade_level smallint NOT NULL CHECK (grade_level BETWEEN 1 AND 13),
    from_date date NOT NULL,
    to_date date,
    guest_home_municipality char(4) CHECK (guest_home_municipality ~ '^[0-9]{4}$'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    CHECK (to_date IS NULL OR to_date > from_date)
);
CREATE INDEX enrolments_school_idx ON enrolments (tenant_id, school_id, to_date);
CREATE INDEX enrolments_pupil_idx ON enrolments (tenant_id, pupil_id);

-- A guardian (foresatt) of a pupil. Only a guardianship *with* parental responsibility
-- (foreldreansvar) ever grants access to the child's data.
CREATE TABLE guardianships (
    tenant_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    guardian_id uuid NOT NULL,
    parental_responsibility boolean NOT NULL,
    lives_with boolean NOT NULL DEFAULT false,
    invoice_recipient boolean NOT NULL DEFAULT false,
    from_date date NOT NULL DEFAULT current_date,
    to_date date,
    PRIMARY KEY (tenant_id, pupil_id, guardian_id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, guardian_id) REFERENCES persons (tenant_id, id),
    CHECK (pupil_id <> guardian_id),
    CHECK (to_date IS NULL OR to_date > from_date)
);
CREATE INDEX guardianships_guardian_idx ON guardianships (tenant_id, guardian_id);

-- Other contact persons, entered by hand by the office. `relation` is a code.
CREATE TABLE contact_persons (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    relation text NOT NULL
        CHECK (relation IN ('grandparent', 'sibling', 'relative', 'neighbour', 'family_friend', 'other')),
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    phone text CHECK (phone ~ '^\+?[0-9 ]{5,20}$'),
    national_id text CHECK (national_id ~ '^[0-9]{11}$'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id)
);
CREATE INDEX contact_persons_pupil_idx ON contact_persons (tenant_id, pupil_id);

CREATE TABLE staff (
    tenant_id uuid NOT NULL,
    person_id uuid NOT NULL,
    resource_number text NOT NULL CHECK (resource_number ~ '^[A-Za-z0-9-]{1,20}$'),
    PRIMARY KEY (tenant_id, person_id),
    UNIQUE (tenant_id, resource_number),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);

-- An employment from the HR system: the workplace (a school or a municipal unit) and
-- the position code (stillingskode) together decide the role (see role_mappings).
CREATE TABLE employments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    staff_id uuid NOT NULL,
    school_id uuid,
    unit_id uuid,
    position_code text NOT NULL CHECK (position_code ~ '^[0-9]{4}$'),
    position_percentage numeric(5, 2) NOT NULL CHECK (position_percentage > 0 AND position_percentage <= 100),
    from_date date NOT NULL,
    to_date date,
    on_leave boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, person_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES municipal_units (tenant_id, id),
    CHECK ((school_id IS NULL) <> (unit_id IS NULL)),
    CHECK (to_date IS NULL OR to_date > from_date)
);
CREATE INDEX employments_staff_idx ON employments (tenant_id, staff_id);

CREATE TABLE subjects (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    code text NOT NULL CHECK (code ~ '^[A-Z0-9]{2,12}$'),
    name_nb text NOT NULL,
    name_en text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code)
);

CREATE TABLE school_years (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (name ~ '^[0-9]{4}-[0-9]{4}$'),
    starts date NOT NULL,
    ends date NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    CHECK (starts < ends)
);

-- base: basisgruppe/klasse; teaching: undervisningsgruppe (per subject); sfo: SFO group.
CREATE TABLE groups (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    school_id uuid NOT NULL,
    school_year_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('base', 'teaching', 'sfo')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    grade_level smallint CHECK (grade_level BETWEEN 1 AND 13),
    subject_id uuid,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, school_id, school_year_id, name),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, school_year_id) REFERENCES school_years (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    CHECK (kind <> 'teaching' OR subject_id IS NOT NULL)
);

CREATE TABLE group_memberships (
    tenant_id uuid NOT NULL,
    group_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    from_date date NOT NULL,
    to_date date,
    PRIMARY KEY (tenant_id, group_id, pupil_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    CHECK (to_date IS NULL OR to_date > from_date)
);
CREATE INDEX group_memberships_pupil_idx ON group_memberships (tenant_id, pupil_id);

CREATE TABLE group_staff (
    tenant_id uuid NOT NULL,
    group_id uuid NOT NULL,
    staff_id uuid NOT NULL,
    assignment text NOT NULL CHECK (assignment IN ('teacher', 'contact_teacher')),
    PRIMARY KEY (tenant_id, group_id, staff_id, assignment),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, person_id)
);
CREATE INDEX group_staff_staff_idx ON group_staff (tenant_id, staff_id);

-- Row-level security on every tenant table, forced so that even the owner obeys it.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'schools', 'municipal_units', 'persons', 'pupils', 'enrolments', 'guardianships',
        'contact_persons', 'staff', 'employments', 'subjects', 'school_years', 'groups',
        'group_memberships', 'group_staff'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO tavle_app', t);
    END LOOP;
END
$$;

GRANT SELECT ON tenants TO tavle_app;
GRANT EXECUTE ON FUNCTION tavle_current_tenant() TO tavle_app;
