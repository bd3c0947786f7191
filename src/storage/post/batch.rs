//! SQLite's batch statements for the group writer (`writer.rs`): the look-ups of a whole batch
//! in one query each, and the rows of all its planned deliveries and token ids in multi-row
//! statements (`write.rs`, the same statements one delivery at a time uses). Each statement is
//! one round trip to sqlx's SQLite worker thread, however many calls it serves. Nothing here
//! decides anything: the decisions are [`plan_delivery`](crate::post::plan::plan_delivery)'s,
//! the same as for one delivery at a time.
//!
//! Every insert is a plain `INSERT` (no `ON CONFLICT`) except the token ids': a row that
//! breaks a unique rule fails its statement, and the writer falls back to one call at a time
//! for that batch, where the rule is handled as for a single call.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::super::audit;
use super::super::contact::{rows as contact_rows, ContactParts};
use super::super::outbox::{self, NotificationRow};
use super::super::sql::{Ex, Val};
use super::super::{stored_instant, StoreError};
use super::write::{self, Planned};
use crate::contact::ContactInfo;
use crate::outbox::NotificationId;
use crate::post::{DeliveryStatus, LetterId};

/// A delivery found in `letters`: its id, outcome and time.
pub(super) struct Found {
    pub letter: LetterId,
    pub status: DeliveryStatus,
    pub delivered_at: OffsetDateTime,
}

/// Records the token ids `(agency, jti, expires_at)` (distinct pairs); answers the pairs that
/// were new. One `INSERT … ON CONFLICT DO NOTHING RETURNING` per chunk.
pub(super) async fn insert_tokens(
    ex: &mut Ex<'_>,
    tokens: &[(&str, &str, OffsetDateTime)],
) -> Result<HashSet<(String, String)>, StoreError> {
    let rows: Vec<_> = tokens
        .iter()
        .map(|(agency, jti, expires_at)| {
            vec![
                Val::Text(agency),
                Val::Text(jti),
                Val::Time(stored_instant(*expires_at)),
            ]
        })
        .collect();
    let mut new = HashSet::with_capacity(tokens.len());
    for row in ex
        .insert_rows_returning(
            "INSERT INTO agency_token_ids (agency_id, jti, expires_at)",
            "({0}, {1}, {2})",
            &rows,
            " ON CONFLICT (agency_id, jti) DO NOTHING RETURNING agency_id, jti",
        )
        .await?
    {
        new.insert((
            row.text("agency_id", "agency_token_ids")?,
            row.text("jti", "agency_token_ids")?,
        ));
    }
    Ok(new)
}

/// The letters already delivered under any of the distinct `(agency, message id)` pairs, by
/// pair: one query per chunk, each pair a seek on the unique key (the `CROSS JOIN` keeps
/// the list outside).
pub(super) async fn existing_deliveries(
    ex: &mut Ex<'_>,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), Found>, StoreError> {
    let rows: Vec<_> = keys
        .iter()
        .map(|(agency, message_id)| vec![Val::Text(agency), Val::Text(message_id)])
        .collect();
    let mut found = HashMap::new();
    for row in ex
        .select_values(
            "SELECT l.agency_id, l.agency_message_id, l.id, l.outcome, l.delivered_at FROM (",
            &rows,
            ") AS k CROSS JOIN letters l \
             ON l.agency_id = k.column1 AND l.agency_message_id = k.column2",
        )
        .await?
    {
        found.insert(
            (
                row.text("agency_id", "letters")?,
                row.text("agency_message_id", "letters")?,
            ),
            Found {
                letter: LetterId::from_uuid(row.uuid("id", "letters.id")?),
                status: DeliveryStatus::from_code(row.str("outcome", "letters.outcome")?).ok_or(
                    StoreError::Corrupt {
                        what: "letters.outcome",
                    },
                )?,
                delivered_at: row.time("delivered_at", "letters.delivered_at")?,
            },
        );
    }
    Ok(found)
}

/// The contact entries of the persons with these (distinct, normalised) national ids, by
/// national id; ids no person has are not in the answer.
pub(super) async fn recipients(
    ex: &mut Ex<'_>,
    national_ids: &[&str],
) -> Result<HashMap<String, ContactInfo>, StoreError> {
    let mut found = HashMap::with_capacity(national_ids.len());
    for parts in contact_rows::find_by_national_ids(ex, national_ids).await? {
        let national_id = parts.national_id.clone();
        found.insert(national_id, ContactParts::into_contact_info(parts)?);
    }
    Ok(found)
}

/// Writes every planned delivery: letters, search entries, attachments, forwarding and print
/// queue rows, receipts, audit events, messages and their links to the letters, each table in
/// one statement per chunk, in the order of `planned` (so receipts are numbered in call order).
pub(super) async fn write_deliveries(
    ex: &mut Ex<'_>,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    if planned.is_empty() {
        return Ok(());
    }
    let docs = write::insert_letters(ex, planned, false).await?;
    if docs.len() != planned.len() {
        return Err(StoreError::Corrupt {
            what: "letters.doc",
        });
    }
    write::insert_attachments(ex, planned).await?;
    write::insert_queues(ex, planned).await?;
    write::insert_receipts(ex, planned).await?;
    let events: Vec<_> = planned
        .iter()
        .filter_map(|one| one.plan.audit.clone())
        .collect();
    audit::insert_many(ex, &events).await?;
    insert_messages(ex, planned).await
}

/// The `new_letter` messages and their links to the letters.
async fn insert_messages(ex: &mut Ex<'_>, planned: &[Planned<'_>]) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    let mut links = Vec::new();
    for one in planned {
        for notification in &one.plan.notifications {
            let id = NotificationId::new();
            rows.push(NotificationRow {
                id,
                notification,
                params: serde_json::to_string(notification.params()).map_err(|_| {
                    StoreError::Corrupt {
                        what: "notification.params",
                    }
                })?,
                created_at: one.plan.delivered_at,
            });
            links.push(vec![
                Val::Uuid(id.as_uuid()),
                Val::Uuid(one.plan.id.as_uuid()),
            ]);
        }
    }
    outbox::insert_many(ex, &rows).await?;
    ex.insert_rows_returning(
        "INSERT INTO letter_notifications (notification_id, letter_id)",
        "({0}, {1})",
        &links,
        " ON CONFLICT DO NOTHING",
    )
    .await
    .map(drop)
}
