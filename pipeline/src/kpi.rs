//! The KPI formulas, the dashboard filter and the figures' types — the one place that
//! defines them. The queries behind them live beside the rollups they read
//! (`warehouse::dashboard`); the dashboard's server functions and the CSV export use both.
//!
//! Conversion is a store-level figure: transactions are counted per store, so its
//! visitors are all of the store's sensors, whatever the sensor filter shows.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::OPENING_HOURS;

/// What the dashboard looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiFilter {
    /// One store, or all stores when `None`.
    pub store_id: Option<u32>,
    /// Sensors of the selected store to count visitors on; empty means all.
    pub sensor_ids: Vec<u32>,
    /// The stores the person asking may see: `None` for the whole chain, `Some` for a
    /// person limited to some stores ("all stores" then means all of theirs, and the
    /// ranking lists only them). Set by [`crate::filter::resolve_scoped`]; every query
    /// honours it.
    #[serde(default)]
    pub within_stores: Option<Vec<u32>>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Opening hours shown, inclusive (see `calendar::OPENING_HOURS`).
    pub hour_from: u32,
    pub hour_to: u32,
}

impl KpiFilter {
    /// Number of days covered.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period just before this one, aligned on weekdays: shifted back by the smallest
    /// whole number of weeks that clears it (a Monday–Wednesday is compared with the
    /// Monday–Wednesday before; a 10-day period with the same 10 days two weeks earlier).
    pub fn previous(&self) -> KpiFilter {
        let weeks = (self.days() + 6) / 7;
        self.shifted_back(weeks * 7)
    }

    /// The same period one year earlier, 364 days back so that weekdays align.
    pub fn year_before(&self) -> KpiFilter {
        self.shifted_back(364)
    }

    /// The period `c` compares this one with, if any.
    pub fn compared(&self, c: Comparison) -> Option<KpiFilter> {
        match c {
            Comparison::Previous => Some(self.previous()),
            Comparison::LastYear => Some(self.year_before()),
            Comparison::None => None,
        }
    }

    fn shifted_back(&self, days: i64) -> KpiFilter {
        let d = Duration::days(days);
        KpiFilter {
            from: self.from - d,
            to: self.to - d,
            ..self.clone()
        }
    }

    /// True when the period is a single day (the dashboard then shows hours).
    pub fn is_single_day(&self) -> bool {
        self.from == self.to
    }

    /// True when the filter selects no day or no opening hour.
    pub fn selects_nothing(&self) -> bool {
        let (h0, h1) = self.hours();
        h0 > h1 || self.from > self.to || self.within_stores.as_ref().is_some_and(Vec::is_empty)
    }

    /// The hours shown, clamped to the opening hours.
    pub fn hours(&self) -> (u32, u32) {
        (
            self.hour_from.max(*OPENING_HOURS.start()),
            self.hour_to.min(*OPENING_HOURS.end()),
        )
    }

    /// True when `sensor_id` is shown (no sensor list means all of them).
    pub fn sensor_selected(&self, sensor_id: u32) -> bool {
        self.sensor_ids.is_empty() || self.sensor_ids.contains(&sensor_id)
    }
}

/// What a period is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Comparison {
    /// The weeks just before, aligned on weekdays ([`KpiFilter::previous`]).
    #[default]
    Previous,
    /// 364 days earlier ([`KpiFilter::year_before`]).
    LastYear,
    None,
}

impl Comparison {
    /// The URL value: `prev`, `year` or `none`.
    pub fn code(self) -> &'static str {
        match self {
            Comparison::Previous => "prev",
            Comparison::LastYear => "year",
            Comparison::None => "none",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim() {
            "prev" | "previous" => Some(Comparison::Previous),
            "year" => Some(Comparison::LastYear),
            "none" => Some(Comparison::None),
            _ => None,
        }
    }
}

