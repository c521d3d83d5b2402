//! Builds the pipeline (chain, lake, warehouse) from the command line and environment.

use std::sync::Arc;

use anyhow::Context;
use pipeline::alerts::delivery::{Deliverer, DeliveryConfig};
use pipeline::{Clock, Lake, Pipeline, PipelineConfig, Simulator, Warehouse};

use crate::cli::PipelineArgs;

/// Opens the warehouse (applying migrations) and the lake.
pub async fn build(args: &PipelineArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Pipeline> {
    let reference = args
        .chain
        .load()
        .context("cannot load the stores and sensors")?;
    tracing::info!(
        stores = reference.stores().len(),
        sensors = reference.sensor_count(),
        "chain loaded"
    );
    let simulator = Arc::new(
        Simulator::with_profile(Arc::new(reference), args.simulator).with_incidents(args.incidents),
    );
    tracing::info!(profile = %args.simulator, incidents = simulator.has_incidents(), "simulator ready");
    let warehouse = match &args.database_url {
        Some(url) => Warehouse::connect(url).await,
        None => Warehouse::open_in_dir(&args.data_dir).await,
    }
    .with_context(|| format!("cannot open {}", warehouse_name(args)))?;
    let lake = match &args.lake_url {
        Some(url) => Lake::from_url(url)?,
        None => Lake::local(&args.data_dir.join("lake"))?,
    };
    tracing::info!(
        warehouse = ?warehouse.backend(),
        lake = lake.description(),
        "pipeline storage ready"
    );
    let mut pipeline = Pipeline::new(simulator, lake, warehouse, clock, PipelineConfig::default())
        .with_delivery(deliverer(args)?);
    if let Some(url) = &args.source_url {
        pipeline =
            pipeline.with_source(pipeline::Source::http(url).context("invalid --source-url")?);
        tracing::info!(source = %pipeline.source.describe(), "collecting over HTTP");
    }
    Ok(pipeline)
}

/// The alerts' deliverer with the SMTP settings of the command line and environment.
pub fn deliverer(args: &PipelineArgs) -> anyhow::Result<Deliverer> {
    let smtp = args.smtp.config()?;
    Deliverer::new(DeliveryConfig {
        smtp,
        ..DeliveryConfig::default()
    })
    .context("cannot build the HTTP client for alert deliveries")
}

/// Opens the warehouse to read it only (`status`): no migration, nothing created, no write
/// access needed to the data directory.
pub async fn open_read_only(args: &PipelineArgs) -> anyhow::Result<Warehouse> {
    match &args.database_url {
        Some(url) => Warehouse::open_read_only(url).await,
        None => Warehouse::open_in_dir_read_only(&args.data_dir).await,
    }
    .with_context(|| format!("cannot open {}", warehouse_name(args)))
}

/// The warehouse as errors name it: its URL without credentials, or the data directory
/// that holds the SQLite files.
fn warehouse_name(args: &PipelineArgs) -> String {
    match &args.database_url {
        Some(url) => format!("the warehouse {}", pipeline::redact::text(url)),
        None => format!("the SQLite warehouse in {}", args.data_dir.display()),
    }
}
