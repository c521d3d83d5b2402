//! The header on every page: brand, navigation, language switch (keeps the other filters).

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use crate::i18n::Lang;

/// A page: `<main>` with the page's classes, the header, then the page's content.
/// `data-hydrated` turns `true` only in the browser, once the WebAssembly has taken over
/// the page (the browser tests wait for it). `full_reload`: see [`Nav`].
#[component]
pub fn Page(
    class: &'static str,
    lang: Memo<Lang>,
    #[prop(optional)] full_reload: bool,
    children: Children,
) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <main class=class data-hydrated=move || hydrated.get().to_string()>
            <Nav lang full_reload />
            {children()}
        </main>
    }
}

/// `full_reload`: links load their page from the server instead of the client-side router
/// (the 404 page is no route of the router, so it does not re-render on a new URL).
#[component]
pub fn Nav(lang: Memo<Lang>, #[prop(optional)] full_reload: bool) -> impl IntoView {
    let rel = full_reload.then_some("external");
    let query = use_query_map();
    let location = use_location();
    // Links keep the language; the switch keeps the page and its filters.
    let with_lang = move |path: &'static str| crate::i18n::localized(lang, path);
    let switch_to = move |target: Lang| {
        move || {
            let mut q = query.get();
            q.remove("lang");
            if target == Lang::En {
                q.insert("lang", "en".to_string());
            }
            let qs = q.to_query_string();
            let path = location.pathname.get();
            if qs.is_empty() || qs == "?" {
                path
            } else if qs.starts_with('?') {
                format!("{path}{qs}")
            } else {
                format!("{path}?{qs}")
            }
        }
    };
    view! {
        <header class="topbar">
            <a class="brand" href=with_lang("/") rel=rel>
                "DataMag360"
            </a>
            <nav class="main-nav" aria-label=move || lang.get().pick("Navigation principale", "Main navigation")>
                <a href=with_lang("/dashboard") rel=rel>{move || lang.get().pick("Tableau de bord", "Dashboard")}</a>
                <crate::pages::alerts::count::AlertCount lang rel=rel />
                <a href=with_lang("/pipeline") rel=rel>{move || lang.get().pick("Pipeline", "Pipeline")}</a>
                <a href=with_lang("/") rel=rel>{move || lang.get().pick("Simulateur", "Simulator")}</a>
            </nav>
            <nav class="lang-switch" aria-label=move || lang.get().pick("Langue", "Language")>
                <a href=switch_to(Lang::Fr) class:active=move || lang.get() == Lang::Fr hreflang="fr" rel=rel>
                    "FR"
                </a>
                <a href=switch_to(Lang::En) class:active=move || lang.get() == Lang::En hreflang="en" rel=rel>
                    "EN"
                </a>
            </nav>
            <crate::access::AccountLine lang rel=rel.unwrap_or("") />
        </header>
    }
}
