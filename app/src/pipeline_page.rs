//! The pipeline page: is the data behind the dashboard complete? Ledger runs, missing or
//! failed partitions, daily quality figures.

use leptos::prelude::*;

use crate::format;
use crate::i18n::{use_lang, Lang};
use crate::server_fns::get_pipeline_status;
use crate::wire::{PipelineStatus, RunRow};

#[component]
pub fn PipelinePage() -> impl IntoView {
    let lang = use_lang();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let status = Resource::new(|| (), |_| get_pipeline_status());
    view! {
        <main class="page pipeline" data-hydrated=move || hydrated.get().to_string()>
            <crate::nav::Nav lang />
            <h1>{move || lang.get().pick("Pipeline de données", "Data pipeline")}</h1>
            <button
                class="refresh"
                id="refresh"
                on:click=move |_| status.refetch()
            >
                {move || lang.get().pick("Actualiser", "Refresh")}
            </button>
            <Transition fallback=move || {
                view! { <p class="muted">{move || lang.get().pick("Chargement…", "Loading…")}</p> }
            }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! { <StatusView status=s lang /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn StatusView(status: PipelineStatus, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let missing_count = status.missing.len();
    view! {
        <section class="card" id="ledger-summary">
            <h2>{l.pick("Résumé du registre des tâches", "Job ledger summary")}</h2>
            <table class="data">
                <thead>
                    <tr>
                        <th>{l.pick("Tâche", "Job")}</th>
                        <th>{l.pick("Statut", "Status")}</th>
                        <th>{l.pick("Partitions", "Partitions")}</th>
                    </tr>
                </thead>
                <tbody>
                    {status
                        .summary
                        .iter()
                        .map(|(job, st, n)| view! { <tr><td>{job.clone()}</td><td class=format!("status {st}")>{st.clone()}</td><td>{format::int(*n, l)}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card" id="completeness">
            <h2>{l.pick("Complétude", "Completeness")}</h2>
            <p>
                {format!(
                    "{} {} → {} : ",
                    l.pick("Partitions attendues du", "Expected partitions from"),
                    format::date(&status.checked_from, l),
                    format::date(&status.checked_to, l)
                )}
                {if missing_count == 0 {
                    l.pick("toutes présentes.", "all present.").to_string()
                } else {
                    format!("{missing_count} {}", l.pick("manquantes ou en échec :", "missing or failed:"))
                }}
            </p>
            <ul class="missing">
                {status.missing.iter().take(40).map(|m| view! { <li><code>{m.clone()}</code></li> }).collect_view()}
            </ul>
        </section>
        <section class="card" id="failed-runs">
            <h2>{l.pick("Échecs", "Failures")}</h2>
            {if status.failed.is_empty() {
                view! { <p class="muted">{l.pick("Aucun échec.", "No failures.")}</p> }.into_any()
            } else {
                view! { <RunsTable rows=status.failed.clone() lang /> }.into_any()
            }}
        </section>
        <section class="card" id="recent-runs">
            <h2>{l.pick("Exécutions récentes", "Recent runs")}</h2>
            <RunsTable rows=status.recent.clone() lang />
        </section>
        <section class="card" id="quality">
            <h2>{l.pick("Qualité des données par jour", "Data quality per day")}</h2>
            <table class="data">
                <thead>
                    <tr>
                        <th>"Date"</th>
                        <th>{l.pick("Lignes reçues", "Rows in")}</th>
                        <th>{l.pick("Nulls écartés", "Nulls dropped")}</th>
                        <th>{l.pick("Aberrants remplacés", "Outliers replaced")}</th>
                        <th>{l.pick("Créneaux complétés", "Slots filled")}</th>
                        <th>{l.pick("Non complétables", "Unfillable")}</th>
                        <th>{l.pick("Autres écartés", "Other dropped")}</th>
                    </tr>
                </thead>
                <tbody>
                    {status
                        .quality
                        .iter()
                        .map(|q| {
                            view! {
                                <tr>
                                    <td>{format::date(&q.date, l)}</td>
                                    <td>{format::int(q.rows_in, l)}</td>
                                    <td>{format::int(q.nulls_dropped, l)}</td>
                                    <td>{format::int(q.outliers_replaced, l)}</td>
                                    <td>{format::int(q.slots_filled, l)}</td>
                                    <td>{format::int(q.unfillable, l)}</td>
                                    <td>{format::int(q.other_dropped, l)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn RunsTable(rows: Vec<RunRow>, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    view! {
        <div class="table-scroll">
            <table class="data runs">
                <thead>
                    <tr>
                        <th>{l.pick("Tâche", "Job")}</th>
                        <th>"Partition"</th>
                        <th>{l.pick("Statut", "Status")}</th>
                        <th>{l.pick("Essais", "Attempts")}</th>
                        <th>{l.pick("Lignes", "Rows")}</th>
                        <th>{l.pick("Durée (ms)", "Duration (ms)")}</th>
                        <th>{l.pick("Début", "Started")}</th>
                        <th>{l.pick("Erreur", "Error")}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr class=format!("run {}", r.status)>
                                    <td>{r.job}</td>
                                    <td><code>{r.partition}</code></td>
                                    <td class=format!("status {}", r.status)>{r.status.clone()}</td>
                                    <td>{r.attempts}</td>
                                    <td>{r.rows.map(|n| format::int(n, l)).unwrap_or_default()}</td>
                                    <td>{r.duration_ms.map(|n| n.to_string()).unwrap_or_default()}</td>
                                    <td>{r.started_at.unwrap_or_default()}</td>
                                    <td class="error-text">
                                        {r.error.unwrap_or_default()}
                                        {r.next_attempt_at.map(|t| format!(" ({} {t})", l.pick("nouvel essai", "retry at")))}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
