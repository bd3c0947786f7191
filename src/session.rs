//! Login state kept on the server: sessions, pending logins, and seen logout tokens.
//!
//! Sessions live in the database (not in a signed cookie) so that any portal instance can
//! serve any request, and so that a logout, here or at the eID provider (back-channel logout
//! by `sid`), ends the session everywhere at once. The storage side is
//! the session register and the pending logins.
//!
//! The cookie holds a [`SessionToken`]: 32 random bytes. The database keeps only the token's
//! SHA-256, so a copy of the sessions table (a backup, a replica, an SQL injection elsewhere)
//! gives no cookie that logs anyone in. A plain hash is enough, with no salt or slow hash:
//! the token is random and 256 bits long, so there is nothing to guess. The OIDC `state` of a
//! pending login is kept the same way.
//!
//! Note: an ID-porten or MitID id_token holds the national identity number (`pid`,
//! `dk.cpr`), and [`Session::id_token`] is stored so that logout at the provider can send it
//! as `id_token_hint`. The portal stores it sealed under a server key
//! (`server/src/auth/seal.rs`); this crate keeps whatever text it is given.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::access::{Actor, Loa};
use crate::person::{NewPerson, Person, PersonId};

/// Random bytes in a session token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;
/// Length of the cookie value: 32 bytes in base64url without padding.
const TOKEN_COOKIE_LEN: usize = 43;

/// The secret that names a session: the value of the session cookie.
///
/// Neither `Debug` nor `Display` shows it (`SessionToken(…)`); the value comes out only through
/// [`as_cookie_value`](SessionToken::as_cookie_value), for the `Set-Cookie` header.
#[derive(Clone)]
pub struct SessionToken([u8; TOKEN_BYTES]);

impl SessionToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> SessionToken {
        let mut bytes = [0_u8; TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SessionToken(bytes)
    }

