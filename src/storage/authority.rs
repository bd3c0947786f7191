//! What the access policy needs about a helper's authority: the facts for one (holder, giver)
//! pair, read in one query on every request, and the persons a holder can act for.

use time::OffsetDateTime;

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use uuid::Uuid;

use crate::access::{
    Access, Actor, AgencyAccess, AuthorityAnswer, AuthorityFact, AuthorityQuestion, Capability,
    CheckAuthority, DelegationFact, Denied, ManageAuthority, Policy,
};
use crate::audit::{AuditEvent, AuditKind};
use crate::delegation::{
    today, ActFor, ActForBasis, DelegationId, Guardianship, Scope, ScopeGrant, StoredState,
};
use crate::person::PersonId;

use super::sql::{Dialect, Ex, Val};
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
            if Scope::from_code(row.str("scope", WHAT)?).is_some_and(|scope| scope.is_service()) {
                // Service scopes give nothing in the portal: no one to act for by them.
                continue;
            }
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

/// The agencies' authority check.
impl Database {
    /// Answers the agency's questions (the API refuses more than
    /// [`MAX_AUTHORITY_CHECKS`](crate::access::MAX_AUTHORITY_CHECKS)
    /// before asking), in order, at `now`:
    /// one transaction that finds the persons by national id in one statement, reads each
    /// distinct known (holder, giver) pair's facts once ([`authority_facts`]' statement, on the
    /// same connection) and writes one event per question into the giver's activity log
    /// (naming the agency) before the answer. A person the register does not know is denied,
    /// and no event is written for an unknown giver.
    ///
    /// [`authority_facts`]: Database::authority_facts
    #[tracing::instrument(skip_all, fields(agency = %access.agency(), questions = questions.len()))]
    pub async fn check_authority(
        &self,
        access: &AgencyAccess<CheckAuthority>,
        questions: &[AuthorityQuestion],
        now: OffsetDateTime,
    ) -> Result<Vec<AuthorityAnswer>, StoreError> {
        let now = stored_instant(now);
        let mut national_ids: Vec<&str> = questions
            .iter()
            .flat_map(|question| [question.holder.expose(), question.giver.expose()])
            .collect();
        national_ids.sort_unstable();
        national_ids.dedup();
        let mut tx = self.begin_tx().await?;
        let persons = persons_by_national_ids(&mut tx.ex(), &national_ids).await?;
        let mut pair_facts: HashMap<(PersonId, PersonId), Vec<AuthorityFact>> = HashMap::new();
        let mut answers = Vec::with_capacity(questions.len());
        let mut events = Vec::new();
        for question in questions {
            let holder = persons.get(question.holder.expose()).copied();
            let giver = persons.get(question.giver.expose()).copied();
            let Some(giver) = giver else {
                answers.push(AuthorityAnswer::Deny);
                continue;
            };
            events.push(AuditEvent {
                id: Uuid::now_v7(),
                subject: giver,
                actor: None,
                agency: Some(access.agency().clone()),
                kind: AuditKind::AuthorityCheckedByAgency,
                loa: None,
                provider: None,
                at: now,
                acted_under: None,
                about: None,
            });
            let Some(holder) = holder else {
                answers.push(AuthorityAnswer::Deny);
                continue;
            };
            let known = match pair_facts.entry((holder, giver)) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => slot.insert(facts(&mut tx.ex(), holder, giver).await?),
            };
            answers.push(crate::access::check::answer(
                holder,
                giver,
                question.scope,
                known,
                now,
            ));
        }
        tx.insert_audit_events(&events).await?;
        tx.commit().await?;
        tracing::info!(
            audited = events.len(),
            "authority check by an agency answered and audited"
        );
        Ok(answers)
    }
}

/// The persons whose national id is in the list (one parameter: a JSON array on SQLite, a
/// `text[]` on PostgreSQL), on the national id's unique index.
const PERSONS_BY_NATIONAL_IDS: Dialect = Dialect {
    sqlite: "SELECT id, national_id FROM persons \
             WHERE national_id IN (SELECT value FROM json_each($1))",
    postgres: "SELECT id, national_id FROM persons WHERE national_id = ANY($1)",
};

async fn persons_by_national_ids(
    ex: &mut Ex<'_>,
    national_ids: &[&str],
) -> Result<HashMap<String, PersonId>, StoreError> {
    if national_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = ex.dialect(&PERSONS_BY_NATIONAL_IDS);
    let rows = ex.fetch_all(sql, &[Val::TextList(national_ids)]).await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        found.insert(
            row.str("national_id", "person")?.to_owned(),
            PersonId::from_uuid(row.uuid("id", "person")?),
        );
    }
    Ok(found)
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
