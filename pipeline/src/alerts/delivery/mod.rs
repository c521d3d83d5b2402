//! Sending alerts: the deliveries the warehouse holds (one digest per channel, detection run
//! and store, or a test) are claimed atomically, sent (signed webhook, Slack-compatible
//! webhook, email over SMTP with STARTTLS) and recorded: sent, or failed with the error and
//! retried with exponential backoff while attempts remain. The queue and its backoff are in
//! the warehouse, so a restart, or another replica, continues them.
//!
//! Why here and not in the server: detection runs in the pipeline's jobs (the leader's
//! reconciler) and queues its digests there; sending right after, from the same process and
//! with the same clock, needs no web framework (reqwest and lettre), and the CLI's
//! `alerts channel test` uses the same code as the page's button.

pub mod email;
pub mod message;
pub mod webhook;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alerts::channel::{ChannelKind, Delivery};
use crate::lang::Lang;
use crate::warehouse::alerts::{Actor, AlertError, ClaimedDelivery, Digest};
use crate::warehouse::{Warehouse, WarehouseError};
use email::SmtpConfig;
use message::Message;

/// How deliveries are sent and retried.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Attempts before a delivery is left `failed` (visible, retried by hand).
    pub max_attempts: i64,
    /// The first retry's delay; doubled at each attempt (at most 64×).
    pub retry_base: Duration,
    /// One attempt's time limit (connection and answer).
    pub timeout: Duration,
    /// How long a claim holds before another sender may take the delivery over.
    pub lease: Duration,
    /// The SMTP server for email channels (`None`: email deliveries fail and say why).
    pub smtp: Option<SmtpConfig>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            retry_base: Duration::from_secs(60),
            timeout: Duration::from_secs(15),
            lease: Duration::from_secs(120),
            smtp: None,
        }
    }
}

/// What one pass of [`Deliverer::deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    pub sent: u64,
    /// Failed attempts that will be retried.
    pub retrying: u64,
    /// Failed attempts that were the last.
    pub failed: u64,
}

/// Why one attempt failed (its text is stored as the delivery's last error).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("HTTP {status} from the receiver{}", body.as_deref().map(|b| format!(": {b}")).unwrap_or_default())]
    Status { status: u16, body: Option<String> },
    #[error("cannot reach the receiver: {0}")]
    Http(String),
    #[error("the channel's secret is not a valid whsec_ secret")]
    Secret,
    #[error("the stored message cannot be read: {0}")]
    Payload(String),
    #[error(transparent)]
    Email(#[from] email::EmailError),
}

/// Sends deliveries (one per process; cheap to clone).
#[derive(Debug, Clone)]
pub struct Deliverer {
    config: DeliveryConfig,
    http: reqwest::Client,
}

impl Deliverer {
    pub fn new(config: DeliveryConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("DataMag360/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { config, http })
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.config
    }

    /// When a failed attempt number `attempt` is retried (`None`: it was the last).
    fn retry_at(&self, attempt: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (attempt < self.config.max_attempts).then(|| {
            let factor = 2u32.saturating_pow(attempt.saturating_sub(1).clamp(0, 6) as u32);
            now + chrono::Duration::from_std(self.config.retry_base * factor)
                .unwrap_or(chrono::Duration::minutes(1))
        })
    }

    /// Sends every delivery due at `now` that this process claims, and records each
    /// outcome. Safe to call from several replicas at once: each delivery is claimed by one.
    pub async fn deliver_due(
        &self,
        warehouse: &Warehouse,
        now: DateTime<Utc>,
    ) -> Result<DeliveryReport, WarehouseError> {
        let mut report = DeliveryReport::default();
        let lease =
            chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(2));
        loop {
            let claimed = warehouse.claim_deliveries(now, lease, 20).await?;
            if claimed.is_empty() {
                break;
            }
            for d in claimed {
                self.send_and_record(warehouse, &d, now, &mut report)
                    .await?;
            }
        }
        Ok(report)
    }

