//! The activity log's statements: each person's audit events.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::{Access, Actor, Capability, Loa, ReadOwnActivity};
use crate::agency::AgencyId;
use crate::audit::{
    ActedUnder, AuditCursor, AuditEvent, AuditKind, AuditPage, EventFilter, NewAuditEvent,
};
use crate::delegation::DelegationId;
use crate::person::PersonId;

use super::sql::{Ex, Row, Tx, Val};
use super::{stored_instant, Database, StoreError, MAX_AUDIT_PAGE_SIZE};

/// Each person's activity log.
impl Database {
    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), kind = new_event.kind.code())
    )]
    /// Adds an event to its subject's log, with a fresh id (UUID v7); `at` is cut to whole
    /// microseconds. Returns the event as stored.
    pub async fn record_event(&self, new_event: NewAuditEvent) -> Result<AuditEvent, StoreError> {
        let event = AuditEvent {
            id: Uuid::now_v7(),
            subject: new_event.subject,
            actor: new_event.actor,
            agency: new_event.agency,
            kind: new_event.kind,
            loa: new_event.loa,
            provider: new_event.provider,
            at: stored_instant(new_event.at),
            acted_under: None,
            about: None,
        };
        insert(&mut self.conn().await?.ex(), &event).await?;
        Ok(event)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// As [`list_events`](crate::Database::list_events), only the events `kinds` lets through (the
    /// cursor of such a page only pages on within the same filter).
    pub async fn list_events_of(
        &self,
        access: &Access<ReadOwnActivity>,
        kinds: EventFilter,
        before: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE_SIZE);
        // One row more than asked tells whether there is a next page.
        let fetch = i64::from(limit) + 1;
        let subject = access.subject();
        let mut events = list(
            &mut self.quick_read().await?.ex(),
            subject,
            kinds,
            before,
            fetch,
        )
        .await?;
        let has_more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next = if has_more {
            events.last().map(AuditCursor::after)
        } else {
            None
        };
        // Who else did something on this page (helpers, a giver), by name: a few at most.
        let mut others: Vec<(PersonId, String)> = Vec::new();
        for event in &events {
            let Some(actor) = event.actor.filter(|actor| *actor != subject) else {
                continue;
            };
            if others.iter().any(|(known, _)| *known == actor) {
                continue;
            }
            let name = self
                .find_person(actor)
                .await?
                .map(|person| person.full_name())
                .unwrap_or_default();
            others.push((actor, name));
        }
        Ok(AuditPage {
            events,
            next,
            others,
        })
    }

    /// Up to `limit` (clamped to 1..=[`MAX_AUDIT_PAGE_SIZE`]) events from the log of
    /// `access.subject()`, newest first, older than `before` if given. Keyset paging on
    /// (`at`, `id`): events with the same time keep a fixed order and none is skipped or shown
    /// twice while new ones arrive.
    pub async fn list_events(
        &self,
        access: &Access<ReadOwnActivity>,
        before: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError> {
        self.list_events_of(access, EventFilter::All, before, limit)
            .await
    }
}

impl Tx {
    pub(super) async fn insert_audit_event(
        &mut self,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        insert(&mut self.ex(), event).await
    }

    /// Many events in one statement.
    pub(super) async fn insert_audit_events(
        &mut self,
        events: &[AuditEvent],
    ) -> Result<(), StoreError> {
        insert_many(&mut self.ex(), events).await
    }
}

// ---------------------------------------------------------------------------------------------
// Statements

/// The columns of an event, in the order [`values`] gives them.
macro_rules! audit_columns {
    () => {
        "id, subject_id, actor_id, agency_id, kind, loa, provider, occurred_at, basis, \
         delegation_id, about"
    };
}

const INSERT_HEAD: &str = concat!("INSERT INTO audit_events (", audit_columns!(), ")");

/// An event's values, in the order of [`audit_columns`].
fn values(event: &AuditEvent) -> Vec<Val<'_>> {
    vec![
        Val::Uuid(event.id),
        Val::Uuid(event.subject.as_uuid()),
        Val::OptUuid(event.actor.map(|actor| actor.as_uuid())),
        Val::OptText(event.agency.as_ref().map(AgencyId::as_str)),
        Val::Text(event.kind.code()),
        Val::OptText(event.loa.map(Loa::as_str)),
        Val::OptText(event.provider.as_deref()),
        Val::Time(event.at),
        Val::OptText(event.acted_under.map(ActedUnder::code)),
        Val::OptUuid(match event.acted_under {
            Some(ActedUnder::Delegation(delegation)) => Some(delegation.as_uuid()),
            _ => None,
        }),
        Val::OptText(event.about.as_deref()),
    ]
}

