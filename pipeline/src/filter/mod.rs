//! The dashboard filter: how a URL spells it ([`DashboardQuery`]: one parser, one
//! printer), the period rules checked in the browser and on the server alike, and, with
//! the `runtime` feature, its resolution against the reference data and the clock into a
//! [`KpiFilter`](crate::kpi::KpiFilter). The dashboard page, its server function and the
//! CSV export all go through here, so that one link means one filter everywhere.

mod period;
mod query;
#[cfg(feature = "runtime")]
mod resolve;

pub use period::{check_period, FilterError, MAX_DAYS};
pub use query::{lax_int, BadParameter, DashboardQuery, UrlDefaults};
#[cfg(feature = "runtime")]
pub use resolve::{last_complete_week, resolve, resolve_detailed, resolve_scoped, ScopedError};

use crate::kpi::Comparison;

/// The comparison asked for in the query (`cmp`); the weekday-aligned previous period by
/// default and for values it does not know.
pub fn comparison(q: &DashboardQuery) -> Comparison {
    q.cmp
        .as_deref()
        .and_then(Comparison::from_code)
        .unwrap_or_default()
}
