//! The idle-timeout warning (JavaScript only, an island): a minute or two before the session
//! would end for inactivity, a dialog offers to stay logged in. Without JavaScript there is no
//! timer to warn with; the session then simply ends and the next page asks for a login.

use crate::auth::use_current_user;
use crate::i18n::*;
use leptos::prelude::*;

/// How long before the end to warn.
const WARN_BEFORE_SECONDS: i64 = 120;

/// The warning for the logged-in citizen, if any (server side: the session and the texts are
/// known here and handed to the island as props).
#[component]
pub fn IdleWarning() -> impl IntoView {
    let i18n = use_i18n();
    use_current_user().map(|user| {
        let texts = IdleTexts {
            title: t_string!(i18n, idle.title).to_owned(),
            text: t_string!(i18n, idle.text).to_owned(),
            stay: t_string!(i18n, idle.stay).to_owned(),
            ended: t_string!(i18n, idle.ended).to_owned(),
            log_in: t_string!(i18n, user.log_in).to_owned(),
        };
        view! { <IdleTimer timeout_seconds=user.idle_timeout_seconds texts /> }
    })
}

/// The warning's texts, in the page's language.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IdleTexts {
    pub title: String,
    pub text: String,
    pub stay: String,
    pub ended: String,
    pub log_in: String,
}

/// The timers and the dialog, in the browser.
#[island]
fn IdleTimer(timeout_seconds: i64, texts: IdleTexts) -> impl IntoView {
    let (open, set_open) = signal(false);
    let (ended, set_ended) = signal(false);
    // Bumped on every "stay logged in" to restart the timers.
    let (epoch, set_epoch) = signal(0u32);
    let keep_alive = ServerAction::<crate::auth::KeepAlive>::new();

    Effect::new(move |_| {
        let started = epoch.get();
        let timeout = timeout_seconds.max(WARN_BEFORE_SECONDS + 1);
        let warn_after = std::time::Duration::from_secs((timeout - WARN_BEFORE_SECONDS) as u64);
        let end_after = std::time::Duration::from_secs(timeout as u64);
        set_timeout(
            move || {
                if epoch.get_untracked() == started {
                    set_open.set(true);
                }
            },
            warn_after,
        );
        set_timeout(
            move || {
                if epoch.get_untracked() == started {
                    set_ended.set(true);
                }
            },
            end_after,
        );
    });

    Effect::new(move |_| {
        if let Some(Ok(alive)) = keep_alive.value().get() {
            set_open.set(false);
            if alive {
                set_epoch.update(|e| *e += 1);
            } else {
                set_ended.set(true);
            }
        }
    });

    let IdleTexts {
        title,
        text,
        stay,
        ended: ended_text,
        log_in,
    } = texts;
    view! {
        <Show when=move || open.get() && !ended.get()>
            <div class="idle-warning" role="alertdialog" aria-modal="false" aria-labelledby="idle-title" aria-describedby="idle-text">
                <h2 id="idle-title">{title.clone()}</h2>
                <p id="idle-text">{text.clone()}</p>
                <button
                    type="button"
                    class="button"
                    on:click=move |_| {
                        keep_alive.dispatch(crate::auth::KeepAlive {});
                    }
                >
                    {stay.clone()}
                </button>
            </div>
        </Show>
        <Show when=move || ended.get()>
            <div class="idle-warning" role="alert">
                <p>{ended_text.clone()}</p>
                <a class="button" href="/login">{log_in.clone()}</a>
            </div>
        </Show>
    }
}
