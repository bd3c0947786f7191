//! The registers on PostgreSQL: native `UUID`, `DATE`, `TIMESTAMPTZ`, `BOOLEAN`, `JSONB`
//! (bound and read as text, cast in SQL) and `BYTEA` (SHA-256 hashes) columns.

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::Row;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::contact::{mailbox_columns, ContactParts, StoredVerification};
use super::outbox::{ClaimedParts, NotificationRow, RecordParts, RetryParts};
use super::{now_utc_micros, write_error, NewLoginStateRow, NewSessionRow, StoreError};
use crate::access::Loa;
use crate::agency::AgencyId;
use crate::audit::{AuditCursor, AuditEvent, AuditKind, EventFilter};
use crate::contact::{ContactInfo, ContactMethod};
use crate::identity::NationalId;
use crate::outbox::{NotificationId, EXPIRED_ERROR};
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
) -> Result<Vec<PersonId>, StoreError> {
    let rows =
        sqlx::query("DELETE FROM sessions WHERE provider = $1 AND sid = $2 RETURNING person_id")
            .bind(provider)
            .bind(sid)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_query)?;
    rows.iter()
        .map(|row| {
            let person: Uuid = row.try_get("person_id").map_err(StoreError::from_query)?;
            Ok(PersonId::from_uuid(person))
        })
        .collect()
}

pub(super) async fn delete_sessions_by_subject(
    pool: &PgPool,
    provider: &str,
    subject_claim: &str,
) -> Result<Vec<PersonId>, StoreError> {
    let rows = sqlx::query(
        "DELETE FROM sessions WHERE provider = $1 AND subject_claim = $2 RETURNING person_id",
    )
    .bind(provider)
    .bind(subject_claim)
    .fetch_all(pool)
    .await
    .map_err(StoreError::from_query)?;
    rows.iter()
        .map(|row| {
            let person: Uuid = row.try_get("person_id").map_err(StoreError::from_query)?;
            Ok(PersonId::from_uuid(person))
        })
        .collect()
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
         return_to, created_at, expires_at, reauthenticate) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&row.state_hash[..])
    .bind(&new_login_state.nonce)
    .bind(new_login_state.pkce_verifier.expose_secret())
    .bind(&new_login_state.provider)
    .bind(new_login_state.requested_loa.as_str())
    .bind(&new_login_state.return_to)
    .bind(row.now)
    .bind(row.expires_at)
    .bind(new_login_state.reauthenticate)
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
            .try_get("reauthenticate")
            .map_err(StoreError::from_query)?,
        started_at: row.try_get("created_at").map_err(StoreError::from_query)?,
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

pub(super) async fn insert_agency_token_id(
    pool: &PgPool,
    agency: &AgencyId,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO agency_token_ids (agency_id, jti, expires_at) VALUES ($1, $2, $3)")
        .bind(agency.as_str())
        .bind(jti)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_expired_agency_token_ids(
    pool: &PgPool,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM agency_token_ids WHERE expires_at <= $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
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
        "id, subject_id, actor_id, agency_id, kind, loa, provider, occurred_at"
    };
}

pub(super) async fn insert_audit_event<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(event.id)
    .bind(event.subject.as_uuid())
    .bind(event.actor.map(|actor| actor.as_uuid()))
    .bind(event.agency.as_ref().map(AgencyId::as_str))
    .bind(event.kind.code())
    .bind(event.loa.map(Loa::as_str))
    .bind(event.provider.as_deref())
    .bind(event.at)
    .execute(executor)
    .await
    .map(drop)
    .map_err(write_error)
}

/// The row comparison `(occurred_at, id) < ($2, $3)` is one range scan on the
/// `audit_events_subject_time` index.
pub(super) async fn list_audit_events(
    pool: &PgPool,
    subject: PersonId,
    kinds: EventFilter,
    before: Option<AuditCursor>,
    fetch: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let rows = match before {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_events WHERE subject_id = $1 AND kind LIKE $3 \
                 ORDER BY occurred_at DESC, id DESC LIMIT $2"
            ))
            .bind(subject.as_uuid())
            .bind(fetch)
            .bind(kinds.like_pattern())
            .fetch_all(pool)
            .await
        }
        Some(before) => {
            sqlx::query(concat!(
                "SELECT ",
                audit_columns!(),
                " FROM audit_events WHERE subject_id = $1 AND (occurred_at, id) < ($2, $3) \
                 AND kind LIKE $5 ORDER BY occurred_at DESC, id DESC LIMIT $4"
            ))
            .bind(subject.as_uuid())
            .bind(before.at)
            .bind(before.id)
            .bind(fetch)
            .bind(kinds.like_pattern())
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(audit_event_from_row).collect()
}

