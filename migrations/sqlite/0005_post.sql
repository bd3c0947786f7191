-- Digital post (issue 5): letters delivered by agencies, their attachments, the citizen's
-- own folders, the print queue for those who get paper, and the receipts agencies poll.
--
-- Encodings as in 0001–0004: ids hyphenated lower-case UUID text, *_at fixed-width UTC text
-- with microseconds, booleans INTEGER 0 or 1, codes lower-case text checked when read back.

-- One row per accepted delivery, digital or paper. (agency_id, agency_message_id) is the
-- agency's idempotency key: a retried delivery finds the first row and stores nothing new.
--   doc              rowid alias: the row's number in letters_fts (stable across VACUUM)
--   recipient_id     the person; NULL when the national id belongs to no known person
--   recipient_national_id  normalised digits: what the print provider needs
--   outcome          'delivered' (in the mailbox) | 'returned_to_paper' (print queue)
--   title            may be sensitive; safe_title is shown below the required level
--   body_kind        'text' | 'html': what the agency sent; body is the original,
--                    body_html the sanitized HTML the portal shows (plain text escaped)
--   required_loa     'substantial' | 'high'
--   effective_at     not listed or notified before; shown_at = max(delivered_at, effective_at)
--                    is the mailbox's sort key
--   created_at       the agency's own time of writing; delivered_at the portal's acceptance
--   folder           'inbox' | 'archive' | an own folder's id; NULL for paper letters
--   unread           1 until opened, again after "mark unread"
--   opened_at        first opening (the receipt is sent once); trashed_at: in the trash since
CREATE TABLE letters (
    doc                    INTEGER NOT NULL,
    id                     TEXT    NOT NULL,
    agency_id              TEXT    NOT NULL,
    agency_message_id      TEXT    NOT NULL,
    recipient_national_id  TEXT    NOT NULL,
    recipient_id           TEXT,
    outcome                TEXT    NOT NULL,
    sender_name            TEXT    NOT NULL,
    title                  TEXT    NOT NULL,
    safe_title             TEXT    NOT NULL,
    body_kind              TEXT    NOT NULL,
    body                   TEXT    NOT NULL,
    body_html              TEXT    NOT NULL,
    required_loa           TEXT    NOT NULL,
    effective_at           TEXT    NOT NULL,
    shown_at               TEXT    NOT NULL,
    wants_opening_receipt  INTEGER NOT NULL,
    is_decision            INTEGER NOT NULL,
    attachment_count       INTEGER NOT NULL,
    created_at             TEXT    NOT NULL,
    delivered_at           TEXT    NOT NULL,
    folder                 TEXT,
    unread                 INTEGER NOT NULL,
    opened_at              TEXT,
    trashed_at             TEXT,
    CONSTRAINT letters_pkey PRIMARY KEY (doc),
    CONSTRAINT letters_id_unique UNIQUE (id),
    CONSTRAINT letters_agency_message_unique UNIQUE (agency_id, agency_message_id),
    CONSTRAINT letters_recipient_fkey FOREIGN KEY (recipient_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT letters_opening_receipt_bool CHECK (wants_opening_receipt IN (0, 1)),
    CONSTRAINT letters_decision_bool CHECK (is_decision IN (0, 1)),
    CONSTRAINT letters_unread_bool CHECK (unread IN (0, 1)),
    CONSTRAINT letters_attachment_count CHECK (attachment_count BETWEEN 0 AND 20)
) STRICT;
-- A folder's page, newest first: a range scan whatever the mailbox's size (keyset paging).
CREATE INDEX letters_mailbox ON letters (recipient_id, folder, shown_at, id)
    WHERE trashed_at IS NULL AND outcome = 'delivered';
-- The unread count.
CREATE INDEX letters_unread ON letters (recipient_id, shown_at)
    WHERE unread = 1 AND trashed_at IS NULL AND outcome = 'delivered';
-- The trash, per person and for the purge after 30 days.
CREATE INDEX letters_trash ON letters (recipient_id, shown_at, id) WHERE trashed_at IS NOT NULL;
CREATE INDEX letters_trashed_at ON letters (trashed_at) WHERE trashed_at IS NOT NULL;
-- The foreign key's other side.
CREATE INDEX letters_recipient ON letters (recipient_id);

-- PDF attachments, apart from the letters so that lists never read them.
CREATE TABLE letter_attachments (
    letter_id TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    filename  TEXT    NOT NULL,
    size      INTEGER NOT NULL,
    sha256    BLOB    NOT NULL,
    content   BLOB    NOT NULL,
    CONSTRAINT letter_attachments_pkey PRIMARY KEY (letter_id, position),
    CONSTRAINT letter_attachments_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE,
    CONSTRAINT letter_attachments_sha256_length CHECK (length(sha256) = 32),
    CONSTRAINT letter_attachments_size CHECK (size = length(content))
) STRICT;

-- Full-text search over sender, title and body of digital letters. Contentless (the text is
-- in letters) with contentless_delete, so a purge can remove rows. `owner` holds one token
-- per recipient ('p' and the person id's hex), so a search is the intersection of the
-- person's token with the words: it never walks other people's letters. Rows are written in
-- the delivery's transaction and deleted by the trigger below.
CREATE VIRTUAL TABLE letters_fts USING fts5 (
    owner, sender, title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER letters_fts_delete AFTER DELETE ON letters BEGIN
    DELETE FROM letters_fts WHERE rowid = old.doc;
END;

-- A person's own folders (inbox and archive are built in). Deleted only when empty.
CREATE TABLE post_folders (
    id         TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT post_folders_pkey PRIMARY KEY (id),
    CONSTRAINT post_folders_name_unique UNIQUE (person_id, name),
    CONSTRAINT post_folders_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
) STRICT;

-- Letters to print and send on paper, until the print provider acknowledges them.
CREATE TABLE print_queue (
    letter_id       TEXT NOT NULL,
    queued_at       TEXT NOT NULL,
    acknowledged_at TEXT,
    CONSTRAINT print_queue_pkey PRIMARY KEY (letter_id),
    CONSTRAINT print_queue_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX print_queue_pending ON print_queue (queued_at, letter_id)
    WHERE acknowledged_at IS NULL;

-- Which outbox messages announce which letter: a new-letter message that is given up on
-- becomes a 'notification_failed' receipt in the outbox's own transaction.
CREATE TABLE letter_notifications (
    notification_id TEXT NOT NULL,
    letter_id       TEXT NOT NULL,
    CONSTRAINT letter_notifications_pkey PRIMARY KEY (notification_id),
    CONSTRAINT letter_notifications_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX letter_notifications_letter ON letter_notifications (letter_id);

-- Receipts for agencies to poll. `seq` (the rowid) is the cursor: SQLite has one writer, so
-- numbers are given in commit order and a poller that saw n has seen everything before n
-- (receipts are never deleted, so a number is never given twice).
--   kind    'delivered' | 'opened' | 'notification_failed' | 'returned_to_paper' | 'rejected'
--   reason  the rejection's error code ('post.attachment_not_pdf'); NULL otherwise
--   letter_id  NULL for a rejection (nothing was stored)
CREATE TABLE post_receipts (
    seq               INTEGER NOT NULL,
    agency_id         TEXT    NOT NULL,
    agency_message_id TEXT    NOT NULL,
    letter_id         TEXT,
    kind              TEXT    NOT NULL,
    reason            TEXT,
    at                TEXT    NOT NULL,
    CONSTRAINT post_receipts_pkey PRIMARY KEY (seq)
) STRICT;
CREATE INDEX post_receipts_agency ON post_receipts (agency_id, seq);
CREATE INDEX post_receipts_letter ON post_receipts (letter_id);
