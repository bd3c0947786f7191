//! The background worker: claim due messages, render, send, record.
//!
//! Every instance may run one; the outbox's claim (a lease, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL) keeps two workers off the same message. A batch is sent concurrently and waited
//! for as a whole, so a shutdown lets the messages in flight finish (each bounded by its
//! sender's timeout) and records their outcome before the process exits. The time comes from
//! an injected [`Clock`]: the quiet hours (no SMS 22:00–08:00 local time, applied by the
//! claim) are decided by it, so tests can stand at 21:59 or 22:00. Each round also queues the
//! reminders for unread letters that are due by that clock (once per letter, also with
//! several workers), so a test can stand 7 days after a decision was shown; and, at most every
//! [`END_NOTICE_INTERVAL`] by that clock, the notices to both parties of delegations that end
//! within 14 days (once per delegation and end date) and the signing jobs' reminders before
//! their deadline (once per job).

use std::sync::{Arc, Mutex};

use borgerportal::outbox::{Address, ClaimedNotification, FailedAttempt, RetryPolicy};
use borgerportal::storage::{Database, StoreError};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::sink::FileSink;
use super::{
    render, Clock, EmailMessage, EmailSender, Forwarder, HttpSmsGateway, SendError, SmsGateway,
    SmsMessage, SmtpSender, SystemClock,
};
use crate::config::{Config, MailTransport, SmsGatewayKind};

/// The folder in `data_dir` the default file sink writes into.
pub const SINK_FOLDER: &str = "outbox-sink";

/// How often a worker looks for delegations ending within 14 days (by its clock). Their
/// notice is a matter of days, so a round every few seconds would only cost queries; a full
/// batch is followed by the next at once.
pub const END_NOTICE_INTERVAL: time::Duration = time::Duration::minutes(10);

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The claimant's name in the outbox (unique per process and worker).
    pub name: String,
    /// How long an idle worker sleeps before it looks again.
    pub poll_interval: std::time::Duration,
    /// The most messages claimed at once.
    pub batch_size: u32,
    /// How long a claim lasts.
    pub lease: time::Duration,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// The e-mail sender mailbox.
    pub from: String,
}

impl WorkerSettings {
    /// The settings in the configuration, under a fresh unique name.
    pub fn from_config(config: &Config) -> WorkerSettings {
        let notify = &config.notify;
        WorkerSettings {
            name: worker_name(),
            poll_interval: std::time::Duration::from_millis(notify.poll_interval_ms.max(1)),
            batch_size: notify.batch_size.max(1),
            lease: time::Duration::seconds(i64::try_from(notify.lease_seconds).unwrap_or(600)),
            retry: RetryPolicy {
                max_attempts: notify.max_attempts.max(1),
                backoff: notify
                    .backoff_seconds
                    .iter()
                    .map(|s| time::Duration::seconds(i64::try_from(*s).unwrap_or(i64::MAX)))
                    .collect(),
            },
            from: config.mail.from.clone(),
        }
    }
}

/// `worker-<pid>-<random>`: a restarted process never passes for the one before it.
fn worker_name() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("worker-{}-{}", std::process::id(), &random[..12])
}

/// Why a worker could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the SMTP transport could not be set up: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the SMS gateway client could not be built: {0}")]
    Sms(#[from] reqwest::Error),
}

/// Sends what the outbox holds. Cheap to clone.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    email: Arc<dyn EmailSender>,
    sms: Arc<dyn SmsGateway>,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
    forwarder: Option<Forwarder>,
    /// When the delegation end-notice job may run next (`None`: at the next round).
    end_notices_from: Mutex<Option<time::OffsetDateTime>>,
}

/// A permanent failure is recorded as the last attempt.
fn give_up_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 1,
        backoff: Vec::new(),
    }
}

