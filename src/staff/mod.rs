//! Borgerservice staff: the portal's third kind of user, beside citizens and agencies.
//!
//! Staff at a municipal desk log in through their municipality's own OpenID Connect provider
//! (OS2faktor, Entra ID, Ansattporten …). This module owns what the portal decides about them,
//! as pure functions, with no storage and no HTTP:
//! - [`member`]: who a member of staff is ([`StaffMember`]: municipality, subject, name, role);
//! - [`login`]: from a verified id_token's claims to a [`StaffMember`] or a [`StaffRefusal`]
//!   with its reason ([`decide_login`]), by the municipality's [`StaffLoginRules`];
//! - [`access`]: what a member of staff may do ([`StaffPolicy`] makes the only
//!   [`StaffAccess`] proofs), always within their own municipality;
//! - [`session`]: staff sessions and pending staff logins, kept apart from citizens' (their own
//!   token type, [`StaffToken`], and their own tables).
//!
//! Staff never get an [`Actor`](crate::Actor): nothing that takes a citizen's `Access` can be
//! reached with a staff session.

pub mod access;
pub mod login;
pub mod member;
pub mod session;

pub use access::{
    ReadStaffLog, StaffAccess, StaffCapability, StaffDenied, StaffPolicy, ViewStaffDesk,
};
pub use login::{decide_login, ClaimValues, StaffLoginRules, StaffRefusal};
pub use member::{InvalidMunicipalityId, MunicipalityId, StaffMember, StaffRole};
pub use session::{
    CompletedStaffLogin, NewStaffLoginState, StaffAuditEvent, StaffAuditKind, StaffLoginState,
    StaffSession, StaffToken,
};
