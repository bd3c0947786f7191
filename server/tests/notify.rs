#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Notification delivery against real receivers: a real SMTP server (Python's aiosmtpd, in
//! `end2end/sinks/sink.py`), an HTTP SMS gateway stand-in (axum, in this process), the real
//! portal binary killed in the middle of a send, and two workers racing on PostgreSQL.
//!
//! Needs `BORGERPORTAL_TEST_PYTHON` (a Python with aiosmtpd) and
//! `BORGERPORTAL_TEST_POSTGRES_URL`; `cargo xtask test` sets both. A test missing either
//! fails rather than skips: a suite that quietly skips its receivers proves nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::{engine::general_purpose, Engine as _};
use borgerportal::{
    Access, Actor, ContactMethod, Database, EmailAddress, Language, Loa, ManageContact,
    MobileNumber, NationalId, NewNotification, NewPerson, NordicTimeZone, NotificationStatus,
    PersonId, Policy, ReadContact, RetryPolicy, Template, VerifyOutcome,
};
use secrecy::SecretString;
use server::config::{MailConfig, MailTransport, SmsConfig, SmsGatewayKind, SmtpTls};
use server::notify::{
    FileSink, HttpSmsGateway, ManualClock, SmtpSender, SystemClock, Worker, WorkerSettings,
};
use sqlx::Connection;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const PYTHON_VARIABLE: &str = "BORGERPORTAL_TEST_PYTHON";
const POSTGRES_URL_VARIABLE: &str = "BORGERPORTAL_TEST_POSTGRES_URL";

// ---------------------------------------------------------------------------------------------
// Helpers: databases, persons, workers

async fn sqlite_db(dir: &Path) -> Database {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.join("borgerportal.db").display()
    );
    let db = Database::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db
}

fn national_id(n: u16) -> NationalId {
    let birth_date = date!(1980 - 01 - 01) + Duration::days(i64::from(n));
    (0..500)
        .find_map(|individual| NationalId::new_synthetic_norwegian(birth_date, individual).ok())
        .unwrap()
}

async fn person(db: &Database, n: u16, language: Language) -> PersonId {
    db.create_person(NewPerson::new(national_id(n), "Test", "Person", language))
        .await
        .unwrap()
        .id
}

fn actor(person: PersonId) -> Actor {
    Actor::Citizen {
        person,
        loa: Loa::Substantial,
    }
}

fn manage(person: PersonId) -> Access<ManageContact> {
    Policy::authorize::<ManageContact>(&actor(person), person).unwrap()
}

fn read(person: PersonId) -> Access<ReadContact> {
    Policy::authorize::<ReadContact>(&actor(person), person).unwrap()
}

fn mobile() -> MobileNumber {
    MobileNumber::from_e164("+4791234567").unwrap()
}

fn settings(name: &str, retry: RetryPolicy) -> WorkerSettings {
    WorkerSettings {
        name: name.to_owned(),
        poll_interval: StdDuration::from_millis(50),
        batch_size: 20,
        lease: Duration::seconds(60),
        retry,
        from: "Borgerportal <ikke-svar@borgerportal.example>".to_owned(),
    }
}

fn sms_config(url: &str, timeout_seconds: u64) -> SmsConfig {
    SmsConfig {
        gateway: SmsGatewayKind::Http,
        url: url.to_owned(),
        token: SecretString::from("test-token".to_owned()),
        timeout_seconds,
    }
}

/// A worker sending SMS to `gateway_url` (e-mail to a file sink in `dir`) on `clock`.
fn sms_worker(
    db: &Database,
    dir: &Path,
    gateway_url: &str,
    clock: &ManualClock,
    retry: RetryPolicy,
) -> Worker {
    Worker::new(
        db.clone(),
        Arc::new(FileSink::new(dir.join("mail"))),
        Arc::new(HttpSmsGateway::new(&sms_config(gateway_url, 1)).unwrap()),
        Arc::new(clock.clone()),
        settings("sms-worker", retry),
    )
}

/// An SMS of `template` queued at `at` (Oslo quiet hours).
async fn queue_sms(
    db: &Database,
    person: PersonId,
    template: Template,
    key: &str,
    at: OffsetDateTime,
) {
    let params = match template {
        Template::VerifyCode => serde_json::json!({"code": "654321", "language": "nb"}),
        Template::ContactChanged => serde_json::json!({"method": "mobile", "language": "en"}),
        _ => serde_json::json!({"language": "en"}),
    };
    let message = NewNotification::sms(
        person,
        &mobile(),
        template,
        params,
        key,
        at,
        NordicTimeZone::Oslo,
    )
    .unwrap();
    db.enqueue(message).await.unwrap();
}

async fn status_of(db: &Database, key: &str) -> borgerportal::NotificationRecord {
    db.find_notification_by_key(key).await.unwrap().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The SMS gateway stand-in (in this process)

/// How the receiver answers one request for a key; after the script, 200.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Answer 200 after this long.
    Delay(StdDuration),
    /// Never answer (until the connection is gone): a send in flight.
    Hang,
}

