//! A delegation as the register keeps it: giver, holder, scopes with their end dates, how it
//! came about, and its state, with "expired" derived from the clock.

use std::fmt;

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::scope::ScopeGrant;
use super::{today, REQUEST_LAPSES_AFTER};
use crate::person::PersonId;

/// A delegation's id (UUID v7). Not secret; safe in URLs and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DelegationId(Uuid);

impl DelegationId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        DelegationId(Uuid::now_v7())
    }

    /// Wraps an id read from storage or a form.
    pub fn from_uuid(id: Uuid) -> Self {
        DelegationId(id)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for DelegationId {
    fn default() -> Self {
        DelegationId::new()
    }
}

impl fmt::Display for DelegationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// How a delegation came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The giver granted it after logging in.
    Granted,
    /// The holder asked for it and the giver approved (or has yet to decide).
    Requested,
    /// Registered by borgerservice staff from a paper form the giver signed.
    Paper,
}

impl Origin {
    /// Every origin.
    pub const ALL: [Origin; 3] = [Origin::Granted, Origin::Requested, Origin::Paper];

    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Origin::Granted => "granted",
            Origin::Requested => "requested",
            Origin::Paper => "paper",
        }
    }

    /// The origin for a code from [`Origin::code`].
    pub fn from_code(code: &str) -> Option<Origin> {
        Origin::ALL.into_iter().find(|origin| origin.code() == code)
    }
}

/// The state the register stores: what people decided. Expiry is not stored (see
/// [`State`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoredState {
    /// Asked for by the holder; the giver has not decided.
    Requested,
    /// In force (subject to its scopes' end dates).
    Active,
    /// The giver said no to the request.
    Declined,
    /// Ended by the giver or the holder (a request withdrawn, or an active delegation ended).
    Revoked,
}

impl StoredState {
    /// Every stored state.
    pub const ALL: [StoredState; 4] = [
        StoredState::Requested,
        StoredState::Active,
        StoredState::Declined,
        StoredState::Revoked,
    ];

    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            StoredState::Requested => "requested",
            StoredState::Active => "active",
            StoredState::Declined => "declined",
            StoredState::Revoked => "revoked",
        }
    }

    /// The state for a code from [`StoredState::code`].
    pub fn from_code(code: &str) -> Option<StoredState> {
        StoredState::ALL
            .into_iter()
            .find(|state| state.code() == code)
    }
}

/// A delegation's state at a moment: the stored state, with expiry derived from the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for the giver (and not yet lapsed).
    Requested,
    /// In force: at least one scope's end date has not passed.
    Active,
    /// The giver said no.
    Declined,
    /// Ended by the giver or the holder.
    Revoked,
    /// Every scope's end date has passed, or a request lapsed unanswered
    /// ([`REQUEST_LAPSES_AFTER`]).
    Expired,
}

impl State {
    /// Stable code, for pages and the agency API.
    pub fn code(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Active => "active",
            State::Declined => "declined",
            State::Revoked => "revoked",
            State::Expired => "expired",
        }
    }

    /// The state at `now` of a delegation stored as `stored`, asked for at `requested_at`, with
    /// these scopes. Pure: the same facts and the same clock give the same state on every
    /// instance, and no job needs to run for an expiry to take effect.
    pub fn at(
        stored: StoredState,
        requested_at: OffsetDateTime,
        scopes: &[ScopeGrant],
        now: OffsetDateTime,
    ) -> State {
        match stored {
            StoredState::Requested if now >= requested_at + REQUEST_LAPSES_AFTER => State::Expired,
            StoredState::Requested => State::Requested,
            StoredState::Active => {
                let today = today(now);
                if scopes.iter().any(|grant| grant.in_force_on(today)) {
                    State::Active
                } else {
                    State::Expired
                }
            }
            StoredState::Declined => State::Declined,
            StoredState::Revoked => State::Revoked,
        }
    }
}

/// A delegation as the register keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// Its id.
    pub id: DelegationId,
    /// Whose authority it is: the person the holder acts for.
    pub giver: PersonId,
    /// Who may act.
    pub holder: PersonId,
    /// What the holder may do, each with its own end date (for a request: the end dates asked
    /// for).
    pub scopes: Vec<ScopeGrant>,
    /// How it came about.
    pub origin: Origin,
    /// The state people decided (see [`Delegation::state`] for the state at a moment).
    pub stored_state: StoredState,
    /// When it was made (granted, requested or registered).
    pub created_at: OffsetDateTime,
    /// When it came into force (`None` while requested, and for a declined request).
    pub starts_at: Option<OffsetDateTime>,
    /// When it was last changed (approved, declined, revoked, scopes changed).
    pub updated_at: OffsetDateTime,
    /// When the holder last used it.
    pub last_used_at: Option<OffsetDateTime>,
}

impl Delegation {
    /// Its state at `now`.
    pub fn state(&self, now: OffsetDateTime) -> State {
        State::at(self.stored_state, self.created_at, &self.scopes, now)
    }

    /// The scopes in force at `now` (none unless the delegation is active).
    pub fn scopes_in_force(&self, now: OffsetDateTime) -> Vec<ScopeGrant> {
        if self.state(now) != State::Active {
            return Vec::new();
        }
        let today = today(now);
        self.scopes
            .iter()
            .copied()
            .filter(|grant| grant.in_force_on(today))
            .collect()
    }

