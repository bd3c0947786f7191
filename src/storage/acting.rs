//! Acting for someone: whom a session's holder chose to act for, and what the header needs to
//! offer the choice. The choice is only remembered here: every request asks the policy again
//! (`Database::decide_access`), so a revocation or an expiry counts from the next request.

use time::OffsetDateTime;

use crate::access::{Access, ManageAuthority};
use crate::delegation::{today, Guardianship};
use crate::person::PersonId;
use crate::session::SessionToken;

use super::sql::Val;
use super::{Database, StoreError};

const WHAT: &str = "acting_for";

impl Database {
    /// Whether `holder` holds any authority in force at `now` that the portal acts on: an
    /// active delegation with a portal scope (not a service scope) not yet ended, or the
    /// guardianship of a minor. Whether the header offers to act for someone; read on every
    /// page, so one statement: two short indexed reads, nothing decoded beyond a date.
    pub async fn may_act_for(
        &self,
        holder: PersonId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut conn = self.quick_read().await?;
        let mut ex = conn.ex();
        let delegated = ex
            .fetch_optional(
                "SELECT 1 AS one FROM delegations d \
                 JOIN delegation_scopes s ON s.delegation_id = d.id \
                 WHERE d.holder_id = $1 AND d.state = 'active' AND s.ends_on >= $2 \
                 AND s.scope NOT LIKE 'service:%' LIMIT 1",
                &[Val::Uuid(holder.as_uuid()), Val::Date(today(now))],
            )
            .await?;
        if delegated.is_some() {
            return Ok(true);
        }
        let minors = ex
            .fetch_all(
                "SELECT p.birth_date FROM guardianships g JOIN persons p ON p.id = g.minor_id \
                 WHERE g.guardian_id = $1 AND g.ended_at IS NULL",
                &[Val::Uuid(holder.as_uuid())],
            )
            .await?;
        for row in &minors {
            let guardianship = Guardianship {
                guardian: holder,
                minor: holder,
                minor_born: row.date("birth_date", WHAT)?,
                ended_at: None,
            };
            if guardianship.in_force(now) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Makes the session of `token` act for `person` (`None`: for its holder themself again).
    /// Only someone the holder can act for at `now`
    /// ([`persons_to_act_for`](Database::persons_to_act_for)) is stored; anyone else is
    /// refused (`Ok(false)`) and nothing changes, so the choice cannot name a stranger even
    /// for a moment. `access` is the holder's own proof (managing one's own authority is never
    /// done for someone else), and only the holder's own session is changed.
    pub async fn choose_acting_for(
        &self,
        token: &SessionToken,
        access: &Access<ManageAuthority>,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let holder = access.subject();
        if let Some(person) = person {
            let can = self.persons_to_act_for(access, now).await?;
            if !can.iter().any(|entry| entry.person == person) {
                return Ok(false);
            }
        }
        let changed = self
            .conn()
            .await?
            .ex()
            .execute(
                "UPDATE sessions SET acting_for = $3 WHERE token_hash = $1 AND person_id = $2",
                &[
                    Val::Bytes(&token.hash()[..]),
                    Val::Uuid(holder.as_uuid()),
                    Val::OptUuid(person.map(|person| person.as_uuid())),
                ],
            )
            .await?;
        Ok(changed > 0)
    }
}
