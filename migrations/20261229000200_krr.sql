-- The contact and reservation register (KRR, issue 18, point 10): what KRR said about a
-- person when Tavle last asked. A person reserved against digital communication gets
-- no e-mail or digital message from Tavle (policy::guardianship::reaches), whatever
-- address Tavle has; the office's list of who needs letters on paper reads this.
-- KRR's phone and e-mail, when fresh (verified within 18 months), are written to
-- `persons` (the earlier values kept in person_history, source 'krr').
CREATE TABLE krr_contacts (
    tenant_id uuid NOT NULL,
    person_id uuid NOT NULL,
    reserved boolean NOT NULL,
    -- AKTIV, SLETTET (the person deleted their entry), IKKE_REGISTRERT.
    status text NOT NULL CHECK (status IN ('active', 'deleted', 'not_registered')),
    -- KRR's varslingsstatus: whether the person can be notified at all.
    can_notify boolean NOT NULL,
    -- KRR gave contact details that were not verified within 18 months (not used).
    stale boolean NOT NULL DEFAULT false,
    fetched_on date NOT NULL,
    PRIMARY KEY (tenant_id, person_id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);

ALTER TABLE krr_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE krr_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON krr_contacts
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE ON krr_contacts TO tavle_app;
