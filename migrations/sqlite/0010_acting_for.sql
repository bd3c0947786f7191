-- Acting for someone (issue 20): whom a session acts for, what a helper's action was based on
-- in the giver's activity log, and letters a helper opened (they stay unread for the giver).
--
-- Encodings as in 0001 (STRICT): ids hyphenated lower-case UUID text, *_at fixed-width UTC.

-- The person the session's holder acts for (a delegation's giver, a minor in their care);
-- NULL: themself. Only a choice: the policy decides from the register on every request.
ALTER TABLE sessions ADD COLUMN acting_for TEXT
    REFERENCES persons (id) ON DELETE SET NULL;

-- What an action by a helper was based on: 'delegation' (with which one) or 'guardian';
-- NULL for the person's own actions, an agency's and the system's.
ALTER TABLE audit_events ADD COLUMN basis TEXT;
ALTER TABLE audit_events ADD COLUMN delegation_id TEXT;

-- The first time each helper opened a letter for its recipient. The letter stays unread for
-- the recipient, who is shown who opened it and when.
CREATE TABLE letter_openings (
    letter_id TEXT NOT NULL,
    helper_id TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    CONSTRAINT letter_openings_pkey PRIMARY KEY (letter_id, helper_id),
    CONSTRAINT letter_openings_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE,
    CONSTRAINT letter_openings_helper_fkey FOREIGN KEY (helper_id)
        REFERENCES persons (id) ON DELETE CASCADE
) STRICT;
