//! Accounts, sessions, personal tokens, sign-in throttling, the one-time set-up link and
//! the audit log, kept in the warehouse (migration 0009) so that every replica on the
//! same database shares them. Secrets are never stored: sessions, tokens and the set-up
//! link are kept as the SHA-256 of their value, passwords as an argon2id hash made by the
//! server. Times are Unix seconds.

use crate::access::{Role, StoreScope};
use crate::warehouse::{Warehouse, WarehouseError};

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    /// The argon2id PHC string; `None` for an account that signs in only through SSO.
    pub password_hash: Option<String>,
    pub role: Role,
    /// A manager's stores (ignored for the other roles).
    pub stores: Vec<u32>,
    pub disabled: bool,
    pub created_at: i64,
    /// Bumped by a password change, a reset or a disable: older sessions end.
    pub generation: i64,
}

impl Account {
    /// The stores whose figures this account may see.
    pub fn scope(&self) -> StoreScope {
        StoreScope::of(self.role, self.stores.iter().copied())
    }
}

/// What [`Warehouse::update_account`] changes (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub stores: Option<Vec<u32>>,
    pub disabled: Option<bool>,
    /// A new argon2id hash (`Some(None)` removes the password: SSO only).
    pub password_hash: Option<Option<String>>,
}

impl AccountChange {
    /// True when the change must end the account's sessions.
    fn ends_sessions(&self) -> bool {
        self.password_hash.is_some() || self.disabled == Some(true)
    }
}

/// A session as stored, with its account.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub account: Account,
    pub created_at: i64,
    pub last_seen: i64,
    /// The account's generation when the session began.
    pub generation: i64,
}

/// A personal token as stored (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used: Option<i64>,
}

/// Failed sign-ins recorded under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub failures: i64,
    pub last_failure: i64,
    pub locked_until: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub username: String,
    pub address: String,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the username {0:?} is already taken")]
    Taken(String),
    #[error("no account named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Warehouse(e.into())
    }
}

