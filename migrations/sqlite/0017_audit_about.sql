-- The activity log names what an entry is about (issue 19): a letter by its non-sensitive
-- title, a folder by its name, a signing job by its non-sensitive title, as they were at the
-- time. Never sensitive. NULL for entries about the account itself (logins, contact data).
ALTER TABLE audit_events ADD COLUMN about TEXT;
