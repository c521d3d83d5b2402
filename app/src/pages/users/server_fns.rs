//! The users page's server functions (admins only): the accounts and the audit log, and
//! adding, changing, disabling and resetting accounts. A form's mistake comes back as
//! `Ok(Some(code))` (worded by the page); `Err` is for access and outages.

use leptos::prelude::*;

use crate::wire::{LoadError, UsersView};

/// The accounts, the chain's stores and the newest audit lines.
#[server(endpoint = "admin_users")]
pub async fn get_users_view() -> Result<UsersView, LoadError> {
    super::server::view().await
}

/// A new account with its first password (typed by the admin, given to the person).
#[server(endpoint = "admin_user_add")]
pub async fn add_user(
    username: String,
    role: String,
    stores: Vec<u32>,
    password: String,
) -> Result<Option<String>, LoadError> {
    super::server::add(username, role, stores, password).await
}

/// An account's role, stores and whether it is disabled.
#[server(endpoint = "admin_user_set")]
pub async fn set_user(
    username: String,
    role: String,
    stores: Vec<u32>,
    disabled: bool,
) -> Result<Option<String>, LoadError> {
    super::server::set(username, role, stores, disabled).await
}

/// A new password for an account (its sessions end).
#[server(endpoint = "admin_user_reset")]
pub async fn reset_password(
    username: String,
    password: String,
) -> Result<Option<String>, LoadError> {
    super::server::reset(username, password).await
}
