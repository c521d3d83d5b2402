//! `/login`: the sign-in form, and `/setup`: the first admin through the one-time link.
//! Plain HTML forms posting to the server (`POST /login`, `POST /setup`), which answer
//! with a redirect: they work without JavaScript. Errors come back in the URL
//! (`?error=…`) and are worded here.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use pipeline::access::Visitor;

use crate::access::get_access;
use crate::i18n::{use_lang, Lang};

/// What an `error` code of a form (sign-in, set-up, account, users) means, in the page's
/// language.
pub fn error_text(code: &str, wait: Option<i64>, l: Lang) -> String {
    match code {
        "invalid" => l
            .pick(
                "Identifiant ou mot de passe incorrect.",
                "Wrong username or password.",
            )
            .into(),
        "locked" => {
            let wait = wait.unwrap_or(0).max(1);
            let (n, fr, en) = if wait >= 90 {
                ((wait + 59) / 60, "min", "min")
            } else {
                (wait, "s", "s")
            };
            match l {
                Lang::Fr => format!("Trop d'échecs de connexion : réessayez dans {n} {fr}."),
                Lang::En => format!("Too many failed sign-ins: try again in {n} {en}."),
            }
        }
        "link" => l
            .pick(
                "Ce lien de création n'est pas valide ou a déjà servi. Redémarrez le serveur pour en obtenir un nouveau dans son journal.",
                "This set-up link is not valid or was already used. Restart the server to get a new one in its log.",
            )
            .into(),
        "username" => l
            .pick(
                "Choisissez un identifiant sans espace, de 64 caractères au plus.",
                "Choose a username without spaces, at most 64 characters.",
            )
            .into(),
        "mismatch" => l
            .pick(
                "Les deux mots de passe ne sont pas identiques.",
                "The two passwords differ.",
            )
            .into(),
        "short" => l
            .pick(
                "Mot de passe trop court : au moins 10 caractères.",
                "Password too short: at least 10 characters.",
            )
            .into(),
        "current" => l
            .pick(
                "Le mot de passe actuel est incorrect.",
                "The current password is wrong.",
            )
            .into(),
        "taken" => l
            .pick("Cet identifiant existe déjà.", "This username already exists.")
            .into(),
        "unknown" => l
            .pick("Ce compte n'existe plus.", "This account no longer exists.")
            .into(),
        "role" => l.pick("Rôle inconnu.", "Unknown role.").into(),
        "disabled" => l
            .pick(
                "Ce compte est désactivé. Adressez-vous à un administrateur.",
                "This account is disabled. Ask an administrator.",
            )
            .into(),
        "sso_off" => l
            .pick(
                "L'authentification unique n'est pas configurée sur ce serveur : connectez-vous avec votre identifiant et votre mot de passe.",
                "Single sign-on is not configured on this server: sign in with your username and password.",
            )
            .into(),
        "sso_unreachable" => l
            .pick(
                "Le fournisseur d'identité est injoignable pour l'instant. Réessayez dans un instant, ou connectez-vous avec un mot de passe.",
                "The identity provider cannot be reached right now. Try again in a moment, or sign in with a password.",
            )
            .into(),
        "sso_denied" => l
            .pick(
                "Connexion annulée : le fournisseur d'identité n'a pas donné son accord (refusé ou annulé chez lui).",
                "Sign-in cancelled: the identity provider did not give its consent (refused or cancelled there).",
            )
            .into(),
        "sso_provider" => l
            .pick(
                "Le fournisseur d'identité a refusé la connexion.",
                "The identity provider refused the sign-in.",
            )
            .into(),
        "sso_state" => l
            .pick(
                "Cette connexion par authentification unique a expiré, a déjà servi ou a été commencée dans un autre navigateur. Recommencez depuis cette page.",
                "This single sign-on has expired, was already used or was begun in another browser. Start again from this page.",
            )
            .into(),
        "sso_token" => l
            .pick(
                "La réponse du fournisseur d'identité n'a pas pu être vérifiée : connexion refusée.",
                "The identity provider's answer could not be verified: sign-in refused.",
            )
            .into(),
        "sso_role" => l
            .pick(
                "Connexion refusée : votre compte chez le fournisseur d'identité n'a pas de rôle DataMag360 reconnu (admin, analyst ou manager). Demandez à votre administrateur de vous en attribuer un.",
                "Sign-in refused: your identity provider account has no DataMag360 role it recognises (admin, analyst or manager). Ask your administrator to assign one.",
            )
            .into(),
        "sso_no_stores" => l
            .pick(
                "Connexion refusée : un responsable de magasin doit avoir au moins un magasin, et votre compte chez le fournisseur d'identité n'en donne aucun.",
                "Sign-in refused: a store manager needs at least one store, and your identity provider account gives none.",
            )
            .into(),
        "sso_unknown_store" => l
            .pick(
                "Connexion refusée : votre compte chez le fournisseur d'identité nomme un magasin que la chaîne n'a pas.",
                "Sign-in refused: your identity provider account names a store the chain does not have.",
            )
            .into(),
        "sso_name" => l
            .pick(
                "Aucun identifiant libre n'a pu être donné à ce compte : un administrateur doit en libérer un.",
                "No free username could be given to this account: an administrator must free one.",
            )
            .into(),
        "self" => l
            .pick(
                "Vous ne pouvez pas retirer vos propres droits d'administrateur.",
                "You cannot remove your own admin rights.",
            )
            .into(),
        _ => l
            .pick(
                "Le service est indisponible. Réessayez dans un instant.",
                "The service is unavailable. Try again in a moment.",
            )
            .into(),
    }
}

