//! Who is logged in, as the pages see it, and the server functions that tell them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The logged-in citizen as pages show them. No national id: pages never need it whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    /// `substantial` or `high`.
    pub loa: String,
    /// The id of the eID provider the session came from (for a step-up).
    pub provider: String,
    /// Seconds of inactivity before the session ends.
    pub idle_timeout_seconds: i64,
    /// Unread letters of the person whose post the pages show (the one acted for, while
    /// acting), `None` if it could not be read just now or may not be.
    pub unread: Option<u64>,
    /// Signing jobs waiting for the person the pages show, `None` if it could not be read
    /// just now or may not be (a guardian does not sign for a minor).
    #[serde(default)]
    pub to_sign: Option<u64>,
    /// Whether the person holds authority to act for someone: the header offers the choice.
    pub may_act_for: bool,
    /// Whom the pages act for, if not the person themself: the banner on every page.
    pub acting_for: Option<ActingView>,
}

/// The person a helper acts for, as the banner on every page names them. Never their
/// national id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingView {
    /// Their full name.
    pub name: String,
    /// `delegation` or `guardian`; `None` when no authority is in force any more (revoked,
    /// expired, come of age): the banner says so.
    pub basis: Option<String>,
    /// The last day the authority is in force, as people read it.
    pub until: Option<String>,
}

/// The request's session: put into the request's extensions by the server's session middleware
/// (a server function, a form), or read by the page renderer for a page's `GET`.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct SessionContext {
    pub session: std::sync::Arc<borgerportal::session::Session>,
    pub idle_timeout_seconds: i64,
    /// The register's facts about the person's authority over the one they act for, read
    /// once per request (the header, the banner and the page each decide from them), so a
    /// revocation counts from the next request and a page costs one read of them.
    pub authority: std::sync::Arc<std::sync::OnceLock<Vec<borgerportal::access::AuthorityFact>>>,
}

#[cfg(feature = "ssr")]
impl SessionContext {
    /// Whose data the pages show and change: the person acted for, else the one logged in.
    pub fn subject(&self) -> borgerportal::person::PersonId {
        self.session.acting_for.unwrap_or(self.session.person)
    }

    /// Whether the session is acting for someone else.
    pub fn is_acting(&self) -> bool {
        self.subject() != self.session.person
    }

    /// The session's proof for capability `C` on [`subject`](SessionContext::subject)'s
    /// data, decided now by the policy from the register (for someone else: the pair's
    /// authority read on this request), or the page's refusal.
    pub async fn access<C: borgerportal::access::Capability>(
        &self,
        db: &borgerportal::storage::Database,
    ) -> Result<borgerportal::access::Access<C>, AppError> {
        let now = time::OffsetDateTime::now_utc();
        if !self.is_acting() {
            return self.own_access::<C>();
        }
        let facts = self.authority_facts(db).await?;
        borgerportal::access::Policy::decide::<C>(&self.session.actor(), self.subject(), facts, now)
            .map_err(AppError::refused::<C>)
    }

    /// The facts about the person's authority over the one they act for, read from the
    /// register at the first need in this request.
    pub async fn authority_facts(
        &self,
        db: &borgerportal::storage::Database,
    ) -> Result<&[borgerportal::access::AuthorityFact], AppError> {
        if let Some(facts) = self.authority.get() {
            return Ok(facts);
        }
        let facts = db
            .authority_facts(self.session.person, self.subject())
            .await
            .map_err(|error| {
                tracing::error!(%error, "could not read the authority register");
                AppError::Unavailable
            })?;
        Ok(self.authority.get_or_init(|| facts))
    }

    /// The proof for `C` on the logged-in person's own data, whoever they act for: managing
    /// one's own authority, choosing whom to act for.
    pub fn own_access<C: borgerportal::access::Capability>(
        &self,
    ) -> Result<borgerportal::access::Access<C>, AppError> {
        borgerportal::access::Policy::authorize::<C>(&self.session.actor(), self.session.person)
            .map_err(AppError::refused::<C>)
    }
}

/// The eID providers a citizen can choose from: (id, name). Provided by the server as context
/// for the render (the login page lists them).
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct ProviderChoices(pub std::sync::Arc<[(String, String)]>);

/// The session of the request being served, if any.
#[cfg(feature = "ssr")]
pub fn request_session() -> Option<SessionContext> {
    crate::request::extension::<SessionContext>()
}

