//! Interoperability of the eID login with real, independent OpenID Connect software from npm:
//!
//! - `oidc-provider` (a certified OpenID provider), shaped like ID-porten or a MitID broker by
//!   `end2end/oidc/provider.mjs`: login, step-up, RP-initiated and back-channel logout, and a
//!   provider that answers a lower level than asked;
//! - `oauth2-mock-server`, wrapped by `end2end/oidc/mock.mjs`: validly signed id_tokens with
//!   wrong claims, and hand-made bad ones (unsigned, foreign key, HMAC).
//!
//! Each test runs its own portal in-process (real SQLite, real listener) and its own node
//! process, and plays the browser itself: cookies (shared across ports on 127.0.0.1, as in a
//! browser), redirects followed one by one. Needs `npm install` in `end2end/` (`cargo xtask test`
//! does it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{is_failure_page, serve};

use borgerportal::{
    access::Loa,
    demo::demo_persons,
    identity::Country,
    person::NewPerson,
    session::{Session, SessionToken},
    storage::Database,
};
use reqwest::{header, redirect::Policy, Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::Duration,
};
use url::Url;

const PROVIDER_ID: &str = "interop";
const CLIENT_ID: &str = "portal";
const CLIENT_SECRET: &str = "interop-secret-0123456789abcdef";
/// The portal's session cookie over plain http.
const SESSION_COOKIE: &str = "borgerportal_session";
const NSIS_SUBSTANTIAL: &str = "https://data.gov.dk/concept/core/nsis/Substantial";

// ---------------------------------------------------------------------------------------------
// The node processes

fn end2end_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end")
}

/// `provider.mjs` or `mock.mjs`, killed when dropped. Its stderr goes to a log file that is
/// printed when the test fails.
struct NodeServer {
    child: Child,
    issuer: String,
    log: PathBuf,
}

impl NodeServer {
    async fn start(script: &str, args: Vec<String>, log_dir: &Path) -> NodeServer {
        let end2end = end2end_dir();
        for package in ["oidc-provider", "oauth2-mock-server"] {
            assert!(
                end2end
                    .join("node_modules")
                    .join(package)
                    .join("package.json")
                    .exists(),
                "end2end/node_modules/{package} is missing: run `npm install` in end2end/ first \
                 (`cargo xtask test` does it before the Rust tests)"
            );
        }
        let log = log_dir.join(format!("{script}.log"));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("node")
            .arg(end2end.join("oidc").join(script))
            .args(&args)
            .current_dir(&end2end)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("could not run `node` ({e}): install Node.js"));
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Reads the `ready <issuer>` line, then keeps draining so node never blocks on stdout.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = ready_tx.send(first);
            for _ in lines {}
        });
        let first =
            tokio::task::spawn_blocking(move || ready_rx.recv_timeout(Duration::from_secs(20)))
                .await
                .unwrap();
        let mut server = NodeServer {
            child,
            issuer: String::new(),
            log,
        };
        match first {
            Ok(Some(Ok(line))) if line.starts_with("ready http://") => {
                server.issuer = line["ready ".len()..].trim().to_owned();
            }
            other => panic!(
                "{script} did not start ({other:?}):\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            ),
        }
        server.wait_for_discovery().await;
        server
    }

    async fn wait_for_discovery(&self) {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let client = Client::new();
        for _ in 0..100 {
            if let Ok(response) = client.get(&url).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no discovery document at {url}");
    }

    /// A test helper of provider.mjs (`/__test/...`), as JSON.
    async fn test_data(&self, what: &str) -> Vec<Value> {
        Client::new()
            .get(format!("{}/__test/{what}", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- {} ---\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The portal

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    Idporten,
    MitidBroker,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Idporten => "idporten",
            Profile::MitidBroker => "mitid-broker",
        }
    }

    /// A synthetic demo person of the profile's country.
    fn person(self) -> NewPerson {
        let country = match self {
            Profile::Idporten => Country::Norway,
            Profile::MitidBroker => Country::Denmark,
        };
        demo_persons()
            .into_iter()
            .find(|p| p.national_id.country() == country)
            .unwrap()
    }

    /// The person's claims as the profile's provider sends them.
    fn claims(self) -> Value {
        let person = self.person();
        let id_claim = match self {
            Profile::Idporten => "pid",
            Profile::MitidBroker => "dk.cpr",
        };
        json!({
            id_claim: person.national_id.expose(),
            "given_name": person.given_name,
            "family_name": person.family_name,
        })
    }

    fn scopes(self) -> &'static str {
        match self {
            Profile::Idporten => r#"["openid", "profile"]"#,
            Profile::MitidBroker => r#"["openid", "profile", "ssn"]"#,
        }
    }
}

