//! The agencies' question "may holder H act for giver G under scope S now?"
//! (`POST /api/v1/authority/check`), answered from the same facts the portal's own policy
//! reads for the pair ([`AuthorityFact`], `Database::authority_facts`).

use time::{Date, OffsetDateTime};

use super::AuthorityFact;
use crate::delegation::{today, DelegationId, Scope, State};
use crate::person::PersonId;

/// The most questions one call may ask.
pub const MAX_AUTHORITY_CHECKS: usize = 100;

/// One question: may `holder` act for `giver` under `scope` now?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityQuestion {
    /// Who would act.
    pub holder: crate::identity::NationalId,
    /// For whom.
    pub giver: crate::identity::NationalId,
    /// Under which scope.
    pub scope: Scope,
}

/// What the register answers to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorityAnswer {
    /// The holder may act for the giver under the scope now.
    Permit {
        /// On what grounds.
        basis: CheckBasis,
        /// The last day it holds (inclusive, Nordic local time).
        ends_on: Date,
    },
    /// No authority in force for that scope (also for persons the register does not know,
    /// so that the answer reveals no more than the contact look-up does).
    Deny,
}

/// The grounds of a permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckBasis {
    /// An active delegation with the scope, in force.
    Delegation(DelegationId),
    /// The holder is the giver's guardian and the giver is a minor.
    Guardian,
}

/// Whether `holder` may act for `giver` under `scope` at `now`, from the pair's facts.
///
/// - A guardianship in force (listed, the minor under 18) permits any scope with the basis
///   `guardian` and the day before the 18th birthday: a guardian is the minor's legal
///   representative, and an agency applies its own rules to what a guardian may do there.
/// - Else an active delegation in force whose grant of `scope` has not ended permits with the
///   basis `delegation` and that grant's end date (the longest, if several delegations have
///   it). A requested, declined, revoked or expired delegation permits nothing.
/// - Anything else is [`AuthorityAnswer::Deny`]. A person acting for themself is not a
///   question of authority: denied too.
pub fn answer(
    holder: PersonId,
    giver: PersonId,
    scope: Scope,
    facts: &[AuthorityFact],
    now: OffsetDateTime,
) -> AuthorityAnswer {
    if holder == giver {
        return AuthorityAnswer::Deny;
    }
    let day = today(now);
    let mut best: Option<(DelegationId, Date)> = None;
    for fact in facts {
        match fact {
            AuthorityFact::Guardian(guardianship)
                if guardianship.guardian == holder
                    && guardianship.minor == giver
                    && guardianship.in_force(now) =>
            {
                return AuthorityAnswer::Permit {
                    basis: CheckBasis::Guardian,
                    ends_on: guardianship.last_day(),
                };
            }
            AuthorityFact::Delegation(fact)
                if fact.holder == holder
                    && fact.giver == giver
                    && State::at(fact.state, fact.created_at, &fact.scopes, now)
                        == State::Active =>
            {
                let ends_on = fact
                    .scopes
                    .iter()
                    .filter(|grant| grant.scope == scope && grant.in_force_on(day))
                    .map(|grant| grant.ends_on)
                    .max();
                if let Some(ends_on) = ends_on {
                    if best.is_none_or(|(_, known)| ends_on > known) {
                        best = Some((fact.delegation, ends_on));
                    }
                }
            }
            AuthorityFact::Guardian(_) | AuthorityFact::Delegation(_) => {}
        }
    }
    match best {
        Some((delegation, ends_on)) => AuthorityAnswer::Permit {
            basis: CheckBasis::Delegation(delegation),
            ends_on,
        },
        None => AuthorityAnswer::Deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::DelegationFact;
    use crate::delegation::{Guardianship, ScopeGrant, ServiceScopeId, StoredState};
    use time::macros::{date, datetime};

    fn delegation(holder: PersonId, giver: PersonId, state: StoredState) -> DelegationFact {
        DelegationFact {
            delegation: DelegationId::new(),
            giver,
            holder,
            state,
            created_at: datetime!(2026-01-01 10:00 UTC),
            scopes: vec![
                ScopeGrant {
                    scope: Scope::ReadPost,
                    ends_on: date!(2026 - 06 - 30),
                },
                ScopeGrant {
                    scope: Scope::Service(ServiceScopeId::parse("nav.dagpenger").unwrap()),
                    ends_on: date!(2027 - 01 - 31),
                },
            ],
        }
    }

    #[test]
    fn a_delegation_in_force_permits_its_scopes_until_their_end() {
        let (holder, giver) = (PersonId::new(), PersonId::new());
        let fact = delegation(holder, giver, StoredState::Active);
        let id = fact.delegation;
        let facts = [AuthorityFact::Delegation(fact)];
        let now = datetime!(2026-03-01 12:00 UTC);
        let service = Scope::Service(ServiceScopeId::parse("nav.dagpenger").unwrap());
        assert_eq!(
            answer(holder, giver, service, &facts, now),
            AuthorityAnswer::Permit {
                basis: CheckBasis::Delegation(id),
                ends_on: date!(2027 - 01 - 31)
            }
        );
        assert_eq!(
            answer(holder, giver, Scope::ManagePost, &facts, now),
            AuthorityAnswer::Deny
        );
        // The other way round, or for someone else: nothing.
        assert_eq!(
            answer(giver, holder, Scope::ReadPost, &facts, now),
            AuthorityAnswer::Deny
        );
        // After the read scope's last day it is over, the service scope still holds.
        let later = datetime!(2026-07-01 12:00 UTC);
        assert_eq!(
            answer(holder, giver, Scope::ReadPost, &facts, later),
            AuthorityAnswer::Deny
        );
        assert!(matches!(
            answer(holder, giver, service, &facts, later),
            AuthorityAnswer::Permit { .. }
        ));
        for state in [
            StoredState::Requested,
            StoredState::Declined,
            StoredState::Revoked,
        ] {
            let facts = [AuthorityFact::Delegation(delegation(holder, giver, state))];
            assert_eq!(
                answer(holder, giver, service, &facts, now),
                AuthorityAnswer::Deny
            );
        }
    }

    #[test]
    fn a_guardian_is_permitted_until_the_day_before_the_18th_birthday() {
        let (guardian, minor) = (PersonId::new(), PersonId::new());
        let facts = [AuthorityFact::Guardian(Guardianship {
            guardian,
            minor,
            minor_born: date!(2010 - 05 - 17),
            ended_at: None,
        })];
        assert_eq!(
            answer(
                guardian,
                minor,
                Scope::SignDocuments,
                &facts,
                datetime!(2028-05-16 12:00 UTC)
            ),
            AuthorityAnswer::Permit {
                basis: CheckBasis::Guardian,
                ends_on: date!(2028 - 05 - 16)
            }
        );
        assert_eq!(
            answer(
                guardian,
                minor,
                Scope::ReadPost,
                &facts,
                datetime!(2028-05-17 12:00 UTC)
            ),
            AuthorityAnswer::Deny
        );
        assert_eq!(
            answer(
                minor,
                minor,
                Scope::ReadPost,
                &[],
                datetime!(2026-01-01 0:00 UTC)
            ),
            AuthorityAnswer::Deny
        );
    }
}
