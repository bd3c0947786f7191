//! The built-in test eID: a real OpenID Connect provider inside the portal, with the synthetic
//! demo persons, so `cargo xtask run` needs nothing else. Enabled only by configuration (on in
//! `config/development.toml`, off by default and in the production example), and labelled as a
//! test eID on every page it shows.
//!
//! Two issuers share the code: `/test-eid/idporten` answers like ID-porten (`pid`,
//! `idporten-loa-*`) and `/test-eid/mitid` like a MitID broker (`dk.cpr`, NSIS `loa`). The
//! portal talks to them through the same relying-party code as to a real provider: discovery,
//! authorization code with PKCE (S256, enforced), `state`, `nonce`, id_tokens signed with ES256
//! by a key generated once and kept in the data directory, and RP-initiated logout.
//!
//! `staff.rs` adds the TEST staff provider: one issuer per demo municipality, with demo
//! borgerservice staff.

mod login;
mod staff;

use login::{authorize_page, authorize_submit, refusal_page};

use axum::{
    extract::{Form, Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine as _};
use borgerportal::{demo::demo_persons, identity::Country, person::NewPerson};
use ring::{
    rand::{SecureRandom, SystemRandom},
    signature::{self, EcdsaKeyPair, KeyPair},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::Path as FsPath,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::config::{ClaimProfile, ClientAuth, ProviderConfig};
use crate::error_page::html_response;
use crate::language::request_language;
use crate::texts::{escape, html_text, page};
use crate::AppState;

/// The portal's client id at the test eID.
pub const CLIENT_ID: &str = "borgerportal-dev";
/// How long an authorization code may wait to be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long the id_tokens live (MitID's are 5 minutes).
const ID_TOKEN_LIFETIME_SECONDS: i64 = 300;

const NSIS_SUBSTANTIAL: &str = "https://data.gov.dk/concept/core/nsis/Substantial";
const NSIS_HIGH: &str = "https://data.gov.dk/concept/core/nsis/High";

/// Which national service this issuer imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    Idporten,
    Mitid,
}

impl Flavor {
    fn from_path(segment: &str) -> Option<Self> {
        match segment {
            "idporten" => Some(Self::Idporten),
            "mitid" => Some(Self::Mitid),
            _ => None,
        }
    }
    fn segment(self) -> &'static str {
        match self {
            Self::Idporten => "idporten",
            Self::Mitid => "mitid",
        }
    }
    /// The languages its pages speak, its country's first: ID-porten bokmål, nynorsk and
    /// English; MitID Danish and English.
    fn languages(self) -> &'static [&'static str] {
        match self {
            Self::Idporten => &["nb", "nn", "en"],
            Self::Mitid => &["da", "en"],
        }
    }
    /// The language of its page: the first of `ui_locales` it speaks (as a real provider
    /// would), else the request's if it speaks that, else its country's.
    fn page_language(self, ui_locales: Option<&str>, headers: &HeaderMap) -> &'static str {
        let speaks = self.languages();
        let spoken = |wanted: &str| speaks.iter().copied().find(|known| *known == wanted);
        ui_locales
            .and_then(|locales| locales.split_whitespace().find_map(spoken))
            .or_else(|| spoken(request_language(headers)))
            .unwrap_or(speaks[0])
    }
    fn country(self) -> Country {
        match self {
            Self::Idporten => Country::Norway,
            Self::Mitid => Country::Denmark,
        }
    }
    fn acr(self, high: bool) -> &'static str {
        match (self, high) {
            (Self::Idporten, false) => "idporten-loa-substantial",
            (Self::Idporten, true) => "idporten-loa-high",
            (Self::Mitid, false) => NSIS_SUBSTANTIAL,
            (Self::Mitid, true) => NSIS_HIGH,
        }
    }
    /// Does the `acr_values` request ask for high?
    fn asks_high(self, acr_values: Option<&str>) -> bool {
        acr_values.is_some_and(|values| {
            values
                .split_whitespace()
                .any(|v| v.ends_with("-high") || v == NSIS_HIGH || v.ends_with("/High"))
        })
    }
}

/// An issued authorization code, waiting for the token request.
struct Grant {
    flavor: Flavor,
    person: NewPerson,
    high: bool,
    nonce: String,
    code_challenge: String,
    redirect_uri: String,
    sid: String,
    auth_time: i64,
    issued: Instant,
}

/// Why the test eID could not start.
#[derive(Debug, thiserror::Error)]
pub enum TestEidError {
    #[error("test eID key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("test eID key is not a usable P-256 PKCS#8 key")]
    Key,
}

/// The test eID: its signing key, its one registered client and the codes in flight.
#[derive(Clone)]
pub struct TestEid {
    inner: Arc<Inner>,
}

