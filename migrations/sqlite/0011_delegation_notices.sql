-- Notices about delegations ending (issue 20): the delegation's last scope end date for which
-- its giver and holder were told "ends on …", and an index for the job that finds the
-- delegations ending within 14 days.
--
-- `end_notice_for` (a date, YYYY-MM-DD, NULL: never told): the job tells both parties once
-- per end date. A change that moves the last end date makes it differ from the stored one,
-- so the new end gets its own notice. Expiry itself is still derived, never stored.
ALTER TABLE delegations ADD COLUMN end_notice_for TEXT;

-- The job's range: scopes whose end date falls within the coming 14 days.
CREATE INDEX delegation_scopes_ends_on ON delegation_scopes (ends_on);
