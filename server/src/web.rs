//! The axum application: REST API + Leptos pages + static site, and the serve loop.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use app::services::Services;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use pipeline::{Clock, SystemClock};
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use tower_http::compression::predicate::SizeAbove;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::admin::AdminState;
use crate::auth::Auth;
use crate::metrics::Metrics;
use crate::ready::Readiness;

use crate::api;
use crate::cli::ServeArgs;

/// Everything a request handler may need.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    /// Who may see what (sign-in, sessions, tokens).
    pub auth: Auth,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(services: Services, site_root: &str, addr: SocketAddr) -> Self {
        // A site built by scripts/build.sh names its files by content hash (site/hash.txt);
        // Leptos joins `hash_file` to the binary's folder, so it gets an absolute path.
        let hash_file = std::path::Path::new(site_root).join(crate::delivery::HASH_FILE);
        let hash_file = std::path::absolute(&hash_file).unwrap_or(hash_file);
        let leptos_options = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(site_root)
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(hash_file.is_file())
            .hash_file(Arc::from(hash_file.to_string_lossy().as_ref()))
            .build();
        let auth = Auth::new(
            services.warehouse.clone(),
            services.clock.clone(),
            addr.ip(),
        );
        Self {
            leptos_options,
            services,
            auth,
        }
    }

    /// The same state with this access configuration.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
}

/// Content Security Policy of the pages: everything from this origin; the inline
/// hydration bootstrap script and WebAssembly compilation are allowed.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
                   object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// Public requests that take longer than this are answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application router: API, pages, static site, metrics, and the admin API.
/// Readiness checks the services' warehouse (see [`build_router_with`] for the lake).
pub fn build_router(state: AppState, admin: Option<AdminState>, metrics: Arc<Metrics>) -> Router {
    let readiness = Arc::new(Readiness::new(state.services.warehouse.clone(), None));
    build_router_with(state, admin, metrics, readiness)
}

/// [`build_router`] with an explicit readiness check (`/ready`, and the guard that answers
/// 503 on the warehouse's pages during an outage).
pub fn build_router_with(
    state: AppState,
    admin: Option<AdminState>,
    metrics: Arc<Metrics>,
    readiness: Arc<Readiness>,
) -> Router {
    let routes = generate_route_list(app::App);
    // Every path the router serves exactly: a trailing slash on one of them redirects.
    let mut known: HashSet<String> = routes.iter().map(|r| r.path().to_string()).collect();
    known.extend(api::PATHS.iter().map(|p| p.to_string()));
    known.extend(["/metrics", "/docs", "/redoc"].map(String::from));
    known.extend(["/login", "/logout", "/setup", "/account/password"].map(String::from));
    known.extend(
        [
            crate::auth::sso::START_PATH,
            crate::auth::sso::CALLBACK_PATH,
        ]
        .map(String::from),
    );
    let known = Arc::new(known);
    let auth = state.auth.clone();
    let services = state.services.clone();
    let options = state.leptos_options.clone();
    let site_root = std::path::PathBuf::from(&*state.leptos_options.site_root);
    let pages: Router = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(services.clone()),
            move || app::shell(options.clone()),
        )
        // Pages answer `If-None-Match` with 304 (an ETag of the rendered HTML).
        .layer(axum::middleware::from_fn(crate::delivery::conditional_page))
        .nest_service("/pkg", crate::delivery::pkg_service(&site_root))
        .fallback(page_fallback(state.services.clone(), known))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            readiness.clone(),
            crate::ready::guard_pages,
        ));
    let public = api::router(state.services)
        .merge(api::docs::router())
        .merge(crate::ready::router(readiness))
        .merge(pages)
        .route(
            "/metrics",
            get(crate::metrics::metrics_text).with_state(metrics.clone()),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    let mut router = public
        .merge(crate::auth::routes::router(auth.clone()))
        .merge(crate::auth::sso::router(auth.clone()));
    if let Some(admin) = admin {
        router = router.merge(crate::admin::router(admin));
    }
    router
        // Who is asking, and may they: every route and the fallback pass through here.
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::gate,
        ))
        // Every route's 405 carries a JSON body (axum still sets `Allow`).
        .method_not_allowed_fallback(api::error::method_not_allowed)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        // Pages and API answers are revalidated (pages by ETag); `/pkg` sets its own policy.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        // Small bodies (most API answers) are not worth compressing; the site's files come
        // precompressed (they carry Content-Encoding, which this layer leaves alone).
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(1024)))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// The span of a request. Query strings may carry secrets (tokens put in a URL): only
/// their parameter names are logged, at every level.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        query = %redacted_query(request.uri().query()),
        version = ?request.version(),
    )
}