/// Which npm server plays the provider.
enum Idp<'a> {
    /// `oidc-provider` with one account, `person`.
    Provider,
    /// The same, with the portal authenticating by `private_key_jwt` (an ES256 key the test
    /// makes; the provider gets its public half as the client's JWKS).
    ProviderPrivateKeyJwt,
    /// `oauth2-mock-server` with a scenario from mock.mjs.
    Mock(&'a str),
}

struct Portal {
    base: String,
    db: Database,
    idp: NodeServer,
    log: LogCapture,
    _log_guard: tracing::subscriber::DefaultGuard,
    _dir: tempfile::TempDir,
}

/// The portal's log lines of one test. `#[tokio::test]` runs the portal's tasks on the test's
/// own thread, so a thread-local subscriber sees exactly this test's portal.
#[derive(Clone, Default)]
struct LogCapture(std::sync::Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Make the portal's `private_key_jwt` key: write the private half as PKCS#8 PEM to `pem_path`
/// and return the public half as a JWK Set for the provider.
fn client_key_pair(pem_path: &Path) -> serde_json::Value {
    use base64::{engine::general_purpose, Engine as _};
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let body = general_purpose::STANDARD.encode(pkcs8.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    std::fs::write(
        pem_path,
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        ),
    )
    .unwrap();
    let point = pair.public_key().as_ref();
    let b64 = |bytes: &[u8]| general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    serde_json::json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "portal-key-1",
        "x": b64(&point[1..33]), "y": b64(&point[33..65]),
    }]})
}

/// A minimal built site: hash.txt and the files it names.
fn fake_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(root.join("hash.txt"), "js: aaaa\nwasm: bbbb\ncss: cccc\n").unwrap();
    std::fs::write(pkg.join("borgerportal.cccc.css"), "body{}").unwrap();
}

