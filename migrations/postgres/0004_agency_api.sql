-- The agency look-up API (issue 4).
--
--   *_at  TIMESTAMPTZ, written in UTC

-- Which agency's system caused an event (the agency API), next to actor_id (a person).
--   agency_id  the agency's configured id, e.g. 'nav'; NULL when no agency was involved
ALTER TABLE audit_events ADD COLUMN agency_id TEXT;

-- Token ids (`jti`) of agency API tokens already accepted, until the token expires: a replay
-- hits the key. Insert-or-fail is the replay check, so two instances cannot both accept one.
CREATE TABLE agency_token_ids (
    agency_id  TEXT        NOT NULL,
    jti        TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT agency_token_ids_pkey PRIMARY KEY (agency_id, jti)
);
CREATE INDEX agency_token_ids_expires_at ON agency_token_ids (expires_at);
