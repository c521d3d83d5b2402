//! The KPI dashboard. The URL holds the filters (bookmark, share, back button); the form
//! applies them as they change (debounced), keeps what the user typed when it is invalid,
//! and the figures of the last successful request stay on screen, marked stale, while a
//! new one runs or after it failed (with Retry).

use chrono::{Datelike, Duration, Months, NaiveDate};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use pipeline::calendar::OPENING_HOURS;
use pipeline::filter::{check_period, DashboardQuery, FilterError, UrlDefaults};
use pipeline::kpi::Comparison;

use crate::chart_view::Chart;
use crate::format;
use crate::i18n::{use_lang, Lang};
use crate::server_fns::get_dashboard;
use crate::wire::{ChangeState, DashboardData};

/// Quiet time after the last change before the filters apply.
const DEBOUNCE_MS: u64 = 400;
/// The filters as the form holds them (strings as typed).
#[derive(Debug, Clone, PartialEq, Default)]
struct FormState {
    store: Option<u32>,
    /// Checked sensors; `None` = all sensors of the store.
    sensors: Option<Vec<u32>>,
    from: String,
    to: String,
    h0: u32,
    h1: u32,
    cmp: String,
}

impl FormState {
    fn from_query(q: &DashboardQuery, d: &DashboardData) -> Self {
        FormState {
            store: q.store.filter(|s| *s != 0),
            sensors: (!q.sensors.is_empty()).then(|| q.sensors.clone()),
            from: q.from.clone().unwrap_or_else(|| d.default_from.clone()),
            to: q.to.clone().unwrap_or_else(|| d.default_to.clone()),
            h0: q.h0.unwrap_or(*OPENING_HOURS.start()),
            h1: q.h1.unwrap_or(*OPENING_HOURS.end()),
            cmp: q
                .cmp
                .clone()
                .unwrap_or_else(|| Comparison::default().code().into()),
        }
    }

    /// These filters as the URL grammar holds them.
    fn query(&self, lang: Lang) -> DashboardQuery {
        DashboardQuery {
            store: self.store,
            sensors: self.sensors.clone().unwrap_or_default(),
            from: Some(self.from.clone()),
            to: Some(self.to.clone()),
            h0: Some(self.h0),
            h1: Some(self.h1),
            cmp: Some(self.cmp.clone()),
            sensors_for: None,
            lang: lang.code().into(),
        }
    }

    /// The dashboard URL for these filters: defaults omitted, no empty keys, no sensor
    /// list for "all sensors".
    fn href(&self, d: &DashboardData, lang: Lang) -> String {
        let defaults = UrlDefaults {
            period: Some((&d.default_from, &d.default_to)),
            store_sensors: d.filter.store.map(|s| (s, d.store_sensors.as_slice())),
        };
        self.query(lang).href("/dashboard", &defaults)
    }

    /// The problem the server would reject, with the field it is about.
    fn check(&self, lang: Lang) -> Result<(), FilterError> {
        if self.sensors.as_ref().is_some_and(Vec::is_empty) {
            return Err(FilterError {
                field: "sensors",
                message: lang
                    .pick(
                        "Choisissez au moins un capteur.",
                        "Choose at least one sensor.",
                    )
                    .into(),
            });
        }
        let date = |s: &str, field: &'static str| {
            s.trim().parse::<NaiveDate>().map_err(|_| FilterError {
                field,
                message: lang
                    .pick("Date invalide (AAAA-MM-JJ).", "Invalid date (YYYY-MM-DD).")
                    .to_string(),
            })
        };
        let from = date(&self.from, "from")?;
        let to = date(&self.to, "to")?;
        check_period(from, to, lang)?;
        if self.h0 > self.h1 {
            return Err(FilterError {
                field: "h1",
                message: lang
                    .pick(
                        "L'heure de fin est avant l'heure de début.",
                        "The end hour is before the start hour.",
                    )
                    .into(),
            });
        }
        Ok(())
    }
}
/// The query in the URL, in the page's language.
fn read_query(q: &leptos_router::params::ParamsMap, lang: Lang) -> DashboardQuery {
    DashboardQuery {
        lang: lang.code().to_string(),
        ..DashboardQuery::from_pairs(q)
    }
}

