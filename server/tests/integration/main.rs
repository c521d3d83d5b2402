//! The server's integration suite, one test binary: the API contract, the HTTP collector
//! source, and the real binary as operators run it.

mod access;
mod api;
mod calendar;
mod common;
mod date_range;
mod delivery;
mod dropin;
mod honest;
mod http_source;
mod incidents_cli;
mod operations;
mod original_profile;
mod own_postgres;
mod process;
