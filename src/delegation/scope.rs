//! What a delegation lets its holder do: the portal's own scopes, and service scopes that
//! agencies define in configuration.

use std::fmt;

use time::Date;

/// Longest service scope id, in bytes.
pub const MAX_SERVICE_SCOPE_ID_LEN: usize = 48;

/// The prefix a service scope's code carries (`service:nav.dagpenger`), so that no service
/// scope can ever be read back as one of the portal's own.
const SERVICE_PREFIX: &str = "service:";

/// The id of a service scope an agency defines in configuration, e.g. `nav.dagpenger`: 1 to
/// 48 lower-case ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit.
///
/// Kept inline (no allocation), so that [`Scope`] and with it
/// [`Denied`](crate::access::Denied) stay `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceScopeId {
    len: u8,
    bytes: [u8; MAX_SERVICE_SCOPE_ID_LEN],
}

/// Why a text is not a service scope id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error(
    "a service scope id is 1 to 48 lower-case letters a-z, digits, '.', '_' and '-', \
     starting with a letter or digit"
)]
pub struct InvalidServiceScopeId;

impl ServiceScopeId {
    /// Checks an id from configuration or storage.
    pub fn parse(text: &str) -> Result<ServiceScopeId, InvalidServiceScopeId> {
        let valid = !text.is_empty()
            && text.len() <= MAX_SERVICE_SCOPE_ID_LEN
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && text
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid {
            return Err(InvalidServiceScopeId);
        }
        let mut bytes = [0; MAX_SERVICE_SCOPE_ID_LEN];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(ServiceScopeId {
            len: text.len() as u8,
            bytes,
        })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII was ever copied in (`parse`), so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Debug for ServiceScopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceScopeId({})", self.as_str())
    }
}

impl fmt::Display for ServiceScopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a delegation (or guardianship) lets its holder do for the giver.
///
/// The portal's own scopes map to its [`Capability`](crate::access::Capability)s (each
/// capability names the scopes that allow it to a helper, `Capability::HELPER_SCOPES`); a
/// service scope is one the portal does not act on itself but answers about to agencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read the giver's digital post: the list, and letters that do not need `high`.
    ReadPost,
    /// Read all of the giver's post, letters that need `high` included (the helper's own
    /// login must then be `high` too).
    ReadAllPost,
    /// Manage the giver's post: file, move, mark unread, trash and restore letters, and the
    /// folders. Includes reading the list and letters that do not need `high`: one cannot
    /// file what one cannot see.
    ManagePost,
    /// See and change the giver's contact information and reservation (KRR).
    ManageContact,
    /// Sign documents for the giver.
    SignDocuments,
    /// Read the giver's activity log.
    ReadActivity,
    /// A service scope an agency defined in configuration.
    Service(ServiceScopeId),
}

impl Scope {
    /// The portal's own scopes, in the order pages list them.
    pub const PORTAL: [Scope; 6] = [
        Scope::ReadPost,
        Scope::ReadAllPost,
        Scope::ManagePost,
        Scope::ManageContact,
        Scope::SignDocuments,
        Scope::ReadActivity,
    ];

