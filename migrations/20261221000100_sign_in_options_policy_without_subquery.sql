-- The sign-in options' policy without a subquery (Citus refuses to distribute a table
-- whose policy holds one, "cannot create policy"): the policy asks a function who owns
-- the table. This was first appended to 20261220000100 after that migration had landed;
-- it lives here instead, and is written so that a database that already ran the
-- appended version applies it again without harm.

-- Whether the current user owns `identity_providers` (looked up, not named, so that it
-- holds under any owner and after a restore with --no-owner).
CREATE OR REPLACE FUNCTION tavle_owns_identity_providers() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT current_user = pg_get_userbyid(c.relowner) FROM pg_class c
    WHERE c.oid = 'identity_providers'::regclass
    $$;

ALTER POLICY sign_in_options ON identity_providers
    USING (current_setting('tavle.sign_in_options', true) = 'on' AND tavle_owns_identity_providers());
