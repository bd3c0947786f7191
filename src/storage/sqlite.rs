//! The registers on SQLite: persons, sessions, pending logins, logout tokens, audit events,
//! contact information and the notification outbox.
//!
//! Column encodings (see `migrations/README.md`): ids as hyphenated lower-case UUID text,
//! dates as `YYYY-MM-DD`, timestamps as fixed-width RFC 3339 UTC text with microseconds
//! (`2025-01-31T12:00:00.000000Z`) so that text order is time order in `WHERE`/`ORDER BY`,
//! SHA-256 hashes as 32-byte `BLOB`s.

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::Row as _;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::contact::{mailbox_columns, ContactParts, StoredVerification};
use super::outbox::{ClaimedParts, NotificationRow, RecordParts, RetryParts};
use super::post::sql::{Ex, Row, Val};
use super::{now_utc_micros, write_error, NewLoginStateRow, NewSessionRow, StoreError};
use crate::access::Loa;
use crate::agency::AgencyId;
use crate::audit::{AuditCursor, AuditEvent, AuditKind, EventFilter};
use crate::contact::{ContactInfo, ContactMethod};
use crate::identity::NationalId;
use crate::outbox::{NotificationId, NotificationStatus, EXPIRED_ERROR};
use crate::person::{Language, NewPerson, Person, PersonId};
use crate::session::{LoginState, Session};

const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

macro_rules! person_columns {
    () => {
        "id, national_id, given_name, family_name, birth_date, language, created_at"
    };
}

pub(super) async fn create_person(
    pool: &SqlitePool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let now = encode_timestamp(now_utc_micros())?;
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING ",
        person_columns!()
    ))
    .bind(encode_id(PersonId::new()))
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(encode_date(new_person.national_id.birth_date())?)
    .bind(new_person.language.code())
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&Row::Sqlite(row))
}

/// The person with this id (on a reader or a pooled connection).
pub(super) async fn find_person(
    ex: &mut Ex<'_>,
    id: PersonId,
) -> Result<Option<Person>, StoreError> {
    let row = ex
        .fetch_optional(
            concat!("SELECT ", person_columns!(), " FROM persons WHERE id = $1"),
            &[Val::Uuid(id.as_uuid())],
        )
        .await?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn find_person_by_national_id(
    pool: &SqlitePool,
    national_id: &NationalId,
) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE national_id = ?1"
    ))
    .bind(national_id.expose())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.map(Row::Sqlite)
        .as_ref()
        .map(person_from_row)
        .transpose()
}

pub(super) async fn upsert_person(
    pool: &SqlitePool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let now = encode_timestamp(now_utc_micros())?;
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
         ON CONFLICT (national_id) DO UPDATE SET given_name = excluded.given_name, \
         family_name = excluded.family_name, updated_at = excluded.updated_at RETURNING ",
        person_columns!()
    ))
    .bind(encode_id(PersonId::new()))
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(encode_date(new_person.national_id.birth_date())?)
    .bind(new_person.language.code())
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&Row::Sqlite(row))
}

pub(super) async fn count_persons(pool: &SqlitePool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM persons")
        .fetch_one(pool)
        .await
        .map_err(StoreError::from_query)
}

pub(super) async fn list_persons(
    pool: &SqlitePool,
    fetch: i64,
    after: Option<PersonId>,
) -> Result<Vec<Person>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons ORDER BY id LIMIT ?1"
            ))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
        Some(after) => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .bind(encode_id(after))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.into_iter()
        .map(|row| person_from_row(&Row::Sqlite(row)))
        .collect()
}

