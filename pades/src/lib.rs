//! Seals a PDF for Borgerportal's signing feature.
//!
//! Each step is an **incremental update** appended to the bytes before it, so the agency's
//! original file stays a byte-exact prefix of the result (the signers' document hashes stay
//! verifiable against it):
//!
//! 1. [`prepare`] adds a front page (placed first in the page tree) that lists every signer,
//!    optionally a one-line footer ([`FrontPage::page_footer`]) at the visual bottom of every
//!    page of the original, and the signers' evidence as embedded files (`/EmbeddedFiles`,
//!    `/AF`).
//! 2. [`Seal::sign`] appends the portal's seal: a signature field on the front page and a
//!    PAdES baseline signature (`/SubFilter /ETSI.CAdES.detached`, CMS SignedData with
//!    content-type, message-digest and ESS signing-certificate-v2 as its only signed
//!    attributes) with an RFC 3161 signature timestamp from a [`Timestamper`]: **PAdES B-T**.
//! 3. [`extend_long_term`] takes a B-T file to **PAdES B-LTA**: [`add_revocation_info`]
//!    (B-LT: a `/DSS` with the certificates of the seal's and the TSA's chains and their OCSP
//!    responses or CRLs, fetched through a [`RevocationSource`] from the URLs the certificates
//!    name; a revoked certificate is [`Error::Revoked`]), then [`add_document_timestamp`] (a
//!    `/DocTimeStamp` with `/SubFilter /ETSI.RFC3161` over the whole file with its DSS).
//!
//! [`testpki`] (feature `testpki`, on by default) makes a test root CA, seal and TSA
//! certificate for development and tests, optionally with OCSP and CRL pointers and an OCSP
//! responder certificate ([`testpki::TestPki::ensure_with_revocation`]).

mod cms;
mod doc_timestamp;
mod dss;
mod field;
mod footer;
mod front_page;
mod pdf;
mod prepare;
mod revocation;
mod signature;
mod tsa;
mod winansi;

#[cfg(feature = "testpki")]
pub mod testpki;

pub use doc_timestamp::{add_document_timestamp, extend_long_term};
pub use dss::add_revocation_info;
pub use front_page::{FrontPage, Signer};
pub use prepare::{check_sealable, prepare, Attachment};
pub use revocation::{HttpRevocationSource, RevocationSource};
pub use signature::Seal;
pub use tsa::{HttpTimestamper, Timestamper};

/// Why a PDF could not be prepared or sealed. The portal maps each variant to a translated
/// message; the `Display` text is English, for logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not start with a PDF header (`%PDF-`).
    #[error("the file is not a PDF")]
    NotPdf,
    /// The PDF is encrypted (a password or permissions): it cannot be amended and sealed.
    #[error("the PDF is encrypted")]
    Encrypted,
    /// The PDF could not be parsed (truncated, or not well-formed).
    #[error("the PDF could not be read: {0}")]
    Unreadable(String),
    /// The PDF's cross-reference data is damaged (a reader would have to repair it), so an
    /// incremental update cannot safely be appended to it.
    #[error("the PDF's cross-reference data is damaged")]
    Damaged,
    /// The PDF has no pages (or no readable page tree).
    #[error("the PDF has no pages")]
    NoPages,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The seal's key or certificates could not be loaded, or do not belong together.
    #[error("seal key or certificate: {0}")]
    Key(String),
    /// The timestamp authority could not be reached, refused, or answered with a token that
    /// does not match the request.
    #[error("timestamp: {0}")]
    Timestamp(String),
    /// The CMS signature did not fit the space reserved for it in the PDF.
    #[error("the signature ({needed} bytes) does not fit the {reserved} bytes reserved")]
    SignatureTooLarge {
        /// The DER size of the CMS SignedData.
        needed: usize,
        /// The space reserved in `/Contents`.
        reserved: usize,
    },
    /// An ASN.1 structure could not be encoded or decoded.
    #[error("ASN.1: {0}")]
    Asn1(#[from] der::Error),
    /// Revocation information could not be had: a certificate of the seal's or the TSA's
    /// chain names no source, or its OCSP responder or CRL distribution point failed or
    /// answered something unusable. The message names the certificate and the URL.
    #[error("revocation information: {0}")]
    Revocation(String),
    /// A certificate of the seal's or the TSA's chain is revoked (the message names it, the
    /// time and the answer's URL): the document must not be sealed with it.
    #[error("revoked certificate: {0}")]
    Revoked(String),
    /// A PDF object could not be written or read while building an update.
    #[error("PDF structure: {0}")]
    Pdf(String),
    /// Making the test PKI failed.
    #[cfg(feature = "testpki")]
    #[error("test PKI: {0}")]
    TestPki(String),
}

impl From<lopdf::Error> for Error {
    fn from(error: lopdf::Error) -> Self {
        Error::Pdf(error.to_string())
    }
}
