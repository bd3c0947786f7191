//! The CMS SignedData of a PAdES baseline signature (ETSI EN 319 142-1, ETSI EN 319 122-1):
//! detached, content type id-data, SHA-256, the seal's certificate chain, and signed
//! attributes exactly content-type, message-digest and ESS signing-certificate-v2 (RFC 5035).
//! No signing-time: the claimed time is the signature dictionary's `/M`. The signature
//! timestamp (B-T) is an unsigned attribute, added after signing.

use crate::Error;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const ID_AA_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub(crate) const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub(crate) const ID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// SHA-256 as a digest algorithm identifier (parameters absent, RFC 5754).
pub(crate) fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    }
}

/// ```text
/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// ```text
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash      Hash,
///     issuerSerial  IssuerSerial OPTIONAL }
/// ```
/// The hash is SHA-256, the default, so `hashAlgorithm` is left out (DER omits defaults).
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// ```text
/// SigningCertificateV2 ::= SEQUENCE {
///     certs    SEQUENCE OF ESSCertIDv2,
///     policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, Error> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The signed attributes over `message_digest` (SHA-256 of the PDF's byte ranges), for the
/// signing certificate `signer`: content-type, message-digest, signing-certificate-v2.
pub(crate) fn signed_attributes(
    message_digest: &[u8],
    signer: &Certificate,
) -> Result<SetOfVec<Attribute>, Error> {
    signed_attributes_for(ID_DATA, message_digest, signer)
}

/// The signed attributes of a SignedData whose content is of `content_type` (id-data for the
/// seal, id-ct-TSTInfo for a timestamp token): content-type, message-digest,
/// signing-certificate-v2.
pub(crate) fn signed_attributes_for(
    content_type: ObjectIdentifier,
    message_digest: &[u8],
    signer: &Certificate,
) -> Result<SetOfVec<Attribute>, Error> {
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(signer.to_der()?).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    Ok(SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&content_type)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest)?)?,
        )?,
        attribute(ID_AA_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?)
}

/// The DER `ContentInfo` (SignedData) of a signature: `signature` over the DER of
/// `signed_attributes` by `signer`, with every certificate of `chain`, and the RFC 3161
/// `timestamp_token` (DER `ContentInfo`) over `signature` as the unsigned attribute
/// signature-time-stamp-token when there is one.
pub(crate) fn content_info(
    signer: &Certificate,
    chain: &[Certificate],
    signed_attributes: SetOfVec<Attribute>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let detached = EncapsulatedContentInfo {
        econtent_type: ID_DATA,
        econtent: None,
    };
    signed_content_info(
        signer,
        chain,
        signed_attributes,
        signature_algorithm,
        signature,
        timestamp_token,
        detached,
    )
}

/// The DER `ContentInfo` (SignedData v3) of a timestamp token: `tst_info` (DER) encapsulated
/// as id-ct-TSTInfo, signed by `signer` over `signed_attributes`.
#[cfg(feature = "testpki")]
pub(crate) fn timestamp_token(
    signer: &Certificate,
    chain: &[Certificate],
    signed_attributes: SetOfVec<Attribute>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    tst_info: &[u8],
) -> Result<Vec<u8>, Error> {
    let encapsulated = EncapsulatedContentInfo {
        econtent_type: ID_CT_TST_INFO,
        econtent: Some(Any::encode_from(&OctetString::new(tst_info)?)?),
    };
    signed_content_info(
        signer,
        chain,
        signed_attributes,
        signature_algorithm,
        signature,
        None,
        encapsulated,
    )
}

fn signed_content_info(
    signer: &Certificate,
    chain: &[Certificate],
    signed_attributes: SetOfVec<Attribute>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
    timestamp_token: Option<&[u8]>,
    encap_content_info: EncapsulatedContentInfo,
) -> Result<Vec<u8>, Error> {
    let unsigned_attrs = match timestamp_token {
        Some(token) => Some(SetOfVec::try_from(vec![attribute(
            ID_AA_TIME_STAMP_TOKEN,
            Any::from_der(token)?,
        )?])?),
        None => None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(signed_attributes),
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let certificates = CertificateSet::try_from(
        chain
            .iter()
            .cloned()
            .map(CertificateChoices::Certificate)
            .collect::<Vec<_>>(),
    )?;
    // RFC 5652 5.1: version 3 when the content is not id-data.
    let version = if encap_content_info.econtent_type == ID_DATA {
        CmsVersion::V1
    } else {
        CmsVersion::V3
    };
    let signed_data = SignedData {
        version,
        digest_algorithms: SetOfVec::try_from(vec![sha256_algorithm()])?,
        encap_content_info,
        certificates: Some(certificates),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info])?,
    };
    Ok(ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    }
    .to_der()?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn ess_cert_id_leaves_the_default_hash_algorithm_out() {
        let id = EssCertIdV2 {
            cert_hash: OctetString::new(vec![7; 32]).unwrap(),
            issuer_serial: None,
        };
        let der = SigningCertificateV2 { certs: vec![id] }.to_der().unwrap();
        // SEQUENCE { SEQUENCE { SEQUENCE { OCTET STRING (32) } } }
        assert_eq!(&der[..8], &[0x30, 0x26, 0x30, 0x24, 0x30, 0x22, 0x04, 0x20]);
    }
}