impl Worker {
    /// A worker with the given senders and clock.
    pub fn new(
        db: Database,
        email: Arc<dyn EmailSender>,
        sms: Arc<dyn SmsGateway>,
        clock: Arc<dyn Clock>,
        settings: WorkerSettings,
    ) -> Worker {
        Worker {
            inner: Arc::new(Inner {
                db,
                email,
                sms,
                clock,
                settings,
                forwarder: None,
                end_notices_from: Mutex::new(None),
            }),
        }
    }

    /// The same worker, also forwarding letters to external mailbox providers in each round.
    pub fn with_forwarder(self, forwarder: Forwarder) -> Worker {
        let inner = &self.inner;
        Worker {
            inner: Arc::new(Inner {
                db: inner.db.clone(),
                email: Arc::clone(&inner.email),
                sms: Arc::clone(&inner.sms),
                clock: Arc::clone(&inner.clock),
                settings: inner.settings.clone(),
                forwarder: Some(forwarder),
                end_notices_from: Mutex::new(None),
            }),
        }
    }

    /// The worker the configuration asks for, on the real clock: SMTP or the file sink for
    /// e-mail, the HTTP gateway or the file sink for SMS.
    pub fn from_config(config: &Config, db: Database) -> Result<Worker, WorkerError> {
        let sink = FileSink::new(config.data_dir.join(SINK_FOLDER));
        let email: Arc<dyn EmailSender> = match config.mail.transport {
            MailTransport::File => Arc::new(sink.clone()),
            MailTransport::Smtp => Arc::new(SmtpSender::new(&config.mail)?),
        };
        let sms: Arc<dyn SmsGateway> = match config.sms.gateway {
            SmsGatewayKind::File => Arc::new(sink),
            SmsGatewayKind::Http => Arc::new(HttpSmsGateway::new(&config.sms)?),
        };
        let settings = WorkerSettings::from_config(config);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let forwarder = Forwarder::new(
            db.clone(),
            &config.mailbox_providers,
            Arc::clone(&clock),
            &settings.name,
            settings.lease,
            settings.batch_size,
            settings.retry.clone(),
        )?;
        Ok(Worker::new(db, email, sms, clock, settings).with_forwarder(forwarder))
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &WorkerSettings {
        &self.inner.settings
    }

    /// Queues the reminders for unread letters that are due by the worker's clock (the
    /// decision reminder after 7 days, the agencies' repeats; see
    /// `Database::queue_unread_reminders`) and, every [`END_NOTICE_INTERVAL`], the notices
    /// of delegations ending within 14 days (`Database::queue_delegation_end_notices`), then
    /// claims one batch of due messages, sends them concurrently and records each outcome;
    /// returns how many were claimed (0: nothing was due). A failing reminder or notice run
    /// is logged and tried again next time: it never stops the sending.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let settings = &self.inner.settings;
        if let Err(error) = self
            .inner
            .db
            .queue_unread_reminders(self.inner.clock.now(), settings.batch_size)
            .await
        {
            tracing::warn!(%error, "queuing unread reminders failed; will retry");
        }
        self.inner.queue_end_notices().await;
        if let Some(forwarder) = &self.inner.forwarder {
            if let Err(error) = forwarder.run_once().await {
                tracing::warn!(%error, "forwarding letters failed; will retry");
            }
        }
        let claimed = self
            .inner
            .db
            .claim_due(
                self.inner.clock.now(),
                &settings.name,
                settings.batch_size,
                settings.lease,
            )
            .await?;
        let count = claimed.len();
        let mut sends = JoinSet::new();
        for notification in claimed {
            let inner = Arc::clone(&self.inner);
            sends.spawn(async move { inner.deliver(notification).await });
        }
        while let Some(joined) = sends.join_next().await {
            if let Err(error) = joined {
                // A panicking send leaves its lease to run out: the message is tried again.
                tracing::error!(%error, "a notification send task failed");
            }
        }
        Ok(count)
    }

