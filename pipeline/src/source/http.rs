//! The HTTP source: a client of any server speaking the original API contract, with
//! retries ([`RetryPolicy`]); the JSON it reads is [`crate::releves`] for the bulk route.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::retry::RetryPolicy;
use crate::clock::HourSlot;
use crate::records::{HourRows, TransactionRow, VisitorRow};
use crate::reference::Reference;
use crate::releves::Releves;

/// Why an hour could not be read from the HTTP source. URLs are shown without
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid source URL {url:?}: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error("GET {url}: {message} (after {attempts} attempts)")]
    Request {
        url: String,
        attempts: u32,
        message: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url}: HTTP {status} (after {attempts} attempts)")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("GET {url}: HTTP {status}")]
    Refused { url: String, status: u16 },
    #[error("GET {url}: unexpected answer: {message}")]
    Invalid { url: String, message: String },
    #[error("GET {url} and the {count} other per-sensor requests of the hour: no HTTP 200 answer (first: HTTP {status})")]
    NoAnswer {
        url: String,
        count: usize,
        status: u16,
    },
}

/// What is known of the server's bulk route.
const BULK_UNKNOWN: u8 = 0;
const BULK_OFFERED: u8 = 1;
const BULK_MISSING: u8 = 2;

/// A server speaking the original API contract.
#[derive(Clone)]
pub struct HttpSource {
    base: Arc<Base>,
    client: reqwest::Client,
    retry: RetryPolicy,
    concurrency: usize,
    /// Whether `/releves` exists, learnt from the first answers (shared by clones).
    bulk: Arc<AtomicU8>,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("base_url", &self.base.shown.as_str())
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// The API root as given, and without credentials for messages and logs.
#[derive(Debug)]
struct Base {
    url: Url,
    shown: Url,
}

/// Per-request limits of the default client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Per-sensor requests in flight at once.
const DEFAULT_CONCURRENCY: usize = 8;

impl HttpSource {
    pub fn new(base_url: &str) -> Result<Self, SourceError> {
        let invalid = |message: String| SourceError::InvalidUrl {
            url: crate::redact::text(base_url),
            message,
        };
        let base = Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid("expected an http:// or https:// URL".into()));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host".into()));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("datamag360/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SourceError::Client)?;
        Ok(Self {
            base: Arc::new(Base {
                shown: crate::redact::url(&base),
                url: base,
            }),
            client,
            retry: RetryPolicy::default(),
            concurrency: DEFAULT_CONCURRENCY,
            bulk: Arc::new(AtomicU8::new(BULK_UNKNOWN)),
        })
    }

    /// Uses this client (timeouts, proxies, TLS roots) instead of the default one.
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = RetryPolicy {
            attempts: retry.attempts.max(1),
            base: retry.base,
        };
        self
    }

    /// Per-sensor requests in flight at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The base URL without credentials.
    pub fn base_url(&self) -> &str {
        self.base.shown.as_str()
    }

    /// The rows of one hour for the chain `reference`, in the simulator's order.
    pub async fn fetch_hour(
        &self,
        reference: &Reference,
        slot: HourSlot,
    ) -> Result<HourRows, SourceError> {
        if self.bulk.load(Ordering::Relaxed) != BULK_MISSING {
            match self.fetch_bulk(slot).await? {
                Bulk::Rows(rows) => {
                    self.bulk.store(BULK_OFFERED, Ordering::Relaxed);
                    return Ok(rows);
                }
                Bulk::NotOffered { url, reason } => {
                    if self.bulk.load(Ordering::Relaxed) == BULK_OFFERED {
                        // The route answered before: this is about the hour, not the route.
                        return Err(SourceError::Invalid {
                            url,
                            message: reason,
                        });
                    }
                    tracing::info!(
                        url = %url,
                        reason = %reason,
                        "source has no bulk route: per-sensor requests"
                    );
                }
            }
        }
        let rows = self.fetch_per_sensor(reference, slot).await?;
        // Only now is it clear that the bulk route is missing rather than the hour.
        self.bulk.store(BULK_MISSING, Ordering::Relaxed);
        Ok(rows)
    }

    async fn fetch_bulk(&self, slot: HourSlot) -> Result<Bulk, SourceError> {
        let params = date_params(slot);
        let (url, answer) = self.get("releves", &params).await?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED
            | StatusCode::GONE
            | StatusCode::NOT_IMPLEMENTED => {
                return Ok(Bulk::NotOffered {
                    url,
                    reason: format!("HTTP {}{}", answer.status.as_u16(), detail(&answer.body)),
                })
            }
            status => {
                return Err(SourceError::Refused {
                    url,
                    status: status.as_u16(),
                })
            }
        }
        let releves: Releves = match serde_json::from_slice(&answer.body) {
            Ok(r) => r,
            Err(e) => {
                return Ok(Bulk::NotOffered {
                    url,
                    reason: format!("not the bulk JSON ({e})"),
                })
            }
        };
        let (date, heure) = (slot_date(slot), slot.heure());
        if releves.date != date || releves.heure != heure {
            return Err(SourceError::Invalid {
                url,
                message: format!(
                    "asked for {date} {heure}, got {} {}",
                    releves.date, releves.heure
                ),
            });
        }
        if releves.is_closed {
            return Ok(Bulk::Rows((Vec::new(), Vec::new())));
        }
        let visitors = releves
            .visiteurs
            .into_iter()
            .filter(|v| v.nb_visiteurs != Some(CLOSED))
            .map(|v| VisitorRow {
                store_id: i64::from(v.store_id),
                sensor_id: i64::from(v.sensor_id),
                date: date.clone(),
                heure: heure.clone(),
                nb_visiteurs: v.nb_visiteurs,
            })
            .collect();
        let transactions = releves
            .transactions
            .into_iter()
            .filter(|t| t.transactions != CLOSED)
            .map(|t| TransactionRow {
                store_id: i64::from(t.store_id),
                date: date.clone(),
                heure: heure.clone(),
                transactions: Some(t.transactions),
                chiffre_affaires: Some(t.chiffre_affaires),
            })
            .collect();
        Ok(Bulk::Rows((visitors, transactions)))
    }

    async fn fetch_per_sensor(
        &self,
        reference: &Reference,
        slot: HourSlot,
    ) -> Result<HourRows, SourceError> {
        let (date, heure) = (slot_date(slot), slot.heure());
        let mut calls = Vec::with_capacity(reference.sensor_count() + reference.stores().len());
        for store in reference.stores() {
            for sensor in reference.sensors_of(store.store_id) {
                calls.push(Call::Visitors {
                    store_id: store.store_id,
                    city_store: &store.city_store,
                    sensor_id: sensor.sensor_id,
                });
            }
            calls.push(Call::Transactions {
                store_id: store.store_id,
                city_store: &store.city_store,
            });
        }
        let count = calls.len();
        // The futures are built before the stream (not by a stream combinator's closure),
        // which keeps the collect future `Send` for the scheduler's `tokio::spawn`.
        let requests: Vec<_> = calls.into_iter().map(|c| self.call(c, slot)).collect();
        let answers: Vec<(String, Answer, Call<'_>)> = stream::iter(requests)
            .buffered(self.concurrency)
            .try_collect()
            .await?;

        let mut visitors = Vec::with_capacity(reference.sensor_count());
        let mut transactions = Vec::with_capacity(reference.stores().len());
        let mut refused: Option<(String, u16)> = None;
        let mut answered = 0usize;
        for (url, answer, call) in answers {
            if answer.status != StatusCode::OK {
                tracing::debug!(url = %url, status = answer.status.as_u16(), "no row: not HTTP 200");
                refused.get_or_insert((url, answer.status.as_u16()));
                continue;
            }
            answered += 1;
            match call {
                Call::Visitors {
                    store_id,
                    sensor_id,
                    ..
                } => {
                    let v: VisiteursAnswer = parse(&url, &answer.body)?;
                    if v.is_closed == Some(true) || v.visiteurs == Some(CLOSED) {
                        continue;
                    }
                    visitors.push(VisitorRow {
                        store_id: i64::from(store_id),
                        sensor_id: i64::from(sensor_id),
                        date: date.clone(),
                        heure: heure.clone(),
                        nb_visiteurs: v.visiteurs,
                    });
                }
                Call::Transactions { store_id, .. } => {
                    let t: TransactionsAnswer = parse(&url, &answer.body)?;
                    if t.transactions == Some(CLOSED) {
                        continue;
                    }
                    transactions.push(TransactionRow {
                        store_id: i64::from(store_id),
                        date: date.clone(),
                        heure: heure.clone(),
                        transactions: t.transactions,
                        chiffre_affaires: t.chiffre_affaires,
                    });
                }
            }
        }
        if answered == 0 {
            if let Some((url, status)) = refused {
                // Nothing at all for the hour (not yet available, wrong base URL): fail
                // rather than record an empty hour as collected.
                return Err(SourceError::NoAnswer {
                    url,
                    count: count.saturating_sub(1),
                    status,
                });
            }
        }
        Ok((visitors, transactions))
    }

    /// One per-sensor (or per-store) request.
    async fn call<'r>(
        &self,
        call: Call<'r>,
        slot: HourSlot,
    ) -> Result<(String, Answer, Call<'r>), SourceError> {
        let mut params = vec![("city_store", call.city_store().to_string())];
        params.extend(date_params(slot));
        let path = match call {
            Call::Visitors { sensor_id, .. } => {
                params.push(("sensor_id", sensor_id.to_string()));
                "visiteurs"
            }
            Call::Transactions { .. } => "transactions",
        };
        let (url, answer) = self.get(path, &params).await?;
        Ok((url, answer, call))
    }

    /// One GET with retries on connection errors, timeouts and 5xx (but 501). Returns
    /// the URL (without credentials) and the final answer, whatever its status.
    async fn get(
        &self,
        path: &str,
        params: &[(&'static str, String)],
    ) -> Result<(String, Answer), SourceError> {
        let url = build_url(&self.base.url, path, params);
        let shown = build_url(&self.base.shown, path, params).to_string();
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(url.clone()).await;
            let retryable = match &outcome {
                Ok(answer) => {
                    answer.status.is_server_error() && answer.status != StatusCode::NOT_IMPLEMENTED
                }
                Err(e) => e.is_connect() || e.is_timeout() || e.is_request() || e.is_body(),
            };
            if !retryable {
                return match outcome {
                    Ok(answer) => Ok((shown, answer)),
                    Err(source) => Err(request_error(shown, attempt, source)),
                };
            }
            if attempt >= self.retry.attempts {
                return Err(match outcome {
                    Ok(answer) => SourceError::Status {
                        url: shown,
                        status: answer.status.as_u16(),
                        attempts: attempt,
                    },
                    Err(source) => request_error(shown, attempt, source),
                });
            }
            let delay = self.retry.delay(attempt);
            match &outcome {
                Ok(answer) => tracing::warn!(
                    url = %shown,
                    attempt,
                    status = answer.status.as_u16(),
                    delay_ms = delay.as_millis() as u64,
                    "source answered a server error: retrying"
                ),
                Err(e) => tracing::warn!(
                    url = %shown,
                    attempt,
                    error = %DisplayWithoutUrl(e),
                    delay_ms = delay.as_millis() as u64,
                    "source request failed: retrying"
                ),
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, url: Url) -> Result<Answer, reqwest::Error> {
        let response = self.client.get(url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok(Answer { status, body })
    }
}

fn request_error(url: String, attempts: u32, source: reqwest::Error) -> SourceError {
    SourceError::Request {
        url,
        attempts,
        message: DisplayWithoutUrl(&source).to_string(),
        source: source.without_url(),
    }
}

/// The value the original API answers for closed stores.
const CLOSED: i64 = -1;

struct Answer {
    status: StatusCode,
    body: Bytes,
}

enum Bulk {
    Rows(HourRows),
    NotOffered { url: String, reason: String },
}

#[derive(Clone, Copy)]
enum Call<'r> {
    Visitors {
        store_id: u32,
        city_store: &'r str,
        sensor_id: u32,
    },
    Transactions {
        store_id: u32,
        city_store: &'r str,
    },
}

impl Call<'_> {
    fn city_store(&self) -> &str {
        match self {
            Call::Visitors { city_store, .. } | Call::Transactions { city_store, .. } => city_store,
        }
    }
}

/// `GET /visiteurs` (one sensor, one hour).
#[derive(Deserialize)]
struct VisiteursAnswer {
    #[serde(default)]
    is_closed: Option<bool>,
    visiteurs: Option<i64>,
}

/// `GET /transactions` (one store, one hour).
#[derive(Deserialize)]
struct TransactionsAnswer {
    transactions: Option<i64>,
    chiffre_affaires: Option<f64>,
}

fn parse<'a, T: Deserialize<'a>>(url: &str, body: &'a [u8]) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| SourceError::Invalid {
        url: url.to_string(),
        message: format!("not the expected JSON ({e})"),
    })
}

