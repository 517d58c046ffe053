-- Messages between school and home (issue 19, point 2): threads about one pupil.
--
-- A thread has two sides. The home side is fixed when the thread starts: the guardian
-- who writes (and the other guardian only if they chose so), or the guardians staff
-- write to. The school side is the staff addressed (the contact teacher), or the
-- school's office as a whole (`office`), and every member of staff who answers.
-- Everyone on either side sees every message of the thread; nobody else is added to
-- the home side later, so a reply never reaches a guardian the writer left out.
-- Read state is per participant (`last_read_at`): a message is read by a participant
-- who opened the thread after it was sent.
CREATE TABLE message_threads (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    school_id uuid NOT NULL,
    pupil_id uuid NOT NULL,
    topic text NOT NULL CHECK (length(topic) BETWEEN 1 AND 120),
    -- The school's office is a party: its clerks and leaders read and answer.
    office boolean NOT NULL,
    started_by uuid NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz NOT NULL DEFAULT now(),
    -- Kept for the archive instead of deleted by the retention rule (point 8).
    archive_worthy boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, pupil_id) REFERENCES pupils (tenant_id, person_id),
    FOREIGN KEY (tenant_id, started_by) REFERENCES persons (tenant_id, id)
);
CREATE INDEX message_threads_pupil_idx ON message_threads (tenant_id, pupil_id);
CREATE INDEX message_threads_school_idx ON message_threads (tenant_id, school_id, last_message_at DESC);

CREATE TABLE thread_participants (
    tenant_id uuid NOT NULL,
    thread_id uuid NOT NULL,
    person_id uuid NOT NULL,
    side text NOT NULL CHECK (side IN ('home', 'school')),
    added_at timestamptz NOT NULL DEFAULT now(),
    last_read_at timestamptz,
    PRIMARY KEY (tenant_id, thread_id, person_id),
    FOREIGN KEY (tenant_id, thread_id) REFERENCES message_threads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, person_id) REFERENCES persons (tenant_id, id)
);
CREATE INDEX thread_participants_person_idx ON thread_participants (tenant_id, person_id);

CREATE TABLE thread_messages (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    thread_id uuid NOT NULL,
    author_id uuid NOT NULL,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, thread_id) REFERENCES message_threads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_id) REFERENCES persons (tenant_id, id)
);
CREATE INDEX thread_messages_thread_idx ON thread_messages (tenant_id, thread_id, sent_at);

ALTER TABLE message_threads ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_threads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_threads
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
ALTER TABLE thread_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE thread_participants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON thread_participants
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
ALTER TABLE thread_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE thread_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON thread_messages
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());

-- Threads are deleted by the retention rule (point 8), not by the application.
GRANT SELECT, INSERT, UPDATE ON message_threads TO tavle_app;
GRANT SELECT, INSERT, UPDATE ON thread_participants TO tavle_app;
GRANT SELECT, INSERT ON thread_messages TO tavle_app;

-- A new message is told by e-mail: a link, no names, no text.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('weekly_absence_summary', 'assessment_warning', 'message_notice'));
