//! The delegation register's statements: delegations, their scopes and history.
//!
//! Every change runs in one transaction that reads what the rules need, asks the domain
//! (`delegation::rules`), and writes the change, its history entry and the audit events in the
//! giver's and the holder's logs together. State changes are conditional updates
//! (`… WHERE state = 'requested'`): of an approval and a revocation (or decline) racing for the
//! same request, the second sees the first's result, so the row always ends in one state that
//! its history explains.
//!
//! The other party is told in the same transaction (`delegation_notices.rs`): the giver of a
//! new request, the holder of a grant or an approval, the other side of a revocation of a
//! delegation in force, the giver at the holder's first use.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::{Access, Actor, Capability, GrantAuthority, ManageAuthority};
use crate::audit::{AuditEvent, AuditKind};
use crate::delegation::{
    check_no_open_request, check_parties, check_scopes, revocation_notice, today, Delegation,
    DelegationEntry, DelegationError, DelegationEvent, DelegationEventKind, DelegationId,
    DelegationRules, Notice, Origin, Party, Scope, ScopeGrant, State, StoredState,
    REQUEST_LAPSES_AFTER,
};
use crate::person::PersonId;

use super::delegation_notices::queue_notice;
use super::sql::{Dialect, Ex, Row, Tx, Val};
use super::{stored_instant, Database, StoreError};

