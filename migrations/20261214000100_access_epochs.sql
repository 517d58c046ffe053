-- Each municipality's access epoch: a number that grows whenever something that
-- decides a signed-in person's access changes (issue 15, the morning peak).
--
-- Tavle keeps a short-lived per-process cache of sessions with their actors (roles at
-- schools, a guardian's children). A cached actor is used only after a check inside
-- the request's own transaction: the session still lives, and the municipality's epoch
-- is still the one the actor was read with. So a change committed before the request
-- began reaches it, however the change was made (a page of Tavle, an import, another
-- server, psql): the next request reads the actor afresh.
--
-- What counts: role mappings, employments, guardianships and enrolments (every row
-- written, inserted or removed), and persons changed or removed (a child's birth date
-- or protected address decides what a guardian sees). A session that ends is seen by
-- the check itself, which reads the session's row.
--
-- The epoch is raised once per transaction and municipality, as the transaction
-- commits (a deferred trigger), so a long import holds the row's lock only for its
-- commit, and two transactions never wait for each other's epoch row in the middle of
-- their work (no deadlock between a row they both change and the epoch).

CREATE TABLE access_epochs (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
    epoch bigint NOT NULL DEFAULT 0
);

ALTER TABLE access_epochs ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_epochs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON access_epochs USING (tenant_id = tavle_current_tenant())
    WITH CHECK (tenant_id = tavle_current_tenant());
-- Read only for the application: only the trigger below raises it.
GRANT SELECT ON access_epochs TO tavle_app;

CREATE FUNCTION tavle_access_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    t uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
    -- A transaction-local flag per municipality: the first changed row raises the
    -- epoch, the others of the same transaction find it raised.
    flag text := 'tavle.access_changed_' || replace(t::text, '-', '');
    bound text := current_setting('tavle.tenant_id', true);
BEGIN
    IF current_setting(flag, true) = 'y' THEN
        RETURN NULL;
    END IF;
    -- Row-level security binds this function's owner too: visit the row's municipality
    -- (a superuser's bulk load may have bound none), then come back.
    PERFORM set_config('tavle.tenant_id', t::text, true);
    INSERT INTO access_epochs (tenant_id, epoch) VALUES (t, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET epoch = access_epochs.epoch + 1;
    PERFORM set_config('tavle.tenant_id', coalesce(bound, ''), true);
    PERFORM set_config(flag, 'y', true);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION tavle_access_changed() FROM PUBLIC;

-- Deferred: runs as the transaction commits (constraint triggers are per row).
CREATE CONSTRAINT TRIGGER role_mappings_access_changed AFTER INSERT OR UPDATE OR DELETE ON role_mappings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();
CREATE CONSTRAINT TRIGGER employments_access_changed AFTER INSERT OR UPDATE OR DELETE ON employments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();
CREATE CONSTRAINT TRIGGER guardianships_access_changed AFTER INSERT OR UPDATE OR DELETE ON guardianships
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();
CREATE CONSTRAINT TRIGGER enrolments_access_changed AFTER INSERT OR UPDATE OR DELETE ON enrolments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();
CREATE CONSTRAINT TRIGGER persons_access_changed AFTER UPDATE OR DELETE ON persons
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tavle_access_changed();