struct Inner {
    /// The key tokens are signed with now; [`TestEid::rotate_key`] replaces it.
    signing: std::sync::RwLock<Arc<SigningKey>>,
    /// Makes the pairwise `sub` unguessable from the national id alone.
    salt: [u8; 32],
    public_url: String,
    client_secret: String,
    codes: Mutex<HashMap<String, Grant>>,
    /// The staff provider's codes in flight (`staff.rs`).
    staff_codes: Mutex<HashMap<String, staff::StaffGrant>>,
    rng: SystemRandom,
}

/// An ES256 key pair and the `kid` it is published under.
struct SigningKey {
    key: EcdsaKeyPair,
    kid: String,
    /// The uncompressed point: 0x04 || x || y.
    public_key: Vec<u8>,
}

impl SigningKey {
    fn from_pkcs8(pkcs8: &[u8], rng: &SystemRandom) -> Result<Self, TestEidError> {
        let key = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, rng)
            .map_err(|_| TestEidError::Key)?;
        let public_key = key.public_key().as_ref().to_vec();
        let kid: String = Sha256::digest(&public_key)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            key,
            kid,
            public_key,
        })
    }
}

fn random_token(rng: &SystemRandom, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // SystemRandom only fails if the OS has no entropy source; then nothing is safe anyway.
    if rng.fill(&mut buf).is_err() {
        tracing::error!("the operating system's random source failed");
    }
    B64.encode(buf)
}

impl TestEid {
    /// Load the signing key from `data_dir` (creating it the first time).
    pub fn load_or_create(data_dir: &FsPath, public_url: &str) -> Result<Self, TestEidError> {
        let rng = SystemRandom::new();
        let path = data_dir.join("test-eid-signing-key.p8");
        let pkcs8 = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let document =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                        .map_err(|_| TestEidError::Key)?;
                crate::private_file::write_private(&path, document.as_ref())
                    .map_err(|e| TestEidError::KeyFile(path.display().to_string(), e))?;
                document.as_ref().to_vec()
            }
            Err(error) => return Err(TestEidError::KeyFile(path.display().to_string(), error)),
        };
        let signing = SigningKey::from_pkcs8(&pkcs8, &rng)?;
        let salt: [u8; 32] = Sha256::digest(&pkcs8).into();
        let client_secret = random_token(&rng, 32);
        Ok(Self {
            inner: Arc::new(Inner {
                signing: std::sync::RwLock::new(Arc::new(signing)),
                salt,
                public_url: public_url.trim_end_matches('/').to_owned(),
                client_secret,
                codes: Mutex::new(HashMap::new()),
                staff_codes: Mutex::new(HashMap::new()),
                rng,
            }),
        })
    }

    /// The key tokens are signed with now.
    fn signing_key(&self) -> Arc<SigningKey> {
        match self.inner.signing.read() {
            Ok(key) => key.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A key rollover, as a real eID service does one: a new key signs from now on and only
    /// it is published. In memory only: after a restart the key from the data directory is
    /// back (another rollover, as far as the portal can tell). Tokens the old key signed (a
    /// logout hint) are no longer recognised.
    pub fn rotate_key(&self) -> Result<(), TestEidError> {
        let document = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &self.inner.rng,
        )
        .map_err(|_| TestEidError::Key)?;
        let fresh = Arc::new(SigningKey::from_pkcs8(document.as_ref(), &self.inner.rng)?);
        match self.inner.signing.write() {
            Ok(mut key) => *key = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// The two providers the portal gets when the test eID is on.
    pub fn providers(&self) -> Vec<ProviderConfig> {
        [
            (
                Flavor::Idporten,
                "testid-no",
                "Test eID (ID-porten)",
                ClaimProfile::Idporten,
            ),
            (
                Flavor::Mitid,
                "testid-dk",
                "Test eID (MitID)",
                ClaimProfile::MitidBroker,
            ),
        ]
        .into_iter()
        .map(|(flavor, id, name, profile)| ProviderConfig {
            id: id.to_owned(),
            name: name.to_owned(),
            issuer: self.issuer(flavor),
            client_id: CLIENT_ID.to_owned(),
            client_auth: ClientAuth::ClientSecret {
                secret: SecretString::from(self.inner.client_secret.clone()),
            },
            scopes: vec!["openid".to_owned(), "profile".to_owned()],
            profile,
        })
        .collect()
    }

    fn issuer(&self, flavor: Flavor) -> String {
        format!("{}/test-eid/{}", self.inner.public_url, flavor.segment())
    }

    fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.inner.public_url)
    }

    fn post_logout_redirect_uri(&self) -> String {
        format!("{}/logged-out", self.inner.public_url)
    }

    fn jwk(&self) -> Value {
        let signing = self.signing_key();
        let point = &signing.public_key; // 0x04 || x || y
        let (x, y) = (
            point.get(1..33).unwrap_or(&[]),
            point.get(33..65).unwrap_or(&[]),
        );
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
            "kid": signing.kid, "x": B64.encode(x), "y": B64.encode(y),
        })
    }

    /// Sign claims as a compact JWS (ES256).
    fn sign(&self, claims: &Value) -> Option<String> {
        let signing = self.signing_key();
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": signing.kid});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = signing.key.sign(&self.inner.rng, input.as_bytes()).ok()?;
        Some(format!("{input}.{}", B64.encode(signature.as_ref())))
    }

    /// Verify one of our own tokens (the logout hint) and return its claims.
    fn verify(&self, token: &str) -> Option<Value> {
        let (input, signature) = token.rsplit_once('.')?;
        let signature = B64.decode(signature).ok()?;
        signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            &self.signing_key().public_key,
        )
        .verify(input.as_bytes(), &signature)
        .ok()?;
        let payload = input.split('.').nth(1)?;
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    fn pairwise_sub(&self, national_id: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.inner.salt);
        hasher.update(CLIENT_ID.as_bytes());
        hasher.update(national_id.as_bytes());
        B64.encode(&hasher.finalize()[..18])
    }
}

