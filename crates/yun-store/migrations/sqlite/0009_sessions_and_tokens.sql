-- Sessions get an id (listed and ended by it; the token's hash stays private to the store),
-- the time they were last used (for the idle limit, written at most once a minute), and where
-- they began (so an owner can tell which is which).
CREATE TABLE sessions_v2 (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    source        TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
INSERT INTO sessions_v2 (id, token_hash, user_id, created_at, expires_at, last_used_at)
    SELECT lower(hex(randomblob(13))), token_hash, user_id, created_at, expires_at, created_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_v2 RENAME TO sessions;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Personal access tokens for scripts and CI: named, expiring, revocable; only their SHA-256
-- is kept, and they are taken only as bearer tokens.
CREATE TABLE access_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX access_tokens_user ON access_tokens(user_id);
