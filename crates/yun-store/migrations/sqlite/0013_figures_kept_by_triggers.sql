-- What the metrics read at every scrape, kept by triggers as node_usage is, so a scrape reads a
-- few rows whatever the size of the fleet: containers and orders by state (counting an index
-- took about 5 ms at 100,000 containers, and grew with them), and the ledger's entries and
-- credits by kind (reading the new entries since the last scrape took 400 ms after a meter
-- tick that bought a minute for 100,000 containers).
CREATE TABLE container_state_counts (
    state TEXT PRIMARY KEY NOT NULL,
    containers INTEGER NOT NULL
);
INSERT INTO container_state_counts (state, containers)
    SELECT state, COUNT(*) FROM containers GROUP BY state;

CREATE TRIGGER container_counts_insert AFTER INSERT ON containers BEGIN
    INSERT INTO container_state_counts (state, containers) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET containers = containers + 1;
END;

CREATE TRIGGER container_counts_delete AFTER DELETE ON containers BEGIN
    UPDATE container_state_counts SET containers = containers - 1 WHERE state = OLD.state;
END;

CREATE TRIGGER container_counts_state AFTER UPDATE OF state ON containers
WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE container_state_counts SET containers = containers - 1 WHERE state = OLD.state;
    INSERT INTO container_state_counts (state, containers) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET containers = containers + 1;
END;

CREATE TABLE order_state_counts (
    state TEXT PRIMARY KEY NOT NULL,
    orders INTEGER NOT NULL
);
INSERT INTO order_state_counts (state, orders)
    SELECT state, COUNT(*) FROM orders GROUP BY state;

CREATE TRIGGER order_counts_insert AFTER INSERT ON orders BEGIN
    INSERT INTO order_state_counts (state, orders) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET orders = orders + 1;
END;

CREATE TRIGGER order_counts_delete AFTER DELETE ON orders BEGIN
    UPDATE order_state_counts SET orders = orders - 1 WHERE state = OLD.state;
END;

CREATE TRIGGER order_counts_state AFTER UPDATE OF state ON orders
WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE order_state_counts SET orders = orders - 1 WHERE state = OLD.state;
    INSERT INTO order_state_counts (state, orders) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET orders = orders + 1;
END;

-- Only the metrics' counting used this one (orders_by_state stays: the expiry of pending
-- orders finds them by it).
DROP INDEX containers_by_state;

CREATE TABLE ledger_totals (
    kind TEXT PRIMARY KEY NOT NULL,
    entries INTEGER NOT NULL,
    -- Credits moved either way.
    credits INTEGER NOT NULL
);
INSERT INTO ledger_totals (kind, entries, credits)
    SELECT kind, COUNT(*), COALESCE(SUM(ABS(amount)), 0) FROM ledger GROUP BY kind;

CREATE TRIGGER ledger_totals_insert AFTER INSERT ON ledger BEGIN
    INSERT INTO ledger_totals (kind, entries, credits) VALUES (NEW.kind, 1, ABS(NEW.amount))
        ON CONFLICT (kind) DO UPDATE SET entries = entries + 1, credits = credits + ABS(NEW.amount);
END;