/// `a=1&token=s3cret` → `a=…&token=…`: names kept, values never logged.
pub fn redacted_query(query: Option<&str>) -> String {
    let Some(query) = query else {
        return String::new();
    };
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, _)| format!("{name}=…"))
        .collect::<Vec<_>>()
        .join("&")
}

/// What answers a path no route matched: a 307 to the canonical form of a path that has
/// one (a trailing slash on a served path, dot segments, doubled slashes), else a static
/// file of the site, else the app's 404 page, rendered with the same context as the pages
/// (without it, a page that reads the services would panic and drop the connection).
fn page_fallback(
    services: Services,
    known: Arc<HashSet<String>>,
) -> impl Fn(
    Uri,
    State<AppState>,
    Request<Body>,
) -> Pin<Box<dyn Future<Output = Response> + Send + 'static>>
       + Clone
       + Send
       + Sync
       + 'static {
    let render = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        move || provide_context(services.clone()),
        app::shell,
    );
    move |uri: Uri, state: State<AppState>, request: Request<Body>| {
        let render = render.clone();
        let known = known.clone();
        Box::pin(async move {
            if let Some(location) = canonical_location(uri.path(), uri.query(), &known) {
                if let Ok(value) = HeaderValue::from_str(&location) {
                    return (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, value)])
                        .into_response();
                }
            }
            let (parts, body) = request.into_parts();
            if let Some(file) =
                crate::delivery::site_file(&state.leptos_options.site_root, &parts).await
            {
                return file;
            }
            render(uri, state, Request::from_parts(parts, body)).await
        })
    }
}

/// Where a non-canonical path should go, with its query: dot segments resolved, empty
/// segments dropped, and a trailing slash removed when the path without it is served.
/// `None` when the path is already canonical (or has no canonical served form).
pub fn canonical_location(
    path: &str,
    query: Option<&str>,
    known: &HashSet<String>,
) -> Option<String> {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let resolved = format!("/{}", segments.join("/"));
    let slash = path.len() > 1 && path.ends_with('/');
    let target = if resolved != "/" && slash && !known.contains(&resolved) {
        // A trailing slash on an unknown path: keep it, only clean what precedes.
        format!("{resolved}/")
    } else {
        resolved
    };
    if target == path {
        return None;
    }
    Some(match query {
        Some(q) => format!("{target}?{q}"),
        None => target,
    })
}