#[derive(Debug, Clone)]
struct Seen {
    key: String,
    header_key: Option<String>,
    authorization: Option<String>,
    to: String,
    text: String,
    /// 0 for a request that got no answer.
    status: u16,
}

#[derive(Default)]
struct ReceiverState {
    script: HashMap<String, VecDeque<Reply>>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    state: Arc<Mutex<ReceiverState>>,
    arrived: Arc<tokio::sync::Notify>,
}

impl Receiver {
    async fn start() -> Receiver {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let arrived = Arc::new(tokio::sync::Notify::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            state,
            arrived,
        };
        let app = Router::new()
            .route("/sms", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn script(&self, key: &str, replies: &[Reply]) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(key.to_owned(), replies.iter().copied().collect());
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn seen_for(&self, key: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.key == key).collect()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let key = field("idempotency_key");
    let reply = {
        let mut state = receiver.state.lock().unwrap();
        let reply = state
            .script
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Reply::Status(200));
        let status = match reply {
            Reply::Status(status) => status,
            Reply::Delay(_) => 200,
            Reply::Hang => 0,
        };
        state.seen.push(Seen {
            key,
            header_key: header("idempotency-key"),
            authorization: header("authorization"),
            to: field("to"),
            text: field("text"),
            status,
        });
        reply
    };
    receiver.arrived.notify_one();
    match reply {
        Reply::Status(status) => StatusCode::from_u16(status).unwrap(),
        Reply::Delay(delay) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK
        }
        Reply::Hang => {
            tokio::time::sleep(StdDuration::from_secs(600)).await;
            StatusCode::OK
        }
    }
}

/// Waits (up to `seconds`) until `done` holds.
async fn eventually(seconds: u64, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + StdDuration::from_secs(seconds);
    while Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("not within {seconds} s: {what}");
}

// ---------------------------------------------------------------------------------------------
// The Python sink (aiosmtpd): a real SMTP server on loopback

struct PythonSink {
    child: Child,
    smtp_port: u16,
    dir: PathBuf,
}

impl Drop for PythonSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_python_sink(dir: &Path) -> PythonSink {
    let python = std::env::var_os(PYTHON_VARIABLE).unwrap_or_else(|| {
        panic!(
            "{PYTHON_VARIABLE} is not set: the notification tests need a real SMTP server \
             (Python's aiosmtpd). Run them with `cargo xtask test`, or run `cargo xtask setup` \
             (it makes ~/.cache/borgerportal/venv with aiosmtpd) and set \
             {PYTHON_VARIABLE}=$HOME/.cache/borgerportal/venv/bin/python."
        )
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/sinks/sink.py");
    let sink_dir = dir.join("sink");
    let mut child = Command::new(&python)
        .arg(&script)
        .arg("--dir")
        .arg(&sink_dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {script:?} with {python:?}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let smtp_port = line
        .split_whitespace()
        .find_map(|part| part.strip_prefix("smtp="))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!(
                "the sink did not start (said {line:?}); is aiosmtpd installed for {python:?}? \
                 `cargo xtask setup` installs it"
            )
        });
    PythonSink {
        child,
        smtp_port,
        dir: sink_dir,
    }
}

// ---------------------------------------------------------------------------------------------
// E-mail: the verification code through a real SMTP server

#[tokio::test]
async fn a_verification_code_travels_by_smtp_and_verifies_the_new_address() {
    let dir = tempfile::tempdir().unwrap();
    let sink = start_python_sink(dir.path());
    let db = sqlite_db(dir.path()).await;
    let kari = person(&db, 1, Language::Nb).await;
    let t0 = datetime!(2025-06-02 10:00 UTC);
    let new_address = EmailAddress::parse("kari.ny@example.no").unwrap();
    db.request_email_change(&manage(kari), new_address.clone(), t0)
        .await
        .unwrap();

    let mail = MailConfig {
        transport: MailTransport::Smtp,
        smtp_host: "127.0.0.1".to_owned(),
        smtp_port: sink.smtp_port,
        smtp_tls: SmtpTls::None,
        timeout_seconds: 5,
        ..MailConfig::default()
    };
    let worker = Worker::new(
        db.clone(),
        Arc::new(SmtpSender::new(&mail).unwrap()),
        Arc::new(FileSink::new(dir.path().join("sms"))),
        Arc::new(ManualClock::new(t0)),
        settings("smtp-worker", RetryPolicy::default()),
    );
    assert_eq!(worker.run_once().await.unwrap(), 1);

    let mut mails = Vec::new();
    eventually(10, "the mail reaches the SMTP server", async || {
        mails = FileSink::read_all(&sink.dir).unwrap_or_default();
        !mails.is_empty()
    })
    .await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.channel, "email");
    assert_eq!(mail.to, "kari.ny@example.no");
    assert_eq!(mail.subject.as_deref(), Some("Koden din fra Borgerportal"));
    assert!(mail.idempotency_key.starts_with("contact.verify_code:"));
    assert!(!mail.body.contains("http"), "no links: {}", mail.body);
    let code: String = mail
        .body
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap()
        .to_owned();

