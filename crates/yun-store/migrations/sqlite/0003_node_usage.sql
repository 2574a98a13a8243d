-- What each node has reserved, kept by triggers in the same transaction as the container rows,
-- so placement reads one row per node instead of summing every container.

CREATE TABLE node_usage (
    node_id       TEXT PRIMARY KEY,
    cpu_millis    INTEGER NOT NULL DEFAULT 0,
    memory_bytes  INTEGER NOT NULL DEFAULT 0,
    containers    INTEGER NOT NULL DEFAULT 0
);

INSERT INTO node_usage (node_id, cpu_millis, memory_bytes, containers)
    SELECT node_id, SUM(cpu_millis), SUM(memory_bytes), COUNT(*) FROM containers GROUP BY node_id;

CREATE TRIGGER containers_usage_insert AFTER INSERT ON containers BEGIN
    INSERT OR IGNORE INTO node_usage (node_id) VALUES (NEW.node_id);
    UPDATE node_usage
       SET cpu_millis = cpu_millis + NEW.cpu_millis,
           memory_bytes = memory_bytes + NEW.memory_bytes,
           containers = containers + 1
     WHERE node_id = NEW.node_id;
END;

CREATE TRIGGER containers_usage_delete AFTER DELETE ON containers BEGIN
    UPDATE node_usage
       SET cpu_millis = cpu_millis - OLD.cpu_millis,
           memory_bytes = memory_bytes - OLD.memory_bytes,
           containers = containers - 1
     WHERE node_id = OLD.node_id;
END;
