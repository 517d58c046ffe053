-- SMS through a gateway (issue 19, point 6; messaging.md M7). As with e-mail, every SMS
-- is first a row here, written in the same transaction as the work that caused it,
-- and handed to the gateway later by the worker (src/sms/delivery.rs), retried with
-- backoff. The text is composed by Tavle and points into Tavle: it carries no name and
-- no personal data (an SMS cannot be withdrawn and lies open on a lock screen).
--
-- The gateway reports delivery to a webhook (src/sms/webhook.rs). Reports are kept as
-- rows, one per message and status, so that a report sent twice or out of order
-- changes nothing: a message's state is its most final report.

ALTER TABLE tenants ADD COLUMN sms_sender text
    CHECK (sms_sender ~ '^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$');
COMMENT ON COLUMN tenants.sms_sender IS
    'Alphanumeric SMS sender (at most 11 characters), e.g. Fjordvik; NULL: Tavle';

CREATE TABLE sms_outbox (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('emergency_notice')),
    -- One SMS per (kind, recipient, key), e.g. per emergency notice and round.
    dedupe_key text NOT NULL CHECK (dedupe_key ~ '^[A-Za-z0-9:_-]{1,80}$'),
    -- The school the SMS concerns (NULL: the whole municipality).
    school_id uuid,
    recipient_id uuid NOT NULL,
    recipient_number text NOT NULL CHECK (recipient_number ~ '^\+[1-9][0-9]{6,14}$'),
    sender text NOT NULL CHECK (sender ~ '^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$'),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 612),
    parts smallint NOT NULL CHECK (parts BETWEEN 1 AND 9),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A category such as 'http_503' or 'connect_failed': never the gateway's text.
    last_error text CHECK (last_error ~ '^[a-z0-9_]{2,40}$'),
    -- The gateway's id for the accepted message.
    gateway_id text CHECK (length(gateway_id) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, recipient_id, dedupe_key),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, recipient_id) REFERENCES persons (tenant_id, id),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX sms_outbox_due_idx ON sms_outbox (tenant_id, next_attempt_at) WHERE status = 'pending';

CREATE TABLE sms_reports (
    tenant_id uuid NOT NULL,
    sms_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('buffered', 'delivered', 'failed')),
    -- When the gateway says it happened, and when Tavle heard of it.
    reported_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sms_id, status),
    FOREIGN KEY (tenant_id, sms_id) REFERENCES sms_outbox (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['sms_outbox', 'sms_reports'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant()) '
            'WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())', t);
    END LOOP;
END
$$;

-- DELETE: sent messages are removed after a while (data minimisation), with their reports.
GRANT SELECT, INSERT, UPDATE, DELETE ON sms_outbox TO tavle_app;
GRANT SELECT, INSERT, DELETE ON sms_reports TO tavle_app;
