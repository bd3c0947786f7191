//! PAdES B-LT: a Document Security Store (`/DSS` in the catalog, ETSI EN 319 142-1 5.4.2)
//! with the certificates and the OCSP responses or CRLs of the seal's chain and of the
//! timestamp authorities' chains, appended as an incremental update.

use crate::cms::{ID_AA_TIME_STAMP_TOKEN, ID_SIGNED_DATA};
use crate::pdf::{self, deref, Update};
use crate::revocation::{self, RevocationSource};
use crate::Error;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::{Decode, Encode, SliceReader};
use lopdf::{Dictionary, Document, Object, Stream};
use std::collections::HashMap;
use x509_cert::Certificate;

/// The most OCSP requests and CRL downloads one update makes (a long chain and a delegated
/// responder need a handful).
const MAX_FETCHES: usize = 32;

/// What one signature or document timestamp in the file is.
struct FoundSignature {
    doc_timestamp: bool,
    contents: Vec<u8>,
}

/// The certificates B-LT covers, read from the file: the seal's signer certificate and every
/// certificate of its CMS and its signature timestamp tokens, and those of the document
/// timestamps already in the file.
struct Chains {
    /// The seal's signer certificate.
    seal: Certificate,
    /// Every certificate found, each once, in the order found.
    certificates: Vec<Certificate>,
}

/// Appends a `/DSS` (B-LT) to `signed`, a PDF sealed by [`crate::Seal::sign`] (B-T): the
/// certificates of the seal's CMS and of its signature timestamp token (and of any document
/// timestamp already in the file), and for each certificate that is not a root an OCSP
/// response (when its Authority Information Access names a responder) or else a CRL (from its
/// CRL Distribution Points), fetched through `source`. Certificates an OCSP response carries
/// (a delegated responder's) are added, and asked about too unless they carry
/// id-pkix-ocsp-nocheck. A `/DSS` already in the file is kept and added to. No `/VRI`:
/// validators look revocation data up by certificate.
///
/// The seal is the last signature field whose value is a `/Type /Sig` dictionary.
///
/// Errors: [`Error::Revocation`] (the seal's certificate names no OCSP responder or CRL
/// distribution point, or a responder or distribution point failed or answered something
/// unusable: the message names the certificate and the URL), [`Error::Revoked`] (a
/// certificate of the chains is revoked: the document must not be sealed with it), and
/// [`Error::Pdf`] when the file holds no seal.
pub async fn add_revocation_info(
    signed: Vec<u8>,
    source: &dyn RevocationSource,
) -> Result<Vec<u8>, Error> {
    let chains = read_chains(&signed)?;
    let mut certificates = chains.certificates.clone();
    let mut ocsps: Vec<Vec<u8>> = Vec::new();
    let mut crls: Vec<Vec<u8>> = Vec::new();
    let mut crl_cache: HashMap<String, usize> = HashMap::new();
    let mut fetches = 0usize;
    let mut next = 0usize;
    while next < certificates.len() {
        let certificate = certificates[next].clone();
        next += 1;
        if revocation::self_issued(&certificate) || revocation::ocsp_nocheck(&certificate) {
            continue;
        }
        let name = revocation::subject(&certificate);
        let issuer = certificates
            .iter()
            .find(|candidate| {
                candidate.tbs_certificate.subject == certificate.tbs_certificate.issuer
            })
            .cloned();
        let ocsp_urls = revocation::ocsp_urls(&certificate)?;
        let crl_urls = revocation::crl_urls(&certificate)?;
        if let (Some(url), Some(issuer)) = (ocsp_urls.first(), issuer.as_ref()) {
            fetches += 1;
            if fetches > MAX_FETCHES {
                return Err(Error::Revocation(format!(
                    "more than {MAX_FETCHES} fetches"
                )));
            }
            let id = revocation::cert_id(&certificate, issuer)?;
            let body = source
                .ocsp(url, &revocation::ocsp_request(&id)?)
                .await
                .map_err(|error| named(error, &name))?;
            let carried = revocation::check_ocsp(&body, &id, url, &name)?;
            for extra in carried {
                if !certificates.contains(&extra) {
                    certificates.push(extra);
                }
            }
            ocsps.push(body);
        } else if let Some(url) = crl_urls.first() {
            let index = match crl_cache.get(url) {
                Some(index) => *index,
                None => {
                    fetches += 1;
                    if fetches > MAX_FETCHES {
                        return Err(Error::Revocation(format!(
                            "more than {MAX_FETCHES} fetches"
                        )));
                    }
                    let body = source.crl(url).await.map_err(|error| named(error, &name))?;
                    crls.push(body);
                    crl_cache.insert(url.clone(), crls.len() - 1);
                    crls.len() - 1
                }
            };
            revocation::check_crl(&crls[index], &certificate, url, &name)?;
        } else if !ocsp_urls.is_empty() {
            return Err(Error::Revocation(format!(
                "{name}: its issuer's certificate is not in the signature, so OCSP {} cannot \
                 be asked, and it names no CRL distribution point",
                ocsp_urls[0]
            )));
        } else if certificate == chains.seal {
            return Err(Error::Revocation(format!(
                "{name}: the seal certificate names no OCSP responder and no CRL distribution \
                 point"
            )));
        }
    }
    write_dss(signed, &certificates, &ocsps, &crls)
}

