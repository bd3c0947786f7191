//! A test PKI for development and tests: a root CA, the portal's seal certificate and a
//! timestamp authority's certificate, all ECDSA P-256, made with rcgen (ring) and kept as PEM
//! files in one directory. **Not** for production: anyone with the directory can seal.
//!
//! Files (in [`TestPki::ensure`]'s directory):
//!
//! | file               | what                                                          |
//! |--------------------|---------------------------------------------------------------|
//! | `root-ca.pem`      | the root CA certificate (what validators are told to trust)   |
//! | `root-ca.key.pem`  | its key (PKCS#8)                                              |
//! | `seal.pem`         | the seal certificate, then the root                           |
//! | `seal.key.pem`     | the seal key (PKCS#8)                                         |
//! | `tsa.pem`          | the TSA certificate (critical extended key usage timeStamping)|
//! | `tsa.key.pem`      | the TSA key (PKCS#8)                                          |
//!
//! [`TestPki::ensure_with_revocation`] adds revocation pointers under a base URL: the seal
//! certificate gets an Authority Information Access OCSP URL (`BASE/ocsp`) and a CRL
//! distribution point (`BASE/root.crl`), the TSA certificate the CRL distribution point only,
//! and there are two more files:
//!
//! | file               | what                                                          |
//! |--------------------|---------------------------------------------------------------|
//! | `ocsp.pem`         | an OCSP responder certificate (extended key usage OCSPSigning,|
//! |                    | id-pkix-ocsp-nocheck), issued by the root                     |
//! | `ocsp.key.pem`     | its key (PKCS#8)                                              |
//! | `revocation-url`   | the base URL the certificates point under                     |
//!
//! [`TestPki::crl`] makes the root's CRL (DER) for the distribution point.

use crate::{Error, Seal};
use der::pem::LineEnding;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

/// The seal certificate's common name.
pub const SEAL_COMMON_NAME: &str = "Borgerportal TEST seal";
/// The root CA's common name.
const ROOT_COMMON_NAME: &str = "Borgerportal TEST root CA";

/// The paths of a test PKI's files.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// The root CA certificate.
    pub root_certificate: PathBuf,
    /// The root CA's private key.
    pub root_key: PathBuf,
    /// The seal certificate followed by the root (for [`Seal::from_pem_files`]).
    pub seal_certificates: PathBuf,
    /// The seal's private key.
    pub seal_key: PathBuf,
    /// The TSA certificate.
    pub tsa_certificate: PathBuf,
    /// The TSA's private key.
    pub tsa_key: PathBuf,
    /// With [`TestPki::ensure_with_revocation`]: where the certificates say their status can
    /// be asked, and the OCSP responder's certificate and key.
    pub revocation: Option<TestRevocation>,
}

/// The revocation side of a test PKI ([`TestPki::ensure_with_revocation`]).
#[derive(Clone, Debug)]
pub struct TestRevocation {
    /// The base URL, without a trailing `/`.
    pub base_url: String,
    /// `BASE/ocsp`: the seal certificate's OCSP responder (Authority Information Access).
    pub ocsp_url: String,
    /// `BASE/root.crl`: the seal's and the TSA's CRL distribution point.
    pub crl_url: String,
    /// The OCSP responder certificate (extended key usage OCSPSigning, id-pkix-ocsp-nocheck).
    pub ocsp_certificate: PathBuf,
    /// Its private key.
    pub ocsp_key: PathBuf,
    /// The file that records `base_url`.
    url_file: PathBuf,
}

fn failed(what: impl std::fmt::Display) -> Error {
    Error::TestPki(what.to_string())
}

impl TestPki {
    /// The test PKI in `dir`: the files there when all are present, else a new PKI written
    /// there (the directory is created). Not safe against two first runs at once on the same
    /// directory.
    pub fn ensure(dir: &Path) -> Result<Self, Error> {
        Self::ensure_inner(dir, None)
    }

    /// As [`TestPki::ensure`], with revocation pointers under `base_url` (e.g.
    /// `http://127.0.0.1:8123`) in the seal and TSA certificates and an OCSP responder
    /// certificate (see the module's table). The files in `dir` are reused when all are there
    /// and were made for the same `base_url`.
    pub fn ensure_with_revocation(dir: &Path, base_url: &str) -> Result<Self, Error> {
        Self::ensure_inner(dir, Some(base_url.trim_end_matches('/')))
    }

