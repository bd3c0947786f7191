//! What a member of staff may do: capabilities with the role they need, and the policy that
//! alone makes the proof ([`StaffAccess`]) every staff operation takes.
//!
//! Staff act within their own municipality only: a proof names it
//! ([`StaffAccess::municipality`]), and [`StaffPolicy::authorize_in`] refuses another's. The
//! proof cannot be written by hand outside this module:
//!
//! ```compile_fail
//! use borgerportal::staff::{StaffAccess, ViewStaffDesk};
//! // error[E0451]: fields of `StaffAccess` are private
//! let forged: StaffAccess<ViewStaffDesk> = StaffAccess {
//!     member: todo!(),
//!     capability: std::marker::PhantomData,
//! };
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::member::{MunicipalityId, StaffMember, StaffRole};

/// Something staff may do, and the least role it takes.
pub trait StaffCapability {
    const MIN_ROLE: StaffRole;
    /// A stable name, for logs.
    const NAME: &'static str;
}

/// The staff desk itself (`/staff`): who is logged in, their municipality and role.
#[derive(Debug)]
pub enum ViewStaffDesk {}

impl StaffCapability for ViewStaffDesk {
    const MIN_ROLE: StaffRole = StaffRole::Caseworker;
    const NAME: &'static str = "staff.desk";
}

/// The municipality's staff log (logins, and later every look-up): supervisors only.
#[derive(Debug)]
pub enum ReadStaffLog {}

impl StaffCapability for ReadStaffLog {
    const MIN_ROLE: StaffRole = StaffRole::Supervisor;
    const NAME: &'static str = "staff.log";
}

/// Why the policy refused a member of staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StaffDenied {
    /// The capability needs a higher role (a caseworker asking for a supervisor's).
    #[error("this needs the {} role", .required.as_str())]
    NeedsRole { required: StaffRole },
    /// The member of staff belongs to another municipality.
    #[error("staff act only within their own municipality")]
    OtherMunicipality,
}

/// Proof that the policy allowed capability `C` to this member of staff, within their
/// municipality.
pub struct StaffAccess<C: StaffCapability> {
    member: StaffMember,
    capability: PhantomData<fn() -> C>,
}

impl<C: StaffCapability> StaffAccess<C> {
    pub fn member(&self) -> &StaffMember {
        &self.member
    }

    /// The municipality every operation under this proof is scoped to.
    pub fn municipality(&self) -> &MunicipalityId {
        &self.member.municipality
    }
}

impl<C: StaffCapability> fmt::Debug for StaffAccess<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffAccess")
            .field("capability", &C::NAME)
            .field("member", &self.member)
            .finish()
    }
}

/// The staff access policy.
pub struct StaffPolicy;

impl StaffPolicy {
    /// `C` for `member` in their own municipality, if their role reaches `C::MIN_ROLE`.
    pub fn authorize<C: StaffCapability>(
        member: &StaffMember,
    ) -> Result<StaffAccess<C>, StaffDenied> {
        if member.role < C::MIN_ROLE {
            return Err(StaffDenied::NeedsRole {
                required: C::MIN_ROLE,
            });
        }
        Ok(StaffAccess {
            member: member.clone(),
            capability: PhantomData,
        })
    }

    /// As [`authorize`](StaffPolicy::authorize), for something that belongs to `municipality`
    /// (a booking, a log): refused for staff of any other.
    pub fn authorize_in<C: StaffCapability>(
        member: &StaffMember,
        municipality: &MunicipalityId,
    ) -> Result<StaffAccess<C>, StaffDenied> {
        if &member.municipality != municipality {
            return Err(StaffDenied::OtherMunicipality);
        }
        Self::authorize(member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(municipality: &str, role: StaffRole) -> StaffMember {
        StaffMember {
            municipality: MunicipalityId::parse(municipality).unwrap(),
            subject: "s".to_owned(),
            name: "N".to_owned(),
            role,
        }
    }

    #[test]
    fn every_role_has_the_desk_and_only_supervisors_the_log() {
        let caseworker = member("oslo", StaffRole::Caseworker);
        let supervisor = member("oslo", StaffRole::Supervisor);
        let desk = StaffPolicy::authorize::<ViewStaffDesk>(&caseworker).unwrap();
        assert_eq!(desk.municipality().as_str(), "oslo");
        assert!(StaffPolicy::authorize::<ViewStaffDesk>(&supervisor).is_ok());
        assert_eq!(
            StaffPolicy::authorize::<ReadStaffLog>(&caseworker).map(drop),
            Err(StaffDenied::NeedsRole {
                required: StaffRole::Supervisor
            })
        );
        assert!(StaffPolicy::authorize::<ReadStaffLog>(&supervisor).is_ok());
    }

    #[test]
    fn staff_of_another_municipality_are_refused() {
        let oslo = MunicipalityId::parse("oslo").unwrap();
        let aarhus_supervisor = member("aarhus", StaffRole::Supervisor);
        assert_eq!(
            StaffPolicy::authorize_in::<ReadStaffLog>(&aarhus_supervisor, &oslo).map(drop),
            Err(StaffDenied::OtherMunicipality)
        );
        let oslo_caseworker = member("oslo", StaffRole::Caseworker);
        assert!(StaffPolicy::authorize_in::<ViewStaffDesk>(&oslo_caseworker, &oslo).is_ok());
    }
}
