#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Acting for someone on both databases (see `on_both_backends!` in `common/mod.rs`): whom a
//! session may be set to act for, a step-up keeping the choice, whether a person holds
//! authority the portal acts on, and a helper's actions logged under their authority.

#[macro_use]
mod common;
use common::TestDb;

use borgerportal::audit::ActedUnder;
use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant, ServiceScopeId};
use borgerportal::{
    Access, Actor, AuditKind, Capability, CompletedLogin, EventFilter, GrantAuthority, Language,
    Loa, ManageAuthority, ManagePost, NationalId, NewPerson, Person, Policy, ReadOwnActivity,
};
use secrecy::SecretString;
use time::macros::date;
use time::{Date, Duration, OffsetDateTime};

fn national_id(born: Date, n: u16) -> NationalId {
    (n..1000)
        .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
        .unwrap()
}

fn new_person(born: Date, n: u16, given_name: &str) -> NewPerson {
    NewPerson::new(national_id(born, n), given_name, "Test", Language::Nb)
}

async fn register(t: &TestDb, born: Date, n: u16, given_name: &str) -> Person {
    t.db.create_person(new_person(born, n, given_name))
        .await
        .unwrap()
}

fn own<C: Capability>(person: &Person) -> Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

fn login(
    person: NewPerson,
    loa: Loa,
    previous: Option<borgerportal::SessionToken>,
) -> CompletedLogin {
    CompletedLogin {
        person,
        names_sent: true,
        loa,
        auth_time: OffsetDateTime::now_utc() - Duration::seconds(2),
        provider: "idporten".to_owned(),
        subject_claim: "sub".to_owned(),
        sid: None,
        id_token: SecretString::from("header.claims.signature"),
        absolute_lifetime: Duration::hours(8),
        previous,
        idle_timeout: Duration::minutes(30),
        continues_visit: false,
    }
}

async fn grant(
    t: &TestDb,
    giver: &Person,
    holder: &Person,
    list: &[(Scope, Date)],
    now: OffsetDateTime,
) {
    let scopes: Vec<ScopeGrant> = list
        .iter()
        .map(|&(scope, ends_on)| ScopeGrant { scope, ends_on })
        .collect();
    let mut rules = DelegationRules::default();
    if let Some(ScopeGrant {
        scope: Scope::Service(id),
        ..
    }) = scopes.iter().find(|grant| grant.scope.is_service())
    {
        rules.service_scopes.push(borgerportal::ServiceScope {
            id: *id,
            name_nb: "Dagpenger".to_owned(),
            name_nn: "Dagpengar".to_owned(),
            name_da: "Dagpenge".to_owned(),
            name_en: "Unemployment benefit".to_owned(),
        });
    }
    t.db.grant_delegation(
        &own::<GrantAuthority>(giver),
        holder.id,
        &scopes,
        &rules,
        now,
    )
    .await
    .unwrap();
}

async fn only_someone_held_authority_for_can_be_chosen_and_a_step_up_keeps_it(t: &TestDb) {
    let now = OffsetDateTime::now_utc();
    let kari = new_person(date!(1975 - 03 - 14), 2, "Kari");
    let first =
        t.db.complete_login(login(kari.clone(), Loa::Substantial, None), now)
            .await
            .unwrap();
    assert_eq!(first.session.acting_for, None);
    let holder = first.person;
    let giver = register(t, date!(1941 - 11 - 02), 1, "Torbjørn").await;
    let stranger = register(t, date!(1960 - 01 - 01), 3, "Per").await;
    let in_a_year = (now + Duration::days(365)).date();
    grant(t, &giver, &holder, &[(Scope::ReadPost, in_a_year)], now).await;

    let access = own::<ManageAuthority>(&holder);
    let stored = |token| async move {
        t.db.find_session(token, now, Duration::minutes(30))
            .await
            .unwrap()
            .unwrap()
            .acting_for
    };
    // A stranger is refused and nothing changes; the giver is stored; themself again clears it.
    assert!(!t
        .db
        .choose_acting_for(&first.token, &access, Some(stranger.id), now)
        .await
        .unwrap());
    assert_eq!(stored(&first.token).await, None);
    assert!(t
        .db
        .choose_acting_for(&first.token, &access, Some(giver.id), now)
        .await
        .unwrap());
    assert_eq!(stored(&first.token).await, Some(giver.id));
    // Another person's proof cannot change this session.
    let other = own::<ManageAuthority>(&stranger);
    assert!(!t
        .db
        .choose_acting_for(&first.token, &other, None, now)
        .await
        .unwrap());
    assert_eq!(stored(&first.token).await, Some(giver.id));

    // A step-up is the same visit: the new session acts for the same person.
    let second =
        t.db.complete_login(
            login(kari.clone(), Loa::High, Some(first.token.clone())),
            now,
        )
        .await
        .unwrap();
    assert!(second.stepped_up);
    assert_eq!(second.session.acting_for, Some(giver.id));
    // A fresh login (not a step-up) starts as oneself.
    let third =
        t.db.complete_login(
            login(kari.clone(), Loa::High, Some(second.token.clone())),
            now,
        )
        .await
        .unwrap();
    assert!(!third.stepped_up);
    assert_eq!(third.session.acting_for, None);
    // The fresh login a signature asks for continues the visit (at any level).
    let chosen =
        t.db.choose_acting_for(&third.token, &access, Some(giver.id), now)
            .await
            .unwrap();
    assert!(chosen);
    let signing = CompletedLogin {
        continues_visit: true,
        ..login(kari.clone(), Loa::Substantial, Some(third.token.clone()))
    };
    let fourth = t.db.complete_login(signing, now).await.unwrap();
    assert_eq!(fourth.session.acting_for, Some(giver.id));
    let third = fourth;
    assert!(t
        .db
        .choose_acting_for(&third.token, &access, None, now)
        .await
        .unwrap());
}

