//! The citizen's activity log: what happened with their account and data, shown to them.
//!
//! An event holds ids, a kind from a fixed list, and the level and provider of the login it
//! came from: no free text. Nothing personal (a national id, a name, an error message quoting
//! input) can end up in the log by accident, and every event can be shown in each of the
//! portal's languages by translating its [`AuditKind::code`]. The storage side is
//! the activity log: written by the system, read by the subject through
//! [`Access<ReadOwnActivity>`](crate::Access).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::Loa;
use crate::agency::AgencyId;
use crate::person::PersonId;

/// What happened. Stored as its [`code`](AuditKind::code), which must never change: old events
/// keep theirs. New kinds are added at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditKind {
    /// The person logged in.
    LoginSucceeded,
    /// A login for the person came back from the eID but was not accepted (e.g. too low a
    /// level, a failed check). Only recorded when the person is known.
    LoginFailed,
    /// The person logged out in the portal.
    LoggedOut,
    /// The person raised their session's level of assurance (to `loa`).
    SteppedUp,
    /// The eID provider ended the session (back-channel or front-channel logout).
    LoggedOutByProvider,
    /// A verification code was sent to a new e-mail address (the old one stays in force).
    ContactEmailCodeSent,
    /// A verification code was sent to a new mobile number (the old one stays in force).
    ContactMobileCodeSent,
    /// A new e-mail address was verified and is now in force.
    ContactEmailChanged,
    /// A new mobile number was verified and is now in force.
    ContactMobileChanged,
    /// The address or number already in force was verified again by a code.
    ContactVerified,
    /// Five wrong codes were typed: the code no longer works.
    ContactVerificationLocked,
    /// The e-mail address was removed.
    ContactEmailRemoved,
    /// The mobile number was removed.
    ContactMobileRemoved,
    /// The person confirmed that their contact information is still right.
    ContactConfirmed,
    /// The person reserved themself against digital communication (paper post from now).
    ContactReserved,
    /// The person withdrew their reservation.
    ContactReservationWithdrawn,
    /// The person chose another digital mailbox.
    ContactMailboxChanged,
    /// The person chose another language for letters and notifications.
    ContactLanguageChanged,
    /// An agency looked up the person's contact and reservation status through the agency
    /// API (the event's `agency` says which).
    ContactLookedUpByAgency,
    /// An agency delivered a letter to the person's mailbox (the event's `agency` says which).
    PostDelivered,
    /// The person opened a letter for the first time.
    PostOpened,
    /// The person moved a letter to another folder.
    PostMoved,
    /// The person marked a letter unread.
    PostMarkedUnread,
    /// The person put a letter in the trash.
    PostTrashed,
    /// The person took a letter out of the trash.
    PostRestored,
    /// The person made an own folder.
    PostFolderCreated,
    /// The person renamed an own folder.
    PostFolderRenamed,
    /// The person deleted an own folder.
    PostFolderDeleted,
    /// The person granted a delegation (the event's `actor` is the giver; in the giver's and
    /// the holder's logs).
    AuthorityGranted,
    /// A holder asked the person for authority (in both logs).
    AuthorityRequested,
    /// The person approved a request for authority (in both logs).
    AuthorityApproved,
    /// The person declined a request for authority (in both logs).
    AuthorityDeclined,
    /// A delegation was ended, or a request withdrawn, by the giver or the holder (the event's
    /// `actor` says which; in both logs).
    AuthorityRevoked,
    /// A delegation's scopes or end dates were changed (in both logs).
    AuthorityChanged,
    /// An agency asked whether someone may act for the person (the agency API's authority
    /// check; the event's `agency` says which).
    AuthorityCheckedByAgency,
    /// The person signed the documents of a signing job (or a helper signed for them: the
    /// event's actor and authority say so).
    DocumentsSigned,
    /// The person declined to sign a signing job (or a helper declined for them).
    SigningDeclined,
}

