//! Server side of the dashboard: the load. It reads the figures of the period and of the
//! comparison period from the warehouse (`pipeline::kpi`), then builds the KPI cards
//! ([`kpi_cards`]) and the charts' specs ([`chart_specs`]); [`period`] says which days a
//! filter covers.

mod alert_marks;
mod chart_specs;
mod expected_chart;
mod kpi_cards;
mod period;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use pipeline::calendar::OPENING_HOURS;
use pipeline::clock::HourSlot;
use pipeline::day_completeness::{DayRange, DayState, PeriodCompleteness};
use pipeline::filter as dashboard_filters;
use pipeline::filter::{DashboardQuery, ScopedError};
use pipeline::kpi::{Comparison, KpiFilter, Kpis};
use pipeline::Warehouse;

use crate::i18n::Lang;
use crate::services::{unavailable, Services};
use crate::wire::{AppliedFilter, DashboardData, DayGap, GapReason, LoadError, Preparing};
use chart_specs::charts_for;
use kpi_cards::{change_state, kpi_cards};

/// The page's name in the server's log.
const PAGE: &str = "dashboard";
/// Alerts read for the charts' markers at most (newest first); markers at one x position
/// share one line, so the charts stay light whatever their number.
const MARKERS_READ: i64 = 500;

/// The dashboard for the query. A filter the user can fix is an answer (`error`,
/// `error_field`); only a warehouse that cannot be read is an error.
pub async fn load(services: &Services, q: DashboardQuery) -> Result<DashboardData, LoadError> {
    let lang = Lang::from_code(Some(&q.lang));
    let viewer = crate::access::viewer()?;
    let reference = services.simulator.reference();
    let warehouse = services.warehouse_for(PAGE)?;
    // The store list, like every figure below, holds only the person's stores.
    let stores = services.store_infos_in(&viewer.scope);
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
        complete_from: None,
        complete_to: None,
        collected_from: None,
        gaps: Vec::new(),
        today: today.to_string(),
        default_from: default_from.to_string(),
        default_to: default_to.to_string(),
        error: None,
        error_field: None,
        preparing: None,
        can_load_days: viewer.is_admin() && services.pipeline.is_some(),
    };
    // Another store is refused before anything of it is read (its sensors included).
    if let Err(f) = viewer.scope.check(out.filter.store) {
        return Err(crate::access::refuse(LoadError::Forbidden {
            store_id: f.store_id,
        }));
    }
    if let Some(s) = out.filter.store {
        out.store_sensors = reference
            .sensors_of(s)
            .iter()
            .map(|x| x.sensor_id)
            .collect();
    }
    let filter = match dashboard_filters::resolve_scoped(&q, reference, now, &viewer.scope) {
        Ok(f) => f,
        Err(ScopedError::Invalid(e)) => {
            // The form keeps what the user asked for; the message points at the field.
            out.error = Some(e.message);
            out.error_field = Some(e.field.to_string());
            return Ok(out);
        }
        Err(ScopedError::Forbidden(f)) => {
            return Err(crate::access::refuse(LoadError::Forbidden {
                store_id: f.store_id,
            }))
        }
    };
    let cmp_mode = dashboard_filters::comparison(&q);
    let cmp = filter.compared(cmp_mode);
    let (current, previous) = warehouse
        .dashboard_with_comparison(&filter, cmp.as_ref())
        .await
        .map_err(unavailable(PAGE))?;
    out.filter = applied(&filter, cmp_mode, cmp.as_ref());
    let days = completeness(services, warehouse, &filter, now).await?;
    out.complete_from = days.complete_range.map(|r| r.0.to_string());
    out.complete_to = days.complete_range.map(|r| r.1.to_string());
    out.collected_from = days.collected_from.map(|d| d.to_string());
    out.gaps = days.period.gaps().into_iter().map(gap).collect();
    out.preparing = days.period.is_preparing().then(|| {
        let (days_done, days_total) = days.period.progress();
        Preparing {
            days_done,
            days_total,
        }
    });
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
    // One store: its visitors against the range its own recent weeks expect, beside the
    // visitors chart. An extra: if the baseline cannot be read, the dashboard goes without.
    if let Some(store) = filter.store_id {
        let params = pipeline::alerts::detect::params::DetectParams::default();
        match pipeline::alerts::detect::expected_band(
            warehouse,
            i64::from(store),
            filter.from,
            filter.to,
            &params,
        )
        .await
        {
            Ok(points) => {
                if let Some(chart) =
                    expected_chart::expected_chart(&filter, &current, &points, lang)
                {
                    let at = out.charts.len().min(1);
                    out.charts.insert(at, chart);
                }
            }
            Err(e) => tracing::warn!(page = PAGE, store, error = %e, "no expected band"),
        }
    }
    // The alerts of the period, within the viewer's stores: markers on the time charts.
    let alerts = warehouse
        .alerts(
            &pipeline::alerts::lifecycle::AlertQuery {
                store_id: filter.store_id.map(i64::from),
                limit: Some(MARKERS_READ),
                ..pipeline::alerts::lifecycle::AlertQuery::days(filter.from, filter.to)
            },
            &viewer.scope,
        )
        .await
        .map_err(unavailable(PAGE))?;
    let store_name = |id: i64| {
        u32::try_from(id)
            .ok()
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| id.to_string())
    };
    alert_marks::mark(&mut out.charts, &alerts, &filter, store_name, lang);
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