pub(super) async fn insert(ex: &mut Ex<'_>, event: &AuditEvent) -> Result<(), StoreError> {
    ex.execute(
        concat!(
            "INSERT INTO audit_events (",
            audit_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ),
        &values(event),
    )
    .await
    .map(drop)
}

/// Many events in one statement (an agency look-up writes one per person it found).
pub(super) async fn insert_many(ex: &mut Ex<'_>, events: &[AuditEvent]) -> Result<(), StoreError> {
    let rows: Vec<Vec<Val<'_>>> = events.iter().map(values).collect();
    ex.insert_rows(INSERT_HEAD, &rows).await.map(drop)
}

/// One page of a person's events, newest first. The row comparison
/// `(occurred_at, id) < ($2, $3)` is one range scan on the `audit_events_subject_time` index.
pub(super) async fn list(
    ex: &mut Ex<'_>,
    subject: PersonId,
    kinds: EventFilter,
    before: Option<AuditCursor>,
    fetch: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let pattern = kinds.like_pattern();
    let rows = match before {
        None => {
            ex.fetch_all(
                concat!(
                    "SELECT ",
                    audit_columns!(),
                    " FROM audit_events WHERE subject_id = $1 AND kind LIKE $3 \
                     ORDER BY occurred_at DESC, id DESC LIMIT $2"
                ),
                &[
                    Val::Uuid(subject.as_uuid()),
                    Val::Int(fetch),
                    Val::Text(pattern),
                ],
            )
            .await?
        }
        Some(before) => {
            ex.fetch_all(
                concat!(
                    "SELECT ",
                    audit_columns!(),
                    " FROM audit_events WHERE subject_id = $1 AND (occurred_at, id) < ($2, $3) \
                     AND kind LIKE $5 ORDER BY occurred_at DESC, id DESC LIMIT $4"
                ),
                &[
                    Val::Uuid(subject.as_uuid()),
                    Val::Time(before.at),
                    Val::Uuid(before.id),
                    Val::Int(fetch),
                    Val::Text(pattern),
                ],
            )
            .await?
        }
    };
    rows.iter().map(event_from_row).collect()
}

fn event_from_row(row: &Row) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        id: row.uuid("id", "audit_event.id")?,
        subject: PersonId::from_uuid(row.uuid("subject_id", "audit_event.subject_id")?),
        actor: row
            .opt_uuid("actor_id", "audit_event.actor_id")?
            .map(PersonId::from_uuid),
        agency: row
            .opt_str("agency_id", "audit_event.agency_id")?
            .map(AgencyId::parse)
            .transpose()
            .map_err(|_| StoreError::Corrupt {
                what: "audit_event.agency_id",
            })?,
        kind: AuditKind::from_code(row.str("kind", "audit_event.kind")?).ok_or(
            StoreError::Corrupt {
                what: "audit_event.kind",
            },
        )?,
        loa: row
            .opt_str("loa", "audit_event.loa")?
            .map(|loa| {
                Loa::from_str_name(loa).ok_or(StoreError::Corrupt {
                    what: "audit_event.loa",
                })
            })
            .transpose()?,
        provider: row.opt_text("provider", "audit_event.provider")?,
        at: row.time("occurred_at", "audit_event.occurred_at")?,
        acted_under: match row.opt_str("basis", "audit_event.basis")? {
            None => None,
            Some("guardian") => Some(ActedUnder::Guardian),
            Some("delegation") => Some(ActedUnder::Delegation(DelegationId::from_uuid(
                row.uuid("delegation_id", "audit_event.delegation_id")?,
            ))),
            Some(_) => {
                return Err(StoreError::Corrupt {
                    what: "audit_event.basis",
                })
            }
        },
        about: row.opt_text("about", "audit_event.about")?,
    })
}

/// The audit event for something a citizen did through `access`.
pub(super) fn citizen_event<C: Capability>(
    access: &Access<C>,
    kind: AuditKind,
    now: OffsetDateTime,
) -> AuditEvent {
    let (actor, loa) = match access.actor() {
        Actor::Citizen { person, loa } => (Some(*person), Some(*loa)),
        Actor::Agency { .. } => (None, None),
    };
    AuditEvent {
        id: Uuid::now_v7(),
        subject: access.subject(),
        actor,
        agency: None,
        kind,
        loa,
        provider: None,
        at: now,
        acted_under: ActedUnder::of(access.basis()),
        about: None,
    }
}

/// [`citizen_event`] about something the person knows by `about` (a letter's non-sensitive
/// title, a folder's name, a signing job's non-sensitive title).
pub(super) fn citizen_event_about<C: Capability>(
    access: &Access<C>,
    kind: AuditKind,
    about: String,
    now: OffsetDateTime,
) -> AuditEvent {
    AuditEvent {
        about: Some(about),
        ..citizen_event(access, kind, now)
    }
}
