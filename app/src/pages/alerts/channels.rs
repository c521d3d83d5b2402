//! `/alerts/channels` (admins): where alerts are delivered — list, add (webhook, Slack,
//! e-mail; every store or some), disable, "send a test" with what the receiver answered —
//! and the deliveries that failed or wait for a retry (status, attempts, last error).

use leptos::prelude::*;

use super::row::form_message;
use super::server_fns::{add_channel, disable_channel, get_channels, test_channel};
use crate::i18n::{use_lang, Lang};
use crate::load_failed::AdminLoadFailed;
use crate::wire::{ChannelsView, DeliveryRow, StoreInfo};
use pipeline::access::StoreScope;
use pipeline::alerts::channel::{Channel, ChannelKind};

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let lang = use_lang();
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| get_channels());
    // Kept here: the page is drawn again when a channel is added (its secret shows once).
    let added = AddedNote {
        message: RwSignal::new(None),
        secret: RwSignal::new(None),
    };
    view! {
        <crate::nav::Page class="page alerts channels" lang>
            <h1>{move || lang.get().pick("Canaux de livraison des alertes", "Alert delivery channels")}</h1>
            <p>
                <a href=crate::i18n::localized(lang, "/alerts") id="back-to-alerts">
                    {move || lang.get().pick("← Retour aux alertes", "← Back to the alerts")}
                </a>
            </p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <ChannelsBody data=d lang version added /> }.into_any(),
                        Err(error) => view! {
                            <AdminLoadFailed error lang failed=(
                                "Les canaux n'ont pas pu être lus. Réessayez dans un instant.",
                                "The channels could not be read. Try again in a moment.",
                            ) />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </crate::nav::Page>
    }
}

/// What adding a channel said: a confirmation or an error, and a new webhook's secret.
#[derive(Debug, Clone, Copy)]
struct AddedNote {
    message: RwSignal<Option<(bool, String)>>,
    secret: RwSignal<Option<String>>,
}

