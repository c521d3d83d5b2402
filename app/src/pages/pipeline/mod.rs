//! The pipeline page: is the data behind the dashboard complete? An hour × day grid of
//! the partitions of the last 14 days, what is missing (from the pipeline's first day),
//! failures grouped by error, recent runs, and the daily quality figures explained.

//!
//! The page's parts: the server function ([`server_fns`]) and what it answers ([`wire`]),
//! the loader behind it (`server.rs`, server side only), and the page's sections.

mod grid;
mod labels;
mod quality;
mod runs;
#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;
pub mod wire;

use leptos::prelude::*;

use crate::format;
use crate::i18n::{use_lang, Lang};
use crate::wire::LoadError;
use grid::Grid;
use labels::{job_label, status_label};
use quality::QualityTable;
use runs::{FailureGroups, RunsTable};
use server_fns::get_pipeline_view;
use wire::PipelineView;

/// What the page says when the status could not be read, whatever the kind.
fn failure_message(e: LoadError, l: Lang) -> &'static str {
    match e {
        LoadError::Unreachable | LoadError::Unavailable | LoadError::Failed => l.pick(
            "L'état du pipeline n'a pas pu être lu. Réessayez avec « Actualiser ».",
            "The pipeline status could not be read. Try again with “Refresh”.",
        ),
    }
}

#[component]
pub fn PipelinePage() -> impl IntoView {
    let lang = use_lang();
    let status = Resource::new(|| (), |_| get_pipeline_view());
    view! {
        <crate::nav::Page class="page pipeline" lang>
            <div class="pipeline-head">
                <h1>{move || lang.get().pick("Pipeline de données", "Data pipeline")}</h1>
                <button class="refresh" id="refresh" on:click=move |_| status.refetch()>
                    {move || lang.get().pick("Actualiser", "Refresh")}
                </button>
            </div>
            <Transition fallback=move || {
                view! { <p class="muted">{move || lang.get().pick("Chargement…", "Loading…")}</p> }
            }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! { <StatusView status=s lang /> }.into_any(),
                        // The server logs the cause; the page says what to do.
                        Err(e) => {
                            view! {
                                <p class="error" role="alert">
                                    {move || failure_message(e, lang.get())}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </crate::nav::Page>
    }
}

#[component]
fn StatusView(status: PipelineView, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let PipelineView {
        summary,
        first_day,
        checked_from,
        checked_to,
        grid: partition_grid,
        missing,
        missing_total,
        failures: failure_groups,
        recent,
        quality,
    } = status;
    let from_shown = match &first_day {
        Some(d) if *d > checked_from => d.clone(),
        _ => checked_from.clone(),
    };
    let summary_text = if first_day.is_none() {
        l.pick(
            "Le pipeline n'a encore rien exécuté.",
            "The pipeline has not run anything yet.",
        )
        .to_string()
    } else {
        let due = format!(
            "{} {} {} {}{}",
            l.pick("Partitions dues du", "Partitions due from"),
            format::date(&from_shown, l),
            l.pick("au", "to"),
            format::date(&checked_to, l),
            l.pick(" :", ":"),
        );
        if missing_total == 0 {
            format!("{due} {}", l.pick("toutes présentes.", "all present."))
        } else {
            format!(
                "{due} {} {}",
                format::int(missing_total as i64, l),
                l.pick("manquantes ou en échec :", "missing or failed:"),
            )
        }
    };
    let more = missing_total.saturating_sub(missing.len());
    // Each section is type-erased: one nested view type would be too deep for rustc.
    let ledger = view! {
        <section class="card" id="ledger-summary">
            <h2>{l.pick("Résumé du registre des tâches", "Job ledger summary")}</h2>
            <div class="table-scroll">
                <table class="data">
                    <thead>
                        <tr>
                            <th>{l.pick("Tâche", "Job")}</th>
                            <th>{l.pick("Statut", "Status")}</th>
                            <th class="num">{l.pick("Partitions", "Partitions")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {summary
                            .into_iter()
                            .map(|(job, st, n)| {
                                view! {
                                    <tr>
                                        <td>{job_label(&job, l)}</td>
                                        <td class=format!("status {st}")>{status_label(&st, l)}</td>
                                        <td class="num">{format::int(n, l)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any();
    let grid = view! {
        <section class="card" id="grid">
            <h2>{l.pick("Partitions des 14 derniers jours", "Partitions of the last 14 days")}</h2>
            <p class="muted">
                {l.pick(
                    "Une case par heure (collecte puis ingestion) ; la dernière ligne est la transformation de nuit du jour.",
                    "One cell per hour (collect, then ingest); the last row is the day's nightly transform.",
                )}
            </p>
            <Grid grid=partition_grid lang />
        </section>
    }
    .into_any();
    let completeness = view! {
        <section class="card" id="completeness" data-missing-total=missing_total.to_string()>
            <h2>{l.pick("Complétude", "Completeness")}</h2>
            <p id="completeness-summary">{summary_text}</p>
            {(!missing.is_empty())
                .then(|| {
                    view! {
                        <ul class="missing">
                            {missing
                                .into_iter()
                                .map(|m| {
                                    let (job, partition) = m.split_once(' ').unwrap_or(("", &m));
                                    let text = format!("{} {partition}", job_label(job, l));
                                    view! { <li><code>{text}</code></li> }
                                })
                                .collect_view()}
                            {(more > 0)
                                .then(|| {
                                    view! {
                                        <li class="more" id="missing-more">
                                            {format!(
                                                "… {} {} {}",
                                                l.pick("et", "and"),
                                                format::int(more as i64, l),
                                                l.pick("autres", "more"),
                                            )}
                                        </li>
                                    }
                                })}
                        </ul>
                    }
                })}
        </section>
    }
    .into_any();
    let failures = view! {
        <section class="card" id="failed-runs">
            <h2>{l.pick("Échecs, regroupés par erreur", "Failures, grouped by error")}</h2>
            {if failure_groups.is_empty() {
                view! { <p class="muted">{l.pick("Aucun échec.", "No failures.")}</p> }.into_any()
            } else {
                view! { <FailureGroups groups=failure_groups lang /> }.into_any()
            }}
        </section>
        <section class="card" id="recent-runs">
            <h2>{l.pick("Exécutions récentes", "Recent runs")}</h2>
            <RunsTable rows=recent lang />
        </section>
    }
    .into_any();
    view! {
        {ledger}
        {grid}
        {completeness}
        {failures}
        <QualityTable rows=quality lang />
    }
}
