-- The person register: one row per person the portal knows. Other tables refer to a person by
-- `id` only, so the national identity number lives in this table and nowhere else.
--
-- Encodings (SQLite has no UUID, DATE or TIMESTAMP types; STRICT makes it hold to TEXT):
--   id          hyphenated lower-case UUID (version 7, time-ordered)
--   national_id normalised digits: 11 (Norway) or 10 (Denmark), no dash
--   birth_date  YYYY-MM-DD
--   *_at        UTC, fixed-width RFC 3339 with microseconds: 2025-01-31T12:00:00.000000Z
CREATE TABLE persons (
    id          TEXT NOT NULL,
    national_id TEXT NOT NULL,
    given_name  TEXT NOT NULL,
    family_name TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    language    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT persons_pkey PRIMARY KEY (id),
    CONSTRAINT persons_national_id_unique UNIQUE (national_id),
    CONSTRAINT persons_national_id_format CHECK (
        length(national_id) IN (10, 11) AND national_id NOT GLOB '*[^0-9]*'
    )
) STRICT;
