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
//! // Someone else's data: no authority (until delegations arrive).
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

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::agency::AgencyId;
use crate::person::PersonId;

/// ID-porten's `acr` for level of assurance substantial (MinID).
const IDPORTEN_SUBSTANTIAL: &str = "idporten-loa-substantial";
/// ID-porten's `acr` for level of assurance high (BankID, Buypass, Commfides).
const IDPORTEN_HIGH: &str = "idporten-loa-high";
/// ID-porten's values before the `idporten-loa-*` names; still sent by some older set-ups.
const IDPORTEN_LEGACY_SUBSTANTIAL: &str = "Level3";
const IDPORTEN_LEGACY_HIGH: &str = "Level4";
/// NSIS (Denmark: MitID through an OIDC broker) level names share this prefix.
const NSIS_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/";
/// NemLog-in's SAML attributes put a `loa/` segment before the level.
const NSIS_SAML_SEGMENT: &str = "loa/";

/// Level of assurance of a login: how sure the eID is that the person is who they say.
///
/// The portal knows two levels; `low` logins are refused at the door (the mapping functions
/// return `None` for them). Ordered: `Substantial < High`, so "enough" is `loa >= required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loa {
    /// eIDAS substantial: ID-porten MinID, MitID substantial.
    Substantial,
    /// eIDAS high: BankID, Buypass, Commfides, MitID high (chip or app with ID check).
    High,
}

impl Loa {
    /// Both levels, lowest first.
    pub const ALL: [Loa; 2] = [Loa::Substantial, Loa::High];

    /// `substantial` or `high`: as stored, as put in URLs (`?loa=high`) and as the translation
    /// keys name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Loa::Substantial => "substantial",
            Loa::High => "high",
        }
    }

    /// The level for a name from [`Loa::as_str`]; `None` for anything else (exact match: these
    /// names come from this code, not from people).
    pub fn from_str_name(name: &str) -> Option<Loa> {
        Loa::ALL.into_iter().find(|loa| loa.as_str() == name)
    }

    /// The level an ID-porten id_token's `acr` claim asserts.
    ///
    /// ID-porten tells clients to accept *any* value ending in `-high` as high (new high-level
    /// eIDs may come with their own names), and `idporten-loa-substantial` as substantial. The
    /// legacy `Level3`/`Level4` are mapped too. Anything else (`idporten-loa-low`, an unknown
    /// name, an empty claim) is `None`: not enough to log in.
    pub fn from_idporten_acr(acr: &str) -> Option<Loa> {
        match acr {
            IDPORTEN_SUBSTANTIAL | IDPORTEN_LEGACY_SUBSTANTIAL => Some(Loa::Substantial),
            IDPORTEN_LEGACY_HIGH => Some(Loa::High),
            high if high.len() > "-high".len() && high.ends_with("-high") => Some(Loa::High),
            _ => None,
        }
    }

    /// The level an NSIS claim (`loa`, or `ial`/`aal` from a MitID broker) asserts:
    /// `https://data.gov.dk/concept/core/nsis/Substantial` or `.../High`, also in NemLog-in's
    /// SAML form `.../nsis/loa/High`. `.../Low` and anything else are `None`.
    pub fn from_nsis(value: &str) -> Option<Loa> {
        let level = value.strip_prefix(NSIS_PREFIX)?;
        let level = level.strip_prefix(NSIS_SAML_SEGMENT).unwrap_or(level);
        match level {
            "Substantial" => Some(Loa::Substantial),
            "High" => Some(Loa::High),
            _ => None,
        }
    }

    /// The `acr_values` to ask ID-porten for this level (also for a step-up).
    pub fn idporten_acr_value(self) -> &'static str {
        match self {
            Loa::Substantial => IDPORTEN_SUBSTANTIAL,
            Loa::High => IDPORTEN_HIGH,
        }
    }

    /// The NSIS level URI to ask a MitID broker for this level (OIDC `acr_values`).
    pub fn nsis_value(self) -> &'static str {
        match self {
            Loa::Substantial => "https://data.gov.dk/concept/core/nsis/Substantial",
            Loa::High => "https://data.gov.dk/concept/core/nsis/High",
        }
    }
}

impl fmt::Display for Loa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The lowest level of assurance at which the capability may be used on one's own data.
    const MIN_LOA: Loa;
}

/// See one's own activity log (logins, look-ups, actions taken for one).
#[derive(Debug)]
pub enum ReadOwnActivity {}

