//! Who may do what with whose data: levels of assurance, actors, capabilities and the access
//! policy.
//!
//! Every domain operation that touches a person's data takes an [`Access<C>`] as an argument:
//! proof that the policy allowed capability `C` on one subject's data. Its fields are private
//! and [`Policy::authorize`] is the only way to make one, so a call that skipped the policy
//! does not compile, and the operation scopes its query to [`Access::subject`] rather than to
//! an id taken from the request.
//!
//! ```
//! use borgerportal::{Actor, Denied, Loa, PersonId, Policy, ReadPost, ReadSensitivePost};
//!
//! let me = PersonId::new();
//! let actor = Actor::Citizen { person: me, loa: Loa::Substantial };
//!
//! // Own data at the level the capability asks for: allowed.
//! let access = Policy::authorize::<ReadPost>(&actor, me)?;
//! assert_eq!(access.subject(), me);
//!
//! // Own data, but the capability needs `high`: the page offers a step-up.
//! let denied = Policy::authorize::<ReadSensitivePost>(&actor, me).map(drop);
//! assert_eq!(denied, Err(Denied::NeedsStepUp { required: Loa::High }));
//!
//! // Someone else's data: no authority here (a helper's is decided by `Policy::decide`).
//! let denied = Policy::authorize::<ReadPost>(&actor, PersonId::new()).map(drop);
//! assert_eq!(denied, Err(Denied::NoAuthority));
//! # Ok::<(), Denied>(())
//! ```
//!
//! Outside this module an `Access` cannot be written down by hand:
//!
//! ```compile_fail
//! use borgerportal::{Access, Actor, Basis, Loa, PersonId, ReadPost};
//!
//! let someone_else = PersonId::new();
//! let actor = Actor::Citizen { person: PersonId::new(), loa: Loa::High };
//! // error[E0451]: fields of `Access` are private
//! let forged: Access<ReadPost> = Access {
//!     actor,
//!     subject: someone_else,
//!     basis: Basis::Own,
//!     capability: std::marker::PhantomData,
//! };
//! ```

mod agency;
mod authority;
pub(crate) mod check;
mod loa;

use std::fmt;
use std::marker::PhantomData;

use time::Date;

pub use agency::{
    AgencyAccess, AgencyCapability, AgencyGrants, CheckAuthority, DeliverPost, LookupContact,
    PrintPost, SendForSigning,
};
pub use authority::{acting_basis, AuthorityFact, DelegationFact};
pub use check::{AuthorityAnswer, AuthorityQuestion, CheckBasis, MAX_AUTHORITY_CHECKS};
pub use loa::Loa;

use crate::agency::AgencyId;
use crate::delegation::{DelegationId, Scope};
use crate::person::PersonId;

/// Who is making a request.
///
/// Citizens log in with eID; agencies (machines) call the agency API with a signed token;
/// staff (with a stated purpose) come later, which is why matching on this outside the crate
/// needs a `_` arm.
///
/// `Clone` but not `Copy`: a staff actor will carry its stated purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Actor {
    /// A person logged in with national eID, at the level the eID asserted for this session.
    Citizen {
        /// Who logged in.
        person: PersonId,
        /// The session's level of assurance (raised by a step-up).
        loa: Loa,
    },
    /// A public agency's system, authenticated by a token signed with the agency's registered
    /// key (the agency API). It acts for no person: it never gets an [`Access`] to a person's
    /// data, only the agency proofs ([`AgencyAccess`]) the policy grants it.
    Agency {
        /// Which registered agency.
        agency: AgencyId,
        /// What its configuration lets it do; [`Policy::authorize_agency`] checks it.
        grants: AgencyGrants,
    },
}

impl Actor {
    /// The level of assurance behind this actor's session; `None` for an agency (a machine
    /// has no eID login).
    pub fn loa(&self) -> Option<Loa> {
        match self {
            Actor::Citizen { loa, .. } => Some(*loa),
            Actor::Agency { .. } => None,
        }
    }
}

