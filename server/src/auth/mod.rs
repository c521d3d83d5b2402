//! Who is asking, and may they: sign-in with server-side sessions, personal tokens,
//! roles, and the access gate every request passes through.
//!
//! - [`Auth::visitor`] finds the sender of a request: a session cookie, a personal token
//!   (`Authorization: Bearer dm360_…` or `access_token=` in an export URL), or nobody.
//!   A server with no account yet is open on loopback ("local mode") and shows nothing
//!   elsewhere until the first admin exists (the one-time set-up link in the log);
//!   `DATAMAG_AUTH=off` opens it explicitly.
//! - [`gate`] puts the [`Visitor`] in the request's extensions, refuses cross-site
//!   writes, and lets a request through only when its path allows the visitor. What a
//!   person sees inside a page or an export is limited to their stores by the domain
//!   (`pipeline::filter::resolve_scoped`), not here.

pub mod cli;
pub mod routes;
pub mod sso;
pub mod throttle;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use pipeline::access::{AccessMode, ClientAddress, Role, Viewer, Visitor};
use pipeline::{secret, Clock, Warehouse};

use crate::api::error::ErrorBody;

/// The session cookie's name.
pub const COOKIE: &str = "dm360_session";

/// `DATAMAG_AUTH`: sign-in required once accounts exist (`auto`), or never (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthSetting {
    #[default]
    Auto,
    Off,
}

/// `DATAMAG_COOKIE_SECURE`: when the session cookie carries `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CookieSecure {
    /// When the request came over HTTPS (directly, or `X-Forwarded-Proto: https` from a
    /// proxy the server trusts).
    #[default]
    Auto,
    Always,
    Never,
}

