//! The store-traffic simulator, following the original's rules (see SEED.md) with its
//! defects fixed: hour 19 is open, and transactions derive from the same store-hour
//! visitors as the sensors' counts.
//!
//! Every value is a pure function of (store, sensor, local date, local hour): the random
//! stream is seeded from those fields, so one hour always yields one answer.
//!
//! Two profiles ([`Profile`]): `default` (the rules above, defects fixed) and `original`
//! (the original service's numbers exactly, quirks included; see [`original`]).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use crate::reference::{Reference, Sensor, Store};

use crate::calendar::is_open_day;

pub mod incidents;
pub mod original;
pub mod shape;

use incidents::{HourEffects, Incidents, SensorEffect};

use shape::{hour_coef, weekday_coef, StoreHour};

/// Share of open-hour readings with a missing value.
pub const MISSING_RATE: f64 = 0.04;
/// Share of open-hour readings that are high outliers (raw 900–1200, then scaled).
pub const HIGH_OUTLIER_RATE: f64 = 0.02;
/// Share of open-hour readings that are low outliers (a reading of 1 or 2).
pub const LOW_OUTLIER_RATE: f64 = 0.02;
/// Chance of a few visitors counted at night (cleaning staff, deliveries).
pub const NIGHT_VISIT_RATE: f64 = 0.001;

/// What kind of reading the simulator produced: the ground truth for cleaning tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// A genuine count.
    None,
    /// The sensor sent nothing (`null`).
    Missing,
    /// The count is about ten times too high.
    HighOutlier,
    /// The sensor reported 1 or 2 instead of its real count.
    LowOutlier,
    /// An incident (see [`incidents`]) changed what the sensor reported: silent (`null`),
    /// stuck at zero, or degraded.
    Incident,
}

/// One sensor's count for one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorReading {
    /// What the sensor reported (`None` when missing).
    pub value: Option<i64>,
    /// The real number of visitors through this door.
    pub true_value: i64,
    pub fault: Fault,
}

/// The chain's values for one hour (see [`Simulator::chain_hour`]).
#[derive(Debug, Clone)]
pub struct ChainHour<'a> {
    pub readings: Vec<(&'a Store, &'a Sensor, SensorReading)>,
    pub sales: Vec<(&'a Store, StoreHour)>,
}

/// Which rules produce the numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// SEED.md's rules with the original's defects fixed: hour 19 open, transactions
    /// derived from the sensors' own store-hour visitors.
    #[default]
    Default,
    /// The original service's values exactly (SHA-256-seeded CPython `random`), with its
    /// quirks: 19h reads as night, transactions drawn apart from the visitors.
    Original,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::Default, Profile::Original];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Original => "original",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "default" => Ok(Profile::Default),
            "original" => Ok(Profile::Original),
            other => Err(format!(
                "unknown simulator profile {other:?} (expected \"default\" or \"original\")"
            )),
        }
    }
}

/// The simulator over one chain.
#[derive(Debug, Clone)]
pub struct Simulator {
    reference: Arc<Reference>,
    profile: Profile,
    incidents: Incidents,
}

impl Simulator {
    /// The default profile, with its incidents (see [`incidents`]).
    pub fn new(reference: Arc<Reference>) -> Self {
        Self::with_profile(reference, Profile::Default)
    }

    /// A profile; the default one injects incidents unless [`Simulator::with_incidents`]
    /// turns them off (the `original` profile never has any).
    pub fn with_profile(reference: Arc<Reference>, profile: Profile) -> Self {
        Self {
            reference,
            profile,
            incidents: Incidents::On,
        }
    }

