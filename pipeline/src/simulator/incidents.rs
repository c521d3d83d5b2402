//! Incidents: what goes wrong in a real chain, injected into the default profile with their
//! ground truth, so that alerts can be scored (issue 26).
//!
//! Six kinds ([`IncidentKind`]): a sensor goes silent (it sends `null`), a sensor is stuck
//! at zero, a sensor degrades (it reads 40–70 % of the truth), a store is closed on a
//! weekday (nobody comes, nothing is sold), a store has an event day (+50–150 % visitors,
//! and the sales that follow them), and the till feed fails (0 transactions while the
//! doors count people as usual).
//!
//! **Determinism.** Time is cut into blocks of [`BLOCK_DAYS`] days. The incidents of one
//! store that *start* in one block are a pure function of (store, block): a random stream
//! seeded from both draws, per kind, how many start there (a Poisson count of mean
//! `rate per year × 28 / 365`), then for each its sensor, day, hour, length and strength.
//! No incident lasts longer than a block, so the incidents touching a day are those of
//! its block and of the block before: any hour is answered without state or cache.
//!
//! **Rates** (per store per year, [`RATES`]) and **lengths**:
//!
//! | kind | per store per year | length |
//! |---|---|---|
//! | sensor silent | 6 | 3 to 33 open hours (up to three open days), nights and weekends inside it included |
//! | sensor stuck at zero | 3 | 3 to 22 open hours |
//! | sensor degraded | 2 | 2 to 10 open days, 40–70 % of the truth |
//! | store closed on a weekday | 1 | one open day |
//! | event day | 4 | one open day, +50–150 % |
//! | till feed down | 3 | 2 to 11 open hours |
//!
//! A silent or stuck sensor is always at fault for at least 3 open hours: shorter gaps are
//! indistinguishable from the simulator's own random missing readings (4 % each), which
//! are cleaning's business, not incidents.
//!
//! Each incident's period is a half-open range of Paris local hours; its truth is given
//! in UTC ([`Incident::start`], [`Incident::end`]). Incidents of one sensor or store may
//! overlap; then silence wins over a stuck or degraded reading, and a closure over an event.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

use crate::calendar::{is_open_day, is_open_hour, OPENING_HOURS};
use crate::clock::HourSlot;
use crate::reference::{Reference, Store};

/// Length of a generation block, in days (four weeks).
pub const BLOCK_DAYS: i64 = 28;
/// Monday 2021-01-04, the first block's first day (days from the common era).
const ANCHOR_DAY: i64 = 737_794;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    SensorSilent,
    SensorStuckZero,
    SensorDegraded,
    StoreClosed,
    EventDay,
    TillFeedDown,
}

impl IncidentKind {
    pub const ALL: [IncidentKind; 6] = [
        IncidentKind::SensorSilent,
        IncidentKind::SensorStuckZero,
        IncidentKind::SensorDegraded,
        IncidentKind::StoreClosed,
        IncidentKind::EventDay,
        IncidentKind::TillFeedDown,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IncidentKind::SensorSilent => "sensor_silent",
            IncidentKind::SensorStuckZero => "sensor_stuck_zero",
            IncidentKind::SensorDegraded => "sensor_degraded",
            IncidentKind::StoreClosed => "store_closed",
            IncidentKind::EventDay => "event_day",
            IncidentKind::TillFeedDown => "till_feed_down",
        }
    }

    /// True for the kinds that concern one sensor.
    pub fn is_sensor(self) -> bool {
        matches!(
            self,
            IncidentKind::SensorSilent
                | IncidentKind::SensorStuckZero
                | IncidentKind::SensorDegraded
        )
    }

    /// The alert rule that should find this kind of incident.
    pub fn rule(self) -> crate::alerts::Rule {
        use crate::alerts::Rule;
        match self {
            IncidentKind::SensorSilent => Rule::SensorSilent,
            IncidentKind::SensorStuckZero => Rule::SensorStuckZero,
            IncidentKind::SensorDegraded => Rule::SensorDegraded,
            IncidentKind::StoreClosed => Rule::StoreClosed,
            IncidentKind::EventDay => Rule::TrafficHigh,
            IncidentKind::TillFeedDown => Rule::TillFeedDown,
        }
    }
}

