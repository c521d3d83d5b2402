//! Server side of the dashboard: figures from the warehouse (pipeline::kpi), KPI cards
//! with their change, and the plotters charts.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use pipeline::kpi::{DashboardFigures, KpiFilter, Kpis};

use crate::charts;
use crate::dashboard_filters;
use crate::format;
use crate::i18n::Lang;
use crate::services::Services;
use crate::wire::{AppliedFilter, ChartSvg, DashboardData, DashboardQuery, KpiCard};

pub async fn load(services: &Services, q: DashboardQuery) -> Result<DashboardData, String> {
    let lang = Lang::from_code(Some(&q.lang));
    let reference = services.simulator.reference();
    let warehouse = services.warehouse.as_ref().ok_or_else(|| {
        lang.pick(
            "Entrepôt de données indisponible.",
            "Data warehouse unavailable.",
        )
        .to_string()
    })?;
    let stores = services.store_infos();
    let range = warehouse
        .analytics_range()
        .await
        .map_err(|e| e.to_string())?;
    let (data_from, data_to) = match range {
        Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
        None => (None, None),
    };
    let now = services.clock.now();
    let filter = match dashboard_filters::resolve(&q, reference, now) {
        Ok(f) => f,
        Err(message) => {
            // Show the form with the defaults and the message.
            let f = dashboard_filters::resolve(
                &DashboardQuery {
                    lang: q.lang.clone(),
                    ..Default::default()
                },
                reference,
                now,
            )
            .map_err(|e| e.to_string())?;
            return Ok(DashboardData {
                filter: applied(&f),
                stores,
                store_sensors: Vec::new(),
                kpis: Vec::new(),
                charts: Vec::new(),
                data_from,
                data_to,
                error: Some(message),
            });
        }
    };
    let (current, previous) = warehouse
        .dashboard_with_previous(&filter)
        .await
        .map_err(|e| e.to_string())?;
    let store_sensors = filter
        .store_id
        .map(|s| {
            reference
                .sensors_of(s)
                .iter()
                .map(|x| x.sensor_id)
                .collect()
        })
        .unwrap_or_default();
    let names: BTreeMap<u32, String> = reference
        .stores()
        .iter()
        .map(|s| (s.store_id, s.city_store.clone()))
        .collect();
    Ok(DashboardData {
        filter: applied(&filter),
        stores,
        store_sensors,
        kpis: kpi_cards(
            &Kpis::from_totals(&current.totals),
            &Kpis::from_totals(&previous),
            lang,
        ),
        charts: charts_for(&filter, &current, &names, lang),
        data_from,
        data_to,
        error: None,
    })
}

fn applied(f: &KpiFilter) -> AppliedFilter {
    let p = f.previous();
    AppliedFilter {
        store: f.store_id,
        sensors: f.sensor_ids.clone(),
        from: f.from.to_string(),
        to: f.to.to_string(),
        h0: f.hour_from,
        h1: f.hour_to,
        previous_from: p.from.to_string(),
        previous_to: p.to.to_string(),
    }
}

fn kpi_cards(cur: &Kpis, prev: &Kpis, lang: Lang) -> Vec<KpiCard> {
    let card =
        |id: &str, label: &str, value: Option<f64>, previous: Option<f64>, display: String| {
            let change = match (value, previous) {
                (Some(v), Some(p)) if p != 0.0 => Some((v - p) / p),
                _ => None,
            };
            KpiCard {
                id: id.to_string(),
                label: label.to_string(),
                value,
                display,
                previous,
                change,
                change_display: change
                    .map(|c| format::change(c, lang))
                    .unwrap_or_else(|| "—".into()),
            }
        };
    let dash = || "—".to_string();
    vec![
        card(
            "visitors",
            lang.pick("Visiteurs", "Visitors"),
            Some(cur.visitors as f64),
            Some(prev.visitors as f64),
            format::int(cur.visitors, lang),
        ),
        card(
            "active_sensors",
            lang.pick("Capteurs actifs", "Active sensors"),
            Some(cur.active_sensors as f64),
            Some(prev.active_sensors as f64),
            format::int(cur.active_sensors, lang),
        ),
        card(
            "transactions",
            lang.pick("Transactions", "Transactions"),
            Some(cur.transactions as f64),
            Some(prev.transactions as f64),
            format::int(cur.transactions, lang),
        ),
        card(
            "revenue",
            lang.pick("Chiffre d'affaires", "Revenue"),
            Some(cur.revenue),
            Some(prev.revenue),
            format::euros(cur.revenue, lang),
        ),
        card(
            "conversion",
            lang.pick("Taux de conversion", "Conversion rate"),
            cur.conversion,
            prev.conversion,
            cur.conversion
                .map(|c| format::percent(c, lang))
                .unwrap_or_else(dash),
        ),
        card(
            "average_ticket",
            lang.pick("Panier moyen", "Average ticket"),
            cur.average_ticket,
            prev.average_ticket,
            cur.average_ticket
                .map(|v| format::euros(v, lang))
                .unwrap_or_else(dash),
        ),
        card(
            "revenue_per_visitor",
            lang.pick("CA par visiteur", "Revenue per visitor"),
            cur.revenue_per_visitor,
            prev.revenue_per_visitor,
            cur.revenue_per_visitor
                .map(|v| format::euros(v, lang))
                .unwrap_or_else(dash),
        ),
    ]
}