fn query_value(key: &'static str) -> Memo<String> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(key).unwrap_or_default())
}

/// The message the form shows, if any.
#[component]
fn FormError(lang: Memo<Lang>) -> impl IntoView {
    let error = query_value("error");
    let wait = query_value("wait");
    // What the server named (the claim at fault, the provider's error code): shown as is.
    let detail = query_value("detail");
    move || {
        let code = error.get();
        (!code.is_empty()).then(|| {
            let detail = detail.get();
            view! {
                <p class="error" role="alert" id="form-error" data-code=code.clone()>
                    {error_text(&code, wait.get().parse().ok(), lang.get())}
                    {(!detail.is_empty())
                        .then(|| {
                            view! {
                                " "
                                <span class="error-detail">
                                    {move || lang.get().pick("Détail : ", "Detail: ")}
                                    <code>{detail.clone()}</code>
                                </span>
                            }
                        })}
                </p>
            }
        })
    }
}

/// The username field, refilled with what was typed after an error.
#[component]
fn UsernameField(lang: Memo<Lang>, user: Memo<String>) -> impl IntoView {
    view! {
        <label>
            {move || lang.get().pick("Identifiant", "Username")}
            <input type="text" name="username" autocomplete="username" required value=move || user.get() />
        </label>
    }
}

