//! `/act-for`: whom a person who holds authority acts for. The same choice heads the home page
//! of everyone who holds authority in force (themself chosen by default), so it is the first
//! thing after login; this page is where the header's "act for someone else" and the
//! banner's "switch" lead.
//! A plain form: the server stores the choice on the session (`server/src/acting.rs`) and the
//! policy decides on every request what the choice allows.

use crate::components::acting::ACT_FOR;
use crate::components::form::{ErrorSummary, FieldError, FormOutcome};
use crate::error::AppError;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// One person the holder can act for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActForChoice {
    /// Their person id (the form's value; never their national id).
    pub id: String,
    pub name: String,
    /// `delegation` or `guardian`.
    pub basis: String,
    /// The last day it is in force, as people read it.
    pub until: String,
}

/// What the chooser shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActForView {
    /// The person's own name (the first choice).
    pub me: String,
    /// The id of whom the session acts for now (`None`: themself).
    pub current: Option<String>,
    pub choices: Vec<ActForChoice>,
    /// Where to go once chosen (a local path; the home page if none).
    pub return_to: String,
    /// The refused choice shown again.
    pub outcome: Option<FormOutcome>,
}

pub type ActForData = Result<ActForView, AppError>;

/// The persons the session's holder can act for, each once (a guardianship before a
/// delegation, else the longest-lasting delegation).
#[cfg(feature = "ssr")]
pub async fn load_act_for(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    lang: &str,
    outcome: Option<FormOutcome>,
) -> ActForData {
    use borgerportal::access::ManageAuthority;
    use borgerportal::delegation::{ActFor, ActForBasis};

    let ctx = session.ok_or(AppError::NotLoggedIn)?;
    let access = ctx.own_access::<ManageAuthority>()?;
    let now = time::OffsetDateTime::now_utc();
    let entries = db.persons_to_act_for(&access, now).await.map_err(|error| {
        tracing::error!(%error, "could not read whom the person can act for");
        AppError::Unavailable
    })?;
    let me = db
        .find_person(ctx.session.person)
        .await
        .ok()
        .flatten()
        .map(|person| person.full_name())
        .unwrap_or_default();
    let mut chosen: Vec<ActFor> = Vec::new();
    for entry in entries {
        match chosen.iter_mut().find(|seen| seen.person == entry.person) {
            Some(seen) if seen.basis == ActForBasis::Guardian => {}
            Some(seen) if entry.basis == ActForBasis::Guardian || entry.until > seen.until => {
                *seen = entry;
            }
            Some(_) => {}
            None => chosen.push(entry),
        }
    }
    let return_to = crate::request::query_param("return_to")
        .or_else(|| outcome.as_ref().and_then(|o| o.value_of("return_to")))
        .filter(|path| crate::auth::is_local_path(path) && !path.starts_with(ACT_FOR))
        .unwrap_or_else(|| "/".to_owned());
    Ok(ActForView {
        me,
        current: ctx.is_acting().then(|| ctx.subject().to_string()),
        choices: chosen
            .into_iter()
            .map(|entry| ActForChoice {
                id: entry.person.to_string(),
                name: entry.name,
                basis: match entry.basis {
                    ActForBasis::Guardian => "guardian",
                    ActForBasis::Delegation(_) => "delegation",
                }
                .to_owned(),
                until: crate::when::date_in_words(entry.until, lang),
            })
            .collect(),
        return_to,
        outcome,
    })
}

fn error_text(i18n: I18nContext<Locale>, _error: &FieldError) -> AnyView {
    t_string!(i18n, acting.refused).into_any()
}

/// `/act-for`: a radio button per person, themself first.
#[component]
pub fn ActForPage(data: ActForData) -> impl IntoView {
    let i18n = use_i18n();
    let title = t_string!(i18n, acting.title);
    let body = match data {
        Ok(view) => view! { <Chooser view /> }.into_any(),
        Err(error) => {
            view! { <crate::components::acting::Refusal error here=ACT_FOR /> }.into_any()
        }
    };
    view! {
        <Title text=title />
        <article class="prose">
            <h1>{title}</h1>
            {body}
        </article>
    }
}

/// The choice: a radio button per person, themself first, and "continue".
#[component]
pub fn Chooser(view: ActForView) -> impl IntoView {
    let i18n = use_i18n();
    let ActForView {
        me,
        current,
        choices,
        return_to,
        outcome,
    } = view;
    let none = choices.is_empty();
    let options = choices
        .into_iter()
        .map(|choice| {
            let checked = current.as_deref() == Some(choice.id.as_str());
            let id = format!("person-{}", choice.id);
            let basis = if choice.basis == "guardian" {
                t_string!(i18n, acting.as_guardian)
            } else {
                t_string!(i18n, acting.by_delegation)
            };
            view! {
                <div class="choice">
                    <input type="radio" name="person" id=id.clone() value=choice.id checked=checked />
                    <label for=id>
                        <strong>{choice.name}</strong>
                        <span class="hint">{format!(" ({basis} {})", choice.until)}</span>
                    </label>
                </div>
            }
        })
        .collect_view();
    view! {
        <p>{t_string!(i18n, acting.intro)}</p>
        <ErrorSummary outcome=outcome text=error_text />
        {none.then(|| view! { <p>{t_string!(i18n, acting.none)}</p> })}
        <form method="post" action=ACT_FOR>
            <input type="hidden" name="return_to" value=return_to />
            <fieldset id="person">
                <legend>{t_string!(i18n, acting.legend)}</legend>
                <div class="choice">
                    <input type="radio" name="person" id="person-me" value="" checked=current.is_none() />
                    <label for="person-me">
                        <strong>{t_string!(i18n, acting.myself)}</strong>
                        <span class="hint">{format!(" ({me})")}</span>
                    </label>
                </div>
                {options}
            </fieldset>
            <button type="submit" class="button">{t_string!(i18n, acting.choose_button)}</button>
        </form>
    }
}