/// `error` with the certificate's name in front, when it is a revocation error.
fn named(error: Error, name: &str) -> Error {
    match error {
        Error::Revocation(message) => Error::Revocation(format!("{name}: {message}")),
        other => other,
    }
}

/// The signatures in `document`'s form fields (and their kids), in field order.
fn signatures(document: &Document) -> Result<Vec<FoundSignature>, Error> {
    let catalog = document.get_dictionary(pdf::catalog_id(document)?)?;
    let Ok(form) = catalog.get(b"AcroForm") else {
        return Ok(Vec::new());
    };
    let form = deref(document, form)?.as_dict()?;
    let Ok(fields) = form.get(b"Fields") else {
        return Ok(Vec::new());
    };
    let mut pending: Vec<(Object, usize)> = deref(document, fields)?
        .as_array()?
        .iter()
        .rev()
        .map(|field| (field.clone(), 0))
        .collect();
    let mut found = Vec::new();
    while let Some((field, depth)) = pending.pop() {
        if depth > 16 {
            return Err(Error::Unreadable("form field tree too deep".to_owned()));
        }
        let Ok(field) = deref(document, &field)?.as_dict() else {
            continue;
        };
        if let Ok(kids) = field.get(b"Kids") {
            for kid in deref(document, kids)?.as_array()?.iter().rev() {
                pending.push((kid.clone(), depth + 1));
            }
        }
        let Ok(value) = field.get(b"V") else {
            continue;
        };
        let Ok(value) = deref(document, value)?.as_dict() else {
            continue;
        };
        let kind = value
            .get(b"Type")
            .and_then(Object::as_name)
            .unwrap_or(&b"Sig"[..]);
        let Ok(Object::String(contents, _)) = value.get(b"Contents") else {
            continue;
        };
        match kind {
            b"Sig" | b"DocTimeStamp" => found.push(FoundSignature {
                doc_timestamp: kind == b"DocTimeStamp",
                contents: contents.clone(),
            }),
            _ => {}
        }
    }
    Ok(found)
}

/// The SignedData in a `/Contents` (DER, followed by the placeholder's zeros).
fn signed_data(contents: &[u8]) -> Result<SignedData, Error> {
    let mut reader = SliceReader::new(contents)?;
    let info = ContentInfo::decode(&mut reader)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(Error::Pdf(
            "a signature's /Contents is not a SignedData".to_owned(),
        ));
    }
    Ok(info.content.decode_as()?)
}

fn certificates_of(signed_data: &SignedData, into: &mut Vec<Certificate>) -> Result<(), Error> {
    for choice in signed_data.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(certificate) = choice {
            if !into.contains(certificate) {
                into.push(certificate.clone());
            }
        }
    }
    Ok(())
}

