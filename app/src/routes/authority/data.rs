//! What the authority pages show: the delegations the citizen has given, the requests waiting
//! for their answer and the delegations they hold, read by [`load_authority`], with the scopes
//! a form offers.

use crate::components::form::FormOutcome;
use crate::error::AppError;
use crate::when::When;
#[cfg(feature = "ssr")]
use crate::when::{date_in_words, iso_date};
use serde::{Deserialize, Serialize};

/// One scope of a delegation with its end date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeLine {
    /// The scope's code (`post.read`, `service:<id>`): the form field and the translation key.
    pub code: String,
    /// A service scope's configured name in the page's language (`None`: a portal scope,
    /// translated by the page).
    pub name: Option<String>,
    /// The last day it may be used, in words (`31.12.2030`, `31 Dec 2030`).
    pub ends_on: String,
    /// The same day as `YYYY-MM-DD` (a `<time>`'s and a date field's value).
    pub ends_iso: String,
    /// Whether it may still be used today.
    pub in_force: bool,
}

/// One delegation as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationLine {
    /// The delegation's id (a form's target: the server acts on it only if it is theirs).
    pub id: String,
    /// The other party's name (never their national id).
    pub name: String,
    pub scopes: Vec<ScopeLine>,
    /// `requested`, `active`, `declined`, `revoked` or `expired`, at the time of reading.
    pub state: String,
    /// When it was granted or asked for.
    pub created: When,
    /// When the holder last used it.
    pub last_used: Option<When>,
}

/// A scope a form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChoice {
    pub code: String,
    /// A service scope's configured name (`None`: a portal scope, translated by the page).
    pub name: Option<String>,
}

/// The citizen's authority, as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityView {
    /// "Authority I have given", newest first (requests waiting excluded).
    pub given: Vec<DelegationLine>,
    /// "Requests waiting for me".
    pub waiting: Vec<DelegationLine>,
    /// "Authority I have been given", with the requests the citizen made.
    pub held: Vec<DelegationLine>,
    /// The session is at `high`: granting and approving are possible.
    pub can_grant: bool,
    /// The session's eID provider (for the step-up link).
    pub provider: String,
    /// The scopes a form offers: the portal's, then the configured service scopes.
    pub scopes: Vec<ScopeChoice>,
    /// Today and the latest end date allowed, `YYYY-MM-DD` (the date field's bounds).
    pub today: String,
    pub latest_end: String,
    /// The longest a scope may run, in years.
    pub max_years: u8,
    /// A posted form being shown again.
    pub outcome: Option<FormOutcome>,
}

/// What an authority page is given.
pub type AuthorityData = Result<AuthorityView, AppError>;

/// The service scopes' names (`[[delegation.service_scopes]]`) and the rules, given to the
/// page renderer.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct AuthorityRules(pub std::sync::Arc<borgerportal::delegation::DelegationRules>);

#[cfg(feature = "ssr")]
fn language(lang: &str) -> borgerportal::person::Language {
    use borgerportal::person::Language;
    match lang {
        "nn" => Language::Nn,
        "da" => Language::Da,
        "en" => Language::En,
        _ => Language::Nb,
    }
}

#[cfg(feature = "ssr")]
fn scope_name(
    scope: &borgerportal::delegation::Scope,
    rules: &borgerportal::delegation::DelegationRules,
    lang: &str,
) -> Option<String> {
    let borgerportal::delegation::Scope::Service(id) = scope else {
        return None;
    };
    Some(
        rules
            .service_scopes
            .iter()
            .find(|service| service.id == *id)
            .map_or_else(|| id.to_string(), |s| s.name(language(lang)).to_owned()),
    )
}

#[cfg(feature = "ssr")]
fn line(
    entry: borgerportal::delegation::DelegationEntry,
    rules: &borgerportal::delegation::DelegationRules,
    lang: &str,
    now: time::OffsetDateTime,
) -> DelegationLine {
    let today = borgerportal::delegation::today(now);
    let delegation = entry.delegation;
    DelegationLine {
        id: delegation.id.to_string(),
        name: entry.counterpart_name,
        state: delegation.state(now).code().to_owned(),
        created: When::new(delegation.created_at, lang),
        last_used: delegation.last_used_at.map(|at| When::new(at, lang)),
        scopes: delegation
            .scopes
            .iter()
            .map(|grant| ScopeLine {
                code: grant.scope.code().into_owned(),
                name: scope_name(&grant.scope, rules, lang),
                ends_on: date_in_words(grant.ends_on, lang),
                ends_iso: iso_date(grant.ends_on),
                in_force: grant.in_force_on(today),
            })
            .collect(),
    }
}

/// The logged-in citizen's authority, given and held, with the refused form being shown again
/// (`outcome`), if any.
#[cfg(feature = "ssr")]
pub async fn load_authority(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    lang: &str,
    rules: &AuthorityRules,
    outcome: Option<FormOutcome>,
) -> AuthorityData {
    use borgerportal::access::ManageAuthority;
    use borgerportal::delegation::{Scope, StoredState};

    let ctx = session.ok_or(AppError::NotLoggedIn)?;
    // One's own authority, also while acting for someone else: it is managed only for oneself.
    let access = ctx.own_access::<ManageAuthority>()?;
    let can_grant = ctx
        .own_access::<borgerportal::access::GrantAuthority>()
        .is_ok();
    let now = time::OffsetDateTime::now_utc();
    let unavailable = |error: borgerportal::error::StoreError| {
        tracing::error!(%error, "could not read the delegation register");
        AppError::Unavailable
    };
    let given = db.delegations_given(&access).await.map_err(unavailable)?;
    let waiting = db
        .delegation_requests_waiting(&access, now)
        .await
        .map_err(unavailable)?;
    let held = db.delegations_held(&access).await.map_err(unavailable)?;
    let rules = &rules.0;
    let today = borgerportal::delegation::today(now);
    let scopes = Scope::PORTAL
        .into_iter()
        .chain(
            rules
                .service_scopes
                .iter()
                .map(|service| Scope::Service(service.id)),
        )
        .map(|scope| ScopeChoice {
            code: scope.code().into_owned(),
            name: scope_name(&scope, rules, lang),
        })
        .collect();
    Ok(AuthorityView {
        // A request is shown under "waiting" (or not at all once it lapsed or was answered).
        given: given
            .into_iter()
            .filter(|entry| entry.delegation.stored_state != StoredState::Requested)
            .map(|entry| line(entry, rules, lang, now))
            .collect(),
        waiting: waiting
            .into_iter()
            .map(|entry| line(entry, rules, lang, now))
            .collect(),
        held: held
            .into_iter()
            .map(|entry| line(entry, rules, lang, now))
            .collect(),
        can_grant,
        provider: ctx.session.provider.clone(),
        scopes,
        today: iso_date(today),
        latest_end: iso_date(rules.latest_end(today)),
        max_years: rules.max_years,
        outcome,
    })
}
