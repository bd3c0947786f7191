-- Signing reminders (issue 21): when a job's reminder before the deadline is due (planned at
-- creation from the length of its open period; NULL: none asked for, or too short a period),
-- and when the reminder job took it (so it is sent once across instances).
ALTER TABLE signing_jobs ADD COLUMN remind_at TEXT;
ALTER TABLE signing_jobs ADD COLUMN reminded_at TEXT;
CREATE INDEX signing_jobs_reminders_due ON signing_jobs (remind_at)
    WHERE remind_at IS NOT NULL AND reminded_at IS NULL;
