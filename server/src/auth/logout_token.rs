//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0): verified against the
//! issuing provider's published keys, with every claim rule the specification sets — `iss`,
//! `aud`, `iat` (not in the future, not stale), the logout `events` member, `sid` or `sub`, no
//! `nonce`, and a `jti` (its replay is checked against the database by the caller).

use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

use super::oidc::Provider;

const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token older than this is refused (it would be a replay outside our memory).
const MAX_AGE_SECONDS: i64 = 600;
const SKEW_SECONDS: i64 = 60;
/// How long after its arrival a token could still pass the `iat` checks.
pub const ACCEPTANCE_WINDOW: time::Duration =
    time::Duration::seconds(MAX_AGE_SECONDS + 2 * SKEW_SECONDS);

/// Why a logout token was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogoutTokenError {
    #[error("not a readable JWT")]
    Malformed,
    #[error("no configured provider issued it")]
    UnknownIssuer,
    #[error("the provider's keys could not be fetched")]
    Keys,
    #[error("signature or standard claims invalid: {0}")]
    Invalid(String),
    #[error("claims break the back-channel logout rules: {0}")]
    Rules(&'static str),
}

/// A verified logout token.
pub struct LogoutToken {
    pub provider: String,
    pub issuer: String,
    pub jti: String,
    pub sid: Option<String>,
    pub subject: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
    jti: Option<String>,
    sid: Option<String>,
    sub: Option<String>,
    events: Option<Value>,
    nonce: Option<Value>,
}

/// Verify `token` against the provider whose issuer it names.
pub async fn verify(
    providers: &[Arc<Provider>],
    token: &str,
) -> Result<LogoutToken, LogoutTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| LogoutTokenError::Malformed)?;
    // Which provider? Read the (still unverified) issuer, then verify with that provider's keys.
    let unverified_iss = unverified_issuer(token).ok_or(LogoutTokenError::Malformed)?;
    let mut provider = None;
    for candidate in providers {
        if candidate.issuer().await.as_deref() == Some(unverified_iss.as_str()) {
            provider = Some(candidate);
            break;
        }
    }
    let provider = provider.ok_or(LogoutTokenError::UnknownIssuer)?;
    let allowed = [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    if !allowed.contains(&header.alg) {
        return Err(LogoutTokenError::Invalid("algorithm not allowed".into()));
    }
    let keys: Arc<JwkSet> = provider
        .logout_signing_keys(header.kid.as_deref())
        .await
        .ok_or(LogoutTokenError::Keys)?;
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| LogoutTokenError::Invalid("no matching key".into()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| LogoutTokenError::Invalid(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&unverified_iss]);
    validation.set_audience(&[&provider.config.client_id]);
    validation.set_required_spec_claims(&["iss", "aud", "iat"]);
    validation.validate_exp = false; // optional in logout tokens; `iat` bounds the age instead
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| LogoutTokenError::Invalid(e.to_string()))?;
    let claims = data.claims;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if claims.iat > now + SKEW_SECONDS {
        return Err(LogoutTokenError::Rules("iat in the future"));
    }
    if claims.iat < now - MAX_AGE_SECONDS {
        return Err(LogoutTokenError::Rules("too old"));
    }
    let has_event = claims
        .events
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|events| events.contains_key(LOGOUT_EVENT));
    if !has_event {
        return Err(LogoutTokenError::Rules("no back-channel logout event"));
    }
    if claims.nonce.is_some() {
        return Err(LogoutTokenError::Rules("a nonce is forbidden"));
    }
    if claims.sid.is_none() && claims.sub.is_none() {
        return Err(LogoutTokenError::Rules("neither sid nor sub"));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty())
        .ok_or(LogoutTokenError::Rules("no jti"))?;
    Ok(LogoutToken {
        provider: provider.config.id.clone(),
        issuer: claims.iss,
        jti,
        sid: claims.sid,
        subject: claims.sub,
    })
}

fn unverified_issuer(token: &str) -> Option<String> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}
