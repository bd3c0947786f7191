//! A prepared and sealed PDF, checked by validators that are not this crate: pyHanko (CLI and
//! library), qpdf, poppler (pdfsig, pdftotext, pdfdetach). The timestamps come from a real
//! TSA on loopback (`openssl ts -reply`). See `support/mod.rs` for how the tools are found.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use support::{large_pdf, pyhanko_validate, run, seal, seal_pdf, text, Tools};

/// pyHanko's CLI calls the seal VALID against the test root (exit 0).
#[tokio::test]
async fn pyhanko_validates_the_seal() {
    let tools = Tools::find();
    let sealed = seal(2, false).await;
    let output = pyhanko_validate(&tools, &sealed.pki.root_certificate, &sealed.path);
    let said = text(&output);
    eprintln!("pyhanko sign validate: {said}");
    assert!(output.status.success(), "pyhanko: {said}");
    assert!(said.contains(":VALID") || said.contains("VALID"), "{said}");
    assert!(!said.contains("INVALID"), "{said}");
}

/// `pyhanko sign adesverify` (ETSI EN 319 102-1 validation) accepts the seal and its
/// signature timestamp. Its CLI prints pyHanko's status summary, not a level name; the level
/// comes from pyHanko's library below: the validation process for signatures with time
/// passes, its best signature time is the timestamp's, and the structure is B-T (a signature
/// timestamp, no DSS, no document timestamp).
#[tokio::test]
async fn pyhanko_ades_validation_says_b_t() {
    let tools = Tools::find();
    let sealed = seal(1, false).await;
    let output = run(Command::new(&tools.pyhanko)
        .args(["sign", "adesverify", "--trust"])
        .arg(&sealed.pki.root_certificate)
        .args(["--trust-replace", "--no-revocation-check"])
        .arg(&sealed.path));
    let said = text(&output);
    eprintln!("pyhanko sign adesverify: {said}");
    assert!(output.status.success(), "adesverify: {said}");
    assert!(
        said.contains(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
        "{said}"
    );

    let said = pyhanko_check(&tools, &["ades"], &sealed);
    for line in [
        "with_time_status PASSED\n",
        "with_time_subindication OK\n",
        "signature_timestamp True\n",
        "bottom_line True\n",
        "pades_level B-T\n",
    ] {
        assert!(said.contains(line), "expected {line:?} in:\n{said}");
    }
    let value = |key: &str| {
        said.lines()
            .find_map(|line| line.strip_prefix(key))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {key} in:\n{said}"))
            .to_owned()
    };
    assert_eq!(
        value("with_time_best_signature_time "),
        value("timestamp_time ")
    );
}

/// Runs `tests/pyhanko_checks.py CHECK [ROOT] FILE` with the test venv's python.
fn pyhanko_check(tools: &Tools, check: &[&str], sealed: &support::Sealed) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyhanko_checks.py");
    let mut command = Command::new(&tools.python);
    command.arg(script).args(check);
    if check == ["ades"] {
        command.arg(&sealed.pki.root_certificate);
    }
    let output = run(command.arg(&sealed.path));
    let said = text(&output);
    eprintln!("pyhanko_checks.py {check:?}: {said}");
    assert!(output.status.success(), "{said}");
    said
}

/// pyHanko's library reads the structure: the SubFilter, the signed attributes exactly
/// content-type, message-digest and signing-certificate-v2, and a signature timestamp token.
#[tokio::test]
async fn signature_has_the_pades_baseline_structure() {
    let tools = Tools::find();
    let sealed = seal(1, false).await;
    let said = pyhanko_check(&tools, &["structure"], &sealed);
    for line in [
        "signatures 1\n",
        "subfilter /ETSI.CAdES.detached\n",
        "filter /Adobe.PPKLite\n",
        // content-type, message-digest, signing-certificate-v2 and nothing else (no
        // signing-time, 1.2.840.113549.1.9.5).
        "signed 1.2.840.113549.1.9.16.2.47,1.2.840.113549.1.9.3,1.2.840.113549.1.9.4\n",
        "unsigned signature_time_stamp_token\n",
        "content_type data\n",
        "detached True\n",
        "digest sha256\n",
        "field Borgerportal seal\n",
        "coverage ENTIRE_FILE\n",
    ] {
        assert!(said.contains(line), "expected {line:?} in:\n{said}");
    }
}