impl Capability for ReadOwnActivity {
    const NAME: &'static str = "activity.read";
    const MIN_LOA: Loa = Loa::Substantial;
}

/// See one's contact information, reservation, mailbox and language (KRR), and the changes
/// waiting for a code.
#[derive(Debug)]
pub enum ReadContact {}

impl Capability for ReadContact {
    const NAME: &'static str = "contact.read";
    const MIN_LOA: Loa = Loa::Substantial;
}

/// Change contact information and reservation (KRR).
#[derive(Debug)]
pub enum ManageContact {}

impl Capability for ManageContact {
    const NAME: &'static str = "contact.manage";
    const MIN_LOA: Loa = Loa::Substantial;
}

/// Read digital post: the list, and letters that do not need `high`.
#[derive(Debug)]
pub enum ReadPost {}

impl Capability for ReadPost {
    const NAME: &'static str = "post.read";
    const MIN_LOA: Loa = Loa::Substantial;
}

/// Read the content of letters marked as needing `high` (below it, only their non-sensitive
/// title is shown).
#[derive(Debug)]
pub enum ReadSensitivePost {}

impl Capability for ReadSensitivePost {
    const NAME: &'static str = "post.read_sensitive";
    const MIN_LOA: Loa = Loa::High;
}

/// File, move, mark unread, delete and restore one's letters; make, rename and delete one's
/// own folders.
#[derive(Debug)]
pub enum ManagePost {}

impl Capability for ManagePost {
    const NAME: &'static str = "post.manage";
    const MIN_LOA: Loa = Loa::Substantial;
}

/// Why an [`Access`] was granted: kept in the proof so that operations can audit (and later,
/// narrow) what a helper or staff member does, as opposed to the person themself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Basis {
    /// The actor is the subject: their own data.
    Own,
}

/// Proof that an actor may use capability `C` on one subject's data.
///
/// The fields are private and [`Policy::authorize`] is the only constructor, so holding one
/// means the policy said yes. Operations take it by reference and scope their queries to
/// [`subject`](Access::subject). A proof is for one request: build it from the session each
/// time, so that a logout, a lowered level or (later) a revoked delegation takes effect at once.
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
}

impl Denied {
    /// Stable, machine-readable code; the UI's translation files are keyed on it.
    pub fn code(self) -> &'static str {
        match self {
            Denied::NeedsStepUp { .. } => "access.needs_step_up",
            Denied::NoAuthority => "access.no_authority",
        }
    }
}

/// The access policy: the one place that decides who may use which capability on whose data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy;

impl Policy {
    /// Whether `actor` may use capability `C` on `subject`'s data, and the proof if so.
    ///
    /// Today: a citizen on their own data, at a level of assurance of at least `C::MIN_LOA`.
    /// Authority is checked before the level, so someone with no authority is never sent off
    /// to log in again for nothing. Delegations, guardianship and staff purposes come later;
    /// they will need a store to look in, and this becomes a method on a policy that holds one.
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

// ---------------------------------------------------------------------------------------------
// Agencies

/// Something a registered agency's system may be allowed to do through the agency API.
///
/// Unlike a [`Capability`], these are not scoped to one person: a look-up names up to a
/// thousand national ids at once. What keeps them narrow is the capability itself (it reads
/// only what the register publishes to agencies) and the audit event every use writes into
/// the log of each person it touched.
pub trait AgencyCapability {
    /// Stable name, as in audit and log lines.
    const NAME: &'static str;
    /// Its bit in [`AgencyGrants`].
    const GRANT: AgencyGrants;
}

/// The agency capabilities one agency is granted (a small set), from its configuration entry
/// (`capabilities = ["lookup_contact", "deliver_post", "print"]`). An agency's token proves who
/// it is; this says what it may do, so the print provider's queue is not open to every agency
/// and a print provider need not be able to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgencyGrants(u8);

impl AgencyGrants {
    /// Nothing.
    pub const NONE: AgencyGrants = AgencyGrants(0);
    /// [`LookupContact`].
    pub const LOOKUP_CONTACT: AgencyGrants = AgencyGrants(1);
    /// [`DeliverPost`].
    pub const DELIVER_POST: AgencyGrants = AgencyGrants(2);
    /// [`PrintPost`].
    pub const PRINT: AgencyGrants = AgencyGrants(4);
    /// What an agency entry gets when its configuration names none: look-up and delivery.
    pub const DEFAULT: AgencyGrants = AgencyGrants(1 | 2);