impl std::fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// Incidents per store per year, by kind (see the module documentation).
pub const RATES: [(IncidentKind, f64); 6] = [
    (IncidentKind::SensorSilent, 6.0),
    (IncidentKind::SensorStuckZero, 3.0),
    (IncidentKind::SensorDegraded, 2.0),
    (IncidentKind::StoreClosed, 1.0),
    (IncidentKind::EventDay, 4.0),
    (IncidentKind::TillFeedDown, 3.0),
];

/// A Paris local hour as a number: days from the common era × 24 + hour.
type LocalHour = i64;

fn local_hour(date: NaiveDate, hour: u32) -> LocalHour {
    date.num_days_from_ce() as i64 * 24 + hour as i64
}

fn date_of(h: LocalHour) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(h.div_euclid(24) as i32).unwrap_or(NaiveDate::MIN)
}

/// The UTC instant a Paris local hour begins (see [`HourSlot::start_utc`]).
fn utc_of(h: LocalHour) -> DateTime<Utc> {
    HourSlot {
        date: date_of(h),
        hour: h.rem_euclid(24) as u32,
    }
    .start_utc()
}

/// One incident, with its truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub kind: IncidentKind,
    pub store_id: u32,
    /// The sensor, for the sensor kinds.
    pub sensor_id: Option<u32>,
    /// First hour affected (UTC).
    pub start: DateTime<Utc>,
    /// End, exclusive (UTC).
    pub end: DateTime<Utc>,
    /// Degraded: the share of the truth the sensor reads; event: the visitors' multiplier.
    pub factor: Option<f64>,
    #[serde(skip)]
    from: LocalHour,
    #[serde(skip)]
    to: LocalHour,
}

impl Incident {
    fn covers(&self, h: LocalHour) -> bool {
        self.from <= h && h < self.to
    }

    /// The Paris local date and hour it starts at.
    pub fn local_start(&self) -> (NaiveDate, u32) {
        (date_of(self.from), self.from.rem_euclid(24) as u32)
    }

    /// The Paris local date and hour it ends at (exclusive).
    pub fn local_end(&self) -> (NaiveDate, u32) {
        (date_of(self.to), self.to.rem_euclid(24) as u32)
    }
}

/// Whether the simulator injects incidents (default profile only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Incidents {
    On,
    Off,
}

impl std::str::FromStr for Incidents {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "on" | "1" | "true" | "yes" => Ok(Incidents::On),
            "off" | "0" | "false" | "no" => Ok(Incidents::Off),
            other => Err(format!(
                "unknown incidents setting {other:?} (expected on or off)"
            )),
        }
    }
}

/// What the incidents do to one store at one local hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HourEffects {
    pub closed: bool,
    /// Visitors' multiplier of an event (1 when none).
    pub event: f64,
    pub till_down: bool,
    /// Per sensor: silent, stuck, or degraded factor.
    pub sensors: Vec<(u32, SensorEffect)>,
}

/// What an incident does to one sensor's reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SensorEffect {
    Silent,
    StuckZero,
    Degraded(f64),
}

impl HourEffects {
    pub fn sensor(&self, sensor_id: u32) -> Option<SensorEffect> {
        self.sensors
            .iter()
            .find(|(s, _)| *s == sensor_id)
            .map(|(_, e)| *e)
    }
}

fn block_of(date: NaiveDate) -> i64 {
    (date.num_days_from_ce() as i64 - ANCHOR_DAY).div_euclid(BLOCK_DAYS)
}

fn block_first_day(block: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((ANCHOR_DAY + block * BLOCK_DAYS) as i32)
        .unwrap_or(NaiveDate::MIN)
}