/// Many events in one statement (an agency look-up writes one per person it found): one
/// multi-row `INSERT`, 8 parameters a row, far under PostgreSQL's 65,535 for 1,000 rows.
pub(super) async fn insert_audit_events(
    conn: &mut PgConnection,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut query = sqlx::QueryBuilder::<sqlx::Postgres>::new(concat!(
        "INSERT INTO audit_events (",
        audit_columns!(),
        ") "
    ));
    query.push_values(events, |mut row, event| {
        row.push_bind(event.id)
            .push_bind(event.subject.as_uuid())
            .push_bind(event.actor.map(|actor| actor.as_uuid()))
            .push_bind(
                event
                    .agency
                    .as_ref()
                    .map(|agency| agency.as_str().to_owned()),
            )
            .push_bind(event.kind.code())
            .push_bind(event.loa.map(Loa::as_str))
            .push_bind(event.provider.clone())
            .push_bind(event.at);
    });
    query
        .build()
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

fn audit_event_from_row(row: &PgRow) -> Result<AuditEvent, StoreError> {
    let subject: Uuid = row.try_get("subject_id").map_err(StoreError::from_query)?;
    let actor: Option<Uuid> = row.try_get("actor_id").map_err(StoreError::from_query)?;
    let agency: Option<String> = row.try_get("agency_id").map_err(StoreError::from_query)?;
    let kind: String = row.try_get("kind").map_err(StoreError::from_query)?;
    let loa: Option<String> = row.try_get("loa").map_err(StoreError::from_query)?;
    Ok(AuditEvent {
        id: row.try_get("id").map_err(StoreError::from_query)?,
        subject: PersonId::from_uuid(subject),
        actor: actor.map(PersonId::from_uuid),
        agency: agency
            .map(|agency| AgencyId::parse(&agency))
            .transpose()
            .map_err(|_| StoreError::Corrupt {
                what: "audit_event.agency_id",
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
        at: row.try_get("occurred_at").map_err(StoreError::from_query)?,
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

pub(super) async fn find_contact(
    conn: &mut PgConnection,
    person: PersonId,
) -> Result<Option<ContactParts>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id WHERE p.id = $1"
    ))
    .bind(person.as_uuid())
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(contact_parts_from_row).transpose()
}

/// The entries of every person whose national id is in `national_ids`, in one query:
/// `= ANY($1)` with the ids as one `text[]` parameter, on the national id's unique index.
pub(super) async fn find_contacts_by_national_ids(
    conn: &mut PgConnection,
    national_ids: &[&str],
) -> Result<Vec<ContactParts>, StoreError> {
    if national_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id \
         WHERE p.national_id = ANY($1)"
    ))
    .bind(national_ids)
    .fetch_all(conn)
    .await
    .map_err(StoreError::from_query)?;
    rows.iter().map(contact_parts_from_row).collect()
}

/// Makes sure the person has a row (a concurrent insert of the same row waits for the other
/// transaction, then does nothing), then locks it: changes to one person's entry run one at
/// a time, whichever instance they come from.
pub(super) async fn lock_contact(
    conn: &mut PgConnection,
    person: PersonId,
    now: OffsetDateTime,
) -> Result<Option<ContactParts>, StoreError> {
    sqlx::query(
        "INSERT INTO contact_info (person_id, status, reserved, mailbox, created_at, updated_at) \
         SELECT id, 'not_registered', FALSE, 'portal', $2, $2 FROM persons WHERE id = $1 \
         ON CONFLICT ON CONSTRAINT contact_info_pkey DO NOTHING",
    )
    .bind(person.as_uuid())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(write_error)?;
    let row = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contact_info c JOIN persons p ON p.id = c.person_id WHERE c.person_id = $1 \
         FOR UPDATE OF c"
    ))
    .bind(person.as_uuid())
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(contact_parts_from_row).transpose()
}