    async fn send_and_record(
        &self,
        warehouse: &Warehouse,
        d: &ClaimedDelivery,
        now: DateTime<Utc>,
        report: &mut DeliveryReport,
    ) -> Result<(), WarehouseError> {
        let outcome = self.send(d, now).await;
        match &outcome {
            Ok(()) => {
                report.sent += 1;
                tracing::info!(delivery = d.id, channel = d.channel_id, run = %d.run, store = d.store_id, attempt = d.attempt, "alert delivery sent");
                warehouse.finish_delivery(d.id, Ok(()), None, now).await?;
            }
            Err(e) => {
                let retry = self.retry_at(d.attempt, now);
                if retry.is_some() {
                    report.retrying += 1;
                } else {
                    report.failed += 1;
                }
                let message = e.to_string();
                tracing::warn!(delivery = d.id, channel = d.channel_id, attempt = d.attempt, retry_at = ?retry, error = %message, "alert delivery failed");
                warehouse
                    .finish_delivery(d.id, Err(&message), retry, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// One attempt at one delivery.
    async fn send(&self, d: &ClaimedDelivery, now: DateTime<Utc>) -> Result<(), SendError> {
        let digest: Digest =
            serde_json::from_str(&d.payload).map_err(|e| SendError::Payload(e.to_string()))?;
        let message = Message {
            digest: &digest,
            lang: Lang::from_code(Some(&d.lang)),
            channel_name: &d.channel_name,
        };
        match d.kind {
            ChannelKind::Webhook => {
                let key = d
                    .secret
                    .as_deref()
                    .and_then(webhook::secret_key)
                    .ok_or(SendError::Secret)?;
                let body = message
                    .webhook_body(d.created_at)
                    .map_err(|e| SendError::Payload(e.to_string()))?;
                let timestamp = now.timestamp();
                let signature = webhook::signature(&key, &d.message_id, timestamp, &body);
                let request = self
                    .http
                    .post(&d.target)
                    .header("content-type", "application/json")
                    .header("webhook-id", &d.message_id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(body);
                self.post(request).await
            }
            ChannelKind::Slack => {
                let body = message
                    .slack_body()
                    .map_err(|e| SendError::Payload(e.to_string()))?;
                let request = self
                    .http
                    .post(&d.target)
                    .header("content-type", "application/json")
                    .body(body);
                self.post(request).await
            }
            ChannelKind::Email => {
                let smtp = self
                    .config
                    .smtp
                    .as_ref()
                    .ok_or(email::EmailError::NotConfigured)?;
                email::send(
                    smtp,
                    &d.target,
                    &d.message_id,
                    &message,
                    self.config.timeout,
                )
                .await?;
                Ok(())
            }
        }
    }

    async fn post(&self, request: reqwest::RequestBuilder) -> Result<(), SendError> {
        // The URL is left out of the error: a Slack URL is a secret.
        let response = request
            .send()
            .await
            .map_err(|e| SendError::Http(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.ok().map(|b| {
            let b: String = b.chars().take(200).collect();
            b.trim().to_string()
        });
        Err(SendError::Status {
            status: status.as_u16(),
            body: body.filter(|b| !b.is_empty()),
        })
    }

    /// "Send a test": queues a test message to the channel (admins only, audited) and sends
    /// it at once; returns the delivery as recorded (sent, or pending with its error and
    /// next attempt, or failed).
    pub async fn send_test(
        &self,
        warehouse: &Warehouse,
        channel_id: i64,
        actor: Actor<'_>,
        now: DateTime<Utc>,
    ) -> Result<Delivery, AlertError> {
        let id = warehouse.enqueue_test(channel_id, actor, now).await?;
        let lease =
            chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::minutes(2));
        if let Some(d) = warehouse.claim_delivery(id, now, lease).await? {
            let mut report = DeliveryReport::default();
            self.send_and_record(warehouse, &d, now, &mut report)
                .await?;
        }
        warehouse
            .delivery(id, actor)
            .await?
            .ok_or(AlertError::NotFound {
                what: "delivery",
                id,
            })
    }
}
