//! From a verified id_token to a member of staff, or a refusal with its reason.
//!
//! The server has already checked the token as for any login (signature, issuer, audience,
//! expiry, nonce, PKCE, the callback's `iss`); what is left is the municipality's own rules,
//! which differ per identity provider: OS2faktor sends `loa` "3" for a login with a second
//! factor, Entra ID puts `mfa` into `amr`; roles come as a claim holding one value or a list.

use serde_json::{Map, Value};

use super::member::{MunicipalityId, StaffMember, StaffRole};

/// One claim and the values of it that count. A claim may hold a string, a number, a boolean,
/// or a list of those: it matches when any of its values is one of `accepted` (compared as
/// text, so OS2faktor's `"3"` and a provider's `3` alike).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimValues {
    pub claim: String,
    pub accepted: Vec<String>,
}

impl ClaimValues {
    fn matches(&self, claims: &Map<String, Value>) -> bool {
        claim_values(claims, &self.claim)
            .iter()
            .any(|value| self.accepted.iter().any(|accepted| accepted == value))
    }
}

/// A municipality's rules for its staff's logins (`[[staff.municipality]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffLoginRules {
    pub municipality: MunicipalityId,
    /// The level of assurance the login must have reached (e.g. `loa` in `["3"]`, or `amr`
    /// containing `mfa`).
    pub level: ClaimValues,
    /// What makes someone a caseworker (e.g. `roles` containing `borgerservice`).
    pub caseworker: ClaimValues,
    /// What makes someone a supervisor (e.g. `roles` containing `borgerservice-leder`).
    pub supervisor: ClaimValues,
}

/// Why a staff login was refused. Each has a stable code (`as_code`): the page's reason and
/// the staff log's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StaffRefusal {
    /// The login came back for a municipality the portal does not know (any more).
    #[error("the municipality is not configured")]
    UnknownMunicipality,
    /// The login did not reach the level the municipality requires (no second factor).
    #[error("the login's level of assurance is missing or too low")]
    LevelTooLow,
    /// The person has neither the caseworker nor the supervisor role.
    #[error("the person holds no borgerservice role")]
    NoStaffRole,
    /// The token names no subject (`sub`), so there is no one to log in.
    #[error("the id_token names no subject")]
    NoSubject,
}

impl StaffRefusal {
    pub fn as_code(self) -> &'static str {
        match self {
            StaffRefusal::UnknownMunicipality => "unknown_municipality",
            StaffRefusal::LevelTooLow => "level",
            StaffRefusal::NoStaffRole => "no_role",
            StaffRefusal::NoSubject => "failed",
        }
    }
}

/// The decision: the member of staff a verified token's `claims` make under `rules` (`None`:
/// the municipality the login was started for is not configured), or why not. Pure.
///
/// The level is checked before the role, so a person who has a role but logged in without a
/// second factor is told to use one (and not that they lack a role). The supervisor role wins
/// over the caseworker role when a person holds both.
pub fn decide_login(
    rules: Option<&StaffLoginRules>,
    claims: &Map<String, Value>,
) -> Result<StaffMember, StaffRefusal> {
    let rules = rules.ok_or(StaffRefusal::UnknownMunicipality)?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(StaffRefusal::NoSubject)?;
    if !rules.level.matches(claims) {
        return Err(StaffRefusal::LevelTooLow);
    }
    let role = if rules.supervisor.matches(claims) {
        StaffRole::Supervisor
    } else if rules.caseworker.matches(claims) {
        StaffRole::Caseworker
    } else {
        return Err(StaffRefusal::NoStaffRole);
    };
    Ok(StaffMember {
        municipality: rules.municipality.clone(),
        subject: subject.to_owned(),
        name: display_name(claims).unwrap_or_else(|| subject.to_owned()),
        role,
    })
}

