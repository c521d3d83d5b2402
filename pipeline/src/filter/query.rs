//! The filter's URL grammar: `store`, `sensors` (repeated or comma-separated), `from`,
//! `to` (`YYYY-MM-DD`), `h0`, `h1` (opening hours), `cmp` (`prev`, `year`, `none`),
//! `for_store` (the store the plain HTML form drew its sensor boxes for) and `lang`.
//! An empty value means the default; other keys are left to the caller (the export's
//! `format`).

use serde::{Deserialize, Serialize};

use crate::calendar::OPENING_HOURS;
use crate::kpi::Comparison;
use crate::lang::Lang;

/// The dashboard's filters as the URL spells them
/// (`?store=1&sensors=2&sensors=5&from=2025-03-10&to=2025-03-16&h0=10`). Dates stay as
/// given, so that a form can show what the user asked for; [`super::resolve`] checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DashboardQuery {
    /// Store id, or none for all stores.
    pub store: Option<u32>,
    /// Sensor ids of the selected store; empty means all.
    pub sensors: Vec<u32>,
    /// `YYYY-MM-DD`
    pub from: Option<String>,
    /// `YYYY-MM-DD`
    pub to: Option<String>,
    pub h0: Option<u32>,
    pub h1: Option<u32>,
    /// Comparison: `prev` (default), `year` or `none`.
    pub cmp: Option<String>,
    /// The store the sensor boxes were drawn for (`for_store`, sent by the plain HTML form):
    /// when the user picked another store, those sensors no longer apply.
    pub sensors_for: Option<u32>,
    /// `fr` or `en`
    pub lang: String,
}

/// A parameter that should be a whole number and is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Le paramètre « {key} » doit être un entier (reçu : « {value} »).")]
pub struct BadParameter {
    pub key: &'static str,
    /// The value as received (one item of a comma-separated list).
    pub value: String,
}

/// What a clean URL leaves out beyond the fixed defaults (all stores, all sensors, the
/// opening hours' ends, `cmp=prev`, French), which depend on the day and the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlDefaults<'a> {
    /// The default period (`from`, `to`): a query asking for it writes no dates, any other
    /// period writes both. Without it the dates are always written.
    pub period: Option<(&'a str, &'a str)>,
    /// A store and all its sensors: a query for that store listing every one of them
    /// writes no sensor list ("all sensors").
    pub store_sensors: Option<(u32, &'a [u32])>,
}

/// An integer as the original API (pydantic's lax mode) accepted it: surrounding
/// whitespace, an optional sign, decimal digits, and an optional fractional part made only
/// of zeros (`12`, ` +12 `, `12.0`, `12.00`, `12.`, `-0`). `None` for anything else
/// (`1.5`, `1e3`, `0x10`, `１２`, empty) and for values beyond `i64`.
pub fn lax_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    let digits = match t.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => t,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Leading zeros cannot overflow: strip them before parsing.
    let significant = digits.trim_start_matches('0');
    let magnitude: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A whole number for an id or an hour; `Ok(None)` for an empty value.
fn number(key: &'static str, value: &str) -> Result<Option<u32>, BadParameter> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    lax_int(value)
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| BadParameter {
            key,
            value: value.to_string(),
        })
}

/// A text value; `None` when empty.
fn text(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_string())
}

