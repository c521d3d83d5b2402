//! Single sign-on with OpenID Connect: the authorization code flow with PKCE, through the
//! `openidconnect` crate (discovery, the provider's JWKS, the code exchange and every ID
//! token check: signature, issuer, audience, nonce, expiry).
//!
//! - `GET /auth/oidc/start?next=…&lang=…` makes a state, a nonce and a PKCE verifier,
//!   keeps them in the warehouse ([`PendingSso`], ten minutes, keyed by the state's
//!   SHA-256) and sends the browser to the provider. The state also goes into a short
//!   `HttpOnly` cookie scoped to `/auth/oidc`, which binds the sign-in to the browser that
//!   began it: a callback URL fed to another browser (login CSRF) is refused.
//! - `GET /auth/oidc/callback?code=…&state=…` takes the pending row (deleted as it is
//!   read: a replayed callback finds nothing), exchanges the code with the verifier,
//!   checks the ID token, maps its claims to a role and stores
//!   ([`pipeline::sso_claims`]), creates or updates the account linked to the token's
//!   issuer and subject, and opens the same session as a password sign-in.
//!
//! Why a warehouse row rather than an encrypted cookie for the state, nonce and verifier:
//! replicas share the warehouse already (sessions live there), so whichever replica the
//! provider sends the browser back to finds the row, without a key shared between
//! replicas to manage; and single use is a `DELETE … RETURNING`, which a cookie cannot
//! give (a copied cookie could be replayed until it expires).
//!
//! Every outcome is audited with the client's address, and every refusal comes back to
//! `/login?error=sso_…` worded in the page's language: never a panic, never a bare 500.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{Extension, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use pipeline::access::ClientAddress;
use pipeline::secret;
use pipeline::sso_claims::{self, ClaimNames};
use pipeline::warehouse::accounts::AccountError;
use pipeline::warehouse::sso::{PendingSso, SsoAccount};
use pipeline::Simulator;
use serde::{Deserialize, Serialize};

use super::routes::{back_to, open_session, safe_next, with_cookie};
use super::Auth;

/// The cookie binding a sign-in to the browser that began it.
pub const STATE_COOKIE: &str = "dm360_sso";
/// Where the provider sends the browser back (register `<public URL>` + this).
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
pub const START_PATH: &str = "/auth/oidc/start";
/// How long a begun sign-in may take at the provider.
const PENDING_SECONDS: i64 = 600;
/// The provider's metadata and keys are fetched again after this long (key rotation).
const METADATA_MAX_AGE: Duration = Duration::from_secs(3600);
/// A call to the provider gives up after this long.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// `DATAMAG_OIDC_*`: single sign-on, off unless an issuer is set.
#[derive(Debug, Clone, clap::Args)]
pub struct SsoArgs {
    /// The OpenID provider's issuer URL (discovery reads
    /// `<issuer>/.well-known/openid-configuration`); SSO is off without it.
    #[arg(long, env = "DATAMAG_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// The client id registered at the provider.
    #[arg(long, env = "DATAMAG_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// File holding the client secret (a mounted secret; surrounding whitespace ignored).
    /// Without it the client is public (PKCE only).
    #[arg(long, env = "DATAMAG_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// The server's public address, as the browser reaches it (`https://datamag.example`):
    /// the redirect URL is this + `/auth/oidc/callback`. Defaults to Render's
    /// `RENDER_EXTERNAL_URL`.
    #[arg(long, env = "DATAMAG_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The claim holding the DataMag360 role (`admin`, `analyst`, `manager`, or a list of
    /// groups among which one is a role code; dots reach into nested objects).
    #[arg(long, env = "DATAMAG_OIDC_ROLE_CLAIM", default_value = "datamag_role")]
    pub oidc_role_claim: String,

    /// The claim holding a manager's stores (ids or city names).
    #[arg(
        long,
        env = "DATAMAG_OIDC_STORES_CLAIM",
        default_value = "datamag_stores"
    )]
    pub oidc_stores_claim: String,

    /// Scopes asked for besides `openid` (space-separated).
    #[arg(long, env = "DATAMAG_OIDC_SCOPES", default_value = "profile email")]
    pub oidc_scopes: String,
}

