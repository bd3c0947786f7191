-- A login that asked the eID provider to log the person in again (`prompt=login`: a step-up,
-- or a login while logged in). The callback then refuses an id_token whose `auth_time` is
-- older than the login's start (`created_at`): the provider did not authenticate again.
ALTER TABLE login_states ADD COLUMN reauthenticate BOOLEAN NOT NULL DEFAULT false;
