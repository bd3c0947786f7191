//! Agency authentication: `Authorization: Bearer <JWT>`, signed with the agency's registered
//! key. [`AgencyCaller`] is an axum extractor, so every agency endpoint (the look-up today,
//! the delivery API next) starts with the same checks:
//!
//! 1. a bearer token whose header names the one algorithm configured for the agency it claims
//!    to come from (`iss`, or `sub` when there is no `iss`): no `none`, no HMAC, so the
//!    agency's public key can never be used as an HMAC secret;
//! 2. the signature, against that agency's public key;
//! 3. `aud` = the portal's audience; `exp` in the future and at most
//!    `api.max_token_lifetime_seconds` after `iat`; `iat` not in the future (30 s leeway);
//!    `nbf`, if present, passed;
//! 4. the agency is enabled (else 403, said only to a caller holding its key);
//! 5. `jti` never seen before from this agency (remembered in the database until `exp` plus
//!    the leeway, as long as the token can be accepted, so every instance refuses a replay).
//!
//! Failures are 401 problems with a `WWW-Authenticate` challenge; the log line names the
//! agency (when known) and the reason, never the token.

use std::collections::HashMap;
use std::path::Path;

use axum::{extract::FromRequestParts, http::header, http::request::Parts, http::StatusCode};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use borgerportal::{Actor, AgencyAccess, AgencyCapability, AgencyGrants, AgencyId, Policy};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::problem::Problem;
use crate::config::{AgencyAlgorithm, AgencyConfig, Config};
use crate::AppState;

/// Clock leeway for `exp`, `nbf` and `iat`.
const LEEWAY_SECONDS: i64 = 30;
/// Longest `jti` accepted (a UUID is 36).
const MAX_JTI_LEN: usize = 128;

/// Why the agency registry could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AgencyKeyError {
    #[error("agency {0:?}: the public key file {1} could not be read: {2}")]
    File(String, String, std::io::Error),
    #[error("agency {0:?}: the public key is not a PEM key for {1:?}")]
    Key(String, AgencyAlgorithm),
    #[error("agency {0:?}: the demo key pair could not be made: {1}")]
    Generate(String, String),
}

/// A registered agency, ready to check tokens.
struct RegisteredAgency {
    id: AgencyId,
    /// Its name as configured: the sender the citizen sees on its letters.
    name: String,
    algorithm: Algorithm,
    key: DecodingKey,
    enabled: bool,
    grants: AgencyGrants,
}

/// The agencies from configuration, by id, with their keys parsed, and the token rules.
pub struct AgencyRegistry {
    agencies: HashMap<String, RegisteredAgency>,
    audience: String,
    max_lifetime_seconds: i64,
}

impl AgencyRegistry {
    /// Reads every configured agency's key (making the development key pair first where
    /// asked). Fails at start-up rather than at the first call.
    pub fn load(config: &Config) -> Result<AgencyRegistry, AgencyKeyError> {
        let mut agencies = HashMap::new();
        for agency in &config.agencies {
            let registered = load_agency(agency)?;
            agencies.insert(agency.id.clone(), registered);
        }
        Ok(AgencyRegistry {
            agencies,
            audience: config.api_audience().to_owned(),
            max_lifetime_seconds: i64::from(config.api.max_token_lifetime_seconds),
        })
    }

