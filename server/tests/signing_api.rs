//! The signing API end to end, in-process: a real server on a loopback port, real signed
//! tokens, on SQLite and on a fresh PostgreSQL database. Signers are set up and sign through
//! storage (their pages come with the signer's side); the API is what an agency sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use borgerportal::post::pdf::minimal_pdf;
use borgerportal::signing::SignatureEvidence;
use borgerportal::storage::Database;
use borgerportal::{
    Access, Actor, Capability, ContactMethod, EmailAddress, Language, Loa, ManageContact,
    NationalId, NewPerson, Person, Policy, SignDocuments, SigningJobId,
};
use common::agency::{es256_pair, LogCapture, PostgresScratch};
use common::{fake_site, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use time::format_description::well_known::Rfc3339;
use time::{macros::date, Duration, OffsetDateTime};

const JOBS: &str = "/api/v1/signing/jobs";

struct Api {
    base: String,
    db: Database,
    /// (private key, agency id) of each agency: `nav` and `kommune` may send for signing,
    /// `skatt` has the default capabilities only.
    keys: Vec<(String, &'static str)>,
    log: LogCapture,
    client: Client,
    _log_guard: tracing::subscriber::DefaultGuard,
    _postgres: Option<PostgresScratch>,
    _dir: tempfile::TempDir,
}

async fn start_on(postgres: Option<&str>) -> Api {
    let log = LogCapture::default();
    let log_guard = log.install();
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut agencies = String::new();
    let mut keys = Vec::new();
    for (id, capabilities) in [
        ("nav", r#"["signing"]"#),
        ("kommune", r#"["signing", "deliver_post"]"#),
        ("skatt", r#"["lookup_contact", "deliver_post"]"#),
    ] {
        let (private, public) = es256_pair();
        agencies.push_str(&format!(
            "[[agencies]]\nid = \"{id}\"\nname = \"{id} (test)\"\nalgorithm = \"ES256\"\n\
             public_key = \"\"\"{public}\"\"\"\ncapabilities = {capabilities}\n\n"
        ));
        keys.push((private, id));
    }
    let config = Config::from_toml(&format!(
        "public_url = \"http://{addr}\"\ndata_dir = \"{}\"\n\n{agencies}",
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
    Api {
        base: format!("http://{addr}"),
        db,
        keys,
        log,
        client: Client::new(),
        _log_guard: log_guard,
        _postgres: scratch,
        _dir: dir,
    }
}

impl Api {
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

    /// A call as `agency`; the answer's status and JSON (problems are problem+json).
    async fn call(
        &self,
        agency: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token(agency));
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        if !status.is_success() {
            let media = headers[header::CONTENT_TYPE].to_str().unwrap();
            assert_eq!(media, "application/problem+json", "{status}");
        }
        (
            status,
            response.json().await.unwrap_or(Value::Null),
            headers,
        )
    }

    async fn create(&self, agency: &str, job: &Value) -> (StatusCode, Value) {
        let (status, body, headers) = self
            .call(agency, reqwest::Method::POST, JOBS, Some(job))
            .await;
        if status == StatusCode::CREATED {
            let location = headers[header::LOCATION].to_str().unwrap();
            assert_eq!(
                location,
                format!("{JOBS}/{}", body["signing_job_id"].as_str().unwrap())
            );
        }
        (status, body)
    }

    async fn get(&self, agency: &str, path: &str) -> (StatusCode, Value) {
        let (status, body, _) = self.call(agency, reqwest::Method::GET, path, None).await;
        (status, body)
    }

    /// A person with a verified e-mail address: reachable for signing.
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

    /// Polls the agency's status changes until `want` have come (PostgreSQL shows a change
    /// once every older transaction of the cluster has ended).
    async fn events(&self, agency: &str, after: Option<&str>, want: usize) -> (Vec<Value>, String) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut cursor = after.map(str::to_owned);
        let mut events = Vec::new();
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/api/v1/signing/events?after={cursor}&limit=2"),
                None => "/api/v1/signing/events?limit=2".to_owned(),
            };
            let (status, page) = self.get(agency, &path).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            events.extend(page["events"].as_array().unwrap().iter().cloned());
            cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
            if events.len() >= want || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(events.len(), want, "{events:?}");
        (events, cursor.unwrap())
    }
}

fn own<C: Capability>(person: &Person) -> Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

fn job(job_id: &str, signers: &[(&Person, i64)]) -> Value {
    json!({
        "job_id": job_id,
        "title": "Avtale om oppfølging",
        "non_sensitive_title": "Et dokument til signering",
        "description": "Les og signer.",
        "documents": [
            {"title": "Avtale", "filename": "avtale.pdf",
             "content_base64": STANDARD.encode(minimal_pdf("Avtale"))}
        ],
        "signers": signers.iter().map(|(person, order)| json!({
            "national_id": person.national_id.expose(), "order": order
        })).collect::<Vec<_>>(),
        "deadline": rfc3339(OffsetDateTime::now_utc() + Duration::days(14)),
        "signer_naming": "name_and_birth_date",
        "notification": {"channels": ["email"], "reminders": true}
    })
}

async fn sign(api: &Api, person: &Person, job: &str) {
    let now = OffsetDateTime::now_utc();
    let evidence = SignatureEvidence {
        loa: Loa::Substantial,
        auth_time: now - Duration::seconds(5),
        requested_at: now - Duration::seconds(30),
        eid: "idporten".into(),
        name: "Test".into(),
        id_token: "h.p.s".into(),
    };
    let id: SigningJobId = job.parse().unwrap();
    api.db
        .sign_job(&own::<SignDocuments>(person), id, &evidence, now)
        .await
        .unwrap();
}

async fn jobs_are_created_once_followed_and_cancelled(postgres: Option<&str>) {
    let api = start_on(postgres).await;
    let kari = api.signer(1, "Kari").await;
    let ola = api.signer(2, "Ola").await;
    let (status, created) = api
        .create("nav", &job("sak-1", &[(&kari, 0), (&ola, 1)]))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["job_id"], "sak-1");
    assert_eq!(created["signers"][0]["status"], "waiting");
    assert_eq!(created["signers"][1]["order"], 1);
    assert_eq!(created["signers"][0]["on_behalf_of"], "self");
    assert_eq!(created["documents"], json!(["Avtale"]));
    let id = created["signing_job_id"].as_str().unwrap().to_owned();

    // The same job id again: 200 with the first job; nothing new.
    let (status, replay) = api.create("nav", &job("sak-1", &[(&kari, 0)])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay["signing_job_id"], id.as_str());
    assert_eq!(replay["signers"].as_array().unwrap().len(), 2);

    // Its status; another agency (even one that may sign) gets the same 404 as no job, and
    // an agency without the capability a 403.
    let path = format!("{JOBS}/{id}");
    let (status, read) = api.get("nav", &path).await;
    assert_eq!(
        (status, &read["signing_job_id"]),
        (StatusCode::OK, &json!(id))
    );
    let (status, other) = api.get("kommune", &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(other["type"], "urn:borgerportal:problem:signing.not_found");
    let (status, missing) = api
        .get("kommune", &format!("{JOBS}/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(
        (status, &missing["type"]),
        (StatusCode::NOT_FOUND, &other["type"])
    );
    assert_eq!(
        api.get("nav", &format!("{JOBS}/not-an-id")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, forbidden) = api.get("skatt", &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{forbidden}");
    let (status, _) = api.create("skatt", &job("sak-2", &[(&kari, 0)])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Kari signs: the agency polls the change; Ola's turn comes.
    sign(&api, &kari, &id).await;
    let (events, cursor) = api.events("nav", None, 1).await;
    assert_eq!(events[0]["status"], "signed");
    assert_eq!(events[0]["job_id"], "sak-1");
    assert_eq!(events[0]["signer_id"], created["signers"][0]["signer_id"]);
    // Another agency sees none of it.
    api.events("kommune", None, 0).await;
    let (status, bad) = api.get("nav", "/api/v1/signing/events?after=%21%21").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad["type"],
        "urn:borgerportal:problem:signing.invalid_cursor"
    );

    // Cancelled: Ola is cancelled, the job failed; a second cancel is a conflict.
    let cancel = format!("{path}/cancel");
    let (status, cancelled, _) = api.call("nav", reqwest::Method::POST, &cancel, None).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "failed");
    assert_eq!(cancelled["signers"][0]["status"], "signed");
    assert_eq!(cancelled["signers"][1]["status"], "cancelled");
    assert!(cancelled["ended_at"].is_string());
    let (events, _) = api.events("nav", Some(&cursor), 2).await;
    let told: Vec<&str> = events
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(told, ["cancelled", "failed"]);
    assert!(events[1].get("signer_id").is_none());
    let (status, again, _) = api.call("nav", reqwest::Method::POST, &cancel, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["type"], "urn:borgerportal:problem:signing.job_ended");
    let (status, _, _) = api
        .call("kommune", reqwest::Method::POST, &cancel, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The log names the agency and the job, never a national id.
    let log = api.log.text();
    assert!(log.contains("signing job creation answered"), "{log}");
    assert!(!log.contains(kari.national_id.expose()));
    assert!(!log.contains(ola.national_id.expose()));
}

#[tokio::test]
async fn jobs_are_created_once_followed_and_cancelled_on_sqlite() {
    jobs_are_created_once_followed_and_cancelled(None).await;
}

#[tokio::test]
async fn jobs_are_created_once_followed_and_cancelled_on_postgres() {
    let server = std::env::var("BORGERPORTAL_TEST_POSTGRES_URL")
        .expect("BORGERPORTAL_TEST_POSTGRES_URL: the test command sets it");
    jobs_are_created_once_followed_and_cancelled(Some(&server)).await;
}

#[tokio::test]
async fn refused_jobs_get_a_problem_and_store_nothing() {
    let api = start_on(None).await;
    let kari = api.signer(1, "Kari").await;
    let good = job("sak-9", &[(&kari, 0)]);
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            {
                let mut j = good.clone();
                j["signers"][0]["national_id"] = json!("12345678901");
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-national-id",
        ),
        (
            {
                let mut j = good.clone();
                j["documents"][0]["content_base64"] = json!("not base64!");
                j
            },
            StatusCode::BAD_REQUEST,
            "invalid-document-encoding",
        ),
        (
            {
                let mut j = good.clone();
                j["documents"][0]["content_base64"] = json!(STANDARD.encode(b"GIF89a"));
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signing.document_not_pdf",
        ),
        (
            {
                let mut j = good.clone();
                j["deadline"] = json!(rfc3339(OffsetDateTime::now_utc() + Duration::days(91)));
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signing.deadline_invalid",
        ),
        (
            {
                let mut j = good.clone();
                j["title"] = json!("x".repeat(81));
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signing.title_invalid",
        ),
        (
            {
                let mut j = good.clone();
                j["signers"][0]["order"] = json!(10);
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signing.order_invalid",
        ),
        (
            {
                let mut j = good.clone();
                j["signers"] = json!([]);
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signing.no_signers",
        ),
        (
            {
                let mut j = good.clone();
                j["notification"]["channels"] = json!(["fax"]);
                j
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "signing.notification_channel_invalid",
        ),
        (
            {
                let mut j = good.clone();
                j["required_loa"] = json!("low");
                j
            },
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            {
                let mut j = good.clone();
                j["surprise"] = json!(true);
                j
            },
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
    ];
    for (body, status, problem) in cases {
        let (got, answer) = api.create("nav", &body).await;
        assert_eq!(got, status, "{problem}: {answer}");
        assert_eq!(
            answer["type"],
            format!("urn:borgerportal:problem:{problem}"),
            "{answer}"
        );
    }
    // Not JSON at all.
    let response = api
        .client
        .post(format!("{}{JOBS}", api.base))
        .bearer_auth(api.token("nav"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Too large by its declared length: refused before the body is read.
    let response = api
        .client
        .post(format!("{}{JOBS}", api.base))
        .bearer_auth(api.token("nav"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, "999999999")
        .body("{}")
        .send()
        .await;
    assert_eq!(response.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    // None of them stored anything: the good job is still new.
    let (status, _) = api.create("nav", &good).await;
    assert_eq!(status, StatusCode::CREATED);
    api.events("nav", None, 0).await;
}

#[tokio::test]
async fn an_unreachable_signer_fails_the_job_and_the_openapi_document_describes_signing() {
    let api = start_on(None).await;
    let kari = api.signer(1, "Kari").await;
    // Never registered: no contact information.
    let unknown = (100..200)
        .find_map(|i| NationalId::new_synthetic_norwegian(date!(1990 - 01 - 01), i).ok())
        .unwrap();
    let mut body = job("sak-3", &[(&kari, 0)]);
    body["signers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"national_id": unknown.expose(), "order": 1}));
    let (status, created) = api.create("nav", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["status"], "failed");
    assert_eq!(created["signers"][0]["status"], "not_applicable");
    assert_eq!(
        created["signers"][1]["status"],
        "contact_information_missing"
    );
    // Signing for someone else is not checked against the register.
    body["job_id"] = json!("sak-4");
    body["signers"][1]["on_behalf_of"] = json!("other");
    let (_, created) = api.create("nav", &body).await;
    assert_eq!(created["status"], "in_progress");

    let (status, document) = api.get("nav", "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/signing/jobs",
        "/api/v1/signing/jobs/{signing_job_id}",
        "/api/v1/signing/jobs/{signing_job_id}/cancel",
        "/api/v1/signing/events",
    ] {
        assert!(document["paths"][path].is_object(), "{path}");
    }
    assert!(document["components"]["schemas"]["JobRequest"].is_object());
}