impl Portal {
    /// Bind the portal's listener (so its redirect URI is known), start the provider for it,
    /// then configure and serve the portal.
    async fn start(idp: Idp<'_>, profile: Profile) -> Portal {
        let log = LogCapture::default();
        let log_guard = log.install();
        let dir = tempfile::tempdir().unwrap();
        let site_root = dir.path().join("site");
        fake_site(&site_root);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let claims = profile.claims().to_string();
        let client_key = matches!(idp, Idp::ProviderPrivateKeyJwt)
            .then(|| client_key_pair(&dir.path().join("client-key.pem")));
        let node = match idp {
            Idp::Provider | Idp::ProviderPrivateKeyJwt => {
                let mut args: Vec<String> = vec![
                    "--port".into(),
                    "0".into(),
                    "--client-redirect".into(),
                    format!("{base}/auth/callback"),
                    "--client-id".into(),
                    CLIENT_ID.into(),
                    "--profile".into(),
                    profile.name().into(),
                    "--account".into(),
                    format!("person={claims}"),
                ];
                match &client_key {
                    Some(jwks) => args.extend(["--client-jwks".into(), jwks.to_string()]),
                    None => args.extend(["--client-secret".into(), CLIENT_SECRET.into()]),
                }
                NodeServer::start("provider.mjs", args, dir.path()).await
            }
            Idp::Mock(scenario) => {
                NodeServer::start(
                    "mock.mjs",
                    vec![
                        "--port".into(),
                        "0".into(),
                        "--profile".into(),
                        profile.name().into(),
                        "--claims".into(),
                        claims,
                        "--scenario".into(),
                        scenario.into(),
                        "--client-secret".into(),
                        CLIENT_SECRET.into(),
                    ],
                    dir.path(),
                )
                .await
            }
        };
        let config = Config::from_toml(&format!(
            r#"
            public_url = "{base}"
            data_dir = '{data}'
            [test_eid]
            enabled = false
            [[oidc.providers]]
            id = "{PROVIDER_ID}"
            name = "Interop eID"
            issuer = "{issuer}"
            client_id = "{CLIENT_ID}"
            client_auth = {client_auth}
            scopes = {scopes}
            profile = "{profile}"
            "#,
            client_auth = if client_key.is_some() {
                format!(
                    "{{ method = \"private_key_jwt\", key_file = '{}', key_id = \"portal-key-1\" }}",
                    dir.path().join("client-key.pem").display()
                )
            } else {
                format!("{{ method = \"client_secret\", secret = \"{CLIENT_SECRET}\" }}")
            },
            data = dir.path().display(),
            issuer = node.issuer,
            scopes = profile.scopes(),
            profile = profile.name(),
        ))
        .unwrap();
        let db = Database::connect(&format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("portal.db").display()
        ))
        .await
        .unwrap();
        db.migrate().await.unwrap();
        serve(listener, &config, &site_root, &db);
        Portal {
            base,
            db,
            idp: node,
            log,
            _log_guard: log_guard,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Start a login at the portal, go through the provider (appending `login_hint` to the
    /// authorization request, as the person's choice) and stop at the portal's callback, which
    /// is then requested. `loa` is the portal's `?loa=`.
    async fn login(&self, browser: &Browser, loa: Option<&str>, hint: Option<&str>) -> Callback {
        let query = loa.map(|l| format!("?loa={l}")).unwrap_or_default();
        let start = browser
            .get(&self.url(&format!("/auth/login/{PROVIDER_ID}{query}")))
            .await;
        assert_eq!(start.status(), StatusCode::SEE_OTHER, "login start");
        let mut authorize = Url::parse(location(&start)).unwrap();
        assert!(
            authorize.as_str().starts_with(&self.idp.issuer),
            "the login goes to the provider: {authorize}"
        );
        if let Some(hint) = hint {
            authorize.query_pairs_mut().append_pair("login_hint", hint);
        }
        let callback_prefix = self.url("/auth/callback?");
        let callback_url = browser
            .follow(authorize.as_str(), |url| {
                url.as_str().starts_with(&callback_prefix)
            })
            .await;
        let response = browser.get(callback_url.as_str()).await;
        Callback {
            authorize,
            callback_url,
            status: response.status(),
            location: response
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            session_cookie: new_session_cookie(&response),
        }
    }

    /// The stored session for a cookie value.
    /// The id_token `session` keeps, opened with the portal's key (it is stored sealed).
    fn id_token_of(&self, session: &Session) -> String {
        use secrecy::ExposeSecret;
        let key = self._dir.path().join("id-token.key");
        let seal = server::auth::seal::IdTokenSeal::load_or_create(&key).unwrap();
        let stored = &session.id_token;
        assert!(
            stored.expose_secret().starts_with("sealed.v1."),
            "kept sealed"
        );
        seal.open(stored).unwrap().expose_secret().to_owned()
    }

    async fn session(&self, cookie: &str) -> Option<Session> {
        let token = SessionToken::from_cookie_value(cookie).expect("a session token");
        self.db
            .find_session(
                &token,
                time::OffsetDateTime::now_utc(),
                time::Duration::minutes(30),
            )
            .await
            .unwrap()
    }

    /// The portal's log so far, which must never hold a national identity number.
    fn log_text(&self) -> String {
        let log = self.log.text();
        for person in demo_persons() {
            assert!(
                !log.contains(person.national_id.expose()),
                "a national id in the log:\n{log}"
            );
        }
        log
    }

    /// The front page as the browser sees it.
    async fn front_page(&self, browser: &Browser) -> String {
        let response = browser.get(&self.url("/")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }
}

/// What the portal's callback answered.
struct Callback {
    authorize: Url,
    callback_url: Url,
    status: StatusCode,
    location: String,
    session_cookie: Option<String>,
}

impl Callback {
    fn assert_logged_in(&self) -> String {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.location);
        assert_eq!(self.location, "/", "back to where the login started");
        self.session_cookie
            .clone()
            .expect("the callback sets a session cookie")
    }

    fn assert_refused(&self, reason: &str) {
        assert!(
            is_failure_page(&self.location, reason),
            "{} after callback {}",
            self.location,
            self.callback_url
        );
        assert_eq!(self.status, StatusCode::SEE_OTHER);
        assert_eq!(
            self.session_cookie, None,
            "a refused login creates no session"
        );
    }
}

fn location(response: &Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no Location in the {} answer", response.status()))
        .to_str()
        .unwrap()
}

/// The session cookie a response sets, if any (a cleared cookie is not one).
fn new_session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------------------------
// A browser: cookies and redirects

struct StoredCookie {
    name: String,
    value: String,
    path: String,
}

/// Plays the person's browser. Every server here is on 127.0.0.1, and cookies do not keep
/// ports apart, so one jar serves all (by name and path), as in a real browser.
struct Browser {
    client: Client,
    jar: Mutex<Vec<StoredCookie>>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            client: Client::builder()
                .redirect(Policy::none())
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            jar: Mutex::new(Vec::new()),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.clone())
    }