    /// Checks a bearer token's signature and claims; the replay check is the caller's.
    fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, Refusal> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Refusal::new("invalid-token", "The token is not a readable JWT."))?;
        let claimed = unverified_agency(token).ok_or_else(|| {
            Refusal::new(
                "invalid-token",
                "The token names no agency: set `iss` to your agency id.",
            )
        })?;
        let agency = self.agencies.get(&claimed).ok_or_else(|| {
            Refusal::new(
                "unknown-agency",
                "The agency in `iss` is not registered with this portal.",
            )
        })?;
        let refuse = |name, detail: &str| Refusal {
            agency: Some(agency.id.clone()),
            ..Refusal::new(name, detail)
        };
        if header.alg != agency.algorithm {
            return Err(refuse(
                "invalid-token",
                "The token's `alg` is not the algorithm registered for this agency.",
            ));
        }
        let mut validation = Validation::new(agency.algorithm);
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        validation.validate_nbf = true;
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "aud", "iat", "jti"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &agency.key, &validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::ExpiredSignature => {
                        refuse("expired-token", "The token has expired (`exp`).")
                    }
                    ErrorKind::InvalidAudience => refuse(
                        "invalid-audience",
                        "The token's `aud` is not this portal's audience.",
                    ),
                    ErrorKind::ImmatureSignature => {
                        refuse("invalid-token", "The token is not valid yet (`nbf`).")
                    }
                    ErrorKind::MissingRequiredClaim(_) => refuse(
                        "invalid-token",
                        "The token lacks a required claim: exp, aud, iat and jti are required.",
                    ),
                    ErrorKind::InvalidSignature => refuse(
                        "invalid-signature",
                        "The token's signature does not verify with the agency's registered key.",
                    ),
                    _ => refuse("invalid-token", "The token could not be verified."),
                }
            })?
            .claims;
        if claims.iat > now + LEEWAY_SECONDS {
            return Err(refuse(
                "invalid-token",
                "The token's `iat` is in the future.",
            ));
        }
        // Checked: a signed token may carry any integers, and an overflow must be a refusal,
        // not a panic or a wrapped number that passes.
        let lifetime = claims.exp.checked_sub(claims.iat);
        if lifetime.is_none_or(|lifetime| lifetime > self.max_lifetime_seconds) {
            return Err(refuse(
                "token-lifetime",
                &format!(
                    "The token lives too long: `exp` may be at most {} seconds after `iat`. \
                     Sign a fresh, short-lived token for each call.",
                    self.max_lifetime_seconds
                ),
            ));
        }
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
            return Err(refuse(
                "invalid-token",
                "The token's `jti` must be 1 to 128 characters.",
            ));
        }
        if !agency.enabled {
            return Err(Refusal {
                status: StatusCode::FORBIDDEN,
                ..refuse(
                    "agency-disabled",
                    "This agency's access to the API is switched off.",
                )
            });
        }
        // Remembered for as long as the token can be accepted: until `exp` plus the leeway.
        let expires_at = claims
            .exp
            .checked_add(LEEWAY_SECONDS)
            .and_then(|until| time::OffsetDateTime::from_unix_timestamp(until).ok())
            .ok_or_else(|| refuse("invalid-token", "The token's `exp` is out of range."))?;
        Ok(VerifiedToken {
            agency: agency.id.clone(),
            grants: agency.grants,
            jti: claims.jti,
            expires_at,
        })
    }

    /// A registered agency's configured name (the sender of its letters).
    pub fn name(&self, agency: &AgencyId) -> Option<&str> {
        self.agencies
            .get(agency.as_str())
            .map(|registered| registered.name.as_str())
    }

    /// How long tokens may live, for the documentation.
    pub fn max_lifetime_seconds(&self) -> i64 {
        self.max_lifetime_seconds
    }
}

