-- Contact and reservation register, and the notification outbox (issue 4).
--
--   *_at    TIMESTAMPTZ, written in UTC
--   codes   status, method, channel, template: stable lower-case codes, checked when read
--           back (like persons.language)

-- One row per person who has touched their contact information (none: "not registered").
-- The values in force; a new value waits in contact_verifications until its code comes back.
--   email   normalised: domain lower-cased, in its ASCII (IDNA) form
--   mobile  E.164: +4791234567
--   status  'active' | 'deleted' | 'not_registered'
--   mailbox 'portal' | 'external' (then mailbox_provider names it)
-- The preferred language is persons.language: one choice for the portal and the letters.
CREATE TABLE contact_info (
    person_id              UUID        NOT NULL,
    status                 TEXT        NOT NULL,
    email                  TEXT,
    email_updated_at       TIMESTAMPTZ,
    email_verified_at      TIMESTAMPTZ,
    mobile                 TEXT,
    mobile_updated_at      TIMESTAMPTZ,
    mobile_verified_at     TIMESTAMPTZ,
    reserved               BOOLEAN     NOT NULL,
    reservation_changed_at TIMESTAMPTZ,
    mailbox                TEXT        NOT NULL,
    mailbox_provider       TEXT,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT contact_info_pkey PRIMARY KEY (person_id),
    CONSTRAINT contact_info_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
);

-- A change waiting for its code: at most one per person and method; a new request replaces
-- it. The code itself is never stored: only SHA-256 over a context, a random salt and the code.
CREATE TABLE contact_verifications (
    id         UUID        NOT NULL,
    person_id  UUID        NOT NULL,
    method     TEXT        NOT NULL,
    new_value  TEXT        NOT NULL,
    code_salt  BYTEA       NOT NULL,
    code_hash  BYTEA       NOT NULL,
    attempts   INTEGER     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT contact_verifications_pkey PRIMARY KEY (id),
    CONSTRAINT contact_verifications_person_method_unique UNIQUE (person_id, method),
    CONSTRAINT contact_verifications_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT contact_verifications_salt_length CHECK (octet_length(code_salt) = 16),
    CONSTRAINT contact_verifications_hash_length CHECK (octet_length(code_hash) = 32),
    CONSTRAINT contact_verifications_attempts CHECK (attempts >= 0)
);
CREATE INDEX contact_verifications_expires_at ON contact_verifications (expires_at);

-- When codes were sent, per person and method, for the resend limits (1 a minute, 5 an
-- hour). Rows older than the window are deleted as new ones are written.
CREATE TABLE contact_code_sends (
    person_id UUID        NOT NULL,
    method    TEXT        NOT NULL,
    sent_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT contact_code_sends_pkey PRIMARY KEY (person_id, method, sent_at),
    CONSTRAINT contact_code_sends_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
);

-- The outbox: e-mails and SMS to send, written in the same transaction as the change they are
-- about, sent by whichever instance claims them (FOR UPDATE SKIP LOCKED).
--   channel          'email' | 'sms'
--   address          where to send (needed to send; as sensitive as contact_info)
--   params           JSON object; may hold a one-time code; replaced by '{}' once sent or failed
--   status           'pending' | 'sent' | 'failed'
--   attempts         failed attempts so far
--   not_before       earliest next try (backoff and SMS quiet hours applied)
--   send_by          give up if not sent by then (a code that expires)
--   quiet_zone       IANA zone whose 22:00–08:00 holds this SMS back; NULL: none
--   claimed_by, lease_until  the worker sending it now; a lease that ran out is free again
CREATE TABLE notifications (
    id              UUID        NOT NULL,
    recipient_id    UUID        NOT NULL,
    channel         TEXT        NOT NULL,
    address         TEXT        NOT NULL,
    template        TEXT        NOT NULL,
    params          JSONB       NOT NULL,
    idempotency_key TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    attempts        INTEGER     NOT NULL,
    not_before      TIMESTAMPTZ NOT NULL,
    send_by         TIMESTAMPTZ,
    quiet_zone      TEXT,
    claimed_by      TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    failed_at       TIMESTAMPTZ,
    CONSTRAINT notifications_pkey PRIMARY KEY (id),
    CONSTRAINT notifications_idempotency_key_unique UNIQUE (idempotency_key),
    CONSTRAINT notifications_recipient_fkey FOREIGN KEY (recipient_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT notifications_attempts CHECK (attempts >= 0)
);
-- The workers' query: pending rows by due time.
CREATE INDEX notifications_due ON notifications (not_before, id) WHERE status = 'pending';
-- Messages that must go out by a time (codes), for failing them when it passes.
CREATE INDEX notifications_send_by ON notifications (send_by)
    WHERE status = 'pending' AND send_by IS NOT NULL;
-- Support and agencies: the failed ones.
CREATE INDEX notifications_failed ON notifications (id) WHERE status = 'failed';
-- The foreign key's other side, and "what was sent to this person".
CREATE INDEX notifications_recipient ON notifications (recipient_id);