/// qpdf finds no errors or warnings; poppler's pdfsig says the digest is right.
#[tokio::test]
async fn qpdf_and_pdfsig_accept_the_file() {
    Tools::find();
    let sealed = seal(2, false).await;
    let output = run(Command::new("qpdf").arg("--check").arg(&sealed.path));
    assert_eq!(
        output.status.code(),
        Some(0),
        "qpdf --check: {}",
        text(&output)
    );

    let output = run(Command::new("pdfsig").arg("-nocert").arg(&sealed.path));
    let said = text(&output);
    eprintln!("pdfsig -nocert: {said}");
    assert!(said.contains("Signature is Valid."), "pdfsig: {said}");
    assert!(said.contains("ETSI.CAdES.detached"), "pdfsig: {said}");
    assert!(said.contains("Total document signed"), "pdfsig: {said}");
}

/// One byte changed inside the signed range: pyHanko says INVALID, pdfsig not valid.
#[tokio::test]
async fn a_changed_byte_breaks_the_seal() {
    let tools = Tools::find();
    let sealed = seal(1, false).await;
    let mut tampered = sealed.sealed.clone();
    // A byte of the agency's page text ("Side 1: ..."), well inside the first range.
    let at = tampered
        .windows(6)
        .position(|w| w == b"Side 2")
        .expect("page text");
    tampered[at + 5] = b'3';
    let path = sealed.dir.path().join("tampered.pdf");
    std::fs::write(&path, &tampered).unwrap();

    let output = pyhanko_validate(&tools, &sealed.pki.root_certificate, &path);
    let said = text(&output);
    eprintln!("pyhanko on the tampered copy: {said}");
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("INVALID"), "{said}");

    let output = run(Command::new("pdfsig").arg("-nocert").arg(&path));
    let said = text(&output);
    eprintln!("pdfsig on the tampered copy: {said}");
    assert!(!said.contains("Signature is Valid."), "{said}");
}

/// The original is a prefix; the front page is page 1 with the signers' names (æøå, é); the
/// evidence files are embedded with their content.
#[tokio::test]
async fn front_page_and_evidence_are_in_the_sealed_file() {
    Tools::find();
    let sealed = seal(3, false).await;
    assert!(sealed.sealed.starts_with(&sealed.original));
    assert!(sealed.sealed.starts_with(&sealed.prepared));

    let output = run(Command::new("pdftotext")
        .args(["-f", "1", "-l", "1", "-enc", "UTF-8"])
        .arg(&sealed.path)
        .arg("-"));
    let page = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("page 1: {page}");
    for expected in [
        "Signert dokument",
        "TEST — ikke et gyldig segl",
        "Kari Nordmann, født 01.02.1980",
        "Ærlend Øvrebø Åsheim",
        "Renée Sæther",
        "Sikkerhetsnivå: høyt",
        "På vegne av Eksempel AS, som daglig leder",
        "Avsender: Eksempeletaten",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} not on page 1:\n{page}"
        );
    }
    // The agency's first page is now page 2.
    let output = run(Command::new("pdftotext")
        .args(["-f", "2", "-l", "2", "-enc", "UTF-8"])
        .arg(&sealed.path)
        .arg("-"));
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(
        page.contains("Side 1: Blåbærsyltetøy på Ørland"),
        "page 2: {page}"
    );

    let output = run(Command::new("pdfdetach").arg("-list").arg(&sealed.path));
    let listed = text(&output);
    eprintln!("pdfdetach -list: {listed}");
    assert!(listed.contains("3 embedded files"), "{listed}");
    for attachment in &sealed.attachments {
        assert!(listed.contains(&attachment.name), "{listed}");
    }
    let out_dir = sealed.dir.path().join("detached");
    std::fs::create_dir_all(&out_dir).unwrap();
    let output = run(Command::new("pdfdetach")
        .arg("-saveall")
        .arg("-o")
        .arg(&out_dir)
        .arg(&sealed.path));
    assert!(output.status.success(), "{}", text(&output));
    for attachment in &sealed.attachments {
        let saved = std::fs::read(out_dir.join(&attachment.name)).unwrap();
        assert_eq!(saved, attachment.data, "{}", attachment.name);
    }
}