/// A failed request, in words a person understands (never the raw error).
fn human_error(e: &ServerFnError, lang: Lang) -> String {
    match e {
        ServerFnError::Request(_) => lang
            .pick(
                "Le serveur ne répond pas. Vérifiez la connexion, puis réessayez.",
                "The server is not answering. Check the connection, then try again.",
            )
            .into(),
        _ => lang
            .pick(
                "Les chiffres n'ont pas pu être chargés. Réessayez dans un instant.",
                "The figures could not be loaded. Try again in a moment.",
            )
            .into(),
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let lang = use_lang();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let query_map = use_query_map();
    let query = Memo::new(move |_| read_query(&query_map.read(), lang.get()));
    // The first figures, rendered on the server (the page works without JavaScript);
    // later ones are fetched by the dashboard itself so that the form is never rebuilt.
    let initial = Resource::new(
        move || lang.get(),
        move |_| get_dashboard(query.get_untracked()),
    );
    view! {
        <main class="page dashboard" data-hydrated=move || hydrated.get().to_string()>
            <crate::nav::Nav lang />
            <h1>{move || lang.get().pick("Tableau de bord", "Dashboard")}</h1>
            <Suspense fallback=move || {
                view! { <p class="muted loading" role="status">{move || lang.get().pick("Chargement…", "Loading…")}</p> }
            }>
                {move || Suspend::new(async move {
                    let l = lang.get_untracked();
                    match initial.await {
                        Ok(first) => view! { <Dashboard first query lang=l /> }.into_any(),
                        Err(e) => {
                            view! {
                                <div class="failure" role="alert" id="load-error">
                                    <p>{human_error(&e, l)}</p>
                                    <button type="button" id="retry" on:click=move |_| initial.refetch()>
                                        {l.pick("Réessayer", "Retry")}
                                    </button>
                                </div>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Dashboard(first: DashboardData, query: Memo<DashboardQuery>, lang: Lang) -> impl IntoView {
    let form = RwSignal::new(FormState::from_query(&query.get_untracked(), &first));
    let current = RwSignal::new(first);
    let loaded_for = StoredValue::new(query.get_untracked());
    let pending = RwSignal::new(false);
    let dirty = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let form_error = RwSignal::new(None::<FilterError>);
    let seq = StoredValue::new(0u64);
    let show_previous = RwSignal::new(true);
    let navigate = use_navigate();

    let fetch = move |q: DashboardQuery| {
        let n = seq.get_value() + 1;
        seq.set_value(n);
        pending.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let result = get_dashboard(q.clone()).await;
            if seq.get_value() != n {
                return; // a newer request is on its way
            }
            pending.set(false);
            match result {
                Ok(d) => {
                    loaded_for.set_value(q);
                    current.set(d);
                }
                Err(e) => failure.set(Some(human_error(&e, lang))),
            }
        });
    };
    // The URL changed (the form applied, a preset, a drill-down, the back button).
    Effect::new(move |_| {
        let q = query.get();
        if loaded_for.with_value(|l| *l != q) {
            let d = current.get_untracked();
            form.set(FormState::from_query(&q, &d));
            form_error.set(None);
            dirty.set(false);
            fetch(q);
        }
    });

    let timer = StoredValue::new(None::<leptos::prelude::TimeoutHandle>);
    let cancel_timer = move || {
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        timer.set_value(None);
    };
    let apply = {
        let navigate = navigate.clone();
        move || {
            cancel_timer();
            let f = form.get_untracked();
            if let Err(e) = f.check(lang) {
                form_error.set(Some(e));
                dirty.set(false);
                return;
            }
            form_error.set(None);
            let href = current.with_untracked(|d| f.href(d, lang));
            dirty.set(false);
            navigate(
                &href,
                NavigateOptions {
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    let schedule = {
        let apply = apply.clone();
        move || {
            dirty.set(true);
            cancel_timer();
            let apply = apply.clone();
            if let Ok(h) =
                set_timeout_with_handle(apply, std::time::Duration::from_millis(DEBOUNCE_MS))
            {
                timer.set_value(Some(h));
            }
        }
    };
    let drill = {
        let navigate = navigate.clone();
        Callback::new(move |link: String| {
            let mut f = form.get_untracked();
            let to = DashboardQuery::from_query_string(&link);
            if let Some(store) = to.store {
                f.store = Some(store);
                f.sensors = None;
            }
            if let Some(from) = to.from {
                f.from = from;
            }
            if let Some(to) = to.to {
                f.to = to;
            }
            cancel_timer();
            let href = current.with_untracked(|d| f.href(d, lang));
            navigate(&href, Default::default());
        })
    };
    let retry = move |_| fetch(query.get_untracked());

    view! {
        <FilterForm form current lang form_error schedule=schedule.clone() apply=apply.clone() />
        <div class="status-line">
            {move || {
                (pending.get() || dirty.get())
                    .then(|| {
                        view! {
                            <p class="busy" role="status" id="busy">
                                <span class="spinner" aria-hidden="true"></span>
                                {lang.pick("Mise à jour des chiffres…", "Updating the figures…")}
                            </p>
                        }
                    })
            }}
            {move || {
                failure
                    .get()
                    .map(|message| {
                        view! {
                            <div class="failure" role="alert" id="request-error">
                                <p>{message}</p>
                                <button type="button" id="retry" on:click=retry>
                                    {lang.pick("Réessayer", "Retry")}
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
        <div
            class="figures"
            class:stale=move || pending.get() || dirty.get() || failure.with(Option::is_some)
            aria-busy=move || pending.get().to_string()
        >
            {move || {
                current
                    .with(|d| {
                        view! { <Figures data=d.clone() lang show_previous drill /> }
                    })
            }}
        </div>
    }
}
/// The filter form: its values live in `form` (what the user typed, kept when invalid).
#[component]
fn FilterForm<S, A>(
    form: RwSignal<FormState>,
    current: RwSignal<DashboardData>,
    lang: Lang,
    form_error: RwSignal<Option<FilterError>>,
    schedule: S,
    apply: A,
) -> impl IntoView
where
    S: Fn() + Clone + Send + Sync + 'static,
    A: Fn() + Clone + Send + Sync + 'static,
{
    let field_error = move |field: &'static str| {
        move || {
            form_error
                .get()
                .filter(|e| e.field == field)
                .map(|e| e.message)
                .or_else(|| {
                    current.with(|d| {
                        (d.error_field.as_deref() == Some(field))
                            .then(|| d.error.clone())
                            .flatten()
                    })
                })
        }
    };
    let invalid = move |field: &'static str| move || field_error(field)().is_some().to_string();
    let summary = move || {
        let f = form.get();
        let store = current.with(|d| {
            f.store
                .and_then(|s| d.stores.iter().find(|x| x.store_id == s))
                .map(|s| s.city_store.clone())
                .unwrap_or_else(|| lang.pick("Tous les magasins", "All stores").into())
        });
        format!(
            "{store} · {} → {} · {}h–{}h",
            format::date(&f.from, lang),
            format::date(&f.to, lang),
            f.h0,
            f.h1 + 1
        )
    };
    let (min_date, max_date) = current.with_untracked(|d| {
        (
            d.data_from.clone().unwrap_or_default(),
            d.data_to.clone().unwrap_or_else(|| d.today.clone()),
        )
    });
    let on_change = {
        let schedule = schedule.clone();
        move || schedule()
    };
    let preset = {
        let apply = apply.clone();
        move |which: &'static str| {
            let today: Option<NaiveDate> = current.with_untracked(|d| d.today.parse().ok());
            let Some(today) = today else { return };
            let f = form.get_untracked();
            let yesterday = today - Duration::days(1);
            let month_start = |d: NaiveDate| d.with_day(1).unwrap_or(d);
            let range = match which {
                "yesterday" => Some((yesterday, yesterday)),
                "last7" => Some((today - Duration::days(7), yesterday)),
                "week" => {
                    let monday =
                        today - Duration::days(today.weekday().num_days_from_monday() as i64);
                    Some((monday - Duration::days(7), monday - Duration::days(1)))
                }
                "mtd" => Some((month_start(yesterday), yesterday)),
                "lastmonth" => {
                    let first = month_start(today);
                    first
                        .checked_sub_months(Months::new(1))
                        .map(|start| (start, first - Duration::days(1)))
                }
                "lastyear" => {
                    let a: Option<NaiveDate> = f.from.parse().ok();
                    let b: Option<NaiveDate> = f.to.parse().ok();
                    a.zip(b).and_then(|(a, b)| {
                        Some((
                            a.checked_sub_months(Months::new(12))?,
                            b.checked_sub_months(Months::new(12))?,
                        ))
                    })
                }
                _ => None,
            };
            if let Some((a, b)) = range {
                form.update(|f| {
                    f.from = a.to_string();
                    f.to = b.to_string();
                });
                apply();
            }
        }
    };
    let presets: [(&'static str, &'static str, &'static str); 6] = [
        ("yesterday", "Hier", "Yesterday"),
        ("last7", "7 derniers jours", "Last 7 days"),
        ("week", "Semaine dernière", "Last complete week"),
        ("mtd", "Mois en cours", "Month to date"),
        ("lastmonth", "Mois dernier", "Last month"),
        (
            "lastyear",
            "Même période l'an dernier",
            "Same period last year",
        ),
    ];
    let sensors_view = {
        let on_change = on_change.clone();
        move || {
            let f = form.get();
            let store = f.store?;
            let list = current.with(|d| {
                (d.filter.store == Some(store) && d.error.is_none())
                    .then(|| d.store_sensors.clone())
            })?;
            if list.is_empty() {
                return None;
            }
            let on_change = on_change.clone();
            let boxes = list
                .iter()
                .map(|s| {
                    let s = *s;
                    let on_change = on_change.clone();
                    let checked = move || form.with(|f| f.sensors.as_ref().is_none_or(|v| v.contains(&s)));
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                name="sensors"
                                value=s.to_string()
                                checked=checked
                                prop:checked=checked
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let all = current.with_untracked(|d| d.store_sensors.clone());
                                    form.update(|f| {
                                        let mut set = f.sensors.clone().unwrap_or_else(|| all.clone());
                                        set.retain(|x| *x != s);
                                        if on {
                                            set.push(s);
                                        }
                                        set.sort_unstable();
                                        f.sensors = (set.len() != all.len()).then_some(set);
                                    });
                                    form_error.set(None);
                                    on_change();
                                }
                            />
                            {s.to_string()}
                        </label>
                    }
                })
                .collect_view();
            let all_on = {
                let on_change = on_change.clone();
                move |_| {
                    form.update(|f| f.sensors = None);
                    form_error.set(None);
                    on_change();
                }
            };
            let none_on = move |_| {
                form.update(|f| f.sensors = Some(Vec::new()));
                form_error.set(None);
            };
            Some(view! {
                <input type="hidden" name="for_store" value=store.to_string() />
                <fieldset class="sensors" id="filter-sensors" aria-invalid=invalid("sensors")>
                    <legend>{lang.pick("Capteurs", "Sensors")}</legend>
                    <div class="sensor-tools">
                        <button type="button" class="link" id="sensors-all" on:click=all_on>{lang.pick("Tous", "All")}</button>
                        <button type="button" class="link" id="sensors-none" on:click=none_on>{lang.pick("Aucun", "None")}</button>
                    </div>
                    {boxes}
                    {move || field_error("sensors")().map(|m| view! { <p class="field-error" id="sensors-error">{m}</p> })}
                </fieldset>
            })
        }
    };
    let submit = {
        let apply = apply.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            apply();
        }
    };
    // The applied filter, dates written out (the export has no default period).
    let export_href = move || {
        current.with(|d| {
            let f = &d.filter;
            DashboardQuery {
                store: f.store,
                sensors: f.sensors.clone(),
                from: Some(f.from.clone()),
                to: Some(f.to.clone()),
                h0: Some(f.h0),
                h1: Some(f.h1),
                ..Default::default()
            }
            .href("/export.csv", &UrlDefaults::default())
        })
    };
    let c1 = on_change.clone();
    let c2 = on_change.clone();
    let c3 = on_change.clone();
    let c4 = on_change.clone();
    let c5 = on_change.clone();
    let c6 = on_change.clone();
    view! {
        <input type="checkbox" id="filters-open" class="filters-toggle" aria-label=lang.pick("Afficher les filtres", "Show the filters") />
        <label for="filters-open" class="filters-summary">
            <span class="summary-text" id="filters-summary">{summary}</span>
            <span class="summary-action">{lang.pick("Modifier", "Edit")}</span>
        </label>
        <form
            method="get"
            action="/dashboard"
            class="filters"
            class:has-error=move || form_error.with(Option::is_some) || current.with(|d| d.error.is_some())
            id="filters"
            novalidate
            on:submit=submit
        >
            {(lang == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
            <label>
                {lang.pick("Magasin", "Store")}
                <select
                    name="store"
                    id="filter-store"
                    prop:value=move || form.with(|f| f.store.map(|s| s.to_string()).unwrap_or_default())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| {
                            f.store = v.parse().ok().filter(|s| *s != 0);
                            f.sensors = None;
                        });
                        form_error.set(None);
                        c1();
                    }
                >
                    <option value="" selected=move || form.with(|f| f.store.is_none())>
                        {lang.pick("Tous les magasins", "All stores")}
                    </option>
                    {current
                        .with_untracked(|d| d.stores.clone())
                        .into_iter()
                        .map(|s| {
                            let id = s.store_id;
                            view! {
                                <option value=id.to_string() selected=move || form.with(|f| f.store == Some(id))>
                                    {s.city_store}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                {lang.pick("Du", "From")}
                <input
                    type="date"
                    name="from"
                    id="filter-from"
                    min=min_date.clone()
                    max=max_date.clone()
                    value=move || form.with_untracked(|f| f.from.clone())
                    prop:value=move || form.with(|f| f.from.clone())
                    aria-invalid=invalid("from")
                    aria-describedby="from-error"
                    required
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.from = v);
                        c2();
                    }
                />
                {move || field_error("from")().map(|m| view! { <span class="field-error" id="from-error">{m}</span> })}
            </label>
            <label>
                {lang.pick("Au", "To")}
                <input
                    type="date"
                    name="to"
                    id="filter-to"
                    min=min_date
                    max=max_date
                    value=move || form.with_untracked(|f| f.to.clone())
                    prop:value=move || form.with(|f| f.to.clone())
                    aria-invalid=invalid("to")
                    aria-describedby="to-error"
                    required
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.to = v);
                        c3();
                    }
                />
                {move || field_error("to")().map(|m| view! { <span class="field-error" id="to-error" role="alert">{m}</span> })}
            </label>
            <label>
                {lang.pick("De", "Hours from")}
                <select
                    name="h0"
                    id="filter-h0"
                    prop:value=move || form.with(|f| f.h0.to_string())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.h0 = v.parse().unwrap_or(*OPENING_HOURS.start()));
                        c4();
                    }
                >
                    {OPENING_HOURS
                        .map(|h| view! { <option value=h.to_string() selected=move || form.with(|f| f.h0 == h)>{format!("{h}h")}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                {lang.pick("À", "to")}
                <select
                    name="h1"
                    id="filter-h1"
                    prop:value=move || form.with(|f| f.h1.to_string())
                    aria-invalid=invalid("h1")
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.h1 = v.parse().unwrap_or(*OPENING_HOURS.end()));
                        c5();
                    }
                >
                    {OPENING_HOURS
                        .map(|h| view! { <option value=h.to_string() selected=move || form.with(|f| f.h1 == h)>{format!("{h}h")}</option> })
                        .collect_view()}
                </select>
                {move || field_error("h1")().map(|m| view! { <span class="field-error" id="h1-error">{m}</span> })}
            </label>
            <label>
                {lang.pick("Comparer avec", "Compare with")}
                <select
                    name="cmp"
                    id="filter-cmp"
                    prop:value=move || form.with(|f| f.cmp.clone())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.cmp = v);
                        c6();
                    }
                >
                    <option value="prev" selected=move || form.with(|f| f.cmp == "prev")>
                        {lang.pick("la période précédente", "the previous period")}
                    </option>
                    <option value="year" selected=move || form.with(|f| f.cmp == "year")>
                        {lang.pick("la même période l'an dernier", "the same period last year")}
                    </option>
                    <option value="none" selected=move || form.with(|f| f.cmp == "none")>
                        {lang.pick("rien", "nothing")}
                    </option>
                </select>
            </label>
            <div class="presets" role="group" aria-label=lang.pick("Périodes rapides", "Quick periods")>
                {presets
                    .into_iter()
                    .map(|(id, fr, en)| {
                        let preset = preset.clone();
                        view! {
                            <button type="button" class="preset" id=format!("preset-{id}") on:click=move |_| preset(id)>
                                {lang.pick(fr, en)}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            {sensors_view}
            <div class="actions">
                <button type="submit" id="apply-filters">{lang.pick("Appliquer", "Apply")}</button>
                <a class="export" id="export-csv" href=export_href download="datamag360.csv">
                    {lang.pick("Exporter en CSV", "Export as CSV")}
                </a>
                <a
                    class="export"
                    id="export-excel"
                    href=move || format!("{}&format=excel", export_href())
                    download="datamag360-excel.csv"
                >
                    {lang.pick("Exporter pour Excel", "Export for Excel")}
                </a>
            </div>
        </form>
    }
}
/// The figures: period, notes, KPI cards and charts of one response.
#[component]
fn Figures(
    data: DashboardData,
    lang: Lang,
    show_previous: RwSignal<bool>,
    drill: Callback<String>,
) -> impl IntoView {
    let l = lang;
    let f = data.filter.clone();
    if data.error.is_some() {
        return view! {
            <p class="muted" id="no-figures">
                {l.pick("Corrigez les filtres pour afficher les chiffres.", "Fix the filters to see the figures.")}
            </p>
        }
        .into_any();
    }
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
    let incomplete = data.preparing.is_none()
        && match &data.data_to {
            Some(last) => f.to.as_str() > last.as_str(),
            None => true,
        };
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
    let day = |iso: &str| {
        iso.parse::<NaiveDate>()
            .map(|d| {
                format!(
                    "{} {}",
                    format::weekday(d.weekday(), true, l),
                    format::date(iso, l)
                )
            })
            .unwrap_or_else(|_| iso.to_string())
    };
    let compared = match (&f.previous_from, &f.previous_to) {
        (Some(a), Some(b)) => format!(
            " · {} {} → {} ({})",
            l.pick("comparée à", "compared with"),
            day(a),
            day(b),
            match f.compare.as_str() {
                "year" => l.pick("même période l'an dernier", "same period last year"),
                _ => l.pick(
                    "période précédente, mêmes jours de semaine",
                    "previous period, same weekdays"
                ),
            }
        ),
        _ => format!(" · {}", l.pick("sans comparaison", "no comparison")),
    };
    let period_text = format!(
        "{} {} → {}, {}h–{}h{compared}",
        l.pick("Période", "Period"),
        day(&f.from),
        day(&f.to),
        f.h0,
        f.h1 + 1,
    );
    let preparing = data.preparing.clone().map(|p| {
        view! {
            <div class="preparing" id="preparing" role="status">
                <strong>{l.pick("Données en préparation", "Data being prepared")}</strong>
                " — "
                {match l {
                    Lang::Fr => format!("{} jour(s) traité(s) sur {}", p.days_done, p.days_total),
                    Lang::En => format!("{} of {} day(s) processed", p.days_done, p.days_total),
                }}
                <progress max=p.days_total.to_string() value=p.days_done.to_string()></progress>
            </div>
        }
    });
    let kpis = data
        .kpis
        .iter()
        .map(|k| {
            let trend = match (k.change_state, k.change) {
                (ChangeState::Change, Some(c)) if c > 0.0 => "up",
                (ChangeState::Change, Some(c)) if c < 0.0 => "down",
                (ChangeState::Partial, _) => "partial",
                (ChangeState::Closed, _) => "closed",
                _ => "flat",
            };
            let title = if k.previous_display.is_empty() {
                String::new()
            } else {
                format!(
                    "{} {}",
                    l.pick("Période de comparaison :", "Comparison period:"),
                    k.previous_display
                )
            };
            view! {
                <div class="kpi" data-kpi=k.id.clone() data-value=k.value.map(|v| v.to_string()).unwrap_or_default()>
                    <div class="kpi-label">{k.label.clone()}</div>
                    <div class="kpi-value">{k.display.clone()}</div>
                    <div class=format!("kpi-change {trend}") title=title data-state=format!("{:?}", k.change_state).to_lowercase()>
                        {k.change_display.clone()}
                    </div>
                </div>
            }
        })
        .collect_view();
    let has_previous = f.previous_from.is_some();
    let charts = data
        .charts
        .into_iter()
        .map(|c| view! { <Chart data=c lang show_previous=Signal::derive(move || show_previous.get() && has_previous) drill /> })
        .collect_view();
    view! {
        <p class="muted period" id="period">{period_text}</p>
        <p class="muted" id="data-range">{range_note}</p>
        {preparing}
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
            {kpis}
        </section>
        <div class="charts-head">
            <h2>{l.pick("Graphiques", "Charts")}</h2>
            {has_previous
                .then(|| {
                    view! {
                        <label class="check toggle-previous">
                            <input
                                type="checkbox"
                                id="show-previous"
                                prop:checked=move || show_previous.get()
                                checked=true
                                on:change=move |ev| show_previous.set(event_target_checked(&ev))
                            />
                            {l.pick("Afficher la période de comparaison", "Show the comparison period")}
                        </label>
                    }
                })}
        </div>
        <section class="charts">{charts}</section>
    }
    .into_any()
}