/// The seal's certificate and the certificates of the seal, its timestamp tokens and the
/// document timestamps in `pdf`.
fn read_chains(pdf: &[u8]) -> Result<Chains, Error> {
    let document = pdf::load(pdf)?;
    let found = signatures(&document)?;
    drop(document);
    let seal = found
        .iter()
        .rev()
        .find(|signature| !signature.doc_timestamp)
        .ok_or_else(|| Error::Pdf("the file holds no signature to add B-LT data for".to_owned()))?;
    let seal_data = signed_data(&seal.contents)?;
    let signer_info = seal_data
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| Error::Pdf("the seal has no SignerInfo".to_owned()))?;
    let SignerIdentifier::IssuerAndSerialNumber(id) = &signer_info.sid else {
        return Err(Error::Pdf(
            "the seal names its certificate by key id".to_owned(),
        ));
    };
    let mut certificates = Vec::new();
    certificates_of(&seal_data, &mut certificates)?;
    let seal_certificate = certificates
        .iter()
        .find(|certificate| {
            certificate.tbs_certificate.issuer == id.issuer
                && certificate.tbs_certificate.serial_number == id.serial_number
        })
        .cloned()
        .ok_or_else(|| Error::Pdf("the seal's certificate is not in its CMS".to_owned()))?;
    // The seal's certificate first: it is the one that must have revocation data.
    certificates.retain(|certificate| *certificate != seal_certificate);
    certificates.insert(0, seal_certificate.clone());
    for attribute in signer_info.unsigned_attrs.iter().flat_map(|set| set.iter()) {
        if attribute.oid != ID_AA_TIME_STAMP_TOKEN {
            continue;
        }
        for value in attribute.values.iter() {
            let token = signed_data(&value.to_der()?)?;
            certificates_of(&token, &mut certificates)?;
        }
    }
    for timestamp in found.iter().filter(|signature| signature.doc_timestamp) {
        certificates_of(&signed_data(&timestamp.contents)?, &mut certificates)?;
    }
    Ok(Chains {
        seal: seal_certificate,
        certificates,
    })
}

/// Appends the update: one stream per certificate, OCSP response and CRL, the `/DSS`
/// dictionary (earlier entries kept) and the catalog pointing at it.
fn write_dss(
    signed: Vec<u8>,
    certificates: &[Certificate],
    ocsps: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> Result<Vec<u8>, Error> {
    let document = pdf::load(&signed)?;
    let catalog_id = pdf::catalog_id(&document)?;
    let mut catalog = document.get_dictionary(catalog_id)?.clone();
    let mut dss = match catalog.get(b"DSS") {
        Ok(dss) => deref(&document, dss)?.as_dict()?.clone(),
        Err(_) => Dictionary::new(),
    };
    let existing = |key: &[u8]| -> Result<Vec<Object>, Error> {
        match dss.get(key) {
            Ok(array) => Ok(deref(&document, array)?.as_array()?.clone()),
            Err(_) => Ok(Vec::new()),
        }
    };
    let mut cert_refs = existing(b"Certs")?;
    let mut ocsp_refs = existing(b"OCSPs")?;
    let mut crl_refs = existing(b"CRLs")?;

    let mut out = signed;
    let mut update = Update::begin(&document, &mut out);
    fn stream(update: &mut Update, out: &mut Vec<u8>, bytes: Vec<u8>) -> Result<Object, Error> {
        let id = update.new_id();
        let stream = Stream::new(Dictionary::new(), bytes);
        update.write(out, id, &Object::Stream(stream))?;
        Ok(Object::Reference(id))
    }
    for certificate in certificates {
        cert_refs.push(stream(&mut update, &mut out, certificate.to_der()?)?);
    }
    for ocsp in ocsps {
        ocsp_refs.push(stream(&mut update, &mut out, ocsp.clone())?);
    }
    for crl in crls {
        crl_refs.push(stream(&mut update, &mut out, crl.clone())?);
    }
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    for (key, refs) in [
        ("Certs", cert_refs),
        ("OCSPs", ocsp_refs),
        ("CRLs", crl_refs),
    ] {
        if !refs.is_empty() {
            dss.set(key, Object::Array(refs));
        }
    }
    let dss_id = update.new_id();
    update.write(&mut out, dss_id, &Object::Dictionary(dss))?;
    catalog.set("DSS", Object::Reference(dss_id));
    update.write(&mut out, catalog_id, &Object::Dictionary(catalog))?;
    drop(document);
    update.finish(&mut out)?;
    Ok(out)
}
