-- OpenID Connect sign-in: the identity providers a municipality uses, the pending
-- authorisation requests, and the provider subjects bound to persons.

-- One row per tenant and kind of provider. The client secret is never stored: it
-- comes from the environment (TAVLE_OIDC_SECRET_<SLUG>_<KIND>, see the README).
CREATE TABLE identity_providers (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    kind text NOT NULL CHECK (kind IN ('feide', 'idporten')),
    issuer text NOT NULL CHECK (issuer ~ '^https?://[^ ]+$'),
    client_id text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 200),
    scopes text NOT NULL CHECK (scopes ~ '^[A-Za-z0-9_:./ -]*$' AND length(scopes) <= 500),
    -- Feide: the acr values staff must present (multi-factor); pupils need none.
    -- ID-porten: the acr values every guardian must present.
    required_acr text[] NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind)
);

-- An authorisation request between the redirect to the provider and the callback.
-- Only hashes of the state and of the browser binding (a cookie) are kept; the
-- row is deleted when the callback uses it, so a state works once.
CREATE TABLE oidc_requests (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    state_hash bytea NOT NULL CHECK (length(state_hash) = 32),
    kind text NOT NULL CHECK (kind IN ('feide', 'idporten')),
    binding_hash bytea NOT NULL CHECK (length(binding_hash) = 32),
    nonce text NOT NULL,
    pkce_verifier text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, state_hash)
);
CREATE INDEX oidc_requests_created_idx ON oidc_requests (tenant_id, created_at);

-- The provider's `sub` bound to a person at first sign-in. A Feide user id that is
-- later presented with another `sub` (a reassigned or spoofed account) is refused.
CREATE TABLE external_identities (
    tenant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('feide', 'idporten')),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    person_id uuid NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, kind, subject),
    UNIQUE (tenant_id, kind, person_id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['identity_providers', 'oidc_requests', 'external_identities'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON identity_providers TO tavle_app;
GRANT SELECT, INSERT, DELETE ON oidc_requests TO tavle_app;
GRANT SELECT, INSERT, UPDATE ON external_identities TO tavle_app;

-- Which municipalities offer which sign-in, for the sign-in page before anyone is
-- signed in (public facts: no client ids, no secrets).
CREATE FUNCTION tavle_sign_in_options()
    RETURNS TABLE (slug text, tenant_name text, kind text, issuer text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT t.slug, t.name, p.kind, p.issuer
        FROM identity_providers p JOIN tenants t ON t.id = p.tenant_id
        ORDER BY t.name, p.kind
    $$;
REVOKE ALL ON FUNCTION tavle_sign_in_options() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tavle_sign_in_options() TO tavle_app;
