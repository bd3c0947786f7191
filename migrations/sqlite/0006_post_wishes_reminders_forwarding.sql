-- Digital post (issue 5): the agency's notification wishes on each letter, the one
-- reminder for a letter left unread (decisions after 7 days, or the agency's repeat), and
-- the forwarding queue for citizens with an external mailbox provider.
--
--   notify_channels    which "new letter" notifications the agency wants: 'email,sms'
--                      (the default, and what letters before this migration got), 'email',
--                      'sms', or '' (none: no notification and no reminder)
--   repeat_after_days  the agency's wish for one repeat if still unread (1 to 30), or NULL
--   remind_at          when the one reminder is due: shown_at + 7 days for a decision (or the
--                      agency's shorter repeat), shown_at + repeat_after_days otherwise; NULL
--                      when no reminder is wanted. Cleared when the letter is first opened.
--   reminded_at        when the reminder job took the letter (a reminder was queued, or a
--                      'notification_failed' receipt was written): never again after that
ALTER TABLE letters ADD COLUMN notify_channels TEXT NOT NULL DEFAULT 'email,sms';
ALTER TABLE letters ADD COLUMN repeat_after_days INTEGER;
ALTER TABLE letters ADD COLUMN remind_at TEXT;
ALTER TABLE letters ADD COLUMN reminded_at TEXT;

-- Decisions delivered before this migration and never opened get their reminder too
-- (fixed-width timestamps: the seconds part from strftime, the microseconds and 'Z' kept).
UPDATE letters
SET remind_at = strftime('%Y-%m-%dT%H:%M:%S', shown_at, '+7 days') || substr(shown_at, 20)
WHERE is_decision = 1 AND outcome = 'delivered' AND opened_at IS NULL;

-- The reminder job's query: due reminders not taken yet, oldest first.
CREATE INDEX letters_reminders_due ON letters (remind_at)
    WHERE remind_at IS NOT NULL AND reminded_at IS NULL;

-- Letters for citizens who chose an external mailbox provider: they do not go into the
-- portal's mailbox but are forwarded by the forwarding worker (at least once, with the
-- letter id as idempotency key). The letter's `outcome` is 'forwarding' from delivery on;
-- this row says how it ended.
--   provider         the provider's id as the citizen chose it (`contact_info.mailbox_provider`)
--   status           'pending' | 'forwarded' (the provider accepted it: a 'forwarded' receipt)
--                    | 'returned_to_paper' (unknown provider, a permanent refusal or too many
--                    failures: the print queue and a 'returned_to_paper' receipt)
--   attempts         failed attempts so far; next_attempt_at: not tried before
--   claimed_by, lease_until  the worker sending it now (a lease that runs out)
--   last_error       a short code (`http.503`, `timeout`, `provider.unknown`), never a body
CREATE TABLE mailbox_forwarding (
    letter_id       TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    claimed_by      TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    finished_at     TEXT,
    CONSTRAINT mailbox_forwarding_pkey PRIMARY KEY (letter_id),
    CONSTRAINT mailbox_forwarding_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX mailbox_forwarding_due ON mailbox_forwarding (next_attempt_at)
    WHERE status = 'pending';
