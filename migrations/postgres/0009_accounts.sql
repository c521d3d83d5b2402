-- Accounts, sessions, personal tokens, sign-in throttling and the audit log (issue 24).
-- In the main file beside the ledger. Times are Unix seconds (UTC).

CREATE TABLE auth_users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL,
    -- argon2id PHC string; NULL for an account that signs in only through SSO.
    password_hash TEXT,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'manager')),
    -- A manager's stores, as a comma-separated list of store ids ('' = none).
    stores        TEXT NOT NULL DEFAULT '',
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    -- Bumped by a password change, a reset or a disable: every older session ends.
    generation    BIGINT NOT NULL DEFAULT 0
);
-- Usernames are unique whatever their case, as on SQLite (COLLATE NOCASE).
CREATE UNIQUE INDEX auth_users_username ON auth_users (lower(username));

-- Only the SHA-256 of a session's cookie value is kept.
CREATE TABLE auth_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    address    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE auth_tokens (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used  BIGINT
);

-- Failed sign-ins per key ('user:<name>' or 'addr:<address>').
CREATE TABLE auth_failures (
    key          TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

-- The one-time set-up link that creates the first admin.
CREATE TABLE auth_setup (
    token_hash TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE auth_audit (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    address  TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_audit_at ON auth_audit (at);
