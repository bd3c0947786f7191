//! The contact register on both backends: the rules are written here once, over the statements
//! in `rows.rs`, which both databases run.
//!
//! Every change runs in one transaction that first locks the person's row (creating an empty
//! one if needed), then decides, then writes the change, its audit event and any message to
//! the outbox. A failure anywhere rolls all of it back.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub(super) mod rows;

pub(super) use rows::{ContactParts, StoredVerification};

use super::sql::Tx;
use super::{stored_instant, Database, StoreError};
use crate::access::{
    Access, Actor, AgencyAccess, Capability, LookupContact, ManageContact, ReadContact,
};
use crate::agency::{ContactLookup, MAX_LOOKUP_BATCH};
use crate::audit::{AuditEvent, AuditKind};
use crate::contact::{
    check_code, code_hash, code_salt, code_wait, verified_change, CodeCheck, CodeSent,
    ContactError, ContactInfo, ContactMethod, ContactStatus, EmailAddress, Mailbox, MobileNumber,
    PendingChange, VerificationCode, VerifiedChange, VerifyOutcome, WaitingCode, CODE_LIFETIME,
    CODE_RESEND_INTERVAL, CODE_WINDOW, MAX_CODE_ATTEMPTS,
};
use crate::identity::NationalId;
use crate::notify::NordicTimeZone;
use crate::outbox::{Address, NewNotification, Template};
use crate::person::{Language, PersonId};

// ---------------------------------------------------------------------------------------------
// The transaction's primitives for this register

impl Tx {
    /// The subject's entry, locked for this transaction; an empty row is made first if there
    /// is none, so there is always a row to lock. `None`: no such person.
    async fn lock_contact(
        &mut self,
        person: PersonId,
        now: OffsetDateTime,
    ) -> Result<Option<ContactInfo>, StoreError> {
        rows::lock(&mut self.ex(), person, now)
            .await?
            .map(ContactParts::into_contact_info)
            .transpose()
    }

    async fn verification(
        &mut self,
        person: PersonId,
        method: ContactMethod,
    ) -> Result<Option<StoredVerification>, StoreError> {
        let all = rows::verifications(&mut self.ex(), person).await?;
        Ok(all.into_iter().find(|pending| pending.method == method))
    }

    /// `info` with the changes waiting for a code filled in.
    async fn with_pending(&mut self, info: ContactInfo) -> Result<ContactInfo, StoreError> {
        let pending = rows::verifications(&mut self.ex(), info.person).await?;
        with_pending(info, pending)
    }
}

fn with_pending(
    mut info: ContactInfo,
    pending: Vec<StoredVerification>,
) -> Result<ContactInfo, StoreError> {
    for verification in pending {
        let attempts_left = verification.attempts_left();
        match verification.method {
            ContactMethod::Email => {
                let new_value = EmailAddress::parse(&verification.new_value).map_err(|_| {
                    StoreError::Corrupt {
                        what: "contact_verification.new_value",
                    }
                })?;
                info.pending_email = Some(PendingChange {
                    new_value,
                    sent_at: verification.created_at,
                    expires_at: verification.expires_at,
                    attempts_left,
                });
            }
            ContactMethod::Mobile => {
                let new_value = MobileNumber::from_e164(&verification.new_value).map_err(|_| {
                    StoreError::Corrupt {
                        what: "contact_verification.new_value",
                    }
                })?;
                info.pending_mobile = Some(PendingChange {
                    new_value,
                    sent_at: verification.created_at,
                    expires_at: verification.expires_at,
                    attempts_left,
                });
            }
        }
    }
    Ok(info)
}

// ---------------------------------------------------------------------------------------------
// The rules

/// The audit event for a change made through `access` at `now`.
fn audit_event<C: Capability>(
    access: &Access<C>,
    kind: AuditKind,
    now: OffsetDateTime,
) -> AuditEvent {
    let (actor, agency, loa) = match access.actor() {
        Actor::Citizen { person, loa } => (Some(*person), None, Some(*loa)),
        Actor::Agency { agency, .. } => (None, Some(agency.clone()), None),
    };
    AuditEvent {
        id: Uuid::now_v7(),
        subject: access.subject(),
        actor,
        agency,
        kind,
        loa,
        provider: None,
        at: now,
        acted_under: crate::audit::ActedUnder::of(access.basis()),
        about: None,
    }
}

