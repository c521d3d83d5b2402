//! One alert of the list: what, where, since when (Paris time), observed against expected,
//! who acknowledged it; and, for those who may act, the acknowledge and silence forms.

use chrono::NaiveDateTime;
use leptos::prelude::*;
use pipeline::alerts::Severity;

use super::server_fns::{acknowledge_alert, add_silence};
use crate::format;
use crate::i18n::Lang;
use crate::wire::{AlertRow, LoadError};
use pipeline::alerts::lifecycle::AlertStatus;

/// The `datetime-local` format the silence form reads and writes.
const LOCAL: &str = "%Y-%m-%dT%H:%M";

/// A form's outcome, worded: the server's code for a mistake, or an access or outage
/// error.
pub(super) fn form_message(result: &Result<Option<String>, LoadError>, l: Lang) -> Option<String> {
    match result {
        Ok(None) => None,
        Ok(Some(code)) => Some(
            match code.as_str() {
                "comment" => l.pick("Écrivez un commentaire (500 caractères au plus).", "Write a comment (500 characters at most)."),
                "state" => l.pick("Cette alerte n'est plus ouverte.", "This alert is no longer open."),
                "unknown" => l.pick("Cette alerte n'existe plus.", "This alert no longer exists."),
                "date" => l.pick("Date ou heure illisible.", "Unreadable date or time."),
                "range" => l.pick("La fin doit suivre le début (pour un silence hebdomadaire, l'heure de fin doit suivre l'heure de début, et au moins un jour est coché).", "The end must come after the start (for a weekly silence, the end's hour must follow the start's hour, and at least one day is ticked)."),
                "reason" => l.pick("Donnez une raison (500 caractères au plus).", "Give a reason (500 characters at most)."),
                "sensor" => l.pick("Ce capteur n'appartient pas à ce magasin.", "This sensor is not one of this store's."),
                "kind" => l.pick("Type de canal inconnu.", "Unknown channel kind."),
                "target" => l.pick("Adresse invalide : une URL https:// (ou http:// en local) pour un webhook ou Slack, une adresse e-mail pour l'e-mail.", "Invalid address: an https:// URL (http:// locally) for a webhook or Slack, an e-mail address for e-mail."),
                "label" => l.pick("Donnez un nom au canal (80 caractères au plus).", "Give the channel a name (80 characters at most)."),
                "store" => l.pick("Magasin inconnu.", "Unknown store."),
                "taken" => l.pick("Un canal porte déjà ce nom.", "A channel already has this name."),
                _ => l.pick("Valeur refusée.", "Value refused."),
            }
            .to_string(),
        ),
        Err(LoadError::Forbidden { store_id }) => {
            Some(pipeline::access::Forbidden { store_id: *store_id }.message(l))
        }
        Err(LoadError::NotAllowed) => Some(
            l.pick(
                "Accès refusé : votre rôle permet de consulter les alertes, pas d'agir.",
                "Access denied: your role may read alerts, not act on them.",
            )
            .to_string(),
        ),
        Err(LoadError::SignIn) => Some(
            l.pick(
                "Votre session a pris fin : reconnectez-vous.",
                "Your session has ended: sign in again.",
            )
            .to_string(),
        ),
        Err(_) => Some(
            l.pick(
                "L'enregistrement a échoué. Réessayez dans un instant.",
                "Saving failed. Try again in a moment.",
            )
            .to_string(),
        ),
    }
}

/// A measured figure: whole numbers as such, others with one decimal.
fn figure(v: f64, l: Lang) -> String {
    if v.fract().abs() < 1e-9 {
        format::int(v as i64, l)
    } else {
        format::decimal(v, 1, l)
    }
}

/// What the alert measured against what was expected, when it measured.
fn figures_text(a: &AlertRow, l: Lang) -> Option<String> {
    match (a.observed, a.expected) {
        (None, None) => None,
        (o, e) => {
            let dash = || "—".to_string();
            Some(format!(
                "{} {} · {} {}",
                l.pick("observé :", "observed:"),
                o.map(|v| figure(v, l)).unwrap_or_else(dash),
                l.pick("attendu :", "expected:"),
                e.map(|v| figure(v, l)).unwrap_or_else(dash),
            ))
        }
    }
}

fn since_text(a: &AlertRow, l: Lang) -> String {
    match (&a.end, a.status) {
        (Some(end), _) => format!(
            "{} {} {} {}",
            l.pick("du", "from"),
            crate::format::date_time(&a.start, l),
            l.pick("au", "to"),
            crate::format::date_time(end, l)
        ),
        (None, _) => format!(
            "{} {}",
            l.pick("depuis le", "since"),
            crate::format::date_time(&a.start, l)
        ),
    }
}

