//! The charts of one response, with the switch that shows or hides the comparison
//! period's dashed lines.

use leptos::prelude::*;

use crate::charts::view::Chart;
use crate::i18n::Lang;
use crate::wire::ChartData;

/// The charts' heading, the comparison switch (when there is a comparison period) and the
/// charts. `drill` opens the view a chart's point links to.
#[component]
pub(super) fn ChartGrid(
    charts: Vec<ChartData>,
    has_previous: bool,
    show_previous: RwSignal<bool>,
    drill: Callback<String>,
    lang: Lang,
) -> impl IntoView {
    let l = lang;
    let charts = charts
        .into_iter()
        .map(|c| view! { <Chart data=c lang show_previous=Signal::derive(move || show_previous.get() && has_previous) drill /> })
        .collect_view();
    view! {
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
}
