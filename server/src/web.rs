//! The axum application: REST API + Leptos pages + static site, and the serve loop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use app::services::Services;
use axum::extract::FromRef;
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
use crate::metrics::Metrics;
use crate::ready::Readiness;

use crate::api;
use crate::cli::ServeArgs;

/// Everything a request handler may need.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(services: Services, site_root: &str, addr: SocketAddr) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name(app::OUTPUT_NAME)
            .site_root(site_root)
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        Self {
            leptos_options,
            services,
        }
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
    let services = state.services.clone();
    let options = state.leptos_options.clone();
    let pages: Router = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(services.clone()),
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            readiness.clone(),
            crate::ready::guard_pages,
        ));
    let public = api::router(state.services)
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
    let mut router = public;
    if let Some(admin) = admin {
        router = router.merge(crate::admin::router(admin));
    }
    router
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
        // Built assets are replaced whole on deploy; let browsers revalidate them cheaply.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        // Small bodies (most API answers) are not worth compressing.
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

/// Runs the server (and, unless disabled, the scheduled jobs) until SIGINT/SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = Arc::new(Metrics::default());
    let pipeline = crate::pipeline_setup::build(&args.pipeline, clock.clone())
        .await?
        .with_observer(metrics.clone());
    let addr = SocketAddr::new(args.host, args.port);
    let site_root = args.site_root.to_string_lossy().into_owned();
    if !args
        .site_root
        .join("pkg")
        .join(format!("{}.js", app::OUTPUT_NAME))
        .exists()
    {
        tracing::warn!(
            site_root = %site_root,
            "the site folder has no pkg/datamag360.js: pages will render without interactivity \
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
    let services =
        Services::new(pipeline.simulator.clone(), clock).with_warehouse(pipeline.warehouse.clone());
    let state = AppState::new(services, &site_root, addr);
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
    axum::serve(listener, router)
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
    fn query_values_never_reach_the_logs() {
        assert_eq!(redacted_query(None), "");
        let shown = redacted_query(Some("city_store=Lyon&token=s3cret&lang=en"));
        assert_eq!(shown, "city_store=…&token=…&lang=…");
        assert!(!shown.contains("s3cret"));
    }
}
