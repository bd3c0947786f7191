-- Signing (issue 21): jobs that agencies send, their documents and signers, each signer's
-- evidence, and the status changes agencies poll.
--
-- Encodings as in 0001 (STRICT): ids hyphenated lower-case UUID text, *_at fixed-width UTC
-- text, hashes BLOB. Codes (state, status, level, naming, on_behalf_of) are checked when read
-- back (src/signing/status.rs).

-- One job.
--   state        'in_progress' | 'sealing' (every signer signed) | 'completed' | 'failed'
--   required_loa 'substantial' | 'high': the level each signature needs
--   naming       'name' | 'name_and_birth_date' | 'name_and_national_id'
--   notify_channels 'email,sms' | 'email' | 'sms' | ''
--   seal_claimed_until: the sealing worker's lease on a job in 'sealing'
CREATE TABLE signing_jobs (
    id                  TEXT    NOT NULL,
    agency_id           TEXT    NOT NULL,
    agency_job_id       TEXT    NOT NULL,
    sender_name         TEXT    NOT NULL,
    title               TEXT    NOT NULL,
    non_sensitive_title TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    required_loa        TEXT    NOT NULL,
    naming              TEXT    NOT NULL,
    notify_channels     TEXT    NOT NULL,
    reminders           INTEGER NOT NULL CHECK (reminders IN (0, 1)),
    helpers_may_sign    INTEGER NOT NULL CHECK (helpers_may_sign IN (0, 1)),
    state               TEXT    NOT NULL,
    created_at          TEXT    NOT NULL,
    opens_at            TEXT    NOT NULL,
    deadline            TEXT    NOT NULL,
    ended_at            TEXT,
    seal_claimed_until  TEXT,
    CONSTRAINT signing_jobs_pkey PRIMARY KEY (id),
    CONSTRAINT signing_jobs_agency_job_unique UNIQUE (agency_id, agency_job_id)
) STRICT;
-- The deadline job's range and the sealing worker's queue.
CREATE INDEX signing_jobs_deadline ON signing_jobs (deadline) WHERE state = 'in_progress';
CREATE INDEX signing_jobs_sealing ON signing_jobs (created_at) WHERE state = 'sealing';

-- The documents, in the agency's order; `sealed` is the sealed PDF once the job completes.
CREATE TABLE signing_documents (
    job_id    TEXT    NOT NULL,
    position  INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    file_name TEXT    NOT NULL,
    sha256    BLOB    NOT NULL CHECK (length(sha256) = 32),
    size      INTEGER NOT NULL,
    content   BLOB    NOT NULL,
    sealed    BLOB,
    CONSTRAINT signing_documents_pkey PRIMARY KEY (job_id, position),
    CONSTRAINT signing_documents_job_fkey FOREIGN KEY (job_id)
        REFERENCES signing_jobs (id) ON DELETE CASCADE
) STRICT;

-- The signers, in the agency's order.
--   status        see SignerStatus; status_since: when it became that
--   activated_at  when their turn came (NULL: not yet; may lie ahead, at the job's opening)
--   signed_by     the person who signed: the signer, or a helper for them (then delegation_id)
--   evidence      the signature's evidence (JSON: document hashes, identity, level, eID,
--                 the id_token as the eID signed it, time), kept for the sealed document
--   reason        a decline's reason, if given
CREATE TABLE signing_signers (
    id            TEXT    NOT NULL,
    job_id        TEXT    NOT NULL,
    position      INTEGER NOT NULL,
    national_id   TEXT    NOT NULL,
    signing_order INTEGER NOT NULL CHECK (signing_order BETWEEN 0 AND 9),
    on_behalf_of  TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    status_since  TEXT    NOT NULL,
    activated_at  TEXT,
    signed_by     TEXT,
    delegation_id TEXT,
    evidence      TEXT,
    reason        TEXT,
    CONSTRAINT signing_signers_pkey PRIMARY KEY (id),
    CONSTRAINT signing_signers_job_fkey FOREIGN KEY (job_id)
        REFERENCES signing_jobs (id) ON DELETE CASCADE,
    CONSTRAINT signing_signers_once UNIQUE (job_id, national_id)
) STRICT;
-- A citizen's jobs ("documents to sign"): by national id, those whose turn has come.
CREATE INDEX signing_signers_national_id ON signing_signers (national_id, activated_at);
CREATE INDEX signing_signers_job ON signing_signers (job_id, position);

-- Status changes for agencies to poll; `seq` (the rowid) is the cursor (one writer).
--   signer_id NULL: the job's own status changed (status is then an API job status)
CREATE TABLE signing_events (
    seq       INTEGER NOT NULL,
    agency_id TEXT    NOT NULL,
    job_id    TEXT    NOT NULL,
    signer_id TEXT,
    status    TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    CONSTRAINT signing_events_pkey PRIMARY KEY (seq)
) STRICT;
CREATE INDEX signing_events_agency ON signing_events (agency_id, seq);