pub(super) async fn write_contact(
    conn: &mut PgConnection,
    info: &ContactInfo,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (mailbox, provider) = mailbox_columns(&info.mailbox);
    let email = info.email.as_ref();
    let mobile = info.mobile.as_ref();
    sqlx::query(
        "UPDATE contact_info SET status = $2, email = $3, email_updated_at = $4, \
         email_verified_at = $5, mobile = $6, mobile_updated_at = $7, mobile_verified_at = $8, \
         reserved = $9, reservation_changed_at = $10, mailbox = $11, mailbox_provider = $12, \
         updated_at = $13 WHERE person_id = $1",
    )
    .bind(info.person.as_uuid())
    .bind(info.status.code())
    .bind(email.map(|email| email.value.as_str()))
    .bind(email.map(|email| email.updated_at))
    .bind(email.and_then(|email| email.verified_at))
    .bind(mobile.map(|mobile| mobile.value.as_str()))
    .bind(mobile.map(|mobile| mobile.updated_at))
    .bind(mobile.and_then(|mobile| mobile.verified_at))
    .bind(info.reserved)
    .bind(info.reservation_changed_at)
    .bind(mailbox)
    .bind(provider)
    .bind(now)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn write_language(
    conn: &mut PgConnection,
    person: PersonId,
    language: Language,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE persons SET language = $2, updated_at = $3 WHERE id = $1")
        .bind(person.as_uuid())
        .bind(language.code())
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

fn contact_parts_from_row(row: &PgRow) -> Result<ContactParts, StoreError> {
    let person: Uuid = row.try_get("person_id").map_err(StoreError::from_query)?;
    Ok(ContactParts {
        person: PersonId::from_uuid(person),
        national_id: row.try_get("national_id").map_err(StoreError::from_query)?,
        language: row.try_get("language").map_err(StoreError::from_query)?,
        status: row.try_get("status").map_err(StoreError::from_query)?,
        email: row.try_get("email").map_err(StoreError::from_query)?,
        email_updated_at: row
            .try_get("email_updated_at")
            .map_err(StoreError::from_query)?,
        email_verified_at: row
            .try_get("email_verified_at")
            .map_err(StoreError::from_query)?,
        mobile: row.try_get("mobile").map_err(StoreError::from_query)?,
        mobile_updated_at: row
            .try_get("mobile_updated_at")
            .map_err(StoreError::from_query)?,
        mobile_verified_at: row
            .try_get("mobile_verified_at")
            .map_err(StoreError::from_query)?,
        reserved: row.try_get("reserved").map_err(StoreError::from_query)?,
        reservation_changed_at: row
            .try_get("reservation_changed_at")
            .map_err(StoreError::from_query)?,
        mailbox: row.try_get("mailbox").map_err(StoreError::from_query)?,
        mailbox_provider: row
            .try_get("mailbox_provider")
            .map_err(StoreError::from_query)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Verification codes

pub(super) async fn list_verifications(
    conn: &mut PgConnection,
    person: PersonId,
) -> Result<Vec<StoredVerification>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, method, new_value, code_salt, code_hash, attempts, created_at, expires_at \
         FROM contact_verifications WHERE person_id = $1 ORDER BY method",
    )
    .bind(person.as_uuid())
    .fetch_all(conn)
    .await
    .map_err(StoreError::from_query)?;
    rows.iter().map(verification_from_row).collect()
}

pub(super) async fn upsert_verification(
    conn: &mut PgConnection,
    person: PersonId,
    verification: &StoredVerification,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO contact_verifications (id, person_id, method, new_value, code_salt, \
         code_hash, attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT ON CONSTRAINT contact_verifications_person_method_unique DO UPDATE \
         SET id = excluded.id, new_value = excluded.new_value, code_salt = excluded.code_salt, \
         code_hash = excluded.code_hash, attempts = excluded.attempts, \
         created_at = excluded.created_at, expires_at = excluded.expires_at",
    )
    .bind(verification.id)
    .bind(person.as_uuid())
    .bind(verification.method.code())
    .bind(&verification.new_value)
    .bind(&verification.code_salt[..])
    .bind(&verification.code_hash[..])
    .bind(attempts_column(verification.attempts))
    .bind(verification.created_at)
    .bind(verification.expires_at)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn set_verification_attempts(
    conn: &mut PgConnection,
    id: Uuid,
    attempts: u32,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE contact_verifications SET attempts = $2 WHERE id = $1")
        .bind(id)
        .bind(attempts_column(attempts))
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_verification(
    conn: &mut PgConnection,
    person: PersonId,
    method: ContactMethod,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM contact_verifications WHERE person_id = $1 AND method = $2")
        .bind(person.as_uuid())
        .bind(method.code())
        .execute(conn)
        .await
        .map(drop)
        .map_err(write_error)
}

pub(super) async fn delete_expired_verifications(
    pool: &PgPool,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM contact_verifications WHERE expires_at <= $1")
        .bind(before)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
        .map_err(StoreError::from_query)
}

pub(super) async fn recent_code_sends(
    conn: &mut PgConnection,
    person: PersonId,
    method: ContactMethod,
    since: OffsetDateTime,
) -> Result<Vec<OffsetDateTime>, StoreError> {
    sqlx::query_scalar(
        "SELECT sent_at FROM contact_code_sends \
         WHERE person_id = $1 AND method = $2 AND sent_at > $3 ORDER BY sent_at",
    )
    .bind(person.as_uuid())
    .bind(method.code())
    .bind(since)
    .fetch_all(conn)
    .await
    .map_err(StoreError::from_query)
}

pub(super) async fn record_code_send(
    conn: &mut PgConnection,
    person: PersonId,
    method: ContactMethod,
    at: OffsetDateTime,
    forget_before: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM contact_code_sends WHERE person_id = $1 AND method = $2 AND sent_at <= $3",
    )
    .bind(person.as_uuid())
    .bind(method.code())
    .bind(forget_before)
    .execute(&mut *conn)
    .await
    .map_err(write_error)?;
    sqlx::query(
        "INSERT INTO contact_code_sends (person_id, method, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT ON CONSTRAINT contact_code_sends_pkey DO NOTHING",
    )
    .bind(person.as_uuid())
    .bind(method.code())
    .bind(at)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

fn verification_from_row(row: &PgRow) -> Result<StoredVerification, StoreError> {
    let method: String = row.try_get("method").map_err(StoreError::from_query)?;
    let attempts: i32 = row.try_get("attempts").map_err(StoreError::from_query)?;
    Ok(StoredVerification {
        id: row.try_get("id").map_err(StoreError::from_query)?,
        method: ContactMethod::from_code(&method).ok_or(StoreError::Corrupt {
            what: "contact_verification.method",
        })?,
        new_value: row.try_get("new_value").map_err(StoreError::from_query)?,
        code_salt: row.try_get("code_salt").map_err(StoreError::from_query)?,
        code_hash: row.try_get("code_hash").map_err(StoreError::from_query)?,
        attempts: u32::try_from(attempts).map_err(|_| StoreError::Corrupt {
            what: "contact_verification.attempts",
        })?,
        created_at: row.try_get("created_at").map_err(StoreError::from_query)?,
        expires_at: row.try_get("expires_at").map_err(StoreError::from_query)?,
    })
}

/// `INTEGER` is 32 bits; attempt counts are tiny, so saturating never happens in practice.
fn attempts_column(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------------------------
// Notification outbox

macro_rules! claimed_columns {
    ($table:literal) => {
        concat!(
            $table,
            ".id, ",
            $table,
            ".recipient_id, ",
            $table,
            ".channel, ",
            $table,
            ".address, ",
            $table,
            ".template, ",
            $table,
            ".params::text AS params, ",
            $table,
            ".idempotency_key, ",
            $table,
            ".attempts, ",
            $table,
            ".lease_until, ",
            $table,
            ".quiet_zone"
        )
    };
}

macro_rules! record_columns {
    () => {
        "id, recipient_id, channel, template, idempotency_key, status, attempts, last_error, \
         not_before, created_at, sent_at, failed_at"
    };
}

pub(super) async fn insert_notification(
    conn: &mut PgConnection,
    row: &NotificationRow<'_>,
) -> Result<Option<NotificationId>, StoreError> {
    let notification = row.notification;
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO notifications (id, recipient_id, channel, address, template, params, \
         idempotency_key, status, attempts, not_before, send_by, quiet_zone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 'pending', 0, $8, $9, $10, $11) \
         ON CONFLICT ON CONSTRAINT notifications_idempotency_key_unique DO NOTHING RETURNING id",
    )
    .bind(row.id.as_uuid())
    .bind(notification.recipient().as_uuid())
    .bind(notification.to().channel().code())
    .bind(notification.to().as_str())
    .bind(notification.template().code())
    .bind(&row.params)
    .bind(notification.idempotency_key())
    .bind(notification.earliest())
    .bind(notification.latest())
    .bind(notification.quiet_zone().map(|zone| zone.iana_name()))
    .bind(row.created_at)
    .fetch_optional(conn)
    .await
    .map_err(write_error)?;
    Ok(id.map(NotificationId::from_uuid))
}

pub(super) async fn find_notification_id_by_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<NotificationId>, StoreError> {
    let id: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM notifications WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await
            .map_err(StoreError::from_query)?;
    Ok(id.map(NotificationId::from_uuid))
}

/// Rows another worker is claiming right now are skipped, not waited for; a later claim
/// expires them.
pub(super) async fn expire_overdue_notifications(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "WITH overdue AS (SELECT id FROM notifications WHERE status = 'pending' \
         AND send_by IS NOT NULL AND send_by <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
         FOR UPDATE SKIP LOCKED) \
         UPDATE notifications AS n SET status = 'failed', failed_at = $1, last_error = $2, \
         params = '{}'::jsonb, claimed_by = NULL, lease_until = NULL \
         FROM overdue WHERE n.id = overdue.id",
    )
    .bind(now)
    .bind(EXPIRED_ERROR)
    .execute(conn)
    .await
    .map(|done| done.rows_affected())
    .map_err(write_error)
}

/// `FOR UPDATE SKIP LOCKED`: rows being claimed by another worker's transaction are passed
/// over instead of waited for, and a row locked here is re-checked against the `WHERE` after
/// the lock, so a row leased by a transaction that just committed is not taken again.
pub(super) async fn claim_notifications(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    worker: &str,
    limit: i64,
    lease_until: OffsetDateTime,
) -> Result<Vec<ClaimedParts>, StoreError> {
    let rows = sqlx::query(concat!(
        "WITH due AS (SELECT id FROM notifications WHERE status = 'pending' \
         AND not_before <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
         ORDER BY not_before, id LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE notifications AS n SET claimed_by = $3, lease_until = $4 \
         FROM due WHERE n.id = due.id RETURNING ",
        claimed_columns!("n")
    ))
    .bind(now)
    .bind(limit)
    .bind(worker)
    .bind(lease_until)
    .fetch_all(conn)
    .await
    .map_err(write_error)?;
    rows.iter().map(claimed_parts_from_row).collect()
}

pub(super) async fn release_notification(
    conn: &mut PgConnection,
    id: NotificationId,
    worker: &str,
    not_before: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notifications SET claimed_by = NULL, lease_until = NULL, not_before = $3 \
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
    )
    .bind(id.as_uuid())
    .bind(worker)
    .bind(not_before)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn mark_notification_sent(
    pool: &PgPool,
    id: NotificationId,
    worker: &str,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "UPDATE notifications SET status = 'sent', sent_at = $3, params = '{}'::jsonb, \
         claimed_by = NULL, lease_until = NULL \
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
    )
    .bind(id.as_uuid())
    .bind(worker)
    .bind(now)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(write_error)
}

pub(super) async fn lock_claimed_notification(
    conn: &mut PgConnection,
    id: NotificationId,
    worker: &str,
) -> Result<Option<RetryParts>, StoreError> {
    let row = sqlx::query(
        "SELECT attempts, quiet_zone FROM notifications \
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending' FOR UPDATE",
    )
    .bind(id.as_uuid())
    .bind(worker)
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_query)?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(RetryParts {
        attempts: row.try_get("attempts").map_err(StoreError::from_query)?,
        quiet_zone: row.try_get("quiet_zone").map_err(StoreError::from_query)?,
    }))
}

