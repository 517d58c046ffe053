-- Features that are off in a new municipality until its system administrator turns
-- them on (messaging.md rule 7 and M12: a vendor switching on group messages "with
-- response" without the municipality's agreement is what made a guardian's message
-- reach a whole parent group). No row: off. Every change is an audit row as well.
CREATE TABLE tenant_features (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    feature text NOT NULL CHECK (feature IN ('sms', 'group_replies', 'pupil_messaging')),
    enabled boolean NOT NULL,
    changed_by uuid NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, feature),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id)
);
ALTER TABLE tenant_features ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_features FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_features
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE ON tenant_features TO tavle_app;
