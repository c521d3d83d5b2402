//! Alerts: what detection finds (a [`Finding`]), by which rule, how severe, and the key that
//! makes every replica and every re-run open it once; the alert as kept (its lifecycle),
//! silences, and where alerts are delivered. Plain data, compiled for the browser too: the
//! alerts page and the dashboard's markers show them. With the `runtime` feature, [`detect`]
//! finds them in the warehouse and `delivery` sends them (webhooks, email).

pub mod band;
pub mod channel;
#[cfg(feature = "runtime")]
pub mod delivery;
#[cfg(feature = "runtime")]
pub mod detect;
pub mod finding;
pub mod lifecycle;
pub mod silence;

pub use band::BandPoint;
pub use finding::{Finding, Rule, Severity};