/// The test eID's routes, under `/test-eid/{idporten|mitid}/`. They answer 404 when the test
/// eID is off.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/test-eid/{flavor}/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/test-eid/{flavor}/jwks", get(jwks))
        .route(
            "/test-eid/{flavor}/authorize",
            get(authorize_page).post(authorize_submit),
        )
        .route("/test-eid/{flavor}/token", axum::routing::post(token))
        .route("/test-eid/{flavor}/end-session", get(end_session))
        .route("/test-eid/rotate-key", axum::routing::post(rotate_key))
        .merge(staff::routes())
}

/// `POST /test-eid/rotate-key`: a key rollover (see [`TestEid::rotate_key`]), to try how the
/// portal copes with one. 204 when done.
async fn rotate_key(State(state): State<AppState>) -> Response {
    let Some(eid) = state.test_eid.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match eid.rotate_key() {
        Ok(()) => {
            tracing::info!("test eID: signing key rolled over");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => {
            tracing::error!(%error, "test eID: could not roll the signing key over");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn enabled(state: &AppState, flavor: &str) -> Option<(TestEid, Flavor)> {
    Some((state.test_eid.clone()?, Flavor::from_path(flavor)?))
}

async fn discovery(State(state): State<AppState>, Path(flavor): Path<String>) -> Response {
    let Some((eid, flavor)) = enabled(&state, &flavor) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let issuer = eid.issuer(flavor);
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/end-session"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile"],
        "acr_values_supported": [flavor.acr(false), flavor.acr(true)],
        "ui_locales_supported": flavor.languages(),
        "claims_supported": match flavor {
            Flavor::Idporten => json!(["sub", "pid", "acr", "amr", "sid", "auth_time", "locale", "given_name", "family_name"]),
            Flavor::Mitid => json!(["sub", "dk.cpr", "mitid.uuid", "loa", "acr", "sid", "auth_time", "given_name", "family_name"]),
        },
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

async fn jwks(State(state): State<AppState>, Path(flavor): Path<String>) -> Response {
    let Some((eid, _)) = enabled(&state, &flavor) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(json!({ "keys": [eid.jwk()] })).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    code_verifier: String,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn token_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": error })),
    )
        .into_response()
}

/// `client_secret_basic` or `client_secret_post`.
fn client_authenticated(eid: &TestEid, headers: &HeaderMap, form: &TokenRequest) -> bool {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            Some((url_decode(id), url_decode(secret)))
        });
    let (id, secret) = match (basic, &form.client_id, &form.client_secret) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        _ => return false,
    };
    // Compare digests: equal-length inputs, no early exit on the secret's bytes.
    id == CLIENT_ID
        && Sha256::digest(secret.as_bytes()) == Sha256::digest(eid.inner.client_secret.as_bytes())
}

