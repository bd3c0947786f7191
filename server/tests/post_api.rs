//! The digital-post delivery API end to end, in-process: a real server on a loopback port, a
//! real SQLite database, real ES256-signed agency tokens, a real HTTP client.
//!
//! Covers every delivery rule of the domain (one request each: the problem's type is the
//! rule's code, and no letter is stored, only the domain's `rejected` receipt), the checks
//! the handler makes before the domain (media type, JSON shape, national id, base64, a
//! too-large `Content-Length` refused before the body is read), idempotency with ten racing
//! retries, reserved and unregistered recipients going to print, the effective time, receipt
//! paging, the print queue (list, attachment, idempotent acknowledgement), the per-agency
//! capabilities, the logs, and the OpenAPI document. `measure_small_deliveries` (ignored) is a
//! rough throughput figure: `cargo test -p server --test post_api measure -- --ignored
//! --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::{engine::general_purpose, Engine as _};
use borgerportal::{
    access::{Actor, Loa, Policy},
    identity::NationalId,
    person::{Language, NewPerson, Person},
    post::pdf::minimal_pdf,
    storage::Database,
    ContactMethod, EmailAddress, FolderRef, MailboxView, ManageContact, ReadPost,
};
use common::agency::{es256_pair, LogCapture, PostgresScratch};
use common::{fake_site, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use std::net::SocketAddr;
use time::{macros::date, Duration, OffsetDateTime};

const LETTERS: &str = "/api/v1/letters";

// ---------------------------------------------------------------------------------------------
// Keys, tokens and the server

struct Api {
    base: String,
    addr: SocketAddr,
    audience: String,
    db: Database,
    /// NAV: default capabilities (look-up, delivery).
    nav: String,
    /// The print provider: `print` only.
    printer: String,
    /// Skatteetaten: another delivering agency.
    other: String,
    client: Client,
    log: LogCapture,
    _log_guard: tracing::subscriber::DefaultGuard,
    /// Dropped after the server's handles: the PostgreSQL database, if any.
    _postgres: Option<PostgresScratch>,
    _dir: tempfile::TempDir,
}

/// The portal's log lines of one test (everything down to TRACE). `#[tokio::test]` runs the
/// A response: status, headers, body as JSON (or `Null`), and the raw bytes.
struct Reply {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Value,
    bytes: Vec<u8>,
}

async fn start() -> Api {
    start_on(None).await
}

/// A server on SQLite, or on a fresh PostgreSQL database on the server at `postgres`.
async fn start_on(postgres: Option<&str>) -> Api {
    let log = LogCapture::default();
    let log_guard = log.install();
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let (nav, nav_public) = es256_pair();
    let (printer, printer_public) = es256_pair();
    let (other, other_public) = es256_pair();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::from_toml(&format!(
        r#"
public_url = "http://{addr}"
data_dir = "{data}"

[[agencies]]
id = "nav"
name = "NAV"
algorithm = "ES256"
public_key = """{nav_public}"""

[[agencies]]
id = "printer"
name = "Print provider"
algorithm = "ES256"
public_key = """{printer_public}"""
capabilities = ["print"]

[[agencies]]
id = "skatteetaten"
name = "Skatteetaten"
algorithm = "ES256"
public_key = """{other_public}"""
"#,
        data = dir.path().join("data").display(),
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
    Api {
        base: format!("http://{addr}"),
        addr,
        audience: format!("http://{addr}"),
        db,
        nav,
        printer,
        other,
        client: Client::new(),
        log,
        _log_guard: log_guard,
        _postgres: scratch,
        _dir: dir,
    }
}

fn token(private_pem: &str, agency: &str, audience: &str) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": agency,
        "aud": audience,
        "iat": now,
        "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap().to_vec();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        bytes,
    }
}

impl Api {
    fn nav_token(&self) -> String {
        token(&self.nav, "nav", &self.audience)
    }

    fn printer_token(&self) -> String {
        token(&self.printer, "printer", &self.audience)
    }

    fn other_agency_token(&self) -> String {
        token(&self.other, "skatteetaten", &self.audience)
    }

    async fn send_raw(&self, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self
            .client
            .post(format!("{}{LETTERS}", self.base))
            .bearer_auth(self.nav_token())
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        reply(request.send().await.unwrap()).await
    }

    async fn deliver(&self, letter: &Value) -> Reply {
        self.send_raw("application/json", letter.to_string().into_bytes())
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        let request = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        reply(request.send().await.unwrap()).await
    }

    async fn post(&self, path: &str, token: &str) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token);
        reply(request.send().await.unwrap()).await
    }

    /// NAV's receipts, all pages.
    async fn all_receipts(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(cursor) => format!("/api/v1/receipts?limit=1000&after={cursor}"),
                None => "/api/v1/receipts?limit=1000".to_owned(),
            };
            let page = self.get(&path, &self.nav_token()).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let receipts = page.body["receipts"].as_array().unwrap().clone();
            if receipts.is_empty() {
                return all;
            }
            all.extend(receipts);
            after = page.body["next_cursor"].as_str().map(str::to_owned);
        }
    }

    /// The letters in a person's inbox at `now`, as the domain lists them.
    async fn inbox(&self, person: &Person, now: OffsetDateTime) -> usize {
        let actor = Actor::Citizen {
            person: person.id,
            loa: Loa::High,
        };
        let read = Policy::authorize::<ReadPost>(&actor, person.id).unwrap();
        self.db
            .list_letters(
                &read,
                None,
                MailboxView::Folder(FolderRef::Inbox),
                None,
                100,
                now,
            )
            .await
            .unwrap()
            .letters
            .len()
    }
}

