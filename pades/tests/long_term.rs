//! PAdES B-LT and B-LTA: a sealed PDF extended with a `/DSS` (OCSP from a loopback `openssl
//! ocsp` responder, a CRL from a loopback endpoint, both for a test PKI whose certificates
//! point at them) and a document timestamp from the loopback `openssl ts` TSA, checked by
//! pyHanko (with revocation checks), qpdf and poppler; and what the extension refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pades::testpki::TestPki;
use pades::{Error, HttpRevocationSource, HttpTimestamper};
use std::process::Command;
use support::{
    agency_pdf, front_page, long_term, pyhanko_check_file, pyhanko_validate_with_revocation, run,
    text, Tools,
};

/// The value after `key ` on the first line that has it.
fn value(said: &str, key: &str) -> String {
    said.lines()
        .find_map(|line| line.strip_prefix(&format!("{key} ")))
        .map(|value| value.trim().to_owned())
        .unwrap_or_else(|| panic!("no {key} in:\n{said}"))
}

/// The B-LTA file validates in pyHanko with revocation checks: the CLI (which fetches OCSP
/// and CRLs itself from the loopback responder), and, with the responder gone, pyHanko's
/// library on the file's own data only: the DSS holds an OCSP response "good" for the seal
/// certificate and the root's CRL (for the TSA certificate), the document timestamp
/// validates with that data, and EN 319 102-1 long-term validation passes: B-LTA.
#[tokio::test]
async fn b_lta_validates_with_revocation_checks() {
    let tools = Tools::find();
    let lta = long_term(false).await;
    let sealed = &lta.sealed;
    assert!(lta.extended.starts_with(&sealed.sealed));
    assert!(lta.extended.starts_with(&sealed.original));

    let output =
        pyhanko_validate_with_revocation(&tools, &sealed.pki.root_certificate, &lta.extended_path);
    let said = text(&output);
    eprintln!("pyhanko sign validate (revocation checks on): {said}");
    assert!(output.status.success(), "pyhanko: {said}");
    assert!(
        said.contains("Borgerportal seal:") && said.contains(":VALID"),
        "{said}"
    );
    assert!(!said.contains("INVALID"), "{said}");

    // From here on nothing can be fetched: what validates, validates from the file.
    lta.responder.stop();
    let said = pyhanko_check_file(
        &tools,
        "lta",
        &sealed.pki.root_certificate,
        &lta.extended_path,
    );
    let seal_serial = value(&said, "seal_serial");
    for line in [
        format!("ocsp {seal_serial} good\n"),
        "ocsp_status successful\n".to_owned(),
        "dss_ocsps 1\n".to_owned(),
        "dss_crls 1\n".to_owned(),
        "crl Common Name: Borgerportal TEST root CA, Organization: Borgerportal TEST, Country: NO revoked 0\n"
            .to_owned(),
        "dss_cert Common Name: Borgerportal TEST seal, Organization: Borgerportal TEST, Country: NO\n"
            .to_owned(),
        "dss_cert Common Name: Borgerportal TEST TSA, Organization: Borgerportal TEST, Country: NO\n"
            .to_owned(),
        "doc_timestamps 1\n".to_owned(),
        "doc_timestamp Borgerportal document timestamp intact True valid True trusted True \
         coverage ENTIRE_FILE\n"
            .to_owned(),
        "dss_cert Common Name: Borgerportal TEST root CA, Organization: Borgerportal TEST, \
         Country: NO\n"
            .to_owned(),
        "dss_cert Common Name: Borgerportal TEST OCSP responder, Organization: Borgerportal \
         TEST, Country: NO\n"
            .to_owned(),
        "modification_level LTA_UPDATES\n".to_owned(),
        "lta_status PASSED\n".to_owned(),
        "bottom_line True\n".to_owned(),
        "evidence_record True\n".to_owned(),
        "signature_timestamp True\n".to_owned(),
        "pades_level B-LTA\n".to_owned(),
    ] {
        assert!(said.contains(&line), "expected {line:?} in:\n{said}");
    }
}

/// `pyhanko sign adesverify` with revocation information required, nothing to fetch from.
#[tokio::test]
async fn pyhanko_adesverify_passes_without_fetching() {
    let tools = Tools::find();
    let lta = long_term(false).await;
    lta.responder.stop();
    let output = run(Command::new(&tools.pyhanko)
        .args(["sign", "adesverify", "--trust"])
        .arg(&lta.sealed.pki.root_certificate)
        .arg("--trust-replace")
        .arg(&lta.extended_path));
    let said = text(&output);
    eprintln!("pyhanko sign adesverify: {said}");
    assert!(output.status.success(), "adesverify: {said}");
    assert!(said.contains("Borgerportal seal:"), "{said}");
    assert!(
        said.contains(
            ":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES,\
             ACCEPTABLE_MODIFICATIONS"
        ),
        "{said}"
    );
}