/// The delegation register: what givers grant and holders ask for.
impl Database {
    /// The giver (`access.subject()`) grants `holder` a delegation with `scopes`, in force at
    /// once. Refused by the rules (both adults, not oneself, end dates within the maximum,
    /// known service scopes); `UnknownPerson` if the holder is not registered.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %access.subject()))]
    pub async fn grant_delegation(
        &self,
        access: &Access<GrantAuthority>,
        holder: PersonId,
        scopes: &[ScopeGrant],
        rules: &DelegationRules,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        let now = stored_instant(now);
        let giver = access.subject();
        check_scopes(scopes, rules, today(now))?;
        let mut tx = self.begin_tx().await?;
        check_pair(&mut tx.ex(), giver, holder, rules, now).await?;
        let delegation = Delegation {
            id: DelegationId::new(),
            giver,
            holder,
            scopes: in_order(scopes),
            origin: Origin::Granted,
            stored_state: StoredState::Active,
            created_at: now,
            starts_at: Some(now),
            updated_at: now,
            last_used_at: None,
        };
        insert(&mut tx.ex(), &delegation, Some(giver)).await?;
        self.tell(&mut tx, &delegation, Notice::Granted, now)
            .await?;
        let event = DelegationEventKind::Granted;
        record(
            &mut tx,
            access,
            &delegation,
            event,
            AuditKind::AuthorityGranted,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(delegation.id = %delegation.id, "delegation granted");
        Ok(delegation)
    }

    /// The holder (`access.subject()`) asks `giver` for a delegation with `scopes` (the end
    /// dates wished). Refused while another request from the holder to the same giver is open
    /// (asked less than 30 days ago and not answered), and by the same rules as a grant.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %access.subject()))]
    pub async fn request_delegation(
        &self,
        access: &Access<ManageAuthority>,
        giver: PersonId,
        scopes: &[ScopeGrant],
        rules: &DelegationRules,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        let now = stored_instant(now);
        let holder = access.subject();
        check_scopes(scopes, rules, today(now))?;
        let mut tx = self.begin_tx().await?;
        // Requests to one giver wait for each other here (the giver's row is locked on
        // PostgreSQL; SQLite's transaction holds the write lock), so two at once cannot both
        // see "no open request".
        let mut ex = tx.ex();
        let sql = ex.dialect(&LOCK_PERSON);
        if ex
            .fetch_optional(sql, &[Val::Uuid(giver.as_uuid())])
            .await?
            .is_none()
        {
            return Err(DelegationError::UnknownPerson);
        }
        check_pair(&mut ex, giver, holder, rules, now).await?;
        let open = open_requests(&mut ex, giver, holder, now).await?;
        check_no_open_request(open)?;
        let delegation = Delegation {
            id: DelegationId::new(),
            giver,
            holder,
            scopes: in_order(scopes),
            origin: Origin::Requested,
            stored_state: StoredState::Requested,
            created_at: now,
            starts_at: None,
            updated_at: now,
            last_used_at: None,
        };
        insert(&mut ex, &delegation, Some(holder)).await?;
        self.tell(&mut tx, &delegation, Notice::Requested, now)
            .await?;
        let event = DelegationEventKind::Requested;
        record(
            &mut tx,
            access,
            &delegation,
            event,
            AuditKind::AuthorityRequested,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(delegation.id = %delegation.id, "delegation requested");
        Ok(delegation)
    }

    /// The giver approves a request, choosing its scopes and end dates (`scopes`, checked as
    /// a grant's). `WrongState` if it was answered, withdrawn or has lapsed in the meantime.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), delegation.id = %id))]
    pub async fn approve_delegation(
        &self,
        access: &Access<GrantAuthority>,
        id: DelegationId,
        scopes: &[ScopeGrant],
        rules: &DelegationRules,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        let now = stored_instant(now);
        check_scopes(scopes, rules, today(now))?;
        let mut tx = self.begin_tx().await?;
        let changed =
            set_state(&mut tx.ex(), id, access.subject(), Transition::Approve, now).await?;
        if changed.is_none() {
            return Err(why_unchanged(&mut tx.ex(), id, access.subject()).await);
        }
        replace_scopes(&mut tx.ex(), id, scopes).await?;
        let delegation = load(&mut tx.ex(), id)
            .await?
            .ok_or(DelegationError::NotFound)?;
        self.tell(&mut tx, &delegation, Notice::Granted, now)
            .await?;
        let event = DelegationEventKind::Approved;
        record(
            &mut tx,
            access,
            &delegation,
            event,
            AuditKind::AuthorityApproved,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!("delegation request approved");
        Ok(delegation)
    }

    /// The giver declines a request. `WrongState` if it was answered, withdrawn or lapsed.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), delegation.id = %id))]
    pub async fn decline_delegation(
        &self,
        access: &Access<ManageAuthority>,
        id: DelegationId,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        self.transition(access, id, Transition::Decline, now).await
    }

    /// The giver or the holder ends a delegation at once, or withdraws a request; the
    /// holder's next request is refused (the policy reads the state on every request).
    /// `WrongState` if it is already declined or revoked.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), delegation.id = %id))]
    pub async fn revoke_delegation(
        &self,
        access: &Access<ManageAuthority>,
        id: DelegationId,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        self.transition(access, id, Transition::Revoke, now).await
    }

    async fn transition(
        &self,
        access: &Access<ManageAuthority>,
        id: DelegationId,
        transition: Transition,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let Some(was) = set_state(&mut tx.ex(), id, access.subject(), transition, now).await?
        else {
            return Err(why_unchanged(&mut tx.ex(), id, access.subject()).await);
        };
        let delegation = load(&mut tx.ex(), id)
            .await?
            .ok_or(DelegationError::NotFound)?;
        // Ending a delegation in force tells the other side (not a withdrawn request or a
        // decline, nor one whose end dates had all passed).
        let in_force = State::at(was, delegation.created_at, &delegation.scopes, now);
        if transition == Transition::Revoke && in_force == State::Active {
            let by = if access.subject() == delegation.giver {
                Party::Giver
            } else {
                Party::Holder
            };
            self.tell(&mut tx, &delegation, revocation_notice(by), now)
                .await?;
        }
        let (event, kind) = match transition {
            Transition::Decline => (DelegationEventKind::Declined, AuditKind::AuthorityDeclined),
            Transition::Revoke | Transition::Approve => {
                (DelegationEventKind::Revoked, AuditKind::AuthorityRevoked)
            }
        };
        record(&mut tx, access, &delegation, event, kind, now).await?;
        tx.commit().await?;
        tracing::info!(event = event.code(), "delegation state changed");
        Ok(delegation)
    }

    /// The giver changes an active delegation's scopes or end dates (extending it, or
    /// bringing an expired one back), checked as a grant's.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), delegation.id = %id))]
    pub async fn change_delegation(
        &self,
        access: &Access<GrantAuthority>,
        id: DelegationId,
        scopes: &[ScopeGrant],
        rules: &DelegationRules,
        now: OffsetDateTime,
    ) -> Result<Delegation, DelegationError> {
        let now = stored_instant(now);
        check_scopes(scopes, rules, today(now))?;
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let sql = ex.dialect(&LOCK_GIVEN);
        let row = ex
            .fetch_optional(
                sql,
                &[
                    Val::Uuid(id.as_uuid()),
                    Val::Uuid(access.subject().as_uuid()),
                ],
            )
            .await?
            .ok_or(DelegationError::NotFound)?;
        if stored_state(&row)? != StoredState::Active {
            return Err(DelegationError::WrongState);
        }
        replace_scopes(&mut ex, id, scopes).await?;
        ex.execute(
            "UPDATE delegations SET updated_at = $2 WHERE id = $1",
            &[Val::Uuid(id.as_uuid()), Val::Time(now)],
        )
        .await?;
        let delegation = load(&mut ex, id).await?.ok_or(DelegationError::NotFound)?;
        let event = DelegationEventKind::Changed;
        record(
            &mut tx,
            access,
            &delegation,
            event,
            AuditKind::AuthorityChanged,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!("delegation changed");
        Ok(delegation)
    }

    /// "Authority I have given": every delegation from `access.subject()`, newest first, with
    /// the holder's name and when it was last used. The page shows each one's
    /// [`state`](Delegation::state) at its time.
    pub async fn delegations_given(
        &self,
        access: &Access<ManageAuthority>,
    ) -> Result<Vec<DelegationEntry>, StoreError> {
        let sql = concat!(
            "SELECT ",
            entry_columns!(),
            " FROM delegations d JOIN delegation_scopes s ON s.delegation_id = d.id \
             JOIN persons p ON p.id = d.holder_id WHERE d.giver_id = $1 ",
            entry_order!()
        );
        let mut conn = self.conn().await?;
        list(
            &mut conn.ex(),
            sql,
            &[Val::Uuid(access.subject().as_uuid())],
        )
        .await
    }

    /// "Authority I have been given": every delegation to `access.subject()`, newest first,
    /// with the giver's name.
    pub async fn delegations_held(
        &self,
        access: &Access<ManageAuthority>,
    ) -> Result<Vec<DelegationEntry>, StoreError> {
        let sql = concat!(
            "SELECT ",
            entry_columns!(),
            " FROM delegations d JOIN delegation_scopes s ON s.delegation_id = d.id \
             JOIN persons p ON p.id = d.giver_id WHERE d.holder_id = $1 ",
            entry_order!()
        );
        let mut conn = self.conn().await?;
        list(
            &mut conn.ex(),
            sql,
            &[Val::Uuid(access.subject().as_uuid())],
        )
        .await
    }

    /// "Requests waiting for me": requests to `access.subject()` not answered and not lapsed
    /// at `now`, newest first, with the asker's name.
    pub async fn delegation_requests_waiting(
        &self,
        access: &Access<ManageAuthority>,
        now: OffsetDateTime,
    ) -> Result<Vec<DelegationEntry>, StoreError> {
        let sql = concat!(
            "SELECT ",
            entry_columns!(),
            " FROM delegations d JOIN delegation_scopes s ON s.delegation_id = d.id \
             JOIN persons p ON p.id = d.holder_id \
             WHERE d.giver_id = $1 AND d.state = 'requested' AND d.created_at > $2 ",
            entry_order!()
        );
        let lapsed_before = stored_instant(now - REQUEST_LAPSES_AFTER);
        let mut conn = self.conn().await?;
        let args = [
            Val::Uuid(access.subject().as_uuid()),
            Val::Time(lapsed_before),
        ];
        list(&mut conn.ex(), sql, &args).await
    }

    /// A delegation's history, oldest first, for its giver or holder (`access.subject()`);
    /// empty for anyone else.
    pub async fn delegation_history(
        &self,
        access: &Access<ManageAuthority>,
        id: DelegationId,
    ) -> Result<Vec<DelegationEvent>, StoreError> {
        let rows = self
            .conn()
            .await?
            .ex()
            .fetch_all(
                "SELECT e.kind, e.actor_id, e.occurred_at FROM delegation_events e \
                 JOIN delegations d ON d.id = e.delegation_id \
                 WHERE e.delegation_id = $1 AND (d.giver_id = $2 OR d.holder_id = $2) \
                 ORDER BY e.occurred_at, e.id",
                &[
                    Val::Uuid(id.as_uuid()),
                    Val::Uuid(access.subject().as_uuid()),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DelegationEvent {
                    delegation: id,
                    kind: DelegationEventKind::from_code(row.str("kind", WHAT_EVENT)?)
                        .ok_or(StoreError::Corrupt { what: WHAT_EVENT })?,
                    actor: row
                        .opt_uuid("actor_id", WHAT_EVENT)?
                        .map(PersonId::from_uuid),
                    at: row.time("occurred_at", WHAT_EVENT)?,
                })
            })
            .collect()
    }

    /// Records that the holder acted through `access` at `now`: the delegation's
    /// `last_used_at` (written at most once a minute). `true` the first time the delegation
    /// is used, when the giver is told ("first use by a new helper") in the same transaction.
    /// Nothing for own data or a guardian.
    pub async fn record_delegation_use<C: Capability>(
        &self,
        access: &Access<C>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let crate::access::Basis::Delegation { delegation, .. } = access.basis() else {
            return Ok(false);
        };
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let first = tx
            .ex()
            .execute(
                "UPDATE delegations SET last_used_at = $2 WHERE id = $1 AND last_used_at IS NULL",
                &[Val::Uuid(delegation.as_uuid()), Val::Time(now)],
            )
            .await?;
        if first > 0 {
            if let Actor::Citizen { person: holder, .. } = access.actor() {
                let (giver, notice) = (access.subject(), Notice::FirstUse);
                let staleness = self.contact_staleness;
                queue_notice(&mut tx, delegation, giver, *holder, notice, now, staleness).await?;
            }
        } else {
            tx.ex()
                .execute(
                    "UPDATE delegations SET last_used_at = $2 WHERE id = $1 AND last_used_at < $3",
                    &[
                        Val::Uuid(delegation.as_uuid()),
                        Val::Time(now),
                        Val::Time(stored_instant(now - time::Duration::minutes(1))),
                    ],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(first > 0)
    }
}

// ---------------------------------------------------------------------------------------------
// Rules over the register

/// Both parties registered and the rules for them kept.
async fn check_pair(
    ex: &mut Ex<'_>,
    giver: PersonId,
    holder: PersonId,
    rules: &DelegationRules,
    now: OffsetDateTime,
) -> Result<(), DelegationError> {
    if giver == holder {
        return Err(DelegationError::ToOneself);
    }
    let giver = super::person::find(ex, giver).await?;
    let holder = super::person::find(ex, holder).await?;
    let (Some(giver), Some(holder)) = (giver, holder) else {
        return Err(DelegationError::UnknownPerson);
    };
    check_parties(&giver.national_id, &holder.national_id, rules, today(now))
}

/// Why a conditional state change touched nothing: no such delegation for this person, or it
/// is in another state.
async fn why_unchanged(ex: &mut Ex<'_>, id: DelegationId, person: PersonId) -> DelegationError {
    match ex
        .fetch_optional(
            "SELECT id FROM delegations WHERE id = $1 AND (giver_id = $2 OR holder_id = $2)",
            &[Val::Uuid(id.as_uuid()), Val::Uuid(person.as_uuid())],
        )
        .await
    {
        Ok(Some(_)) => DelegationError::WrongState,
        Ok(None) => DelegationError::NotFound,
        Err(error) => DelegationError::Store(error),
    }
}

/// The history entry and the audit events (in the giver's and the holder's logs) of a change
/// made through `access`.
async fn record<C: Capability>(
    tx: &mut Tx,
    access: &Access<C>,
    delegation: &Delegation,
    event: DelegationEventKind,
    kind: AuditKind,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (actor, loa) = match access.actor() {
        Actor::Citizen { person, loa } => (Some(*person), Some(*loa)),
        Actor::Agency { .. } => (None, None),
    };
    tx.ex()
        .execute(
            "INSERT INTO delegation_events (id, delegation_id, kind, actor_id, occurred_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Val::Uuid(Uuid::now_v7()),
                Val::Uuid(delegation.id.as_uuid()),
                Val::Text(event.code()),
                Val::OptUuid(actor.map(|person| person.as_uuid())),
                Val::Time(now),
            ],
        )
        .await?;
    let audit = |subject| AuditEvent {
        id: Uuid::now_v7(),
        subject,
        actor,
        agency: None,
        kind,
        loa,
        provider: None,
        at: now,
        acted_under: None,
        about: None,
    };
    tx.insert_audit_events(&[audit(delegation.giver), audit(delegation.holder)])
        .await
}

// ---------------------------------------------------------------------------------------------
// Statements

/// The giver's person row, read to be locked: requests to one giver run one at a time.
const LOCK_PERSON: Dialect = Dialect {
    sqlite: "SELECT id FROM persons WHERE id = $1",
    postgres: "SELECT id FROM persons WHERE id = $1 FOR UPDATE",
};

/// A delegation of this giver, locked to be changed.
const LOCK_GIVEN: Dialect = Dialect {
    sqlite: "SELECT state FROM delegations WHERE id = $1 AND giver_id = $2",
    postgres: "SELECT state FROM delegations WHERE id = $1 AND giver_id = $2 FOR UPDATE",
};

/// What a state change does: from which states, to which, and who may make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    /// requested (not lapsed) -> active, by the giver.
    Approve,
    /// requested (not lapsed) -> declined, by the giver.
    Decline,
    /// requested or active -> revoked, by the giver or the holder.
    Revoke,
}

/// One conditional update: the state the row was changed from, `None` if it was not changed.
/// Of two racing changes to one row, the second waits for the first (PostgreSQL's row lock,
/// SQLite's write lock), then finds the state changed and touches nothing.
async fn set_state(
    ex: &mut Ex<'_>,
    id: DelegationId,
    person: PersonId,
    transition: Transition,
    now: OffsetDateTime,
) -> Result<Option<StoredState>, StoreError> {
    let lapsed_before = stored_instant(now - REQUEST_LAPSES_AFTER);
    match transition {
        Transition::Approve | Transition::Decline => {
            let sql = if transition == Transition::Approve {
                "UPDATE delegations SET state = 'active', starts_at = $3, updated_at = $3 \
                 WHERE id = $1 AND giver_id = $2 AND state = 'requested' AND created_at > $4"
            } else {
                "UPDATE delegations SET state = 'declined', updated_at = $3 \
                 WHERE id = $1 AND giver_id = $2 AND state = 'requested' AND created_at > $4"
            };
            let args = [
                Val::Uuid(id.as_uuid()),
                Val::Uuid(person.as_uuid()),
                Val::Time(now),
                Val::Time(lapsed_before),
            ];
            let changed = ex.execute(sql, &args).await?;
            Ok((changed > 0).then_some(StoredState::Requested))
        }
        Transition::Revoke => {
            // One state at a time, so the answer says which it was: a request first, as one
            // being approved meanwhile is then found active by the second statement.
            for from in [StoredState::Requested, StoredState::Active] {
                let changed = ex
                    .execute(
                        "UPDATE delegations SET state = 'revoked', updated_at = $3 \
                         WHERE id = $1 AND (giver_id = $2 OR holder_id = $2) AND state = $4",
                        &[
                            Val::Uuid(id.as_uuid()),
                            Val::Uuid(person.as_uuid()),
                            Val::Time(now),
                            Val::Text(from.code()),
                        ],
                    )
                    .await?;
                if changed > 0 {
                    return Ok(Some(from));
                }
            }
            Ok(None)
        }
    }
}

/// Open (not lapsed) requests from `holder` to `giver`.
async fn open_requests(
    ex: &mut Ex<'_>,
    giver: PersonId,
    holder: PersonId,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let count = ex
        .fetch_one(
            "SELECT COUNT(*) AS open FROM delegations WHERE holder_id = $1 AND giver_id = $2 \
             AND state = 'requested' AND created_at > $3",
            &[
                Val::Uuid(holder.as_uuid()),
                Val::Uuid(giver.as_uuid()),
                Val::Time(stored_instant(now - REQUEST_LAPSES_AFTER)),
            ],
        )
        .await?
        .int("open", "delegation count")?;
    Ok(usize::try_from(count).unwrap_or(0))
}

async fn insert(
    ex: &mut Ex<'_>,
    delegation: &Delegation,
    created_by: Option<PersonId>,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO delegations (id, giver_id, holder_id, origin, state, created_by, \
         created_at, starts_at, updated_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)",
        &[
            Val::Uuid(delegation.id.as_uuid()),
            Val::Uuid(delegation.giver.as_uuid()),
            Val::Uuid(delegation.holder.as_uuid()),
            Val::Text(delegation.origin.code()),
            Val::Text(delegation.stored_state.code()),
            Val::OptUuid(created_by.map(|person| person.as_uuid())),
            Val::Time(delegation.created_at),
            Val::OptTime(delegation.starts_at),
            Val::Time(delegation.updated_at),
        ],
    )
    .await?;
    insert_scopes(ex, delegation.id, &delegation.scopes).await
}

async fn insert_scopes(
    ex: &mut Ex<'_>,
    id: DelegationId,
    scopes: &[ScopeGrant],
) -> Result<(), StoreError> {
    let codes: Vec<_> = scopes.iter().map(|grant| grant.scope.code()).collect();
    let rows: Vec<Vec<Val<'_>>> = scopes
        .iter()
        .zip(&codes)
        .map(|(grant, code)| {
            vec![
                Val::Uuid(id.as_uuid()),
                Val::Text(code),
                Val::Date(grant.ends_on),
            ]
        })
        .collect();
    ex.insert_rows(
        "INSERT INTO delegation_scopes (delegation_id, scope, ends_on)",
        &rows,
    )
    .await
    .map(drop)
}

async fn replace_scopes(
    ex: &mut Ex<'_>,
    id: DelegationId,
    scopes: &[ScopeGrant],
) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM delegation_scopes WHERE delegation_id = $1",
        &[Val::Uuid(id.as_uuid())],
    )
    .await?;
    insert_scopes(ex, id, scopes).await
}

