#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Contact values and notification rules, tested from the outside without a database:
//! normalisation and validation tables for e-mail addresses and mobile numbers, masking,
//! the notification and staleness rules, and SMS quiet hours across the summer-time changes.
//! (What the register stores and how is in `tests/storage.rs`, on both databases.)

use borgerportal::{
    is_sms_allowed_at, next_allowed_sms_time, ContactInfo, ContactInputError, ContactStatus,
    ContactValue, Country, EmailAddress, Language, MobileNumber, NewNotification, NordicTimeZone,
    PersonId, Template, DEFAULT_STALENESS,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

// ---------------------------------------------------------------------------------------------
// E-mail addresses

#[test]
fn email_addresses_are_normalised() {
    for (input, stored) in [
        ("kari@example.no", "kari@example.no"),
        ("  Kari.Nordmann@Example.NO \n", "Kari.Nordmann@example.no"),
        ("KARI@EXAMPLE.NO", "KARI@example.no"),
        (
            "ola+post@mail.sub.example.com",
            "ola+post@mail.sub.example.com",
        ),
        ("o'brien@example.ie", "o'brien@example.ie"),
        (
            "a_b-c!#$%&*/=?^`{|}~@example.dk",
            "a_b-c!#$%&*/=?^`{|}~@example.dk",
        ),
        ("x@a.co", "x@a.co"),
        ("kari@xn--blbr-roah.no", "kari@xn--blbr-roah.no"),
        ("kari@Blåbær.no", "kari@xn--blbr-roah.no"),
        ("søren@øl.dk", ""),
    ] {
        let parsed = EmailAddress::parse(input);
        if stored.is_empty() {
            // A non-ASCII local part needs SMTPUTF8, which the senders cannot count on.
            assert_eq!(parsed, Err(ContactInputError::EmailInvalid), "{input:?}");
        } else {
            assert_eq!(parsed.unwrap().as_str(), stored, "{input:?}");
        }
    }
    let idn = EmailAddress::parse("kari@blåbær.no").unwrap();
    assert_eq!(idn.for_display(), "kari@blåbær.no");
    assert_eq!(
        EmailAddress::parse("Kari@EXAMPLE.no").unwrap(),
        EmailAddress::parse("Kari@example.NO").unwrap()
    );
}

#[test]
fn malformed_email_addresses_give_the_right_error() {
    let long_local = format!("{}@example.no", "k".repeat(65));
    let long_total = format!("kari@{}.no", vec!["a".repeat(60); 5].join("."));
    for (input, error) in [
        ("", ContactInputError::EmailEmpty),
        ("   ", ContactInputError::EmailEmpty),
        ("kari", ContactInputError::EmailInvalid),
        ("kari@", ContactInputError::EmailInvalid),
        ("@example.no", ContactInputError::EmailInvalid),
        ("kari@example", ContactInputError::EmailInvalid),
        ("kari@localhost", ContactInputError::EmailInvalid),
        ("kari@@example.no", ContactInputError::EmailInvalid),
        ("kari@ola@example.no", ContactInputError::EmailInvalid),
        (".kari@example.no", ContactInputError::EmailInvalid),
        ("kari.@example.no", ContactInputError::EmailInvalid),
        ("ka..ri@example.no", ContactInputError::EmailInvalid),
        ("kari nordmann@example.no", ContactInputError::EmailInvalid),
        ("\"kari\"@example.no", ContactInputError::EmailInvalid),
        ("kari@exa mple.no", ContactInputError::EmailInvalid),
        ("kari@-example.no", ContactInputError::EmailInvalid),
        ("kari@example-.no", ContactInputError::EmailInvalid),
        ("kari@example..no", ContactInputError::EmailInvalid),
        ("kari@example.no.", ContactInputError::EmailInvalid),
        ("kari@example.n", ContactInputError::EmailInvalid),
        ("kari@10.0.0.1", ContactInputError::EmailInvalid),
        ("kari@[10.0.0.1]", ContactInputError::EmailInvalid),
        ("kari@exam_ple.no", ContactInputError::EmailInvalid),
        ("kari<script>@example.no", ContactInputError::EmailInvalid),
        (long_local.as_str(), ContactInputError::EmailTooLong),
        (long_total.as_str(), ContactInputError::EmailTooLong),
    ] {
        assert_eq!(EmailAddress::parse(input), Err(error), "{input:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Mobile numbers

#[test]
fn mobile_numbers_become_e164_with_the_persons_country_as_default() {
    use Country::{Denmark, Norway};
    for (input, country, stored) in [
        ("91234567", Norway, "+4791234567"),
        ("912 34 567", Norway, "+4791234567"),
        ("  412-34-567 ", Norway, "+4741234567"),
        ("+47 912 34 567", Norway, "+4791234567"),
        ("+47 912 34 567", Denmark, "+4791234567"),
        ("0047 91234567", Denmark, "+4791234567"),
        ("20 12 34 56", Denmark, "+4520123456"),
        ("20.12.34.56", Denmark, "+4520123456"),
        ("+45 20 12 34 56", Norway, "+4520123456"),
        ("+45 (20) 12 34 56", Norway, "+4520123456"),
        ("+46 70 123 45 67", Norway, "+46701234567"),
        ("00 46 70 123 45 67", Denmark, "+46701234567"),
        ("+1 202 555 0100", Norway, "+12025550100"),
        ("+298 123456", Denmark, "+298123456"),
    ] {
        let parsed = MobileNumber::parse(input, country).unwrap();
        assert_eq!(parsed.as_str(), stored, "{input:?} in {country:?}");
        assert_eq!(MobileNumber::from_e164(stored).unwrap(), parsed);
    }
}

#[test]
fn malformed_mobile_numbers_give_the_right_error() {
    use Country::{Denmark, Norway};
    for (input, country, error) in [
        ("", Norway, ContactInputError::MobileEmpty),
        ("  ", Denmark, ContactInputError::MobileEmpty),
        ("+", Norway, ContactInputError::MobileInvalid),
        ("abc", Norway, ContactInputError::MobileInvalid),
        ("9123456x", Norway, ContactInputError::MobileInvalid),
        ("912/34/567", Norway, ContactInputError::MobileInvalid),
        ("+47+91234567", Norway, ContactInputError::MobileInvalid),
        ("(+47) 91234567", Norway, ContactInputError::MobileInvalid),
        ("9123456", Norway, ContactInputError::MobileWrongLength),
        ("912345678", Norway, ContactInputError::MobileWrongLength),
        ("4791234567", Norway, ContactInputError::MobileWrongLength),
        (
            "+47 9123 4567 8",
            Norway,
            ContactInputError::MobileWrongLength,
        ),
        ("2012345", Denmark, ContactInputError::MobileWrongLength),
        ("22 22 22 22", Norway, ContactInputError::MobileNotMobile),
        (
            "+47 22 22 22 22",
            Denmark,
            ContactInputError::MobileNotMobile,
        ),
        ("800 12 345", Norway, ContactInputError::MobileNotMobile),
        ("12 34 56 78", Denmark, ContactInputError::MobileInvalid),
        ("+45 02 34 56 78", Norway, ContactInputError::MobileInvalid),
        ("+0 123 456 789", Norway, ContactInputError::MobileInvalid),
        ("+46 123", Norway, ContactInputError::MobileWrongLength),
        (
            "+46 1234 5678 9012 34",
            Norway,
            ContactInputError::MobileWrongLength,
        ),
    ] {
        assert_eq!(
            MobileNumber::parse(input, country),
            Err(error),
            "{input:?} in {country:?}"
        );
    }
    for stored in ["4791234567", "+47 91234567", "+4722222222", ""] {
        assert!(MobileNumber::from_e164(stored).is_err(), "{stored:?}");
    }
}

#[test]
fn error_codes_are_stable_and_distinct() {
    let all = [
        ContactInputError::EmailEmpty,
        ContactInputError::EmailInvalid,
        ContactInputError::EmailTooLong,
        ContactInputError::MobileEmpty,
        ContactInputError::MobileInvalid,
        ContactInputError::MobileWrongLength,
        ContactInputError::MobileNotMobile,
        ContactInputError::MailboxProviderInvalid,
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(|error| error.code()).collect();
    assert_eq!(codes.len(), all.len());
    assert!(codes.iter().all(|code| code.starts_with("contact.")));
    assert_eq!(
        ContactInputError::EmailInvalid.code(),
        "contact.email_invalid"
    );
    assert_eq!(
        ContactInputError::MobileInvalid.code(),
        "contact.mobile_invalid"
    );
}

// ---------------------------------------------------------------------------------------------
// Masking: what a log line can show

#[test]
fn debug_and_display_are_masked() {
    let email = EmailAddress::parse("kari.nordmann@example.no").unwrap();
    assert_eq!(format!("{email:?}"), "EmailAddress(k***@example.no)");
    assert_eq!(format!("{email}"), "k***@example.no");
    assert_eq!(email.masked(), "k***@example.no");

    for (stored, masked, shown) in [
        ("+4791234567", "+47 *** ** 567", "+47 912 34 567"),
        ("+4520123456", "+45 *** ** 456", "+45 20 12 34 56"),
        ("+46701234567", "+*** ** 567", "+46701234567"),
    ] {
        let mobile = MobileNumber::from_e164(stored).unwrap();
        assert_eq!(format!("{mobile:?}"), format!("MobileNumber({masked})"));
        assert_eq!(format!("{mobile}"), masked);
        assert_eq!(mobile.for_display(), shown);
    }

    let now = datetime!(2025-06-02 10:00 UTC);
    let mut info = ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nb);
    info.email = Some(verified(email, now));
    info.mobile = Some(verified(
        MobileNumber::from_e164("+4791234567").unwrap(),
        now,
    ));
    let debug = format!("{info:?}");
    assert!(!debug.contains("kari.nordmann"), "{debug}");
    assert!(!debug.contains("91234567"), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// The notification rules

fn verified<T>(value: T, at: OffsetDateTime) -> ContactValue<T> {
    ContactValue {
        value,
        updated_at: at,
        verified_at: Some(at),
    }
}

fn active(email_at: Option<OffsetDateTime>, mobile_at: Option<OffsetDateTime>) -> ContactInfo {
    let mut info = ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nb);
    info.status = ContactStatus::Active;
    info.email = email_at.map(|at| verified(EmailAddress::parse("kari@example.no").unwrap(), at));
    info.mobile = mobile_at.map(|at| verified(MobileNumber::from_e164("+4791234567").unwrap(), at));
    info
}

#[test]
fn notification_needs_a_fresh_verified_value_and_no_reservation() {
    let t0 = datetime!(2024-01-10 12:00 UTC);
    let limit = t0 + DEFAULT_STALENESS;
    assert_eq!(DEFAULT_STALENESS, Duration::days(548));

    let info = active(Some(t0), None);
    assert!(info.can_be_notified(t0, DEFAULT_STALENESS));
    assert!(info.can_be_notified(limit - Duration::seconds(1), DEFAULT_STALENESS));
    assert!(!info.can_be_notified(limit, DEFAULT_STALENESS));
    assert!(!info.is_stale(limit - Duration::seconds(1), DEFAULT_STALENESS));
    assert!(info.is_stale(limit, DEFAULT_STALENESS));
    assert!(info.fresh_email(t0, DEFAULT_STALENESS).is_some());
    assert!(info.fresh_mobile(t0, DEFAULT_STALENESS).is_none());

    // One fresh method is enough to notify; one stale method is enough to ask.
    let mixed = active(Some(t0), Some(t0 + Duration::days(300)));
    assert!(mixed.can_be_notified(limit, DEFAULT_STALENESS));
    assert!(mixed.fresh_email(limit, DEFAULT_STALENESS).is_none());
    assert!(mixed.fresh_mobile(limit, DEFAULT_STALENESS).is_some());
    assert!(mixed.is_stale(limit, DEFAULT_STALENESS));
    // A shorter limit asks earlier (the "please confirm" prompt before the hard limit).
    assert!(mixed.is_stale(t0 + Duration::days(366), Duration::days(365)));

    // Reserved: never notified, whatever is registered.
    let mut reserved = active(Some(t0), Some(t0));
    reserved.reserved = true;
    assert!(!reserved.can_be_notified(t0, DEFAULT_STALENESS));
    assert!(reserved.fresh_email(t0, DEFAULT_STALENESS).is_none());

    // Never verified (imported) values do not count.
    let mut unverified = active(Some(t0), None);
    if let Some(email) = unverified.email.as_mut() {
        email.verified_at = None;
    }
    assert!(!unverified.can_be_notified(t0, DEFAULT_STALENESS));
    assert!(unverified.is_stale(t0, DEFAULT_STALENESS));

    // Nothing registered: cannot be notified, nothing to confirm.
    let nothing = ContactInfo::not_registered(PersonId::new(), Country::Denmark, Language::Da);
    assert!(!nothing.can_be_notified(t0, DEFAULT_STALENESS));
    assert!(!nothing.is_stale(t0, DEFAULT_STALENESS));
}

#[test]
fn the_login_prompt_comes_only_when_every_value_is_stale() {
    let t0 = datetime!(2024-01-10 12:00 UTC);
    let limit = t0 + DEFAULT_STALENESS;

    // One stale value beside a fresh one: still notifiable, so no stop after login.
    let mixed = active(Some(t0), Some(t0 + Duration::days(300)));
    assert!(!mixed.must_be_confirmed(limit, DEFAULT_STALENESS));
    // Both stale: asked.
    let both = active(Some(t0), Some(t0 + Duration::days(300)));
    assert!(!both.must_be_confirmed(limit + Duration::days(299), DEFAULT_STALENESS));
    assert!(both.must_be_confirmed(limit + Duration::days(300), DEFAULT_STALENESS));
    // One value only, at the edge.
    let one = active(None, Some(t0));
    assert!(!one.must_be_confirmed(limit - Duration::seconds(1), DEFAULT_STALENESS));
    assert!(one.must_be_confirmed(limit, DEFAULT_STALENESS));
    // Reserved people keep their contact data right too.
    let mut reserved = active(Some(t0), None);
    reserved.reserved = true;
    assert!(reserved.must_be_confirmed(limit, DEFAULT_STALENESS));
    // Never verified counts as stale.
    let mut unverified = active(Some(t0), None);
    if let Some(email) = unverified.email.as_mut() {
        email.verified_at = None;
    }
    assert!(unverified.must_be_confirmed(t0, DEFAULT_STALENESS));
    // Nothing registered: nothing to confirm.
    let nothing = ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nb);
    assert!(!nothing.must_be_confirmed(limit, DEFAULT_STALENESS));
}

// ---------------------------------------------------------------------------------------------
// SMS quiet hours

#[test]
fn quiet_hours_hold_sms_from_22_to_08_local_time_across_summer_time() {
    // (instant, next allowed). Summer time 2025: from 30 March 01:00 UTC to 26 October 01:00
    // UTC; 08:00 local is 07:00 UTC in winter and 06:00 UTC in summer.
    let table = [
        // A winter day: the edges.
        (
            datetime!(2025-01-15 06:59:59.999 UTC),
            datetime!(2025-01-15 07:00 UTC),
        ),
        (
            datetime!(2025-01-15 07:00 UTC),
            datetime!(2025-01-15 07:00 UTC),
        ),
        (
            datetime!(2025-01-15 20:59:59 UTC),
            datetime!(2025-01-15 20:59:59 UTC),
        ),
        (
            datetime!(2025-01-15 21:00 UTC),
            datetime!(2025-01-16 07:00 UTC),
        ),
        (
            datetime!(2025-01-15 23:30 UTC),
            datetime!(2025-01-16 07:00 UTC),
        ),
        // Across a year.
        (
            datetime!(2025-12-31 22:30 UTC),
            datetime!(2026-01-01 07:00 UTC),
        ),
        // Spring forward (Sunday 30 March 2025): the night starts in CET, ends in CEST.
        (
            datetime!(2025-03-29 21:30 UTC),
            datetime!(2025-03-30 06:00 UTC),
        ),
        (
            datetime!(2025-03-30 00:30 UTC),
            datetime!(2025-03-30 06:00 UTC),
        ),
        (
            datetime!(2025-03-30 01:30 UTC),
            datetime!(2025-03-30 06:00 UTC),
        ),
        (
            datetime!(2025-03-30 05:30 UTC),
            datetime!(2025-03-30 06:00 UTC),
        ),
        // 06:30 UTC is 08:30 CEST (allowed), though it would be 07:30 in CET.
        (
            datetime!(2025-03-30 06:30 UTC),
            datetime!(2025-03-30 06:30 UTC),
        ),
        (
            datetime!(2025-03-30 19:59:59 UTC),
            datetime!(2025-03-30 19:59:59 UTC),
        ),
        (
            datetime!(2025-03-30 20:00 UTC),
            datetime!(2025-03-31 06:00 UTC),
        ),
        // Fall back (Sunday 26 October 2025): the night starts in CEST, ends in CET, and
        // 02:00–03:00 local happens twice.
        (
            datetime!(2025-10-25 19:59:59 UTC),
            datetime!(2025-10-25 19:59:59 UTC),
        ),
        (
            datetime!(2025-10-25 20:30 UTC),
            datetime!(2025-10-26 07:00 UTC),
        ),
        (
            datetime!(2025-10-26 00:30 UTC),
            datetime!(2025-10-26 07:00 UTC),
        ),
        (
            datetime!(2025-10-26 01:30 UTC),
            datetime!(2025-10-26 07:00 UTC),
        ),
        // 06:30 UTC is 07:30 CET (held back), though it would be 08:30 in CEST.
        (
            datetime!(2025-10-26 06:30 UTC),
            datetime!(2025-10-26 07:00 UTC),
        ),
        (
            datetime!(2025-10-26 07:00 UTC),
            datetime!(2025-10-26 07:00 UTC),
        ),
        (
            datetime!(2025-10-26 20:59:59 UTC),
            datetime!(2025-10-26 20:59:59 UTC),
        ),
        (
            datetime!(2025-10-26 21:00 UTC),
            datetime!(2025-10-27 07:00 UTC),
        ),
    ];
    for zone in NordicTimeZone::ALL {
        for (at, allowed) in table {
            assert_eq!(next_allowed_sms_time(at, zone), allowed, "{at} in {zone:?}");
            assert_eq!(
                is_sms_allowed_at(at, zone),
                at == allowed,
                "{at} in {zone:?}"
            );
            // The answer is itself allowed, and nothing earlier after `at` is.
            assert!(is_sms_allowed_at(allowed, zone));
        }
    }
    // An instant written with another offset is the same instant.
    assert_eq!(
        next_allowed_sms_time(datetime!(2025-03-30 03:30 +02:00), NordicTimeZone::Oslo),
        datetime!(2025-03-30 06:00 UTC)
    );
    assert_eq!(
        NordicTimeZone::for_country(Country::Denmark),
        NordicTimeZone::Copenhagen
    );
}

#[test]
fn queued_sms_waits_for_morning_unless_the_person_asked_for_it() {
    let person = PersonId::new();
    let mobile = MobileNumber::from_e164("+4520123456").unwrap();
    let night = datetime!(2025-10-25 22:15 UTC); // 23:15 CEST... then CET by morning
    let letter = NewNotification::sms(
        person,
        &mobile,
        Template::NewLetter,
        serde_json::json!({}),
        "letter:42:sms",
        night,
        NordicTimeZone::Copenhagen,
    )
    .unwrap();
    assert_eq!(letter.earliest(), datetime!(2025-10-26 07:00 UTC));
    assert_eq!(letter.quiet_zone(), Some(NordicTimeZone::Copenhagen));
    // A later start still respects the night.
    let later = letter.clone().not_before(datetime!(2025-10-26 21:30 UTC));
    assert_eq!(later.earliest(), datetime!(2025-10-27 07:00 UTC));

    let code = NewNotification::sms(
        person,
        &mobile,
        Template::VerifyCode,
        serde_json::json!({"code": "123456"}),
        "verify:1",
        night,
        NordicTimeZone::Copenhagen,
    )
    .unwrap();
    assert_eq!(code.earliest(), night);
    assert_eq!(code.quiet_zone(), None);

    let email = EmailAddress::parse("kari@example.no").unwrap();
    let mail = NewNotification::email(
        person,
        &email,
        Template::NewLetter,
        serde_json::json!({}),
        "letter:42:email",
        night,
    )
    .unwrap();
    assert_eq!(mail.earliest(), night, "e-mail has no quiet hours");
}
