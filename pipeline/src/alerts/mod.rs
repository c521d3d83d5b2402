//! Alerts: what detection finds (a [`Finding`]), by which rule, how severe, and the key that
//! makes every replica and every re-run open it once. Plain data, compiled for the browser
//! too: the alerts page and the dashboard's markers show them. With the `runtime` feature,
//! [`detect`] finds them in the warehouse.

pub mod band;
#[cfg(feature = "runtime")]
pub mod detect;
pub mod finding;

pub use band::BandPoint;
pub use finding::{Finding, Rule, Severity};
