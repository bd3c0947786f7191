//! Who a member of borgerservice staff is: their municipality, the subject their provider knows
//! them by, their name and their role.

use std::fmt;

/// A configured municipality's short, stable id (`[[staff.municipality]] id`, e.g. `oslo`): 1 to
/// 64 of `a-z`, `0-9` and inner hyphens, so it fits in a URL (`/staff/login/{id}`) unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityId(String);

/// A municipality id that is not 1 to 64 of `a-z`, `0-9` and inner hyphens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a municipality id is 1 to 64 of a-z, 0-9 and inner hyphens")]
pub struct InvalidMunicipalityId;

impl MunicipalityId {
    pub fn parse(value: &str) -> Result<MunicipalityId, InvalidMunicipalityId> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let ok = (1..=64).contains(&value.len())
            && value.chars().all(allowed)
            && !value.starts_with('-')
            && !value.ends_with('-');
        if ok {
            Ok(MunicipalityId(value.to_owned()))
        } else {
            Err(InvalidMunicipalityId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MunicipalityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a member of staff may do at the desk. A supervisor may do everything a caseworker may,
/// and sees their municipality's staff log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StaffRole {
    Caseworker,
    Supervisor,
}

impl StaffRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Caseworker => "caseworker",
            StaffRole::Supervisor => "supervisor",
        }
    }

    /// Reads a stored name back.
    pub fn from_str_name(name: &str) -> Option<StaffRole> {
        match name {
            "caseworker" => Some(StaffRole::Caseworker),
            "supervisor" => Some(StaffRole::Supervisor),
            _ => None,
        }
    }
}

/// A member of borgerservice staff, as their municipality's provider vouched for them at login.
///
/// `subject` is the provider's `sub` (stable per person at that provider); `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub municipality: MunicipalityId,
    pub subject: String,
    pub name: String,
    pub role: StaffRole,
}

impl fmt::Debug for StaffMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffMember")
            .field("municipality", &self.municipality)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipality_ids_are_url_safe() {
        for good in ["oslo", "aarhus", "nordre-land", "k0301"] {
            assert_eq!(MunicipalityId::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Oslo",
            "-oslo",
            "oslo-",
            "os lo",
            "oslo/x",
            "ø",
            &"a".repeat(65),
        ] {
            assert_eq!(
                MunicipalityId::parse(bad),
                Err(InvalidMunicipalityId),
                "{bad}"
            );
        }
    }

    #[test]
    fn roles_read_back_and_order_supervisor_above_caseworker() {
        for role in [StaffRole::Caseworker, StaffRole::Supervisor] {
            assert_eq!(StaffRole::from_str_name(role.as_str()), Some(role));
        }
        assert_eq!(StaffRole::from_str_name("admin"), None);
        assert!(StaffRole::Supervisor > StaffRole::Caseworker);
    }

    #[test]
    fn debug_leaves_out_the_subject_and_name() {
        let member = StaffMember {
            municipality: MunicipalityId::parse("oslo").unwrap(),
            subject: "sub-123456".to_owned(),
            name: "Kari Saksbehandler".to_owned(),
            role: StaffRole::Caseworker,
        };
        let printed = format!("{member:?}");
        assert!(
            !printed.contains("sub-123456") && !printed.contains("Kari"),
            "{printed}"
        );
        assert!(printed.contains("oslo") && printed.contains("Caseworker"));
    }
}
