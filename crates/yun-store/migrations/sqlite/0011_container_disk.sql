-- The plan's disk: how much a container may write to its own filesystem (its writable layer).
-- 0 for containers from before the limit: no limit.
ALTER TABLE containers ADD COLUMN disk_bytes INTEGER NOT NULL DEFAULT 0;
