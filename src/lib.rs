//! Borgerportal's domain: what the portal knows about citizens, independent of HTTP and HTML.
//!
//! - [`identity`]: national identity numbers (Norwegian fødselsnummer and D-nummer, Danish
//!   CPR), validated on the way in and treated as secrets on the way out.
//! - [`person`]: the person register's model, keyed by the portal's own [`PersonId`].
//! - [`storage`]: one storage interface ([`PersonRegister`], ...) over one [`Database`] handle,
//!   with two implementations: SQLite (embedded default) and PostgreSQL (production).
//! - [`demo`]: synthetic demo persons for development and the built-in test eID.
//!
//! Server-side only: the UI crate uses this behind its `ssr` feature, never in WASM.

pub mod demo;
pub mod identity;
pub mod person;
pub mod storage;

pub use demo::{demo_persons, seed_demo_data};
pub use identity::{Country, IdentityError, NationalId, NationalIdKind};
pub use person::{Language, NewPerson, Person, PersonId};
pub use storage::{
    Backend, Conflict, Database, DatabaseCause, PersonPage, PersonRegister, StoreError,
    MAX_PAGE_SIZE,
};