/// Sums over a filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Visitors on the selected sensors.
    pub visitors: i64,
    /// Visitors on all sensors of the selected stores (conversion's denominator).
    pub store_visitors: i64,
    /// Sensors with at least one genuine (not imputed) count.
    pub active_sensors: i64,
    pub transactions: i64,
    pub revenue: f64,
}

/// The dashboard's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    pub visitors: i64,
    pub active_sensors: i64,
    pub transactions: i64,
    pub revenue: f64,
    /// Σ transactions / Σ visitors (store level), in [0, 1].
    pub conversion: Option<f64>,
    /// Revenue / transactions.
    pub average_ticket: Option<f64>,
    /// Revenue / visitors (store level).
    pub revenue_per_visitor: Option<f64>,
}

/// Integer cents as euros (the API's and the dashboard's unit, two decimals). Sums are
/// always taken in cents, so no figure depends on the order of a float summation.
pub fn euros(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Σ transactions / Σ visitors; `None` without visitors. Never a mean of ratios.
pub fn conversion(transactions: i64, visitors: i64) -> Option<f64> {
    (visitors > 0).then(|| transactions as f64 / visitors as f64)
}

pub fn average_ticket(revenue: f64, transactions: i64) -> Option<f64> {
    (transactions > 0).then(|| revenue / transactions as f64)
}

pub fn revenue_per_visitor(revenue: f64, visitors: i64) -> Option<f64> {
    (visitors > 0).then(|| revenue / visitors as f64)
}

impl Kpis {
    pub fn from_totals(t: &Totals) -> Self {
        Kpis {
            visitors: t.visitors,
            active_sensors: t.active_sensors,
            transactions: t.transactions,
            revenue: t.revenue,
            conversion: conversion(t.transactions, t.store_visitors),
            average_ticket: average_ticket(t.revenue, t.transactions),
            revenue_per_visitor: revenue_per_visitor(t.revenue, t.store_visitors),
        }
    }
}

/// Store-level sums for one (date, hour) or one store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreSums {
    pub visitors: i64,
    pub transactions: i64,
    /// Revenue in euros (`revenue_cents / 100`, for display).
    pub revenue: f64,
    /// Revenue in integer cents: what is summed.
    #[serde(default)]
    pub revenue_cents: i64,
}

impl StoreSums {
    /// From sums read together: visitors, transactions, revenue in cents.
    pub fn from_row(visitors: i64, transactions: i64, revenue_cents: i64) -> Self {
        StoreSums {
            visitors,
            transactions,
            revenue: euros(revenue_cents),
            revenue_cents,
        }
    }

    fn add(&mut self, o: &StoreSums) {
        self.visitors += o.visitors;
        self.transactions += o.transactions;
        self.revenue_cents += o.revenue_cents;
        self.revenue = euros(self.revenue_cents);
    }

    pub fn conversion(&self) -> Option<f64> {
        conversion(self.transactions, self.visitors)
    }
}

/// The all-stores chart draws this many stores (the busiest): one line per store of a
/// 1,000-store chain would be unreadable (and megabytes of SVG).
pub const STORE_SERIES_CAP: usize = 10;

/// Everything the dashboard draws for one filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardFigures {
    pub totals: Totals,
    /// Daily visitors per series: per sensor for one store; for all stores, per store for
    /// the [`STORE_SERIES_CAP`] busiest stores of the period.
    pub daily_series: BTreeMap<u32, BTreeMap<NaiveDate, i64>>,
    /// How many series there were before the cap (stores with data, or sensors shown).
    pub series_of: usize,
    /// Store-level sums per (date, hour).
    pub by_date_hour: BTreeMap<(NaiveDate, u32), StoreSums>,
    /// Store-level sums per store (all stores, for the ranking).
    pub by_store: BTreeMap<u32, StoreSums>,
    /// For a single day: visitors per series (the keys of `daily_series`) and hour.
    pub hourly_series: BTreeMap<u32, BTreeMap<u32, i64>>,
}

