-- The language each person last signed in with (issue 5: the weekly summary).
--
-- What Tavle sends unasked, the weekly absence summary to guardians, was always in
-- bokmål. The language a person uses Tavle in is the one they chose (or their browser
-- asked for) when they signed in; it is kept here and updated at every sign-in, so a
-- guardian who reads Tavle in English gets the summary in English too. Codes are the
-- interface's (`nb`, `en`; `nn` and `se` when they come).

CREATE TABLE person_languages (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    person_id uuid NOT NULL,
    lang text NOT NULL CHECK (lang ~ '^[a-z]{2,3}$'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, person_id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE person_languages ENABLE ROW LEVEL SECURITY;
ALTER TABLE person_languages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON person_languages USING (tenant_id = tavle_current_tenant())
    WITH CHECK (tenant_id = tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE ON person_languages TO tavle_app;