/// The checked SSO configuration.
#[derive(Debug, Clone)]
pub struct SsoConfig {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub client_secret: Option<ClientSecret>,
    pub redirect: RedirectUrl,
    pub scopes: Vec<Scope>,
    pub claims: ClaimNames,
}

impl SsoArgs {
    /// The configuration; `None` when no issuer is set. A partial or unreadable one is an
    /// error that stops the start (a deploy that meant SSO should not come up without it).
    pub fn config(&self) -> anyhow::Result<Option<SsoConfig>> {
        let render_url = std::env::var("RENDER_EXTERNAL_URL").ok();
        self.config_with(render_url)
    }

    fn config_with(&self, render_url: Option<String>) -> anyhow::Result<Option<SsoConfig>> {
        let Some(issuer) = self
            .oidc_issuer
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        let issuer = IssuerUrl::new(issuer.to_string())
            .with_context(|| format!("DATAMAG_OIDC_ISSUER is not a URL: {issuer}"))?;
        let client_id = self
            .oidc_client_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .context("DATAMAG_OIDC_ISSUER is set: DATAMAG_OIDC_CLIENT_ID is needed too")?;
        let secret_file = self
            .oidc_client_secret_file
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty());
        let client_secret = match secret_file {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the OIDC client secret file {}", path.display())
                })?;
                let text = text.trim();
                anyhow::ensure!(
                    !text.is_empty(),
                    "the OIDC client secret file {} is empty",
                    path.display()
                );
                Some(ClientSecret::new(text.to_string()))
            }
        };
        let public = self
            .public_url
            .clone()
            .or(render_url)
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty())
            .context(
                "DATAMAG_OIDC_ISSUER is set: DATAMAG_PUBLIC_URL is needed too (the address \
                 browsers reach this server at, for the redirect URL)",
            )?;
        let redirect = RedirectUrl::new(format!("{public}{CALLBACK_PATH}"))
            .with_context(|| format!("DATAMAG_PUBLIC_URL is not a URL: {public}"))?;
        let scopes = self
            .oidc_scopes
            .split([' ', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "openid")
            .map(|s| Scope::new(s.to_string()))
            .collect();
        Ok(Some(SsoConfig {
            issuer,
            client_id: ClientId::new(client_id.to_string()),
            client_secret,
            redirect,
            scopes,
            claims: ClaimNames {
                role: self.oidc_role_claim.trim().to_string(),
                stores: self.oidc_stores_claim.trim().to_string(),
            },
        }))
    }
}

/// Every claim of the ID token, as JSON: the role and stores claims are named by the
/// configuration, so they cannot be fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AllClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for AllClaims {}

/// The ID token read with every claim kept (the crate still checks it all).
type FullIdToken =
    IdToken<AllClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// Single sign-on, shared by every request.
#[derive(Clone)]
pub struct Sso {
    inner: Arc<Inner>,
}

struct Inner {
    config: SsoConfig,
    http: openidconnect::reqwest::Client,
    simulator: Arc<Simulator>,
    /// The provider's metadata and keys, and when they were fetched.
    provider: tokio::sync::RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("issuer", &self.inner.config.issuer.as_str())
            .field("client_id", &self.inner.config.client_id.as_str())
            .finish_non_exhaustive()
    }
}

/// Why the provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("cannot read the provider's discovery document or keys at {issuer}: {detail}")]
    Discovery { issuer: String, detail: String },
}

