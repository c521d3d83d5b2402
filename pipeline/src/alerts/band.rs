//! The expected visitors band of one store, hour by hour: what the store's own recent
//! weeks say an hour should bring (the median of the same weekday-hour), and how far from
//! it is still ordinary (± k·MAD, at least the rules' minimum change). The dashboard's
//! visitors chart draws it behind the observed line. Plain data, compiled for the browser.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One store-hour of the expected band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandPoint {
    /// Paris local date and opening hour.
    pub date: NaiveDate,
    pub hour: u32,
    /// The median of the same weekday-hour over the baseline weeks (all the store's
    /// sensors).
    pub median: f64,
    /// Lower and upper edges: median ∓ max(k·MAD, minimum change), the lower one ≥ 0.
    pub low: f64,
    pub high: f64,
    /// How many weeks the baseline had (fewer than the minimum: no point is given).
    pub weeks: u32,
}
