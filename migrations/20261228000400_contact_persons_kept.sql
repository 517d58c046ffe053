-- Contact persons kept by the school office (issue 18, point 1): added, corrected and
-- removed in Tavle, every change kept with the values before it. A contact person is
-- never deleted (an SFO record may name them as the one who collected): removing one
-- sets `removed_at`, which takes them off the card, the pick-up list and SFO's list,
-- and withdraws their pick-up permission.
ALTER TABLE contact_persons
    ADD COLUMN removed_at timestamptz,
    ADD COLUMN changed_by uuid,
    ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT contact_persons_changed_by_fkey FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id);

-- Each change, with the contact person's values as they were after it (`created`,
-- `updated`) or when removed (`removed`): the earlier values are the row before.
CREATE TABLE contact_person_history (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    contact_person_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    change text NOT NULL CHECK (change IN ('created', 'updated', 'removed')),
    relation text NOT NULL,
    given_name text NOT NULL,
    family_name text NOT NULL,
    phone text,
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_person_id) REFERENCES contact_persons (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id)
);
CREATE INDEX contact_person_history_pupil_idx ON contact_person_history (tenant_id, pupil_id, changed_at);

ALTER TABLE contact_person_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_person_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_person_history
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
-- The history is only ever added to.
GRANT SELECT, INSERT ON contact_person_history TO tavle_app;