    /// Turns the incidents on or off (`DATAMAG_INCIDENTS`).
    pub fn with_incidents(mut self, incidents: Incidents) -> Self {
        self.incidents = incidents;
        self
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// True when incidents change the values (default profile, incidents on).
    pub fn has_incidents(&self) -> bool {
        self.profile == Profile::Default && self.incidents == Incidents::On
    }

    /// The ground truth: every incident overlapping the local days `from..=to` (none when
    /// [`Simulator::has_incidents`] is false).
    pub fn incidents(&self, from: NaiveDate, to: NaiveDate) -> Vec<incidents::Incident> {
        if !self.has_incidents() {
            return Vec::new();
        }
        incidents::incidents_between(&self.reference, from, to)
    }

    /// What incidents do to `store` at that hour.
    fn effects(&self, store: &Store, date: NaiveDate, hour: u32) -> Option<HourEffects> {
        if !self.has_incidents() {
            return None;
        }
        incidents::effects(&self.reference, store, date, hour)
    }

    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The whole chain for one local hour: every sensor's reading and every store's sales,
    /// in reference order; empty on a closed day. The collector and the `/releves`
    /// endpoint both read an hour through this.
    pub fn chain_hour(&self, date: NaiveDate, hour: u32) -> ChainHour<'_> {
        let mut out = ChainHour {
            readings: Vec::new(),
            sales: Vec::new(),
        };
        if !is_open_day(date) {
            return out;
        }
        let reference = &*self.reference;
        out.readings.reserve(reference.sensor_count());
        out.sales.reserve(reference.stores().len());
        for store in reference.stores() {
            if self.profile == Profile::Original {
                for sensor in reference.sensors_of(store.store_id) {
                    if let Some(r) = self.sensor_reading(store, sensor, date, hour) {
                        out.readings.push((store, sensor, r));
                    }
                }
                if let Some(s) = self.store_hour(store, date, hour) {
                    out.sales.push((store, s));
                }
                continue;
            }
            // The store's incidents are looked up once for its sensors and its sales.
            let fx = self.effects(store, date, hour);
            let Some(day_coef) = weekday_coef(date) else {
                continue;
            };
            for sensor in reference.sensors_of(store.store_id) {
                let r = reading(store, sensor, date, hour, day_coef, fx.as_ref());
                out.readings.push((store, sensor, r));
            }
            out.sales.push((
                store,
                self.default_sales(store, date, hour, day_coef, fx.as_ref()),
            ));
        }
        out
    }

    /// A sensor's reading for one local hour, or `None` on a closed (weekend) day.
    pub fn sensor_reading(
        &self,
        store: &Store,
        sensor: &Sensor,
        date: NaiveDate,
        hour: u32,
    ) -> Option<SensorReading> {
        if self.profile == Profile::Original {
            return original_reading(store, sensor, date, hour);
        }
        let day_coef = weekday_coef(date)?;
        let fx = self.effects(store, date, hour);
        Some(reading(store, sensor, date, hour, day_coef, fx.as_ref()))
    }

    /// A store's sales for one local hour, or `None` on a closed day. Outside opening
    /// hours the store sells nothing.
    pub fn store_hour(&self, store: &Store, date: NaiveDate, hour: u32) -> Option<StoreHour> {
        if self.profile == Profile::Original {
            let sensors = self.reference.sensors_of(store.store_id);
            return original::store_sales(store, sensors, date, hour);
        }
        let day_coef = weekday_coef(date)?;
        let fx = self.effects(store, date, hour);
        Some(self.default_sales(store, date, hour, day_coef, fx.as_ref()))
    }

    /// A store-hour's sales under the default profile, on an open day.
    fn default_sales(
        &self,
        store: &Store,
        date: NaiveDate,
        hour: u32,
        day_coef: f64,
        fx: Option<&HourEffects>,
    ) -> StoreHour {
        if hour_coef(hour).is_none() {
            return StoreHour {
                transactions: 0,
                chiffre_affaires: 0.0,
                visitors: 0,
            };
        }
        let visitors: i64 = self
            .reference
            .sensors_of(store.store_id)
            .iter()
            .map(|sensor| reading(store, sensor, date, hour, day_coef, fx).true_value)
            .sum();
        if fx.is_some_and(|fx| fx.till_down) {
            // The till feed is down: the doors count people, the feed says nothing sold.
            return StoreHour {
                transactions: 0,
                chiffre_affaires: 0.0,
                visitors,
            };
        }
        // Sensor ids start at 1: stream 0 of a store is its till.
        let mut draws = Draws::new(store.store_id, 0, date, hour);
        let conversion = draws.uniform(0.15, 0.30);
        let transactions = (visitors as f64 * conversion).round() as i64;
        let mut cents: i64 = 0;
        for _ in 0..transactions {
            cents += (draws.uniform(10.0, 120.0) * 100.0).round() as i64;
        }
        StoreHour {
            transactions,
            chiffre_affaires: cents as f64 / 100.0,
            visitors,
        }
    }
}

