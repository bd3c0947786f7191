//! The sealing worker: seals the jobs every signer has signed, and ends the jobs whose
//! deadline has passed.
//!
//! Every instance may run it. A round claims one job in `sealing` with a lease
//! (`Database::claim_sealing_job`), makes each document's sealed PDF with the crate `pades`
//! (the front page worded in the job's language from the domain's [`SealText`], `crate::seal_words`, the signers' evidence
//! embedded, `prepare` on the blocking pool, then the async `Seal::sign` with the configured
//! timestamp authority: PAdES B-T; with `long_term`, `pades::extend_long_term` then adds the
//! chains' OCSP responses or CRLs and a document timestamp: B-LTA), and completes the job with `Database::complete_sealing`,
//! which writes the sealed PDFs, tells the agency and delivers the letters in one transaction,
//! only if the job is still `sealing`. A round that fails (the TSA unreachable, the process
//! killed) leaves the job to the next round once its lease has run out. Once a minute the
//! worker also runs `Database::expire_signing_jobs`.
//!
//! Configuration: `[signing]` (`crate::config::SigningConfig`). With `test_pki = true`
//! (development) a test root CA, seal and TSA certificate are made in `data_dir/signing/` at
//! first start and every front page says TEST; without a `timestamp_url` the test PKI's TSA
//! certificate stamps them in the process (`pades::testpki::TestTsa`), so development seals
//! are PAdES B-T with nothing else running. A real seal needs a `timestamp_url`; `long_term`
//! needs one too, and fetches revocation information over HTTP (`pades::HttpRevocationSource`)
//! for each document sealed. A fetch that fails, or a revoked certificate, fails the round.

use std::sync::Arc;
use std::time::Duration;

use borgerportal::signing::{
    embedded_evidence, needs_operator, seal_text, SealText, SealTextError, SealingJob,
};
use borgerportal::storage::Database;
use borgerportal::{SigningError, SigningJobId};
use pades::{
    Attachment, HttpRevocationSource, HttpTimestamper, RevocationSource, Seal, Timestamper,
};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::config::{Config, SigningConfig};
use crate::seal_words::SealWords;

/// How often deadlines are checked.
const EXPIRY_EVERY: Duration = Duration::from_secs(60);
/// The most jobs one expiry run ends.
const EXPIRY_BATCH: u32 = 100;

/// Why the sealer could not be set up from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum SealerError {
    /// Only one of the key and the certificate chain is configured.
    #[error("[signing] needs both seal_key_file and certificate_chain_file")]
    Incomplete,
    /// A real seal without a timestamp authority.
    #[error("[signing] needs a timestamp_url (PAdES B-T) unless test_pki = true")]
    NoTimestampAuthority,
    /// Long-term seals without a timestamp authority.
    #[error("[signing] long_term = true needs a timestamp_url")]
    LongTermWithoutTimestampAuthority,
    /// The key, the certificates or the test PKI.
    #[error("[signing]: {0}")]
    Pades(#[from] pades::Error),
}

