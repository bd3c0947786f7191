//! RFC 3161 timestamps: the [`Timestamper`] trait, an HTTP client for a timestamp authority,
//! and the checks every token gets (message imprint, nonce).

use crate::cms::{sha256_algorithm, ID_CT_TST_INFO, ID_SHA256, ID_SIGNED_DATA};
use crate::Error;
use cmpv2::status::PkiStatus;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Int, OctetString};
use der::{Any, Decode, Encode};
use ring::rand::SecureRandom;
use std::time::Duration;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// The largest timestamp response read (a token with a long certificate chain is a few KB).
const MAX_RESPONSE: usize = 256 * 1024;

/// A source of RFC 3161 timestamp tokens.
#[async_trait::async_trait]
pub trait Timestamper: Send + Sync {
    /// A timestamp token (the DER `ContentInfo` with a SignedData over a TSTInfo) whose
    /// message imprint is SHA-256 `digest`. [`crate::Seal::sign`] checks the imprint again.
    async fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, Error>;
}

/// A timestamp authority over HTTP (RFC 3161 section 3.4): a POST of
/// `application/timestamp-query`, answered by `application/timestamp-reply`.
///
/// Each request carries a random 63-bit nonce and asks for the TSA's certificate in the
/// token. The answer must be HTTP 2xx, status granted (or granted with modifications), and
/// the token's message imprint and nonce must be the ones asked for. The token's own
/// signature is not checked here: validators check it, against the trust they configure.
#[derive(Clone, Debug)]
pub struct HttpTimestamper {
    client: reqwest::Client,
    url: String,
}

impl HttpTimestamper {
    /// A timestamper for the TSA at `url`, with its own HTTP client (rustls, 30 s timeout).
    pub fn new(url: impl Into<String>) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| Error::Timestamp(format!("HTTP client: {error}")))?;
        Ok(Self::with_client(client, url))
    }

    /// A timestamper for the TSA at `url` that uses `client` (e.g. the portal's shared one).
    pub fn with_client(client: reqwest::Client, url: impl Into<String>) -> Self {
        HttpTimestamper {
            client,
            url: url.into(),
        }
    }
}

#[async_trait::async_trait]
impl Timestamper for HttpTimestamper {
    async fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, Error> {
        let nonce = random_nonce()?;
        let request = request(digest, &nonce)?;
        let failed = |error: reqwest::Error| Error::Timestamp(format!("{}: {error}", self.url));
        let mut response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
            .header(reqwest::header::ACCEPT, "application/timestamp-reply")
            .body(request)
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Timestamp(format!("{}: HTTP {status}", self.url)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_RESPONSE {
                return Err(Error::Timestamp(format!(
                    "{}: response over {MAX_RESPONSE} bytes",
                    self.url
                )));
            }
            body.extend_from_slice(&chunk);
        }
        token_from_response(&body, digest, Some(&nonce))
    }
}

/// A positive 63-bit nonce, minimally encoded.
fn random_nonce() -> Result<Int, Error> {
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Timestamp("no random numbers".to_owned()))?;
    bytes[0] = (bytes[0] & 0x7F).max(1);
    Ok(Int::new(&bytes)?)
}

/// The DER `TimeStampReq` for SHA-256 `digest`, with `nonce` and `certReq` true.
fn request(digest: &[u8; 32], nonce: &Int) -> Result<Vec<u8>, Error> {
    Ok(TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: sha256_algorithm(),
            hashed_message: OctetString::new(digest.to_vec())?,
        },
        req_policy: None,
        nonce: Some(nonce.clone()),
        cert_req: true,
        extensions: None,
    }
    .to_der()?)
}

/// The token of a DER `TimeStampResp`, once its status and contents are checked.
fn token_from_response(
    body: &[u8],
    digest: &[u8; 32],
    nonce: Option<&Int>,
) -> Result<Vec<u8>, Error> {
    let response = TimeStampResp::from_der(body)
        .map_err(|error| Error::Timestamp(format!("not a timestamp response: {error}")))?;
    match response.status.status {
        PkiStatus::Accepted | PkiStatus::GrantedWithMods => {}
        refused => {
            let text = response
                .status
                .status_string
                .iter()
                .flat_map(|strings| strings.iter())
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Error::Timestamp(format!(
                "refused: {refused:?} {text} {:?}",
                response.status.fail_info
            )));
        }
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| Error::Timestamp("granted, but no token".to_owned()))?
        .to_der()?;
    check_token(&token, digest, nonce)?;
    Ok(token)
}

/// Checks that `token` (a DER timestamp token) is a SignedData over a TSTInfo whose message
/// imprint is SHA-256 `digest` and, when one was asked for, whose nonce is `nonce`.
pub(crate) fn check_token(
    token: &[u8],
    digest: &[u8; 32],
    nonce: Option<&Int>,
) -> Result<TstInfo, Error> {
    let bad = |what: &str| Error::Timestamp(format!("token: {what}"));
    let content_info = ContentInfo::from_der(token)?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(bad("not a SignedData"));
    }
    let signed_data: SignedData = content_info.content.decode_as()?;
    if signed_data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad("not a TSTInfo"));
    }
    let content: &Any = signed_data
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| bad("no TSTInfo"))?;
    let octets: OctetString = content.decode_as()?;
    let info = TstInfo::from_der(octets.as_bytes())?;
    if info.message_imprint.hash_algorithm.oid != ID_SHA256
        || info.message_imprint.hashed_message.as_bytes() != digest
    {
        return Err(bad("message imprint differs from the request"));
    }
    if let Some(nonce) = nonce {
        if info.nonce.as_ref().map(Int::as_bytes) != Some(nonce.as_bytes()) {
            return Err(bad("nonce differs from the request"));
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn requests_carry_the_digest_and_a_positive_nonce() {
        let nonce = random_nonce().unwrap();
        assert!(nonce.as_bytes()[0] & 0x80 == 0);
        let der = request(&[9; 32], &nonce).unwrap();
        let parsed = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(parsed.message_imprint.hashed_message.as_bytes(), &[9; 32]);
        assert!(parsed.cert_req);
        assert_eq!(parsed.nonce, Some(nonce));
    }

    #[test]
    fn garbage_is_not_a_response() {
        assert!(matches!(
            token_from_response(b"<html>", &[0; 32], None),
            Err(Error::Timestamp(_))
        ));
    }
}
