//! The server's integration suite, one test binary: the API contract, the HTTP collector
//! source, and the real binary as operators run it.

mod api;
mod date_range;
mod http_source;
mod operations;
mod process;