/// The stores column: `"1,3"`.
pub(crate) fn stores_text(stores: &[u32]) -> String {
    let mut ids = stores.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn parse_stores(text: &str) -> Vec<u32> {
    text.split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

type AccountTuple = (i64, String, Option<String>, String, String, i64, i64, i64);

const ACCOUNT_COLUMNS: &str =
    "u.id, u.username, u.password_hash, u.role, u.stores, u.disabled, u.created_at, u.generation";

fn account_of(t: AccountTuple) -> Result<Account, WarehouseError> {
    let (id, username, password_hash, role, stores, disabled, created_at, generation) = t;
    let role = Role::from_code(&role)
        .ok_or_else(|| WarehouseError::Data(format!("account {username}: unknown role {role}")))?;
    Ok(Account {
        id,
        username,
        password_hash,
        role,
        stores: parse_stores(&stores),
        disabled: disabled != 0,
        created_at,
        generation,
    })
}

impl Warehouse {
    /// How many accounts exist (disabled ones included).
    pub async fn account_count(&self) -> Result<i64, WarehouseError> {
        let sql = "SELECT COUNT(*) FROM auth_users";
        Ok(per_backend!(self, sql, |q, p| {
            sqlx::query_scalar::<_, i64>(q).fetch_one(p).await?
        }))
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, WarehouseError> {
        let sql = &format!("SELECT {ACCOUNT_COLUMNS} FROM auth_users u ORDER BY lower(u.username)");
        let rows: Vec<AccountTuple> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_all(p).await?);
        rows.into_iter().map(account_of).collect()
    }

    /// The account of this name (any case).
    pub async fn account_named(&self, username: &str) -> Result<Option<Account>, WarehouseError> {
        let sql = &format!(
            "SELECT {ACCOUNT_COLUMNS} FROM auth_users u WHERE lower(u.username) = lower($1)"
        );
        let row: Option<AccountTuple> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(username)
            .fetch_optional(p)
            .await?);
        row.map(account_of).transpose()
    }

    /// Creates an account; its id.
    pub async fn create_account(
        &self,
        username: &str,
        password_hash: Option<&str>,
        role: Role,
        stores: &[u32],
        now: i64,
    ) -> Result<i64, AccountError> {
        let sql = "INSERT INTO auth_users (username, password_hash, role, stores, created_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let result: Result<i64, sqlx::Error> = per_backend!(self, sql, |q, p| {
            sqlx::query_scalar(q)
                .bind(username)
                .bind(password_hash)
                .bind(role.code())
                .bind(stores_text(stores))
                .bind(now)
                .fetch_one(p)
                .await
        });
        match result {
            Ok(id) => Ok(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AccountError::Taken(username.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Changes an account; a password change or a disable ends its sessions (the
    /// generation moves on and its stored sessions are deleted).
    pub async fn update_account(
        &self,
        username: &str,
        change: &AccountChange,
    ) -> Result<Account, AccountError> {
        let Some(before) = self.account_named(username).await? else {
            return Err(AccountError::Unknown(username.to_string()));
        };
        let role = change.role.unwrap_or(before.role);
        let stores = change.stores.clone().unwrap_or(before.stores.clone());
        let disabled = change.disabled.unwrap_or(before.disabled);
        let hash = match &change.password_hash {
            Some(h) => h.clone(),
            None => before.password_hash.clone(),
        };
        let generation = before.generation + i64::from(change.ends_sessions());
        let sql = "UPDATE auth_users SET role = $1, stores = $2, disabled = $3, \
                   password_hash = $4, generation = $5 WHERE id = $6";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(role.code())
            .bind(stores_text(&stores))
            .bind(i64::from(disabled))
            .bind(hash.as_deref())
            .bind(generation)
            .bind(before.id)
            .execute(p)
            .await?
            .rows_affected());
        if change.ends_sessions() {
            let sql = "DELETE FROM auth_sessions WHERE user_id = $1";
            per_backend!(self, sql, |q, p| sqlx::query(q)
                .bind(before.id)
                .execute(p)
                .await?
                .rows_affected());
        }
        self.account_named(username)
            .await?
            .ok_or_else(|| AccountError::Unknown(username.to_string()))
    }

    /// Stores a new session (its cookie value's hash).
    pub async fn create_session(
        &self,
        id_hash: &str,
        account: &Account,
        now: i64,
        address: &str,
    ) -> Result<(), WarehouseError> {
        let sql = "INSERT INTO auth_sessions (id_hash, user_id, generation, created_at, last_seen, address) \
                   VALUES ($1, $2, $3, $4, $4, $5)";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(id_hash)
            .bind(account.id)
            .bind(account.generation)
            .bind(now)
            .bind(address)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// The session of this hash with its account, whatever its age (the caller applies
    /// the timeouts).
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, WarehouseError> {
        let sql = &format!(
            "SELECT {ACCOUNT_COLUMNS}, s.created_at, s.last_seen, s.generation \
             FROM auth_sessions s JOIN auth_users u ON u.id = s.user_id WHERE s.id_hash = $1"
        );
        type Row = (
            i64,
            String,
            Option<String>,
            String,
            String,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        );
        let row: Option<Row> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(id_hash)
            .fetch_optional(p)
            .await?);
        let Some((a, b, c, d, e, f, g, h, created_at, last_seen, generation)) = row else {
            return Ok(None);
        };
        Ok(Some(SessionRow {
            account: account_of((a, b, c, d, e, f, g, h))?,
            created_at,
            last_seen,
            generation,
        }))
    }

    /// Records activity on a session (the idle timeout counts from here).
    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<(), WarehouseError> {
        let sql = "UPDATE auth_sessions SET last_seen = $1 WHERE id_hash = $2";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(now)
            .bind(id_hash)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), WarehouseError> {
        let sql = "DELETE FROM auth_sessions WHERE id_hash = $1";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(id_hash)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Deletes sessions idle since `idle_before` or begun before `created_before`.
    pub async fn delete_stale_sessions(
        &self,
        idle_before: i64,
        created_before: i64,
    ) -> Result<u64, WarehouseError> {
        let sql = "DELETE FROM auth_sessions WHERE last_seen < $1 OR created_at < $2";
        Ok(per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(idle_before)
            .bind(created_before)
            .execute(p)
            .await?
            .rows_affected()))
    }

    /// Failed sign-ins under `key` (`user:<name>` or `addr:<address>`).
    pub async fn failures(&self, key: &str) -> Result<Option<Failures>, WarehouseError> {
        let sql = "SELECT failures, last_failure, locked_until FROM auth_failures WHERE key = $1";
        let row: Option<(i64, i64, i64)> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(key)
            .fetch_optional(p)
            .await?);
        Ok(row.map(|(failures, last_failure, locked_until)| Failures {
            failures,
            last_failure,
            locked_until,
        }))
    }

    /// Stores the failures of `key` as the caller's policy counted them.
    pub async fn set_failures(&self, key: &str, f: Failures) -> Result<(), WarehouseError> {
        let sql = "INSERT INTO auth_failures (key, failures, last_failure, locked_until) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET \
                   failures = excluded.failures, last_failure = excluded.last_failure, \
                   locked_until = excluded.locked_until";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(key)
            .bind(f.failures)
            .bind(f.last_failure)
            .bind(f.locked_until)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn clear_failures(&self, key: &str) -> Result<(), WarehouseError> {
        let sql = "DELETE FROM auth_failures WHERE key = $1";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(key)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Stores a new one-time set-up link (its hash), replacing any unused one.
    pub async fn replace_setup_link(&self, hash: &str, now: i64) -> Result<(), WarehouseError> {
        let sql = "DELETE FROM auth_setup WHERE used_at IS NULL";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .execute(p)
            .await?
            .rows_affected());
        let sql = "INSERT INTO auth_setup (token_hash, created_at) VALUES ($1, $2)";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(hash)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// True when `hash` is an unused set-up link and no account exists yet.
    pub async fn setup_link_valid(&self, hash: &str) -> Result<bool, WarehouseError> {
        let sql = "SELECT COUNT(*) FROM auth_setup WHERE token_hash = $1 AND used_at IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM auth_users)";
        let n: i64 = per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(hash)
            .fetch_one(p)
            .await?);
        Ok(n > 0)
    }

    /// Uses the set-up link: marks it used, once, and only while no account exists. True
    /// for the one caller that got it (two replicas, two clicks: one wins).
    pub async fn use_setup_link(&self, hash: &str, now: i64) -> Result<bool, WarehouseError> {
        let sql = "UPDATE auth_setup SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM auth_users)";
        let n = per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(now)
            .bind(hash)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Stores a personal token (its hash); its id.
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<i64, WarehouseError> {
        let sql = "INSERT INTO auth_tokens (user_id, name, token_hash, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        Ok(per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(user_id)
            .bind(name)
            .bind(hash)
            .bind(now)
            .bind(expires_at)
            .fetch_one(p)
            .await?))
    }

    /// The account of a token that is neither revoked nor expired at `now`, and marks the
    /// token used.
    pub async fn token_account(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<Account>, WarehouseError> {
        let sql = &format!(
            "SELECT {ACCOUNT_COLUMNS} FROM auth_tokens t JOIN auth_users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2"
        );
        let row: Option<AccountTuple> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(hash)
            .bind(now)
            .fetch_optional(p)
            .await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let sql = "UPDATE auth_tokens SET last_used = $1 WHERE token_hash = $2";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(now)
            .bind(hash)
            .execute(p)
            .await?
            .rows_affected());
        account_of(row).map(Some)
    }

    /// An account's tokens, newest first.
    pub async fn tokens_of(&self, user_id: i64) -> Result<Vec<TokenRow>, WarehouseError> {
        let sql = "SELECT id, user_id, name, created_at, expires_at, revoked_at, last_used \
                   FROM auth_tokens WHERE user_id = $1 ORDER BY id DESC";
        type Row = (i64, i64, String, i64, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(user_id)
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .map(
                |(id, user_id, name, created_at, expires_at, revoked_at, last_used)| TokenRow {
                    id,
                    user_id,
                    name,
                    created_at,
                    expires_at,
                    revoked_at,
                    last_used,
                },
            )
            .collect())
    }

    /// Revokes one of an account's tokens; false when it has no such live token.
    pub async fn revoke_token(
        &self,
        user_id: i64,
        token_id: i64,
        now: i64,
    ) -> Result<bool, WarehouseError> {
        let sql = "UPDATE auth_tokens SET revoked_at = $1 \
                   WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
        let n = per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(now)
            .bind(token_id)
            .bind(user_id)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        at: i64,
        username: &str,
        address: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), WarehouseError> {
        let sql = "INSERT INTO auth_audit (at, username, address, action, detail) \
                   VALUES ($1, $2, $3, $4, $5)";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(at)
            .bind(username)
            .bind(address)
            .bind(action)
            .bind(detail)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// The audit log's newest `limit` lines, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, WarehouseError> {
        let sql = "SELECT id, at, username, address, action, detail FROM auth_audit \
                   ORDER BY id DESC LIMIT $1";
        let rows: Vec<(i64, i64, String, String, String, String)> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q)
                .bind(limit)
                .fetch_all(p)
                .await?);
        Ok(rows
            .into_iter()
            .map(|(id, at, username, address, action, detail)| AuditEntry {
                id,
                at,
                username,
                address,
                action,
                detail,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_column_round_trips_sorted() {
        assert_eq!(stores_text(&[3, 1, 3]), "1,3");
        assert_eq!(parse_stores("1,3"), vec![1, 3]);
        assert_eq!(parse_stores(""), Vec::<u32>::new());
        assert_eq!(stores_text(&[]), "");
    }
}
