//! What the first start's backfill can have finished by now: the nightly transform of a
//! day is due at 03:00 Paris the next day, so between midnight and 03:00 Paris yesterday's
//! is not due yet. Tests that wait for the first start's transforms count with this.

use chrono::{Duration, Utc};
use pipeline::clock::HourSlot;
use pipeline::ledger::transform_due_at;

/// How many of the `days` days before today (Paris) have their transform due now.
pub fn transforms_due(days: i64) -> usize {
    let now = Utc::now();
    let today = HourSlot::containing(now).date;
    (1..=days)
        .filter(|k| transform_due_at(today - Duration::days(*k)) <= now)
        .count()
}