    async fn send(&self, url: &str, request: RequestBuilder) -> Response {
        let parsed = Url::parse(url).unwrap();
        let path = parsed.path();
        let cookies: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .filter(|c| {
                path == c.path
                    || path.starts_with(&format!("{}/", c.path.trim_end_matches('/')))
                    || c.path == "/"
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        let request = if cookies.is_empty() {
            request
        } else {
            request.header(header::COOKIE, cookies.join("; "))
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        self.store(&response);
        response
    }

    fn store(&self, response: &Response) {
        let mut jar = self.jar.lock().unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let mut parts = value.split(';').map(str::trim);
            let Some((name, cookie_value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let mut path = "/".to_owned();
            let mut removed = cookie_value.is_empty();
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                match key.to_ascii_lowercase().as_str() {
                    "path" => path = val.to_owned(),
                    "max-age" if val.trim() == "0" || val.starts_with('-') => removed = true,
                    "expires" if val.contains("1970") => removed = true,
                    _ => {}
                }
            }
            jar.retain(|c| !(c.name == name && c.path == path));
            if !removed {
                jar.push(StoredCookie {
                    name: name.to_owned(),
                    value: cookie_value.to_owned(),
                    path,
                });
            }
        }
    }

    async fn get(&self, url: &str) -> Response {
        self.send(url, self.client.get(url)).await
    }

    async fn post_form(&self, url: &str, form: &[(&str, &str)], origin: Option<&str>) -> Response {
        let mut request = self.client.post(url).form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        self.send(url, request).await
    }

    /// Follow GET redirects from `url` until `stop` says to (that URL is returned, not
    /// requested). A page that is not a redirect before then is a failure.
    async fn follow(&self, url: &str, stop: impl Fn(&Url) -> bool) -> Url {
        let mut current = Url::parse(url).unwrap();
        for _ in 0..10 {
            if stop(&current) {
                return current;
            }
            let response = self.get(current.as_str()).await;
            if !response.status().is_redirection() {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                panic!("stopped at {current} with {status}: {body:.600}");
            }
            current = current.join(location(&response)).unwrap();
        }
        panic!("too many redirects, last {current}");
    }
}

/// The logout confirmation form oidc-provider shows: its action and xsrf value.
fn logout_form(html: &str) -> (String, String) {
    let form_start = html
        .find("id=\"op.logoutForm\"")
        .unwrap_or_else(|| panic!("no logout form in {html:.800}"));
    let form = &html[form_start..];
    let attribute = |text: &str, name: &str| -> String {
        let start = text.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        text[start..].split('"').next().unwrap().to_owned()
    };
    let action = attribute(form, "action");
    let xsrf_at = form.find("name=\"xsrf\"").unwrap();
    let xsrf = attribute(&form[xsrf_at..], "value");
    (action, xsrf)
}

fn jwt_claims(token: &str) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------------------------------------
// A. oidc-provider as ID-porten

#[tokio::test]
async fn provider_login_at_substantial_works_end_to_end() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let callback = portal
        .login(&browser, None, Some("person:substantial"))
        .await;

    // What the portal asked for: code flow, PKCE S256, state, nonce, substantial.
    let asked = &callback.authorize;
    assert_eq!(query_value(asked, "response_type").unwrap(), "code");
    assert_eq!(query_value(asked, "code_challenge_method").unwrap(), "S256");
    assert!(query_value(asked, "code_challenge").is_some());
    assert!(query_value(asked, "state").is_some() && query_value(asked, "nonce").is_some());
    assert_eq!(
        query_value(asked, "acr_values").unwrap(),
        "idporten-loa-substantial"
    );
    assert_eq!(query_value(asked, "prompt"), None, "no forced login");
    // The provider answered with RFC 9207's iss.
    assert_eq!(
        query_value(&callback.callback_url, "iss").unwrap(),
        portal.idp.issuer
    );

    let cookie = callback.assert_logged_in();
    let session = portal.session(&cookie).await.expect("a stored session");
    assert_eq!(session.loa, Loa::Substantial);
    assert_eq!(session.provider, PROVIDER_ID);
    assert!(
        session.sid.is_some(),
        "the provider's sid is kept for logout"
    );
    let id_token = jwt_claims(&portal.id_token_of(&session));
    assert_eq!(
        id_token["pid"],
        Profile::Idporten.person().national_id.expose()
    );
    assert_eq!(id_token["acr"], "idporten-loa-substantial");

    let page = portal.front_page(&browser).await;
    let name = Profile::Idporten.person().full_name();
    assert!(page.contains(&name), "the front page names {name}");

    // The same callback again (a replayed authorization response) is refused.
    let replay = browser.get(callback.callback_url.as_str()).await;
    assert_eq!(location(&replay), "/login/failed?reason=expired");
    assert_eq!(new_session_cookie(&replay), None);
    assert!(portal.log_text().contains("logged in"));
}

/// `private_key_jwt` (what ID-porten recommends): the portal signs a client assertion with its
/// own key, and the provider accepts it only against the public key registered for the client.
#[tokio::test]
async fn provider_login_with_private_key_jwt_client_authentication() {
    let portal = Portal::start(Idp::ProviderPrivateKeyJwt, Profile::Idporten).await;
    let browser = Browser::new();
    let callback = portal
        .login(&browser, None, Some("person:substantial"))
        .await;
    let cookie = callback.assert_logged_in();
    let session = portal.session(&cookie).await.expect("a stored session");
    assert_eq!(session.loa, Loa::Substantial);
    let page = portal.front_page(&browser).await;
    assert!(page.contains(&Profile::Idporten.person().full_name()));
}

#[tokio::test]
async fn provider_step_up_to_high_forces_a_new_login_and_a_new_session() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, None, Some("person:substantial"))
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&first).await.unwrap().loa, Loa::Substantial);

    // The login hint names the person only: the provider logs in at the level asked for.
    let step_up = portal.login(&browser, Some("high"), Some("person")).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    assert_eq!(
        query_value(&step_up.authorize, "acr_values").unwrap(),
        "idporten-loa-high"
    );
    let seen = portal.idp.test_data("interactions").await;
    let last = seen.last().expect("the provider saw the step-up");
    assert_eq!(last["prompt"], "login");
    assert_eq!(last["params"]["prompt"], "login");
    assert_eq!(last["params"]["acr_values"], "idporten-loa-high");
    assert_eq!(last["had_session"], true, "the provider had a session");
    assert!(
        last["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "login_prompt"),
        "re-authentication because of prompt=login: {last}"
    );

    let second = step_up.assert_logged_in();
    assert_ne!(second, first, "a new session id at the step-up");
    assert!(
        portal.session(&first).await.is_none(),
        "the old session is gone"
    );
    let session = portal.session(&second).await.unwrap();
    assert_eq!(session.loa, Loa::High);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&Profile::Idporten.person().full_name()));
    assert!(portal.log_text().contains("stepped_up=true"));
}