impl AuditKind {
    /// Every kind, in the order they were added.
    pub const ALL: [AuditKind; 37] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::LoggedOut,
        AuditKind::SteppedUp,
        AuditKind::LoggedOutByProvider,
        AuditKind::ContactEmailCodeSent,
        AuditKind::ContactMobileCodeSent,
        AuditKind::ContactEmailChanged,
        AuditKind::ContactMobileChanged,
        AuditKind::ContactVerified,
        AuditKind::ContactVerificationLocked,
        AuditKind::ContactEmailRemoved,
        AuditKind::ContactMobileRemoved,
        AuditKind::ContactConfirmed,
        AuditKind::ContactReserved,
        AuditKind::ContactReservationWithdrawn,
        AuditKind::ContactMailboxChanged,
        AuditKind::ContactLanguageChanged,
        AuditKind::ContactLookedUpByAgency,
        AuditKind::PostDelivered,
        AuditKind::PostOpened,
        AuditKind::PostMoved,
        AuditKind::PostMarkedUnread,
        AuditKind::PostTrashed,
        AuditKind::PostRestored,
        AuditKind::PostFolderCreated,
        AuditKind::PostFolderRenamed,
        AuditKind::PostFolderDeleted,
        AuditKind::AuthorityGranted,
        AuditKind::AuthorityRequested,
        AuditKind::AuthorityApproved,
        AuditKind::AuthorityDeclined,
        AuditKind::AuthorityRevoked,
        AuditKind::AuthorityChanged,
        AuditKind::AuthorityCheckedByAgency,
        AuditKind::DocumentsSigned,
        AuditKind::SigningDeclined,
    ];

    /// Stable, machine-readable code: stored in the database and the key the UI translates.
    pub fn code(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login.succeeded",
            AuditKind::LoginFailed => "login.failed",
            AuditKind::LoggedOut => "login.logged_out",
            AuditKind::SteppedUp => "login.stepped_up",
            AuditKind::LoggedOutByProvider => "login.logged_out_by_provider",
            AuditKind::ContactEmailCodeSent => "contact.email_code_sent",
            AuditKind::ContactMobileCodeSent => "contact.mobile_code_sent",
            AuditKind::ContactEmailChanged => "contact.email_changed",
            AuditKind::ContactMobileChanged => "contact.mobile_changed",
            AuditKind::ContactVerified => "contact.verified",
            AuditKind::ContactVerificationLocked => "contact.verification_locked",
            AuditKind::ContactEmailRemoved => "contact.email_removed",
            AuditKind::ContactMobileRemoved => "contact.mobile_removed",
            AuditKind::ContactConfirmed => "contact.confirmed",
            AuditKind::ContactReserved => "contact.reserved",
            AuditKind::ContactReservationWithdrawn => "contact.reservation_withdrawn",
            AuditKind::ContactMailboxChanged => "contact.mailbox_changed",
            AuditKind::ContactLanguageChanged => "contact.language_changed",
            AuditKind::ContactLookedUpByAgency => "api.contact_lookup",
            AuditKind::PostDelivered => "post.delivered",
            AuditKind::PostOpened => "post.opened",
            AuditKind::PostMoved => "post.moved",
            AuditKind::PostMarkedUnread => "post.marked_unread",
            AuditKind::PostTrashed => "post.trashed",
            AuditKind::PostRestored => "post.restored",
            AuditKind::PostFolderCreated => "post.folder_created",
            AuditKind::PostFolderRenamed => "post.folder_renamed",
            AuditKind::PostFolderDeleted => "post.folder_deleted",
            AuditKind::AuthorityGranted => "authority.granted",
            AuditKind::AuthorityRequested => "authority.requested",
            AuditKind::AuthorityApproved => "authority.approved",
            AuditKind::AuthorityDeclined => "authority.declined",
            AuditKind::AuthorityRevoked => "authority.revoked",
            AuditKind::AuthorityChanged => "authority.changed",
            AuditKind::AuthorityCheckedByAgency => "api.authority_check",
            AuditKind::DocumentsSigned => "signing.signed",
            AuditKind::SigningDeclined => "signing.declined",
        }
    }

    /// The kind for a code from [`AuditKind::code`]; `None` for anything else.
    pub fn from_code(code: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// One entry in a person's activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The event's id: UUID version 7, so ids of events recorded later sort later.
    pub id: Uuid,
    /// Whose log this is in: the person whose account or data was touched.
    pub subject: PersonId,
    /// Who did it, when a person did (the subject themself, later a helper); `None` when the
    /// system or the eID provider did.
    pub actor: Option<PersonId>,
    /// The agency whose system did it (through the agency API), if one did.
    pub agency: Option<AgencyId>,
    /// What happened.
    pub kind: AuditKind,
    /// The level of assurance of the login involved, if any.
    pub loa: Option<Loa>,
    /// The eID provider involved, if any (the portal's configured name, e.g. `idporten`).
    pub provider: Option<String>,
    /// When it happened (UTC, whole microseconds).
    pub at: OffsetDateTime,
    /// The authority a helper acted under, when a helper (not the subject) did it.
    pub acted_under: Option<ActedUnder>,
    /// What it was about, as the person knows it and as it was then: a letter's non-sensitive
    /// title, a folder's name, a signing job's non-sensitive title. Never sensitive; `None` for
    /// what concerns the account itself (logins, contact data).
    pub about: Option<String>,
}

