//! The registers on PostgreSQL: native `UUID`, `DATE`, `TIMESTAMPTZ` and `BYTEA` (SHA-256
//! hashes) columns.

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{now_utc_micros, write_error, NewLoginStateRow, NewSessionRow, StoreError};
use crate::access::Loa;
use crate::audit::{AuditCursor, AuditEvent, AuditKind};
use crate::identity::NationalId;
use crate::person::{Language, NewPerson, Person, PersonId};
use crate::session::{LoginState, Session};

macro_rules! person_columns {
    () => {
        "id, national_id, given_name, family_name, birth_date, language, created_at"
    };
}

pub(super) async fn create_person(
    pool: &PgPool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
        person_columns!()
    ))
    .bind(PersonId::new().as_uuid())
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(new_person.national_id.birth_date())
    .bind(new_person.language.code())
    .bind(now_utc_micros())
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&row)
}

pub(super) async fn find_person(pool: &PgPool, id: PersonId) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE id = $1"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn find_person_by_national_id(
    pool: &PgPool,
    national_id: &NationalId,
) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE national_id = $1"
    ))
    .bind(national_id.expose())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn upsert_person(
    pool: &PgPool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT ON CONSTRAINT persons_national_id_unique DO UPDATE \
         SET given_name = excluded.given_name, family_name = excluded.family_name, \
         updated_at = excluded.updated_at RETURNING ",
        person_columns!()
    ))
    .bind(PersonId::new().as_uuid())
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(new_person.national_id.birth_date())
    .bind(new_person.language.code())
    .bind(now_utc_micros())
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&row)
}

pub(super) async fn count_persons(pool: &PgPool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM persons")
        .fetch_one(pool)
        .await
        .map_err(StoreError::from_query)
}

pub(super) async fn list_persons(
    pool: &PgPool,
    fetch: i64,
    after: Option<PersonId>,
) -> Result<Vec<Person>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons ORDER BY id LIMIT $1"
            ))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
        Some(after) => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(after.as_uuid())
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(person_from_row).collect()
}

fn person_from_row(row: &PgRow) -> Result<Person, StoreError> {
    let id: Uuid = row.try_get("id").map_err(StoreError::from_query)?;
    let national_id: String = row.try_get("national_id").map_err(StoreError::from_query)?;
    let birth_date: Date = row.try_get("birth_date").map_err(StoreError::from_query)?;
    let language: String = row.try_get("language").map_err(StoreError::from_query)?;
    let created_at: OffsetDateTime = row.try_get("created_at").map_err(StoreError::from_query)?;
    Ok(Person {
        id: PersonId::from_uuid(id),
        national_id: NationalId::parse(&national_id).map_err(|_| StoreError::Corrupt {
            what: "person.national_id",
        })?,
        given_name: row.try_get("given_name").map_err(StoreError::from_query)?,
        family_name: row.try_get("family_name").map_err(StoreError::from_query)?,
        birth_date,
        language: Language::from_code(&language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?,
        created_at,
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
    pool: &PgPool,
    row: &NewSessionRow<'_>,
) -> Result<Session, StoreError> {
    let new_session = row.new_session;
    let stored = sqlx::query(concat!(
        "INSERT INTO sessions (token_hash, person_id, loa, auth_time, provider, subject_claim, \
         sid, id_token, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING ",
        session_columns!()
    ))
    .bind(&row.token_hash[..])
    .bind(new_session.person.as_uuid())
    .bind(new_session.loa.as_str())
    .bind(row.auth_time)
    .bind(&new_session.provider)
    .bind(&new_session.subject_claim)
    .bind(new_session.sid.as_deref())
    .bind(new_session.id_token.expose_secret())
    .bind(row.now)
    .bind(row.expires_at)
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    session_from_row(&stored)
}

pub(super) async fn find_session(
    pool: &PgPool,
    token_hash: &[u8; 32],
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions WHERE token_hash = $1"
    ))
    .bind(&token_hash[..])
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(session_from_row).transpose()
}

pub(super) async fn delete_session_if_expired(
    pool: &PgPool,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
    idle_cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1 \
         AND (expires_at <= $2 OR last_seen_at <= $3)",
    )
    .bind(&token_hash[..])
    .bind(now)
    .bind(idle_cutoff)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(StoreError::from_query)
}

pub(super) async fn touch_session(
    pool: &PgPool,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE token_hash = $1",
    )
    .bind(&token_hash[..])
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(StoreError::from_query)
}