#[tokio::test]
async fn provider_rp_initiated_logout_ends_at_the_portal() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let cookie = portal
        .login(&browser, None, Some("person:substantial"))
        .await
        .assert_logged_in();
    let id_token = portal.id_token_of(&portal.session(&cookie).await.unwrap());

    let logout = browser
        .post_form(&portal.url("/auth/logout"), &[], Some(&portal.base))
        .await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser.cookie(SESSION_COOKIE),
        None,
        "the cookie is cleared"
    );
    assert!(
        portal.session(&cookie).await.is_none(),
        "ended here at once"
    );
    let end_session = Url::parse(location(&logout)).unwrap();
    assert!(
        end_session
            .as_str()
            .starts_with(&format!("{}/session/end?", portal.idp.issuer)),
        "{end_session}"
    );
    // The hint is the provider's own token, opened again from its sealed copy.
    assert_eq!(
        query_value(&end_session, "id_token_hint").unwrap(),
        id_token
    );
    assert_eq!(
        query_value(&end_session, "post_logout_redirect_uri").unwrap(),
        portal.url("/logged-out")
    );
    let state = query_value(&end_session, "state").expect("a state");

    // oidc-provider asks the person to confirm; say yes.
    let confirm_page = browser.get(end_session.as_str()).await;
    assert_eq!(confirm_page.status(), StatusCode::OK);
    let (action, xsrf) = logout_form(&confirm_page.text().await.unwrap());
    let confirmed = browser
        .post_form(&action, &[("xsrf", &xsrf), ("logout", "yes")], None)
        .await;
    assert!(
        confirmed.status().is_redirection(),
        "{}",
        confirmed.status()
    );
    let back = Url::parse(location(&confirmed)).unwrap();
    assert_eq!(back.path(), "/logged-out");
    assert!(back.as_str().starts_with(&portal.base));
    assert_eq!(query_value(&back, "state").unwrap(), state);
    let logged_out = browser.get(back.as_str()).await;
    assert_eq!(logged_out.status(), StatusCode::OK);

    // The provider also told the portal over the back channel, and the portal accepted it.
    let sent = portal.idp.test_data("backchannel").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["status"], 200, "{sent:?}");
}

