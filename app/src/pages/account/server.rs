//! The account page's loader: the signed-in person's tokens, from the warehouse.

use pipeline::access::AccessMode;
use pipeline::secret;
use pipeline::warehouse::accounts::Account;

use crate::access::{audit, refuse, viewer};
use crate::services::{unavailable, Services};
use crate::wire::{LoadError, TokenInfo};

const PAGE: &str = "account";

/// The signed-in account (not a token: tokens do not manage tokens).
async fn account(services: &Services) -> Result<Account, LoadError> {
    let v = viewer()?;
    let (AccessMode::SignedIn, Some(name)) = (v.mode, v.name) else {
        return Err(refuse(LoadError::NotAllowed));
    };
    let w = services.warehouse_for(PAGE)?;
    w.account_named(&name)
        .await
        .map_err(unavailable(PAGE))?
        .ok_or_else(|| refuse(LoadError::SignIn))
}

fn day(ts: i64) -> String {
    crate::format::utc(ts, "%Y-%m-%d")
}

pub async fn list_tokens() -> Result<Vec<TokenInfo>, LoadError> {
    let services = leptos::prelude::expect_context::<Services>();
    let a = account(&services).await?;
    let w = services.warehouse_for(PAGE)?;
    let rows = w.tokens_of(a.id).await.map_err(unavailable(PAGE))?;
    let now = services.clock.now().timestamp();
    Ok(rows
        .into_iter()
        .map(|t| TokenInfo {
            id: t.id,
            label: t.name,
            created: day(t.created_at),
            expires: day(t.expires_at),
            revoked: t.revoked_at.is_some() || t.expires_at <= now,
            last_used: t.last_used.map(day),
        })
        .collect())
}

pub async fn create_token(label: String, days: u32) -> Result<String, LoadError> {
    let services = leptos::prelude::expect_context::<Services>();
    let a = account(&services).await?;
    let w = services.warehouse_for(PAGE)?;
    let label: String = label.trim().chars().take(60).collect();
    let label = if label.is_empty() {
        "tool".to_string()
    } else {
        label
    };
    let days = i64::from(days.clamp(1, 730));
    let token = secret::new_token().map_err(|e| {
        tracing::error!(error = %e, "no randomness for a token");
        LoadError::Unavailable
    })?;
    let digest = secret::digest(&token);
    let now = services.clock.now().timestamp();
    w.create_token(a.id, &label, &digest, now, now + days * 86_400)
        .await
        .map_err(unavailable(PAGE))?;
    audit(&services, Some(&a.username), "token created", &label).await?;
    Ok(token)
}

pub async fn revoke_token(id: i64) -> Result<(), LoadError> {
    let services = leptos::prelude::expect_context::<Services>();
    let a = account(&services).await?;
    let w = services.warehouse_for(PAGE)?;
    let now = services.clock.now().timestamp();
    if w.revoke_token(a.id, id, now)
        .await
        .map_err(unavailable(PAGE))?
    {
        audit(
            &services,
            Some(&a.username),
            "token revoked",
            &id.to_string(),
        )
        .await?;
    }
    Ok(())
}
