-- Group messages as private fan-out (issue 19, point 3; messaging.md M2, M3): a message
-- to a class's or group's guardians is one `broadcasts` row and one thread per guardian
-- reached (the sender and that guardian only), so that nobody sees another recipient
-- and an answer is a private thread with the sender. A copy not yet read can be
-- withdrawn (`message_threads.withdrawn_at`); a read one stays.
CREATE TABLE broadcasts (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    school_id uuid NOT NULL,
    group_id uuid NOT NULL,
    topic text NOT NULL CHECK (length(topic) BETWEEN 1 AND 120),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    sent_by uuid NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    -- What the confirmed preview said: how many it reaches, and leaves out.
    reached integer NOT NULL CHECK (reached >= 0),
    left_out integer NOT NULL CHECK (left_out >= 0),
    withdrawn_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, sent_by) REFERENCES persons (tenant_id, id)
);
CREATE INDEX broadcasts_sender_idx ON broadcasts (tenant_id, sent_by, sent_at DESC);

ALTER TABLE broadcasts ENABLE ROW LEVEL SECURITY;
ALTER TABLE broadcasts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON broadcasts
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
GRANT SELECT, INSERT, UPDATE ON broadcasts TO tavle_app;

ALTER TABLE message_threads ADD COLUMN broadcast_id uuid;
ALTER TABLE message_threads ADD COLUMN withdrawn_at timestamptz;
ALTER TABLE message_threads ADD CONSTRAINT message_threads_broadcast_fk
    FOREIGN KEY (tenant_id, broadcast_id) REFERENCES broadcasts (tenant_id, id);
CREATE INDEX message_threads_broadcast_idx ON message_threads (tenant_id, broadcast_id) WHERE broadcast_id IS NOT NULL;
