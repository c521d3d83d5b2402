//! The alerts page's filters as they sit in the URL (`/alerts?store=1&rule=sensor_silent
//! &severity=critical&status=open&lang=en`): one parser, one printer that leaves the
//! defaults out, used by the page, its form and its server function alike. Unknown values
//! read as "no filter" (an old or hand-edited link still opens).

use pipeline::alerts::{Rule, Severity};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use pipeline::alerts::lifecycle::AlertStatus;

/// The alerts page's filters. `None` everywhere: every alert of the viewer's stores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsQuery {
    pub store: Option<u32>,
    pub rule: Option<Rule>,
    pub severity: Option<Severity>,
    pub status: Option<AlertStatus>,
    /// The page's language (links keep it; the server answers the same data in both).
    #[serde(skip)]
    pub lang: Lang,
}

impl AlertsQuery {
    /// Reads the URL's pairs; what does not read is left out.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut q = AlertsQuery::default();
        for (k, v) in pairs {
            let v = v.as_ref().trim();
            match k.as_ref() {
                "store" => q.store = v.parse().ok().filter(|s| *s != 0),
                "rule" => q.rule = Rule::from_key(v),
                "severity" => q.severity = Severity::from_key(v),
                "status" => q.status = AlertStatus::from_key(v),
                "lang" => q.lang = Lang::from_code(Some(v)),
                _ => {}
            }
        }
        q
    }

    /// `/alerts` with the filters that are set (and `lang=en` in English). Every value
    /// is a number or a `snake_case` key: nothing to escape.
    pub fn href(&self) -> String {
        let mut pairs: Vec<String> = Vec::new();
        if let Some(s) = self.store {
            pairs.push(format!("store={s}"));
        }
        if let Some(r) = self.rule {
            pairs.push(format!("rule={}", r.key()));
        }
        if let Some(s) = self.severity {
            pairs.push(format!("severity={}", s.key()));
        }
        if let Some(s) = self.status {
            pairs.push(format!("status={}", s.key()));
        }
        if self.lang == Lang::En {
            pairs.push("lang=en".to_string());
        }
        if pairs.is_empty() {
            "/alerts".to_string()
        } else {
            format!("/alerts?{}", pairs.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_round_trips_and_leaves_defaults_out() {
        let q = AlertsQuery::from_pairs([
            ("store", "3"),
            ("rule", "sensor_silent"),
            ("severity", "critical"),
            ("status", "acknowledged"),
            ("lang", "en"),
        ]);
        assert_eq!(q.store, Some(3));
        assert_eq!(q.rule, Some(Rule::SensorSilent));
        assert_eq!(q.severity, Some(Severity::Critical));
        assert_eq!(q.status, Some(AlertStatus::Acknowledged));
        assert_eq!(
            q.href(),
            "/alerts?store=3&rule=sensor_silent&severity=critical&status=acknowledged&lang=en"
        );
        let href = q.href();
        let back = AlertsQuery::from_pairs(
            href.trim_start_matches("/alerts?")
                .split('&')
                .filter_map(|p| p.split_once('=')),
        );
        assert_eq!(back, q);
        assert_eq!(AlertsQuery::default().href(), "/alerts");
    }

    #[test]
    fn unknown_values_read_as_no_filter() {
        let q = AlertsQuery::from_pairs([
            ("store", "x"),
            ("rule", "nope"),
            ("severity", ""),
            ("status", "0"),
            ("store", "0"),
        ]);
        assert_eq!(q, AlertsQuery::default());
    }
}
