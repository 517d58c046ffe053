-- An audit event's time is the database's clock, never the writer's (issue 14, item 10).
--
-- `audit_pending.at` (migration 000012) is the time an event was written and is carried
-- into the chain. It had a default, but the application's role could insert into every
-- column and so give an event any time it liked, before or after what it recorded.
-- Now the application may insert only the columns that describe the event (naming
-- `at`, or `id`, is refused: permission denied), and a trigger sets `at` from the
-- clock for every row, whoever writes it, the owner included.

REVOKE INSERT ON audit_pending FROM tavle_app;
GRANT INSERT (tenant_id, actor_person_id, actor_role, session_id, action, resource, resource_id,
              subject_ids, purpose, ip) ON audit_pending TO tavle_app;

CREATE FUNCTION tavle_audit_pending_time() RETURNS trigger
    LANGUAGE plpgsql SET search_path = public, pg_temp
    AS $$
BEGIN
    NEW.at := clock_timestamp();
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_pending_time BEFORE INSERT ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION tavle_audit_pending_time();

REVOKE ALL ON FUNCTION tavle_audit_pending_time() FROM PUBLIC;
