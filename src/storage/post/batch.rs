//! SQLite's batch statements for the group writer (`writer.rs`): the look-ups of a whole batch
//! in one query each, and the rows of all its planned deliveries ([`DeliveryPlan`]) and
//! token ids in multi-row statements. Each statement is one round trip to sqlx's SQLite worker
//! thread, however many calls it serves. Nothing here decides anything: the decisions are
//! [`plan_delivery`](super::plan_delivery)'s, the same as for one delivery at a time.
//!
//! Every insert is a plain `INSERT` (no `ON CONFLICT`) except the token ids': a row that
//! breaks a unique rule fails its statement, and the writer falls back to one call at a time
//! for that batch, where the rule is handled as for a single call.

use std::collections::{HashMap, HashSet};

use sha2::{Digest as _, Sha256};
use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::{QueryBuilder, Row as _};
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::audit;
use super::super::contact::{rows as contact_rows, ContactParts};
use super::super::outbox::{self, NotificationRow};
use super::super::sql::encode::{
    decode_timestamp, encode_optional_timestamp, encode_timestamp, encode_uuid, MAX_VARIABLES,
};
use super::super::sql::Ex;
use super::super::{stored_instant, StoreError};
use crate::agency::AgencyId;
use crate::contact::ContactInfo;
use crate::outbox::NotificationId;
use crate::post::plan::DeliveryPlan;
use crate::post::{DeliveryStatus, LetterId, ValidLetter};

/// A planned delivery with what it is about.
pub(super) struct Planned<'a> {
    pub agency: &'a AgencyId,
    pub letter: &'a ValidLetter,
    pub plan: DeliveryPlan,
}

/// A delivery found in `letters`: its id, outcome and time.
pub(super) struct Found {
    pub letter: LetterId,
    pub status: DeliveryStatus,
    pub delivered_at: OffsetDateTime,
}

/// Rows per statement for a table of `columns` bound values a row.
fn rows_per_statement(columns: usize) -> usize {
    MAX_VARIABLES / columns
}

fn corrupt(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |_| StoreError::Corrupt { what }
}

/// Records the token ids `(agency, jti, expires_at)` (distinct pairs); answers the pairs that
/// were new. One `INSERT … ON CONFLICT DO NOTHING RETURNING` per chunk.
pub(super) async fn insert_tokens(
    conn: &mut SqliteConnection,
    tokens: &[(&str, &str, OffsetDateTime)],
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut new = HashSet::with_capacity(tokens.len());
    for chunk in tokens.chunks(rows_per_statement(3)) {
        let mut encoded = Vec::with_capacity(chunk.len());
        for (agency, jti, expires_at) in chunk {
            encoded.push((
                *agency,
                *jti,
                encode_timestamp(stored_instant(*expires_at))?,
            ));
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO agency_token_ids (agency_id, jti, expires_at) ",
        );
        query.push_values(encoded, |mut row, (agency, jti, expires_at)| {
            row.push_bind(agency).push_bind(jti).push_bind(expires_at);
        });
        query.push(" ON CONFLICT (agency_id, jti) DO NOTHING RETURNING agency_id, jti");
        let rows = query
            .build()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::from_query)?;
        for row in rows {
            let what = "agency_token_ids";
            new.insert((
                row.try_get("agency_id").map_err(corrupt(what))?,
                row.try_get("jti").map_err(corrupt(what))?,
            ));
        }
    }
    Ok(new)
}

/// The letters already delivered under any of the distinct `(agency, message id)` pairs, by
/// pair: one query per chunk, each pair a seek on the unique key (the `CROSS JOIN` keeps
/// the list outside).
pub(super) async fn existing_deliveries(
    conn: &mut SqliteConnection,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), Found>, StoreError> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(rows_per_statement(2)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT l.agency_id, l.agency_message_id, l.id, l.outcome, l.delivered_at FROM (",
        );
        query.push_values(chunk, |mut row, (agency, message_id)| {
            row.push_bind(*agency).push_bind(*message_id);
        });
        query.push(
            ") AS k CROSS JOIN letters l \
             ON l.agency_id = k.column1 AND l.agency_message_id = k.column2",
        );
        let rows = query
            .build()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::from_query)?;
        for row in rows {
            let agency: String = row.try_get("agency_id").map_err(corrupt("letters"))?;
            let message_id: String = row
                .try_get("agency_message_id")
                .map_err(corrupt("letters"))?;
            let id: String = row.try_get("id").map_err(corrupt("letters.id"))?;
            let outcome: String = row.try_get("outcome").map_err(corrupt("letters.outcome"))?;
            let delivered_at: String = row
                .try_get("delivered_at")
                .map_err(corrupt("letters.delivered_at"))?;
            found.insert(
                (agency, message_id),
                Found {
                    letter: LetterId::from_uuid(
                        Uuid::parse_str(&id)
                            .map_err(|_| StoreError::Corrupt { what: "letters.id" })?,
                    ),
                    status: DeliveryStatus::from_code(&outcome).ok_or(StoreError::Corrupt {
                        what: "letters.outcome",
                    })?,
                    delivered_at: decode_timestamp(&delivered_at).ok_or(StoreError::Corrupt {
                        what: "letters.delivered_at",
                    })?,
                },
            );
        }
    }
    Ok(found)
}

