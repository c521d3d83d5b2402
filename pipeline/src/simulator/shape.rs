//! What every profile shares: the chain's weekday and hour coefficients, and the sales of
//! a store-hour they produce.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Weekday coefficient, Monday..Friday; `None` on the weekend (closed).
pub fn weekday_coef(date: NaiveDate) -> Option<f64> {
    match date.weekday() {
        Weekday::Mon => Some(0.4),
        Weekday::Tue => Some(0.5),
        Weekday::Wed => Some(0.6),
        Weekday::Thu => Some(0.5),
        Weekday::Fri => Some(0.6),
        Weekday::Sat | Weekday::Sun => None,
    }
}

/// Hour coefficient inside opening hours; `None` outside them.
pub fn hour_coef(hour: u32) -> Option<f64> {
    Some(match hour {
        9 => 0.3,
        10 => 0.5,
        11 => 0.6,
        12 => 0.7,
        13 => 0.9,
        14..=16 => 0.6,
        17 | 18 => 0.9,
        19 => 0.7,
        _ => return None,
    })
}

/// A store's sales for one hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoreHour {
    pub transactions: i64,
    /// Revenue in euros, rounded to cents.
    pub chiffre_affaires: f64,
    /// The store's real visitors that hour (all sensors), from which sales derive.
    pub visitors: i64,
}