fn charts_for(
    f: &KpiFilter,
    fig: &DashboardFigures,
    names: &BTreeMap<u32, String>,
    lang: Lang,
) -> Vec<ChartSvg> {
    let empty = lang
        .pick(
            "Aucune donnée pour ces filtres.",
            "No data for these filters.",
        )
        .to_string();
    let mut out = Vec::new();

    // 1. Visitors per sensor (one store) or per store (all stores) over time.
    let series: Vec<(String, BTreeMap<NaiveDate, f64>)> = fig
        .daily_series
        .iter()
        .map(|(key, values)| {
            let label = match f.store_id {
                Some(_) => format!("{} {key}", lang.pick("Capteur", "Sensor")),
                None => names.get(key).cloned().unwrap_or_else(|| key.to_string()),
            };
            (label, values.iter().map(|(d, v)| (*d, *v as f64)).collect())
        })
        .collect();
    let title = match f.store_id {
        Some(_) => lang
            .pick(
                "Visiteurs par capteur et par jour",
                "Visitors per sensor per day",
            )
            .to_string(),
        None if fig.series_of > fig.daily_series.len() => match lang {
            Lang::Fr => format!(
                "Visiteurs par jour des {} magasins les plus fréquentés (sur {})",
                fig.daily_series.len(),
                format::int(fig.series_of as i64, lang)
            ),
            Lang::En => format!(
                "Visitors per day of the {} busiest stores (of {})",
                fig.daily_series.len(),
                format::int(fig.series_of as i64, lang)
            ),
        },
        None => lang
            .pick(
                "Visiteurs par magasin et par jour",
                "Visitors per store per day",
            )
            .to_string(),
    };
    out.push(ChartSvg {
        id: "visitors".into(),
        title,
        svg: charts::daily_lines(&series, lang.pick("Visiteurs", "Visitors"), lang),
        empty_message: empty.clone(),
    });

    // 2. Revenue per hour of day.
    let by_hour = fig.by_hour();
    let revenue: Vec<(String, f64)> = by_hour
        .iter()
        .map(|(h, s)| (format!("{h}h"), s.revenue))
        .collect();
    out.push(ChartSvg {
        id: "revenue_hour".into(),
        title: lang
            .pick("Chiffre d'affaires par heure (€)", "Revenue per hour (€)")
            .into(),
        svg: charts::bars(
            &revenue,
            "€",
            &|v| format::int(v as i64, lang),
            plotters::style::RGBColor(224, 122, 31),
        ),
        empty_message: empty.clone(),
    });

    // 3. Conversion per day and per hour (Σ transactions / Σ visitors).
    let per_day: BTreeMap<NaiveDate, f64> = fig
        .by_date()
        .into_iter()
        .filter_map(|(d, s)| s.conversion().map(|c| (d, c * 100.0)))
        .collect();
    out.push(ChartSvg {
        id: "conversion_day".into(),
        title: lang
            .pick(
                "Taux de conversion par jour (%)",
                "Conversion rate per day (%)",
            )
            .into(),
        svg: charts::daily_lines(
            &[(lang.pick("Conversion", "Conversion").to_string(), per_day)],
            "%",
            lang,
        ),
        empty_message: empty.clone(),
    });
    let per_hour: Vec<(String, f64)> = by_hour
        .iter()
        .filter_map(|(h, s)| s.conversion().map(|c| (format!("{h}h"), c * 100.0)))
        .collect();
    out.push(ChartSvg {
        id: "conversion_hour".into(),
        title: lang
            .pick(
                "Taux de conversion par heure (%)",
                "Conversion rate per hour (%)",
            )
            .into(),
        svg: charts::bars(
            &per_hour,
            "%",
            &|v| format::decimal(v, 0, lang),
            plotters::style::RGBColor(46, 139, 87),
        ),
        empty_message: empty.clone(),
    });

    // 4. Weekday × hour traffic (store level).
    let mut cells: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for ((d, h), s) in &fig.by_date_hour {
        *cells
            .entry((d.weekday().num_days_from_monday(), *h))
            .or_default() += s.visitors as f64;
    }
    out.push(ChartSvg {
        id: "heatmap".into(),
        title: lang
            .pick(
                "Affluence par jour de semaine et heure",
                "Traffic by weekday and hour",
            )
            .into(),
        svg: charts::heatmap(&cells, lang),
        empty_message: empty.clone(),
    });

    // 5. Stores ranked by conversion.
    let mut ranked: Vec<(String, f64)> = fig
        .by_store
        .iter()
        .filter_map(|(id, s)| {
            s.conversion()
                .map(|c| (names.get(id).cloned().unwrap_or_else(|| id.to_string()), c))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(15);
    out.push(ChartSvg {
        id: "ranking".into(),
        title: lang
            .pick(
                "Magasins classés par taux de conversion",
                "Stores ranked by conversion rate",
            )
            .into(),
        svg: charts::ranking(&ranked, &|v| format::percent(v, lang)),
        empty_message: empty,
    });
    out
}