/// The chain of an error's causes on one line (the crate's errors nest the useful part).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Sso {
    pub fn new(config: SsoConfig, simulator: Arc<Simulator>) -> anyhow::Result<Sso> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // The crate's advice against SSRF: never follow a redirect from the provider.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .context("cannot build the HTTP client for single sign-on")?;
        Ok(Sso {
            inner: Arc::new(Inner {
                config,
                http,
                simulator,
                provider: tokio::sync::RwLock::new(None),
            }),
        })
    }

    pub fn config(&self) -> &SsoConfig {
        &self.inner.config
    }

    /// The provider's metadata and keys: cached, fetched again when missing (the provider
    /// was unreachable at start-up) or older than an hour.
    pub async fn metadata(&self) -> Result<CoreProviderMetadata, ProviderError> {
        if let Some((m, at)) = self.inner.provider.read().await.as_ref() {
            if at.elapsed() < METADATA_MAX_AGE {
                return Ok(m.clone());
            }
        }
        self.refresh(None).await
    }

    /// Fetches the metadata and keys again, unless another request did since `seen`.
    async fn refresh(&self, seen: Option<Instant>) -> Result<CoreProviderMetadata, ProviderError> {
        let mut slot = self.inner.provider.write().await;
        if let Some((m, at)) = slot.as_ref() {
            let fresh = at.elapsed() < METADATA_MAX_AGE && seen.is_none_or(|s| *at > s);
            if fresh {
                return Ok(m.clone());
            }
        }
        let issuer = self.inner.config.issuer.clone();
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &self.inner.http)
            .await
            .map_err(|e| ProviderError::Discovery {
                issuer: issuer.as_str().to_string(),
                detail: causes(&e),
            })?;
        *slot = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// When the cached metadata was fetched.
    async fn fetched_at(&self) -> Option<Instant> {
        self.inner.provider.read().await.as_ref().map(|(_, at)| *at)
    }

    /// At start-up: reads the provider once, so a wrong issuer shows in the log at once.
    /// An unreachable provider does not stop the server (password sign-in goes on); the
    /// next SSO sign-in tries again.
    pub async fn check_at_start(&self) {
        let issuer = self.inner.config.issuer.as_str().to_string();
        match self.metadata().await {
            Ok(_) => tracing::info!(
                issuer = %issuer,
                redirect_url = %self.inner.config.redirect.as_str(),
                "single sign-on ready (register the redirect URL at the provider)"
            ),
            Err(e) => tracing::error!(
                issuer = %issuer,
                error = %e,
                "single sign-on: the identity provider is unreachable at start-up; \
                 SSO sign-ins will try again and explain the outage, password sign-in works"
            ),
        }
    }

    /// The client for the provider as discovered.
    fn client(&self, metadata: CoreProviderMetadata) -> ProviderClient {
        let c = &self.inner.config;
        CoreClient::from_provider_metadata(metadata, c.client_id.clone(), c.client_secret.clone())
            .set_redirect_uri(c.redirect.clone())
    }
}

/// The client as built from discovery: authorization endpoint set, token and userinfo
/// endpoints as the provider's metadata says.
type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The routes (mounted whether SSO is configured or not: unconfigured, they explain it).
pub fn router(auth: Auth) -> Router {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
        .with_state(auth)
}

/// The first value of each query parameter (a malformed or repeated one cannot fail the
/// request: what is missing is refused with a message further on).
fn params(query: Option<&str>) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// `fr` (the default, written as nothing in URLs) or `en`.
fn lang_code(lang: &str) -> &'static str {
    if lang == "en" {
        "en"
    } else {
        ""
    }
}

/// Back to the sign-in page with an error code (and a detail the page shows as is).
fn refused(code: &str, detail: &str, lang: &str) -> Response {
    back_to(
        "/login",
        &[
            ("error", code),
            ("detail", detail),
            ("lang", lang_code(lang)),
        ],
    )
}

/// The state cookie (`None`: the one that clears it), `Secure` as the session cookie is.
fn state_cookie(auth: &Auth, value: Option<&str>, headers: &HeaderMap) -> String {
    let (v, age) = match value {
        Some(v) => (v, PENDING_SECONDS),
        None => ("", 0),
    };
    format!(
        "{STATE_COOKIE}={v}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={age}{}",
        if auth.secure_cookie(headers) {
            "; Secure"
        } else {
            ""
        }
    )
}

