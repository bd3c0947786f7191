//! The sealing worker: seals the jobs every signer has signed, and ends the jobs whose
//! deadline has passed.
//!
//! Every instance may run it. A round claims one job in `sealing` with a lease
//! (`Database::claim_sealing_job`), makes each document's sealed PDF with the crate `pades`
//! (the front page worded here in bokmål from the domain's [`SealText`], the signers' evidence
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
    embedded_evidence, seal_text, SealSignerText, SealText, SealTextError, SealingJob,
    SignerIdentity,
};
use borgerportal::storage::Database;
use borgerportal::{Loa, SigningError, SigningJobId};
use pades::{
    Attachment, FrontPage, HttpRevocationSource, HttpTimestamper, RevocationSource, Seal, Signer,
    Timestamper,
};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::config::{Config, SigningConfig};

/// How often deadlines are checked.
const EXPIRY_EVERY: Duration = Duration::from_secs(60);
/// The most jobs one expiry run ends.
const EXPIRY_BATCH: u32 = 100;

/// What the front page says when the seal is a test seal.
pub const TEST_NOTICE: &str = "TEST: forseglet med et testsertifikat, ikke et gyldig segl";

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
    /// `None` when there was nothing to seal.
    pub async fn seal_next(
        &self,
        db: &Database,
        lease: time::Duration,
    ) -> Result<Option<SigningJobId>, SealRoundError> {
        let Some(job) = db
            .claim_sealing_job(OffsetDateTime::now_utc(), lease)
            .await?
        else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let sealed = self.seal_documents(&job).await?;
        match db
            .complete_sealing(job.id, &sealed, OffsetDateTime::now_utc())
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
        Ok(Some(job.id))
    }

    /// Each document's sealed PDF, in the job's order.
    pub async fn seal_documents(&self, job: &SealingJob) -> Result<Vec<Vec<u8>>, SealRoundError> {
        let evidence = Arc::new(evidence_attachments(job)?);
        let mut sealed = Vec::with_capacity(job.documents.len());
        for document in &job.documents {
            let text = seal_text(
                &document.title,
                &job.title,
                &job.sender_name,
                job.level,
                job.naming,
                &job.signers,
            )?;
            let front = front_page(&text, self.test);
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
/// see it (`embedded_evidence`: without national ids unless the job names signers by them).
fn evidence_attachments(job: &SealingJob) -> Result<Vec<Attachment>, SealTextError> {
    job.signers
        .iter()
        .enumerate()
        .map(|(index, signer)| {
            Ok(Attachment {
                name: format!("signaturbevis-{}.json", index + 1),
                description: format!(
                    "Signaturbevis for {}",
                    signer.name.as_deref().unwrap_or("signatar")
                ),
                mime_type: "application/json".to_owned(),
                data: embedded_evidence(index, signer, job.naming)?.into_bytes(),
            })
        })
        .collect()
}

/// The front page in bokmål from the domain's facts.
pub fn front_page(text: &SealText, test: bool) -> FrontPage {
    FrontPage {
        heading: "Signert dokument".to_owned(),
        test_notice: test.then(|| TEST_NOTICE.to_owned()),
        document_title: text.document_title.clone(),
        sender: format!("Avsender: {}", text.sender),
        paragraphs: vec![
            format!("Signeringsoppdrag: {}", text.job_title),
            format!(
                "Alle signaturer er gjort med innlogging på sikkerhetsnivå {} eller høyere. \
                 Dokumentet er forseglet av Borgerportal: seglet dekker hele filen, og endres \
                 den, viser en PDF-leser at seglet er brutt. Hver signaturs bevis ligger \
                 vedlagt i filen.",
                level_name(text.level)
            ),
        ],
        signers_heading: "Signert av".to_owned(),
        signers: text.signers.iter().map(signer_entry).collect(),
        // The signers on every page: worded in the domain, not yet.
        page_footer: None,
    }
}

fn signer_entry(signer: &SealSignerText) -> Signer {
    let name = match &signer.identity {
        SignerIdentity::Name => signer.name.clone(),
        SignerIdentity::BirthDate(born) => format!(
            "{}, født {:02}.{:02}.{}",
            signer.name,
            born.day(),
            u8::from(born.month()),
            born.year()
        ),
        SignerIdentity::NationalId(id) => format!("{}, fødselsnummer {id}", signer.name),
    };
    let at = signer.signed_at;
    let mut roles = Vec::new();
    if let Some(helper) = &signer.helper {
        roles.push(format!(
            "Signert for {} av {helper} med fullmakt til å signere",
            signer.name
        ));
    }
    if signer.for_other {
        roles.push("Signerte i en rolle, på vegne av en annen".to_owned());
    }
    Signer {
        name,
        signed_at: format!(
            "Signert {:02}.{:02}.{} kl. {:02}:{:02} UTC",
            at.day(),
            u8::from(at.month()),
            at.year(),
            at.hour(),
            at.minute()
        ),
        level: format!("Sikkerhetsnivå: {}", level_name(signer.level)),
        eid: format!("Innlogget med {}", eid_name(&signer.eid)),
        on_behalf_of: (!roles.is_empty()).then(|| roles.join(". ")),
    }
}

fn level_name(level: Loa) -> &'static str {
    match level {
        Loa::High => "høyt",
        _ => "betydelig",
    }
}

fn eid_name(eid: &str) -> &str {
    match eid {
        "idporten" => "ID-porten",
        "mitid" => "MitID",
        other => other,
    }
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
                Err(error) => {
                    tracing::warn!(%error, "sealing a signing job failed; it is retried after its lease");
                    false
                }
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
