//! The hour × day grid of the partitions, with its legend.

use leptos::prelude::*;

use crate::format;
use crate::i18n::Lang;
use crate::wire::{CellState, PartitionGrid};

#[component]
pub(super) fn Grid(grid: PartitionGrid, lang: Memo<Lang>) -> impl IntoView {
    let l = lang.get_untracked();
    let days = grid.days.clone();
    let legend = [
        CellState::Done,
        CellState::Running,
        CellState::Retrying,
        CellState::Failed,
        CellState::Missing,
        CellState::NotDue,
        CellState::BeforeStart,
    ];
    let day_label = |d: &str| d.get(8..10).unwrap_or(d).to_string();
    let cell = move |state: CellState, title: String| {
        view! {
            <td class=format!("cell {}", state.class()) title=format!("{title} — {}", state.label(l))>
                <span class="visually-hidden">{state.label(l)}</span>
            </td>
        }
    };
    view! {
        <div class="grid-scroll">
            <table class="partition-grid" aria-label=l.pick("Grille des partitions", "Partition grid")>
                <thead>
                    <tr>
                        <th scope="col" class="corner">{l.pick("Heure", "Hour")}</th>
                        {days
                            .iter()
                            .map(|d| {
                                view! {
                                    <th scope="col" title=format::date(d, l) data-day=d.clone()>
                                        {day_label(d)}
                                    </th>
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {grid
                        .hours
                        .iter()
                        .enumerate()
                        .map(|(h, row)| {
                            let days = days.clone();
                            view! {
                                <tr>
                                    <th scope="row">{format!("{h:02}h")}</th>
                                    {row
                                        .iter()
                                        .zip(days.iter())
                                        .map(|(s, d)| cell(*s, format!("{d} {h:02}h")))
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                    <tr class="transform-row">
                        <th scope="row" title=l.pick("Transformation de nuit", "Nightly transform")>
                            {l.pick("Transf.", "Transf.")}
                        </th>
                        {grid
                            .transform
                            .iter()
                            .zip(days.iter())
                            .map(|(s, d)| cell(*s, format!("{d} {}", l.pick("transformation", "transform"))))
                            .collect_view()}
                    </tr>
                </tbody>
            </table>
        </div>
        <ul class="grid-legend">
            {legend
                .into_iter()
                .map(|s| {
                    view! {
                        <li>
                            <span class=format!("swatch cell {}", s.class())></span>
                            {s.label(l)}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
