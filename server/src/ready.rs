//! Readiness: `/ready` answers 200 when the warehouse (and the lake, where it is remote)
//! answer within a short budget, 503 naming the failing part otherwise. `/health` stays
//! the liveness probe (the process answers). The same check guards the pages that read
//! the warehouse: during an outage they answer 503 at once with a message in the page's
//! language, and serve again as soon as the database is back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pipeline::{Lake, Warehouse};
use serde::Serialize;

/// Budget of each part's check.
pub const CHECK_BUDGET: Duration = Duration::from_millis(1500);
/// A check this recent is reused (readiness probes and page requests may come in bursts).
pub const REUSE_FOR: Duration = Duration::from_secs(1);

/// One part's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct PartCheck {
    pub part: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// `/ready`'s answer.
#[derive(Debug, Clone, Serialize)]
pub struct ReadyReport {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    pub checks: Vec<PartCheck>,
}

impl ReadyReport {
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    fn part_ok(&self, part: &str) -> bool {
        self.checks.iter().filter(|c| c.part == part).all(|c| c.ok)
    }
}

/// What readiness checks, and the last result.
#[derive(Debug)]
pub struct Readiness {
    warehouse: Option<Warehouse>,
    lake: Option<Lake>,
    last: tokio::sync::Mutex<Option<(Instant, ReadyReport)>>,
}

impl Readiness {
    /// `lake` is checked only when remote.
    pub fn new(warehouse: Option<Warehouse>, lake: Option<Lake>) -> Self {
        Self {
            warehouse,
            lake: lake.filter(Lake::is_remote),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The current state: a fresh check, or one made less than [`REUSE_FOR`] ago. One check
    /// runs at a time; callers arriving meanwhile get its result.
    pub async fn report(&self) -> ReadyReport {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = last.as_ref() {
            if at.elapsed() < REUSE_FOR {
                return report.clone();
            }
        }
        let report = self.check().await;
        if !report.is_ready() {
            tracing::warn!(
                failing = ?report.checks.iter().filter(|c| !c.ok).map(|c| c.part).collect::<Vec<_>>(),
                "not ready"
            );
        }
        *last = Some((Instant::now(), report.clone()));
        report
    }

    async fn check(&self) -> ReadyReport {
        let warehouse = async {
            let w = self.warehouse.as_ref()?;
            let started = Instant::now();
            let r = w.ping(CHECK_BUDGET).await;
            Some(PartCheck {
                part: "warehouse",
                ok: r.is_ok(),
                error: r.err().map(|e| e.to_string()),
                elapsed_ms: started.elapsed().as_millis() as u64,
            })
        };
        let lake = async {
            let l = self.lake.as_ref()?;
            let started = Instant::now();
            let r = match tokio::time::timeout(CHECK_BUDGET, l.probe()).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("the lake did not answer within {CHECK_BUDGET:?}")),
            };
            Some(PartCheck {
                part: "lake",
                ok: r.is_ok(),
                error: r.err(),
                elapsed_ms: started.elapsed().as_millis() as u64,
            })
        };
        let (w, l) = tokio::join!(warehouse, lake);
        let checks: Vec<PartCheck> = [w, l].into_iter().flatten().collect();
        let status = if checks.iter().all(|c| c.ok) {
            "ready"
        } else {
            "unavailable"
        };
        ReadyReport { status, checks }
    }
}

/// `GET /ready`: 200 or 503, with every part's outcome.
async fn ready(State(readiness): State<Arc<Readiness>>) -> Response {
    let report = readiness.report().await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(report),
    )
        .into_response()
}

pub fn router(readiness: Arc<Readiness>) -> Router {
    Router::new()
        .route("/ready", get(ready))
        .with_state(readiness)
}

/// Paths whose answer needs the warehouse: the pages and their server functions.
fn needs_warehouse(path: &str) -> bool {
    matches!(
        path,
        "/dashboard" | "/pipeline" | "/api/dashboard" | "/api/pipeline_view"
    )
}

/// Middleware: a page that reads the warehouse answers 503 at once while the warehouse is
/// unavailable (instead of waiting for the pool and rendering an error with 200).
pub async fn guard_pages(
    State(readiness): State<Arc<Readiness>>,
    request: Request,
    next: Next,
) -> Response {
    if readiness.warehouse.is_none() || !needs_warehouse(request.uri().path()) {
        return next.run(request).await;
    }
    let report = readiness.report().await;
    if report.part_ok("warehouse") {
        return next.run(request).await;
    }
    let english = request.uri().query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes())
            .any(|(k, v)| k == "lang" && v.eq_ignore_ascii_case("en"))
    });
    unavailable_page(request.uri().path().starts_with("/api/"), english)
}

fn unavailable_page(api: bool, english: bool) -> Response {
    let (title, message, retry) = if english {
        (
            "Temporarily unavailable",
            "The database cannot be reached right now. The page will work again as soon as \
             it is back; no data is lost.",
            "Try again",
        )
    } else {
        (
            "Momentanément indisponible",
            "La base de données est injoignable pour le moment. La page fonctionnera de \
             nouveau dès son retour ; aucune donnée n'est perdue.",
            "Réessayer",
        )
    };
    let headers = [
        (header::RETRY_AFTER, HeaderValue::from_static("5")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if api {
        return (StatusCode::SERVICE_UNAVAILABLE, headers, message).into_response();
    }
    let lang = if english { "en" } else { "fr" };
    let body = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · DataMag360</title>\
         <link rel=\"stylesheet\" href=\"/pkg/datamag360.css\"></head>\
         <body><main class=\"page\"><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"\">{retry}</a> · <a href=\"/\">DataMag360</a></p></main></body></html>"
    );
    (StatusCode::SERVICE_UNAVAILABLE, headers, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_reading_the_warehouse_are_guarded() {
        assert!(needs_warehouse("/dashboard"));
        assert!(needs_warehouse("/api/pipeline_view"));
        assert!(!needs_warehouse("/"));
        assert!(!needs_warehouse("/health"));
        assert!(!needs_warehouse("/ready"));
    }

    #[tokio::test]
    async fn the_unavailable_page_speaks_the_page_language() {
        use http_body_util::BodyExt;
        for (english, expected) in [(false, "indisponible"), (true, "unavailable")] {
            let r = unavailable_page(false, english);
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            let body = r.into_body().collect().await.expect("body").to_bytes();
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains(expected), "{text}");
        }
    }

    #[tokio::test]
    async fn nothing_to_check_is_ready() {
        let r = Readiness::new(None, None).report().await;
        assert!(r.is_ready());
        assert_eq!(r.status, "ready");
    }
}
