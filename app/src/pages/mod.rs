//! The pages, one folder each, all of the same shape: the page's components (`mod.rs` and
//! its parts), its server functions (`server_fns.rs`) and, compiled into the server only,
//! the loader behind them (`server.rs`). What the server functions answer is
//! `crate::wire`.

pub mod account;
pub mod alerts;
pub mod dashboard;
pub mod home;
pub mod login;
pub mod pipeline;
pub mod users;
