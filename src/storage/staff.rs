//! The staff register's statements: staff sessions, pending staff logins and the staff log
//! (migration 0015). Citizens' sessions, logins and activity log are never read or written
//! here, nor these tables anywhere else.

use secrecy::{ExposeSecret as _, SecretString};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::session::sha256;
use crate::staff::{
    CompletedStaffLogin, MunicipalityId, NewStaffLoginState, StaffAuditEvent, StaffAuditKind,
    StaffLoginState, StaffMember, StaffRole, StaffSession, StaffToken,
};

use super::sql::{Ex, Row, Val};
use super::{now_utc_micros, stored_instant, Database, StoreError};

/// The columns a [`StaffSession`] is read from.
macro_rules! staff_session_columns {
    () => {
        "municipality_id, subject, name, role, sid, id_token, created_at, last_seen_at, \
         expires_at"
    };
}

/// Staff sessions: found by the SHA-256 of the staff cookie, valid while `now < expires_at`
/// and `now < last_seen_at + idle_timeout` ([`StaffSession::is_expired`]).
impl Database {
    /// The staff callback's one unit of work, in one transaction: the browser's earlier staff
    /// session ended, a new one started (a fresh token, returned once for the cookie), and the
    /// login written to the municipality's staff log.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), municipality = %login.member.municipality))]
    pub async fn complete_staff_login(
        &self,
        login: CompletedStaffLogin,
        now: OffsetDateTime,
    ) -> Result<(StaffToken, StaffSession), StoreError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        if let Some(previous) = &login.previous {
            delete(&mut ex, &previous.hash()).await?;
        }
        let token = StaffToken::generate();
        let expires_at = stored_instant(now.saturating_add(login.absolute_lifetime));
        let member = &login.member;
        let stored = ex
            .fetch_one(
                concat!(
                    "INSERT INTO staff_sessions (token_hash, municipality_id, subject, name, role, \
                     sid, id_token, created_at, last_seen_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING ",
                    staff_session_columns!()
                ),
                &[
                    Val::Bytes(&token.hash()[..]),
                    Val::Text(member.municipality.as_str()),
                    Val::Text(&member.subject),
                    Val::Text(&member.name),
                    Val::Text(member.role.as_str()),
                    Val::OptText(login.sid.as_deref()),
                    Val::Text(login.id_token.expose_secret()),
                    Val::Time(now),
                    Val::Time(expires_at),
                ],
            )
            .await?;
        let session = session_from_row(&stored)?;
        insert_event(
            &mut ex,
            &StaffAuditEvent {
                municipality: member.municipality.clone(),
                subject: member.subject.clone(),
                name: member.name.clone(),
                role: Some(member.role),
                kind: StaffAuditKind::Login,
                reason: None,
                at: now,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::debug!(role = member.role.as_str(), "staff login completed");
        Ok((token, session))
    }

    /// The staff session for this token, if it exists and has not expired at `now`; an expired
    /// one is deleted. Does not record activity ([`touch_staff_session`](Self::touch_staff_session)).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn find_staff_session(
        &self,
        token: &StaffToken,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<Option<StaffSession>, StoreError> {
        let hash = token.hash();
        let now = stored_instant(now);
        let row = self
            .quick_read()
            .await?
            .ex()
            .fetch_optional(
                concat!(
                    "SELECT ",
                    staff_session_columns!(),
                    " FROM staff_sessions WHERE token_hash = $1"
                ),
                &[Val::Bytes(&hash[..])],
            )
            .await?;
        let Some(session) = row.as_ref().map(session_from_row).transpose()? else {
            return Ok(None);
        };
        if !session.is_expired(now, idle_timeout) {
            return Ok(Some(session));
        }
        // Only if still expired by the same rule: a touch from another instance stands.
        let idle_cutoff = stored_instant(now.saturating_sub(idle_timeout));
        self.conn()
            .await?
            .ex()
            .execute(
                "DELETE FROM staff_sessions WHERE token_hash = $1 \
                 AND (expires_at <= $2 OR last_seen_at <= $3)",
                &[
                    Val::Bytes(&hash[..]),
                    Val::Time(now),
                    Val::Time(idle_cutoff),
                ],
            )
            .await?;
        Ok(None)
    }

    /// Records that the staff session was used at `now` (never moving it back). `false` when
    /// there is no such session.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn touch_staff_session(
        &self,
        token: &StaffToken,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let touched = self
            .conn()
            .await?
            .ex()
            .execute(
                "UPDATE staff_sessions SET last_seen_at = \
                 CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END WHERE token_hash = $1",
                &[
                    Val::Bytes(&token.hash()[..]),
                    Val::Time(stored_instant(now)),
                ],
            )
            .await?;
        Ok(touched > 0)
    }

