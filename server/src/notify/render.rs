//! The texts of notifications, in the recipient's language, from `locales/*.json` (section
//! `notify`).
//!
//! Anti-phishing rules, kept by the texts themselves: no link, no name, no letter content,
//! nothing a stranger who reads the phone's lock screen could use. A message only says that
//! something happened and where to look ("log in to Borgerportal"). The one parameter ever
//! put into a text is the six-digit verification code, and it is checked to be exactly that.

use borgerportal::outbox::Template;

use super::SendError;
use crate::language::LANGUAGES;
use crate::texts::text;

/// The placeholder for the code in `notify.verify_code.*` (leptos_i18n's variable syntax, so
/// the shared locale files stay valid for the app).
const CODE_PLACEHOLDER: &str = "{{ code }}";

/// A notification's text in one language. `Debug` shows only the language: the texts may hold
/// a one-time code.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The language it is in (`nb`, `nn`, `da`, `en`).
    pub language: &'static str,
    /// The e-mail subject (SMS have none).
    pub subject: String,
    /// The e-mail body.
    pub email_body: String,
    /// The SMS text: short, one part where the language allows.
    pub sms_text: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// Renders `template` with its stored `params`. The language is `params.language` when it is
/// one of the portal's, else `fallback_language` (the person's), else bokmål.
///
/// Fails (permanently: the row will not get better) when the parameters a text needs are
/// missing or malformed.
pub fn render(
    template: Template,
    params: &serde_json::Value,
    fallback_language: Option<&str>,
) -> Result<Rendered, SendError> {
    let language = [
        params.get("language").and_then(serde_json::Value::as_str),
        fallback_language,
    ]
    .into_iter()
    .flatten()
    .find_map(|wanted| LANGUAGES.iter().copied().find(|lang| *lang == wanted))
    .unwrap_or(LANGUAGES[0]);
    let t = |key: &str| text(language, key);
    let (subject, body, sms) = match template {
        Template::VerifyCode => {
            let code = params
                .get("code")
                .and_then(serde_json::Value::as_str)
                .filter(|code| code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| SendError::Permanent("render.params".to_owned()))?;
            (
                t("notify.verify_code.subject"),
                t("notify.verify_code.body").replace(CODE_PLACEHOLDER, code),
                t("notify.verify_code.sms").replace(CODE_PLACEHOLDER, code),
            )
        }
        Template::ContactChanged => {
            let method = params.get("method").and_then(serde_json::Value::as_str);
            let (body, sms) = match method {
                Some("email") => (
                    t("notify.contact_changed.body_email"),
                    t("notify.contact_changed.sms_email"),
                ),
                Some("mobile") => (
                    t("notify.contact_changed.body_mobile"),
                    t("notify.contact_changed.sms_mobile"),
                ),
                _ => return Err(SendError::Permanent("render.params".to_owned())),
            };
            (t("notify.contact_changed.subject"), body, sms)
        }
        Template::NewLetter => (
            t("notify.new_letter.subject"),
            t("notify.new_letter.body"),
            t("notify.new_letter.sms"),
        ),
        Template::UnreadReminder => (
            t("notify.unread_reminder.subject"),
            t("notify.unread_reminder.body"),
            t("notify.unread_reminder.sms"),
        ),
        _ => return Err(SendError::Permanent("render.template".to_owned())),
    };
    let email_body = format!("{body}\n\n-- \n{}\n", t("notify.email_footer"));
    Ok(Rendered {
        language,
        subject,
        email_body,
        sms_text: sms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_renders_in_every_language_without_links() {
        for lang in LANGUAGES {
            for (template, params) in [
                (
                    Template::VerifyCode,
                    json!({"code": "123456", "language": lang}),
                ),
                (
                    Template::ContactChanged,
                    json!({"method": "email", "language": lang}),
                ),
                (
                    Template::ContactChanged,
                    json!({"method": "mobile", "language": lang}),
                ),
                (Template::NewLetter, json!({"language": lang})),
                (
                    Template::UnreadReminder,
                    json!({"language": lang, "sender": "NAV", "title": "Vedtak"}),
                ),
            ] {
                let rendered = render(template, &params, None).unwrap();
                assert_eq!(rendered.language, lang);
                for part in [&rendered.subject, &rendered.email_body, &rendered.sms_text] {
                    assert!(!part.contains("notify."), "{lang}: key not found: {part}");
                    assert!(!part.contains("{{"), "{lang}: placeholder left: {part}");
                    assert!(!part.contains("http"), "{lang}: a link: {part}");
                    assert!(!part.contains("www."), "{lang}: a link: {part}");
                }
                if template == Template::UnreadReminder {
                    // Parameters are for the receipts' bookkeeping, never put into a text.
                    assert!(!rendered.email_body.contains("Vedtak"));
                    assert!(!rendered.sms_text.contains("NAV"));
                    assert_ne!(
                        rendered.subject,
                        render(Template::NewLetter, &params, None).unwrap().subject
                    );
                }
                if template == Template::VerifyCode {
                    assert!(rendered.sms_text.contains("123456"));
                    assert!(rendered.email_body.contains("123456"));
                }
                assert!(
                    rendered.sms_text.chars().count() <= 160,
                    "{lang}: SMS longer than one part: {}",
                    rendered.sms_text
                );
            }
        }
    }

    #[test]
    fn the_language_comes_from_the_params_then_the_person_then_bokmal() {
        let letter = |params| render(Template::NewLetter, &params, Some("da")).unwrap();
        assert_eq!(letter(json!({"language": "en"})).language, "en");
        assert_eq!(letter(json!({"language": "xx"})).language, "da");
        assert_eq!(letter(json!({})).language, "da");
        assert_eq!(
            render(Template::NewLetter, &json!({}), None)
                .unwrap()
                .language,
            "nb"
        );
    }

    #[test]
    fn a_malformed_code_is_never_sent() {
        for params in [
            json!({}),
            json!({"code": "12345"}),
            json!({"code": "12345a"}),
            json!({"code": "<a href=x>"}),
            json!({"code": 123456}),
        ] {
            assert_eq!(
                render(Template::VerifyCode, &params, None),
                Err(SendError::Permanent("render.params".to_owned()))
            );
        }
        assert!(render(Template::ContactChanged, &json!({"method": "fax"}), None).is_err());
    }
}
