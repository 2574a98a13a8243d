-- A container may run with a read-only root filesystem (a small writable /tmp beside it), and
-- its last exit records whether the kernel killed it for want of memory.
ALTER TABLE containers ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
