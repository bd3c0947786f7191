//! The idle-timeout warning (hydrated only): a minute or two before the session would end for
//! inactivity, a dialog offers to stay logged in. Without JavaScript there is no timer to warn
//! with; the session then simply ends and the next page asks for a login.

use crate::auth::use_current_user;
use crate::i18n::*;
use leptos::prelude::*;

/// How long before the end to warn.
const WARN_BEFORE_SECONDS: i64 = 120;

#[component]
pub fn IdleWarning() -> impl IntoView {
    let i18n = use_i18n();
    let (open, set_open) = signal(false);
    let (ended, set_ended) = signal(false);
    // Bumped on every "stay logged in" to restart the timers.
    let (epoch, set_epoch) = signal(0u32);
    let keep_alive = ServerAction::<crate::auth::KeepAlive>::new();
    let current = use_current_user();

    Effect::new(move |_| {
        let _ = epoch.get();
        let Some(current) = current else {
            return;
        };
        let Some(Ok(Some(user))) = current.0.get() else {
            return;
        };
        let timeout = user.idle_timeout_seconds.max(WARN_BEFORE_SECONDS + 1);
        let warn_after = std::time::Duration::from_secs((timeout - WARN_BEFORE_SECONDS) as u64);
        let end_after = std::time::Duration::from_secs(timeout as u64);
        let started = epoch.get_untracked();
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

    view! {
        <Show when=move || open.get() && !ended.get()>
            <div class="idle-warning" role="alertdialog" aria-modal="false" aria-labelledby="idle-title" aria-describedby="idle-text">
                <h2 id="idle-title">{t!(i18n, idle.title)}</h2>
                <p id="idle-text">{t!(i18n, idle.text)}</p>
                <button
                    type="button"
                    class="button"
                    on:click=move |_| {
                        keep_alive.dispatch(crate::auth::KeepAlive {});
                    }
                >
                    {t!(i18n, idle.stay)}
                </button>
            </div>
        </Show>
        <Show when=move || ended.get()>
            <div class="idle-warning" role="alert">
                <p>{t!(i18n, idle.ended)}</p>
                <a class="button" href="/login">{t!(i18n, user.log_in)}</a>
            </div>
        </Show>
    }
}
