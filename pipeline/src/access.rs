//! Who may see what: the roles, and the stores a person's figures are limited to. Plain
//! data, compiled for the browser too (the pages name the role and list the stores).
//!
//! The scope is enforced where figures are computed: [`crate::filter::resolve_scoped`]
//! intersects the filter a person asks for with their [`StoreScope`] before any query
//! runs, and every query of `warehouse::dashboard` honours the result.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Everything: every store, the pipeline's actions, users and the admin API.
    Admin,
    /// Every store's figures.
    Analyst,
    /// Only the stores listed on the account.
    Manager,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Analyst, Role::Manager];

    /// The name stored in the warehouse and used on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Manager => "manager",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The role as a page shows it.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::Admin => lang.pick("administrateur", "administrator"),
            Role::Analyst => lang.pick("analyste", "analyst"),
            Role::Manager => lang.pick("responsable de magasin", "store manager"),
        }
    }

    /// True when the role may act on alerts (acknowledge, silence) — for the stores of
    /// its scope: admins and store managers; analysts read them only.
    pub fn may_handle_alerts(self) -> bool {
        match self {
            Role::Admin | Role::Manager => true,
            Role::Analyst => false,
        }
    }

    /// True when the role's figures cover every store, whatever the account lists.
    pub fn sees_every_store(self) -> bool {
        match self {
            Role::Admin | Role::Analyst => true,
            Role::Manager => false,
        }
    }
}

/// The stores whose figures a person may see.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StoreScope {
    /// Every store of the chain.
    #[default]
    All,
    /// Only these stores (possibly none).
    Only(BTreeSet<u32>),
}

impl StoreScope {
    /// The scope of an account: every store for admins and analysts, the listed ones for
    /// managers.
    pub fn of(role: Role, stores: impl IntoIterator<Item = u32>) -> StoreScope {
        if role.sees_every_store() {
            StoreScope::All
        } else {
            StoreScope::Only(stores.into_iter().collect())
        }
    }

    pub fn allows(&self, store_id: u32) -> bool {
        match self {
            StoreScope::All => true,
            StoreScope::Only(set) => set.contains(&store_id),
        }
    }

    /// The stores it is limited to; `None` for every store.
    pub fn limited_to(&self) -> Option<&BTreeSet<u32>> {
        match self {
            StoreScope::All => None,
            StoreScope::Only(set) => Some(set),
        }
    }

    /// Asks for one store (`Some`) or all of the person's stores (`None`).
    pub fn check(&self, store_id: Option<u32>) -> Result<(), Forbidden> {
        match store_id {
            Some(id) if !self.allows(id) => Err(Forbidden { store_id: id }),
            _ => Ok(()),
        }
    }
}

/// A store outside the person's scope was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("store {store_id} is not one of your stores")]
pub struct Forbidden {
    pub store_id: u32,
}

impl Forbidden {
    /// The message a person reads (no figure of the store, only its number).
    pub fn message(&self, lang: Lang) -> String {
        format!(
            "{} {} {}",
            lang.pick("Accès refusé : le magasin", "Access denied: store"),
            self.store_id,
            lang.pick(
                "ne fait pas partie de vos magasins.",
                "is not one of your stores."
            )
        )
    }
}

/// How the person asking was let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    /// Signed in with a password or SSO (a session cookie).
    SignedIn,
    /// A personal token (a tool refreshing an export).
    Token,
    /// Local mode: the server listens on loopback only and has no account yet, so it is
    /// open to whoever reaches it on this machine ("not signed in, local mode").
    Local,
    /// Sign-in turned off by the operator (`DATAMAG_AUTH=off`).
    Off,
}

/// The person (or tool) a request comes from, once let in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The account's name; `None` in the open modes.
    pub name: Option<String>,
    pub role: Role,
    pub scope: StoreScope,
    pub mode: AccessMode,
}

impl Viewer {
    /// Whoever reaches a server that is open (local mode, or sign-in off): every store,
    /// every action.
    pub fn open(mode: AccessMode) -> Viewer {
        Viewer {
            name: None,
            role: Role::Admin,
            scope: StoreScope::All,
            mode,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// True for a signed-in person (who can sign out and change their password).
    pub fn has_account(&self) -> bool {
        matches!(self.mode, AccessMode::SignedIn | AccessMode::Token)
    }
}

/// What the server knows of a request's sender, put in the request's extensions by the
/// server's access layer for every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visitor {
    Known(Viewer),
    /// Not signed in, on a server that requires it.
    Anonymous,
    /// Not signed in, on a server that has no account yet and is not local: nothing is
    /// shown until the first admin is created with the one-time link from the log.
    SetupNeeded,
}

impl Visitor {
    pub fn viewer(&self) -> Option<&Viewer> {
        match self {
            Visitor::Known(v) => Some(v),
            Visitor::Anonymous | Visitor::SetupNeeded => None,
        }
    }
}

/// The client's address as the server's access gate read it (the socket's peer, or the
/// trusted proxy's `X-Forwarded-For`), in the request's extensions for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientAddress(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_scope() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code(" Manager "), Some(Role::Manager));
        assert_eq!(Role::from_code("root"), None);
        assert_eq!(StoreScope::of(Role::Analyst, [1, 2]), StoreScope::All);
        let m = StoreScope::of(Role::Manager, [3, 1]);
        assert!(m.allows(1) && m.allows(3) && !m.allows(2));
        assert_eq!(m.check(None), Ok(()));
        assert_eq!(m.check(Some(2)), Err(Forbidden { store_id: 2 }));
        assert_eq!(m.limited_to().map(|s| s.len()), Some(2));
        assert!(Forbidden { store_id: 7 }
            .message(Lang::En)
            .contains("store 7 is not"));
    }
}
