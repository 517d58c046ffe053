-- A parent without parental responsibility has no access to the child in Tavle, but
-- has a right to information about the child from the school on request (barnelova
-- § 47), unless a decision has taken it away. The school office records each request
-- and what was given (issue 18, point 2): what, as codes (never the information itself
-- or a free-text note), or that it was refused because of such a decision.
CREATE TABLE information_requests (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    pupil_id uuid NOT NULL,
    requester_id uuid NOT NULL,
    received_on date NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('given', 'refused')),
    items text[] NOT NULL DEFAULT '{}'
        CHECK (items <@ ARRAY['assessment', 'absence', 'timetable', 'meetings', 'other']::text[]),
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, requester_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, recorded_by) REFERENCES persons (tenant_id, id),
    CHECK (pupil_id <> requester_id),
    -- Given: what; refused: nothing.
    CHECK ((outcome = 'given') = (cardinality(items) > 0))
);
CREATE INDEX information_requests_pupil_idx ON information_requests (tenant_id, pupil_id, received_on);

ALTER TABLE information_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE information_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON information_requests
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
-- Recorded, never changed or deleted (a mistake is recorded anew).
GRANT SELECT, INSERT ON information_requests TO tavle_app;
