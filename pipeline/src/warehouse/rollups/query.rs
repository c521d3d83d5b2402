//! How a dashboard query reads an hour range out of the rollups' cumulative hour
//! columns, and how a date range splits into whole months and edge days.

use chrono::{Months, NaiveDate};

use super::derive::*;
use crate::calendar::OPENING_HOURS;

pub(super) fn hours() -> impl Iterator<Item = u32> {
    OPENING_HOURS
}

/// The SQL expression for the sum of a cumulative hour family (`v`, `t` or `c`: visitors,
/// transactions, revenue in cents) over the
/// hours [h0, h1] of one row: `v19`, or `(v19 - v11)` when the range starts after opening.
/// The hours are clamped to the opening hours; the caller checks h0 <= h1.
pub(crate) fn range_expr(family: char, h0: u32, h1: u32) -> String {
    let first = *OPENING_HOURS.start();
    let h1 = h1.min(*OPENING_HOURS.end());
    if h0 <= first {
        format!("{family}{h1:02}")
    } else {
        format!("({family}{h1:02} - {family}{:02})", h0 - 1)
    }
}

/// The `genuine` bits of the hours [h0, h1].
pub(crate) fn genuine_mask(h0: u32, h1: u32) -> i32 {
    hours()
        .filter(|h| (h0..=h1).contains(h))
        .fold(0, |m, h| m | (1 << (h - OPENING_HOURS.start())))
}

/// How a period splits for the month rollup: the whole months inside [from, to] (as their
/// first days, inclusive) and the days outside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MonthSplit {
    pub months: Option<(NaiveDate, NaiveDate)>,
    pub edge_days: Vec<(NaiveDate, NaiveDate)>,
}

pub(crate) fn split_months(from: NaiveDate, to: NaiveDate) -> MonthSplit {
    let first_full = if from == month_start(from) {
        from
    } else {
        month_start(from)
            .checked_add_months(Months::new(1))
            .unwrap_or(from)
    };
    let last_full = if to == month_end(to) {
        month_start(to)
    } else {
        month_start(to)
            .checked_sub_months(Months::new(1))
            .unwrap_or(to)
    };
    if first_full > last_full || month_end(last_full) > to || first_full < from {
        return MonthSplit {
            months: None,
            edge_days: vec![(from, to)],
        };
    }
    let mut edge_days = Vec::new();
    if from < first_full {
        edge_days.push((from, first_full.pred_opt().unwrap_or(from)));
    }
    let after = month_end(last_full).succ_opt().unwrap_or(to);
    if after <= to {
        edge_days.push((after, to));
    }
    MonthSplit {
        months: Some((first_full, last_full)),
        edge_days,
    }
}
