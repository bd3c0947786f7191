//! Revocation information for the long-term signature (B-LT): where a certificate says its
//! status can be asked (Authority Information Access OCSP, CRL Distribution Points), the
//! [`RevocationSource`] that fetches it, an HTTP one, and the checks each answer gets.

use crate::Error;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode};
use std::time::Duration;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    TbsRequest, Version,
};

/// The largest OCSP response read.
const MAX_OCSP_RESPONSE: usize = 256 * 1024;
/// The largest CRL read.
const MAX_CRL: usize = 16 * 1024 * 1024;
/// How far in the future an OCSP response's thisUpdate may be (the responder's clock).
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// id-ad-ocsp (RFC 5280 4.2.2.1).
const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
/// id-pkix-ocsp-basic (RFC 6960 4.2.1).
const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): an OCSP responder certificate whose own status
/// is not to be checked.
pub(crate) const ID_PKIX_OCSP_NOCHECK: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// SHA-1, for OCSP certificate ids (the hash every responder supports, RFC 5019 2.1.1).
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// Where revocation information comes from: the bytes behind an OCSP responder's or a CRL
/// distribution point's URL. [`crate::add_revocation_info`] builds the requests and checks
/// the answers; a source only transports them.
#[async_trait::async_trait]
pub trait RevocationSource: Send + Sync {
    /// The DER `OCSPResponse` the responder at `url` gives for the DER `OCSPRequest`
    /// `request`. A failure is an [`Error::Revocation`] that names `url`.
    async fn ocsp(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, Error>;
    /// The DER CRL at `url`. A failure is an [`Error::Revocation`] that names `url`.
    async fn crl(&self, url: &str) -> Result<Vec<u8>, Error>;
}

/// OCSP and CRLs over HTTP: an OCSP request is a POST of `application/ocsp-request` (RFC
/// 6960 A.1), a CRL a GET. Answers must be HTTP 2xx and are read up to 256 KiB (OCSP) or
/// 16 MiB (a CRL).
#[derive(Clone, Debug)]
pub struct HttpRevocationSource {
    client: reqwest::Client,
}

impl HttpRevocationSource {
    /// A source with its own HTTP client (rustls, 30 s timeout, 10 s to connect).
    pub fn new() -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| Error::Revocation(format!("HTTP client: {error}")))?;
        Ok(Self::with_client(client))
    }

    /// A source that uses `client` (e.g. the portal's shared one).
    pub fn with_client(client: reqwest::Client) -> Self {
        HttpRevocationSource { client }
    }

    async fn read(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        url: &str,
        limit: usize,
    ) -> Result<Vec<u8>, Error> {
        let failed = |error: reqwest::Error| Error::Revocation(format!("{what} {url}: {error}"));
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Revocation(format!("{what} {url}: HTTP {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > limit {
                return Err(Error::Revocation(format!(
                    "{what} {url}: response over {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[async_trait::async_trait]
impl RevocationSource for HttpRevocationSource {
    async fn ocsp(&self, url: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        let builder = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .header(reqwest::header::ACCEPT, "application/ocsp-response")
            .body(request.to_vec());
        self.read(builder, "OCSP", url, MAX_OCSP_RESPONSE).await
    }

    async fn crl(&self, url: &str) -> Result<Vec<u8>, Error> {
        self.read(self.client.get(url), "CRL", url, MAX_CRL).await
    }
}

/// A certificate's subject, for messages.
pub(crate) fn subject(certificate: &Certificate) -> String {
    certificate.tbs_certificate.subject.to_string()
}

/// Whether `certificate` is self-issued (a root: nothing to ask about it).
pub(crate) fn self_issued(certificate: &Certificate) -> bool {
    certificate.tbs_certificate.subject == certificate.tbs_certificate.issuer
}

/// Whether `certificate` carries id-pkix-ocsp-nocheck (an OCSP responder's certificate).
pub(crate) fn ocsp_nocheck(certificate: &Certificate) -> bool {
    certificate
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .any(|extension| extension.extn_id == ID_PKIX_OCSP_NOCHECK)
}

/// The HTTP(S) OCSP responder URLs in `certificate`'s Authority Information Access.
pub(crate) fn ocsp_urls(certificate: &Certificate) -> Result<Vec<String>, Error> {
    let Some((_, access)) = certificate
        .tbs_certificate
        .get::<AuthorityInfoAccessSyntax>()?
    else {
        return Ok(Vec::new());
    };
    Ok(access
        .0
        .iter()
        .filter(|description| description.access_method == ID_AD_OCSP)
        .filter_map(|description| http_url(&description.access_location))
        .collect())
}

/// The HTTP(S) URLs of `certificate`'s CRL Distribution Points.
pub(crate) fn crl_urls(certificate: &Certificate) -> Result<Vec<String>, Error> {
    let Some((_, points)) = certificate.tbs_certificate.get::<CrlDistributionPoints>()? else {
        return Ok(Vec::new());
    };
    Ok(points
        .0
        .iter()
        .filter_map(|point| match &point.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(http_url)
        .collect())
}

fn http_url(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(uri) => {
            let uri = uri.as_str();
            (uri.starts_with("http://") || uri.starts_with("https://")).then(|| uri.to_owned())
        }
        _ => None,
    }
}

/// The OCSP certificate id of `certificate` issued by `issuer` (SHA-1 hashes, as RFC 5019
/// asks, and parameters NULL).
pub(crate) fn cert_id(certificate: &Certificate, issuer: &Certificate) -> Result<CertId, Error> {
    let sha1 = |bytes: &[u8]| {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
            .as_ref()
            .to_vec()
    };
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: ID_SHA1,
            parameters: Some(Any::null()),
        },
        issuer_name_hash: OctetString::new(sha1(&certificate.tbs_certificate.issuer.to_der()?))?,
        issuer_key_hash: OctetString::new(sha1(
            issuer
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        ))?,
        serial_number: certificate.tbs_certificate.serial_number.clone(),
    })
}

/// The DER OCSP request for `id` (unsigned, no nonce: responders may answer from a cache).
pub(crate) fn ocsp_request(id: &CertId) -> Result<Vec<u8>, Error> {
    Ok(OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: id.clone(),
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    }
    .to_der()?)
}

/// Checks the OCSP response `body` from `url` about `id` (the certificate `name`): status
/// successful, a basic response with a single response for `id` whose status is good, not
/// past its nextUpdate and not issued more than 5 minutes ahead of this clock. The
/// certificates the response carries (a delegated responder's) are returned. The
/// responder's signature is left to validators, as for timestamps.
pub(crate) fn check_ocsp(
    body: &[u8],
    id: &CertId,
    url: &str,
    name: &str,
) -> Result<Vec<Certificate>, Error> {
    let bad = |what: String| Error::Revocation(format!("{name}: OCSP {url}: {what}"));
    let response = OcspResponse::from_der(body)
        .map_err(|error| bad(format!("not an OCSP response: {error}")))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(bad(format!(
            "the responder answered {:?}",
            response.response_status
        )));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| bad("successful, but no response".to_owned()))?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(bad(format!("response type {}", bytes.response_type)));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|error| bad(format!("basic response: {error}")))?;
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|single| {
            single.cert_id.serial_number == id.serial_number
                && (single.cert_id.hash_algorithm.oid != id.hash_algorithm.oid
                    || (single.cert_id.issuer_key_hash == id.issuer_key_hash
                        && single.cert_id.issuer_name_hash == id.issuer_name_hash))
        })
        .ok_or_else(|| bad("no answer about this certificate".to_owned()))?;
    let now = std::time::SystemTime::now();
    if let Some(next) = &single.next_update {
        if next.0.to_system_time() < now {
            return Err(bad(format!(
                "out of date (next update {})",
                next.0.to_date_time()
            )));
        }
    }
    if single.this_update.0.to_system_time() > now + CLOCK_SKEW {
        return Err(bad(format!(
            "issued in the future ({})",
            single.this_update.0.to_date_time()
        )));
    }
    match &single.cert_status {
        CertStatus::Good(_) => Ok(basic.certs.unwrap_or_default()),
        CertStatus::Revoked(info) => Err(Error::Revoked(format!(
            "{name}: revoked since {} (OCSP {url})",
            info.revocation_time.0.to_date_time()
        ))),
        CertStatus::Unknown(_) => {
            Err(bad("the certificate is unknown to the responder".to_owned()))
        }
    }
}