    fn ensure_inner(dir: &Path, base_url: Option<&str>) -> Result<Self, Error> {
        let pki = TestPki {
            root_certificate: dir.join("root-ca.pem"),
            root_key: dir.join("root-ca.key.pem"),
            seal_certificates: dir.join("seal.pem"),
            seal_key: dir.join("seal.key.pem"),
            tsa_certificate: dir.join("tsa.pem"),
            tsa_key: dir.join("tsa.key.pem"),
            revocation: base_url.map(|base| TestRevocation {
                base_url: base.to_owned(),
                ocsp_url: format!("{base}/ocsp"),
                crl_url: format!("{base}/root.crl"),
                ocsp_certificate: dir.join("ocsp.pem"),
                ocsp_key: dir.join("ocsp.key.pem"),
                url_file: dir.join("revocation-url"),
            }),
        };
        let reusable = pki.files().iter().all(|path| path.is_file())
            && match &pki.revocation {
                None => !dir.join("revocation-url").exists(),
                Some(revocation) => {
                    revocation.ocsp_certificate.is_file()
                        && revocation.ocsp_key.is_file()
                        && std::fs::read_to_string(&revocation.url_file)
                            .ok()
                            .as_deref()
                            == Some(revocation.base_url.as_str())
                }
            };
        if reusable {
            return Ok(pki);
        }
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        pki.generate()?;
        Ok(pki)
    }

    /// The seal this PKI's seal key and certificates make.
    pub fn seal(&self) -> Result<Seal, Error> {
        Seal::from_pem_files(&self.seal_key, &self.seal_certificates)
    }

    fn files(&self) -> [&PathBuf; 6] {
        [
            &self.root_certificate,
            &self.root_key,
            &self.seal_certificates,
            &self.seal_key,
            &self.tsa_certificate,
            &self.tsa_key,
        ]
    }