/// Something an actor may be allowed to do with a subject's data.
///
/// Implemented by uninhabited marker types (`enum ReadPost {}`): they exist only as type
/// parameters of [`Access`], so the capability is checked by the compiler at the call site.
pub trait Capability {
    /// Stable name, as in the design (`post.read`) and in audit and log lines.
    const NAME: &'static str;
    /// The lowest level of assurance at which the capability may be used: on one's own data,
    /// and by a helper (the helper's own login counts, never the giver's).
    const MIN_LOA: Loa;
    /// The scopes any one of which lets a helper (a delegation's holder, a guardian) use the
    /// capability for the giver; the first is the one to ask for when none is held. Empty:
    /// never for someone else (managing one's own authority cannot be delegated).
    const HELPER_SCOPES: &'static [Scope];
}

/// See one's own activity log (logins, look-ups, actions taken for one).
#[derive(Debug)]
pub enum ReadOwnActivity {}

impl Capability for ReadOwnActivity {
    const NAME: &'static str = "activity.read";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] = &[Scope::ReadActivity];
}

/// See one's contact information, reservation, mailbox and language (KRR), and the changes
/// waiting for a code.
#[derive(Debug)]
pub enum ReadContact {}

impl Capability for ReadContact {
    const NAME: &'static str = "contact.read";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] = &[Scope::ManageContact];
}

/// Change contact information and reservation (KRR).
#[derive(Debug)]
pub enum ManageContact {}

impl Capability for ManageContact {
    const NAME: &'static str = "contact.manage";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] = &[Scope::ManageContact];
}

/// Read digital post: the list, and letters that do not need `high`.
#[derive(Debug)]
pub enum ReadPost {}

impl Capability for ReadPost {
    const NAME: &'static str = "post.read";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] =
        &[Scope::ReadPost, Scope::ReadAllPost, Scope::ManagePost];
}

/// Read the content of letters marked as needing `high` (below it, only their non-sensitive
/// title is shown).
#[derive(Debug)]
pub enum ReadSensitivePost {}

impl Capability for ReadSensitivePost {
    const NAME: &'static str = "post.read_sensitive";
    const MIN_LOA: Loa = Loa::High;
    const HELPER_SCOPES: &'static [Scope] = &[Scope::ReadAllPost];
}

/// File, move, mark unread, delete and restore one's letters; make, rename and delete one's
/// own folders.
#[derive(Debug)]
pub enum ManagePost {}

impl Capability for ManagePost {
    const NAME: &'static str = "post.manage";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] = &[Scope::ManagePost];
}

/// See and manage the authority one has given and holds: grant (needs `high`, as extending
/// does), approve, decline and revoke delegations, ask for one. Only on one's own behalf: no
/// helper gets it ([`Capability::HELPER_SCOPES`] is empty).
#[derive(Debug)]
pub enum ManageAuthority {}

impl Capability for ManageAuthority {
    const NAME: &'static str = "authority.manage";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] = &[];
}

/// Give authority: grant a delegation, approve a request (choosing its end dates), change or
/// extend one. Needs `high`; never for a helper.
#[derive(Debug)]
pub enum GrantAuthority {}

impl Capability for GrantAuthority {
    const NAME: &'static str = "authority.grant";
    const MIN_LOA: Loa = Loa::High;
    const HELPER_SCOPES: &'static [Scope] = &[];
}

/// See the documents one is asked to sign, sign them and decline them. Listing needs only
/// `substantial`; each signature then needs a fresh login at the job's own level (checked by
/// the signing rules, not here). A helper needs the `documents.sign` scope, and the job must
/// allow signing for someone else; a guardian does not sign for a minor.
#[derive(Debug)]
pub enum SignDocuments {}

impl Capability for SignDocuments {
    const NAME: &'static str = "documents.sign";
    const MIN_LOA: Loa = Loa::Substantial;
    const HELPER_SCOPES: &'static [Scope] = &[Scope::SignDocuments];
}

