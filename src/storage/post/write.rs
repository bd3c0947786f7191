//! The rows of planned deliveries ([`DeliveryPlan`]), written on either database in multi-row
//! statements: one delivery at a time (`delivery.rs`) is a batch of one; SQLite's group
//! writer (`writer.rs`, `batch.rs`) writes a whole batch. Nothing here decides anything: the
//! decisions are [`plan_delivery`](crate::post::plan::plan_delivery)'s.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::super::sql::{Dialect, Ex, Val};
use super::super::{stored_instant, StoreError};
use crate::agency::AgencyId;
use crate::post::plan::DeliveryPlan;
use crate::post::ValidLetter;

/// A planned delivery with what it is about.
pub(super) struct Planned<'a> {
    pub agency: &'a AgencyId,
    pub letter: &'a ValidLetter,
    pub plan: DeliveryPlan,
}

/// The columns of a letter's row, in the order of [`letter_values`]; PostgreSQL adds the
/// letter's full-text `search` vector (its search entry; SQLite keeps them in `letters_fts`).
const LETTERS: Dialect = Dialect {
    sqlite: "INSERT INTO letters (id, agency_id, agency_message_id, recipient_national_id, \
             recipient_id, outcome, sender_name, title, safe_title, body_kind, body, body_html, \
             required_loa, effective_at, shown_at, wants_opening_receipt, is_decision, \
             attachment_count, created_at, delivered_at, folder, unread, notify_channels, \
             repeat_after_days, remind_at)",
    postgres: "INSERT INTO letters (id, agency_id, agency_message_id, recipient_national_id, \
               recipient_id, outcome, sender_name, title, safe_title, body_kind, body, \
               body_html, required_loa, effective_at, shown_at, wants_opening_receipt, \
               is_decision, attachment_count, created_at, delivered_at, folder, unread, \
               notify_channels, repeat_after_days, remind_at, search)",
};

/// A letter's row group. PostgreSQL's search vector: the sender (weight A), the title (B)
/// and the body's text (C) in the recipient's language's configuration (`{26}`), and all of
/// it in `simple` (names and numbers as they are).
const LETTER_ROW: Dialect = Dialect {
    sqlite: "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, \
             {15}, {16}, {17}, {18}, {19}, {20}, {21}, {22}, {23}, {24})",
    postgres: "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, \
               {15}, {16}, {17}, {18}, {19}, {20}, {21}, {22}, {23}, {24}, \
               setweight(to_tsvector({26}::regconfig, {6}), 'A') \
               || setweight(to_tsvector({26}::regconfig, {7}), 'B') \
               || setweight(to_tsvector({26}::regconfig, {25}), 'C') \
               || to_tsvector('simple', {6} || ' ' || {7} || ' ' || {25}))",
};

/// What the insert gives back: the letter's id and its search entry's number (`doc`, SQLite's
/// FTS5 rowid; none on PostgreSQL).
const RETURNING: Dialect = Dialect {
    sqlite: " RETURNING id, doc",
    postgres: " RETURNING id, 0::bigint AS doc",
};

/// On a retry that raced its twin: nothing written, nothing returned.
const SKIP_TAKEN: Dialect = Dialect {
    sqlite: " ON CONFLICT (agency_id, agency_message_id) DO NOTHING RETURNING id, doc",
    postgres: " ON CONFLICT (agency_id, agency_message_id) DO NOTHING \
               RETURNING id, 0::bigint AS doc",
};

/// A letter's values, in the order of [`LETTERS`]; with `search`, PostgreSQL's two more (the
/// body's text and the text search configuration).
fn letter_values<'a>(one: &'a Planned<'a>, search: bool) -> Vec<Val<'a>> {
    let (letter, plan) = (one.letter, &one.plan);
    let mut values = vec![
        Val::Uuid(plan.id.as_uuid()),
        Val::Text(one.agency.as_str()),
        Val::Text(letter.message_id.as_str()),
        Val::Text(letter.recipient.expose()),
        Val::OptUuid(plan.person.map(|person| person.as_uuid())),
        Val::Text(plan.status.code()),
        Val::Text(&letter.sender_name),
        Val::Text(&letter.title),
        Val::Text(&letter.safe_title),
        Val::Text(letter.body_kind.code()),
        Val::Text(&letter.body),
        Val::Text(&letter.body_html),
        Val::Text(letter.required_loa.as_str()),
        Val::Time(plan.effective_at),
        Val::Time(plan.shown_at),
        Val::Bool(letter.wants_opening_receipt),
        Val::Bool(letter.is_decision),
        Val::Int(i64::try_from(letter.attachments.len()).unwrap_or(i64::MAX)),
        Val::Time(stored_instant(letter.created_at)),
        Val::Time(plan.delivered_at),
        Val::OptText(plan.folder),
        Val::Bool(true),
        Val::Text(letter.notification.channels_code()),
        Val::OptInt(letter.notification.repeat_after_days.map(i64::from)),
        Val::OptTime(plan.remind_at),
    ];
    if search {
        values.push(Val::Text(&letter.search_text));
        values.push(Val::Text(plan.search_config));
    }
    values
}

