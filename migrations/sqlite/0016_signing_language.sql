-- Signing (issue 21): the language the portal writes the job's sealed front page and letter in
-- (the agency's choice, else the portal's default), and how many times sealing has been tried,
-- so a job that keeps failing is reported to the operator.
ALTER TABLE signing_jobs ADD COLUMN language TEXT NOT NULL DEFAULT 'nb';
ALTER TABLE signing_jobs ADD COLUMN seal_attempts INTEGER NOT NULL DEFAULT 0;