/// The access configuration and its state, shared by every request.
#[derive(Clone)]
pub struct Auth {
    pub warehouse: Option<Warehouse>,
    pub clock: Arc<dyn Clock>,
    pub setting: AuthSetting,
    /// The server listens on a loopback address only.
    pub loopback: bool,
    pub cookie_secure: CookieSecure,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` (behind Render's or another proxy).
    pub trust_proxy: bool,
    /// A session ends after this long without a request (seconds).
    pub idle_timeout: i64,
    /// A session ends this long after sign-in, whatever its activity (seconds).
    pub lifetime: i64,
    /// Bearer token `/metrics` asks for, when set.
    pub metrics_token: Option<Arc<str>>,
    /// Single sign-on (OpenID Connect), when configured.
    pub sso: Option<sso::Sso>,
    accounts_exist: Arc<AtomicBool>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("setting", &self.setting)
            .field("loopback", &self.loopback)
            .field("cookie_secure", &self.cookie_secure)
            .field("trust_proxy", &self.trust_proxy)
            .field("sso", &self.sso)
            .finish_non_exhaustive()
    }
}

/// Default idle timeout: 2 hours.
pub const DEFAULT_IDLE_MINUTES: i64 = 120;
/// Default absolute lifetime: 12 hours.
pub const DEFAULT_LIFETIME_HOURS: i64 = 12;

impl Auth {
    /// Sign-in as configured by default, for a server listening on `host`.
    pub fn new(warehouse: Option<Warehouse>, clock: Arc<dyn Clock>, host: IpAddr) -> Auth {
        Auth {
            warehouse,
            clock,
            setting: AuthSetting::Auto,
            loopback: host.is_loopback(),
            cookie_secure: CookieSecure::Auto,
            trust_proxy: false,
            idle_timeout: DEFAULT_IDLE_MINUTES * 60,
            lifetime: DEFAULT_LIFETIME_HOURS * 3600,
            metrics_token: None,
            sso: None,
            accounts_exist: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// True once any account exists (remembered: accounts are disabled, never deleted);
    /// `None` when the warehouse cannot tell.
    pub async fn accounts_exist(&self) -> Option<bool> {
        if self.accounts_exist.load(Ordering::Relaxed) {
            return Some(true);
        }
        let Some(w) = &self.warehouse else {
            return Some(false);
        };
        match w.account_count().await {
            Ok(n) if n > 0 => {
                self.accounts_exist.store(true, Ordering::Relaxed);
                Some(true)
            }
            Ok(_) => Some(false),
            Err(e) => {
                tracing::error!(error = %e, "cannot count accounts");
                None
            }
        }
    }

    /// The sender of a request. `Err(Unreachable)` when the warehouse could not be read
    /// to tell (an outage): the request is then treated as anonymous, never as open.
    pub async fn visitor(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Visitor, Unreachable> {
        if self.setting == AuthSetting::Off {
            return Ok(Visitor::Known(Viewer::open(AccessMode::Off)));
        }
        if let Some(token) = presented_token(headers, query) {
            return Ok(match self.token_viewer(&token).await? {
                Some(v) => Visitor::Known(v),
                None => Visitor::Anonymous,
            });
        }
        if let Some(cookie) = cookie_value(headers, COOKIE) {
            if let Some(v) = self.session_viewer(&cookie).await? {
                return Ok(Visitor::Known(v));
            }
        }
        Ok(match self.accounts_exist().await {
            None => return Err(Unreachable),
            Some(true) => Visitor::Anonymous,
            Some(false) if self.loopback => Visitor::Known(Viewer::open(AccessMode::Local)),
            Some(false) => Visitor::SetupNeeded,
        })
    }

    async fn token_viewer(&self, token: &str) -> Result<Option<Viewer>, Unreachable> {
        let Some(w) = self.warehouse.as_ref() else {
            return Ok(None);
        };
        let account = match w.token_account(&secret::digest(token), self.now()).await {
            Ok(Some(a)) => a,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "cannot read a personal token");
                return Err(Unreachable);
            }
        };
        Ok((!account.disabled).then(|| Viewer {
            scope: account.scope(),
            name: Some(account.username),
            role: account.role,
            mode: AccessMode::Token,
        }))
    }

    /// The viewer of a live session, touching it (at most once a minute).
    async fn session_viewer(&self, cookie: &str) -> Result<Option<Viewer>, Unreachable> {
        let Some(w) = self.warehouse.as_ref() else {
            return Ok(None);
        };
        let hash = secret::digest(cookie);
        let s = match w.session(&hash).await {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "cannot read a session");
                return Err(Unreachable);
            }
        };
        let now = self.now();
        let expired = now - s.last_seen > self.idle_timeout || now - s.created_at > self.lifetime;
        if expired || s.account.disabled || s.generation != s.account.generation {
            if let Err(e) = w.delete_session(&hash).await {
                tracing::warn!(error = %e, "cannot delete an ended session");
            }
            return Ok(None);
        }
        if now - s.last_seen >= 60 {
            if let Err(e) = w.touch_session(&hash, now).await {
                tracing::warn!(error = %e, "cannot record a session's activity");
            }
        }
        Ok(Some(Viewer {
            scope: s.account.scope(),
            name: Some(s.account.username),
            role: s.account.role,
            mode: AccessMode::SignedIn,
        }))
    }

    /// True when the cookies of this request's answer carry `Secure`.
    pub fn secure_cookie(&self, headers: &HeaderMap) -> bool {
        match self.cookie_secure {
            CookieSecure::Always => true,
            CookieSecure::Never => false,
            CookieSecure::Auto => self.trust_proxy && forwarded_https(headers),
        }
    }

    /// The session cookie for `value` (`None`: the cookie that clears it).
    pub fn cookie(&self, value: Option<&str>, headers: &HeaderMap) -> String {
        let secure = self.secure_cookie(headers);
        let (v, age) = match value {
            Some(v) => (v, self.lifetime),
            None => ("", 0),
        };
        format!(
            "{COOKIE}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}{}",
            if secure { "; Secure" } else { "" }
        )
    }

    /// The client's address: the socket's peer, or the first `X-Forwarded-For` hop when
    /// the proxy is trusted.
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
        if self.trust_proxy {
            if let Some(first) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                return first.to_string();
            }
        }
        peer.map(|p| p.ip().to_string()).unwrap_or_default()
    }

    /// Appends to the audit log (a failure to write it is logged, not fatal).
    pub async fn audit(&self, username: &str, address: &str, action: &str, detail: &str) {
        let Some(w) = &self.warehouse else {
            return;
        };
        if let Err(e) = w.audit(self.now(), username, address, action, detail).await {
            tracing::error!(error = %e, action, "cannot write the audit log");
        }
    }

    /// On start with no account on a non-loopback address: a fresh one-time set-up link,
    /// printed to the log (any earlier unused link stops working).
    pub async fn announce_setup(&self, base_url: &str) -> anyhow::Result<()> {
        if self.setting == AuthSetting::Off {
            tracing::warn!(
                "DATAMAG_AUTH=off: sign-in is disabled, every visitor sees every store's figures"
            );
            return Ok(());
        }
        if self.accounts_exist().await != Some(false) {
            return Ok(());
        }
        if self.loopback {
            tracing::info!(
                "local mode: no account yet and listening on loopback only, so the dashboard \
                 is open on this machine (create accounts with `datamag360 user add`)"
            );
            return Ok(());
        }
        let Some(w) = &self.warehouse else {
            return Ok(());
        };
        let secret = secret::new_secret()?;
        w.replace_setup_link(&secret::digest(&secret), self.now())
            .await?;
        tracing::warn!(
            setup_url = %format!("{base_url}/setup?token={secret}"),
            "no account yet: nothing is shown until the first admin exists. Open the set-up \
             link once to create it (a new link is printed at each start until then), or \
             use `datamag360 user add NAME --role admin`"
        );
        Ok(())
    }
}

/// The warehouse could not be read to tell who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable;

/// `X-Forwarded-Proto: https`.
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A personal token presented as `Authorization: Bearer dm360_…` or, for tools that can
/// only fetch a URL, `access_token=dm360_…` in the query.
fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(secret::TOKEN_PREFIX))
        .map(String::from);
    from_header.or_else(|| {
        form_urlencoded::parse(query?.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.trim().to_string())
            .filter(|t| t.starts_with(secret::TOKEN_PREFIX))
    })
}

/// Who a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, and nothing there depends on who asks: the simulator API, its docs,
    /// health, the site's files. The gate does not look up the visitor for these (the
    /// API's hot path reads no session).
    Anyone,
    /// Anyone, on pages and calls that show who is asking: the home and sign-in pages,
    /// sign-out, the header's `/api/access`, `/metrics` (its own token).
    Public,
    /// Anyone let in (each sees their own stores).
    Viewers,
    /// Admins and analysts: the pipeline page (the whole chain's processing).
    WholeChain,
    /// Admins only (the admin API also takes its bearer token, checked by its router).
    Admins,
}

/// Who may reach `path`. Anything not listed needs a viewer (deny by default).
pub fn audience(path: &str) -> Audience {
    const ANYONE: [&str; 10] = [
        "/visiteurs",
        "/transactions",
        "/releves",
        "/openapi.json",
        "/health",
        "/ready",
        "/redoc",
        "/favicon.svg",
        "/api/home_data",
        "/api/simulator_hour",
    ];
    const PUBLIC: [&str; 9] = [
        "/",
        "/login",
        "/logout",
        "/setup",
        "/metrics",
        "/api/access",
        sso::START_PATH,
        sso::CALLBACK_PATH,
        // The header's count: the asker's own open alerts, none for an anonymous visitor.
        "/api/alerts_count",
    ];
    if ANYONE.contains(&path)
        || path.starts_with("/pkg/")
        || path == "/docs"
        || path.starts_with("/docs/")
    {
        Audience::Anyone
    } else if PUBLIC.contains(&path) {
        Audience::Public
    } else if path == "/pipeline" || path.starts_with("/api/pipeline") {
        Audience::WholeChain
    } else if path.starts_with("/admin")
        || path == "/users"
        || path == "/alerts/channels"
        || path.starts_with("/api/admin_")
    {
        Audience::Admins
    } else {
        Audience::Viewers
    }
}

/// True when `visitor` may reach a path for `audience`.
pub fn admits(audience: Audience, visitor: &Visitor) -> Result<(), Refusal> {
    match (audience, visitor.viewer()) {
        (Audience::Anyone | Audience::Public, _) => Ok(()),
        (_, None) => Err(match visitor {
            Visitor::SetupNeeded => Refusal::SetupNeeded,
            _ => Refusal::SignIn,
        }),
        (Audience::Viewers, Some(_)) => Ok(()),
        (Audience::WholeChain, Some(v)) => match v.role {
            Role::Admin | Role::Analyst => Ok(()),
            Role::Manager => Err(Refusal::Role),
        },
        (Audience::Admins, Some(v)) => match v.role {
            Role::Admin => Ok(()),
            Role::Analyst | Role::Manager => Err(Refusal::Role),
        },
    }
}

/// Why a request was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    SignIn,
    SetupNeeded,
    Role,
    CrossSite,
}

/// True for a request a browser sent from another site: its `Origin` (or, without one,
/// `Referer`) names another host, or `Sec-Fetch-Site` says `cross-site`.
pub fn cross_site(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match source {
        // A sandboxed or privacy-stripped origin is not this site.
        Some("null") => true,
        Some(s) => url_host(s).is_none_or(|h| !h.eq_ignore_ascii_case(host)),
        None => false,
    }
}

/// `http://host:port/…` → `host:port`.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

fn is_page(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    method == Method::GET
        && !path.starts_with("/api/")
        && !path.ends_with(".csv")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|a| a.contains("text/html") || a.contains("*/*"))
}

