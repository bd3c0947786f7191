//! The texts of notifications, in the recipient's language, from `locales/*.json` (section
//! `notify`).
//!
//! Anti-phishing rules, kept by the texts themselves: no link, no letter content, no national
//! id, nothing a stranger who reads the phone's lock screen could use. A message only says
//! that something happened and where to look ("log in to Borgerportal"). The parameters ever
//! put into a text are checked to be exactly what they should be: the six-digit verification
//! code, and in a delegation notice the other party's name (as the person register has it,
//! one line of at most 100 characters; the recipient needs it to know who asked, granted or
//! acted) and an end date (written as the language writes dates).

use borgerportal::delegation::notice::MAX_NOTICE_NAME_CHARS;
use borgerportal::outbox::Template;

use super::SendError;
use crate::language::LANGUAGES;
use crate::texts::text;

/// The placeholder for the code in `notify.verify_code.*` (leptos_i18n's variable syntax, so
/// the shared locale files stay valid for the app).
const CODE_PLACEHOLDER: &str = "{{ code }}";
/// The placeholder for the other party's name in `notify.delegation_*`.
const NAME_PLACEHOLDER: &str = "{{ name }}";
/// The placeholder for the end date in `notify.delegation_ending.*`.
const DATE_PLACEHOLDER: &str = "{{ date }}";

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
        Template::DelegationEnding => ending(params, language)?,
        Template::SigningRequested => signing(
            params,
            language,
            [
                "notify.signing_requested.subject",
                "notify.signing_requested.body",
                "notify.signing_requested.sms",
            ],
        )?,
        Template::SigningReminder => signing(
            params,
            language,
            [
                "notify.signing_reminder.subject",
                "notify.signing_reminder.body",
                "notify.signing_reminder.sms",
            ],
        )?,
        Template::DelegationRequested
        | Template::DelegationGranted
        | Template::DelegationRevoked
        | Template::DelegationGivenUp
        | Template::DelegationFirstUse => {
            let [subject, body, sms] = match template {
                Template::DelegationRequested => [
                    "notify.delegation_requested.subject",
                    "notify.delegation_requested.body",
                    "notify.delegation_requested.sms",
                ],
                Template::DelegationGranted => [
                    "notify.delegation_granted.subject",
                    "notify.delegation_granted.body",
                    "notify.delegation_granted.sms",
                ],
                Template::DelegationRevoked => [
                    "notify.delegation_revoked.subject",
                    "notify.delegation_revoked.body",
                    "notify.delegation_revoked.sms",
                ],
                Template::DelegationGivenUp => [
                    "notify.delegation_given_up.subject",
                    "notify.delegation_given_up.body",
                    "notify.delegation_given_up.sms",
                ],
                _ => [
                    "notify.delegation_first_use.subject",
                    "notify.delegation_first_use.body",
                    "notify.delegation_first_use.sms",
                ],
            };
            let name = notice_name(params)?;
            (
                t(subject),
                t(body).replace(NAME_PLACEHOLDER, name),
                t(sms).replace(NAME_PLACEHOLDER, name),
            )
        }
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

/// The other party's name in a delegation notice: one line, not empty, at most
/// [`MAX_NOTICE_NAME_CHARS`] characters (the domain cuts longer ones when queuing).
fn notice_name(params: &serde_json::Value) -> Result<&str, SendError> {
    params
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|name| {
            !name.is_empty()
                && name.chars().count() <= MAX_NOTICE_NAME_CHARS
                && !name.chars().any(char::is_control)
        })
        .ok_or_else(|| SendError::Permanent("render.params".to_owned()))
}