impl DashboardFigures {
    pub fn by_date(&self) -> BTreeMap<NaiveDate, StoreSums> {
        let mut m: BTreeMap<NaiveDate, StoreSums> = BTreeMap::new();
        for ((d, _), s) in &self.by_date_hour {
            m.entry(*d).or_default().add(s);
        }
        m
    }

    pub fn by_hour(&self) -> BTreeMap<u32, StoreSums> {
        let mut m: BTreeMap<u32, StoreSums> = BTreeMap::new();
        for ((_, h), s) in &self.by_date_hour {
            m.entry(*h).or_default().add(s);
        }
        m
    }
}
/// One store-hour of the export: the filter's visitors with the store's sales, so that
/// summing a column of the export gives the dashboard's KPI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExportHour {
    pub date: NaiveDate,
    pub hour: u32,
    pub store_id: u32,
    /// Visitors on the selected sensors (all of the store's when none is selected).
    pub visitors: i64,
    /// Visitors on all of the store's sensors (conversion's denominator).
    pub store_visitors: i64,
    pub transactions: i64,
    pub revenue: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_a_ratio_of_sums_not_a_mean_of_ratios() {
        // Hour A: 10 tx / 100 visitors (10 %); hour B: 90 tx / 300 visitors (30 %).
        // Mean of ratios = 20 %; the right figure is 100 / 400 = 25 %.
        assert_eq!(conversion(10 + 90, 100 + 300), Some(0.25));
        assert_eq!(conversion(5, 0), None);
        let k = Kpis::from_totals(&Totals {
            visitors: 150,
            store_visitors: 400,
            active_sensors: 3,
            transactions: 100,
            revenue: 5000.0,
        });
        assert_eq!(
            k.conversion,
            Some(0.25),
            "store-level visitors, not the sensor filter's"
        );
        assert_eq!(k.average_ticket, Some(50.0));
        assert_eq!(k.revenue_per_visitor, Some(12.5));
    }

    #[test]
    fn previous_period_has_the_same_length_just_before() {
        let f = KpiFilter {
            store_id: None,
            sensor_ids: vec![],
            within_stores: None,
            from: "2025-03-10".parse().expect("date"),
            to: "2025-03-16".parse().expect("date"),
            hour_from: 9,
            hour_to: 19,
        };
        let p = f.previous();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2025-03-03".into(), "2025-03-09".into())
        );
        assert_eq!(p.days(), 7);
    }

    #[test]
    fn comparisons_align_weekdays() {
        let f = |from: &str, to: &str| KpiFilter {
            store_id: None,
            sensor_ids: vec![],
            within_stores: None,
            from: from.parse().expect("date"),
            to: to.parse().expect("date"),
            hour_from: 9,
            hour_to: 19,
        };
        let s = |k: KpiFilter| (k.from.to_string(), k.to.to_string());
        // Monday–Wednesday → the Monday–Wednesday before, not Friday–Sunday.
        let mon_wed = f("2025-03-10", "2025-03-12");
        assert_eq!(
            s(mon_wed.previous()),
            ("2025-03-03".into(), "2025-03-05".into())
        );
        // Ten days → the same weekdays two weeks earlier.
        assert_eq!(
            s(f("2025-03-10", "2025-03-19").previous()),
            ("2025-02-24".into(), "2025-03-05".into())
        );
        // Last year: 364 days back, a Monday again.
        let y = mon_wed.year_before();
        assert_eq!(s(y.clone()), ("2024-03-11".into(), "2024-03-13".into()));
        assert_eq!(chrono::Datelike::weekday(&y.from), chrono::Weekday::Mon);
        assert!(mon_wed.compared(Comparison::None).is_none());
        assert_eq!(Comparison::from_code("year"), Some(Comparison::LastYear));
        assert_eq!(Comparison::from_code("bogus"), None);
    }
}
