//! The alerts on the dashboard's charts: each alert of the viewer's stores that overlaps
//! the period (and the filter's store and sensors) becomes a marker at the x position of
//! its start (a day, or an hour of a single day) on the time charts it concerns — the
//! visitors charts for traffic and sensor alerts, the sales charts for the till feed and
//! closures. Ranking and heat map charts have no time axis and get none.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use pipeline::alerts::lifecycle::Alert;
use pipeline::alerts::Rule;
use pipeline::kpi::KpiFilter;

use crate::i18n::Lang;
use crate::wire::{Axis, ChartData, ChartMarker};

/// The charts of visitors: per sensor or store, and the store's total against its
/// expected range.
const TRAFFIC_CHARTS: [&str; 2] = ["visitors", super::expected_chart::ID];
/// The charts of sales figures (the till feed's alerts go there).
const SALES_CHARTS: [&str; 3] = ["revenue_hour", "conversion_day", "conversion_hour"];

/// True when alerts of `rule` belong on chart `id`.
fn concerns(id: &str, rule: Rule) -> bool {
    match rule {
        Rule::TillFeedDown => SALES_CHARTS.contains(&id),
        Rule::StoreClosed => TRAFFIC_CHARTS.contains(&id) || SALES_CHARTS.contains(&id),
        Rule::SensorSilent
        | Rule::SensorStuckZero
        | Rule::SensorDegraded
        | Rule::TrafficHigh
        | Rule::TrafficLow => TRAFFIC_CHARTS.contains(&id),
    }
}

/// The x position of an alert starting at `start` on `axis`: the first day at or after
/// its start day (an alert begun before the period sits on the first day), or its hour
/// on the one day of an hourly chart.
fn position(axis: &Axis, f: &KpiFilter, start: DateTime<Utc>) -> Option<usize> {
    let local = start.with_timezone(&pipeline::PARIS);
    let day: NaiveDate = local.date_naive();
    match axis {
        Axis::Days(days) => days.iter().position(|d| *d >= day),
        Axis::Hours { first, last } if f.is_single_day() => {
            let hour = if day < f.from { *first } else { local.hour() };
            (day <= f.from && hour <= *last).then(|| hour.saturating_sub(*first) as usize)
        }
        Axis::Hours { .. } | Axis::Stores(_) => None,
    }
}

/// What a marker's tooltip says: severity, what, where, since when (Paris time).
fn text(a: &Alert, store: &str, lang: Lang) -> String {
    let place = match a.sensor_id {
        Some(s) => format!("{store}, {} {s}", lang.pick("capteur", "sensor")),
        None => store.to_string(),
    };
    let since = a
        .start
        .with_timezone(&pipeline::PARIS)
        .format(match lang {
            Lang::Fr => "%d/%m/%Y %H:%M",
            Lang::En => "%Y-%m-%d %H:%M",
        })
        .to_string();
    format!(
        "{} — {} — {place} — {} {since}",
        a.severity.label(lang),
        a.rule.label(lang),
        lang.pick("depuis le", "since"),
    )
}

