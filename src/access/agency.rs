//! Agencies' proofs: what a registered agency's system may do through the agency API.

use std::fmt;
use std::marker::PhantomData;

use super::{Actor, Denied, Policy};
use crate::agency::AgencyId;

// Agencies

/// Something a registered agency's system may be allowed to do through the agency API.
///
/// Unlike a [`Capability`](super::Capability), these are not scoped to one person: a look-up names up to a
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
    /// [`CheckAuthority`].
    pub const CHECK_AUTHORITY: AgencyGrants = AgencyGrants(8);
    /// [`SendForSigning`].
    pub const SIGNING: AgencyGrants = AgencyGrants(16);
    /// What an agency entry gets when its configuration names none: look-up and delivery.
    pub const DEFAULT: AgencyGrants = AgencyGrants(1 | 2);

    /// The configuration names, with their grants.
    pub const NAMES: [(&'static str, AgencyGrants); 5] = [
        ("lookup_contact", AgencyGrants::LOOKUP_CONTACT),
        ("deliver_post", AgencyGrants::DELIVER_POST),
        ("print", AgencyGrants::PRINT),
        ("check_authority", AgencyGrants::CHECK_AUTHORITY),
        ("signing", AgencyGrants::SIGNING),
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

/// Ask whether a person may act for another under a scope now (`POST
/// /api/v1/authority/check`): permit or deny, the basis (delegation or guardian) and its last
/// day. Not in the defaults: an agency entry must be granted `check_authority`. Every question
/// whose giver the register knows writes an event in the giver's activity log.
#[derive(Debug)]
pub enum CheckAuthority {}

impl AgencyCapability for CheckAuthority {
    const NAME: &'static str = "authority.check";
    const GRANT: AgencyGrants = AgencyGrants::CHECK_AUTHORITY;
}

/// Send documents for signing, follow the jobs' status changes, cancel a job, and fetch the
/// sealed documents of a completed one (`/api/v1/signing/…`). Not in the defaults: an agency
/// entry must be granted `signing`.
#[derive(Debug)]
pub enum SendForSigning {}

impl AgencyCapability for SendForSigning {
    const NAME: &'static str = "signing.send";
    const GRANT: AgencyGrants = AgencyGrants::SIGNING;
}

/// Proof that an agency may use agency capability `C`. As with [`Access`](super::Access), the fields are
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
    use crate::access::{Loa, ReadContact, ReadOwnActivity};
    use crate::person::PersonId;

    fn citizen(person: PersonId, loa: Loa) -> Actor {
        Actor::Citizen { person, loa }
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
        // Checking authority is granted by name only, never by default.
        assert!(Policy::authorize_agency::<CheckAuthority>(&actor).is_err());
        let checker = Actor::Agency {
            agency: agency.clone(),
            grants: AgencyGrants::from_name("check_authority").unwrap(),
        };
        assert!(Policy::authorize_agency::<CheckAuthority>(&checker).is_ok());
        // Signing too.
        assert!(Policy::authorize_agency::<SendForSigning>(&actor).is_err());
        let signing = Actor::Agency {
            agency: agency.clone(),
            grants: AgencyGrants::from_name("signing").unwrap(),
        };
        assert!(Policy::authorize_agency::<SendForSigning>(&signing).is_ok());
        assert!(Policy::authorize_agency::<DeliverPost>(&signing).is_err());
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
}
