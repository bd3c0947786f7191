#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the parties to a delegation are told through the outbox, on both databases (see
//! `on_both_backends!` in `common/mod.rs`): the right template to the right person in their
//! own language, named by the other party's name; once, in the transaction of the change it
//! reports (nothing for a change refused or rolled back); and the end notice 14 days before
//! the last end date, moved along by an injected clock.

#[macro_use]
mod common;
use common::TestDb;

use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant, StoredState};
use borgerportal::{
    Access, Actor, Backend, Capability, ContactMethod, Country, Delegation, DelegationError,
    EmailAddress, GrantAuthority, Language, Loa, ManageAuthority, ManageContact, MobileNumber,
    NationalId, NewPerson, Person, Policy, ReadPost, VerifyOutcome,
};
use sqlx::Connection;
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

/// The injected clock: every call below says what "now" is (noon in Oslo).
const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

// ---------------------------------------------------------------------------------------------
// Persons, contact information and proofs

fn national_id(born: Date, n: u16) -> NationalId {
    (n..1000)
        .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
        .unwrap()
}

async fn register(t: &TestDb, n: u16, given_name: &str, language: Language) -> Person {
    let born = date!(1960 - 01 - 01) + Duration::days(i64::from(n) * 400);
    let new_person = NewPerson::new(national_id(born, n), given_name, "Test", language);
    t.db.create_person(new_person).await.unwrap()
}

fn own<C: Capability>(person: &Person) -> Access<C> {
    Policy::authorize::<C>(
        &Actor::Citizen {
            person: person.id,
            loa: Loa::High,
        },
        person.id,
    )
    .unwrap()
}

/// Gives `person` a verified e-mail address and mobile number (the codes' own messages go to
/// the outbox too; the assertions below look at the delegation templates only).
async fn reachable(t: &TestDb, person: &Person, email: &str, mobile: &str) {
    let access = own::<ManageContact>(person);
    let email = EmailAddress::parse(email).unwrap();
    let sent =
        t.db.request_email_change(&access, email, NOW)
            .await
            .unwrap();
    let verified =
        t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), NOW)
            .await
            .unwrap();
    assert_eq!(verified, VerifyOutcome::Verified);
    let mobile = MobileNumber::parse(mobile, Country::Norway).unwrap();
    let sent =
        t.db.request_mobile_change(&access, mobile, NOW)
            .await
            .unwrap();
    let verified =
        t.db.verify_code(&access, ContactMethod::Mobile, sent.code.expose(), NOW)
            .await
            .unwrap();
    assert_eq!(verified, VerifyOutcome::Verified);
}

/// A giver who reads nynorsk and a holder who reads English, both reachable by e-mail and SMS.
async fn pair(t: &TestDb) -> (Person, Person) {
    let giver = register(t, 1, "Torbjørn", Language::Nn).await;
    let holder = register(t, 2, "Kari", Language::En).await;
    reachable(t, &giver, "torbjorn@example.no", "+4791000001").await;
    reachable(t, &holder, "kari@example.no", "+4791000002").await;
    (giver, holder)
}

fn scopes(ends_on: Date) -> Vec<ScopeGrant> {
    vec![ScopeGrant {
        scope: Scope::ReadPost,
        ends_on,
    }]
}

async fn grant(t: &TestDb, giver: &Person, holder: &Person, ends_on: Date) -> Delegation {
    t.db.grant_delegation(
        &own::<GrantAuthority>(giver),
        holder.id,
        &scopes(ends_on),
        &DelegationRules::default(),
        NOW,
    )
    .await
    .unwrap()
}

async fn request(
    t: &TestDb,
    giver: &Person,
    holder: &Person,
) -> Result<Delegation, DelegationError> {
    t.db.request_delegation(
        &own::<ManageAuthority>(holder),
        giver.id,
        &scopes(date!(2027 - 01 - 01)),
        &DelegationRules::default(),
        NOW,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The outbox as stored

/// One queued message about a delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Message {
    recipient: uuid::Uuid,
    template: String,
    channel: String,
    address: String,
    params: serde_json::Value,
    key: String,
}

/// Runs a query past the store, on a connection of its own; each row's first column as text.
async fn raw_text(t: &TestDb, sqlite_sql: &str, postgres_sql: &str) -> Vec<String> {
    t.raw_text(sqlite_sql, postgres_sql).await
}

/// Runs a statement past the store (the same SQL on both databases).
async fn raw_execute(t: &TestDb, sql: &str) {
    match t.backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&t.url).await.unwrap();
            sqlx::query(sql).execute(&mut connection).await.unwrap();
            connection.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&t.url).await.unwrap();
            sqlx::query(sql).execute(&mut connection).await.unwrap();
            connection.close().await.unwrap();
        }
    }
}

