-- Contact and reservation register, and the notification outbox (issue 4).
--
-- Encodings (as in 0001; STRICT makes SQLite hold to them):
--   *_id, id  hyphenated lower-case UUID
--   *_at      UTC, fixed-width RFC 3339 with microseconds: 2025-01-31T12:00:00.000000Z
--   booleans  INTEGER 0 or 1
--   codes     status, method, channel, template: stable lower-case codes, checked when read
--             back (like persons.language)

-- One row per person who has touched their contact information (none: "not registered").
-- The values in force; a new value waits in contact_verifications until its code comes back.
--   email   normalised: domain lower-cased, in its ASCII (IDNA) form
--   mobile  E.164: +4791234567
--   status  'active' | 'deleted' | 'not_registered'
--   mailbox 'portal' | 'external' (then mailbox_provider names it)
-- The preferred language is persons.language: one choice for the portal and the letters.
CREATE TABLE contact_info (
    person_id              TEXT    NOT NULL,
    status                 TEXT    NOT NULL,
    email                  TEXT,
    email_updated_at       TEXT,
    email_verified_at      TEXT,
    mobile                 TEXT,
    mobile_updated_at      TEXT,
    mobile_verified_at     TEXT,
    reserved               INTEGER NOT NULL,
    reservation_changed_at TEXT,
    mailbox                TEXT    NOT NULL,
    mailbox_provider       TEXT,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    CONSTRAINT contact_info_pkey PRIMARY KEY (person_id),
    CONSTRAINT contact_info_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT contact_info_reserved_bool CHECK (reserved IN (0, 1))
) STRICT;

-- A change waiting for its code: at most one per person and method; a new request replaces
-- it. The code itself is never stored: only SHA-256 over a context, a random salt and the code.
CREATE TABLE contact_verifications (
    id         TEXT    NOT NULL,
    person_id  TEXT    NOT NULL,
    method     TEXT    NOT NULL,
    new_value  TEXT    NOT NULL,
    code_salt  BLOB    NOT NULL,
    code_hash  BLOB    NOT NULL,
    attempts   INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    CONSTRAINT contact_verifications_pkey PRIMARY KEY (id),
    CONSTRAINT contact_verifications_person_method_unique UNIQUE (person_id, method),
    CONSTRAINT contact_verifications_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT contact_verifications_salt_length CHECK (length(code_salt) = 16),
    CONSTRAINT contact_verifications_hash_length CHECK (length(code_hash) = 32),
    CONSTRAINT contact_verifications_attempts CHECK (attempts >= 0)
) STRICT;
CREATE INDEX contact_verifications_expires_at ON contact_verifications (expires_at);

-- When codes were sent, per person and method, for the resend limits (1 a minute, 5 an
-- hour). Rows older than the window are deleted as new ones are written.
CREATE TABLE contact_code_sends (
    person_id TEXT NOT NULL,
    method    TEXT NOT NULL,
    sent_at   TEXT NOT NULL,
    CONSTRAINT contact_code_sends_pkey PRIMARY KEY (person_id, method, sent_at),
    CONSTRAINT contact_code_sends_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
) STRICT;

-- The outbox: e-mails and SMS to send, written in the same transaction as the change they are
-- about, sent by whichever instance claims them.
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
    id              TEXT    NOT NULL,
    recipient_id    TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    template        TEXT    NOT NULL,
    params          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    not_before      TEXT    NOT NULL,
    send_by         TEXT,
    quiet_zone      TEXT,
    claimed_by      TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    failed_at       TEXT,
    CONSTRAINT notifications_pkey PRIMARY KEY (id),
    CONSTRAINT notifications_idempotency_key_unique UNIQUE (idempotency_key),
    CONSTRAINT notifications_recipient_fkey FOREIGN KEY (recipient_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT notifications_attempts CHECK (attempts >= 0)
) STRICT;
-- The workers' query: pending rows by due time.
CREATE INDEX notifications_due ON notifications (not_before, id) WHERE status = 'pending';
-- Messages that must go out by a time (codes), for failing them when it passes.
CREATE INDEX notifications_send_by ON notifications (send_by)
    WHERE status = 'pending' AND send_by IS NOT NULL;
-- Support and agencies: the failed ones.
CREATE INDEX notifications_failed ON notifications (id) WHERE status = 'failed';
-- The foreign key's other side, and "what was sent to this person".
CREATE INDEX notifications_recipient ON notifications (recipient_id);