/// qpdf finds nothing wrong (files with a cross-reference table and with a cross-reference
/// stream); pdfsig reads the seal as valid and the document timestamp as covering the whole
/// file; one changed byte breaks the seal for pyHanko and pdfsig.
#[tokio::test]
async fn qpdf_and_pdfsig_accept_b_lta_and_a_changed_byte_breaks_it() {
    let tools = Tools::find();
    for xref_stream in [false, true] {
        let lta = long_term(xref_stream).await;
        let output = run(Command::new("qpdf").arg("--check").arg(&lta.extended_path));
        assert_eq!(
            output.status.code(),
            Some(0),
            "qpdf --check (xref stream {xref_stream}): {}",
            text(&output)
        );
        let said = text(&run(Command::new("pdfsig")
            .arg("-nocert")
            .arg(&lta.extended_path)));
        eprintln!("pdfsig -nocert: {said}");
        // Signature #1, the seal: valid, and no longer the whole file (two updates follow).
        let (seal, timestamp) = said.split_once("Signature #2:").expect("two signatures");
        assert!(seal.contains("Signature is Valid."), "{said}");
        assert!(seal.contains("ETSI.CAdES.detached"), "{said}");
        assert!(seal.contains("Not total document signed"), "{said}");
        // Signature #2, the document timestamp: found, over the whole file. This poppler
        // cannot check an RFC 3161 document timestamp ("Unable to validate this type of
        // signature"); pyHanko checks it in `b_lta_validates_with_revocation_checks`.
        assert!(
            timestamp.contains("Borgerportal document timestamp"),
            "{said}"
        );
        assert!(timestamp.contains("Total document signed"), "{said}");
        assert!(!timestamp.contains("Not total document signed"), "{said}");
        let mut tampered = lta.extended.clone();
        let at = tampered
            .windows(6)
            .position(|w| w == b"Side 2")
            .expect("page text");
        tampered[at + 5] = b'3';
        let path = lta.sealed.dir.path().join("tampered.pdf");
        std::fs::write(&path, &tampered).unwrap();
        let output =
            pyhanko_validate_with_revocation(&tools, &lta.sealed.pki.root_certificate, &path);
        let said = text(&output);
        assert!(!output.status.success(), "{said}");
        assert!(said.contains("INVALID"), "{said}");
        let said = text(&run(Command::new("pdfsig").arg("-nocert").arg(&path)));
        eprintln!("pdfsig on the tampered copy: {said}");
        assert!(!said.contains("Signature is Valid."), "{said}");
    }
}

/// A revoked seal certificate: the OCSP responder says so, and the extension is an error
/// naming the certificate (never a file that looks long-term valid).
#[tokio::test]
async fn a_revoked_seal_certificate_is_an_error() {
    Tools::find();
    let dir = tempfile::tempdir().unwrap();
    let responder = support::revocation::LoopbackRevocation::start();
    let pki =
        TestPki::ensure_with_revocation(&dir.path().join("pki"), &responder.base_url()).unwrap();
    responder.serve(&pki, &dir.path().join("ocsp"), &[&pki.seal_certificates]);
    let authority = support::tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
    let timestamper = HttpTimestamper::new(authority.url()).unwrap();
    let prepared = pades::prepare(&agency_pdf(1, false), &front_page(1), &[]).unwrap();
    let sealed = pki
        .seal()
        .unwrap()
        .sign(
            prepared,
            Some(&timestamper),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let result =
        pades::extend_long_term(sealed, &HttpRevocationSource::new().unwrap(), &timestamper).await;
    match result {
        Err(Error::Revoked(message)) => {
            assert!(message.contains("Borgerportal TEST seal"), "{message}");
            assert!(message.contains("/ocsp"), "{message}");
        }
        other => panic!("{:?}", other.map(|bytes| bytes.len())),
    }
}

/// A responder that is not there: an error naming the certificate and the URL.
#[tokio::test]
async fn an_unreachable_responder_is_an_error_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let pki = TestPki::ensure_with_revocation(&dir.path().join("pki"), &base).unwrap();
    let tsa = pki.tsa().unwrap();
    let prepared = pades::prepare(&agency_pdf(1, false), &front_page(1), &[]).unwrap();
    let sealed = pki
        .seal()
        .unwrap()
        .sign(prepared, Some(&tsa), time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let result = pades::add_revocation_info(sealed, &HttpRevocationSource::new().unwrap()).await;
    match result {
        Err(Error::Revocation(message)) => {
            assert!(message.contains(&format!("{base}/ocsp")), "{message}");
            assert!(message.contains("Borgerportal TEST seal"), "{message}");
        }
        other => panic!("{:?}", other.map(|bytes| bytes.len())),
    }
}

/// A seal certificate that names no OCSP responder or CRL distribution point cannot be made
/// B-LT: an error, not a DSS without the seal's revocation data.
#[tokio::test]
async fn a_seal_certificate_without_revocation_pointers_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::ensure(dir.path()).unwrap();
    let tsa = pki.tsa().unwrap();
    let prepared = pades::prepare(&agency_pdf(1, false), &front_page(1), &[]).unwrap();
    let sealed = pki
        .seal()
        .unwrap()
        .sign(prepared, Some(&tsa), time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let result = pades::add_revocation_info(sealed, &HttpRevocationSource::new().unwrap()).await;
    assert!(
        matches!(&result, Err(Error::Revocation(m)) if m.contains("names no OCSP responder")),
        "{:?}",
        result.map(|bytes| bytes.len())
    );
    // And a file without a seal is refused.
    let result =
        pades::add_revocation_info(agency_pdf(1, false), &HttpRevocationSource::new().unwrap())
            .await;
    assert!(
        matches!(result, Err(Error::Pdf(_))),
        "{:?}",
        result.map(|b| b.len())
    );
}