#[tokio::test]
async fn provider_back_channel_logout_ends_the_session_once() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let cookie = portal
        .login(&browser, None, Some("person:substantial"))
        .await
        .assert_logged_in();
    let sid = portal.session(&cookie).await.unwrap().sid.unwrap();

    // The person logs out at the provider (another tab, another service): the provider's own
    // end-session page, confirmed. It then POSTs a logout token to the portal.
    let end_session = format!("{}/session/end?client_id={CLIENT_ID}", portal.idp.issuer);
    let page = browser.get(&end_session).await;
    assert_eq!(page.status(), StatusCode::OK);
    let (action, xsrf) = logout_form(&page.text().await.unwrap());
    let confirmed = browser
        .post_form(&action, &[("xsrf", &xsrf), ("logout", "yes")], None)
        .await;
    assert!(
        confirmed.status().is_redirection(),
        "{}",
        confirmed.status()
    );

    let sent = portal.idp.test_data("backchannel").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["url"], portal.url("/auth/backchannel-logout"));
    assert_eq!(sent[0]["status"], 200, "the portal accepted it: {sent:?}");
    let token = sent[0]["logout_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&token)["sid"], sid);

    assert!(
        portal.session(&cookie).await.is_none(),
        "the session is gone"
    );
    assert!(
        !portal
            .front_page(&browser)
            .await
            .contains(&Profile::Idporten.person().full_name()),
        "no longer logged in"
    );

    let post_token = |token: String| {
        let client = Client::new();
        let url = portal.url("/auth/backchannel-logout");
        async move {
            client
                .post(url)
                .form(&[("logout_token", token)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // A tampered token (a changed signature) is refused, and does not use up the jti.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(post_token(tampered).await, StatusCode::BAD_REQUEST);
    // The same token again: a replay.
    assert_eq!(post_token(token).await, StatusCode::BAD_REQUEST);
    let log = portal.log_text();
    assert!(log.contains("logout token refused"), "{log}");
    assert!(log.contains("logout token replayed"), "{log}");
}

#[tokio::test]
async fn provider_answering_a_lower_level_than_asked_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    // High asked, substantial answered.
    let browser = Browser::new();
    let callback = portal
        .login(&browser, Some("high"), Some("person:substantial"))
        .await;
    assert_eq!(
        query_value(&callback.authorize, "acr_values").unwrap(),
        "idporten-loa-high"
    );
    callback.assert_refused("level");
    assert!(!portal
        .front_page(&browser)
        .await
        .contains(&Profile::Idporten.person().full_name()));
    // Substantial asked, low answered.
    let browser = Browser::new();
    portal
        .login(&browser, None, Some("person:low"))
        .await
        .assert_refused("level");
}

#[tokio::test]
async fn provider_callback_without_its_iss_is_refused() {
    // oidc-provider announces RFC 9207, so an authorization response without `iss` (a mix-up
    // attempt that strips it) must be refused; the code is then never exchanged.
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let start = browser
        .get(&portal.url(&format!("/auth/login/{PROVIDER_ID}")))
        .await;
    let mut authorize = Url::parse(location(&start)).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("login_hint", "person:substantial");
    let callback_prefix = portal.url("/auth/callback?");
    let mut callback_url = browser
        .follow(authorize.as_str(), |url| {
            url.as_str().starts_with(&callback_prefix)
        })
        .await;
    let kept: Vec<(String, String)> = callback_url
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(
        kept.len() < callback_url.query_pairs().count(),
        "iss was sent"
    );
    callback_url.query_pairs_mut().clear().extend_pairs(kept);
    let response = browser.get(callback_url.as_str()).await;
    assert!(is_failure_page(location(&response), "failed"));
    assert_eq!(new_session_cookie(&response), None);
    assert!(portal.log_text().contains("iss parameter"));
}

/// Login CSRF: an attacker starts a login, authenticates as themself and hands the callback URL
/// (their own code and state) to the victim's browser. The pending login is bound to the browser
/// that started it (a cookie scoped to the callback), so the victim's browser is refused.
#[tokio::test]
async fn provider_callback_in_another_browser_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let attacker = Browser::new();
    let start = attacker
        .get(&portal.url(&format!("/auth/login/{PROVIDER_ID}")))
        .await;
    let mut authorize = Url::parse(location(&start)).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("login_hint", "person:substantial");
    let callback_prefix = portal.url("/auth/callback?");
    let callback_url = attacker
        .follow(authorize.as_str(), |url| {
            url.as_str().starts_with(&callback_prefix)
        })
        .await;
    let victim = Browser::new();
    let response = victim.get(callback_url.as_str()).await;
    assert_eq!(
        new_session_cookie(&response),
        None,
        "the victim's browser must not be logged in as the attacker"
    );
    assert!(location(&response).starts_with("/login/failed?reason="));
}

#[tokio::test]
async fn provider_cancelled_login_is_refused_calmly() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    portal
        .login(&browser, None, Some("cancel"))
        .await
        .assert_refused("cancelled");
}

// ---------------------------------------------------------------------------------------------
// B. oauth2-mock-server: validly signed but wrong, and hand-made bad tokens

/// A login through mock.mjs with `scenario`, the portal asking for `loa`.
async fn mock_login(scenario: &str, loa: Option<&str>) -> (Portal, Browser, Callback) {
    let portal = Portal::start(Idp::Mock(scenario), Profile::Idporten).await;
    let browser = Browser::new();
    let callback = portal.login(&browser, loa, None).await;
    (portal, browser, callback)
}

/// `scenario` is refused with `reason`, and the portal's log says why (`because`).
async fn mock_refuses(scenario: &str, loa: Option<&str>, reason: &str, because: &str) {
    let (portal, browser, callback) = mock_login(scenario, loa).await;
    callback.assert_refused(reason);
    assert!(
        !portal
            .front_page(&browser)
            .await
            .contains(&Profile::Idporten.person().full_name()),
        "{scenario}: not logged in"
    );
    let log = portal.log_text();
    assert!(
        log.to_lowercase().contains(&because.to_lowercase()),
        "{scenario}: the refusal should mention {because:?}:\n{log}"
    );
}

#[tokio::test]
async fn mock_valid_token_is_accepted() {
    // The control: the mock's unchanged tokens log in, so every refusal below is the change's.
    let (portal, browser, callback) = mock_login("valid", Some("high")).await;
    let cookie = callback.assert_logged_in();
    assert_eq!(portal.session(&cookie).await.unwrap().loa, Loa::High);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&Profile::Idporten.person().full_name()));
}

