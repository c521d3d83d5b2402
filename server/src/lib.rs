//! DataMag360 server: the REST API, the Leptos dashboard and (later) the job scheduler,
//! assembled into one axum application.

pub mod admin;
pub mod api;
pub mod cli;
pub mod commands;
pub mod delivery;
pub mod exit;
pub mod metrics;
pub mod pipeline_setup;
pub mod ready;
pub mod telemetry;
pub mod web;

pub use web::{build_router, AppState};
