//! The relying party's view of one eID provider: discovery (fetched lazily and cached, so the
//! portal can start before its provider answers; read again when an id_token's signature does
//! not check out, as after a key rollover), the authorization URL, the code exchange and
//! every check on the id_token — including those the `openidconnect` crate leaves to us: the
//! callback's `iss` (RFC 9207), `iat` not in the future, and `acr` mapped to the portal's own
//! levels.

use borgerportal::{access::Loa, identity::NationalId};
use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
        CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType,
        CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
        CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
        CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse,
        CoreTokenType,
    },
    AdditionalClaims, AdditionalProviderMetadata, AuthType, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse as _,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::{fmt, sync::Arc};
use tokio::sync::Mutex;

use crate::config::{ClaimProfile, ClientAuth, ProviderConfig};

/// Claims beyond the standard ones that the national providers send.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct NationalClaims {
    /// ID-porten: the national identity number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// MitID broker: the CPR number.
    #[serde(rename = "dk.cpr", default, skip_serializing_if = "Option::is_none")]
    pub cpr: Option<String>,
    /// MitID broker: the NSIS level of assurance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loa: Option<String>,
    /// The provider's session id, for logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AdditionalClaims for NationalClaims {}

/// Never prints the national id.
impl fmt::Debug for NationalClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NationalClaims")
            .field("pid", &self.pid.as_ref().map(|_| "[redacted]"))
            .field("cpr", &self.cpr.as_ref().map(|_| "[redacted]"))
            .field("loa", &self.loa)
            .field("sid", &self.sid.is_some())
            .finish()
    }
}

/// Provider metadata beyond the core: logout and RFC 9207.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct LogoutMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type IdTokenFieldsN = IdTokenFields<
    NationalClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponseN = StandardTokenResponse<IdTokenFieldsN, CoreTokenType>;

type OidcClient = openidconnect::Client<
    NationalClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponseN,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Signature algorithms accepted on id_tokens: asymmetric only, never `none` or HMAC.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 5] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Clock skew allowed on `iat` and on `auth_time` after a forced login.
const IAT_SKEW_SECONDS: i64 = 60;

/// Why a login could not complete. Each maps to a calm, translated page; the details go to the
/// log (never the claims' values).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the provider could not be reached or described itself wrongly: {0}")]
    Discovery(String),
    #[error("the callback's iss parameter is missing or names another issuer")]
    WrongIssuer,
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    #[error("the token response held no id_token")]
    NoIdToken,
    #[error("the id_token was refused: {0}")]
    InvalidIdToken(String),
    #[error("the id_token was issued in the future")]
    IssuedInFuture,
    #[error("the level of assurance is missing or lower than asked for")]
    LevelTooLow { national_id: Option<NationalId> },
    #[error("the id_token holds no usable national identity number")]
    NoNationalId,
    #[error("the private_key_jwt key could not be used: {0}")]
    ClientKey(String),
    #[error("the provider was asked to authenticate again and did not (auth_time before the login started)")]
    NotReauthenticated,
    #[error("the provider was asked to authenticate again and did not say when it did (no auth_time in the id_token)")]
    NoAuthTime,
}

/// What a verified login tells the portal.
pub struct VerifiedLogin {
    pub national_id: NationalId,
    pub loa: Loa,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub subject: String,
    pub sid: Option<String>,
    pub auth_time: Option<time::OffsetDateTime>,
    pub id_token: SecretString,
}

/// An id_token that passed every check of [`Provider::verify`], before anyone reads what its
/// claims mean.
pub struct VerifiedToken {
    pub claims: IdTokenClaims<NationalClaims, CoreGenderClaim>,
    /// Every claim of the token, as its (verified) payload holds them: a municipality names its
    /// own claims for the level and the roles.
    pub all_claims: serde_json::Map<String, serde_json::Value>,
    pub auth_time: Option<time::OffsetDateTime>,
    /// The token as the provider sent it.
    pub id_token: SecretString,
}