/// A random stream for one (store, block).
struct Stream(Pcg64Mcg);

impl Stream {
    fn new(store_id: u32, block: i64) -> Self {
        // A salt keeps these streams apart from the readings' ones.
        let key = 0x1C1D_E475_0000_0000u64 ^ ((store_id as u64) << 20) ^ (block as u64 & 0xF_FFFF);
        Self(Pcg64Mcg::seed_from_u64(key))
    }
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn int(&mut self, low: i64, high: i64) -> i64 {
        low + (self.unit() * (high - low + 1) as f64) as i64
    }
    /// A Poisson count of mean `lambda` (inversion; `lambda` is small).
    fn poisson(&mut self, lambda: f64) -> u32 {
        let u = self.unit();
        let (mut k, mut p) = (0u32, (-lambda).exp());
        let mut cdf = p;
        while u > cdf && k < 50 {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
        }
        k
    }
}

/// The local hour after the `n`-th open hour counted from `from` (an open hour).
fn after_open_hours(from: LocalHour, n: i64) -> LocalHour {
    let mut h = from;
    let mut left = n;
    loop {
        let date = date_of(h);
        let hour = h.rem_euclid(24) as u32;
        if is_open_day(date) && is_open_hour(hour) {
            left -= 1;
            if left == 0 {
                return h + 1;
            }
        }
        h += 1;
    }
}

/// The `n`-th open day from `date` (an open day), `n` ≥ 1, and the hour after its close.
fn after_open_days(date: NaiveDate, n: i64) -> LocalHour {
    let mut d = date;
    let mut left = n;
    loop {
        if is_open_day(d) {
            left -= 1;
            if left == 0 {
                return local_hour(d, *OPENING_HOURS.end() + 1);
            }
        }
        d = d.succ_opt().unwrap_or(d);
    }
}

/// The incidents of one store that start in one block.
fn block_incidents(store: &Store, sensor_ids: &[u32], block: i64) -> Vec<Incident> {
    let mut rng = Stream::new(store.store_id, block);
    let first = block_first_day(block);
    let open_days: Vec<NaiveDate> = (0..BLOCK_DAYS)
        .map(|i| first + Duration::days(i))
        .filter(|d| is_open_day(*d))
        .collect();
    let mut out = Vec::new();
    for (kind, per_year) in RATES {
        let count = rng.poisson(per_year * BLOCK_DAYS as f64 / 365.0);
        for _ in 0..count {
            let day = open_days[rng.int(0, open_days.len() as i64 - 1) as usize];
            let sensor = if kind.is_sensor() && !sensor_ids.is_empty() {
                Some(sensor_ids[rng.int(0, sensor_ids.len() as i64 - 1) as usize])
            } else {
                None
            };
            if kind.is_sensor() && sensor.is_none() {
                continue;
            }
            let open = local_hour(day, *OPENING_HOURS.start());
            let start_hour = |rng: &mut Stream| {
                local_hour(
                    day,
                    rng.int(*OPENING_HOURS.start() as i64, *OPENING_HOURS.end() as i64) as u32,
                )
            };
            let (from, to, factor) = match kind {
                IncidentKind::SensorSilent => {
                    let from = start_hour(&mut rng);
                    (from, after_open_hours(from, rng.int(3, 33)), None)
                }
                IncidentKind::SensorStuckZero => {
                    let from = start_hour(&mut rng);
                    (from, after_open_hours(from, rng.int(3, 22)), None)
                }
                IncidentKind::TillFeedDown => {
                    let from = start_hour(&mut rng);
                    (from, after_open_hours(from, rng.int(2, 11)), None)
                }
                IncidentKind::SensorDegraded => {
                    let days = rng.int(2, 10);
                    let factor = 0.4 + 0.3 * rng.unit();
                    (open, after_open_days(day, days), Some(factor))
                }
                IncidentKind::StoreClosed => (open, after_open_days(day, 1), None),
                IncidentKind::EventDay => {
                    let factor = 1.5 + rng.unit();
                    (open, after_open_days(day, 1), Some(factor))
                }
            };
            out.push(Incident {
                kind,
                store_id: store.store_id,
                sensor_id: sensor,
                start: utc_of(from),
                end: utc_of(to),
                factor,
                from,
                to,
            });
        }
    }
    out
}

