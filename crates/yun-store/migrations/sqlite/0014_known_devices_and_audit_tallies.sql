-- Known devices: a browser or CLI that once logged in to an account keeps a random token (the
-- device cookie); a login that brings it back is throttled by that device's own failures, so a
-- stranger's flood of wrong passwords never locks the owner out. Only its SHA-256 is kept.
CREATE TABLE known_devices (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL
);
CREATE INDEX known_devices_user ON known_devices(user_id, last_used_at);
CREATE INDEX known_devices_use ON known_devices(last_used_at);

-- The device a session was opened from, so a password change can keep that one device.
ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';

-- Repeated entries (failed logins for one account from one source) share one row per day:
-- a flood of guesses grows a counter, not the table.
ALTER TABLE audit_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN tally TEXT;
UPDATE audit_log SET last_at = at;
CREATE INDEX audit_log_tally ON audit_log(tally, at) WHERE tally IS NOT NULL;
CREATE INDEX audit_log_at ON audit_log(at);
