-- The fleet: cordoned nodes, host reboots, restart policies and idempotent creates.

ALTER TABLE nodes ADD COLUMN cordoned INTEGER NOT NULL DEFAULT 0;
-- The kernel boot id the worker last reported; a new one means the host rebooted.
ALTER TABLE nodes ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';

ALTER TABLE containers ADD COLUMN restart_policy TEXT NOT NULL DEFAULT 'no';
ALTER TABLE containers ADD COLUMN max_restarts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX containers_idempotency ON containers(owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