/// `GET /auth/oidc/start`: to the provider, with a fresh state, nonce and PKCE challenge.
async fn start(
    State(auth): State<Auth>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let q = params(query.as_deref());
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let lang = lang_code(get("lang"));
    let (Some(sso), Some(w)) = (&auth.sso, &auth.warehouse) else {
        return refused("sso_off", "", lang);
    };
    let metadata = match sso.metadata().await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, address = %address, "single sign-on: provider unreachable");
            auth.audit(
                "",
                &address,
                "sign-in failed",
                "sso: identity provider unreachable",
            )
            .await;
            return refused("sso_unreachable", "", lang);
        }
    };
    let client = sso.client(metadata);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in &sso.config().scopes {
        request = request.add_scope(scope.clone());
    }
    // The provider's pages in the page's language, when it has it.
    let locale = if lang == "en" { "en" } else { "fr" };
    request = request.add_ui_locale(openidconnect::LanguageTag::new(locale.into()));
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = PendingSso {
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        next: safe_next(get("next")).to_string(),
        lang: lang.to_string(),
    };
    let now = auth.now();
    if let Err(e) = w
        .put_sso_pending(
            &secret::digest(state.secret()),
            &pending,
            now,
            now + PENDING_SECONDS,
        )
        .await
    {
        tracing::error!(error = %e, "single sign-on: cannot store a sign-in begun");
        return refused("unavailable", "", lang);
    }
    with_cookie(
        Redirect::to(url.as_str()).into_response(),
        state_cookie(&auth, Some(state.secret()), &headers),
    )
}

/// The provider's answer at the callback.
#[derive(Debug, Default)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// The provider's issuer, when it says it (RFC 9207, against mix-up attacks).
    iss: Option<String>,
}

impl CallbackQuery {
    fn parse(query: Option<&str>) -> CallbackQuery {
        let mut p = params(query);
        CallbackQuery {
            code: p.remove("code"),
            state: p.remove("state"),
            error: p.remove("error"),
            error_description: p.remove("error_description"),
            iss: p.remove("iss"),
        }
    }
}

/// `GET /auth/oidc/callback`: the provider's answer. The state cookie is cleared whatever
/// happens.
async fn callback(
    State(auth): State<Auth>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let q = CallbackQuery::parse(query.as_deref());
    let response = finish(&auth, &address, &headers, q).await;
    with_cookie(response, state_cookie(&auth, None, &headers))
}

/// A refused SSO sign-in: logged, audited with the address, and worded on the sign-in page.
async fn fail(
    auth: &Auth,
    address: &str,
    who: &str,
    code: &str,
    detail: &str,
    reason: &str,
    lang: &str,
) -> Response {
    tracing::warn!(username = who, address, reason, "single sign-on refused");
    auth.audit(who, address, "sign-in failed", &format!("sso: {reason}"))
        .await;
    refused(code, detail, lang)
}