/// A problem document with this status and type name.
fn assert_problem(reply: &Reply, status: StatusCode, name: &str) {
    assert_eq!(reply.status, status, "{name}: {}", reply.body);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{}",
        reply.body
    );
    assert_eq!(
        reply.body["type"],
        format!("urn:borgerportal:problem:{name}"),
        "{}",
        reply.body
    );
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// A synthetic Norwegian number, different for each `n`.
fn synthetic(n: u16) -> NationalId {
    let birth_date = date!(1975 - 01 - 01) + Duration::days(i64::from(n));
    (0..500)
        .find_map(|individual| NationalId::new_synthetic_norwegian(birth_date, individual).ok())
        .unwrap()
}

fn manage(person: &Person) -> borgerportal::Access<ManageContact> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::Substantial,
    };
    Policy::authorize::<ManageContact>(&actor, person.id).unwrap()
}

/// A person with a verified e-mail address: active in the register, gets digital post.
async fn citizen(db: &Database, n: u16) -> Person {
    let person = db
        .create_person(NewPerson::new(synthetic(n), "Test", "Person", Language::Nb))
        .await
        .unwrap();
    let at = OffsetDateTime::now_utc();
    let access = manage(&person);
    let sent = db
        .request_email_change(
            &access,
            EmailAddress::parse(&format!("p{n}@example.no")).unwrap(),
            at,
        )
        .await
        .unwrap();
    db.verify_code(&access, ContactMethod::Email, sent.code.expose(), at)
        .await
        .unwrap();
    person
}

fn b64(bytes: &[u8]) -> String {
    general_purpose::STANDARD.encode(bytes)
}

/// A good letter to `recipient` with one PDF attachment.
fn letter(recipient: &NationalId, message_id: &str) -> Value {
    json!({
        "recipient": recipient.expose(),
        "message_id": message_id,
        "title": "Vedtak om dagpenger",
        "non_sensitive_title": "Brev fra NAV",
        "body": "<p>Du har fått <b>innvilget</b> dagpenger.</p>",
        "body_kind": "html",
        "required_loa": "substantial",
        "opening_receipt": true,
        "is_decision": true,
        "attachments": [{"filename": "vedtak.pdf", "content_base64": b64(&minimal_pdf("Vedtak"))}],
    })
}

fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(size - 30, b' ');
    pdf.extend_from_slice(b"\nstartxref\n9\n%%EOF\n");
    pdf.resize(size, b'\n');
    pdf
}

// ---------------------------------------------------------------------------------------------
// Delivery

#[tokio::test]
async fn a_letter_is_delivered_committed_and_its_retry_returns_the_first_result() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    let first = api.deliver(&letter(&kari.national_id, "m-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["status"], "delivered");
    assert_eq!(first.body["message_id"], "m-1");
    let id = first.body["letter_id"].as_str().unwrap();
    assert_eq!(
        first.headers[header::LOCATION],
        format!("/api/v1/letters/{id}").as_str()
    );
    // Committed before the 201: the domain sees it in the inbox.
    assert_eq!(api.inbox(&kari, OffsetDateTime::now_utc()).await, 1);

    // A retry (even with a changed title): 200 with the first body, nothing new stored.
    let mut changed = letter(&kari.national_id, "m-1");
    changed["title"] = json!("Something else");
    let retry = api.deliver(&changed).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.body, first.body);
    assert_eq!(api.inbox(&kari, OffsetDateTime::now_utc()).await, 1);
    let receipts = api.all_receipts().await;
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["kind"], "delivered");
    assert_eq!(receipts[0]["letter_id"], id);
}

/// On SQLite, and on PostgreSQL too when `BORGERPORTAL_TEST_POSTGRES_URL` is set (the storage
/// suite covers both backends in depth; this checks the racing HTTP path end to end).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_racing_retries_store_one_letter() {
    ten_racing_retries_on(None).await;
    if let Ok(server) = std::env::var("BORGERPORTAL_TEST_POSTGRES_URL") {
        ten_racing_retries_on(Some(&server)).await;
    }
}