/// An original with object streams and a cross-reference stream: the updates use streams
/// too, and every validator still agrees.
#[tokio::test]
async fn an_original_with_a_cross_reference_stream() {
    let tools = Tools::find();
    let sealed = seal(1, true).await;
    assert!(sealed.sealed.starts_with(&sealed.original));
    let output = pyhanko_validate(&tools, &sealed.pki.root_certificate, &sealed.path);
    assert!(output.status.success(), "pyhanko: {}", text(&output));
    let output = run(Command::new("qpdf").arg("--check").arg(&sealed.path));
    assert_eq!(
        output.status.code(),
        Some(0),
        "qpdf --check: {}",
        text(&output)
    );
    let said = text(&run(Command::new("pdfsig")
        .arg("-nocert")
        .arg(&sealed.path)));
    assert!(said.contains("Signature is Valid."), "pdfsig: {said}");
}

/// Many signers take a second front page; both come before the agency's pages.
#[tokio::test]
async fn many_signers_take_a_second_front_page() {
    let tools = Tools::find();
    let sealed = seal(14, false).await;
    let output = run(Command::new("pdftotext")
        .args(["-f", "2", "-l", "2", "-enc", "UTF-8"])
        .arg(&sealed.path)
        .arg("-"));
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(
        page.contains("Signert dokument") && page.contains("2/2"),
        "page 2: {page}"
    );
    let output = run(Command::new("pdftotext")
        .args(["-f", "3", "-l", "3", "-enc", "UTF-8"])
        .arg(&sealed.path)
        .arg("-"));
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.contains("Side 1:"), "page 3: {page}");
    let output = pyhanko_validate(&tools, &sealed.pki.root_certificate, &sealed.path);
    assert!(output.status.success(), "pyhanko: {}", text(&output));
}

/// A 10 MB document (the largest the portal takes) seals, and validates.
#[tokio::test]
async fn a_ten_megabyte_document() {
    let tools = Tools::find();
    let sealed = seal_pdf(large_pdf(10), 2).await;
    assert!(sealed.original.len() >= 10 * 1024 * 1024);
    assert!(sealed.sealed.starts_with(&sealed.original));
    let output = pyhanko_validate(&tools, &sealed.pki.root_certificate, &sealed.path);
    assert!(output.status.success(), "pyhanko: {}", text(&output));
    let said = text(&run(Command::new("pdfsig")
        .arg("-nocert")
        .arg(&sealed.path)));
    assert!(said.contains("Signature is Valid."), "pdfsig: {said}");
}

/// The in-process test TSA (`TestPki::tsa`, development's timestamps without a TSA running)
/// makes a B-T seal that pyHanko accepts against the test root, its token included.
#[tokio::test]
async fn the_in_process_test_tsa_makes_a_b_t_seal_pyhanko_accepts() {
    let tools = Tools::find();
    let dir = tempfile::tempdir().unwrap();
    let pki = pades::testpki::TestPki::ensure(&dir.path().join("pki")).unwrap();
    let original = support::agency_pdf(2, false);
    let attachments = support::attachments(1);
    let prepared = pades::prepare(&original, &support::front_page(1), &attachments).unwrap();
    let tsa = pki.tsa().unwrap();
    let sealed = pki
        .seal()
        .unwrap()
        .sign(
            prepared.clone(),
            Some(&tsa),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let path = dir.path().join("sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    let output = pyhanko_validate(&tools, &pki.root_certificate, &path);
    let said = text(&output);
    eprintln!("pyhanko sign validate: {said}");
    assert!(output.status.success() && said.contains(":VALID"), "{said}");
    let sealed = support::Sealed {
        dir,
        pki,
        original,
        prepared,
        sealed,
        path,
        attachments,
    };
    let said = pyhanko_check(&tools, &["ades"], &sealed);
    for line in [
        "with_time_status PASSED\n",
        "signature_timestamp True\n",
        "pades_level B-T\n",
    ] {
        assert!(said.contains(line), "expected {line:?} in:\n{said}");
    }
}
