//! Sealing end to end, in-process: a job created through the agency API, signed by two
//! signers (through storage; their pages are the signer's side), sealed by the sealing worker
//! with a test PKI and a real timestamp authority on loopback (`openssl ts -reply`, the pades
//! tests' `support/tsa.rs`), fetched through the API and checked by the outside validators:
//! pyHanko (VALID, PAdES B-T, `ETSI.CAdES.detached`), `qpdf --check`, poppler's `pdfsig`; a
//! copy with one byte changed is INVALID; the front page (`pdftotext`) names both signers as
//! the job asked and says TEST; the evidence files are embedded (`pdfdetach -list`); each
//! signer has the sealed document as a letter in their mailbox. On SQLite and PostgreSQL.
//! With `[signing] long_term` (a test PKI whose certificates point at the pades tests' loopback
//! OCSP responder and CRL endpoint): PAdES B-LTA, validated by pyHanko with revocation checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../pades/tests/support/revocation.rs"]
#[allow(dead_code)]
mod revocation;
#[path = "../../pades/tests/support/tsa.rs"]
mod tsa;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use borgerportal::post::pdf::minimal_pdf;
use borgerportal::signing::SignatureEvidence;
use borgerportal::storage::Database;
use borgerportal::{
    Access, Actor, Capability, ContactMethod, EmailAddress, FolderRef, Language, Loa, MailboxView,
    ManageContact, NationalId, NewPerson, Person, Policy, ReadPost, ReadSensitivePost,
    SignDocuments, SigningJobId,
};
use common::agency::{es256_pair, PostgresScratch};
use common::{fake_site, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use server::config::{Config, SigningConfig};
use server::signing_worker::{self, Sealer};
use time::format_description::well_known::Rfc3339;
use time::{macros::date, Duration, OffsetDateTime};

const JOBS: &str = "/api/v1/signing/jobs";

struct Portal {
    base: String,
    db: Database,
    keys: Vec<(String, &'static str)>,
    client: Client,
    dir: tempfile::TempDir,
    root: PathBuf,
    stop: tokio::sync::watch::Sender<bool>,
    _postgres: Option<PostgresScratch>,
}

/// Which sealer the worker runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sealing {
    /// A fresh test PKI and the loopback TSA: B-T.
    Loopback,
    /// The sealer the development configuration makes (`[signing] test_pki = true`, no
    /// `timestamp_url`: the in-process test TSA): B-T.
    Development,
    /// A test PKI with revocation pointers, the loopback TSA and the loopback OCSP/CRL
    /// responder, made long-term (`[signing] long_term`): B-LTA.
    LongTerm,
}

/// The portal on a loopback port, with the sealing worker running the sealer `sealing` asks.
async fn start_on(postgres: Option<&str>, sealing: Sealing) -> Portal {
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut agencies = String::new();
    let mut keys = Vec::new();
    for id in ["nav", "kommune"] {
        let (private, public) = es256_pair();
        agencies.push_str(&format!(
            "[[agencies]]\nid = \"{id}\"\nname = \"{id} (test)\"\nalgorithm = \"ES256\"\n\
             public_key = \"\"\"{public}\"\"\"\ncapabilities = [\"signing\"]\n\n"
        ));
        keys.push((private, id));
    }
    let config = Config::from_toml(&format!(
        "public_url = \"http://{addr}\"\ndata_dir = \"{}\"\n\n{agencies}\
         [signing]\ntest_pki = true\n",
        dir.path().join("data").display(),
    ))
    .unwrap();
    let (scratch, url) = match postgres {
        Some(server) => {
            let (scratch, url) = PostgresScratch::create(server).await;
            (Some(scratch), url)
        }
        None => (
            None,
            format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
        ),
    };
    let db = Database::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    serve(listener, &config, &site_root, &db);

    let (sealer, root) = match sealing {
        Sealing::Development => {
            let sealer = Sealer::from_config(&config).unwrap().unwrap();
            let root = dir.path().join("data/signing/root-ca.pem");
            (sealer, root)
        }
        Sealing::Loopback => {
            let pki = pades::testpki::TestPki::ensure(&dir.path().join("pki")).unwrap();
            let tsa = tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
            let timestamper = pades::HttpTimestamper::new(tsa.url()).unwrap();
            let sealer = Sealer::new(pki.seal().unwrap(), Some(Box::new(timestamper)), true);
            (sealer, pki.root_certificate.clone())
        }
        Sealing::LongTerm => {
            // The responder's thread (and the TSA's) serve until the test process ends.
            let responder = revocation::LoopbackRevocation::start();
            let pki = pades::testpki::TestPki::ensure_with_revocation(
                &dir.path().join("pki"),
                &responder.base_url(),
            )
            .unwrap();
            responder.serve(&pki, &dir.path().join("ocsp"), &[]);
            let tsa = tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
            let timestamper = pades::HttpTimestamper::new(tsa.url()).unwrap();
            let sealer = Sealer::new(pki.seal().unwrap(), Some(Box::new(timestamper)), true)
                .with_long_term(Box::new(pades::HttpRevocationSource::new().unwrap()));
            (sealer, pki.root_certificate.clone())
        }
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let signing = SigningConfig {
        poll_interval_ms: 50,
        ..SigningConfig::default()
    };
    tokio::spawn(signing_worker::run(
        db.clone(),
        Some(Arc::new(sealer)),
        signing,
        stopped,
    ));
    Portal {
        base: format!("http://{addr}"),
        db,
        keys,
        client: Client::new(),
        root,
        dir,
        stop,
        _postgres: scratch,
    }
}

impl Portal {
    /// `job` sent by NAV is refused with 422 and the problem type `code`.
    async fn refused(&self, job: &Value, code: &str) {
        let refused = self
            .client
            .post(format!("{}{JOBS}", self.base))
            .bearer_auth(self.token("nav"))
            .json(job)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["type"], format!("urn:borgerportal:problem:{code}"));
    }

    fn token(&self, agency: &str) -> String {
        let (private, _) = self.keys.iter().find(|(_, id)| *id == agency).unwrap();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({
            "iss": agency, "aud": self.base, "iat": now, "exp": now + 120,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let key = EncodingKey::from_ec_pem(private.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
    }

    async fn get(&self, agency: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token(agency))
            .send()
            .await
            .unwrap()
    }

    /// A person with a verified e-mail address: reachable for signing and post.
    async fn signer(&self, n: u16, name: &str) -> Person {
        let national_id = (n * 10..n * 10 + 10)
            .find_map(|i| NationalId::new_synthetic_norwegian(date!(1980 - 02 - 01), i).ok())
            .unwrap();
        let person = self
            .db
            .create_person(NewPerson::new(national_id, name, "Test", Language::Nb))
            .await
            .unwrap();
        let manage = own::<ManageContact>(&person);
        let now = OffsetDateTime::now_utc();
        let email = EmailAddress::parse(&format!("signer{n}@example.no")).unwrap();
        let sent = self
            .db
            .request_email_change(&manage, email, now)
            .await
            .unwrap();
        self.db
            .verify_code(&manage, ContactMethod::Email, sent.code.expose(), now)
            .await
            .unwrap();
        person
    }

    async fn sign(&self, person: &Person, job: &str) {
        let now = OffsetDateTime::now_utc();
        let evidence = SignatureEvidence {
            loa: Loa::High,
            auth_time: now - Duration::seconds(5),
            requested_at: now - Duration::seconds(30),
            eid: "idporten".into(),
            name: format!("{} Test", person.given_name),
            id_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl".into(),
        };
        let id: SigningJobId = job.parse().unwrap();
        self.db
            .sign_job(&own::<SignDocuments>(person), id, &evidence, now)
            .await
            .unwrap();
    }

    /// The letters in a person's inbox: (title, attachment count, first attachment).
    async fn inbox(&self, person: &Person) -> Vec<(String, u32, Vec<u8>)> {
        let (read, sensitive) = (own::<ReadPost>(person), own::<ReadSensitivePost>(person));
        let now = OffsetDateTime::now_utc() + Duration::minutes(1);
        let page = self
            .db
            .list_letters(
                &read,
                Some(&sensitive),
                MailboxView::Folder(FolderRef::Inbox),
                None,
                50,
                now,
            )
            .await
            .unwrap();
        let mut letters = Vec::new();
        for letter in page.letters {
            let first = self
                .db
                .read_attachment(&read, Some(&sensitive), letter.id, 0, now)
                .await
                .unwrap();
            letters.push((letter.title, letter.attachment_count, first.content));
        }
        letters
    }
}

fn own<C: Capability>(person: &Person) -> Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The outside validators

fn python() -> PathBuf {
    let python = std::env::var_os("BORGERPORTAL_TEST_PYTHON")
        .map(PathBuf::from)
        .expect(
            "BORGERPORTAL_TEST_PYTHON is not set: run the tests with `cargo xtask test`, or run \
             `cargo xtask setup` and set it to ~/.cache/borgerportal/venv/bin/python",
        );
    assert!(
        python.with_file_name("pyhanko").is_file(),
        "pyhanko is missing next to {}: run `cargo xtask setup`",
        python.display()
    );
    python
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("could not run {command:?}: {error} (cargo xtask setup)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

/// `pyhanko sign validate` against `root`; with `revocation`, pyHanko checks revocation
/// (fetching from the certificates' URLs, hard-fail), else not.
fn pyhanko_validate(root: &Path, pdf: &Path, revocation: bool) -> (Output, String) {
    let mut command = Command::new(python().with_file_name("pyhanko"));
    command
        .args(["sign", "validate", "--executive-summary", "--trust"])
        .arg(root)
        .arg("--trust-replace");
    if !revocation {
        command.arg("--no-revocation-check");
    }
    run(command.arg(pdf))
}

/// The pades tests' pyHanko library checks (`structure`, `ades ROOT`, `lta ROOT`).
fn pyhanko_check(args: &[&Path]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pades/tests/pyhanko_checks.py");
    let (output, text) = run(Command::new(python()).arg(script).args(args));
    assert!(output.status.success(), "pyhanko_checks.py: {text}");
    text
}

// ---------------------------------------------------------------------------------------------
// The test

/// What the sealed document and its letter say in one language.
struct Said {
    language: &'static str,
    front_page: [&'static str; 6],
    evidence_files: [&'static str; 2],
    letter_title: &'static str,
    page_footer: &'static str,
}

const BOKMAL: Said = Said {
    language: "nb",
    front_page: [
        "Signert dokument",
        "Avsender: nav (test)",
        "Kari Test, født 01.02.1980",
        "Ola Test, født 01.02.1980",
        "Sikkerhetsnivå: høyt",
        "Innlogget med ID-porten",
    ],
    evidence_files: ["signaturbevis-1.json", "signaturbevis-2.json"],
    letter_title: "Signert: Avtale om oppfølging",
    page_footer: "Signert av Kari Test, Ola Test – forseglet av Borgerportal",
};

const ENGLISH: Said = Said {
    language: "en",
    front_page: [
        "Signed document",
        "Sender: nav (test)",
        "Kari Test, born 1 Feb 1980",
        "Ola Test, born 1 Feb 1980",
        "Assurance level: high",
        "Logged in with ID-porten",
    ],
    evidence_files: ["signature-evidence-1.json", "signature-evidence-2.json"],
    letter_title: "Signed: Avtale om oppfølging",
    page_footer: "Signed by Kari Test, Ola Test – sealed by Borgerportal",
};

/// A two-signer job in the language `said` names (bokmål is also the default: the job then
/// names none) is sealed, validated and delivered as `expect` says.
async fn a_signed_job_is_sealed_fetched_validated_and_delivered(
    postgres: Option<&str>,
    sealing: Sealing,
    expect: Said,
) {
    let portal = start_on(postgres, sealing).await;
    let long_term = sealing == Sealing::LongTerm;
    let kari = portal.signer(1, "Kari").await;
    let ola = portal.signer(2, "Ola").await;
    let mut job = json!({
        "job_id": "seal-e2e-1",
        "title": "Avtale om oppfølging",
        "non_sensitive_title": "Et dokument til signering",
        "documents": [
            {"title": "Avtale", "filename": "avtale.pdf",
             "content_base64": STANDARD.encode(minimal_pdf("Avtale om oppfolging"))}
        ],
        "signers": [
            {"national_id": kari.national_id.expose(), "order": 0},
            {"national_id": ola.national_id.expose(), "order": 1}
        ],
        "required_loa": "high",
        "deadline": (OffsetDateTime::now_utc() + Duration::days(14)).format(&Rfc3339).unwrap(),
        "signer_naming": "name_and_birth_date",
    });
    if expect.language != "nb" {
        job["language"] = json!(expect.language);
    }
    // A language the portal does not write: refused, nothing stored.
    let mut swedish = job.clone();
    swedish["language"] = json!("sv");
    portal.refused(&swedish, "signing.language_invalid").await;
    // A document that looks like a PDF but that the seal could not take: refused at once.
    let mut damaged = job.clone();
    damaged["job_id"] = json!("seal-e2e-damaged");
    damaged["documents"][0]["content_base64"] =
        json!(STANDARD.encode(b"%PDF-1.7\n%broken\nstartxref\n0\n%%EOF\n"));
    portal.refused(&damaged, "signing.document_unusable").await;

    let created: Value = portal
        .client
        .post(format!("{}{JOBS}", portal.base))
        .bearer_auth(portal.token("nav"))
        .json(&job)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["signing_job_id"].as_str().unwrap().to_owned();
    assert_eq!(created["sealed_documents"], json!([]));
    let sealed_path = format!("{JOBS}/{id}/documents/0/sealed");

    // Nothing sealed yet: 409.
    let early = portal.get("nav", &sealed_path).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    let problem: Value = early.json().await.unwrap();
    assert_eq!(
        problem["type"],
        "urn:borgerportal:problem:signing.not_sealed"
    );

    portal.sign(&kari, &id).await;
    portal.sign(&ola, &id).await;

    // The worker seals it; the agency sees it complete.
    let started = std::time::Instant::now();
    let status = loop {
        let status: Value = portal
            .get("nav", &format!("{JOBS}/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if status["status"] == "completed_successfully" {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "not sealed within 60 s: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    eprintln!(
        "sealed within {:?} of the last signature",
        started.elapsed()
    );
    assert_eq!(status["sealed_documents"], json!([sealed_path]));

    // Another agency: the same 404 as no job.
    let theirs = portal.get("kommune", &sealed_path).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let missing = portal
        .get("nav", &format!("{JOBS}/{id}/documents/1/sealed"))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let response = portal.get("nav", &sealed_path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename*=UTF-8''avtale-signert.pdf"
    );
    let sealed = response.bytes().await.unwrap().to_vec();
    assert!(
        sealed.starts_with(&minimal_pdf("Avtale om oppfolging")),
        "the original is a prefix"
    );
    let pdf = portal.dir.path().join("sealed.pdf");
    std::fs::write(&pdf, &sealed).unwrap();
    if let Some(keep) = std::env::var_os("PADES_KEEP") {
        std::fs::copy(&pdf, Path::new(&keep).join("server-sealed.pdf")).unwrap();
        std::fs::copy(&portal.root, Path::new(&keep).join("server-root.pem")).unwrap();
    }

    // pyHanko: valid against the test root; the PAdES structure; B-T (B-LTA when long-term).
    let (output, said) = pyhanko_validate(&portal.root, &pdf, long_term);
    eprintln!("pyhanko sign validate: {said}");
    assert!(output.status.success() && said.contains(":VALID"), "{said}");
    let structure = pyhanko_check(&[Path::new("structure"), &pdf]);
    eprintln!("pyhanko structure: {structure}");
    assert!(
        structure.contains("subfilter /ETSI.CAdES.detached"),
        "{structure}"
    );
    assert!(
        structure.contains(
            "signed 1.2.840.113549.1.9.16.2.47,1.2.840.113549.1.9.3,1.2.840.113549.1.9.4"
        ),
        "{structure}"
    );
    assert!(
        structure.contains("unsigned signature_time_stamp_token"),
        "{structure}"
    );
    let (_, pdfsig) = run(Command::new("pdfsig").arg("-nocert").arg(&pdf));
    eprintln!("pdfsig: {pdfsig}");
    assert!(pdfsig.contains("Signature is Valid."), "{pdfsig}");
    if long_term {
        // Two updates after the seal: the DSS and the document timestamp.
        assert!(
            structure.contains("coverage ENTIRE_REVISION"),
            "{structure}"
        );
        let lta = pyhanko_check(&[Path::new("lta"), &portal.root, &pdf]);
        eprintln!("pyhanko lta: {lta}");
        for line in [
            "dss_ocsps 1\n",
            "dss_crls 1\n",
            "lta_status PASSED\n",
            "pades_level B-LTA\n",
        ] {
            assert!(lta.contains(line), "{line:?} missing:\n{lta}");
        }
        assert!(
            pdfsig.contains("Borgerportal document timestamp"),
            "{pdfsig}"
        );
    } else {
        assert!(structure.contains("coverage ENTIRE_FILE"), "{structure}");
        let ades = pyhanko_check(&[Path::new("ades"), &portal.root, &pdf]);
        eprintln!("pyhanko ades: {ades}");
        assert!(ades.contains("with_time_status PASSED"), "{ades}");
        assert!(ades.contains("pades_level B-T\n"), "{ades}");
        assert!(pdfsig.contains("Total document signed"), "{pdfsig}");
    }

    // qpdf.
    let (output, said) = run(Command::new("qpdf").arg("--check").arg(&pdf));
    assert!(output.status.success(), "qpdf --check: {said}");

    // One byte of the agency's text changed: INVALID.
    let mut tampered = sealed.clone();
    let at = tampered
        .windows(6)
        .position(|w| w == b"Avtale")
        .expect("the original's text");
    tampered[at] = b'B';
    let bad = portal.dir.path().join("tampered.pdf");
    std::fs::write(&bad, &tampered).unwrap();
    let (output, said) = pyhanko_validate(&portal.root, &bad, long_term);
    eprintln!("pyhanko on the tampered copy: {said}");
    assert!(
        !output.status.success() && said.contains("INVALID"),
        "{said}"
    );
    let (_, said) = run(Command::new("pdfsig").arg("-nocert").arg(&bad));
    assert!(!said.contains("Signature is Valid."), "{said}");

    // The front page: both signers as the job asked (name and birth date), TEST.
    let (output, front) = run(Command::new("pdftotext")
        .args(["-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg("-"));
    assert!(output.status.success(), "{front}");
    eprintln!("front page:\n{front}");
    for expected in ["TEST", "Avtale"].into_iter().chain(expect.front_page) {
        assert!(front.contains(expected), "{expected:?} missing:\n{front}");
    }
    assert!(
        !front.contains(kari.national_id.expose()),
        "not by national id"
    );
    // The agency's page (now page 2) carries the signers' line at its foot.
    let (output, agency_page) = run(Command::new("pdftotext")
        .args(["-f", "2", "-l", "2"])
        .arg(&pdf)
        .arg("-"));
    assert!(output.status.success(), "{agency_page}");
    assert!(
        agency_page.contains(expect.page_footer),
        "{:?} missing:\n{agency_page}",
        expect.page_footer
    );

    // The evidence is embedded.
    let (output, list) = run(Command::new("pdfdetach").arg("-list").arg(&pdf));
    assert!(output.status.success(), "{list}");
    assert!(list.contains("2 embedded files"), "{list}");
    for name in expect.evidence_files {
        assert!(list.contains(name), "{name} missing: {list}");
    }
    // The job names signers by name and birth date: no national id in what every signer gets,
    // the id_token only as its hash.
    let saved = pdf.with_extension("evidence.json");
    let (output, said) = run(Command::new("pdfdetach")
        .args(["-save", "1", "-o"])
        .arg(&saved)
        .arg(&pdf));
    assert!(output.status.success(), "{said}");
    let embedded = std::fs::read_to_string(&saved).unwrap();
    assert!(!embedded.contains(kari.national_id.expose()), "{embedded}");
    assert!(!embedded.contains(ola.national_id.expose()));
    assert!(embedded.contains("id_token_sha256") && !embedded.contains("\"id_token\""));

    // Each signer has the sealed document in their mailbox.
    for person in [&kari, &ola] {
        let letters = portal.inbox(person).await;
        assert_eq!(letters.len(), 1, "{}", person.given_name);
        let (title, attachments, content) = &letters[0];
        assert_eq!(title, expect.letter_title);
        assert_eq!(*attachments, 1);
        assert!(*content == sealed, "the letter carries the same sealed PDF");
    }
    let _ = portal.stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_job_is_sealed_fetched_validated_and_delivered_on_sqlite() {
    a_signed_job_is_sealed_fetched_validated_and_delivered(None, Sealing::Loopback, BOKMAL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_job_is_sealed_fetched_validated_and_delivered_on_postgres() {
    let url = std::env::var("BORGERPORTAL_TEST_POSTGRES_URL")
        .expect("BORGERPORTAL_TEST_POSTGRES_URL (cargo xtask test starts PostgreSQL)");
    a_signed_job_is_sealed_fetched_validated_and_delivered(Some(&url), Sealing::Loopback, BOKMAL)
        .await;
}

/// The development configuration (`[signing] test_pki = true`, no `timestamp_url`) seals
/// PAdES B-T with nothing else running: the test PKI is made in `data/signing/` and its TSA
/// certificate stamps in the process; the validators say the same as with a real TSA. The job
/// asks for English: the front page, the evidence files and the letter are in English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_configuration_seals_b_t_with_nothing_else_running() {
    a_signed_job_is_sealed_fetched_validated_and_delivered(None, Sealing::Development, ENGLISH)
        .await;
}

/// `[signing] long_term`: the worker's seals are PAdES B-LTA (a DSS with the OCSP response for
/// the seal certificate and the CRL for the TSA certificate, then a document timestamp), and
/// pyHanko validates them with revocation checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_term_sealer_seals_b_lta() {
    a_signed_job_is_sealed_fetched_validated_and_delivered(None, Sealing::LongTerm, BOKMAL).await;
}
