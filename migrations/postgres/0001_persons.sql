-- The person register: one row per person the portal knows. Other tables refer to a person by
-- `id` only, so the national identity number lives in this table and nowhere else.
--
--   id          UUID version 7 (time-ordered: new rows land at the end of the index)
--   national_id normalised digits: 11 (Norway) or 10 (Denmark), no dash
--   *_at        TIMESTAMPTZ, written in UTC
CREATE TABLE persons (
    id          UUID        NOT NULL,
    national_id TEXT        NOT NULL,
    given_name  TEXT        NOT NULL,
    family_name TEXT        NOT NULL,
    birth_date  DATE        NOT NULL,
    language    TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT persons_pkey PRIMARY KEY (id),
    CONSTRAINT persons_national_id_unique UNIQUE (national_id),
    CONSTRAINT persons_national_id_format CHECK (national_id ~ '^[0-9]{10,11}$')
);