    let record = status_of(&db, &mail.idempotency_key).await;
    assert_eq!(record.status, NotificationStatus::Sent);
    let outcome = db
        .verify_code(
            &manage(kari),
            ContactMethod::Email,
            &code,
            t0 + Duration::minutes(2),
        )
        .await
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);
    let info = db.find_contact_info(&read(kari)).await.unwrap();
    assert_eq!(info.email.unwrap().value, new_address);
    // Nothing else is due: the worker finds the outbox empty.
    assert_eq!(worker.run_once().await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// SMS: the gateway, quiet hours, retries

#[tokio::test]
async fn an_sms_reaches_the_gateway_with_its_text_key_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(dir.path()).await;
    let receiver = Receiver::start().await;
    let noon = datetime!(2025-06-02 10:00 UTC);
    let clock = ManualClock::new(noon);
    let ola = person(&db, 2, Language::Nb).await;
    queue_sms(&db, ola, Template::NewLetter, "letter:1:sms", noon).await;
    let worker = sms_worker(
        &db,
        dir.path(),
        &receiver.url,
        &clock,
        RetryPolicy::default(),
    );
    assert_eq!(worker.run_once().await.unwrap(), 1);

    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].to, "+4791234567");
    assert_eq!(seen[0].key, "letter:1:sms");
    assert_eq!(seen[0].header_key.as_deref(), Some("letter:1:sms"));
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer test-token"));
    // The language in the parameters (English) wins over the person's (bokmål).
    assert_eq!(
        seen[0].text,
        "You have a new message in Borgerportal. Log in to read it."
    );
    assert_eq!(
        status_of(&db, "letter:1:sms").await.status,
        NotificationStatus::Sent
    );
}

#[tokio::test]
async fn no_sms_goes_out_between_22_and_08_oslo_time_except_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(dir.path()).await;
    let receiver = Receiver::start().await;
    // Winter: Oslo is UTC+1.
    let at_2159 = datetime!(2025-01-15 20:59 UTC);
    let at_2200 = datetime!(2025-01-15 21:00 UTC);
    let next_0800 = datetime!(2025-01-16 07:00 UTC);
    let clock = ManualClock::new(at_2159);
    let worker = sms_worker(
        &db,
        dir.path(),
        &receiver.url,
        &clock,
        RetryPolicy::default(),
    );
    let person = person(&db, 3, Language::Nn).await;

    // Queued and claimed at 21:59: sent.
    queue_sms(&db, person, Template::NewLetter, "before", at_2159).await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    // Queued at 21:59, but the worker comes at 22:00: held until 08:00.
    queue_sms(&db, person, Template::ContactChanged, "late", at_2159).await;
    clock.set(at_2200);
    assert_eq!(worker.run_once().await.unwrap(), 0);
    let held = status_of(&db, "late").await;
    assert_eq!(held.status, NotificationStatus::Pending);
    assert_eq!(held.not_before, next_0800);
    // A code the person asked for at 23:30 goes at once.
    clock.set(datetime!(2025-01-15 22:30 UTC));
    queue_sms(
        &db,
        person,
        Template::VerifyCode,
        "code",
        datetime!(2025-01-15 22:30 UTC),
    )
    .await;
    assert_eq!(worker.run_once().await.unwrap(), 1);
    // 07:59: still night.
    clock.set(next_0800 - Duration::minutes(1));
    assert_eq!(worker.run_once().await.unwrap(), 0);
    // 08:00: the held message goes.
    clock.set(next_0800);
    assert_eq!(worker.run_once().await.unwrap(), 1);

    let keys: Vec<String> = receiver.seen().into_iter().map(|s| s.key).collect();
    assert_eq!(keys, ["before", "code", "late"]);
    assert_eq!(
        status_of(&db, "late").await.status,
        NotificationStatus::Sent
    );
}