/// `: <detail>` from an error body in the API's shape (`{"detail": "..."}`), shortened.
fn detail(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        detail: String,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) if !e.detail.trim().is_empty() => {
            let text: String = e.detail.trim().chars().take(200).collect();
            format!(": {text}")
        }
        _ => String::new(),
    }
}

fn slot_date(slot: HourSlot) -> String {
    crate::spelling::date_text(slot.date)
}

fn date_params(slot: HourSlot) -> [(&'static str, String); 4] {
    use chrono::Datelike;
    [
        ("year", slot.date.year().to_string()),
        ("month", slot.date.month().to_string()),
        ("day", slot.date.day().to_string()),
        ("hour", slot.hour.to_string()),
    ]
}

/// `{base}/{path}?{base query&}{params}`.
fn build_url(base: &Url, path: &str, params: &[(&'static str, String)]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(path);
    }
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
    }
    url
}

/// A reqwest error shown without the URL it carries (which may hold credentials).
struct DisplayWithoutUrl<'a>(&'a reqwest::Error);

impl std::fmt::Display for DisplayWithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(self.0);
        let kind = if self.0.is_timeout() {
            "timed out"
        } else if self.0.is_connect() {
            "connection failed"
        } else if self.0.is_body() {
            "body read failed"
        } else {
            "request failed"
        };
        write!(f, "{kind}")?;
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn slot() -> HourSlot {
        HourSlot::new(NaiveDate::from_ymd_opt(2025, 3, 4).expect("date"), 9).expect("slot")
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_parameters() {
        let base = Url::parse("http://u:p@host:8080/api").expect("url");
        let mut params = vec![("city_store", "Saint-Étienne & co".to_string())];
        params.extend(date_params(slot()));
        let url = build_url(&base, "visiteurs", &params);
        assert_eq!(
            url.as_str(),
            "http://u:p@host:8080/api/visiteurs?city_store=Saint-%C3%89tienne+%26+co&year=2025&month=3&day=4&hour=9"
        );
        let root = Url::parse("http://host/").expect("url");
        assert_eq!(
            build_url(&root, "releves", &date_params(slot())).as_str(),
            "http://host/releves?year=2025&month=3&day=4&hour=9"
        );
    }

    #[test]
    fn shown_urls_carry_no_credentials() {
        let source = HttpSource::new("https://user:secret@host/api?code=k3y").expect("source");
        assert_eq!(source.base_url(), "https://host/api?code=REDACTED");
        let shown = build_url(&source.base.shown, "releves", &date_params(slot()));
        assert!(!shown.as_str().contains("secret") && !shown.as_str().contains("k3y"));
        assert_eq!(
            crate::redact::text("http://user:pw@ho st/"),
            "http://ho st/",
            "unparsable URLs lose their credentials too"
        );
        assert!(format!("{source:?}").contains("host/api"));
        assert!(!format!("{source:?}").contains("secret"));
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in ["not a url", "ftp://host/", "mailto:x@y", "file:///tmp"] {
            assert!(
                matches!(HttpSource::new(bad), Err(SourceError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }
}
