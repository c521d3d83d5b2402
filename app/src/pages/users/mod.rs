//! `/users` (admins): the accounts — add one, change its role and stores, disable it,
//! reset its password — and the audit log's newest lines, with the whole log as CSV
//! (`/admin/audit.csv`).

#[cfg(feature = "ssr")]
mod server;
pub mod server_fns;

use leptos::prelude::*;
use pipeline::access::Role;

use crate::i18n::{use_lang, Lang};
use crate::load_failed::AdminLoadFailed;
use crate::pages::login::error_text;
use crate::wire::{LoadError, StoreInfo, UserRow, UsersView};
use server_fns::{add_user, get_users_view, reset_password, set_user};

/// The outcome of a form: an error message, or a confirmation.
fn outcome(
    result: Result<Option<String>, LoadError>,
    done: &'static str,
    l: Lang,
) -> (bool, String) {
    match result {
        Ok(None) => (true, done.to_string()),
        Ok(Some(code)) => (false, error_text(&code, None, l)),
        Err(_) => (
            false,
            l.pick("L'enregistrement a échoué.", "Saving failed.")
                .to_string(),
        ),
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let lang = use_lang();
    let version = RwSignal::new(0u32);
    let view_data = Resource::new(move || version.get(), |_| get_users_view());
    // Kept here: the list below is drawn again when an account is added.
    let added = RwSignal::new(None::<(bool, String)>);
    view! {
        <crate::nav::Page class="page users" lang>
            <h1>{move || lang.get().pick("Utilisateurs", "Users")}</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(data) => view! { <UsersView data lang version added /> }.into_any(),
                        Err(error) => view! {
                            <AdminLoadFailed error lang failed=(
                                "Les comptes n'ont pas pu être lus. Réessayez dans un instant.",
                                "The accounts could not be read. Try again in a moment.",
                            ) />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </crate::nav::Page>
    }
}

#[component]
fn UsersView(
    data: UsersView,
    lang: Memo<Lang>,
    version: RwSignal<u32>,
    added: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let stores = data.stores.clone();
    view! {
        <AddUser stores=stores.clone() lang version message=added />
        <section class="card" id="users">
            <h2>{move || lang.get().pick("Comptes", "Accounts")}</h2>
            <ul class="user-list">
                {data
                    .users
                    .into_iter()
                    .map(|u| view! { <UserEditor user=u stores=stores.clone() lang /> })
                    .collect_view()}
            </ul>
        </section>
        <section class="card" id="audit">
            <h2>{move || lang.get().pick("Journal d'audit", "Audit log")}</h2>
            <p>
                <a href="/admin/audit.csv" rel="external" id="audit-export">
                    {move || lang.get().pick("Exporter tout le journal (CSV)", "Export the whole log (CSV)")}
                </a>
            </p>
            <div class="table-scroll">
                <table class="data" id="audit-log">
                    <thead>
                        <tr>
                            <th>{move || lang.get().pick("Quand (UTC)", "When (UTC)")}</th>
                            <th>{move || lang.get().pick("Qui", "Who")}</th>
                            <th>{move || lang.get().pick("Adresse", "Address")}</th>
                            <th>{move || lang.get().pick("Action", "Action")}</th>
                            <th>{move || lang.get().pick("Détail", "Detail")}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {data
                            .audit
                            .into_iter()
                            .map(|a| {
                                view! {
                                    <tr>
                                        <td>{a.at}</td>
                                        <td>{a.username}</td>
                                        <td>{a.address}</td>
                                        <td>{a.action}</td>
                                        <td>{a.detail}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// A role choice.
#[component]
fn RoleSelect(role: RwSignal<Role>, lang: Memo<Lang>, id: String) -> impl IntoView {
    view! {
        <select
            id=id
            on:change=move |ev| {
                if let Some(r) = Role::from_code(&event_target_value(&ev)) {
                    role.set(r);
                }
            }
        >
            {Role::ALL
                .into_iter()
                .map(|r| {
                    view! {
                        <option value=r.code() selected=move || role.get() == r>
                            {move || r.label(lang.get())}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// A manager's stores, as check boxes (shown for managers only).
#[component]
fn StoreChoice(
    stores: Vec<StoreInfo>,
    chosen: RwSignal<Vec<u32>>,
    role: RwSignal<Role>,
    lang: Memo<Lang>,
) -> impl IntoView {
    view! {
        <fieldset class="store-choice" class:hidden=move || role.get() != Role::Manager>
            <legend>{move || lang.get().pick("Magasins", "Stores")}</legend>
            {stores
                .into_iter()
                .map(|s| {
                    let id = s.store_id;
                    view! {
                        <label>
                            <input
                                type="checkbox"
                                value=id.to_string()
                                prop:checked=move || chosen.get().contains(&id)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| *x != id);
                                        if on {
                                            c.push(id);
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
    }
}

#[component]
fn AddUser(
    stores: Vec<StoreInfo>,
    lang: Memo<Lang>,
    version: RwSignal<u32>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Manager);
    let chosen = RwSignal::new(Vec::<u32>::new());
    let add = Action::new(move |(u, r, s, p): &(String, Role, Vec<u32>, String)| {
        add_user(u.clone(), r.code().to_string(), s.clone(), p.clone())
    });
    Effect::new(move |_| {
        if let Some(result) = add.value().get() {
            let l = lang.get_untracked();
            let (ok, text) = outcome(result, l.pick("Compte créé.", "Account created."), l);
            message.set(Some((ok, text)));
            if ok {
                version.update(|v| *v += 1);
            }
        }
    });
    view! {
        <form
            class="card auth-form wide"
            id="add-user"
            on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch((username.get_untracked(), role.get_untracked(), chosen.get_untracked(), password.get_untracked()));
            }
        >
            <h2>{move || lang.get().pick("Ajouter un compte", "Add an account")}</h2>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "note" } else { "error" } role="status" id="add-user-message">{text}</p>
            })}
            <label>
                {move || lang.get().pick("Identifiant", "Username")}
                <input type="text" id="new-username" required prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev)) />
            </label>
            <label>
                {move || lang.get().pick("Rôle", "Role")}
                <RoleSelect role lang id="new-role".to_string() />
            </label>
            <StoreChoice stores role chosen lang />
            <label>
                {move || lang.get().pick("Mot de passe initial (10 caractères au moins)", "First password (at least 10 characters)")}
                <input type="password" id="new-password" autocomplete="new-password" minlength="10" required prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
            </label>
            <button type="submit" id="add-user-submit">{move || lang.get().pick("Ajouter", "Add")}</button>
        </form>
    }
}

#[component]
fn UserEditor(user: UserRow, stores: Vec<StoreInfo>, lang: Memo<Lang>) -> impl IntoView {
    let name = user.username.clone();
    let role = RwSignal::new(user.role);
    let chosen = RwSignal::new(user.stores.clone());
    let disabled = RwSignal::new(user.disabled);
    let new_password = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let save = Action::new(move |(u, r, s, d): &(String, Role, Vec<u32>, bool)| {
        set_user(u.clone(), r.code().to_string(), s.clone(), *d)
    });
    let reset = Action::new(move |(u, p): &(String, String)| reset_password(u.clone(), p.clone()));
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            let l = lang.get_untracked();
            message.set(Some(outcome(result, l.pick("Enregistré.", "Saved."), l)));
        }
    });
    Effect::new(move |_| {
        if let Some(result) = reset.value().get() {
            let l = lang.get_untracked();
            let (ok, text) = outcome(
                result,
                l.pick(
                    "Mot de passe remplacé ; ses sessions sont fermées.",
                    "Password replaced; its sessions are closed.",
                ),
                l,
            );
            if ok {
                new_password.set(String::new());
            }
            message.set(Some((ok, text)));
        }
    });
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    view! {
        <li class="user" class:disabled=move || disabled.get() data-user=name.clone()>
            <p class="user-head">
                <strong>{name.clone()}</strong>
                <span class="muted">{format!(" · {}", user.created)}</span>
            </p>
            {move || message.get().map(|(ok, text)| view! {
                <p class=if ok { "note" } else { "error" } role="status">{text}</p>
            })}
            <div class="user-fields">
                <label>
                    {move || lang.get().pick("Rôle", "Role")}
                    <RoleSelect role lang id=format!("role-{n1}") />
                </label>
                <label class="inline-check">
                    <input type="checkbox" prop:checked=move || disabled.get() on:change=move |ev| disabled.set(event_target_checked(&ev)) />
                    {move || lang.get().pick("Désactivé", "Disabled")}
                </label>
                <button
                    type="button"
                    class="save-user"
                    on:click=move |_| {
                        save.dispatch((n2.clone(), role.get_untracked(), chosen.get_untracked(), disabled.get_untracked()));
                    }
                >
                    {move || lang.get().pick("Enregistrer", "Save")}
                </button>
            </div>
            <StoreChoice stores role chosen lang />
            <div class="user-fields">
                <label>
                    {move || lang.get().pick("Nouveau mot de passe", "New password")}
                    <input type="password" autocomplete="new-password" minlength="10" prop:value=move || new_password.get() on:input=move |ev| new_password.set(event_target_value(&ev)) />
                </label>
                <button
                    type="button"
                    class="link-button reset-password"
                    on:click=move |_| {
                        reset.dispatch((n3.clone(), new_password.get_untracked()));
                    }
                >
                    {move || lang.get().pick("Réinitialiser le mot de passe", "Reset the password")}
                </button>
            </div>
        </li>
    }
}