    /// Ends the staff session (logout) and writes the logout to the staff log, in one
    /// transaction. The ended session, or `None` when there was none.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn end_staff_session(
        &self,
        token: &StaffToken,
        now: OffsetDateTime,
    ) -> Result<Option<StaffSession>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let row = ex
            .fetch_optional(
                concat!(
                    "DELETE FROM staff_sessions WHERE token_hash = $1 RETURNING ",
                    staff_session_columns!()
                ),
                &[Val::Bytes(&token.hash()[..])],
            )
            .await?;
        let Some(session) = row.as_ref().map(session_from_row).transpose()? else {
            return Ok(None);
        };
        let member = &session.member;
        insert_event(
            &mut ex,
            &StaffAuditEvent {
                municipality: member.municipality.clone(),
                subject: member.subject.clone(),
                name: member.name.clone(),
                role: Some(member.role),
                kind: StaffAuditKind::Logout,
                reason: None,
                at: stored_instant(now),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(session))
    }

    /// Deletes every staff session expired at `now` (by either rule). Returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_expired_staff_sessions(
        &self,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        let idle_cutoff = stored_instant(now.saturating_sub(idle_timeout));
        self.conn()
            .await?
            .ex()
            .execute(
                "DELETE FROM staff_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                &[Val::Time(now), Val::Time(idle_cutoff)],
            )
            .await
    }
}

/// Pending staff logins, stored under the hash of `state` and taken once.
impl Database {
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn create_staff_login_state(
        &self,
        login: NewStaffLoginState,
    ) -> Result<(), StoreError> {
        self.conn()
            .await?
            .ex()
            .execute(
                "INSERT INTO staff_login_states (state_hash, nonce, pkce_verifier, \
                 municipality_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Val::Bytes(&sha256(login.state.as_bytes())[..]),
                    Val::Text(&login.nonce),
                    Val::Text(login.pkce_verifier.expose_secret()),
                    Val::Text(login.municipality.as_str()),
                    Val::Time(now_utc_micros()),
                    Val::Time(stored_instant(login.expires_at)),
                ],
            )
            .await
            .map(drop)
    }

    /// Deletes the pending staff login for `state` and returns it, in one statement (of two
    /// callbacks with the same state, one gets it). `None` also when it had expired at `now`.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn take_staff_login_state(
        &self,
        state: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffLoginState>, StoreError> {
        let row = self
            .conn()
            .await?
            .ex()
            .fetch_optional(
                "DELETE FROM staff_login_states WHERE state_hash = $1 \
                 RETURNING nonce, pkce_verifier, municipality_id, created_at, expires_at",
                &[Val::Bytes(&sha256(state.as_bytes())[..])],
            )
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        const WHAT: &str = "staff_login_state";
        let taken = StaffLoginState {
            nonce: row.text("nonce", WHAT)?,
            pkce_verifier: SecretString::from(row.text("pkce_verifier", WHAT)?),
            municipality: municipality(&row)?,
            started_at: row.time("created_at", WHAT)?,
            expires_at: row.time("expires_at", WHAT)?,
        };
        Ok((stored_instant(now) < taken.expires_at).then_some(taken))
    }

    /// Deletes pending staff logins expired at `now`. Returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_expired_staff_login_states(
        &self,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        self.conn()
            .await?
            .ex()
            .execute(
                "DELETE FROM staff_login_states WHERE expires_at <= $1",
                &[Val::Time(stored_instant(now))],
            )
            .await
    }
}

