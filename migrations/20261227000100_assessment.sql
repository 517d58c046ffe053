-- Assessment (vurdering, issue 17): the directorate's subject codes and the grade scale
-- each subject uses, the assessment periods of a school's year (their entry window and
-- when pupils and guardians see the grades), the grades with their full history, and
-- exemptions from assessment.
--
-- A grade is one row per (period, subject, pupil): saving the same value twice changes
-- nothing, and every change (also clearing a value) adds a row to grade_history, which
-- the application may only add to. A change after the period's window has closed
-- carries a reason code (and is made by the principal or a department head).

-- The directorate's code for a subject (Grep's fagkode, e.g. MAT0010), its nynorsk
-- title, until when the code is valid (an expired code stays for history but is not
-- offered for new groups), and the scale of each kind of assessment:
--   grade         1-6 (and IV, not assessed; Fritatt with an exemption)
--   pass_fail     bestått / ikke bestått
--   participated  deltatt
--   none          not assessed in this kind
ALTER TABLE subjects
    ADD COLUMN grep_code text CHECK (grep_code ~ '^[A-ZÆØÅ0-9]{3,12}$'),
    ADD COLUMN name_nn text CHECK (length(name_nn) BETWEEN 1 AND 200),
    ADD COLUMN valid_to date,
    ADD COLUMN half_year_scale text NOT NULL DEFAULT 'grade'
        CHECK (half_year_scale IN ('grade', 'pass_fail', 'participated', 'none')),
    ADD COLUMN final_scale text NOT NULL DEFAULT 'grade'
        CHECK (final_scale IN ('grade', 'pass_fail', 'participated', 'none'));
CREATE UNIQUE INDEX subjects_grep_code_key ON subjects (tenant_id, grep_code);

-- A school's assessment period in a school year: the autumn and spring half-year
-- assessments, the final assessment (standpunkt) and the exams. Teachers enter grades
-- from opens_on to closes_on (both included); pupils and guardians see them from
-- publish_on at publish_time (Norwegian time), never before.
CREATE TABLE assessment_periods (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    school_id uuid NOT NULL,
    school_year_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('autumn', 'spring', 'final', 'exam')),
    opens_on date NOT NULL,
    closes_on date NOT NULL,
    publish_on date,
    publish_time time NOT NULL DEFAULT '08:00',
    changed_by uuid,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, school_id, school_year_id, kind),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, school_year_id) REFERENCES school_years (tenant_id, id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id),
    CHECK (opens_on <= closes_on)
);

-- The grade values (stored codes: never rename). Which of them a pupil may get in a
-- subject and period is the application's rule (src/assessment/domain.rs).
--   1-6  grades; IV ikke vurdert (not assessed); FR fritatt (exempt);
--   B bestått, IB ikke bestått (passed, failed); D deltatt (participated)
CREATE TABLE grades (
    tenant_id uuid NOT NULL,
    period_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    value text NOT NULL CHECK (value IN ('1', '2', '3', '4', '5', '6', 'IV', 'FR', 'B', 'IB', 'D')),
    -- The teaching group it was entered from (the grid), if any.
    group_id uuid,
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, period_id, subject_id, pupil_id),
    FOREIGN KEY (tenant_id, period_id) REFERENCES assessment_periods (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id)
);
CREATE INDEX grades_pupil_idx ON grades (tenant_id, pupil_id);

-- Every change of a grade, oldest first: the value set (NULL: cleared) and the one it
-- replaced, by whom, when, and after the window closed, why (a code).
CREATE TABLE grade_history (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    period_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    value text CHECK (value IN ('1', '2', '3', '4', '5', '6', 'IV', 'FR', 'B', 'IB', 'D')),
    previous text CHECK (previous IN ('1', '2', '3', '4', '5', '6', 'IV', 'FR', 'B', 'IB', 'D')),
    reason text CHECK (reason IN ('registration_error', 'calculation_error', 'complaint_upheld',
                                  'exemption_recorded', 'late_assessment')),
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, period_id) REFERENCES assessment_periods (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id),
    CHECK (value IS DISTINCT FROM previous)
);
CREATE INDEX grade_history_pupil_idx ON grade_history (tenant_id, pupil_id, changed_at);

-- Exemptions (fritak), recorded from an individual decision (the decision itself is
-- not stored): from assessment with grade in a subject (the directorate's subject note
-- FAM02) or from the subject's teaching (FAM01), for a period of days. A pupil may get
-- Fritatt in a subject only on a day an exemption covers.
CREATE TABLE assessment_exemptions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('assessment', 'subject')),
    from_date date NOT NULL,
    to_date date,
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    FOREIGN KEY (tenant_id, recorded_by) REFERENCES persons (tenant_id, id),
    CHECK (to_date IS NULL OR to_date >= from_date)
);
CREATE INDEX assessment_exemptions_pupil_idx ON assessment_exemptions (tenant_id, pupil_id);

