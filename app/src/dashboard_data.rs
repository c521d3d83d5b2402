//! Server side of the dashboard: figures from the warehouse (pipeline::kpi), KPI cards
//! with their change against the comparison period, and the charts' data.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use pipeline::calendar::{is_open_day, OPENING_HOURS};
use pipeline::clock::HourSlot;
use pipeline::filter as dashboard_filters;
use pipeline::kpi::{Comparison, DashboardFigures, KpiFilter, Kpis};
use pipeline::runs::{Job, RunStatus};

use crate::format;
use crate::i18n::Lang;
use crate::services::Services;
use crate::wire::{
    AppliedFilter, Axis, ChangeState, ChartData, ChartKind, ChartSeries, DashboardData,
    DashboardQuery, KpiCard, Preparing, RankedStore, Unit,
};

/// Series drawn by default; the others wait behind the legend.
const SHOWN_SERIES: usize = 10;
/// Stores listed in the ranking (plus the selected one when it is further down).
const RANKED_STORES: usize = 15;

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
        .map_err(|e| e.to_string())?;
    out.filter = applied(&filter, cmp_mode, cmp.as_ref());
    out.preparing = preparing(services, &filter, range, today).await;
    let partial = |k: &KpiFilter| !covered(k, range);
    let change_state = if !has_open_day(&filter) {
        ChangeState::Closed
    } else {
        match &cmp {
            None => ChangeState::None,
            Some(c) if partial(c) || partial(&filter) => ChangeState::Partial,
            Some(_) => ChangeState::Change,
        }
    };
    out.kpis = kpi_cards(
        &Kpis::from_totals(&current.totals),
        previous.as_ref().map(|p| Kpis::from_totals(&p.totals)),
        change_state,
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

fn open_days(f: &KpiFilter) -> impl Iterator<Item = NaiveDate> + '_ {
    f.from
        .iter_days()
        .take_while(move |d| *d <= f.to)
        .filter(|d| is_open_day(*d))
}

fn has_open_day(f: &KpiFilter) -> bool {
    open_days(f).next().is_some()
}

/// True when every open day of the period lies within the data's range.
fn covered(f: &KpiFilter, range: Option<(NaiveDate, NaiveDate)>) -> bool {
    let Some((a, b)) = range else {
        return false;
    };
    open_days(f).all(|d| d >= a && d <= b)
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
    let states = w.ledger_states(Job::Transform, f.from, to).await.ok()?;
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

fn kpi_cards(cur: &Kpis, prev: Option<Kpis>, state: ChangeState, lang: Lang) -> Vec<KpiCard> {
    let closed = state == ChangeState::Closed;
    let card = |id: &str,
                label: &str,
                value: Option<f64>,
                previous: Option<f64>,
                display: String,
                fmt: &dyn Fn(f64) -> String| {
        let change = match (state, value, previous) {
            (ChangeState::Change, Some(v), Some(p)) if p != 0.0 => Some((v - p) / p),
            _ => None,
        };
        let change_state = match state {
            ChangeState::Change if change.is_none() => ChangeState::None,
            s => s,
        };
        KpiCard {
            id: id.to_string(),
            label: label.to_string(),
            value,
            display: if closed {
                lang.pick("fermé", "closed").to_string()
            } else {
                display
            },
            previous,
            previous_display: previous.map(fmt).unwrap_or_default(),
            change,
            change_state,
            change_display: match change_state {
                ChangeState::Change => change
                    .map(|c| format::change(c, lang))
                    .unwrap_or_else(|| "—".into()),
                ChangeState::None => "—".into(),
                ChangeState::Partial => lang
                    .pick("n/a — données partielles", "n/a — partial data")
                    .into(),
                ChangeState::Closed => lang.pick("fermé", "closed").into(),
            },
        }
    };
    let dash = || "—".to_string();
    let int = |v: f64| format::int(v.round() as i64, lang);
    let eur = |v: f64| format::euros(v, lang);
    let pct = |v: f64| format::percent(v, lang);
    // Each card: its id, its label (French, English), its figure, and how a value reads.
    type Figure = fn(&Kpis) -> Option<f64>;
    type Card<'f> = (
        &'static str,
        &'static str,
        &'static str,
        Figure,
        &'f dyn Fn(f64) -> String,
    );
    let cards: [Card; 7] = [
        (
            "visitors",
            "Visiteurs",
            "Visitors",
            |k| Some(k.visitors as f64),
            &int,
        ),
        (
            "active_sensors",
            "Capteurs actifs",
            "Active sensors",
            |k| Some(k.active_sensors as f64),
            &int,
        ),
        (
            "transactions",
            "Transactions",
            "Transactions",
            |k| Some(k.transactions as f64),
            &int,
        ),
        (
            "revenue",
            "Chiffre d'affaires",
            "Revenue",
            |k| Some(k.revenue),
            &eur,
        ),
        (
            "conversion",
            "Taux de conversion",
            "Conversion rate",
            |k| k.conversion,
            &pct,
        ),
        (
            "average_ticket",
            "Panier moyen",
            "Average ticket",
            |k| k.average_ticket,
            &eur,
        ),
        (
            "revenue_per_visitor",
            "CA par visiteur",
            "Revenue per visitor",
            |k| k.revenue_per_visitor,
            &eur,
        ),
    ];
    cards
        .into_iter()
        .map(|(id, fr, en, figure, fmt)| {
            let value = figure(cur);
            let display = value.map(fmt).unwrap_or_else(dash);
            card(
                id,
                lang.pick(fr, en),
                value,
                prev.as_ref().and_then(figure),
                display,
                fmt,
            )
        })
        .collect()
}