/// The columns of a delegation entry: the delegation, one scope, the other party's names.
macro_rules! entry_columns {
    () => {
        "d.id, d.giver_id, d.holder_id, d.origin, d.state, d.created_at, d.starts_at, \
         d.updated_at, d.last_used_at, s.scope, s.ends_on, p.given_name, p.family_name"
    };
}
use entry_columns;

/// One delegation's rows together, newest first.
macro_rules! entry_order {
    () => {
        "ORDER BY d.created_at DESC, d.id, s.scope"
    };
}
use entry_order;

/// One delegation by id, with the holder's name.
async fn load(ex: &mut Ex<'_>, id: DelegationId) -> Result<Option<Delegation>, StoreError> {
    let sql = concat!(
        "SELECT ",
        entry_columns!(),
        " FROM delegations d JOIN delegation_scopes s ON s.delegation_id = d.id \
         JOIN persons p ON p.id = d.holder_id WHERE d.id = $1 ",
        entry_order!()
    );
    Ok(list(ex, sql, &[Val::Uuid(id.as_uuid())])
        .await?
        .pop()
        .map(|entry| entry.delegation))
}

/// Scopes in [`Scope`]'s order, as the register reads them back.
fn in_order(scopes: &[ScopeGrant]) -> Vec<ScopeGrant> {
    let mut scopes = scopes.to_vec();
    scopes.sort_by_key(|grant| grant.scope);
    scopes
}