async fn ten_racing_retries_on(postgres: Option<&str>) {
    let api = std::sync::Arc::new(start_on(postgres).await);
    let kari = citizen(&api.db, 1).await;
    let body = letter(&kari.national_id, "race-1");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let api = api.clone();
            let body = body.clone();
            tokio::spawn(async move { api.deliver(&body).await })
        })
        .collect();
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert!(
            reply.status == StatusCode::CREATED || reply.status == StatusCode::OK,
            "{}",
            reply.body
        );
        if reply.status == StatusCode::CREATED {
            created += 1;
        }
        ids.insert(reply.body["letter_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1, "exactly one first delivery");
    assert_eq!(ids.len(), 1, "every answer names the same letter");
    assert_eq!(api.inbox(&kari, OffsetDateTime::now_utc()).await, 1);
    assert_eq!(api.all_receipts().await.len(), 1);
}

#[tokio::test]
async fn every_domain_rule_is_a_problem_with_its_code_and_stores_no_letter() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    let id = &kari.national_id;
    let now = OffsetDateTime::now_utc();
    let fmt = |at: OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let with = |message_id: &str, field: &str, value: Value| {
        let mut body = letter(id, message_id);
        body[field] = value;
        body
    };
    let attachment =
        |name: &str, content: &[u8]| json!({"filename": name, "content_base64": b64(content)});
    let png = {
        // A PNG named .pdf.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0u8; 64]);
        png
    };
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            with("r-1", "message_id", json!("has space")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.invalid_message_id",
        ),
        (
            with("r-2", "title", json!("  ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.title_missing",
        ),
        (
            with("r-3", "title", json!("x".repeat(201))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.title_invalid",
        ),
        (
            with("r-4", "non_sensitive_title", json!("")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.safe_title_missing",
        ),
        (
            with("r-5", "non_sensitive_title", json!("a\u{7}b")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.safe_title_invalid",
        ),
        (
            with("r-6", "body", json!(" \n ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.body_empty",
        ),
        (
            with("r-7", "body", json!("x".repeat(1024 * 1024 + 1))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "post.body_too_large",
        ),
        (
            with(
                "r-8",
                "attachments",
                Value::Array(
                    (0..21)
                        .map(|n| attachment(&format!("{n}.pdf"), &minimal_pdf("x")))
                        .collect(),
                ),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.too_many_attachments",
        ),
        (
            // Counted before any is decoded: the broken base64 of the first is never read.
            with(
                "r-8b",
                "attachments",
                Value::Array(
                    std::iter::once(json!({"filename": "0.pdf", "content_base64": "not base64!"}))
                        .chain((1..21).map(|n| attachment(&format!("{n}.pdf"), &minimal_pdf("x"))))
                        .collect(),
                ),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.too_many_attachments",
        ),
        (
            with(
                "r-9",
                "attachments",
                json!([attachment("../etc/passwd", &minimal_pdf("x"))]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.attachment_name_invalid",
        ),
        (
            with(
                "r-10",
                "attachments",
                json!([attachment("picture.pdf", &png)]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.attachment_not_pdf",
        ),
        (
            with(
                "r-11",
                "attachments",
                json!([attachment("big.pdf", &pdf_of_size(10 * 1024 * 1024 + 1))]),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "post.attachment_too_large",
        ),
        (
            with(
                "r-12",
                "attachments",
                Value::Array(
                    (0..6)
                        .map(|n| attachment(&format!("{n}.pdf"), &pdf_of_size(9 * 1024 * 1024)))
                        .collect(),
                ),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "post.attachments_too_large",
        ),
        (
            with(
                "r-13",
                "effective_at",
                json!(fmt(now + Duration::days(400))),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.effective_too_late",
        ),
        (
            with("r-14", "created_at", json!(fmt(now + Duration::hours(1)))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.created_in_future",
        ),
        (
            with(
                "r-15",
                "notification",
                json!({"channels": ["email", "fax"]}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.notification_channel_invalid",
        ),
        (
            with("r-16", "notification", json!({"channels": ["sms", "sms"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.notification_channel_invalid",
        ),
        (
            with("r-17", "notification", json!({"repeat_after_days": 31})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.notification_repeat_invalid",
        ),
        (
            with("r-18", "notification", json!({"repeat_after_days": 0})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.notification_repeat_invalid",
        ),
        (
            with(
                "r-19",
                "notification",
                json!({"channels": [], "repeat_after_days": 3}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "post.notification_repeat_invalid",
        ),
    ];
    let count = cases.len();
    for (body, status, code) in cases {
        let reply = api.deliver(&body).await;
        assert_problem(&reply, status, code);
    }
    // Checked before the domain: no receipt for these.
    assert_problem(
        &api.deliver(&with("h-1", "recipient", json!("12345678901")))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-national-id",
    );
    assert_problem(
        &api.deliver(&with(
            "h-2",
            "attachments",
            json!([{"filename": "a.pdf", "content_base64": "not base64!"}]),
        ))
        .await,
        StatusCode::BAD_REQUEST,
        "invalid-attachment-encoding",
    );
    assert_problem(
        &api.deliver(&with("h-3", "body_kind", json!("markdown")))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid-body",
    );
    assert_problem(
        &api.deliver(&with("h-4", "notification", json!({"channel": ["sms"]})))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid-body",
    );
    assert_problem(
        &api.send_raw("application/json", b"{not json".to_vec())
            .await,
        StatusCode::BAD_REQUEST,
        "invalid-body",
    );
    assert_problem(
        &api.send_raw("multipart/form-data; boundary=x", b"--x--".to_vec())
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );

    // No letter anywhere: not in the mailbox, not in the print queue.
    assert_eq!(api.inbox(&kari, now + Duration::days(500)).await, 0);
    let queue = api.get("/api/v1/print/letters", &api.printer_token()).await;
    assert_eq!(queue.body["letters"], json!([]));
    // The domain's behaviour: one `rejected` receipt per refused letter with a readable message
    // id, naming the rule; the first case's message id is unreadable, so it has none.
    let receipts = api.all_receipts().await;
    assert_eq!(receipts.len(), count - 1, "{receipts:?}");
    assert!(receipts
        .iter()
        .all(|r| r["kind"] == "rejected" && r["letter_id"].is_null()));
    let title_missing = receipts.iter().find(|r| r["message_id"] == "r-2").unwrap();
    assert_eq!(title_missing["reason"], "post.title_missing");
}

#[tokio::test]
async fn an_oversized_request_is_refused_with_413_before_its_body_is_read() {
    use std::io::{Read as _, Write as _};
    let api = start().await;
    // Announce 200 MB, send none of it: the answer must come anyway.
    let request = format!(
        "POST {LETTERS} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n",
        api.addr,
        api.nav_token()
    );
    let addr = api.addr;
    let (answer, read) = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = vec![0u8; 4096];
        let read = stream.read(&mut answer).expect("answered without the body");
        (answer, read)
    })
    .await
    .unwrap();
    let head = String::from_utf8_lossy(&answer[..read]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(
        head.contains("urn:borgerportal:problem:body-too-large"),
        "{head}"
    );
}

#[tokio::test]
async fn reserved_and_unregistered_recipients_go_to_print_and_the_printer_acknowledges() {
    let api = start().await;
    let reserved = citizen(&api.db, 1).await;
    api.db
        .set_reservation(&manage(&reserved), true, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let unregistered = synthetic(2);
    for (recipient, message_id) in [(&reserved.national_id, "p-1"), (&unregistered, "p-2")] {
        let reply = api.deliver(&letter(recipient, message_id)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["status"], "returned_to_paper");
    }
    assert_eq!(api.inbox(&reserved, OffsetDateTime::now_utc()).await, 0);
    let receipts = api.all_receipts().await;
    let kinds: Vec<_> = receipts.iter().map(|r| r["kind"].clone()).collect();
    assert_eq!(
        kinds,
        [json!("returned_to_paper"), json!("returned_to_paper")]
    );

    // NAV may deliver but not print; the printer may print but not deliver.
    assert_problem(
        &api.get("/api/v1/print/letters", &api.nav_token()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let as_printer = api
        .client
        .post(format!("{}{LETTERS}", api.base))
        .bearer_auth(api.printer_token())
        .header(header::CONTENT_TYPE, "application/json")
        .body(letter(&unregistered, "p-3").to_string())
        .send()
        .await
        .unwrap();
    assert_problem(&reply(as_printer).await, StatusCode::FORBIDDEN, "forbidden");
    assert_problem(
        &api.get("/api/v1/receipts", &api.printer_token()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let queue = api.get("/api/v1/print/letters", &api.printer_token()).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let letters = queue.body["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0]["recipient"], reserved.national_id.expose());
    assert_eq!(letters[0]["sender_name"], "NAV");
    assert_eq!(letters[0]["agency"], "nav");
    assert_eq!(letters[0]["attachments"][0]["filename"], "vedtak.pdf");
    let first = letters[0]["letter_id"].as_str().unwrap().to_owned();

    let pdf = api
        .get(
            &format!("/api/v1/print/letters/{first}/attachments/0"),
            &api.printer_token(),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(pdf.bytes, minimal_pdf("Vedtak"));
    assert_problem(
        &api.get(
            &format!("/api/v1/print/letters/{first}/attachments/1"),
            &api.printer_token(),
        )
        .await,
        StatusCode::NOT_FOUND,
        "post.not_found",
    );

    let ack = format!("/api/v1/print/letters/{first}/ack");
    assert_eq!(
        api.post(&ack, &api.printer_token()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.post(&ack, &api.printer_token()).await.status,
        StatusCode::NO_CONTENT,
        "idempotent"
    );
    let never = format!("/api/v1/print/letters/{}/ack", uuid::Uuid::new_v4());
    assert_problem(
        &api.post(&never, &api.printer_token()).await,
        StatusCode::NOT_FOUND,
        "post.not_found",
    );
    let queue = api.get("/api/v1/print/letters", &api.printer_token()).await;
    let left = queue.body["letters"].as_array().unwrap();
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["letter_id"], first.as_str());
}

#[tokio::test]
async fn a_letter_is_not_in_the_mailbox_before_its_effective_time() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    let at = OffsetDateTime::now_utc() + Duration::days(3);
    let mut body = letter(&kari.national_id, "later-1");
    body["effective_at"] = json!(at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap());
    let reply = api.deliver(&body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(api.inbox(&kari, OffsetDateTime::now_utc()).await, 0);
    assert_eq!(api.inbox(&kari, at - Duration::seconds(1)).await, 0);
    assert_eq!(api.inbox(&kari, at + Duration::seconds(1)).await, 1);
}

#[tokio::test]
async fn receipts_page_with_the_cursor_without_gaps_or_repeats() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    for n in 0..5 {
        let mut body = letter(&kari.national_id, &format!("page-{n}"));
        body["attachments"] = json!([]);
        body["body_kind"] = json!("text");
        assert_eq!(api.deliver(&body).await.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &after {
            Some(cursor) => format!("/api/v1/receipts?limit=2&after={cursor}"),
            None => "/api/v1/receipts?limit=2".to_owned(),
        };
        let page = api.get(&path, &api.nav_token()).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let receipts = page.body["receipts"].as_array().unwrap();
        assert!(receipts.len() <= 2);
        if receipts.is_empty() {
            // An empty page hands back the cursor it was given: polling stands there.
            assert_eq!(page.body["next_cursor"].as_str(), after.as_deref());
            break;
        }
        pages += 1;
        seen.extend(
            receipts
                .iter()
                .map(|r| r["message_id"].as_str().unwrap().to_owned()),
        );
        after = page.body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["page-0", "page-1", "page-2", "page-3", "page-4"]);
    // A new receipt after the last cursor shows up on the next poll, and only it.
    let mut body = letter(&kari.national_id, "page-5");
    body["attachments"] = json!([]);
    api.deliver(&body).await;
    let next = api
        .get(
            &format!("/api/v1/receipts?after={}", after.unwrap()),
            &api.nav_token(),
        )
        .await;
    assert_eq!(next.body["receipts"].as_array().unwrap().len(), 1);
    assert_eq!(next.body["receipts"][0]["message_id"], "page-5");
    assert_problem(
        &api.get("/api/v1/receipts?after=bogus", &api.nav_token())
            .await,
        StatusCode::BAD_REQUEST,
        "post.invalid_cursor",
    );
}

#[tokio::test]
async fn tokens_are_checked_by_the_shared_extractor() {
    let api = start().await;
    let reply = reply(
        api.client
            .post(format!("{}{LETTERS}", api.base))
            .header(header::CONTENT_TYPE, "application/json")
            .body(letter(&synthetic(1), "t-1").to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "missing-token");
    assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    // A token signed with another agency's key for `nav`.
    let forged = token(&api.printer, "nav", &api.audience);
    let reply = api.get("/api/v1/receipts", &forged).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-signature");
}

/// The channels of a letter's queued "new letter" notifications.
async fn new_letter_channels(db: &Database, letter: &str) -> Vec<&'static str> {
    let mut channels = Vec::new();
    for channel in ["email", "sms"] {
        let key = format!("post.new_letter:{letter}:{channel}");
        if db.find_notification_by_key(&key).await.unwrap().is_some() {
            channels.push(channel);
        }
    }
    channels
}

#[tokio::test]
async fn notification_wishes_are_stored_honoured_and_shown_with_the_letter() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    let access = manage(&kari);
    let at = OffsetDateTime::now_utc();
    let sent = api
        .db
        .request_mobile_change(
            &access,
            borgerportal::MobileNumber::parse("91234567", borgerportal::Country::Norway).unwrap(),
            at,
        )
        .await
        .unwrap();
    api.db
        .verify_code(&access, ContactMethod::Mobile, sent.code.expose(), at)
        .await
        .unwrap();
    let mut body = letter(&kari.national_id, "wish-1");
    body["notification"] = json!({"channels": ["email"], "repeat_after_days": 3});
    let first = api.deliver(&body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let id = first.body["letter_id"].as_str().unwrap().to_owned();
    assert_eq!(new_letter_channels(&api.db, &id).await, ["email"]);
    let mut silent = letter(&kari.national_id, "wish-2");
    silent["notification"] = json!({"channels": []});
    let second = api.deliver(&silent).await;
    let silent_id = second.body["letter_id"].as_str().unwrap().to_owned();
    assert!(new_letter_channels(&api.db, &silent_id).await.is_empty());
    // Without wishes: both channels, as before.
    let plain = api.deliver(&letter(&kari.national_id, "wish-3")).await;
    let plain_id = plain.body["letter_id"].as_str().unwrap();
    assert_eq!(
        new_letter_channels(&api.db, plain_id).await,
        ["email", "sms"]
    );

    // The Location of the 201 answers with the status, the wishes and the receipts.
    let location = first.headers[header::LOCATION].to_str().unwrap().to_owned();
    let status = api.get(&location, &api.nav_token()).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["letter_id"], id.as_str());
    assert_eq!(status.body["message_id"], "wish-1");
    assert_eq!(status.body["status"], "delivered");
    assert_eq!(status.body["is_decision"], true);
    assert_eq!(
        status.body["notification"],
        json!({"channels": ["email"], "repeat_after_days": 3})
    );
    let kinds: Vec<&str> = status.body["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["delivered"]);
    assert!(status.body.get("body").is_none() && status.body.get("title").is_none());
    let silent_status = api
        .get(&format!("{LETTERS}/{silent_id}"), &api.nav_token())
        .await;
    assert_eq!(
        silent_status.body["notification"],
        json!({"channels": [], "repeat_after_days": null})
    );
}

#[tokio::test]
async fn a_citizen_with_an_external_mailbox_gets_the_letter_forwarded_not_in_the_inbox() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    api.db
        .set_mailbox(
            &manage(&kari),
            borgerportal::Mailbox::external("digipost").unwrap(),
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let first = api.deliver(&letter(&kari.national_id, "ext-1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["status"], "forwarding");
    assert_eq!(api.inbox(&kari, OffsetDateTime::now_utc()).await, 0);
    let id = first.body["letter_id"].as_str().unwrap();
    assert!(new_letter_channels(&api.db, id).await.is_empty());
    let status = api.get(&format!("{LETTERS}/{id}"), &api.nav_token()).await;
    assert_eq!(status.body["status"], "forwarding");
    assert_eq!(
        status.body["receipts"],
        json!([]),
        "no receipt before the provider has it"
    );
    let retry = api.deliver(&letter(&kari.national_id, "ext-1")).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body, first.body);
}

#[tokio::test]
async fn another_agencys_letter_is_the_same_404_as_none() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    let delivered = api.deliver(&letter(&kari.national_id, "own-1")).await;
    let id = delivered.body["letter_id"].as_str().unwrap().to_owned();
    // The print provider is another agency (and may not deliver post: 403 before any look-up).
    let printer = api
        .get(&format!("{LETTERS}/{id}"), &api.printer_token())
        .await;
    assert_problem(&printer, StatusCode::FORBIDDEN, "forbidden");
    // A second delivering agency: same 404 for NAV's letter as for one that does not exist.
    let other = api.other_agency_token();
    let theirs = api.get(&format!("{LETTERS}/{id}"), &other).await;
    assert_problem(&theirs, StatusCode::NOT_FOUND, "post.not_found");
    let missing = api
        .get(
            &format!("{LETTERS}/{}", uuid::Uuid::now_v7()),
            &api.other_agency_token(),
        )
        .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "post.not_found");
    assert_eq!(theirs.body["detail"], missing.body["detail"]);
    let junk = api
        .get(&format!("{LETTERS}/not-a-uuid"), &api.nav_token())
        .await;
    assert_problem(&junk, StatusCode::NOT_FOUND, "post.not_found");
    let unauthenticated = reply(
        api.client
            .get(format!("{}{LETTERS}/{id}", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_openapi_document_describes_the_post_endpoints() {
    let api = start().await;
    let doc = reply(
        api.client
            .get(format!("{}/api/v1/openapi.json", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await
    .body;
    for path in [
        "/api/v1/letters",
        "/api/v1/letters/{letter_id}",
        "/api/v1/receipts",
        "/api/v1/print/letters",
        "/api/v1/print/letters/{letter_id}/attachments/{position}",
        "/api/v1/print/letters/{letter_id}/ack",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    for schema in [
        "LetterRequest",
        "NotificationParam",
        "LetterStatusResponse",
        "DeliveryResponse",
        "ReceiptPageResponse",
        "PrintQueueResponse",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert!(doc["paths"]["/api/v1/letters"]["post"]["responses"]["201"].is_object());
    assert!(doc["paths"]["/api/v1/letters/{letter_id}"]["get"]["responses"]["404"].is_object());
    let notification = &doc["components"]["schemas"]["NotificationParam"]["properties"];
    assert!(notification["channels"].is_object(), "{notification}");
    assert_eq!(notification["repeat_after_days"]["maximum"], 30);
    assert!(
        doc["components"]["schemas"]["LetterRequest"]["properties"]["notification"].is_object()
    );
}

#[tokio::test]
async fn no_national_id_title_or_content_reaches_the_logs() {
    let api = start().await;
    let kari = citizen(&api.db, 1).await;
    let unregistered = synthetic(2);
    let mut body = letter(&kari.national_id, "log-1");
    body["title"] = json!("Secret title Quokka");
    body["body"] = json!("<p>Secret body Wombat</p>");
    assert_eq!(api.deliver(&body).await.status, StatusCode::CREATED);
    assert_eq!(
        api.deliver(&letter(&unregistered, "log-2")).await.status,
        StatusCode::CREATED
    );
    let mut refused = letter(&kari.national_id, "log-3");
    refused["non_sensitive_title"] = json!("");
    refused["title"] = json!("Refused title Platypus");
    api.deliver(&refused).await;
    let queue = api.get("/api/v1/print/letters", &api.printer_token()).await;
    assert_eq!(queue.status, StatusCode::OK);

    let log = api.log.text();
    assert!(
        log.contains("letter delivery answered"),
        "the capture works: {log}"
    );
    for secret in [
        kari.national_id.expose(),
        unregistered.expose(),
        &kari.national_id.expose()[..6],
        "Quokka",
        "Wombat",
        "Platypus",
        "Vedtak om dagpenger",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a rough measurement, not a test"]
async fn measure_small_deliveries() {
    let api = std::sync::Arc::new(start().await);
    let kari = citizen(&api.db, 1).await;
    let total = 400;
    let tasks = 16;
    // Tokens are signed before the clock starts: signing is the agency's cost.
    let mut bodies = Vec::new();
    for n in 0..total {
        let mut body = letter(&kari.national_id, &format!("bench-{n}"));
        body["attachments"] = json!([]);
        bodies.push((api.nav_token(), body.to_string()));
    }
    let chunks: Vec<Vec<(String, String)>> = bodies
        .chunks(total / tasks)
        .map(<[(String, String)]>::to_vec)
        .collect();
    let started = std::time::Instant::now();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let api = api.clone();
            tokio::spawn(async move {
                for (token, body) in chunk {
                    let status = api
                        .client
                        .post(format!("{}{LETTERS}", api.base))
                        .bearer_auth(token)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                        .status();
                    assert_eq!(status, StatusCode::CREATED);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "{total} letters in {elapsed:?}: {:.0} letters/s",
        total as f64 / elapsed.as_secs_f64()
    );
}
