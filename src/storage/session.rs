//! The login registers' statements: sessions, pending logins, and the token ids already seen
//! (logout tokens and agency API tokens: the replay checks).

use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;

use crate::access::Loa;
use crate::agency::AgencyId;
use crate::audit::{AuditEvent, AuditKind};
use crate::person::PersonId;
use crate::session::{
    is_step_up, sha256, CompletedLogin, LoginRecord, LoginState, NewLoginState, NewSession,
    Session, SessionToken,
};
use uuid::Uuid;

use super::sql::{Ex, Row, Val};
use super::{now_utc_micros, stored_instant, Conflict, Database, StoreError};

/// Server-side sessions, and the logout tokens already seen.
///
/// Sessions are found by the SHA-256 of their token, never by the token itself: the table holds
/// no live cookie. Expiry is decided here, from the caller's `now` and idle timeout, so every
/// instance applies the same rule: a session is valid while `now < expires_at` and
/// `now < last_seen_at + idle_timeout` (see [`Session::is_expired`]).
impl Database {
    /// Starts a session for a completed login: a fresh token (returned once, for the cookie;
    /// only its hash is stored), `created_at` and `last_seen_at` now, and `expires_at` now plus
    /// `absolute_lifetime`. Timestamps are cut to whole microseconds.
    ///
    /// After a step-up, create a new session and delete the old one rather than changing the
    /// old one's level: a fresh token at every change of privilege.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn create_session(
        &self,
        new_session: NewSession,
    ) -> Result<(SessionToken, Session), StoreError> {
        let token = SessionToken::generate();
        let now = now_utc_micros();
        let expires_at = stored_instant(now.saturating_add(new_session.absolute_lifetime));
        let row = NewSessionRow {
            token_hash: token.hash(),
            new_session: &new_session,
            auth_time: stored_instant(new_session.auth_time),
            now,
            expires_at,
            acting_for: None,
        };
        let session = insert(&mut self.conn().await?.ex(), &row).await?;
        tracing::debug!(person.id = %session.person, loa = %session.loa, "session created");
        Ok((token, session))
    }

    /// The session for this token, if it exists and has not expired at `now`. An expired
    /// session (idle for `idle_timeout`, or past its absolute end) is deleted and `None`
    /// returned, so it cannot come back. Does not update `last_seen_at`: see
    /// [`touch_session`](crate::Database::touch_session).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn find_session(
        &self,
        token: &SessionToken,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<Option<Session>, StoreError> {
        let hash = token.hash();
        let now = stored_instant(now);
        let session = find(&mut self.quick_read().await?.ex(), &hash).await?;
        let Some(session) = session else {
            return Ok(None);
        };
        if !session.is_expired(now, idle_timeout) {
            return Ok(Some(session));
        }
        // Deleted only if still expired by the same rule, so that a touch from another
        // instance in between is not undone.
        let idle_cutoff = stored_instant(now.saturating_sub(idle_timeout));
        delete_if_expired(&mut self.conn().await?.ex(), &hash, now, idle_cutoff).await?;
        tracing::debug!(person.id = %session.person, "expired session ended");
        Ok(None)
    }

    /// Records that the session was used at `now`, restarting its idle timeout (never moving
    /// `last_seen_at` back). A write per request would be too many: callers touch only when
    /// the stored `last_seen_at` is older than a minute or so. `false` when there is no such
    /// session.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn touch_session(
        &self,
        token: &SessionToken,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let hash = token.hash();
        let now = stored_instant(now);
        let touched = touch(&mut self.conn().await?.ex(), &hash, now).await?;
        Ok(touched > 0)
    }

    /// Ends the session (logout). `false` when there was none.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_session(&self, token: &SessionToken) -> Result<bool, StoreError> {
        let hash = token.hash();
        let deleted = delete(&mut self.conn().await?.ex(), &hash).await?;
        Ok(deleted > 0)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), provider = %provider)
    )]
    /// Ends every session the provider knows as `sid` (front- and back-channel logout).
    /// Returns whose sessions ended (one entry per session), for their activity logs.
    pub async fn delete_sessions_by_sid(
        &self,
        provider: &str,
        sid: &str,
    ) -> Result<Vec<PersonId>, StoreError> {
        let ended = delete_by_provider(&mut self.conn().await?.ex(), provider, true, sid).await?;
        tracing::debug!(deleted = ended.len(), "sessions ended by sid");
        Ok(ended)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), provider = %provider)
    )]
    /// Ends every session of the provider's subject `subject_claim` (a back-channel logout
    /// token without `sid`). Returns whose sessions ended (one entry per session).
    pub async fn delete_sessions_by_subject(
        &self,
        provider: &str,
        subject_claim: &str,
    ) -> Result<Vec<PersonId>, StoreError> {
        let ended =
            delete_by_provider(&mut self.conn().await?.ex(), provider, false, subject_claim)
                .await?;
        tracing::debug!(deleted = ended.len(), "sessions ended by subject");
        Ok(ended)
    }

    /// Deletes every session expired at `now` (by either rule). For a periodic job; safe to run
    /// from several instances at once. Returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_expired_sessions(
        &self,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        let idle_cutoff = stored_instant(now.saturating_sub(idle_timeout));
        let deleted = delete_expired(&mut self.conn().await?.ex(), now, idle_cutoff).await?;
        tracing::debug!(deleted, "expired sessions deleted");
        Ok(deleted)
    }

    /// Remembers a verified logout token's `jti` from `issuer` until `expires_at` (the token's
    /// `exp`). `true` the first time; `false` if it was seen before (a replay), also when the
    /// other instance that saw it did so a moment ago: the database's unique rule decides.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn remember_logout_token(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let expires_at = stored_instant(expires_at);
        let inserted = insert_seen_token(
            &mut self.conn().await?.ex(),
            SeenTokens::Logout,
            issuer,
            jti,
            expires_at,
        )
        .await;
        match inserted {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(Conflict::LogoutTokenSeen)) => {
                tracing::info!("logout token replayed");
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    /// Forgets logout tokens whose `expires_at` has passed at `now` (they would be refused as
    /// expired anyway). For a periodic job. Returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn forget_expired_logout_tokens(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        delete_expired_seen_tokens(&mut self.conn().await?.ex(), SeenTokens::Logout, now).await
    }
}

