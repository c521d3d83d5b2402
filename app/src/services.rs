//! What the server hands to server functions (server side only).

use std::sync::Arc;

use pipeline::access::StoreScope;
use pipeline::jobs::activity::RunActivity;
use pipeline::{Clock, Pipeline, Simulator, Warehouse, WarehouseError};

use crate::wire::{LoadError, StoreInfo};

/// Shared services, provided as Leptos context by the server for every request.
#[derive(Clone, Debug)]
pub struct Services {
    pub simulator: Arc<Simulator>,
    pub clock: Arc<dyn Clock>,
    /// The warehouse the dashboard reads (absent in API-only tests).
    pub warehouse: Option<Warehouse>,
    /// The runs in progress in this process, when it runs the jobs.
    pub activity: Option<RunActivity>,
    /// The pipeline itself, for an admin's "load these days" (absent in API-only tests).
    pub pipeline: Option<Pipeline>,
    /// Single sign-on is configured: the sign-in page offers it.
    pub sso: bool,
}

impl Services {
    pub fn new(simulator: Arc<Simulator>, clock: Arc<dyn Clock>) -> Self {
        Self {
            simulator,
            clock,
            warehouse: None,
            activity: None,
            pipeline: None,
            sso: false,
        }
    }

    /// Whether the sign-in page offers single sign-on.
    pub fn with_sso(mut self, sso: bool) -> Self {
        self.sso = sso;
        self
    }

    /// The pipeline, for the actions an admin starts from a page.
    pub fn with_pipeline(mut self, pipeline: Pipeline) -> Self {
        self.pipeline = Some(pipeline);
        self
    }

    /// The runs of the pipeline in this process (the dashboard says which days they prepare).
    pub fn with_activity(mut self, activity: RunActivity) -> Self {
        self.activity = Some(activity);
        self
    }

    pub fn with_warehouse(mut self, warehouse: Warehouse) -> Self {
        self.warehouse = Some(warehouse);
        self
    }

    /// The warehouse `page` reads; without one, [`LoadError::Unavailable`] (logged).
    pub fn warehouse_for(&self, page: &'static str) -> Result<&Warehouse, LoadError> {
        self.warehouse.as_ref().ok_or_else(|| {
            tracing::error!(page, "no warehouse: the page's figures are unavailable");
            LoadError::Unavailable
        })
    }

    /// The chain's stores as the pages list them.
    pub fn store_infos(&self) -> Vec<StoreInfo> {
        self.store_infos_in(&StoreScope::All)
    }

    /// The stores of `scope` as the pages list them.
    pub fn store_infos_in(&self, scope: &StoreScope) -> Vec<StoreInfo> {
        let reference = self.simulator.reference();
        reference
            .stores()
            .iter()
            .filter(|s| scope.allows(s.store_id))
            .map(|s| StoreInfo {
                store_id: s.store_id,
                city_store: s.city_store.clone(),
                sensors: reference.sensors_of(s.store_id).len() as u32,
            })
            .collect()
    }
}

/// A UTC instant as Paris local time, with a chrono `pattern` (`%Y-%m-%d %H:%M`).
pub fn paris_time(t: chrono::DateTime<chrono::Utc>, pattern: &str) -> String {
    t.with_timezone(&pipeline::PARIS)
        .format(pattern)
        .to_string()
}

/// A Paris local time as UTC: the first reading of a repeated autumn hour, the next hour
/// for one skipped in spring.
pub fn paris_local_to_utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let paris = pipeline::PARIS;
    paris
        .from_local_datetime(&t)
        .earliest()
        .or_else(|| {
            paris
                .from_local_datetime(&(t + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| chrono::Utc.from_utc_datetime(&t))
}

/// The midnight that starts day `d` in Paris, as UTC.
pub fn paris_day_start(d: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    paris_local_to_utc(d.and_time(chrono::NaiveTime::MIN))
}

/// For `map_err` on a warehouse query of `page`: logs the error (its text stays on the
/// server) and answers [`LoadError::Unavailable`].
pub fn unavailable(page: &'static str) -> impl Fn(WarehouseError) -> LoadError + Copy {
    move |e| {
        tracing::error!(page, error = %e, "warehouse query failed");
        LoadError::Unavailable
    }
}