/// Why an [`Access`] was granted: kept in the proof so that operations can audit what a
/// helper does, as opposed to the person themself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Basis {
    /// The actor is the subject: their own data.
    Own,
    /// The actor holds a delegation from the subject with a scope that allows the capability.
    Delegation {
        /// Which delegation.
        delegation: DelegationId,
        /// The last day the scope used is in force.
        ends_on: Date,
    },
    /// The actor is the subject's guardian (the subject is a minor).
    Guardian {
        /// The last day the guardianship is in force (the day before the 18th birthday).
        ends_on: Date,
    },
}

impl Basis {
    /// Whether the actor acts for someone else (a helper or guardian).
    pub fn is_for_someone_else(&self) -> bool {
        !matches!(self, Basis::Own)
    }
}

/// Proof that an actor may use capability `C` on one subject's data.
///
/// The fields are private and [`Policy::authorize`] and [`Policy::decide`] are the only
/// constructors, so holding one means the policy said yes. Operations take it by reference and scope their queries to
/// [`subject`](Access::subject). A proof is for one request: build it from the session each
/// time, so that a logout, a lowered level or a revoked delegation takes effect at once.
pub struct Access<C: Capability> {
    actor: Actor,
    subject: PersonId,
    basis: Basis,
    /// `fn() -> C`: the proof is `Send + Sync` and covariant whatever the marker type is.
    capability: PhantomData<fn() -> C>,
}

impl<C: Capability> Access<C> {
    /// Whose data this proof is for. Queries are scoped to this, never to an id from the
    /// request.
    pub fn subject(&self) -> PersonId {
        self.subject
    }

    /// Who was allowed.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// On what grounds.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The capability's name (`C::NAME`), for audit and log lines.
    pub fn capability(&self) -> &'static str {
        C::NAME
    }
}

/// By hand: a derived `Clone` would ask `C: Clone` of the uninhabited marker.
impl<C: Capability> Clone for Access<C> {
    fn clone(&self) -> Self {
        Access {
            actor: self.actor.clone(),
            subject: self.subject,
            basis: self.basis,
            capability: PhantomData,
        }
    }
}

impl<C: Capability> fmt::Debug for Access<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("capability", &C::NAME)
            .field("actor", &self.actor)
            .field("subject", &self.subject)
            .field("basis", &self.basis)
            .finish()
    }
}

/// Why the policy said no, so that the page can offer the right next step.
///
/// The `Display` text is for logs; the UI translates [`code`](Denied::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    /// The actor may do this, but the session's level of assurance is too low: send them to
    /// the eID for a step-up to `required` (`acr_values`, `prompt=login`) and back.
    #[error("a login at level of assurance {required} is needed")]
    NeedsStepUp {
        /// The level the capability needs.
        required: Loa,
    },
    /// The actor has no authority over the subject's data at all. A step-up would not help.
    #[error("no authority over this person's data")]
    NoAuthority,
    /// The actor holds authority from the subject (a delegation or guardianship in force), but
    /// no scope that allows this: the page says which is missing and offers to ask for it.
    #[error("the authority held does not include the scope {scope}")]
    MissingScope {
        /// The scope to ask for (the capability's first helper scope).
        scope: Scope,
    },
}

impl Denied {
    /// Stable, machine-readable code; the UI's translation files are keyed on it.
    pub fn code(self) -> &'static str {
        match self {
            Denied::NeedsStepUp { .. } => "access.needs_step_up",
            Denied::NoAuthority => "access.no_authority",
            Denied::MissingScope { .. } => "access.missing_scope",
        }
    }
}

/// The access policy: the one place that decides who may use which capability on whose data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy;

