//! Email channels: a digest sent as a plain-text message over SMTP with STARTTLS (lettre,
//! rustls; never a cleartext session). The server's address, port, account, password file,
//! sender and an optional extra CA come from the environment (`DATAMAG_SMTP_*`, read by the
//! server into [`SmtpConfig`]).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::message::Message;

/// The SMTP server email channels go through.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    /// 587 (submission with STARTTLS) unless told.
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The sender, `DataMag360 <alerts@example.com>` or a bare address.
    pub from: String,
    /// A CA certificate (PEM) to trust besides the system's (a private CA, or a test's).
    pub extra_ca_pem: Option<Vec<u8>>,
}

/// The password never shows in logs or debug output.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("from", &self.from)
            .field("extra_ca", &self.extra_ca_pem.is_some())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("email is not configured on this server (DATAMAG_SMTP_HOST and DATAMAG_SMTP_FROM)")]
    NotConfigured,
    #[error("invalid address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Sends `message` to `to`; `message_id` becomes the email's Message-ID (the same on every
/// attempt).
pub async fn send(
    config: &SmtpConfig,
    to: &str,
    message_id: &str,
    message: &Message<'_>,
    timeout: Duration,
) -> Result<(), EmailError> {
    let mailbox = |address: &str| {
        address
            .trim()
            .parse::<Mailbox>()
            .map_err(|e| EmailError::Address {
                address: address.to_string(),
                reason: e.to_string(),
            })
    };
    let from = mailbox(&config.from)?;
    let domain = from.email.domain().to_string();
    let email = lettre::Message::builder()
        .from(from)
        .to(mailbox(to)?)
        .subject(message.subject())
        .message_id(Some(format!("<{message_id}@{domain}>")))
        .header(ContentType::TEXT_PLAIN)
        .body(message.text())
        .map_err(|e| EmailError::Build(e.to_string()))?;

    let mut tls = TlsParameters::builder(config.host.clone());
    if let Some(pem) = &config.extra_ca_pem {
        let ca = Certificate::from_pem(pem).map_err(|e| EmailError::Smtp(e.to_string()))?;
        tls = tls.add_root_certificate(ca);
    }
    let tls = tls
        .build_rustls()
        .map_err(|e| EmailError::Smtp(e.to_string()))?;
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        .port(config.port)
        .tls(Tls::Required(tls))
        .timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&config.user, &config.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let mailer: AsyncSmtpTransport<Tokio1Executor> = transport.build();
    mailer
        .send(email)
        .await
        .map_err(|e| EmailError::Smtp(e.to_string()))?;
    Ok(())
}
