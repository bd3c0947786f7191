//! A signature's evidence: what the eID said when the signer logged in again to sign, and the
//! rule that it is fresh enough and at the job's level.

use std::fmt;

use time::{Duration, OffsetDateTime};

use super::SigningError;
use crate::access::Loa;

/// How long after the fresh login a signature may still use it.
pub const FRESH_LOGIN_WINDOW: Duration = Duration::minutes(10);
/// The clocks' skew allowed between the portal and the eID (`auth_time` is in whole seconds):
/// as the login's own check of `auth_time` after a forced login.
pub const CLOCK_SKEW: Duration = Duration::seconds(60);

/// What the signer's fresh eID login proved, as the server read it from the verified
/// id_token. The token itself is kept as the eID signed it: anyone can check it later with the
/// provider's published key.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureEvidence {
    /// The level the eID vouched for (`acr`).
    pub loa: Loa,
    /// When the eID says the person authenticated (`auth_time`).
    pub auth_time: OffsetDateTime,
    /// When the person asked to sign (the click that sent them to the eID).
    pub requested_at: OffsetDateTime,
    /// Which eID: the provider's name (`idporten`, `mitid`) and method if known.
    pub eid: String,
    /// The name the eID gave.
    pub name: String,
    /// The id_token as received (a JWS).
    pub id_token: String,
}

impl fmt::Debug for SignatureEvidence {
    /// Without the token (it names the person).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureEvidence")
            .field("loa", &self.loa)
            .field("auth_time", &self.auth_time)
            .field("requested_at", &self.requested_at)
            .field("eid", &self.eid)
            .finish_non_exhaustive()
    }
}

impl SignatureEvidence {
    /// Whether this login may sign a job that needs `required` at `now`: at that level or
    /// higher, authenticated after the click (`prompt=login` was honoured, not an old
    /// session reused; within [`CLOCK_SKEW`]), and no longer ago than [`FRESH_LOGIN_WINDOW`].
    pub fn check(&self, required: Loa, now: OffsetDateTime) -> Result<(), SigningError> {
        let fresh = self.auth_time + CLOCK_SKEW >= self.requested_at
            && self.auth_time <= now + CLOCK_SKEW
            && now - self.auth_time <= FRESH_LOGIN_WINDOW;
        if self.loa < required || !fresh {
            return Err(SigningError::NeedsFreshLogin);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CLICK: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

    fn login(loa: Loa, after_click: Duration) -> SignatureEvidence {
        SignatureEvidence {
            loa,
            auth_time: CLICK + after_click,
            requested_at: CLICK,
            eid: "idporten".into(),
            name: "Kari Nordmann".into(),
            id_token: "eyJ…".into(),
        }
    }

    #[test]
    fn a_signature_needs_a_fresh_login_after_the_click_at_the_jobs_level() {
        let now = CLICK + Duration::minutes(2);
        let good = login(Loa::High, Duration::seconds(30));
        assert!(good.check(Loa::High, now).is_ok());
        assert!(good.check(Loa::Substantial, now).is_ok());
        // Too low a level.
        let low = login(Loa::Substantial, Duration::seconds(30));
        assert_eq!(
            low.check(Loa::High, now).unwrap_err().code(),
            "signing.needs_fresh_login"
        );
        // A login from before the click: an old session, not a fresh authentication.
        let old = login(Loa::High, -Duration::minutes(5));
        assert!(old.check(Loa::Substantial, now).is_err());
        // Fresh once, but too long ago now.
        assert!(good
            .check(Loa::High, CLICK + Duration::minutes(11))
            .is_err());
        // An auth_time in the future is not believed.
        assert!(login(Loa::High, Duration::minutes(5))
            .check(Loa::High, CLICK)
            .is_err());
        assert!(
            !format!("{good:?}").contains("eyJ"),
            "the token stays out of logs"
        );
    }
}
