//! DataMag360 domain crate: reference data, the simulator, Paris time, the Parquet lake,
//! the SQL warehouse, the cleaning rules and the jobs with their ledger and scheduler.
//!
//! This crate knows nothing of web frameworks; the server and the Leptos app build on it.
//!
//! Without its default feature `runtime`, only the plain domain types remain (the
//! calendar, how dates and hours are written, the `/releves` contract, the dashboard
//! filter's URL grammar, the KPI formulas and figures, the message language, the jobs and run
//! statuses with their labels, the ledger's failure groups): they
//! compile to wasm32, so the pages use them in the browser as the server does.

pub mod access;
pub mod alerts;
pub mod calendar;
pub mod failures;
pub mod filter;
pub mod kpi;
pub mod lang;
pub mod releves;
pub mod runs;
pub mod spelling;

// The modules of the `runtime` feature, each with its own `cfg` attribute rather than
// inside a macro: rustfmt (`cargo fmt --check`) does not follow module declarations made
// by a macro, so it would skip these files.
#[cfg(feature = "runtime")]
pub mod availability;
#[cfg(feature = "runtime")]
pub mod clean_rows;
#[cfg(feature = "runtime")]
pub mod cleaning;
#[cfg(feature = "runtime")]
pub mod clock;
#[cfg(feature = "runtime")]
pub mod day_completeness;
#[cfg(feature = "runtime")]
pub mod jobs;
#[cfg(feature = "runtime")]
pub mod lake;
#[cfg(feature = "runtime")]
pub mod leadership;
#[cfg(feature = "runtime")]
pub mod ledger;
#[cfg(feature = "runtime")]
pub mod memory;
#[cfg(feature = "runtime")]
pub mod parquet_codec;
#[cfg(feature = "runtime")]
pub mod password;
#[cfg(feature = "runtime")]
pub mod records;
#[cfg(feature = "runtime")]
pub mod redact;
#[cfg(feature = "runtime")]
pub mod reference;
#[cfg(feature = "runtime")]
pub mod secret;
#[cfg(feature = "runtime")]
pub mod simulator;
#[cfg(feature = "runtime")]
pub mod source;
#[cfg(feature = "runtime")]
pub mod sso_claims;
#[cfg(feature = "runtime")]
pub mod warehouse;

#[cfg(feature = "runtime")]
pub use self::{
    clock::{Clock, FixedClock, HourSlot, SystemClock, PARIS},
    jobs::{Pipeline, PipelineConfig},
    lake::Lake,
    reference::{Reference, ReferenceError, Sensor, Store},
    simulator::shape::StoreHour,
    simulator::{Fault, Profile, SensorReading, Simulator},
    source::Source,
    warehouse::{Warehouse, WarehouseError},
};
