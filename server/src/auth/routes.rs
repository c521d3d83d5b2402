//! The forms' endpoints: `POST /login`, `POST /logout`, `POST /setup` (the first admin,
//! through the one-time link) and `POST /account/password`. Plain HTML forms: each
//! answers with a redirect (303), so they work without JavaScript; an error comes back
//! to the form's page as `?error=<code>` (and `wait=<seconds>` for a lockout).

use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use pipeline::access::{ClientAddress, Role, Visitor};
use pipeline::warehouse::accounts::{Account, AccountChange};
use serde::Deserialize;

use pipeline::secret;

use pipeline::password;

use super::{throttle, Auth, COOKIE};

/// The routes, with the access state.
pub fn router(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/setup", post(setup))
        .route("/account/password", post(change_password))
        .with_state(auth)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

/// A local path to go back to after sign-in (never another site).
pub(super) fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.starts_with("/login")
        && !next.contains(['\r', '\n']);
    if ok {
        next
    } else {
        "/dashboard"
    }
}

pub(super) fn back_to(page: &str, pairs: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    let q = q.finish();
    let url = if q.is_empty() {
        page.to_string()
    } else {
        format!("{page}?{q}")
    };
    Redirect::to(&url).into_response()
}

/// The argon2id hash of a new password typed twice, or the form's error code
/// (`mismatch`, `short`, `unavailable`).
async fn new_password_hash(password: &str, confirm: &str) -> Result<String, &'static str> {
    if password != confirm {
        return Err("mismatch");
    }
    match password::hash(password.to_string()).await {
        Ok(h) => Ok(h),
        Err(password::PasswordError::TooShort) => Err("short"),
        Err(e) => {
            tracing::error!(error = %e, "cannot hash a password");
            Err("unavailable")
        }
    }
}

/// A redirect that also sets (or clears) the session cookie.
pub(super) fn with_cookie(redirect: Response, cookie: String) -> Response {
    let mut response = redirect;
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Opens a session for `account`: its cookie.
pub(super) async fn open_session(
    auth: &Auth,
    account: &Account,
    headers: &HeaderMap,
    address: &str,
) -> Result<String, Response> {
    let Some(w) = &auth.warehouse else {
        return Err(back_to("/login", &[("error", "unavailable")]));
    };
    let value = match secret::new_secret() {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "cannot make a session");
            return Err(back_to("/login", &[("error", "unavailable")]));
        }
    };
    if let Err(e) = w
        .create_session(&secret::digest(&value), account, auth.now(), address)
        .await
    {
        tracing::error!(error = %e, "cannot store a session");
        return Err(back_to("/login", &[("error", "unavailable")]));
    }
    Ok(auth.cookie(Some(&value), headers))
}

async fn login(
    State(auth): State<Auth>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = form.lang.as_str();
    let next = safe_next(&form.next).to_string();
    let fail = |code: &str, retry: String| {
        back_to(
            "/login",
            &[
                ("error", code),
                ("wait", &retry),
                ("user", form.username.trim()),
                ("next", &form.next),
                ("lang", lang),
            ],
        )
    };
    let Some(w) = &auth.warehouse else {
        return fail("unavailable", String::new());
    };
    let username = form.username.trim();
    let now = auth.now();
    let keys = [
        throttle::account_key(username),
        throttle::address_key(&address),
    ];
    let mut locked = None;
    for key in &keys {
        match w.failures(key).await {
            Ok(f) => locked = locked.max(throttle::locked_until(f, now)),
            Err(e) => {
                tracing::error!(error = %e, "cannot read sign-in failures");
                return fail("unavailable", String::new());
            }
        }
    }
    if let Some(until) = locked {
        auth.audit(username, &address, "sign-in refused (locked)", "")
            .await;
        return fail("locked", (until - now).to_string());
    }
    let account = match w.account_named(username).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "cannot read an account");
            return fail("unavailable", String::new());
        }
    };
    let stored = account
        .as_ref()
        .filter(|a| !a.disabled)
        .and_then(|a| a.password_hash.clone());
    let ok = password::verify(form.password.clone(), stored).await;
    let account = match (ok, account) {
        (true, Some(a)) => a,
        _ => {
            let mut retry = None;
            for key in &keys {
                let before = w.failures(key).await.ok().flatten();
                let after = throttle::after_failure(before, now, throttle::free_failures(key));
                if after.locked_until > 0 {
                    retry = retry.max(Some(after.locked_until));
                }
                if let Err(e) = w.set_failures(key, after).await {
                    tracing::error!(error = %e, "cannot record a sign-in failure");
                }
            }
            tracing::info!(username, address = %address, "sign-in failed");
            auth.audit(username, &address, "sign-in failed", "").await;
            return match retry {
                Some(until) => fail("locked", (until - now).to_string()),
                None => fail("invalid", String::new()),
            };
        }
    };
    for key in &keys {
        if let Err(e) = w.clear_failures(key).await {
            tracing::warn!(error = %e, "cannot clear sign-in failures");
        }
    }
    let cookie = match open_session(&auth, &account, &headers, &address).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    tracing::info!(username = %account.username, address = %address, "signed in");
    auth.audit(&account.username, &address, "sign-in", "").await;
    with_cookie(Redirect::to(&next).into_response(), cookie)
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    #[serde(default)]
    lang: String,
}

