//! What the server's integration tests share: a real server on a loopback port with the
//! built-in test eID, and a client that plays a browser (cookies by path, no automatic
//! redirects). Each test file takes what it needs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod agency;

use borgerportal::{
    access::{Actor, Loa, Policy, ReadOwnActivity},
    audit::{AuditEvent, AuditKind},
    demo::demo_persons,
    person::Person,
    session::{Session, SessionToken},
    storage::Database,
};
use reqwest::{
    header, header::HeaderMap, redirect::Policy as RedirectPolicy, Client, RequestBuilder,
    StatusCode,
};
use server::{config::Config, routes, with_http_stack, AppState, Site};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Mutex,
};
use time::{Duration, OffsetDateTime};

/// The session cookie's name over plain http (`__Host-` needs https).
pub const SESSION_COOKIE: &str = "borgerportal_session";
/// The cookie that binds a pending login to the browser that started it.
pub const LOGIN_COOKIE: &str = "borgerportal_login";
/// The ID-porten flavour of the test eID, as configured by `TestEid::providers`.
pub const PROVIDER: &str = "testid-no";
/// Demo person Ingrid Solberg (Norwegian, synthetic), alias `ingrid` at the test eID.
pub const INGRID: &str = "ingrid";
pub const INGRID_NAME: &str = "Ingrid Solberg";
/// The configured default idle timeout.
pub const IDLE: Duration = Duration::minutes(30);
/// The staff session cookie over plain http (`__Host-borgerportal_staff` over https).
pub const STAFF_COOKIE: &str = "borgerportal_staff";
/// The cookie that binds a pending staff login to its browser.
pub const STAFF_LOGIN_COOKIE: &str = "borgerportal_staff_login";
/// The built-in test staff provider's demo municipalities.
pub const TEST_OSLO: &str = "test-oslo";
pub const TEST_AARHUS: &str = "test-aarhus";
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

// ---------------------------------------------------------------------------------------------
// The server

pub struct TestServer {
    pub base: String,
    pub db: Database,
    pub data_dir: PathBuf,
    /// The SQLite database file (for a test that must put a row in a state no flow makes).
    pub sqlite_path: PathBuf,
    pub _dir: tempfile::TempDir,
}

/// A minimal built site: `hash.txt` and the stylesheet it names.
pub fn fake_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(root.join("hash.txt"), "js: aaaa\nwasm: bbbb\ncss: cccc\n").unwrap();
    std::fs::write(pkg.join("borgerportal.cccc.css"), "body{}").unwrap();
}

