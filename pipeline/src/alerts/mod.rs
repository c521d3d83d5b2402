//! Alerts: what detection finds (a [`Finding`]), by which rule, how severe, and the key that
//! makes every replica and every re-run open it once; the alert as kept (its lifecycle),
//! silences, and where alerts are delivered. Plain data, compiled for the browser too: the
//! alerts page and the dashboard's markers show them. Sending (webhooks, email) is in
//! `delivery`, in the server build.

pub mod channel;
#[cfg(feature = "runtime")]
pub mod delivery;
pub mod finding;
pub mod lifecycle;
pub mod silence;

pub use finding::{Finding, Rule, Severity};
