//! The interoperability harness the eID login and the staff login share: the npm OpenID
//! Connect servers (`end2end/oidc/provider.mjs`, `mock.mjs`) run as node processes, a portal
//! in-process configured for one of them (a citizen eID or a municipality's staff provider,
//! by [`Profile`]), a browser that keeps cookies and follows redirects one by one, and the
//! assertions on what a callback answered. `interop.rs` and `staff_interop.rs` use it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::common::{is_failure_page, serve};

mod browser;
pub use browser::*;

use borgerportal::{
    demo::demo_persons,
    identity::Country,
    person::NewPerson,
    session::{Session, SessionToken},
    storage::Database,
};
use reqwest::{header, Client, Response, StatusCode};
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

pub const PROVIDER_ID: &str = "interop";
pub const CLIENT_ID: &str = "portal";
pub const CLIENT_SECRET: &str = "interop-secret-0123456789abcdef";
/// The portal's session cookie over plain http.
pub const SESSION_COOKIE: &str = "borgerportal_session";
pub const NSIS_SUBSTANTIAL: &str = "https://data.gov.dk/concept/core/nsis/Substantial";

// ---------------------------------------------------------------------------------------------
// The node processes

pub fn end2end_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end")
}

/// `provider.mjs` or `mock.mjs`, killed when dropped. Its stderr goes to a log file that is
/// printed when the test fails.
pub struct NodeServer {
    pub child: Child,
    pub issuer: String,
    pub log: PathBuf,
}

impl NodeServer {
    pub async fn start(script: &str, args: Vec<String>, log_dir: &Path) -> NodeServer {
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

    pub async fn wait_for_discovery(&self) {
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
    pub async fn test_data(&self, what: &str) -> Vec<Value> {
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

/// The staff login's cookie over plain http (`__Host-borgerportal_staff` over https).
pub const STAFF_COOKIE: &str = "borgerportal_staff";
/// The demo member of staff the staff profiles log in.
pub const STAFF_NAME: &str = "Mette Sagsbehandler";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Idporten,
    MitidBroker,
    /// A municipality's staff provider shaped like OS2faktor (`loa` "3" with a second factor,
    /// roles in `roles`), configured as `[[staff.municipality]]`; the account is a caseworker.
    Os2faktor,
    /// The same provider with an account that holds no borgerservice role.
    Os2faktorWithoutRole,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Idporten => "idporten",
            Profile::MitidBroker => "mitid-broker",
            Profile::Os2faktor | Profile::Os2faktorWithoutRole => "os2faktor",
        }
    }

    /// A staff login (`/staff/…`), not a citizen's (`/auth/…`).
    pub fn is_staff(self) -> bool {
        matches!(self, Profile::Os2faktor | Profile::Os2faktorWithoutRole)
    }

    /// A synthetic demo person of the profile's country.
    pub fn person(self) -> NewPerson {
        let country = match self {
            Profile::Idporten => Country::Norway,
            Profile::MitidBroker => Country::Denmark,
            Profile::Os2faktor | Profile::Os2faktorWithoutRole => {
                panic!("a staff profile logs in no citizen")
            }
        };
        demo_persons()
            .into_iter()
            .find(|p| p.national_id.country() == country)
            .unwrap()
    }

    /// The name the portal shows once the account is logged in.
    pub fn display_name(self) -> String {
        if self.is_staff() {
            STAFF_NAME.to_owned()
        } else {
            self.person().full_name()
        }
    }

    /// The account's claims as the profile's provider sends them.
    pub fn claims(self) -> Value {
        match self {
            Profile::Os2faktor => {
                return json!({ "name": STAFF_NAME, "roles": ["borgerservice", "intranet"] })
            }
            Profile::Os2faktorWithoutRole => {
                return json!({ "name": STAFF_NAME, "roles": ["intranet"] })
            }
            _ => {}
        }
        let person = self.person();
        let id_claim = match self {
            Profile::Idporten => "pid",
            _ => "dk.cpr",
        };
        json!({
            id_claim: person.national_id.expose(),
            "given_name": person.given_name,
            "family_name": person.family_name,
        })
    }

    pub fn scopes(self) -> &'static str {
        match self {
            Profile::MitidBroker => r#"["openid", "profile", "ssn"]"#,
            _ => r#"["openid", "profile"]"#,
        }
    }

    /// Where the portal's login starts, and where the provider sends the browser back.
    pub fn login_path(self) -> String {
        if self.is_staff() {
            format!("/staff/login/{PROVIDER_ID}")
        } else {
            format!("/auth/login/{PROVIDER_ID}")
        }
    }

