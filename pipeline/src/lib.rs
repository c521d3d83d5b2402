//! DataMag360 domain crate: reference data, the simulator, Paris time, the Parquet lake,
//! the SQL warehouse, the cleaning rules and the jobs with their ledger and scheduler.
//!
//! This crate knows nothing of web frameworks; the server and the Leptos app build on it.
//!
//! Without its default feature `runtime`, only the plain domain types remain (the
//! calendar, how dates and hours are written, the `/releves` contract, the dashboard
//! filter's URL grammar, the KPI formulas and figures, the message language): they
//! compile to wasm32, so the pages use them in the browser as the server does.

pub mod calendar;
pub mod filter;
pub mod kpi;
pub mod lang;
pub mod releves;
pub mod spelling;

/// Items compiled with the `runtime` feature only.
macro_rules! runtime {
    ($($item:item)*) => { $( #[cfg(feature = "runtime")] $item )* };
}

runtime! {
    pub mod availability;
    pub mod clean_rows;
    pub mod cleaning;
    pub mod clock;
    pub mod jobs;
    pub mod lake;
    pub mod ledger;
    pub mod leadership;
    pub mod original;
    pub mod parquet_codec;
    pub mod records;
    pub mod redact;
    pub mod reference;
    pub mod simulator;
    pub mod source;
    pub mod warehouse;
    pub use clock::{Clock, FixedClock, HourSlot, SystemClock, PARIS};
    pub use jobs::{Pipeline, PipelineConfig};
    pub use lake::Lake;
    pub use reference::{Reference, ReferenceError, Sensor, Store};
    pub use simulator::{Fault, Profile, SensorReading, Simulator, StoreHour};
    pub use source::Source;
    pub use warehouse::{Warehouse, WarehouseError};
}
