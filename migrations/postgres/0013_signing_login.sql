-- A login started to sign (issue 21): see sqlite/0013_signing_login.sql.
ALTER TABLE login_states ADD COLUMN signing_job_id UUID;
