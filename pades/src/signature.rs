//! The portal's seal: its key and certificates, and the second incremental update that signs
//! the prepared PDF (PAdES B-T).

use crate::cms::{self, ECDSA_WITH_SHA256, SHA256_WITH_RSA};
use crate::{field, tsa, Error, Timestamper};
use der::{Any, Encode};
use lopdf::Object;
use ring::rand::SystemRandom;
use ring::signature::{self as ring_signature, EcdsaKeyPair, KeyPair, RsaKeyPair};
use sha2::{Digest, Sha256};
use std::path::Path;
use time::OffsetDateTime;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// Room for the CMS beyond the certificates: the signed attributes, the signature and the
/// structure around them.
const CMS_ROOM: usize = 4 * 1024;
/// Room for the timestamp token (a TSA certificate chain of a few certificates fits).
const TIMESTAMP_ROOM: usize = 20 * 1024;
/// The signature field's name.
const FIELD_NAME: &str = "Borgerportal seal";

enum Key {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// The portal's seal: a private key (ECDSA P-256, or RSA of 2048 bits or more) and its
/// certificate with the chain above it.
pub struct Seal {
    key: Key,
    /// The certificate of `key`.
    pub(crate) certificate: Certificate,
    /// `certificate` first, then the rest of the chain as given: all go into the signature.
    pub(crate) chain: Vec<Certificate>,
    rng: SystemRandom,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field(
                "subject",
                &self.certificate.tbs_certificate.subject.to_string(),
            )
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn key_error(what: impl std::fmt::Display) -> Error {
    Error::Key(what.to_string())
}

impl Seal {
    /// The seal from PEM: `key` a PKCS#8 private key (`BEGIN PRIVATE KEY`, unencrypted; RSA
    /// also as PKCS#1 `BEGIN RSA PRIVATE KEY`), `certificates` the key's certificate and the
    /// chain above it (any order; the one matching the key is the signer's).
    pub fn from_pem(key: &[u8], certificates: &[u8]) -> Result<Self, Error> {
        let (label, der) = der::pem::decode_vec(key).map_err(key_error)?;
        let rng = SystemRandom::new();
        let key = match label {
            "PRIVATE KEY" => EcdsaKeyPair::from_pkcs8(
                &ring_signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                &der,
                &rng,
            )
            .map(Key::Ecdsa)
            .or_else(|_| RsaKeyPair::from_pkcs8(&der).map(Key::Rsa))
            .map_err(|error| key_error(format!("not an ECDSA P-256 or RSA key: {error}")))?,
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der)
                .map(Key::Rsa)
                .map_err(key_error)?,
            other => {
                return Err(key_error(format!(
                    "a {other} is not supported: give an unencrypted PKCS#8 key \
                     (openssl pkcs8 -topk8 -nocrypt)"
                )))
            }
        };
        let public = match &key {
            Key::Ecdsa(pair) => pair.public_key().as_ref().to_vec(),
            Key::Rsa(pair) => pair.public_key().as_ref().to_vec(),
        };
        let mut chain = Certificate::load_pem_chain(certificates).map_err(key_error)?;
        let position = chain
            .iter()
            .position(|cert| {
                cert.tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes()
                    == public
            })
            .ok_or_else(|| key_error("no certificate for the key"))?;
        let certificate = chain.remove(position);
        chain.insert(0, certificate.clone());
        Ok(Seal {
            key,
            certificate,
            chain,
            rng,
        })
    }