fn load_agency(agency: &AgencyConfig) -> Result<RegisteredAgency, AgencyKeyError> {
    let pem = match (&agency.public_key, &agency.public_key_file) {
        (Some(pem), _) => pem.clone(),
        (None, Some(path)) => {
            if agency.generate_key_pair {
                ensure_demo_key_pair(&agency.id, path)?;
            }
            std::fs::read_to_string(path).map_err(|error| {
                AgencyKeyError::File(agency.id.clone(), path.display().to_string(), error)
            })?
        }
        // Ruled out by the configuration check.
        (None, None) => return Err(AgencyKeyError::Key(agency.id.clone(), agency.algorithm)),
    };
    let bad_key = || AgencyKeyError::Key(agency.id.clone(), agency.algorithm);
    let (algorithm, key) = match agency.algorithm {
        AgencyAlgorithm::ES256 => (Algorithm::ES256, DecodingKey::from_ec_pem(pem.as_bytes())),
        AgencyAlgorithm::ES384 => (Algorithm::ES384, DecodingKey::from_ec_pem(pem.as_bytes())),
        AgencyAlgorithm::RS256 => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem.as_bytes())),
        AgencyAlgorithm::PS256 => (Algorithm::PS256, DecodingKey::from_rsa_pem(pem.as_bytes())),
        AgencyAlgorithm::EdDSA => (Algorithm::EdDSA, DecodingKey::from_ed_pem(pem.as_bytes())),
    };
    let key = key.map_err(|_| bad_key())?;
    let id = AgencyId::parse(&agency.id).map_err(|_| bad_key())?;
    Ok(RegisteredAgency {
        id,
        name: agency.name.clone(),
        algorithm,
        key,
        enabled: agency.enabled,
        grants: agency.grants(),
    })
}

/// The private key's file beside a generated public key.
pub fn demo_private_key_path(public_key_file: &Path) -> std::path::PathBuf {
    public_key_file.with_file_name("private.pem")
}

/// Development: make an ES256 key pair if `public_key_file` does not exist yet.
fn ensure_demo_key_pair(agency: &str, public_key_file: &Path) -> Result<(), AgencyKeyError> {
    use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
    if public_key_file.exists() {
        return Ok(());
    }
    let fail = |why: String| AgencyKeyError::Generate(agency.to_owned(), why);
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| fail("no random source".into()))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| fail("the new key does not load".into()))?;
    // SubjectPublicKeyInfo for a P-256 key: a fixed prefix, then the uncompressed point.
    const SPKI_P256_PREFIX: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let mut spki = SPKI_P256_PREFIX.to_vec();
    spki.extend_from_slice(pair.public_key().as_ref());
    if let Some(folder) = public_key_file.parent() {
        std::fs::create_dir_all(folder).map_err(|e| fail(e.to_string()))?;
    }
    let private = demo_private_key_path(public_key_file);
    crate::private_file::write_private(&private, pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    std::fs::write(public_key_file, pem("PUBLIC KEY", &spki)).map_err(|e| fail(e.to_string()))?;
    tracing::warn!(
        agency,
        "made a DEMO agency key pair for local API calls (development only)"
    );
    Ok(())
}

/// PEM armour around DER bytes.
fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The claims the portal reads; others are ignored.
#[derive(Deserialize)]
struct Claims {
    exp: i64,
    iat: i64,
    jti: String,
}

/// The agency a token claims to come from, read before verification only to pick the key:
/// `iss`, or `sub` when there is no `iss`.
fn unverified_agency(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let claimed = value.get("iss").or_else(|| value.get("sub"))?;
    claimed.as_str().map(str::to_owned)
}

struct VerifiedToken {
    agency: AgencyId,
    grants: AgencyGrants,
    jti: String,
    expires_at: time::OffsetDateTime,
}

/// A refused token: the problem to send and what to log.
struct Refusal {
    status: StatusCode,
    name: &'static str,
    detail: String,
    agency: Option<AgencyId>,
}

impl Refusal {
    fn new(name: &'static str, detail: &str) -> Refusal {
        Refusal {
            status: StatusCode::UNAUTHORIZED,
            name,
            detail: detail.to_owned(),
            agency: None,
        }
    }

    fn into_problem(self) -> Problem {
        tracing::info!(
            agency = self.agency.as_ref().map(AgencyId::as_str),
            reason = self.name,
            "agency API call refused"
        );
        if self.status == StatusCode::FORBIDDEN {
            Problem::new(StatusCode::FORBIDDEN, self.name, "Forbidden", self.detail)
        } else {
            Problem::unauthorized(self.name, self.detail)
        }
    }
}

