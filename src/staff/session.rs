//! Staff sessions and pending staff logins: the same scheme as citizens' (a random token in the
//! cookie, only its SHA-256 stored; a one-time `state` row per login), in their own types and
//! tables, so a staff token can never name a citizen's session nor the other way round.

use std::fmt;

use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

use super::member::{MunicipalityId, StaffMember, StaffRole};
use crate::session::SessionToken;

/// The secret in the staff session cookie. Its own type: nothing that takes a citizen's
/// [`SessionToken`] takes it. Neither `Debug` nor `Display` shows it.
#[derive(Clone)]
pub struct StaffToken(SessionToken);

impl StaffToken {
    pub fn generate() -> StaffToken {
        StaffToken(SessionToken::generate())
    }

    pub fn as_cookie_value(&self) -> String {
        self.0.as_cookie_value()
    }

    /// `None` for anything the portal did not make (as [`SessionToken::from_cookie_value`]).
    pub fn from_cookie_value(value: &str) -> Option<StaffToken> {
        SessionToken::from_cookie_value(value).map(StaffToken)
    }

    pub(crate) fn hash(&self) -> [u8; 32] {
        self.0.hash()
    }
}

impl fmt::Debug for StaffToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaffToken(…)")
    }
}

/// A logged-in member of staff, as stored. The role is the one decided at login; a change at
/// the provider counts from the next login (the idle timeout is short).
#[derive(Clone)]
pub struct StaffSession {
    pub member: StaffMember,
    /// The provider's session id, for logout.
    pub sid: Option<String>,
    /// The id_token as the server sealed it, for the logout hint.
    pub id_token: SecretString,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl StaffSession {
    /// Over at `now`: past its absolute end, or unused for `idle_timeout`.
    pub fn is_expired(&self, now: OffsetDateTime, idle_timeout: Duration) -> bool {
        now >= self.expires_at || now >= self.last_seen_at.saturating_add(idle_timeout)
    }
}

impl fmt::Debug for StaffSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffSession")
            .field("member", &self.member)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A staff login sent to the municipality's provider.
pub struct NewStaffLoginState {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: SecretString,
    pub municipality: MunicipalityId,
    pub expires_at: OffsetDateTime,
}

/// A pending staff login, taken (once) at the callback.
pub struct StaffLoginState {
    pub nonce: String,
    pub pkce_verifier: SecretString,
    pub municipality: MunicipalityId,
    pub started_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for StaffLoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffLoginState")
            .field("municipality", &self.municipality)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What the staff callback stores in one transaction (`Database::complete_staff_login`).
pub struct CompletedStaffLogin {
    pub member: StaffMember,
    pub sid: Option<String>,
    /// Sealed by the server.
    pub id_token: SecretString,
    pub absolute_lifetime: Duration,
    /// The browser's earlier staff session, ended by this login.
    pub previous: Option<StaffToken>,
}

/// What the staff log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffAuditKind {
    Login,
    LoginRefused,
    Logout,
}

impl StaffAuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffAuditKind::Login => "staff.login",
            StaffAuditKind::LoginRefused => "staff.login_refused",
            StaffAuditKind::Logout => "staff.logout",
        }
    }

    pub fn from_str_name(name: &str) -> Option<StaffAuditKind> {
        match name {
            "staff.login" => Some(StaffAuditKind::Login),
            "staff.login_refused" => Some(StaffAuditKind::LoginRefused),
            "staff.logout" => Some(StaffAuditKind::Logout),
            _ => None,
        }
    }
}

/// One entry of a municipality's staff log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAuditEvent {
    pub municipality: MunicipalityId,
    pub subject: String,
    pub name: String,
    /// `None` for a refused login without a role.
    pub role: Option<StaffRole>,
    pub kind: StaffAuditKind,
    /// A refusal's code ([`StaffRefusal::as_code`](super::StaffRefusal::as_code)).
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_tokens_round_trip_and_never_print() {
        let token = StaffToken::generate();
        let value = token.as_cookie_value();
        assert_eq!(
            StaffToken::from_cookie_value(&value).unwrap().hash(),
            token.hash()
        );
        assert!(!format!("{token:?}").contains(&value));
        assert!(StaffToken::from_cookie_value("nope").is_none());
    }

    #[test]
    fn a_staff_session_ends_when_idle_or_old() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let session = StaffSession {
            member: StaffMember {
                municipality: MunicipalityId::parse("oslo").unwrap(),
                subject: "s".to_owned(),
                name: "n".to_owned(),
                role: StaffRole::Caseworker,
            },
            sid: None,
            id_token: SecretString::from("x"),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::hours(10),
        };
        let idle = Duration::minutes(15);
        assert!(!session.is_expired(now + Duration::minutes(14), idle));
        assert!(session.is_expired(now + Duration::minutes(15), idle));
        let mut busy = session.clone();
        busy.last_seen_at = now + Duration::hours(10);
        assert!(
            busy.is_expired(now + Duration::hours(10), idle),
            "absolute end"
        );
    }

    #[test]
    fn audit_kinds_read_back() {
        for kind in [
            StaffAuditKind::Login,
            StaffAuditKind::LoginRefused,
            StaffAuditKind::Logout,
        ] {
            assert_eq!(StaffAuditKind::from_str_name(kind.as_str()), Some(kind));
        }
    }
}
