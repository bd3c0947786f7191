//! Levels of assurance: what the portal accepts from ID-porten and NSIS (MitID) and asks them for.

use std::fmt;

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
