//! The figures of one response: the period line, the notes about the data, then the KPI
//! grid and the chart grid.

use chrono::{Datelike, NaiveDate};
use leptos::prelude::*;

use super::chart_grid::ChartGrid;
use super::kpi_grid::KpiGrid;
use crate::format;
use crate::i18n::Lang;
use crate::wire::DashboardData;

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
    let has_previous = f.previous_from.is_some();
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
        <KpiGrid kpis=data.kpis applied=applied_key lang=l />
        <ChartGrid charts=data.charts has_previous show_previous drill lang=l />
    }
    .into_any()
}
