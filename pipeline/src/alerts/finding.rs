//! One condition that detection found: a rule, the store (and sensor) it concerns, the
//! hours it covers. The alerts store opens one alert per [`Finding::dedupe_key`] and
//! resolves it when a later run no longer finds the condition.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// What an alert is about. Data health first (the data did not arrive as expected), then
/// anomalies (it arrived, and the store behaves unlike itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A sensor sent nothing for several open hours in a row.
    SensorSilent,
    /// A sensor reads 0 for several open hours while the store's other sensors count people.
    SensorStuckZero,
    /// A sensor reads far below its usual share of the store's traffic, for days.
    SensorDegraded,
    /// The till feed: visitors as usual, no sales.
    TillFeedDown,
    /// An open weekday with (almost) nobody counted anywhere in the store.
    StoreClosed,
    /// A day far above the store's usual for that weekday (an event).
    TrafficHigh,
    /// A day far below the store's usual for that weekday, short of a closure.
    TrafficLow,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::SensorSilent,
        Rule::SensorStuckZero,
        Rule::SensorDegraded,
        Rule::TillFeedDown,
        Rule::StoreClosed,
        Rule::TrafficHigh,
        Rule::TrafficLow,
    ];

    /// The rule's name in the warehouse, the API and the dedupe key.
    pub fn key(self) -> &'static str {
        match self {
            Rule::SensorSilent => "sensor_silent",
            Rule::SensorStuckZero => "sensor_stuck_zero",
            Rule::SensorDegraded => "sensor_degraded",
            Rule::TillFeedDown => "till_feed_down",
            Rule::StoreClosed => "store_closed",
            Rule::TrafficHigh => "traffic_high",
            Rule::TrafficLow => "traffic_low",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    /// Data health (something did not arrive as expected) rather than an anomaly.
    pub fn is_data_health(self) -> bool {
        matches!(
            self,
            Rule::SensorSilent | Rule::SensorStuckZero | Rule::TillFeedDown
        )
    }

    /// The rule for a person: French first, English.
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            Rule::SensorSilent => l.pick("capteur muet", "silent sensor"),
            Rule::SensorStuckZero => l.pick("capteur bloqué à zéro", "sensor stuck at zero"),
            Rule::SensorDegraded => l.pick("capteur dégradé", "degraded sensor"),
            Rule::TillFeedDown => l.pick("flux de caisse interrompu", "till feed down"),
            Rule::StoreClosed => l.pick("magasin fermé", "store closed"),
            Rule::TrafficHigh => l.pick(
                "fréquentation inhabituellement haute",
                "unusually high traffic",
            ),
            Rule::TrafficLow => l.pick(
                "fréquentation inhabituellement basse",
                "unusually low traffic",
            ),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn key(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            Severity::Info => l.pick("information", "info"),
            Severity::Warning => l.pick("avertissement", "warning"),
            Severity::Critical => l.pick("critique", "critical"),
        }
    }
}

/// One condition found by one detection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub store_id: i64,
    /// The sensor, for the sensor rules; `None` for the store's rules.
    pub sensor_id: Option<i64>,
    /// The first hour the condition covers (UTC, on the hour). With the rule and the
    /// entity it names the alert: the same condition found again keeps its start.
    pub start: DateTime<Utc>,
    /// The end (exclusive, UTC) when the condition is over; `None` while it lasts at the
    /// hour the run looked at.
    pub end: Option<DateTime<Utc>>,
    /// What was measured over the period (visitors, sales…), when the rule measures.
    pub observed: Option<f64>,
    /// What the baseline expected over the same period.
    pub expected: Option<f64>,
}

impl Finding {
    /// `rule:store[:sensor]:start`: one alert per key, whichever replica or re-run finds
    /// it (see ARCHITECTURE.md, principle 7).
    pub fn dedupe_key(&self) -> String {
        let start = self.start.format("%Y-%m-%dT%H");
        match self.sensor_id {
            Some(sensor) => format!("{}:{}:{}:{start}", self.rule.key(), self.store_id, sensor),
            None => format!("{}:{}:{start}", self.rule.key(), self.store_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rule_keys_round_trip_and_are_distinct() {
        let keys: std::collections::HashSet<_> = Rule::ALL.iter().map(|r| r.key()).collect();
        assert_eq!(keys.len(), Rule::ALL.len());
        for r in Rule::ALL {
            assert_eq!(Rule::from_key(r.key()), Some(r));
        }
        assert_eq!(Rule::from_key("nope"), None);
    }

    #[test]
    fn dedupe_key_names_rule_entity_and_start_hour() {
        let start = Utc.with_ymd_and_hms(2024, 10, 16, 9, 0, 0).unwrap();
        let mut f = Finding {
            rule: Rule::SensorSilent,
            severity: Severity::Warning,
            store_id: 3,
            sensor_id: Some(12),
            start,
            end: None,
            observed: None,
            expected: None,
        };
        assert_eq!(f.dedupe_key(), "sensor_silent:3:12:2024-10-16T09");
        // The same condition, now over: same alert.
        f.end = Some(start + chrono::Duration::hours(5));
        assert_eq!(f.dedupe_key(), "sensor_silent:3:12:2024-10-16T09");
        f.sensor_id = None;
        f.rule = Rule::StoreClosed;
        assert_eq!(f.dedupe_key(), "store_closed:3:2024-10-16T09");
    }
}