/// The contact entries of the persons with these (distinct, normalised) national ids, by
/// national id; ids no person has are not in the answer.
pub(super) async fn recipients(
    conn: &mut SqliteConnection,
    national_ids: &[&str],
) -> Result<HashMap<String, ContactInfo>, StoreError> {
    let mut found = HashMap::with_capacity(national_ids.len());
    for chunk in national_ids.chunks(rows_per_statement(1)) {
        for parts in contact_rows::find_by_national_ids(&mut Ex::Sqlite(conn), chunk).await? {
            let national_id = parts.national_id.clone();
            found.insert(national_id, ContactParts::into_contact_info(parts)?);
        }
    }
    Ok(found)
}

/// Writes every planned delivery: letters, search entries, attachments, forwarding and print
/// queue rows, receipts, audit events, messages and their links to the letters, each table in
/// one statement per chunk, in the order of `planned` (so receipts are numbered in call order).
pub(super) async fn write_deliveries(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    if planned.is_empty() {
        return Ok(());
    }
    let docs = insert_letters(conn, planned).await?;
    insert_search_entries(conn, planned, &docs).await?;
    insert_attachments(conn, planned).await?;
    insert_queues(conn, planned).await?;
    insert_receipts(conn, planned).await?;
    let events: Vec<_> = planned
        .iter()
        .filter_map(|one| one.plan.audit.clone())
        .collect();
    audit::insert_many(&mut Ex::Sqlite(conn), &events).await?;
    insert_messages(conn, planned).await
}

const LETTER_COLUMNS: usize = 25;

/// The letters; their search-entry numbers (`doc`) by letter id.
async fn insert_letters(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
) -> Result<HashMap<Uuid, i64>, StoreError> {
    let mut docs = HashMap::with_capacity(planned.len());
    for chunk in planned.chunks(rows_per_statement(LETTER_COLUMNS)) {
        let mut encoded = Vec::with_capacity(chunk.len());
        for one in chunk {
            let plan = &one.plan;
            encoded.push((
                one,
                [
                    encode_timestamp(plan.effective_at)?,
                    encode_timestamp(plan.shown_at)?,
                    encode_timestamp(stored_instant(one.letter.created_at))?,
                    encode_timestamp(plan.delivered_at)?,
                ],
                encode_optional_timestamp(plan.remind_at)?,
            ));
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO letters (id, agency_id, agency_message_id, recipient_national_id, \
             recipient_id, outcome, sender_name, title, safe_title, body_kind, body, body_html, \
             required_loa, effective_at, shown_at, wants_opening_receipt, is_decision, \
             attachment_count, created_at, delivered_at, folder, unread, notify_channels, \
             repeat_after_days, remind_at) ",
        );
        query.push_values(
            encoded,
            |mut row, (one, [effective_at, shown_at, created_at, delivered_at], remind_at)| {
                let (letter, plan) = (one.letter, &one.plan);
                row.push_bind(encode_uuid(plan.id.as_uuid()))
                    .push_bind(one.agency.as_str())
                    .push_bind(letter.message_id.as_str())
                    .push_bind(letter.recipient.expose())
                    .push_bind(plan.person.map(|person| encode_uuid(person.as_uuid())))
                    .push_bind(plan.status.code())
                    .push_bind(letter.sender_name.as_str())
                    .push_bind(letter.title.as_str())
                    .push_bind(letter.safe_title.as_str())
                    .push_bind(letter.body_kind.code())
                    .push_bind(letter.body.as_str())
                    .push_bind(letter.body_html.as_str())
                    .push_bind(letter.required_loa.as_str())
                    .push_bind(effective_at)
                    .push_bind(shown_at)
                    .push_bind(i64::from(letter.wants_opening_receipt))
                    .push_bind(i64::from(letter.is_decision))
                    .push_bind(i64::try_from(letter.attachments.len()).unwrap_or(i64::MAX))
                    .push_bind(created_at)
                    .push_bind(delivered_at)
                    .push_bind(plan.folder)
                    .push_bind(1_i64)
                    .push_bind(letter.notification.channels_code())
                    .push_bind(letter.notification.repeat_after_days.map(i64::from))
                    .push_bind(remind_at);
            },
        );
        query.push(" RETURNING id, doc");
        // RETURNING gives no order: the rows are matched by id.
        let rows = query
            .build()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::from_query)?;
        for row in rows {
            let id: String = row.try_get("id").map_err(corrupt("letters.id"))?;
            let id =
                Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt { what: "letters.id" })?;
            docs.insert(id, row.try_get("doc").map_err(corrupt("letters.doc"))?);
        }
    }
    if docs.len() != planned.len() {
        return Err(StoreError::Corrupt {
            what: "letters.doc",
        });
    }
    Ok(docs)
}

