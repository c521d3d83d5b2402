//! The pipeline page's server function.

use leptos::prelude::*;

use crate::wire::{LoadError, PipelineView};

/// The pipeline page's data.
#[server(endpoint = "pipeline_view")]
pub async fn get_pipeline_view() -> Result<PipelineView, LoadError> {
    let services = expect_context::<crate::services::Services>();
    super::server::load_view(&services).await
}