/// Adds the markers of `alerts` to the time charts of `charts`. `alerts` are the viewer's
/// (the caller read them within their scope); those of sensors the filter leaves out are
/// skipped.
pub(super) fn mark(
    charts: &mut [ChartData],
    alerts: &[Alert],
    f: &KpiFilter,
    store_name: impl Fn(i64) -> String,
    lang: Lang,
) {
    let relevant: Vec<&Alert> = alerts
        .iter()
        .filter(|a| f.store_id.is_none_or(|s| i64::from(s) == a.store_id))
        .filter(|a| match a.sensor_id {
            Some(s) if !f.sensor_ids.is_empty() => f.sensor_ids.iter().any(|x| i64::from(*x) == s),
            _ => true,
        })
        .collect();
    for chart in charts.iter_mut() {
        for a in &relevant {
            if !concerns(&chart.id, a.rule) {
                continue;
            }
            let Some(index) = position(&chart.axis, f, a.start) else {
                continue;
            };
            chart.markers.push(ChartMarker {
                index,
                alert_id: a.id,
                store_id: u32::try_from(a.store_id).unwrap_or_default(),
                severity: a.severity,
                text: text(a, &store_name(a.store_id), lang),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use pipeline::alerts::lifecycle::AlertStatus;
    use pipeline::alerts::Severity;

    fn alert(rule: Rule, store: i64, sensor: Option<i64>, start: DateTime<Utc>) -> Alert {
        Alert {
            id: 7,
            key: "k".into(),
            rule,
            severity: Severity::Critical,
            store_id: store,
            sensor_id: sensor,
            start,
            end: None,
            observed: None,
            expected: None,
            status: AlertStatus::Open,
            opened_run: "detect:x".into(),
            opened_at: start,
            last_seen: start,
            acknowledgement: None,
            resolved_at: None,
            silence_id: None,
        }
    }

    fn chart(id: &str, axis: Axis) -> ChartData {
        ChartData {
            id: id.into(),
            kind: crate::wire::ChartKind::Lines,
            title: String::new(),
            description: String::new(),
            unit: crate::wire::Unit::Count,
            axis,
            series: Vec::new(),
            previous_label: None,
            highlight_x: None,
            empty_message: String::new(),
            markers: Vec::new(),
            band: None,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn filter(from: &str, to: &str, store: Option<u32>, sensors: Vec<u32>) -> KpiFilter {
        KpiFilter {
            store_id: store,
            sensor_ids: sensors,
            within_stores: None,
            from: d(from),
            to: d(to),
            hour_from: 9,
            hour_to: 19,
        }
    }

    #[test]
    fn markers_sit_on_the_day_or_hour_of_their_start_in_paris_time() {
        // Wednesday 2025-03-12, 23:30 UTC is already Thursday in Paris.
        let late = Utc.with_ymd_and_hms(2025, 3, 12, 23, 30, 0).unwrap();
        let days = Axis::Days(vec![d("2025-03-12"), d("2025-03-13"), d("2025-03-14")]);
        let mut charts = vec![
            chart("visitors", days.clone()),
            chart("conversion_day", days),
            chart("heatmap", Axis::Hours { first: 9, last: 19 }),
        ];
        let alerts = vec![
            alert(Rule::SensorSilent, 1, Some(3), late),
            alert(Rule::TillFeedDown, 1, None, late),
            alert(Rule::SensorSilent, 2, Some(1), late),
        ];
        mark(
            &mut charts,
            &alerts,
            &filter("2025-03-12", "2025-03-14", Some(1), vec![]),
            |s| s.to_string(),
            Lang::Fr,
        );
        assert_eq!(
            charts[0].markers.len(),
            1,
            "the other store's alert is not drawn"
        );
        assert_eq!(charts[0].markers[0].index, 1);
        assert!(charts[0].markers[0].text.contains("capteur muet"));
        assert!(charts[0].markers[0].text.contains("13/03/2025 00:30"));
        assert_eq!(
            charts[1].markers.len(),
            1,
            "the till feed goes on sales charts"
        );
        assert!(
            charts[2].markers.is_empty(),
            "no time axis over several days"
        );

        // A sensor the filter leaves out; an hourly chart of one day.
        let noon = Utc.with_ymd_and_hms(2025, 3, 13, 11, 0, 0).unwrap();
        let mut hourly = vec![chart("visitors", Axis::Hours { first: 9, last: 19 })];
        let alerts = vec![
            alert(Rule::SensorSilent, 1, Some(3), noon),
            alert(Rule::SensorSilent, 1, Some(4), noon),
            alert(Rule::TrafficLow, 1, None, noon - chrono::Duration::days(2)),
        ];
        mark(
            &mut hourly,
            &alerts,
            &filter("2025-03-13", "2025-03-13", Some(1), vec![4]),
            |s| s.to_string(),
            Lang::En,
        );
        let idx: Vec<usize> = hourly[0].markers.iter().map(|m| m.index).collect();
        assert_eq!(
            idx,
            vec![3, 0],
            "sensor 4 at 12h (index 3), the older alert on the first hour"
        );
    }
}
