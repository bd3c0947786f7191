//! SMS through an HTTP gateway: one JSON `POST` per message.
//!
//! The request is `{"to": "+4791234567", "text": "…", "idempotency_key": "…"}` with
//! `Authorization: Bearer <token>` and the key again as an `Idempotency-Key` header (the
//! convention of most gateways and of the IETF draft), so a gateway that saw the key drops the
//! resend that follows a crash. Answers: 2xx = accepted; 408, 429 and 5xx = try again later;
//! any other status = the gateway will never take it (a bad number, a refused token), so the
//! message fails for good; a timeout or a broken connection = try again.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Serialize;

use super::{SendError, SmsGateway};
use crate::config::SmsConfig;

/// One SMS to send. `Debug` hides the number and the text (which may hold a code).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct SmsMessage {
    /// The number in E.164 (`+4791234567`).
    pub to: String,
    /// The text.
    pub text: String,
    /// The outbox's key for the message.
    pub idempotency_key: String,
}

impl std::fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsMessage")
            .field("idempotency_key", &self.idempotency_key)
            .finish_non_exhaustive()
    }
}

/// A gateway that takes JSON over HTTP with a bearer token.
#[derive(Clone)]
pub struct HttpSmsGateway {
    client: reqwest::Client,
    url: String,
    token: SecretString,
}

impl std::fmt::Debug for HttpSmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmsGateway")
            .field("url", &self.url)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl HttpSmsGateway {
    /// A client for the configured gateway.
    pub fn new(config: &SmsConfig) -> Result<HttpSmsGateway, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(HttpSmsGateway {
            client,
            url: config.url.clone(),
            token: config.token.clone(),
        })
    }
}

#[async_trait]
impl SmsGateway for HttpSmsGateway {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        super::post_json(
            &self.client,
            &self.url,
            &self.token,
            &message.idempotency_key,
            message,
            "sms",
        )
        .await
    }
}

/// What a gateway's status means for the message.
#[cfg(test)]
fn classify(status: reqwest::StatusCode) -> Result<(), SendError> {
    super::classify_http(status, "sms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn statuses_decide_between_sent_retry_and_give_up() {
        assert_eq!(classify(StatusCode::OK), Ok(()));
        assert_eq!(classify(StatusCode::ACCEPTED), Ok(()));
        for retry in [500, 502, 503, 429] {
            let status = StatusCode::from_u16(retry).unwrap();
            assert_eq!(
                classify(status),
                Err(SendError::Retry(format!("sms.http.{retry}")))
            );
        }
        for permanent in [400, 401, 403, 404, 422, 301] {
            let status = StatusCode::from_u16(permanent).unwrap();
            assert_eq!(
                classify(status),
                Err(SendError::Permanent(format!("sms.http.{permanent}")))
            );
        }
    }
}
