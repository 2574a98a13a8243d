-- The fleet's trust: join tokens (only a hash of each secret), the name every joined node
-- holds, and the certificates issued to nodes, so forgetting a node revokes them and every
-- master refuses them.

CREATE TABLE join_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    -- NULL: any number of joins until it expires.
    max_uses    INTEGER,
    uses        INTEGER NOT NULL DEFAULT 0,
    revoked_at  INTEGER
);

CREATE TABLE node_names (
    node_id   TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    joined_at INTEGER NOT NULL
);
INSERT INTO node_names (node_id, name, joined_at) SELECT id, name, registered_at FROM nodes;

CREATE TABLE node_certificates (
    serial     TEXT PRIMARY KEY,
    node_id    TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX node_certificates_node ON node_certificates(node_id);
