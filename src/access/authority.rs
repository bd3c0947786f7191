//! The policy for someone else's data: a pure decision over the authority facts storage reads
//! for exactly one (holder, giver) pair on each request (`Database::authority_facts`), so a
//! revocation or an expiry takes effect on the helper's next request.

use std::marker::PhantomData;

use time::OffsetDateTime;

use super::{Access, Actor, Basis, Capability, Denied, Policy};
use crate::delegation::{
    today, ActForBasis, DelegationId, Guardianship, ScopeGrant, State, StoredState, GUARDIAN_SCOPES,
};
use crate::person::PersonId;

/// A delegation as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationFact {
    /// Which delegation.
    pub delegation: DelegationId,
    /// Whose authority.
    pub giver: PersonId,
    /// Who holds it.
    pub holder: PersonId,
    /// Its stored state.
    pub state: StoredState,
    /// When it was made (a request lapses from then).
    pub created_at: OffsetDateTime,
    /// Its scopes with their end dates.
    pub scopes: Vec<ScopeGrant>,
}

/// One fact about a helper's authority over a person's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorityFact {
    /// A delegation from the person to the helper.
    Delegation(DelegationFact),
    /// The helper is the person's guardian (per the population register).
    Guardian(Guardianship),
}

impl Policy {
    /// Whether `actor` may use capability `C` on `subject`'s data, given what the register
    /// says about the actor's authority over the subject (`authority`, read for exactly this
    /// pair) at `now`; the proof if so.
    ///
    /// - Own data: as [`Policy::authorize`] (the facts are not looked at).
    /// - Someone else's: a guardianship in force (listed, the minor under 18) whose
    ///   [`GUARDIAN_SCOPES`] include one of `C::HELPER_SCOPES`, else an active delegation with
    ///   such a scope whose end date has not passed (the one that lasts longest). The basis
    ///   says which, with its last day.
    /// - The helper's own login counts: `C::MIN_LOA` against the helper's session, whatever
    ///   the giver's. A scope never gives more than the giver could do: capabilities with no
    ///   helper scopes (managing one's own authority) are never for someone else, and service
    ///   scopes allow none of the portal's capabilities.
    /// - Refusals, authority first: no fact in force for the pair is
    ///   [`Denied::NoAuthority`] (also for a request not yet approved, a declined, revoked or
    ///   expired delegation, a former guardian); authority in force without the scope is
    ///   [`Denied::MissingScope`] naming the scope to ask for; then the level
    ///   ([`Denied::NeedsStepUp`]).
    ///
    /// Agencies never get a citizen proof.
    pub fn decide<C: Capability>(
        actor: &Actor,
        subject: PersonId,
        authority: &[AuthorityFact],
        now: OffsetDateTime,
    ) -> Result<Access<C>, Denied> {
        let helper = match actor {
            Actor::Citizen { person, .. } if *person == subject => {
                return Policy::authorize(actor, subject)
            }
            Actor::Citizen { person, .. } => *person,
            Actor::Agency { .. } => return Err(Denied::NoAuthority),
        };
        let allows = |scope| C::HELPER_SCOPES.contains(scope);
        let day = today(now);
        let mut in_force = false;
        let mut guardian = None;
        let mut delegation: Option<(DelegationId, time::Date)> = None;
        for fact in authority {
            match fact {
                AuthorityFact::Guardian(guardianship)
                    if guardianship.guardian == helper
                        && guardianship.minor == subject
                        && guardianship.in_force(now) =>
                {
                    in_force = true;
                    if GUARDIAN_SCOPES.iter().any(allows) {
                        guardian = Some(guardianship.last_day());
                    }
                }
                AuthorityFact::Delegation(fact)
                    if fact.holder == helper
                        && fact.giver == subject
                        && State::at(fact.state, fact.created_at, &fact.scopes, now)
                            == State::Active =>
                {
                    in_force = true;
                    let usable = fact
                        .scopes
                        .iter()
                        .filter(|grant| grant.in_force_on(day) && allows(&grant.scope))
                        .map(|grant| grant.ends_on)
                        .max();
                    if let Some(ends_on) = usable {
                        if delegation.is_none_or(|(_, best)| ends_on > best) {
                            delegation = Some((fact.delegation, ends_on));
                        }
                    }
                }
                AuthorityFact::Guardian(_) | AuthorityFact::Delegation(_) => {}
            }
        }
        let basis = match (guardian, delegation) {
            (Some(ends_on), _) => Basis::Guardian { ends_on },
            (None, Some((delegation, ends_on))) => Basis::Delegation {
                delegation,
                ends_on,
            },
            (None, None) if !in_force => return Err(Denied::NoAuthority),
            (None, None) => {
                return Err(match C::HELPER_SCOPES.first() {
                    Some(&scope) => Denied::MissingScope { scope },
                    None => Denied::NoAuthority,
                })
            }
        };
        if actor.loa().is_none_or(|loa| loa < C::MIN_LOA) {
            return Err(Denied::NeedsStepUp {
                required: C::MIN_LOA,
            });
        }
        Ok(Access {
            actor: actor.clone(),
            subject,
            basis,
            capability: PhantomData,
        })
    }
}