    /// The configuration names, with their grants.
    pub const NAMES: [(&'static str, AgencyGrants); 3] = [
        ("lookup_contact", AgencyGrants::LOOKUP_CONTACT),
        ("deliver_post", AgencyGrants::DELIVER_POST),
        ("print", AgencyGrants::PRINT),
    ];

    /// The grant for one configuration name; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<AgencyGrants> {
        AgencyGrants::NAMES
            .into_iter()
            .find(|(known, _)| *known == name)
            .map(|(_, grant)| grant)
    }

    /// Both sets together.
    #[must_use]
    pub const fn with(self, other: AgencyGrants) -> AgencyGrants {
        AgencyGrants(self.0 | other.0)
    }

    /// Whether every grant in `other` is in this set.
    pub const fn contains(self, other: AgencyGrants) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Look up persons' contact and reservation status (KRR's look-up for public agencies):
/// registered or not, reservation, e-mail and mobile with their timestamps, whether the person
/// may be notified, mailbox and language.
#[derive(Debug)]
pub enum LookupContact {}

impl AgencyCapability for LookupContact {
    const NAME: &'static str = "contact.lookup";
    const GRANT: AgencyGrants = AgencyGrants::LOOKUP_CONTACT;
}

/// Deliver digital post to citizens (mailbox, or paper for those who are reserved or not
/// registered) and poll the receipts of one's own letters.
#[derive(Debug)]
pub enum DeliverPost {}

impl AgencyCapability for DeliverPost {
    const NAME: &'static str = "post.deliver";
    const GRANT: AgencyGrants = AgencyGrants::DELIVER_POST;
}

/// The print provider: list the letters waiting to go on paper, fetch them, acknowledge them.
#[derive(Debug)]
pub enum PrintPost {}

impl AgencyCapability for PrintPost {
    const NAME: &'static str = "post.print";
    const GRANT: AgencyGrants = AgencyGrants::PRINT;
}

/// Proof that an agency may use agency capability `C`. As with [`Access`], the fields are
/// private and [`Policy::authorize_agency`] is the only constructor:
///
/// ```compile_fail
/// use borgerportal::{AgencyAccess, AgencyId, LookupContact};
///
/// // error[E0451]: fields of `AgencyAccess` are private
/// let forged: AgencyAccess<LookupContact> = AgencyAccess {
///     agency: AgencyId::parse("nav").unwrap(),
///     capability: std::marker::PhantomData,
/// };
/// ```
pub struct AgencyAccess<C: AgencyCapability> {
    agency: AgencyId,
    capability: PhantomData<fn() -> C>,
}

impl<C: AgencyCapability> AgencyAccess<C> {
    /// Which agency was allowed: the actor of the audit events its use writes.
    pub fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// The capability's name (`C::NAME`), for audit and log lines.
    pub fn capability(&self) -> &'static str {
        C::NAME
    }
}

impl<C: AgencyCapability> fmt::Debug for AgencyAccess<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgencyAccess")
            .field("capability", &C::NAME)
            .field("agency", &self.agency)
            .finish()
    }
}