/// A provider that answers a step-up (`prompt=login`) with the old authentication: its
/// `auth_time` is from before the login started. The first login did not ask for a new
/// authentication, so the same old `auth_time` is taken there.
#[tokio::test]
async fn mock_step_up_without_a_new_authentication_is_refused() {
    let portal = Portal::start(Idp::Mock("auth-time-old"), Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, Some("substantial"), None)
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&first).await.unwrap().loa, Loa::Substantial);

    let step_up = portal.login(&browser, Some("high"), None).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    step_up.assert_refused("failed");
    let session = portal.session(&first).await.expect("still logged in");
    assert_eq!(session.loa, Loa::Substantial, "not stepped up");
    let log = portal.log_text();
    assert!(
        log.contains("asked to authenticate again and did not"),
        "the refusal should say why:\n{log}"
    );
}

/// A provider that answers a step-up (`prompt=login`) with an id_token without `auth_time`:
/// nothing shows it authenticated the person again, so the session is not raised to `high`.
/// The first login asked for no new authentication, and the same token is taken there.
#[tokio::test]
async fn mock_step_up_without_auth_time_is_refused() {
    let portal = Portal::start(Idp::Mock("auth-time-missing"), Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, Some("substantial"), None)
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&first).await.unwrap().loa, Loa::Substantial);

    let step_up = portal.login(&browser, Some("high"), None).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    step_up.assert_refused("failed");
    let session = portal.session(&first).await.expect("still logged in");
    assert_eq!(session.loa, Loa::Substantial, "not stepped up");
    let log = portal.log_text();
    assert!(
        log.contains("asked to authenticate again and did not say when"),
        "the refusal should say why:\n{log}"
    );
}

