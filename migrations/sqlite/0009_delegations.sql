-- Authority to act for others (issue 20): delegations with scopes and end dates, their
-- history, and guardianships of minors from the population register.
--
-- Encodings as in 0001 (STRICT): ids hyphenated lower-case UUID text, dates YYYY-MM-DD,
-- *_at fixed-width UTC text. Codes (origin, state, scope, kind) are checked when read back.
--
-- What is stored is what people decided: `state` is 'requested', 'active', 'declined' or
-- 'revoked'. Expiry is never stored: a delegation has expired when every scope's `ends_on` has
-- passed, a request when it is 30 days old; the domain derives it from the clock on every read
-- (src/delegation/model.rs), so no job has to run for it to take effect.

-- One delegation from a giver to a holder.
--   origin      'granted' | 'requested' | 'paper'
--   created_by  who made it (the giver, the holder; later staff for paper), NULL if unknown
--   starts_at   when it came into force (NULL while requested or if declined)
--   last_used_at when the holder last acted on it
CREATE TABLE delegations (
    id           TEXT NOT NULL,
    giver_id     TEXT NOT NULL,
    holder_id    TEXT NOT NULL,
    origin       TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_by   TEXT,
    created_at   TEXT NOT NULL,
    starts_at    TEXT,
    updated_at   TEXT NOT NULL,
    last_used_at TEXT,
    CONSTRAINT delegations_pkey PRIMARY KEY (id),
    CONSTRAINT delegations_giver_fkey FOREIGN KEY (giver_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT delegations_holder_fkey FOREIGN KEY (holder_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT delegations_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES persons (id) ON DELETE SET NULL,
    CONSTRAINT delegations_not_to_oneself CHECK (giver_id <> holder_id)
) STRICT;
-- The policy's per-request facts and the holder's lists: by (holder, giver).
CREATE INDEX delegations_holder_giver ON delegations (holder_id, giver_id, state);
-- The giver's lists and waiting requests.
CREATE INDEX delegations_giver_state ON delegations (giver_id, state, created_at);

-- A delegation's scopes, each with its own last day (inclusive). For a request: the end dates
-- asked for, replaced by the giver's choice at approval.
CREATE TABLE delegation_scopes (
    delegation_id TEXT NOT NULL,
    scope         TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    CONSTRAINT delegation_scopes_pkey PRIMARY KEY (delegation_id, scope),
    CONSTRAINT delegation_scopes_delegation_fkey FOREIGN KEY (delegation_id)
        REFERENCES delegations (id) ON DELETE CASCADE
) STRICT;

-- Each delegation's history: who changed its state, when.
--   kind 'granted' | 'requested' | 'approved' | 'declined' | 'revoked' | 'changed' |
--        'registered_from_paper'
CREATE TABLE delegation_events (
    id            TEXT NOT NULL,
    delegation_id TEXT NOT NULL,
    kind          TEXT NOT NULL,
    actor_id      TEXT,
    occurred_at   TEXT NOT NULL,
    CONSTRAINT delegation_events_pkey PRIMARY KEY (id),
    CONSTRAINT delegation_events_delegation_fkey FOREIGN KEY (delegation_id)
        REFERENCES delegations (id) ON DELETE CASCADE,
    CONSTRAINT delegation_events_actor_fkey FOREIGN KEY (actor_id)
        REFERENCES persons (id) ON DELETE SET NULL
) STRICT;
CREATE INDEX delegation_events_delegation ON delegation_events (delegation_id, occurred_at);

-- Guardian -> minor, from the population register's extract. The end on the minor's 18th
-- birthday is not stored: it is computed from persons.birth_date (the national id's) on every
-- read. `ended_at`: a later extract no longer listed it; `confirmed_at`: the last import that
-- listed it.
CREATE TABLE guardianships (
    guardian_id  TEXT NOT NULL,
    minor_id     TEXT NOT NULL,
    listed_at    TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    ended_at     TEXT,
    CONSTRAINT guardianships_pkey PRIMARY KEY (guardian_id, minor_id),
    CONSTRAINT guardianships_guardian_fkey FOREIGN KEY (guardian_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT guardianships_minor_fkey FOREIGN KEY (minor_id)
        REFERENCES persons (id) ON DELETE CASCADE,
    CONSTRAINT guardianships_not_own CHECK (guardian_id <> minor_id)
) STRICT;
CREATE INDEX guardianships_minor ON guardianships (minor_id);
