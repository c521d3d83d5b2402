//! `/alerts`: the alerts of the viewer's stores — open, acknowledged, resolved — filtered
//! by store, rule, severity and state (kept in the URL, [`query`]); acknowledge (with a
//! comment) and silence (a store or a sensor, a time range, weekly or not, a reason) from
//! each row ([`row`]). Admins and store managers (for their stores) may act; analysts
//! read. The header's count ([`AlertCount`]) and the delivery channels' page for admins
//! ([`channels`]) live here too.

pub mod channels;
pub mod count;
pub mod query;
mod row;
#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use pipeline::alerts::{Rule, Severity};

use crate::i18n::{use_lang, Lang};
use crate::wire::{AlertsView, LoadError, SilenceRow};
use pipeline::alerts::lifecycle::AlertStatus;
use query::AlertsQuery;
use row::AlertItem;
use server_fns::get_alerts;

/// The URL's filters.
fn read_query(q: &leptos_router::params::ParamsMap) -> AlertsQuery {
    AlertsQuery::from_pairs(
        ["store", "rule", "severity", "status", "lang"]
            .into_iter()
            .filter_map(|k| q.get(k).map(|v| (k, v))),
    )
}

/// A state's tab: `Ouvertes`, `Open`.
fn tab_label(s: AlertStatus, l: Lang) -> &'static str {
    match s {
        AlertStatus::Open => l.pick("Ouvertes", "Open"),
        AlertStatus::Acknowledged => l.pick("Prises en compte", "Acknowledged"),
        AlertStatus::Resolved => l.pick("Résolues", "Resolved"),
    }
}

/// Who may act on alerts, as the page says it.
fn rights_text(l: Lang) -> &'static str {
    l.pick(
        "Les administrateurs et les responsables de magasin (pour leurs magasins) peuvent prendre en compte et mettre en silence ; les analystes consultent seulement. Heures de Paris.",
        "Admins and store managers (for their stores) may acknowledge and silence; analysts read only. Paris time.",
    )
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let lang = use_lang();
    let query_map = use_query_map();
    let query = Memo::new(move |_| read_query(&query_map.read()));
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || (query.get(), version.get()), |(q, _)| get_alerts(q));
    view! {
        <crate::nav::Page class="page alerts" lang>
            <h1>{move || lang.get().pick("Alertes", "Alerts")}</h1>
            <p class="muted" id="alerts-rights">{move || rights_text(lang.get())}</p>
            <Transition fallback=move || view! { <p class="muted">{move || lang.get().pick("Chargement…", "Loading…")}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <AlertsBody data=d query=query.get_untracked() lang version /> }.into_any(),
                        Err(e) => view! { <LoadFailure error=e lang /> }.into_any(),
                    }
                })}
            </Transition>
        </crate::nav::Page>
    }
}

/// A failed load, in words a person understands.
#[component]
fn LoadFailure(error: LoadError, lang: Memo<Lang>) -> impl IntoView {
    let text = move || {
        let l = lang.get();
        match error {
            LoadError::Forbidden { store_id } => {
                pipeline::access::Forbidden { store_id }.message(l)
            }
            LoadError::SignIn => l
                .pick(
                    "Connectez-vous pour voir les alertes.",
                    "Sign in to see the alerts.",
                )
                .to_string(),
            LoadError::NotAllowed => l
                .pick(
                    "Accès refusé : votre rôle ne permet pas cette page.",
                    "Access denied: your role does not allow this page.",
                )
                .to_string(),
            LoadError::Unreachable | LoadError::Unavailable | LoadError::Failed => l
                .pick(
                    "Les alertes n'ont pas pu être lues. Réessayez dans un instant.",
                    "The alerts could not be read. Try again in a moment.",
                )
                .to_string(),
        }
    };
    view! { <p class="error" role="alert" id="alerts-error">{text}</p> }
}

#[component]
fn AlertsBody(
    data: AlertsView,
    query: AlertsQuery,
    lang: Memo<Lang>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let l = lang.get_untracked();
    let navigate = use_navigate();
    let go = Callback::new(move |q: AlertsQuery| {
        navigate(
            &q.href(),
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        )
    });
    let base = AlertsQuery {
        lang: l,
        ..query.clone()
    };
    let tabs = {
        let mut tabs: Vec<(Option<AlertStatus>, String)> = AlertStatus::ALL
            .into_iter()
            .map(|s| {
                (
                    Some(s),
                    format!(
                        "{} ({})",
                        tab_label(s, l),
                        crate::format::int(data.counts.of(s) as i64, l)
                    ),
                )
            })
            .collect();
        tabs.push((
            None,
            format!(
                "{} ({})",
                l.pick("Toutes", "All"),
                crate::format::int(data.counts.total() as i64, l)
            ),
        ));
        tabs.into_iter()
            .map(|(s, text)| {
                let href = AlertsQuery { status: s, ..base.clone() }.href();
                let key = s.map(|s| s.key()).unwrap_or("all");
                view! {
                    <a href=href class="tab" class:active=query.status == s data-status=key aria-current=(query.status == s).then_some("page")>
                        {text}
                    </a>
                }
            })
            .collect_view()
    };
    let shown = data.alerts.len() as u64;
    let more = data.matching.saturating_sub(shown);
    let list = if data.alerts.is_empty() {
        view! {
            <p class="muted empty" id="no-alerts">
                {l.pick("Aucune alerte pour ces filtres.", "No alert for these filters.")}
            </p>
        }
        .into_any()
    } else {
        let can_act = data.can_act;
        let now = data.now.clone();
        view! {
            <ul class="alert-list" id="alert-list">
                {data
                    .alerts
                    .into_iter()
                    .map(|a| view! { <AlertItem row=a can_act now=now.clone() lang version /> })
                    .collect_view()}
            </ul>
            {(more > 0).then(|| view! {
                <p class="muted" id="alerts-more">
                    {match l {
                        Lang::Fr => format!("… et {} autres : affinez les filtres.", crate::format::int(more as i64, l)),
                        Lang::En => format!("… and {} more: narrow the filters.", crate::format::int(more as i64, l)),
                    }}
                </p>
            })}
        }
        .into_any()
    };
    view! {
        <nav class="status-tabs" aria-label=l.pick("État des alertes", "Alert state")>{tabs}</nav>
        <Filters query=base.clone() stores=data.stores.clone() go lang=l />
        <section class="card alerts-card" id="alerts">
            <h2 class="visually-hidden">{l.pick("Liste des alertes", "Alert list")}</h2>
            {list}
        </section>
        <Silences rows=data.silences lang=l />
        {data.can_manage_channels.then(|| view! {
            <p class="admin-link">
                <a href=crate::i18n::localized(lang, "/alerts/channels") id="channels-link">
                    {l.pick("Canaux de livraison et envois en échec (administrateurs)", "Delivery channels and failed deliveries (admins)")}
                </a>
            </p>
        })}
    }
}

