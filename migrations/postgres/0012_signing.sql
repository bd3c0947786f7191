-- Signing (issue 21): jobs that agencies send, their documents and signers, each signer's
-- evidence, and the status changes agencies poll. Codes are checked when read back
-- (src/signing/status.rs); see sqlite/0012_signing.sql for what each column holds.

CREATE TABLE signing_jobs (
    id                  UUID        NOT NULL,
    agency_id           TEXT        NOT NULL,
    agency_job_id       TEXT        NOT NULL,
    sender_name         TEXT        NOT NULL,
    title               TEXT        NOT NULL,
    non_sensitive_title TEXT        NOT NULL,
    description         TEXT        NOT NULL,
    required_loa        TEXT        NOT NULL,
    naming              TEXT        NOT NULL,
    notify_channels     TEXT        NOT NULL,
    reminders           BOOLEAN     NOT NULL,
    helpers_may_sign    BOOLEAN     NOT NULL,
    state               TEXT        NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    opens_at            TIMESTAMPTZ NOT NULL,
    deadline            TIMESTAMPTZ NOT NULL,
    ended_at            TIMESTAMPTZ,
    seal_claimed_until  TIMESTAMPTZ,
    CONSTRAINT signing_jobs_pkey PRIMARY KEY (id),
    CONSTRAINT signing_jobs_agency_job_unique UNIQUE (agency_id, agency_job_id)
);
CREATE INDEX signing_jobs_deadline ON signing_jobs (deadline) WHERE state = 'in_progress';
CREATE INDEX signing_jobs_sealing ON signing_jobs (created_at) WHERE state = 'sealing';

-- PDFs are compressed already: stored out of line, uncompressed.
CREATE TABLE signing_documents (
    job_id    UUID    NOT NULL,
    position  INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    file_name TEXT    NOT NULL,
    sha256    BYTEA   NOT NULL CHECK (length(sha256) = 32),
    size      BIGINT  NOT NULL,
    content   BYTEA   NOT NULL,
    sealed    BYTEA,
    CONSTRAINT signing_documents_pkey PRIMARY KEY (job_id, position),
    CONSTRAINT signing_documents_job_fkey FOREIGN KEY (job_id)
        REFERENCES signing_jobs (id) ON DELETE CASCADE
);
ALTER TABLE signing_documents ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE signing_documents ALTER COLUMN sealed SET STORAGE EXTERNAL;

CREATE TABLE signing_signers (
    id            UUID        NOT NULL,
    job_id        UUID        NOT NULL,
    position      INTEGER     NOT NULL,
    national_id   TEXT        NOT NULL,
    signing_order INTEGER     NOT NULL CHECK (signing_order BETWEEN 0 AND 9),
    on_behalf_of  TEXT        NOT NULL,
    status        TEXT        NOT NULL,
    status_since  TIMESTAMPTZ NOT NULL,
    activated_at  TIMESTAMPTZ,
    signed_by     UUID,
    delegation_id UUID,
    evidence      JSONB,
    reason        TEXT,
    CONSTRAINT signing_signers_pkey PRIMARY KEY (id),
    CONSTRAINT signing_signers_job_fkey FOREIGN KEY (job_id)
        REFERENCES signing_jobs (id) ON DELETE CASCADE,
    CONSTRAINT signing_signers_once UNIQUE (job_id, national_id)
);
CREATE INDEX signing_signers_national_id ON signing_signers (national_id, activated_at);
CREATE INDEX signing_signers_job ON signing_signers (job_id, position);

-- Status changes for agencies to poll, with the writing transaction's id for a cursor that
-- never skips a late commit (as post_receipts, 0005).
CREATE TABLE signing_events (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY,
    txid      XID8        NOT NULL DEFAULT pg_current_xact_id(),
    agency_id TEXT        NOT NULL,
    job_id    UUID        NOT NULL,
    signer_id UUID,
    status    TEXT        NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    CONSTRAINT signing_events_pkey PRIMARY KEY (seq)
);
CREATE INDEX signing_events_agency ON signing_events (agency_id, txid, seq);
