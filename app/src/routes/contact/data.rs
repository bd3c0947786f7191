//! What the contact pages show: the citizen's register entry as the pages see it, read by
//! [`load_contact`], and the external mailboxes the portal offers.

use crate::components::form::FormOutcome;
use crate::error::AppError;
use crate::when::When;
use serde::{Deserialize, Serialize};

/// An e-mail address or mobile number in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueView {
    pub value: String,
    pub changed: When,
    pub verified: Option<When>,
    /// Not verified or confirmed within the staleness limit.
    pub stale: bool,
}

/// A change waiting for its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingView {
    pub new_value: String,
    pub expires: When,
    pub attempts_left: u32,
}

/// The logged-in citizen's register entry, as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    pub email: Option<ValueView>,
    pub mobile: Option<ValueView>,
    pub pending_email: Option<PendingView>,
    pub pending_mobile: Option<PendingView>,
    pub reserved: bool,
    pub reservation_changed: Option<When>,
    /// `None`: the portal's own mailbox.
    pub mailbox_provider: Option<String>,
    /// `nb`, `nn`, `da` or `en`.
    pub language: String,
    pub can_be_notified: bool,
    /// Nothing registered is fresh: the "is this still right?" question is due.
    pub must_confirm: bool,
    /// A posted form being shown again.
    pub outcome: Option<FormOutcome>,
}

/// The logged-in citizen's contact information, with the refused form being shown again
/// (`outcome`), if any. `staleness`: how old contact data may be before it must be confirmed.
#[cfg(feature = "ssr")]
pub async fn load_contact(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    lang: &str,
    staleness: time::Duration,
    outcome: Option<FormOutcome>,
) -> Result<ContactView, AppError> {
    use borgerportal::access::ReadContact;

    let ctx = session.ok_or(AppError::NotLoggedIn)?;
    let access = ctx.access::<ReadContact>(db).await?;
    let info = db.find_contact_info(&access).await.map_err(|error| {
        tracing::error!(%error, "could not read the contact register");
        AppError::Unavailable
    })?;
    let now = time::OffsetDateTime::now_utc();
    let when = |at: time::OffsetDateTime| When::new(at, lang);
    let value = |value: String, updated_at, verified_at: Option<time::OffsetDateTime>| ValueView {
        value,
        changed: when(updated_at),
        verified: verified_at.map(when),
        stale: verified_at.is_none_or(|at| now - at >= staleness),
    };
    Ok(ContactView {
        email: info
            .email
            .as_ref()
            .map(|e| value(e.value.as_str().to_owned(), e.updated_at, e.verified_at)),
        mobile: info
            .mobile
            .as_ref()
            .map(|m| value(m.value.as_str().to_owned(), m.updated_at, m.verified_at)),
        pending_email: info.pending_email.as_ref().map(|p| PendingView {
            new_value: p.new_value.as_str().to_owned(),
            expires: when(p.expires_at),
            attempts_left: p.attempts_left,
        }),
        pending_mobile: info.pending_mobile.as_ref().map(|p| PendingView {
            new_value: p.new_value.as_str().to_owned(),
            expires: when(p.expires_at),
            attempts_left: p.attempts_left,
        }),
        reserved: info.reserved,
        reservation_changed: info.reservation_changed_at.map(when),
        mailbox_provider: match &info.mailbox {
            borgerportal::contact::Mailbox::Portal => None,
            borgerportal::contact::Mailbox::External { provider } => Some(provider.clone()),
        },
        language: info.language.code().to_owned(),
        can_be_notified: info.can_be_notified(now, staleness),
        must_confirm: info.must_be_confirmed(now, staleness),
        outcome,
    })
}

/// What a contact page is given: the citizen's entry as the server read it ([`load_contact`]),
/// or why it cannot be shown.
pub type ContactData = Result<ContactView, AppError>;

/// The external mailbox providers the portal forwards letters to (the configuration's
/// `[[mailbox_providers]]`): `(id, name)`, in the configuration's order. The mailbox page
/// offers only these, and the form's handler takes only these.
#[derive(Clone, Debug, Default)]
pub struct MailboxProviders(pub std::sync::Arc<[(String, String)]>);

impl MailboxProviders {
    /// The configured name of the provider `id`; `None` for a provider not offered.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, name)| name.as_str())
    }
}

/// The mailbox form's value for an external provider: `external:<id>`.
pub const EXTERNAL_MAILBOX: &str = "external:";