    /// The token as the cookie carries it: base64url without padding, 43 characters.
    pub fn as_cookie_value(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads a cookie value back. `None` for anything that is not exactly what
    /// [`as_cookie_value`](SessionToken::as_cookie_value) makes (wrong length, other alphabet,
    /// padding, non-canonical last character), so a malformed cookie costs no database look-up.
    pub fn from_cookie_value(value: &str) -> Option<SessionToken> {
        if value.len() != TOKEN_COOKIE_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        let bytes: [u8; TOKEN_BYTES] = bytes.try_into().ok()?;
        Some(SessionToken(bytes))
    }

    /// What the database stores and looks up instead of the token.
    pub(crate) fn hash(&self) -> [u8; 32] {
        sha256(&self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// SHA-256 of `bytes`: how session tokens and login states are stored.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A logged-in session, as stored on the server.
///
/// `Debug` shows who, at what level, with which provider and the times; not the id_token
/// (which holds the national id), nor the provider's `sub` and `sid`.
#[derive(Clone)]
pub struct Session {
    /// Who is logged in.
    pub person: PersonId,
    /// The level of assurance the eID asserted at the last (step-up) login.
    pub loa: Loa,
    /// When the person last authenticated at the eID (`auth_time`), for "log in again if older
    /// than ..." rules.
    pub auth_time: OffsetDateTime,
    /// Which eID provider (the portal's configured name, e.g. `idporten`).
    pub provider: String,
    /// The provider's `sub` for this person (pairwise: differs per client). Back-channel
    /// logout may name the person by it.
    pub subject_claim: String,
    /// The provider's session id (`sid`), for front- and back-channel logout; not every
    /// provider sends one.
    pub sid: Option<String>,
    /// The id_token from the login, sent back as `id_token_hint` at logout (as the portal
    /// stored it: sealed).
    pub id_token: SecretString,
    /// When the session was created (UTC).
    pub created_at: OffsetDateTime,
    /// When the session was last used, as far as [`touch_session`] was told: the idle timeout
    /// counts from here.
    ///
    /// [`touch_session`]: crate::Database::touch_session
    pub last_seen_at: OffsetDateTime,
    /// The absolute end of the session, however active it is.
    pub expires_at: OffsetDateTime,
    /// Whom the person chose to act for (a delegation's giver, a minor in their care);
    /// `None`: themself. Only a choice: every request asks the policy again
    /// ([`Database::decide_access`](crate::Database::decide_access)).
    pub acting_for: Option<PersonId>,
}

impl Session {
    /// The actor this session makes requests as, for [`Policy::authorize`](crate::Policy).
    pub fn actor(&self) -> Actor {
        Actor::Citizen {
            person: self.person,
            loa: self.loa,
        }
    }

    /// Whether the session is over at `now`: past its absolute end, or unused for
    /// `idle_timeout`. Valid while `now < expires_at` and `now < last_seen_at + idle_timeout`.
    pub fn is_expired(&self, now: OffsetDateTime, idle_timeout: Duration) -> bool {
        now >= self.expires_at || now >= self.last_seen_at.saturating_add(idle_timeout)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("person", &self.person)
            .field("loa", &self.loa)
            .field("acting_for", &self.acting_for)
            .field("auth_time", &self.auth_time)
            .field("provider", &self.provider)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a login hands to [`Database::create_session`](crate::Database::create_session);
/// the store adds the token and the timestamps.
#[derive(Clone)]
pub struct NewSession {
    /// Who logged in.
    pub person: PersonId,
    /// The level of assurance from the verified id_token's `acr`/`loa`.
    pub loa: Loa,
    /// The id_token's `auth_time`.
    pub auth_time: OffsetDateTime,
    /// Which eID provider.
    pub provider: String,
    /// The id_token's `sub`.
    pub subject_claim: String,
    /// The id_token's `sid`, if any.
    pub sid: Option<String>,
    /// The raw id_token, for `id_token_hint` at logout.
    pub id_token: SecretString,
    /// How long the session may last at most, from now, however active it is.
    pub absolute_lifetime: Duration,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("person", &self.person)
            .field("loa", &self.loa)
            .field("provider", &self.provider)
            .field("absolute_lifetime", &self.absolute_lifetime)
            .finish_non_exhaustive()
    }
}

/// A login that has been sent to the eID provider and not come back yet: what the callback
/// needs to check the answer (OIDC `state`, `nonce`, the PKCE verifier) and where to go after.
///
/// Stored under the SHA-256 of `state`, and taken (read and deleted) at the callback, so each
/// authorization response is accepted at most once.
#[derive(Clone)]
pub struct NewLoginState {
    /// The OIDC `state` sent in the authorization request: random, unguessable.
    pub state: String,
    /// The OIDC `nonce`, to be found again in the id_token.
    pub nonce: String,
    /// The PKCE code verifier (S256), sent with the code to the token endpoint.
    pub pkce_verifier: SecretString,
    /// Which eID provider the login went to (the callback must be answered by the same one).
    pub provider: String,
    /// The level asked for (`acr_values`); the answer's level must reach it.
    pub requested_loa: Loa,
    /// Where to send the person after login: a local path, validated by the caller.
    pub return_to: String,
    /// The provider was asked to log the person in again (`prompt=login`: a step-up): the
    /// login that comes back must have been made after this one started (`auth_time`).
    pub reauthenticate: bool,
    /// The signing job this fresh login is to sign, set only by the "sign" form: the callback
    /// records the signature with the id_token it verified. `None`: an ordinary login.
    pub signs: Option<crate::signing::SigningJobId>,
    /// After this the login is abandoned and its state no longer accepted.
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for NewLoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewLoginState")
            .field("provider", &self.provider)
            .field("requested_loa", &self.requested_loa)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A pending login taken back at the callback: the same fields as [`NewLoginState`].
#[derive(Clone)]
pub struct LoginState {
    /// The OIDC `state` it was found by.
    pub state: String,
    /// The OIDC `nonce` to compare with the id_token's.
    pub nonce: String,
    /// The PKCE code verifier for the token request.
    pub pkce_verifier: SecretString,
    /// Which eID provider the login went to.
    pub provider: String,
    /// The level asked for.
    pub requested_loa: Loa,
    /// Where to go after login (as stored; validated when it was stored).
    pub return_to: String,
    /// The provider was asked to log the person in again.
    pub reauthenticate: bool,
    /// The signing job this login is to sign, if the "sign" form started it.
    pub signs: Option<crate::signing::SigningJobId>,
    /// When the login was started (stored).
    pub started_at: OffsetDateTime,
    /// When the pending login would have been abandoned.
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for LoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginState")
            .field("provider", &self.provider)
            .field("requested_loa", &self.requested_loa)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A login the eID provider has vouched for, ready to become a session: what the login
/// callback hands to [`Database::complete_login`](crate::Database::complete_login), which
/// registers the person, ends the browser's previous session, starts the new one and records
/// the login, all in one transaction.
pub struct CompletedLogin {
    /// Who logged in, with the names the eID sent.
    pub person: NewPerson,
    /// Whether the eID sent names: then they replace the register's (names change at
    /// marriage); else the register's are kept (a new person gets empty ones).
    pub names_sent: bool,
    /// The level of assurance from the verified id_token.
    pub loa: Loa,
    /// The id_token's `auth_time`.
    pub auth_time: OffsetDateTime,
    /// Which eID provider.
    pub provider: String,
    /// The id_token's `sub`.
    pub subject_claim: String,
    /// The id_token's `sid`, if any.
    pub sid: Option<String>,
    /// The id_token as kept for the logout hint (sealed by the caller).
    pub id_token: SecretString,
    /// How long the session may last at most.
    pub absolute_lifetime: Duration,
    /// The browser's session before this login, if its cookie came along: it ends here, and
    /// a login that raises its level for the same person is a step-up.
    pub previous: Option<SessionToken>,
    /// The idle timeout, to tell whether the previous session was still alive.
    pub idle_timeout: Duration,
    /// The login continues the previous session's visit whatever its level (the fresh login
    /// a signature asks for): the same person goes on acting for whom they acted for, as after
    /// a step-up. An ordinary login again starts as oneself.
    pub continues_visit: bool,
}

impl fmt::Debug for CompletedLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletedLogin")
            .field("loa", &self.loa)
            .field("provider", &self.provider)
            .field("names_sent", &self.names_sent)
            .finish_non_exhaustive()
    }
}

/// What a completed login made.
#[derive(Debug)]
pub struct LoginRecord {
    /// The new session's token, for the cookie (only its hash is stored).
    pub token: SessionToken,
    /// The new session.
    pub session: Session,
    /// The person, as the register has them now.
    pub person: Person,
    /// Whether the login raised the level of the same person's live session.
    pub stepped_up: bool,
}

/// Whether a login at `loa` by `person` raises the level of the browser's live `previous`
/// session: a step-up (audited as such), not a new login.
pub fn is_step_up(previous: Option<&Session>, person: PersonId, loa: Loa) -> bool {
    previous.is_some_and(|previous| previous.person == person && previous.loa < loa)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[test]
    fn tokens_are_random_and_round_trip_through_the_cookie() {
        let first = SessionToken::generate();
        let second = SessionToken::generate();
        let value = first.as_cookie_value();
        assert_eq!(value.len(), 43);
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(value, second.as_cookie_value());
        let back = SessionToken::from_cookie_value(&value).unwrap();
        assert_eq!(back.as_cookie_value(), value);
        assert_eq!(back.hash(), first.hash());
        assert_ne!(first.hash(), second.hash());
    }

    #[test]
    fn malformed_cookie_values_are_refused() {
        let good = SessionToken::generate().as_cookie_value();
        let too_short = &good[..42];
        let too_long = format!("{good}A");
        let padded = format!("{}=", &good[..42]);
        let standard_alphabet = format!("{}+", &good[..42]);
        // The last character carries 4 unused bits; only one spelling of each token is valid.
        let non_canonical = format!("{}B", &"A".repeat(42));
        let canonical = format!("{}A", &"A".repeat(42));
        for bad in [
            "",
            too_short,
            too_long.as_str(),
            padded.as_str(),
            standard_alphabet.as_str(),
            non_canonical.as_str(),
            "ÆØÅ",
        ] {
            assert!(SessionToken::from_cookie_value(bad).is_none(), "{bad:?}");
        }
        assert!(SessionToken::from_cookie_value(&canonical).is_some());
    }

    #[test]
    fn only_a_higher_level_for_the_same_person_is_a_step_up() {
        let now = OffsetDateTime::now_utc();
        let kari = PersonId::new();
        let running = Session {
            person: kari,
            loa: Loa::Substantial,
            auth_time: now,
            provider: "idporten".to_owned(),
            subject_claim: "sub".to_owned(),
            sid: None,
            id_token: SecretString::from("token"),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(8),
            acting_for: None,
        };
        assert!(is_step_up(Some(&running), kari, Loa::High));
        assert!(
            !is_step_up(Some(&running), kari, Loa::Substantial),
            "same level"
        );
        assert!(
            !is_step_up(Some(&running), PersonId::new(), Loa::High),
            "another person"
        );
        assert!(!is_step_up(None, kari, Loa::High), "no session before");
    }

    #[test]
    fn debug_hides_the_token() {
        let token = SessionToken::generate();
        let debug = format!("{token:?}");
        assert_eq!(debug, "SessionToken(…)");
        assert!(!debug.contains(&token.as_cookie_value()));
    }

    #[test]
    fn session_debug_hides_id_token_sub_and_sid() {
        let now = OffsetDateTime::now_utc();
        let session = Session {
            person: PersonId::new(),
            loa: Loa::High,
            auth_time: now,
            provider: "idporten".to_owned(),
            subject_claim: "pairwise-sub-value".to_owned(),
            sid: Some("provider-session-id".to_owned()),
            id_token: SecretString::from("eyJ.secret-id-token.sig"),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(8),
            acting_for: None,
        };
        let debug = format!("{session:?}");
        for hidden in [
            "secret-id-token",
            "pairwise-sub-value",
            "provider-session-id",
        ] {
            assert!(!debug.contains(hidden), "{debug}");
        }
        assert!(debug.contains("idporten"), "{debug}");
        assert_eq!(session.id_token.expose_secret(), "eyJ.secret-id-token.sig");
        assert_eq!(
            session.actor(),
            Actor::Citizen {
                person: session.person,
                loa: Loa::High
            }
        );
    }

    #[test]
    fn expiry_rules() {
        let now = OffsetDateTime::now_utc();
        let idle = Duration::minutes(30);
        let session = Session {
            person: PersonId::new(),
            loa: Loa::Substantial,
            auth_time: now,
            provider: "idporten".to_owned(),
            subject_claim: "sub".to_owned(),
            sid: None,
            id_token: SecretString::from("t"),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(2),
            acting_for: None,
        };
        assert!(!session.is_expired(now, idle));
        assert!(!session.is_expired(now + idle - Duration::microseconds(1), idle));
        assert!(session.is_expired(now + idle, idle), "idle");
        let active = Session {
            last_seen_at: now + Duration::hours(2) - Duration::minutes(1),
            ..session
        };
        assert!(!active.is_expired(now + Duration::hours(2) - Duration::seconds(1), idle));
        assert!(
            active.is_expired(now + Duration::hours(2), idle),
            "absolute"
        );
    }

    #[test]
    fn login_state_debug_hides_state_nonce_and_verifier() {
        let new = NewLoginState {
            state: "state-value".to_owned(),
            nonce: "nonce-value".to_owned(),
            pkce_verifier: SecretString::from("verifier-value"),
            provider: "idporten".to_owned(),
            requested_loa: Loa::High,
            return_to: "/post".to_owned(),
            reauthenticate: true,
            signs: None,
            expires_at: OffsetDateTime::now_utc(),
        };
        let debug = format!("{new:?}");
        for hidden in ["state-value", "nonce-value", "verifier-value"] {
            assert!(!debug.contains(hidden), "{debug}");
        }
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        let digest = sha256(b"abc");
        assert_eq!(
            digest[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256(\"abc\") starts ba7816bf"
        );
    }
}
