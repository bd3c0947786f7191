-- Login (issue 3): server-side sessions, pending logins, seen logout tokens, and each
-- person's activity log.
--
-- Encodings (as in 0001; STRICT makes SQLite hold to them):
--   *_id, id  hyphenated lower-case UUID
--   *_hash    SHA-256 of a secret (session cookie, OIDC state), a 32-byte BLOB: the secret
--             itself is never stored, so reading these tables gives no live cookie or state
--   loa       'substantial' or 'high' (checked when read back, like persons.language)
--   *_at      UTC, fixed-width RFC 3339 with microseconds: 2025-01-31T12:00:00.000000Z

-- One row per logged-in session. Any instance finds it by the hash of the cookie.
-- id_token is kept for `id_token_hint` at logout and holds the national id (`pid`, `dk.cpr`):
-- this table is as sensitive as `persons`.
CREATE TABLE sessions (
    token_hash    BLOB NOT NULL,
    person_id     TEXT NOT NULL,
    loa           TEXT NOT NULL,
    auth_time     TEXT NOT NULL,
    provider      TEXT NOT NULL,
    subject_claim TEXT NOT NULL,
    sid           TEXT,
    id_token      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (token_hash),
    CONSTRAINT sessions_person_fkey FOREIGN KEY (person_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT sessions_token_hash_length CHECK (length(token_hash) = 32)
) STRICT;
-- Back-channel and front-channel logout name the session by the provider's sid or sub.
CREATE INDEX sessions_provider_sid ON sessions (provider, sid);
CREATE INDEX sessions_provider_subject ON sessions (provider, subject_claim);
-- The foreign key's other side (deleting a person), and "log out everywhere" later.
CREATE INDEX sessions_person ON sessions (person_id);
-- The clean-up job: expired by either rule.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);

-- Logins sent to the eID provider and not back yet; taken (deleted) at the callback.
CREATE TABLE login_states (
    state_hash    BLOB NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    provider      TEXT NOT NULL,
    requested_loa TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    CONSTRAINT login_states_pkey PRIMARY KEY (state_hash),
    CONSTRAINT login_states_state_hash_length CHECK (length(state_hash) = 32)
) STRICT;
CREATE INDEX login_states_expires_at ON login_states (expires_at);

-- Back-channel logout tokens already accepted, until they expire: a replay hits the key.
CREATE TABLE logout_tokens (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    CONSTRAINT logout_tokens_pkey PRIMARY KEY (issuer, jti)
) STRICT;
CREATE INDEX logout_tokens_expires_at ON logout_tokens (expires_at);

-- Each person's activity log. No free text: a kind code, ids, the level and the provider.
--   id   UUID version 7
--   kind a stable code such as 'login.succeeded' (checked when read back)
CREATE TABLE audit_events (
    id          TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    actor_id    TEXT,
    kind        TEXT NOT NULL,
    loa         TEXT,
    provider    TEXT,
    occurred_at TEXT NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id),
    CONSTRAINT audit_events_subject_fkey FOREIGN KEY (subject_id) REFERENCES persons (id),
    CONSTRAINT audit_events_actor_fkey FOREIGN KEY (actor_id) REFERENCES persons (id)
) STRICT;
-- A person's log, newest first, keyset paged on (occurred_at, id).
CREATE INDEX audit_events_subject_time ON audit_events (subject_id, occurred_at DESC, id DESC);