/// Every queued message about a delegation, oldest first.
async fn messages(t: &TestDb) -> Vec<Message> {
    let columns = "recipient_id || '|' || template || '|' || channel || '|' || address || '|' \
                   || idempotency_key || '|' || params";
    let sqlite = format!(
        "SELECT {columns} FROM notifications WHERE template LIKE 'delegation%' ORDER BY id"
    );
    let postgres = format!(
        "SELECT {} FROM notifications WHERE template LIKE 'delegation%' ORDER BY id",
        columns
            .replace("recipient_id", "recipient_id::text")
            .replace("params", "params::text")
    );
    raw_text(t, &sqlite, &postgres)
        .await
        .into_iter()
        .map(|row| {
            let parts: Vec<&str> = row.splitn(6, '|').collect();
            Message {
                recipient: parts[0].parse().unwrap(),
                template: parts[1].to_owned(),
                channel: parts[2].to_owned(),
                address: parts[3].to_owned(),
                key: parts[4].to_owned(),
                params: serde_json::from_str(parts[5]).unwrap(),
            }
        })
        .collect()
}

/// The messages queued since `before` (a count from an earlier `messages`).
async fn new_messages(t: &TestDb, before: usize) -> Vec<Message> {
    messages(t).await.split_off(before)
}

/// Asserts that `queued` is exactly `template` to `to` by e-mail and SMS, in `language`,
/// naming `about` by name (and by nothing else: no national id anywhere in the message).
fn assert_told(queued: &[Message], to: &Person, about: &Person, template: &str, language: &str) {
    assert_eq!(queued.len(), 2, "{queued:#?}");
    let channels: Vec<_> = queued.iter().map(|m| m.channel.as_str()).collect();
    assert_eq!(channels, ["email", "sms"]);
    for message in queued {
        assert_eq!(message.recipient, to.id.as_uuid(), "{message:?}");
        assert_eq!(message.template, template);
        assert_eq!(message.params["language"], language);
        assert_eq!(message.params["name"], about.full_name().as_str());
        let allowed = ["language", "name", "ends_on", "role"];
        let params = message.params.as_object().unwrap();
        assert!(params.keys().all(|key| allowed.contains(&key.as_str())));
        let text = format!("{} {} {}", message.params, message.key, message.address);
        for person in [to, about] {
            assert!(!text.contains(person.national_id.expose()), "{text}");
        }
    }
}

/// Makes inserts into `table` fail.
async fn refuse_inserts(t: &TestDb, table: &str) {
    match t.backend {
        Backend::Sqlite => {
            let sql = format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
            );
            raw_execute(t, &sql).await;
        }
        Backend::Postgres => {
            raw_execute(
                t,
                "CREATE OR REPLACE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$",
            )
            .await;
            let sql = format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION refuse_insert()"
            );
            raw_execute(t, &sql).await;
        }
    }
}

async fn allow_inserts(t: &TestDb, table: &str) {
    let sql = match t.backend {
        Backend::Sqlite => format!("DROP TRIGGER refuse_{table}"),
        Backend::Postgres => format!("DROP TRIGGER refuse_{table} ON {table}"),
    };
    raw_execute(t, &sql).await;
}

// ---------------------------------------------------------------------------------------------
// Changes

async fn a_request_tells_the_giver_in_their_language(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let asked = request(t, &giver, &holder).await.unwrap();
    let queued = messages(t).await;
    assert_told(&queued, &giver, &holder, "delegation_requested", "nn");
    assert_eq!(queued[0].address, "torbjorn@example.no");
    assert_eq!(queued[1].address, "+4791000001");
    assert_eq!(
        queued[0].key,
        format!("delegation.delegation_requested:{}:email", asked.id)
    );
    // A second request while the first is open is refused, and tells no one.
    let again = request(t, &giver, &holder).await;
    assert!(
        matches!(again, Err(DelegationError::RequestAlreadyOpen)),
        "{again:?}"
    );
    assert_eq!(messages(t).await.len(), 2);
    // Withdrawing the request tells no one either (nothing was given).
    t.db.revoke_delegation(&own::<ManageAuthority>(&holder), asked.id, NOW)
        .await
        .unwrap();
    assert_eq!(messages(t).await.len(), 2);
}