    /// Runs until `shutdown` turns `true` (or its sender is dropped): a full batch is followed
    /// at once by the next, otherwise the worker sleeps for the poll interval. The batch in
    /// flight when shutdown comes is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let settings = &self.inner.settings;
        tracing::info!(worker = %settings.name, "notification worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed = match self.run_once().await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "claiming notifications failed; will retry");
                    0
                }
            };
            let full = u32::try_from(claimed).unwrap_or(u32::MAX) >= settings.batch_size;
            if full {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(settings.poll_interval) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(worker = %settings.name, "notification worker stopped");
    }
}

impl Inner {
    /// Runs the delegation end-notice job and the signing reminders if their interval has
    /// passed by the worker's clock; after a full batch it runs again at the next round, after
    /// a failure too.
    async fn queue_end_notices(&self) {
        let now = self.clock.now();
        let from = || {
            self.end_notices_from
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if from().is_some_and(|from| now < from) {
            return;
        }
        let batch = self.settings.batch_size;
        // Signing reminders are a matter of days too: the same interval.
        let reminders = self.db.queue_signing_reminders(now, batch).await;
        if let Err(error) = &reminders {
            tracing::warn!(%error, "queuing signing reminders failed; will retry");
        }
        match self.db.queue_delegation_end_notices(now, batch).await {
            Ok(taken) if taken < batch && reminders.is_ok() => {
                *from() = Some(now + END_NOTICE_INTERVAL)
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "queuing delegation end notices failed; will retry");
            }
        }
    }

    /// Sends one claimed message and records the outcome. Storage errors are logged: the
    /// lease then runs out and the message is sent again (at least once).
    async fn deliver(&self, notification: ClaimedNotification) {
        let id = notification.id;
        let template = notification.template.code();
        let channel = notification.to.channel().code();
        let attempt = notification.attempt;
        let outcome = self.send(&notification).await;
        let name = self.settings.name.as_str();
        let now = self.clock.now();
        let recorded = match &outcome {
            Ok(()) => self.db.mark_sent(id, name, now).await.map(|held| {
                if held {
                    tracing::info!(%id, template, channel, attempt, "notification sent");
                } else {
                    tracing::warn!(%id, template, channel, "notification sent after its lease ran out; another worker may send it again");
                }
            }),
            Err(error) => {
                let policy = match error {
                    SendError::Retry(_) => &self.settings.retry,
                    SendError::Permanent(_) => &give_up_policy(),
                };
                self.db
                    .mark_failed_attempt(id, name, now, error.code(), policy)
                    .await
                    .map(|result| match result {
                        FailedAttempt::RetryAt(at) => tracing::warn!(
                            %id, template, channel, attempt, error = error.code(), retry_at = %at,
                            "notification not sent; will retry"
                        ),
                        FailedAttempt::GaveUp => tracing::warn!(
                            %id, template, channel, attempt, error = error.code(),
                            "notification failed for good"
                        ),
                        FailedAttempt::NotClaimed => tracing::warn!(
                            %id, template, channel, "notification no longer held by this worker"
                        ),
                    })
            }
        };
        if let Err(error) = recorded {
            tracing::warn!(%id, %error, "could not record a notification's outcome; it will be tried again");
        }
    }

    async fn send(&self, notification: &ClaimedNotification) -> Result<(), SendError> {
        let person_language = if notification.params.get("language").is_none() {
            match self.db.find_person(notification.recipient).await {
                Ok(person) => person.map(|p| p.language.code()),
                Err(_) => return Err(SendError::Retry("store.person".to_owned())),
            }
        } else {
            None
        };
        let rendered = render(notification.template, &notification.params, person_language)?;
        let key = notification.idempotency_key.clone();
        match &notification.to {
            Address::Email(email) => {
                let message = EmailMessage {
                    from: self.settings.from.clone(),
                    to: email.as_str().to_owned(),
                    subject: rendered.subject,
                    body: rendered.email_body,
                    idempotency_key: key,
                };
                self.email.send(&message).await
            }
            Address::Sms(mobile) => {
                let message = SmsMessage {
                    to: mobile.as_str().to_owned(),
                    text: rendered.sms_text,
                    idempotency_key: key,
                };
                self.sms.send(&message).await
            }
        }
    }
}
