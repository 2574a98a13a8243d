-- The foundation: accounts, nodes, images, containers and their host ports.

CREATE TABLE cluster (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    banned         INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

-- Only a SHA-256 of each session token is kept: a leaked database opens no session.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE nodes (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    advertise          TEXT NOT NULL,
    public_host        TEXT NOT NULL,
    port_start         INTEGER NOT NULL,
    port_end           INTEGER NOT NULL,
    cpu_cores          INTEGER NOT NULL,
    memory_bytes       INTEGER NOT NULL,
    version            TEXT NOT NULL,
    unenforced_limits  TEXT NOT NULL,
    allow_unenforced   INTEGER NOT NULL,
    registered_at      INTEGER NOT NULL
);

-- owner_id '' is the public catalog; anything else is that user's private image.
CREATE TABLE images (
    id             TEXT PRIMARY KEY,
    reference      TEXT NOT NULL,
    owner_id       TEXT NOT NULL DEFAULT '',
    size_bytes     INTEGER NOT NULL,
    exposed_ports  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (owner_id, reference)
);

CREATE TABLE containers (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users(id),
    name           TEXT NOT NULL,
    image_id       TEXT NOT NULL,
    image_ref      TEXT NOT NULL,
    plan           TEXT NOT NULL,
    cpu_millis     INTEGER NOT NULL,
    memory_bytes   INTEGER NOT NULL,
    pids           INTEGER NOT NULL,
    node_id        TEXT NOT NULL REFERENCES nodes(id),
    state          TEXT NOT NULL,
    desired_state  TEXT NOT NULL,
    exit_code      INTEGER,
    command        TEXT NOT NULL,
    env            TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (owner_id, name)
);
CREATE INDEX containers_node ON containers(node_id);

-- One row per published host port; the primary key is what makes two creates unable to share one.
CREATE TABLE port_allocations (
    node_id         TEXT NOT NULL,
    host_port       INTEGER NOT NULL,
    container_id    TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    container_port  INTEGER NOT NULL,
    protocol        TEXT NOT NULL,
    PRIMARY KEY (node_id, host_port)
);
CREATE INDEX port_allocations_container ON port_allocations(container_id);