/// The authority a helper acted under, as the subject's activity log keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActedUnder {
    /// A delegation from the subject.
    Delegation(crate::delegation::DelegationId),
    /// Guardianship of the subject, a minor.
    Guardian,
}

impl ActedUnder {
    /// What a proof's basis was, for someone else's data; `None` for one's own.
    pub fn of(basis: crate::access::Basis) -> Option<ActedUnder> {
        match basis {
            crate::access::Basis::Delegation { delegation, .. } => {
                Some(ActedUnder::Delegation(delegation))
            }
            crate::access::Basis::Guardian { .. } => Some(ActedUnder::Guardian),
            _ => None,
        }
    }

    /// The stored code: `delegation` or `guardian`.
    pub fn code(self) -> &'static str {
        match self {
            ActedUnder::Delegation(_) => "delegation",
            ActedUnder::Guardian => "guardian",
        }
    }
}

/// What the caller knows of an event; the log adds the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    /// Whose log it goes in.
    pub subject: PersonId,
    /// Who did it, if a person.
    pub actor: Option<PersonId>,
    /// Which agency did it, if one did.
    pub agency: Option<AgencyId>,
    /// What happened.
    pub kind: AuditKind,
    /// The level of assurance involved, if any.
    pub loa: Option<Loa>,
    /// The eID provider involved, if any.
    pub provider: Option<String>,
    /// When it happened: [`NewAuditEvent::new`] sets the current time. Set by the server,
    /// never from a client's or a token's claim, so the log shows when the portal saw it.
    pub at: OffsetDateTime,
}

impl NewAuditEvent {
    /// An event happening now, with no actor, level or provider (add those with the setters).
    pub fn new(subject: PersonId, kind: AuditKind) -> NewAuditEvent {
        NewAuditEvent {
            subject,
            actor: None,
            agency: None,
            kind,
            loa: None,
            provider: None,
            at: OffsetDateTime::now_utc(),
        }
    }

    /// Who did it.
    pub fn by(mut self, actor: PersonId) -> NewAuditEvent {
        self.actor = Some(actor);
        self
    }

    /// Which agency did it.
    pub fn by_agency(mut self, agency: AgencyId) -> NewAuditEvent {
        self.agency = Some(agency);
        self
    }

    /// At which level of assurance.
    pub fn at_loa(mut self, loa: Loa) -> NewAuditEvent {
        self.loa = Some(loa);
        self
    }

    /// Through which eID provider.
    pub fn via(mut self, provider: impl Into<String>) -> NewAuditEvent {
        self.provider = Some(provider.into());
        self
    }
}

/// Which of a log's events to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum EventFilter {
    /// Every event.
    #[default]
    All,
    /// Changes to the contact and reservation register (`contact.*`): the "history of my
    /// contact information".
    Contact,
}

impl EventFilter {
    /// The SQL `LIKE` pattern over kind codes.
    pub(crate) fn like_pattern(self) -> &'static str {
        match self {
            EventFilter::All => "%",
            EventFilter::Contact => "contact.%",
        }
    }
}

/// Where the next page of a log starts: just after (older than) the last event shown.
///
/// Opaque to clients: [`to_param`](AuditCursor::to_param) gives a short URL-safe text for a
/// `?before=` query parameter (the event's time and id, nothing personal), and
/// [`from_param`](AuditCursor::from_param) reads it back. A tampered cursor can only move the
/// page within the log it is used on: the query is always scoped to the proof's subject.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditCursor {
    pub(crate) at: OffsetDateTime,
    pub(crate) id: Uuid,
}

