//! The person asking. The server's access gate puts a [`Visitor`] in every request's
//! extensions; server functions and loaders read it here (server side) and decide with
//! the domain's rules (`pipeline::access`, `pipeline::filter::resolve_scoped`). The
//! header and the sign-in pages get it through [`get_access`].

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use pipeline::access::Viewer;
use pipeline::access::Visitor;

use crate::wire::{AccessInfo, LoadError};

/// The visitor the access gate found for this request; [`Visitor::Anonymous`] when
/// there is none (a router without the gate lets nothing through).
#[cfg(feature = "ssr")]
pub fn visitor() -> Visitor {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<Visitor>().cloned())
        .unwrap_or(Visitor::Anonymous)
}

/// The answer's status (a server function's error, or a page rendered as a refusal).
#[cfg(feature = "ssr")]
pub fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// The viewer of this request, or [`LoadError::SignIn`] with a 401.
#[cfg(feature = "ssr")]
pub fn viewer() -> Result<Viewer, LoadError> {
    match visitor() {
        Visitor::Known(v) => Ok(v),
        Visitor::Anonymous | Visitor::SetupNeeded => {
            set_status(http::StatusCode::UNAUTHORIZED);
            Err(LoadError::SignIn)
        }
    }
}

/// The viewer of this request if they are an admin; anyone else gets
/// [`LoadError::NotAllowed`] with a 403.
#[cfg(feature = "ssr")]
pub fn admin() -> Result<Viewer, LoadError> {
    let v = viewer()?;
    if !v.is_admin() {
        return Err(refuse(LoadError::NotAllowed));
    }
    Ok(v)
}

/// The client's address the access gate read (empty outside a request).
#[cfg(feature = "ssr")]
pub fn client_address() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.extensions
                .get::<pipeline::access::ClientAddress>()
                .map(|a| a.0.clone())
        })
        .unwrap_or_default()
}

/// Appends to the audit log as `who` (an account's name; "local" in the open modes), with
/// the client's address the access gate read. A failure is logged and answered
/// [`LoadError::Unavailable`]; callers that must not fail on it ignore the error.
#[cfg(feature = "ssr")]
pub async fn audit(
    services: &crate::services::Services,
    who: Option<&str>,
    action: &str,
    detail: &str,
) -> Result<(), LoadError> {
    let address = client_address();
    let w = services.warehouse_for("audit")?;
    let now = services.clock.now().timestamp();
    w.audit(now, who.unwrap_or("local"), &address, action, detail)
        .await
        .map_err(crate::services::unavailable("audit"))
}

/// A refusal with its status: 403 for a store or a role, 401 for sign-in.
#[cfg(feature = "ssr")]
pub fn refuse(e: LoadError) -> LoadError {
    let status = match e {
        LoadError::SignIn => http::StatusCode::UNAUTHORIZED,
        LoadError::Forbidden { .. } | LoadError::NotAllowed => http::StatusCode::FORBIDDEN,
        LoadError::Unreachable | LoadError::Unavailable | LoadError::Failed => {
            http::StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    set_status(status);
    e
}

/// Who is asking, for the header and the sign-in pages (public: it tells only the asker
/// about themselves).
#[server(endpoint = "access")]
pub async fn get_access() -> Result<AccessInfo, LoadError> {
    let sso = use_context::<crate::services::Services>().is_some_and(|s| s.sso);
    Ok(AccessInfo {
        visitor: visitor(),
        sso,
    })
}

/// The header's account line: who is signed in and the sign-out button, the local-mode
/// note, or the sign-in link.
#[component]
pub fn AccountLine(lang: Memo<crate::i18n::Lang>, rel: &'static str) -> impl IntoView {
    let rel = (!rel.is_empty()).then_some(rel);
    let access = Resource::new(|| (), |_| get_access());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let visitor = access.await.map(|a| a.visitor).unwrap_or(Visitor::Anonymous);
                account_line(
                    visitor,
                    lang,
                    rel,
                    crate::i18n::localized(lang, "/login"),
                    crate::i18n::localized(lang, "/account"),
                )
            })}
        </Suspense>
    }
}

fn account_line(
    visitor: Visitor,
    lang: Memo<crate::i18n::Lang>,
    rel: Option<&'static str>,
    login: impl Fn() -> String + Send + Sync + Copy + 'static,
    account: impl Fn() -> String + Send + Sync + Copy + 'static,
) -> AnyView {
    use pipeline::access::AccessMode;
    let l = move || lang.get();
    match visitor {
        Visitor::Known(v) => match (v.mode, v.name.clone()) {
            (AccessMode::SignedIn | AccessMode::Token, Some(name)) => {
                let role = v.role;
                let users = crate::i18n::localized(lang, "/users");
                view! {
                    <div class="account" id="account-line">
                        {(role == pipeline::access::Role::Admin).then(|| view! {
                            <a href=users rel=rel id="users-link">{move || l().pick("Utilisateurs", "Users")}</a>
                        })}
                        <a href=account rel=rel class="account-name" data-role=role.code()>
                            {name}
                            <span class="muted role">"· " {move || role.label(l())}</span>
                        </a>
                        <form method="post" action="/logout" class="inline">
                            <input type="hidden" name="lang" value=move || l().code() />
                            <button type="submit" class="link-button" id="sign-out">
                                {move || l().pick("Se déconnecter", "Sign out")}
                            </button>
                        </form>
                    </div>
                }
                .into_any()
            }
            (AccessMode::Off, _) => view! {
                <p class="account note" id="account-line" data-mode="off">
                    {move || l().pick("Connexion désactivée (DATAMAG_AUTH=off)", "Sign-in disabled (DATAMAG_AUTH=off)")}
                </p>
            }
            .into_any(),
            _ => view! {
                <p class="account note" id="account-line" data-mode="local">
                    {move || l().pick("Non connecté — mode local", "Not signed in — local mode")}
                </p>
            }
            .into_any(),
        },
        Visitor::Anonymous | Visitor::SetupNeeded => view! {
            <div class="account" id="account-line">
                <a href=login rel=rel id="sign-in-link">{move || l().pick("Se connecter", "Sign in")}</a>
            </div>
        }
        .into_any(),
    }
}