fn refused(refusal: Refusal, lang_en: bool) -> Response {
    let pick = |fr: &str, en: &str| if lang_en { en } else { fr }.to_string();
    let (status, code, detail) = match refusal {
        Refusal::SignIn => (
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            pick(
                "Connexion requise : connectez-vous sur /login, ou utilisez un jeton personnel.",
                "Sign-in required: sign in at /login, or use a personal token.",
            ),
        ),
        Refusal::SetupNeeded => (
            StatusCode::UNAUTHORIZED,
            "setup_required",
            pick(
                "Aucun compte n'existe encore : créez le premier administrateur avec le lien à usage unique du journal du serveur.",
                "No account exists yet: create the first admin with the one-time link in the server's log.",
            ),
        ),
        Refusal::Role => (
            StatusCode::FORBIDDEN,
            "forbidden",
            pick(
                "Accès refusé : votre rôle ne permet pas cette page.",
                "Access denied: your role does not allow this page.",
            ),
        ),
        Refusal::CrossSite => (
            StatusCode::FORBIDDEN,
            "cross_site_request",
            pick(
                "Requête refusée : elle vient d'un autre site.",
                "Request refused: it comes from another site.",
            ),
        ),
    };
    (
        status,
        Json(ErrorBody {
            detail,
            code,
            parameter: None,
        }),
    )
        .into_response()
}