fn method_of(address: &Address) -> ContactMethod {
    match address {
        Address::Email(_) => ContactMethod::Email,
        Address::Sms(_) => ContactMethod::Mobile,
    }
}

/// A message to `to` about `person`'s contact information, in their language.
fn contact_message(
    info: &ContactInfo,
    to: &Address,
    template: Template,
    params: serde_json::Value,
    key: String,
    now: OffsetDateTime,
) -> Result<NewNotification, StoreError> {
    let notification = match to {
        Address::Email(email) => {
            NewNotification::email(info.person, email, template, params, key, now)
        }
        Address::Sms(mobile) => NewNotification::sms(
            info.person,
            mobile,
            template,
            params,
            key,
            now,
            NordicTimeZone::for_country(info.country),
        ),
    };
    // Our own keys and parameters are always valid; a failure here is a bug, not bad input.
    notification.map_err(|_| StoreError::Corrupt {
        what: "notification.params",
    })
}

/// What a code is sent for.
enum CodeFor {
    /// A new value the person typed in.
    NewValue(Address),
    /// The value of the change already waiting on this method (a resend).
    Pending(ContactMethod),
}

/// The address waiting for a code on `method`.
fn pending_address(pending: &StoredVerification) -> Result<Address, StoreError> {
    match pending.method {
        ContactMethod::Email => EmailAddress::parse(&pending.new_value).map(Address::Email),
        ContactMethod::Mobile => MobileNumber::from_e164(&pending.new_value).map(Address::Sms),
    }
    .map_err(|_| StoreError::Corrupt {
        what: "contact_verification.new_value",
    })
}

impl Database {
    /// Sends a code: the shared half of asking for a change and of a resend.
    async fn send_code(
        &self,
        access: &Access<ManageContact>,
        code_for: CodeFor,
        now: OffsetDateTime,
    ) -> Result<CodeSent, ContactError> {
        let now = stored_instant(now);
        let person = access.subject();
        let mut tx = self.begin_tx().await?;
        let info = tx
            .lock_contact(person, now)
            .await?
            .ok_or(ContactError::UnknownPerson)?;
        let new_value = match code_for {
            CodeFor::NewValue(new_value) => {
                let in_force = match method_of(&new_value) {
                    ContactMethod::Email => info.email.as_ref().map(|e| e.value.as_str()),
                    ContactMethod::Mobile => info.mobile.as_ref().map(|m| m.value.as_str()),
                };
                if in_force == Some(new_value.as_str()) {
                    return Err(ContactError::Unchanged);
                }
                new_value
            }
            CodeFor::Pending(method) => {
                let pending = tx
                    .verification(person, method)
                    .await?
                    .ok_or(ContactError::NothingPending)?;
                pending_address(&pending)?
            }
        };
        let method = method_of(&new_value);
        let window_start = stored_instant(now - CODE_WINDOW);
        let sent = rows::recent_code_sends(&mut tx.ex(), person, method, window_start).await?;
        if let Some(retry_after) = code_wait(&sent, now) {
            tracing::info!(
                method = method.code(),
                "verification code refused: rate limit"
            );
            return Err(ContactError::RateLimited { retry_after });
        }

        let code = VerificationCode::generate();
        let salt = code_salt();
        let expires_at = now + CODE_LIFETIME;
        let verification = StoredVerification {
            id: Uuid::now_v7(),
            method,
            new_value: new_value.as_str().to_owned(),
            code_salt: salt.to_vec(),
            code_hash: code_hash(&salt, code.expose()).to_vec(),
            attempts: 0,
            created_at: now,
            expires_at,
        };
        rows::put_verification(&mut tx.ex(), person, &verification).await?;
        rows::record_code_send(&mut tx.ex(), person, method, now, window_start).await?;
        let params = serde_json::json!({
            "code": code.expose(),
            "language": info.language.code(),
        });
        let message = contact_message(
            &info,
            &new_value,
            Template::VerifyCode,
            params,
            format!("contact.verify_code:{}", verification.id),
            now,
        )?
        .send_by(expires_at);
        tx.enqueue(&message, now).await?;
        let kind = match method {
            ContactMethod::Email => AuditKind::ContactEmailCodeSent,
            ContactMethod::Mobile => AuditKind::ContactMobileCodeSent,
        };
        tx.insert_audit_event(&audit_event(access, kind, now))
            .await?;
        tx.commit().await?;
        tracing::debug!(method = method.code(), "verification code queued");
        Ok(CodeSent {
            code,
            method,
            expires_at,
            next_code_at: now + CODE_RESEND_INTERVAL,
        })
    }

