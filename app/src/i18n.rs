//! French first, English available: the page language comes from `?lang=en` in the URL,
//! so a link keeps its language when shared.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn from_code(code: Option<&str>) -> Self {
        match code.map(str::trim) {
            Some(c) if c.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Picks the French or the English text.
    pub fn pick(self, fr: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

/// The language of the current page, read from the URL.
pub fn use_lang() -> Memo<Lang> {
    let query = use_query_map();
    Memo::new(move |_| Lang::from_code(query.read().get("lang").as_deref()))
}
