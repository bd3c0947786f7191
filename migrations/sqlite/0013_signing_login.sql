-- A login started to sign (issue 21): the job the fresh eID login is for. Set only by the
-- "sign" form (never by a login link), so a login someone else started cannot sign anything;
-- the callback records the signature with the id_token it verified. NULL: an ordinary login.
ALTER TABLE login_states ADD COLUMN signing_job_id TEXT;