async fn logout(
    State(auth): State<Auth>,
    Extension(visitor): Extension<Visitor>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    Form(form): Form<LangForm>,
) -> Response {
    if let (Some(w), Some(cookie)) = (&auth.warehouse, super::cookie_value(&headers, COOKIE)) {
        if let Err(e) = w.delete_session(&secret::digest(&cookie)).await {
            tracing::warn!(error = %e, "cannot delete a session");
        }
    }
    if let Some(name) = visitor.viewer().and_then(|v| v.name.clone()) {
        auth.audit(&name, &address, "sign-out", "").await;
    }
    with_cookie(
        back_to("/login", &[("signed_out", "1"), ("lang", &form.lang)]),
        auth.cookie(None, &headers),
    )
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    lang: String,
}

/// The first admin, through the one-time link.
async fn setup(
    State(auth): State<Auth>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let lang = form.lang.as_str();
    let fail = |code: &str| {
        back_to(
            "/setup",
            &[
                ("token", form.token.as_str()),
                ("error", code),
                ("user", form.username.trim()),
                ("lang", lang),
            ],
        )
    };
    let Some(w) = &auth.warehouse else {
        return fail("unavailable");
    };
    let hash = secret::digest(form.token.trim());
    match w.setup_link_valid(&hash).await {
        Ok(true) => {}
        Ok(false) => return fail("link"),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the set-up link");
            return fail("unavailable");
        }
    }
    let username = form.username.trim();
    if username.is_empty() || username.len() > 64 || username.contains(char::is_whitespace) {
        return fail("username");
    }
    let phc = match new_password_hash(&form.password, &form.confirm).await {
        Ok(h) => h,
        Err(code) => return fail(code),
    };
    match w.use_setup_link(&hash, auth.now()).await {
        Ok(true) => {}
        Ok(false) => return fail("link"),
        Err(e) => {
            tracing::error!(error = %e, "cannot use the set-up link");
            return fail("unavailable");
        }
    }
    if let Err(e) = w
        .create_account(username, Some(&phc), Role::Admin, &[], auth.now())
        .await
    {
        tracing::error!(error = %e, "the set-up link was used but the admin was not created: restart the server for a new link");
        return fail("unavailable");
    }
    let account = match w.account_named(username).await {
        Ok(Some(a)) => a,
        _ => return fail("unavailable"),
    };
    tracing::info!(username, address = %address, "first admin created through the set-up link");
    auth.audit(username, &address, "first admin created", "set-up link")
        .await;
    let cookie = match open_session(&auth, &account, &headers, &address).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let home = if lang == "en" {
        "/dashboard?lang=en"
    } else {
        "/dashboard"
    };
    with_cookie(Redirect::to(home).into_response(), cookie)
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    lang: String,
}

/// Changes one's own password: every other session of the account ends, this one goes on.
async fn change_password(
    State(auth): State<Auth>,
    Extension(visitor): Extension<Visitor>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let lang = form.lang.as_str();
    let back = |code: &str, ok: bool| {
        back_to(
            "/account",
            &[(if ok { "changed" } else { "error" }, code), ("lang", lang)],
        )
    };
    let (Some(w), Some(name)) = (
        &auth.warehouse,
        visitor.viewer().and_then(|v| v.name.clone()),
    ) else {
        return back("no_account", false);
    };
    let account = match w.account_named(&name).await {
        Ok(Some(a)) => a,
        _ => return back("unavailable", false),
    };
    if !password::verify(form.current.clone(), account.password_hash.clone()).await {
        auth.audit(
            &name,
            &address,
            "password change refused",
            "wrong current password",
        )
        .await;
        return back("current", false);
    }
    let phc = match new_password_hash(&form.password, &form.confirm).await {
        Ok(h) => h,
        Err(code) => return back(code, false),
    };
    let change = AccountChange {
        password_hash: Some(Some(phc)),
        ..AccountChange::default()
    };
    let account = match w.update_account(&name, &change).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "cannot change a password");
            return back("unavailable", false);
        }
    };
    auth.audit(&name, &address, "password changed", "").await;
    let cookie = match open_session(&auth, &account, &headers, &address).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    with_cookie(back("1", true), cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/dashboard?store=1"), "/dashboard?store=1");
        assert_eq!(safe_next("//evil.example"), "/dashboard");
        assert_eq!(safe_next("https://evil.example"), "/dashboard");
        assert_eq!(safe_next("/\\evil.example"), "/dashboard");
        assert_eq!(safe_next(""), "/dashboard");
        assert_eq!(safe_next("/login?next=/x"), "/dashboard");
    }
}