/// The incidents of `store` that may touch `date` (those of its block and the one before).
fn nearby(reference: &Reference, store: &Store, date: NaiveDate) -> Vec<Incident> {
    let ids: Vec<u32> = reference
        .sensors_of(store.store_id)
        .iter()
        .map(|s| s.sensor_id)
        .collect();
    let block = block_of(date);
    let mut v = block_incidents(store, &ids, block - 1);
    v.extend(block_incidents(store, &ids, block));
    v
}

/// What the incidents do to `store` at the local hour (`date`, `hour`); `None` when
/// nothing happens (the common case).
pub fn effects(
    reference: &Reference,
    store: &Store,
    date: NaiveDate,
    hour: u32,
) -> Option<HourEffects> {
    let h = local_hour(date, hour);
    let mut fx = HourEffects {
        event: 1.0,
        ..HourEffects::default()
    };
    let mut any = false;
    for i in nearby(reference, store, date)
        .iter()
        .filter(|i| i.covers(h))
    {
        any = true;
        match i.kind {
            IncidentKind::StoreClosed => fx.closed = true,
            IncidentKind::EventDay => fx.event = fx.event.max(i.factor.unwrap_or(1.0)),
            IncidentKind::TillFeedDown => fx.till_down = true,
            IncidentKind::SensorSilent
            | IncidentKind::SensorStuckZero
            | IncidentKind::SensorDegraded => {
                let Some(sensor) = i.sensor_id else { continue };
                let effect = match i.kind {
                    IncidentKind::SensorSilent => SensorEffect::Silent,
                    IncidentKind::SensorStuckZero => SensorEffect::StuckZero,
                    _ => SensorEffect::Degraded(i.factor.unwrap_or(1.0)),
                };
                let rank = |e: &SensorEffect| match e {
                    SensorEffect::Silent => 0,
                    SensorEffect::StuckZero => 1,
                    SensorEffect::Degraded(_) => 2,
                };
                match fx.sensors.iter_mut().find(|(s, _)| *s == sensor) {
                    Some((_, e)) if rank(&effect) < rank(e) => *e = effect,
                    Some(_) => {}
                    None => fx.sensors.push((sensor, effect)),
                }
            }
        }
    }
    if fx.closed {
        fx.event = 1.0;
    }
    any.then_some(fx)
}

