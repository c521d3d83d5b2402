//! What an identity provider's claims grant a person who signs in with single sign-on:
//! their [`Role`] and, for a store manager, their stores. The server checks the ID token
//! (signature, issuer, audience, nonce, expiry) with the `openidconnect` crate; this
//! module only reads the verified claims, so the rule lives in the domain beside the
//! roles and scopes it produces.
//!
//! - The role claim (`datamag_role` unless configured) holds a role code (`admin`,
//!   `analyst`, `manager`, any case), or a list of strings such as a provider's groups or
//!   app roles (Entra ID `roles`, Keycloak `realm_access.roles`: a dotted name reaches into
//!   nested objects). Among a list's role codes, the widest wins (admin, then analyst, then
//!   manager); other strings are ignored. No claim, or no role code in it, refuses.
//! - The stores claim (`datamag_stores`) matters for managers only: store ids or city
//!   names (`[1, "Lyon"]`, or one string `"Paris, Lyon"`). A manager with no store, or a
//!   value that names no store of the chain, is refused: never a guess, never a store
//!   silently dropped.

use serde_json::{Map, Value};

use crate::access::{Role, StoreScope};
use crate::reference::Reference;

/// The claim names to read (`DATAMAG_OIDC_ROLE_CLAIM`, `DATAMAG_OIDC_STORES_CLAIM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub role: String,
    pub stores: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            role: "datamag_role".into(),
            stores: "datamag_stores".into(),
        }
    }
}

/// What the claims grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// A manager's stores, sorted (empty for the other roles).
    pub stores: Vec<u32>,
}

impl Grant {
    pub fn scope(&self) -> StoreScope {
        StoreScope::of(self.role, self.stores.iter().copied())
    }
}

/// Why the claims grant nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the ID token has no {claim:?} claim (the DataMag360 role)")]
    MissingRole { claim: String },
    #[error("the {claim:?} claim holds no DataMag360 role (admin, analyst or manager): {value}")]
    UnknownRole { claim: String, value: String },
    #[error("a store manager needs stores in the {claim:?} claim, and it holds none")]
    NoStores { claim: String },
    #[error("the {claim:?} claim names a store the chain does not have: {value}")]
    UnknownStore { claim: String, value: String },
}

impl ClaimError {
    /// The code the sign-in page words (`/login?error=…`).
    pub fn code(&self) -> &'static str {
        match self {
            ClaimError::MissingRole { .. } | ClaimError::UnknownRole { .. } => "sso_role",
            ClaimError::NoStores { .. } => "sso_no_stores",
            ClaimError::UnknownStore { .. } => "sso_unknown_store",
        }
    }

    /// The claim at fault (configuration, not a secret: the page names it).
    pub fn claim(&self) -> &str {
        match self {
            ClaimError::MissingRole { claim }
            | ClaimError::UnknownRole { claim, .. }
            | ClaimError::NoStores { claim }
            | ClaimError::UnknownStore { claim, .. } => claim,
        }
    }
}

/// The claim `name`, following dots into nested objects (`realm_access.roles`). A claim
/// whose whole name has a dot is found first.
fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

fn role_of(claims: &Map<String, Value>, name: &str) -> Result<Role, ClaimError> {
    let value = match claim(claims, name) {
        None | Some(Value::Null) => {
            return Err(ClaimError::MissingRole { claim: name.into() });
        }
        Some(v) => v,
    };
    let unknown = || ClaimError::UnknownRole {
        claim: name.into(),
        value: value.to_string(),
    };
    match value {
        Value::String(s) => Role::from_code(s).ok_or_else(unknown),
        Value::Array(items) => {
            let roles: Vec<Role> = items
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Role::from_code)
                .collect();
            // Role::ALL lists the widest first.
            Role::ALL
                .into_iter()
                .find(|r| roles.contains(r))
                .ok_or_else(unknown)
        }
        _ => Err(unknown()),
    }
}

fn stores_of(
    claims: &Map<String, Value>,
    name: &str,
    reference: &Reference,
) -> Result<Vec<u32>, ClaimError> {
    let unknown = |v: String| ClaimError::UnknownStore {
        claim: name.into(),
        value: v,
    };
    let one = |text: &str| -> Result<Option<u32>, ClaimError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let store = match text.parse::<u32>() {
            Ok(id) => reference.store(id),
            Err(_) => reference.store_by_city(text),
        };
        store
            .map(|s| Some(s.store_id))
            .ok_or_else(|| unknown(text.to_string()))
    };
    let mut stores = Vec::new();
    let mut push = |v: &Value| -> Result<(), ClaimError> {
        let found = match v {
            Value::Number(n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(id) if reference.store(id).is_some() => Some(id),
                _ => return Err(unknown(n.to_string())),
            },
            Value::String(s) => {
                for part in s.split(',') {
                    if let Some(id) = one(part)? {
                        stores.push(id);
                    }
                }
                None
            }
            other => return Err(unknown(other.to_string())),
        };
        stores.extend(found);
        Ok(())
    };
    match claim(claims, name) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                push(item)?;
            }
        }
        Some(v) => push(v)?,
    }
    stores.sort_unstable();
    stores.dedup();
    if stores.is_empty() {
        return Err(ClaimError::NoStores { claim: name.into() });
    }
    Ok(stores)
}

