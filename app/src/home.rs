//! The home page: what DataMag360 is, a live form over the simulator, and the API.

use leptos::prelude::*;

use crate::i18n::{use_lang, Lang};
use crate::server_fns::{get_home_data, get_hour_snapshot};
use crate::wire::{HomeData, HourSnapshot};

#[component]
pub fn HomePage() -> impl IntoView {
    let lang = use_lang();
    // Set only in the browser, once the WebAssembly has taken over the page.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let data = Resource::new(|| (), |_| get_home_data());

    view! {
        <main class="page" data-hydrated=move || hydrated.get().to_string()>
            <crate::nav::Nav lang />
            <section class="hero">
                <h1>"DataMag360"</h1>
                <p class="lead">
                    {move || {
                        lang.get()
                            .pick(
                                "La fréquentation et les ventes de vos magasins, heure par heure.",
                                "Footfall and sales of your stores, hour by hour.",
                            )
                    }}
                </p>
            </section>
            <section class="card" id="simulateur">
                <h2>
                    {move || lang.get().pick("Interroger le simulateur", "Query the simulator")}
                </h2>
                <Suspense fallback=move || {
                    view! { <p class="muted">{move || lang.get().pick("Chargement…", "Loading…")}</p> }
                }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(data) => view! { <SnapshotForm data lang /> }.into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <ApiCard lang />
        </main>
    }
}

#[component]
fn SnapshotForm(data: HomeData, lang: Memo<Lang>) -> impl IntoView {
    let first_city = data
        .stores
        .first()
        .map(|s| s.city_store.clone())
        .unwrap_or_default();
    let city = RwSignal::new(first_city);
    let date = RwSignal::new(data.default_date.clone());
    let hour = RwSignal::new("12".to_string());

    let query = Action::new(|args: &(String, String, u32)| {
        let (city, date, hour) = args.clone();
        async move { get_hour_snapshot(city, date, hour).await }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let h = hour.get_untracked().parse::<u32>().unwrap_or(12);
        query.dispatch((city.get_untracked(), date.get_untracked(), h));
    };
    let stores = data.stores.clone();
    view! {
        <form class="snapshot-form" novalidate on:submit=on_submit>
            <label>
                {move || lang.get().pick("Magasin", "Store")}
                <select name="city_store" bind:value=city>
                    {stores
                        .into_iter()
                        .map(|s| {
                            let label = format!("{} ({} capteurs)", s.city_store, s.sensors);
                            view! { <option value=s.city_store.clone()>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Date"
                <input
                    type="date"
                    name="date"
                    min=data.first_date.clone()
                    max=data.default_date.clone()
                    bind:value=date
                />
            </label>
            <label>
                {move || lang.get().pick("Heure", "Hour")}
                <select name="hour" bind:value=hour>
                    {(9..=19u32)
                        .map(|h| {
                            view! { <option value=h.to_string()>{format!("{h:02}h")}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" id="query-button" disabled=move || query.pending().get()>
                {move || lang.get().pick("Interroger", "Query")}
            </button>
        </form>
        <div class="snapshot-result" aria-live="polite">
            {move || match query.value().get() {
                None => {
                    view! {
                        <p class="muted">
                            {move || {
                                lang.get()
                                    .pick(
                                        "Choisissez un magasin, une date et une heure.",
                                        "Pick a store, a date and an hour.",
                                    )
                            }}
                        </p>
                    }
                        .into_any()
                }
                Some(Err(e)) => view! { <p class="error">{server_message(&e)}</p> }.into_any(),
                Some(Ok(Err(message))) => view! { <p class="error">{message}</p> }.into_any(),
                Some(Ok(Ok(snapshot))) => view! { <SnapshotView snapshot lang /> }.into_any(),
            }}
        </div>
    }
}

/// The user-facing part of a server function error.
fn server_message(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

#[component]
fn SnapshotView(snapshot: HourSnapshot, lang: Memo<Lang>) -> impl IntoView {
    if snapshot.is_closed {
        return view! {
            <p class="closed" id="snapshot-closed">
                {move || lang.get().pick("Magasin fermé le week-end.", "Store closed at weekends.")}
            </p>
        }
        .into_any();
    }
    let total: i64 = snapshot.sensors.iter().filter_map(|s| s.visiteurs).sum();
    let missing = snapshot
        .sensors
        .iter()
        .filter(|s| s.visiteurs.is_none())
        .count();
    let ca = snapshot
        .chiffre_affaires
        .map(|v| format!("{v:.2} €").replace('.', ","))
        .unwrap_or_default();
    view! {
        <div id="snapshot">
            <p class="snapshot-title">
                {format!("{} — {} {}", snapshot.city_store, snapshot.date, snapshot.heure)}
            </p>
            <dl class="kpis">
                <div>
                    <dt>{move || lang.get().pick("Visiteurs (capteurs)", "Visitors (sensors)")}</dt>
                    <dd id="snapshot-visitors">{total}</dd>
                </div>
                <div>
                    <dt>{move || lang.get().pick("Transactions", "Transactions")}</dt>
                    <dd id="snapshot-transactions">{snapshot.transactions.unwrap_or(0)}</dd>
                </div>
                <div>
                    <dt>{move || lang.get().pick("Chiffre d'affaires", "Revenue")}</dt>
                    <dd id="snapshot-revenue">{ca}</dd>
                </div>
                <div>
                    <dt>{move || lang.get().pick("Relevés manquants", "Missing readings")}</dt>
                    <dd>{missing}</dd>
                </div>
            </dl>
            <table class="sensor-table">
                <thead>
                    <tr>
                        <th>{move || lang.get().pick("Capteur", "Sensor")}</th>
                        <th>{move || lang.get().pick("Visiteurs", "Visitors")}</th>
                    </tr>
                </thead>
                <tbody>
                    {snapshot
                        .sensors
                        .into_iter()
                        .map(|s| {
                            let value = s.visiteurs.map(|v| v.to_string()).unwrap_or_else(|| "—".into());
                            view! {
                                <tr>
                                    <td>{s.sensor_id}</td>
                                    <td>{value}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ApiCard(lang: Memo<Lang>) -> impl IntoView {
    view! {
        <section class="card" id="api">
            <h2>{move || lang.get().pick("API compatible", "Compatible API")}</h2>
            <p>
                {move || {
                    lang.get()
                        .pick(
                            "Les clients de l'API d'origine fonctionnent sans changement :",
                            "Clients of the original API work unchanged:",
                        )
                }}
            </p>
            <ul class="api-list">
                <li>
                    <a href="/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=9">
                        <code>"GET /visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=9"</code>
                    </a>
                </li>
                <li>
                    <a href="/transactions?city_store=Paris&year=2024&month=10&day=14&hour=12">
                        <code>"GET /transactions?city_store=Paris&year=2024&month=10&day=14&hour=12"</code>
                    </a>
                </li>
                <li>
                    <a href="/releves?year=2024&month=10&day=14&hour=12">
                        <code>"GET /releves?year=2024&month=10&day=14&hour=12"</code>
                    </a>
                    {move || lang.get().pick(" : toute la chaîne en un appel", ": the whole chain in one call")}
                </li>
                <li>
                    <a href="/openapi.json">
                        <code>"GET /openapi.json"</code>
                    </a>
                    " · "
                    <a href="/health">
                        <code>"GET /health"</code>
                    </a>
                </li>
            </ul>
        </section>
    }
}
