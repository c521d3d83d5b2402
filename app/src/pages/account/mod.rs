//! `/account`: who one is (name, role, stores), changing one's password (a plain form
//! posting to `POST /account/password`), and one's personal tokens for tools such as
//! Excel or Power BI refreshing an export URL (created, listed and revoked through the
//! server functions; a token's value is shown once).

#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pipeline::access::{AccessMode, Visitor};

use crate::access::get_access;
use crate::i18n::{use_lang, Lang};
use crate::pages::login::{error_text, NewPasswordFields};
use server_fns::{create_token, list_tokens, revoke_token};

#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = use_lang();
    let access = Resource::new(|| (), |_| get_access());
    view! {
        <crate::nav::Page class="page narrow" lang>
            <h1>{move || lang.get().pick("Mon compte", "My account")}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match access.await.map(|a| a.visitor) {
                        Ok(Visitor::Known(v)) if v.mode == AccessMode::SignedIn => {
                            let name = v.name.clone().unwrap_or_default();
                            let role = v.role;
                            let stores = match v.scope.limited_to() {
                                None => None,
                                Some(s) => Some(
                                    s.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                                ),
                            };
                            view! {
                                <section class="card" id="who">
                                    <p>
                                        <strong id="account-name">{name}</strong>
                                        " · "
                                        <span id="account-role">{move || role.label(lang.get())}</span>
                                    </p>
                                    <p class="muted" id="account-stores">
                                        {move || match &stores {
                                            None => lang.get().pick("Tous les magasins", "Every store").to_string(),
                                            Some(s) => format!("{} {s}", lang.get().pick("Magasins :", "Stores:")),
                                        }}
                                    </p>
                                </section>
                                <PasswordForm lang />
                                <Tokens lang />
                            }
                                .into_any()
                        }
                        _ => view! {
                            <p class="note" id="no-account">
                                {move || {
                                    lang.get()
                                        .pick(
                                            "Vous n'êtes pas connecté avec un compte : rien à gérer ici.",
                                            "You are not signed in with an account: nothing to manage here.",
                                        )
                                }}
                            </p>
                        }
                            .into_any(),
                    }
                })}
            </Suspense>
        </crate::nav::Page>
    }
}

#[component]
fn PasswordForm(lang: Memo<Lang>) -> impl IntoView {
    let q = use_query_map();
    let changed = Memo::new(move |_| q.read().get("changed").is_some());
    let error = Memo::new(move |_| q.read().get("error").unwrap_or_default());
    view! {
        <form method="post" action="/account/password" class="card auth-form" id="password-form">
            <h2>{move || lang.get().pick("Changer de mot de passe", "Change password")}</h2>
            {move || {
                changed
                    .get()
                    .then(|| {
                        view! {
                            <p class="note" role="status" id="password-changed">
                                {move || {
                                    lang.get()
                                        .pick(
                                            "Mot de passe changé. Vos autres sessions sont fermées.",
                                            "Password changed. Your other sessions are closed.",
                                        )
                                }}
                            </p>
                        }
                    })
            }}
            {move || {
                let code = error.get();
                (!code.is_empty())
                    .then(|| {
                        view! {
                            <p class="error" role="alert" id="form-error">
                                {error_text(&code, None, lang.get())}
                            </p>
                        }
                    })
            }}
            <label>
                {move || lang.get().pick("Mot de passe actuel", "Current password")}
                <input type="password" name="current" autocomplete="current-password" required />
            </label>
            <NewPasswordFields lang />
            <input type="hidden" name="lang" value=move || lang.get().code() />
            <button type="submit" id="change-password">{move || lang.get().pick("Changer", "Change")}</button>
        </form>
    }
}

#[component]
fn Tokens(lang: Memo<Lang>) -> impl IntoView {
    let version = RwSignal::new(0u32);
    let tokens = Resource::new(move || version.get(), |_| list_tokens());
    let label = RwSignal::new(String::new());
    let created = RwSignal::new(None::<String>);
    let create = Action::new(move |(l, d): &(String, u32)| create_token(l.clone(), *d));
    let revoke = Action::new(move |id: &i64| revoke_token(*id));
    Effect::new(move |_| {
        if let Some(result) = create.value().get() {
            created.set(result.ok());
            version.update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        if revoke.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    view! {
        <section class="card" id="tokens">
            <h2>{move || lang.get().pick("Jetons personnels", "Personal tokens")}</h2>
            <p class="muted">
                {move || {
                    lang.get()
                        .pick(
                            "Pour qu'Excel ou Power BI actualisent un export : ajoutez « &access_token=<jeton> » à l'adresse de l'export. Le jeton voit vos magasins, pas plus.",
                            "For Excel or Power BI to refresh an export: add \"&access_token=<token>\" to the export's address. The token sees your stores, no more.",
                        )
                }}
            </p>
            {move || {
                created
                    .get()
                    .map(|t| {
                        view! {
                            <p class="note" role="status">
                                {move || lang.get().pick("Copiez-le maintenant, il ne sera plus affiché :", "Copy it now, it will not be shown again:")}
                                " "
                                <code id="new-token">{t}</code>
                            </p>
                        }
                    })
            }}
            <form
                class="inline-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create.dispatch((label.get_untracked(), 90));
                }
            >
                <label>
                    {move || lang.get().pick("Usage", "Purpose")}
                    <input
                        type="text"
                        id="token-label"
                        maxlength="60"
                        placeholder="Excel"
                        prop:value=move || label.get()
                        on:input=move |ev| label.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" id="create-token">
                    {move || lang.get().pick("Créer un jeton (90 jours)", "Create a token (90 days)")}
                </button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let rows = tokens.await.unwrap_or_default();
                    view! {
                        <table class="data" id="token-list">
                            <thead>
                                <tr>
                                    <th>{move || lang.get().pick("Usage", "Purpose")}</th>
                                    <th>{move || lang.get().pick("Créé", "Created")}</th>
                                    <th>{move || lang.get().pick("Expire", "Expires")}</th>
                                    <th>{move || lang.get().pick("Dernier usage", "Last used")}</th>
                                    <th></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|t| {
                                        let id = t.id;
                                        view! {
                                            <tr class:revoked=t.revoked>
                                                <td>{t.label}</td>
                                                <td>{t.created}</td>
                                                <td>{t.expires}</td>
                                                <td>{t.last_used.unwrap_or_else(|| "—".into())}</td>
                                                <td>
                                                    {(!t.revoked)
                                                        .then(|| {
                                                            view! {
                                                                <button
                                                                    type="button"
                                                                    class="link-button revoke"
                                                                    on:click=move |_| {
                                                                        revoke.dispatch(id);
                                                                    }
                                                                >
                                                                    {move || lang.get().pick("Révoquer", "Revoke")}
                                                                </button>
                                                            }
                                                        })}
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                })}
            </Suspense>
        </section>
    }
}