-- Order and conduct (orden og oppførsel) per half-year and final assessment: G (god),
-- NG (nokså god), LG (lite god), set by the pupil's contact teacher from the school's
-- rules; kept with their history like grades.
CREATE TABLE conduct_grades (
    tenant_id uuid NOT NULL,
    period_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    aspect text NOT NULL CHECK (aspect IN ('order', 'conduct')),
    value text NOT NULL CHECK (value IN ('G', 'NG', 'LG')),
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, period_id, pupil_id, aspect),
    FOREIGN KEY (tenant_id, period_id) REFERENCES assessment_periods (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id)
);

CREATE TABLE conduct_history (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    period_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    aspect text NOT NULL CHECK (aspect IN ('order', 'conduct')),
    value text CHECK (value IN ('G', 'NG', 'LG')),
    previous text CHECK (previous IN ('G', 'NG', 'LG')),
    reason text CHECK (reason IN ('registration_error', 'calculation_error', 'complaint_upheld',
                                  'exemption_recorded', 'late_assessment')),
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, period_id) REFERENCES assessment_periods (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id),
    CHECK (value IS DISTINCT FROM previous)
);
CREATE INDEX conduct_history_pupil_idx ON conduct_history (tenant_id, pupil_id, changed_at);

-- Remarks (anmerkninger): a category code from the school's rules (src/assessment/
-- remarks.rs), the day and the lesson, and at most a short factual note (the form
-- warns that it must never hold health or family information). Withdrawn, not deleted.
CREATE TABLE remarks (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    school_id uuid NOT NULL,
    category text NOT NULL CHECK (category ~ '^[a-z_]{2,40}$'),
    day date NOT NULL,
    lesson_id uuid,
    note text CHECK (length(note) BETWEEN 1 AND 200),
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_by uuid,
    withdrawn_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, lesson_id) REFERENCES lessons (tenant_id, id),
    FOREIGN KEY (tenant_id, recorded_by) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, withdrawn_by) REFERENCES persons (tenant_id, id),
    CHECK ((withdrawn_by IS NULL) = (withdrawn_at IS NULL))
);
CREATE INDEX remarks_pupil_idx ON remarks (tenant_id, pupil_id, day);

-- Written warnings (varsel): that a pupil risks getting no grade (IV) in a subject, or
-- a lowered order or conduct grade, in a period; sent by the school to the pupil and
-- the guardians with parental responsibility, once per (period, pupil, subject or aspect).
CREATE TABLE assessment_warnings (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    period_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    subject_id uuid,
    aspect text CHECK (aspect IN ('order', 'conduct')),
    sent_by uuid NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE NULLS NOT DISTINCT (tenant_id, period_id, pupil_id, subject_id, aspect),
    FOREIGN KEY (tenant_id, period_id) REFERENCES assessment_periods (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    FOREIGN KEY (tenant_id, sent_by) REFERENCES persons (tenant_id, id),
    CHECK ((subject_id IS NULL) <> (aspect IS NULL))
);
CREATE INDEX assessment_warnings_pupil_idx ON assessment_warnings (tenant_id, pupil_id);

-- Whether late arrivals count toward the diploma's single hours: the municipality's rule
-- per school year and school type (default: yes, as Tavle has always counted them).
ALTER TABLE absence_rule_parameters ADD COLUMN late_counts_on_diploma boolean NOT NULL DEFAULT true;

-- The warning's e-mail goes through the outbox.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('weekly_absence_summary', 'assessment_warning'));

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['assessment_periods', 'grades', 'grade_history', 'assessment_exemptions',
                             'conduct_grades', 'conduct_history', 'remarks', 'assessment_warnings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I '
            'USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant()) '
            'WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())', t);
    END LOOP;
END
$$;

-- The subject catalogue (`subjects`, from the foundation) is written by `tavle import
-- subjects` as the application's login, which may already write it.
GRANT SELECT, INSERT, UPDATE ON assessment_periods TO tavle_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON grades TO tavle_app;
-- The history is only ever added to.
GRANT SELECT, INSERT ON grade_history TO tavle_app;
GRANT SELECT, INSERT, UPDATE ON assessment_exemptions TO tavle_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON conduct_grades TO tavle_app;
GRANT SELECT, INSERT ON conduct_history TO tavle_app;
-- Remarks are withdrawn (an update), never deleted; warnings are never changed.
GRANT SELECT, INSERT, UPDATE ON remarks TO tavle_app;
GRANT SELECT, INSERT ON assessment_warnings TO tavle_app;