/// A series over the x positions `xs`, shown by default: `value` read at each x from the
/// figures of the period, and (with a comparison period) from the comparison's figures
/// at the matching `earlier` x; without one, no previous values.
fn series_over<X: Copy, M>(
    key: String,
    label: String,
    xs: &[X],
    (now, before): (&M, Option<&M>),
    earlier: impl Fn(X) -> X,
    value: impl Fn(&M, X) -> Option<f64>,
) -> ChartSeries {
    ChartSeries {
        key,
        label,
        values: xs.iter().map(|&x| value(now, x)).collect(),
        previous: before
            .map(|b| xs.iter().map(|&x| value(b, earlier(x))).collect())
            .unwrap_or_default(),
        visible: true,
        highlight: false,
    }
}

fn period_text(f: &KpiFilter, lang: Lang) -> String {
    format!(
        "{} → {}",
        format::date(&f.from.to_string(), lang),
        format::date(&f.to.to_string(), lang)
    )
}

fn charts_for(
    f: &KpiFilter,
    cmp: Option<&KpiFilter>,
    fig: &DashboardFigures,
    prev: Option<&DashboardFigures>,
    names: &BTreeMap<u32, String>,
    lang: Lang,
) -> Vec<ChartData> {
    let empty = lang
        .pick(
            "Aucune donnée pour ces filtres.",
            "No data for these filters.",
        )
        .to_string();
    let shift = cmp.map(|c| f.from - c.from).unwrap_or_default();
    let previous_label = cmp.map(|c| {
        format!(
            "{} {}",
            lang.pick("Période de comparaison :", "Comparison period:"),
            period_text(c, lang)
        )
    });
    let period = period_text(f, lang);
    let hours: Vec<u32> = (f.hour_from..=f.hour_to).collect();
    let days: Vec<NaiveDate> = open_days(f).collect();
    let single_day = f.is_single_day();
    let base = |id: &str, kind, unit, title: String, description: String| ChartData {
        id: id.into(),
        kind,
        title,
        description,
        unit,
        // The opening hours of the filter; `day_axis` and the ranking set their own.
        axis: Axis::Hours {
            first: f.hour_from,
            last: f.hour_to,
        },
        series: Vec::new(),
        previous_label: previous_label.clone(),
        highlight_x: None,
        empty_message: empty.clone(),
    };
    let day_axis = |c: &mut ChartData| c.axis = Axis::Days(days.clone());
    let series_label = |key: u32| match f.store_id {
        Some(_) => format!("{} {key}", lang.pick("Capteur", "Sensor")),
        None => names.get(&key).cloned().unwrap_or_else(|| key.to_string()),
    };
    let mut out = Vec::new();

    // 1. Visitors per sensor (one store) or per store (all stores): per day, or per hour
    //    of a single day.
    let what = match f.store_id {
        Some(_) => lang.pick("par capteur", "per sensor"),
        None => lang.pick("par magasin", "per store"),
    };
    let (title, unit_word) = if single_day {
        (
            match lang {
                Lang::Fr => format!("Visiteurs {what} et par heure"),
                Lang::En => format!("Visitors {what} per hour"),
            },
            lang.pick("heure", "hour"),
        )
    } else {
        (
            match lang {
                Lang::Fr => format!("Visiteurs {what} et par jour"),
                Lang::En => format!("Visitors {what} per day"),
            },
            lang.pick("jour ouvert", "open day"),
        )
    };
    let title = if f.store_id.is_none() && fig.series_of > fig.daily_series.len() {
        match lang {
            Lang::Fr => format!(
                "{title} (les {} plus fréquentés sur {})",
                fig.daily_series.len(),
                format::int(fig.series_of as i64, lang)
            ),
            Lang::En => format!(
                "{title} (the {} busiest of {})",
                fig.daily_series.len(),
                format::int(fig.series_of as i64, lang)
            ),
        }
    } else {
        title
    };
    let mut visitors = base(
        "visitors",
        ChartKind::Lines,
        Unit::Count,
        title,
        match lang {
            Lang::Fr => format!(
                "Nombre de visiteurs comptés {what}, un point par {unit_word}, du {period} ; \
                 un clic sur un jour ouvre sa vue horaire."
            ),
            Lang::En => format!(
                "Visitors counted {what}, one point per {unit_word}, {period}; \
                 click a day to open its hourly view."
            ),
        },
    );
    if single_day {
        for (i, (key, by_hour)) in fig.hourly_series.iter().enumerate() {
            let prev_hours = prev.and_then(|p| p.hourly_series.get(key));
            visitors.series.push(ChartSeries {
                visible: i < SHOWN_SERIES,
                ..series_over(
                    key.to_string(),
                    series_label(*key),
                    &hours,
                    (by_hour, prev_hours),
                    |h| h,
                    |m, h| m.get(&h).map(|v| *v as f64),
                )
            });
        }
    } else {
        day_axis(&mut visitors);
        for (i, (key, by_day)) in fig.daily_series.iter().enumerate() {
            let prev_days = prev.and_then(|p| p.daily_series.get(key));
            visitors.series.push(ChartSeries {
                visible: i < SHOWN_SERIES,
                ..series_over(
                    key.to_string(),
                    series_label(*key),
                    &days,
                    (by_day, prev_days),
                    |d| d - shift,
                    |m, d| m.get(&d).map(|v| *v as f64),
                )
            });
        }
    }
    out.push(visitors);

    // 2. Revenue per hour of day.
    let by_hour = fig.by_hour();
    let prev_by_hour = prev.map(|p| p.by_hour());
    let mut revenue = base(
        "revenue_hour",
        ChartKind::Bars,
        Unit::Euros,
        lang.pick("Chiffre d'affaires par heure", "Revenue per hour")
            .into(),
        match lang {
            Lang::Fr => format!(
                "Chiffre d'affaires total de chaque heure d'ouverture sur la période du {period} ; \
                 le trait noir marque la période de comparaison."
            ),
            Lang::En => format!(
                "Total revenue of each opening hour over {period}; \
                 the black tick marks the comparison period."
            ),
        },
    );
    revenue.series.push(series_over(
        "revenue".into(),
        lang.pick("Chiffre d'affaires", "Revenue").into(),
        &hours,
        (&by_hour, prev_by_hour.as_ref()),
        |h| h,
        |m, h| m.get(&h).map(|s| s.revenue),
    ));
    out.push(revenue);

    // 3. Conversion per day (Σ transactions / Σ visitors).
    let by_date = fig.by_date();
    let prev_by_date = prev.map(|p| p.by_date());
    let mut conv_day = base(
        "conversion_day",
        ChartKind::Lines,
        Unit::Ratio,
        lang.pick("Taux de conversion par jour", "Conversion rate per day")
            .into(),
        match lang {
            Lang::Fr => format!(
                "Transactions divisées par les visiteurs du magasin, chaque jour ouvert du {period}."
            ),
            Lang::En => format!("Transactions divided by the store's visitors, each open day, {period}."),
        },
    );
    day_axis(&mut conv_day);
    conv_day.series.push(series_over(
        "conversion".into(),
        lang.pick("Conversion", "Conversion").into(),
        &days,
        (&by_date, prev_by_date.as_ref()),
        |d| d - shift,
        |m, d| m.get(&d).and_then(|s| s.conversion()),
    ));
    out.push(conv_day);

    // 4. Conversion per hour.
    let mut conv_hour = base(
        "conversion_hour",
        ChartKind::Bars,
        Unit::Ratio,
        lang.pick("Taux de conversion par heure", "Conversion rate per hour")
            .into(),
        match lang {
            Lang::Fr => format!(
                "Transactions divisées par les visiteurs pour chaque heure d'ouverture, du {period}."
            ),
            Lang::En => format!("Transactions divided by visitors for each opening hour, {period}."),
        },
    );
    conv_hour.series.push(series_over(
        "conversion".into(),
        lang.pick("Conversion", "Conversion").into(),
        &hours,
        (&by_hour, prev_by_hour.as_ref()),
        |h| h,
        |m, h| m.get(&h).and_then(|s| s.conversion()),
    ));
    out.push(conv_hour);

    // 5. Weekday × hour traffic (store level), Monday to Friday.
    let mut cells: BTreeMap<(u32, u32), i64> = BTreeMap::new();
    for ((d, h), s) in &fig.by_date_hour {
        *cells
            .entry((d.weekday().num_days_from_monday(), *h))
            .or_default() += s.visitors;
    }
    let mut heat = base(
        "heatmap",
        ChartKind::Heatmap,
        Unit::Count,
        lang.pick(
            "Affluence par jour de semaine et heure",
            "Traffic by weekday and hour",
        )
        .into(),
        match lang {
            Lang::Fr => format!(
                "Visiteurs cumulés de chaque jour de semaine et heure sur la période du {period} ; \
                 plus la case est foncée, plus il y a de monde."
            ),
            Lang::En => format!(
                "Visitors added up per weekday and hour over {period}; the darker the cell, the busier."
            ),
        },
    );
    heat.previous_label = None;
    for wd in 0..5u32 {
        let day = Weekday::try_from(wd as u8).unwrap_or(Weekday::Mon);
        heat.series.push(series_over(
            wd.to_string(),
            format::weekday(day, false, lang).into(),
            &hours,
            (&cells, None),
            |h| h,
            |m, h| m.get(&(wd, h)).map(|v| *v as f64),
        ));
    }
    out.push(heat);

    // 6. Stores ranked by conversion; the selected store highlighted (and listed even
    //    when it is further down).
    let mut ranked: Vec<(u32, f64)> = fig
        .by_store
        .iter()
        .filter_map(|(id, s)| s.conversion().map(|c| (*id, c)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let total_ranked = ranked.len();
    let selected_pos = f
        .store_id
        .and_then(|s| ranked.iter().position(|(id, _)| *id == s));
    let mut shown: Vec<(usize, (u32, f64))> = ranked
        .iter()
        .copied()
        .enumerate()
        .take(RANKED_STORES)
        .collect();
    if let Some(p) = selected_pos.filter(|p| *p >= RANKED_STORES) {
        shown.push((p, ranked[p]));
    }
    let mut ranking = base(
        "ranking",
        ChartKind::Ranking,
        Unit::Ratio,
        if total_ranked > shown.len() {
            match lang {
                Lang::Fr => format!(
                    "Magasins classés par taux de conversion ({} premiers sur {})",
                    RANKED_STORES,
                    format::int(total_ranked as i64, lang)
                ),
                Lang::En => format!(
                    "Stores ranked by conversion rate (top {} of {})",
                    RANKED_STORES,
                    format::int(total_ranked as i64, lang)
                ),
            }
        } else {
            lang.pick(
                "Magasins classés par taux de conversion",
                "Stores ranked by conversion rate",
            )
            .into()
        },
        match lang {
            Lang::Fr => format!(
                "Taux de conversion de chaque magasin du {period}, du meilleur au moins bon ; \
                 un clic sur un magasin ouvre sa vue."
            ),
            Lang::En => format!(
                "Conversion rate of each store, {period}, best first; click a store to open its view."
            ),
        },
    );
    ranking.previous_label = None;
    let mut stores = Vec::with_capacity(shown.len());
    for (i, (rank, (id, _))) in shown.iter().enumerate() {
        let name = names.get(id).cloned().unwrap_or_else(|| id.to_string());
        stores.push(RankedStore {
            rank: *rank as u32 + 1,
            store_id: *id,
            name,
        });
        if f.store_id == Some(*id) {
            ranking.highlight_x = Some(i);
        }
    }
    ranking.axis = Axis::Stores(stores);
    ranking.series.push(ChartSeries {
        key: "conversion".into(),
        label: lang.pick("Conversion", "Conversion").into(),
        values: shown.iter().map(|(_, (_, c))| Some(*c)).collect(),
        previous: Vec::new(),
        visible: true,
        highlight: false,
    });
    out.push(ranking);
    out
}
