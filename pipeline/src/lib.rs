//! DataMag360 domain crate: reference data, the simulator, Paris time, the Parquet lake,
//! the SQL warehouse, the cleaning rules and the jobs with their ledger and scheduler.
//!
//! This crate knows nothing of web frameworks; the server and the Leptos app build on it.
//!
//! Without its default feature `runtime`, only the plain domain types remain (the
//! calendar, the dashboard filter's URL grammar, the KPI formulas and figures, the
//! message language): they compile to wasm32, so the dashboard page uses them in the
//! browser as the server does.

pub mod calendar;
pub mod filter;
pub mod kpi;
pub mod lang;

#[cfg(feature = "runtime")]
pub mod availability;
#[cfg(feature = "runtime")]
pub mod cleaning;
#[cfg(feature = "runtime")]
pub mod clock;
#[cfg(feature = "runtime")]
pub mod jobs;
#[cfg(feature = "runtime")]
pub mod lake;
#[cfg(feature = "runtime")]
pub mod leadership;
#[cfg(feature = "runtime")]
pub mod original;
#[cfg(feature = "runtime")]
pub mod parquet_codec;
#[cfg(feature = "runtime")]
pub mod records;
#[cfg(feature = "runtime")]
pub mod reference;
#[cfg(feature = "runtime")]
pub mod simulator;
#[cfg(feature = "runtime")]
pub mod source;
#[cfg(feature = "runtime")]
pub mod warehouse;

#[cfg(feature = "runtime")]
pub use clock::{Clock, FixedClock, HourSlot, SystemClock, PARIS};
#[cfg(feature = "runtime")]
pub use jobs::{Pipeline, PipelineConfig};
#[cfg(feature = "runtime")]
pub use lake::Lake;
#[cfg(feature = "runtime")]
pub use reference::{Reference, ReferenceError, Sensor, Store};
#[cfg(feature = "runtime")]
pub use simulator::{Fault, Profile, SensorReading, Simulator, StoreHour};
#[cfg(feature = "runtime")]
pub use source::Source;
#[cfg(feature = "runtime")]
pub use warehouse::Warehouse;
