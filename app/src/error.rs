//! The errors server functions send to the browser: typed, so the page can show the right
//! translated text and the right next step. Causes stay in the server log.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session: log in first.
    #[error("not logged in")]
    NotLoggedIn,
    /// The session's level of assurance is too low: step up to `high`.
    #[error("a higher level of assurance is needed")]
    NeedsStepUp,
    /// Acting for someone whose authority does not cover this: the scope to ask for
    /// (its code, `post.read`).
    #[error("the authority held does not cover this")]
    MissingScope(String),
    /// Acting for someone whose authority is no longer in force (revoked, expired, come of
    /// age).
    #[error("no authority over this person's data")]
    NoAuthority,
    /// Acting for someone, asking for what each person does only for themself (managing
    /// one's own authority).
    #[error("only for oneself")]
    OwnOnly,
    /// The database or another dependency failed; nothing was changed.
    #[error("temporarily unavailable")]
    Unavailable,
    /// The request itself could not be carried (network, encoding).
    #[error("the request failed: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

/// What a page shows for the policy's refusal. A capability no helper may use (no helper
/// scopes, managing one's own authority) is [`AppError::OwnOnly`] when refused for someone
/// else, whatever the authority held.
#[cfg(feature = "ssr")]
impl AppError {
    pub fn refused<C: borgerportal::access::Capability>(
        denied: borgerportal::access::Denied,
    ) -> AppError {
        use borgerportal::access::Denied;
        match denied {
            Denied::NeedsStepUp { .. } => AppError::NeedsStepUp,
            Denied::MissingScope { scope } => AppError::MissingScope(scope.code().into_owned()),
            Denied::NoAuthority if C::HELPER_SCOPES.is_empty() => AppError::OwnOnly,
            _ => AppError::NoAuthority,
        }
    }
}
