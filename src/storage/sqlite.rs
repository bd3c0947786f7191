//! The registers on SQLite: persons, sessions, pending logins, logout tokens, audit events.
//!
//! Column encodings (see `migrations/README.md`): ids as hyphenated lower-case UUID text,
//! dates as `YYYY-MM-DD`, timestamps as fixed-width RFC 3339 UTC text with microseconds
//! (`2025-01-31T12:00:00.000000Z`) so that text order is time order in `WHERE`/`ORDER BY`,
//! SHA-256 hashes as 32-byte `BLOB`s.

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::{now_utc_micros, write_error, NewLoginStateRow, NewSessionRow, StoreError};
use crate::access::Loa;
use crate::audit::{AuditCursor, AuditEvent, AuditKind};
use crate::identity::NationalId;
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
    person_from_row(&row)
}

pub(super) async fn find_person(
    pool: &SqlitePool,
    id: PersonId,
) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE id = ?1"
    ))
    .bind(encode_id(id))
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
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
    row.as_ref().map(person_from_row).transpose()
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
    person_from_row(&row)
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
    rows.iter().map(person_from_row).collect()
}

fn person_from_row(row: &SqliteRow) -> Result<Person, StoreError> {
    let id: String = row.try_get("id").map_err(StoreError::from_query)?;
    let national_id: String = row.try_get("national_id").map_err(StoreError::from_query)?;
    let birth_date: String = row.try_get("birth_date").map_err(StoreError::from_query)?;
    let language: String = row.try_get("language").map_err(StoreError::from_query)?;
    let created_at: String = row.try_get("created_at").map_err(StoreError::from_query)?;
    Ok(Person {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt { what: "person.id" })?,
        national_id: NationalId::parse(&national_id).map_err(|_| StoreError::Corrupt {
            what: "person.national_id",
        })?,
        given_name: row.try_get("given_name").map_err(StoreError::from_query)?,
        family_name: row.try_get("family_name").map_err(StoreError::from_query)?,
        birth_date: Date::parse(&birth_date, DATE_FORMAT).map_err(|_| StoreError::Corrupt {
            what: "person.birth_date",
        })?,
        language: Language::from_code(&language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?,
        created_at: decode_timestamp(&created_at).ok_or(StoreError::Corrupt {
            what: "person.created_at",
        })?,
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
    session_from_row(&stored)
}

pub(super) async fn find_session(
    pool: &SqlitePool,
    token_hash: &[u8; 32],
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions WHERE token_hash = ?1"
    ))
    .bind(&token_hash[..])
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
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
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE provider = ?1 AND sid = ?2")
        .bind(provider)
        .bind(sid)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_sessions_by_subject(
    pool: &SqlitePool,
    provider: &str,
    subject_claim: &str,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE provider = ?1 AND subject_claim = ?2")
        .bind(provider)
        .bind(subject_claim)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
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

fn session_from_row(row: &SqliteRow) -> Result<Session, StoreError> {
    let person: String = row.try_get("person_id").map_err(StoreError::from_query)?;
    let loa: String = row.try_get("loa").map_err(StoreError::from_query)?;
    let id_token: String = row.try_get("id_token").map_err(StoreError::from_query)?;
    Ok(Session {
        person: person.parse().map_err(|_| StoreError::Corrupt {
            what: "session.person_id",
        })?,
        loa: Loa::from_str_name(&loa).ok_or(StoreError::Corrupt {
            what: "session.loa",
        })?,
        auth_time: timestamp_column(row, "auth_time", "session.auth_time")?,
        provider: row.try_get("provider").map_err(StoreError::from_query)?,
        subject_claim: row
            .try_get("subject_claim")
            .map_err(StoreError::from_query)?,
        sid: row.try_get("sid").map_err(StoreError::from_query)?,
        id_token: SecretString::from(id_token),
        created_at: timestamp_column(row, "created_at", "session.created_at")?,
        last_seen_at: timestamp_column(row, "last_seen_at", "session.last_seen_at")?,
        expires_at: timestamp_column(row, "expires_at", "session.expires_at")?,
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
         return_to, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(&row.state_hash[..])
    .bind(&new_login_state.nonce)
    .bind(new_login_state.pkce_verifier.expose_secret())
    .bind(&new_login_state.provider)
    .bind(new_login_state.requested_loa.as_str())
    .bind(&new_login_state.return_to)
    .bind(encode_timestamp(row.now)?)
    .bind(encode_timestamp(row.expires_at)?)
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
         RETURNING nonce, pkce_verifier, provider, requested_loa, return_to, expires_at",
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
        "id, subject_id, actor_id, kind, loa, provider, occurred_at"
    };
}

pub(super) async fn insert_audit_event(
    pool: &SqlitePool,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .bind(encode_uuid(event.id))
    .bind(encode_id(event.subject))
    .bind(event.actor.map(encode_id))
    .bind(event.kind.code())
    .bind(event.loa.map(Loa::as_str))
    .bind(event.provider.as_deref())
    .bind(encode_timestamp(event.at)?)
    .execute(pool)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn list_audit_events(
    pool: &SqlitePool,
    subject: PersonId,
    before: Option<AuditCursor>,
    fetch: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let rows = match before {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_events WHERE subject_id = ?1 \
                 ORDER BY occurred_at DESC, id DESC LIMIT ?2"
            ))
            .bind(encode_id(subject))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
        Some(before) => {
            sqlx::query(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_events WHERE subject_id = ?1 AND (occurred_at, id) < (?2, ?3) \
                 ORDER BY occurred_at DESC, id DESC LIMIT ?4"
            ))
            .bind(encode_id(subject))
            .bind(encode_timestamp(before.at)?)
            .bind(encode_uuid(before.id))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(audit_event_from_row).collect()
}

fn audit_event_from_row(row: &SqliteRow) -> Result<AuditEvent, StoreError> {
    let id: String = row.try_get("id").map_err(StoreError::from_query)?;
    let subject: String = row.try_get("subject_id").map_err(StoreError::from_query)?;
    let actor: Option<String> = row.try_get("actor_id").map_err(StoreError::from_query)?;
    let kind: String = row.try_get("kind").map_err(StoreError::from_query)?;
    let loa: Option<String> = row.try_get("loa").map_err(StoreError::from_query)?;
    Ok(AuditEvent {
        id: Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt {
            what: "audit_event.id",
        })?,
        subject: subject.parse().map_err(|_| StoreError::Corrupt {
            what: "audit_event.subject_id",
        })?,
        actor: actor
            .map(|actor| actor.parse())
            .transpose()
            .map_err(|_| StoreError::Corrupt {
                what: "audit_event.actor_id",
            })?,
        kind: AuditKind::from_code(&kind).ok_or(StoreError::Corrupt {
            what: "audit_event.kind",
        })?,
        loa: loa
            .map(|loa| {
                Loa::from_str_name(&loa).ok_or(StoreError::Corrupt {
                    what: "audit_event.loa",
                })
            })
            .transpose()?,
        provider: row.try_get("provider").map_err(StoreError::from_query)?,
        at: timestamp_column(row, "occurred_at", "audit_event.occurred_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Encodings

fn encode_id(id: PersonId) -> String {
    encode_uuid(id.as_uuid())
}

fn encode_uuid(id: Uuid) -> String {
    id.hyphenated().to_string()
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

pub(super) fn decode_timestamp(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text, TIMESTAMP_FORMAT)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

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