/// A reading under the `original` profile. The original draws no genuine count behind
/// a fault, so a faulty reading's `true_value` is 0 there; genuine ones carry their value.
fn original_reading(
    store: &Store,
    sensor: &Sensor,
    date: NaiveDate,
    hour: u32,
) -> Option<SensorReading> {
    use original::RawCount;
    let (raw, value) = original::sensor_value(store, sensor, date, hour)?;
    let fault = match raw {
        RawCount::Night(_) | RawCount::Genuine(_) => Fault::None,
        RawCount::Missing => Fault::Missing,
        RawCount::High(_) => Fault::HighOutlier,
        RawCount::Low(_) => Fault::LowOutlier,
    };
    let true_value = match fault {
        Fault::None => value.unwrap_or(0),
        _ => 0,
    };
    Some(SensorReading {
        value,
        true_value,
        fault,
    })
}

/// A sensor's reading under the default profile, with the incidents in effect (`fx`).
fn reading(
    store: &Store,
    sensor: &Sensor,
    date: NaiveDate,
    hour: u32,
    day_coef: f64,
    fx: Option<&HourEffects>,
) -> SensorReading {
    let r = base_reading(store, sensor, date, hour, day_coef);
    match fx {
        None => r,
        Some(fx) => with_incidents(r, fx, sensor.sensor_id, hour),
    }
}

/// Applies a store-hour's incidents to a reading: a closure or an event changes the truth
/// (and a genuine reading with it); a silent, stuck or degraded sensor changes what it
/// reports.
fn with_incidents(
    mut r: SensorReading,
    fx: &HourEffects,
    sensor_id: u32,
    hour: u32,
) -> SensorReading {
    if fx.closed {
        r.true_value = 0;
        if r.fault != Fault::Missing {
            r.value = Some(0);
            r.fault = Fault::None;
        }
    } else if fx.event > 1.0 && hour_coef(hour).is_some() {
        r.true_value = (r.true_value as f64 * fx.event) as i64;
        if r.fault == Fault::None {
            r.value = Some(r.true_value);
        }
    }
    match fx.sensor(sensor_id) {
        Some(SensorEffect::Silent) => {
            r.value = None;
            r.fault = Fault::Incident;
        }
        Some(SensorEffect::StuckZero) => {
            r.value = Some(0);
            r.fault = Fault::Incident;
        }
        // A degraded sensor reads a share of the genuine count (its faults stay faults).
        Some(SensorEffect::Degraded(share)) if r.fault == Fault::None && r.true_value > 0 => {
            r.value = Some((r.true_value as f64 * share) as i64);
            r.fault = Fault::Incident;
        }
        Some(SensorEffect::Degraded(_)) | None => {}
    }
    r
}

fn base_reading(
    store: &Store,
    sensor: &Sensor,
    date: NaiveDate,
    hour: u32,
    day_coef: f64,
) -> SensorReading {
    let mut draws = Draws::new(store.store_id, sensor.sensor_id, date, hour);
    let Some(hour_coef) = hour_coef(hour) else {
        let value = if draws.unit() < NIGHT_VISIT_RATE {
            draws.int(1, 3)
        } else {
            0
        };
        return SensorReading {
            value: Some(value),
            true_value: value,
            fault: Fault::None,
        };
    };
    let scale = store.coef * sensor.coef * day_coef * hour_coef * draws.uniform(0.95, 1.05);
    let true_value = (draws.int(90, 120) as f64 * scale) as i64;
    let fault_draw = draws.unit();
    let (value, fault) = if fault_draw < MISSING_RATE {
        (None, Fault::Missing)
    } else if fault_draw < MISSING_RATE + HIGH_OUTLIER_RATE {
        (
            Some((draws.int(900, 1200) as f64 * scale) as i64),
            Fault::HighOutlier,
        )
    } else if fault_draw < MISSING_RATE + HIGH_OUTLIER_RATE + LOW_OUTLIER_RATE {
        (Some(draws.int(1, 2)), Fault::LowOutlier)
    } else {
        (Some(true_value), Fault::None)
    };
    SensorReading {
        value,
        true_value,
        fault,
    }
}

/// A deterministic random stream for one (store, sensor-or-till, date, hour).
struct Draws(Pcg64Mcg);

