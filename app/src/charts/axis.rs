//! How a chart's x positions read. The labels on the axis, the full labels of tooltips and
//! tables, the machine keys and the drill-down links all derive from the [`Axis`] (defined
//! with the other wire types), in the browser as on the server, so the wire carries each
//! position once (a year of days is ~3 KB, not the ~19 KB the four label lists took).

use chrono::{Datelike, NaiveDate};

use crate::format;
use crate::i18n::Lang;
use crate::wire::Axis;

impl Axis {
    pub fn len(&self) -> usize {
        match self {
            Axis::Days(d) => d.len(),
            Axis::Hours { first, last } => (*last + 1).saturating_sub(*first) as usize,
            Axis::Stores(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hour(&self, i: usize) -> Option<u32> {
        match self {
            Axis::Hours { first, last } => {
                let h = first + u32::try_from(i).ok()?;
                (h <= *last).then_some(h)
            }
            _ => None,
        }
    }

    /// The label on the axis: `16/11` (`11-16` in English), `9h`, a store's name.
    pub fn label(&self, i: usize, lang: Lang) -> String {
        match self {
            Axis::Days(d) => d.get(i).map(|d| short_date(*d, lang)),
            Axis::Hours { .. } => self.hour(i).map(|h| format!("{h}h")),
            Axis::Stores(s) => s.get(i).map(|s| s.name.clone()),
        }
        .unwrap_or_default()
    }

    /// Every position's axis label, in order.
    pub fn labels(&self, lang: Lang) -> impl Iterator<Item = String> + '_ {
        (0..self.len()).map(move |i| self.label(i, lang))
    }

    /// The label of tooltips and tables: `lundi 16/11/2026`, `9h–10h`, `3. Lyon`.
    pub fn full(&self, i: usize, lang: Lang) -> String {
        match self {
            Axis::Days(d) => d.get(i).map(|d| {
                format!(
                    "{} {}",
                    format::weekday(d.weekday(), false, lang),
                    format::date(&d.to_string(), lang)
                )
            }),
            Axis::Hours { .. } => self.hour(i).map(|h| match lang {
                Lang::Fr => format!("{h}h–{}h", h + 1),
                Lang::En => format!("{h}:00–{}:00", h + 1),
            }),
            Axis::Stores(s) => s.get(i).map(|s| format!("{}. {}", s.rank, s.name)),
        }
        .unwrap_or_default()
    }

    /// The machine key: `YYYY-MM-DD`, an hour, a store id.
    pub fn key(&self, i: usize) -> String {
        match self {
            Axis::Days(d) => d.get(i).map(NaiveDate::to_string),
            Axis::Hours { .. } => self.hour(i).map(|h| h.to_string()),
            Axis::Stores(s) => s.get(i).map(|s| s.store_id.to_string()),
        }
        .unwrap_or_default()
    }

    /// The dashboard query a click on position `i` opens, if any.
    pub fn link(&self, i: usize) -> Option<String> {
        match self {
            Axis::Days(d) => d.get(i).map(|d| format!("from={d}&to={d}")),
            Axis::Hours { .. } => None,
            Axis::Stores(s) => s.get(i).map(|s| format!("store={}", s.store_id)),
        }
    }
}

fn short_date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{:02}/{:02}", d.day(), d.month()),
        Lang::En => format!("{:02}-{:02}", d.month(), d.day()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::RankedStore;

    #[test]
    fn labels_keys_and_links_derive_from_the_positions() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let days = Axis::Days(vec![d("2026-11-16"), d("2026-11-17")]);
        assert_eq!(days.len(), 2);
        assert_eq!(days.label(0, Lang::Fr), "16/11");
        assert_eq!(days.label(0, Lang::En), "11-16");
        assert_eq!(days.full(1, Lang::Fr), "mardi 17/11/2026");
        assert_eq!(days.key(1), "2026-11-17");
        assert_eq!(
            days.link(0).as_deref(),
            Some("from=2026-11-16&to=2026-11-16")
        );
        assert_eq!(days.label(2, Lang::Fr), "");

        let hours = Axis::Hours { first: 9, last: 19 };
        assert_eq!(hours.len(), 11);
        assert_eq!(hours.label(0, Lang::Fr), "9h");
        assert_eq!(hours.full(10, Lang::Fr), "19h–20h");
        assert_eq!(hours.full(0, Lang::En), "9:00–10:00");
        assert_eq!(hours.key(10), "19");
        assert_eq!(hours.key(11), "");
        assert_eq!(hours.link(0), None);

        let stores = Axis::Stores(vec![RankedStore {
            rank: 3,
            store_id: 7,
            name: "Lyon".into(),
        }]);
        assert_eq!(stores.full(0, Lang::Fr), "3. Lyon");
        assert_eq!(stores.link(0).as_deref(), Some("store=7"));
        assert_eq!(stores.key(0), "7");
    }
}
