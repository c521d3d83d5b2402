//! DataMag360 domain crate: reference data, the store-traffic simulator and Paris time.
//!
//! This crate knows nothing of web frameworks; the server and the Leptos app build on it.

pub mod availability;
pub mod clock;
pub mod reference;
pub mod simulator;

pub use clock::{Clock, FixedClock, HourSlot, SystemClock, PARIS};
pub use reference::{Reference, ReferenceError, Sensor, Store};
pub use simulator::{Fault, SensorReading, Simulator, StoreHour};
