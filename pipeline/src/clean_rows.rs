//! The cleaning's output: clean, typed rows of a day, its store-hour rollup rows and
//! its quality figures, with the rules they count ([`Rule`]). Domain types: the cleaning rules produce them, the warehouse
//! stores them (`warehouse::analytics`), neither depends on the other for them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanVisitor {
    pub store_id: i32,
    pub sensor_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub nb_visiteurs: i32,
    /// True when the slot had no valid reading and was filled (following the daily shape).
    pub imputed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanTransaction {
    pub store_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub nb_transactions: i32,
    /// Revenue in integer cents (exact; the API shows euros with two decimals).
    pub chiffre_affaires_centimes: i64,
    pub imputed: bool,
}

/// A cleaning rule, as counted in the daily quality figures (`analytics.quality.rule`
/// stores its [`Rule::key`]). The rules themselves are in `cleaning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    RowsIn,
    UnparseableDate,
    UnparseableHour,
    NullDropped,
    UnknownId,
    ClosedDay,
    ClosedHour,
    /// Dated outside the service's range (before 2021-01-01 or after the last complete
    /// hour): rejected by `import` before raw, and by the cleaning for the current day.
    OutsideServiceRange,
    /// A slot already holds a valid row from a source of higher precedence (collected
    /// over imported, newer import over older).
    SourceConflict,
    Duplicate,
    OutOfRange,
    OutlierHigh,
    OutlierLow,
    SlotsFilled,
    Unfillable,
    RowsOut,
}

impl Rule {
    pub const ALL: [Rule; 16] = [
        Rule::RowsIn,
        Rule::UnparseableDate,
        Rule::UnparseableHour,
        Rule::NullDropped,
        Rule::UnknownId,
        Rule::ClosedDay,
        Rule::ClosedHour,
        Rule::OutsideServiceRange,
        Rule::SourceConflict,
        Rule::Duplicate,
        Rule::OutOfRange,
        Rule::OutlierHigh,
        Rule::OutlierLow,
        Rule::SlotsFilled,
        Rule::Unfillable,
        Rule::RowsOut,
    ];

    /// The rule's name as `analytics.quality` stores it.
    pub fn key(self) -> &'static str {
        match self {
            Rule::RowsIn => "rows_in",
            Rule::UnparseableDate => "unparseable_date",
            Rule::UnparseableHour => "unparseable_hour",
            Rule::NullDropped => "null_dropped",
            Rule::UnknownId => "unknown_id",
            Rule::ClosedDay => "closed_day",
            Rule::ClosedHour => "closed_hour",
            Rule::OutsideServiceRange => "outside_service_range",
            Rule::SourceConflict => "source_conflict",
            Rule::Duplicate => "duplicate",
            Rule::OutOfRange => "out_of_range",
            Rule::OutlierHigh => "outlier_high",
            Rule::OutlierLow => "outlier_low",
            Rule::SlotsFilled => "slots_filled",
            Rule::Unfillable => "unfillable",
            Rule::RowsOut => "rows_out",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// One daily quality figure: how many rows a cleaning rule touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityFigure {
    pub feed: String,
    pub rule: Rule,
    pub count: i64,
}

/// One day, cleaned.
#[derive(Debug, Clone, Default)]
pub struct CleanDay {
    pub visitors: Vec<CleanVisitor>,
    pub transactions: Vec<CleanTransaction>,
    pub quality: Vec<QualityFigure>,
    /// (store, sensor, hour) of the readings judged outliers.
    pub outliers: Vec<(i64, i64, u32)>,
}

/// One store-hour of the rollup `analytics.store_hours`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreHourRollup {
    pub store_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    /// All the store's sensors.
    pub visitors: i64,
    pub transactions: i64,
    /// Revenue in integer cents.
    pub revenue_cents: i64,
}

/// Row counts and sums of the analytics tables: a cheap fingerprint of their content
/// (tests, benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsTotals {
    pub visitor_rows: i64,
    /// Σ visitors.
    pub visitors: i64,
    pub transaction_rows: i64,
    /// Σ transactions.
    pub transactions: i64,
    /// Σ revenue in cents.
    pub revenue_cents: i64,
}

/// Every rule reads back from its key, and serialises as it.
#[cfg(test)]
#[test]
fn rule_keys_round_trip() {
    let keys: Vec<&str> = Rule::ALL.iter().map(|r| r.key()).collect();
    let parsed: Vec<Option<Rule>> = keys.iter().map(|k| Rule::from_key(k)).collect();
    assert_eq!(parsed, Rule::ALL.map(Some).to_vec());
    let json = serde_json::to_string(&Rule::ALL).expect("json");
    assert_eq!(json, serde_json::to_string(&keys).expect("json"));
    assert_eq!(Rule::from_key("nonsense"), None);
}
