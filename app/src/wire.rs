//! Types that cross the wire and that more than one page uses: the error of every server
//! function, the store list and the charts' data. Each page's own types are in its
//! `wire.rs` (`pages/*/wire.rs`). They compile to wasm, so they hold plain data only (no
//! database or dataframe types).

use chrono::NaiveDate;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function gave no answer, as the browser sees it: a kind, never the
/// server's own text (the server logs the cause with `tracing`). Each page words each kind
/// in its language, with an exhaustive match: a new kind does not compile until every page
/// says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadError {
    /// The request did not reach the server, or its answer did not come back.
    Unreachable,
    /// The server could not read its data: it runs without a warehouse, or a query failed.
    Unavailable,
    /// The call failed on the way: arguments or an answer that do not read, or an error
    /// that is none of the above (a proxy's error page, a failing middleware).
    Failed,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LoadError::Unreachable => "server unreachable",
            LoadError::Unavailable => "data unavailable",
            LoadError::Failed => "request failed",
        })
    }
}

impl std::error::Error for LoadError {}

impl FromServerFnError for LoadError {
    type Encoder = JsonEncoding;

    /// The framework's own failures (network, encoding, arguments): their text stays
    /// where it happened (logged on the server), only the kind travels.
    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Request(_) => LoadError::Unreachable,
            other => {
                #[cfg(feature = "ssr")]
                tracing::warn!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                LoadError::Failed
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreInfo {
    pub store_id: u32,
    pub city_store: String,
    pub sensors: u32,
}

/// One store of a ranking axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedStore {
    /// 1 for the best.
    pub rank: u32,
    pub store_id: u32,
    pub name: String,
}

/// A chart's x positions; how they read is in `charts/axis.rs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Axis {
    /// Open days; a click on one opens its hourly view.
    Days(Vec<NaiveDate>),
    /// The hours `first..=last` of the day (`9` is 9:00–10:00).
    Hours { first: u32, last: u32 },
    /// Stores, best first; a click on one opens its view.
    Stores(Vec<RankedStore>),
}

/// What a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// Lines over time (days, or hours of one day).
    Lines,
    /// Vertical bars over categories.
    Bars,
    /// Horizontal bars, one per store, best first.
    Ranking,
    /// Rows (series) × columns (x) coloured by value.
    Heatmap,
}

/// The unit of a chart's values (how they are formatted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    Count,
    Euros,
    /// A ratio in [0, 1], shown as a percentage.
    Ratio,
}

/// One series of a chart: values aligned with the chart's `x`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSeries {
    /// Stable key: a sensor or store id, or the measure's name.
    pub key: String,
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// The comparison period's values at the same positions (empty without comparison).
    pub previous: Vec<Option<f64>>,
    /// Drawn by default (at most ten series are).
    pub visible: bool,
    /// The store the user is looking at.
    pub highlight: bool,
}

/// A chart's data; the page draws it (plotters, on the server and in the browser).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub id: String,
    pub kind: ChartKind,
    pub title: String,
    /// One sentence saying what the chart shows (accessible description).
    pub description: String,
    pub unit: Unit,
    /// The x positions (days, hours or stores); labels, keys and links derive from them.
    pub axis: Axis,
    pub series: Vec<ChartSeries>,
    /// What the dashed lines are (`période précédente : 09/11/2026 → 15/11/2026`).
    pub previous_label: Option<String>,
    /// The x position to highlight (the ranking's selected store).
    pub highlight_x: Option<usize>,
    pub empty_message: String,
}

impl ChartData {
    /// True when no series has a value.
    pub fn is_empty(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.values.iter().all(Option::is_none))
    }
}

#[cfg(test)]
mod tests {
    use leptos::server_fn::Bytes;

    use super::*;

    #[test]
    fn only_the_kind_crosses_the_wire() {
        // A framework failure keeps its text where it happened.
        let e = LoadError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "connection to postgres://app:secret@db failed".into(),
        ));
        assert_eq!(e, LoadError::Failed);
        assert_eq!(&e.ser()[..], b"\"Failed\"");
        assert_eq!(&LoadError::Unavailable.ser()[..], b"\"Unavailable\"");
        assert_eq!(
            LoadError::de(LoadError::Unavailable.ser()),
            LoadError::Unavailable
        );
        // The browser's side: a request that did not get through, and an error answer
        // that is not ours (a proxy's page).
        assert_eq!(
            LoadError::from_server_fn_error(ServerFnErrorErr::Request("refused".into())),
            LoadError::Unreachable
        );
        assert_eq!(
            LoadError::de(Bytes::from_static(b"boom")),
            LoadError::Failed
        );
    }
}
