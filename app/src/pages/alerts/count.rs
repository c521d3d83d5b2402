//! The header's count of open alerts, and the signal that makes it follow the changes made
//! on the alerts page.

use leptos::prelude::*;
use pipeline::alerts::lifecycle::AlertStatus;

use super::query::AlertsQuery;
use super::server_fns::get_alert_count;
use crate::i18n::Lang;

/// Bumped when an alert changes state in this page, so that the header's count follows.
#[derive(Debug, Clone, Copy)]
pub struct AlertsChanged(pub RwSignal<u32>);

/// Provided once for the whole app (see `App`).
pub fn provide_alerts_changed() {
    provide_context(AlertsChanged(RwSignal::new(0)));
}

pub(super) fn alerts_changed() -> Option<RwSignal<u32>> {
    use_context::<AlertsChanged>().map(|c| c.0)
}

/// The header's count of open alerts in the viewer's stores: a link to them, or nothing
/// for a visitor who is not signed in. Follows the changes made on the alerts page.
#[component]
pub fn AlertCount(lang: Memo<Lang>, rel: Option<&'static str>) -> impl IntoView {
    let changed = alerts_changed();
    let count = Resource::new(
        move || changed.map(|c| c.get()).unwrap_or(0),
        |_| get_alert_count(),
    );
    let href = move || {
        AlertsQuery {
            status: Some(AlertStatus::Open),
            lang: lang.get(),
            ..Default::default()
        }
        .href()
    };
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let n = count.await.ok().flatten();
                n.map(|n| {
                    let label = move || {
                        let l = lang.get();
                        match (n, l) {
                            (0, _) => l.pick("Alertes, aucune ouverte", "Alerts, none open").to_string(),
                            (1, _) => l.pick("Alertes, 1 ouverte", "Alerts, 1 open").to_string(),
                            (n, Lang::Fr) => format!("Alertes, {n} ouvertes"),
                            (n, Lang::En) => format!("Alerts, {n} open"),
                        }
                    };
                    view! {
                        <a href=href rel=rel id="alerts-link" aria-label=label>
                            {move || lang.get().pick("Alertes", "Alerts")}
                            <span class="count" class:zero=n == 0 id="alerts-count" data-count=n.to_string()>{n.to_string()}</span>
                        </a>
                    }
                })
            })}
        </Transition>
    }
}
