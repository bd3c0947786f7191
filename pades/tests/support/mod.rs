//! Test support: the outside tools (pyHanko, qpdf, poppler, openssl), a loopback timestamp
//! authority run by `openssl ts -reply`, a loopback OCSP responder (`openssl ocsp`) and CRL
//! endpoint, test PDFs, and sealed fixtures (B-T, and B-LTA).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod revocation;
pub mod tsa;

use lopdf::{dictionary, Document, Object, Stream};
use pades::testpki::TestPki;
use pades::{Attachment, FrontPage, HttpTimestamper, Signer};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The environment variable `cargo xtask test` sets to the Python that has pyHanko.
const PYTHON_VARIABLE: &str = "BORGERPORTAL_TEST_PYTHON";

/// Where the outside tools are. Missing ones fail the test with a hint, never skip it.
pub struct Tools {
    pub python: PathBuf,
    pub pyhanko: PathBuf,
}

impl Tools {
    pub fn find() -> Self {
        let python = std::env::var_os(PYTHON_VARIABLE)
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "{PYTHON_VARIABLE} is not set: run the tests with `cargo xtask test`, or run \
                 `cargo xtask setup` and set it to ~/.cache/borgerportal/venv/bin/python"
                )
            });
        let pyhanko = python.with_file_name("pyhanko");
        for tool in [&python, &pyhanko] {
            assert!(
                tool.is_file(),
                "{} is missing: run `cargo xtask setup` (it installs pyHanko into the test venv)",
                tool.display()
            );
        }
        for tool in ["qpdf", "pdfsig", "pdftotext", "pdfdetach", "openssl"] {
            assert!(
                Command::new(tool).arg("--version").output().is_ok()
                    || Command::new(tool).arg("-v").output().is_ok(),
                "`{tool}` is missing: run `cargo xtask setup` (it apt-installs qpdf and \
                 poppler-utils; openssl comes with the system)"
            );
        }
        Tools { python, pyhanko }
    }
}

/// Runs `command`, returning its output (whatever its exit status).
pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("could not run {command:?}: {error}"))
}

/// The output's stdout and stderr as one text.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// An agency's PDF of about `megabytes` MB: one page whose content stream is mostly comment
/// lines (uncompressed).
pub fn large_pdf(megabytes: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let mut content = b"BT /F1 14 Tf 72 760 Td (Side 1: stor fil) Tj ET\n".to_vec();
    let filler = format!("% {}\n", "0123456789abcdef".repeat(63));
    while content.len() < megabytes * 1024 * 1024 {
        content.extend_from_slice(filler.as_bytes());
    }
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// An agency's PDF: `pages` A4 pages of Helvetica text with Norwegian letters, saved with a
/// classic cross-reference table, or with object streams and a cross-reference stream.
pub fn agency_pdf(pages: usize, xref_stream: bool) -> Vec<u8> {
    let mut doc = Document::with_version(if xref_stream { "1.5" } else { "1.4" });
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let mut kids = Vec::new();
    for n in 1..=pages {
        // "Side n: Blåbærsyltetøy på Ørland" in Windows-1252.
        let mut line = format!("BT /F1 14 Tf 72 760 Td (Side {n}: Bl").into_bytes();
        line.extend_from_slice(b"\xE5b\xE6rsyltet\xF8y p\xE5 \xD8rland) Tj ET");
        let content_id = doc.add_object(Stream::new(dictionary! {}, line));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        })));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => pages as i64,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    if xref_stream {
        doc.save_modern(&mut bytes).unwrap();
    } else {
        doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
        doc.save_to(&mut bytes).unwrap();
    }
    bytes
}

/// The signers every fixture lists, with æøå and é in their names.
pub fn front_page(signers: usize) -> FrontPage {
    let names = [
        "Kari Nordmann, født 01.02.1980",
        "Ærlend Øvrebø Åsheim",
        "Renée Sæther",
        "Bjørn Ødegård",
    ];
    FrontPage {
        heading: "Signert dokument".into(),
        test_notice: Some("TEST — ikke et gyldig segl".into()),
        document_title: "Leieavtale for Storgata 1, 0155 Oslo — med vedlegg om særskilte vilkår \
                         for bruk av fellesarealer, sykkelbod og vaskeri"
            .into(),
        sender: "Avsender: Eksempeletaten".into(),
        paragraphs: vec![
            "Dokumentet er forseglet av Borgerportal. Signaturbevisene ligger som vedlegg.".into(),
        ],
        signers_heading: "Signert av".into(),
        signers: (0..signers)
            .map(|i| Signer {
                name: names[i % names.len()].into(),
                signed_at: format!("Signert 12.03.2026 kl. 14:0{}", i % 10),
                level: "Sikkerhetsnivå: høyt".into(),
                eid: "Innlogget med BankID".into(),
                on_behalf_of: (i == 1).then(|| "På vegne av Eksempel AS, som daglig leder".into()),
            })
            .collect(),
        page_footer: None,
    }
}

/// One evidence file per signer.
pub fn attachments(signers: usize) -> Vec<Attachment> {
    (0..signers)
        .map(|i| Attachment {
            name: format!("signaturbevis-{}-æøå.xml", i + 1),
            description: format!("Signaturbevis for underskriver {}", i + 1),
            mime_type: "application/xml".into(),
            data: format!("<evidence signer=\"{}\">Blåbær</evidence>\n", i + 1).into_bytes(),
        })
        .collect()
}

/// A sealed PDF and what made it, in a temporary directory.
pub struct Sealed {
    pub dir: tempfile::TempDir,
    pub pki: TestPki,
    pub original: Vec<u8>,
    pub prepared: Vec<u8>,
    pub sealed: Vec<u8>,
    pub path: PathBuf,
    pub attachments: Vec<Attachment>,
}

