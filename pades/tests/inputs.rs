//! What `prepare` refuses (with which error) and what it keeps; keys `Seal` refuses;
//! timestamps `sign` refuses; an RSA seal without a timestamp (B-B).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pades::testpki::TestPki;
use pades::{prepare, Error, FrontPage, HttpTimestamper, Seal, Timestamper};
use std::process::Command;
use support::{agency_pdf, attachments, front_page, pyhanko_validate, run, text, Tools};

#[test]
fn not_a_pdf() {
    let result = prepare(b"<html>not a pdf</html>", &FrontPage::default(), &[]);
    assert!(matches!(result, Err(Error::NotPdf)), "{result:?}");
    let result = prepare(b"", &FrontPage::default(), &[]);
    assert!(matches!(result, Err(Error::NotPdf)), "{result:?}");
}

#[test]
fn truncated_pdfs_are_refused() {
    let original = agency_pdf(3, false);
    for cut in [20, original.len() / 2, original.len() - 30] {
        let result = prepare(&original[..cut], &front_page(1), &[]);
        assert!(
            matches!(result, Err(Error::Unreadable(_) | Error::Damaged)),
            "cut at {cut}: {result:?}"
        );
    }
}

#[test]
fn encrypted_pdfs_are_refused() {
    Tools::find();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, agency_pdf(2, false)).unwrap();
    // With a user password, and with an empty one (opens without a password, still encrypted).
    for user in ["secret", ""] {
        let encrypted = dir.path().join(format!("encrypted-{user}.pdf"));
        let output = run(Command::new("qpdf")
            .args(["--encrypt", user, "owner", "256", "--"])
            .arg(&plain)
            .arg(&encrypted));
        assert!(output.status.success(), "qpdf: {}", text(&output));
        let result = prepare(&std::fs::read(&encrypted).unwrap(), &front_page(1), &[]);
        assert!(
            matches!(result, Err(Error::Encrypted)),
            "user password {user:?}: {result:?}"
        );
    }
}

#[test]
fn a_pdf_with_no_pages_is_refused() {
    let original = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n\
xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n\
trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n110\n%%EOF\n";
    let result = prepare(original, &front_page(1), &[]);
    assert!(matches!(result, Err(Error::NoPages)), "{result:?}");
}

/// Earlier embedded files stay when more are added (here: a prepared file prepared again).
#[test]
fn earlier_embedded_files_are_kept() {
    Tools::find();
    let once = prepare(&agency_pdf(1, false), &front_page(1), &attachments(2)).unwrap();
    let twice = prepare(&once, &front_page(1), &attachments(1)).unwrap();
    assert!(twice.starts_with(&once));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.pdf");
    std::fs::write(&path, &twice).unwrap();
    let listed = text(&run(Command::new("pdfdetach").arg("-list").arg(&path)));
    assert!(listed.contains("3 embedded files"), "{listed}");
    assert!(listed.contains("signaturbevis-1-æøå.xml (2)"), "{listed}");
    let output = run(Command::new("qpdf").arg("--check").arg(&path));
    assert_eq!(
        output.status.code(),
        Some(0),
        "qpdf --check: {}",
        text(&output)
    );
}

#[test]
fn a_key_without_its_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::ensure(dir.path()).unwrap();
    let key = std::fs::read(&pki.seal_key).unwrap();
    let tsa_certificate = std::fs::read(&pki.tsa_certificate).unwrap();
    let result = Seal::from_pem(&key, &tsa_certificate);
    assert!(matches!(result, Err(Error::Key(_))), "{result:?}");
    let result = Seal::from_pem(b"not a key", &tsa_certificate);
    assert!(matches!(result, Err(Error::Key(_))), "{result:?}");
}

/// An RSA seal (key and self-signed certificate from the openssl CLI), no timestamper: a
/// B-B signature that pyHanko accepts.
#[tokio::test]
async fn an_rsa_seal_without_a_timestamp() {
    let tools = Tools::find();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("rsa.key.pem");
    let certificate = dir.path().join("rsa.pem");
    let output = run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args([
            "-subj",
            "/C=NO/O=Borgerportal TEST/CN=Borgerportal TEST RSA seal",
        ])
        .args([
            "-addext",
            "keyUsage=critical,digitalSignature,nonRepudiation",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate));
    assert!(output.status.success(), "openssl: {}", text(&output));
    let seal = Seal::from_pem_files(&key, &certificate).unwrap();
    let prepared = prepare(&agency_pdf(2, false), &front_page(1), &attachments(1)).unwrap();
    let sealed = seal
        .sign(prepared, None, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let path = dir.path().join("sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    let output = pyhanko_validate(&tools, &certificate, &path);
    assert!(output.status.success(), "pyhanko: {}", text(&output));
    let said = text(&run(Command::new("pdfsig").arg("-nocert").arg(&path)));
    assert!(said.contains("Signature is Valid."), "pdfsig: {said}");
}

/// A timestamper that answers with a real token, but for another digest.
struct WrongDigest(HttpTimestamper);

#[async_trait::async_trait]
impl Timestamper for WrongDigest {
    async fn timestamp(&self, _digest: &[u8; 32]) -> Result<Vec<u8>, Error> {
        self.0.timestamp(&[7; 32]).await
    }
}

#[tokio::test]
async fn a_timestamp_over_something_else_is_refused() {
    Tools::find();
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::ensure(&dir.path().join("pki")).unwrap();
    let authority = support::tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
    let prepared = prepare(&agency_pdf(1, false), &front_page(1), &[]).unwrap();
    let wrong = WrongDigest(HttpTimestamper::new(authority.url()).unwrap());
    let result = pki
        .seal()
        .unwrap()
        .sign(prepared, Some(&wrong), time::OffsetDateTime::now_utc())
        .await;
    match result {
        Err(Error::Timestamp(message)) => assert!(message.contains("imprint"), "{message}"),
        other => panic!("{:?}", other.map(|bytes| bytes.len())),
    }
}

#[tokio::test]
async fn an_unreachable_timestamp_authority_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::ensure(dir.path()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let timestamper = HttpTimestamper::new(format!("http://127.0.0.1:{port}/tsa")).unwrap();
    let prepared = prepare(&agency_pdf(1, false), &front_page(1), &[]).unwrap();
    let result = pki
        .seal()
        .unwrap()
        .sign(
            prepared,
            Some(&timestamper),
            time::OffsetDateTime::now_utc(),
        )
        .await;
    assert!(
        matches!(result, Err(Error::Timestamp(_))),
        "{:?}",
        result.map(|b| b.len())
    );
}
