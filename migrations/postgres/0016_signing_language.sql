-- Signing (issue 21): see sqlite/0016_signing_language.sql.
ALTER TABLE signing_jobs ADD COLUMN language TEXT NOT NULL DEFAULT 'nb';
ALTER TABLE signing_jobs ADD COLUMN seal_attempts INTEGER NOT NULL DEFAULT 0;