/// Checks the CRL `body` from `url` for `certificate` (`name`): issued by the certificate's
/// issuer, not past its next update, and not listing the certificate's serial number.
pub(crate) fn check_crl(
    body: &[u8],
    certificate: &Certificate,
    url: &str,
    name: &str,
) -> Result<(), Error> {
    let bad = |what: String| Error::Revocation(format!("{name}: CRL {url}: {what}"));
    let crl =
        CertificateList::from_der(body).map_err(|error| bad(format!("not a CRL: {error}")))?;
    let list = &crl.tbs_cert_list;
    if list.issuer != certificate.tbs_certificate.issuer {
        return Err(bad(format!(
            "issued by {}, not by the certificate's issuer",
            list.issuer
        )));
    }
    if let Some(next) = &list.next_update {
        if next.to_system_time() < std::time::SystemTime::now() {
            return Err(bad(format!("out of date (next update {next})")));
        }
    }
    let serial = &certificate.tbs_certificate.serial_number;
    if let Some(entry) = list
        .revoked_certificates
        .iter()
        .flatten()
        .find(|entry| entry.serial_number == *serial)
    {
        return Err(Error::Revoked(format!(
            "{name}: revoked since {} (CRL {url})",
            entry.revocation_date
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn garbage_is_not_an_ocsp_response() {
        let id = CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: ID_SHA1,
                parameters: None,
            },
            issuer_name_hash: OctetString::new(vec![1; 20]).unwrap(),
            issuer_key_hash: OctetString::new(vec![2; 20]).unwrap(),
            serial_number: x509_cert::serial_number::SerialNumber::new(&[5]).unwrap(),
        };
        let result = check_ocsp(b"<html>", &id, "http://ocsp.test/", "CN=x");
        match result {
            Err(Error::Revocation(message)) => {
                assert!(message.contains("http://ocsp.test/"), "{message}");
                assert!(message.contains("CN=x"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // An OCSPResponse with status tryLater (3) and no body.
        let result = check_ocsp(&[0x30, 0x03, 0x0A, 0x01, 0x03], &id, "http://o/", "CN=x");
        assert!(
            matches!(&result, Err(Error::Revocation(m)) if m.contains("TryLater")),
            "{result:?}"
        );
        let request = ocsp_request(&id).unwrap();
        assert_eq!(
            OcspRequest::from_der(&request)
                .unwrap()
                .tbs_request
                .request_list
                .len(),
            1
        );
    }
}