/// A new password typed twice (`password`, `confirm`): the set-up and account forms.
#[component]
pub fn NewPasswordFields(lang: Memo<Lang>) -> impl IntoView {
    view! {
        <label>
            {move || lang.get().pick("Nouveau mot de passe (10 caractères au moins)", "New password (at least 10 characters)")}
            <input type="password" name="password" autocomplete="new-password" minlength="10" required />
        </label>
        <label>
            {move || lang.get().pick("Confirmez le mot de passe", "Confirm the password")}
            <input type="password" name="confirm" autocomplete="new-password" minlength="10" required />
        </label>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let access = Resource::new(|| (), |_| get_access());
    let next = query_value("next");
    let user = query_value("user");
    let signed_out = query_value("signed_out");
    view! {
        <crate::nav::Page class="page narrow" lang>
            <h1>{move || lang.get().pick("Connexion", "Sign in")}</h1>
            {move || {
                (signed_out.get() == "1")
                    .then(|| {
                        view! {
                            <p class="note" role="status" id="signed-out">
                                {move || lang.get().pick("Vous êtes déconnecté.", "You are signed out.")}
                            </p>
                        }
                    })
            }}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let visitor = access.await.map(|a| a.visitor).unwrap_or(Visitor::Anonymous);
                    (visitor == Visitor::SetupNeeded)
                        .then(|| {
                            view! {
                                <div class="note setup-note" id="setup-note" role="status">
                                    <p>
                                        <strong>
                                            {move || lang.get().pick("Aucun compte n'existe encore.", "No account exists yet.")}
                                        </strong>
                                        " "
                                        {move || {
                                            lang.get()
                                                .pick(
                                                    "Ce serveur est joignable depuis le réseau : il ne montre aucun chiffre tant que le premier administrateur n'est pas créé. Ouvrez le lien à usage unique imprimé dans le journal du serveur au démarrage (ligne « setup_url= »), ou créez-le en ligne de commande :",
                                                    "This server is reachable from the network: it shows no figure until the first admin is created. Open the one-time link printed in the server's log at start-up (the \"setup_url=\" line), or create it from the command line:",
                                                )
                                        }}
                                    </p>
                                    <pre><code>"datamag360 user add NAME --role admin --password-stdin"</code></pre>
                                </div>
                            }
                        })
                })}
            </Suspense>
            <form method="post" action="/login" class="card auth-form" id="login-form">
                <FormError lang />
                <UsernameField lang user />
                <label>
                    {move || lang.get().pick("Mot de passe", "Password")}
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <input type="hidden" name="next" value=move || next.get() />
                <input type="hidden" name="lang" value=move || lang.get().code() />
                <button type="submit" id="sign-in">{move || lang.get().pick("Se connecter", "Sign in")}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let sso = access.await.is_ok_and(|a| a.sso);
                    sso.then(|| view! { <SsoChoice lang next /> })
                })}
            </Suspense>
        </crate::nav::Page>
    }
}

/// The single sign-on button (only when the server has SSO configured): a plain link to
/// `/auth/oidc/start`, which sends the browser to the identity provider.
#[component]
fn SsoChoice(lang: Memo<Lang>, next: Memo<String>) -> impl IntoView {
    let href = move || {
        let mut q = form_urlencoded::Serializer::new(String::new());
        let next = next.get();
        if !next.is_empty() {
            q.append_pair("next", &next);
        }
        if lang.get() == Lang::En {
            q.append_pair("lang", "en");
        }
        let q = q.finish();
        if q.is_empty() {
            "/auth/oidc/start".to_string()
        } else {
            format!("/auth/oidc/start?{q}")
        }
    };
    view! {
        <div class="sso-choice">
            <p class="sso-or">{move || lang.get().pick("ou", "or")}</p>
            <a class="sso-button" id="sso-sign-in" href=href rel="external">
                {move || lang.get().pick("Se connecter avec l'authentification unique", "Sign in with single sign-on")}
            </a>
        </div>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let lang = use_lang();
    let token = query_value("token");
    let user = query_value("user");
    view! {
        <crate::nav::Page class="page narrow" lang>
            <h1>{move || lang.get().pick("Premier administrateur", "First admin")}</h1>
            <p class="muted">
                {move || {
                    lang.get()
                        .pick(
                            "Ce lien ne sert qu'une fois : il crée le compte administrateur qui gérera les autres.",
                            "This link works once: it creates the admin account that manages the others.",
                        )
                }}
            </p>
            <form method="post" action="/setup" class="card auth-form" id="setup-form">
                <FormError lang />
                <UsernameField lang user />
                <NewPasswordFields lang />
                <input type="hidden" name="token" value=move || token.get() />
                <input type="hidden" name="lang" value=move || lang.get().code() />
                <button type="submit" id="create-admin">{move || lang.get().pick("Créer le compte", "Create the account")}</button>
            </form>
        </crate::nav::Page>
    }
}
