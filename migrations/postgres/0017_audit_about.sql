-- The activity log names what an entry is about: see sqlite/0017_audit_about.sql.
ALTER TABLE audit_events ADD COLUMN about TEXT;
