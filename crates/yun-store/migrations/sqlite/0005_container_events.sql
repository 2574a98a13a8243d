-- Every change of a container's state, written by triggers in the transaction that made it,
-- whichever path made it: the events stream (GET /api/v1/events) tails this table by seq, so
-- an event is never announced for a change that rolled back, and a client that reconnects
-- with `since` misses nothing still kept. Kept for an hour (the events relay prunes).
-- seq is the rowid (no AUTOINCREMENT, whose sequence table would cost every insert another
-- write): it only grows as long as the newest row is never deleted, which pruning keeps.
CREATE TABLE container_events (
    seq           INTEGER PRIMARY KEY,
    container_id  TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- A container state, or 'removed' when its row went.
    state         TEXT NOT NULL,
    exit_code     INTEGER,
    status_reason TEXT,
    at            INTEGER NOT NULL
);

CREATE TRIGGER container_events_created AFTER INSERT ON containers
BEGIN
    INSERT INTO container_events (container_id, owner_id, name, state, exit_code, status_reason, at)
    VALUES (NEW.id, NEW.owner_id, NEW.name, NEW.state, NEW.exit_code, NEW.status_reason, NEW.updated_at);
END;

CREATE TRIGGER container_events_changed AFTER UPDATE OF state, exit_code ON containers
WHEN OLD.state IS NOT NEW.state OR OLD.exit_code IS NOT NEW.exit_code
BEGIN
    INSERT INTO container_events (container_id, owner_id, name, state, exit_code, status_reason, at)
    VALUES (NEW.id, NEW.owner_id, NEW.name, NEW.state, NEW.exit_code, NEW.status_reason, NEW.updated_at);
END;

CREATE TRIGGER container_events_removed AFTER DELETE ON containers
BEGIN
    INSERT INTO container_events (container_id, owner_id, name, state, exit_code, status_reason, at)
    VALUES (OLD.id, OLD.owner_id, OLD.name, 'removed', OLD.exit_code, NULL,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