#[tokio::test]
async fn failed_sends_are_retried_with_backoff_then_given_up_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(dir.path()).await;
    let receiver = Receiver::start().await;
    let noon = datetime!(2025-06-02 10:00 UTC);
    let clock = ManualClock::new(noon);
    let retry = RetryPolicy {
        max_attempts: 3,
        backoff: vec![Duration::minutes(1), Duration::minutes(5)],
    };
    let worker = sms_worker(&db, dir.path(), &receiver.url, &clock, retry);
    let person = person(&db, 4, Language::Da).await;
    let down = Reply::Status(500);
    receiver.script("down", &[down, down, down]);
    receiver.script("busy", &[Reply::Status(429), Reply::Status(503)]);
    receiver.script("slow", &[Reply::Delay(StdDuration::from_secs(3))]);
    receiver.script("refused", &[Reply::Status(400)]);
    for key in ["down", "busy", "slow", "refused"] {
        queue_sms(&db, person, Template::NewLetter, key, noon).await;
    }

    assert_eq!(worker.run_once().await.unwrap(), 4);
    let down_record = status_of(&db, "down").await;
    assert_eq!(down_record.status, NotificationStatus::Pending);
    assert_eq!(down_record.attempts, 1);
    assert_eq!(down_record.last_error.as_deref(), Some("sms.http.500"));
    assert_eq!(down_record.not_before, noon + Duration::minutes(1));
    let slow = status_of(&db, "slow").await;
    assert_eq!(slow.last_error.as_deref(), Some("sms.timeout"));
    assert_eq!(slow.status, NotificationStatus::Pending);
    // A 4xx other than 429 is for good, at the first attempt.
    let refused = status_of(&db, "refused").await;
    assert_eq!(refused.status, NotificationStatus::Failed);
    assert_eq!(refused.attempts, 1);
    assert_eq!(refused.last_error.as_deref(), Some("sms.http.400"));

    // Not before the backoff has passed.
    clock.set(noon + Duration::seconds(30));
    assert_eq!(worker.run_once().await.unwrap(), 0);
    clock.set(noon + Duration::minutes(1));
    assert_eq!(worker.run_once().await.unwrap(), 3);
    assert_eq!(
        status_of(&db, "slow").await.status,
        NotificationStatus::Sent
    );
    assert_eq!(status_of(&db, "busy").await.attempts, 2);
    // The second wait is 5 minutes.
    clock.set(noon + Duration::minutes(6));
    assert_eq!(worker.run_once().await.unwrap(), 2);
    let busy = status_of(&db, "busy").await;
    assert_eq!(busy.status, NotificationStatus::Sent);
    let down_record = status_of(&db, "down").await;
    assert_eq!(down_record.status, NotificationStatus::Failed);
    assert_eq!(down_record.attempts, 3);

    // Support (and later the agencies) see the given-up messages.
    let failed: Vec<String> = db
        .list_failed(None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.contains(&"down".to_owned()) && failed.contains(&"refused".to_owned()));
    // Every try carried the same key, in the body and the header.
    assert_eq!(receiver.seen_for("down").len(), 3);
    assert_eq!(receiver.seen_for("busy").len(), 3);
    for seen in receiver.seen() {
        assert_eq!(seen.header_key.as_deref(), Some(seen.key.as_str()));
    }
    assert_eq!(worker.run_once().await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// The default: nothing leaves the machine

#[tokio::test]
async fn by_default_everything_goes_to_files_and_the_worker_stops_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(dir.path()).await;
    let config = server::config::Config::from_toml(&format!(
        "data_dir = {:?}\n[notify]\npoll_interval_ms = 20",
        dir.path().display().to_string()
    ))
    .unwrap();
    let worker = Worker::from_config(&config, db.clone()).unwrap();
    let person = person(&db, 7, Language::Da).await;
    let now = OffsetDateTime::now_utc();
    let email = EmailAddress::parse("mette@example.dk").unwrap();
    let message = NewNotification::email(
        person,
        &email,
        Template::NewLetter,
        serde_json::json!({}),
        "letter:7:email",
        now,
    )
    .unwrap();
    db.enqueue(message).await.unwrap();
    queue_sms(&db, person, Template::VerifyCode, "code:7", now).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    let sink = dir.path().join("outbox-sink");
    let mut records = Vec::new();
    eventually(10, "both messages are in the sink", async || {
        records = FileSink::read_all(&sink).unwrap_or_default();
        records.len() == 2
    })
    .await;
    stop.send(true).unwrap();
    tokio::time::timeout(StdDuration::from_secs(5), running)
        .await
        .expect("the worker stops when told")
        .unwrap();

    let mail = records.iter().find(|r| r.channel == "email").unwrap();
    assert_eq!(mail.to, "mette@example.dk");
    // No language in the parameters: the person's (Danish).
    assert_eq!(
        mail.subject.as_deref(),
        Some("Du har fået en ny besked i Borgerportal")
    );
    let sms = records.iter().find(|r| r.channel == "sms").unwrap();
    assert_eq!(
        (sms.to.as_str(), sms.idempotency_key.as_str()),
        ("+4791234567", "code:7")
    );
    assert!(sms.body.contains("654321"));
    let raw_mail = std::fs::read_dir(&sink)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the raw message is kept beside the JSON");
    assert!(raw_mail.contains("X-Borgerportal-Idempotency-Key: letter:7:email"));
    for key in ["letter:7:email", "code:7"] {
        assert_eq!(status_of(&db, key).await.status, NotificationStatus::Sent);
    }
}