    /// The seal from PEM files (see [`Seal::from_pem`]).
    pub fn from_pem_files(
        key: impl AsRef<Path>,
        certificates: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })
        };
        Seal::from_pem(&read(key.as_ref())?, &read(certificates.as_ref())?)
    }

    /// The seal certificate (DER).
    pub fn certificate_der(&self) -> Result<Vec<u8>, Error> {
        Ok(self.certificate.to_der()?)
    }

    pub(crate) fn algorithm(&self) -> AlgorithmIdentifierOwned {
        match self.key {
            Key::Ecdsa(_) => AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA256,
                parameters: None,
            },
            Key::Rsa(_) => AlgorithmIdentifierOwned {
                oid: SHA256_WITH_RSA,
                parameters: Some(Any::null()),
            },
        }
    }

    pub(crate) fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.key {
            Key::Ecdsa(pair) => Ok(pair
                .sign(&self.rng, message)
                .map_err(|_| key_error("ECDSA signing failed"))?
                .as_ref()
                .to_vec()),
            Key::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &ring_signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    message,
                    &mut signature,
                )
                .map_err(|_| key_error("RSA signing failed"))?;
                Ok(signature)
            }
        }
    }

    /// Seals `prepared` (the output of [`crate::prepare`]) with an incremental update: an
    /// invisible signature field on page 1 (the front page) and a PAdES signature
    /// (`/SubFilter /ETSI.CAdES.detached`, `/M` = `claimed_time`) whose `/ByteRange` covers
    /// the whole file except the `/Contents` hex string. With a `timestamper`, the
    /// SignerInfo's signature gets an RFC 3161 signature timestamp: PAdES **B-T**; without
    /// one it is B-B.
    ///
    /// Memory: `prepared` is taken by value and the update is appended to it in place (its
    /// spare capacity from [`crate::prepare`] usually suffices), so the document exists in
    /// one copy here; lopdf's parsed model of it (about the document's size again) lives only
    /// while the update is built and is dropped before hashing. The byte ranges are hashed
    /// straight from that buffer, and the CMS is written into the reserved hex placeholder.
    ///
    /// [`crate::extend_long_term`] takes the result on to B-LT and B-LTA.
    pub async fn sign(
        &self,
        prepared: Vec<u8>,
        timestamper: Option<&dyn Timestamper>,
        claimed_time: OffsetDateTime,
    ) -> Result<Vec<u8>, Error> {
        let certificates: usize = self
            .chain
            .iter()
            .map(|cert| cert.encoded_len().map(|len| u32::from(len) as usize))
            .sum::<Result<usize, der::Error>>()?;
        let reserved = CMS_ROOM
            + certificates
            + if timestamper.is_some() {
                TIMESTAMP_ROOM
            } else {
                0
            };
        let mut head =
            b"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ".to_vec();
        lopdf::Writer::write_object(&mut head, &Object::string_literal(pdf_date(claimed_time)))
            .map_err(|error| Error::Pdf(error.to_string()))?;
        let (mut out, placeholder) =
            field::append_signature_field(prepared, &head, FIELD_NAME, reserved)?;
        let message_digest = field::byte_range_digest(&mut out, &placeholder);

        let signed_attributes = cms::signed_attributes(&message_digest, &self.certificate)?;
        let signature = self.sign_bytes(&signed_attributes.to_der()?)?;
        let token = match timestamper {
            Some(timestamper) => {
                let digest: [u8; 32] = Sha256::digest(&signature).into();
                let token = timestamper.timestamp(&digest).await?;
                tsa::check_token(&token, &digest, None)?;
                Some(token)
            }
            None => None,
        };
        let cms = cms::content_info(
            &self.certificate,
            &self.chain,
            signed_attributes,
            self.algorithm(),
            signature,
            token.as_deref(),
        )?;
        field::fill_contents(&mut out, &placeholder, &cms)?;
        Ok(out)
    }
}

/// A PDF date in UTC: `D:YYYYMMDDHHmmSS+00'00'`.
fn pdf_date(time: OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portal signs inside request handlers and tasks: the future must be `Send`.
    #[allow(dead_code)]
    fn signing_is_send(seal: &Seal, timestamper: &dyn Timestamper) {
        fn send<T: Send>(_: &T) {}
        send(&seal.sign(Vec::new(), Some(timestamper), OffsetDateTime::UNIX_EPOCH));
        send(seal);
    }

    #[test]
    fn pdf_dates_are_utc() {
        let time = time::macros::datetime!(2026-03-12 15:02:03 +01:00);
        assert_eq!(pdf_date(time), "D:20260312140203+00'00'");
    }
}
