//! What the access policy needs about a helper's authority: the facts for one (holder, giver)
//! pair, read in one query on every request, and the persons a holder can act for.

use time::OffsetDateTime;

use crate::access::{
    Access, Actor, AuthorityFact, Capability, DelegationFact, Denied, ManageAuthority, Policy,
};
use crate::delegation::{
    today, ActFor, ActForBasis, DelegationId, Guardianship, Scope, ScopeGrant, StoredState,
};
use crate::person::PersonId;

use super::sql::{Ex, Val};
use super::{stored_instant, Database, StoreError};

/// Authority over someone else's data, as the policy decides it.
impl Database {
    /// The facts about `holder`'s authority over `giver`'s data: active delegations from the
    /// giver to the holder with their scopes, and the holder's guardianship of the giver if
    /// the register lists it. One query, on the `(holder_id, giver_id)` indexes; the policy
    /// ([`Policy::decide`]) applies the clock (end dates, the 18th birthday).
    pub async fn authority_facts(
        &self,
        holder: PersonId,
        giver: PersonId,
    ) -> Result<Vec<AuthorityFact>, StoreError> {
        facts(&mut self.quick_read().await?.ex(), holder, giver).await
    }

    /// Whether `actor` may use capability `C` on `subject`'s data at `now`: for one's own
    /// data as [`Policy::authorize`] (no query); for someone else's, the pair's facts are read
    /// ([`authority_facts`](Database::authority_facts)) and [`Policy::decide`] asked. Read on
    /// every request, so a revocation or an expiry counts from the helper's next request.
    ///
    /// The outer error is the register's; the inner one the policy's refusal.
    pub async fn decide_access<C: Capability>(
        &self,
        actor: &Actor,
        subject: PersonId,
        now: OffsetDateTime,
    ) -> Result<Result<Access<C>, Denied>, StoreError> {
        let helper = match actor {
            Actor::Citizen { person, .. } if *person != subject => *person,
            _ => return Ok(Policy::authorize(actor, subject)),
        };
        let facts = self.authority_facts(helper, subject).await?;
        Ok(Policy::decide(actor, subject, &facts, now))
    }

    /// The persons `access.subject()` can act for at `now` (the "act for whom" chooser): each
    /// giver of an active delegation in force and each minor they are guardian of, with their
    /// names, the basis and the last day it is in force; by name.
    pub async fn persons_to_act_for(
        &self,
        access: &Access<ManageAuthority>,
        now: OffsetDateTime,
    ) -> Result<Vec<ActFor>, StoreError> {
        let holder = access.subject();
        let rows = self
            .conn()
            .await?
            .ex()
            .fetch_all(
                "SELECT 'delegation' AS basis, d.giver_id AS person_id, d.id AS delegation_id, \
                 s.scope, s.ends_on AS day, p.given_name, p.family_name \
                 FROM delegations d JOIN delegation_scopes s ON s.delegation_id = d.id \
                 JOIN persons p ON p.id = d.giver_id \
                 WHERE d.holder_id = $1 AND d.state = 'active' AND s.ends_on >= $2 \
                 UNION ALL \
                 SELECT 'guardian', g.minor_id, g.minor_id, '', p.birth_date, p.given_name, \
                 p.family_name FROM guardianships g JOIN persons p ON p.id = g.minor_id \
                 WHERE g.guardian_id = $1 AND g.ended_at IS NULL",
                &[Val::Uuid(holder.as_uuid()), Val::Date(today(now))],
            )
            .await?;
        let mut chosen: Vec<ActFor> = Vec::new();
        for row in &rows {
            let person = PersonId::from_uuid(row.uuid("person_id", WHAT)?);
            let name = crate::person::join_names(
                row.str("given_name", WHAT)?,
                row.str("family_name", WHAT)?,
            );
            let day = row.date("day", WHAT)?;
            let (basis, until) = if row.str("basis", WHAT)? == "guardian" {
                let guardianship = Guardianship {
                    guardian: holder,
                    minor: person,
                    minor_born: day,
                    ended_at: None,
                };
                if !guardianship.in_force(now) {
                    continue;
                }
                (ActForBasis::Guardian, guardianship.last_day())
            } else {
                let id = DelegationId::from_uuid(row.uuid("delegation_id", WHAT)?);
                (ActForBasis::Delegation(id), day)
            };
            match chosen
                .iter_mut()
                .find(|entry| entry.person == person && entry.basis == basis)
            {
                Some(entry) => entry.until = entry.until.max(until),
                None => chosen.push(ActFor {
                    person,
                    name,
                    basis,
                    until,
                }),
            }
        }
        chosen.sort_by(|a, b| a.name.cmp(&b.name).then(a.person.cmp(&b.person)));
        Ok(chosen)
    }
}

const WHAT: &str = "authority fact";

/// The pair's facts in one statement: the active delegations' scopes (one row each) and the
/// guardianship still listed (one row, whose `day` is the minor's birth date).
pub(super) async fn facts(
    ex: &mut Ex<'_>,
    holder: PersonId,
    giver: PersonId,
) -> Result<Vec<AuthorityFact>, StoreError> {
    let rows = ex
        .fetch_all(
            "SELECT 'delegation' AS basis, d.id, d.state, d.created_at AS at, s.scope, \
             s.ends_on AS day \
             FROM delegations d JOIN delegation_scopes s ON s.delegation_id = d.id \
             WHERE d.holder_id = $1 AND d.giver_id = $2 AND d.state = 'active' \
             UNION ALL \
             SELECT 'guardian', g.minor_id, 'listed', g.listed_at, '', p.birth_date \
             FROM guardianships g JOIN persons p ON p.id = g.minor_id \
             WHERE g.guardian_id = $1 AND g.minor_id = $2 AND g.ended_at IS NULL",
            &[Val::Uuid(holder.as_uuid()), Val::Uuid(giver.as_uuid())],
        )
        .await?;
    let mut facts: Vec<AuthorityFact> = Vec::new();
    for row in &rows {
        let day = row.date("day", WHAT)?;
        if row.str("basis", WHAT)? == "guardian" {
            facts.push(AuthorityFact::Guardian(Guardianship {
                guardian: holder,
                minor: giver,
                minor_born: day,
                ended_at: None,
            }));
            continue;
        }
        let id = DelegationId::from_uuid(row.uuid("id", WHAT)?);
        let grant = ScopeGrant {
            scope: Scope::from_code(row.str("scope", WHAT)?).ok_or(StoreError::Corrupt {
                what: "delegation_scope.scope",
            })?,
            ends_on: day,
        };
        let known = facts.iter_mut().find_map(|fact| match fact {
            AuthorityFact::Delegation(fact) if fact.delegation == id => Some(fact),
            _ => None,
        });
        match known {
            Some(fact) => fact.scopes.push(grant),
            None => facts.push(AuthorityFact::Delegation(DelegationFact {
                delegation: id,
                giver,
                holder,
                state: StoredState::from_code(row.str("state", WHAT)?).ok_or(
                    StoreError::Corrupt {
                        what: "delegation.state",
                    },
                )?,
                created_at: stored_instant(row.time("at", WHAT)?),
                scopes: vec![grant],
            })),
        }
    }
    Ok(facts)
}