/// `name`, else `given_name family_name`, trimmed; `None` when the token has neither.
fn display_name(claims: &Map<String, Value>) -> Option<String> {
    let text = |key: &str| {
        claims
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if let Some(name) = text("name") {
        return Some(name.to_owned());
    }
    let parts: Vec<&str> = [text("given_name"), text("family_name")]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// A claim's values as text: a string, number or boolean is one value; a list gives each of its
/// scalar members; anything else (absent, null, an object) none.
fn claim_values(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    fn scalar(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match claims.get(claim) {
        Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
        Some(value) => scalar(value).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(claim: &str, accepted: &[&str]) -> ClaimValues {
        ClaimValues {
            claim: claim.to_owned(),
            accepted: accepted.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// OS2faktor: `loa` "3" with a second factor, roles in `roles`.
    fn os2faktor() -> StaffLoginRules {
        StaffLoginRules {
            municipality: MunicipalityId::parse("aarhus").unwrap(),
            level: values("loa", &["3"]),
            caseworker: values("roles", &["borgerservice"]),
            supervisor: values("roles", &["borgerservice-leder"]),
        }
    }

    /// Entra ID: `amr` containing `mfa`, app roles in `roles`.
    fn entra() -> StaffLoginRules {
        StaffLoginRules {
            municipality: MunicipalityId::parse("oslo").unwrap(),
            level: values("amr", &["mfa"]),
            caseworker: values("roles", &["Borgerservice.Saksbehandler"]),
            supervisor: values("roles", &["Borgerservice.Leder"]),
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn an_os2faktor_caseworker_with_a_second_factor_is_admitted() {
        let member = decide_login(
            Some(&os2faktor()),
            &claims(json!({
                "sub": "os2-1", "name": "Mette Sagsbehandler", "loa": "3",
                "roles": ["borgerservice", "other"]
            })),
        )
        .unwrap();
        assert_eq!(member.role, StaffRole::Caseworker);
        assert_eq!(member.municipality.as_str(), "aarhus");
        assert_eq!(member.name, "Mette Sagsbehandler");
        assert_eq!(member.subject, "os2-1");
    }

    #[test]
    fn the_level_may_come_as_a_number_and_a_role_as_one_string() {
        let member = decide_login(
            Some(&os2faktor()),
            &claims(json!({"sub": "s", "loa": 3, "roles": "borgerservice-leder",
                           "given_name": "Lise", "family_name": "Leder"})),
        )
        .unwrap();
        assert_eq!(member.role, StaffRole::Supervisor);
        assert_eq!(member.name, "Lise Leder");
    }

    #[test]
    fn entra_needs_mfa_in_amr() {
        let with_mfa = claims(
            json!({"sub": "e", "amr": ["pwd", "mfa"], "roles": ["Borgerservice.Saksbehandler"]}),
        );
        assert_eq!(
            decide_login(Some(&entra()), &with_mfa).unwrap().role,
            StaffRole::Caseworker
        );
        let password_only =
            claims(json!({"sub": "e", "amr": ["pwd"], "roles": ["Borgerservice.Saksbehandler"]}));
        assert_eq!(
            decide_login(Some(&entra()), &password_only),
            Err(StaffRefusal::LevelTooLow)
        );
    }

    #[test]
    fn a_low_or_missing_level_is_refused_before_the_role_is_looked_at() {
        for level in [
            json!("2"),
            json!(2),
            json!(null),
            json!(["2"]),
            json!({"v": "3"}),
        ] {
            let token = claims(json!({"sub": "s", "loa": level, "roles": ["borgerservice"]}));
            assert_eq!(
                decide_login(Some(&os2faktor()), &token),
                Err(StaffRefusal::LevelTooLow),
                "{level}"
            );
        }
        let no_level_no_role = claims(json!({"sub": "s"}));
        assert_eq!(
            decide_login(Some(&os2faktor()), &no_level_no_role),
            Err(StaffRefusal::LevelTooLow)
        );
    }

    #[test]
    fn no_staff_role_is_refused() {
        for roles in [
            json!([]),
            json!(["other"]),
            json!("BORGERSERVICE"),
            json!(null),
        ] {
            let token = claims(json!({"sub": "s", "loa": "3", "roles": roles}));
            assert_eq!(
                decide_login(Some(&os2faktor()), &token),
                Err(StaffRefusal::NoStaffRole),
                "{roles}"
            );
        }
        // A role of another municipality's provider names nothing here.
        let token = claims(json!({"sub": "s", "loa": "3", "roles": ["Borgerservice.Leder"]}));
        assert_eq!(
            decide_login(Some(&os2faktor()), &token),
            Err(StaffRefusal::NoStaffRole)
        );
    }

    #[test]
    fn an_unknown_municipality_or_a_token_without_subject_is_refused() {
        let token = claims(json!({"sub": "s", "loa": "3", "roles": ["borgerservice"]}));
        assert_eq!(
            decide_login(None, &token),
            Err(StaffRefusal::UnknownMunicipality)
        );
        let no_sub = claims(json!({"sub": " ", "loa": "3", "roles": ["borgerservice"]}));
        assert_eq!(
            decide_login(Some(&os2faktor()), &no_sub),
            Err(StaffRefusal::NoSubject)
        );
    }

    #[test]
    fn without_a_name_the_subject_names_the_person() {
        let token = claims(json!({"sub": "s-9", "loa": "3", "roles": ["borgerservice"]}));
        assert_eq!(
            decide_login(Some(&os2faktor()), &token).unwrap().name,
            "s-9"
        );
    }

    #[test]
    fn refusals_have_stable_codes() {
        assert_eq!(StaffRefusal::LevelTooLow.as_code(), "level");
        assert_eq!(StaffRefusal::NoStaffRole.as_code(), "no_role");
        assert_eq!(
            StaffRefusal::UnknownMunicipality.as_code(),
            "unknown_municipality"
        );
    }
}
