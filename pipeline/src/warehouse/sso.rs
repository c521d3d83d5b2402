//! Single sign-on in the warehouse (migration 0011): the sign-ins begun and not yet back
//! from the provider, and the accounts linked to a provider's issuer and subject.
//!
//! A pending sign-in lives in a row rather than in a cookie so that it works whichever
//! replica the provider sends the browser back to, is used once (the callback deletes it
//! and reads it in one statement: two replicas, one winner), and its nonce and PKCE
//! verifier never leave the server.

use crate::access::Role;
use crate::warehouse::accounts::{stores_text, Account, AccountChange, AccountError};
use crate::warehouse::{Warehouse, WarehouseError};

/// What the callback needs of a sign-in begun at the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSso {
    pub nonce: String,
    pub pkce_verifier: String,
    /// The local path to go to once signed in.
    pub next: String,
    /// The page language (`fr` or `en`).
    pub lang: String,
}

/// An SSO account as found or made at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoAccount {
    /// Signed in: the account, with the role and stores the claims gave.
    Ready(Account),
    /// Disabled by an admin: no sign-in, whatever the provider says.
    Disabled(Account),
}

/// Tries made to find a free username for a new SSO account (`name`, `name-sso`,
/// `name-sso2` …) before giving up.
const NAME_TRIES: u32 = 10;

/// `name` made a valid username: no whitespace, at most 64 characters.
fn username_base(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .take(56)
        .collect();
    if cleaned.is_empty() {
        "sso".into()
    } else {
        cleaned
    }
}

fn username_candidate(base: &str, attempt: u32) -> String {
    match attempt {
        0 => base.to_string(),
        1 => format!("{base}-sso"),
        n => format!("{base}-sso{n}"),
    }
}

impl Warehouse {
    /// Stores a sign-in begun at `/auth/oidc/start` under its state's hash, and forgets the
    /// ones that expired before `now`.
    pub async fn put_sso_pending(
        &self,
        state_hash: &str,
        pending: &PendingSso,
        now: i64,
        expires_at: i64,
    ) -> Result<(), WarehouseError> {
        let sql = "DELETE FROM auth_oidc_pending WHERE expires_at <= $1";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected());
        let sql = "INSERT INTO auth_oidc_pending \
                   (state_hash, nonce, pkce_verifier, next, lang, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        per_backend!(self, sql, |q, p| sqlx::query(q)
            .bind(state_hash)
            .bind(&pending.nonce)
            .bind(&pending.pkce_verifier)
            .bind(&pending.next)
            .bind(&pending.lang)
            .bind(expires_at)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Takes the sign-in of this state: deleted and returned in one statement, so only one
    /// caller ever gets it; `None` when it is unknown, already taken or expired at `now`.
    pub async fn take_sso_pending(
        &self,
        state_hash: &str,
        now: i64,
    ) -> Result<Option<PendingSso>, WarehouseError> {
        let sql = "DELETE FROM auth_oidc_pending WHERE state_hash = $1 \
                   RETURNING nonce, pkce_verifier, next, lang, expires_at";
        let row: Option<(String, String, String, String, i64)> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q)
                .bind(state_hash)
                .fetch_optional(p)
                .await?);
        Ok(row
            .filter(|r| r.4 > now)
            .map(|(nonce, pkce_verifier, next, lang, _)| PendingSso {
                nonce,
                pkce_verifier,
                next,
                lang,
            }))
    }

    /// The account linked to this provider's subject.
    pub async fn account_by_subject(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<String>, WarehouseError> {
        let sql = "SELECT username FROM auth_users WHERE oidc_issuer = $1 AND oidc_subject = $2";
        Ok(per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(issuer)
            .bind(subject)
            .fetch_optional(p)
            .await?))
    }

    /// The account of an SSO sign-in, linked by the provider's `issuer` and `subject` (never
    /// by name or e-mail): an existing one takes the role and stores the claims give now
    /// (the provider is their source); a new one is named after `name_hint` (the
    /// `preferred_username` or e-mail), with a suffix when a local account holds that name.
    pub async fn sso_account(
        &self,
        issuer: &str,
        subject: &str,
        name_hint: &str,
        role: Role,
        stores: &[u32],
        now: i64,
    ) -> Result<SsoAccount, AccountError> {
        let linked = match self.account_by_subject(issuer, subject).await? {
            Some(name) => Some(name),
            None => {
                self.create_sso_account(issuer, subject, name_hint, role, stores, now)
                    .await?
            }
        };
        let Some(username) = linked else {
            return Err(AccountError::Taken(username_base(name_hint)));
        };
        let Some(account) = self.account_named(&username).await? else {
            return Err(AccountError::Unknown(username));
        };
        if account.disabled {
            return Ok(SsoAccount::Disabled(account));
        }
        if account.role == role && account.stores == stores {
            return Ok(SsoAccount::Ready(account));
        }
        let change = AccountChange {
            role: Some(role),
            stores: Some(stores.to_vec()),
            ..AccountChange::default()
        };
        Ok(SsoAccount::Ready(
            self.update_account(&username, &change).await?,
        ))
    }

    /// Creates the account linked to (`issuer`, `subject`), without a password; its name,
    /// or `None` when every candidate name is taken. When another replica linked the same
    /// subject meanwhile, that account's name.
    async fn create_sso_account(
        &self,
        issuer: &str,
        subject: &str,
        name_hint: &str,
        role: Role,
        stores: &[u32],
        now: i64,
    ) -> Result<Option<String>, AccountError> {
        let base = username_base(name_hint);
        let stores_text = stores_text(stores);
        for attempt in 0..NAME_TRIES {
            let username = username_candidate(&base, attempt);
            let sql = "INSERT INTO auth_users \
                       (username, password_hash, role, stores, created_at, oidc_issuer, oidc_subject) \
                       VALUES ($1, NULL, $2, $3, $4, $5, $6)";
            let result: Result<u64, sqlx::Error> = per_backend!(self, sql, |q, p| {
                sqlx::query(q)
                    .bind(&username)
                    .bind(role.code())
                    .bind(&stores_text)
                    .bind(now)
                    .bind(issuer)
                    .bind(subject)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected())
            });
            match result {
                Ok(_) => return Ok(Some(username)),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    // The name is taken, or the subject was linked by another replica.
                    if let Some(name) = self.account_by_subject(issuer, subject).await? {
                        return Ok(Some(name));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sso_usernames_have_no_space_and_a_suffix_when_taken() {
        assert_eq!(username_base("  Marie Curie "), "Marie_Curie");
        assert_eq!(username_base(""), "sso");
        assert_eq!(username_base(&"x".repeat(80)).len(), 56);
        assert_eq!(username_candidate("marie", 0), "marie");
        assert_eq!(username_candidate("marie", 1), "marie-sso");
        assert_eq!(username_candidate("marie", 2), "marie-sso2");
        assert!(username_candidate(&"x".repeat(56), NAME_TRIES - 1).len() <= 64);
    }
}