    /// Runs `change` on the locked entry; if it returns a new entry and an audit kind, writes
    /// both; returns the entry as it is after.
    async fn change_contact(
        &self,
        access: &Access<ManageContact>,
        now: OffsetDateTime,
        change: impl FnOnce(&ContactInfo) -> Result<Option<(ContactInfo, AuditKind)>, ContactError>
            + Send,
    ) -> Result<ContactInfo, ContactError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let info = tx
            .lock_contact(access.subject(), now)
            .await?
            .ok_or(ContactError::UnknownPerson)?;
        let info = match change(&info)? {
            Some((changed, kind)) => {
                rows::write(&mut tx.ex(), &changed, now).await?;
                tx.insert_audit_event(&audit_event(access, kind, now))
                    .await?;
                changed
            }
            None => info,
        };
        let info = tx.with_pending(info).await?;
        tx.commit().await?;
        Ok(info)
    }
}

/// The contact and reservation register (KRR).
///
/// Reads take an [`Access<ReadContact>`], changes an [`Access<ManageContact>`]; every query is
/// scoped to the proof's subject. Every change writes an audit event in the same transaction
/// (actor, level of assurance, a kind code: never the address or number), and changes that
/// must tell someone queue the message in the same transaction too. Operations take `now`
/// from the caller, so tests and jobs decide what "now" is.
impl Database {
    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// The subject's entry: values in force, changes waiting for a code, reservation, mailbox
    /// and language. Someone who never registered gets [`ContactStatus::NotRegistered`] and
    /// no values.
    pub async fn find_contact_info(
        &self,
        access: &Access<ReadContact>,
    ) -> Result<ContactInfo, ContactError> {
        let person = access.subject();
        let mut conn = self.quick_read().await?;
        let mut ex = conn.ex();
        let parts = rows::find(&mut ex, person).await?;
        let pending = rows::verifications(&mut ex, person).await?;
        let info = parts
            .ok_or(ContactError::UnknownPerson)?
            .into_contact_info()?;
        Ok(with_pending(info, pending)?)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// Starts changing (or adding) the e-mail address: a code is queued to `email` (template
    /// `verify_code`, valid 10 minutes) and returned once. The old address stays in force
    /// until [`verify_code`](crate::Database::verify_code) gets the code back. Asking again
    /// replaces the waiting change and its code.
    ///
    /// Refused with [`ContactError::Unchanged`] for the address already in force, and with
    /// [`ContactError::RateLimited`] after a code less than a minute ago or five within the
    /// hour on this channel.
    pub async fn request_email_change(
        &self,
        access: &Access<ManageContact>,
        email: EmailAddress,
        now: OffsetDateTime,
    ) -> Result<CodeSent, ContactError> {
        self.send_code(access, CodeFor::NewValue(Address::Email(email)), now)
            .await
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// As [`request_email_change`](crate::Database::request_email_change), for the mobile
    /// number: the code goes by SMS at once (a code the person asked for this minute is not
    /// held back by quiet hours).
    pub async fn request_mobile_change(
        &self,
        access: &Access<ManageContact>,
        mobile: MobileNumber,
        now: OffsetDateTime,
    ) -> Result<CodeSent, ContactError> {
        self.send_code(access, CodeFor::NewValue(Address::Sms(mobile)), now)
            .await
    }

    #[tracing::instrument(
        skip_all,
        fields(
            backend = self.backend().name(),
            person.id = %access.subject(),
            method = method.code(),
        )
    )]
    /// A new code for the change waiting on `method` (the old code stops working, and the
    /// count of wrong tries starts again). Same limits as asking for the change.
    /// [`ContactError::NothingPending`] when no change waits.
    pub async fn resend_code(
        &self,
        access: &Access<ManageContact>,
        method: ContactMethod,
        now: OffsetDateTime,
    ) -> Result<CodeSent, ContactError> {
        self.send_code(access, CodeFor::Pending(method), now).await
    }

