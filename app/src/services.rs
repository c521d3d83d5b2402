//! What the server hands to server functions (server side only).

use std::sync::Arc;

use pipeline::{Clock, Simulator};

/// Shared services, provided as Leptos context by the server for every request.
#[derive(Clone, Debug)]
pub struct Services {
    pub simulator: Arc<Simulator>,
    pub clock: Arc<dyn Clock>,
}