/// Writes the letters and their search entries; the letters written, by id, with their
/// `doc`. With `skip_taken`, a letter whose message id is taken (a racing twin committed
/// first) is left out instead of failing the statement.
pub(super) async fn insert_letters(
    ex: &mut Ex<'_>,
    planned: &[Planned<'_>],
    skip_taken: bool,
) -> Result<HashMap<Uuid, i64>, StoreError> {
    let search = !ex.is_sqlite();
    let rows: Vec<_> = planned
        .iter()
        .map(|one| letter_values(one, search))
        .collect();
    let (head, row) = (ex.dialect(&LETTERS), ex.dialect(&LETTER_ROW));
    let tail = ex.dialect(if skip_taken { &SKIP_TAKEN } else { &RETURNING });
    // RETURNING gives no order: the rows are matched by id.
    let mut docs = HashMap::with_capacity(planned.len());
    for row in ex.insert_rows_returning(head, row, &rows, tail).await? {
        docs.insert(
            row.uuid("id", "letters.id")?,
            row.int("doc", "letters.doc")?,
        );
    }
    if ex.is_sqlite() {
        insert_search_entries(ex, planned, &docs).await?;
    }
    Ok(docs)
}

/// SQLite's search entries (`letters_fts`) of the letters written that land in the mailbox.
async fn insert_search_entries(
    ex: &mut Ex<'_>,
    planned: &[Planned<'_>],
    docs: &HashMap<Uuid, i64>,
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    let owners: Vec<_> = planned.iter().map(|one| one.plan.search_owner()).collect();
    for (one, owner) in planned.iter().zip(&owners) {
        let Some(doc) = docs.get(&one.plan.id.as_uuid()) else {
            continue;
        };
        if one.plan.in_mailbox() {
            rows.push(vec![
                Val::Int(*doc),
                Val::OptText(owner.as_deref()),
                Val::Text(&one.letter.sender_name),
                Val::Text(&one.letter.title),
                Val::Text(&one.letter.search_text),
            ]);
        }
    }
    ex.insert_rows(
        "INSERT INTO letters_fts (rowid, owner, sender, title, body)",
        &rows,
    )
    .await
    .map(drop)
}

/// The attachments, with their SHA-256.
pub(super) async fn insert_attachments(
    ex: &mut Ex<'_>,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    let attachments: Vec<_> = planned
        .iter()
        .flat_map(|one| {
            let letter = one.plan.id;
            one.letter
                .attachments
                .iter()
                .enumerate()
                .map(move |(position, attachment)| (letter, position, attachment))
        })
        .collect();
    let hashes: Vec<[u8; 32]> = attachments
        .iter()
        .map(|(_, _, attachment)| Sha256::digest(&attachment.content).into())
        .collect();
    let rows: Vec<_> = attachments
        .iter()
        .zip(&hashes)
        .map(|((letter, position, attachment), hash)| {
            vec![
                Val::Uuid(letter.as_uuid()),
                Val::Int(i64::try_from(*position).unwrap_or(i64::MAX)),
                Val::Text(&attachment.filename),
                Val::Int(i64::try_from(attachment.content.len()).unwrap_or(i64::MAX)),
                Val::Bytes(hash),
                Val::Bytes(&attachment.content),
            ]
        })
        .collect();
    ex.insert_rows(
        "INSERT INTO letter_attachments (letter_id, position, filename, size, sha256, content)",
        &rows,
    )
    .await
    .map(drop)
}

/// The forwarding queue and the print queue.
pub(super) async fn insert_queues(
    ex: &mut Ex<'_>,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    let mut forwarding = Vec::new();
    let mut print = Vec::new();
    for one in planned {
        let plan = &one.plan;
        if let Some(provider) = &plan.forward_to {
            forwarding.push(vec![
                Val::Uuid(plan.id.as_uuid()),
                Val::Text(provider),
                Val::Text("pending"),
                Val::Int(0),
                Val::Time(plan.delivered_at),
            ]);
        }
        if plan.print {
            print.push(vec![
                Val::Uuid(plan.id.as_uuid()),
                Val::Time(plan.delivered_at),
            ]);
        }
    }
    ex.insert_rows(
        "INSERT INTO mailbox_forwarding (letter_id, provider, status, attempts, next_attempt_at)",
        &forwarding,
    )
    .await?;
    ex.insert_rows("INSERT INTO print_queue (letter_id, queued_at)", &print)
        .await
        .map(drop)
}

/// The receipts the plans write with their letters, in the order of `planned` (SQLite numbers
/// receipts in insert order, so they come in call order).
pub(super) async fn insert_receipts(
    ex: &mut Ex<'_>,
    planned: &[Planned<'_>],
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for one in planned {
        for kind in one.plan.receipts() {
            rows.push(vec![
                Val::Text(one.agency.as_str()),
                Val::Text(one.letter.message_id.as_str()),
                Val::Uuid(one.plan.id.as_uuid()),
                Val::Text(kind.code()),
                Val::OptText(None),
                Val::Time(one.plan.delivered_at),
            ]);
        }
    }
    ex.insert_rows(
        "INSERT INTO post_receipts (agency_id, agency_message_id, letter_id, kind, reason, at)",
        &rows,
    )
    .await
    .map(drop)
}