/// What the ledger says of the period's days, and of the data as a whole.
struct Completeness {
    period: PeriodCompleteness,
    /// First and last complete days.
    complete_range: Option<(NaiveDate, NaiveDate)>,
    /// The first day with data: the pipeline's first day, or an earlier backfilled one.
    collected_from: Option<NaiveDate>,
}

/// The period's days from the ledger: one aggregated query over the period, plus the
/// pipeline's first day and the complete range (index probes). Days a run in this process
/// covers count as being prepared even before the run reaches them.
async fn completeness(
    services: &Services,
    w: &Warehouse,
    f: &KpiFilter,
    now: DateTime<Utc>,
) -> Result<Completeness, LoadError> {
    let counts = w
        .ledger_day_counts(f.from, f.to)
        .await
        .map_err(unavailable(PAGE))?;
    let first_day = w.pipeline_first_day().await.map_err(unavailable(PAGE))?;
    let complete_range = w.ledger_complete_range().await.map_err(unavailable(PAGE))?;
    let activity = services.activity.clone();
    let running = move |d: NaiveDate| activity.as_ref().is_some_and(|a| a.covers(d));
    let period = PeriodCompleteness::compute(f.from, f.to, now, first_day, &counts, &running);
    let collected_from = match (first_day, complete_range) {
        (Some(a), Some((b, _))) => Some(a.min(b)),
        (a, r) => a.or(r.map(|r| r.0)),
    };
    Ok(Completeness {
        period,
        complete_range,
        collected_from,
    })
}

fn gap(r: DayRange) -> DayGap {
    DayGap {
        from: r.from.to_string(),
        to: r.to.to_string(),
        reason: match r.state {
            DayState::NotCollected => GapReason::NotCollected,
            DayState::NotYet => GapReason::NotYet,
            DayState::Preparing => GapReason::Preparing,
            DayState::Failed => GapReason::Failed,
            DayState::Missing | DayState::Complete => GapReason::Missing,
        },
    }
}

/// An admin's "load these days": starts a backfill of `from..=to` in the background (the
/// same run as `datamag360 backfill`), which the page then shows as being prepared.
/// `Ok(Some(code))` when the range cannot be run (`range`).
pub async fn start_load(
    services: &Services,
    from: String,
    to: String,
) -> Result<Option<String>, LoadError> {
    let v = crate::access::admin()?;
    let Some(pipeline) = services.pipeline.clone() else {
        return Err(LoadError::Unavailable);
    };
    let (Ok(from), Ok(to)) = (from.parse::<NaiveDate>(), to.parse::<NaiveDate>()) else {
        return Ok(Some("range".into()));
    };
    if pipeline::availability::check_range(from, to, services.clock.now()).is_err() {
        return Ok(Some("range".into()));
    }
    // Not fatal: the backfill is what was asked for (a failure to write is logged).
    let detail = format!("{from} → {to}");
    let _ = crate::access::audit(services, v.name.as_deref(), "backfill started", &detail).await;
    tracing::info!(%from, %to, "backfill started from the dashboard");
    leptos::task::spawn(async move {
        let options = pipeline::jobs::reconcile::RunOptions::default();
        match pipeline.backfill(from, to, options, &|_| {}).await {
            Ok(summary) => tracing::info!(
                %from, %to, failed = summary.total_failed(), "backfill from the dashboard ended"
            ),
            Err(e) => tracing::error!(%from, %to, error = %e, "backfill from the dashboard failed"),
        }
    });
    Ok(None)
}
