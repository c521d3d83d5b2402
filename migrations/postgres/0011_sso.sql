-- Single sign-on (OpenID Connect, issue 24). Times are Unix seconds (UTC).

-- An SSO account is linked to its provider's issuer and subject (`iss`, `sub`), never by
-- e-mail or name alone. NULL for local (password) accounts; PostgreSQL's unique index lets
-- several NULL pairs through.
ALTER TABLE auth_users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE auth_users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX auth_users_oidc ON auth_users (oidc_issuer, oidc_subject);

-- A sign-in begun at /auth/oidc/start and not yet back at /auth/oidc/callback: the
-- state's SHA-256 (it travels in URLs), the nonce and PKCE verifier the callback needs,
-- where to go afterwards. Taken (deleted) once by the callback, whichever replica gets it.
CREATE TABLE auth_oidc_pending (
    state_hash    TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next          TEXT NOT NULL DEFAULT '',
    lang          TEXT NOT NULL DEFAULT '',
    expires_at    BIGINT NOT NULL
);
CREATE INDEX auth_oidc_pending_expiry ON auth_oidc_pending (expires_at);