/// Agency API tokens already accepted, by agency and token id (`jti`): the replay check.
impl Database {
    /// Remembers a verified token's `jti` from `agency` until `expires_at` (the token's
    /// `exp`). `true` the first time; `false` if it was seen before (a replay), also when
    /// another instance saw it a moment ago: the database's unique key decides.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), agency = %agency))]
    pub async fn remember_agency_token(
        &self,
        agency: &AgencyId,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        if let Some(writer) = &self.writer {
            return writer.remember_token(agency, jti, expires_at).await;
        }
        let expires_at = stored_instant(expires_at);
        let inserted = insert_seen_token(
            &mut self.conn().await?.ex(),
            SeenTokens::Agency,
            agency.as_str(),
            jti,
            expires_at,
        )
        .await;
        match inserted {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(Conflict::AgencyTokenSeen)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Forgets token ids whose `expires_at` has passed at `now` (such a token is refused as
    /// expired anyway). For the housekeeping job; returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn forget_expired_agency_tokens(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        delete_expired_seen_tokens(&mut self.conn().await?.ex(), SeenTokens::Agency, now).await
    }
}

/// Pending logins: what the OIDC callback needs, stored under the hash of `state`.
impl Database {
    /// Stores a pending login. Fails with [`Conflict::LoginStateTaken`] if the state is in use.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn create_login_state(
        &self,
        new_login_state: NewLoginState,
    ) -> Result<(), StoreError> {
        let row = NewLoginStateRow {
            state_hash: sha256(new_login_state.state.as_bytes()),
            new_login_state: &new_login_state,
            now: now_utc_micros(),
            expires_at: stored_instant(new_login_state.expires_at),
        };
        insert_login_state(&mut self.conn().await?.ex(), &row).await
    }

    /// Takes the pending login for `state`: deletes it and returns it, in one statement, so
    /// that of two callbacks with the same state (a replay, a double click) exactly one gets
    /// it. `None` when there is none, and when it expired at `now` (it is deleted all the
    /// same).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn take_login_state(
        &self,
        state: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LoginState>, StoreError> {
        let hash = sha256(state.as_bytes());
        let taken = take_login_state(&mut self.conn().await?.ex(), &hash, state).await?;
        match taken {
            Some(login_state) if stored_instant(now) < login_state.expires_at => {
                Ok(Some(login_state))
            }
            Some(_) => {
                tracing::debug!("expired pending login taken and dropped");
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Deletes pending logins expired at `now` (abandoned at the eID). For a periodic job.
    /// Returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_expired_login_states(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        delete_expired_login_states(&mut self.conn().await?.ex(), now).await
    }
}

impl Database {
    /// The login callback's one unit of work, in one transaction: the person registered (or
    /// their names refreshed), the browser's previous session ended, the new session started
    /// (a fresh token at every login) and the login recorded in the person's activity log,
    /// as a step-up when it raised the level of the same person's live session. Nothing of it
    /// stays if any step fails.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), provider = %login.provider))]
    pub async fn complete_login(
        &self,
        login: CompletedLogin,
        now: OffsetDateTime,
    ) -> Result<LoginRecord, StoreError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let person = if login.names_sent {
            super::person::insert(&mut ex, &login.person, now, true).await?
        } else {
            super::person::insert_or_keep(&mut ex, &login.person, now).await?
        };
        let previous = match &login.previous {
            Some(token) => {
                let hash = token.hash();
                let found = find(&mut ex, &hash)
                    .await?
                    .filter(|session| !session.is_expired(now, login.idle_timeout));
                delete(&mut ex, &hash).await?;
                found
            }
            None => None,
        };
        let stepped_up = is_step_up(previous.as_ref(), person.id, login.loa);
        let token = SessionToken::generate();
        let new_session = NewSession {
            person: person.id,
            loa: login.loa,
            auth_time: login.auth_time,
            provider: login.provider,
            subject_claim: login.subject_claim,
            sid: login.sid,
            id_token: login.id_token,
            absolute_lifetime: login.absolute_lifetime,
        };
        let row = NewSessionRow {
            token_hash: token.hash(),
            new_session: &new_session,
            auth_time: stored_instant(new_session.auth_time),
            now,
            expires_at: stored_instant(now.saturating_add(new_session.absolute_lifetime)),
            // A step-up is the same visit: the helper goes on acting for the same person (the
            // policy still decides on every request).
            acting_for: previous
                .as_ref()
                .filter(|previous| {
                    stepped_up || (login.continues_visit && previous.person == person.id)
                })
                .and_then(|previous| previous.acting_for),
        };
        let session = insert(&mut ex, &row).await?;
        let event = AuditEvent {
            id: Uuid::now_v7(),
            subject: person.id,
            actor: Some(person.id),
            agency: None,
            kind: if stepped_up {
                AuditKind::SteppedUp
            } else {
                AuditKind::LoginSucceeded
            },
            loa: Some(session.loa),
            provider: Some(session.provider.clone()),
            at: now,
            acted_under: None,
            about: None,
        };
        tx.insert_audit_event(&event).await?;
        tx.commit().await?;
        tracing::debug!(person.id = %person.id, loa = %session.loa, stepped_up, "login completed");
        Ok(LoginRecord {
            token,
            session,
            person,
            stepped_up,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Statements

/// The columns a [`Session`] is read from.
macro_rules! session_columns {
    () => {
        "person_id, loa, auth_time, provider, subject_claim, sid, id_token, created_at, \
         last_seen_at, expires_at, acting_for"
    };
}

/// A session row to insert: the caller's fields and what the store adds.
pub(super) struct NewSessionRow<'a> {
    pub(super) token_hash: [u8; 32],
    pub(super) new_session: &'a NewSession,
    pub(super) auth_time: OffsetDateTime,
    pub(super) now: OffsetDateTime,
    pub(super) expires_at: OffsetDateTime,
    /// Whom the session acts for from the start (a step-up keeps the choice).
    pub(super) acting_for: Option<PersonId>,
}

/// A pending-login row to insert.
pub(super) struct NewLoginStateRow<'a> {
    pub(super) state_hash: [u8; 32],
    pub(super) new_login_state: &'a NewLoginState,
    pub(super) now: OffsetDateTime,
    pub(super) expires_at: OffsetDateTime,
}

pub(super) async fn insert(
    ex: &mut Ex<'_>,
    row: &NewSessionRow<'_>,
) -> Result<Session, StoreError> {
    let new_session = row.new_session;
    let stored = ex
        .fetch_one(
            concat!(
                "INSERT INTO sessions (token_hash, person_id, loa, auth_time, provider, \
                 subject_claim, sid, id_token, created_at, last_seen_at, expires_at, acting_for) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) RETURNING ",
                session_columns!()
            ),
            &[
                Val::Bytes(&row.token_hash[..]),
                Val::Uuid(new_session.person.as_uuid()),
                Val::Text(new_session.loa.as_str()),
                Val::Time(row.auth_time),
                Val::Text(&new_session.provider),
                Val::Text(&new_session.subject_claim),
                Val::OptText(new_session.sid.as_deref()),
                Val::Text(new_session.id_token.expose_secret()),
                Val::Time(row.now),
                Val::Time(row.expires_at),
                Val::OptUuid(row.acting_for.map(|person| person.as_uuid())),
            ],
        )
        .await?;
    session_from_row(&stored)
}

/// The session with this token hash.
pub(super) async fn find(
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

pub(super) async fn delete_if_expired(
    ex: &mut Ex<'_>,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
    idle_cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM sessions WHERE token_hash = $1 \
         AND (expires_at <= $2 OR last_seen_at <= $3)",
        &[
            Val::Bytes(&token_hash[..]),
            Val::Time(now),
            Val::Time(idle_cutoff),
        ],
    )
    .await
}

/// Never moves `last_seen_at` back (a `CASE`, which both databases read alike: SQLite's
/// two-argument `max()` is PostgreSQL's `GREATEST`).
pub(super) async fn touch(
    ex: &mut Ex<'_>,
    token_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE sessions SET last_seen_at = \
         CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END WHERE token_hash = $1",
        &[Val::Bytes(&token_hash[..]), Val::Time(now)],
    )
    .await
}

pub(super) async fn delete(ex: &mut Ex<'_>, token_hash: &[u8; 32]) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[Val::Bytes(&token_hash[..])],
    )
    .await
}

/// Ends the provider's sessions whose `column` (`sid` or `subject_claim`) is `value`; whose
/// they were, one entry per session.
pub(super) async fn delete_by_provider(
    ex: &mut Ex<'_>,
    provider: &str,
    by_sid: bool,
    value: &str,
) -> Result<Vec<PersonId>, StoreError> {
    let sql = if by_sid {
        "DELETE FROM sessions WHERE provider = $1 AND sid = $2 RETURNING person_id"
    } else {
        "DELETE FROM sessions WHERE provider = $1 AND subject_claim = $2 RETURNING person_id"
    };
    ex.fetch_all(sql, &[Val::Text(provider), Val::Text(value)])
        .await?
        .iter()
        .map(|row| {
            row.uuid("person_id", "session.person_id")
                .map(PersonId::from_uuid)
        })
        .collect()
}

pub(super) async fn delete_expired(
    ex: &mut Ex<'_>,
    now: OffsetDateTime,
    idle_cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
        &[Val::Time(now), Val::Time(idle_cutoff)],
    )
    .await
}

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
        acting_for: row
            .opt_uuid("acting_for", "session.acting_for")?
            .map(PersonId::from_uuid),
    })
}

