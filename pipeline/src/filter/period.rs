//! The period rules, checked in the browser and on the server alike.

use chrono::NaiveDate;

use crate::lang::Lang;

/// Longest period one view may cover.
pub const MAX_DAYS: i64 = 731;

/// A filter the user can fix: the field it is about and a message in the page's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// `from`, `to`, `h0`, `h1`, `store` or `sensors`.
    pub field: &'static str,
    pub message: String,
}

/// The period rules, in the browser (before a request) and on the server alike: the start
/// is not after the end, and the period is at most [`MAX_DAYS`] long. The error names the
/// field to point at.
pub fn check_period(from: NaiveDate, to: NaiveDate, lang: Lang) -> Result<(), FilterError> {
    if from > to {
        return Err(FilterError {
            field: "to",
            message: lang
                .pick(
                    "La date de début est après la date de fin.",
                    "The start date is after the end date.",
                )
                .into(),
        });
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(FilterError {
            field: "from",
            message: format!(
                "{} {MAX_DAYS} {}",
                lang.pick("Période trop longue : au plus", "Period too long: at most"),
                lang.pick("jours.", "days.")
            ),
        });
    }
    Ok(())
}
