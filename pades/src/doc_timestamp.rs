//! PAdES B-LTA: a document timestamp (ETSI EN 319 142-1 5.4.3) over the whole file with its
//! `/DSS`, as an incremental update, and the B-T → B-LT → B-LTA step in one call.

use crate::revocation::RevocationSource;
use crate::{field, tsa, Error, Timestamper};

/// Room for the timestamp token in `/Contents` (a TSA chain of a few certificates fits).
const TOKEN_ROOM: usize = 20 * 1024;
/// The document timestamp field's name (a number is appended when the file has one).
const FIELD_NAME: &str = "Borgerportal document timestamp";

/// Appends a document timestamp to `pdf`: an invisible signature field on page 1 whose value
/// is `/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161` with a
/// `/ByteRange` over the whole file except its `/Contents`, which holds the RFC 3161 token
/// from `timestamper` over the SHA-256 of those ranges (its imprint checked).
///
/// Errors: [`Error::Timestamp`], [`Error::SignatureTooLarge`] (a token over 20 KiB), and
/// what reading the PDF can fail with.
pub async fn add_document_timestamp(
    pdf: Vec<u8>,
    timestamper: &dyn Timestamper,
) -> Result<Vec<u8>, Error> {
    let head = b"/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161";
    let (mut out, placeholder) = field::append_signature_field(pdf, head, FIELD_NAME, TOKEN_ROOM)?;
    let digest = field::byte_range_digest(&mut out, &placeholder);
    let token = timestamper.timestamp(&digest).await?;
    tsa::check_token(&token, &digest, None)?;
    field::fill_contents(&mut out, &placeholder, &token)?;
    Ok(out)
}

/// Takes a sealed PDF (B-T, from [`crate::Seal::sign`]) to **PAdES B-LTA**: first
/// [`crate::add_revocation_info`] (B-LT: the `/DSS` with the seal's and the TSA's chains and
/// their OCSP responses or CRLs, fetched from `revocation`), then
/// [`add_document_timestamp`] from `timestamper` over the file with its DSS. Two incremental
/// updates; `sealed` stays a byte-exact prefix of the result.
///
/// The document timestamp's own TSA certificate is covered by the DSS when it is the TSA
/// that stamped the seal (as in the portal); a validator asks about another one itself.
pub async fn extend_long_term(
    sealed: Vec<u8>,
    revocation: &dyn RevocationSource,
    timestamper: &dyn Timestamper,
) -> Result<Vec<u8>, Error> {
    let with_dss = crate::add_revocation_info(sealed, revocation).await?;
    add_document_timestamp(with_dss, timestamper).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portal extends seals inside tasks: the futures must be `Send`.
    #[allow(dead_code)]
    fn extending_is_send(revocation: &dyn RevocationSource, timestamper: &dyn Timestamper) {
        fn send<T: Send>(_: &T) {}
        send(&extend_long_term(Vec::new(), revocation, timestamper));
        send(&add_document_timestamp(Vec::new(), timestamper));
    }
}
