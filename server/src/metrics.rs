//! Prometheus metrics at `GET /metrics`: HTTP requests, job runs, rows and failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pipeline::runs::{Job, RunStatus};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOnly {
    job: String,
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RequestLabels, Histogram>,
    job_runs: Family<JobLabels, Counter>,
    job_rows: Family<JobOnly, Counter>,
    job_failures: Family<JobOnly, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("datamag360");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        let job_runs = Family::<JobLabels, Counter>::default();
        let job_rows = Family::<JobOnly, Counter>::default();
        let job_failures = Family::<JobOnly, Counter>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            request_seconds.clone(),
        );
        registry.register(
            "job_runs",
            "Partition runs by job and outcome",
            job_runs.clone(),
        );
        registry.register(
            "job_rows",
            "Rows written by successful partition runs",
            job_rows.clone(),
        );
        registry.register(
            "job_failures",
            "Failed partition runs",
            job_failures.clone(),
        );
        // Every job's counters exist from the start, at zero.
        for job in Job::ALL {
            let name = job.key().to_string();
            for status in [RunStatus::Done, RunStatus::Failed] {
                let _ = job_runs.get_or_create(&JobLabels {
                    job: name.clone(),
                    status: status.key().to_string(),
                });
            }
            let _ = job_rows.get_or_create(&JobOnly { job: name.clone() });
            let _ = job_failures.get_or_create(&JobOnly { job: name });
        }
        Self {
            registry,
            requests,
            request_seconds,
            job_runs,
            job_rows,
            job_failures,
        }
    }
}

impl Metrics {
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }

    fn record_request(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let labels = RequestLabels {
            method,
            route: route.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }
}

impl pipeline::jobs::JobObserver for Metrics {
    fn partition_finished(&self, job: Job, ok: bool, rows: i64, _duration: Duration) {
        let status = if ok {
            RunStatus::Done
        } else {
            RunStatus::Failed
        };
        self.job_runs
            .get_or_create(&JobLabels {
                job: job.key().to_string(),
                status: status.key().to_string(),
            })
            .inc();
        let job = JobOnly {
            job: job.key().to_string(),
        };
        if ok {
            self.job_rows.get_or_create(&job).inc_by(rows.max(0) as u64);
        } else {
            self.job_failures.get_or_create(&job).inc();
        }
    }
}

/// The `method` label: the standard methods by name, any other one as `other` (clients
/// can send any token as a method; each would otherwise make new series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Middleware counting every request by its route pattern (not the raw path, to keep the
/// label set small): unmatched paths share `other` (or `/pkg/*`, `/api/*`), unknown
/// methods share `other`, so the series count is bounded whatever clients send.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| {
            let path = request.uri().path();
            if path.starts_with("/pkg/") {
                "/pkg/*".to_string()
            } else if path.starts_with("/api/") {
                // Unknown server-function paths share one label: no unbounded label set.
                "/api/*".to_string()
            } else {
                "other".to_string()
            }
        });
    let response = next.run(request).await;
    metrics.record_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

pub async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
