//! Authority to act for others: delegations (fullmakt, fuldmagt) and guardianship of minors.
//!
//! - [`scope`]: what a helper may do ([`Scope`], with service scopes agencies define,
//!   [`ServiceScope`]), each granted with its own end date ([`ScopeGrant`]); what guardians
//!   get ([`GUARDIAN_SCOPES`]).
//! - [`model`]: a [`Delegation`]: giver, holder, scopes, [`Origin`], and its state: what
//!   people decided is stored ([`StoredState`]: requested, active, declined, revoked); whether
//!   it has expired is derived from the end dates and the clock ([`State::at`]), so an expiry
//!   takes effect at once on every instance with no job to run.
//! - [`rules`]: the rules a delegation keeps, as pure functions ([`check_parties`],
//!   [`check_scopes`], [`check_no_open_request`]) over configurable [`DelegationRules`].
//! - [`guardian`]: a [`Guardianship`] from the population register, over by itself on the
//!   minor's 18th birthday ([`coming_of_age`]).
//! - [`extract`]: the population register extract guardianships are imported from (format
//!   documented there).
//! - [`notice`]: what the parties are told about a change (a request, a grant, a revocation,
//!   the first use) and when about the end ([`END_NOTICE_DAYS`] before it), as messages for
//!   the outbox.
//!
//! What a delegation or guardianship lets a helper do with the giver's data is decided by the
//! access policy ([`Policy::decide`](crate::access::Policy::decide)) over the facts storage
//! reads for exactly that (holder, giver) pair on each request. Storage (`storage/delegation.rs`,
//! `storage/guardian.rs`) writes what the rules here decided.
//!
//! Days: end dates are inclusive and read on the Nordic wall clock ([`today`]).

pub mod extract;
pub mod guardian;
pub mod model;
pub mod notice;
pub mod rules;
pub mod scope;

use time::{Duration, OffsetDateTime};

pub use extract::{parse_extract, Extract, ExtractError, ExtractPerson, ExtractProblem};
pub use guardian::{coming_of_age, Guardianship, AGE_OF_MAJORITY};
pub use model::{
    Delegation, DelegationEntry, DelegationEvent, DelegationEventKind, DelegationId, Origin, State,
    StoredState,
};
pub use notice::{
    end_notice_due, end_notice_window, notice_notifications, revocation_notice, Notice, Party,
    END_NOTICE_DAYS,
};
pub use rules::{
    add_years, age_on, check_no_open_request, check_parties, check_scopes, is_of_age,
    DelegationError, DelegationRules,
};
pub use scope::{
    InvalidServiceScopeId, Scope, ScopeGrant, ServiceScope, ServiceScopeId, GUARDIAN_SCOPES,
};

use crate::notify::NordicTimeZone;

/// A request the giver has not answered lapses this long after it was made.
pub const REQUEST_LAPSES_AFTER: Duration = Duration::days(30);

/// The day it is at `now` on the Nordic wall clock, by which end dates and 18th birthdays are
/// counted. Europe/Oslo and Europe/Copenhagen have kept the same rules since 1980, so one
/// zone serves both countries.
pub fn today(now: OffsetDateTime) -> time::Date {
    NordicTimeZone::Oslo.local_date(now)
}

/// A person the holder can act for, for the "act for whom" chooser: the giver's name and on
/// what basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActFor {
    /// Whom.
    pub person: crate::person::PersonId,
    /// Their full name (never their national id).
    pub name: String,
    /// Guardian of a minor, or the delegations in force (possibly several).
    pub basis: ActForBasis,
    /// The last day any of it is in force.
    pub until: time::Date,
}

/// Why a holder can act for someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActForBasis {
    /// As their guardian.
    Guardian,
    /// By a delegation.
    Delegation(DelegationId),
}