#[component]
fn ChannelsBody(
    data: ChannelsView,
    lang: Memo<Lang>,
    version: RwSignal<u32>,
    added: AddedNote,
) -> impl IntoView {
    let l = lang.get_untracked();
    let names = StoredValue::new(data.stores.clone());
    let list = if data.channels.is_empty() {
        view! { <p class="muted" id="no-channels">{l.pick("Aucun canal : les alertes ne sont envoyées nulle part.", "No channel: alerts are sent nowhere.")}</p> }
            .into_any()
    } else {
        view! {
            <ul class="channel-list" id="channel-list">
                {data
                    .channels
                    .into_iter()
                    .map(|c| view! { <ChannelItem channel=c stores=names.get_value() lang=l version /> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <AddChannel stores=data.stores.clone() lang=l version added />
        <section class="card" id="channels">
            <h2>{l.pick("Canaux", "Channels")}</h2>
            <p class="muted">
                {l.pick(
                    "Chaque canal ne reçoit que les alertes de ses magasins, regroupées en un message par magasin et par passage de la détection.",
                    "Each channel gets only its stores' alerts, grouped into one message per store and per detection run.",
                )}
            </p>
            {list}
        </section>
        <Deliveries rows=data.deliveries lang=l />
    }
}

fn stores_text(scope: &StoreScope, stores: &[StoreInfo], l: Lang) -> String {
    let Some(ids) = scope.limited_to() else {
        return l.pick("tous les magasins", "every store").to_string();
    };
    ids.iter()
        .map(|id| {
            stores
                .iter()
                .find(|s| s.store_id == *id)
                .map(|s| s.city_store.clone())
                .unwrap_or_else(|| id.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn ChannelItem(
    channel: Channel,
    stores: Vec<StoreInfo>,
    lang: Lang,
    version: RwSignal<u32>,
) -> impl IntoView {
    let l = lang;
    let id = channel.id;
    let test = Action::new(move |id: &i64| test_channel(*id));
    let disable = Action::new(move |id: &i64| disable_channel(*id));
    let message = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(r) = disable.value().get() {
            match form_message(&r, l) {
                None => version.update(|v| *v += 1),
                Some(m) => message.set(Some(m)),
            }
        }
    });
    let outcome = move || {
        test.value().get().map(|r| match r {
            Ok(o) => view! {
                <p class=if o.ok { "test-result ok" } else { "test-result failed" } role="status" data-ok=o.ok.to_string() data-status=o.status.key()>
                    {if o.ok {
                        l.pick("Test envoyé : le destinataire l'a accepté.", "Test sent: the receiver accepted it.").to_string()
                    } else {
                        format!("{} ({}) ", l.pick("Le test a échoué", "The test failed"), o.status.label(l))
                    }}
                    {(!o.detail.is_empty()).then(|| view! { <code>{o.detail}</code> })}
                </p>
            }
            .into_any(),
            Err(e) => view! {
                <p class="test-result failed error" role="status" data-ok="false">
                    {form_message(&Err(e), l).unwrap_or_default()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <li class="channel" class:disabled=!channel.enabled data-channel-id=id.to_string() data-kind=channel.kind.key() data-name=channel.name.clone()>
            <p class="channel-head">
                <strong>{channel.name.clone()}</strong>
                <span class="muted">{format!(" · {} · ", channel.kind.label(l))}</span>
                <code class="channel-target">{channel.target.clone()}</code>
            </p>
            <p class="muted">
                {format!("{} {}", l.pick("Magasins :", "Stores:"), stores_text(&channel.scope, &stores, l))}
                {channel.secret_hint.clone().map(|h| format!(" · {} {h}", l.pick("secret de signature", "signing secret")))}
                {(!channel.enabled).then(|| format!(" · {}", l.pick("désactivé", "disabled")))}
            </p>
            {channel.enabled.then(|| view! {
                <div class="channel-actions">
                    <button type="button" class="test-channel" disabled=move || test.pending().get() on:click=move |_| { test.dispatch(id); }>
                        {move || if test.pending().get() { l.pick("Envoi…", "Sending…") } else { l.pick("Envoyer un test", "Send a test") }}
                    </button>
                    <button type="button" class="link-button disable-channel" on:click=move |_| { disable.dispatch(id); }>
                        {l.pick("Désactiver", "Disable")}
                    </button>
                </div>
            })}
            {outcome}
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </li>
    }
}

#[component]
fn AddChannel(
    stores: Vec<StoreInfo>,
    lang: Lang,
    version: RwSignal<u32>,
    added: AddedNote,
) -> impl IntoView {
    let l = lang;
    let kind = RwSignal::new(ChannelKind::Webhook);
    let label = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<u32>::new());
    let AddedNote { message, secret } = added;
    let add = Action::new(
        move |(k, n, t, s): &(ChannelKind, String, String, Vec<u32>)| {
            add_channel(
                k.key().to_string(),
                n.clone(),
                t.clone(),
                s.clone(),
                l.code().to_string(),
            )
        },
    );
    Effect::new(move |_| {
        if let Some(r) = add.value().get() {
            let (code, new_secret) = match r {
                Ok(a) => (Ok(a.error), a.secret),
                Err(e) => (Err(e), None),
            };
            match form_message(&code, l) {
                None => {
                    message.set(Some((
                        true,
                        l.pick("Canal ajouté.", "Channel added.").to_string(),
                    )));
                    secret.set(new_secret);
                    label.set(String::new());
                    target.set(String::new());
                    chosen.set(Vec::new());
                    version.update(|v| *v += 1);
                }
                Some(m) => message.set(Some((false, m))),
            }
        }
    });
    let placeholder = move || match kind.get() {
        ChannelKind::Email => "alertes@example.com",
        ChannelKind::Slack => "https://hooks.slack.com/services/…",
        ChannelKind::Webhook => "https://example.com/datamag360-webhook",
    };
    view! {
        <form
            class="card channel-form"
            id="add-channel"
            on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch((kind.get_untracked(), label.get_untracked(), target.get_untracked(), chosen.get_untracked()));
            }
        >
            <h2>{l.pick("Ajouter un canal", "Add a channel")}</h2>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "note" } else { "error" } role="status" id="add-channel-message">{text}</p>
            })}
            {move || secret.get().map(|s| view! {
                <p class="note" id="new-secret">
                    {l.pick(
                        "Secret de signature du webhook, affiché une seule fois : donnez-le au destinataire pour vérifier les signatures.",
                        "The webhook's signing secret, shown once: give it to the receiver to check the signatures.",
                    )}
                    " "
                    <code>{s}</code>
                </p>
            })}
            <div class="channel-fields">
                <label>
                    {l.pick("Type", "Kind")}
                    <select id="channel-kind" on:change=move |ev| {
                        if let Some(k) = ChannelKind::from_key(&event_target_value(&ev)) {
                            kind.set(k);
                        }
                    }>
                        {ChannelKind::ALL
                            .into_iter()
                            .map(|k| view! { <option value=k.key() selected=move || kind.get() == k>{k.label(l)}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {l.pick("Nom", "Name")}
                    <input type="text" id="channel-label" required maxlength="80" prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                </label>
                <label class="wide">
                    {move || if kind.get() == ChannelKind::Email { l.pick("Adresse e-mail", "E-mail address") } else { l.pick("URL", "URL") }}
                    <input type="text" id="channel-target" required placeholder=placeholder prop:value=move || target.get() on:input=move |ev| target.set(event_target_value(&ev)) />
                </label>
            </div>
            <fieldset class="store-choice">
                <legend>{l.pick("Magasins (aucun coché : tous)", "Stores (none ticked: every store)")}</legend>
                {stores
                    .into_iter()
                    .map(|s| {
                        let sid = s.store_id;
                        view! {
                            <label>
                                <input
                                    type="checkbox"
                                    value=sid.to_string()
                                    prop:checked=move || chosen.with(|c| c.contains(&sid))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|x| *x != sid);
                                            if on {
                                                c.push(sid);
                                            }
                                        });
                                    }
                                />
                                {s.city_store}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="submit" id="add-channel-submit" disabled=move || add.pending().get()>{l.pick("Ajouter", "Add")}</button>
        </form>
    }
}

#[component]
fn Deliveries(rows: Vec<DeliveryRow>, lang: Lang) -> impl IntoView {
    let l = lang;
    let body = if rows.is_empty() {
        view! { <p class="muted" id="no-failed-deliveries">{l.pick("Aucun envoi en échec ni en attente.", "No failed or pending delivery.")}</p> }
            .into_any()
    } else {
        view! {
            <div class="table-scroll">
                <table class="data" id="delivery-table">
                    <thead>
                        <tr>
                            <th>{l.pick("Créé (Paris)", "Created (Paris)")}</th>
                            <th>{l.pick("Canal", "Channel")}</th>
                            <th>{l.pick("Magasin", "Store")}</th>
                            <th>{l.pick("Statut", "Status")}</th>
                            <th class="num">{l.pick("Essais", "Attempts")}</th>
                            <th>{l.pick("Dernière erreur", "Last error")}</th>
                            <th>{l.pick("Prochain essai", "Next attempt")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|d| {
                                let store = if d.test {
                                    l.pick("(test)", "(test)").to_string()
                                } else {
                                    d.store_name.unwrap_or_default()
                                };
                                view! {
                                    <tr class=format!("delivery {}", d.status.key()) data-delivery-id=d.id.to_string() data-status=d.status.key()>
                                        <td>{crate::format::date_time(&d.created, l)}</td>
                                        <td>{d.channel}</td>
                                        <td>{store}</td>
                                        <td class=format!("status {}", d.status.key())>{d.status.label(l)}</td>
                                        <td class="num">{d.attempts}</td>
                                        <td class="error-text">{d.last_error.unwrap_or_default()}</td>
                                        <td>{d.next_attempt.map(|t| crate::format::date_time(&t, l)).unwrap_or_default()}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" id="deliveries">
            <h2>{l.pick("Envois en échec ou en attente", "Failed or pending deliveries")}</h2>
            {body}
        </section>
    }
}