/// The claims of a JWS whose signature has been checked: its payload as a JSON object.
fn payload_claims(jws: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = jws.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// How long kept logout-token keys are trusted to be complete: a token naming a key they
/// lack makes them read again only after this.
pub const KEYS_REFETCH_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Discovery results, fetched once.
struct Discovered {
    client: OidcClient,
    metadata: Metadata,
}

/// One configured provider.
pub struct Provider {
    pub config: ProviderConfig,
    redirect_uri: String,
    http: reqwest::Client,
    discovered: Mutex<Option<Arc<Discovered>>>,
    /// The signing keys kept for back-channel logout tokens, and when they were fetched.
    logout_keys: Mutex<Option<(Arc<jsonwebtoken::jwk::JwkSet>, std::time::Instant)>>,
    /// Where the security headers learn that forms may lead to this provider's logout page.
    form_targets: crate::security::FormTargets,
}

/// The start of a login: where to send the browser, and what to keep until it comes back.
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: SecretString,
}

impl Provider {
    pub fn new(
        config: ProviderConfig,
        redirect_uri: String,
        http: reqwest::Client,
        form_targets: crate::security::FormTargets,
    ) -> Self {
        Self {
            config,
            redirect_uri,
            http,
            discovered: Mutex::new(None),
            logout_keys: Mutex::new(None),
            form_targets,
        }
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, LoginError> {
        let mut guard = self.discovered.lock().await;
        if let Some(found) = guard.as_ref() {
            return Ok(found.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| LoginError::Discovery(e.to_string()))?;
        let secret = match &self.config.client_auth {
            ClientAuth::ClientSecret { secret } => {
                Some(ClientSecret::new(secret.expose_secret().to_owned()))
            }
            ClientAuth::PrivateKeyJwt { .. } => None,
        };
        let mut client = OidcClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect);
        if matches!(self.config.client_auth, ClientAuth::PrivateKeyJwt { .. }) {
            client = client.set_auth_type(AuthType::RequestBody);
        }
        if let Some(end_session) = &metadata.additional_metadata().end_session_endpoint {
            // The logout form redirects there; `form-action` must allow it.
            self.form_targets.allow_origin_of(end_session);
        }
        let found = Arc::new(Discovered { client, metadata });
        *guard = Some(found.clone());
        Ok(found)
    }

    /// Discovery (and with it the signing keys) read again, replacing `stale`. When another
    /// login already replaced it, that newer result is used rather than fetching once more, so
    /// a burst of logins after a key rollover costs the provider one extra round of requests.
    async fn rediscover(&self, stale: &Arc<Discovered>) -> Result<Arc<Discovered>, LoginError> {
        {
            let mut guard = self.discovered.lock().await;
            match guard.as_ref() {
                Some(current) if !Arc::ptr_eq(current, stale) => return Ok(current.clone()),
                _ => *guard = None,
            }
        }
        tracing::info!(provider = %self.config.id, "reading the provider's keys again");
        self.discovered().await
    }

    /// Where to send the citizen to log in at `loa`; `force_login` re-authenticates (step-up).
    pub async fn start(
        &self,
        loa: Loa,
        force_login: bool,
        ui_locale: &str,
    ) -> Result<AuthorizationStart, LoginError> {
        let acr = match self.config.profile {
            ClaimProfile::Idporten => loa.idporten_acr_value(),
            ClaimProfile::MitidBroker => loa.nsis_value(),
        };
        self.start_with(Some(acr), force_login, ui_locale).await
    }

    /// Where to send someone to log in, asking for `acr_values` if given (a citizen's level,
    /// or a municipality's configured value for staff): code flow, PKCE S256, `state`, `nonce`,
    /// and `prompt=login` with `force_login`.
    pub async fn start_with(
        &self,
        acr_values: Option<&str>,
        force_login: bool,
        ui_locale: &str,
    ) -> Result<AuthorizationStart, LoginError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_extra_param("ui_locales", ui_locale);
        if let Some(acr) = acr_values {
            request = request.add_extra_param("acr_values", acr);
        }
        for scope in &self.config.scopes {
            if scope != "openid" {
                request = request.add_scope(Scope::new(scope.clone()));
            }
        }
        if force_login {
            request = request.add_prompt(CoreAuthPrompt::Login);
        }
        let (url, state, nonce) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: SecretString::from(verifier.secret().clone()),
        })
    }

    /// RFC 9207: the `iss` on the callback must be this provider's; required when the
    /// provider says it sends one.
    pub async fn check_callback_issuer(&self, iss: Option<&str>) -> Result<(), LoginError> {
        let discovered = self.discovered().await?;
        match iss {
            Some(iss) if iss == discovered.metadata.issuer().as_str() => Ok(()),
            Some(_) => Err(LoginError::WrongIssuer),
            None if discovered
                .metadata
                .additional_metadata()
                .authorization_response_iss_parameter_supported =>
            {
                Err(LoginError::WrongIssuer)
            }
            None => Ok(()),
        }
    }

    /// Exchange the code and verify the id_token; `requested` is the level the login asked
    /// for. `reauthenticated_since`: the login asked the provider to authenticate the person
    /// again (`prompt=login`) at that time, so an `auth_time` before it (beyond the clocks'
    /// skew) is refused, and so is a token without `auth_time`: a provider that ignored
    /// `prompt=login` must not raise a session to `high` by leaving the claim out. (A first
    /// login asks for no new authentication, and a token without the claim is taken there:
    /// OIDC requires it only with `max_age`.)
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        nonce: &str,
        requested: Loa,
        reauthenticated_since: Option<time::OffsetDateTime>,
    ) -> Result<VerifiedLogin, LoginError> {
        let verified = self
            .verify(code, pkce_verifier, nonce, reauthenticated_since)
            .await?;
        let claims = &verified.claims;
        let extra = claims.additional_claims();
        let national_id = match self.config.profile {
            ClaimProfile::Idporten => extra.pid.as_deref().map(NationalId::parse_norwegian),
            ClaimProfile::MitidBroker => extra.cpr.as_deref().map(NationalId::parse_danish),
        }
        .and_then(Result::ok);
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_owned());
        let loa = match self.config.profile {
            ClaimProfile::Idporten => acr.as_deref().and_then(Loa::from_idporten_acr),
            ClaimProfile::MitidBroker => extra
                .loa
                .as_deref()
                .or(acr.as_deref())
                .and_then(Loa::from_nsis),
        };
        let loa = match loa {
            Some(loa) if loa >= requested => loa,
            _ => return Err(LoginError::LevelTooLow { national_id }),
        };
        let national_id = national_id.ok_or(LoginError::NoNationalId)?;
        let given_name = claims
            .given_name()
            .and_then(|c| c.get(None))
            .map(|n| n.as_str().trim().to_owned())
            .filter(|n| !n.is_empty());
        let family_name = claims
            .family_name()
            .and_then(|c| c.get(None))
            .map(|n| n.as_str().trim().to_owned())
            .filter(|n| !n.is_empty());
        Ok(VerifiedLogin {
            national_id,
            loa,
            given_name,
            family_name,
            subject: claims.subject().as_str().to_owned(),
            sid: extra.sid.clone(),
            auth_time: verified.auth_time,
            id_token: verified.id_token,
        })
    }

    /// Every check a login's answer gets, whoever logs in: the code exchanged (with the PKCE
    /// verifier and the client's authentication), the id_token's signature (asymmetric
    /// algorithms only; the keys read again once on a mismatch), issuer, audience, expiry and
    /// nonce, `iat` not in the future, and after `prompt=login` (`reauthenticated_since`) an
    /// `auth_time` no older than the login. What the claims mean is the caller's: [`finish`]
    /// for citizens, the staff login for borgerservice staff.
    ///
    /// [`finish`]: Provider::finish
    pub async fn verify(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
        nonce: &str,
        reauthenticated_since: Option<time::OffsetDateTime>,
    ) -> Result<VerifiedToken, LoginError> {
        let discovered = self.discovered().await?;
        let mut exchange = discovered
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(
                pkce_verifier.expose_secret().to_owned(),
            ));
        if let ClientAuth::PrivateKeyJwt { key_file, key_id } = &self.config.client_auth {
            let token_endpoint = discovered
                .metadata
                .token_endpoint()
                .map(|u| u.to_string())
                .unwrap_or_default();
            let assertion =
                client_assertion(&self.config.client_id, &token_endpoint, key_file, key_id)?;
            exchange = exchange
                .add_extra_param(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                // (client_id is already in the body: AuthType::RequestBody.)
                .add_extra_param("client_assertion", assertion);
        }
        let response = exchange
            .request_async(&self.http)
            .await
            .map_err(|e| LoginError::Exchange(e.to_string()))?;
        let id_token = response.id_token().ok_or(LoginError::NoIdToken)?;
        let nonce = Nonce::new(nonce.to_owned());
        let verify = |discovered: &Discovered| {
            let verifier = discovered
                .client
                .id_token_verifier()
                .set_allowed_algs(ALLOWED_ALGS.to_vec());
            id_token.claims(&verifier, &nonce)
        };
        let claims = match verify(&discovered) {
            // The token came straight from the provider's token endpoint, so a signature that
            // does not check out against the keys read at discovery most likely means the
            // provider rolled its keys over since: read them again, once, and check again.
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.rediscover(&discovered).await?;
                verify(&fresh)
            }
            result => result,
        }
        .map_err(|e| LoginError::InvalidIdToken(e.to_string()))?;
        if claims.issue_time().timestamp()
            > time::OffsetDateTime::now_utc().unix_timestamp() + IAT_SKEW_SECONDS
        {
            return Err(LoginError::IssuedInFuture);
        }
        let auth_time = claims
            .auth_time()
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.timestamp()).ok());
        if let Some(since) = reauthenticated_since {
            match auth_time {
                None => return Err(LoginError::NoAuthTime),
                Some(at) if at < since - time::Duration::seconds(IAT_SKEW_SECONDS) => {
                    return Err(LoginError::NotReauthenticated);
                }
                Some(_) => {}
            }
        }
        let raw = id_token.to_string();
        let all_claims = payload_claims(&raw).ok_or_else(|| {
            LoginError::InvalidIdToken("its payload is not a JSON object".to_owned())
        })?;
        Ok(VerifiedToken {
            claims: claims.clone(),
            all_claims,
            auth_time,
            id_token: SecretString::from(raw),
        })
    }

    /// The provider's end-session endpoint, if it has one.
    pub async fn end_session_endpoint(&self) -> Option<String> {
        let discovered = self.discovered().await.ok()?;
        discovered
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
    }

    /// The issuer as discovery states it.
    pub async fn issuer(&self) -> Option<String> {
        Some(self.discovered().await.ok()?.metadata.issuer().to_string())
    }

    /// The provider's signing keys for a token whose header names `kid`: the kept ones, read
    /// again only when they lack `kid` and were fetched more than [`KEYS_REFETCH_AFTER`] ago.
    /// So junk tokens sent to the back-channel endpoint cost the provider no requests, a key
    /// rollover is seen within that interval, and one fetch is in flight at a time.
    pub async fn logout_signing_keys(
        &self,
        kid: Option<&str>,
    ) -> Option<Arc<jsonwebtoken::jwk::JwkSet>> {
        let mut kept = self.logout_keys.lock().await;
        if let Some((keys, fetched)) = kept.as_ref() {
            let known = kid.is_none_or(|kid| keys.find(kid).is_some());
            if known || fetched.elapsed() < KEYS_REFETCH_AFTER {
                return Some(keys.clone());
            }
        }
        let keys = Arc::new(self.signing_keys().await?);
        *kept = Some((keys.clone(), std::time::Instant::now()));
        Some(keys)
    }

    /// The provider's published signing keys (fetched without following redirects).
    async fn signing_keys(&self) -> Option<jsonwebtoken::jwk::JwkSet> {
        let uri = self
            .discovered()
            .await
            .ok()?
            .metadata
            .jwks_uri()
            .to_string();
        let response = self.http.get(uri).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().await.ok()
    }
}

/// A `private_key_jwt` client assertion (RFC 7523), signed with the configured key.
fn client_assertion(
    client_id: &str,
    audience: &str,
    key_file: &std::path::Path,
    key_id: &str,
) -> Result<String, LoginError> {
    let pem = std::fs::read(key_file).map_err(|e| LoginError::ClientKey(e.to_string()))?;
    let (key, alg) = match jsonwebtoken::EncodingKey::from_rsa_pem(&pem) {
        Ok(key) => (key, jsonwebtoken::Algorithm::RS256),
        Err(_) => (
            jsonwebtoken::EncodingKey::from_ec_pem(&pem)
                .map_err(|e| LoginError::ClientKey(e.to_string()))?,
            jsonwebtoken::Algorithm::ES256,
        ),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "exp": now + 60,
    });
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(key_id.to_owned());
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| LoginError::ClientKey(e.to_string()))
}