/// Bytes in a cursor: the time as microseconds since 1970 (8, big-endian) and the id (16).
const CURSOR_BYTES: usize = 24;
/// Characters in a cursor parameter: 24 bytes in base64url without padding.
const CURSOR_PARAM_LEN: usize = 32;

impl AuditCursor {
    /// The cursor that continues after `event`.
    pub fn after(event: &AuditEvent) -> AuditCursor {
        AuditCursor {
            at: event.at,
            id: event.id,
        }
    }

    /// The cursor as a query parameter value (URL-safe, 32 characters).
    pub fn to_param(&self) -> String {
        let micros = self.at.unix_timestamp_nanos() / 1_000;
        // Times within ±292 000 years fit; anything else was never stored.
        let micros = i64::try_from(micros).unwrap_or(i64::MAX);
        let mut bytes = [0_u8; CURSOR_BYTES];
        bytes[..8].copy_from_slice(&micros.to_be_bytes());
        bytes[8..].copy_from_slice(self.id.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a parameter from [`to_param`](AuditCursor::to_param); `None` for anything else.
    pub fn from_param(param: &str) -> Option<AuditCursor> {
        if param.len() != CURSOR_PARAM_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(param).ok()?;
        let bytes: [u8; CURSOR_BYTES] = bytes.try_into().ok()?;
        let (micros, id) = bytes.split_at(8);
        let micros = i64::from_be_bytes(micros.try_into().ok()?);
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()?;
        let id = Uuid::from_slice(id).ok()?;
        Some(AuditCursor { at, id })
    }
}

impl fmt::Debug for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditCursor")
            .field("at", &self.at)
            .field("id", &self.id)
            .finish()
    }
}

/// One page of a person's activity log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The events on this page.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next: Option<AuditCursor>,
    /// The names of the persons other than the subject who did something on this page (a
    /// helper, a guardian, the giver of a delegation in the holder's log).
    pub others: Vec<(PersonId, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn kind_codes_round_trip_and_are_unique() {
        let mut codes = std::collections::HashSet::new();
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::from_code(kind.code()), Some(kind));
            assert!(codes.insert(kind.code()));
        }
        assert_eq!(AuditKind::LoginSucceeded.code(), "login.succeeded");
        assert_eq!(AuditKind::from_code("login.SUCCEEDED"), None);
        assert_eq!(AuditKind::from_code(""), None);
    }

    #[test]
    fn cursor_round_trips_through_a_query_parameter() {
        let cursor = AuditCursor {
            at: datetime!(2025-03-01 12:04:05.000100 UTC),
            id: Uuid::now_v7(),
        };
        let param = cursor.to_param();
        assert_eq!(param.len(), 32);
        assert!(param
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(AuditCursor::from_param(&param), Some(cursor));

        let before_1970 = AuditCursor {
            at: datetime!(1969-12-31 23:59:59.999999 UTC),
            id: Uuid::nil(),
        };
        assert_eq!(
            AuditCursor::from_param(&before_1970.to_param()),
            Some(before_1970)
        );
    }

    #[test]
    fn malformed_cursors_are_refused() {
        let good = AuditCursor {
            at: OffsetDateTime::UNIX_EPOCH,
            id: Uuid::now_v7(),
        }
        .to_param();
        let too_long = format!("{good}A");
        let standard_alphabet = format!("{}+", &good[..31]);
        // i64::MAX microseconds is far past what `time` can hold.
        let far_future = URL_SAFE_NO_PAD.encode([
            0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0,
        ]);
        for bad in [
            "",
            &good[..31],
            too_long.as_str(),
            standard_alphabet.as_str(),
            far_future.as_str(),
            "not a cursor at all, not at all",
        ] {
            assert_eq!(AuditCursor::from_param(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn builder_sets_the_optional_fields() {
        let subject = PersonId::new();
        let event = NewAuditEvent::new(subject, AuditKind::SteppedUp)
            .by(subject)
            .at_loa(Loa::High)
            .via("idporten");
        assert_eq!(event.actor, Some(subject));
        assert_eq!(event.loa, Some(Loa::High));
        assert_eq!(event.provider.as_deref(), Some("idporten"));
    }
}
