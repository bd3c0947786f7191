//! Borgerportal's domain: what the portal knows about citizens, independent of HTTP and HTML.
//!
//! - [`identity`]: national identity numbers (Norwegian fødselsnummer and D-nummer, Danish
//!   CPR), validated on the way in and treated as secrets on the way out.
//! - [`person`]: the person register's model, keyed by the portal's own [`PersonId`].
//! - [`access`]: levels of assurance ([`Loa`]), actors, capabilities, and the access
//!   [`Policy`] whose proof ([`Access`]) every operation on a person's data takes.
//! - [`session`]: server-side login state: [`Session`]s named by a [`SessionToken`] (only its
//!   hash is stored), pending logins ([`LoginState`]).
//! - [`audit`]: each person's activity log ([`AuditEvent`]).
//! - [`storage`]: one storage interface ([`PersonRegister`], [`SessionStore`],
//!   [`LoginStateStore`], [`AuditLog`]) over one [`Database`] handle, with two
//!   implementations: SQLite (embedded default) and PostgreSQL (production).
//! - [`demo`]: synthetic demo persons for development and the built-in test eID.
//!
//! Server-side only: the UI crate uses this behind its `ssr` feature, never in WASM.

pub mod access;
pub mod audit;
pub mod demo;
pub mod identity;
pub mod person;
pub mod session;
pub mod storage;

pub use access::{
    Access, Actor, Basis, Capability, Denied, Loa, ManageContact, Policy, ReadOwnActivity,
    ReadPost, ReadSensitivePost,
};
pub use audit::{AuditCursor, AuditEvent, AuditKind, AuditPage, NewAuditEvent};
pub use demo::{demo_persons, seed_demo_data};
pub use identity::{Country, IdentityError, NationalId, NationalIdKind};
pub use person::{Language, NewPerson, Person, PersonId};
pub use session::{LoginState, NewLoginState, NewSession, Session, SessionToken};
pub use storage::{
    AuditLog, Backend, Conflict, Database, DatabaseCause, LoginStateStore, PersonPage,
    PersonRegister, SessionStore, StoreError, MAX_AUDIT_PAGE_SIZE, MAX_PAGE_SIZE,
};
