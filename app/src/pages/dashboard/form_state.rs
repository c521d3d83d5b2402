//! The filters as the form holds them (what the user typed, kept when invalid), their
//! check before they apply, and which message belongs to which field.

use chrono::NaiveDate;
use leptos::prelude::*;
use pipeline::calendar::OPENING_HOURS;
use pipeline::filter::{check_period, DashboardQuery, FilterError, UrlDefaults};
use pipeline::kpi::Comparison;

use crate::i18n::Lang;
use crate::wire::DashboardData;

/// The filters as the form holds them (strings as typed).
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct FormState {
    pub(super) store: Option<u32>,
    /// Checked sensors; `None` = all sensors of the store.
    pub(super) sensors: Option<Vec<u32>>,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) h0: u32,
    pub(super) h1: u32,
    pub(super) cmp: String,
}

impl FormState {
    pub(super) fn from_query(q: &DashboardQuery, d: &DashboardData) -> Self {
        FormState {
            store: q.store.filter(|s| *s != 0),
            sensors: (!q.sensors.is_empty()).then(|| q.sensors.clone()),
            from: q.from.clone().unwrap_or_else(|| d.default_from.clone()),
            to: q.to.clone().unwrap_or_else(|| d.default_to.clone()),
            h0: q.h0.unwrap_or(*OPENING_HOURS.start()),
            h1: q.h1.unwrap_or(*OPENING_HOURS.end()),
            cmp: q
                .cmp
                .clone()
                .unwrap_or_else(|| Comparison::default().code().into()),
        }
    }

    /// These filters as the URL grammar holds them.
    fn query(&self, lang: Lang) -> DashboardQuery {
        DashboardQuery {
            store: self.store,
            sensors: self.sensors.clone().unwrap_or_default(),
            from: Some(self.from.clone()),
            to: Some(self.to.clone()),
            h0: Some(self.h0),
            h1: Some(self.h1),
            cmp: Some(self.cmp.clone()),
            sensors_for: None,
            lang: lang.code().into(),
        }
    }

    /// The dashboard URL for these filters: defaults omitted, no empty keys, no sensor
    /// list for "all sensors".
    pub(super) fn href(&self, d: &DashboardData, lang: Lang) -> String {
        let defaults = UrlDefaults {
            period: Some((&d.default_from, &d.default_to)),
            store_sensors: d.filter.store.map(|s| (s, d.store_sensors.as_slice())),
        };
        self.query(lang).href("/dashboard", &defaults)
    }

    /// The problem the server would reject, with the field it is about.
    pub(super) fn check(&self, lang: Lang) -> Result<(), FilterError> {
        if self.sensors.as_ref().is_some_and(Vec::is_empty) {
            return Err(FilterError {
                field: "sensors",
                message: lang
                    .pick(
                        "Choisissez au moins un capteur.",
                        "Choose at least one sensor.",
                    )
                    .into(),
            });
        }
        let date = |s: &str, field: &'static str| {
            s.trim().parse::<NaiveDate>().map_err(|_| FilterError {
                field,
                message: lang
                    .pick("Date invalide (AAAA-MM-JJ).", "Invalid date (YYYY-MM-DD).")
                    .to_string(),
            })
        };
        let from = date(&self.from, "from")?;
        let to = date(&self.to, "to")?;
        check_period(from, to, lang)?;
        if self.h0 > self.h1 {
            return Err(FilterError {
                field: "h1",
                message: lang
                    .pick(
                        "L'heure de fin est avant l'heure de début.",
                        "The end hour is before the start hour.",
                    )
                    .into(),
            });
        }
        Ok(())
    }
}

/// The message about `field`: the form's own check first, then the server's answer.
pub(super) fn field_error(
    form_error: RwSignal<Option<FilterError>>,
    current: RwSignal<DashboardData>,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy {
    move || {
        form_error
            .get()
            .filter(|e| e.field == field)
            .map(|e| e.message)
            .or_else(|| {
                current.with(|d| {
                    (d.error_field.as_deref() == Some(field))
                        .then(|| d.error.clone())
                        .flatten()
                })
            })
    }
}