    /// Stable code: stored in the database, and the key the UI translates
    /// (`service:<id>` for a service scope, whose names come from configuration).
    pub fn code(&self) -> std::borrow::Cow<'static, str> {
        let own = match self {
            Scope::ReadPost => "post.read",
            Scope::ReadAllPost => "post.read_all",
            Scope::ManagePost => "post.manage",
            Scope::ManageContact => "contact.manage",
            Scope::SignDocuments => "documents.sign",
            Scope::ReadActivity => "activity.read",
            Scope::Service(id) => return format!("{SERVICE_PREFIX}{id}").into(),
        };
        own.into()
    }

    /// The scope for a code from [`Scope::code`]; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Scope> {
        if let Some(id) = code.strip_prefix(SERVICE_PREFIX) {
            return ServiceScopeId::parse(id).ok().map(Scope::Service);
        }
        Scope::PORTAL.into_iter().find(|scope| scope.code() == code)
    }

    /// Whether this is a service scope (defined by an agency, not acted on by the portal).
    pub fn is_service(&self) -> bool {
        matches!(self, Scope::Service(_))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// What a guardian may do for a minor, without any delegation.
///
/// Chosen: reading the minor's post (not letters that need `high`), managing it, and managing
/// the minor's contact information and reservation. Letters that need `high` (health, child
/// welfare) are left out: Norwegian and Danish law give minors confidentiality in such matters
/// from an age below 18, and the sender marks such letters `high`. Signing, the activity log
/// and service scopes are not given either: an agency asks about a guardian through its own
/// rules, and the portal answers "guardian" as the basis.
pub const GUARDIAN_SCOPES: [Scope; 3] = [Scope::ReadPost, Scope::ManagePost, Scope::ManageContact];

/// A service scope as an agency defined it in configuration: its id and a name in each of the
/// portal's languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceScope {
    /// The id (the scope is stored as `service:<id>`).
    pub id: ServiceScopeId,
    /// Name in bokmål.
    pub name_nb: String,
    /// Name in nynorsk.
    pub name_nn: String,
    /// Name in Danish.
    pub name_da: String,
    /// Name in English.
    pub name_en: String,
}

impl ServiceScope {
    /// The name in `language`.
    pub fn name(&self, language: crate::person::Language) -> &str {
        use crate::person::Language;
        match language {
            Language::Nb => &self.name_nb,
            Language::Nn => &self.name_nn,
            Language::Da => &self.name_da,
            Language::En => &self.name_en,
        }
    }
}

/// One scope of a delegation with its own end date: the last day (inclusive, Nordic local
/// time: [`today`](super::today)) on which it may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeGrant {
    /// What it allows.
    pub scope: Scope,
    /// The last day it may be used.
    pub ends_on: Date,
}

impl ScopeGrant {
    /// Whether the scope may be used on `today`.
    pub fn in_force_on(&self, today: Date) -> bool {
        today <= self.ends_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let service = Scope::Service(ServiceScopeId::parse("nav.dagpenger").unwrap());
        let mut seen = std::collections::HashSet::new();
        for scope in Scope::PORTAL.into_iter().chain([service]) {
            assert_eq!(Scope::from_code(&scope.code()), Some(scope));
            assert!(seen.insert(scope.code()));
        }
        assert_eq!(service.code(), "service:nav.dagpenger");
        assert_eq!(Scope::from_code("post.READ"), None);
        assert_eq!(Scope::from_code("service:"), None);
        assert_eq!(Scope::from_code("service:Nav"), None);
        assert_eq!(Scope::from_code(""), None);
        assert!(service.is_service());
        assert!(!Scope::ReadPost.is_service());
    }

    #[test]
    fn service_scope_ids_are_checked() {
        for good in ["nav", "nav.dagpenger", "skat_2025-a", "9a", &"a".repeat(48)] {
            let id = ServiceScopeId::parse(good).unwrap();
            assert_eq!(id.as_str(), good);
            assert_eq!(format!("{id}"), good);
        }
        for bad in [
            "",
            ".nav",
            "-nav",
            "NAV",
            "nav dagpenger",
            "nav/x",
            &"a".repeat(49),
            "æ",
        ] {
            assert_eq!(
                ServiceScopeId::parse(bad),
                Err(InvalidServiceScopeId),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_grant_is_in_force_through_its_end_date() {
        let grant = ScopeGrant {
            scope: Scope::ReadPost,
            ends_on: time::macros::date!(2026 - 03 - 31),
        };
        assert!(grant.in_force_on(time::macros::date!(2026 - 03 - 30)));
        assert!(grant.in_force_on(time::macros::date!(2026 - 03 - 31)));
        assert!(!grant.in_force_on(time::macros::date!(2026 - 04 - 01)));
    }

    #[test]
    fn guardians_do_not_get_sensitive_post() {
        assert!(!GUARDIAN_SCOPES.contains(&Scope::ReadAllPost));
        assert!(GUARDIAN_SCOPES.contains(&Scope::ReadPost));
    }
}