/// An authenticated agency: the extractor every agency endpoint takes first.
#[derive(Debug, Clone)]
pub struct AgencyCaller {
    /// The actor for the access policy (`Actor::Agency`).
    pub actor: Actor,
    /// Which agency.
    pub agency: AgencyId,
}

impl AgencyCaller {
    /// The proof that this agency may use capability `C`, or 403 saying it may not `what`
    /// ("deliver post").
    pub fn authorize<C: AgencyCapability>(&self, what: &str) -> Result<AgencyAccess<C>, Problem> {
        Policy::authorize_agency::<C>(&self.actor).map_err(|_| {
            tracing::info!(agency = %self.agency, capability = C::NAME, "agency capability refused");
            Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                format!("This agency may not {what}."),
            )
        })
    }
}

impl FromRequestParts<AppState> for AgencyCaller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<AgencyCaller, Problem> {
        let token = bearer_token(parts).ok_or_else(|| {
            Refusal::new(
                "missing-token",
                "Send `Authorization: Bearer <JWT>` signed with your agency's registered key.",
            )
            .into_problem()
        })?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let verified = state
            .api
            .registry
            .verify(token, now)
            .map_err(Refusal::into_problem)?;
        let first_use = state
            .db
            .remember_agency_token(&verified.agency, &verified.jti, verified.expires_at)
            .await
            .map_err(|error| {
                tracing::error!(%error, "could not record an agency token id");
                Problem::unavailable()
            })?;
        if !first_use {
            return Err(Refusal {
                agency: Some(verified.agency),
                ..Refusal::new(
                    "replayed-token",
                    "This token (its `jti`) was already used. Sign a new token for each call.",
                )
            }
            .into_problem());
        }
        Ok(AgencyCaller {
            actor: Actor::Agency {
                agency: verified.agency.clone(),
                grants: verified.grants,
            },
            agency: verified.agency,
        })
    }
}

/// The token from `Authorization: Bearer …` (scheme case-insensitive, RFC 6750).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Development: a fresh token for a demo agency (one with `generate_key_pair`), signed with
/// the private key made at first start, for calling the API by hand. `agency` picks one when
/// there are several. Behind `borgerportal api-token`.
pub fn mint_demo_token(config: &Config, agency: Option<&str>) -> Result<String, String> {
    mint_demo_tokens(config, agency, 1)?
        .pop()
        .ok_or_else(|| "no token made".to_owned())
}

/// `count` fresh tokens as [`mint_demo_token`] makes them, each with its own `jti`: for a
/// load generator, which must send a new token with every call
/// (`borgerportal api-token --count N`).
pub fn mint_demo_tokens(
    config: &Config,
    agency: Option<&str>,
    count: u32,
) -> Result<Vec<String>, String> {
    AgencyRegistry::load(config).map_err(|error| error.to_string())?;
    let demo = config
        .agencies
        .iter()
        .filter(|candidate| candidate.generate_key_pair)
        .find(|candidate| agency.is_none_or(|id| candidate.id == id))
        .ok_or("no agency with generate_key_pair = true (see config/development.toml)")?;
    let public = demo
        .public_key_file
        .as_ref()
        .ok_or("the demo agency has no public_key_file")?;
    let private = demo_private_key_path(public);
    let pem = std::fs::read(&private).map_err(|error| format!("{}: {error}", private.display()))?;
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&pem).map_err(|error| error.to_string())?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let lifetime = i64::from(config.api.max_token_lifetime_seconds).min(300);
    let header = jsonwebtoken::Header::new(Algorithm::ES256);
    (0..count)
        .map(|_| {
            let claims = serde_json::json!({
                "iss": demo.id,
                "aud": config.api_audience(),
                "iat": now,
                "exp": now + lifetime,
                "jti": uuid::Uuid::new_v4().to_string(),
            });
            jsonwebtoken::encode(&header, &claims, &key).map_err(|error| error.to_string())
        })
        .collect()
}
