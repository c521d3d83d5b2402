//! Where collect reads an hour from: the in-process simulator (the default), or any HTTP
//! server speaking the original DataMag360 API contract.
//!
//! Over HTTP, the bulk form `GET {base}/releves?year&month&day&hour` is tried first (one
//! request per hour). When the server does not offer it (404, 405, 410 or 501 on that
//! route, or an answer that is not the bulk JSON), the original's per-sensor calls are
//! made instead: `GET {base}/visiteurs?city_store&year&month&day&hour&sensor_id` for every
//! sensor of the chain and `GET {base}/transactions?city_store&year&month&day&hour` for
//! every store. Either way the rows are those the simulator path yields for that hour:
//! rows only for HTTP 200 answers, none on closed days (`is_closed` or `-1`).
//!
//! Connection errors, timeouts and 5xx answers are retried with exponential backoff;
//! when the attempts run out the hour fails (and the ledger retries it later) rather than
//! being written without those rows.

mod http;
mod retry;

pub use http::{HttpSource, SourceError};
pub use retry::RetryPolicy;

/// Where [`crate::Pipeline::collect`] reads an hour from.
#[derive(Debug, Clone, Default)]
pub enum Source {
    /// Simulates the hour in-process (no network).
    #[default]
    Simulator,
    /// Reads the hour from a server speaking the original API.
    Http(HttpSource),
}

impl Source {
    /// An HTTP source with the default client, retries and concurrency.
    /// `base_url` is the API root, e.g. `https://datamag.example.org` or
    /// `http://127.0.0.1:3000/api`; `user:password@` in it is sent as basic auth.
    pub fn http(base_url: &str) -> Result<Self, SourceError> {
        HttpSource::new(base_url).map(Source::Http)
    }

    /// For logs: `simulator` or the base URL without credentials.
    pub fn describe(&self) -> String {
        match self {
            Source::Simulator => "simulator".to_string(),
            Source::Http(http) => http.base_url().to_string(),
        }
    }
}