    fn generate(&self) -> Result<(), Error> {
        let now = OffsetDateTime::now_utc();
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
        let mut root = params(ROOT_COMMON_NAME, now, Duration::days(20 * 365));
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root_certificate = root.self_signed(&root_key).map_err(failed)?;
        let issuer = Issuer::new(root, &root_key);

        let seal_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
        let mut seal = params(SEAL_COMMON_NAME, now, Duration::days(5 * 365));
        seal.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        if let Some(revocation) = &self.revocation {
            seal.custom_extensions = vec![authority_info_access(&revocation.ocsp_url)?];
            seal.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![revocation.crl_url.clone()],
            }];
        }
        let seal_certificate = seal.signed_by(&seal_key, &issuer).map_err(failed)?;

        let tsa_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
        let mut tsa = params("Borgerportal TEST TSA", now, Duration::days(5 * 365));
        tsa.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // Extended key usage timeStamping, critical (RFC 3161 2.3); rcgen writes its own
        // extended key usage non-critical, so this one is written by hand:
        // SEQUENCE { OID 1.3.6.1.5.5.7.3.8 }.
        let mut eku = CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![
                0x30, 0x0A, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
            ],
        );
        eku.set_criticality(true);
        tsa.custom_extensions = vec![eku];
        if let Some(revocation) = &self.revocation {
            tsa.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![revocation.crl_url.clone()],
            }];
        }
        let tsa_certificate = tsa.signed_by(&tsa_key, &issuer).map_err(failed)?;

        if let Some(revocation) = &self.revocation {
            let ocsp_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
            let mut ocsp = params("Borgerportal TEST OCSP responder", now, Duration::days(365));
            ocsp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            ocsp.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
            // id-pkix-ocsp-nocheck, NULL: validators do not ask about the responder itself.
            ocsp.custom_extensions = vec![CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5],
                vec![0x05, 0x00],
            )];
            let ocsp_certificate = ocsp.signed_by(&ocsp_key, &issuer).map_err(failed)?;
            write(
                &revocation.ocsp_certificate,
                &pem("CERTIFICATE", ocsp_certificate.der())?,
            )?;
            write(
                &revocation.ocsp_key,
                &pem("PRIVATE KEY", &ocsp_key.serialize_der())?,
            )?;
        }

        let root_pem = pem("CERTIFICATE", root_certificate.der())?;
        write(&self.root_certificate, &root_pem)?;
        write(
            &self.root_key,
            &pem("PRIVATE KEY", &root_key.serialize_der())?,
        )?;
        write(
            &self.seal_certificates,
            &(pem("CERTIFICATE", seal_certificate.der())? + &root_pem),
        )?;
        write(
            &self.seal_key,
            &pem("PRIVATE KEY", &seal_key.serialize_der())?,
        )?;
        write(
            &self.tsa_certificate,
            &pem("CERTIFICATE", tsa_certificate.der())?,
        )?;
        write(
            &self.tsa_key,
            &pem("PRIVATE KEY", &tsa_key.serialize_der())?,
        )?;
        // Last: the record that the files were made for this base URL (or for none).
        match &self.revocation {
            Some(revocation) => write(&revocation.url_file, &revocation.base_url)?,
            None => {
                let record = self.root_certificate.with_file_name("revocation-url");
                if record.exists() {
                    std::fs::remove_file(&record).map_err(|source| Error::Io {
                        path: record.clone(),
                        source,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The root's CRL (DER), valid from a minute ago for a day, listing the certificates
    /// with the serial numbers `revoked` (big-endian bytes, as in the certificates) as
    /// revoked (key compromise) an hour ago.
    pub fn crl(&self, revoked: &[&[u8]]) -> Result<Vec<u8>, Error> {
        let now = OffsetDateTime::now_utc();
        let key_pem = std::fs::read_to_string(&self.root_key).map_err(|source| Error::Io {
            path: self.root_key.clone(),
            source,
        })?;
        let (_, key_der) = der::pem::decode_vec(key_pem.as_bytes()).map_err(failed)?;
        let root_key = KeyPair::try_from(key_der.as_slice()).map_err(failed)?;
        // The issuer as the root was made: its name, key usages and key identifier method.
        let mut root = params(ROOT_COMMON_NAME, now, Duration::days(1));
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = Issuer::new(root, &root_key);
        let crl = CertificateRevocationListParams {
            this_update: now - Duration::minutes(1),
            next_update: now + Duration::days(1),
            crl_number: rcgen::SerialNumber::from(u64::try_from(now.unix_timestamp()).unwrap_or(1)),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|serial| {
                    let start = serial
                        .iter()
                        .position(|&b| b != 0)
                        .unwrap_or(serial.len().saturating_sub(1));
                    RevokedCertParams {
                        serial_number: rcgen::SerialNumber::from_slice(&serial[start..]),
                        revocation_time: now - Duration::hours(1),
                        reason_code: Some(RevocationReason::KeyCompromise),
                        invalidity_date: None,
                    }
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .map_err(failed)?;
        Ok(crl.der().to_vec())
    }
}

/// An Authority Information Access extension with one OCSP responder, `url`.
fn authority_info_access(url: &str) -> Result<CustomExtension, Error> {
    use der::Encode as _;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
    let access = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1"),
        access_location: GeneralName::UniformResourceIdentifier(
            der::asn1::Ia5String::new(url).map_err(failed)?,
        ),
    }]);
    Ok(CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        access.to_der()?,
    ))
}

/// Certificate parameters for `common_name`, valid from a day before `now` for `lifetime`,
/// with key identifiers.
fn params(common_name: &str, now: OffsetDateTime, lifetime: Duration) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CountryName, "NO");
    name.push(DnType::OrganizationName, "Borgerportal TEST");
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.not_before = now - Duration::days(1);
    params.not_after = now + lifetime;
    params.use_authority_key_identifier_extension = true;
    params
}

fn pem(label: &'static str, der: &[u8]) -> Result<String, Error> {
    der::pem::encode_string(label, LineEnding::LF, der).map_err(failed)
}

/// Writes `contents` to `path` through a temporary file and a rename, so a reader never sees
/// half a file.
fn write(path: &Path, contents: &str) -> Result<(), Error> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, contents)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
}

/// The policy the in-process test TSA stamps under (a private arc, as the tests' `openssl ts`).
const TEST_TSA_POLICY: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