/// "The authority … ends on D", worded for the giver or the holder (`role`), with the other
/// party's name and the last day (`ends_on`, `YYYY-MM-DD`) as `language` writes dates.
fn ending(
    params: &serde_json::Value,
    language: &str,
) -> Result<(String, String, String), SendError> {
    let bad = || SendError::Permanent("render.params".to_owned());
    let name = notice_name(params)?;
    let ends_on = params
        .get("ends_on")
        .and_then(serde_json::Value::as_str)
        .and_then(parse_day)
        .ok_or_else(bad)?;
    let date = app::routes::authority::date_in_words(ends_on, language);
    let (body, sms) = match params.get("role").and_then(serde_json::Value::as_str) {
        Some("giver") => (
            "notify.delegation_ending.body_giver",
            "notify.delegation_ending.sms_giver",
        ),
        Some("holder") => (
            "notify.delegation_ending.body_holder",
            "notify.delegation_ending.sms_holder",
        ),
        _ => return Err(bad()),
    };
    let fill = |key: &str| {
        text(language, key)
            .replace(NAME_PLACEHOLDER, name)
            .replace(DATE_PLACEHOLDER, &date)
    };
    Ok((
        text(language, "notify.delegation_ending.subject"),
        fill(body),
        fill(sms),
    ))
}

/// "X has sent you a document to sign" and its reminder: the agency's name and the deadline
/// (`date`, `YYYY-MM-DD`) as `language` writes dates; never a title or a link.
fn signing(
    params: &serde_json::Value,
    language: &str,
    [subject, body, sms]: [&str; 3],
) -> Result<(String, String, String), SendError> {
    let name = notice_name(params)?;
    let deadline = params
        .get("date")
        .and_then(serde_json::Value::as_str)
        .and_then(parse_day)
        .ok_or_else(|| SendError::Permanent("render.params".to_owned()))?;
    let date = app::routes::authority::date_in_words(deadline, language);
    let fill = |key: &str| {
        text(language, key)
            .replace(NAME_PLACEHOLDER, name)
            .replace(DATE_PLACEHOLDER, &date)
    };
    Ok((fill(subject), fill(body), fill(sms)))
}

