//! Borgerportal's domain: what the portal knows about citizens, independent of HTTP and HTML.
//!
//! - [`agency`]: agencies ([`AgencyId`]) that call the agency API, and what a contact look-up
//!   gives them ([`ContactLookup`]).
//! - [`identity`]: national identity numbers (Norwegian fødselsnummer and D-nummer, Danish
//!   CPR), validated on the way in and treated as secrets on the way out.
//! - [`person`]: the person register's model, keyed by the portal's own [`PersonId`].
//! - [`access`]: levels of assurance ([`Loa`]), actors, capabilities, and the access
//!   [`Policy`] whose proof ([`Access`]) every operation on a person's data takes; agencies get
//!   their own proofs ([`AgencyAccess`]).
//! - [`delegation`]: authority to act for others: [`Delegation`]s with [`Scope`]s and end
//!   dates, their rules, and [`Guardianship`] of minors from the population register; the
//!   access policy decides over them ([`Policy::decide`]).
//! - [`session`]: server-side login state: [`Session`]s named by a [`SessionToken`] (only its
//!   hash is stored), pending logins ([`LoginState`]).
//! - [`audit`]: each person's activity log ([`AuditEvent`]).
//! - [`contact`]: the contact and reservation register's model ([`ContactInfo`]): validated
//!   [`EmailAddress`] and [`MobileNumber`], verification codes, the notification rules.
//! - [`outbox`]: notifications queued durably ([`NewNotification`]) and handed to workers
//!   ([`ClaimedNotification`]) with retries ([`RetryPolicy`]).
//! - [`post`]: digital post: letters ([`NewLetter`]) checked and sanitized at delivery,
//!   receipts for agencies, the print queue, the mailbox's folders, trash and search.
//! - [`signing`]: documents agencies send for signing ([`NewSigningJob`]), who may sign when
//!   ([`signing::progress`]), and the status changes agencies poll ([`SigningEvent`]).
//! - [`staff`]: borgerservice staff: who they are ([`staff::StaffMember`]), the decision from a
//!   municipal provider's id_token to a member of staff, their policy and sessions.
//! - [`notify`]: SMS quiet hours ([`next_allowed_sms_time`]).
//! - [`storage`]: one storage interface (the person register, the session register,
//!   the pending logins, the activity log, the contact register, the outbox, the agency token ids)
//!   over one
//!   [`Database`] handle, with two implementations: SQLite (embedded default) and PostgreSQL
//!   (production).
//! - `demo` (with the `dev` feature only): synthetic demo persons for development and the
//!   built-in test eID.
//!
//! Server-side only: the UI crate uses this behind its `ssr` feature, never in WASM.

/// A typed id around a UUID (version 7 when new): `LetterId`, `SigningJobId`, …
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID version 7).
            pub fn new() -> $name {
                $name(::uuid::Uuid::now_v7())
            }

            /// Wraps an id read from storage or a URL.
            pub fn from_uuid(id: ::uuid::Uuid) -> $name {
                $name(id)
            }

            /// The UUID inside.
            pub fn as_uuid(&self) -> ::uuid::Uuid {
                self.0
            }

            /// The id as text, hyphenated (as `Display` writes it, without the formatting
            /// machinery: a mailbox page writes twenty).
            pub fn to_text(&self) -> String {
                self.0
                    .hyphenated()
                    .encode_lower(&mut ::uuid::Uuid::encode_buffer())
                    .to_owned()
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map($name)
            }
        }
    };
}

pub mod access;
pub mod agency;
pub mod audit;
pub mod clock;
pub mod contact;
pub mod delegation;
#[cfg(feature = "dev")]
pub mod demo;
pub mod error;
pub mod identity;
pub mod notify;
pub mod outbox;
pub mod person;
pub mod post;
pub mod session;
pub mod signing;
pub mod staff;
pub mod storage;
pub mod text;

pub use access::{
    Access, Actor, AgencyAccess, AgencyCapability, AgencyGrants, AuthorityAnswer, AuthorityFact,
    AuthorityQuestion, Basis, Capability, CheckAuthority, CheckBasis, DelegationFact, DeliverPost,
    Denied, GrantAuthority, Loa, LookupContact, ManageAuthority, ManageContact, ManagePost, Policy,
    PrintPost, ReadContact, ReadOwnActivity, ReadPost, ReadSensitivePost, SendForSigning,
    SignDocuments, MAX_AUTHORITY_CHECKS,
};
pub use agency::{AgencyId, ContactLookup, InvalidAgencyId, MAX_LOOKUP_BATCH};
pub use audit::{AuditCursor, AuditEvent, AuditKind, AuditPage, EventFilter, NewAuditEvent};
pub use contact::{
    CodeSent, ContactError, ContactInfo, ContactInputError, ContactMethod, ContactStatus,
    ContactValue, EmailAddress, Mailbox, MobileNumber, PendingChange, VerificationCode,
    VerifyOutcome, DEFAULT_STALENESS,
};
pub use delegation::{
    ActFor, ActForBasis, Delegation, DelegationEntry, DelegationError, DelegationId,
    DelegationRules, Guardianship, Origin, Scope, ScopeGrant, ServiceScope, ServiceScopeId, State,
    StoredState,
};
#[cfg(feature = "dev")]
pub use demo::{demo_persons, seed_demo_data};
pub use identity::{Country, IdentityError, NationalId, NationalIdKind};
pub use notify::{is_sms_allowed_at, next_allowed_sms_time, NordicTimeZone};
pub use outbox::{
    Address, Channel, ClaimedNotification, EnqueueOutcome, FailedAttempt, NewNotification,
    NotificationError, NotificationId, NotificationRecord, NotificationStatus, RetryPolicy,
    Template,
};
pub use person::{Language, NewPerson, Person, PersonId};
#[cfg(feature = "dev")]
pub use post::demo::seed_demo_post;
pub use post::{
    Attachment, AttachmentInfo, BodyKind, DeliveryReceipt, DeliveryStatus, Folder, FolderId,
    FolderRef, ForwardJob, ForwardOutcome, Letter, LetterCursor, LetterId, LetterPage,
    LetterStatus, LetterSummary, LetterView, MailboxView, MessageId, NewAttachment, NewLetter,
    NotificationRequest, NotificationWish, PostError, PrintJob, Receipt, ReceiptCursor,
    ReceiptKind, ReceiptPage, MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES, MAX_TOTAL_ATTACHMENT_BYTES,
    TRASH_RETENTION,
};
pub use session::{
    CompletedLogin, LoginRecord, LoginState, NewLoginState, NewSession, Session, SessionToken,
};
pub use signing::{
    AgencyJobId, JobState, NewSigner, NewSigningDocument, NewSigningJob, OnBehalfOf, SignerId,
    SignerNaming, SignerStatus, SignerView, SigningCursor, SigningError, SigningEvent,
    SigningEventPage, SigningJobId, SigningJobStatus, SigningNotifications,
};
pub use storage::{
    Backend, Conflict, Database, DatabaseCause, GroupCommitStats, GuardianImport, PersonPage,
    ReminderRun, StoreError, MAX_AUDIT_PAGE_SIZE, MAX_CLAIM_BATCH, MAX_PAGE_SIZE,
};
#[cfg(feature = "dev")]
pub use storage::{GenerateError, GeneratePlan, GenerateReport, NamedPerson};