impl TestPki {
    /// A timestamp authority inside the process that signs with this PKI's TSA certificate,
    /// for development without a TSA running: its tokens make a seal PAdES B-T that validators
    /// accept against the test root. Never for production (anyone with the directory can
    /// stamp any time).
    pub fn tsa(&self) -> Result<TestTsa, Error> {
        let seal = Seal::from_pem_files(&self.tsa_key, &self.tsa_certificate)?;
        let start = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
        Ok(TestTsa {
            seal,
            serial: AtomicU64::new(u64::try_from(start).unwrap_or(1) & 0x00FF_FFFF_FFFF_FFFF),
        })
    }
}

/// An RFC 3161 timestamp authority in the process ([`TestPki::tsa`]): a TSTInfo (SHA-256
/// imprint, a serial number that grows, the current time to the second, accuracy 1 s) in a
/// SignedData v3 signed with the TSA key, with the signed attributes content-type
/// (id-ct-TSTInfo), message-digest and signing-certificate-v2.
pub struct TestTsa {
    seal: Seal,
    serial: AtomicU64,
}

impl std::fmt::Debug for TestTsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTsa").finish_non_exhaustive()
    }
}

impl TestTsa {
    /// A timestamp token (DER `ContentInfo`) over SHA-256 `digest` at `at`.
    pub fn token(&self, digest: &[u8; 32], at: OffsetDateTime) -> Result<Vec<u8>, Error> {
        use der::Encode as _;
        use sha2::Digest as _;
        let mut serial = self.serial.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        // Positive and minimally encoded: the top byte is never zero.
        serial[0] = 1;
        let seconds = u64::try_from(at.unix_timestamp()).map_err(failed)?;
        let info = x509_tsp::TstInfo {
            version: x509_tsp::TspVersion::V1,
            policy: TEST_TSA_POLICY,
            message_imprint: x509_tsp::MessageImprint {
                hash_algorithm: crate::cms::sha256_algorithm(),
                hashed_message: der::asn1::OctetString::new(digest.to_vec())?,
            },
            serial_number: der::asn1::Int::new(&serial)?,
            gen_time: der::asn1::GeneralizedTime::from_unix_duration(
                std::time::Duration::from_secs(seconds),
            )?,
            accuracy: Some(x509_tsp::Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: None,
            tsa: None,
            extensions: None,
        }
        .to_der()?;
        let message_digest = sha2::Sha256::digest(&info);
        let attributes = crate::cms::signed_attributes_for(
            crate::cms::ID_CT_TST_INFO,
            &message_digest,
            &self.seal.certificate,
        )?;
        let signature = self.seal.sign_bytes(&attributes.to_der()?)?;
        crate::cms::timestamp_token(
            &self.seal.certificate,
            &self.seal.chain,
            attributes,
            self.seal.algorithm(),
            signature,
            &info,
        )
    }
}

#[async_trait::async_trait]
impl crate::Timestamper for TestTsa {
    async fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, Error> {
        self.token(digest, OffsetDateTime::now_utc())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn makes_a_pki_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::ensure(dir.path()).unwrap();
        let seal_pem = std::fs::read(&pki.seal_certificates).unwrap();
        let again = TestPki::ensure(dir.path()).unwrap();
        assert_eq!(std::fs::read(&again.seal_certificates).unwrap(), seal_pem);
        let seal = pki.seal().unwrap();
        assert!(format!("{seal:?}").contains(SEAL_COMMON_NAME));
        let chain = x509_cert::Certificate::load_pem_chain(&seal_pem).unwrap();
        assert_eq!(chain.len(), 2);
    }

    #[test]
    fn the_test_tsa_stamps_the_digest_it_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let tsa = TestPki::ensure(dir.path()).unwrap().tsa().unwrap();
        let digest = [7u8; 32];
        let first = tsa.token(&digest, OffsetDateTime::now_utc()).unwrap();
        let info = crate::tsa::check_token(&first, &digest, None).unwrap();
        assert_eq!(info.policy, TEST_TSA_POLICY);
        let second = tsa.token(&digest, OffsetDateTime::now_utc()).unwrap();
        let again = crate::tsa::check_token(&second, &digest, None).unwrap();
        assert_ne!(info.serial_number, again.serial_number);
        assert!(crate::tsa::check_token(&first, &[8u8; 32], None).is_err());
    }
}