#[tokio::test]
async fn the_worker_reminds_an_unread_decision_once_seven_days_after_it_was_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(dir.path()).await;
    let t0 = datetime!(2026-03-02 09:00 UTC);
    let clock = ManualClock::new(t0);
    let person = person(&db, 8, Language::Nn).await;
    let sent = db
        .request_email_change(
            &manage(person),
            EmailAddress::parse("ola@example.no").unwrap(),
            t0,
        )
        .await
        .unwrap();
    db.verify_code(
        &manage(person),
        ContactMethod::Email,
        sent.code.expose(),
        t0,
    )
    .await
    .unwrap();
    let nav = Policy::authorize_agency::<borgerportal::DeliverPost>(&Actor::Agency {
        agency: borgerportal::AgencyId::parse("nav").unwrap(),
        grants: borgerportal::AgencyGrants::DELIVER_POST,
    })
    .unwrap();
    let letter = borgerportal::NewLetter {
        recipient: national_id(8),
        message_id: "vedtak-1".to_owned(),
        sender_name: "NAV".to_owned(),
        title: "Vedtak".to_owned(),
        safe_title: "Brev fra NAV".to_owned(),
        body_kind: borgerportal::BodyKind::Text,
        body: "Vedtak.".to_owned(),
        attachments: Vec::new(),
        required_loa: Loa::Substantial,
        effective_at: None,
        wants_opening_receipt: false,
        is_decision: true,
        created_at: t0,
        notification: borgerportal::NotificationRequest::default(),
    };

    db.deliver_letter(&nav, letter, t0).await.unwrap();
    let sink = dir.path().join("mail");
    let worker = Worker::new(
        db.clone(),
        Arc::new(FileSink::new(sink.clone())),
        Arc::new(FileSink::new(dir.path().join("sms"))),
        Arc::new(clock.clone()),
        settings("reminder-worker", RetryPolicy::default()),
    );
    let subjects = || {
        FileSink::read_all(&sink)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|record| record.subject)
            // The verification code of the e-mail address set up above.
            .filter(|subject| !subject.starts_with("Koden"))
            .collect::<Vec<_>>()
    };
    worker.run_once().await.unwrap();
    assert_eq!(subjects(), ["Du har fått ei ny melding i Borgerportal"]);
    clock.set(t0 + Duration::days(7) - Duration::seconds(1));
    assert_eq!(worker.run_once().await.unwrap(), 0);
    clock.set(t0 + Duration::days(7));
    assert_eq!(worker.run_once().await.unwrap(), 1);
    clock.set(t0 + Duration::days(8));
    assert_eq!(worker.run_once().await.unwrap(), 0, "only once");
    let subjects = subjects();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(
        subjects.contains(&"Påminning: Du har ei ulesen melding i Borgerportal".to_owned()),
        "{subjects:?}"
    );
}

/// A delegation's end is told to both parties 14 days before, each in their language, once:
/// the worker runs the job by its own clock.
#[tokio::test]
async fn the_worker_tells_both_parties_once_14_days_before_a_delegation_ends() {
    use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_db(dir.path()).await;
    let t0 = datetime!(2026-05-01 10:00 UTC);
    let clock = ManualClock::new(t0);
    let mut people = Vec::new();
    for (n, given_name, language, address) in [
        (20, "Torbjørn", Language::Nn, "torbjorn@example.no"),
        (21, "Kari", Language::Da, "kari@example.dk"),
    ] {
        let new_person = NewPerson::new(national_id(n), given_name, "Nordmann", language);
        let id = db.create_person(new_person).await.unwrap().id;
        let email = EmailAddress::parse(address).unwrap();
        let sent = db
            .request_email_change(&manage(id), email, t0)
            .await
            .unwrap();
        db.verify_code(&manage(id), ContactMethod::Email, sent.code.expose(), t0)
            .await
            .unwrap();
        people.push(id);
    }
    let (giver, holder) = (people[0], people[1]);
    let high = Actor::Citizen {
        person: giver,
        loa: Loa::High,
    };
    let grant = Policy::authorize::<borgerportal::GrantAuthority>(&high, giver).unwrap();
    let scopes = [ScopeGrant {
        scope: Scope::ReadPost,
        ends_on: date!(2026 - 06 - 30),
    }];
    db.grant_delegation(&grant, holder, &scopes, &DelegationRules::default(), t0)
        .await
        .unwrap();
    let sink = dir.path().join("mail");
    let worker = Worker::new(
        db.clone(),
        Arc::new(FileSink::new(sink.clone())),
        Arc::new(FileSink::new(dir.path().join("sms"))),
        Arc::new(clock.clone()),
        settings("end-notice-worker", RetryPolicy::default()),
    );
    let ending = || {
        let mut mails: Vec<_> = FileSink::read_all(&sink)
            .unwrap_or_default()
            .into_iter()
            .filter(|record| record.idempotency_key.starts_with("delegation.ending:"))
            .map(|record| (record.to, record.subject.unwrap_or_default(), record.body))
            .collect();
        mails.sort();
        mails
    };
    worker.run_once().await.unwrap();
    // Day 15 before the end: nothing yet.
    clock.set(datetime!(2026-06-15 10:00 UTC));
    worker.run_once().await.unwrap();
    assert!(ending().is_empty());
    // Day 14: the job runs on the worker's next round after its interval, and sends.
    clock.set(datetime!(2026-06-16 10:00 UTC));
    assert_eq!(worker.run_once().await.unwrap(), 2);
    let mails = ending();
    assert_eq!(mails.len(), 2, "{mails:?}");
    let (to_holder, to_giver) = (&mails[0], &mails[1]);
    assert_eq!(to_holder.0, "kari@example.dk");
    assert_eq!(to_holder.1, "En fuldmagt i Borgerportal udløber snart");
    assert!(to_holder.2.contains("Torbjørn Nordmann"), "{}", to_holder.2);
    assert!(to_holder.2.contains("30.06.2026"), "{}", to_holder.2);
    assert_eq!(to_giver.0, "torbjorn@example.no");
    assert_eq!(to_giver.1, "Ei fullmakt i Borgerportal går snart ut");
    assert!(to_giver.2.contains("Kari Nordmann"), "{}", to_giver.2);
    assert!(to_giver.2.contains("30.06.2026"), "{}", to_giver.2);
    for (_, _, body) in &mails {
        assert!(!body.contains("http"), "{body}");
        for person in [20, 21] {
            assert!(!body.contains(national_id(person).expose()), "{body}");
        }
    }
    // Once: not on the next rounds, nor the next day.
    for at in [
        datetime!(2026-06-16 10:20 UTC),
        datetime!(2026-06-17 10:00 UTC),
    ] {
        clock.set(at);
        assert_eq!(worker.run_once().await.unwrap(), 0);
    }
    assert_eq!(ending().len(), 2);
}

