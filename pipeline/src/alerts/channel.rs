//! Where alerts go (a channel: a signed webhook, a Slack-compatible webhook, an email
//! address, for some stores) and what was sent there (a delivery). Plain data, compiled for
//! the browser too: the alerts page lists channels and failed deliveries. A channel's
//! secret never leaves the server: [`Channel`] carries only a hint of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::StoreScope;
use crate::lang::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A generic webhook signed as the Standard Webhooks convention says
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`).
    Webhook,
    /// A Slack-compatible incoming webhook (`{"text": …}`; Mattermost, Rocket.Chat, Teams'
    /// Slack-compatible connectors read it too).
    Slack,
    /// An email address, over SMTP with STARTTLS (the server's `DATAMAG_SMTP_*` settings).
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] =
        [ChannelKind::Webhook, ChannelKind::Slack, ChannelKind::Email];

    pub fn key(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Email => "email",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.key().eq_ignore_ascii_case(key.trim()))
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            ChannelKind::Webhook => l.pick("webhook signé", "signed webhook"),
            ChannelKind::Slack => l.pick("webhook Slack", "Slack webhook"),
            ChannelKind::Email => l.pick("e-mail", "email"),
        }
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// A channel as shown to an admin: never its secret, and a Slack URL (which is itself a
/// secret) only up to its host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    /// The URL or address, masked where it carries a secret.
    pub target: String,
    /// The first characters of the secret (`whsec_MfKQ…`), when there is one.
    pub secret_hint: Option<String>,
    /// The stores whose alerts it receives.
    pub scope: StoreScope,
    /// The language of its messages (`fr`, `en`).
    pub lang: String,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What an admin configures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    /// `https://…` for the webhooks, `name@example.com` for email.
    pub target: String,
    /// The webhook's signing secret, `whsec_<base64>`; required for `webhook`, refused for
    /// the others.
    pub secret: Option<String>,
    pub scope: StoreScope,
    pub lang: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a sender right now (or by one that died: taken over when its lease ends).
    Sending,
    Sent,
    /// Out of attempts: visible, not retried automatically.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sending,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            DeliveryStatus::Pending => l.pick("en attente", "pending"),
            DeliveryStatus::Sending => l.pick("en cours d'envoi", "sending"),
            DeliveryStatus::Sent => l.pick("envoyée", "sent"),
            DeliveryStatus::Failed => l.pick("en échec", "failed"),
        }
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// One message to one channel, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub channel_id: i64,
    pub channel_name: String,
    pub kind: ChannelKind,
    /// The detection run (`detect:2025-03-14T10`), or `test:…` for a test message.
    pub run: String,
    /// The store whose digest it is (0 for a test).
    pub store_id: i64,
    /// The message's id, the same on every attempt (`webhook-id`).
    pub message_id: String,
    /// How many alerts the digest holds.
    pub alert_count: i64,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Delivery {
    pub fn is_test(&self) -> bool {
        self.run.starts_with("test:")
    }
}
