-- Exams through PAS (issue 17): which pupils the school has drawn for which exam
-- (trekk), the registration Tavle exports to PAS as the directorate's `Pamelding`, and
-- what PAS sends back: each candidate's number (`PameldteKandidater`) and the result
-- (`Karakteroversikt`): whether the pupil took part and, if so, the grade.
--
-- The exam period of a school year is the spring after it (PAS's code `V-2027` for
-- the school year 2026-2027): one registration per (school year, subject, pupil).

-- The written form of Norwegian the pupil uses (målform): 'nb' bokmål, 'nn' nynorsk;
-- NULL until the office records it. An exam registration needs it.
ALTER TABLE pupils ADD COLUMN written_form text CHECK (written_form IN ('nb', 'nn'));

-- A pupil drawn for an exam in a subject (by its Grep code), in a candidate group
-- (PAS's `Kandidatgruppe`, named after the teaching group the draw was made from).
-- `candidate_number` is PAS's (kandidatnummer); `participation` and `grade` are the
-- result: took_part (Deltatt) with a grade 1-6, or one of the three ways of not taking
-- part (IkkeDokumentertFravaer, DokumentertFravaer, ManglendeBesvarelse) and no grade.
CREATE TABLE exam_candidates (
    tenant_id uuid NOT NULL,
    school_year_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    school_id uuid NOT NULL,
    group_name text NOT NULL CHECK (length(group_name) BETWEEN 1 AND 100),
    drawn_by uuid,
    drawn_at timestamptz NOT NULL DEFAULT now(),
    candidate_number text CHECK (candidate_number ~ '^[A-Za-z0-9-]{1,20}$'),
    participation text CHECK (participation IN ('took_part', 'undocumented_absence',
                                                'documented_absence', 'no_answer')),
    grade smallint CHECK (grade BETWEEN 1 AND 6),
    result_at timestamptz,
    PRIMARY KEY (tenant_id, school_year_id, subject_id, pupil_id),
    FOREIGN KEY (tenant_id, school_year_id) REFERENCES school_years (tenant_id, id),
    FOREIGN KEY (tenant_id, subject_id) REFERENCES subjects (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, drawn_by) REFERENCES persons (tenant_id, id),
    CHECK (grade IS NULL OR participation = 'took_part'),
    CHECK (participation IS DISTINCT FROM 'took_part' OR grade IS NOT NULL)
);
CREATE INDEX exam_candidates_school_idx ON exam_candidates (tenant_id, school_id, school_year_id);
CREATE INDEX exam_candidates_pupil_idx ON exam_candidates (tenant_id, pupil_id);

ALTER TABLE exam_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE exam_candidates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON exam_candidates
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());

-- Drawn, withdrawn (deleted: a draw made by mistake leaves no registration), and
-- written back by `tavle import pas` as the application's login.
GRANT SELECT, INSERT, UPDATE, DELETE ON exam_candidates TO tavle_app;
