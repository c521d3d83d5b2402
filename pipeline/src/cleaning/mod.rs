//! The cleaning rules, in one place. Each rule has a name, is counted in the daily quality
//! figures (`analytics.quality`), and can be tested on its own.
//!
//! Row rules (per row): parse the date and the hour in their historical spellings, drop
//! nulls, unknown ids, closed days and hours, hours after the last complete one, rows
//! superseded by a source of higher precedence, duplicates and implausible values.
//! Day rules (per sensor-day or store-day): detect outliers against the sensor's daily
//! median, then fill every missing open slot following the daily shape (see [`History`]).
//!
//! **Precedence of overlapping sources.** The rows of a day arrive sorted by precedence
//! (see `Warehouse::raw_day`): collected hours first, then imports from the newest to the
//! oldest, each file in line order. For every slot (sensor-hour or store-hour) the first
//! valid row wins, whatever the spelling of its date. A later row for a slot already taken
//! by another source is counted as `source_conflict`; one from the same source as
//! `duplicate`.
//!
//! Every figure is computed in a fixed order (ordered maps, no hash-map iteration, no
//! threads), and money is integer cents: the same rows always give the same bits.

pub mod history;
pub mod rules;
#[cfg(test)]
mod tests;
pub mod transactions;
pub mod visitors;

use chrono::NaiveDate;
use polars::prelude::PolarsError;

use crate::clean_rows::CleanDay;
use crate::records::{TransactionRow, VisitorRow};
use crate::reference::Reference;
use history::History;
use rules::DayInput;
use transactions::clean_transactions;
use visitors::clean_visitors;

#[derive(Debug, thiserror::Error)]
pub enum CleaningError {
    #[error("dataframe error: {0}")]
    Polars(#[from] PolarsError),
}

/// Cleans the raw rows of `date`, all from one source, without history.
pub fn clean_day(
    reference: &Reference,
    date: NaiveDate,
    visitors: &[VisitorRow],
    transactions: &[TransactionRow],
) -> Result<CleanDay, CleaningError> {
    let history = History::default();
    clean_day_with(
        reference,
        date,
        &DayInput {
            visitors,
            visitor_sources: &[],
            transactions,
            transaction_sources: &[],
            history: &history,
            last_hour: None,
        },
    )
}

/// Cleans the raw rows of `date` (see the module documentation).
pub fn clean_day_with(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
) -> Result<CleanDay, CleaningError> {
    let (clean_visitors, outliers, v_counts) = clean_visitors(reference, date, input);
    let (clean_transactions, t_counts) =
        clean_transactions(reference, date, input, &clean_visitors);
    let mut quality = v_counts.into_figures("visiteurs");
    quality.extend(t_counts.into_figures("transactions"));
    Ok(CleanDay {
        visitors: clean_visitors,
        transactions: clean_transactions,
        quality,
        outliers,
    })
}
