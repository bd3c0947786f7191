//! What the pages' forms share: the outcome of a refused form the server shows again
//! ([`FormOutcome`]: each refused field's code and what was typed), the error summary at the top
//! of such a form, and a text field with its error.
//!
//! The forms are plain HTML posted to the server (`server/src/forms.rs`), which answers with a
//! redirect, or with the page rendered again and given the outcome. Each page translates its own
//! codes ([`ErrorText`]).

use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use serde::{Deserialize, Serialize};

/// One refused field of a posted form: a stable code the page translates, and a number some
/// messages need (tries left, minutes to wait).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub count: Option<u32>,
}

/// What became of a posted form that is shown again: its errors and what was typed (so
/// nothing has to be typed twice). Made by the server's form handler.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOutcome {
    pub errors: Vec<FieldError>,
    pub values: Vec<(String, String)>,
}

impl FormOutcome {
    /// An outcome with one refused field and the typed value kept.
    pub fn error(field: &str, code: &str, count: Option<u32>, typed: Option<&str>) -> Self {
        FormOutcome {
            errors: vec![FieldError {
                field: field.to_owned(),
                code: code.to_owned(),
                count,
            }],
            values: typed
                .map(|t| vec![(field.to_owned(), t.to_owned())])
                .unwrap_or_default(),
        }
    }

    /// The error of `field`, if it was refused.
    pub fn error_for(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    /// What was typed into `field`, if it is kept.
    pub fn value_of(&self, field: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.clone())
    }
}

/// Set when a page shows a refused form's errors, so that the page's title starts with the
/// translated "Error:" (the shell's title formatter reads it after the page has rendered).
#[derive(Clone, Debug, Default)]
pub struct FormRefused(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl FormRefused {
    /// Whether a refused form is shown on this page.
    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A page's translation of a refused field's code.
pub type ErrorText = fn(I18nContext<Locale>, &FieldError) -> AnyView;

/// The error summary at the top of a form shown again: each error links to its field. It
/// takes the focus when the page loads (`autofocus`, so also without JavaScript), and the
/// page's title starts with "Error:" ([`FormRefused`]).
#[component]
pub fn ErrorSummary(outcome: Option<FormOutcome>, text: ErrorText) -> impl IntoView {
    let i18n = use_i18n();
    let errors = outcome.map(|o| o.errors).unwrap_or_default();
    if !errors.is_empty() {
        if let Some(refused) = use_context::<FormRefused>() {
            refused.set();
        }
    }
    (!errors.is_empty()).then(|| {
        view! {
            <div
                class="error-summary"
                role="alert"
                aria-labelledby="error-summary-title"
                tabindex="-1"
                autofocus=true
            >
                <h2 id="error-summary-title">{t!(i18n, form.error_summary)}</h2>
                <ul>
                    {errors
                        .into_iter()
                        .map(|error| {
                            let href = format!("#{}", error.field);
                            view! { <li><a href=href>{text(i18n, &error)}</a></li> }
                        })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

/// A labelled text field with its error (if any) tied to it for screen readers.
#[component]
pub fn TextField(
    id: &'static str,
    label: String,
    #[prop(optional)] hint: Option<String>,
    input_type: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    value: Option<String>,
    error: Option<FieldError>,
    text: ErrorText,
) -> impl IntoView {
    let i18n = use_i18n();
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = [
        hint.as_ref().map(|_| hint_id.clone()),
        error.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let invalid = error.is_some().then_some("true");
    let has_error = error.is_some();
    view! {
        <div class="field" class:field-invalid=has_error>
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            {error
                .map(|error| {
                    view! {
                        <p class="field-error" id=error_id.clone()>
                            <span class="sr-only">{t!(i18n, form.error_prefix)} " "</span>
                            {text(i18n, &error)}
                        </p>
                    }
                })}
            <input
                type=input_type
                id=id
                name=id
                autocomplete=autocomplete
                inputmode=inputmode
                value=value
                aria-invalid=invalid
                aria-describedby=(!described.is_empty()).then_some(described)
                spellcheck="false"
            />
        </div>
    }
}