async fn a_grant_and_an_approval_tell_the_holder(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let granted = grant(t, &giver, &holder, date!(2026 - 12 - 31)).await;
    let queued = messages(t).await;
    assert_told(&queued, &holder, &giver, "delegation_granted", "en");
    assert_eq!(queued[0].address, "kari@example.no");
    assert_eq!(
        queued[1].key,
        format!("delegation.delegation_granted:{}:sms", granted.id)
    );

    // A request approved: the giver was told of the request, the holder of the approval.
    let other = register(t, 3, "Ola", Language::Da).await;
    reachable(t, &other, "ola@example.dk", "+4791000003").await;
    let asked = request(t, &giver, &other).await.unwrap();
    let before = messages(t).await.len();
    let rules = DelegationRules::default();
    let access = own::<GrantAuthority>(&giver);
    let chosen = scopes(date!(2026 - 09 - 30));
    t.db.approve_delegation(&access, asked.id, &chosen, &rules, NOW)
        .await
        .unwrap();
    let queued = new_messages(t, before).await;
    assert_told(&queued, &other, &giver, "delegation_granted", "da");

    // Approving again, a refused grant and a decline tell no one.
    let before = messages(t).await.len();
    let again =
        t.db.approve_delegation(&access, asked.id, &chosen, &rules, NOW);
    assert!(matches!(again.await, Err(DelegationError::WrongState)));
    let to_oneself =
        t.db.grant_delegation(&access, giver.id, &chosen, &rules, NOW);
    assert!(matches!(to_oneself.await, Err(DelegationError::ToOneself)));
    let too_late = scopes(date!(2040 - 01 - 01));
    let refused =
        t.db.grant_delegation(&access, holder.id, &too_late, &rules, NOW);
    assert!(refused.await.is_err());
    let third = register(t, 4, "Nils", Language::Nb).await;
    reachable(t, &third, "nils@example.no", "+4791000004").await;
    let asked = request(t, &giver, &third).await.unwrap();
    let before_decline = messages(t).await.len();
    assert_eq!(before_decline, before + 2, "the request told the giver");
    t.db.decline_delegation(&own::<ManageAuthority>(&giver), asked.id, NOW)
        .await
        .unwrap();
    assert_eq!(messages(t).await.len(), before_decline);
}

async fn a_revocation_tells_the_other_side(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let first = grant(t, &giver, &holder, date!(2026 - 12 - 31)).await;
    let second = grant(t, &giver, &holder, date!(2026 - 12 - 31)).await;
    let before = messages(t).await.len();

    // The giver revokes: the holder is told, in English, with the giver's name.
    t.db.revoke_delegation(&own::<ManageAuthority>(&giver), first.id, NOW)
        .await
        .unwrap();
    let queued = new_messages(t, before).await;
    assert_told(&queued, &holder, &giver, "delegation_revoked", "en");

    // The holder gives one up: the giver is told, in nynorsk, with the holder's name.
    let before = messages(t).await.len();
    t.db.revoke_delegation(&own::<ManageAuthority>(&holder), second.id, NOW)
        .await
        .unwrap();
    let queued = new_messages(t, before).await;
    assert_told(&queued, &giver, &holder, "delegation_given_up", "nn");

    // Revoking again is refused and tells no one; so is one whose end dates have all passed.
    let before = messages(t).await.len();
    let manage = own::<ManageAuthority>(&giver);
    let again = t.db.revoke_delegation(&manage, first.id, NOW).await;
    assert!(matches!(again, Err(DelegationError::WrongState)));
    let ended = grant(t, &giver, &holder, date!(2026 - 05 - 31)).await;
    let before = before + 2; // its grant
    assert_eq!(messages(t).await.len(), before);
    let june = datetime!(2026-06-05 10:00 UTC);
    let revoked =
        t.db.revoke_delegation(&own::<ManageAuthority>(&giver), ended.id, june)
            .await
            .unwrap();
    assert_eq!(revoked.stored_state, StoredState::Revoked);
    assert_eq!(messages(t).await.len(), before);
}