/// The access gate (an axum middleware over the whole router).
pub async fn gate(State(auth): State<Auth>, mut request: Request, next: Next) -> Response {
    let audience = audience(request.uri().path());
    // Reads that do not depend on who asks go straight on (writes still meet the
    // cross-site check below).
    if audience == Audience::Anyone
        && matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        )
    {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(String::from);
    let headers = request.headers().clone();
    let method = request.method().clone();
    let lang_en = query.as_deref().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "lang" && v == "en")
    });
    let writes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    // A bearer header is not sent by a browser on its own: only cookie-borne writes can be
    // forged from another site.
    let bearer = headers.contains_key(header::AUTHORIZATION);
    if writes && !bearer && cross_site(&headers) {
        tracing::warn!(path = %path, "cross-site write refused");
        return refused(Refusal::CrossSite, lang_en);
    }
    // An outage: nobody can be recognised. Public paths go on; the others go on as an
    // anonymous visitor only to reach the outage answer (503) of the pages' guard, and
    // otherwise get 503 here. Never open, never a figure.
    let (visitor, unreachable) = match auth.visitor(&headers, query.as_deref()).await {
        Ok(v) => (v, false),
        Err(Unreachable) => (Visitor::Anonymous, true),
    };
    if unreachable
        && !matches!(audience, Audience::Anyone | Audience::Public)
        && !is_page(&method, &path, &headers)
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            Json(ErrorBody {
                detail: if lang_en {
                    "The data warehouse is unreachable: try again in a moment.".into()
                } else {
                    "Entrepôt de données indisponible : réessayez dans un instant.".into()
                },
                code: "warehouse_unavailable",
                parameter: None,
            }),
        )
            .into_response();
    }
    // The admin API keeps its own bearer token: let it decide for bearer requests.
    let admin_bearer = audience == Audience::Admins && bearer;
    if !admin_bearer && !unreachable {
        if let Err(refusal) = admits(audience, &visitor) {
            if refusal == Refusal::SignIn && is_page(&method, &path, &headers) {
                let next_url = match &query {
                    Some(q) => format!("{path}?{q}"),
                    None => path.clone(),
                };
                let mut login = form_urlencoded::Serializer::new(String::new());
                login.append_pair("next", &next_url);
                if lang_en {
                    login.append_pair("lang", "en");
                }
                return Redirect::to(&format!("/login?{}", login.finish())).into_response();
            }
            // A page the role may not see renders its own refusal (403, with the site's
            // header), rather than a JSON body; the page's loader refuses too.
            let page_refusal = refusal == Refusal::Role && is_page(&method, &path, &headers);
            if refusal == Refusal::SetupNeeded && is_page(&method, &path, &headers) {
                return Redirect::to(if lang_en { "/login?lang=en" } else { "/login" })
                    .into_response();
            }
            if !page_refusal {
                return refused(refusal, lang_en);
            }
        }
    }
    if path == "/metrics" {
        if let Some(expected) = auth.metrics_token.as_deref() {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or_default();
            if !secret::same_secret(given.as_bytes(), expected.as_bytes()) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    Json(ErrorBody {
                        detail: "Jeton requis pour /metrics.".into(),
                        code: "invalid_token",
                        parameter: None,
                    }),
                )
                    .into_response();
            }
        }
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    request
        .extensions_mut()
        .insert(ClientAddress(auth.client_address(&headers, peer)));
    request.extensions_mut().insert(visitor);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn cross_site_writes_are_recognised() {
        let same = headers(&[
            ("host", "a.example:3000"),
            ("origin", "http://a.example:3000"),
        ]);
        assert!(!cross_site(&same));
        let other = headers(&[
            ("host", "a.example:3000"),
            ("origin", "https://evil.example"),
        ]);
        assert!(cross_site(&other));
        let referer = headers(&[
            ("host", "a.example"),
            ("referer", "https://evil.example/form"),
        ]);
        assert!(cross_site(&referer));
        assert!(cross_site(&headers(&[("host", "a"), ("origin", "null")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        // A program without Origin or Referer carries no victim's cookie.
        assert!(!cross_site(&headers(&[("host", "a.example")])));
    }

    #[test]
    fn paths_are_private_unless_listed() {
        assert_eq!(audience("/visiteurs"), Audience::Anyone);
        assert_eq!(audience("/pkg/datamag360.wasm"), Audience::Anyone);
        assert_eq!(audience("/login"), Audience::Public);
        assert_eq!(audience("/auth/oidc/start"), Audience::Public);
        assert_eq!(audience("/auth/oidc/callback"), Audience::Public);
        assert_eq!(audience("/dashboard"), Audience::Viewers);
        assert_eq!(audience("/export.csv"), Audience::Viewers);
        assert_eq!(audience("/api/dashboard"), Audience::Viewers);
        assert_eq!(audience("/anything-new"), Audience::Viewers);
        assert_eq!(audience("/pipeline"), Audience::WholeChain);
        assert_eq!(audience("/admin/backfill"), Audience::Admins);
        assert_eq!(audience("/users"), Audience::Admins);
        assert_eq!(audience("/api/admin_user_add"), Audience::Admins);
        assert_eq!(audience("/alerts"), Audience::Viewers);
        assert_eq!(audience("/api/alerts"), Audience::Viewers);
        assert_eq!(audience("/api/alerts_count"), Audience::Public);
        assert_eq!(audience("/alerts/channels"), Audience::Admins);
        assert_eq!(audience("/api/admin_alert_channel_test"), Audience::Admins);
        let manager = Visitor::Known(Viewer {
            name: Some("m".into()),
            role: Role::Manager,
            scope: pipeline::access::StoreScope::Only([1].into_iter().collect()),
            mode: AccessMode::SignedIn,
        });
        assert_eq!(admits(Audience::Viewers, &manager), Ok(()));
        assert_eq!(admits(Audience::WholeChain, &manager), Err(Refusal::Role));
        assert_eq!(
            admits(Audience::Viewers, &Visitor::Anonymous),
            Err(Refusal::SignIn)
        );
        assert_eq!(
            admits(Audience::Viewers, &Visitor::SetupNeeded),
            Err(Refusal::SetupNeeded)
        );
        assert_eq!(admits(Audience::Public, &Visitor::SetupNeeded), Ok(()));
    }

    #[test]
    fn cookies_and_tokens_are_read() {
        let h = headers(&[("cookie", "a=1; dm360_session=abc ; b=2")]);
        assert_eq!(cookie_value(&h, COOKIE).as_deref(), Some("abc"));
        let h = headers(&[("authorization", "Bearer dm360_xyz")]);
        assert_eq!(presented_token(&h, None).as_deref(), Some("dm360_xyz"));
        assert_eq!(
            presented_token(&HeaderMap::new(), Some("store=1&access_token=dm360_q")).as_deref(),
            Some("dm360_q")
        );
        // The admin API's own bearer token is not a personal token.
        let h = headers(&[("authorization", "Bearer 0123456789abcdef")]);
        assert_eq!(presented_token(&h, None), None);
    }
}
