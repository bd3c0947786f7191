-- The unread count in every logged-in page's header, kept per person by a trigger instead of
-- counted on each page (counting walked up to 100 index entries on every page a citizen with
-- many unread letters opened).
--
--   unread   the person's letters with unread, not in the trash, delivered to the mailbox:
--            also those whose effective time has not come yet (the reading subtracts those,
--            which are few, by the letters_unread index)
--
-- Every change to a letter goes through the trigger (delivery, opening, "mark unread", the
-- trash and its purge, a person's deletion), so no code path can forget the count. A person's
-- row goes with the person; the decrement is an update only, so a letter deleted with its
-- person finds nothing to change.
CREATE TABLE unread_counts (
    person_id UUID   NOT NULL,
    unread    BIGINT NOT NULL,
    CONSTRAINT unread_counts_pkey PRIMARY KEY (person_id),
    CONSTRAINT unread_counts_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
);

INSERT INTO unread_counts (person_id, unread)
SELECT recipient_id, count(*) FROM letters
WHERE recipient_id IS NOT NULL AND unread AND trashed_at IS NULL AND outcome = 'delivered'
GROUP BY recipient_id;

CREATE FUNCTION letters_keep_unread_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.recipient_id IS NOT NULL AND OLD.unread
        AND OLD.trashed_at IS NULL AND OLD.outcome = 'delivered' THEN
        UPDATE unread_counts SET unread = unread - 1 WHERE person_id = OLD.recipient_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.recipient_id IS NOT NULL AND NEW.unread
        AND NEW.trashed_at IS NULL AND NEW.outcome = 'delivered' THEN
        INSERT INTO unread_counts (person_id, unread) VALUES (NEW.recipient_id, 1)
        ON CONFLICT (person_id) DO UPDATE SET unread = unread_counts.unread + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER letters_unread_count
AFTER INSERT OR DELETE OR UPDATE OF recipient_id, unread, trashed_at, outcome ON letters
FOR EACH ROW EXECUTE FUNCTION letters_keep_unread_count();