impl DashboardQuery {
    /// Reads one decoded `key=value` pair: a later value of a key replaces an earlier one,
    /// except `sensors`, whose values add up. `Ok(false)` for a key outside the grammar;
    /// an error for a number that is not one (the field then stays at its default, and the
    /// valid items of a sensor list are kept). `for_store` is the form's bookkeeping: a bad
    /// value there is ignored.
    pub fn read_pair(&mut self, key: &str, value: &str) -> Result<bool, BadParameter> {
        let set = |slot: &mut Option<u32>, key: &'static str| {
            let n = number(key, value);
            *slot = n.clone().unwrap_or(None);
            n.map(|_| true)
        };
        match key {
            "store" => set(&mut self.store, "store"),
            "h0" => set(&mut self.h0, "h0"),
            "h1" => set(&mut self.h1, "h1"),
            "for_store" => {
                self.sensors_for = number("for_store", value).unwrap_or(None);
                Ok(true)
            }
            "sensors" => {
                let mut bad = None;
                for part in value.split(',') {
                    match number("sensors", part) {
                        Ok(Some(id)) => self.sensors.push(id),
                        Ok(None) => {}
                        Err(e) => bad = bad.or(Some(e)),
                    }
                }
                bad.map_or(Ok(true), Err)
            }
            "from" => {
                self.from = text(value);
                Ok(true)
            }
            "to" => {
                self.to = text(value);
                Ok(true)
            }
            "cmp" => {
                self.cmp = text(value);
                Ok(true)
            }
            "lang" => {
                self.lang = value.to_string();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Reads every pair of a URL's query. A value that is not a number leaves its field at
    /// the default: a hand-edited link still opens the dashboard.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut q = DashboardQuery::default();
        for (k, v) in pairs {
            // A malformed number leaves its field at the default (see above).
            let _ = q.read_pair(k.as_ref(), v.as_ref());
        }
        q
    }

    /// [`DashboardQuery::from_pairs`] over a raw query string (`store=1&from=…`,
    /// percent-encoded, with or without the leading `?`).
    pub fn from_query_string(raw: &str) -> Self {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        Self::from_pairs(form_urlencoded::parse(raw.as_bytes()))
    }

    /// The language of the messages.
    pub fn lang(&self) -> Lang {
        Lang::from_code(Some(&self.lang))
    }

    /// The query string (without `?`) of this filter, clean: keys in a fixed order (store,
    /// sensors, from, to, h0, h1, cmp, lang), no empty key, no default value: no store for
    /// all stores, no sensor list for all sensors, no dates for the default period, no hour
    /// at the opening hours' ends, no `cmp=prev`, no `lang=fr`.
    pub fn to_query_string(&self, defaults: &UrlDefaults) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(store) = self.store.filter(|s| *s != 0) {
            out.append_pair("store", &store.to_string());
            let mut chosen = self.sensors.clone();
            chosen.sort_unstable();
            chosen.dedup();
            let all = matches!(
                defaults.store_sensors,
                Some((s, all)) if s == store && all.iter().all(|x| chosen.contains(x))
            );
            if !all {
                for id in chosen {
                    out.append_pair("sensors", &id.to_string());
                }
            }
        }
        let default_period = defaults.period.is_some_and(|(from, to)| {
            self.from.as_deref().unwrap_or(from) == from && self.to.as_deref().unwrap_or(to) == to
        });
        if !default_period {
            for (key, date) in [("from", &self.from), ("to", &self.to)] {
                if let Some(date) = date.as_deref().filter(|d| !d.trim().is_empty()) {
                    out.append_pair(key, date);
                }
            }
        }
        if let Some(h) = self.h0.filter(|h| h != OPENING_HOURS.start()) {
            out.append_pair("h0", &h.to_string());
        }
        if let Some(h) = self.h1.filter(|h| h != OPENING_HOURS.end()) {
            out.append_pair("h1", &h.to_string());
        }
        let default_cmp = Comparison::default().code();
        if let Some(c) = self
            .cmp
            .as_deref()
            .filter(|c| !c.trim().is_empty() && *c != default_cmp)
        {
            out.append_pair("cmp", c);
        }
        if self.lang() == Lang::En {
            out.append_pair("lang", Lang::En.code());
        }
        out.finish()
    }