/// Serves the whole app (`routes` with the HTTP stack) for `config` on `listener`, in the
/// background. (`routes` generates Leptos' route list once per process; see server/src/lib.rs.)
pub fn serve(listener: tokio::net::TcpListener, config: &Config, site_root: &Path, db: &Database) {
    let state = AppState::new(config, Site::load(site_root).unwrap(), db.clone()).unwrap();
    let app = with_http_stack(routes(&state), state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
}

/// A server whose `public_url` is its real address, with the test eID on. Serving before it
/// returns: the relying party fetches discovery from itself at the first login.
pub async fn start() -> TestServer {
    start_with("").await
}

/// As [`start`], with more configuration (TOML) after the defaults.
pub async fn start_with(extra: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::from_toml(&format!(
        "public_url = \"http://{addr}\"\ndata_dir = \"{}\"\n{extra}\n[test_eid]\nenabled = true\n",
        data_dir.display()
    ))
    .unwrap();
    let db = Database::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    db.migrate().await.unwrap();
    serve(listener, &config, &site_root, &db);
    TestServer {
        base: format!("http://{addr}"),
        db,
        data_dir,
        sqlite_path: dir.path().join("t.db"),
        _dir: dir,
    }
}

impl TestServer {
    /// `path` on this server; absolute URLs are left as they are.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub fn issuer(&self) -> String {
        format!("{}/test-eid/idporten", self.base)
    }

    pub async fn get(&self, browser: &Browser, path: &str) -> Reply {
        browser.get(&self.url(path)).await
    }

    /// A same-origin form post, as the browser sends it.
    pub async fn form(&self, browser: &Browser, path: &str, form: &[(&str, &str)]) -> Reply {
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        browser
            .post(
                &self.url(path),
                &form,
                &[
                    ("origin", self.base.as_str()),
                    ("sec-fetch-site", "same-origin"),
                ],
            )
            .await
    }

    /// A page that must answer 200: its HTML.
    pub async fn page(&self, browser: &Browser, path: &str) -> String {
        let response = self.get(browser, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.body
    }

    /// `GET /auth/login/testid-no?{query}`: the authorization URL at the test eID. Checks the
    /// browser binding cookie that comes with it.
    pub async fn start_login(&self, browser: &Browser, query: &str) -> String {
        let response = self
            .get(browser, &format!("/auth/login/{PROVIDER}?{query}"))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let target = location(&response);
        assert!(
            target.starts_with(&format!("{}/authorize?", self.issuer())),
            "{target}"
        );
        let binding = set_cookie(&response, LOGIN_COOKIE).expect("the login is bound");
        assert_eq!(
            cookie_value(&binding),
            param(&target, "state").unwrap(),
            "bound to this login's state"
        );
        target
    }

    /// Finish at the test eID at once as `hint`: the callback URL it sends the browser to.
    pub async fn authorize_as(&self, browser: &Browser, authorize_url: &str, hint: &str) -> String {
        let response = browser
            .get(&format!("{authorize_url}&login_hint={hint}"))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let callback = location(&response);
        assert!(
            callback.starts_with(&format!("{}/auth/callback?", self.base)),
            "{callback}"
        );
        callback
    }

    /// `GET /staff/login/{municipality}`: the authorization URL at the built-in test staff
    /// provider.
    pub async fn start_staff_login(&self, browser: &Browser, municipality: &str) -> String {
        let response = self
            .get(browser, &format!("/staff/login/{municipality}"))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.body
        );
        let target = location(&response);
        assert!(
            target.starts_with(&format!(
                "{}/test-eid-staff/{municipality}/authorize?",
                self.base
            )),
            "{target}"
        );
        target
    }

    /// A staff login at the test staff provider as the demo `hint` of `municipality`, up to
    /// and including the portal's callback: its answer.
    pub async fn staff_login(&self, browser: &Browser, municipality: &str, hint: &str) -> Reply {
        let authorize = self.start_staff_login(browser, municipality).await;
        let back = browser.get(&format!("{authorize}&login_hint={hint}")).await;
        assert_eq!(back.status(), StatusCode::SEE_OTHER, "{}", back.body);
        let callback = location(&back);
        assert!(
            callback.starts_with(&format!("{}/staff/callback?", self.base)),
            "{callback}"
        );
        browser.get(&callback).await
    }

    /// A whole login as `hint` at `loa` in `browser`: the new session cookie's value.
    pub async fn login(&self, browser: &Browser, hint: &str, loa: &str) -> String {
        let authorize = self
            .start_login(browser, &format!("loa={loa}&return_to=/activity"))
            .await;
        let callback = self.authorize_as(browser, &authorize, hint).await;
        let response = browser.get(&callback).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/activity");
        let value = set_cookie(&response, SESSION_COOKIE)
            .map(|c| cookie_value(&c))
            .expect("a session cookie after login");
        assert_eq!(browser.cookie(SESSION_COOKIE), Some(value.clone()));
        value
    }

    /// Logs `browser` in through the test eID as the person with `national_id` (a synthetic
    /// number, "another test person") at `substantial`.
    pub async fn login_number(&self, browser: &Browser, national_id: &str) {
        let authorize = self.start_login(browser, "loa=substantial").await;
        let response = submit_test_eid_form(
            browser,
            &authorize,
            &[
                ("person", "other"),
                ("other_id", national_id),
                ("level", "substantial"),
                ("action", "login"),
            ],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.body
        );
        let done = browser.get(&location(&response)).await;
        assert!(set_cookie(&done, SESSION_COOKIE).is_some(), "logged in");
    }

    /// The live session behind a cookie value, straight from the database (not touched).
    pub async fn session(&self, value: &str) -> Option<Session> {
        let token = SessionToken::from_cookie_value(value)?;
        self.db
            .find_session(&token, OffsetDateTime::now_utc(), IDLE)
            .await
            .unwrap()
    }

    pub async fn person(&self, alias: &str) -> Option<Person> {
        let demo = demo_persons()
            .into_iter()
            .find(|p| p.given_name.to_lowercase() == alias)
            .unwrap();
        self.db
            .find_person_by_national_id(&demo.national_id)
            .await
            .unwrap()
    }

    /// The person's activity log, newest first.
    pub async fn events(&self, person: &Person) -> Vec<AuditEvent> {
        let actor = Actor::Citizen {
            person: person.id,
            loa: Loa::High,
        };
        let access = Policy::authorize::<ReadOwnActivity>(&actor, person.id).unwrap();
        self.db
            .list_events(&access, None, 100)
            .await
            .unwrap()
            .events
    }

    pub async fn event_kinds(&self, alias: &str) -> Vec<AuditKind> {
        let person = self.person(alias).await.expect("registered");
        self.events(&person).await.iter().map(|e| e.kind).collect()
    }

    /// How many sessions exist. Destructive (the store has no count): deletes them all, so
    /// call it last.
    pub async fn drain_sessions(&self) -> u64 {
        let far = OffsetDateTime::now_utc() + Duration::days(3650);
        self.db.delete_expired_sessions(far, IDLE).await.unwrap()
    }

    /// How many pending logins exist. Destructive like `drain_sessions`.
    pub async fn drain_login_states(&self) -> u64 {
        let far = OffsetDateTime::now_utc() + Duration::days(3650);
        self.db.delete_expired_login_states(far).await.unwrap()
    }

    /// `POST /auth/backchannel-logout` with this token, as the provider's server would.
    pub async fn backchannel(&self, token: &str) -> StatusCode {
        let provider = Browser::new();
        let url = self.url("/auth/backchannel-logout");
        provider
            .send(
                &url,
                provider.client.post(&url).form(&[("logout_token", token)]),
            )
            .await
            .status()
    }
}