    #[tracing::instrument(
        skip_all,
        fields(
            backend = self.backend().name(),
            person.id = %access.subject(),
            method = method.code(),
        )
    )]
    /// Checks a typed-back code for the change waiting on `method`. Right (and in time, and
    /// fewer than five wrong before it): the new value is put in force, verified now, and a
    /// notice goes to the old address if there was one. Wrong: one try fewer is left. Input
    /// that is not six digits costs no try.
    pub async fn verify_code(
        &self,
        access: &Access<ManageContact>,
        method: ContactMethod,
        typed_code: &str,
        now: OffsetDateTime,
    ) -> Result<VerifyOutcome, ContactError> {
        let now = stored_instant(now);
        let person = access.subject();
        let mut tx = self.begin_tx().await?;
        let info = tx
            .lock_contact(person, now)
            .await?
            .ok_or(ContactError::UnknownPerson)?;
        let Some(pending) = tx.verification(person, method).await? else {
            return Ok(VerifyOutcome::NoPending);
        };
        let waiting = WaitingCode {
            attempts: pending.attempts,
            expires_at: pending.expires_at,
            salt: &pending.code_salt,
            hash: &pending.code_hash,
        };
        match check_code(waiting, typed_code, now) {
            CodeCheck::Right => {}
            CodeCheck::TooManyAttempts => return Ok(VerifyOutcome::TooManyAttempts),
            CodeCheck::Expired => return Ok(VerifyOutcome::Expired),
            CodeCheck::NotACode => {
                return Ok(VerifyOutcome::WrongCode {
                    attempts_left: pending.attempts_left(),
                })
            }
            CodeCheck::Wrong { attempts } => {
                rows::set_verification_attempts(&mut tx.ex(), pending.id, attempts).await?;
                if attempts >= MAX_CODE_ATTEMPTS {
                    tx.insert_audit_event(&audit_event(
                        access,
                        AuditKind::ContactVerificationLocked,
                        now,
                    ))
                    .await?;
                }
                tx.commit().await?;
                tracing::info!(attempts, "wrong verification code");
                return Ok(VerifyOutcome::WrongCode {
                    attempts_left: MAX_CODE_ATTEMPTS.saturating_sub(attempts),
                });
            }
        }
        let VerifiedChange {
            changed,
            tell,
            kind,
        } = verified_change(&info, pending_address(&pending)?, now);
        rows::write(&mut tx.ex(), &changed, now).await?;
        rows::delete_verification(&mut tx.ex(), person, method).await?;
        if let Some(old_address) = tell {
            // Tell the old address: if someone else made the change, its owner finds out.
            let params = serde_json::json!({
                "method": method.code(),
                "language": info.language.code(),
            });
            let notice = contact_message(
                &info,
                &old_address,
                Template::ContactChanged,
                params,
                format!("contact.changed:{}", pending.id),
                now,
            )?;
            tx.enqueue(&notice, now).await?;
        }
        tx.insert_audit_event(&audit_event(access, kind, now))
            .await?;
        tx.commit().await?;
        tracing::debug!("contact method verified");
        Ok(VerifyOutcome::Verified)
    }

    #[tracing::instrument(
        skip_all,
        fields(
            backend = self.backend().name(),
            person.id = %access.subject(),
            method = method.code(),
        )
    )]
    /// Drops the change waiting on `method`, if any (the value in force is untouched).
    pub async fn cancel_change(
        &self,
        access: &Access<ManageContact>,
        method: ContactMethod,
        now: OffsetDateTime,
    ) -> Result<ContactInfo, ContactError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let info = tx
            .lock_contact(access.subject(), now)
            .await?
            .ok_or(ContactError::UnknownPerson)?;
        rows::delete_verification(&mut tx.ex(), access.subject(), method).await?;
        let info = tx.with_pending(info).await?;
        tx.commit().await?;
        Ok(info)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// "My contact information is still right": the values in force count as verified now.
    /// [`ContactError::NothingToConfirm`] when there are none.
    pub async fn confirm_contact_info(
        &self,
        access: &Access<ManageContact>,
        now: OffsetDateTime,
    ) -> Result<ContactInfo, ContactError> {
        let confirmed_at = stored_instant(now);
        self.change_contact(access, now, |info| {
            if info.email.is_none() && info.mobile.is_none() {
                return Err(ContactError::NothingToConfirm);
            }
            let mut changed = info.clone();
            if let Some(email) = changed.email.as_mut() {
                email.verified_at = Some(confirmed_at);
            }
            if let Some(mobile) = changed.mobile.as_mut() {
                mobile.verified_at = Some(confirmed_at);
            }
            Ok(Some((changed, AuditKind::ContactConfirmed)))
        })
        .await
    }

    #[tracing::instrument(
        skip_all,
        fields(
            backend = self.backend().name(),
            person.id = %access.subject(),
            method = method.code(),
        )
    )]
    /// Removes the e-mail address or the mobile number (and any change waiting on it). With
    /// neither left, the entry's status becomes [`ContactStatus::Deleted`]. Removing what is
    /// not there changes nothing and logs nothing.
    pub async fn remove_contact_method(
        &self,
        access: &Access<ManageContact>,
        method: ContactMethod,
        now: OffsetDateTime,
    ) -> Result<ContactInfo, ContactError> {
        let now = stored_instant(now);
        let person = access.subject();
        let mut tx = self.begin_tx().await?;
        let info = tx
            .lock_contact(person, now)
            .await?
            .ok_or(ContactError::UnknownPerson)?;
        let mut changed = info.clone();
        let (had_value, kind) = match method {
            ContactMethod::Email => (
                changed.email.take().is_some(),
                AuditKind::ContactEmailRemoved,
            ),
            ContactMethod::Mobile => (
                changed.mobile.take().is_some(),
                AuditKind::ContactMobileRemoved,
            ),
        };
        rows::delete_verification(&mut tx.ex(), person, method).await?;
        let info = if had_value {
            if changed.email.is_none() && changed.mobile.is_none() {
                changed.status = ContactStatus::Deleted;
            }
            rows::write(&mut tx.ex(), &changed, now).await?;
            tx.insert_audit_event(&audit_event(access, kind, now))
                .await?;
            changed
        } else {
            info
        };
        let info = tx.with_pending(info).await?;
        tx.commit().await?;
        Ok(info)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// Reserves the person against digital communication (`true`: paper post from now on) or
    /// withdraws the reservation. Setting what is already set changes nothing.
    pub async fn set_reservation(
        &self,
        access: &Access<ManageContact>,
        reserved: bool,
        now: OffsetDateTime,
    ) -> Result<ContactInfo, ContactError> {
        let changed_at = stored_instant(now);
        self.change_contact(access, now, |info| {
            if info.reserved == reserved {
                return Ok(None);
            }
            let mut changed = info.clone();
            changed.reserved = reserved;
            changed.reservation_changed_at = Some(changed_at);
            let kind = if reserved {
                AuditKind::ContactReserved
            } else {
                AuditKind::ContactReservationWithdrawn
            };
            Ok(Some((changed, kind)))
        })
        .await
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    /// Chooses the digital mailbox. An external provider's name is checked and normalised
    /// ([`Mailbox::external`]).
    pub async fn set_mailbox(
        &self,
        access: &Access<ManageContact>,
        mailbox: Mailbox,
        now: OffsetDateTime,
    ) -> Result<ContactInfo, ContactError> {
        let mailbox = mailbox.validated()?;
        self.change_contact(access, now, |info| {
            if info.mailbox == mailbox {
                return Ok(None);
            }
            let mut changed = info.clone();
            changed.mailbox = mailbox;
            Ok(Some((changed, AuditKind::ContactMailboxChanged)))
        })
        .await
    }

    #[tracing::instrument(
        skip_all,
        fields(
            backend = self.backend().name(),
            person.id = %access.subject(),
            language = language.code(),
        )
    )]
    /// Chooses the language for letters and notifications (the person's portal language,
    /// `persons.language`).
    pub async fn set_language(
        &self,
        access: &Access<ManageContact>,
        language: Language,
        now: OffsetDateTime,
    ) -> Result<ContactInfo, ContactError> {
        let now = stored_instant(now);
        let person = access.subject();
        let mut tx = self.begin_tx().await?;
        let mut info = tx
            .lock_contact(person, now)
            .await?
            .ok_or(ContactError::UnknownPerson)?;
        if info.language != language {
            rows::write_language(&mut tx.ex(), person, language, now).await?;
            tx.insert_audit_event(&audit_event(access, AuditKind::ContactLanguageChanged, now))
                .await?;
            info.language = language;
        }
        let info = tx.with_pending(info).await?;
        tx.commit().await?;
        Ok(info)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), agency = %access.agency(), ids = national_ids.len())
    )]
    /// An agency's look-up: for each of `national_ids` (at most [`MAX_LOOKUP_BATCH`]), in the
    /// same order, the register fields KRR gives agencies, with the notification rule applied
    /// at `now` and contact information older than `staleness` counting as unusable. An id
    /// no person has is [`ContactLookup::unknown`] ("not registered"), not an error.
    ///
    /// One query for all the ids, and in the same transaction one batch insert of an audit
    /// event ([`AuditKind::ContactLookedUpByAgency`], the agency as actor) into the log of
    /// every person found, once each even if named twice: the look-up is visible to those
    /// looked up, and no answer leaves without its events committed.
    /// [`ContactError::LookupTooLarge`] for more than [`MAX_LOOKUP_BATCH`] ids.
    pub async fn lookup_contact_info(
        &self,
        access: &AgencyAccess<LookupContact>,
        national_ids: &[NationalId],
        now: OffsetDateTime,
        staleness: Duration,
    ) -> Result<Vec<ContactLookup>, ContactError> {
        if national_ids.len() > MAX_LOOKUP_BATCH {
            return Err(ContactError::LookupTooLarge);
        }
        let now = stored_instant(now);
        let mut distinct: Vec<&str> = national_ids.iter().map(NationalId::expose).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut tx = self.begin_tx().await?;
        let found = rows::find_by_national_ids(&mut tx.ex(), &distinct).await?;
        let mut entries = std::collections::HashMap::with_capacity(found.len());
        let mut events = Vec::with_capacity(found.len());
        for parts in found {
            let national_id = parts.national_id.clone();
            let info = parts.into_contact_info()?;
            events.push(AuditEvent {
                id: Uuid::now_v7(),
                subject: info.person,
                actor: None,
                agency: Some(access.agency().clone()),
                kind: AuditKind::ContactLookedUpByAgency,
                loa: None,
                provider: None,
                at: now,
                acted_under: None,
                about: None,
            });
            entries.insert(national_id, info);
        }
        tx.insert_audit_events(&events).await?;
        tx.commit().await?;
        tracing::info!(
            found = events.len(),
            "contact look-up by an agency answered and audited"
        );
        Ok(national_ids
            .iter()
            .map(|national_id| match entries.get(national_id.expose()) {
                Some(info) => ContactLookup::from_info(info.clone(), now, staleness),
                None => ContactLookup::unknown(),
            })
            .collect())
    }

    /// Deletes changes whose code expired before `before` (pass e.g. now less a day, so that
    /// the page can still say "the code expired" for a while). For a periodic job; returns
    /// how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_expired_verifications(
        &self,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let before = stored_instant(before);
        let deleted =
            rows::delete_expired_verifications(&mut self.conn().await?.ex(), before).await?;
        tracing::debug!(deleted, "expired contact verifications deleted");
        Ok(deleted)
    }
}
