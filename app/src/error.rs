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
