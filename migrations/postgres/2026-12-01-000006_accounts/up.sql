-- Accounts that must change the password an admin gave them, and when the
-- password last changed.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN password_changed_at TEXT;

-- A token can be revoked before it expires (logout, an admin, the CLI).
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;

-- Page sessions live here; the cookie carries only a random key whose
-- SHA-256 is token_hash. Logout deletes the row; idle and absolute expiry
-- are checked against last_seen_at and created_at on every request.
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    client_addr TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Login throttling: one row per key ("user:<name>" or "addr:<ip>"), the
-- attempts in the current window and, when locked, until when.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    locked_until TEXT
);