/// The filters: store, rule, severity (the state is the tabs). Applied as they change;
/// the button applies them without JavaScript.
#[component]
fn Filters(
    query: AlertsQuery,
    stores: Vec<crate::wire::StoreInfo>,
    go: Callback<AlertsQuery>,
    lang: Lang,
) -> impl IntoView {
    let l = lang;
    let q = StoredValue::new(query.clone());
    let store_options = stores
        .into_iter()
        .map(|s| {
            let selected = query.store == Some(s.store_id);
            view! { <option value=s.store_id.to_string() selected=selected>{s.city_store}</option> }
        })
        .collect_view();
    let rule_options = Rule::ALL
        .into_iter()
        .map(|r| view! { <option value=r.key() selected=query.rule == Some(r)>{r.label(l)}</option> })
        .collect_view();
    let severity_options = Severity::ALL
        .into_iter()
        .map(|s| view! { <option value=s.key() selected=query.severity == Some(s)>{s.label(l)}</option> })
        .collect_view();
    view! {
        <form method="get" action="/alerts" class="card alert-filters" id="alert-filters">
            {(l == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
            {query.status.map(|s| view! { <input type="hidden" name="status" value=s.key() /> })}
            <label>
                {l.pick("Magasin", "Store")}
                <select
                    name="store"
                    id="alert-store"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        go.run(AlertsQuery { store: v.parse().ok().filter(|s| *s != 0), ..q.get_value() });
                    }
                >
                    <option value="" selected=query.store.is_none()>{l.pick("Tous mes magasins", "All my stores")}</option>
                    {store_options}
                </select>
            </label>
            <label>
                {l.pick("Type", "Kind")}
                <select
                    name="rule"
                    id="alert-rule"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        go.run(AlertsQuery { rule: Rule::from_key(&v), ..q.get_value() });
                    }
                >
                    <option value="" selected=query.rule.is_none()>{l.pick("Tous les types", "All kinds")}</option>
                    {rule_options}
                </select>
            </label>
            <label>
                {l.pick("Gravité", "Severity")}
                <select
                    name="severity"
                    id="alert-severity"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        go.run(AlertsQuery { severity: Severity::from_key(&v), ..q.get_value() });
                    }
                >
                    <option value="" selected=query.severity.is_none()>{l.pick("Toutes", "All")}</option>
                    {severity_options}
                </select>
            </label>
            <noscript>
                <button type="submit">{l.pick("Filtrer", "Filter")}</button>
            </noscript>
        </form>
    }
}

/// The silences in force or to come.
#[component]
fn Silences(rows: Vec<SilenceRow>, lang: Lang) -> impl IntoView {
    let l = lang;
    let body = if rows.is_empty() {
        view! { <p class="muted">{l.pick("Aucun silence en cours ou prévu.", "No silence in force or planned.")}</p> }
            .into_any()
    } else {
        view! {
            <ul class="silence-list">
                {rows
                    .into_iter()
                    .map(|s| {
                        let what = match s.sensor_id {
                            Some(id) => format!("{} · {} {id}", s.store_name, l.pick("capteur", "sensor")),
                            None => format!("{} · {}", s.store_name, l.pick("tout le magasin", "whole store")),
                        };
                        let recurrence = s.hours.map(|(a, b)| {
                            let days = s
                                .days
                                .iter()
                                .map(|d| {
                                    let day = chrono::Weekday::try_from(*d as u8).unwrap_or(chrono::Weekday::Mon);
                                    crate::format::weekday(day, true, l)
                                })
                                .collect::<Vec<_>>()
                                .join(" ");
                            format!(", {} {days}, {a}h–{b}h", l.pick("chaque", "every"))
                        });
                        let when = format!(
                            "{} → {}{}",
                            crate::format::date_time(&s.from, l),
                            crate::format::date_time(&s.to, l),
                            recurrence.unwrap_or_default()
                        );
                        view! {
                            <li class="silence" data-silence-id=s.id.to_string() data-store=s.store_id.to_string()>
                                <strong>{what}</strong>
                                <span class="muted">{format!(" · {when}")}</span>
                                <br />
                                <span>{s.reason}</span>
                                <span class="muted">{format!(" — {}", s.created_by)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" id="silences">
            <h2>{l.pick("Silences", "Silences")}</h2>
            <p class="muted">
                {l.pick(
                    "Pendant un silence, les alertes du magasin ou du capteur restent dans l'historique mais ne sont pas envoyées.",
                    "During a silence, the store's or sensor's alerts stay in the history but are not sent.",
                )}
            </p>
            {body}
        </section>
    }
}
