//! Failures grouped by error, and the recent runs.

use leptos::prelude::*;
use pipeline::failures::FailureGroup;

use super::labels::{job_label, status_label};
use super::wire::RunRow;
use crate::format;
use crate::i18n::Lang;

#[component]
pub(super) fn FailureGroups(groups: Vec<FailureGroup<String>>, lang: Memo<Lang>) -> impl IntoView {
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
                                <strong>{job_label(&g.job, l)}</strong>
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
pub(super) fn RunsTable(rows: Vec<RunRow>, lang: Memo<Lang>) -> impl IntoView {
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
                                <tr class=format!("run {}", r.status)>
                                    <td>{job_label(&r.job, l)}</td>
                                    <td><code>{r.partition}</code></td>
                                    <td class=format!("status {}", r.status)>{status_label(&r.status, l)}</td>
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
