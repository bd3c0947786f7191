//! What the parties to a delegation are told, queued in the outbox in the transaction of the
//! change it reports (`delegation.rs` calls [`queue_notice`] for a request, a grant or an
//! approval, a revocation and the first use), so nothing is told about a change that rolled
//! back and nothing acknowledged goes untold; and the job that tells both parties when a
//! delegation ends within 14 days ([`Database::queue_delegation_end_notices`]).
//!
//! The decisions (who is told, in which template, by which channels, when an end is near
//! enough) are the domain's (`delegation::notice`); here the rows they need are read and the
//! messages queued. Each message's idempotency key names the event and the delegation (an end
//! notice also its end date), so a retried transaction queues nothing twice.

use time::OffsetDateTime;

use super::contact::rows as contact_rows;
use super::sql::{Tx, Val};
use super::{stored_instant, Database, StoreError};
use crate::delegation::{
    end_notice_due, end_notice_window, notice_notifications, Delegation, DelegationId, Notice,
    Party,
};
use crate::person::PersonId;

/// Queues the messages telling one party of delegation `id` (from `giver` to `holder`) about
/// `notice`, in `tx`: to the recipient's fresh e-mail address and mobile number, in their
/// language, naming the other party. Returns how many messages were queued (none for someone
/// who cannot be notified, or for a message already queued under the same key).
pub(super) async fn queue_notice(
    tx: &mut Tx,
    id: DelegationId,
    giver: PersonId,
    holder: PersonId,
    notice: Notice,
    now: OffsetDateTime,
    staleness: time::Duration,
) -> Result<usize, StoreError> {
    let (recipient, other) = match notice.recipient() {
        Party::Giver => (giver, holder),
        Party::Holder => (holder, giver),
    };
    let Some(info) = contact_rows::find(&mut tx.ex(), recipient).await? else {
        return Ok(0);
    };
    let info = info.into_contact_info()?;
    if !info.can_be_notified(now, staleness) {
        return Ok(0);
    }
    let Some(other) = super::person::find(&mut tx.ex(), other).await? else {
        return Ok(0);
    };
    let messages = notice_notifications(&info, notice, id, &other.full_name(), now, staleness)
        // Our own keys and parameters are always valid; a failure here is a bug.
        .map_err(|_| StoreError::Corrupt {
            what: "notification.params",
        })?;
    let mut queued = 0;
    for message in &messages {
        if let crate::outbox::EnqueueOutcome::Queued(_) = tx.enqueue(message, now).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Active delegations whose last end date is within the window and not yet told for: one row
/// per delegation (`DISTINCT`: two scopes may share the last date), read through the index on
/// `delegation_scopes (ends_on)`, so a round costs what ends in the next 14 days.
const DUE_END_NOTICES: &str = "SELECT DISTINCT d.id, d.giver_id, d.holder_id, \
     d.end_notice_for, s.ends_on \
     FROM delegation_scopes s JOIN delegations d ON d.id = s.delegation_id \
     WHERE s.ends_on >= $1 AND s.ends_on <= $2 AND d.state = 'active' \
     AND (d.end_notice_for IS NULL OR d.end_notice_for <> s.ends_on) \
     AND NOT EXISTS (SELECT 1 FROM delegation_scopes later \
     WHERE later.delegation_id = s.delegation_id AND later.ends_on > s.ends_on) \
     ORDER BY s.ends_on, d.id LIMIT $3";

/// Takes one delegation's end notice for `ends_on`: only while it is active, still ends on
/// that day and was not told for it. Of two workers taking the same one, the second waits for
/// the first's row lock (SQLite: the write lock), then finds the marker set and touches
/// nothing.
const TAKE_END_NOTICE: &str = "UPDATE delegations SET end_notice_for = $2 \
     WHERE id = $1 AND state = 'active' \
     AND (end_notice_for IS NULL OR end_notice_for <> $2) \
     AND EXISTS (SELECT 1 FROM delegation_scopes s WHERE s.delegation_id = $1 AND s.ends_on = $2) \
     AND NOT EXISTS (SELECT 1 FROM delegation_scopes s \
     WHERE s.delegation_id = $1 AND s.ends_on > $2)";

const WHAT: &str = "delegation end notice";

/// Telling a delegation's parties, and the job that tells them of delegations ending soon.
impl Database {
    /// Tells the recipient of `notice` about `delegation`, in `tx` (with the change it
    /// reports), under this database's contact staleness limit.
    pub(super) async fn tell(
        &self,
        tx: &mut Tx,
        delegation: &Delegation,
        notice: Notice,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (id, giver, holder) = (delegation.id, delegation.giver, delegation.holder);
        queue_notice(tx, id, giver, holder, notice, now, self.contact_staleness)
            .await
            .map(drop)
    }

    /// The end-notice job (run periodically by the notification worker, with its clock as
    /// `now`): takes up to `limit` (clamped to 1..=1000) active delegations whose last end
    /// date is within 14 days of the day it is at `now` (Nordic wall clock, that day
    /// included; see [`end_notice_due`]) and whose parties were not told for that end date,
    /// and queues a `delegation_ending` message to the giver and one to the holder. Each is
    /// taken by setting `end_notice_for` to its end date in the transaction that queues its
    /// messages, so it is told once also with several workers; a change that moves the end
    /// date makes the new end due in its turn. Returns how many delegations were taken.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn queue_delegation_end_notices(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<u32, StoreError> {
        let now = stored_instant(now);
        let (first, last) = end_notice_window(now);
        // Most rounds find nothing: look first without taking SQLite's write lock.
        let any_due = self
            .conn()
            .await?
            .ex()
            .fetch_optional(
                DUE_END_NOTICES,
                &[Val::Date(first), Val::Date(last), Val::Int(1)],
            )
            .await?
            .is_some();
        if !any_due {
            return Ok(0);
        }
        let limit = i64::from(limit.clamp(1, 1000));
        let mut tx = self.begin_tx().await?;
        let due = tx
            .ex()
            .fetch_all(
                DUE_END_NOTICES,
                &[Val::Date(first), Val::Date(last), Val::Int(limit)],
            )
            .await?;
        let mut taken = 0_u32;
        for row in due {
            let id = DelegationId::from_uuid(row.uuid("id", WHAT)?);
            let ends_on = row.date("ends_on", WHAT)?;
            if !end_notice_due(ends_on, row.opt_date("end_notice_for", WHAT)?, now) {
                continue;
            }
            let took = tx
                .ex()
                .execute(
                    TAKE_END_NOTICE,
                    &[Val::Uuid(id.as_uuid()), Val::Date(ends_on)],
                )
                .await?;
            if took == 0 {
                continue;
            }
            let giver = PersonId::from_uuid(row.uuid("giver_id", WHAT)?);
            let holder = PersonId::from_uuid(row.uuid("holder_id", WHAT)?);
            for to in [Party::Giver, Party::Holder] {
                let notice = Notice::Ending { ends_on, to };
                let staleness = self.contact_staleness;
                queue_notice(&mut tx, id, giver, holder, notice, now, staleness).await?;
            }
            taken += 1;
        }
        tx.commit().await?;
        if taken > 0 {
            tracing::info!(delegations = taken, "delegation end notices queued");
        }
        Ok(taken)
    }
}