/// One letter a stand-in mailbox provider received.
#[derive(Clone, Debug)]
struct Forwarded {
    path: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    body: serde_json::Value,
}

/// A stand-in for mailbox providers: `/ok` accepts (202), `/refuse` refuses for good (400),
/// `/busy` answers 503; every request is recorded.
async fn start_providers() -> (String, Arc<Mutex<Vec<Forwarded>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let record = |status: StatusCode| {
        move |State(seen): State<Arc<Mutex<Vec<Forwarded>>>>,
              uri: axum::http::Uri,
              headers: HeaderMap,
              Json(body): Json<serde_json::Value>| async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            seen.lock().unwrap().push(Forwarded {
                path: uri.path().to_owned(),
                authorization: header("authorization"),
                idempotency_key: header("idempotency-key"),
                body,
            });
            status
        }
    };
    let app = Router::new()
        .route("/ok", post(record(StatusCode::ACCEPTED)))
        .route("/refuse", post(record(StatusCode::BAD_REQUEST)))
        .route("/busy", post(record(StatusCode::SERVICE_UNAVAILABLE)))
        .with_state(Arc::clone(&seen));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

/// On SQLite, and on PostgreSQL too when `BORGERPORTAL_TEST_POSTGRES_URL` is set.
#[tokio::test]
async fn letters_for_an_external_mailbox_are_forwarded_over_http_or_go_on_paper() {
    let dir = tempfile::tempdir().unwrap();
    forward_on(sqlite_db(dir.path()).await).await;
    if let Ok(server_url) = std::env::var(POSTGRES_URL_VARIABLE) {
        let name = format!("bp_forward_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = with_database(&server_url, &name);
        let outcome = tokio::spawn(async move {
            let db = Database::connect(&url).await.unwrap();
            db.migrate().await.unwrap();
            forward_on(db.clone()).await;
            db.close().await;
        })
        .await;
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic.into_panic());
        }
    }
}