/// The staff log: per municipality, never in a citizen's activity log.
impl Database {
    /// Records a refused staff login (the provider vouched for the person, the municipality's
    /// rules did not admit them).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn record_staff_event(&self, event: &StaffAuditEvent) -> Result<(), StoreError> {
        insert_event(&mut self.conn().await?.ex(), event).await
    }

    /// The municipality's most recent staff log entries, newest first (at most `limit`).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn list_staff_events(
        &self,
        municipality: &MunicipalityId,
        limit: u32,
    ) -> Result<Vec<StaffAuditEvent>, StoreError> {
        let rows = self
            .conn()
            .await?
            .ex()
            .fetch_all(
                "SELECT municipality_id, subject, name, role, kind, reason, occurred_at \
                 FROM staff_audit_events WHERE municipality_id = $1 \
                 ORDER BY occurred_at DESC, id DESC LIMIT $2",
                &[Val::Text(municipality.as_str()), Val::Int(i64::from(limit))],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Statements

async fn delete(ex: &mut Ex<'_>, token_hash: &[u8; 32]) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM staff_sessions WHERE token_hash = $1",
        &[Val::Bytes(&token_hash[..])],
    )
    .await
}

async fn insert_event(ex: &mut Ex<'_>, event: &StaffAuditEvent) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO staff_audit_events (id, municipality_id, subject, name, role, kind, \
         reason, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Val::Uuid(Uuid::now_v7()),
            Val::Text(event.municipality.as_str()),
            Val::Text(&event.subject),
            Val::Text(&event.name),
            Val::OptText(event.role.map(StaffRole::as_str)),
            Val::Text(event.kind.as_str()),
            Val::OptText(event.reason.as_deref()),
            Val::Time(stored_instant(event.at)),
        ],
    )
    .await
    .map(drop)
}

fn municipality(row: &Row) -> Result<MunicipalityId, StoreError> {
    MunicipalityId::parse(row.str("municipality_id", "staff.municipality_id")?).map_err(|_| {
        StoreError::Corrupt {
            what: "staff.municipality_id",
        }
    })
}

fn role(name: &str) -> Result<StaffRole, StoreError> {
    StaffRole::from_str_name(name).ok_or(StoreError::Corrupt { what: "staff.role" })
}

fn session_from_row(row: &Row) -> Result<StaffSession, StoreError> {
    const WHAT: &str = "staff_session";
    Ok(StaffSession {
        member: StaffMember {
            municipality: municipality(row)?,
            subject: row.text("subject", WHAT)?,
            name: row.text("name", WHAT)?,
            role: role(row.str("role", WHAT)?)?,
        },
        sid: row.opt_text("sid", WHAT)?,
        id_token: SecretString::from(row.text("id_token", WHAT)?),
        created_at: row.time("created_at", WHAT)?,
        last_seen_at: row.time("last_seen_at", WHAT)?,
        expires_at: row.time("expires_at", WHAT)?,
    })
}

fn event_from_row(row: &Row) -> Result<StaffAuditEvent, StoreError> {
    const WHAT: &str = "staff_audit_event";
    Ok(StaffAuditEvent {
        municipality: municipality(row)?,
        subject: row.text("subject", WHAT)?,
        name: row.text("name", WHAT)?,
        role: row.opt_str("role", WHAT)?.map(role).transpose()?,
        kind: StaffAuditKind::from_str_name(row.str("kind", WHAT)?)
            .ok_or(StoreError::Corrupt { what: "staff.kind" })?,
        reason: row.opt_text("reason", WHAT)?,
        at: row.time("occurred_at", WHAT)?,
    })
}
