-- The sign-in page's list of providers under a schema owner that is not a superuser
-- (issue 14, item 4).
--
-- Row-level security is forced on every tenant table, so it binds the tables' owner
-- too, and with it every SECURITY DEFINER function, which runs as the owner. Under the
-- embedded PostgreSQL the owner is a superuser, whom row-level security never binds,
-- so this went unseen; under the README's recipe for an external PostgreSQL (an
-- ordinary owner role) `tavle_sign_in_options()` found no providers at all: the
-- sign-in page offered nothing, and the start-up check of `tavle serve` for missing
-- client secrets passed without having seen a single provider.
--
-- Every SECURITY DEFINER function, and what it reads:
--   * tavle_audit_chain() (trigger), tavle_audit_commit() (trigger),
--     tavle_audit_chain_pending(tenant, wait): one municipality's pending events and
--     chain head, always inside a transaction bound to that municipality (the
--     request's, `verify`'s, or the sweep's). Row-level security is what keeps them to
--     it; they need nothing more and are unchanged. (tests/tavle/external_postgres.rs
--     signs in and verifies the chain under an ordinary owner.)
--   * tavle_audit_sweep(): binds each municipality in turn before chaining it;
--     unchanged.
--   * tavle_sign_in_options(): must read every municipality's providers before anyone
--     has signed in, so before there is a municipality to bind. It now does so
--     deliberately, through the policy below.
-- (The identity lookups of sign-in are not definer functions: they run as the
-- application in a transaction bound to the municipality chosen on the sign-in page.)
--
-- Why a policy and not a role with BYPASSRLS owning the function: only a superuser can
-- create such a role, so the recipe would need one more superuser step and the
-- migration a fallback for when the role is missing. The policy needs neither. It
-- admits the rows of every municipality only to the role that owns the table, and only
-- while `tavle.sign_in_options` is 'on', which the function sets for its own duration. The application's login may set the same
-- setting, but it is not the owner, so its own queries still see one municipality at
-- most; owner-run code (migrations, `tavle idp`, `audit verify`) that forgets to bind
-- a municipality still sees nothing. The owner is looked up, not named, so the policy
-- holds under any owner and after a restore with `--no-owner`. What the function
-- returns is public: municipality, kind of provider and issuer, no client ids.

CREATE POLICY sign_in_options ON identity_providers FOR SELECT
    USING (current_setting('tavle.sign_in_options', true) = 'on'
           AND current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c
                               WHERE c.oid = 'identity_providers'::regclass));

-- (The setting is made in the body: PostgreSQL lets only a superuser fix a custom
-- setting in a function's SET clause. It is transaction-local and put back before
-- the function returns; an error undoes it with the rest of the (sub)transaction.)
CREATE OR REPLACE FUNCTION tavle_sign_in_options()
    RETURNS TABLE (slug text, tenant_name text, kind text, issuer text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    before text := current_setting('tavle.sign_in_options', true);
BEGIN
    PERFORM set_config('tavle.sign_in_options', 'on', true);
    RETURN QUERY
        SELECT t.slug, t.name, p.kind, p.issuer
        FROM identity_providers p JOIN tenants t ON t.id = p.tenant_id
        ORDER BY t.name, p.kind;
    PERFORM set_config('tavle.sign_in_options', coalesce(before, ''), true);
END
$$;