// ---------------------------------------------------------------------------------------------
// Pending logins

pub(super) async fn insert_login_state(
    ex: &mut Ex<'_>,
    row: &NewLoginStateRow<'_>,
) -> Result<(), StoreError> {
    let new_login_state = row.new_login_state;
    ex.execute(
        "INSERT INTO login_states (state_hash, nonce, pkce_verifier, provider, requested_loa, \
         return_to, created_at, expires_at, reauthenticate, signing_job_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Val::Bytes(&row.state_hash[..]),
            Val::Text(&new_login_state.nonce),
            Val::Text(new_login_state.pkce_verifier.expose_secret()),
            Val::Text(&new_login_state.provider),
            Val::Text(new_login_state.requested_loa.as_str()),
            Val::Text(&new_login_state.return_to),
            Val::Time(row.now),
            Val::Time(row.expires_at),
            Val::Bool(new_login_state.reauthenticate),
            Val::OptUuid(new_login_state.signs.map(|job| job.as_uuid())),
        ],
    )
    .await
    .map(drop)
}

/// Deletes the pending login and returns it, in one statement: of two callers at once, one
/// gets it (PostgreSQL's `DELETE … RETURNING` takes the row lock; the second finds it gone).
pub(super) async fn take_login_state(
    ex: &mut Ex<'_>,
    state_hash: &[u8; 32],
    state: &str,
) -> Result<Option<LoginState>, StoreError> {
    let row = ex
        .fetch_optional(
            "DELETE FROM login_states WHERE state_hash = $1 \
             RETURNING nonce, pkce_verifier, provider, requested_loa, return_to, expires_at, \
             created_at, reauthenticate, signing_job_id",
            &[Val::Bytes(&state_hash[..])],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    const WHAT: &str = "login_state";
    Ok(Some(LoginState {
        state: state.to_owned(),
        nonce: row.text("nonce", WHAT)?,
        pkce_verifier: SecretString::from(row.text("pkce_verifier", WHAT)?),
        provider: row.text("provider", WHAT)?,
        requested_loa: Loa::from_str_name(row.str("requested_loa", WHAT)?).ok_or(
            StoreError::Corrupt {
                what: "login_state.requested_loa",
            },
        )?,
        return_to: row.text("return_to", WHAT)?,
        reauthenticate: row.bool("reauthenticate", WHAT)?,
        signs: row
            .opt_uuid("signing_job_id", WHAT)?
            .map(crate::signing::SigningJobId::from_uuid),
        started_at: row.time("created_at", "login_state.created_at")?,
        expires_at: row.time("expires_at", "login_state.expires_at")?,
    }))
}

pub(super) async fn delete_expired_login_states(
    ex: &mut Ex<'_>,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM login_states WHERE expires_at <= $1",
        &[Val::Time(now)],
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Token ids already seen

/// Which register of seen token ids: its table and the column that names the issuer.
#[derive(Clone, Copy)]
pub(super) enum SeenTokens {
    /// Back-channel logout tokens, by issuer.
    Logout,
    /// Agency API tokens, by agency.
    Agency,
}

impl SeenTokens {
    fn insert_sql(self) -> &'static str {
        match self {
            SeenTokens::Logout => {
                "INSERT INTO logout_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3)"
            }
            SeenTokens::Agency => {
                "INSERT INTO agency_token_ids (agency_id, jti, expires_at) VALUES ($1, $2, $3)"
            }
        }
    }

    fn delete_expired_sql(self) -> &'static str {
        match self {
            SeenTokens::Logout => "DELETE FROM logout_tokens WHERE expires_at <= $1",
            SeenTokens::Agency => "DELETE FROM agency_token_ids WHERE expires_at <= $1",
        }
    }
}

/// Remembers a token id; a second time fails with the register's `Conflict` (its primary key).
pub(super) async fn insert_seen_token(
    ex: &mut Ex<'_>,
    register: SeenTokens,
    issuer: &str,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        register.insert_sql(),
        &[Val::Text(issuer), Val::Text(jti), Val::Time(expires_at)],
    )
    .await
    .map(drop)
}

pub(super) async fn delete_expired_seen_tokens(
    ex: &mut Ex<'_>,
    register: SeenTokens,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(register.delete_expired_sql(), &[Val::Time(now)])
        .await
}