/// `now` plus `hours`, in the form's format (the silence form's defaults).
fn later(now: &str, hours: i64) -> String {
    NaiveDateTime::parse_from_str(now, LOCAL)
        .map(|t| {
            (t + chrono::Duration::hours(hours))
                .format(LOCAL)
                .to_string()
        })
        .unwrap_or_default()
}

/// The weekday (0 = Monday) of a form time; Monday when it does not read.
fn weekday_of(t: &str) -> u32 {
    use chrono::Datelike;
    NaiveDateTime::parse_from_str(t, LOCAL)
        .map(|t| t.weekday().num_days_from_monday())
        .unwrap_or(0)
}

fn weekday_name(d: u32, l: Lang) -> &'static str {
    let day = chrono::Weekday::try_from(d as u8).unwrap_or(chrono::Weekday::Mon);
    format::weekday(day, true, l)
}

#[component]
pub(super) fn AlertItem(
    row: AlertRow,
    can_act: bool,
    now: String,
    lang: Memo<Lang>,
    version: RwSignal<u32>,
) -> impl IntoView {
    let l = lang.get_untracked();
    let changed = super::count::alerts_changed();
    let id = row.id;
    // Which form is open: none, "ack" or "silence".
    let open = RwSignal::new(None::<&'static str>);
    let message = RwSignal::new(None::<String>);
    let comment = RwSignal::new(String::new());
    let ack = Action::new(move |(id, c): &(i64, String)| acknowledge_alert(*id, c.clone()));
    let silence = Action::new(
        move |(store, sensor, from, to, days, reason): &(
            u32,
            Option<u32>,
            String,
            String,
            Vec<u32>,
            String,
        )| {
            add_silence(
                *store,
                *sensor,
                from.clone(),
                to.clone(),
                days.clone(),
                reason.clone(),
            )
        },
    );
    let done = move |result: Result<Option<String>, LoadError>| match form_message(&result, l) {
        None => {
            message.set(None);
            open.set(None);
            version.update(|v| *v += 1);
            if let Some(c) = changed {
                c.update(|v| *v += 1);
            }
        }
        Some(m) => message.set(Some(m)),
    };
    Effect::new(move |_| {
        if let Some(r) = ack.value().get() {
            done(r);
        }
    });
    Effect::new(move |_| {
        if let Some(r) = silence.value().get() {
            done(r);
        }
    });

    let severity_class = match row.severity {
        Severity::Critical => "sev critical",
        Severity::Warning => "sev warning",
        Severity::Info => "sev info",
    };
    let place = match row.sensor_id {
        Some(s) => format!("{} · {} {s}", row.store_name, l.pick("capteur", "sensor")),
        None => row.store_name.clone(),
    };
    let ack_line = (row.status != AlertStatus::Open).then(|| {
        let by = row.acknowledged_by.clone().map(|who| {
            format!(
                "{} {who}{}",
                l.pick("Prise en compte par", "Acknowledged by"),
                row.acknowledged_at
                    .as_ref()
                    .map(|t| format!(" {} {}", l.pick("le", "on"), crate::format::date_time(t, l)))
                    .unwrap_or_default(),
            )
        });
        let resolved = row
            .resolved_at
            .as_ref()
            .map(|t| format!("{} {}", l.pick("Résolue le", "Resolved on"), crate::format::date_time(t, l)));
        view! {
            {by.map(|t| view! { <p class="ack-by">{t}</p> })}
            {row.comment.clone().filter(|c| !c.is_empty()).map(|c| view! { <blockquote class="ack-comment">{c}</blockquote> })}
            {resolved.map(|t| view! { <p class="muted resolved-at">{t}</p> })}
        }
    });
    let may_ack = can_act && row.status == AlertStatus::Open;
    let store_id = row.store_id;
    let sensor_id = row.sensor_id;
    let sensor_scope = RwSignal::new(sensor_id.is_some());
    let from = RwSignal::new(now.clone());
    let to = RwSignal::new(later(&now, 24));
    let weekly = RwSignal::new(false);
    // The recurrence's days (0 = Monday): the start's weekday when "every week" is ticked.
    let days = RwSignal::new(vec![weekday_of(&now)]);
    let reason = RwSignal::new(String::new());
    let actions = can_act.then(|| {
        view! {
            <div class="alert-actions">
                {may_ack.then(|| view! {
                    <button
                        type="button"
                        class="ack-open"
                        aria-expanded=move || (open.get() == Some("ack")).to_string()
                        on:click=move |_| { message.set(None); open.update(|o| *o = if *o == Some("ack") { None } else { Some("ack") }); }
                    >
                        {l.pick("Prendre en compte", "Acknowledge")}
                    </button>
                })}
                <button
                    type="button"
                    class="silence-open link-button"
                    aria-expanded=move || (open.get() == Some("silence")).to_string()
                    on:click=move |_| { message.set(None); open.update(|o| *o = if *o == Some("silence") { None } else { Some("silence") }); }
                >
                    {l.pick("Mettre en silence", "Silence")}
                </button>
            </div>
            {move || (open.get() == Some("ack")).then(|| view! {
                <form
                    class="ack-form"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        ack.dispatch((id, comment.get_untracked()));
                    }
                >
                    <label>
                        {l.pick("Commentaire (obligatoire : ce qui est fait, par qui)", "Comment (required: what is being done, by whom)")}
                        <textarea
                            class="ack-comment-input"
                            required
                            maxlength="500"
                            rows="2"
                            prop:value=move || comment.get()
                            on:input=move |ev| comment.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    <button type="submit" class="ack-submit" disabled=move || ack.pending().get()>
                        {l.pick("Confirmer la prise en compte", "Confirm the acknowledgement")}
                    </button>
                </form>
            })}
            {move || (open.get() == Some("silence")).then(|| view! {
                <form
                    class="silence-form"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let sensor = if sensor_scope.get_untracked() { sensor_id } else { None };
                        let recurring = if weekly.get_untracked() { days.get_untracked() } else { Vec::new() };
                        silence.dispatch((store_id, sensor, from.get_untracked(), to.get_untracked(), recurring, reason.get_untracked()));
                    }
                >
                    {sensor_id.map(|s| view! {
                        <fieldset class="silence-scope">
                            <legend>{l.pick("Portée", "Scope")}</legend>
                            <label class="inline-check">
                                <input type="radio" name=format!("scope-{id}") value="sensor" prop:checked=move || sensor_scope.get() on:change=move |_| sensor_scope.set(true) />
                                {format!("{} {s}", l.pick("ce capteur :", "this sensor:"))}
                            </label>
                            <label class="inline-check">
                                <input type="radio" name=format!("scope-{id}") value="store" class="scope-store" prop:checked=move || !sensor_scope.get() on:change=move |_| sensor_scope.set(false) />
                                {l.pick("tout le magasin", "the whole store")}
                            </label>
                        </fieldset>
                    })}
                    <div class="silence-fields">
                        <label>
                            {l.pick("Début (heure de Paris)", "Start (Paris time)")}
                            <input type="datetime-local" class="silence-from" required prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev)) />
                        </label>
                        <label>
                            {l.pick("Fin", "End")}
                            <input type="datetime-local" class="silence-to" required prop:value=move || to.get() on:input=move |ev| to.set(event_target_value(&ev)) />
                        </label>
                        <label class="inline-check">
                            <input
                                type="checkbox"
                                class="silence-weekly"
                                prop:checked=move || weekly.get()
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    // The start's weekday, as the start now reads.
                                    if on {
                                        days.set(vec![weekday_of(&from.get_untracked())]);
                                    }
                                    weekly.set(on);
                                }
                            />
                            {l.pick("Chaque semaine", "Every week")}
                        </label>
                    </div>
                    {move || weekly.get().then(|| view! {
                        <fieldset class="silence-days">
                            <legend>
                                {l.pick(
                                    "Jours : de l'heure de début à l'heure de fin, chaque jour coché, du premier au dernier jour",
                                    "Days: from the start's hour to the end's hour, each ticked day, from the first day to the last",
                                )}
                            </legend>
                            {(0..7u32)
                                .map(|d| view! {
                                    <label class="inline-check">
                                        <input
                                            type="checkbox"
                                            class="silence-day"
                                            value=d.to_string()
                                            prop:checked=move || days.with(|v| v.contains(&d))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                days.update(|v| {
                                                    v.retain(|x| *x != d);
                                                    if on {
                                                        v.push(d);
                                                    }
                                                });
                                            }
                                        />
                                        {weekday_name(d, l)}
                                    </label>
                                })
                                .collect_view()}
                        </fieldset>
                    })}
                    <label>
                        {l.pick("Raison", "Reason")}
                        <input type="text" class="silence-reason" required maxlength="500" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="silence-submit" disabled=move || silence.pending().get()>
                        {l.pick("Enregistrer le silence", "Save the silence")}
                    </button>
                </form>
            })}
        }
    });
    view! {
        <li
            class=format!("alert state-{}", row.status.key())
            data-alert-id=id.to_string()
            data-rule=row.rule.key()
            data-severity=row.severity.key()
            data-state=row.status.key()
            data-store=row.store_id.to_string()
        >
            <p class="alert-head">
                <span class=severity_class>{row.severity.label(l)}</span>
                <strong class="alert-what">{row.rule.label(l)}</strong>
                <span class=format!("state {}", row.status.key())>{row.status.label(l)}</span>
            </p>
            <p class="alert-where">{place}</p>
            <p class="alert-when muted">{since_text(&row, l)}</p>
            {figures_text(&row, l).map(|t| view! { <p class="alert-figures">{t}</p> })}
            {ack_line}
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            {actions}
        </li>
    }
}
