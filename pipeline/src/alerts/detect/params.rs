//! The detection method's parameters, measured against the simulator's truth.

/// The method's parameters (defaults measured against the simulator's truth: see
/// BENCHMARKS.md, "Alerts: detection quality and cost").
#[derive(Debug, Clone, PartialEq)]
pub struct DetectParams {
    /// Consecutive open hours without a reading before a sensor is silent. 3: the
    /// simulator's own random gaps (4 % each) put 2 in a row about 3 times per store per
    /// month, 3 in a row about once per store per 10 months.
    pub silent_min_hours: u32,
    /// Consecutive open hours at 0, while the store counts people, before a sensor is stuck.
    pub stuck_min_hours: u32,
    /// Consecutive open hours without a sale, while the store counts people.
    pub till_min_hours: u32,
    /// At most this many open hours are read back to place a run's start (longer runs
    /// start at the window's first hour).
    pub max_lookback_open_hours: u32,
    /// Baseline: the same weekday over at most this many open weeks…
    pub baseline_weeks: u32,
    /// …searched over this many weeks back (closed or missing days are skipped)…
    pub baseline_search_weeks: u32,
    /// …and at least this many of them, or no verdict.
    pub min_baseline_weeks: u32,
    /// Bounds: median ± k·MAD (the scaled MAD), and at least the minimum changes below.
    pub mad_k: f64,
    /// A day (or hour) at least this multiple of its median is high…
    pub high_ratio: f64,
    /// …at most this fraction of it low…
    pub low_ratio: f64,
    /// …and at most this fraction closed (a baseline day that low is left out).
    pub closed_ratio: f64,
    /// Minimum absolute change of a store's day total (visitors).
    pub min_change_day: f64,
    /// Minimum absolute change of a store-hour (visitors).
    pub min_change_hour: f64,
    /// Consecutive anomalous hours reported on their own when the day total is ordinary.
    pub min_anomalous_hours: u32,
    /// A sensor reading less than this fraction of its store's level is degraded…
    pub degraded_ratio: f64,
    /// …unless it reads less than this (silent or stuck: the hourly rules' business)…
    pub degraded_floor: f64,
    /// …and the loss is at least this many visitors over the day.
    pub min_change_sensor: f64,
    /// A degradation goes back over the previous open days while the sensor stays below
    /// this fraction of its store's level…
    pub degraded_continue: f64,
    /// …up to this many days back.
    pub degraded_lookback_days: i64,
    /// A sensor-day needs this many genuine hours with a baseline to be judged.
    pub min_genuine_hours: u32,
}

impl Default for DetectParams {
    fn default() -> Self {
        Self {
            silent_min_hours: 3,
            stuck_min_hours: 3,
            till_min_hours: 2,
            max_lookback_open_hours: 66,
            baseline_weeks: 8,
            baseline_search_weeks: 12,
            min_baseline_weeks: 3,
            mad_k: 5.0,
            high_ratio: 1.3,
            low_ratio: 0.7,
            closed_ratio: 0.1,
            min_change_day: 50.0,
            min_change_hour: 15.0,
            min_anomalous_hours: 2,
            degraded_ratio: 0.8,
            degraded_floor: 0.2,
            min_change_sensor: 20.0,
            degraded_continue: 0.85,
            degraded_lookback_days: 28,
            min_genuine_hours: 4,
        }
    }
}
