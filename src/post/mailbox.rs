//! The citizen's mailbox: folders, views, pages of letters with their keyset cursor, an
//! opened letter and its attachments, and search.

use super::*;

/// A folder of the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FolderRef {
    /// Where new letters arrive.
    Inbox,
    /// The built-in archive.
    Archive,
    /// One of the person's own folders.
    Own(FolderId),
}

impl FolderRef {
    /// As stored in `letters.folder`: `inbox`, `archive` or the folder's id.
    pub fn code(&self) -> String {
        match self {
            FolderRef::Inbox => "inbox".to_owned(),
            FolderRef::Archive => "archive".to_owned(),
            FolderRef::Own(id) => id.to_string(),
        }
    }

    /// The folder for a stored code.
    pub fn from_code(code: &str) -> Option<FolderRef> {
        match code {
            "inbox" => Some(FolderRef::Inbox),
            "archive" => Some(FolderRef::Archive),
            other => other.parse().ok().map(FolderRef::Own),
        }
    }
}

/// Which letters a mailbox page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxView {
    /// The letters in a folder (not in the trash).
    Folder(FolderRef),
    /// The trash.
    Trash,
}

/// A person's own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Its id.
    pub id: FolderId,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// Checks a folder name: trimmed, 1 to 60 characters, no control characters, not the name
/// of a built-in folder.
pub fn folder_name(name: &str) -> Result<String, PostError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_FOLDER_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(PostError::FolderNameInvalid);
    }
    Ok(name.to_owned())
}

/// A line in the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSummary {
    /// The letter.
    pub id: LetterId,
    /// The sending agency.
    pub agency: AgencyId,
    /// The sender's name.
    pub sender_name: String,
    /// The title, or the non-sensitive title when the reader may not see the content.
    pub title: String,
    /// Whether the title shown is the non-sensitive one (the content needs a step-up).
    pub locked: bool,
    /// The level of assurance the content needs.
    pub required_loa: Loa,
    /// Not opened yet, or marked unread.
    pub unread: bool,
    /// A decision.
    pub is_decision: bool,
    /// The date shown (delivery, or the effective time if later).
    pub shown_at: OffsetDateTime,
    /// How many attachments.
    pub attachment_count: u32,
    /// Where it is filed.
    pub folder: FolderRef,
    /// In the trash since, if it is there.
    pub trashed_at: Option<OffsetDateTime>,
}

/// Where a mailbox or search page ended: the next page starts after it. Opaque text for
/// URLs (`?after=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LetterCursor {
    pub(crate) shown_at: OffsetDateTime,
    pub(crate) id: LetterId,
}

impl LetterCursor {
    /// The cursor after `letter`.
    pub fn after(letter: &LetterSummary) -> LetterCursor {
        LetterCursor {
            shown_at: letter.shown_at,
            id: letter.id,
        }
    }

    /// As URL-safe text.
    pub fn encode(&self) -> String {
        let nanos = self.shown_at.unix_timestamp_nanos();
        URL_SAFE_NO_PAD.encode(format!("{nanos}.{}", self.id))
    }

    /// A cursor from [`encode`](LetterCursor::encode).
    pub fn decode(text: &str) -> Result<LetterCursor, PostError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| PostError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| PostError::InvalidCursor)?;
        let (nanos, id) = text.split_once('.').ok_or(PostError::InvalidCursor)?;
        let nanos: i128 = nanos.parse().map_err(|_| PostError::InvalidCursor)?;
        Ok(LetterCursor {
            shown_at: OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .map_err(|_| PostError::InvalidCursor)?,
            id: id.parse().map_err(|_| PostError::InvalidCursor)?,
        })
    }
}

/// A page of letters, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterPage {
    /// The letters.
    pub letters: Vec<LetterSummary>,
    /// The next page starts after this; `None` on the last page.
    pub next: Option<LetterCursor>,
}

/// An attachment as listed (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Its place in the letter (from 0): the id to fetch it by.
    pub position: u32,
    /// The file name.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An attachment with its content.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Name and size.
    pub info: AttachmentInfo,
    /// The PDF.
    pub content: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A whole letter as the citizen reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The line in the list.
    pub summary: LetterSummary,
    /// What the agency sent: text or HTML.
    pub body_kind: BodyKind,
    /// The sanitized body: the only form of it to put in a page.
    pub body_html: String,
    /// The attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// When the agency wrote it.
    pub created_at: OffsetDateTime,
    /// When the portal accepted it.
    pub delivered_at: OffsetDateTime,
    /// First opened by the recipient (now, if this was the first time).
    pub opened_at: Option<OffsetDateTime>,
    /// Helpers who opened it for the recipient, first time each, oldest first. A helper's
    /// opening leaves the letter unread for the recipient, who sees these instead.
    pub opened_by: Vec<HelperOpening>,
}

/// A helper's first opening of a letter for its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperOpening {
    /// The helper's full name (never their national id).
    pub name: String,
    /// When.
    pub at: OffsetDateTime,
}

/// What opening a letter gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LetterView {
    /// The letter, now recorded as opened.
    Open(Box<Letter>),
    /// The letter needs a higher level of assurance: only its line (with the non-sensitive
    /// title); nothing was recorded. Offer a step-up to `required`.
    NeedsStepUp {
        /// The line in the list.
        summary: LetterSummary,
        /// The level to step up to.
        required: Loa,
    },
}

/// The `regconfig` PostgreSQL's full-text search uses for a language.
pub(crate) fn search_config(language: crate::person::Language) -> &'static str {
    use crate::person::Language;
    match language {
        Language::Nb | Language::Nn => "norwegian",
        Language::Da => "danish",
        Language::En => "english",
    }
}

/// The words of a search query: split on anything that is not a letter or digit, at most 10.
pub(crate) fn query_words(query: &str) -> Result<Vec<String>, PostError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(PostError::InvalidQuery);
    }
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(10)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Err(PostError::InvalidQuery);
    }
    Ok(words)
}