// ---------------------------------------------------------------------------------------------
// The browser

pub struct StoredCookie {
    pub name: String,
    pub value: String,
    pub path: String,
}

/// Plays a browser: keeps cookies by name and path (all our URLs share one origin), sends
/// those whose path matches, follows no redirect by itself.
pub struct Browser {
    pub client: Client,
    pub jar: Mutex<Vec<StoredCookie>>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            client: Client::builder()
                .redirect(RedirectPolicy::none())
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .unwrap(),
            jar: Mutex::new(Vec::new()),
        }
    }

    /// A browser holding only this session cookie (an old one, a planted one...).
    pub fn with_session(value: &str) -> Browser {
        let browser = Browser::new();
        browser.set(SESSION_COOKIE, value, "/");
        browser
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.clone())
    }

    /// Put a cookie into the jar by hand (what an attacker can do to their own browser).
    pub fn set(&self, name: &str, value: &str, path: &str) {
        let mut jar = self.jar.lock().unwrap();
        jar.retain(|c| !(c.name == name && c.path == path));
        jar.push(StoredCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            path: path.to_owned(),
        });
    }

    pub async fn send(&self, url: &str, request: RequestBuilder) -> Reply {
        let path = url::Url::parse(url).unwrap().path().to_owned();
        let cookies: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .filter(|c| {
                c.path == "/"
                    || path == c.path
                    || path.starts_with(&format!("{}/", c.path.trim_end_matches('/')))
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
        let reply = Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response
                .text()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}")),
        };
        self.store(&reply);
        reply
    }

    pub fn store(&self, response: &Reply) {
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
                    "max-age" if val == "0" || val.starts_with('-') => removed = true,
                    _ => {}
                }
            }
            let mut jar = self.jar.lock().unwrap();
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

    pub async fn get(&self, url: &str) -> Reply {
        self.send(url, self.client.get(url)).await
    }

    /// A form post with extra headers (`Origin`, `Sec-Fetch-Site`...).
    pub async fn post(
        &self,
        url: &str,
        form: &[(String, String)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.post(url).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(url, request).await
    }
}

/// A whole answer, its body already read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

pub fn location(response: &Reply) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `Set-Cookie` header for cookie `name`, if the response has one.
pub fn set_cookie(response: &Reply, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

pub fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

pub fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

/// A query parameter of an absolute URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with query parameter `name` replaced (or removed when `value` is `None`).
pub fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (k, v) in pairs {
            if k != name {
                query.append_pair(&k, &v);
            } else if let Some(value) = value {
                query.append_pair(&k, value);
            }
        }
    }
    parsed.to_string()
}

/// Whether `location` is the failure page for `reason` (with or without the level asked for and
/// the way back, which it gets once the pending login was found).
pub fn is_failure_page(location: &str, reason: &str) -> bool {
    let page = format!("/login/failed?reason={reason}");
    location == page || location.starts_with(&format!("{page}&"))
}

/// The login was refused: back to the failure page with `reason`, and no session cookie.
pub fn assert_refused(response: &Reply, reason: &str) {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        is_failure_page(&location(response), reason),
        "{}",
        location(response)
    );
    assert!(
        set_cookie(response, SESSION_COOKIE).is_none(),
        "no session cookie on a refused login"
    );
}

pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The test eID's login form: its action and its hidden fields.
pub fn login_form(html: &str) -> (String, Vec<(String, String)>) {
    let action = html
        .split_once("<form method=\"post\" action=\"")
        .expect("the test eID's form")
        .1
        .split_once('"')
        .unwrap()
        .0;
    let fields = html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').unwrap();
            let value = rest
                .split_once("value=\"")
                .unwrap()
                .1
                .split_once('"')
                .unwrap()
                .0;
            (name.to_owned(), unescape(value))
        })
        .collect();
    (unescape(action), fields)
}

/// Show the test eID's page for `authorize_url` and submit its form with the citizen's
/// choices, as the browser would.
pub async fn submit_test_eid_form(
    browser: &Browser,
    authorize_url: &str,
    choices: &[(&str, &str)],
) -> Reply {
    let page = browser.get(authorize_url).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.body;
    let (action, mut fields) = login_form(&html);
    assert!(fields.iter().any(|(k, _)| k == "state"), "{html}");
    fields.extend(
        choices
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let origin = action.split("/test-eid/").next().unwrap().to_owned();
    browser
        .post(
            &action,
            &fields,
            &[
                ("origin", origin.as_str()),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await
}

/// The letter ids linked from a page, in page order, with the line's text.
pub fn letters(html: &str) -> Vec<(String, String)> {
    html.split("<a href=\"/post/letter/")
        .skip(1)
        .map(|rest| {
            let (id, rest) = rest.split_once('"').unwrap();
            let line = rest.split("</li>").next().unwrap().to_owned();
            (id.to_owned(), line)
        })
        .filter(|(id, _)| !id.contains('/'))
        .collect()
}
