//! The home page: what DataMag360 is, a live form over the simulator, and the API.

#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;

use leptos::prelude::*;

use crate::format;
use crate::i18n::{use_lang, Lang};
use crate::wire::{HomeData, HourSnapshot};
use server_fns::{get_home_data, get_simulator_hour};

/// What the page says when the server could not be reached or failed, whatever the
/// [`crate::wire::LoadError`] (the simulator behind the page has no outage of its own).
fn unreachable_message(l: Lang) -> &'static str {
    l.pick(
        "Le serveur n'a pas répondu. Vérifiez la connexion et réessayez.",
        "The server did not answer. Check the connection and try again.",
    )
}

#[component]
pub fn HomePage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(|| (), |_| get_home_data());

    view! {
        <crate::nav::Page class="page" lang>
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
                            Err(_) => {
                                view! {
                                    <p class="error" role="alert">
                                        {move || unreachable_message(lang.get())}
                                    </p>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </section>
            <ApiCard lang />
        </crate::nav::Page>
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
        async move { get_simulator_hour(city, date, hour).await }
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
                            let value = s.city_store.clone();
                            let label = move || {
                                format!(
                                    "{} ({} {})",
                                    s.city_store,
                                    s.sensors,
                                    lang.get().pick("capteurs", "sensors"),
                                )
                            };
                            view! { <option value=value>{label}</option> }
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
                    {pipeline::calendar::OPENING_HOURS
                        .map(|h| {
                            let label = move || match lang.get() {
                                Lang::Fr => format!("{h:02}h"),
                                Lang::En => format!("{h:02}:00"),
                            };
                            view! { <option value=h.to_string()>{label}</option> }
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
                Some(Err(_)) => {
                    view! { <p class="error">{move || unreachable_message(lang.get())}</p> }.into_any()
                }
                Some(Ok(Err(problem))) => {
                    view! { <p class="error">{move || problem.message(lang.get())}</p> }.into_any()
                }
                Some(Ok(Ok(snapshot))) => view! { <SnapshotView snapshot lang /> }.into_any(),
            }}
        </div>
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
    // Numbers in the page's language: `13 217,89 €` / `€13,217.89`.
    let revenue = snapshot.chiffre_affaires;
    let ca = Signal::derive(move || {
        revenue
            .map(|v| format::euros(v, lang.get()))
            .unwrap_or_default()
    });
    let transactions = snapshot.transactions.unwrap_or(0);
    let missing = missing as i64;
    view! {
        <div id="snapshot">
            <p class="snapshot-title">
                {format!("{} — {} {}", snapshot.city_store, snapshot.date, snapshot.heure)}
            </p>
            <dl class="kpis">
                <SnapshotFigure lang fr="Visiteurs (capteurs)" en="Visitors (sensors)" id="snapshot-visitors" value=Signal::derive(move || format::int(total, lang.get())) />
                <SnapshotFigure lang fr="Transactions" en="Transactions" id="snapshot-transactions" value=Signal::derive(move || format::int(transactions, lang.get())) />
                <SnapshotFigure lang fr="Chiffre d'affaires" en="Revenue" id="snapshot-revenue" value=ca />
                <SnapshotFigure lang fr="Relevés manquants" en="Missing readings" value=Signal::derive(move || format::int(missing, lang.get())) />
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
                            let v = s.visiteurs;
                            let value = move || {
                                v.map(|v| format::int(v, lang.get()))
                                    .unwrap_or_else(|| "—".into())
                            };
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

/// One figure of the snapshot: its label in the page's language, then its value.
#[component]
fn SnapshotFigure(
    lang: Memo<Lang>,
    fr: &'static str,
    en: &'static str,
    /// The value's element id (for the end-to-end tests), if it has one.
    #[prop(optional)]
    id: Option<&'static str>,
    value: Signal<String>,
) -> impl IntoView {
    view! {
        <div>
            <dt>{move || lang.get().pick(fr, en)}</dt>
            <dd id=id>{value}</dd>
        </div>
    }
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
