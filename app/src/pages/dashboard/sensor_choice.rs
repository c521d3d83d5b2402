//! The sensor boxes of the selected store, with "all" and "none".

use leptos::prelude::*;
use pipeline::filter::FilterError;

use super::form_state::{field_error, FormState};
use crate::i18n::Lang;
use crate::wire::DashboardData;

/// One box per sensor of the store chosen in `form`, once the figures shown are that
/// store's (their response lists its sensors). All boxes checked means "all sensors".
#[component]
pub(super) fn SensorChoice<C>(
    form: RwSignal<FormState>,
    current: RwSignal<DashboardData>,
    lang: Lang,
    form_error: RwSignal<Option<FilterError>>,
    on_change: C,
) -> impl IntoView
where
    C: Fn() + Clone + Send + Sync + 'static,
{
    let field_error = move |field: &'static str| field_error(form_error, current, field);
    let invalid = move |field: &'static str| move || field_error(field)().is_some().to_string();
    move || {
        let f = form.get();
        let store = f.store?;
        let list = current.with(|d| {
            (d.filter.store == Some(store) && d.error.is_none()).then(|| d.store_sensors.clone())
        })?;
        if list.is_empty() {
            return None;
        }
        let on_change = on_change.clone();
        let boxes = list
            .iter()
            .map(|s| {
                let s = *s;
                let on_change = on_change.clone();
                let checked =
                    move || form.with(|f| f.sensors.as_ref().is_none_or(|v| v.contains(&s)));
                view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            name="sensors"
                            value=s.to_string()
                            checked=checked
                            prop:checked=checked
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let all = current.with_untracked(|d| d.store_sensors.clone());
                                form.update(|f| {
                                    let mut set = f.sensors.clone().unwrap_or_else(|| all.clone());
                                    set.retain(|x| *x != s);
                                    if on {
                                        set.push(s);
                                    }
                                    set.sort_unstable();
                                    f.sensors = (set.len() != all.len()).then_some(set);
                                });
                                form_error.set(None);
                                on_change();
                            }
                        />
                        {s.to_string()}
                    </label>
                }
            })
            .collect_view();
        let all_on = {
            let on_change = on_change.clone();
            move |_| {
                form.update(|f| f.sensors = None);
                form_error.set(None);
                on_change();
            }
        };
        let none_on = move |_| {
            form.update(|f| f.sensors = Some(Vec::new()));
            form_error.set(None);
        };
        Some(view! {
            <input type="hidden" name="for_store" value=store.to_string() />
            <fieldset class="sensors" id="filter-sensors" aria-invalid=invalid("sensors")>
                <legend>{lang.pick("Capteurs", "Sensors")}</legend>
                <div class="sensor-tools">
                    <button type="button" class="link" id="sensors-all" on:click=all_on>{lang.pick("Tous", "All")}</button>
                    <button type="button" class="link" id="sensors-none" on:click=none_on>{lang.pick("Aucun", "None")}</button>
                </div>
                {boxes}
                {move || field_error("sensors")().map(|m| view! { <p class="field-error" id="sensors-error">{m}</p> })}
            </fieldset>
        })
    }
}
