-- Borgerservice staff (issue 22): their sessions, their pending logins and their log, each in
-- its own table, never mixed with citizens' (`sessions`, `login_states`, `audit_events`): a
-- staff cookie can only ever name a row here, a citizen's cookie only a row there.
--
--   municipality_id  the configured municipality's id (`[[staff.municipality]] id`)
--   subject          the `sub` the municipality's identity provider gave the person
--   role             'caseworker' or 'supervisor', as decided at login (checked when read back)
--   *_hash           SHA-256 of the cookie or the OIDC state, 32 bytes
--   *_at             UTC, TIMESTAMPTZ

-- One row per logged-in member of staff. id_token is sealed (as in `sessions`) and kept for the
-- logout hint.
CREATE TABLE staff_sessions (
    token_hash      BYTEA       NOT NULL,
    municipality_id TEXT NOT NULL,
    subject         TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    sid             TEXT,
    id_token        TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT staff_sessions_pkey PRIMARY KEY (token_hash),
    CONSTRAINT staff_sessions_token_hash_length CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX staff_sessions_expires_at ON staff_sessions (expires_at);
CREATE INDEX staff_sessions_last_seen_at ON staff_sessions (last_seen_at);

-- Staff logins sent to the municipality's provider and not back yet; taken at the callback.
CREATE TABLE staff_login_states (
    state_hash      BYTEA       NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    municipality_id TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT staff_login_states_pkey PRIMARY KEY (state_hash),
    CONSTRAINT staff_login_states_state_hash_length CHECK (octet_length(state_hash) = 32)
);
CREATE INDEX staff_login_states_expires_at ON staff_login_states (expires_at);

-- What staff did, per municipality (their supervisors' log): logins, refused logins (with the
-- reason code), logouts. Never in a citizen's activity log.
--   id    UUID version 7
--   kind  'staff.login', 'staff.login_refused', 'staff.logout' (checked when read back)
CREATE TABLE staff_audit_events (
    id              UUID NOT NULL,
    municipality_id TEXT NOT NULL,
    subject         TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT,
    kind            TEXT NOT NULL,
    reason          TEXT,
    occurred_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT staff_audit_events_pkey PRIMARY KEY (id)
);
-- A municipality's log, newest first.
CREATE INDEX staff_audit_events_municipality_time
    ON staff_audit_events (municipality_id, occurred_at DESC, id DESC);
