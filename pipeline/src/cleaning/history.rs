//! The daily shape the fill follows: the genuine values of the same weekday in recent
//! weeks ([`History`]), and the fill of a slot from it.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use crate::clean_rows::CleanDay;
use crate::clock::first_available_date;

/// How many weeks back the daily shape is learnt from (same weekday).
pub const HISTORY_WEEKS: i64 = 4;

/// The genuine (not imputed) values of the same weekday in the recent weeks: each
/// sensor's and each store's own hourly profile, which the fill follows.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// (store, sensor, hour) → (Σ visitors, weeks).
    sensors: BTreeMap<(i64, i64, u32), (i64, i64)>,
    /// (store, hour) → (Σ transactions, Σ cents, weeks).
    stores: BTreeMap<(i64, u32), (i64, i64, i64)>,
}

impl History {
    /// The days a day's shape is learnt from: the same weekday of the
    /// [`HISTORY_WEEKS`] weeks before, from the service's first day on.
    pub fn dates_for(date: NaiveDate) -> Vec<NaiveDate> {
        (1..=HISTORY_WEEKS)
            .filter_map(|w| date.checked_sub_signed(Duration::weeks(w)))
            .filter(|d| *d >= first_available_date())
            .collect()
    }

    /// Adds one genuine sensor-hour (imputed or zero counts are ignored).
    pub fn add_visitor(&mut self, store_id: i64, sensor_id: i64, hour: u32, value: i64) {
        if value > 0 {
            let e = self.sensors.entry((store_id, sensor_id, hour)).or_default();
            e.0 += value;
            e.1 += 1;
        }
    }

    /// Adds one genuine store-hour of sales.
    pub fn add_sales(&mut self, store_id: i64, hour: u32, transactions: i64, cents: i64) {
        if transactions > 0 {
            let e = self.stores.entry((store_id, hour)).or_default();
            e.0 += transactions;
            e.1 += cents;
            e.2 += 1;
        }
    }

    /// Adds `weeks` genuine counts of one sensor-hour summing to `sum`.
    pub fn add_visitor_sum(
        &mut self,
        store_id: i64,
        sensor_id: i64,
        hour: u32,
        sum: i64,
        weeks: i64,
    ) {
        if weeks > 0 {
            let e = self.sensors.entry((store_id, sensor_id, hour)).or_default();
            e.0 += sum;
            e.1 += weeks;
        }
    }

    /// Adds `weeks` genuine store-hours of sales summing to `transactions` and `cents`.
    pub fn add_sales_sum(
        &mut self,
        store_id: i64,
        hour: u32,
        transactions: i64,
        cents: i64,
        weeks: i64,
    ) {
        if weeks > 0 {
            let e = self.stores.entry((store_id, hour)).or_default();
            e.0 += transactions;
            e.1 += cents;
            e.2 += weeks;
        }
    }

    /// Adds a cleaned day's genuine rows (tests, simulations).
    pub fn add_day(&mut self, day: &CleanDay) {
        for v in day.visitors.iter().filter(|v| !v.imputed) {
            self.add_visitor(
                v.store_id as i64,
                v.sensor_id as i64,
                v.hour,
                v.nb_visiteurs as i64,
            );
        }
        for t in day.transactions.iter().filter(|t| !t.imputed) {
            self.add_sales(
                t.store_id as i64,
                t.hour,
                t.nb_transactions as i64,
                t.chiffre_affaires_centimes,
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sensors.is_empty() && self.stores.is_empty()
    }

    pub(super) fn sensor_mean(&self, store: i64, sensor: i64, hour: u32) -> Option<f64> {
        self.sensors
            .get(&(store, sensor, hour))
            .map(|&(sum, n)| sum as f64 / n as f64)
    }

    pub(super) fn store_means(&self, store: i64, hour: u32) -> Option<(f64, f64)> {
        self.stores
            .get(&(store, hour))
            .map(|&(t, c, n)| (t as f64 / n as f64, c as f64 / n as f64))
    }
}

/// `profile(hour) × Σ present / Σ profile(present hours)`: a profile scaled to the day's
/// level, over the present hours the profile knows. `None` when it knows none of them.
pub(super) fn scaled(
    profile_at_hour: Option<f64>,
    present: impl Iterator<Item = (f64, Option<f64>)>,
) -> Option<f64> {
    let at_hour = profile_at_hour?;
    let (sum_v, sum_p) = present.fold((0.0, 0.0), |(sv, sp), (v, p)| match p {
        Some(p) => (sv + v, sp + p),
        None => (sv, sp),
    });
    (sum_p > 0.0).then(|| at_hour * sum_v / sum_p)
}
