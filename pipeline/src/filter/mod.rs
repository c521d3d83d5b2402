//! The dashboard filter: how a URL spells it ([`DashboardQuery`]: one parser, one
//! printer), the period rules checked in the browser and on the server alike, and, with
//! the `runtime` feature, its resolution against the reference data and the clock into a
//! [`KpiFilter`](crate::kpi::KpiFilter). The dashboard page, its server function and the
//! CSV export all go through here, so that one link means one filter everywhere.

mod query;
#[cfg(feature = "runtime")]
mod resolve;

use chrono::NaiveDate;

pub use query::{lax_int, BadParameter, DashboardQuery, UrlDefaults};
#[cfg(feature = "runtime")]
pub use resolve::{last_complete_week, resolve, resolve_detailed, resolve_scoped, ScopedError};

use crate::kpi::Comparison;
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

/// The comparison asked for in the query (`cmp`); the weekday-aligned previous period by
/// default and for values it does not know.
pub fn comparison(q: &DashboardQuery) -> Comparison {
    q.cmp
        .as_deref()
        .and_then(Comparison::from_code)
        .unwrap_or_default()
}