/// The FTS5 rows of the letters that land in the mailbox.
async fn insert_search_entries(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
    docs: &HashMap<Uuid, i64>,
) -> Result<(), StoreError> {
    let mut entries = Vec::new();
    for one in planned.iter().filter(|one| one.plan.in_mailbox()) {
        let doc = *docs
            .get(&one.plan.id.as_uuid())
            .ok_or(StoreError::Corrupt {
                what: "letters.doc",
            })?;
        entries.push((doc, one.plan.search_owner(), one.letter));
    }
    for chunk in entries.chunks(rows_per_statement(5)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO letters_fts (rowid, owner, sender, title, body) ",
        );
        query.push_values(chunk, |mut row, (doc, owner, letter)| {
            row.push_bind(*doc)
                .push_bind(owner.as_deref())
                .push_bind(letter.sender_name.as_str())
                .push_bind(letter.title.as_str())
                .push_bind(letter.search_text.as_str());
        });
        execute(conn, query).await?;
    }
    Ok(())
}

async fn insert_attachments(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for one in planned {
        for (position, attachment) in one.letter.attachments.iter().enumerate() {
            let hash: [u8; 32] = Sha256::digest(&attachment.content).into();
            rows.push((one.plan.id, position, attachment, hash));
        }
    }
    for chunk in rows.chunks(rows_per_statement(6)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO letter_attachments (letter_id, position, filename, size, sha256, content) ",
        );
        query.push_values(chunk, |mut row, (letter, position, attachment, hash)| {
            row.push_bind(encode_uuid(letter.as_uuid()))
                .push_bind(i64::try_from(*position).unwrap_or(i64::MAX))
                .push_bind(attachment.filename.as_str())
                .push_bind(i64::try_from(attachment.content.len()).unwrap_or(i64::MAX))
                .push_bind(hash.as_slice())
                .push_bind(attachment.content.as_slice());
        });
        execute(conn, query).await?;
    }
    Ok(())
}

/// The forwarding queue and the print queue.
async fn insert_queues(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    let mut forwarding = Vec::new();
    let mut print = Vec::new();
    for one in planned {
        let plan = &one.plan;
        if let Some(provider) = &plan.forward_to {
            forwarding.push((
                plan.id,
                provider.as_str(),
                encode_timestamp(plan.delivered_at)?,
            ));
        }
        if plan.print {
            print.push((plan.id, encode_timestamp(plan.delivered_at)?));
        }
    }
    for chunk in forwarding.chunks(rows_per_statement(3)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO mailbox_forwarding (letter_id, provider, status, attempts, \
             next_attempt_at) ",
        );
        query.push_values(chunk, |mut row, (letter, provider, at)| {
            row.push_bind(encode_uuid(letter.as_uuid()))
                .push_bind(*provider)
                .push("'pending'")
                .push("0")
                .push_bind(at.as_str());
        });
        execute(conn, query).await?;
    }
    for chunk in print.chunks(rows_per_statement(2)) {
        let mut query =
            QueryBuilder::<Sqlite>::new("INSERT INTO print_queue (letter_id, queued_at) ");
        query.push_values(chunk, |mut row, (letter, at)| {
            row.push_bind(encode_uuid(letter.as_uuid()))
                .push_bind(at.as_str());
        });
        execute(conn, query).await?;
    }
    Ok(())
}

async fn insert_receipts(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for one in planned {
        for kind in one.plan.receipts() {
            rows.push((one, kind, encode_timestamp(one.plan.delivered_at)?));
        }
    }
    for chunk in rows.chunks(rows_per_statement(5)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO post_receipts (agency_id, agency_message_id, letter_id, kind, reason, at) ",
        );
        query.push_values(chunk, |mut row, (one, kind, at)| {
            row.push_bind(one.agency.as_str())
                .push_bind(one.letter.message_id.as_str())
                .push_bind(encode_uuid(one.plan.id.as_uuid()))
                .push_bind(kind.code())
                .push("NULL")
                .push_bind(at.as_str());
        });
        execute(conn, query).await?;
    }
    Ok(())
}

/// The `new_letter` messages and their links to the letters.
async fn insert_messages(
    conn: &mut SqliteConnection,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
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
            links.push((id, one.plan.id));
        }
    }
    outbox::insert_many(&mut Ex::Sqlite(conn), &rows).await?;
    for chunk in links.chunks(rows_per_statement(2)) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO letter_notifications (notification_id, letter_id) ",
        );
        query.push_values(chunk, |mut row, (notification, letter)| {
            row.push_bind(encode_uuid(notification.as_uuid()))
                .push_bind(encode_uuid(letter.as_uuid()));
        });
        query.push(" ON CONFLICT DO NOTHING");
        execute(conn, query).await?;
    }
    Ok(())
}

async fn execute(
    conn: &mut SqliteConnection,
    mut query: QueryBuilder<'_, Sqlite>,
) -> Result<(), StoreError> {
    query
        .build()
        .persistent(false)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(StoreError::from_query)
}