    pub fn callback_path(self) -> &'static str {
        if self.is_staff() {
            "/staff/callback"
        } else {
            "/auth/callback"
        }
    }

    /// The portal's configuration of the provider at `issuer`.
    fn configuration(self, issuer: &str, client_auth: &str) -> String {
        if self.is_staff() {
            format!(
                r#"
                [[staff.municipality]]
                id = "{PROVIDER_ID}"
                name = "Interop kommune"
                issuer = "{issuer}"
                client_id = "{CLIENT_ID}"
                client_auth = {client_auth}
                level_claim = "loa"
                level_values = ["3"]
                role_claim = "roles"
                caseworker_values = ["borgerservice"]
                supervisor_values = ["borgerservice-leder"]
                "#
            )
        } else {
            format!(
                r#"
                [[oidc.providers]]
                id = "{PROVIDER_ID}"
                name = "Interop eID"
                issuer = "{issuer}"
                client_id = "{CLIENT_ID}"
                client_auth = {client_auth}
                scopes = {scopes}
                profile = "{profile}"
                "#,
                scopes = self.scopes(),
                profile = self.name(),
            )
        }
    }
}

/// Which npm server plays the provider.
pub enum Idp<'a> {
    /// `oidc-provider` with one account, `person`.
    Provider,
    /// The same, with the portal authenticating by `private_key_jwt` (an ES256 key the test
    /// makes; the provider gets its public half as the client's JWKS).
    ProviderPrivateKeyJwt,
    /// `oauth2-mock-server` with a scenario from mock.mjs.
    Mock(&'a str),
}

pub struct Portal {
    pub profile: Profile,
    pub base: String,
    pub db: Database,
    pub idp: NodeServer,
    pub log: LogCapture,
    pub _log_guard: tracing::subscriber::DefaultGuard,
    pub _dir: tempfile::TempDir,
}

