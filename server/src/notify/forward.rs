//! Letters for citizens who chose an external mailbox provider (`[[mailbox_providers]]`):
//! the domain puts them in a forwarding queue at delivery; this forwarder claims them with a
//! lease and `POST`s each to the provider as one JSON document (attachments in base64) with
//! `Authorization: Bearer <token>` and `Idempotency-Key: <letter id>`, so a resend after a
//! crash is recognised. At least once, like the outbox.
//!
//! Answers: 2xx = the provider has it (a `forwarded` receipt); 408, 429, 5xx, a timeout or a
//! broken connection = try again with the notification worker's backoff; any other status =
//! the provider will never take it, so the letter goes on paper at once (print queue and a
//! `returned_to_paper` receipt), as it does after the last retry and for a provider the
//! configuration does not know.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use borgerportal::outbox::RetryPolicy;
use borgerportal::storage::{Database, StoreError};
use borgerportal::{ForwardJob, ForwardOutcome};
use secrecy::SecretString;
use serde::Serialize;
use tokio::task::JoinSet;

use super::{Clock, SendError};
use crate::config::MailboxProviderConfig;

/// One configured provider.
#[derive(Clone)]
struct Provider {
    client: reqwest::Client,
    url: String,
    token: SecretString,
}

/// The letter as a provider receives it.
#[derive(Serialize)]
struct ForwardedLetter<'a> {
    letter_id: String,
    message_id: &'a str,
    agency: &'a str,
    sender_name: &'a str,
    /// The recipient's national id: the provider finds the mailbox by it.
    recipient: &'a str,
    title: &'a str,
    non_sensitive_title: &'a str,
    required_loa: &'a str,
    is_decision: bool,
    body_html: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    delivered_at: time::OffsetDateTime,
    attachments: Vec<ForwardedAttachment<'a>>,
}

#[derive(Serialize)]
struct ForwardedAttachment<'a> {
    filename: &'a str,
    content_base64: String,
}

/// Forwards the queue's letters. Cheap to clone.
#[derive(Clone)]
pub struct Forwarder {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    providers: HashMap<String, Provider>,
    clock: Arc<dyn Clock>,
    name: String,
    lease: time::Duration,
    batch: u32,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.inner.providers.keys().collect();
        ids.sort();
        f.debug_struct("Forwarder")
            .field("providers", &ids)
            .finish_non_exhaustive()
    }
}

impl Forwarder {
    /// A forwarder for the configured providers, claiming as `name` (with the notification
    /// worker's lease, batch size and retry policy).
    pub fn new(
        db: Database,
        providers: &[MailboxProviderConfig],
        clock: Arc<dyn Clock>,
        name: &str,
        lease: time::Duration,
        batch: u32,
        retry: RetryPolicy,
    ) -> Result<Forwarder, reqwest::Error> {
        let mut by_id = HashMap::new();
        for provider in providers {
            let client = reqwest::Client::builder()
                .timeout(StdDuration::from_secs(provider.timeout_seconds.max(1)))
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            by_id.insert(
                provider.id.clone(),
                Provider {
                    client,
                    url: provider.url.clone(),
                    token: provider.token.clone(),
                },
            );
        }
        Ok(Forwarder {
            inner: Arc::new(Inner {
                db,
                providers: by_id,
                clock,
                name: format!("{name}-forward"),
                lease,
                batch,
                retry,
            }),
        })
    }

    /// Claims one batch of due letters, forwards them concurrently and records each outcome;
    /// returns how many were claimed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let inner = &self.inner;
        let jobs = inner
            .db
            .claim_forwarding(inner.clock.now(), &inner.name, inner.batch, inner.lease)
            .await?;
        let count = jobs.len();
        let mut sends = JoinSet::new();
        for job in jobs {
            let inner = Arc::clone(&self.inner);
            sends.spawn(async move { inner.forward(job).await });
        }
        while let Some(joined) = sends.join_next().await {
            if let Err(error) = joined {
                tracing::error!(%error, "a forwarding task failed");
            }
        }
        Ok(count)
    }
}

impl Inner {
    async fn forward(&self, job: ForwardJob) {
        let letter = job.letter;
        let outcome = match self.providers.get(&job.provider) {
            Some(provider) => send(provider, &job).await,
            None => Err(SendError::Permanent("provider.unknown".to_owned())),
        };
        let now = self.clock.now();
        let recorded = match &outcome {
            Ok(()) => self
                .db
                .mark_forwarded(letter, &self.name, now)
                .await
                .map(|held| {
                    tracing::info!(letter.id = %letter, provider = %job.provider, held, "letter forwarded");
                }),
            Err(error) => {
                let permanent = matches!(error, SendError::Permanent(_));
                self.db
                    .mark_forward_failed(letter, &self.name, now, error.code(), permanent, &self.retry)
                    .await
                    .map(|result| match result {
                        ForwardOutcome::RetryAt(at) => tracing::warn!(
                            letter.id = %letter, provider = %job.provider, error = error.code(),
                            retry_at = %at, "forwarding failed; will retry"
                        ),
                        ForwardOutcome::ReturnedToPaper => tracing::warn!(
                            letter.id = %letter, provider = %job.provider, error = error.code(),
                            "forwarding given up: the letter goes on paper"
                        ),
                        ForwardOutcome::NotClaimed => tracing::warn!(
                            letter.id = %letter, "forwarding no longer held by this worker"
                        ),
                    })
            }
        };
        if let Err(error) = recorded {
            tracing::warn!(letter.id = %letter, %error, "could not record a forwarding outcome; it will be tried again");
        }
    }
}

async fn send(provider: &Provider, job: &ForwardJob) -> Result<(), SendError> {
    let body = ForwardedLetter {
        letter_id: job.letter.to_string(),
        message_id: &job.message_id,
        agency: job.agency.as_str(),
        sender_name: &job.sender_name,
        recipient: job.recipient.expose(),
        title: &job.title,
        non_sensitive_title: &job.safe_title,
        required_loa: job.required_loa.as_str(),
        is_decision: job.is_decision,
        body_html: &job.body_html,
        delivered_at: job.delivered_at,
        attachments: job
            .attachments
            .iter()
            .map(|attachment| ForwardedAttachment {
                filename: &attachment.info.filename,
                content_base64: STANDARD.encode(&attachment.content),
            })
            .collect(),
    };
    super::post_json(
        &provider.client,
        &provider.url,
        &provider.token,
        &job.letter.to_string(),
        &body,
        "forward",
    )
    .await
}

/// What a provider's status means for the letter.
#[cfg(test)]
fn classify(status: reqwest::StatusCode) -> Result<(), SendError> {
    super::classify_http(status, "forward")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn statuses_decide_between_forwarded_retry_and_paper() {
        assert_eq!(classify(StatusCode::CREATED), Ok(()));
        for retry in [500, 503, 429, 408] {
            assert!(matches!(
                classify(StatusCode::from_u16(retry).unwrap()),
                Err(SendError::Retry(_))
            ));
        }
        for permanent in [400, 401, 404, 409, 422, 302] {
            assert!(matches!(
                classify(StatusCode::from_u16(permanent).unwrap()),
                Err(SendError::Permanent(_))
            ));
        }
    }
}