pub(super) async fn delete_session(
    pool: &PgPool,
    token_hash: &[u8; 32],
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(&token_hash[..])
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_sessions_by_sid(
    pool: &PgPool,
    provider: &str,
    sid: &str,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE provider = $1 AND sid = $2")
        .bind(provider)
        .bind(sid)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_sessions_by_subject(
    pool: &PgPool,
    provider: &str,
    subject_claim: &str,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE provider = $1 AND subject_claim = $2")
        .bind(provider)
        .bind(subject_claim)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn delete_expired_sessions(
    pool: &PgPool,
    now: OffsetDateTime,
    idle_cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(idle_cutoff)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

fn session_from_row(row: &PgRow) -> Result<Session, StoreError> {
    let person: Uuid = row.try_get("person_id").map_err(StoreError::from_query)?;
    let loa: String = row.try_get("loa").map_err(StoreError::from_query)?;
    let id_token: String = row.try_get("id_token").map_err(StoreError::from_query)?;
    Ok(Session {
        person: PersonId::from_uuid(person),
        loa: Loa::from_str_name(&loa).ok_or(StoreError::Corrupt {
            what: "session.loa",
        })?,
        auth_time: row.try_get("auth_time").map_err(StoreError::from_query)?,
        provider: row.try_get("provider").map_err(StoreError::from_query)?,
        subject_claim: row
            .try_get("subject_claim")
            .map_err(StoreError::from_query)?,
        sid: row.try_get("sid").map_err(StoreError::from_query)?,
        id_token: SecretString::from(id_token),
        created_at: row.try_get("created_at").map_err(StoreError::from_query)?,
        last_seen_at: row
            .try_get("last_seen_at")
            .map_err(StoreError::from_query)?,
        expires_at: row.try_get("expires_at").map_err(StoreError::from_query)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Pending logins and logout tokens

pub(super) async fn insert_login_state(
    pool: &PgPool,
    row: &NewLoginStateRow<'_>,
) -> Result<(), StoreError> {
    let new_login_state = row.new_login_state;
    sqlx::query(
        "INSERT INTO login_states (state_hash, nonce, pkce_verifier, provider, requested_loa, \
         return_to, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&row.state_hash[..])
    .bind(&new_login_state.nonce)
    .bind(new_login_state.pkce_verifier.expose_secret())
    .bind(&new_login_state.provider)
    .bind(new_login_state.requested_loa.as_str())
    .bind(&new_login_state.return_to)
    .bind(row.now)
    .bind(row.expires_at)
    .execute(pool)
    .await
    .map(drop)
    .map_err(write_error)
}

/// `DELETE … RETURNING` takes the row lock: of two callers at once, the second waits, then
/// finds the row gone and gets nothing.
pub(super) async fn take_login_state(
    pool: &PgPool,
    state_hash: &[u8; 32],
    state: &str,
) -> Result<Option<LoginState>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM login_states WHERE state_hash = $1 \
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
        expires_at: row.try_get("expires_at").map_err(StoreError::from_query)?,
    }))
}

pub(super) async fn delete_expired_login_states(
    pool: &PgPool,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM login_states WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn insert_logout_token(
    pool: &PgPool,
    issuer: &str,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO logout_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)")
        .bind(issuer)
        .bind(jti)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_expired_logout_tokens(
    pool: &PgPool,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM logout_tokens WHERE expires_at <= $1")
        .bind(now)
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
    pool: &PgPool,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(event.id)
    .bind(event.subject.as_uuid())
    .bind(event.actor.map(|actor| actor.as_uuid()))
    .bind(event.kind.code())
    .bind(event.loa.map(Loa::as_str))
    .bind(event.provider.as_deref())
    .bind(event.at)
    .execute(pool)
    .await
    .map(drop)
    .map_err(write_error)
}

/// The row comparison `(occurred_at, id) < ($2, $3)` is one range scan on the
/// `audit_events_subject_time` index.
pub(super) async fn list_audit_events(
    pool: &PgPool,
    subject: PersonId,
    before: Option<AuditCursor>,
    fetch: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let rows = match before {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_events WHERE subject_id = $1 \
                 ORDER BY occurred_at DESC, id DESC LIMIT $2"
            ))
            .bind(subject.as_uuid())
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
        Some(before) => {
            sqlx::query(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_events WHERE subject_id = $1 AND (occurred_at, id) < ($2, $3) \
                 ORDER BY occurred_at DESC, id DESC LIMIT $4"
            ))
            .bind(subject.as_uuid())
            .bind(before.at)
            .bind(before.id)
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(audit_event_from_row).collect()
}

fn audit_event_from_row(row: &PgRow) -> Result<AuditEvent, StoreError> {
    let subject: Uuid = row.try_get("subject_id").map_err(StoreError::from_query)?;
    let actor: Option<Uuid> = row.try_get("actor_id").map_err(StoreError::from_query)?;
    let kind: String = row.try_get("kind").map_err(StoreError::from_query)?;
    let loa: Option<String> = row.try_get("loa").map_err(StoreError::from_query)?;
    Ok(AuditEvent {
        id: row.try_get("id").map_err(StoreError::from_query)?,
        subject: PersonId::from_uuid(subject),
        actor: actor.map(PersonId::from_uuid),
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
        at: row.try_get("occurred_at").map_err(StoreError::from_query)?,
    })
}
