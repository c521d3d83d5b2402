//! The KPI dashboard. The URL holds the filters (bookmark, share, back button); the form
//! applies them as they change (debounced), keeps what the user typed when it is invalid,
//! and the figures of the last successful request stay on screen, marked stale, while a
//! new one runs or after it failed (with Retry).
//!
//! The page is split by what each part does: the filter form ([`filter_form`], with the
//! quick periods and the sensor boxes), then the figures ([`figures`]: the period line and
//! notes, the KPI grid, the chart grid).

mod chart_grid;
mod figures;
mod filter_form;
mod form_state;
mod kpi_grid;
mod presets;
mod sensor_choice;
#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use pipeline::filter::{DashboardQuery, FilterError};

use crate::i18n::{use_lang, Lang};
use crate::wire::{DashboardData, LoadError};
use figures::Figures;
use filter_form::FilterForm;
use form_state::FormState;
use server_fns::get_dashboard;

/// Quiet time after the last change before the filters apply.
const DEBOUNCE_MS: u64 = 400;
/// How often the figures refresh while days of the period are being prepared.
const POLL_MS: u64 = 3000;

/// The query in the URL, in the page's language.
fn read_query(q: &leptos_router::params::ParamsMap, lang: Lang) -> DashboardQuery {
    DashboardQuery {
        lang: lang.code().to_string(),
        ..DashboardQuery::from_pairs(q)
    }
}

/// A failed request, in words a person understands (never the raw error).
fn human_error(e: LoadError, lang: Lang) -> String {
    match e {
        LoadError::Unreachable => lang
            .pick(
                "Le serveur ne répond pas. Vérifiez la connexion, puis réessayez.",
                "The server is not answering. Check the connection, then try again.",
            )
            .into(),
        LoadError::Unavailable | LoadError::Failed => lang
            .pick(
                "Les chiffres n'ont pas pu être chargés. Réessayez dans un instant.",
                "The figures could not be loaded. Try again in a moment.",
            )
            .into(),
        LoadError::SignIn => lang
            .pick(
                "Votre session a pris fin : reconnectez-vous pour voir les chiffres.",
                "Your session has ended: sign in again to see the figures.",
            )
            .into(),
        LoadError::Forbidden { store_id } => pipeline::access::Forbidden { store_id }.message(lang),
        LoadError::NotAllowed => lang
            .pick(
                "Accès refusé : votre rôle ne permet pas ces chiffres.",
                "Access denied: your role does not allow these figures.",
            )
            .into(),
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let lang = use_lang();
    let query_map = use_query_map();
    let query = Memo::new(move |_| read_query(&query_map.read(), lang.get()));
    // The first figures, rendered on the server (the page works without JavaScript);
    // later ones are fetched by the dashboard itself so that the form is never rebuilt.
    let initial = Resource::new(
        move || lang.get(),
        move |_| get_dashboard(query.get_untracked()),
    );
    view! {
        <crate::nav::Page class="page dashboard" lang>
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
                                    <p>{human_error(e, l)}</p>
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
        </crate::nav::Page>
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
                Err(e) => failure.set(Some(human_error(e, lang))),
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
    // While a backfill or catch-up prepares days of the period, the figures refresh by
    // themselves, quietly (no busy cue): live progress, and the note goes when it ends.
    Effect::new(move |_| {
        if !current.with(|d| d.preparing.is_some()) {
            return;
        }
        set_timeout(
            move || {
                if pending.get_untracked() || dirty.get_untracked() {
                    return; // the user's own request brings fresh figures
                }
                let n = seq.get_value();
                let q = loaded_for.get_value();
                leptos::task::spawn_local(async move {
                    let result = get_dashboard(q).await;
                    if seq.get_value() != n || pending.get_untracked() {
                        return;
                    }
                    match result {
                        Ok(d) => current.set(d),
                        // Try again at the next tick.
                        Err(_) => current.update(|_| {}),
                    }
                });
            },
            std::time::Duration::from_millis(POLL_MS),
        );
    });

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
