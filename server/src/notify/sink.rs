//! The local sink: every message as a file in a folder (by default `data_dir/outbox-sink`),
//! so a development instance, a demo and the browser tests send nothing off the machine.
//!
//! One JSON file per message, named `<UTC time>-<uuid v7>-<channel>.json` so names sort by
//! time, written under a temporary name and renamed, so a reader never sees half a file:
//!
//! ```json
//! {"channel":"email","to":"kari@example.no","subject":"…","body":"…",
//!  "idempotency_key":"contact.verify_code:…","received_at":"2025-06-02T10:00:00.123456Z"}
//! ```
//!
//! (`subject` is `null` for SMS.) `end2end/sinks/sink.py` writes the same format for what
//! reaches it over SMTP and HTTP, so one reader serves both.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{EmailMessage, EmailSender, SendError, SmsGateway, SmsMessage};

/// One message as the sink stores it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkRecord {
    /// `email` or `sms`.
    pub channel: String,
    /// The recipient's address or number.
    pub to: String,
    /// The e-mail subject; `None` for SMS.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
    /// The outbox's key for the message.
    pub idempotency_key: String,
    /// When the sink wrote it (RFC 3339, UTC).
    pub received_at: String,
}

impl std::fmt::Debug for SinkRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkRecord")
            .field("channel", &self.channel)
            .field("idempotency_key", &self.idempotency_key)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// Writes messages as files into one folder (created on first use).
#[derive(Debug, Clone)]
pub struct FileSink {
    dir: PathBuf,
}

impl FileSink {
    /// A sink writing into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> FileSink {
        FileSink { dir: dir.into() }
    }

    /// The folder it writes into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every record in `dir`, oldest first (tests and tools).
    pub fn read_all(dir: &Path) -> std::io::Result<Vec<SinkRecord>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        names.sort();
        Ok(names
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect())
    }

    async fn write(&self, record: SinkRecord, raw_email: Option<Vec<u8>>) -> Result<(), SendError> {
        let failed = |_| SendError::Retry("sink.io".to_owned());
        tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
        let stamp = OffsetDateTime::now_utc();
        let base = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}.{:06}Z-{}-{}",
            stamp.year(),
            u8::from(stamp.month()),
            stamp.day(),
            stamp.hour(),
            stamp.minute(),
            stamp.second(),
            stamp.microsecond(),
            uuid::Uuid::now_v7().simple(),
            record.channel,
        );
        if let Some(raw) = raw_email {
            self.write_file(&format!("{base}.eml"), &raw)
                .await
                .map_err(failed)?;
        }
        let json = serde_json::to_vec_pretty(&record)
            .map_err(|_| SendError::Permanent("sink.encode".to_owned()))?;
        self.write_file(&format!("{base}.json"), &json)
            .await
            .map_err(failed)
    }

    /// Write under a temporary name, then rename: readers see whole files only.
    async fn write_file(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let temporary = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, self.dir.join(name)).await
    }
}

/// Now in RFC 3339 (UTC), as the sink's `received_at`.
fn received_at() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[async_trait]
impl EmailSender for FileSink {
    async fn send(&self, message: &EmailMessage) -> Result<(), SendError> {
        let raw = message.to_lettre().map(|m| m.formatted()).ok();
        let record = SinkRecord {
            channel: "email".to_owned(),
            to: message.to.clone(),
            subject: Some(message.subject.clone()),
            body: message.body.clone(),
            idempotency_key: message.idempotency_key.clone(),
            received_at: received_at(),
        };
        self.write(record, raw).await
    }
}

#[async_trait]
impl SmsGateway for FileSink {
    async fn send(&self, message: &SmsMessage) -> Result<(), SendError> {
        let record = SinkRecord {
            channel: "sms".to_owned(),
            to: message.to.clone(),
            subject: None,
            body: message.text.clone(),
            idempotency_key: message.idempotency_key.clone(),
            received_at: received_at(),
        };
        self.write(record, None).await
    }
}