async fn an_approval_racing_a_revocation_tells_what_happened(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    for round in 0..10 {
        let asked = request(t, &giver, &holder).await.unwrap();
        let before = messages(t).await.len();
        let approve = {
            let db = t.db.clone();
            let access = own::<GrantAuthority>(&giver);
            let chosen = asked.scopes.clone();
            tokio::spawn(async move {
                let rules = DelegationRules::default();
                db.approve_delegation(&access, asked.id, &chosen, &rules, NOW)
                    .await
            })
        };
        let revoke = {
            let db = t.db.clone();
            let access = own::<ManageAuthority>(&holder);
            tokio::spawn(async move { db.revoke_delegation(&access, asked.id, NOW).await })
        };
        let (approved, revoked) = (approve.await.unwrap(), revoke.await.unwrap());
        assert!(revoked.is_ok(), "round {round}: {revoked:?}");
        let templates: Vec<_> = new_messages(t, before)
            .await
            .into_iter()
            .map(|message| message.template)
            .collect();
        if approved.is_ok() {
            // Approved, then given up: the holder heard of the one, the giver of the other.
            assert_eq!(
                templates,
                [
                    "delegation_granted",
                    "delegation_granted",
                    "delegation_given_up",
                    "delegation_given_up"
                ],
                "round {round}"
            );
        } else {
            // The request was withdrawn before the approval: nothing was given, no one told.
            assert!(templates.is_empty(), "round {round}: {templates:?}");
        }
    }
}

async fn the_first_use_tells_the_giver_once(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    grant(t, &giver, &holder, date!(2026 - 12 - 31)).await;
    let before = messages(t).await.len();
    let helper = Actor::Citizen {
        person: holder.id,
        loa: Loa::High,
    };
    let access =
        t.db.decide_access::<ReadPost>(&helper, giver.id, NOW)
            .await
            .unwrap()
            .unwrap();
    let use_at = NOW + Duration::hours(1);
    assert!(t.db.record_delegation_use(&access, use_at).await.unwrap());
    let queued = new_messages(t, before).await;
    assert_told(&queued, &giver, &holder, "delegation_first_use", "nn");
    // Later uses tell no one.
    for minutes in [1, 5, 60] {
        let later = use_at + Duration::minutes(minutes);
        assert!(!t.db.record_delegation_use(&access, later).await.unwrap());
    }
    assert_eq!(messages(t).await.len(), before + 2);
    // The giver's own use of their data is not a helper's.
    let own_access = own::<ReadPost>(&giver);
    assert!(!t
        .db
        .record_delegation_use(&own_access, use_at)
        .await
        .unwrap());
    assert_eq!(messages(t).await.len(), before + 2);
}

async fn nothing_is_told_for_a_change_that_rolls_back(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let access = own::<GrantAuthority>(&giver);
    let rules = DelegationRules::default();
    let chosen = scopes(date!(2026 - 12 - 31));
    let before = messages(t).await.len();

    // The history entry is written after the message: when it fails, the message queued
    // earlier in the same transaction is gone with the delegation.
    refuse_inserts(t, "delegation_events").await;
    let failed =
        t.db.grant_delegation(&access, holder.id, &chosen, &rules, NOW);
    assert!(matches!(failed.await, Err(DelegationError::Store(_))));
    let failed = request(t, &holder, &giver).await;
    assert!(matches!(failed, Err(DelegationError::Store(_))));
    allow_inserts(t, "delegation_events").await;
    assert_eq!(messages(t).await.len(), before);
    let given = own::<ManageAuthority>(&giver);
    assert!(t.db.delegations_given(&given).await.unwrap().is_empty());

    // A message that cannot be queued takes the change with it: nothing is half done.
    refuse_inserts(t, "notifications").await;
    let failed =
        t.db.grant_delegation(&access, holder.id, &chosen, &rules, NOW);
    assert!(matches!(failed.await, Err(DelegationError::Store(_))));
    assert!(t.db.delegations_given(&given).await.unwrap().is_empty());
    allow_inserts(t, "notifications").await;

    // The first use, likewise: not recorded unless the giver's message is queued with it, so
    // the next use is still the first.
    let delegation = grant(t, &giver, &holder, date!(2026 - 12 - 31)).await;
    let helper = Actor::Citizen {
        person: holder.id,
        loa: Loa::High,
    };
    let used = t.db.decide_access::<ReadPost>(&helper, giver.id, NOW);
    let used = used.await.unwrap().unwrap();
    let before = messages(t).await.len();
    refuse_inserts(t, "notifications").await;
    assert!(t.db.record_delegation_use(&used, NOW).await.is_err());
    allow_inserts(t, "notifications").await;
    let listed = t.db.delegations_given(&given).await.unwrap();
    assert_eq!(listed[0].delegation.id, delegation.id);
    assert_eq!(listed[0].delegation.last_used_at, None);
    assert_eq!(messages(t).await.len(), before);
    assert!(t.db.record_delegation_use(&used, NOW).await.unwrap());
    assert_eq!(new_messages(t, before).await.len(), 2);
}