const WHAT: &str = "delegation";
const WHAT_EVENT: &str = "delegation_event";

fn stored_state(row: &Row) -> Result<StoredState, StoreError> {
    StoredState::from_code(row.str("state", WHAT)?).ok_or(StoreError::Corrupt {
        what: "delegation.state",
    })
}

/// Entries from rows of [`entry_columns`], one row per scope, a delegation's rows together.
async fn list(
    ex: &mut Ex<'_>,
    sql: &str,
    args: &[Val<'_>],
) -> Result<Vec<DelegationEntry>, StoreError> {
    let rows = ex.fetch_all(sql, args).await?;
    let mut entries: Vec<DelegationEntry> = Vec::new();
    for row in &rows {
        let id = DelegationId::from_uuid(row.uuid("id", WHAT)?);
        let grant = ScopeGrant {
            scope: Scope::from_code(row.str("scope", WHAT)?).ok_or(StoreError::Corrupt {
                what: "delegation_scope.scope",
            })?,
            ends_on: row.date("ends_on", WHAT)?,
        };
        if let Some(last) = entries.last_mut().filter(|last| last.delegation.id == id) {
            last.delegation.scopes.push(grant);
            continue;
        }
        let names =
            crate::person::join_names(row.str("given_name", WHAT)?, row.str("family_name", WHAT)?);
        entries.push(DelegationEntry {
            delegation: Delegation {
                id,
                giver: PersonId::from_uuid(row.uuid("giver_id", WHAT)?),
                holder: PersonId::from_uuid(row.uuid("holder_id", WHAT)?),
                scopes: vec![grant],
                origin: Origin::from_code(row.str("origin", WHAT)?).ok_or(StoreError::Corrupt {
                    what: "delegation.origin",
                })?,
                stored_state: stored_state(row)?,
                created_at: row.time("created_at", WHAT)?,
                starts_at: row.opt_time("starts_at", WHAT)?,
                updated_at: row.time("updated_at", WHAT)?,
                last_used_at: row.opt_time("last_used_at", WHAT)?,
            },
            counterpart_name: names,
        });
    }
    for entry in &mut entries {
        entry.delegation.scopes.sort_by_key(|grant| grant.scope);
    }
    Ok(entries)
}