impl Draws {
    fn new(store_id: u32, stream: u32, date: NaiveDate, hour: u32) -> Self {
        // Distinct fields land in distinct bits; PCG's seeding then mixes them.
        let day = date.num_days_from_ce() as u64;
        let key = ((store_id as u64) << 40)
            ^ ((stream as u64) << 24)
            ^ ((day & 0x7_FFFF) << 5)
            ^ (hour as u64 & 0x1F);
        Self(Pcg64Mcg::seed_from_u64(key))
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform integer in [low, high].
    fn int(&mut self, low: i64, high: i64) -> i64 {
        low + (self.unit() * (high - low + 1) as f64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::OPENING_HOURS;
    use std::collections::HashMap;

    /// The seed rules alone: incidents off (they are tested below and in `incidents`).
    fn sim() -> Simulator {
        Simulator::new(Arc::new(Reference::embedded())).with_incidents(Incidents::Off)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn same_inputs_same_answer() {
        let s = sim();
        let store = s.reference().store(1).expect("store").clone();
        let sensor = s.reference().sensor(1, 9).expect("sensor").clone();
        let a = s.sensor_reading(&store, &sensor, date(2024, 10, 14), 12);
        let b = s.sensor_reading(&store, &sensor, date(2024, 10, 14), 12);
        assert_eq!(a, b);
        assert!(a.is_some());
        let other = s.sensor_reading(&store, &sensor, date(2024, 10, 14), 13);
        assert_ne!(a, other);
    }

    /// The `original` profile answers every test vector checked against the original
    /// service (data/original_vectors.csv, from SEED.md's reference folder).
    #[test]
    fn original_profile_reproduces_the_original_vectors() {
        let s = Simulator::with_profile(Arc::new(Reference::embedded()), Profile::Original);
        let r = s.reference();
        let text = include_str!("../../data/original_vectors.csv");
        let mut checked = 0;
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            let store = r.store_by_city(f[1]).expect("known store");
            let date: NaiveDate = f[3].parse().expect("date");
            let hour: u32 = f[4].parse().expect("hour");
            let got = match f[0] {
                "visiteurs" => {
                    let sensor = r
                        .sensor(store.store_id, f[2].parse().expect("sensor"))
                        .expect("known sensor");
                    match s.sensor_reading(store, sensor, date, hour) {
                        None => "-1".to_string(),
                        Some(reading) => reading
                            .value
                            .map_or_else(|| "null".to_string(), |v| v.to_string()),
                    }
                }
                _ => match s.store_hour(store, date, hour) {
                    None => "-1;-1".to_string(),
                    Some(h) if h.transactions == 0 && h.chiffre_affaires == 0.0 => {
                        "0;0".to_string()
                    }
                    Some(h) => format!("{};{}", h.transactions, h.chiffre_affaires),
                },
            };
            assert_eq!(got, f[5], "{line}");
            checked += 1;
        }
        assert!(checked >= 20, "{checked} vectors");
    }

    #[test]
    fn weekends_are_closed_and_nights_are_empty() {
        let s = sim();
        let store = s.reference().store(2).expect("store").clone();
        let sensor = s.reference().sensor(2, 1).expect("sensor").clone();
        assert!(s
            .sensor_reading(&store, &sensor, date(2024, 10, 12), 12)
            .is_none());
        assert!(s.store_hour(&store, date(2024, 10, 13), 12).is_none());
        let night = s
            .store_hour(&store, date(2024, 10, 14), 3)
            .expect("open day");
        assert_eq!((night.transactions, night.chiffre_affaires), (0, 0.0));
    }

    /// A simulated year of the default chain: rates and ranges follow SEED.md.
    #[test]
    fn a_year_matches_the_seed_rules() {
        let s = sim();
        let mut counts: HashMap<Fault, u64> = HashMap::new();
        let mut open_readings = 0u64;
        let mut night_readings = 0u64;
        let mut night_visits = 0u64;
        let mut hour19_total = 0i64;
        let mut conversions = Vec::new();
        let (mut min_true, mut max_true) = (i64::MAX, i64::MIN);
        let mut high_range = (i64::MAX, i64::MIN);
        let mut days = 0;
        let mut d = date(2024, 1, 1);
        while d < date(2025, 1, 1) {
            for hour in 0..24 {
                for (store, sensor) in s.reference().all_sensors() {
                    let Some(r) = s.sensor_reading(store, sensor, d, hour) else {
                        assert!(!is_open_day(d));
                        continue;
                    };
                    if OPENING_HOURS.contains(&hour) {
                        open_readings += 1;
                        *counts.entry(r.fault).or_default() += 1;
                        min_true = min_true.min(r.true_value);
                        max_true = max_true.max(r.true_value);
                        match r.fault {
                            Fault::HighOutlier => {
                                let v = r.value.expect("high outliers have a value");
                                high_range = (high_range.0.min(v), high_range.1.max(v));
                            }
                            Fault::LowOutlier => {
                                assert!(matches!(r.value, Some(1 | 2)));
                            }
                            Fault::Missing => assert!(r.value.is_none()),
                            Fault::None => assert_eq!(r.value, Some(r.true_value)),
                            Fault::Incident => panic!("incidents are off"),
                        }
                        if hour == 19 {
                            hour19_total += r.true_value;
                        }
                    } else {
                        night_readings += 1;
                        let v = r.value.expect("night readings have a value");
                        assert!((0..=3).contains(&v));
                        if v > 0 {
                            night_visits += 1;
                        }
                    }
                }
                for store in s.reference().stores() {
                    if let Some(h) = s.store_hour(store, d, hour) {
                        if OPENING_HOURS.contains(&hour) && h.visitors > 0 {
                            conversions.push(h.transactions as f64 / h.visitors as f64);
                            if h.transactions > 0 {
                                let ticket = h.chiffre_affaires / h.transactions as f64;
                                assert!((10.0..=120.0).contains(&ticket), "ticket {ticket}");
                            }
                            let cents = h.chiffre_affaires * 100.0;
                            assert!((cents - cents.round()).abs() < 1e-6);
                        }
                    }
                }
            }
            if is_open_day(d) {
                days += 1;
            }
            d = d.succ_opt().expect("next day");
        }
        assert_eq!(days, 262, "weekdays in 2024");
        let rate = |f: Fault| *counts.get(&f).unwrap_or(&0) as f64 / open_readings as f64;
        // 262 days × 11 hours × 83 sensors ≈ 239,000 readings: a 4-sigma band is ±0.0016.
        assert!(
            (rate(Fault::Missing) - 0.04).abs() < 0.002,
            "{}",
            rate(Fault::Missing)
        );
        assert!(
            (rate(Fault::HighOutlier) - 0.02).abs() < 0.0015,
            "{}",
            rate(Fault::HighOutlier)
        );
        assert!(
            (rate(Fault::LowOutlier) - 0.02).abs() < 0.0015,
            "{}",
            rate(Fault::LowOutlier)
        );
        assert!((rate(Fault::None) - 0.92).abs() < 0.003);
        let night_rate = night_visits as f64 / night_readings as f64;
        assert!((night_rate - 0.001).abs() < 0.0005, "{night_rate}");
        // Scaled genuine counts: 90 × 0.9 × 0.64 × 0.4 × 0.3 × 0.95 ≈ 5.9 up to
        // 120 × 1.5 × 1.18 × 0.6 × 0.9 × 1.05 ≈ 120.4.
        assert!((5..=8).contains(&min_true), "{min_true}");
        assert!((110..=120).contains(&max_true), "{max_true}");
        assert!(high_range.0 >= 59 && high_range.1 <= 1205, "{high_range:?}");
        assert!(hour19_total > 0, "hour 19 is open");
        let (cmin, cmax) = conversions
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &c| (a.min(c), b.max(c)));
        let mean = conversions.iter().sum::<f64>() / conversions.len() as f64;
        assert!(cmin >= 0.14 && cmax <= 0.31, "{cmin}..{cmax}");
        assert!((mean - 0.225).abs() < 0.005, "{mean}");
    }

    /// Incidents change the readings and sales as their truth says, and only there; off,
    /// the default profile's values are the seed rules' (the same as before incidents).
    #[test]
    fn incidents_follow_their_truth_and_switch_off() {
        let reference = Arc::new(Reference::embedded());
        let on = Simulator::new(reference.clone());
        let off = on.clone().with_incidents(Incidents::Off);
        assert!(on.has_incidents() && !off.has_incidents());
        let (from, to) = (date(2024, 1, 1), date(2024, 12, 31));
        let truth = on.incidents(from, to);
        assert!(truth.len() > 100, "{}", truth.len());
        assert!(off.incidents(from, to).is_empty());
        let mut seen = std::collections::HashSet::new();
        // The first incident of each kind that no other incident of its store overlaps.
        let alone = truth.iter().filter(|i| {
            !truth
                .iter()
                .any(|j| j != *i && j.store_id == i.store_id && j.start < i.end && i.start < j.end)
        });
        for i in alone {
            let store = reference.store(i.store_id).expect("store");
            let (d, h) = i.local_start();
            if d < from || !seen.insert(i.kind) {
                continue;
            }
            let sales_on = on.store_hour(store, d, h).expect("open day");
            let sales_off = off.store_hour(store, d, h).expect("open day");
            match i.kind {
                incidents::IncidentKind::TillFeedDown => {
                    assert_eq!(sales_on.transactions, 0);
                    assert!(sales_off.transactions > 0);
                    assert_eq!(sales_on.visitors, sales_off.visitors);
                }
                incidents::IncidentKind::StoreClosed => {
                    assert_eq!(sales_on.visitors, 0);
                    assert_eq!(sales_on.transactions, 0);
                }
                incidents::IncidentKind::EventDay => {
                    assert!(sales_on.visitors as f64 >= sales_off.visitors as f64 * 1.45);
                    assert!(sales_on.transactions > sales_off.transactions);
                }
                _ => {
                    let sensor = reference
                        .sensor(i.store_id, i.sensor_id.expect("sensor"))
                        .expect("sensor");
                    let r = on.sensor_reading(store, sensor, d, h).expect("open day");
                    let base = off.sensor_reading(store, sensor, d, h).expect("open day");
                    match i.kind {
                        incidents::IncidentKind::SensorSilent => assert_eq!(r.value, None),
                        incidents::IncidentKind::SensorStuckZero => assert_eq!(r.value, Some(0)),
                        _ if base.fault == Fault::None => {
                            let v = r.value.expect("degraded reads") as f64;
                            assert!(v <= base.true_value as f64 * 0.7 + 1.0, "{r:?} {base:?}");
                        }
                        _ => {}
                    }
                }
            }
            // The chain's hour (the collector's and /releves' path) says the same.
            let hour = on.chain_hour(d, h);
            let (_, s) = hour
                .sales
                .iter()
                .find(|(s, _)| s.store_id == i.store_id)
                .expect("store in the chain hour");
            assert_eq!(*s, sales_on);
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
        // Away from any incident, on and off agree.
        let store = reference.store(2).expect("store");
        let sensor = reference.sensor(2, 1).expect("sensor");
        let mut d = from;
        let mut compared = 0;
        while d <= to {
            for h in [3, 9, 14, 19] {
                let touched = truth.iter().any(|i| {
                    i.store_id == 2 && i.local_start() <= (d, h) && (d, h) < i.local_end()
                });
                if !touched && is_open_day(d) {
                    assert_eq!(
                        on.sensor_reading(store, sensor, d, h),
                        off.sensor_reading(store, sensor, d, h)
                    );
                    assert_eq!(on.store_hour(store, d, h), off.store_hour(store, d, h));
                    compared += 1;
                }
            }
            d = d.succ_opt().expect("date");
        }
        assert!(compared > 600, "{compared}");
    }

    /// The `original` profile ignores the incidents switch: its numbers stay the original's.
    #[test]
    fn original_profile_has_no_incidents() {
        let reference = Arc::new(Reference::embedded());
        let a = Simulator::with_profile(reference.clone(), Profile::Original);
        let b = a.clone().with_incidents(Incidents::Off);
        assert!(!a.has_incidents());
        assert!(a.incidents(date(2024, 1, 1), date(2024, 12, 31)).is_empty());
        let mut d = date(2024, 1, 1);
        while d < date(2024, 3, 1) {
            for h in [9, 12, 19] {
                let (ha, hb) = (a.chain_hour(d, h), b.chain_hour(d, h));
                assert_eq!(ha.readings, hb.readings);
                assert_eq!(ha.sales, hb.sales);
            }
            d = d.succ_opt().expect("date");
        }
    }
}
