//! DataMag360 web app: Leptos components, routes and server functions.
//!
//! Compiled twice: with `ssr` inside the server binary (rendering and server functions)
//! and with `hydrate` into the WebAssembly bundle that makes the page interactive.
//!
//! Each page has one shape (`pages/*/`): its components, its server functions
//! (`server_fns.rs`) and, server side only, the loader behind them (`server.rs`). What
//! the pages share sits at the top: the types that cross the wire (`wire.rs`), the charts
//! (`charts/`), formatting, language and navigation.

#![recursion_limit = "256"]

pub mod access;
pub mod charts;
pub mod format;
pub mod i18n;
pub mod load_failed;
pub mod nav;
pub mod pages;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Html, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    SsrMode, StaticSegment,
};

use pages::{dashboard, home};

/// Name of the built site files: `/pkg/datamag360.js`, `_bg.wasm` and `.css`.
pub const OUTPUT_NAME: &str = "datamag360";

/// The HTML document around the app (server side only). The `lang` attribute of `<html>`
/// comes from the page (`?lang=en`, see [`App`]); the script, wasm and stylesheet names
/// carry their content hash when the site was built with one (`site/hash.txt`).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    pages::alerts::count::provide_alerts_changed();
    view! {
        <Title text="DataMag360" />
        <Router>
            <DocumentLang />
            <Routes fallback=NotFound>
                // Async: the server sends each page once its data is there, so the HTML holds
                // the figures (no "Chargement…" without JavaScript) and is the same for the
                // same data — its ETag lets a reload answer 304.
                <Route path=StaticSegment("") view=home::HomePage ssr=SsrMode::Async />
                <Route path=StaticSegment("dashboard") view=dashboard::DashboardPage ssr=SsrMode::Async />
                <Route path=StaticSegment("pipeline") view=pages::pipeline::PipelinePage ssr=SsrMode::Async />
                <Route path=StaticSegment("login") view=pages::login::LoginPage ssr=SsrMode::Async />
                <Route path=StaticSegment("setup") view=pages::login::SetupPage ssr=SsrMode::Async />
                <Route path=StaticSegment("account") view=pages::account::AccountPage ssr=SsrMode::Async />
                <Route path=StaticSegment("users") view=pages::users::UsersPage ssr=SsrMode::Async />
                <Route path=StaticSegment("alerts") view=pages::alerts::AlertsPage ssr=SsrMode::Async />
                <Route path=(StaticSegment("alerts"), StaticSegment("channels")) view=pages::alerts::channels::ChannelsPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// `<html lang>` and the description follow the page's language (`?lang=en`), on the
/// server and after client-side navigation.
#[component]
fn DocumentLang() -> impl IntoView {
    let lang = i18n::use_lang();
    view! {
        <Html {..} lang=move || lang.get().code() />
        <Meta
            name="description"
            content=move || {
                lang.get()
                    .pick(
                        "DataMag360 : fréquentation et ventes des magasins",
                        "DataMag360: store footfall and sales",
                    )
            }
        />
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let lang = i18n::use_lang();
    let home = move || match lang.get() {
        i18n::Lang::Fr => "/".to_string(),
        i18n::Lang::En => "/?lang=en".to_string(),
    };
    view! {
        <nav::Page class="page not-found" lang full_reload=true>
            <h1>{move || lang.get().pick("Page introuvable", "Page not found")}</h1>
            <p>
                {move || {
                    lang.get()
                        .pick(
                            "Cette adresse ne correspond à aucune page de DataMag360.",
                            "This address matches no DataMag360 page.",
                        )
                }}
            </p>
            <p>
                <a class="button-link" href=home rel="external">
                    {move || lang.get().pick("Retour à l'accueil", "Back to the home page")}
                </a>
            </p>
        </nav::Page>
    }
}