pub(super) async fn schedule_notification_retry(
    conn: &mut PgConnection,
    id: NotificationId,
    attempts: i32,
    not_before: OffsetDateTime,
    error_code: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notifications SET attempts = $2, not_before = $3, last_error = $4, \
         claimed_by = NULL, lease_until = NULL WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(attempts)
    .bind(not_before)
    .bind(error_code)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn give_up_notification(
    conn: &mut PgConnection,
    id: NotificationId,
    attempts: i32,
    error_code: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE notifications SET status = 'failed', attempts = $2, last_error = $3, \
         failed_at = $4, params = '{}'::jsonb, claimed_by = NULL, lease_until = NULL \
         WHERE id = $1",
    )
    .bind(id.as_uuid())
    .bind(attempts)
    .bind(error_code)
    .bind(now)
    .execute(conn)
    .await
    .map(drop)
    .map_err(write_error)
}

pub(super) async fn find_notification(
    pool: &PgPool,
    id: NotificationId,
) -> Result<Option<RecordParts>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        record_columns!(),
        " FROM notifications WHERE id = $1"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(record_parts_from_row).transpose()
}

pub(super) async fn find_notification_by_key(
    pool: &PgPool,
    key: &str,
) -> Result<Option<RecordParts>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        record_columns!(),
        " FROM notifications WHERE idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(record_parts_from_row).transpose()
}