async fn finish(auth: &Auth, address: &str, headers: &HeaderMap, q: CallbackQuery) -> Response {
    let (Some(sso), Some(w)) = (&auth.sso, &auth.warehouse) else {
        return refused("sso_off", "", "");
    };
    // The begun sign-in, taken once whatever follows (an error answer included).
    let pending = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(state) => match w.take_sso_pending(&secret::digest(state), auth.now()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "single sign-on: cannot read a sign-in begun");
                return refused("unavailable", "", "");
            }
        },
    };
    let lang = pending.as_ref().map(|p| p.lang.clone()).unwrap_or_default();
    if let Some(error) = q.error.as_deref() {
        let (code, detail) = if error == "access_denied" {
            ("sso_denied", "")
        } else {
            ("sso_provider", error)
        };
        let reason = format!(
            "the provider answered {error}: {}",
            q.error_description.as_deref().unwrap_or("")
        );
        return fail(auth, address, "", code, detail, &reason, &lang).await;
    }
    let Some(pending) = pending else {
        return fail(
            auth,
            address,
            "",
            "sso_state",
            "",
            "unknown, expired or already used state",
            &lang,
        )
        .await;
    };
    let bound = match (
        super::cookie_value(headers, STATE_COOKIE),
        q.state.as_deref(),
    ) {
        (Some(cookie), Some(state)) => secret::same_secret(cookie.as_bytes(), state.as_bytes()),
        _ => false,
    };
    if !bound {
        return fail(
            auth,
            address,
            "",
            "sso_state",
            "",
            "the state is not this browser's (no or another state cookie)",
            &lang,
        )
        .await;
    }
    if let Some(iss) = q.iss.as_deref() {
        if iss.trim_end_matches('/') != sso.config().issuer.as_str().trim_end_matches('/') {
            let reason = format!("the answer names another issuer: {iss}");
            return fail(auth, address, "", "sso_token", "", &reason, &lang).await;
        }
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return fail(
            auth,
            address,
            "",
            "sso_token",
            "",
            "no code in the answer",
            &lang,
        )
        .await;
    };
    let metadata = match sso.metadata().await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "single sign-on: provider unreachable");
            return fail(
                auth,
                address,
                "",
                "sso_unreachable",
                "",
                "provider unreachable",
                &lang,
            )
            .await;
        }
    };
    let client = sso.client(metadata);
    let request = match client.exchange_code(AuthorizationCode::new(code)) {
        Ok(r) => r,
        Err(e) => {
            let reason = format!("the provider has no token endpoint: {e}");
            return fail(auth, address, "", "sso_token", "", &reason, &lang).await;
        }
    };
    let tokens = match request
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&sso.inner.http)
        .await
    {
        Ok(t) => t,
        Err(RequestTokenError::Request(e)) => {
            let reason = format!("token endpoint unreachable: {}", causes(&e));
            return fail(auth, address, "", "sso_unreachable", "", &reason, &lang).await;
        }
        Err(e) => {
            let reason = format!("the code exchange failed: {}", causes(&e));
            return fail(auth, address, "", "sso_token", "", &reason, &lang).await;
        }
    };
    let Some(id_token) = tokens.id_token() else {
        return fail(auth, address, "", "sso_token", "", "no ID token", &lang).await;
    };
    // The same token, read with every claim kept, and checked by the crate: signature
    // (the provider's JWKS), issuer, audience, expiry and nonce.
    let full: FullIdToken = match id_token.to_string().parse() {
        Ok(t) => t,
        Err(e) => {
            let reason = format!("unreadable ID token: {e}");
            return fail(auth, address, "", "sso_token", "", &reason, &lang).await;
        }
    };
    let nonce = Nonce::new(pending.nonce.clone());
    let fetched = sso.fetched_at().await;
    let verified = {
        let verifier = client.id_token_verifier();
        full.claims(&verifier, &nonce).cloned()
    };
    let claims = match verified {
        Ok(c) => c,
        // A key the cached JWKS does not have: the provider may have rotated its keys.
        Err(ClaimsVerificationError::SignatureVerification(_)) => {
            match sso.refresh(fetched).await {
                Ok(m) => {
                    let fresh = sso.client(m);
                    let verifier = fresh.id_token_verifier();
                    match full.claims(&verifier, &nonce) {
                        Ok(c) => c.clone(),
                        Err(e) => {
                            let reason = format!("ID token refused: {}", causes(&e));
                            return fail(auth, address, "", "sso_token", "", &reason, &lang).await;
                        }
                    }
                }
                Err(e) => {
                    let reason = format!("ID token keys unavailable: {e}");
                    return fail(auth, address, "", "sso_unreachable", "", &reason, &lang).await;
                }
            }
        }
        Err(e) => {
            let reason = format!("ID token refused: {}", causes(&e));
            return fail(auth, address, "", "sso_token", "", &reason, &lang).await;
        }
    };
    let issuer = claims.issuer().as_str().to_string();
    let subject = claims.subject().as_str().to_string();
    let name_hint = claims
        .preferred_username()
        .map(|u| u.as_str().to_string())
        .or_else(|| claims.email().map(|e| e.as_str().to_string()))
        .unwrap_or_else(|| subject.clone());
    let grant = match sso_claims::grant(
        &claims.additional_claims().claims,
        &sso.config().claims,
        sso.inner.simulator.reference(),
    ) {
        Ok(g) => g,
        Err(e) => {
            let reason = e.to_string();
            return fail(
                auth,
                address,
                &name_hint,
                e.code(),
                e.claim(),
                &reason,
                &lang,
            )
            .await;
        }
    };
    let account = match w
        .sso_account(
            &issuer,
            &subject,
            &name_hint,
            grant.role,
            &grant.stores,
            auth.now(),
        )
        .await
    {
        Ok(SsoAccount::Ready(a)) => a,
        Ok(SsoAccount::Disabled(a)) => {
            return fail(
                auth,
                address,
                &a.username,
                "disabled",
                "",
                "the account is disabled",
                &lang,
            )
            .await;
        }
        Err(AccountError::Taken(name)) => {
            let reason = format!("no free username near {name:?}");
            return fail(auth, address, &name_hint, "sso_name", "", &reason, &lang).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "single sign-on: cannot store the account");
            return refused("unavailable", "", &lang);
        }
    };
    let cookie = match open_session(auth, &account, headers, address).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    tracing::info!(username = %account.username, address, role = account.role.code(), "signed in (sso)");
    auth.audit(
        &account.username,
        address,
        "sign-in",
        &format!("sso, role {}", account.role.code()),
    )
    .await;
    let next = if pending.lang == "en" && !pending.next.contains("lang=") {
        let sep = if pending.next.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang=en", pending.next)
    } else {
        pending.next.clone()
    };
    with_cookie(Redirect::to(&next).into_response(), cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> SsoArgs {
        SsoArgs {
            oidc_issuer: Some("https://id.example/realms/shop".into()),
            oidc_client_id: Some("datamag".into()),
            oidc_client_secret_file: None,
            public_url: Some("https://dm.example/".into()),
            oidc_role_claim: "datamag_role".into(),
            oidc_stores_claim: "datamag_stores".into(),
            oidc_scopes: "openid profile, email".into(),
        }
    }

    #[test]
    fn the_callback_reads_the_first_of_each_parameter() {
        let q = CallbackQuery::parse(Some("code=a%2Bb&state=s&state=t&iss=http%3A%2F%2Fid&x=1"));
        assert_eq!(q.code.as_deref(), Some("a+b"));
        assert_eq!(q.state.as_deref(), Some("s"));
        assert_eq!(q.iss.as_deref(), Some("http://id"));
        assert!(q.error.is_none());
        let q = CallbackQuery::parse(None);
        assert!(q.code.is_none() && q.state.is_none());
    }

    #[test]
    fn the_configuration_is_checked_and_names_the_redirect_url() {
        let c = args().config_with(None).expect("valid").expect("on");
        assert_eq!(c.redirect.as_str(), "https://dm.example/auth/oidc/callback");
        assert_eq!(
            c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["profile", "email"]
        );
        assert!(c.client_secret.is_none());
        // Off without an issuer.
        let off = SsoArgs {
            oidc_issuer: None,
            ..args()
        };
        assert!(off.config_with(None).expect("off").is_none());
        // Render's own address when no public URL is set.
        let render = SsoArgs {
            public_url: None,
            ..args()
        };
        let c = render
            .config_with(Some("https://dm.onrender.com".into()))
            .expect("valid")
            .expect("on");
        assert_eq!(
            c.redirect.as_str(),
            "https://dm.onrender.com/auth/oidc/callback"
        );
        // Partial configurations stop the start with a message naming what is missing.
        let e = render.config_with(None).expect_err("no public URL");
        assert!(e.to_string().contains("DATAMAG_PUBLIC_URL"), "{e}");
        let e = SsoArgs {
            oidc_client_id: None,
            ..args()
        }
        .config_with(None)
        .expect_err("no client id");
        assert!(e.to_string().contains("DATAMAG_OIDC_CLIENT_ID"), "{e}");
        let e = SsoArgs {
            oidc_client_secret_file: Some("/nonexistent/secret".into()),
            ..args()
        }
        .config_with(None)
        .expect_err("unreadable secret");
        assert!(e.to_string().contains("secret file"), "{e}");
    }
}