async fn forward_on(db: Database) {
    use borgerportal::ReceiptKind;
    let (base, seen) = start_providers().await;
    let config = server::config::Config::from_toml(&format!(
        r#"
[[mailbox_providers]]
id = "digipost"
name = "Digipost"
url = "{base}/ok"
token = "digipost-secret"

[[mailbox_providers]]
id = "strict"
name = "Strict"
url = "{base}/refuse"
token = "strict-secret"

[[mailbox_providers]]
id = "busy"
name = "Busy"
url = "{base}/busy"
token = "busy-secret"
timeout_seconds = 5
"#
    ))
    .unwrap();
    assert!(
        !format!("{config:?}").contains("digipost-secret"),
        "the token is redacted"
    );
    let t0 = datetime!(2026-03-02 09:00 UTC);
    let clock = ManualClock::new(t0);
    let retry = RetryPolicy {
        max_attempts: 2,
        backoff: vec![Duration::minutes(1)],
    };
    let forwarder = server::notify::Forwarder::new(
        db.clone(),
        &config.mailbox_providers,
        Arc::new(clock.clone()),
        "test",
        Duration::seconds(60),
        10,
        retry,
    )
    .unwrap();
    let nav = Policy::authorize_agency::<borgerportal::DeliverPost>(&Actor::Agency {
        agency: borgerportal::AgencyId::parse("nav").unwrap(),
        grants: borgerportal::AgencyGrants::DELIVER_POST,
    })
    .unwrap();
    let mut letters = Vec::new();
    for (n, provider) in [
        (20, "digipost"),
        (21, "strict"),
        (22, "busy"),
        (23, "e-boks"),
    ] {
        let person = person(&db, n, Language::Nb).await;
        let sent = db
            .request_email_change(
                &manage(person),
                EmailAddress::parse(&format!("p{n}@example.no")).unwrap(),
                t0,
            )
            .await
            .unwrap();
        db.verify_code(
            &manage(person),
            ContactMethod::Email,
            sent.code.expose(),
            t0,
        )
        .await
        .unwrap();
        db.set_mailbox(
            &manage(person),
            borgerportal::Mailbox::external(provider).unwrap(),
            t0,
        )
        .await
        .unwrap();
        let receipt = db
            .deliver_letter(
                &nav,
                borgerportal::NewLetter {
                    recipient: national_id(n),
                    message_id: format!("ext-{provider}"),
                    sender_name: "NAV".to_owned(),
                    title: "Vedtak".to_owned(),
                    safe_title: "Brev fra NAV".to_owned(),
                    body_kind: borgerportal::BodyKind::Text,
                    body: "Vedtak.".to_owned(),
                    attachments: vec![borgerportal::NewAttachment {
                        filename: "vedtak.pdf".to_owned(),
                        content: borgerportal::post::pdf::minimal_pdf("Vedtak"),
                    }],
                    required_loa: Loa::Substantial,
                    effective_at: None,
                    wants_opening_receipt: false,
                    is_decision: true,
                    created_at: t0,
                    notification: borgerportal::NotificationRequest::default(),
                },
                t0,
            )
            .await
            .unwrap();
        assert_eq!(receipt.status.code(), "forwarding");
        letters.push(receipt.letter);
    }
    assert_eq!(forwarder.run_once().await.unwrap(), 4);
    let requests = seen.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        3,
        "the unknown provider is never called: {requests:?}"
    );
    let ok = requests.iter().find(|r| r.path == "/ok").unwrap();
    assert_eq!(ok.authorization.as_deref(), Some("Bearer digipost-secret"));
    assert_eq!(
        ok.idempotency_key.as_deref(),
        Some(letters[0].to_string().as_str())
    );
    assert_eq!(ok.body["letter_id"], letters[0].to_string());
    assert_eq!(ok.body["recipient"], national_id(20).expose());
    assert_eq!(ok.body["message_id"], "ext-digipost");
    assert_eq!(ok.body["body_html"], "<p>Vedtak.</p>");
    let pdf = general_purpose::STANDARD
        .decode(
            ok.body["attachments"][0]["content_base64"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let busy = requests.iter().find(|r| r.path == "/busy").unwrap();
    assert_eq!(busy.authorization.as_deref(), Some("Bearer busy-secret"));

    let kinds = |receipts: Vec<borgerportal::Receipt>| {
        receipts
            .into_iter()
            .map(|r| (r.message_id, r.kind))
            .collect::<Vec<_>>()
    };
    let page = db.list_receipts(&nav, None, 100).await.unwrap();
    let mut got = kinds(page.receipts);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("ext-digipost".to_owned(), ReceiptKind::Forwarded),
            ("ext-e-boks".to_owned(), ReceiptKind::ReturnedToPaper),
            ("ext-strict".to_owned(), ReceiptKind::ReturnedToPaper),
        ]
    );
    // The busy provider is tried again after the backoff, then given up: paper.
    assert_eq!(
        forwarder.run_once().await.unwrap(),
        0,
        "not before the backoff"
    );
    clock.set(t0 + Duration::minutes(1));
    assert_eq!(forwarder.run_once().await.unwrap(), 1);
    let busy_calls = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/busy")
        .map(|r| r.idempotency_key.clone())
        .collect::<Vec<_>>();
    assert_eq!(busy_calls.len(), 2);
    assert_eq!(
        busy_calls[0], busy_calls[1],
        "the same idempotency key each time"
    );
    let later = db.list_receipts(&nav, page.cursor, 100).await.unwrap();
    assert_eq!(
        kinds(later.receipts),
        [("ext-busy".to_owned(), ReceiptKind::ReturnedToPaper)]
    );
    // Nothing more to do, and the claimed ones are not claimed again.
    clock.set(t0 + Duration::days(1));
    assert_eq!(forwarder.run_once().await.unwrap(), 0);
    assert!(db
        .claim_forwarding(t0 + Duration::days(1), "other", 10, Duration::seconds(60))
        .await
        .unwrap()
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// Crash: the real binary killed while a send is in flight

/// A minimal built site (the server refuses to start without `hash.txt`).
fn fake_site(root: &Path) {
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("hash.txt"), "js: aaaa\nwasm: bbbb\ncss: cccc\n").unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start the portal binary on `data` with SMS to `gateway_url`; output to `log`.
fn start_portal(data: &Path, site: &Path, gateway_url: &str, log: &Path) -> Child {
    let listen: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_borgerportal"));
    // The test's own BORGERPORTAL_TEST_* variables would be read as (unknown) configuration.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BORGERPORTAL_") {
            command.env_remove(name);
        }
    }
    command
        .env("BORGERPORTAL_DATA_DIR", data)
        .env("BORGERPORTAL_SITE_ROOT", site)
        .env("BORGERPORTAL_LISTEN", listen.to_string())
        .env("BORGERPORTAL_PUBLIC_URL", format!("http://{listen}"))
        .env("BORGERPORTAL_SMS__GATEWAY", "http")
        .env("BORGERPORTAL_SMS__URL", gateway_url)
        .env("BORGERPORTAL_SMS__TOKEN", "crash-token")
        .env("BORGERPORTAL_SMS__TIMEOUT_SECONDS", "2")
        .env("BORGERPORTAL_NOTIFY__LEASE_SECONDS", "3")
        .env("BORGERPORTAL_NOTIFY__POLL_INTERVAL_MS", "100")
        .env("BORGERPORTAL_LOG__FILTER", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_killed_mid_send_delivers_after_restart_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let site = dir.path().join("site");
    let log = dir.path().join("portal.log");
    std::fs::create_dir_all(&data).unwrap();
    fake_site(&site);
    let receiver = Receiver::start().await;

    // Committed while no worker runs: a code (never held by quiet hours, whatever the hour).
    let db = sqlite_db(&data).await;
    let person = person(&db, 5, Language::Nb).await;
    let now = OffsetDateTime::now_utc();
    queue_sms(&db, person, Template::VerifyCode, "crash:1", now).await;
    receiver.script("crash:1", &[Reply::Hang]);

    let mut first = start_portal(&data, &site, &receiver.url, &log);
    tokio::time::timeout(StdDuration::from_secs(30), receiver.arrived.notified())
        .await
        .unwrap_or_else(|_| {
            let _ = first.kill();
            panic!(
                "the portal sent nothing: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    // The send is in flight (the gateway has the request, the portal awaits the answer).
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert_eq!(
        status_of(&db, "crash:1").await.status,
        NotificationStatus::Pending,
        "killed before it could record anything"
    );
    // Another one committed while the portal is down.
    queue_sms(&db, person, Template::VerifyCode, "crash:2", now).await;

    let mut second = start_portal(&data, &site, &receiver.url, &log);
    eventually(30, "both are sent after the restart", async || {
        status_of(&db, "crash:1").await.status == NotificationStatus::Sent
            && status_of(&db, "crash:2").await.status == NotificationStatus::Sent
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();

    let first_key = receiver.seen_for("crash:1");
    assert_eq!(
        first_key.len(),
        2,
        "one cut off, one answered: {first_key:?}"
    );
    for seen in &first_key {
        assert_eq!(seen.header_key.as_deref(), Some("crash:1"));
        assert_eq!(seen.authorization.as_deref(), Some("Bearer crash-token"));
    }
    let delivered: Vec<&Seen> = first_key.iter().filter(|s| s.status == 200).collect();
    assert_eq!(delivered.len(), 1, "exactly one delivery");
    assert!(delivered[0].text.contains("654321"));
    assert_eq!(receiver.seen_for("crash:2").len(), 1);
    db.close().await;
}

// ---------------------------------------------------------------------------------------------
// Two workers on PostgreSQL never send the same message twice

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_postgres_deliver_each_message_exactly_once() {
    let server_url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VARIABLE} is not set: this test runs two workers against one \
             PostgreSQL database. Set it to a server URL such as \
             postgres://postgres@127.0.0.1:5432/postgres (the test creates and drops its own \
             database), or run `cargo xtask test`, which sets it."
        )
    });
    let name = format!("bp_notify_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = with_database(&server_url, &name);

    let result = async move {
        let first_db = Database::connect(&url).await.unwrap();
        first_db.migrate().await.unwrap();
        let second_db = Database::connect(&url).await.unwrap();
        let receiver = Receiver::start().await;
        let person = person(&first_db, 6, Language::En).await;
        let now = OffsetDateTime::now_utc();
        const COUNT: usize = 200;
        for i in 0..COUNT {
            queue_sms(
                &first_db,
                person,
                Template::VerifyCode,
                &format!("pg:{i}"),
                now,
            )
            .await;
        }
        let worker = |db: &Database, name: &str| {
            let mut settings = settings(name, RetryPolicy::default());
            settings.batch_size = 10;
            Worker::new(
                db.clone(),
                Arc::new(FileSink::new(std::env::temp_dir().join("unused-mail-sink"))),
                Arc::new(HttpSmsGateway::new(&sms_config(&receiver.url, 5)).unwrap()),
                Arc::new(SystemClock),
                settings,
            )
        };
        let drain = |worker: Worker| async move {
            let mut claimed = 0;
            loop {
                match worker.run_once().await.unwrap() {
                    0 => return claimed,
                    n => claimed += n,
                }
            }
        };
        let started = Instant::now();
        let (a, b) = tokio::join!(
            tokio::spawn(drain(worker(&first_db, "pg-worker-a"))),
            tokio::spawn(drain(worker(&second_db, "pg-worker-b")))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let elapsed = started.elapsed();
        println!("two workers: {a} + {b} messages in {elapsed:?}");

        let seen = receiver.seen();
        let keys: HashSet<&str> = seen.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(seen.len(), COUNT, "no message sent twice");
        assert_eq!(keys.len(), COUNT, "every message sent");
        assert_eq!(a + b, COUNT);
        assert!(a > 0 && b > 0, "both workers took part: {a} + {b}");
        for i in [0, COUNT / 2, COUNT - 1] {
            let record = status_of(&first_db, &format!("pg:{i}")).await;
            assert_eq!(record.status, NotificationStatus::Sent);
        }
        first_db.close().await;
        second_db.close().await;
    };
    let outcome = tokio::spawn(result).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// The server URL with its database swapped for `name`.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |index| authority_start + index);
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}