/// What `claims` (an ID token's, verified) grant on `reference`'s chain.
pub fn grant(
    claims: &Map<String, Value>,
    names: &ClaimNames,
    reference: &Reference,
) -> Result<Grant, ClaimError> {
    let role = role_of(claims, &names.role)?;
    let stores = if role.sees_every_store() {
        Vec::new()
    } else {
        stores_of(claims, &names.stores, reference)?
    };
    Ok(Grant { role, stores })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn grant_of(v: Value) -> Result<Grant, ClaimError> {
        grant(&claims(v), &ClaimNames::default(), &Reference::embedded())
    }

    #[test]
    fn a_role_code_grants_its_role() {
        let g = grant_of(json!({"datamag_role": "admin"})).expect("admin");
        assert_eq!((g.role, g.scope()), (Role::Admin, StoreScope::All));
        let g =
            grant_of(json!({"datamag_role": " Analyst ", "datamag_stores": [1]})).expect("analyst");
        assert_eq!(
            g,
            Grant {
                role: Role::Analyst,
                stores: vec![]
            }
        );
    }

    #[test]
    fn a_manager_gets_the_named_stores_by_id_or_city() {
        let g = grant_of(json!({"datamag_role": "manager", "datamag_stores": ["Paris", 2]}))
            .expect("manager");
        assert_eq!(g.role, Role::Manager);
        assert_eq!(g.stores, vec![1, 2]);
        assert_eq!(g.scope(), StoreScope::Only([1, 2].into_iter().collect()));
        let g = grant_of(json!({"datamag_role": "manager", "datamag_stores": "lyon, PARIS,1"}))
            .expect("one string");
        assert_eq!(g.stores, vec![1, 2]);
        let g =
            grant_of(json!({"datamag_role": "manager", "datamag_stores": "3"})).expect("one id");
        assert_eq!(g.stores, vec![3]);
    }

    #[test]
    fn a_list_of_groups_grants_the_widest_role_code_in_it() {
        let g = grant_of(json!({"datamag_role": ["staff", "manager", "analyst"]})).expect("groups");
        assert_eq!(g.role, Role::Analyst);
        let names = ClaimNames {
            role: "realm_access.roles".into(),
            stores: "stores".into(),
        };
        let c = claims(json!({"realm_access": {"roles": ["offline", "Manager"]}, "stores": [5]}));
        let g = grant(&c, &names, &Reference::embedded()).expect("nested");
        assert_eq!((g.role, g.stores), (Role::Manager, vec![5]));
    }

    #[test]
    fn a_missing_or_unknown_role_is_refused() {
        assert_eq!(
            grant_of(json!({"email": "a@b"})),
            Err(ClaimError::MissingRole {
                claim: "datamag_role".into()
            })
        );
        assert_eq!(
            grant_of(json!({"datamag_role": null})).map_err(|e| e.code()),
            Err("sso_role")
        );
        let e = grant_of(json!({"datamag_role": "root"})).expect_err("unknown");
        assert_eq!(e.code(), "sso_role");
        assert!(e.to_string().contains("root"), "{e}");
        assert!(matches!(
            grant_of(json!({"datamag_role": ["staff"]})),
            Err(ClaimError::UnknownRole { .. })
        ));
        assert!(matches!(
            grant_of(json!({"datamag_role": 1})),
            Err(ClaimError::UnknownRole { .. })
        ));
    }

    #[test]
    fn a_manager_without_stores_or_with_an_unknown_store_is_refused() {
        for v in [
            json!({"datamag_role": "manager"}),
            json!({"datamag_role": "manager", "datamag_stores": []}),
            json!({"datamag_role": "manager", "datamag_stores": " , "}),
        ] {
            let e = grant_of(v).expect_err("no stores");
            assert_eq!((e.code(), e.claim()), ("sso_no_stores", "datamag_stores"));
        }
        for (v, shown) in [
            (
                json!({"datamag_role": "manager", "datamag_stores": ["Paris", "Atlantis"]}),
                "Atlantis",
            ),
            (
                json!({"datamag_role": "manager", "datamag_stores": [99]}),
                "99",
            ),
            (
                json!({"datamag_role": "manager", "datamag_stores": "1,42"}),
                "42",
            ),
            (
                json!({"datamag_role": "manager", "datamag_stores": [-1]}),
                "-1",
            ),
        ] {
            assert_eq!(
                grant_of(v),
                Err(ClaimError::UnknownStore {
                    claim: "datamag_stores".into(),
                    value: shown.into()
                })
            );
        }
    }
}