pub(super) async fn list_failed_notifications(
    pool: &PgPool,
    after: Option<NotificationId>,
    limit: i64,
) -> Result<Vec<RecordParts>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                record_columns!(),
                " FROM notifications WHERE status = 'failed' ORDER BY id LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(pool)
            .await
        }
        Some(after) => {
            sqlx::query(concat!(
                "SELECT ",
                record_columns!(),
                " FROM notifications WHERE status = 'failed' AND id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(after.as_uuid())
            .bind(limit)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(record_parts_from_row).collect()
}

pub(super) async fn delete_finished_notifications(
    pool: &PgPool,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    sqlx::query(
        "DELETE FROM notifications WHERE (status = 'sent' AND sent_at < $1) \
         OR (status = 'failed' AND failed_at < $1)",
    )
    .bind(before)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())
    .map_err(StoreError::from_query)
}

fn claimed_parts_from_row(row: &PgRow) -> Result<ClaimedParts, StoreError> {
    Ok(ClaimedParts {
        id: row.try_get("id").map_err(StoreError::from_query)?,
        recipient: row
            .try_get("recipient_id")
            .map_err(StoreError::from_query)?,
        channel: row.try_get("channel").map_err(StoreError::from_query)?,
        address: row.try_get("address").map_err(StoreError::from_query)?,
        template: row.try_get("template").map_err(StoreError::from_query)?,
        params: row.try_get("params").map_err(StoreError::from_query)?,
        idempotency_key: row
            .try_get("idempotency_key")
            .map_err(StoreError::from_query)?,
        attempts: row.try_get("attempts").map_err(StoreError::from_query)?,
        lease_until: row.try_get("lease_until").map_err(StoreError::from_query)?,
        quiet_zone: row.try_get("quiet_zone").map_err(StoreError::from_query)?,
    })
}

fn record_parts_from_row(row: &PgRow) -> Result<RecordParts, StoreError> {
    Ok(RecordParts {
        id: row.try_get("id").map_err(StoreError::from_query)?,
        recipient: row
            .try_get("recipient_id")
            .map_err(StoreError::from_query)?,
        channel: row.try_get("channel").map_err(StoreError::from_query)?,
        template: row.try_get("template").map_err(StoreError::from_query)?,
        idempotency_key: row
            .try_get("idempotency_key")
            .map_err(StoreError::from_query)?,
        status: row.try_get("status").map_err(StoreError::from_query)?,
        attempts: row.try_get("attempts").map_err(StoreError::from_query)?,
        last_error: row.try_get("last_error").map_err(StoreError::from_query)?,
        not_before: row.try_get("not_before").map_err(StoreError::from_query)?,
        created_at: row.try_get("created_at").map_err(StoreError::from_query)?,
        sent_at: row.try_get("sent_at").map_err(StoreError::from_query)?,
        failed_at: row.try_get("failed_at").map_err(StoreError::from_query)?,
    })
}