impl Policy {
    /// Whether `actor` may use capability `C` on `subject`'s data, and the proof if so.
    ///
    /// A citizen on their own data, at a level of assurance of at least `C::MIN_LOA`.
    /// Authority is checked before the level, so someone with no authority is never sent off
    /// to log in again for nothing. Someone else's data is [`Denied::NoAuthority`] here: a
    /// helper's authority is decided by [`Policy::decide`] over the facts read for the pair
    /// (`Database::decide_access` reads them and asks it).
    pub fn authorize<C: Capability>(actor: &Actor, subject: PersonId) -> Result<Access<C>, Denied> {
        let basis = match actor {
            Actor::Citizen { person, .. } if *person == subject => Basis::Own,
            Actor::Citizen { .. } | Actor::Agency { .. } => return Err(Denied::NoAuthority),
        };
        if actor.loa().is_none_or(|loa| loa < C::MIN_LOA) {
            return Err(Denied::NeedsStepUp {
                required: C::MIN_LOA,
            });
        }
        Ok(Access {
            actor: actor.clone(),
            subject,
            basis,
            capability: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citizen(person: PersonId, loa: Loa) -> Actor {
        Actor::Citizen { person, loa }
    }

    #[test]
    fn own_data_at_enough_loa_is_allowed() {
        let me = PersonId::new();
        for loa in Loa::ALL {
            let access = Policy::authorize::<ReadOwnActivity>(&citizen(me, loa), me).unwrap();
            assert_eq!(access.subject(), me);
            assert_eq!(access.actor(), &citizen(me, loa));
            assert_eq!(access.basis(), Basis::Own);
            assert_eq!(access.capability(), "activity.read");
            Policy::authorize::<ManageContact>(&citizen(me, loa), me).unwrap();
            Policy::authorize::<ReadPost>(&citizen(me, loa), me).unwrap();
        }
        let access = Policy::authorize::<ReadSensitivePost>(&citizen(me, Loa::High), me).unwrap();
        assert_eq!(access.subject(), me);
    }

    #[test]
    fn own_data_at_too_low_loa_needs_step_up() {
        let me = PersonId::new();
        let denied =
            Policy::authorize::<ReadSensitivePost>(&citizen(me, Loa::Substantial), me).unwrap_err();
        assert_eq!(
            denied,
            Denied::NeedsStepUp {
                required: Loa::High
            }
        );
        assert_eq!(denied.code(), "access.needs_step_up");
    }

    #[test]
    fn someone_elses_data_is_no_authority_at_any_loa() {
        let me = PersonId::new();
        let other = PersonId::new();
        for loa in Loa::ALL {
            let actor = citizen(me, loa);
            assert_eq!(
                Policy::authorize::<ReadOwnActivity>(&actor, other).unwrap_err(),
                Denied::NoAuthority
            );
            assert_eq!(
                Policy::authorize::<ManageContact>(&actor, other).unwrap_err(),
                Denied::NoAuthority
            );
            assert_eq!(
                Policy::authorize::<ReadPost>(&actor, other).unwrap_err(),
                Denied::NoAuthority
            );
            // Authority first: no step-up offered where it could not help.
            assert_eq!(
                Policy::authorize::<ReadSensitivePost>(&actor, other).unwrap_err(),
                Denied::NoAuthority
            );
        }
        assert_eq!(Denied::NoAuthority.code(), "access.no_authority");
    }

    #[test]
    fn capability_names_and_levels() {
        assert_eq!(ReadOwnActivity::NAME, "activity.read");
        assert_eq!(ReadOwnActivity::MIN_LOA, Loa::Substantial);
        assert_eq!(ManageContact::NAME, "contact.manage");
        assert_eq!(ManageContact::MIN_LOA, Loa::Substantial);
        assert_eq!(ReadPost::NAME, "post.read");
        assert_eq!(ReadPost::MIN_LOA, Loa::Substantial);
        assert_eq!(ReadSensitivePost::NAME, "post.read_sensitive");
        assert_eq!(ReadSensitivePost::MIN_LOA, Loa::High);
    }

    #[test]
    fn proof_is_send_sync_and_its_debug_names_the_capability() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Access<ReadPost>>();
        let me = PersonId::new();
        let access = Policy::authorize::<ReadPost>(&citizen(me, Loa::High), me).unwrap();
        let copy = access.clone();
        assert_eq!(copy.subject(), access.subject());
        let debug = format!("{access:?}");
        assert!(debug.contains("post.read"), "{debug}");
        assert!(debug.contains(&me.to_string()), "{debug}");
    }
}