async fn someone_who_cannot_be_notified_is_not(t: &TestDb) {
    let giver = register(t, 1, "Torbjørn", Language::Nb).await;
    // No contact information at all.
    let holder = register(t, 2, "Kari", Language::En).await;
    // Reserved against digital communication.
    let reserved = register(t, 3, "Ola", Language::Nb).await;
    reachable(t, &reserved, "ola@example.no", "+4791000003").await;
    let contact = own::<ManageContact>(&reserved);
    t.db.set_reservation(&contact, true, NOW).await.unwrap();
    grant(t, &giver, &holder, date!(2026 - 12 - 31)).await;
    grant(t, &giver, &reserved, date!(2026 - 12 - 31)).await;
    assert!(messages(t).await.is_empty());
    // The giver has only an e-mail address: one message, by e-mail.
    let access = own::<ManageContact>(&giver);
    let email = EmailAddress::parse("torbjorn@example.no").unwrap();
    let sent =
        t.db.request_email_change(&access, email, NOW)
            .await
            .unwrap();
    t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), NOW)
        .await
        .unwrap();
    request(t, &giver, &holder).await.unwrap();
    let queued = messages(t).await;
    assert_eq!(queued.len(), 1, "{queued:#?}");
    assert_eq!(queued[0].channel, "email");
    assert_eq!(queued[0].params["language"], "nb");
}

// ---------------------------------------------------------------------------------------------
// The end notice

/// Noon in Oslo on `day`.
fn on(day: Date) -> OffsetDateTime {
    day.with_hms(10, 0, 0).unwrap().assume_utc()
}

