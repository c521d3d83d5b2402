//! DataMag360 web app: Leptos components, routes and server functions.
//!
//! Compiled twice: with `ssr` inside the server binary (rendering and server functions)
//! and with `hydrate` into the WebAssembly bundle that makes the page interactive.

#![recursion_limit = "256"]

pub mod chart_view;
pub mod charts;
pub mod dashboard;
pub mod format;
pub mod home;
pub mod i18n;
pub mod nav;
pub mod pipeline_page;
pub mod server_fns;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod dashboard_data;
#[cfg(feature = "ssr")]
pub mod dashboard_filters;
#[cfg(feature = "ssr")]
pub mod pipeline_status;
#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    SsrMode, StaticSegment,
};

/// Name of the built site files: `/pkg/datamag360.js`, `_bg.wasm` and `.css`.
pub const OUTPUT_NAME: &str = "datamag360";

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="fr">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="description" content="DataMag360 : fréquentation et ventes des magasins" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
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
    view! {
        <Stylesheet id="leptos" href="/pkg/datamag360.css" />
        <Title text="DataMag360" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=home::HomePage />
                <Route path=StaticSegment("dashboard") view=dashboard::DashboardPage ssr=SsrMode::Async />
                <Route path=StaticSegment("pipeline") view=pipeline_page::PipelinePage />
            </Routes>
        </Router>
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
    view! {
        <main class="page">
            <h1>"Page introuvable"</h1>
            <p>
                <a href="/">"Retour à l'accueil"</a>
            </p>
        </main>
    }
}
