//! E-mail over SMTP with `lettre` (async, tokio, rustls).
//!
//! Each message is plain text (UTF-8, quoted-printable where needed) with no link. It carries
//! the outbox's idempotency key twice: as `X-Borgerportal-Idempotency-Key`, and folded into
//! a Message-ID that is the same on every resend, so a receiving system (or a person's mail
//! client) can recognise a message sent again after a crash.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::{EmailSender, SendError};
use crate::config::{MailConfig, SmtpTls};

/// The header that carries the outbox's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "X-Borgerportal-Idempotency-Key";

/// One e-mail to send. `Debug` hides the address and the text (which may hold a code).
#[derive(Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The sender mailbox, e.g. `Borgerportal <ikke-svar@borgerportal.example>`.
    pub from: String,
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// The outbox's key for the message.
    pub idempotency_key: String,
}

impl std::fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailMessage")
            .field("idempotency_key", &self.idempotency_key)
            .finish_non_exhaustive()
    }
}

/// `X-Borgerportal-Idempotency-Key` as a typed `lettre` header.
#[derive(Clone)]
struct IdempotencyKey(String);

impl Header for IdempotencyKey {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(IdempotencyKey(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

impl EmailMessage {
    /// The message as `lettre` builds it. Fails (permanently) on an address it cannot parse.
    pub fn to_lettre(&self) -> Result<Message, SendError> {
        let from: Mailbox = self
            .from
            .parse()
            .map_err(|_| SendError::Permanent("email.from".to_owned()))?;
        let to: Mailbox = self
            .to
            .parse()
            .map_err(|_| SendError::Permanent("email.address".to_owned()))?;
        // The same Message-ID on every resend: derived from the key (which may hold characters
        // a Message-ID may not), at the sender's domain.
        let digest = Sha256::digest(self.idempotency_key.as_bytes());
        let id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let domain = from.email.domain().to_owned();
        Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(format!("<{id}.notify@{domain}>")))
            .header(IdempotencyKey(self.idempotency_key.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(self.body.clone())
            .map_err(|_| SendError::Permanent("email.build".to_owned()))
    }
}

/// Sends through one SMTP server.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender").finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// A sender for the configured server. Fails when the TLS set-up for the host cannot be
    /// made (a host name that is not one).
    pub fn new(config: &MailConfig) -> Result<SmtpSender, lettre::transport::smtp::Error> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let host = config.smtp_host.as_str();
        let builder = match config.smtp_tls {
            SmtpTls::None => Transport::builder_dangerous(host),
            SmtpTls::Starttls => Transport::starttls_relay(host)?,
            SmtpTls::Tls => Transport::relay(host)?,
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(Duration::from_secs(config.timeout_seconds.max(1))));
        let password = config.smtp_password.expose_secret();
        if !config.smtp_username.is_empty() || !password.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.smtp_username.clone(),
                password.to_owned(),
            ));
        }
        Ok(SmtpSender {
            transport: builder.build(),
        })
    }
}

#[async_trait]
impl EmailSender for SmtpSender {
    async fn send(&self, message: &EmailMessage) -> Result<(), SendError> {
        let email = message.to_lettre()?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(error) => Err(classify(&error)),
        }
    }
}

/// A 5xx reply is for good; a 4xx, a timeout or a broken connection is worth another try.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let code = error.status().map(|code| code.to_string());
    if error.is_permanent() {
        SendError::Permanent(format!("smtp.{}", code.as_deref().unwrap_or("5xx")))
    } else if error.is_transient() {
        SendError::Retry(format!("smtp.{}", code.as_deref().unwrap_or("4xx")))
    } else if error.is_timeout() {
        SendError::Retry("smtp.timeout".to_owned())
    } else if error.is_tls() {
        SendError::Retry("smtp.tls".to_owned())
    } else {
        SendError::Retry("smtp.connection".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_carries_the_key_and_a_stable_message_id() {
        let message = EmailMessage {
            from: "Borgerportal <ikke-svar@borgerportal.example>".to_owned(),
            to: "kari@example.no".to_owned(),
            subject: "Koden din fra Borgerportal".to_owned(),
            body: "Koden din er 123456.".to_owned(),
            idempotency_key: "contact.verify_code:0190".to_owned(),
        };
        let first = String::from_utf8(message.to_lettre().unwrap().formatted()).unwrap();
        let again = String::from_utf8(message.to_lettre().unwrap().formatted()).unwrap();
        assert!(first.contains("X-Borgerportal-Idempotency-Key: contact.verify_code:0190"));
        let message_id = |raw: &str| {
            raw.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .map(str::to_owned)
        };
        assert!(message_id(&first)
            .unwrap()
            .ends_with("@borgerportal.example>"));
        assert_eq!(message_id(&first), message_id(&again));
        assert!(!format!("{message:?}").contains("123456"));
        let bad = EmailMessage {
            to: "not an address".to_owned(),
            ..message
        };
        assert_eq!(
            bad.to_lettre().unwrap_err(),
            SendError::Permanent("email.address".to_owned())
        );
    }
}
