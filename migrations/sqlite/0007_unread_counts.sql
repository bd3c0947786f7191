-- The unread count in every logged-in page's header, kept per person by triggers instead of
-- counted on each page (counting walked up to 100 index entries on every page a citizen with
-- many unread letters opened).
--
--   unread   the person's letters with unread = 1, not in the trash, delivered to the mailbox:
--            also those whose effective time has not come yet (the reading subtracts those,
--            which are few, by the letters_unread index)
--
-- Every change to a letter goes through the triggers (delivery, opening, "mark unread", the
-- trash and its purge, a person's deletion), so no code path can forget the count. A person's
-- row goes with the person.
CREATE TABLE unread_counts (
    person_id TEXT    NOT NULL,
    unread    INTEGER NOT NULL,
    CONSTRAINT unread_counts_pkey PRIMARY KEY (person_id),
    CONSTRAINT unread_counts_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

INSERT INTO unread_counts (person_id, unread)
SELECT recipient_id, count(*) FROM letters
WHERE recipient_id IS NOT NULL AND unread = 1 AND trashed_at IS NULL AND outcome = 'delivered'
GROUP BY recipient_id;

CREATE TRIGGER letters_unread_insert AFTER INSERT ON letters
WHEN new.recipient_id IS NOT NULL AND new.unread = 1 AND new.trashed_at IS NULL
    AND new.outcome = 'delivered'
BEGIN
    INSERT INTO unread_counts (person_id, unread) VALUES (new.recipient_id, 1)
    ON CONFLICT (person_id) DO UPDATE SET unread = unread + 1;
END;

-- Only an update: a person's deletion removes their count first (the foreign key), then their
-- letters, whose decrements then find nothing to change.
CREATE TRIGGER letters_unread_delete AFTER DELETE ON letters
WHEN old.recipient_id IS NOT NULL AND old.unread = 1 AND old.trashed_at IS NULL
    AND old.outcome = 'delivered'
BEGIN
    UPDATE unread_counts SET unread = unread - 1 WHERE person_id = old.recipient_id;
END;

CREATE TRIGGER letters_unread_update AFTER UPDATE OF recipient_id, unread, trashed_at, outcome
ON letters
BEGIN
    UPDATE unread_counts SET unread = unread - 1
    WHERE person_id = old.recipient_id AND old.unread = 1 AND old.trashed_at IS NULL
        AND old.outcome = 'delivered';
    INSERT INTO unread_counts (person_id, unread)
    SELECT new.recipient_id, 1
    WHERE new.recipient_id IS NOT NULL AND new.unread = 1 AND new.trashed_at IS NULL
        AND new.outcome = 'delivered'
    ON CONFLICT (person_id) DO UPDATE SET unread = unread + 1;
END;
