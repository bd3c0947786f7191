//! `[staff]`: borgerservice staff's sessions and the municipalities whose staff log in, each
//! through its own OpenID Connect provider with its own rules.

use serde::{Deserialize, Serialize};
use std::fmt;

use borgerportal::staff::{ClaimValues, MunicipalityId, StaffLoginRules};

use super::{ClaimProfile, ClientAuth, ProviderConfig};

/// Staff sessions and the municipalities.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    /// Logged out after this many minutes without a request (a desk PC left alone).
    #[serde(default = "default_idle")]
    pub idle_timeout_minutes: u32,
    /// Logged out this many hours after login, however active (a working day).
    #[serde(default = "default_lifetime")]
    pub absolute_lifetime_hours: u32,
    /// The municipalities whose staff log in, in the order `/staff` lists them.
    #[serde(default, skip_serializing)]
    pub municipality: Vec<MunicipalityConfig>,
}

fn default_idle() -> u32 {
    15
}

fn default_lifetime() -> u32 {
    10
}

impl Default for StaffConfig {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: default_idle(),
            absolute_lifetime_hours: default_lifetime(),
            municipality: Vec::new(),
        }
    }
}

/// One municipality and its staff's identity provider.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityConfig {
    /// Short stable id used in URLs (`/staff/login/{id}`): a-z, 0-9, inner hyphens.
    pub id: String,
    /// The name staff see, e.g. `Oslo kommune`.
    pub name: String,
    /// The provider's issuer; discovery is read from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_auth: ClientAuth,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Sent as `acr_values` when set (some providers pick the second factor by it).
    #[serde(default)]
    pub acr_values: Option<String>,
    /// The claim that carries the level of assurance (`loa` for OS2faktor, `amr` for Entra ID).
    pub level_claim: String,
    /// The values of it that are enough (`["3"]`; `["mfa"]`).
    pub level_values: Vec<String>,
    /// The claim that carries the person's roles or groups (e.g. `roles`).
    pub role_claim: String,
    /// Values that make someone a caseworker.
    pub caseworker_values: Vec<String>,
    /// Values that make someone a supervisor.
    pub supervisor_values: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned(), "profile".to_owned()]
}

impl fmt::Debug for MunicipalityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MunicipalityConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("level_claim", &self.level_claim)
            .field("role_claim", &self.role_claim)
            .finish_non_exhaustive()
    }
}

impl MunicipalityConfig {
    /// The municipality's rules for the domain's decision (`staff::decide_login`).
    pub fn rules(&self) -> Result<StaffLoginRules, &'static str> {
        let municipality = MunicipalityId::parse(&self.id)
            .map_err(|_| "the id must be 1-64 of a-z, 0-9 and inner hyphens")?;
        let values = |claim: &str, accepted: &[String]| ClaimValues {
            claim: claim.to_owned(),
            accepted: accepted.to_vec(),
        };
        if self.level_claim.trim().is_empty() || self.level_values.is_empty() {
            return Err("level_claim and level_values are required");
        }
        if self.role_claim.trim().is_empty()
            || (self.caseworker_values.is_empty() && self.supervisor_values.is_empty())
        {
            return Err("role_claim and caseworker_values or supervisor_values are required");
        }
        Ok(StaffLoginRules {
            municipality,
            level: values(&self.level_claim, &self.level_values),
            caseworker: values(&self.role_claim, &self.caseworker_values),
            supervisor: values(&self.role_claim, &self.supervisor_values),
        })
    }

    /// The relying party's view of the provider (`auth::oidc::Provider`). The claim profile is
    /// never read for staff: their logins use the provider's generic start and verification.
    pub fn provider(&self) -> ProviderConfig {
        ProviderConfig {
            id: self.id.clone(),
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_auth: self.client_auth.clone(),
            scopes: self.scopes.clone(),
            profile: ClaimProfile::Idporten,
        }
    }
}

impl StaffConfig {
    /// Checks the timeouts and each municipality; the first problem found.
    pub fn check(&self) -> Result<(), (String, &'static str)> {
        if self.idle_timeout_minutes == 0 || self.absolute_lifetime_hours == 0 {
            return Err((String::new(), "the timeouts must be positive"));
        }
        let mut ids = std::collections::HashSet::new();
        for municipality in &self.municipality {
            let refuse = |why| Err((municipality.id.clone(), why));
            if let Err(why) = municipality.rules() {
                return refuse(why);
            }
            if !ids.insert(municipality.id.as_str()) {
                return refuse("the id is used twice");
            }
            if !(municipality.issuer.starts_with("https://")
                || municipality.issuer.starts_with("http://"))
            {
                return refuse("the issuer must be an http(s) URL");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};

    const OS2FAKTOR: &str = r#"
        [[staff.municipality]]
        id = "aarhus"
        name = "Aarhus Kommune"
        issuer = "https://os2faktor.aarhus.example"
        client_id = "borgerportal"
        client_auth = { method = "client_secret", secret = "staff-s3cret" }
        level_claim = "loa"
        level_values = ["3"]
        role_claim = "roles"
        caseworker_values = ["borgerservice"]
        supervisor_values = ["borgerservice-leder"]
    "#;

    #[test]
    fn staff_default_to_a_fifteen_minute_idle_timeout_and_no_municipality() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.staff.idle_timeout_minutes, 15);
        assert!(config.staff.absolute_lifetime_hours > 0);
        assert!(config.staff.municipality.is_empty());
    }

    #[test]
    fn a_municipality_is_read_and_its_secret_hidden() {
        let config = Config::from_toml(OS2FAKTOR).unwrap();
        let aarhus = &config.staff.municipality[0];
        let rules = aarhus.rules().unwrap();
        assert_eq!(rules.municipality.as_str(), "aarhus");
        assert_eq!(rules.level.claim, "loa");
        assert_eq!(aarhus.scopes, ["openid", "profile"]);
        assert!(!format!("{config:?}").contains("staff-s3cret"));
    }

    #[test]
    fn bad_municipalities_are_refused() {
        for (from, to) in [
            ("\"aarhus\"", "\"Aarhus!\""),
            ("level_values = [\"3\"]", "level_values = []"),
            ("role_claim = \"roles\"", "role_claim = \"\""),
            ("https://os2faktor", "ftp://os2faktor"),
        ] {
            let bad = OS2FAKTOR.replace(from, to);
            assert!(
                matches!(Config::from_toml(&bad), Err(ConfigError::Staff(..))),
                "{to}"
            );
        }
        let twice = format!("{OS2FAKTOR}\n{OS2FAKTOR}");
        assert!(matches!(
            Config::from_toml(&twice),
            Err(ConfigError::Staff(..))
        ));
        assert!(Config::from_toml("[staff]\nidle_timeout_minutes = 0").is_err());
    }
}
