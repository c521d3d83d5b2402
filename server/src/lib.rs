//! DataMag360 server: the `datamag360` binary's library. The CLI (`cli`, `commands`:
//! serve, backfill, import, status, healthcheck, with their exit codes in `exit`; `alerts`
//! in `alerts_cli`), the
//! configuration of the pipeline (`pipeline_setup`), and one axum application (`web`):
//! the REST API (`api`), the Leptos pages, the static site (`delivery`), the admin API
//! (`admin`), readiness (`ready`), metrics (`metrics`) and logs (`telemetry`). `serve`
//! also starts the job scheduler and shuts down gracefully.

pub mod admin;
pub mod alerts_cli;
pub mod api;
pub mod auth;
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