/// The authority in force that lets `holder` act for `subject` at all, whatever the page: a
/// guardianship of the minor, else the active delegation whose portal scopes in force last
/// longest; with the last day it is in force. `None` when nothing is (also when only service
/// scopes are held: they give nothing in the portal). What the "acting for" banner names; each
/// page still asks [`Policy::decide`] for its own capability.
pub fn acting_basis(
    holder: PersonId,
    subject: PersonId,
    authority: &[AuthorityFact],
    now: OffsetDateTime,
) -> Option<(ActForBasis, time::Date)> {
    let day = today(now);
    let mut best: Option<(ActForBasis, time::Date)> = None;
    for fact in authority {
        match fact {
            AuthorityFact::Guardian(guardianship)
                if guardianship.guardian == holder
                    && guardianship.minor == subject
                    && guardianship.in_force(now) =>
            {
                return Some((ActForBasis::Guardian, guardianship.last_day()));
            }
            AuthorityFact::Delegation(fact)
                if fact.holder == holder
                    && fact.giver == subject
                    && State::at(fact.state, fact.created_at, &fact.scopes, now)
                        == State::Active =>
            {
                let last = fact
                    .scopes
                    .iter()
                    .filter(|grant| grant.in_force_on(day) && !grant.scope.is_service())
                    .map(|grant| grant.ends_on)
                    .max();
                if let Some(ends_on) = last {
                    if best.is_none_or(|(_, until)| ends_on > until) {
                        best = Some((ActForBasis::Delegation(fact.delegation), ends_on));
                    }
                }
            }
            AuthorityFact::Guardian(_) | AuthorityFact::Delegation(_) => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{
        GrantAuthority, Loa, ManageAuthority, ManageContact, ManagePost, ReadContact,
        ReadOwnActivity, ReadPost, ReadSensitivePost,
    };
    use crate::agency::AgencyId;
    use crate::delegation::{Scope, ServiceScopeId};
    use time::macros::{date, datetime};
    use time::Date;

    const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

    struct Pair {
        helper: PersonId,
        giver: PersonId,
    }

    fn delegation(pair: &Pair, state: StoredState, scopes: &[(Scope, Date)]) -> AuthorityFact {
        AuthorityFact::Delegation(DelegationFact {
            delegation: DelegationId::new(),
            giver: pair.giver,
            holder: pair.helper,
            state,
            created_at: datetime!(2026-04-20 10:00 UTC),
            scopes: scopes
                .iter()
                .map(|&(scope, ends_on)| ScopeGrant { scope, ends_on })
                .collect(),
        })
    }

    fn guardian(pair: &Pair, minor_born: Date) -> AuthorityFact {
        AuthorityFact::Guardian(Guardianship {
            guardian: pair.helper,
            minor: pair.giver,
            minor_born,
            ended_at: None,
        })
    }

    /// What each capability gives: `Ok(basis kind)` or the refusal.
    fn decide_all(actor: &Actor, subject: PersonId, facts: &[AuthorityFact]) -> Vec<String> {
        fn one<C: Capability>(actor: &Actor, subject: PersonId, facts: &[AuthorityFact]) -> String {
            match Policy::decide::<C>(actor, subject, facts, NOW) {
                Ok(access) => {
                    assert_eq!(access.subject(), subject);
                    assert_eq!(access.actor(), actor);
                    match access.basis() {
                        Basis::Own => "own".to_owned(),
                        Basis::Delegation { .. } => "delegation".to_owned(),
                        Basis::Guardian { .. } => "guardian".to_owned(),
                    }
                }
                Err(Denied::MissingScope { scope }) => format!("missing {scope}"),
                Err(denied) => denied.code().to_owned(),
            }
        }
        vec![
            one::<ReadOwnActivity>(actor, subject, facts),
            one::<ReadContact>(actor, subject, facts),
            one::<ManageContact>(actor, subject, facts),
            one::<ReadPost>(actor, subject, facts),
            one::<ReadSensitivePost>(actor, subject, facts),
            one::<ManagePost>(actor, subject, facts),
            one::<ManageAuthority>(actor, subject, facts),
            one::<GrantAuthority>(actor, subject, facts),
        ]
    }

    const NO: &str = "access.no_authority";
    const STEP_UP: &str = "access.needs_step_up";

    #[test]
    fn each_basis_and_capability() {
        let pair = Pair {
            helper: PersonId::new(),
            giver: PersonId::new(),
        };
        let at = |loa| Actor::Citizen {
            person: pair.helper,
            loa,
        };
        let later = date!(2027 - 01 - 01);
        let all_portal: Vec<_> = Scope::PORTAL.iter().map(|&scope| (scope, later)).collect();
        let active_all = [delegation(&pair, StoredState::Active, &all_portal)];
        let read_only = [delegation(
            &pair,
            StoredState::Active,
            &[(Scope::ReadPost, later)],
        )];
        let service = ServiceScopeId::parse("nav.dagpenger").unwrap();
        let service_only = [delegation(
            &pair,
            StoredState::Active,
            &[(Scope::Service(service), later)],
        )];
        let minor = [guardian(&pair, date!(2018 - 06 - 30))];
        let rows: [(&str, Actor, &[AuthorityFact], [&str; 8]); 8] = [
            (
                "every portal scope, substantial",
                at(Loa::Substantial),
                &active_all,
                [
                    "delegation",
                    "delegation",
                    "delegation",
                    "delegation",
                    STEP_UP,
                    "delegation",
                    NO,
                    NO,
                ],
            ),
            (
                "every portal scope, high",
                at(Loa::High),
                &active_all,
                [
                    "delegation",
                    "delegation",
                    "delegation",
                    "delegation",
                    "delegation",
                    "delegation",
                    NO,
                    NO,
                ],
            ),
            (
                "read post only",
                at(Loa::High),
                &read_only,
                [
                    "missing activity.read",
                    "missing contact.manage",
                    "missing contact.manage",
                    "delegation",
                    "missing post.read_all",
                    "missing post.manage",
                    NO,
                    NO,
                ],
            ),
            (
                "a service scope gives nothing in the portal",
                at(Loa::High),
                &service_only,
                [
                    "missing activity.read",
                    "missing contact.manage",
                    "missing contact.manage",
                    "missing post.read",
                    "missing post.read_all",
                    "missing post.manage",
                    NO,
                    NO,
                ],
            ),
            (
                "guardian",
                at(Loa::High),
                &minor,
                [
                    "missing activity.read",
                    "guardian",
                    "guardian",
                    "guardian",
                    "missing post.read_all",
                    "guardian",
                    NO,
                    NO,
                ],
            ),
            (
                "no facts",
                at(Loa::High),
                &[],
                [NO, NO, NO, NO, NO, NO, NO, NO],
            ),
            (
                "an agency",
                Actor::Agency {
                    agency: AgencyId::parse("nav").unwrap(),
                    grants: crate::access::AgencyGrants::DEFAULT,
                },
                &active_all,
                [NO, NO, NO, NO, NO, NO, NO, NO],
            ),
            (
                "own data, facts ignored",
                Actor::Citizen {
                    person: pair.giver,
                    loa: Loa::Substantial,
                },
                &[],
                ["own", "own", "own", "own", STEP_UP, "own", "own", STEP_UP],
            ),
        ];
        for (name, actor, facts, expected) in rows {
            assert_eq!(decide_all(&actor, pair.giver, facts), expected, "{name}");
        }
    }

    #[test]
    fn authority_not_in_force_is_no_authority() {
        let pair = Pair {
            helper: PersonId::new(),
            giver: PersonId::new(),
        };
        let actor = Actor::Citizen {
            person: pair.helper,
            loa: Loa::High,
        };
        let later = date!(2027 - 01 - 01);
        let all = [(Scope::ReadPost, later), (Scope::ManagePost, later)];
        let other = Pair {
            helper: PersonId::new(),
            giver: pair.giver,
        };
        let cases: [(&str, AuthorityFact); 7] = [
            ("requested", delegation(&pair, StoredState::Requested, &all)),
            ("declined", delegation(&pair, StoredState::Declined, &all)),
            ("revoked", delegation(&pair, StoredState::Revoked, &all)),
            (
                "expired yesterday",
                delegation(
                    &pair,
                    StoredState::Active,
                    &[(Scope::ReadPost, date!(2026 - 04 - 30))],
                ),
            ),
            (
                "someone else's delegation",
                delegation(&other, StoredState::Active, &all),
            ),
            ("former guardian", guardian(&pair, date!(2008 - 04 - 30))),
            (
                "guardianship no longer in the register",
                AuthorityFact::Guardian(Guardianship {
                    guardian: pair.helper,
                    minor: pair.giver,
                    minor_born: date!(2018 - 06 - 30),
                    ended_at: Some(NOW),
                }),
            ),
        ];
        for (name, fact) in cases {
            assert_eq!(
                Policy::decide::<ReadPost>(&actor, pair.giver, &[fact], NOW).unwrap_err(),
                Denied::NoAuthority,
                "{name}"
            );
        }
    }

    #[test]
    fn each_scope_has_its_own_end_date_and_the_longest_usable_wins() {
        let pair = Pair {
            helper: PersonId::new(),
            giver: PersonId::new(),
        };
        let actor = Actor::Citizen {
            person: pair.helper,
            loa: Loa::Substantial,
        };
        let one = delegation(
            &pair,
            StoredState::Active,
            &[
                (Scope::ReadPost, date!(2026 - 05 - 01)),
                (Scope::ManageContact, date!(2026 - 04 - 30)),
            ],
        );
        let two = delegation(
            &pair,
            StoredState::Active,
            &[(Scope::ManagePost, date!(2026 - 12 - 31))],
        );
        let facts = [one.clone(), two.clone()];
        let access = Policy::decide::<ReadPost>(&actor, pair.giver, &facts, NOW).unwrap();
        let AuthorityFact::Delegation(second) = &two else {
            unreachable!()
        };
        assert_eq!(
            access.basis(),
            Basis::Delegation {
                delegation: second.delegation,
                ends_on: date!(2026 - 12 - 31)
            }
        );
        assert!(access.basis().is_for_someone_else());
        // The contact scope ended yesterday: authority is in force, the scope is missing.
        assert_eq!(
            Policy::decide::<ManageContact>(&actor, pair.giver, &[one], NOW).unwrap_err(),
            Denied::MissingScope {
                scope: Scope::ManageContact
            }
        );
        assert_eq!(
            Denied::MissingScope {
                scope: Scope::ManageContact
            }
            .code(),
            "access.missing_scope"
        );
    }

    #[test]
    fn a_guardian_is_the_basis_before_a_delegation() {
        let pair = Pair {
            helper: PersonId::new(),
            giver: PersonId::new(),
        };
        let actor = Actor::Citizen {
            person: pair.helper,
            loa: Loa::Substantial,
        };
        let facts = [
            delegation(
                &pair,
                StoredState::Active,
                &[(Scope::ReadPost, date!(2027 - 01 - 01))],
            ),
            guardian(&pair, date!(2018 - 06 - 30)),
        ];
        let access = Policy::decide::<ReadPost>(&actor, pair.giver, &facts, NOW).unwrap();
        assert_eq!(
            access.basis(),
            Basis::Guardian {
                ends_on: date!(2036 - 06 - 29)
            }
        );
    }

    #[test]
    fn the_banner_names_the_longest_authority_in_force() {
        let pair = Pair {
            helper: PersonId::new(),
            giver: PersonId::new(),
        };
        let service = Scope::Service(ServiceScopeId::parse("nav.dagpenger").unwrap());
        let short = delegation(
            &pair,
            StoredState::Active,
            &[(Scope::ReadPost, date!(2026 - 06 - 01))],
        );
        let long = delegation(
            &pair,
            StoredState::Active,
            &[
                (Scope::ManageContact, date!(2026 - 12 - 31)),
                (Scope::ReadActivity, date!(2026 - 04 - 30)),
                (service, date!(2030 - 01 - 01)),
            ],
        );
        let AuthorityFact::Delegation(long_fact) = &long else {
            unreachable!()
        };
        let basis = acting_basis(pair.helper, pair.giver, &[short.clone(), long.clone()], NOW);
        // The service scope lasts longest but gives nothing in the portal; the ended
        // scope does not count.
        assert_eq!(
            basis,
            Some((
                ActForBasis::Delegation(long_fact.delegation),
                date!(2026 - 12 - 31)
            ))
        );
        // Only a service scope, a request, a revoked one, or someone else's pair: nothing.
        let only_service = delegation(
            &pair,
            StoredState::Active,
            &[(service, date!(2030 - 01 - 01))],
        );
        let requested = delegation(
            &pair,
            StoredState::Requested,
            &[(Scope::ReadPost, date!(2026 - 12 - 31))],
        );
        let revoked = delegation(
            &pair,
            StoredState::Revoked,
            &[(Scope::ReadPost, date!(2026 - 12 - 31))],
        );
        let facts = [only_service, requested, revoked];
        assert_eq!(acting_basis(pair.helper, pair.giver, &facts, NOW), None);
        assert_eq!(acting_basis(pair.giver, pair.helper, &[long], NOW), None);
        // A guardianship wins, until the 18th birthday.
        let minor = guardian(&pair, date!(2008 - 05 - 02));
        assert_eq!(
            acting_basis(
                pair.helper,
                pair.giver,
                &[short.clone(), minor.clone()],
                NOW
            ),
            Some((ActForBasis::Guardian, date!(2026 - 05 - 01)))
        );
        let birthday = datetime!(2026-05-02 10:00 UTC);
        assert_eq!(
            acting_basis(pair.helper, pair.giver, &[minor], birthday),
            None
        );
    }
}