    /// `path` with [`DashboardQuery::to_query_string`]'s query, if any.
    pub fn href(&self, path: &str, defaults: &UrlDefaults) -> String {
        let query = self.to_query_string(defaults);
        if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_read_lists_empty_keys_and_bad_numbers_like_the_page() {
        let q = DashboardQuery::from_query_string(
            "?store=3&sensors=1,2&sensors=5&sensors=&from=&to=2025-03-16&h0=x&cmp=year&=&lang=en",
        );
        assert_eq!(q.store, Some(3));
        assert_eq!(q.sensors, vec![1, 2, 5]);
        assert_eq!(
            (q.from.as_deref(), q.to.as_deref()),
            (None, Some("2025-03-16"))
        );
        assert_eq!(q.h0, None, "not a number: the default");
        assert_eq!(q.cmp.as_deref(), Some("year"));
        assert_eq!(q.lang(), Lang::En);
        // Old URLs with empty keys are the defaults.
        let old = DashboardQuery::from_query_string("store=&sensors=&h0=&h1=&cmp=&for_store=");
        assert_eq!(old, DashboardQuery::default());
        // Numbers as the API reads them; a later value replaces an earlier one.
        let q =
            DashboardQuery::from_query_string("store=2&store=%2B7.0&for_store=zz&sensors=4%2Cx");
        assert_eq!(
            (q.store, q.sensors_for, q.sensors),
            (Some(7), None, vec![4])
        );
    }

    #[test]
    fn bad_numbers_name_the_parameter_and_keep_the_value() {
        let mut q = DashboardQuery::default();
        assert_eq!(q.read_pair("format", "excel"), Ok(false));
        assert_eq!(q.read_pair("store", " 4 "), Ok(true));
        let e = q.read_pair("store", "abc").expect_err("not a number");
        assert_eq!(
            e.to_string(),
            "Le paramètre « store » doit être un entier (reçu : « abc »)."
        );
        assert_eq!(q.store, None);
        let e = q.read_pair("sensors", "1,-2,3").expect_err("negative");
        assert_eq!((e.key, e.value.as_str()), ("sensors", "-2"));
        assert_eq!(q.sensors, vec![1, 3]);
        assert!(q.read_pair("h1", "19.5").is_err());
    }

    #[test]
    fn printed_urls_omit_defaults_and_empty_keys() {
        let all = [1, 2, 3];
        let defaults = UrlDefaults {
            period: Some(("2025-03-10", "2025-03-16")),
            store_sensors: Some((4, &all)),
        };
        let mut q = DashboardQuery {
            from: Some("2025-03-10".into()),
            to: Some("2025-03-16".into()),
            h0: Some(9),
            h1: Some(19),
            cmp: Some("prev".into()),
            lang: "fr".into(),
            ..Default::default()
        };
        assert_eq!(q.href("/dashboard", &defaults), "/dashboard");
        q.store = Some(4);
        q.sensors = vec![3, 1, 2, 2];
        q.h0 = Some(10);
        assert_eq!(
            q.to_query_string(&defaults),
            "store=4&h0=10",
            "all sensors: no list"
        );
        q.sensors = vec![3, 1];
        q.to = Some("2025-03-17".into());
        q.cmp = Some("none".into());
        q.lang = "en".into();
        assert_eq!(
            q.to_query_string(&defaults),
            "store=4&sensors=1&sensors=3&from=2025-03-10&to=2025-03-17&h0=10&cmp=none&lang=en"
        );
        // Without a default period the dates are always written; the sensors too.
        let export = DashboardQuery {
            store: Some(4),
            sensors: vec![1, 2, 3],
            from: Some("2025-03-10".into()),
            to: Some("2025-03-16".into()),
            ..Default::default()
        };
        assert_eq!(
            export.href("/export.csv", &UrlDefaults::default()),
            "/export.csv?store=4&sensors=1&sensors=2&sensors=3&from=2025-03-10&to=2025-03-16"
        );
    }

    #[test]
    fn printing_then_reading_gives_the_same_filter() {
        let q = DashboardQuery {
            store: Some(7),
            sensors: vec![3, 5],
            from: Some("2024-12-30".into()),
            to: Some("2025-01-05".into()),
            h0: Some(10),
            h1: Some(17),
            cmp: Some("year".into()),
            sensors_for: None,
            lang: "en".into(),
        };
        let text = q.to_query_string(&UrlDefaults::default());
        assert_eq!(DashboardQuery::from_query_string(&text), q);
    }
}
