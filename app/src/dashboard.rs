//! The KPI dashboard: filters in the URL, KPI cards with their change, server-drawn charts.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::format;
use crate::i18n::{use_lang, Lang};
use crate::server_fns::get_dashboard;
use crate::wire::{DashboardData, DashboardQuery};

fn parse_u32(s: Option<String>) -> Option<u32> {
    s.and_then(|v| v.trim().parse().ok())
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let lang = use_lang();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        DashboardQuery {
            store: parse_u32(q.get("store")),
            sensors: q
                .get_all("sensors")
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.trim().parse().ok())
                .collect(),
            from: q.get("from").filter(|s| !s.is_empty()),
            to: q.get("to").filter(|s| !s.is_empty()),
            h0: parse_u32(q.get("h0")),
            h1: parse_u32(q.get("h1")),
            lang: lang.get().code().to_string(),
        }
    });
    let data = Resource::new(move || query.get(), get_dashboard);
    view! {
        <main class="page dashboard" data-hydrated=move || hydrated.get().to_string()>
            <crate::nav::Nav lang />
            <h1>{move || lang.get().pick("Tableau de bord", "Dashboard")}</h1>
            <Transition fallback=move || {
                view! { <p class="muted loading">{move || lang.get().pick("Chargement…", "Loading…")}</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <DashboardView data=d lang /> }.into_any(),
                        Err(e) => {
                            view! {
                                <p class="error" role="alert">
                                    {lang.get_untracked().pick("Erreur : ", "Error: ")}
                                    {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn DashboardView(data: DashboardData, lang: Memo<Lang>) -> impl IntoView {
    let f = data.filter.clone();
    let l = lang.get_untracked();
    // Changing the store invalidates the sensor choice: those boxes are then not sent.
    let store_changed = RwSignal::new(false);
    let export_href = {
        let mut parts = vec![
            format!("from={}", f.from),
            format!("to={}", f.to),
            format!("h0={}", f.h0),
            format!("h1={}", f.h1),
        ];
        if let Some(s) = f.store {
            parts.push(format!("store={s}"));
        }
        for s in &f.sensors {
            parts.push(format!("sensors={s}"));
        }
        format!("/export.csv?{}", parts.join("&"))
    };
    let range_note = match (&data.data_from, &data.data_to) {
        (Some(a), Some(b)) => format!(
            "{} {} {} {}",
            l.pick("Données disponibles du", "Data available from"),
            format::date(a, l),
            l.pick("au", "to"),
            format::date(b, l)
        ),
        _ => l
            .pick(
                "Aucune donnée analytique pour l'instant : le pipeline la prépare (voir la page Pipeline).",
                "No analytics data yet: the pipeline is preparing it (see the Pipeline page).",
            )
            .to_string(),
    };
    let incomplete = match &data.data_to {
        Some(last) => f.to.as_str() > last.as_str(),
        None => true,
    };
    let hours: Vec<u32> = (9..=19).collect();
    // Which filter these figures are for (tests wait on it while a new view loads).
    let applied_key = format!(
        "store={};sensors={};from={};to={};h0={};h1={}",
        f.store.map(|s| s.to_string()).unwrap_or_default(),
        f.sensors
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(","),
        f.from,
        f.to,
        f.h0,
        f.h1
    );
    let period_text = format!(
        "{} {} → {}, {}h–{}h · {} {} → {}",
        l.pick("Période", "Period"),
        format::date(&f.from, l),
        format::date(&f.to, l),
        f.h0,
        f.h1 + 1,
        l.pick("comparée à", "compared with"),
        format::date(&f.previous_from, l),
        format::date(&f.previous_to, l),
    );
    view! {
        <Form method="GET" action="/dashboard" attr:class="filters" attr:id="filters">
            {(l == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
            <label>
                {l.pick("Magasin", "Store")}
                <select
                    name="store"
                    id="filter-store"
                    prop:value=f.store.map(|s| s.to_string()).unwrap_or_default()
                    on:change=move |_| store_changed.set(true)
                >
                    <option value="" selected=f.store.is_none()>
                        {l.pick("Tous les magasins", "All stores")}
                    </option>
                    {data
                        .stores
                        .iter()
                        .map(|s| {
                            view! {
                                <option value=s.store_id.to_string() selected=f.store == Some(s.store_id)>
                                    {s.city_store.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                {l.pick("Du", "From")}
                <input type="date" name="from" id="filter-from" value=f.from.clone() prop:value=f.from.clone() required />
            </label>
            <label>
                {l.pick("Au", "To")}
                <input type="date" name="to" id="filter-to" value=f.to.clone() prop:value=f.to.clone() required />
            </label>
            <label>
                {l.pick("De", "Hours from")}
                <select name="h0" id="filter-h0" prop:value=f.h0.to_string()>
                    {hours
                        .iter()
                        .map(|h| view! { <option value=h.to_string() selected=*h == f.h0>{format!("{h}h")}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                {l.pick("À", "to")}
                <select name="h1" id="filter-h1" prop:value=f.h1.to_string()>
                    {hours
                        .iter()
                        .map(|h| view! { <option value=h.to_string() selected=*h == f.h1>{format!("{h}h")}</option> })
                        .collect_view()}
                </select>
            </label>
            {(!data.store_sensors.is_empty())
                .then(|| {
                    view! {
                        <fieldset class="sensors" id="filter-sensors">
                            <legend>{l.pick("Capteurs", "Sensors")}</legend>
                            {data
                                .store_sensors
                                .iter()
                                .map(|s| {
                                    let checked = f.sensors.is_empty() || f.sensors.contains(s);
                                    view! {
                                        <label class="check">
                                            <input
                                                type="checkbox"
                                                name="sensors"
                                                value=s.to_string()
                                                checked=checked
                                                prop:checked=checked
                                                disabled=move || store_changed.get()
                                            />
                                            {s.to_string()}
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                    }
                })}
            <div class="actions">
                <button type="submit" id="apply-filters">{l.pick("Appliquer", "Apply")}</button>
                <a class="export" id="export-csv" href=export_href download="datamag360.csv">
                    {l.pick("Exporter en CSV", "Export as CSV")}
                </a>
            </div>
        </Form>
        {data.error.clone().map(|e| view! { <p class="error" role="alert" id="filter-error">{e}</p> })}
        <p class="muted period" id="period">{period_text}</p>
        <p class="muted" id="data-range">{range_note}</p>
        {incomplete
            .then(|| {
                view! {
                    <p class="warning" id="incomplete">
                        {l
                            .pick(
                                "Attention : la période dépasse les données disponibles, les chiffres sont partiels.",
                                "Warning: the period goes beyond the available data; figures are partial.",
                            )}
                    </p>
                }
            })}
        <section class="kpi-grid" aria-label=l.pick("Indicateurs", "Indicators") data-applied=applied_key>
            {data
                .kpis
                .iter()
                .map(|k| {
                    let trend = match k.change {
                        Some(c) if c > 0.0 => "up",
                        Some(c) if c < 0.0 => "down",
                        _ => "flat",
                    };
                    view! {
                        <div class="kpi" data-kpi=k.id.clone() data-value=k.value.map(|v| v.to_string()).unwrap_or_default()>
                            <div class="kpi-label">{k.label.clone()}</div>
                            <div class="kpi-value">{k.display.clone()}</div>
                            <div class=format!("kpi-change {trend}") title=l.pick("par rapport à la période précédente", "against the previous period")>
                                {k.change_display.clone()}
                            </div>
                        </div>
                    }
                })
                .collect_view()}
        </section>
        <section class="charts">
            {data
                .charts
                .iter()
                .map(|c| {
                    view! {
                        <figure class="chart" id=format!("chart-{}", c.id)>
                            <figcaption>{c.title.clone()}</figcaption>
                            {match c.svg.clone() {
                                Some(svg) => view! { <div class="svg" inner_html=svg></div> }.into_any(),
                                None => view! { <p class="empty">{c.empty_message.clone()}</p> }.into_any(),
                            }}
                        </figure>
                    }
                })
                .collect_view()}
        </section>
    }
}
