//! What a change to the mailbox did, said on the page the change led to, with an undo where
//! undoing is safe: a letter moved goes back to its folder, a letter deleted comes back out of
//! the trash. The server's form handlers lead here with `?done=` (`server/src/post_pages.rs`);
//! the undo is an ordinary form, so it works without JavaScript.

use crate::i18n::*;
use leptos::prelude::*;

/// What the address says was done: `done=moved|trashed|unread|restored`, the letter and, for a
/// move, the folder it came from (`from`, one of `known` or `inbox`/`archive`). Anything else
/// shows nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    Moved {
        letter: String,
        from: Option<String>,
    },
    Trashed {
        letter: String,
    },
    MarkedUnread,
    Restored,
}

impl Done {
    /// From the address's query, checked: the letter is a UUID, `from` a folder the person has.
    pub(crate) fn from_query(known: &[(String, String)]) -> Option<Done> {
        let param = crate::request::query_param;
        let letter = param("letter").filter(|id| is_uuid(id));
        match param("done").as_deref() {
            Some("moved") => Some(Done::Moved {
                letter: letter?,
                from: param("from").filter(|code| {
                    code == "inbox" || code == "archive" || known.iter().any(|(id, _)| id == code)
                }),
            }),
            Some("trashed") => Some(Done::Trashed { letter: letter? }),
            Some("unread") => Some(Done::MarkedUnread),
            Some("restored") => Some(Done::Restored),
            _ => None,
        }
    }
}

/// `8-4-4-4-12` hex digits: what the server puts in, and nothing that could reach out of a
/// form's address.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The message, and the undo form where there is one. `view` is the folder the page shows (a
/// move's undo moves the letter back from it).
#[component]
pub(crate) fn DoneNotice(done: Done, view: String) -> impl IntoView {
    let i18n = use_i18n();
    let (text, undo) = match done {
        Done::Moved { letter, from } => {
            let undo = from.map(|from| {
                view! {
                    <form method="post" action=format!("/post/letter/{letter}/move")>
                        <input type="hidden" name="to" value=from />
                        <input type="hidden" name="from" value=view />
                        <button type="submit" class="button button-secondary">
                            {t_string!(i18n, post.undo)}
                        </button>
                    </form>
                }
            });
            (
                t_string!(i18n, post.done_moved),
                undo.map(IntoAny::into_any),
            )
        }
        Done::Trashed { letter } => {
            let undo = view! {
                <form method="post" action=format!("/post/letter/{letter}/restore")>
                    <input type="hidden" name="back" value="mailbox" />
                    <button type="submit" class="button button-secondary">
                        {t_string!(i18n, post.undo)}
                    </button>
                </form>
            };
            (t_string!(i18n, post.done_trashed), Some(undo.into_any()))
        }
        Done::MarkedUnread => (t_string!(i18n, post.done_unread), None),
        Done::Restored => (t_string!(i18n, post.done_restored), None),
    };
    view! {
        <div class="notice notice-success post-done" role="status">
            <p>{text}</p>
            {undo}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn only_uuids_are_letters() {
        assert!(is_uuid("01a20d94-24b2-7177-8cfd-10441c44ec5e"));
        assert!(!is_uuid("01a20d94-24b2-7177-8cfd-10441c44ec5"));
        assert!(!is_uuid("01a20d94-24b2-7177-8cfd-10441c44ec5e/../x"));
        assert!(!is_uuid("01a20d94x24b2-7177-8cfd-10441c44ec5e"));
    }
}
