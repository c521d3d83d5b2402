//! Server side of the dashboard: the load. It reads the figures of the period and of the
//! comparison period from the warehouse (`pipeline::kpi`), then builds the KPI cards
//! ([`kpi_cards`]) and the charts' specs ([`chart_specs`]); [`period`] says which days a
//! filter covers.

mod chart_specs;
mod kpi_cards;
mod period;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use pipeline::calendar::OPENING_HOURS;
use pipeline::clock::HourSlot;
use pipeline::filter as dashboard_filters;
use pipeline::filter::DashboardQuery;
use pipeline::kpi::{Comparison, KpiFilter, Kpis};
use pipeline::ledger::{Job, RunStatus};

use crate::i18n::Lang;
use crate::services::{unavailable, Services};
use crate::wire::{AppliedFilter, DashboardData, LoadError, Preparing};
use chart_specs::charts_for;
use kpi_cards::{change_state, kpi_cards};
use period::covered;

/// The page's name in the server's log.
const PAGE: &str = "dashboard";

/// The dashboard for the query. A filter the user can fix is an answer (`error`,
/// `error_field`); only a warehouse that cannot be read is an error.
pub async fn load(services: &Services, q: DashboardQuery) -> Result<DashboardData, LoadError> {
    let lang = Lang::from_code(Some(&q.lang));
    let reference = services.simulator.reference();
    let warehouse = services.warehouse_for(PAGE)?;
    let stores = services.store_infos();
    let range = warehouse
        .analytics_range()
        .await
        .map_err(unavailable(PAGE))?;
    let now = services.clock.now();
    let today = HourSlot::containing(now).date;
    let (default_from, default_to) = dashboard_filters::last_complete_week(now);
    let mut out = DashboardData {
        filter: AppliedFilter {
            store: q.store.filter(|s| *s != 0),
            sensors: q.sensors.clone(),
            from: q.from.clone().unwrap_or_else(|| default_from.to_string()),
            to: q.to.clone().unwrap_or_else(|| default_to.to_string()),
            h0: q.h0.unwrap_or(*OPENING_HOURS.start()),
            h1: q.h1.unwrap_or(*OPENING_HOURS.end()),
            compare: dashboard_filters::comparison(&q).code().to_string(),
            previous_from: None,
            previous_to: None,
        },
        stores,
        store_sensors: Vec::new(),
        kpis: Vec::new(),
        charts: Vec::new(),
        data_from: range.map(|r| r.0.to_string()),
        data_to: range.map(|r| r.1.to_string()),
        today: today.to_string(),
        default_from: default_from.to_string(),
        default_to: default_to.to_string(),
        error: None,
        error_field: None,
        preparing: None,
    };
    if let Some(s) = out.filter.store {
        out.store_sensors = reference
            .sensors_of(s)
            .iter()
            .map(|x| x.sensor_id)
            .collect();
    }
    let filter = match dashboard_filters::resolve_detailed(&q, reference, now) {
        Ok(f) => f,
        Err(e) => {
            // The form keeps what the user asked for; the message points at the field.
            out.error = Some(e.message);
            out.error_field = Some(e.field.to_string());
            return Ok(out);
        }
    };
    let cmp_mode = dashboard_filters::comparison(&q);
    let cmp = filter.compared(cmp_mode);
    let (current, previous) = warehouse
        .dashboard_with_comparison(&filter, cmp.as_ref())
        .await
        .map_err(unavailable(PAGE))?;
    out.filter = applied(&filter, cmp_mode, cmp.as_ref());
    out.preparing = preparing(services, &filter, range, today).await;
    out.kpis = kpi_cards(
        &Kpis::from_totals(&current.totals),
        previous.as_ref().map(|p| Kpis::from_totals(&p.totals)),
        change_state(&filter, cmp.as_ref(), range),
        lang,
    );
    let names: BTreeMap<u32, String> = reference
        .stores()
        .iter()
        .map(|s| (s.store_id, s.city_store.clone()))
        .collect();
    out.charts = charts_for(
        &filter,
        cmp.as_ref(),
        &current,
        previous.as_ref(),
        &names,
        lang,
    );
    Ok(out)
}

fn applied(f: &KpiFilter, mode: Comparison, cmp: Option<&KpiFilter>) -> AppliedFilter {
    AppliedFilter {
        store: f.store_id,
        sensors: f.sensor_ids.clone(),
        from: f.from.to_string(),
        to: f.to.to_string(),
        h0: f.hour_from,
        h1: f.hour_to,
        compare: mode.code().to_string(),
        previous_from: cmp.map(|c| c.from.to_string()),
        previous_to: cmp.map(|c| c.to.to_string()),
    }
}

/// The first backfill's progress over the period, while it still lacks figures.
async fn preparing(
    services: &Services,
    f: &KpiFilter,
    range: Option<(NaiveDate, NaiveDate)>,
    today: NaiveDate,
) -> Option<Preparing> {
    if covered(f, range) {
        return None;
    }
    let last_due = today - Duration::days(1);
    let to = f.to.min(last_due);
    if f.from > to {
        return None;
    }
    let w = services.warehouse.as_ref()?;
    let states = w
        .ledger_states(Job::Transform, &f.from.to_string(), &to.to_string())
        .await
        .ok()?;
    // Only days the pipeline has planned count: it has a ledger row for them, or it has
    // started (ledger rows exist) and written no analytics yet.
    if states.is_empty() {
        let started = range.is_none()
            && w.ledger_summary()
                .await
                .map(|s| !s.is_empty())
                .unwrap_or(false);
        if !started {
            return None;
        }
    }
    let total = (to - f.from).num_days() + 1;
    let done = states
        .values()
        .filter(|s| s.status == RunStatus::Done)
        .count() as i64;
    (done < total).then_some(Preparing {
        days_done: done as u32,
        days_total: total as u32,
    })
}
