//! The pages, one folder each, all of the same shape: the page's components (`mod.rs` and
//! its parts), its server functions (`server_fns.rs`), what they answer (`wire.rs`) and,
//! server side only, the loader behind them (`server.rs`).

pub mod dashboard;
pub mod home;
pub mod pipeline;
