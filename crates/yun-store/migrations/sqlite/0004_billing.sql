-- Money: balances that always equal an append-only ledger, per-second metering of running
-- containers, orders and an audit log for operators.

-- The CHECK is the last line of defence; every debit is already a conditional update.
ALTER TABLE users ADD COLUMN balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0);

CREATE TABLE ledger (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          TEXT NOT NULL REFERENCES users(id),
    kind             TEXT NOT NULL,
    amount           INTEGER NOT NULL,
    balance_after    INTEGER NOT NULL CHECK (balance_after >= 0),
    -- What the entry is about: container:<id>, image:<id>, order:<id> or user:<id>.
    reference        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    note             TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
);
CREATE INDEX ledger_user ON ledger(user_id, id);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only');
END;

-- Metering. run_ms is running time already closed; run_since opens the current span (NULL
-- when the container is not billable); paid_ms is running time paid for in advance and
-- charged what was paid for it (always floor(paid_ms x price / 1 h)).
ALTER TABLE containers ADD COLUMN price_per_hour INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN deposit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN run_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN run_since INTEGER;
ALTER TABLE containers ADD COLUMN paid_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN charged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN expires_at INTEGER;
-- Why the platform (not the renter) stopped it, e.g. a balance that ran out.
ALTER TABLE containers ADD COLUMN status_reason TEXT;

-- Spans open and close with the state change itself, in its transaction, at its timestamp:
-- whichever path records a state, the running time is exact and a crash loses none of it.
CREATE TRIGGER containers_meter_open AFTER UPDATE OF state ON containers
WHEN NEW.state IN ('running', 'restarting', 'stopping') AND OLD.run_since IS NULL
BEGIN
    UPDATE containers SET run_since = NEW.updated_at WHERE id = NEW.id;
END;

CREATE TRIGGER containers_meter_close AFTER UPDATE OF state ON containers
WHEN NEW.state NOT IN ('running', 'restarting', 'stopping') AND OLD.run_since IS NOT NULL
BEGIN
    UPDATE containers
       SET run_ms = run_ms + MAX(0, NEW.updated_at - OLD.run_since), run_since = NULL
     WHERE id = NEW.id;
END;

-- The meter's two questions, answered from indexes: whose paid time ends soon, and who has
-- unused paid time to give back.
CREATE INDEX containers_paid_until ON containers(run_since + paid_ms - run_ms)
    WHERE run_since IS NOT NULL;
CREATE INDEX containers_unsettled ON containers(id)
    WHERE run_since IS NULL AND paid_ms != run_ms;
CREATE INDEX containers_expiry ON containers(expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users(id),
    credits            INTEGER NOT NULL CHECK (credits > 0),
    -- What the renter pays, in the currency's minor unit (fen for CNY).
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT NOT NULL,
    provider           TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'paid', 'cancelled', 'expired')),
    provider_trade_no  TEXT,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    settled_at         INTEGER
);
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_pending ON orders(expires_at) WHERE state = 'pending';

-- What operators may need to look at later: adjustments, and payments that could not be
-- honoured (a notify for a cancelled order, an amount that does not match).
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL
);
