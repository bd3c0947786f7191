-- Signing reminders (issue 21): see sqlite/0014_signing_reminders.sql.
ALTER TABLE signing_jobs ADD COLUMN remind_at TIMESTAMPTZ;
ALTER TABLE signing_jobs ADD COLUMN reminded_at TIMESTAMPTZ;
CREATE INDEX signing_jobs_reminders_due ON signing_jobs (remind_at)
    WHERE remind_at IS NOT NULL AND reminded_at IS NULL;
