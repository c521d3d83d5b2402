-- Accounts, sessions, personal tokens, sign-in throttling and the audit log (issue 24).
-- In the main file beside the ledger. Times are Unix seconds (UTC).

CREATE TABLE auth_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- argon2id PHC string; NULL for an account that signs in only through SSO.
    password_hash TEXT,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'manager')),
    -- A manager's stores, as a comma-separated list of store ids ('' = none).
    stores        TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    -- Bumped by a password change, a reset or a disable: every older session ends.
    generation    INTEGER NOT NULL DEFAULT 0
);

-- Only the SHA-256 of a session's cookie value is kept.
CREATE TABLE auth_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    address    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE auth_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used  INTEGER
);

-- Failed sign-ins per key ('user:<name>' or 'addr:<address>').
CREATE TABLE auth_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    locked_until INTEGER NOT NULL
);

-- The one-time set-up link that creates the first admin.
CREATE TABLE auth_setup (
    token_hash TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE auth_audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    address  TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_audit_at ON auth_audit (at);