/// Prepares and seals a 3-page agency PDF with a fresh test PKI and the loopback TSA.
pub async fn seal(signers: usize, xref_stream: bool) -> Sealed {
    seal_pdf(agency_pdf(3, xref_stream), signers).await
}

/// Prepares and seals `original` with a fresh test PKI and the loopback TSA.
pub async fn seal_pdf(original: Vec<u8>, signers: usize) -> Sealed {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::ensure(&dir.path().join("pki")).unwrap();
    let authority = tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
    let attachments = attachments(signers);
    let started = std::time::Instant::now();
    let prepared = pades::prepare(&original, &front_page(signers), &attachments).unwrap();
    eprintln!(
        "preparing {} bytes took {:?}",
        original.len(),
        started.elapsed()
    );
    let seal = pki.seal().unwrap();
    let timestamper = HttpTimestamper::new(authority.url()).unwrap();
    let started = std::time::Instant::now();
    let sealed = seal
        .sign(
            prepared.clone(),
            Some(&timestamper),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    eprintln!(
        "sealing {} bytes took {:?} (with the loopback TSA)",
        prepared.len(),
        started.elapsed()
    );
    let path = dir.path().join("sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    // For a look by hand: PADES_KEEP=dir keeps a copy of the PKI and the sealed file.
    if let Some(keep) = std::env::var_os("PADES_KEEP") {
        let keep = PathBuf::from(keep).join(format!("sealed-{signers}-{}", original.len()));
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::write(keep.join("sealed.pdf"), &sealed).unwrap();
        std::fs::copy(&pki.root_certificate, keep.join("root-ca.pem")).unwrap();
    }
    Sealed {
        dir,
        pki,
        original,
        prepared,
        sealed,
        path,
        attachments,
    }
}

/// `pyhanko sign validate --executive-summary` against the test root, no revocation check.
pub fn pyhanko_validate(tools: &Tools, root: &Path, pdf: &Path) -> Output {
    run(Command::new(&tools.pyhanko)
        .args(["sign", "validate", "--executive-summary", "--trust"])
        .arg(root)
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(pdf))
}

/// A B-LTA file and what made it: a test PKI whose certificates point at a loopback OCSP
/// responder and CRL endpoint, the loopback TSA, the B-T seal and its B-LTA extension.
pub struct LongTerm {
    pub sealed: Sealed,
    pub responder: revocation::LoopbackRevocation,
    pub authority: tsa::LoopbackTsa,
    /// The B-T file (`sealed.sealed`) taken on to B-LTA.
    pub extended: Vec<u8>,
    /// Where `extended` is written.
    pub extended_path: PathBuf,
}

/// Prepares, seals (B-T) and extends (B-LT, B-LTA) a 3-page agency PDF with a fresh test
/// PKI with revocation pointers, the loopback TSA and the loopback OCSP/CRL responder.
pub async fn long_term(xref_stream: bool) -> LongTerm {
    let dir = tempfile::tempdir().unwrap();
    let responder = revocation::LoopbackRevocation::start();
    let pki =
        TestPki::ensure_with_revocation(&dir.path().join("pki"), &responder.base_url()).unwrap();
    responder.serve(&pki, &dir.path().join("ocsp"), &[]);
    let authority = tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
    let original = agency_pdf(3, xref_stream);
    let attachments = attachments(2);
    let prepared = pades::prepare(&original, &front_page(2), &attachments).unwrap();
    let timestamper = HttpTimestamper::new(authority.url()).unwrap();
    let sealed = pki
        .seal()
        .unwrap()
        .sign(
            prepared.clone(),
            Some(&timestamper),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let path = dir.path().join("sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    let started = std::time::Instant::now();
    let extended = pades::extend_long_term(
        sealed.clone(),
        &pades::HttpRevocationSource::new().unwrap(),
        &timestamper,
    )
    .await
    .unwrap();
    eprintln!(
        "B-LT + B-LTA of {} bytes took {:?} (loopback OCSP, CRL and TSA)",
        sealed.len(),
        started.elapsed()
    );
    let extended_path = dir.path().join("lta.pdf");
    std::fs::write(&extended_path, &extended).unwrap();
    if let Some(keep) = std::env::var_os("PADES_KEEP") {
        let keep = PathBuf::from(keep).join(format!("lta-{xref_stream}"));
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::write(keep.join("lta.pdf"), &extended).unwrap();
        std::fs::copy(&pki.root_certificate, keep.join("root-ca.pem")).unwrap();
    }
    LongTerm {
        sealed: Sealed {
            dir,
            pki,
            original,
            prepared,
            sealed,
            path,
            attachments,
        },
        responder,
        authority,
        extended,
        extended_path,
    }
}

/// `pyhanko sign validate --executive-summary` against the test root **with** revocation
/// checks (pyHanko fetches OCSP and CRLs itself, hard-fail).
pub fn pyhanko_validate_with_revocation(tools: &Tools, root: &Path, pdf: &Path) -> Output {
    run(Command::new(&tools.pyhanko)
        .args(["sign", "validate", "--executive-summary", "--trust"])
        .arg(root)
        .arg("--trust-replace")
        .arg(pdf))
}

/// Runs `tests/pyhanko_checks.py CHECK ROOT FILE` and returns what it printed (it must exit 0).
pub fn pyhanko_check_file(tools: &Tools, check: &str, root: &Path, pdf: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyhanko_checks.py");
    let output = run(Command::new(&tools.python)
        .arg(script)
        .arg(check)
        .arg(root)
        .arg(pdf));
    let said = text(&output);
    eprintln!("pyhanko_checks.py {check}: {said}");
    assert!(output.status.success(), "{said}");
    said
}
