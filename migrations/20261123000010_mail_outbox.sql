-- The mail outbox: every e-mail Tavle sends is first a row here, written in the same
-- transaction as the work that caused it, and delivered later by the background worker
-- (src/mail/delivery.rs) over SMTP. A failed delivery is retried with backoff and stays
-- visible to the school office with a short, non-personal error category.
--
-- The message is stored rendered (subject, plain text and an optional HTML
-- alternative), so that what was sent can be shown exactly, and with the recipient's
-- address as it was when the message was made. The text is composed by Tavle from
-- counts and fixed phrases, never typed by anyone: the weekly absence summary carries
-- no name, national id or absence reason (see src/mail/weekly.rs).
--
-- `dedupe_key` makes enqueueing idempotent: one message per (kind, recipient, school,
-- key), e.g. one weekly summary per guardian, school and ISO week ('2026-W47').

CREATE TABLE mail_outbox (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('weekly_absence_summary')),
    dedupe_key text NOT NULL CHECK (dedupe_key ~ '^[A-Za-z0-9:_-]{1,80}$'),
    -- The school the message concerns: its office sees the message's delivery.
    school_id uuid NOT NULL,
    recipient_id uuid NOT NULL,
    recipient_address text NOT NULL CHECK (position('@' IN recipient_address) > 1 AND length(recipient_address) <= 320),
    lang text NOT NULL CHECK (lang IN ('nb', 'en')),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body_text text NOT NULL CHECK (length(body_text) BETWEEN 1 AND 20000),
    body_html text CHECK (length(body_html) <= 50000),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A category such as 'smtp_451' or 'connect_failed': never the server's text,
    -- which may quote the address.
    last_error text CHECK (last_error ~ '^[a-z0-9_]{2,40}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, recipient_id, school_id, dedupe_key),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, recipient_id) REFERENCES persons (tenant_id, id),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
-- The worker's claim: due pending messages, oldest first.
CREATE INDEX mail_outbox_due_idx ON mail_outbox (tenant_id, next_attempt_at) WHERE status = 'pending';
-- The office's page: a school's messages by status.
CREATE INDEX mail_outbox_school_idx ON mail_outbox (tenant_id, school_id, status, created_at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['mail_outbox'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = tavle_current_tenant()) '
            'WITH CHECK (tenant_id = tavle_current_tenant())', t);
    END LOOP;
END
$$;

-- DELETE: the worker removes sent messages after a while (data minimisation).
GRANT SELECT, INSERT, UPDATE, DELETE ON mail_outbox TO tavle_app;