/// The logged-in citizen as the page shows them, read by the server before the page is
/// rendered (`load_current_user`) and handed to the shell, which provides it as context, so that
/// the header, the idle warning and the pages read it as a plain value: no resource, no
/// `Suspense` on every page. `None` for a visitor without a session, and also when the person
/// could not be read just now (logged; the page then offers a login, as for a visitor).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CurrentUser(pub Option<UserView>);

/// The logged-in citizen for a session: name, level, idle timeout and the unread count.
#[cfg(feature = "ssr")]
pub async fn load_current_user(
    db: &borgerportal::storage::Database,
    ctx: Option<&SessionContext>,
    lang: &str,
) -> CurrentUser {
    use borgerportal::access::ReadPost;

    let Some(ctx) = ctx else {
        return CurrentUser(None);
    };
    let person = match db.find_person(ctx.session.person).await {
        Ok(Some(person)) => person,
        Ok(None) => return CurrentUser(None),
        Err(error) => {
            tracing::error!(%error, "could not read the logged-in person");
            return CurrentUser(None);
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let unread = match ctx.access::<ReadPost>(db).await {
        Ok(read) => db
            .unread_count(&read, now)
            .await
            .inspect_err(|error| tracing::warn!(%error, "could not count unread letters"))
            .ok(),
        Err(_) => None,
    };
    let to_sign = match ctx.access::<borgerportal::access::SignDocuments>(db).await {
        Ok(sign) => db
            .signing_jobs_waiting(&sign, now)
            .await
            .inspect_err(|error| tracing::warn!(%error, "could not count the jobs to sign"))
            .ok(),
        Err(_) => None,
    };
    // While acting, the person holds (or held) authority: the banner offers the switch.
    let may_act_for = ctx.is_acting()
        || db
            .may_act_for(ctx.session.person, now)
            .await
            .inspect_err(|error| tracing::warn!(%error, "could not read the authority held"))
            .unwrap_or(false);
    let acting_for = if ctx.is_acting() {
        // From the facts the page decides from (read once per request).
        let basis = ctx.authority_facts(db).await.ok().and_then(|facts| {
            borgerportal::access::acting_basis(ctx.session.person, ctx.subject(), facts, now)
        });
        let name = match db.find_person(ctx.subject()).await {
            Ok(person) => person.map(|person| person.full_name()).unwrap_or_default(),
            Err(error) => {
                tracing::error!(%error, "could not read whom the session acts for");
                String::new()
            }
        };
        Some(ActingView {
            name,
            basis: basis.map(|(basis, _)| match basis {
                borgerportal::delegation::ActForBasis::Guardian => "guardian".to_owned(),
                borgerportal::delegation::ActForBasis::Delegation(_) => "delegation".to_owned(),
            }),
            until: basis.map(|(_, until)| crate::when::date_in_words(until, lang)),
        })
    } else {
        None
    };
    CurrentUser(Some(UserView {
        name: person.full_name(),
        loa: ctx.session.loa.as_str().to_owned(),
        provider: ctx.session.provider.clone(),
        idle_timeout_seconds: ctx.idle_timeout_seconds,
        unread,
        to_sign,
        may_act_for,
        acting_for,
    }))
}

/// Keep the session alive (the idle-timeout warning's "stay logged in"). The session
/// middleware has already recorded the activity; this only says whether a session exists.
#[server]
pub async fn keep_alive() -> Result<bool, AppError> {
    Ok(request_session().is_some())
}

/// The logged-in citizen, if any.
pub fn use_current_user() -> Option<UserView> {
    use_context::<CurrentUser>().and_then(|user| user.0)
}

/// `/login?return_to=…&loa=…` for a path, so the citizen comes back to it.
pub fn login_href(return_to: &str, loa: Option<&str>) -> String {
    let mut href = format!("/login?return_to={}", encode(return_to));
    if let Some(loa) = loa {
        href.push_str("&loa=");
        href.push_str(loa);
    }
    href
}

/// The step-up link: log in again at `high` with the same provider, then come back.
pub fn step_up_href(provider: &str, return_to: &str) -> String {
    format!(
        "/auth/login/{}?loa=high&return_to={}",
        encode(provider),
        encode(return_to)
    )
}

/// Is `path` a path on this site (so redirecting there cannot send anyone elsewhere)?
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

/// Percent-encode a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_are_encoded() {
        assert_eq!(
            login_href("/activity?before=a&b", None),
            "/login?return_to=/activity%3Fbefore%3Da%26b"
        );
        assert_eq!(
            step_up_href("testid-no", "/x"),
            "/auth/login/testid-no?loa=high&return_to=/x"
        );
    }
}