/// A day written `YYYY-MM-DD`.
fn parse_day(text: &str) -> Option<time::Date> {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let digits = |part: &str, len| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
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

    /// The delegation notices' parameters as the domain queues them.
    fn notice(lang: &str) -> serde_json::Value {
        json!({"language": lang, "name": "Kari Nordmann"})
    }

    fn ending(lang: &str, role: &str) -> serde_json::Value {
        json!({"language": lang, "name": "Kari Nordmann", "ends_on": "2026-06-30", "role": role})
    }

    #[test]
    fn delegation_notices_render_in_every_language_with_the_name_and_no_link() {
        for lang in LANGUAGES {
            let cases = [
                (Template::DelegationRequested, notice(lang)),
                (Template::DelegationGranted, notice(lang)),
                (Template::DelegationRevoked, notice(lang)),
                (Template::DelegationGivenUp, notice(lang)),
                (Template::DelegationFirstUse, notice(lang)),
                (Template::DelegationEnding, ending(lang, "giver")),
                (Template::DelegationEnding, ending(lang, "holder")),
            ];
            let mut bodies = std::collections::HashSet::new();
            let mut texts = std::collections::HashSet::new();
            for (template, params) in cases {
                let rendered = render(template, &params, None).unwrap();
                assert_eq!(rendered.language, lang);
                for part in [&rendered.subject, &rendered.email_body, &rendered.sms_text] {
                    assert!(!part.contains("notify."), "{lang}: key not found: {part}");
                    assert!(!part.contains("{{"), "{lang}: placeholder left: {part}");
                    assert!(!part.contains("http"), "{lang}: a link: {part}");
                    assert!(!part.contains("www."), "{lang}: a link: {part}");
                    assert!(part.contains("Borgerportal"), "{lang}: where? {part}");
                }
                // The name in the text, not in the subject (a mailbox list shows subjects).
                assert!(!rendered.subject.contains("Kari"), "{lang}: {template:?}");
                assert!(rendered.email_body.contains("Kari Nordmann"), "{lang}");
                assert!(rendered.sms_text.contains("Kari Nordmann"), "{lang}");
                assert!(
                    rendered.sms_text.chars().count() <= 160,
                    "{lang}: SMS longer than one part: {}",
                    rendered.sms_text
                );
                if template == Template::DelegationEnding {
                    let day = if lang == "en" {
                        "30 Jun 2026"
                    } else {
                        "30.06.2026"
                    };
                    assert!(rendered.email_body.contains(day), "{lang}: {day}");
                    assert!(rendered.sms_text.contains(day), "{lang}: {day}");
                }
                // Each event has its own words.
                assert!(
                    bodies.insert(rendered.email_body.clone()),
                    "{lang}: {template:?}"
                );
                assert!(
                    texts.insert(rendered.sms_text.clone()),
                    "{lang}: {template:?}"
                );
            }
        }
        // The language is the recipient's own, as for every message.
        let danish = render(Template::DelegationGranted, &notice("da"), Some("nb")).unwrap();
        assert!(
            danish.email_body.contains("fuldmagt"),
            "{}",
            danish.email_body
        );
        let bokmal = render(Template::DelegationGranted, &notice("nb"), None).unwrap();
        assert!(
            bokmal.email_body.contains("fullmakt"),
            "{}",
            bokmal.email_body
        );
    }

    #[test]
    fn every_template_has_its_texts() {
        for template in Template::ALL {
            let params = match template {
                Template::VerifyCode => json!({"code": "123456"}),
                Template::ContactChanged => json!({"method": "email"}),
                Template::DelegationEnding => ending("nn", "holder"),
                Template::SigningRequested | Template::SigningReminder => {
                    json!({"language": "nn", "name": "NAV", "date": "2026-12-21"})
                }
                _ => notice("nn"),
            };
            let rendered = render(template, &params, None);
            assert!(rendered.is_ok(), "{template:?}: {rendered:?}");
        }
    }

    #[test]
    fn signing_messages_name_the_agency_and_the_deadline_and_nothing_else() {
        for lang in LANGUAGES {
            for template in [Template::SigningRequested, Template::SigningReminder] {
                let params = json!({"language": lang, "name": "NAV", "date": "2026-12-21"});
                let rendered = render(template, &params, None).unwrap();
                let date = app::routes::authority::date_in_words(
                    time::macros::date!(2026 - 12 - 21),
                    lang,
                );
                for text in [&rendered.email_body, &rendered.sms_text] {
                    assert!(text.contains("NAV"), "{lang} {template:?}: {text}");
                    assert!(text.contains(&date), "{lang} {template:?}: {text}");
                    assert!(!text.contains("http"), "no link: {text}");
                    assert!(!text.contains("{{"), "every placeholder filled: {text}");
                }
                assert!(rendered.sms_text.chars().count() <= 160, "{lang}: one SMS");
            }
        }
        let refused = Err(SendError::Permanent("render.params".to_owned()));
        for params in [
            json!({"name": "NAV"}),
            json!({"name": "NAV", "date": "21.12.2026"}),
            json!({"date": "2026-12-21"}),
        ] {
            assert_eq!(render(Template::SigningRequested, &params, None), refused);
        }
    }

    #[test]
    fn a_malformed_delegation_notice_is_never_sent() {
        let refused = Err(SendError::Permanent("render.params".to_owned()));
        for params in [
            json!({}),
            json!({"name": ""}),
            json!({"name": "   "}),
            json!({"name": 17}),
            json!({"name": "Kari\nRing 815 00 000"}),
            json!({"name": "K".repeat(MAX_NOTICE_NAME_CHARS + 1)}),
        ] {
            assert_eq!(
                render(Template::DelegationRequested, &params, None),
                refused
            );
        }
        for (ends_on, role) in [
            ("2026-06-31", "giver"),
            ("30.06.2026", "giver"),
            ("+2026-06-30", "giver"),
            ("2026-6-30", "holder"),
            ("2026-06-30", "staff"),
        ] {
            let params = json!({"name": "Kari", "ends_on": ends_on, "role": role});
            assert_eq!(render(Template::DelegationEnding, &params, None), refused);
        }
        assert_eq!(
            render(Template::DelegationEnding, &json!({"name": "Kari"}), None),
            refused
        );
    }
}