impl Policy {
    /// Whether `actor` may use agency capability `C`, and the proof if so.
    ///
    /// An agency may use the capabilities its configuration grants it ([`AgencyGrants`]; by
    /// default the contact look-up and delivery, open to all public agencies as KRR is; the
    /// print queue only for an entry granted `print`). The server makes an [`Actor::Agency`]
    /// only after checking the agency's signed token against its configured key. An agency
    /// without the grant, and any citizen, is refused with [`Denied::NoAuthority`].
    pub fn authorize_agency<C: AgencyCapability>(actor: &Actor) -> Result<AgencyAccess<C>, Denied> {
        match actor {
            Actor::Agency { agency, grants } if grants.contains(C::GRANT) => Ok(AgencyAccess {
                agency: agency.clone(),
                capability: PhantomData,
            }),
            Actor::Agency { .. } | Actor::Citizen { .. } => Err(Denied::NoAuthority),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citizen(person: PersonId, loa: Loa) -> Actor {
        Actor::Citizen { person, loa }
    }

    #[test]
    fn loa_is_ordered_and_names_round_trip() {
        assert!(Loa::Substantial < Loa::High);
        assert_eq!(Loa::ALL.iter().max(), Some(&Loa::High));
        for loa in Loa::ALL {
            assert_eq!(Loa::from_str_name(loa.as_str()), Some(loa));
            assert_eq!(loa.to_string(), loa.as_str());
        }
        assert_eq!(Loa::from_str_name("High"), None);
        assert_eq!(Loa::from_str_name("low"), None);
        assert_eq!(Loa::from_str_name(""), None);
    }

    #[test]
    fn idporten_acr_maps_to_levels() {
        assert_eq!(
            Loa::from_idporten_acr("idporten-loa-substantial"),
            Some(Loa::Substantial)
        );
        assert_eq!(Loa::from_idporten_acr("idporten-loa-high"), Some(Loa::High));
        // Any value ending in `-high` is high, as ID-porten asks of its clients.
        assert_eq!(Loa::from_idporten_acr("eidas-loa-high"), Some(Loa::High));
        assert_eq!(Loa::from_idporten_acr("Level4"), Some(Loa::High));
        assert_eq!(Loa::from_idporten_acr("Level3"), Some(Loa::Substantial));
        for too_low_or_unknown in [
            "idporten-loa-low",
            "Level2",
            "-high",
            "high",
            "idporten-loa-HIGH",
            "idporten-loa-high ",
            "",
        ] {
            assert_eq!(
                Loa::from_idporten_acr(too_low_or_unknown),
                None,
                "{too_low_or_unknown:?}"
            );
        }
    }

    #[test]
    fn nsis_values_map_to_levels() {
        let base = "https://data.gov.dk/concept/core/nsis/";
        assert_eq!(
            Loa::from_nsis(&format!("{base}Substantial")),
            Some(Loa::Substantial)
        );
        assert_eq!(Loa::from_nsis(&format!("{base}High")), Some(Loa::High));
        assert_eq!(
            Loa::from_nsis(&format!("{base}loa/Substantial")),
            Some(Loa::Substantial)
        );
        assert_eq!(Loa::from_nsis(&format!("{base}loa/High")), Some(Loa::High));
        for too_low_or_unknown in [
            format!("{base}Low"),
            format!("{base}loa/Low"),
            format!("{base}high"),
            format!("{base}loa/loa/High"),
            format!("{base}ial/High/extra"),
            "http://data.gov.dk/concept/core/nsis/High".to_owned(),
            "High".to_owned(),
            String::new(),
        ] {
            assert_eq!(
                Loa::from_nsis(&too_low_or_unknown),
                None,
                "{too_low_or_unknown}"
            );
        }
    }

    #[test]
    fn asked_values_map_back_to_the_same_level() {
        for loa in Loa::ALL {
            assert_eq!(Loa::from_idporten_acr(loa.idporten_acr_value()), Some(loa));
            assert_eq!(Loa::from_nsis(loa.nsis_value()), Some(loa));
        }
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
    fn agencies_get_agency_proofs_and_nothing_else() {
        let agency = AgencyId::parse("nav").unwrap();
        let actor = Actor::Agency {
            agency: agency.clone(),
            grants: AgencyGrants::DEFAULT,
        };
        assert_eq!(actor.loa(), None);
        assert!(Policy::authorize_agency::<DeliverPost>(&actor).is_ok());
        // The print queue is for an agency granted `print` only, and grants are not implied.
        assert_eq!(
            Policy::authorize_agency::<PrintPost>(&actor).unwrap_err(),
            Denied::NoAuthority
        );
        let printer = Actor::Agency {
            agency: agency.clone(),
            grants: AgencyGrants::PRINT,
        };
        assert!(Policy::authorize_agency::<PrintPost>(&printer).is_ok());
        assert!(Policy::authorize_agency::<LookupContact>(&printer).is_err());
        assert_eq!(
            AgencyGrants::from_name("print").map(|g| g.with(AgencyGrants::DEFAULT)),
            Some(AgencyGrants(7))
        );
        assert_eq!(AgencyGrants::from_name("admin"), None);
        let access = Policy::authorize_agency::<LookupContact>(&actor).unwrap();
        assert_eq!(access.agency(), &agency);
        assert_eq!(access.capability(), "contact.lookup");
        assert!(format!("{access:?}").contains("contact.lookup"));
        // An agency has no authority over any one person's data through the citizen proofs.
        let someone = PersonId::new();
        assert_eq!(
            Policy::authorize::<ReadOwnActivity>(&actor, someone).unwrap_err(),
            Denied::NoAuthority
        );
        assert_eq!(
            Policy::authorize::<ReadContact>(&actor, someone).unwrap_err(),
            Denied::NoAuthority
        );
        // And a citizen gets no agency proof.
        let me = PersonId::new();
        assert_eq!(
            Policy::authorize_agency::<LookupContact>(&citizen(me, Loa::High)).unwrap_err(),
            Denied::NoAuthority
        );
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
