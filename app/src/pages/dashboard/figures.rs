//! The figures of one response: the period line, the notes about the data, then the KPI
//! grid and the chart grid.

use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;

use super::chart_grid::ChartGrid;
use super::kpi_grid::KpiGrid;
use crate::format;
use crate::i18n::Lang;
use crate::wire::{DashboardData, DayGap, GapReason};

/// The figures: period, notes, KPI cards and charts of one response.
#[component]
pub(super) fn Figures(
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
    let range_note = match (&data.complete_from, &data.complete_to) {
        (Some(a), Some(b)) => format!(
            "{} {} {} {}",
            l.pick("Données complètes du", "Complete data from"),
            format::date(a, l),
            l.pick("au", "to"),
            format::date(b, l)
        ),
        _ => l
            .pick(
                "Aucun jour complet pour l'instant (voir la page Pipeline).",
                "No complete day yet (see the Pipeline page).",
            )
            .to_string(),
    };
    let gaps = (!data.gaps.is_empty()).then(|| {
        view! { <PartialWarning gaps=data.gaps.clone() collected_from=data.collected_from.clone() can_load=data.can_load_days lang=l /> }
    });
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
    let has_previous = f.previous_from.is_some();
    view! {
        <p class="muted period" id="period">{period_text}</p>
        <p class="muted" id="data-range">{range_note}</p>
        {preparing}
        {gaps}
        <KpiGrid kpis=data.kpis applied=applied_key lang=l />
        <ChartGrid charts=data.charts has_previous show_previous drill lang=l />
    }
    .into_any()
}

/// Gaps listed at most; the rest are counted.
const GAPS_LISTED: usize = 8;

/// `mercredi 16/10/2024` / `Wednesday 2024-10-16`.
fn long_day(iso: &str, l: Lang) -> String {
    iso.parse::<NaiveDate>()
        .map(|d| {
            format!(
                "{} {}",
                format::weekday(d.weekday(), false, l),
                format::date(iso, l)
            )
        })
        .unwrap_or_else(|_| iso.to_string())
}

/// The warning of a period with incomplete days: which days, and why.
#[component]
fn PartialWarning(
    gaps: Vec<DayGap>,
    collected_from: Option<String>,
    can_load: bool,
    lang: Lang,
) -> impl IntoView {
    let l = lang;
    let load = Action::new(move |(from, to): &(String, String)| {
        super::server_fns::load_days(from.clone(), to.clone())
    });
    // Started: the page is drawn again by the server, which now shows the run's progress.
    Effect::new(move |_| {
        if let Some(Ok(None)) = load.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        }
    });
    let more = gaps.len().saturating_sub(GAPS_LISTED);
    let items = gaps
        .into_iter()
        .take(GAPS_LISTED)
        .map(|g| {
            let days = if g.from == g.to {
                long_day(&g.from, l)
            } else {
                format!("{} → {}", long_day(&g.from, l), long_day(&g.to, l))
            };
            let (key, why) = match g.reason {
                GapReason::NotCollected => (
                    "not-collected",
                    match (&collected_from, l) {
                        (Some(first), Lang::Fr) => format!(
                            "non collectées avant le {}, premier jour du pipeline.",
                            format::date(first, l)
                        ),
                        (Some(first), Lang::En) => format!(
                            "not collected before {}, the pipeline's first day.",
                            format::date(first, l)
                        ),
                        (None, _) => l
                            .pick("non collectées : le pipeline n'a pas encore démarré.", "not collected: the pipeline has not started yet.")
                            .to_string(),
                    },
                ),
                GapReason::NotYet => (
                    "not-yet",
                    l.pick(
                        "pas encore complète : une journée est consolidée à 3 h le lendemain.",
                        "not complete yet: a day is consolidated at 03:00 the next morning.",
                    )
                    .to_string(),
                ),
                GapReason::Preparing => (
                    "preparing",
                    l.pick("en cours de préparation par le pipeline.", "being prepared by the pipeline.")
                        .to_string(),
                ),
                GapReason::Failed => (
                    "failed",
                    l.pick(
                        "une tâche du pipeline a échoué pour ce jour (voir la page Pipeline).",
                        "a pipeline job failed for this day (see the Pipeline page).",
                    )
                    .to_string(),
                ),
                GapReason::Missing => (
                    "missing",
                    l.pick(
                        "des tâches dues n'ont pas encore tourné ; le pipeline les rattrape à son prochain passage.",
                        "jobs due have not run yet; the pipeline catches up at its next run.",
                    )
                    .to_string(),
                ),
            };
            let command = (g.reason == GapReason::NotCollected).then(|| {
                let cmd = format!("datamag360 backfill --from {} --to {}", g.from, g.to);
                let range = (g.from.clone(), g.to.clone());
                view! {
                    " "
                    {l.pick("Pour les charger, un administrateur peut lancer :", "To load them, an administrator can run:")}
                    " "
                    <code class="command">{cmd}</code>
                    {can_load.then(|| view! {
                        " "
                        <button
                            type="button"
                            class="link-button load-days"
                            disabled=move || load.pending().get()
                            on:click=move |_| {
                                load.dispatch(range.clone());
                            }
                        >
                            {l.pick("Charger ces jours maintenant", "Load these days now")}
                        </button>
                    })}
                    {move || match load.value().get() {
                        Some(Ok(Some(_))) | Some(Err(_)) => Some(view! {
                            <span class="error" role="alert">
                                {l.pick(" Le chargement n'a pas pu démarrer.", " Loading could not start.")}
                            </span>
                        }),
                        _ => None,
                    }}
                }
            });
            view! {
                <li data-reason=key>
                    <span class="gap-days">{days}</span>
                    {l.pick(" : ", ": ")}
                    {why}
                    {command}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="warning" id="incomplete" role="note">
            <p>
                <strong>{l.pick("Attention : chiffres partiels.", "Warning: partial figures.")}</strong>
                " "
                {l.pick("Ces jours de la période ne sont pas complets :", "These days of the period are not complete:")}
            </p>
            <ul class="gaps">
                {items}
                {(more > 0)
                    .then(|| {
                        view! {
                            <li class="more">
                                {match l {
                                    Lang::Fr => format!("… et {more} autres"),
                                    Lang::En => format!("… and {more} more"),
                                }}
                            </li>
                        }
                    })}
            </ul>
        </div>
    }
}