/// Every incident of the chain overlapping the Paris local days `from..=to`, sorted by
/// start, store, sensor and kind: the ground truth.
pub fn incidents_between(reference: &Reference, from: NaiveDate, to: NaiveDate) -> Vec<Incident> {
    if to < from {
        return Vec::new();
    }
    let lo = local_hour(from, 0);
    let hi = local_hour(to, 0) + 24;
    let mut out = Vec::new();
    for store in reference.stores() {
        let ids: Vec<u32> = reference
            .sensors_of(store.store_id)
            .iter()
            .map(|s| s.sensor_id)
            .collect();
        for block in block_of(from) - 1..=block_of(to) {
            out.extend(
                block_incidents(store, &ids, block)
                    .into_iter()
                    .filter(|i| i.from < hi && i.to > lo),
            );
        }
    }
    out.sort_by(|a, b| {
        (a.start, a.store_id, a.sensor_id, a.kind).cmp(&(b.start, b.store_id, b.sensor_id, b.kind))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn the_truth_is_deterministic_and_bounded_by_a_block() {
        let r = Reference::embedded();
        let a = incidents_between(&r, date(2024, 1, 1), date(2024, 12, 31));
        let b = incidents_between(&r, date(2024, 1, 1), date(2024, 12, 31));
        assert_eq!(a, b);
        assert!(!a.is_empty());
        for i in &a {
            assert!(i.end > i.start, "{i:?}");
            // No incident outlives a block: the effects of an hour look two blocks back only.
            assert!(i.to - i.from <= BLOCK_DAYS * 24, "{i:?}");
            assert_eq!(i.kind.is_sensor(), i.sensor_id.is_some());
            let (d, h) = i.local_start();
            assert!(is_open_day(d) && is_open_hour(h), "{i:?}");
        }
    }

    /// Over 10 years of the 10-store chain (100 store-years), every kind occurs at its rate
    /// within a 4-sigma band of the Poisson count.
    #[test]
    fn rates_match_the_documented_ones() {
        let r = Reference::embedded();
        let (from, to) = (date(2021, 1, 4), date(2030, 12, 31));
        let years = (to - from).num_days() as f64 / 365.0;
        let all = incidents_between(&r, from, to);
        let mut counts: HashMap<IncidentKind, f64> = HashMap::new();
        for i in all
            .iter()
            .filter(|i| i.start >= utc_of(local_hour(from, 0)))
        {
            *counts.entry(i.kind).or_default() += 1.0;
        }
        for (kind, rate) in RATES {
            let expected = rate * years * r.stores().len() as f64;
            let got = counts.get(&kind).copied().unwrap_or(0.0);
            assert!(
                (got - expected).abs() < 4.0 * expected.sqrt() + 2.0,
                "{kind}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn lengths_and_strengths_are_within_the_documented_bounds() {
        let r = Reference::embedded();
        let all = incidents_between(&r, date(2022, 1, 1), date(2025, 12, 31));
        let open_hours = |i: &Incident| {
            (i.from..i.to)
                .filter(|h| is_open_day(date_of(*h)) && is_open_hour(h.rem_euclid(24) as u32))
                .count() as i64
        };
        for i in &all {
            match i.kind {
                IncidentKind::SensorSilent => assert!((3..=33).contains(&open_hours(i))),
                IncidentKind::SensorStuckZero => assert!((3..=22).contains(&open_hours(i))),
                IncidentKind::TillFeedDown => assert!((2..=11).contains(&open_hours(i))),
                IncidentKind::SensorDegraded => {
                    let f = i.factor.expect("factor");
                    assert!((0.4..0.7).contains(&f));
                    assert!((22..=110).contains(&open_hours(i)));
                }
                IncidentKind::StoreClosed => assert_eq!(open_hours(i), 11),
                IncidentKind::EventDay => {
                    let f = i.factor.expect("factor");
                    assert!((1.5..2.5).contains(&f));
                    assert_eq!(open_hours(i), 11);
                }
            }
        }
    }

    #[test]
    fn effects_follow_the_truth() {
        let r = Reference::embedded();
        let all = incidents_between(&r, date(2024, 1, 1), date(2024, 12, 31));
        for i in all.iter().take(200) {
            let store = r.store(i.store_id).expect("store");
            let (d, h) = i.local_start();
            let fx = effects(&r, store, d, h).expect("an incident is in effect at its start");
            match i.kind {
                IncidentKind::StoreClosed => assert!(fx.closed),
                IncidentKind::TillFeedDown => assert!(fx.till_down),
                IncidentKind::EventDay => assert!(fx.closed || fx.event >= 1.5),
                _ => assert!(fx.sensor(i.sensor_id.expect("sensor")).is_some()),
            }
        }
        // An hour no incident covers has no effects.
        let store = r.store(1).expect("store");
        let mut quiet = 0;
        let mut d = date(2024, 3, 4);
        while d < date(2024, 4, 1) {
            let h = local_hour(d, 12);
            let touching = all.iter().any(|i| i.store_id == 1 && i.covers(h));
            assert_eq!(effects(&r, store, d, 12).is_some(), touching, "{d}");
            quiet += usize::from(!touching);
            d = d.succ_opt().expect("date");
        }
        assert!(quiet > 0);
    }
}
