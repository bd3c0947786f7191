//! Sending what the outbox holds: the background worker, the e-mail and SMS senders, and the
//! texts.
//!
//! The domain queues a notification in the same transaction as the change that causes it
//! (`borgerportal::outbox`); this module takes it from there. A [`Worker`] claims due
//! messages in batches, renders each in the recipient's language from `locales/*.json`
//! (section `notify`), hands it to an [`EmailSender`] or an [`SmsGateway`], and records the
//! outcome: sent, or a failed attempt that is retried with backoff until it is given up.
//!
//! Delivery is at least once: a process killed between the send and `mark_sent` leaves a
//! lease that runs out, and the message is sent again by whichever worker claims it next. So
//! every send carries the outbox's idempotency key (an `Idempotency-Key` header to the SMS
//! gateway, an `X-Borgerportal-Idempotency-Key` header and a Message-ID derived from it in
//! e-mail) for the receiver to drop the duplicate.
//!
//! The default configuration sends nothing off the machine: both channels go to a
//! [`FileSink`] in `data_dir/outbox-sink`.
//!
//! The same worker drives the [`Forwarder`], which sends letters for citizens with an
//! external mailbox provider to that provider (`[[mailbox_providers]]`), queues the unread
//! reminders, and every [`END_NOTICE_INTERVAL`] queues the notices of delegations that end
//! within 14 days.

mod email;
mod forward;
mod render;
mod sink;
mod sms;
mod worker;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;

pub use email::{EmailMessage, SmtpSender};
pub use forward::Forwarder;
pub use render::{render, Rendered};
pub use sink::{FileSink, SinkRecord};
pub use sms::{HttpSmsGateway, SmsMessage};
pub use worker::{Worker, WorkerSettings, END_NOTICE_INTERVAL};

/// Why a send did not go through. The code is short and harmless (`smtp.550`,
/// `sms.http.503`, `sms.timeout`): it is stored with the attempt, so it never quotes an
/// address or a gateway's free text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (a timeout, a 5xx, a 408 or 429, a 4xx SMTP reply).
    #[error("temporary send failure: {0}")]
    Retry(String),
    /// Will never work (a 4xx from the gateway, a 5xx SMTP reply): give up at once.
    #[error("permanent send failure: {0}")]
    Permanent(String),
}

impl SendError {
    /// The short code stored with the attempt.
    pub fn code(&self) -> &str {
        match self {
            SendError::Retry(code) | SendError::Permanent(code) => code,
        }
    }
}

/// `POST`s `body` as JSON to a partner's HTTP endpoint (the SMS gateway, a mailbox provider)
/// with an `Idempotency-Key` and, when one is configured, a bearer token. The outcome's codes
/// start with `prefix`: `<prefix>.timeout`, `<prefix>.connection`, `<prefix>.http.<status>`.
async fn post_json<T: serde::Serialize + ?Sized>(
    client: &reqwest::Client,
    url: &str,
    token: &secrecy::SecretString,
    idempotency_key: &str,
    body: &T,
    prefix: &str,
) -> Result<(), SendError> {
    use secrecy::ExposeSecret as _;
    let mut request = client
        .post(url)
        .header("Idempotency-Key", idempotency_key)
        .json(body);
    let token = token.expose_secret();
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|error| {
        let what = if error.is_timeout() {
            "timeout"
        } else {
            "connection"
        };
        SendError::Retry(format!("{prefix}.{what}"))
    })?;
    classify_http(response.status(), prefix)
}

/// What a partner's HTTP status means: 2xx done; 5xx, 429 and 408 worth another try; any
/// other answer will never work.
fn classify_http(status: reqwest::StatusCode, prefix: &str) -> Result<(), SendError> {
    let code = format!("{prefix}.http.{}", status.as_u16());
    if status.is_success() {
        Ok(())
    } else if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        Err(SendError::Retry(code))
    } else {
        Err(SendError::Permanent(code))
    }
}

/// Something that delivers e-mail: SMTP, or the file sink.
#[async_trait]
pub trait EmailSender: Send + Sync {
    /// Hands one message over. `Ok` means the receiving server accepted it.
    async fn send(&self, message: &EmailMessage) -> Result<(), SendError>;
}

/// Something that delivers SMS: an HTTP gateway, or the file sink. Another provider is one
/// more implementation.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Hands one message over. `Ok` means the gateway accepted it.
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError>;
}

/// The time, as the worker sees it: the real clock in production, a settable one in tests
/// (quiet hours are decided by it).
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that says what it is told (tests).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: OffsetDateTime) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Moves it to `at` (also backwards).
    pub fn set(&self, at: OffsetDateTime) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}
