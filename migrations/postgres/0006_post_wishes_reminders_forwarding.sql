-- Digital post (issue 5): the agency's notification wishes on each letter, the one reminder
-- for a letter left unread, and the forwarding queue for external mailbox providers. The
-- same logical schema as sqlite/0006 (see the column notes there).
ALTER TABLE letters ADD COLUMN notify_channels TEXT NOT NULL DEFAULT 'email,sms';
ALTER TABLE letters ADD COLUMN repeat_after_days INTEGER;
ALTER TABLE letters ADD COLUMN remind_at TIMESTAMPTZ;
ALTER TABLE letters ADD COLUMN reminded_at TIMESTAMPTZ;

UPDATE letters SET remind_at = shown_at + INTERVAL '7 days'
WHERE is_decision AND outcome = 'delivered' AND opened_at IS NULL;

CREATE INDEX letters_reminders_due ON letters (remind_at)
    WHERE remind_at IS NOT NULL AND reminded_at IS NULL;

-- External mailbox providers: see sqlite/0006 for the columns.
CREATE TABLE mailbox_forwarding (
    letter_id       UUID        NOT NULL,
    provider        TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    attempts        INTEGER     NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    finished_at     TIMESTAMPTZ,
    CONSTRAINT mailbox_forwarding_pkey PRIMARY KEY (letter_id),
    CONSTRAINT mailbox_forwarding_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE
);
CREATE INDEX mailbox_forwarding_due ON mailbox_forwarding (next_attempt_at)
    WHERE status = 'pending';
