-- Emergency notices (issue 19, point 5; messaging.md M6): the principal or the office
-- alerts every guardian of a school by SMS and e-mail at once; guardians confirm by the
-- link in the SMS or by answering OK; the crisis page lists the households (pupils)
-- none of whose guardians has confirmed, with their guardians' phone numbers, and
-- resends to those who have not confirmed. An exercise is labelled as one (ØVELSE).
--
-- The audience is fixed when the notice is sent: `emergency_households` holds the
-- school's pupils then, `emergency_recipients` every guardian the school may call for
-- them (reached digitally, or reserved in KRR: to be called). Each SMS or e-mail
-- carries a confirmation link with a random token, kept as its SHA-256 only in
-- `emergency_links`; a resend adds a new link, and the earlier ones keep working.
CREATE TABLE emergency_notices (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    school_id uuid NOT NULL,
    exercise boolean NOT NULL,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    sent_by uuid NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    -- Rounds of SMS sent: 1, and one more for each resend to the unconfirmed.
    rounds smallint NOT NULL DEFAULT 1 CHECK (rounds BETWEEN 1 AND 20),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, sent_by) REFERENCES persons (tenant_id, id)
);
CREATE INDEX emergency_notices_school_idx ON emergency_notices (tenant_id, school_id, sent_at DESC);

CREATE TABLE emergency_households (
    tenant_id uuid NOT NULL,
    notice_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    -- The office reached the household by phone.
    reached_at timestamptz,
    reached_by uuid,
    PRIMARY KEY (tenant_id, notice_id, pupil_id),
    FOREIGN KEY (tenant_id, notice_id) REFERENCES emergency_notices (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES persons (tenant_id, id),
    FOREIGN KEY (tenant_id, reached_by) REFERENCES persons (tenant_id, id),
    CHECK ((reached_at IS NULL) = (reached_by IS NULL))
);

CREATE TABLE emergency_recipients (
    tenant_id uuid NOT NULL,
    notice_id uuid NOT NULL,
    person_id uuid NOT NULL,
    -- The households (pupils) this guardian belongs to.
    pupils uuid[] NOT NULL CHECK (cardinality(pupils) >= 1),
    -- Reached digitally; false: reserved in KRR, to be called.
    digital boolean NOT NULL,
    -- The mobile number the SMS went to (NULL: none usable).
    number text CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
    confirmed_at timestamptz,
    confirmed_how text CHECK (confirmed_how IN ('link', 'sms')),
    PRIMARY KEY (tenant_id, notice_id, person_id),
    FOREIGN KEY (tenant_id, notice_id) REFERENCES emergency_notices (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id),
    CHECK ((confirmed_at IS NULL) = (confirmed_how IS NULL))
);

CREATE TABLE emergency_links (
    tenant_id uuid NOT NULL,
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    notice_id uuid NOT NULL,
    person_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, notice_id, person_id) REFERENCES emergency_recipients (tenant_id, notice_id, person_id)
);
-- An OK answered by SMS: the open notices sent to that number.
CREATE INDEX emergency_recipients_number_idx ON emergency_recipients (tenant_id, number)
    WHERE confirmed_at IS NULL AND number IS NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['emergency_notices', 'emergency_households', 'emergency_recipients', 'emergency_links'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant()) '
            'WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())', t);
    END LOOP;
END
$$;
GRANT SELECT, INSERT, UPDATE ON emergency_notices, emergency_households, emergency_recipients TO tavle_app;
GRANT SELECT, INSERT ON emergency_links TO tavle_app;

ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('weekly_absence_summary', 'assessment_warning', 'message_notice', 'emergency_notice'));
