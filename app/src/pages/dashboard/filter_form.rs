//! The filter form: store, period, hours, comparison, quick periods, sensors and the
//! export links. Its values live in a [`FormState`] (`form_state.rs`: what the user typed,
//! kept when invalid); the URL grammar itself is [`pipeline::filter::DashboardQuery`].

use chrono::NaiveDate;
use leptos::prelude::*;
use pipeline::calendar::OPENING_HOURS;
use pipeline::filter::{DashboardQuery, FilterError, UrlDefaults};

use super::form_state::{field_error, FormState};
use super::presets::{preset_period, PRESETS};
use super::sensor_choice::SensorChoice;
use crate::format;
use crate::i18n::Lang;
use crate::wire::DashboardData;

/// The filter form: its values live in `form` (what the user typed, kept when invalid).
#[component]
pub(super) fn FilterForm<S, A>(
    form: RwSignal<FormState>,
    current: RwSignal<DashboardData>,
    lang: Lang,
    form_error: RwSignal<Option<FilterError>>,
    schedule: S,
    apply: A,
) -> impl IntoView
where
    S: Fn() + Clone + Send + Sync + 'static,
    A: Fn() + Clone + Send + Sync + 'static,
{
    let signals = FormSignals {
        form,
        form_error,
        current,
    };
    let field_error = move |field: &'static str| field_error(form_error, current, field);
    let summary = move || {
        let f = form.get();
        let store = current.with(|d| {
            f.store
                .and_then(|s| d.stores.iter().find(|x| x.store_id == s))
                .map(|s| s.city_store.clone())
                .unwrap_or_else(|| lang.pick("Tous les magasins", "All stores").into())
        });
        format!(
            "{store} · {} → {} · {}h–{}h",
            format::date(&f.from, lang),
            format::date(&f.to, lang),
            f.h0,
            f.h1 + 1
        )
    };
    let (min_date, max_date) = current.with_untracked(|d| {
        (
            d.data_from.clone().unwrap_or_default(),
            d.data_to.clone().unwrap_or_else(|| d.today.clone()),
        )
    });
    let on_change = {
        let schedule = schedule.clone();
        move || schedule()
    };
    let preset = {
        let apply = apply.clone();
        move |which: &'static str| {
            let today: Option<NaiveDate> = current.with_untracked(|d| d.today.parse().ok());
            let Some(today) = today else { return };
            let range = form.with_untracked(|f| preset_period(which, today, &f.from, &f.to));
            if let Some((a, b)) = range {
                form.update(|f| {
                    f.from = a.to_string();
                    f.to = b.to_string();
                });
                apply();
            }
        }
    };
    let submit = {
        let apply = apply.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            apply();
        }
    };
    // The applied filter, dates written out (the export has no default period).
    let export_href = move || {
        current.with(|d| {
            let f = &d.filter;
            DashboardQuery {
                store: f.store,
                sensors: f.sensors.clone(),
                from: Some(f.from.clone()),
                to: Some(f.to.clone()),
                h0: Some(f.h0),
                h1: Some(f.h1),
                ..Default::default()
            }
            .href("/export.csv", &UrlDefaults::default())
        })
    };
    let c1 = on_change.clone();
    let c2 = on_change.clone();
    let c3 = on_change.clone();
    let c4 = on_change.clone();
    let c5 = on_change.clone();
    let c6 = on_change.clone();
    view! {
        <input type="checkbox" id="filters-open" class="filters-toggle" aria-label=lang.pick("Afficher les filtres", "Show the filters") />
        <label for="filters-open" class="filters-summary">
            <span class="summary-text" id="filters-summary">{summary}</span>
            <span class="summary-action">{lang.pick("Modifier", "Edit")}</span>
        </label>
        <form
            method="get"
            action="/dashboard"
            class="filters"
            class:has-error=move || form_error.with(Option::is_some) || current.with(|d| d.error.is_some())
            id="filters"
            novalidate
            on:submit=submit
        >
            {(lang == Lang::En).then(|| view! { <input type="hidden" name="lang" value="en" /> })}
            <label>
                {lang.pick("Magasin", "Store")}
                <select
                    name="store"
                    id="filter-store"
                    prop:value=move || form.with(|f| f.store.map(|s| s.to_string()).unwrap_or_default())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| {
                            f.store = v.parse().ok().filter(|s| *s != 0);
                            f.sensors = None;
                        });
                        form_error.set(None);
                        c1();
                    }
                >
                    <option value="" selected=move || form.with(|f| f.store.is_none())>
                        {lang.pick("Tous les magasins", "All stores")}
                    </option>
                    {current
                        .with_untracked(|d| d.stores.clone())
                        .into_iter()
                        .map(|s| {
                            let id = s.store_id;
                            view! {
                                <option value=id.to_string() selected=move || form.with(|f| f.store == Some(id))>
                                    {s.city_store}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                {lang.pick("Du", "From")}
                <DateInput field=signals.field("from", |f| f.from.clone(), |f, v| f.from = v) min=min_date.clone() max=max_date.clone() on_change=c2 />
                {move || field_error("from")().map(|m| view! { <span class="field-error" id="from-error">{m}</span> })}
            </label>
            <label>
                {lang.pick("Au", "To")}
                <DateInput field=signals.field("to", |f| f.to.clone(), |f, v| f.to = v) min=min_date max=max_date on_change=c3 />
                {move || field_error("to")().map(|m| view! { <span class="field-error" id="to-error" role="alert">{m}</span> })}
            </label>
            <label>
                {lang.pick("De", "Hours from")}
                <HourSelect field=signals.field("h0", |f| f.h0, |f, h| f.h0 = h) fallback=*OPENING_HOURS.start() on_change=c4 />
            </label>
            <label>
                {lang.pick("À", "to")}
                <HourSelect field=signals.field("h1", |f| f.h1, |f, h| f.h1 = h) fallback=*OPENING_HOURS.end() may_be_invalid=true on_change=c5 />
                {move || field_error("h1")().map(|m| view! { <span class="field-error" id="h1-error">{m}</span> })}
            </label>
            <label>
                {lang.pick("Comparer avec", "Compare with")}
                <select
                    name="cmp"
                    id="filter-cmp"
                    prop:value=move || form.with(|f| f.cmp.clone())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.cmp = v);
                        c6();
                    }
                >
                    <option value="prev" selected=move || form.with(|f| f.cmp == "prev")>
                        {lang.pick("la période précédente", "the previous period")}
                    </option>
                    <option value="year" selected=move || form.with(|f| f.cmp == "year")>
                        {lang.pick("la même période l'an dernier", "the same period last year")}
                    </option>
                    <option value="none" selected=move || form.with(|f| f.cmp == "none")>
                        {lang.pick("rien", "nothing")}
                    </option>
                </select>
            </label>
            <div class="presets" role="group" aria-label=lang.pick("Périodes rapides", "Quick periods")>
                {PRESETS
                    .into_iter()
                    .map(|(id, fr, en)| {
                        let preset = preset.clone();
                        view! {
                            <button type="button" class="preset" id=format!("preset-{id}") on:click=move |_| preset(id)>
                                {lang.pick(fr, en)}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <SensorChoice form current lang form_error on_change=on_change.clone() />
            <div class="actions">
                <button type="submit" id="apply-filters">{lang.pick("Appliquer", "Apply")}</button>
                <a class="export" id="export-csv" href=export_href download="datamag360.csv">
                    {lang.pick("Exporter en CSV", "Export as CSV")}
                </a>
                <a
                    class="export"
                    id="export-excel"
                    href=move || format!("{}&format=excel", export_href())
                    download="datamag360-excel.csv"
                >
                    {lang.pick("Exporter pour Excel", "Export for Excel")}
                </a>
            </div>
        </form>
    }
}

/// The form's signals: what the user typed, the form's own error, the server's answer.
#[derive(Clone, Copy)]
struct FormSignals {
    form: RwSignal<FormState>,
    form_error: RwSignal<Option<FilterError>>,
    current: RwSignal<DashboardData>,
}

impl FormSignals {
    /// The form value named `name` (also its input's name), read with `get`, written
    /// with `set`.
    fn field<T>(
        self,
        name: &'static str,
        get: fn(&FormState) -> T,
        set: fn(&mut FormState, T),
    ) -> FormField<T> {
        FormField {
            signals: self,
            name,
            get,
            set,
        }
    }

    /// `aria-invalid` of the input of `field`.
    fn invalid(self, field: &'static str) -> impl Fn() -> String + Copy {
        move || {
            field_error(self.form_error, self.current, field)()
                .is_some()
                .to_string()
        }
    }
}

/// One value of the form, bound to its input.
struct FormField<T> {
    signals: FormSignals,
    /// The input's name; its id is `filter-{name}`.
    name: &'static str,
    get: fn(&FormState) -> T,
    set: fn(&mut FormState, T),
}

// Not derived: the derive would want `T: Copy`, and only fn pointers hold a `T`.
impl<T> Clone for FormField<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for FormField<T> {}

impl<T: 'static> FormField<T> {
    fn id(self) -> String {
        format!("filter-{}", self.name)
    }

    /// The value as the form holds it (tracked).
    fn value(self) -> T {
        self.signals.form.with(self.get)
    }

    fn value_untracked(self) -> T {
        self.signals.form.with_untracked(self.get)
    }

    fn set(self, v: T) {
        self.signals.form.update(|f| (self.set)(f, v));
    }

    fn invalid(self) -> impl Fn() -> String + Copy {
        self.signals.invalid(self.name)
    }
}

/// A date of the form (`from`, `to`): its error description follows its name.
#[component]
fn DateInput<C>(field: FormField<String>, min: String, max: String, on_change: C) -> impl IntoView
where
    C: Fn() + Send + Sync + 'static,
{
    view! {
        <input
            type="date"
            name=field.name
            id=field.id()
            min=min
            max=max
            value=move || field.value_untracked()
            prop:value=move || field.value()
            aria-invalid=field.invalid()
            aria-describedby=format!("{}-error", field.name)
            required
            on:change=move |ev| {
                field.set(event_target_value(&ev));
                on_change();
            }
        />
    }
}

/// An hour of the form (`h0`, `h1`), one option per opening hour; an unreadable choice
/// falls back to `fallback`.
#[component]
fn HourSelect<C>(
    field: FormField<u32>,
    fallback: u32,
    /// The field can be the one an error is about (`aria-invalid`).
    #[prop(optional)]
    may_be_invalid: bool,
    on_change: C,
) -> impl IntoView
where
    C: Fn() + Send + Sync + 'static,
{
    view! {
        <select
            name=field.name
            id=field.id()
            prop:value=move || field.value().to_string()
            aria-invalid=may_be_invalid.then(|| field.invalid())
            on:change=move |ev| {
                field.set(event_target_value(&ev).parse().unwrap_or(fallback));
                on_change();
            }
        >
            {OPENING_HOURS
                .map(|h| view! { <option value=h.to_string() selected=move || field.value() == h>{format!("{h}h")}</option> })
                .collect_view()}
        </select>
    }
}