async fn the_end_notice_comes_14_days_before_once_and_again_after_an_extend(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let ends_on = date!(2026 - 06 - 30);
    let delegation = grant(t, &giver, &holder, ends_on).await;
    let before = messages(t).await.len();

    // Day 15 before the end: not yet.
    let day_15 = on(date!(2026 - 06 - 15));
    assert_eq!(
        t.db.queue_delegation_end_notices(day_15, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(messages(t).await.len(), before);

    // Day 14: both parties, each in their language, with the other's name and the date.
    let day_14 = on(date!(2026 - 06 - 16));
    assert_eq!(
        t.db.queue_delegation_end_notices(day_14, 100)
            .await
            .unwrap(),
        1
    );
    let queued = new_messages(t, before).await;
    assert_eq!(queued.len(), 4, "{queued:#?}");
    assert_told(&queued[..2], &giver, &holder, "delegation_ending", "nn");
    assert_told(&queued[2..], &holder, &giver, "delegation_ending", "en");
    for (message, role) in queued.iter().zip(["giver", "giver", "holder", "holder"]) {
        assert_eq!(message.params["ends_on"], "2026-06-30");
        assert_eq!(message.params["role"], role);
    }
    assert_eq!(
        queued[0].key,
        format!("delegation.ending:{}:2026-06-30:giver:email", delegation.id)
    );

    // Not again: the same day, the next, the last day.
    let told = messages(t).await.len();
    for day in [day_14, on(date!(2026 - 06 - 17)), on(ends_on)] {
        assert_eq!(
            t.db.queue_delegation_end_notices(day, 100).await.unwrap(),
            0
        );
    }
    assert_eq!(messages(t).await.len(), told);

    // Extended to 31 July: the new end is told in its turn, 14 days before it.
    let changed_at = on(date!(2026 - 06 - 20));
    let extended = scopes(date!(2026 - 07 - 31));
    let rules = DelegationRules::default();
    let access = own::<GrantAuthority>(&giver);
    t.db.change_delegation(&access, delegation.id, &extended, &rules, changed_at)
        .await
        .unwrap();
    for day in [changed_at, on(date!(2026 - 07 - 16))] {
        assert_eq!(
            t.db.queue_delegation_end_notices(day, 100).await.unwrap(),
            0
        );
    }
    assert_eq!(messages(t).await.len(), told);
    let again_at = on(date!(2026 - 07 - 17));
    assert_eq!(
        t.db.queue_delegation_end_notices(again_at, 100)
            .await
            .unwrap(),
        1
    );
    let queued = new_messages(t, told).await;
    assert_eq!(queued.len(), 4, "{queued:#?}");
    assert!(queued.iter().all(|m| m.params["ends_on"] == "2026-07-31"));
    assert_eq!(
        t.db.queue_delegation_end_notices(again_at, 100)
            .await
            .unwrap(),
        0
    );

    // Ended: never told again.
    let after = on(date!(2026 - 08 - 01));
    assert_eq!(
        t.db.queue_delegation_end_notices(after, 100).await.unwrap(),
        0
    );
    assert_eq!(messages(t).await.len(), told + 4);
}

async fn the_end_notice_is_for_the_last_end_date_of_a_delegation_in_force(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let rules = DelegationRules::default();
    let access = own::<GrantAuthority>(&giver);
    // One scope ends within the window, another later: not the delegation's end.
    let two = vec![
        ScopeGrant {
            scope: Scope::ReadPost,
            ends_on: date!(2026 - 06 - 30),
        },
        ScopeGrant {
            scope: Scope::ManageContact,
            ends_on: date!(2026 - 09 - 30),
        },
    ];
    t.db.grant_delegation(&access, holder.id, &two, &rules, NOW)
        .await
        .unwrap();
    // Revoked, and a request never approved: no end to tell of.
    let revoked = grant(t, &giver, &holder, date!(2026 - 06 - 30)).await;
    t.db.revoke_delegation(&own::<ManageAuthority>(&giver), revoked.id, NOW)
        .await
        .unwrap();
    let other = register(t, 3, "Ola", Language::Nb).await;
    reachable(t, &other, "ola@example.no", "+4791000003").await;
    t.db.request_delegation(
        &own::<ManageAuthority>(&other),
        giver.id,
        &scopes(date!(2026 - 06 - 30)),
        &rules,
        NOW,
    )
    .await
    .unwrap();
    let before = messages(t).await.len();
    let day_14 = on(date!(2026 - 06 - 16));
    assert_eq!(
        t.db.queue_delegation_end_notices(day_14, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(messages(t).await.len(), before);
    // The later scope's end is the delegation's: told 14 days before 30 September.
    let september = on(date!(2026 - 09 - 16));
    assert_eq!(
        t.db.queue_delegation_end_notices(september, 100)
            .await
            .unwrap(),
        1
    );
    let queued = new_messages(t, before).await;
    assert_eq!(queued.len(), 4);
    assert!(queued.iter().all(|m| m.params["ends_on"] == "2026-09-30"));
}

async fn the_end_notice_is_taken_once_by_racing_workers_and_a_retry_sends_nothing_twice(
    t: &TestDb,
) {
    let (giver, holder) = pair(t).await;
    for n in 0..5_u16 {
        let helper = register(t, 10 + n, "Helper", Language::Nb).await;
        let (email, mobile) = (format!("h{n}@example.no"), format!("+479200000{n}"));
        reachable(t, &helper, &email, &mobile).await;
        grant(t, &giver, &helper, date!(2026 - 06 - 30)).await;
    }
    grant(t, &giver, &holder, date!(2026 - 06 - 30)).await;
    let before = messages(t).await.len();
    let day_14 = on(date!(2026 - 06 - 16));
    let (a, b) = tokio::join!(
        t.db.queue_delegation_end_notices(day_14, 2),
        t.db.queue_delegation_end_notices(day_14, 100),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let rest =
        t.db.queue_delegation_end_notices(day_14, 100)
            .await
            .unwrap();
    assert_eq!(a + b + rest, 6, "each delegation once ({a} + {b} + {rest})");
    assert_eq!(new_messages(t, before).await.len(), 6 * 4);

    // A retry after the marker was lost (say, restored from a backup) queues nothing new:
    // every message is keyed by delegation, end date, side and channel.
    raw_execute(t, "UPDATE delegations SET end_notice_for = NULL").await;
    assert_eq!(
        t.db.queue_delegation_end_notices(day_14, 100)
            .await
            .unwrap(),
        6
    );
    assert_eq!(new_messages(t, before).await.len(), 6 * 4);
}

on_both_backends!(
    a_request_tells_the_giver_in_their_language,
    a_grant_and_an_approval_tell_the_holder,
    a_revocation_tells_the_other_side,
    an_approval_racing_a_revocation_tells_what_happened,
    the_first_use_tells_the_giver_once,
    nothing_is_told_for_a_change_that_rolls_back,
    someone_who_cannot_be_notified_is_not,
    the_end_notice_comes_14_days_before_once_and_again_after_an_extend,
    the_end_notice_is_for_the_last_end_date_of_a_delegation_in_force,
    the_end_notice_is_taken_once_by_racing_workers_and_a_retry_sends_nothing_twice,
);
