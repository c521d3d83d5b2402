//! The KPI cards: each figure with its change against the comparison period.

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::wire::{ChangeState, KpiCard};

/// One card per KPI. `applied` says which filter the figures are for (tests wait on it
/// while a new view loads).
#[component]
pub(super) fn KpiGrid(kpis: Vec<KpiCard>, applied: String, lang: Lang) -> impl IntoView {
    let l = lang;
    let cards = kpis
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
    view! {
        <section class="kpi-grid" aria-label=l.pick("Indicateurs", "Indicators") data-applied=applied>
            {cards}
        </section>
    }
}
