//! The charts' specs: what each of the dashboard's six charts draws (kind, unit, title,
//! description, x positions and series) for the figures of a period and of its comparison
//! period. The drawing itself is `crate::charts`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use pipeline::kpi::{DashboardFigures, KpiFilter};

use super::period::open_days;
use crate::format;
use crate::i18n::Lang;
use crate::wire::{Axis, ChartData, ChartKind, ChartSeries, RankedStore, Unit};

/// Series drawn by default; the others wait behind the legend.
const SHOWN_SERIES: usize = 10;
/// Stores listed in the ranking (plus the selected one when it is further down).
const RANKED_STORES: usize = 15;

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

/// The six charts of the dashboard, in the page's order, for the figures of the period
/// (`fig`) and of the comparison period (`prev`, read at the same positions shifted back by
/// the comparison's offset); `names` are the stores' names.
pub(super) fn charts_for(
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
        markers: Vec::new(),
        band: None,
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

#[cfg(test)]
mod tests {
    use pipeline::kpi::StoreSums;

    use super::super::period::test_support::{d, period};
    use super::*;

    fn names() -> BTreeMap<u32, String> {
        [(1, "Paris"), (2, "Lyon"), (3, "Lille")]
            .into_iter()
            .map(|(id, n)| (id, n.to_string()))
            .collect()
    }

    /// Week of Monday 16 November 2026: Paris (1) and Lyon (2) counted on Monday, Paris on
    /// Tuesday; Lille (3) converts best.
    fn week_figures() -> DashboardFigures {
        DashboardFigures {
            daily_series: BTreeMap::from([
                (
                    1,
                    BTreeMap::from([(d("2026-11-16"), 100), (d("2026-11-17"), 110)]),
                ),
                (2, BTreeMap::from([(d("2026-11-16"), 50)])),
            ]),
            series_of: 2,
            by_date_hour: BTreeMap::from([
                ((d("2026-11-16"), 9), StoreSums::from_row(100, 20, 200_000)),
                ((d("2026-11-16"), 10), StoreSums::from_row(50, 5, 50_000)),
                ((d("2026-11-17"), 9), StoreSums::from_row(110, 11, 110_000)),
            ]),
            by_store: BTreeMap::from([
                (1, StoreSums::from_row(210, 31, 310_000)),
                (2, StoreSums::from_row(50, 5, 50_000)),
                (3, StoreSums::from_row(10, 2, 5_000)),
            ]),
            ..Default::default()
        }
    }

    /// The week before: Paris on Monday 9.
    fn previous_figures() -> DashboardFigures {
        DashboardFigures {
            daily_series: BTreeMap::from([(1, BTreeMap::from([(d("2026-11-09"), 90)]))]),
            series_of: 1,
            by_date_hour: BTreeMap::from([(
                (d("2026-11-09"), 9),
                StoreSums::from_row(90, 9, 90_000),
            )]),
            ..Default::default()
        }
    }

    fn chart<'c>(charts: &'c [ChartData], id: &str) -> &'c ChartData {
        charts.iter().find(|c| c.id == id).expect(id)
    }

    #[test]
    fn a_week_of_all_stores_gives_six_charts_over_its_open_days() {
        let f = period(None, "2026-11-16", "2026-11-22");
        let cmp = period(None, "2026-11-09", "2026-11-15");
        let (fig, prev) = (week_figures(), previous_figures());
        let charts = charts_for(&f, Some(&cmp), &fig, Some(&prev), &names(), Lang::Fr);
        let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "visitors",
                "revenue_hour",
                "conversion_day",
                "conversion_hour",
                "heatmap",
                "ranking"
            ]
        );
        let open_days: Vec<NaiveDate> = (16..=20).map(|n| d(&format!("2026-11-{n}"))).collect();

        // Visitors per store and day, the comparison read a week earlier.
        let v = chart(&charts, "visitors");
        assert_eq!((v.kind, v.unit), (ChartKind::Lines, Unit::Count));
        assert_eq!(v.title, "Visiteurs par magasin et par jour");
        assert_eq!(v.axis, Axis::Days(open_days.clone()));
        assert_eq!(
            v.previous_label.as_deref(),
            Some("Période de comparaison : 09/11/2026 → 15/11/2026")
        );
        let keys: Vec<(&str, &str)> = v
            .series
            .iter()
            .map(|s| (s.key.as_str(), s.label.as_str()))
            .collect();
        assert_eq!(keys, [("1", "Paris"), ("2", "Lyon")]);
        assert_eq!(
            v.series[0].values,
            [Some(100.0), Some(110.0), None, None, None]
        );
        assert_eq!(v.series[0].previous, [Some(90.0), None, None, None, None]);
        assert!(v.series[1].previous.is_empty(), "Lyon had no series before");
        assert!(v.series.iter().all(|s| s.visible && !s.highlight));

        // Revenue per opening hour, in euros; the comparison at the same hours.
        let r = chart(&charts, "revenue_hour");
        assert_eq!((r.kind, r.unit), (ChartKind::Bars, Unit::Euros));
        assert_eq!(r.axis, Axis::Hours { first: 9, last: 19 });
        assert_eq!(r.series.len(), 1);
        assert_eq!(r.series[0].values.len(), 11);
        assert_eq!(&r.series[0].values[..3], [Some(3100.0), Some(500.0), None]);
        assert_eq!(&r.series[0].previous[..2], [Some(900.0), None]);

        // Conversion per day: Σ transactions / Σ visitors of the day, never a mean.
        let c = chart(&charts, "conversion_day");
        assert_eq!((c.kind, c.unit), (ChartKind::Lines, Unit::Ratio));
        assert_eq!(c.axis, Axis::Days(open_days));
        assert_eq!(
            &c.series[0].values[..3],
            [Some(25.0 / 150.0), Some(0.1), None]
        );
        assert_eq!(c.series[0].previous[0], Some(0.1));

        // Weekday × hour: Monday to Friday, no comparison.
        let h = chart(&charts, "heatmap");
        assert_eq!(h.kind, ChartKind::Heatmap);
        assert_eq!(h.previous_label, None);
        let rows: Vec<&str> = h.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(rows, ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]);
        assert_eq!(&h.series[0].values[..2], [Some(100.0), Some(50.0)]);
        assert_eq!(&h.series[1].values[..2], [Some(110.0), None]);
        assert!(h.series.iter().all(|s| s.previous.is_empty()));

        // Stores by conversion, best first; nothing highlighted for all stores.
        let k = chart(&charts, "ranking");
        assert_eq!(k.kind, ChartKind::Ranking);
        assert_eq!(k.title, "Magasins classés par taux de conversion");
        let Axis::Stores(stores) = &k.axis else {
            panic!("ranking axis: {:?}", k.axis)
        };
        let order: Vec<(u32, u32, &str)> = stores
            .iter()
            .map(|s| (s.rank, s.store_id, s.name.as_str()))
            .collect();
        assert_eq!(order, [(1, 3, "Lille"), (2, 1, "Paris"), (3, 2, "Lyon")]);
        assert_eq!(
            k.series[0].values,
            [Some(0.2), Some(31.0 / 210.0), Some(0.1)]
        );
        assert_eq!(k.highlight_x, None);
    }

    #[test]
    fn one_store_and_one_day_gives_sensors_per_hour() {
        let f = period(Some(2), "2026-11-16", "2026-11-16");
        let fig = DashboardFigures {
            hourly_series: BTreeMap::from([(4, BTreeMap::from([(9, 7), (10, 8)]))]),
            ..week_figures()
        };
        let charts = charts_for(&f, None, &fig, None, &names(), Lang::Fr);
        let v = chart(&charts, "visitors");
        assert_eq!(v.title, "Visiteurs par capteur et par heure");
        assert_eq!(v.axis, Axis::Hours { first: 9, last: 19 });
        assert_eq!(v.previous_label, None);
        assert_eq!(v.series.len(), 1);
        assert_eq!(
            (v.series[0].key.as_str(), v.series[0].label.as_str()),
            ("4", "Capteur 4")
        );
        assert_eq!(&v.series[0].values[..3], [Some(7.0), Some(8.0), None]);
        assert!(v.series[0].previous.is_empty());
        // The selected store is highlighted in the ranking (Lyon ranks third).
        assert_eq!(chart(&charts, "ranking").highlight_x, Some(2));

        let en = charts_for(&f, None, &fig, None, &names(), Lang::En);
        assert_eq!(chart(&en, "visitors").title, "Visitors per sensor per hour");
        assert_eq!(chart(&en, "visitors").series[0].label, "Sensor 4");
    }

    #[test]
    fn many_stores_draw_ten_series_and_rank_fifteen_plus_the_selected_one() {
        let f = period(Some(17), "2026-11-16", "2026-11-20");
        let ids = 1..=17u32;
        let fig = DashboardFigures {
            // The busiest twelve of 40 stores with data (the query caps the series).
            daily_series: (1..=12)
                .map(|id| (id, BTreeMap::from([(d("2026-11-16"), 100 - id as i64)])))
                .collect(),
            series_of: 40,
            // Store `id` converts (30 - id) %: store 17 ranks last.
            by_store: ids
                .clone()
                .map(|id| (id, StoreSums::from_row(100, 30 - id as i64, 1_000)))
                .collect(),
            ..Default::default()
        };
        let names: BTreeMap<u32, String> = ids.map(|id| (id, format!("Magasin {id}"))).collect();
        let charts = charts_for(&f, None, &fig, None, &names, Lang::Fr);

        let v = chart(&charts, "visitors");
        assert_eq!(v.series.len(), 12);
        let visible = v.series.iter().filter(|s| s.visible).count();
        assert_eq!(visible, 10);
        assert!(!v.series[10].visible && !v.series[11].visible);
        // For all stores, the title says the series are the busiest of more.
        let all = charts_for(
            &period(None, "2026-11-16", "2026-11-20"),
            None,
            &fig,
            None,
            &names,
            Lang::Fr,
        );
        assert_eq!(
            chart(&all, "visitors").title,
            "Visiteurs par magasin et par jour (les 12 plus fréquentés sur 40)"
        );
        assert_eq!(chart(&all, "visitors").series[0].label, "Magasin 1");

        let k = chart(&charts, "ranking");
        assert_eq!(
            k.title,
            "Magasins classés par taux de conversion (15 premiers sur 17)"
        );
        let Axis::Stores(stores) = &k.axis else {
            panic!("ranking axis: {:?}", k.axis)
        };
        assert_eq!(stores.len(), 16);
        assert_eq!((stores[0].rank, stores[0].store_id), (1, 1));
        assert_eq!((stores[14].rank, stores[14].store_id), (15, 15));
        // The selected store, 17th, is listed after the fifteen and highlighted.
        assert_eq!((stores[15].rank, stores[15].store_id), (17, 17));
        assert_eq!(k.highlight_x, Some(15));
        assert_eq!(k.series[0].values.len(), 16);
    }
}
