-- The metrics count containers and orders by state at every scrape: from these indexes, not
-- by reading every row.
CREATE INDEX containers_by_state ON containers(state);
CREATE INDEX orders_by_state ON orders(state);