/// The control for the two refusals above: a step-up answered with a fresh `auth_time` is
/// taken.
#[tokio::test]
async fn mock_step_up_with_a_new_authentication_is_accepted() {
    let portal = Portal::start(Idp::Mock("valid"), Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, Some("substantial"), None)
        .await
        .assert_logged_in();
    let step_up = portal.login(&browser, Some("high"), None).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    let second = step_up.assert_logged_in();
    assert_ne!(second, first, "a new session id at the step-up");
    assert_eq!(portal.session(&second).await.unwrap().loa, Loa::High);
}

#[tokio::test]
async fn mock_wrong_audience_is_refused() {
    mock_refuses("wrong-aud", None, "failed", "invalid audiences").await;
}

#[tokio::test]
async fn mock_extra_untrusted_audience_is_refused() {
    mock_refuses("extra-aud", None, "failed", "not a trusted audience").await;
}

#[tokio::test]
async fn mock_wrong_issuer_in_the_id_token_is_refused() {
    mock_refuses("wrong-iss", None, "failed", "invalid issuer").await;
}

#[tokio::test]
async fn mock_expired_id_token_is_refused() {
    mock_refuses("expired", None, "failed", "expired").await;
}

#[tokio::test]
async fn mock_id_token_issued_in_the_future_is_refused() {
    mock_refuses("iat-future", None, "failed", "issued in the future").await;
}

#[tokio::test]
async fn mock_unsigned_alg_none_token_is_refused() {
    mock_refuses("alg-none", None, "failed", "id_token was refused").await;
}

#[tokio::test]
async fn mock_token_signed_by_a_key_not_in_the_jwks_is_refused() {
    mock_refuses(
        "foreign-key",
        None,
        "failed",
        "signature verification failed",
    )
    .await;
}

#[tokio::test]
async fn mock_hmac_token_keyed_with_the_client_secret_is_refused() {
    mock_refuses("alg-hs256", None, "failed", "id_token was refused").await;
}

#[tokio::test]
async fn mock_wrong_nonce_is_refused() {
    mock_refuses("nonce-wrong", None, "failed", "nonce mismatch").await;
}

#[tokio::test]
async fn mock_missing_nonce_is_refused() {
    mock_refuses("nonce-missing", None, "failed", "missing nonce").await;
}

#[tokio::test]
async fn mock_lower_acr_than_asked_is_refused() {
    mock_refuses(
        "acr-substantial",
        Some("high"),
        "level",
        "level of assurance",
    )
    .await;
}

#[tokio::test]
async fn mock_low_or_missing_acr_is_refused() {
    mock_refuses("acr-low", None, "level", "level of assurance").await;
    mock_refuses("acr-missing", None, "level", "level of assurance").await;
}

#[tokio::test]
async fn mock_missing_national_id_is_refused() {
    mock_refuses(
        "no-national-id",
        None,
        "no_national_id",
        "no usable national identity number",
    )
    .await;
}

#[tokio::test]
async fn mock_wrong_iss_in_the_authorization_response_is_refused() {
    mock_refuses("callback-iss-wrong", None, "failed", "iss parameter").await;
}

// ---------------------------------------------------------------------------------------------
// C. A MitID broker

#[tokio::test]
async fn provider_as_mitid_broker_logs_in_with_cpr_and_nsis_level() {
    let portal = Portal::start(Idp::Provider, Profile::MitidBroker).await;
    let browser = Browser::new();
    let callback = portal.login(&browser, None, Some("person")).await;
    assert_eq!(
        query_value(&callback.authorize, "acr_values").unwrap(),
        NSIS_SUBSTANTIAL
    );
    assert!(query_value(&callback.authorize, "scope")
        .unwrap()
        .split(' ')
        .any(|s| s == "ssn"));
    let cookie = callback.assert_logged_in();
    let session = portal.session(&cookie).await.unwrap();
    assert_eq!(session.loa, Loa::Substantial);
    let claims = jwt_claims(&portal.id_token_of(&session));
    let person = Profile::MitidBroker.person();
    assert_eq!(claims["dk.cpr"], person.national_id.expose());
    assert_eq!(claims["loa"], NSIS_SUBSTANTIAL);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&person.full_name()));
    portal.log_text();
}

#[tokio::test]
async fn mock_as_mitid_broker_logs_in() {
    let portal = Portal::start(Idp::Mock("valid"), Profile::MitidBroker).await;
    let browser = Browser::new();
    let cookie = portal
        .login(&browser, Some("high"), None)
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&cookie).await.unwrap().loa, Loa::High);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&Profile::MitidBroker.person().full_name()));
}