/// The portal's log lines of one test. `#[tokio::test]` runs the portal's tasks on the test's
/// own thread, so a thread-local subscriber sees exactly this test's portal.
#[derive(Clone, Default)]
pub struct LogCapture(pub std::sync::Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
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
pub fn client_key_pair(pem_path: &Path) -> serde_json::Value {
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
pub fn fake_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(root.join("hash.txt"), "js: aaaa\nwasm: bbbb\ncss: cccc\n").unwrap();
    std::fs::write(pkg.join("borgerportal.cccc.css"), "body{}").unwrap();
}

impl Portal {
    /// Bind the portal's listener (so its redirect URI is known), start the provider for it,
    /// then configure and serve the portal.
    pub async fn start(idp: Idp<'_>, profile: Profile) -> Portal {
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
                    format!("{base}{}", profile.callback_path()),
                    "--client-id".into(),
                    CLIENT_ID.into(),
                    "--profile".into(),
                    profile.name().into(),
                    "--account".into(),
                    format!("person={claims}"),
                ];
                if profile.is_staff() {
                    args.extend(["--post-logout-redirect".into(), format!("{base}/staff")]);
                }
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
            {provider}
            "#,
            provider = profile.configuration(
                &node.issuer,
                &if client_key.is_some() {
                    format!(
                        "{{ method = \"private_key_jwt\", key_file = '{}', key_id = \"portal-key-1\" }}",
                        dir.path().join("client-key.pem").display()
                    )
                } else {
                    format!("{{ method = \"client_secret\", secret = \"{CLIENT_SECRET}\" }}")
                }
            ),
            data = dir.path().display(),
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
            profile,
            base,
            db,
            idp: node,
            log,
            _log_guard: log_guard,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Start a login at the portal, go through the provider (appending `login_hint` to the
    /// authorization request, as the person's choice) and stop at the portal's callback, which
    /// is then requested. `loa` is the portal's `?loa=`.
    pub async fn login(
        &self,
        browser: &Browser,
        loa: Option<&str>,
        hint: Option<&str>,
    ) -> Callback {
        let query = loa.map(|l| format!("?loa={l}")).unwrap_or_default();
        let start = browser
            .get(&self.url(&format!("{}{query}", self.profile.login_path())))
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
        let callback_prefix = self.url(&format!("{}?", self.profile.callback_path()));
        let callback_url = browser
            .follow(authorize.as_str(), |url| {
                url.as_str().starts_with(&callback_prefix)
            })
            .await;
        let response = browser.get(callback_url.as_str()).await;
        Callback {
            staff: self.profile.is_staff(),
            authorize,
            callback_url,
            status: response.status(),
            location: response
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            session_cookie: if self.profile.is_staff() {
                new_cookie(&response, STAFF_COOKIE)
            } else {
                new_session_cookie(&response)
            },
        }
    }

    /// The stored session for a cookie value.
    /// The id_token `session` keeps, opened with the portal's key (it is stored sealed).
    pub fn id_token_of(&self, session: &Session) -> String {
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

    pub async fn session(&self, cookie: &str) -> Option<Session> {
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
    pub fn log_text(&self) -> String {
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
    pub async fn front_page(&self, browser: &Browser) -> String {
        let home = if self.profile.is_staff() {
            "/staff"
        } else {
            "/"
        };
        let response = browser.get(&self.url(home)).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }
}

/// What the portal's callback answered.
pub struct Callback {
    /// A staff login's callback (`/staff?failed=`, the staff cookie).
    pub staff: bool,
    pub authorize: Url,
    pub callback_url: Url,
    pub status: StatusCode,
    pub location: String,
    pub session_cookie: Option<String>,
}

impl Callback {
    pub fn assert_logged_in(&self) -> String {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.location);
        let home = if self.staff { "/staff" } else { "/" };
        assert_eq!(self.location, home, "back to where the login started");
        self.session_cookie
            .clone()
            .expect("the callback sets a session cookie")
    }

    pub fn assert_refused(&self, reason: &str) {
        if self.staff {
            let failed = format!("/staff?failed={reason}");
            assert_eq!(self.location, failed, "callback {}", self.callback_url);
        } else {
            assert!(
                is_failure_page(&self.location, reason),
                "{} after callback {}",
                self.location,
                self.callback_url
            );
        }
        assert_eq!(self.status, StatusCode::SEE_OTHER);
        assert_eq!(
            self.session_cookie, None,
            "a refused login creates no session"
        );
    }
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no Location in the {} answer", response.status()))
        .to_str()
        .unwrap()
}

/// The citizen's session cookie a response sets, if any (a cleared cookie is not one).
pub fn new_session_cookie(response: &Response) -> Option<String> {
    new_cookie(response, SESSION_COOKIE)
}

/// The cookie `name` a response sets, if any (a cleared cookie is not one).
pub fn new_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|v| !v.is_empty())
}

/// The logout confirmation form oidc-provider shows: its action and xsrf value.
pub fn logout_form(html: &str) -> (String, String) {
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

pub fn jwt_claims(token: &str) -> Value {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------------------------------------
// oauth2-mock-server: validly signed but wrong, and hand-made bad tokens

/// A login as `profile` through mock.mjs with `scenario`, the portal asking for `loa`.
pub async fn mock_login_as(
    profile: Profile,
    scenario: &str,
    loa: Option<&str>,
) -> (Portal, Browser, Callback) {
    let portal = Portal::start(Idp::Mock(scenario), profile).await;
    let browser = Browser::new();
    let callback = portal.login(&browser, loa, None).await;
    (portal, browser, callback)
}

/// `scenario` is refused for `profile` with `reason`, no one is logged in, and the portal's
/// log says why (`because`).
pub async fn mock_refuses_as(
    profile: Profile,
    scenario: &str,
    loa: Option<&str>,
    reason: &str,
    because: &str,
) {
    let (portal, browser, callback) = mock_login_as(profile, scenario, loa).await;
    callback.assert_refused(reason);
    assert!(
        !portal
            .front_page(&browser)
            .await
            .contains(&profile.display_name()),
        "{scenario}: not logged in"
    );
    let log = portal.log_text();
    assert!(
        log.to_lowercase().contains(&because.to_lowercase()),
        "{scenario}: the refusal should mention {because:?}:\n{log}"
    );
}

/// The attack cases every login (a citizen's and staff's) must refuse, as mock.mjs scenarios:
/// (scenario, the reason the portal gives, what its log says). One `#[tokio::test]` each, for
/// `$profile`: `attack_cases!(Profile::Os2faktor);`.
#[macro_export]
macro_rules! attack_cases {
    ($profile:expr) => {
        $crate::attack_cases!(@each $profile;
            mock_wrong_audience_is_refused: "wrong-aud", "failed", "invalid audiences";
            mock_extra_untrusted_audience_is_refused: "extra-aud", "failed", "not a trusted audience";
            mock_wrong_issuer_in_the_id_token_is_refused: "wrong-iss", "failed", "invalid issuer";
            mock_expired_id_token_is_refused: "expired", "failed", "expired";
            mock_id_token_issued_in_the_future_is_refused: "iat-future", "failed", "issued in the future";
            mock_unsigned_alg_none_token_is_refused: "alg-none", "failed", "id_token was refused";
            mock_token_signed_by_a_key_not_in_the_jwks_is_refused: "foreign-key", "failed", "signature verification failed";
            mock_hmac_token_keyed_with_the_client_secret_is_refused: "alg-hs256", "failed", "id_token was refused";
            mock_wrong_nonce_is_refused: "nonce-wrong", "failed", "nonce mismatch";
            mock_missing_nonce_is_refused: "nonce-missing", "failed", "missing nonce";
            mock_wrong_iss_in_the_authorization_response_is_refused: "callback-iss-wrong", "failed", "iss parameter";
        );
    };
    (@each $profile:expr; $($name:ident: $scenario:literal, $reason:literal, $because:literal;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::oidc_harness::mock_refuses_as($profile, $scenario, None, $reason, $because)
                    .await;
            }
        )*
    };
}
