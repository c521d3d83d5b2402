//! The users page's loader and actions, for admins only; each change is audited.

use leptos::prelude::expect_context;
use pipeline::access::{Role, Viewer};
use pipeline::password::{self, PasswordError};
use pipeline::warehouse::accounts::{AccountChange, AccountError};

use crate::services::{unavailable, Services};
use crate::wire::{AuditRow, LoadError, UserRow, UsersView};

const PAGE: &str = "users";
/// Audit lines shown on the page (the whole log is in the warehouse's `auth_audit`).
const AUDIT_LINES: i64 = 200;

/// The admin asking and the services; anyone else is refused (403).
fn admin() -> Result<(Viewer, Services), LoadError> {
    Ok((crate::access::admin()?, expect_context::<Services>()))
}

/// An admin's change, in the audit log (a failure to write it is logged, not fatal: the
/// change is made).
async fn audit(services: &Services, v: &Viewer, action: &str, detail: &str) {
    let _ = crate::access::audit(services, v.name.as_deref(), action, detail).await;
}

pub async fn view() -> Result<UsersView, LoadError> {
    let (_, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let users = w.accounts().await.map_err(unavailable(PAGE))?;
    let audit = w.audit_log(AUDIT_LINES).await.map_err(unavailable(PAGE))?;
    Ok(UsersView {
        users: users
            .into_iter()
            .map(|a| UserRow {
                username: a.username,
                role: a.role,
                stores: a.stores,
                disabled: a.disabled,
                created: crate::format::utc(a.created_at, "%Y-%m-%d"),
            })
            .collect(),
        stores: services.store_infos(),
        audit: audit
            .into_iter()
            .map(|e| AuditRow {
                at: crate::format::utc(e.at, "%Y-%m-%d %H:%M:%S"),
                username: e.username,
                address: e.address,
                action: e.action,
                detail: e.detail,
            })
            .collect(),
    })
}

/// The form's code for a password the policy refuses, or its hash.
async fn hash(password: String) -> Result<Result<String, String>, LoadError> {
    match password::hash(password).await {
        Ok(h) => Ok(Ok(h)),
        Err(PasswordError::TooShort) => Ok(Err("short".into())),
        Err(e) => {
            tracing::error!(error = %e, "cannot hash a password");
            Err(LoadError::Unavailable)
        }
    }
}

/// Only the chain's stores, each once.
fn known_stores(services: &Services, stores: Vec<u32>) -> Vec<u32> {
    let reference = services.simulator.reference();
    let mut ids: Vec<u32> = stores
        .into_iter()
        .filter(|s| reference.store(*s).is_some())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn account_error(e: AccountError) -> Result<Option<String>, LoadError> {
    match e {
        AccountError::Taken(_) => Ok(Some("taken".into())),
        AccountError::Unknown(_) => Ok(Some("unknown".into())),
        AccountError::Warehouse(e) => Err(unavailable(PAGE)(e)),
    }
}

pub async fn add(
    username: String,
    role: String,
    stores: Vec<u32>,
    password: String,
) -> Result<Option<String>, LoadError> {
    let (v, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let username = username.trim().to_string();
    if username.is_empty() || username.len() > 64 || username.contains(char::is_whitespace) {
        return Ok(Some("username".into()));
    }
    let Some(role) = Role::from_code(&role) else {
        return Ok(Some("role".into()));
    };
    let phc = match hash(password).await? {
        Ok(h) => h,
        Err(code) => return Ok(Some(code)),
    };
    let stores = known_stores(&services, stores);
    let now = services.clock.now().timestamp();
    if let Err(e) = w
        .create_account(&username, Some(&phc), role, &stores, now)
        .await
    {
        return account_error(e);
    }
    let detail = format!("{username} ({})", role.code());
    audit(&services, &v, "user added", &detail).await;
    Ok(None)
}

pub async fn set(
    username: String,
    role: String,
    stores: Vec<u32>,
    disabled: bool,
) -> Result<Option<String>, LoadError> {
    let (v, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let Some(role) = Role::from_code(&role) else {
        return Ok(Some("role".into()));
    };
    // An admin cannot lock themselves out from here.
    if v.name
        .as_deref()
        .is_some_and(|n| n.eq_ignore_ascii_case(&username))
        && (disabled || role != Role::Admin)
    {
        return Ok(Some("self".into()));
    }
    let change = AccountChange {
        role: Some(role),
        stores: Some(known_stores(&services, stores)),
        disabled: Some(disabled),
        password_hash: None,
    };
    if let Err(e) = w.update_account(&username, &change).await {
        return account_error(e);
    }
    let detail = format!(
        "{username}: {}{}",
        role.code(),
        if disabled { ", disabled" } else { "" }
    );
    audit(&services, &v, "user changed", &detail).await;
    Ok(None)
}

pub async fn reset(username: String, password: String) -> Result<Option<String>, LoadError> {
    let (v, services) = admin()?;
    let w = services.warehouse_for(PAGE)?;
    let phc = match hash(password).await? {
        Ok(h) => h,
        Err(code) => return Ok(Some(code)),
    };
    let change = AccountChange {
        password_hash: Some(Some(phc)),
        ..AccountChange::default()
    };
    if let Err(e) = w.update_account(&username, &change).await {
        return account_error(e);
    }
    audit(&services, &v, "password reset", &username).await;
    Ok(None)
}