fn url_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn token(
    State(state): State<AppState>,
    Path(flavor): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenRequest>,
) -> Response {
    let Some((eid, flavor)) = enabled(&state, &flavor) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !client_authenticated(&eid, &headers, &form) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.grant_type != "authorization_code" {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    // One-time: the code is gone whatever happens next.
    let grant = eid
        .inner
        .codes
        .lock()
        .ok()
        .and_then(|mut c| c.remove(&form.code));
    let Some(grant) = grant else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = B64.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if grant.issued.elapsed() >= CODE_LIFETIME
        || grant.flavor != flavor
        || grant.redirect_uri != form.redirect_uri
        || challenge != grant.code_challenge
    {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let national_id = grant.person.national_id.expose().to_owned();
    let mut claims = json!({
        "iss": eid.issuer(flavor),
        "aud": CLIENT_ID,
        "sub": eid.pairwise_sub(&national_id),
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        "nonce": grant.nonce,
        "acr": flavor.acr(grant.high),
        "amr": ["TestID"],
        "sid": grant.sid,
        "auth_time": grant.auth_time,
        "given_name": grant.person.given_name,
        "family_name": grant.person.family_name,
        "locale": grant.person.language.code(),
    });
    match flavor {
        Flavor::Idporten => claims["pid"] = json!(national_id),
        Flavor::Mitid => {
            claims["dk.cpr"] = json!(national_id);
            claims["loa"] = json!(flavor.acr(grant.high));
            let uuid: [u8; 16] = Sha256::digest(eid.pairwise_sub(&national_id).as_bytes())[..16]
                .try_into()
                .unwrap_or([0; 16]);
            claims["mitid.uuid"] = json!(uuid::Uuid::from_bytes(uuid).to_string());
        }
    }
    let Some(id_token) = eid.sign(&claims) else {
        return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": random_token(&eid.inner.rng, 32),
            "token_type": "Bearer",
            "expires_in": 120,
            "id_token": id_token,
            "scope": "openid profile",
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct EndSessionParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    ui_locales: Option<String>,
}

async fn end_session(
    State(state): State<AppState>,
    Path(flavor): Path<String>,
    headers: HeaderMap,
    Query(params): Query<EndSessionParams>,
) -> Response {
    let Some((eid, flavor)) = enabled(&state, &flavor) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let hint_ok = params
        .id_token_hint
        .as_deref()
        .and_then(|t| eid.verify(t))
        .is_some_and(|claims| claims["iss"] == json!(eid.issuer(flavor)));
    let target_ok =
        params.post_logout_redirect_uri.as_deref() == Some(&eid.post_logout_redirect_uri());
    if !(hint_ok && target_ok) {
        let lang = flavor.page_language(params.ui_locales.as_deref(), &headers);
        return refusal_page(&state, lang);
    }
    let mut url = eid.post_logout_redirect_uri();
    if let Some(s) = params.state {
        url.push_str("?state=");
        url.push_str(&url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>());
    }
    Redirect::to(&url).into_response()
}

#[cfg(test)]
mod tests {
    use super::login::persons;
    use super::*;

    #[test]
    fn the_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = TestEid::load_or_create(dir.path(), "http://x").unwrap();
        let b = TestEid::load_or_create(dir.path(), "http://x").unwrap();
        assert_eq!(
            a.signing_key().kid,
            b.signing_key().kid,
            "the same key after a restart"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("test-eid-signing-key.p8"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the key");
        }
    }

    #[test]
    fn tokens_verify_and_tampering_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let eid = TestEid::load_or_create(dir.path(), "http://x").unwrap();
        let token = eid.sign(&json!({"iss": "me", "n": 1})).unwrap();
        assert_eq!(eid.verify(&token).unwrap()["n"], 1);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64.encode(json!({"iss": "me", "n": 2}).to_string());
        parts[1] = &forged;
        assert!(eid.verify(&parts.join(".")).is_none());
    }

    #[test]
    fn each_flavour_speaks_its_own_languages() {
        let nothing = HeaderMap::new();
        let mut english = HeaderMap::new();
        english.insert(header::ACCEPT_LANGUAGE, "en-GB".parse().unwrap());
        // MitID: Danish unless English is asked for; a bokmål portal gets Danish.
        assert_eq!(Flavor::Mitid.page_language(Some("nb"), &nothing), "da");
        assert_eq!(Flavor::Mitid.page_language(Some("nb en"), &nothing), "en");
        assert_eq!(Flavor::Mitid.page_language(None, &english), "en");
        assert_eq!(Flavor::Mitid.page_language(None, &nothing), "da");
        // ID-porten: bokmål, nynorsk or English; Danish is not among them.
        assert_eq!(Flavor::Idporten.page_language(Some("nn"), &nothing), "nn");
        assert_eq!(Flavor::Idporten.page_language(Some("da"), &nothing), "nb");
        assert_eq!(Flavor::Idporten.page_language(Some("da"), &english), "en");
    }

    #[test]
    fn each_flavour_lists_only_its_own_country() {
        assert!(persons(Flavor::Idporten)
            .iter()
            .all(|(_, p)| p.national_id.country() == Country::Norway));
        assert!(!persons(Flavor::Mitid).is_empty());
    }

    #[test]
    fn asking_for_high_is_understood_in_both_dialects() {
        assert!(Flavor::Idporten.asks_high(Some("idporten-loa-high")));
        assert!(!Flavor::Idporten.asks_high(Some("idporten-loa-substantial")));
        assert!(Flavor::Mitid.asks_high(Some(NSIS_HIGH)));
        assert!(!Flavor::Mitid.asks_high(None));
    }
}
