//! The pipeline page: is the data behind the dashboard complete? An hour × day grid of
//! the partitions of the last 14 days, what is missing (from the pipeline's first day),
//! failures grouped by error, recent runs, and the daily quality figures explained.

mod grid;
#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;

use leptos::prelude::*;
use pipeline::failures::FailureGroup;

use crate::format;
use crate::i18n::{use_lang, Lang};
use crate::wire::LoadError;
use crate::wire::{PipelineView, QualityRow, RunRow};
use grid::Grid;
use server_fns::get_pipeline_view;

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
                        Err(LoadError::NotAllowed | LoadError::Forbidden { .. }) => {
                            view! {
                                <p class="error" role="alert" id="not-allowed">
                                    {move || {
                                        lang.get()
                                            .pick(
                                                "Accès refusé : cette page montre le traitement de toute la chaîne, réservé aux analystes et aux administrateurs.",
                                                "Access denied: this page shows the whole chain's processing, for analysts and admins only.",
                                            )
                                    }}
                                </p>
                            }
                                .into_any()
                        }
                        // The server logs the cause; the page says what to do, whatever the
                        // kind of `LoadError`.
                        Err(_) => {
                            view! {
                                <p class="error" role="alert">
                                    {move || {
                                        lang.get()
                                            .pick(
                                                "L'état du pipeline n'a pas pu être lu. Réessayez avec « Actualiser ».",
                                                "The pipeline status could not be read. Try again with “Refresh”.",
                                            )
                                    }}
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
        silent_sensors,
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
                                        <td>{job.label(l)}</td>
                                        <td class=format!("status {}", st.key())>{st.label(l)}</td>
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
                                .map(|(job, partition)| {
                                    let text = format!("{} {partition}", job.label(l));
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
    let silent = view! { <SilentSensors rows=silent_sensors lang /> }.into_any();
    view! {
        {silent}
        {ledger}
        {grid}
        {completeness}
        {failures}
        <QualityTable rows=quality lang />
    }
}

/// The sensors an open `sensor_silent` or `sensor_stuck_zero` alert names, oldest first,
/// with a link to their alerts.
#[component]
fn SilentSensors(rows: Vec<crate::wire::SilentSensor>, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let link = |rule: pipeline::alerts::Rule| {
        crate::pages::alerts::query::AlertsQuery {
            rule: Some(rule),
            lang: l,
            ..Default::default()
        }
        .href()
    };
    let body = if rows.is_empty() {
        view! {
            <p class="muted" id="no-silent-sensors">
                {l.pick("Aucun capteur muet ni bloqué à zéro.", "No silent sensor, none stuck at zero.")}
            </p>
        }
        .into_any()
    } else {
        view! {
            <ul class="silent-list">
                {rows
                    .into_iter()
                    .map(|s| {
                        let text = format!(
                            "{} · {} {} — {} {} {}",
                            s.store_name,
                            l.pick("capteur", "sensor"),
                            s.sensor_id,
                            s.rule.label(l),
                            l.pick("depuis le", "since"),
                            crate::format::date_time(&s.since, l),
                        );
                        view! {
                            <li
                                class="silent-sensor"
                                data-alert-id=s.alert_id.to_string()
                                data-store=s.store_id.to_string()
                                data-sensor=s.sensor_id.to_string()
                                data-rule=s.rule.key()
                            >
                                {text}
                                {s.acknowledged.then(|| view! {
                                    <span class="muted">{format!(" ({})", pipeline::alerts::lifecycle::AlertStatus::Acknowledged.label(l))}</span>
                                })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" id="silent-sensors">
            <h2>{l.pick("Capteurs muets", "Silent sensors")}</h2>
            <p class="muted">
                {l.pick("Les alertes ouvertes « capteur muet » et « capteur bloqué à zéro ». Voir ", "Open “silent sensor” and “sensor stuck at zero” alerts. See ")}
                <a href=link(pipeline::alerts::Rule::SensorSilent)>{l.pick("les capteurs muets", "silent sensors")}</a>
                {l.pick(" et ", " and ")}
                <a href=link(pipeline::alerts::Rule::SensorStuckZero)>{l.pick("les capteurs bloqués", "stuck sensors")}</a>
                {l.pick(" sur la page des alertes.", " on the alerts page.")}
            </p>
            {body}
        </section>
    }
}

#[component]
fn FailureGroups(groups: Vec<FailureGroup<String>>, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    view! {
        <ul class="failure-groups">
            {groups
                .into_iter()
                .map(|g| {
                    let range = if g.first_partition == g.last_partition {
                        g.first_partition.clone()
                    } else {
                        format!("{} → {}", g.first_partition, g.last_partition)
                    };
                    let retry = match (&g.next_attempt_at, g.exhausted) {
                        (_, n) if n == g.partitions => {
                            l.pick("plus de nouvel essai automatique : relancez avec « backfill --retry-failed »", "no automatic retry left: rerun with “backfill --retry-failed”").to_string()
                        }
                        (Some(t), _) => format!("{} {t}", l.pick("prochain essai", "next retry")),
                        (None, _) => String::new(),
                    };
                    view! {
                        <li class="failure-group">
                            <p class="failure-head">
                                <strong>{g.job.label(l)}</strong>
                                " · "
                                <span class="failure-count">
                                    {format!(
                                        "{} {}",
                                        format::int(g.partitions, l),
                                        if g.partitions > 1 { l.pick("partitions", "partitions") } else { l.pick("partition", "partition") },
                                    )}
                                </span>
                                " · "
                                <code>{range}</code>
                            </p>
                            <pre class="error-text">{g.error}</pre>
                            <p class="muted">{retry}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
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
                        <th class="num">{l.pick("Essais", "Attempts")}</th>
                        <th class="num">{l.pick("Lignes", "Rows")}</th>
                        <th class="num">{l.pick("Durée (ms)", "Duration (ms)")}</th>
                        <th>{l.pick("Début", "Started")}</th>
                        <th>{l.pick("Erreur", "Error")}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr class=format!("run {}", r.status.key())>
                                    <td>{r.job.label(l)}</td>
                                    <td><code>{r.partition}</code></td>
                                    <td class=format!("status {}", r.status.key())>{r.status.label(l)}</td>
                                    <td class="num">{r.attempts}</td>
                                    <td class="num">{r.rows.map(|n| format::int(n, l)).unwrap_or_default()}</td>
                                    <td class="num">{r.duration_ms.map(|n| format::int(n, l)).unwrap_or_default()}</td>
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
    .into_any()
}

#[component]
fn QualityTable(rows: Vec<QualityRow>, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let num = move |n: i64| format::int(n, l);
    view! {
        <section class="card" id="quality">
            <h2>{l.pick("Qualité des données par jour", "Data quality per day")}</h2>
            <p class="muted">
                {l.pick(
                    "Relevés des capteurs et des ventes, tels que reçus puis nettoyés la nuit.",
                    "Sensor and sales readings, as received and then cleaned at night.",
                )}
            </p>
            <div class="table-scroll">
                <table class="data quality">
                    <thead>
                        <tr>
                            <th>"Date"</th>
                            <th class="num">{l.pick("Relevés reçus", "Readings received")}</th>
                            <th class="num expected">{l.pick("Heures de fermeture (écartées, normal)", "Closed hours (set aside, expected)")}</th>
                            <th class="num">{l.pick("Sans valeur (écartés)", "No value (dropped)")}</th>
                            <th class="num">{l.pick("Valeurs aberrantes corrigées", "Outliers corrected")}</th>
                            <th class="num">{l.pick("Créneaux manquants complétés", "Missing slots filled")}</th>
                            <th class="num">{l.pick("Créneaux non complétables", "Slots that could not be filled")}</th>
                            <th class="num">{l.pick("Relevés illisibles ou en double (rejetés)", "Unreadable or duplicate readings (rejected)")}</th>
                            <th class="num">{l.pick("Lignes publiées", "Rows published")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|q| {
                                view! {
                                    <tr data-date=q.date.clone()>
                                        <td>{format::date(&q.date, l)}</td>
                                        <td class="num">{num(q.rows_in)}</td>
                                        <td class="num expected">{num(q.closed)}</td>
                                        <td class="num">{num(q.nulls)}</td>
                                        <td class="num">{num(q.outliers)}</td>
                                        <td class="num">{num(q.filled)}</td>
                                        <td class="num">{num(q.unfillable)}</td>
                                        <td class="num">{num(q.rejected)}</td>
                                        <td class="num">{num(q.rows_out)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <dl class="quality-legend">
                <dt>{l.pick("Heures de fermeture", "Closed hours")}</dt>
                <dd>
                    {l.pick(
                        "Relevés des heures où les magasins sont fermés (avant 9 h, après 19 h, le week-end) : mis de côté comme prévu, ce n'est pas une anomalie.",
                        "Readings of hours when the stores are closed (before 9:00, after 19:00, weekends): set aside as planned, not a fault.",
                    )}
                </dd>
                <dt>{l.pick("Sans valeur", "No value")}</dt>
                <dd>{l.pick("Relevés arrivés vides ; le créneau est ensuite complété si possible.", "Readings that arrived empty; the slot is then filled when possible.")}</dd>
                <dt>{l.pick("Valeurs aberrantes", "Outliers")}</dt>
                <dd>{l.pick("Plus de 3 fois ou moins du quart de la médiane du capteur ce jour-là ; remplacées comme un créneau manquant.", "Above 3 times or below a quarter of the sensor's median that day; replaced like a missing slot.")}</dd>
                <dt>{l.pick("Créneaux complétés / non complétables", "Slots filled / not fillable")}</dt>
                <dd>{l.pick("Heures d'ouverture sans relevé utilisable, complétées d'après le profil horaire du capteur (même jour de semaine et même heure des 4 semaines précédentes, à l'échelle du jour), ou laissées vides faute de relevé valide ce jour-là.", "Opening hours without a usable reading, filled following the sensor's hourly profile (same weekday and hour over the 4 weeks before, scaled to the day), or left empty when the day has no valid reading.")}</dd>
                <dt>{l.pick("Illisibles ou en double", "Unreadable or duplicate")}</dt>
                <dd>{l.pick("Date ou heure illisible, magasin ou capteur inconnu, relevé en double, valeur hors des bornes plausibles.", "Unreadable date or hour, unknown store or sensor, duplicate reading, value outside plausible bounds.")}</dd>
            </dl>
        </section>
    }
    .into_any()
}