/// Runs the server (and, unless disabled, the scheduled jobs) until SIGINT/SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = Arc::new(Metrics::default());
    let pipeline = crate::pipeline_setup::build(&args.pipeline, clock.clone())
        .await?
        .with_observer(metrics.clone());
    // Held until the process ends: `datamag360 restore` refuses to replace the files meanwhile.
    let _serving = match pipeline.warehouse.sqlite_main_file() {
        Some(main) => Some(
            pipeline::warehouse::backup::hold_serving_lock(&main)
                .context("cannot lock the SQLite warehouse for serving")?,
        ),
        None => None,
    };
    let addr = SocketAddr::new(args.host, args.port);
    let site_root = args.site_root.to_string_lossy().into_owned();
    if !crate::delivery::site_is_hashed(&args.site_root) {
        tracing::warn!(
            site_root = %site_root,
            "the site folder has no hash.txt: pages will render without interactivity \
             (build it with scripts/build.sh or set DATAMAG_SITE_ROOT)"
        );
    }
    let mut scheduler = if args.no_scheduler {
        tracing::info!("scheduler disabled: this process serves only");
        None
    } else {
        Some(
            pipeline::jobs::scheduler::start(pipeline.clone(), args.pipeline.backfill_days)
                .await
                .context("cannot start the scheduler")?,
        )
    };
    let clock_for_auth = clock.clone();
    let sso = match args.sso.config()? {
        Some(_) if args.auth == crate::auth::AuthSetting::Off => {
            tracing::warn!("DATAMAG_AUTH=off: single sign-on is configured but unused");
            None
        }
        Some(config) => Some(crate::auth::sso::Sso::new(
            config,
            pipeline.simulator.clone(),
        )?),
        None => None,
    };
    let services = Services::new(pipeline.simulator.clone(), clock)
        .with_sso(sso.is_some())
        .with_warehouse(pipeline.warehouse.clone())
        .with_activity(pipeline.activity.clone())
        .with_pipeline(pipeline.clone());
    let mut auth = Auth::new(Some(pipeline.warehouse.clone()), clock_for_auth, args.host);
    auth.setting = args.auth;
    auth.cookie_secure = args.cookie_secure;
    auth.trust_proxy = args.trust_proxy;
    auth.idle_timeout = args.session_idle_minutes * 60;
    auth.lifetime = args.session_max_hours * 3600;
    auth.metrics_token = args.metrics_token.as_deref().map(Arc::from);
    if let Some(sso) = &sso {
        sso.check_at_start().await;
    }
    auth.sso = sso;
    if !args.host.is_loopback() && args.auth == crate::auth::AuthSetting::Off {
        tracing::warn!(host = %args.host, "sign-in is off on a non-loopback address: anyone who reaches it sees every figure");
    }
    let link_host = if args.host.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        args.host.to_string()
    };
    auth.announce_setup(&format!("http://{link_host}:{}", args.port))
        .await
        .context("cannot prepare the set-up link")?;
    let state = AppState::new(services, &site_root, addr).with_auth(auth);
    let token = args.admin_token()?;
    match &token {
        Some(t) if t.len() < 16 => {
            anyhow::bail!("DATAMAG_ADMIN_TOKEN is too short: use at least 16 random characters")
        }
        Some(_) => tracing::info!("admin API enabled (bearer token)"),
        None => tracing::info!("admin API disabled: set DATAMAG_ADMIN_TOKEN to enable it"),
    }
    let admin = AdminState {
        pipeline: pipeline.clone(),
        token: token.map(Arc::from),
        backfill_days: args.pipeline.backfill_days,
    };
    let readiness = Arc::new(Readiness::new(
        Some(pipeline.warehouse.clone()),
        Some(pipeline.lake.clone()),
    ));
    let router = build_router_with(state, Some(admin), metrics, readiness);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, "DataMag360 listening: http://{addr}/");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    pipeline.request_stop();
    if let Some(s) = scheduler.as_mut() {
        if let Err(e) = s.shutdown().await {
            tracing::warn!(error = %e, "scheduler shutdown");
        }
    }
    // Wait (bounded) for a running job to reach a partition boundary.
    if tokio::time::timeout(std::time::Duration::from_secs(30), pipeline.wait_idle())
        .await
        .is_err()
    {
        tracing::warn!("a job was still running after 30 s: abandoned (its partition will re-run)");
    }
    pipeline.leadership.release().await;
    pipeline.warehouse.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested, finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_locations() {
        let known: HashSet<String> = ["/", "/dashboard", "/visiteurs"]
            .map(String::from)
            .into_iter()
            .collect();
        let at = |p: &str, q: Option<&str>| canonical_location(p, q, &known);
        assert_eq!(at("/dashboard/", None).as_deref(), Some("/dashboard"));
        assert_eq!(
            at("/visiteurs/", Some("city_store=Paris")).as_deref(),
            Some("/visiteurs?city_store=Paris")
        );
        assert_eq!(at("/./dashboard", None).as_deref(), Some("/dashboard"));
        assert_eq!(at("/..", None).as_deref(), Some("/"));
        assert_eq!(at("/x/..", None).as_deref(), Some("/"));
        assert_eq!(at("/../../x", None).as_deref(), Some("/x"));
        assert_eq!(at("//evil.example", None).as_deref(), Some("/evil.example"));
        assert_eq!(at("/a//b/", None).as_deref(), Some("/a/b/"));
        // Already canonical, or a trailing slash with nothing served without it.
        assert_eq!(at("/", None), None);
        assert_eq!(at("/dashboard", None), None);
        assert_eq!(at("/nowhere/", None), None);
        assert_eq!(at("/nowhere", None), None);
    }

    #[test]
    fn query_values_never_reach_the_logs() {
        assert_eq!(redacted_query(None), "");
        let shown = redacted_query(Some("city_store=Lyon&token=s3cret&lang=en"));
        assert_eq!(shown, "city_store=…&token=…&lang=…");
        assert!(!shown.contains("s3cret"));
    }
}
