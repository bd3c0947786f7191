-- Digital post (issue 5): letters delivered by agencies, their attachments, the citizen's
-- own folders, the print queue for those who get paper, and the receipts agencies poll.
-- The same logical schema as sqlite/0005_post.sql (see the column notes there); here:

-- search   the letter's words for full-text search: sender (weight A), title (B) and body
--          (C), each in the recipient's language configuration ('norwegian', 'danish',
--          'english') and in 'simple' (so a search still matches after the person changes
--          language, and names are found unstemmed). Written at delivery.
CREATE TABLE letters (
    id                     UUID        NOT NULL,
    agency_id              TEXT        NOT NULL,
    agency_message_id      TEXT        NOT NULL,
    recipient_national_id  TEXT        NOT NULL,
    recipient_id           UUID,
    outcome                TEXT        NOT NULL,
    sender_name            TEXT        NOT NULL,
    title                  TEXT        NOT NULL,
    safe_title             TEXT        NOT NULL,
    body_kind              TEXT        NOT NULL,
    body                   TEXT        NOT NULL,
    body_html              TEXT        NOT NULL,
    search                 TSVECTOR    NOT NULL,
    required_loa           TEXT        NOT NULL,
    effective_at           TIMESTAMPTZ NOT NULL,
    shown_at               TIMESTAMPTZ NOT NULL,
    wants_opening_receipt  BOOLEAN     NOT NULL,
    is_decision            BOOLEAN     NOT NULL,
    attachment_count       INTEGER     NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    delivered_at           TIMESTAMPTZ NOT NULL,
    folder                 TEXT,
    unread                 BOOLEAN     NOT NULL,
    opened_at              TIMESTAMPTZ,
    trashed_at             TIMESTAMPTZ,
    CONSTRAINT letters_pkey PRIMARY KEY (id),
    CONSTRAINT letters_agency_message_unique UNIQUE (agency_id, agency_message_id),
    CONSTRAINT letters_recipient_fkey FOREIGN KEY (recipient_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT letters_attachment_count CHECK (attachment_count BETWEEN 0 AND 20)
);
CREATE INDEX letters_mailbox ON letters (recipient_id, folder, shown_at, id)
    WHERE trashed_at IS NULL AND outcome = 'delivered';
CREATE INDEX letters_unread ON letters (recipient_id, shown_at)
    WHERE unread AND trashed_at IS NULL AND outcome = 'delivered';
CREATE INDEX letters_trash ON letters (recipient_id, shown_at, id) WHERE trashed_at IS NOT NULL;
CREATE INDEX letters_trashed_at ON letters (trashed_at) WHERE trashed_at IS NOT NULL;
CREATE INDEX letters_recipient ON letters (recipient_id);
CREATE INDEX letters_search ON letters USING GIN (search);

CREATE TABLE letter_attachments (
    letter_id UUID    NOT NULL,
    position  INTEGER NOT NULL,
    filename  TEXT    NOT NULL,
    size      BIGINT  NOT NULL,
    sha256    BYTEA   NOT NULL,
    content   BYTEA   NOT NULL,
    CONSTRAINT letter_attachments_pkey PRIMARY KEY (letter_id, position),
    CONSTRAINT letter_attachments_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE,
    CONSTRAINT letter_attachments_sha256_length CHECK (length(sha256) = 32),
    CONSTRAINT letter_attachments_size CHECK (size = length(content))
);
-- Attachments are written once and read whole: no TOAST compression work on PDFs (they
-- are compressed already).
ALTER TABLE letter_attachments ALTER COLUMN content SET STORAGE EXTERNAL;

CREATE TABLE post_folders (
    id         UUID        NOT NULL,
    person_id  UUID        NOT NULL,
    name       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT post_folders_pkey PRIMARY KEY (id),
    CONSTRAINT post_folders_name_unique UNIQUE (person_id, name),
    CONSTRAINT post_folders_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE
);

CREATE TABLE print_queue (
    letter_id       UUID        NOT NULL,
    queued_at       TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    CONSTRAINT print_queue_pkey PRIMARY KEY (letter_id),
    CONSTRAINT print_queue_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE
);
CREATE INDEX print_queue_pending ON print_queue (queued_at, letter_id)
    WHERE acknowledged_at IS NULL;

CREATE TABLE letter_notifications (
    notification_id UUID NOT NULL,
    letter_id       UUID NOT NULL,
    CONSTRAINT letter_notifications_pkey PRIMARY KEY (notification_id),
    CONSTRAINT letter_notifications_letter_fkey FOREIGN KEY (letter_id)
        REFERENCES letters (id) ON DELETE CASCADE
);
CREATE INDEX letter_notifications_letter ON letter_notifications (letter_id);

-- Receipts. Many instances write at once, so a sequence number alone is no cursor: a
-- transaction can take number 10, commit after number 11 was read, and be skipped. Each row
-- keeps the id of the transaction that wrote it (`txid`); a poll returns only rows written
-- by transactions older than every transaction still running
-- (`txid < pg_snapshot_xmin(pg_current_snapshot())`), in (txid, seq) order, so whatever
-- commits later sorts after the cursor.
CREATE TABLE post_receipts (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY,
    txid              XID8        NOT NULL DEFAULT pg_current_xact_id(),
    agency_id         TEXT        NOT NULL,
    agency_message_id TEXT        NOT NULL,
    letter_id         UUID,
    kind              TEXT        NOT NULL,
    reason            TEXT,
    at                TIMESTAMPTZ NOT NULL,
    CONSTRAINT post_receipts_pkey PRIMARY KEY (seq)
);
CREATE INDEX post_receipts_agency ON post_receipts (agency_id, txid, seq);
CREATE INDEX post_receipts_letter ON post_receipts (letter_id);
