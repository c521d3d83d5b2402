//! The store's visitors against what its own recent weeks expect: the chart shown beside
//! the visitors chart when one store is selected. Its line is the store's visitors (all of
//! its sensors, the filter's hours), its band detection's expected range
//! (`pipeline::alerts::detect::expected_band`: median ∓ k·MAD of the same weekday-hour),
//! per hour for a single day, summed over the filter's hours for a day. The band is the
//! store's total, which is why it is not drawn among the per-sensor lines (ten times
//! smaller); the alerts' markers go on both charts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pipeline::alerts::BandPoint;
use pipeline::kpi::{DashboardFigures, KpiFilter};

use super::period::open_days;
use crate::format;
use crate::i18n::Lang;
use crate::wire::{Axis, ChartBand, ChartData, ChartKind, ChartSeries, Unit};

/// The chart's id (the page's `#chart-expected`).
pub(super) const ID: &str = "expected";

/// The chart, or `None` when the band has no point in the period (a store with fewer
/// weeks of history than the baseline needs).
pub(super) fn expected_chart(
    f: &KpiFilter,
    fig: &DashboardFigures,
    band: &[BandPoint],
    lang: Lang,
) -> Option<ChartData> {
    let points: BTreeMap<(NaiveDate, u32), &BandPoint> =
        band.iter().map(|p| ((p.date, p.hour), p)).collect();
    let hours: Vec<u32> = (f.hour_from..=f.hour_to).collect();
    let (axis, values, lower, upper) = if f.is_single_day() {
        let day = f.from;
        let at = |h: u32| points.get(&(day, h)).copied();
        (
            Axis::Hours {
                first: f.hour_from,
                last: f.hour_to,
            },
            hours
                .iter()
                .map(|h| fig.by_date_hour.get(&(day, *h)).map(|s| s.visitors as f64))
                .collect::<Vec<_>>(),
            hours
                .iter()
                .map(|h| at(*h).map(|p| p.low))
                .collect::<Vec<_>>(),
            hours
                .iter()
                .map(|h| at(*h).map(|p| p.high))
                .collect::<Vec<_>>(),
        )
    } else {
        let days: Vec<NaiveDate> = open_days(f).collect();
        let by_date = fig.by_date();
        // A day's range: the sum of its hours' edges, when every hour has one.
        let sum = |d: NaiveDate, edge: fn(&BandPoint) -> f64| -> Option<f64> {
            hours
                .iter()
                .map(|h| points.get(&(d, *h)).map(|p| edge(p)))
                .sum::<Option<f64>>()
        };
        (
            Axis::Days(days.clone()),
            days.iter()
                .map(|d| by_date.get(d).map(|s| s.visitors as f64))
                .collect::<Vec<_>>(),
            days.iter().map(|d| sum(*d, |p| p.low)).collect::<Vec<_>>(),
            days.iter().map(|d| sum(*d, |p| p.high)).collect::<Vec<_>>(),
        )
    };
    if upper.iter().all(Option::is_none) {
        return None;
    }
    let period = format!(
        "{} → {}",
        format::date(&f.from.to_string(), lang),
        format::date(&f.to.to_string(), lang)
    );
    let per = if f.is_single_day() {
        lang.pick("heure", "hour")
    } else {
        lang.pick("jour ouvert", "open day")
    };
    Some(ChartData {
        id: ID.into(),
        kind: ChartKind::Lines,
        title: lang
            .pick(
                "Visiteurs du magasin et fourchette attendue",
                "Store visitors and expected range",
            )
            .into(),
        description: match lang {
            Lang::Fr => format!(
                "Visiteurs de tous les capteurs du magasin, un point par {per}, du {period} ; la bande \
                 est la fourchette attendue d'après les mêmes jours de semaine et heures des semaines \
                 précédentes (médiane ± écart ordinaire). Les repères marquent les alertes."
            ),
            Lang::En => format!(
                "Visitors of all the store's sensors, one point per {per}, {period}; the band is the \
                 range expected from the same weekdays and hours of the previous weeks (median ± \
                 ordinary spread). The markers show the alerts."
            ),
        },
        unit: Unit::Count,
        axis,
        series: vec![ChartSeries {
            key: "store".into(),
            label: lang.pick("Visiteurs du magasin", "Store visitors").into(),
            values,
            previous: Vec::new(),
            visible: true,
            highlight: false,
        }],
        previous_label: None,
        highlight_x: None,
        empty_message: lang
            .pick(
                "Aucune donnée pour ces filtres.",
                "No data for these filters.",
            )
            .into(),
        markers: Vec::new(),
        band: Some(ChartBand {
            series: "store".into(),
            label: lang.pick("Fourchette attendue", "Expected range").into(),
            lower,
            upper,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::kpi::StoreSums;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn point(date: &str, hour: u32, low: f64, high: f64) -> BandPoint {
        BandPoint {
            date: d(date),
            hour,
            median: (low + high) / 2.0,
            low,
            high,
            weeks: 8,
        }
    }

    fn filter(from: &str, to: &str, h0: u32, h1: u32) -> KpiFilter {
        KpiFilter {
            store_id: Some(1),
            sensor_ids: vec![3],
            within_stores: None,
            from: d(from),
            to: d(to),
            hour_from: h0,
            hour_to: h1,
        }
    }

    fn figures(cells: &[(&str, u32, i64)]) -> DashboardFigures {
        let mut fig = DashboardFigures::default();
        for (day, h, v) in cells {
            fig.by_date_hour.insert(
                (d(day), *h),
                StoreSums {
                    visitors: *v,
                    ..StoreSums::default()
                },
            );
        }
        fig
    }

    #[test]
    fn a_day_sums_the_hours_of_the_filter_and_needs_them_all() {
        // Wednesday and Thursday; hours 10 and 11 only; Thursday lacks 11h's baseline.
        let f = filter("2025-03-12", "2025-03-13", 10, 11);
        let fig = figures(&[
            ("2025-03-12", 10, 100),
            ("2025-03-12", 11, 120),
            ("2025-03-13", 10, 90),
        ]);
        let band = [
            point("2025-03-12", 9, 1.0, 1000.0),
            point("2025-03-12", 10, 80.0, 130.0),
            point("2025-03-12", 11, 90.0, 140.0),
            point("2025-03-13", 10, 80.0, 130.0),
        ];
        let c = expected_chart(&f, &fig, &band, Lang::Fr).expect("chart");
        assert_eq!(c.series[0].values, vec![Some(220.0), Some(90.0)]);
        let b = c.band.expect("band");
        assert_eq!(b.lower, vec![Some(170.0), None]);
        assert_eq!(b.upper, vec![Some(270.0), None]);
        assert_eq!(b.series, "store");
    }

    #[test]
    fn a_single_day_goes_hour_by_hour_and_no_baseline_means_no_chart() {
        let f = filter("2025-03-12", "2025-03-12", 9, 11);
        let fig = figures(&[("2025-03-12", 9, 50), ("2025-03-12", 10, 70)]);
        let band = [point("2025-03-12", 10, 60.0, 90.0)];
        let c = expected_chart(&f, &fig, &band, Lang::En).expect("chart");
        assert_eq!(c.axis, Axis::Hours { first: 9, last: 11 });
        assert_eq!(c.series[0].values, vec![Some(50.0), Some(70.0), None]);
        assert_eq!(c.band.expect("band").upper, vec![None, Some(90.0), None]);
        assert!(expected_chart(&f, &fig, &[], Lang::En).is_none());
    }
}