async fn may_act_for_follows_portal_scopes_end_dates_and_guardianships(t: &TestDb) {
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let giver = register(t, date!(1941 - 11 - 02), 1, "Torbjørn").await;
    let holder = register(t, date!(1975 - 03 - 14), 2, "Kari").await;
    assert!(!t.db.may_act_for(holder.id, now).await.unwrap());

    // Only a service scope: nothing the portal acts on.
    let service = Scope::Service(ServiceScopeId::parse("nav.dagpenger").unwrap());
    grant(
        t,
        &giver,
        &holder,
        &[(service, today + Duration::days(30))],
        now,
    )
    .await;
    assert!(!t.db.may_act_for(holder.id, now).await.unwrap());
    let chooser =
        t.db.persons_to_act_for(&own::<ManageAuthority>(&holder), now)
            .await
            .unwrap();
    assert!(chooser.is_empty(), "{chooser:?}");

    // A portal scope until a day: in force through that day, not after.
    let other_giver = register(t, date!(1950 - 05 - 05), 4, "Eva").await;
    let last_day = today + Duration::days(10);
    grant(
        t,
        &other_giver,
        &holder,
        &[(Scope::ReadPost, last_day)],
        now,
    )
    .await;
    assert!(t.db.may_act_for(holder.id, now).await.unwrap());
    let day_after = now + Duration::days(11);
    assert!(!t.db.may_act_for(holder.id, day_after).await.unwrap());

    // A guardian of a minor, until the 18th birthday.
    let guardian = register(t, date!(1980 - 01 - 01), 5, "Lise").await;
    let born = today - Duration::days(365 * 10);
    let minor = register(t, born, 6, "Ola").await;
    t.db.add_guardianship(guardian.id, minor.id, now)
        .await
        .unwrap();
    assert!(t.db.may_act_for(guardian.id, now).await.unwrap());
    let of_age = born
        .replace_year(born.year() + 18)
        .unwrap_or(born + Duration::days(365 * 18 + 5));
    let eighteenth = of_age.midnight().assume_utc() + Duration::hours(12);
    assert!(!t.db.may_act_for(guardian.id, eighteenth).await.unwrap());
}

async fn a_helpers_action_is_logged_under_the_authority_in_the_givers_log(t: &TestDb) {
    let now = OffsetDateTime::now_utc();
    let giver = register(t, date!(1941 - 11 - 02), 1, "Torbjørn").await;
    let holder = register(t, date!(1975 - 03 - 14), 2, "Kari").await;
    let in_a_year = (now + Duration::days(365)).date();
    grant(t, &giver, &holder, &[(Scope::ManagePost, in_a_year)], now).await;
    let helper = Actor::Citizen {
        person: holder.id,
        loa: Loa::Substantial,
    };
    let manage =
        t.db.decide_access::<ManagePost>(&helper, giver.id, now)
            .await
            .unwrap()
            .unwrap();
    let borgerportal::Basis::Delegation { delegation, .. } = manage.basis() else {
        panic!("a delegation basis: {:?}", manage.basis());
    };
    t.db.create_folder(&manage, "Skatt", now).await.unwrap();

    let page =
        t.db.list_events_of(&own::<ReadOwnActivity>(&giver), EventFilter::All, None, 20)
            .await
            .unwrap();
    let made = page
        .events
        .iter()
        .find(|event| event.kind == AuditKind::PostFolderCreated)
        .expect("the folder in the giver's log");
    assert_eq!(made.subject, giver.id);
    assert_eq!(made.actor, Some(holder.id));
    assert_eq!(made.acted_under, Some(ActedUnder::Delegation(delegation)));
    assert_eq!(page.others, vec![(holder.id, "Kari Test".to_owned())]);
    // The grant itself is the giver's own action: no authority named.
    let granted = page
        .events
        .iter()
        .find(|event| event.kind == AuditKind::AuthorityGranted)
        .unwrap();
    assert_eq!(granted.actor, Some(giver.id));
    assert_eq!(granted.acted_under, None);
}

on_both_backends!(
    only_someone_held_authority_for_can_be_chosen_and_a_step_up_keeps_it,
    may_act_for_follows_portal_scopes_end_dates_and_guardianships,
    a_helpers_action_is_logged_under_the_authority_in_the_givers_log,
);
