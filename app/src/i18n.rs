//! French first, English available: the page language comes from `?lang=en` in the URL,
//! so a link keeps its language when shared.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

pub use pipeline::lang::Lang;

/// The language of the current page, read from the URL.
pub fn use_lang() -> Memo<Lang> {
    let query = use_query_map();
    Memo::new(move |_| Lang::from_code(query.read().get("lang").as_deref()))
}

/// `path` as a link in the page's language (`?lang=en` in English), following `lang`.
pub fn localized(
    lang: Memo<Lang>,
    path: &'static str,
) -> impl Fn() -> String + Send + Sync + Copy + 'static {
    move || match lang.get() {
        Lang::Fr => path.to_string(),
        Lang::En => format!("{path}?lang=en"),
    }
}
