//! The row rules shared by both feeds (date, hour, closed day and hour, service range,
//! precedence and duplicates), the plausible ranges, and the count of each rule.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::calendar::{is_open_day, OPENING_HOURS};
use crate::clean_rows::{QualityFigure, Rule};
use crate::clock::first_available_date;
use crate::records::{TransactionRow, VisitorRow};

use super::history::History;

/// A reading above this multiple of its sensor's daily median is a high outlier.
pub const HIGH_OUTLIER_RATIO: f64 = 3.0;
/// A reading below this fraction of its sensor's daily median is a low outlier.
pub const LOW_OUTLIER_RATIO: f64 = 0.25;
/// Plausible store-hour transactions (the original's bounds).
pub const TRANSACTIONS_RANGE: std::ops::RangeInclusive<i64> = 1..=1000;
/// Plausible store-hour revenue in cents (the original's bounds: 1 € to 50,000 €).
pub const REVENUE_CENTS_RANGE: std::ops::RangeInclusive<i64> = 100..=5_000_000;

/// One day's raw rows, sorted by precedence, and what the cleaning needs besides.
#[derive(Debug, Clone, Copy)]
pub struct DayInput<'a> {
    pub visitors: &'a [VisitorRow],
    /// The source (lot) of each visitor row, same length; empty when all come from one.
    pub visitor_sources: &'a [u32],
    pub transactions: &'a [TransactionRow],
    pub transaction_sources: &'a [u32],
    /// The genuine values of the recent weeks (the daily shape).
    pub history: &'a History,
    /// The last hour of the day inside the service's range (today: the last complete
    /// hour); `None` for a whole past day. No slot after it is kept or filled.
    pub last_hour: Option<u32>,
}

/// Parses an hour written `HH:MM:SS` (or `HH:MM`), `HHhMM` or `HHMM`; minutes must be 00.
pub fn parse_hour(text: &str) -> Option<u32> {
    // On bytes, without allocating: every raw row's hour goes through here.
    let b = text.trim().as_bytes();
    let digits = |s: &[u8]| (1..=2).contains(&s.len()) && s.iter().all(u8::is_ascii_digit);
    let zeros = |s: &[u8]| digits(s) && s.iter().all(|&c| c == b'0');
    let (h, minutes_zero) = if let Some(i) = b.iter().position(|&c| c == b':') {
        // `HH:MM` or `HH:MM:SS`: one or two parts after the hour.
        let mut parts = b[i + 1..].split(|&c| c == b':');
        let (mm, ss, more) = (parts.next(), parts.next(), parts.next());
        (
            &b[..i],
            more.is_none() && mm.is_some_and(zeros) && ss.is_none_or(zeros),
        )
    } else if let Some(i) = b.iter().position(|&c| c == b'h' || c == b'H') {
        (&b[..i], zeros(&b[i + 1..]))
    } else if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        (&b[..2], zeros(&b[2..]))
    } else {
        return None;
    };
    if !minutes_zero || !digits(h) {
        return None;
    }
    let hour = h.iter().fold(0, |n, &c| n * 10 + u32::from(c - b'0'));
    (hour < 24).then_some(hour)
}

/// Euros as written (`1534.87`, `1534,87`) to integer cents, rounded to the nearest cent.
pub fn euros_to_cents(euros: f64) -> Option<i64> {
    let cents = (euros * 100.0).round();
    (cents.is_finite() && cents.abs() < 9.0e15).then_some(cents as i64)
}

/// Counts per rule for one feed.
#[derive(Debug, Default, Clone)]
pub(super) struct Counts(pub(super) Vec<(Rule, i64)>);

impl Counts {
    pub(super) fn add(&mut self, rule: Rule, n: i64) {
        match self.0.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, c)) => *c += n,
            None => self.0.push((rule, n)),
        }
    }
    pub(super) fn into_figures(self, feed: &str) -> Vec<QualityFigure> {
        self.0
            .into_iter()
            .map(|(rule, count)| QualityFigure {
                feed: feed.to_string(),
                rule,
                count,
            })
            .collect()
    }
}

/// The hours of `date` that get a row: opening hours of an open day inside the service's
/// range, up to `last_hour`.
pub(super) fn grid_hours(date: NaiveDate, last_hour: Option<u32>) -> Vec<u32> {
    if !is_open_day(date) || date < first_available_date() {
        return Vec::new();
    }
    OPENING_HOURS
        .filter(|h| last_hour.is_none_or(|last| *h <= last))
        .collect()
}

/// Row rules shared by both feeds: date, hour, closed day and hour, service range.
/// Returns the hour.
pub(super) fn row_rules(
    date: NaiveDate,
    date_text: &str,
    heure: &str,
    last_hour: Option<u32>,
    counts: &mut Counts,
) -> Option<u32> {
    if !crate::spelling::spells_date(date_text, date) {
        counts.add(Rule::UnparseableDate, 1);
        return None;
    }
    let Some(hour) = parse_hour(heure) else {
        counts.add(Rule::UnparseableHour, 1);
        return None;
    };
    if date < first_available_date() || last_hour.is_some_and(|last| hour > last) {
        counts.add(Rule::OutsideServiceRange, 1);
        return None;
    }
    if !is_open_day(date) {
        counts.add(Rule::ClosedDay, 1);
        return None;
    }
    if !OPENING_HOURS.contains(&hour) {
        counts.add(Rule::ClosedHour, 1);
        return None;
    }
    Some(hour)
}

/// Claims a slot for a row of `source`; counts and refuses it when the slot is taken.
pub(super) fn claim<K: std::hash::Hash + Eq>(
    taken: &mut HashMap<K, u32>,
    key: K,
    source: u32,
    counts: &mut Counts,
) -> bool {
    match taken.get(&key) {
        Some(&owner) => {
            counts.add(
                if owner == source {
                    Rule::Duplicate
                } else {
                    Rule::SourceConflict
                },
                1,
            );
            false
        }
        None => {
            taken.insert(key, source);
            true
        }
    }
}