/// A person from a row of either SQLite connection (sqlx's or a reader's).
fn person_from_row(row: &Row) -> Result<Person, StoreError> {
    let national_id = row.text("national_id", "person.national_id")?;
    let birth_date = row.text("birth_date", "person.birth_date")?;
    let language = row.text("language", "person.language")?;
    Ok(Person {
        id: PersonId::from_uuid(row.uuid("id", "person.id")?),
        national_id: NationalId::parse(&national_id).map_err(|_| StoreError::Corrupt {
            what: "person.national_id",
        })?,
        given_name: row.text("given_name", "person.given_name")?,
        family_name: row.text("family_name", "person.family_name")?,
        birth_date: Date::parse(&birth_date, DATE_FORMAT).map_err(|_| StoreError::Corrupt {
            what: "person.birth_date",
        })?,
        language: Language::from_code(&language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?,
        created_at: row.time("created_at", "person.created_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Sessions

macro_rules! session_columns {
    () => {
        "person_id, loa, auth_time, provider, subject_claim, sid, id_token, created_at, \
         last_seen_at, expires_at"
    };
}

pub(super) async fn insert_session(
    pool: &SqlitePool,
    row: &NewSessionRow<'_>,
) -> Result<Session, StoreError> {
    let new_session = row.new_session;
    let stored = sqlx::query(concat!(
        "INSERT INTO sessions (token_hash, person_id, loa, auth_time, provider, subject_claim, \
         sid, id_token, created_at, last_seen_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10) RETURNING ",
        session_columns!()
    ))
    .bind(&row.token_hash[..])
    .bind(encode_id(new_session.person))
    .bind(new_session.loa.as_str())
    .bind(encode_timestamp(row.auth_time)?)
    .bind(&new_session.provider)
    .bind(&new_session.subject_claim)
    .bind(new_session.sid.as_deref())
    .bind(new_session.id_token.expose_secret())
    .bind(encode_timestamp(row.now)?)
    .bind(encode_timestamp(row.expires_at)?)
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    session_from_row(&Row::Sqlite(stored))
}

/// The session with this token hash (on a reader or a pooled connection).
pub(super) async fn find_session(
    ex: &mut Ex<'_>,
    token_hash: &[u8; 32],
) -> Result<Option<Session>, StoreError> {
    let row = ex
        .fetch_optional(
            concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE token_hash = $1"
            ),
            &[Val::Bytes(&token_hash[..])],
        )
        .await?;
    row.as_ref().map(session_from_row).transpose()
}

pub(super) async fn delete_session_if_expired(
    pool: &SqlitePool,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
    idle_cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "DELETE FROM sessions WHERE token_hash = ?1 \
         AND (expires_at <= ?2 OR last_seen_at <= ?3)",
    )
    .bind(&token_hash[..])
    .bind(encode_timestamp(now)?)
    .bind(encode_timestamp(idle_cutoff)?)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(StoreError::from_query)
}

pub(super) async fn touch_session(
    pool: &SqlitePool,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    // Two-argument max() is SQLite's scalar maximum; fixed-width text compares as time.
    sqlx::query("UPDATE sessions SET last_seen_at = max(last_seen_at, ?2) WHERE token_hash = ?1")
        .bind(&token_hash[..])
        .bind(encode_timestamp(now)?)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_session(
    pool: &SqlitePool,
    token_hash: &[u8; 32],
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?1")
        .bind(&token_hash[..])
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_sessions_by_sid(
    pool: &SqlitePool,
    provider: &str,
    sid: &str,
) -> Result<Vec<PersonId>, StoreError> {
    let rows =
        sqlx::query("DELETE FROM sessions WHERE provider = ?1 AND sid = ?2 RETURNING person_id")
            .bind(provider)
            .bind(sid)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_query)?;
    rows.iter()
        .map(|row| {
            let person: String = row.try_get("person_id").map_err(StoreError::from_query)?;
            person.parse().map_err(|_| StoreError::Corrupt {
                what: "session.person_id",
            })
        })
        .collect()
}

pub(super) async fn delete_sessions_by_subject(
    pool: &SqlitePool,
    provider: &str,
    subject_claim: &str,
) -> Result<Vec<PersonId>, StoreError> {
    let rows = sqlx::query(
        "DELETE FROM sessions WHERE provider = ?1 AND subject_claim = ?2 RETURNING person_id",
    )
    .bind(provider)
    .bind(subject_claim)
    .fetch_all(pool)
    .await
    .map_err(StoreError::from_query)?;
    rows.iter()
        .map(|row| {
            let person: String = row.try_get("person_id").map_err(StoreError::from_query)?;
            person.parse().map_err(|_| StoreError::Corrupt {
                what: "session.person_id",
            })
        })
        .collect()
}

pub(super) async fn delete_expired_sessions(
    pool: &SqlitePool,
    now: OffsetDateTime,
    idle_cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2")
        .bind(encode_timestamp(now)?)
        .bind(encode_timestamp(idle_cutoff)?)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

/// A session from a row of either SQLite connection (sqlx's or a reader's).
fn session_from_row(row: &Row) -> Result<Session, StoreError> {
    Ok(Session {
        person: PersonId::from_uuid(row.uuid("person_id", "session.person_id")?),
        loa: Loa::from_str_name(row.str("loa", "session.loa")?).ok_or(StoreError::Corrupt {
            what: "session.loa",
        })?,
        auth_time: row.time("auth_time", "session.auth_time")?,
        provider: row.text("provider", "session.provider")?,
        subject_claim: row.text("subject_claim", "session.subject_claim")?,
        sid: row.opt_text("sid", "session.sid")?,
        id_token: SecretString::from(row.text("id_token", "session.id_token")?),
        created_at: row.time("created_at", "session.created_at")?,
        last_seen_at: row.time("last_seen_at", "session.last_seen_at")?,
        expires_at: row.time("expires_at", "session.expires_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Pending logins and logout tokens

pub(super) async fn insert_login_state(
    pool: &SqlitePool,
    row: &NewLoginStateRow<'_>,
) -> Result<(), StoreError> {
    let new_login_state = row.new_login_state;
    sqlx::query(
        "INSERT INTO login_states (state_hash, nonce, pkce_verifier, provider, requested_loa, \
         return_to, created_at, expires_at, reauthenticate) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(&row.state_hash[..])
    .bind(&new_login_state.nonce)
    .bind(new_login_state.pkce_verifier.expose_secret())
    .bind(&new_login_state.provider)
    .bind(new_login_state.requested_loa.as_str())
    .bind(&new_login_state.return_to)
    .bind(encode_timestamp(row.now)?)
    .bind(encode_timestamp(row.expires_at)?)
    .bind(i64::from(new_login_state.reauthenticate))
    .execute(pool)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn take_login_state(
    pool: &SqlitePool,
    state_hash: &[u8; 32],
    state: &str,
) -> Result<Option<LoginState>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM login_states WHERE state_hash = ?1 \
         RETURNING nonce, pkce_verifier, provider, requested_loa, return_to, expires_at, \
         created_at, reauthenticate",
    )
    .bind(&state_hash[..])
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let pkce_verifier: String = row
        .try_get("pkce_verifier")
        .map_err(StoreError::from_query)?;
    let requested_loa: String = row
        .try_get("requested_loa")
        .map_err(StoreError::from_query)?;
    Ok(Some(LoginState {
        state: state.to_owned(),
        nonce: row.try_get("nonce").map_err(StoreError::from_query)?,
        pkce_verifier: SecretString::from(pkce_verifier),
        provider: row.try_get("provider").map_err(StoreError::from_query)?,
        requested_loa: Loa::from_str_name(&requested_loa).ok_or(StoreError::Corrupt {
            what: "login_state.requested_loa",
        })?,
        return_to: row.try_get("return_to").map_err(StoreError::from_query)?,
        reauthenticate: row
            .try_get::<i64, _>("reauthenticate")
            .map_err(StoreError::from_query)?
            != 0,
        started_at: timestamp_column(&row, "created_at", "login_state.created_at")?,
        expires_at: timestamp_column(&row, "expires_at", "login_state.expires_at")?,
    }))
}

pub(super) async fn delete_expired_login_states(
    pool: &SqlitePool,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM login_states WHERE expires_at <= ?1")
        .bind(encode_timestamp(now)?)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn insert_logout_token(
    pool: &SqlitePool,
    issuer: &str,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO logout_tokens (issuer, jti, expires_at) VALUES (?1, ?2, ?3)")
        .bind(issuer)
        .bind(jti)
        .bind(encode_timestamp(expires_at)?)
        .execute(pool)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn insert_agency_token_id(
    pool: &SqlitePool,
    agency: &AgencyId,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO agency_token_ids (agency_id, jti, expires_at) VALUES (?1, ?2, ?3)")
        .bind(agency.as_str())
        .bind(jti)
        .bind(encode_timestamp(expires_at)?)
        .execute(pool)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_expired_agency_token_ids(
    pool: &SqlitePool,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM agency_token_ids WHERE expires_at <= ?1")
        .bind(encode_timestamp(now)?)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_expired_logout_tokens(
    pool: &SqlitePool,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM logout_tokens WHERE expires_at <= ?1")
        .bind(encode_timestamp(now)?)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

// ---------------------------------------------------------------------------------------------
// Audit events

macro_rules! audit_columns {
    () => {
        "id, subject_id, actor_id, agency_id, kind, loa, provider, occurred_at"
    };
}

pub(super) async fn insert_audit_event<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))
    .bind(encode_uuid(event.id))
    .bind(encode_id(event.subject))
    .bind(event.actor.map(encode_id))
    .bind(event.agency.as_ref().map(AgencyId::as_str))
    .bind(event.kind.code())
    .bind(event.loa.map(Loa::as_str))
    .bind(event.provider.as_deref())
    .bind(encode_timestamp(event.at)?)
    .execute(executor)
    .await
    .map(drop)
    .map_err(write_error)
}

/// One page of a person's events, newest first (on a reader or a pooled connection).
pub(super) async fn list_audit_events(
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
    rows.iter().map(audit_event_from_row).collect()
}

/// Many events in one statement (an agency look-up writes one per person it found). One
/// multi-row `INSERT`: 8 values a row, so 1,000 rows stay well under SQLite's 32,766
/// parameters.
pub(super) async fn insert_audit_events(
    conn: &mut SqliteConnection,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        rows.push((event, encode_timestamp(event.at)?));
    }
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") "
    ));
    query.push_values(rows, |mut row, (event, at)| {
        row.push_bind(encode_uuid(event.id))
            .push_bind(encode_id(event.subject))
            .push_bind(event.actor.map(encode_id))
            .push_bind(
                event
                    .agency
                    .as_ref()
                    .map(|agency| agency.as_str().to_owned()),
            )
            .push_bind(event.kind.code())
            .push_bind(event.loa.map(Loa::as_str))
            .push_bind(event.provider.clone())
            .push_bind(at);
    });
    query
        .build()
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

/// An event from a row of either SQLite connection (sqlx's or a reader's).
fn audit_event_from_row(row: &Row) -> Result<AuditEvent, StoreError> {
    let kind = row.text("kind", "audit_event.kind")?;
    Ok(AuditEvent {
        id: row.uuid("id", "audit_event.id")?,
        subject: PersonId::from_uuid(row.uuid("subject_id", "audit_event.subject_id")?),
        actor: row
            .opt_uuid("actor_id", "audit_event.actor_id")?
            .map(PersonId::from_uuid),
        agency: row
            .opt_text("agency_id", "audit_event.agency_id")?
            .map(|agency| AgencyId::parse(&agency))
            .transpose()
            .map_err(|_| StoreError::Corrupt {
                what: "audit_event.agency_id",
            })?,
        kind: AuditKind::from_code(&kind).ok_or(StoreError::Corrupt {
            what: "audit_event.kind",
        })?,
        loa: row
            .opt_text("loa", "audit_event.loa")?
            .map(|loa| {
                Loa::from_str_name(&loa).ok_or(StoreError::Corrupt {
                    what: "audit_event.loa",
                })
            })
            .transpose()?,
        provider: row.opt_text("provider", "audit_event.provider")?,
        at: row.time("occurred_at", "audit_event.occurred_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Contact information

macro_rules! contact_columns {
    () => {
        "p.id AS person_id, p.national_id, p.language, c.status, c.email, c.email_updated_at, \
         c.email_verified_at, c.mobile, c.mobile_updated_at, c.mobile_verified_at, c.reserved, \
         c.reservation_changed_at, c.mailbox, c.mailbox_provider"
    };
}

/// The person's contact entry (on a reader, a pooled connection or a transaction's).
pub(super) async fn find_contact(
    ex: &mut Ex<'_>,
    person: PersonId,
) -> Result<Option<ContactParts>, StoreError> {
    let row = ex
        .fetch_optional(
            concat!(
                "SELECT ",
                contact_columns!(),
                " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id WHERE p.id = $1"
            ),
            &[Val::Uuid(person.as_uuid())],
        )
        .await?;
    row.as_ref().map(contact_parts_from_row).transpose()
}

/// The entries of every person whose national id is in `national_ids` (normalised digits, at
/// most [`MAX_LOOKUP_BATCH`](crate::MAX_LOOKUP_BATCH)), in one query on the national id's
/// unique index. Ids no person has are simply not in the answer.
pub(super) async fn find_contacts_by_national_ids(
    conn: &mut SqliteConnection,
    national_ids: &[&str],
) -> Result<Vec<ContactParts>, StoreError> {
    if national_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id WHERE p.national_id IN ("
    ));
    let mut list = query.separated(", ");
    for national_id in national_ids {
        list.push_bind(*national_id);
    }
    query.push(")");
    let rows = query
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::from_query)?;
    rows.into_iter()
        .map(|row| contact_parts_from_row(&Row::Sqlite(row)))
        .collect()
}

/// The transaction is `BEGIN IMMEDIATE`: it holds the write lock already, so the row read
/// here cannot change before this transaction writes it.
pub(super) async fn lock_contact(
    conn: &mut SqliteConnection,
    person: PersonId,
    now: OffsetDateTime,
) -> Result<Option<ContactParts>, StoreError> {
    // `WHERE` on the SELECT also keeps SQLite from reading `ON CONFLICT` as a join's `ON`.
    sqlx::query(
        "INSERT INTO contact_info (person_id, status, reserved, mailbox, created_at, updated_at) \
         SELECT id, 'not_registered', 0, 'portal', ?2, ?2 FROM persons WHERE id = ?1 \
         ON CONFLICT (person_id) DO NOTHING",
    )
    .bind(encode_id(person))
    .bind(encode_timestamp(now)?)
    .execute(&mut *conn)
    .await
    .map_err(write_error)?;
    find_contact(&mut Ex::Sqlite(conn), person).await
}

pub(super) async fn write_contact(
    conn: &mut SqliteConnection,
    info: &ContactInfo,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (mailbox, provider) = mailbox_columns(&info.mailbox);
    let email = info.email.as_ref();
    let mobile = info.mobile.as_ref();
    sqlx::query(
        "UPDATE contact_info SET status = ?2, email = ?3, email_updated_at = ?4, \
         email_verified_at = ?5, mobile = ?6, mobile_updated_at = ?7, mobile_verified_at = ?8, \
         reserved = ?9, reservation_changed_at = ?10, mailbox = ?11, mailbox_provider = ?12, \
         updated_at = ?13 WHERE person_id = ?1",
    )
    .bind(encode_id(info.person))
    .bind(info.status.code())
    .bind(email.map(|email| email.value.as_str()))
    .bind(encode_optional_timestamp(
        email.map(|email| email.updated_at),
    )?)
    .bind(encode_optional_timestamp(
        email.and_then(|email| email.verified_at),
    )?)
    .bind(mobile.map(|mobile| mobile.value.as_str()))
    .bind(encode_optional_timestamp(
        mobile.map(|mobile| mobile.updated_at),
    )?)
    .bind(encode_optional_timestamp(
        mobile.and_then(|mobile| mobile.verified_at),
    )?)
    .bind(info.reserved)
    .bind(encode_optional_timestamp(info.reservation_changed_at)?)
    .bind(mailbox)
    .bind(provider)
    .bind(encode_timestamp(now)?)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn write_language(
    conn: &mut SqliteConnection,
    person: PersonId,
    language: Language,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE persons SET language = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(encode_id(person))
        .bind(language.code())
        .bind(encode_timestamp(now)?)
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

/// A contact entry from a row of either SQLite connection (sqlx's or a reader's).
fn contact_parts_from_row(row: &Row) -> Result<ContactParts, StoreError> {
    const WHAT: &str = "contact_info";
    Ok(ContactParts {
        person: PersonId::from_uuid(row.uuid("person_id", "contact_info.person_id")?),
        national_id: row.text("national_id", WHAT)?,
        language: row.text("language", WHAT)?,
        status: row.opt_text("status", WHAT)?,
        email: row.opt_text("email", WHAT)?,
        email_updated_at: row.opt_time("email_updated_at", "contact_info.email_updated_at")?,
        email_verified_at: row.opt_time("email_verified_at", "contact_info.email_verified_at")?,
        mobile: row.opt_text("mobile", WHAT)?,
        mobile_updated_at: row.opt_time("mobile_updated_at", "contact_info.mobile_updated_at")?,
        mobile_verified_at: row
            .opt_time("mobile_verified_at", "contact_info.mobile_verified_at")?,
        reserved: row.opt_int("reserved", WHAT)?.map(|value| value != 0),
        reservation_changed_at: row.opt_time(
            "reservation_changed_at",
            "contact_info.reservation_changed_at",
        )?,
        mailbox: row.opt_text("mailbox", WHAT)?,
        mailbox_provider: row.opt_text("mailbox_provider", WHAT)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Verification codes

/// The person's codes waiting to be typed in (on a reader, a pooled connection or a
/// transaction's).
pub(super) async fn list_verifications(
    ex: &mut Ex<'_>,
    person: PersonId,
) -> Result<Vec<StoredVerification>, StoreError> {
    let rows = ex
        .fetch_all(
            "SELECT id, method, new_value, code_salt, code_hash, attempts, created_at, expires_at \
             FROM contact_verifications WHERE person_id = $1 ORDER BY method",
            &[Val::Uuid(person.as_uuid())],
        )
        .await?;
    rows.iter().map(verification_from_row).collect()
}

pub(super) async fn upsert_verification(
    conn: &mut SqliteConnection,
    person: PersonId,
    verification: &StoredVerification,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contact_verifications (id, person_id, method, new_value, code_salt, \
         code_hash, attempts, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (person_id, method) DO UPDATE SET id = excluded.id, \
         new_value = excluded.new_value, code_salt = excluded.code_salt, \
         code_hash = excluded.code_hash, attempts = excluded.attempts, \
         created_at = excluded.created_at, expires_at = excluded.expires_at",
    )
    .bind(encode_uuid(verification.id))
    .bind(encode_id(person))
    .bind(verification.method.code())
    .bind(&verification.new_value)
    .bind(&verification.code_salt[..])
    .bind(&verification.code_hash[..])
    .bind(i64::from(verification.attempts))
    .bind(encode_timestamp(verification.created_at)?)
    .bind(encode_timestamp(verification.expires_at)?)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn set_verification_attempts(
    conn: &mut SqliteConnection,
    id: Uuid,
    attempts: u32,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE contact_verifications SET attempts = ?2 WHERE id = ?1")
        .bind(encode_uuid(id))
        .bind(i64::from(attempts))
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_verification(
    conn: &mut SqliteConnection,
    person: PersonId,
    method: ContactMethod,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM contact_verifications WHERE person_id = ?1 AND method = ?2")
        .bind(encode_id(person))
        .bind(method.code())
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_expired_verifications(
    pool: &SqlitePool,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM contact_verifications WHERE expires_at <= ?1")
        .bind(encode_timestamp(before)?)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn recent_code_sends(
    conn: &mut SqliteConnection,
    person: PersonId,
    method: ContactMethod,
    since: OffsetDateTime,
) -> Result<Vec<OffsetDateTime>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT sent_at FROM contact_code_sends \
         WHERE person_id = ?1 AND method = ?2 AND sent_at > ?3 ORDER BY sent_at",
    )
    .bind(encode_id(person))
    .bind(method.code())
    .bind(encode_timestamp(since)?)
    .fetch_all(conn)
    .await
    .map_err(StoreError::from_query)?;
    rows.iter()
        .map(|text| {
            decode_timestamp(text).ok_or(StoreError::Corrupt {
                what: "contact_code_send.sent_at",
            })
        })
        .collect()
}

pub(super) async fn record_code_send(
    conn: &mut SqliteConnection,
    person: PersonId,
    method: ContactMethod,
    at: OffsetDateTime,
    forget_before: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM contact_code_sends WHERE person_id = ?1 AND method = ?2 AND sent_at <= ?3",
    )
    .bind(encode_id(person))
    .bind(method.code())
    .bind(encode_timestamp(forget_before)?)
    .execute(&mut *conn)
    .await
    .map_err(write_error)?;
    sqlx::query(
        "INSERT INTO contact_code_sends (person_id, method, sent_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (person_id, method, sent_at) DO NOTHING",
    )
    .bind(encode_id(person))
    .bind(method.code())
    .bind(encode_timestamp(at)?)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

/// A pending code from a row of either SQLite connection (sqlx's or a reader's).
fn verification_from_row(row: &Row) -> Result<StoredVerification, StoreError> {
    const WHAT: &str = "contact_verification";
    let method = row.text("method", "contact_verification.method")?;
    let attempts = row.int("attempts", "contact_verification.attempts")?;
    Ok(StoredVerification {
        id: row.uuid("id", "contact_verification.id")?,
        method: ContactMethod::from_code(&method).ok_or(StoreError::Corrupt {
            what: "contact_verification.method",
        })?,
        new_value: row.text("new_value", WHAT)?,
        code_salt: row.bytes("code_salt", WHAT)?,
        code_hash: row.bytes("code_hash", WHAT)?,
        attempts: u32::try_from(attempts).map_err(|_| StoreError::Corrupt {
            what: "contact_verification.attempts",
        })?,
        created_at: row.time("created_at", "contact_verification.created_at")?,
        expires_at: row.time("expires_at", "contact_verification.expires_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Notification outbox

macro_rules! claimed_columns {
    () => {
        "id, recipient_id, channel, address, template, params, idempotency_key, attempts, \
         lease_until, quiet_zone"
    };
}

macro_rules! record_columns {
    () => {
        "id, recipient_id, channel, template, idempotency_key, status, attempts, last_error, \
         not_before, created_at, sent_at, failed_at"
    };
}

pub(super) async fn insert_notification(
    conn: &mut SqliteConnection,
    row: &NotificationRow<'_>,
) -> Result<Option<NotificationId>, StoreError> {
    let notification = row.notification;
    let id: Option<String> = sqlx::query_scalar(
        "INSERT INTO notifications (id, recipient_id, channel, address, template, params, \
         idempotency_key, status, attempts, not_before, send_by, quiet_zone, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?9, ?10, ?11) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(encode_uuid(row.id.as_uuid()))
    .bind(encode_id(notification.recipient()))
    .bind(notification.to().channel().code())
    .bind(notification.to().as_str())
    .bind(notification.template().code())
    .bind(&row.params)
    .bind(notification.idempotency_key())
    .bind(encode_timestamp(notification.earliest())?)
    .bind(encode_optional_timestamp(notification.latest())?)
    .bind(notification.quiet_zone().map(|zone| zone.iana_name()))
    .bind(encode_timestamp(row.created_at)?)
    .fetch_optional(conn)
    .await
    .map_err(write_error)?;
    id.map(|id| decode_notification_id(&id)).transpose()
}

/// Many new messages in one statement (the group writer's batch of deliveries): a plain
/// `INSERT`, so a message whose idempotency key is taken fails the statement (the caller
/// then falls back to [`insert_notification`] one by one). 11 values a row: at most
/// `MAX_VARIABLES / 11` rows.
pub(super) async fn insert_notifications(
    conn: &mut SqliteConnection,
    rows: &[NotificationRow<'_>],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_VARIABLES / 11) {
        let mut encoded = Vec::with_capacity(chunk.len());
        for row in chunk {
            let notification = row.notification;
            encoded.push((
                row,
                encode_timestamp(notification.earliest())?,
                encode_optional_timestamp(notification.latest())?,
                encode_timestamp(row.created_at)?,
            ));
        }
        let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO notifications (id, recipient_id, channel, address, template, params, \
             idempotency_key, status, attempts, not_before, send_by, quiet_zone, created_at) ",
        );
        query.push_values(
            encoded,
            |mut values, (row, earliest, latest, created_at)| {
                let notification = row.notification;
                values
                    .push_bind(encode_uuid(row.id.as_uuid()))
                    .push_bind(encode_id(notification.recipient()))
                    .push_bind(notification.to().channel().code())
                    .push_bind(notification.to().as_str())
                    .push_bind(notification.template().code())
                    .push_bind(row.params.as_str())
                    .push_bind(notification.idempotency_key())
                    .push("'pending'")
                    .push("0")
                    .push_bind(earliest)
                    .push_bind(latest)
                    .push_bind(notification.quiet_zone().map(|zone| zone.iana_name()))
                    .push_bind(created_at);
            },
        );
        query
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await
            .map_err(write_error)?;
    }
    Ok(())
}

pub(super) async fn find_notification_id_by_key(
    conn: &mut SqliteConnection,
    key: &str,
) -> Result<Option<NotificationId>, StoreError> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM notifications WHERE idempotency_key = ?1")
            .bind(key)
            .fetch_optional(conn)
            .await
            .map_err(StoreError::from_query)?;
    id.map(|id| decode_notification_id(&id)).transpose()
}

pub(super) async fn expire_overdue_notifications(
    conn: &mut SqliteConnection,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE notifications SET status = ?2, failed_at = ?1, last_error = ?3, params = '{}', \
         claimed_by = NULL, lease_until = NULL \
         WHERE status = 'pending' AND send_by IS NOT NULL AND send_by <= ?1 \
         AND (lease_until IS NULL OR lease_until <= ?1)",
    )
    .bind(encode_timestamp(now)?)
    .bind(NotificationStatus::Failed.code())
    .bind(EXPIRED_ERROR)
    .execute(conn)
    .await
    .map(|done| done.rows_affected())
    .map_err(write_error)
}

/// One statement in a `BEGIN IMMEDIATE` transaction: no other writer can run between the
/// choice of rows and their lease. (SQLite's `UPDATE … LIMIT` is a compile-time option, hence
/// the sub-select.)
pub(super) async fn claim_notifications(
    conn: &mut SqliteConnection,
    now: OffsetDateTime,
    worker: &str,
    limit: i64,
    lease_until: OffsetDateTime,
) -> Result<Vec<ClaimedParts>, StoreError> {
    let rows = sqlx::query(concat!(
        "UPDATE notifications SET claimed_by = ?3, lease_until = ?4 WHERE id IN (\
         SELECT id FROM notifications WHERE status = 'pending' AND not_before <= ?1 \
         AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY not_before, id LIMIT ?2) \
         RETURNING ",
        claimed_columns!()
    ))
    .bind(encode_timestamp(now)?)
    .bind(limit)
    .bind(worker)
    .bind(encode_timestamp(lease_until)?)
    .fetch_all(conn)
    .await
    .map_err(write_error)?;
    rows.iter().map(claimed_parts_from_row).collect()
}

pub(super) async fn release_notification(
    conn: &mut SqliteConnection,
    id: NotificationId,
    worker: &str,
    not_before: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notifications SET claimed_by = NULL, lease_until = NULL, not_before = ?3 \
         WHERE id = ?1 AND claimed_by = ?2 AND status = 'pending'",
    )
    .bind(encode_uuid(id.as_uuid()))
    .bind(worker)
    .bind(encode_timestamp(not_before)?)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn mark_notification_sent(
    pool: &SqlitePool,
    id: NotificationId,
    worker: &str,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE notifications SET status = 'sent', sent_at = ?3, params = '{}', \
         claimed_by = NULL, lease_until = NULL \
         WHERE id = ?1 AND claimed_by = ?2 AND status = 'pending'",
    )
    .bind(encode_uuid(id.as_uuid()))
    .bind(worker)
    .bind(encode_timestamp(now)?)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(write_error)
}

pub(super) async fn lock_claimed_notification(
    conn: &mut SqliteConnection,
    id: NotificationId,
    worker: &str,
) -> Result<Option<RetryParts>, StoreError> {
    let row = sqlx::query(
        "SELECT attempts, quiet_zone FROM notifications \
         WHERE id = ?1 AND claimed_by = ?2 AND status = 'pending'",
    )
    .bind(encode_uuid(id.as_uuid()))
    .bind(worker)
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_query)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let attempts: i64 = row.try_get("attempts").map_err(StoreError::from_query)?;
    Ok(Some(RetryParts {
        attempts: i32::try_from(attempts).map_err(|_| StoreError::Corrupt {
            what: "notification.attempts",
        })?,
        quiet_zone: row.try_get("quiet_zone").map_err(StoreError::from_query)?,
    }))
}

pub(super) async fn schedule_notification_retry(
    conn: &mut SqliteConnection,
    id: NotificationId,
    attempts: i32,
    not_before: OffsetDateTime,
    error_code: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notifications SET attempts = ?2, not_before = ?3, last_error = ?4, \
         claimed_by = NULL, lease_until = NULL WHERE id = ?1",
    )
    .bind(encode_uuid(id.as_uuid()))
    .bind(attempts)
    .bind(encode_timestamp(not_before)?)
    .bind(error_code)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn give_up_notification(
    conn: &mut SqliteConnection,
    id: NotificationId,
    attempts: i32,
    error_code: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notifications SET status = 'failed', attempts = ?2, last_error = ?3, \
         failed_at = ?4, params = '{}', claimed_by = NULL, lease_until = NULL WHERE id = ?1",
    )
    .bind(encode_uuid(id.as_uuid()))
    .bind(attempts)
    .bind(error_code)
    .bind(encode_timestamp(now)?)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn find_notification(
    pool: &SqlitePool,
    id: NotificationId,
) -> Result<Option<RecordParts>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        record_columns!(),
        " FROM notifications WHERE id = ?1"
    ))
    .bind(encode_uuid(id.as_uuid()))
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(record_parts_from_row).transpose()
}

pub(super) async fn find_notification_by_key(
    pool: &SqlitePool,
    key: &str,
) -> Result<Option<RecordParts>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        record_columns!(),
        " FROM notifications WHERE idempotency_key = ?1"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(record_parts_from_row).transpose()
}

pub(super) async fn list_failed_notifications(
    pool: &SqlitePool,
    after: Option<NotificationId>,
    limit: i64,
) -> Result<Vec<RecordParts>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                record_columns!(),
                " FROM notifications WHERE status = 'failed' ORDER BY id LIMIT ?1"
            ))
            .bind(limit)
            .fetch_all(pool)
            .await
        }
        Some(after) => {
            sqlx::query(concat!(
                "SELECT ",
                record_columns!(),
                " FROM notifications WHERE status = 'failed' AND id > ?1 ORDER BY id LIMIT ?2"
            ))
            .bind(encode_uuid(after.as_uuid()))
            .bind(limit)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(record_parts_from_row).collect()
}

pub(super) async fn delete_finished_notifications(
    pool: &SqlitePool,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "DELETE FROM notifications WHERE (status = 'sent' AND sent_at < ?1) \
         OR (status = 'failed' AND failed_at < ?1)",
    )
    .bind(encode_timestamp(before)?)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(StoreError::from_query)
}

fn claimed_parts_from_row(row: &SqliteRow) -> Result<ClaimedParts, StoreError> {
    let attempts: i64 = row.try_get("attempts").map_err(StoreError::from_query)?;
    Ok(ClaimedParts {
        id: uuid_column(row, "id", "notification.id")?,
        recipient: uuid_column(row, "recipient_id", "notification.recipient_id")?,
        channel: row.try_get("channel").map_err(StoreError::from_query)?,
        address: row.try_get("address").map_err(StoreError::from_query)?,
        template: row.try_get("template").map_err(StoreError::from_query)?,
        params: row.try_get("params").map_err(StoreError::from_query)?,
        idempotency_key: row
            .try_get("idempotency_key")
            .map_err(StoreError::from_query)?,
        attempts: i32::try_from(attempts).map_err(|_| StoreError::Corrupt {
            what: "notification.attempts",
        })?,
        lease_until: timestamp_column(row, "lease_until", "notification.lease_until")?,
        quiet_zone: row.try_get("quiet_zone").map_err(StoreError::from_query)?,
    })
}

fn record_parts_from_row(row: &SqliteRow) -> Result<RecordParts, StoreError> {
    let attempts: i64 = row.try_get("attempts").map_err(StoreError::from_query)?;
    Ok(RecordParts {
        id: uuid_column(row, "id", "notification.id")?,
        recipient: uuid_column(row, "recipient_id", "notification.recipient_id")?,
        channel: row.try_get("channel").map_err(StoreError::from_query)?,
        template: row.try_get("template").map_err(StoreError::from_query)?,
        idempotency_key: row
            .try_get("idempotency_key")
            .map_err(StoreError::from_query)?,
        status: row.try_get("status").map_err(StoreError::from_query)?,
        attempts: i32::try_from(attempts).map_err(|_| StoreError::Corrupt {
            what: "notification.attempts",
        })?,
        last_error: row.try_get("last_error").map_err(StoreError::from_query)?,
        not_before: timestamp_column(row, "not_before", "notification.not_before")?,
        created_at: timestamp_column(row, "created_at", "notification.created_at")?,
        sent_at: optional_timestamp_column(row, "sent_at", "notification.sent_at")?,
        failed_at: optional_timestamp_column(row, "failed_at", "notification.failed_at")?,
    })
}

fn decode_notification_id(text: &str) -> Result<NotificationId, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt {
        what: "notification.id",
    })
}

// ---------------------------------------------------------------------------------------------
// Encodings

/// The most values one statement may bind: `SQLITE_MAX_VARIABLE_NUMBER` of the bundled
/// SQLite. Multi-row statements are cut into chunks below it.
pub(super) const MAX_VARIABLES: usize = 32_766;

pub(super) fn encode_id(id: PersonId) -> String {
    encode_uuid(id.as_uuid())
}

/// A UUID as SQLite stores it: hyphenated text (written without the formatting machinery:
/// every id a query binds passes here).
pub(super) fn encode_uuid(id: Uuid) -> String {
    id.hyphenated()
        .encode_lower(&mut Uuid::encode_buffer())
        .to_owned()
}

/// Reads a timestamp column; `what` names it in the error if the text does not parse.
fn timestamp_column(
    row: &SqliteRow,
    column: &str,
    what: &'static str,
) -> Result<OffsetDateTime, StoreError> {
    let text: String = row.try_get(column).map_err(StoreError::from_query)?;
    decode_timestamp(&text).ok_or(StoreError::Corrupt { what })
}

/// Reads a UUID text column.
fn uuid_column(row: &SqliteRow, column: &str, what: &'static str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(column).map_err(StoreError::from_query)?;
    Uuid::parse_str(&text).map_err(|_| StoreError::Corrupt { what })
}

/// Reads a nullable timestamp column.
fn optional_timestamp_column(
    row: &SqliteRow,
    column: &str,
    what: &'static str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let text: Option<String> = row.try_get(column).map_err(StoreError::from_query)?;
    text.map(|text| decode_timestamp(&text).ok_or(StoreError::Corrupt { what }))
        .transpose()
}

pub(super) fn encode_optional_timestamp(
    at: Option<OffsetDateTime>,
) -> Result<Option<String>, StoreError> {
    at.map(encode_timestamp).transpose()
}

fn encode_date(date: Date) -> Result<String, StoreError> {
    date.format(DATE_FORMAT)
        .map_err(|_| StoreError::Corrupt { what: "date" })
}

/// Fixed-width UTC text, so that comparing the text compares the instants.
pub(super) fn encode_timestamp(at: OffsetDateTime) -> Result<String, StoreError> {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP_FORMAT)
        .map_err(|_| StoreError::Corrupt { what: "timestamp" })
}

/// The instant in [`encode_timestamp`]'s text (`2025-03-01T12:04:05.000100Z`); `None` for
/// any other text. Read field by field: a page reads a few dozen of these, and `time`'s
/// parser builds its format anew on every call (about ten times the work).
pub(super) fn decode_timestamp(text: &str) -> Option<OffsetDateTime> {
    let text = text.as_bytes();
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ];
    if text.len() != 27 || separators.iter().any(|&(at, sep)| text[at] != sep) {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        text.get(from..to)?.iter().try_fold(0u32, |n, digit| {
            digit
                .is_ascii_digit()
                .then(|| n * 10 + u32::from(digit - b'0'))
        })
    };
    let small = |from: usize, to: usize| u8::try_from(number(from, to)?).ok();
    let date = Date::from_calendar_date(
        i32::try_from(number(0, 4)?).ok()?,
        time::Month::try_from(small(5, 7)?).ok()?,
        small(8, 10)?,
    )
    .ok()?;
    let time = time::Time::from_hms_micro(
        small(11, 13)?,
        small(14, 16)?,
        small(17, 19)?,
        number(20, 26)?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn only_a_stored_timestamp_is_read_as_one() {
        assert_eq!(
            decode_timestamp("1999-12-31T23:59:59.999999Z"),
            Some(datetime!(1999-12-31 23:59:59.999999 UTC))
        );
        for bad in [
            "",
            "2025-03-01T12:04:05.000100",
            "2025-03-01T12:04:05.000100Z ",
            "2025-03-01 12:04:05.000100Z",
            "2025-03-01T12:04:05,000100Z",
            "2025-13-01T12:04:05.000100Z",
            "2025-02-29T12:04:05.000100Z",
            "2025-03-01T24:00:00.000000Z",
            "2025-03-01T12:60:05.000100Z",
            "2025-03-01T12:04:60.000100Z",
            "2025-03-0aT12:04:05.000100Z",
            "+025-03-01T12:04:05.000100Z",
            "2025-03-01T12:04:05.-00100Z",
            "2025-03-01T12:04:05.000100+",
        ] {
            assert_eq!(decode_timestamp(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_instant_reads_back_as_time_itself_reads_it(
            micros in 0i64..253_402_300_799_999_999,
        ) {
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                .expect("in range");
            let text = encode_timestamp(at).expect("encoded");
            let by_time = PrimitiveDateTime::parse(&text, TIMESTAMP_FORMAT)
                .expect("time reads it")
                .assume_utc();
            proptest::prop_assert_eq!(decode_timestamp(&text), Some(by_time));
            proptest::prop_assert_eq!(by_time, at);
        }
    }

    #[test]
    fn timestamps_are_fixed_width_utc_and_round_trip() {
        let at = datetime!(2025-03-01 13:04:05.000100 +01:00);
        let text = encode_timestamp(at).unwrap();
        assert_eq!(text, "2025-03-01T12:04:05.000100Z");
        assert_eq!(decode_timestamp(&text), Some(at));
        let later = encode_timestamp(datetime!(2025-03-01 12:04:05.1 UTC)).unwrap();
        assert!(later > text, "text order is time order");
    }
}
