//! The account page's server functions: one's personal tokens (list, create, revoke).

use leptos::prelude::*;

use crate::wire::{LoadError, TokenInfo};

/// The signed-in person's tokens, newest first.
#[server(endpoint = "account_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, LoadError> {
    super::server::list_tokens().await
}

/// A new personal token for `label`, valid `days` days: its value, shown once.
#[server(endpoint = "account_token_new")]
pub async fn create_token(label: String, days: u32) -> Result<String, LoadError> {
    super::server::create_token(label, days).await
}

/// Revokes one of the signed-in person's tokens.
#[server(endpoint = "account_token_revoke")]
pub async fn revoke_token(id: i64) -> Result<(), LoadError> {
    super::server::revoke_token(id).await
}