    /// The last end date of its scopes (when the whole delegation ends).
    pub fn ends_on(&self) -> Option<Date> {
        self.scopes.iter().map(|grant| grant.ends_on).max()
    }
}

/// A delegation in a list, with the other party's name (never their national id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationEntry {
    /// The delegation.
    pub delegation: Delegation,
    /// The other party's full name: the holder's in the giver's list, the giver's in the
    /// holder's.
    pub counterpart_name: String,
}

/// What happened to a delegation: one entry in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DelegationEventKind {
    /// The giver granted it.
    Granted,
    /// The holder asked for it.
    Requested,
    /// The giver approved the request.
    Approved,
    /// The giver declined the request.
    Declined,
    /// The giver or the holder ended it (or withdrew the request).
    Revoked,
    /// Its scopes or end dates were changed.
    Changed,
    /// Registered from paper.
    RegisteredFromPaper,
}

impl DelegationEventKind {
    /// Every kind.
    pub const ALL: [DelegationEventKind; 7] = [
        DelegationEventKind::Granted,
        DelegationEventKind::Requested,
        DelegationEventKind::Approved,
        DelegationEventKind::Declined,
        DelegationEventKind::Revoked,
        DelegationEventKind::Changed,
        DelegationEventKind::RegisteredFromPaper,
    ];

    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            DelegationEventKind::Granted => "granted",
            DelegationEventKind::Requested => "requested",
            DelegationEventKind::Approved => "approved",
            DelegationEventKind::Declined => "declined",
            DelegationEventKind::Revoked => "revoked",
            DelegationEventKind::Changed => "changed",
            DelegationEventKind::RegisteredFromPaper => "registered_from_paper",
        }
    }

    /// The kind for a code from [`DelegationEventKind::code`].
    pub fn from_code(code: &str) -> Option<DelegationEventKind> {
        DelegationEventKind::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// One entry in a delegation's history: who did what, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationEvent {
    /// Which delegation.
    pub delegation: DelegationId,
    /// What happened.
    pub kind: DelegationEventKind,
    /// Who did it (the giver, the holder; later staff).
    pub actor: Option<PersonId>,
    /// When.
    pub at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegation::scope::Scope;
    use time::macros::{date, datetime};
    use time::Duration;

    #[test]
    fn codes_round_trip() {
        for origin in Origin::ALL {
            assert_eq!(Origin::from_code(origin.code()), Some(origin));
        }
        for state in StoredState::ALL {
            assert_eq!(StoredState::from_code(state.code()), Some(state));
        }
        for kind in DelegationEventKind::ALL {
            assert_eq!(DelegationEventKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(StoredState::from_code("expired"), None, "never stored");
    }

    #[test]
    fn an_active_delegation_expires_after_its_last_end_date() {
        let created = datetime!(2026-01-10 10:00 UTC);
        let scopes = [
            ScopeGrant {
                scope: Scope::ReadPost,
                ends_on: date!(2026 - 03 - 31),
            },
            ScopeGrant {
                scope: Scope::ManageContact,
                ends_on: date!(2026 - 02 - 28),
            },
        ];
        let at = |now| State::at(StoredState::Active, created, &scopes, now);
        assert_eq!(at(datetime!(2026-03-31 21:59 UTC)), State::Active);
        // Midnight in Oslo (summer time from 29 March: UTC+2).
        assert_eq!(at(datetime!(2026-03-31 22:00 UTC)), State::Expired);
        let delegation = Delegation {
            id: DelegationId::new(),
            giver: PersonId::new(),
            holder: PersonId::new(),
            scopes: scopes.to_vec(),
            origin: Origin::Granted,
            stored_state: StoredState::Active,
            created_at: created,
            starts_at: Some(created),
            updated_at: created,
            last_used_at: None,
        };
        assert_eq!(delegation.ends_on(), Some(date!(2026 - 03 - 31)));
        assert_eq!(
            delegation.scopes_in_force(datetime!(2026-03-01 12:00 UTC)),
            vec![scopes[0]]
        );
        assert_eq!(
            delegation
                .scopes_in_force(datetime!(2026-02-01 12:00 UTC))
                .len(),
            2
        );
        assert!(delegation
            .scopes_in_force(datetime!(2026-04-01 12:00 UTC))
            .is_empty());
    }

    #[test]
    fn a_request_lapses_after_thirty_days() {
        let asked = datetime!(2026-01-10 10:00 UTC);
        let scopes = [ScopeGrant {
            scope: Scope::ReadPost,
            ends_on: date!(2027 - 01 - 01),
        }];
        let at = |now| State::at(StoredState::Requested, asked, &scopes, now);
        assert_eq!(
            at(asked + Duration::days(30) - Duration::MICROSECOND),
            State::Requested
        );
        assert_eq!(at(asked + Duration::days(30)), State::Expired);
        // Decisions people made stay as they are.
        for stored in [StoredState::Declined, StoredState::Revoked] {
            let state = State::at(stored, asked, &scopes, asked + Duration::days(999));
            assert_eq!(state.code(), stored.code());
        }
    }
}