/// Why one round failed.
#[derive(Debug, thiserror::Error)]
pub enum SealRoundError {
    /// The store.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A document could not be sealed.
    #[error("sealing failed: {0}")]
    Pades(#[from] pades::Error),
    /// The stored evidence could not be read.
    #[error(transparent)]
    Text(#[from] borgerportal::signing::SealTextError),
    /// The blocking task died.
    #[error("the sealing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The portal's seal, its timestamp authority, where revocation information comes from
/// (long-term seals) and whether it is a test seal.
pub struct Sealer {
    seal: Seal,
    timestamper: Option<Box<dyn Timestamper>>,
    revocation: Option<Box<dyn RevocationSource>>,
    test: bool,
}

impl Sealer {
    /// A sealer from its parts (the tests': a test PKI and a loopback TSA).
    pub fn new(seal: Seal, timestamper: Option<Box<dyn Timestamper>>, test: bool) -> Sealer {
        Sealer {
            seal,
            timestamper,
            revocation: None,
            test,
        }
    }

    /// The same sealer making long-term seals (PAdES B-LTA): after each seal, the chains'
    /// revocation information from `revocation` and a document timestamp from the sealer's
    /// timestamper (a sealer without one fails every round).
    pub fn with_long_term(mut self, revocation: Box<dyn RevocationSource>) -> Sealer {
        self.revocation = Some(revocation);
        self
    }

    /// The sealer `[signing]` configures; `None` when no seal is configured (jobs then stay
    /// `sealing` until one is).
    pub fn from_config(config: &Config) -> Result<Option<Sealer>, SealerError> {
        let signing = &config.signing;
        let (seal, test_pki) = if signing.test_pki {
            let pki = pades::testpki::TestPki::ensure(&config.data_dir.join("signing"))?;
            (pki.seal()?, Some(pki))
        } else {
            match (&signing.seal_key_file, &signing.certificate_chain_file) {
                (Some(key), Some(chain)) => (Seal::from_pem_files(key, chain)?, None),
                (None, None) => return Ok(None),
                _ => return Err(SealerError::Incomplete),
            }
        };
        let timestamper: Box<dyn Timestamper> = match (&test_pki, signing.timestamp_url.as_str()) {
            // Development with nothing else running: the test PKI's TSA, in the process.
            (Some(pki), "") => {
                tracing::info!("test seals are timestamped by the test PKI's TSA in the process");
                Box::new(pki.tsa()?)
            }
            (None, "") => return Err(SealerError::NoTimestampAuthority),
            (_, url) => Box::new(HttpTimestamper::new(url.to_owned())?),
        };
        let sealer = Sealer::new(seal, Some(timestamper), test_pki.is_some());
        if !signing.long_term {
            return Ok(Some(sealer));
        }
        if signing.timestamp_url.is_empty() {
            return Err(SealerError::LongTermWithoutTimestampAuthority);
        }
        tracing::info!("seals are made long-term (PAdES B-LTA)");
        Ok(Some(
            sealer.with_long_term(Box::new(HttpRevocationSource::new()?)),
        ))
    }

    /// Claims one job to seal, seals its documents and completes it. The job sealed, or
    /// `None` when there was nothing to seal. Failures are logged here: a job's sealing that
    /// fails for the third time in a row (`needs_operator`) and every time after is an error
    /// for the operator, the earlier ones warnings; the job is tried again once its lease has
    /// run out.
    pub async fn seal_next(
        &self,
        db: &Database,
        lease: time::Duration,
    ) -> Result<Option<SigningJobId>, SealRoundError> {
        let job = match db.claim_sealing_job(OffsetDateTime::now_utc(), lease).await {
            Ok(Some(job)) => job,
            Ok(None) => return Ok(None),
            Err(error) => {
                tracing::warn!(%error, "claiming a signing job to seal failed; will retry");
                return Err(error.into());
            }
        };
        match self.seal_claimed(db, &job).await {
            Ok(()) => Ok(Some(job.id)),
            Err(error) => {
                if needs_operator(job.attempts) {
                    tracing::error!(
                        signing_job.id = %job.id, attempt = job.attempts, %error,
                        "a signing job could not be sealed, again: an operator must look at the \
                         seal key, its certificates and the timestamp authority; retried after \
                         its lease"
                    );
                } else {
                    tracing::warn!(
                        signing_job.id = %job.id, attempt = job.attempts, %error,
                        "sealing a signing job failed; retried after its lease"
                    );
                }
                Err(error)
            }
        }
    }

    async fn seal_claimed(&self, db: &Database, job: &SealingJob) -> Result<(), SealRoundError> {
        let started = std::time::Instant::now();
        let sealed = self.seal_documents(job).await?;
        match db
            .complete_sealing(
                job.id,
                &sealed,
                &SealWords::new(job.language).letter(job),
                OffsetDateTime::now_utc(),
            )
            .await
        {
            Ok(done) => tracing::info!(
                signing_job.id = %job.id,
                letters = done.letters,
                ms = started.elapsed().as_millis() as u64,
                "signing job sealed"
            ),
            // Another round (this one's lease ran out) completed it first: its copy stands.
            Err(SigningError::JobEnded) => {
                tracing::warn!(signing_job.id = %job.id, "sealed, but another round completed the job first");
            }
            Err(error) => return Err(error.into()),
        }
        Ok(())
    }

    /// Each document's sealed PDF, in the job's order.
    pub async fn seal_documents(&self, job: &SealingJob) -> Result<Vec<Vec<u8>>, SealRoundError> {
        let words = SealWords::new(job.language);
        // The signers' entries are the same on every document's front page.
        let facts = seal_text(
            "",
            &job.title,
            &job.sender_name,
            job.level,
            job.naming,
            &job.signers,
        )?;
        let evidence = Arc::new(evidence_attachments(job, words, &facts)?);
        let mut sealed = Vec::with_capacity(job.documents.len());
        for document in &job.documents {
            let text = SealText {
                document_title: document.title.clone(),
                ..facts.clone()
            };
            let front = words.front_page(&text, self.test);
            let original = document.content.clone();
            let attachments = Arc::clone(&evidence);
            // Parsing and writing up to 10 MB: on the blocking pool, off the async workers.
            let prepared = tokio::task::spawn_blocking(move || {
                pades::prepare(&original, &front, &attachments)
            })
            .await??;
            let pdf = self
                .seal
                .sign(
                    prepared,
                    self.timestamper.as_deref(),
                    OffsetDateTime::now_utc(),
                )
                .await?;
            let pdf = match (&self.revocation, self.timestamper.as_deref()) {
                (None, _) => pdf,
                (Some(revocation), Some(timestamper)) => {
                    pades::extend_long_term(pdf, revocation.as_ref(), timestamper).await?
                }
                (Some(_), None) => {
                    return Err(pades::Error::Timestamp(
                        "a long-term seal needs a timestamp authority".to_owned(),
                    )
                    .into())
                }
            };
            sealed.push(pdf);
        }
        Ok(sealed)
    }
}

/// Every signer's evidence as an embedded file, as the job's naming rule allows every signer to
/// see it (`embedded_evidence`: without national ids unless the job names signers by them),
/// named in the job's language.
fn evidence_attachments(
    job: &SealingJob,
    words: SealWords,
    text: &SealText,
) -> Result<Vec<Attachment>, SealTextError> {
    job.signers
        .iter()
        .zip(&text.signers)
        .enumerate()
        .map(|(index, (signer, named))| {
            let (name, description) = words.evidence_file(index, named);
            Ok(Attachment {
                name,
                description,
                mime_type: "application/json".to_owned(),
                data: embedded_evidence(index, signer, job.naming)?.into_bytes(),
            })
        })
        .collect()
}

/// Seals jobs until `stop` says so (after the job in flight), and ends overdue jobs once a
/// minute. Without a sealer only the deadlines are kept.
pub async fn run(
    db: Database,
    sealer: Option<Arc<Sealer>>,
    config: SigningConfig,
    mut stop: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(config.poll_interval_ms.max(10));
    let lease = time::Duration::seconds(i64::try_from(config.lease_seconds).unwrap_or(300));
    let mut next_expiry = tokio::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        if tokio::time::Instant::now() >= next_expiry {
            next_expiry += EXPIRY_EVERY;
            if let Err(error) = db
                .expire_signing_jobs(OffsetDateTime::now_utc(), EXPIRY_BATCH)
                .await
            {
                tracing::warn!(%error, "expiring signing jobs failed; will retry");
            }
        }
        let sealed = match &sealer {
            Some(sealer) => match sealer.seal_next(&db, lease).await {
                Ok(job) => job.is_some(),
                // Logged by `seal_next`, which knows the attempt.
                Err(_) => false,
            },
            None => false,
        };
        if !sealed {
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
