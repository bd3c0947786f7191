#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Delegations and guardianship on both databases (see `on_both_backends!` in
//! `common/mod.rs`): the rules as the register applies them, the policy over the facts read
//! per request, expiry and the 18th birthday with an injected clock, and racing state changes.

#[macro_use]
mod common;
use common::TestDb;

use borgerportal::delegation::{
    parse_extract, DelegationEventKind, DelegationRules, Scope, ScopeGrant, State, StoredState,
};
use borgerportal::Language;
use borgerportal::{
    demo_persons, seed_demo_data, Access, ActForBasis, Actor, AuditKind, Basis, Capability,
    Delegation, DelegationError, Denied, GrantAuthority, Loa, ManageAuthority, ManageContact,
    NationalId, NewPerson, Person, PersonId, Policy, ReadOwnActivity, ReadPost, ReadSensitivePost,
};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

/// The injected clock: every call below says what "now" is.
const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

// ---------------------------------------------------------------------------------------------
// Persons and proofs

/// A synthetic Norwegian number for someone born on `born` (distinct per `n`).
fn national_id(born: Date, n: u16) -> NationalId {
    (n..1000)
        .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
        .unwrap()
}

async fn register(t: &TestDb, born: Date, n: u16, given_name: &str) -> Person {
    let new_person = NewPerson::new(national_id(born, n), given_name, "Test", Language::Nb);
    t.db.create_person(new_person).await.unwrap()
}

/// An adult giver and holder.
async fn pair(t: &TestDb) -> (Person, Person) {
    let giver = register(t, date!(1941 - 11 - 02), 1, "Torbjørn").await;
    let holder = register(t, date!(1975 - 03 - 14), 2, "Kari").await;
    (giver, holder)
}

fn citizen(person: &Person, loa: Loa) -> Actor {
    Actor::Citizen {
        person: person.id,
        loa,
    }
}

fn own<C: Capability>(person: &Person) -> Access<C> {
    Policy::authorize::<C>(&citizen(person, Loa::High), person.id).unwrap()
}

fn scopes(list: &[(Scope, Date)]) -> Vec<ScopeGrant> {
    list.iter()
        .map(|&(scope, ends_on)| ScopeGrant { scope, ends_on })
        .collect()
}

async fn grant(t: &TestDb, giver: &Person, holder: &Person, list: &[(Scope, Date)]) -> Delegation {
    t.db.grant_delegation(
        &own::<GrantAuthority>(giver),
        holder.id,
        &scopes(list),
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
    now: OffsetDateTime,
) -> Result<Delegation, DelegationError> {
    t.db.request_delegation(
        &own::<ManageAuthority>(holder),
        giver.id,
        &scopes(&[(Scope::ReadPost, date!(2027 - 01 - 01))]),
        &DelegationRules::default(),
        now,
    )
    .await
}

/// What the policy answers for `helper` on `subject`'s data at `now`, read from the register.
async fn decide<C: Capability>(
    t: &TestDb,
    helper: &Person,
    subject: &Person,
    now: OffsetDateTime,
) -> Result<Basis, Denied> {
    t.db.decide_access::<C>(&citizen(helper, Loa::High), subject.id, now)
        .await
        .unwrap()
        .map(|access| {
            assert_eq!(access.subject(), subject.id);
            access.basis()
        })
}

async fn audit_kinds(t: &TestDb, person: &Person) -> Vec<AuditKind> {
    let page =
        t.db.list_events(&own::<ReadOwnActivity>(person), None, 50)
            .await
            .unwrap();
    page.events.iter().rev().map(|event| event.kind).collect()
}

// ---------------------------------------------------------------------------------------------
// Granting, the policy, expiry and revocation

async fn a_grant_gives_its_scopes_until_each_end_date(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let delegation = grant(
        t,
        &giver,
        &holder,
        &[
            (Scope::ReadPost, date!(2026 - 12 - 31)),
            (Scope::ManageContact, date!(2026 - 06 - 30)),
        ],
    )
    .await;
    assert_eq!(delegation.state(NOW), State::Active);
    assert_eq!(
        decide::<ReadPost>(t, &holder, &giver, NOW).await,
        Ok(Basis::Delegation {
            delegation: delegation.id,
            ends_on: date!(2026 - 12 - 31)
        })
    );
    assert!(decide::<ManageContact>(t, &holder, &giver, NOW)
        .await
        .is_ok());
    assert_eq!(
        decide::<ReadOwnActivity>(t, &holder, &giver, NOW).await,
        Err(Denied::MissingScope {
            scope: Scope::ReadActivity
        })
    );
    assert_eq!(
        decide::<ReadSensitivePost>(t, &holder, &giver, NOW).await,
        Err(Denied::MissingScope {
            scope: Scope::ReadAllPost
        })
    );
    // The helper's own login counts: at substantial, still fine for ordinary post.
    let at_substantial =
        t.db.decide_access::<ReadPost>(&citizen(&holder, Loa::Substantial), giver.id, NOW)
            .await
            .unwrap();
    assert!(at_substantial.is_ok());
    // The contact scope ends first: from 1 July (Oslo time) it is missing.
    let july = datetime!(2026-06-30 22:00 UTC);
    assert_eq!(
        decide::<ManageContact>(t, &holder, &giver, july - Duration::MICROSECOND).await,
        Ok(Basis::Delegation {
            delegation: delegation.id,
            ends_on: date!(2026 - 06 - 30)
        })
    );
    assert_eq!(
        decide::<ManageContact>(t, &holder, &giver, july).await,
        Err(Denied::MissingScope {
            scope: Scope::ManageContact
        })
    );
    // After the last end date nothing is left: no authority, with no job having run.
    let next_year = datetime!(2027-01-01 12:00 UTC);
    assert_eq!(
        decide::<ReadPost>(t, &holder, &giver, next_year).await,
        Err(Denied::NoAuthority)
    );
    // The other way round there is nothing, and the giver's own data is theirs.
    assert_eq!(
        decide::<ReadPost>(t, &giver, &holder, NOW).await,
        Err(Denied::NoAuthority)
    );
    assert_eq!(
        decide::<ReadPost>(t, &giver, &giver, NOW).await,
        Ok(Basis::Own)
    );
    // Audited in both logs, with a history entry.
    assert_eq!(
        audit_kinds(t, &giver).await,
        vec![AuditKind::AuthorityGranted]
    );
    assert_eq!(
        audit_kinds(t, &holder).await,
        vec![AuditKind::AuthorityGranted]
    );
    let history =
        t.db.delegation_history(&own::<ManageAuthority>(&giver), delegation.id)
            .await
            .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].kind, DelegationEventKind::Granted);
    assert_eq!(history[0].actor, Some(giver.id));
}

async fn revocation_takes_effect_on_the_next_request(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let delegation = grant(
        t,
        &giver,
        &holder,
        &[(Scope::ReadPost, date!(2026 - 12 - 31))],
    )
    .await;
    assert!(decide::<ReadPost>(t, &holder, &giver, NOW).await.is_ok());
    let revoked =
        t.db.revoke_delegation(&own::<ManageAuthority>(&giver), delegation.id, NOW)
            .await
            .unwrap();
    assert_eq!(revoked.stored_state, StoredState::Revoked);
    assert_eq!(
        decide::<ReadPost>(t, &holder, &giver, NOW).await,
        Err(Denied::NoAuthority)
    );
    // Twice is a wrong state; someone else's is not found.
    let again =
        t.db.revoke_delegation(&own::<ManageAuthority>(&giver), delegation.id, NOW)
            .await;
    assert!(
        matches!(again, Err(DelegationError::WrongState)),
        "{again:?}"
    );
    let stranger = register(t, date!(1980 - 01 - 01), 3, "Ola").await;
    let other = grant(
        t,
        &giver,
        &holder,
        &[(Scope::ReadPost, date!(2026 - 12 - 31))],
    )
    .await;
    let foreign =
        t.db.revoke_delegation(&own::<ManageAuthority>(&stranger), other.id, NOW)
            .await;
    assert!(
        matches!(foreign, Err(DelegationError::NotFound)),
        "{foreign:?}"
    );
    // The holder may give it up too.
    t.db.revoke_delegation(&own::<ManageAuthority>(&holder), other.id, NOW)
        .await
        .unwrap();
    assert_eq!(
        decide::<ReadPost>(t, &holder, &giver, NOW).await,
        Err(Denied::NoAuthority)
    );
    assert_eq!(
        audit_kinds(t, &holder).await,
        vec![
            AuditKind::AuthorityGranted,
            AuditKind::AuthorityRevoked,
            AuditKind::AuthorityGranted,
            AuditKind::AuthorityRevoked
        ]
    );
}

async fn the_rules_are_kept(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    // Born 2008-05-02: 17 on NOW, 18 the next day.
    let minor = register(t, date!(2008 - 05 - 02), 500, "Sigrid").await;
    let rules = DelegationRules::default();
    let try_grant = |holder: PersonId, list: Vec<(Scope, Date)>, now| {
        let access = own::<GrantAuthority>(&giver);
        let rules = rules.clone();
        async move {
            t.db.grant_delegation(&access, holder, &scopes(&list), &rules, now)
                .await
        }
    };
    let year = vec![(Scope::ReadPost, date!(2027 - 01 - 01))];
    let refused = [
        (
            try_grant(giver.id, year.clone(), NOW).await,
            "delegation.to_oneself",
        ),
        (
            try_grant(minor.id, year.clone(), NOW).await,
            "delegation.holder_too_young",
        ),
        (
            try_grant(PersonId::new(), year.clone(), NOW).await,
            "delegation.unknown_person",
        ),
        (
            try_grant(holder.id, vec![], NOW).await,
            "delegation.no_scopes",
        ),
        (
            try_grant(
                holder.id,
                vec![(Scope::ReadPost, date!(2031 - 05 - 02))],
                NOW,
            )
            .await,
            "delegation.end_date_too_late",
        ),
        (
            try_grant(
                holder.id,
                vec![(Scope::ReadPost, date!(2026 - 04 - 30))],
                NOW,
            )
            .await,
            "delegation.end_date_passed",
        ),
    ];
    for (result, code) in refused {
        assert_eq!(result.map(drop).unwrap_err().code(), code);
    }
    // The maximum itself, and the minor on their 18th birthday, are fine.
    try_grant(
        holder.id,
        vec![(Scope::ReadPost, date!(2031 - 05 - 01))],
        NOW,
    )
    .await
    .unwrap();
    try_grant(minor.id, year, datetime!(2026-05-02 10:00 UTC))
        .await
        .unwrap();
    // A minor cannot give authority either (the giver is checked as the holder is).
    let refused =
        t.db.request_delegation(
            &own::<ManageAuthority>(&holder),
            minor.id,
            &scopes(&[(Scope::ReadPost, date!(2026 - 06 - 01))]),
            &rules,
            datetime!(2026-05-01 10:00 UTC),
        )
        .await;
    assert_eq!(refused.unwrap_err().code(), "delegation.giver_too_young");
}

// ---------------------------------------------------------------------------------------------
// Requests

async fn one_open_request_per_pair_and_requests_lapse(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let asked = request(t, &giver, &holder, NOW).await.unwrap();
    assert_eq!(asked.state(NOW), State::Requested);
    assert_eq!(
        decide::<ReadPost>(t, &holder, &giver, NOW).await,
        Err(Denied::NoAuthority),
        "a request gives nothing"
    );
    let second = request(t, &giver, &holder, NOW + Duration::days(1)).await;
    assert!(
        matches!(second, Err(DelegationError::RequestAlreadyOpen)),
        "{second:?}"
    );
    // Another holder may ask the same giver.
    let other = register(t, date!(1980 - 01 - 01), 3, "Ola").await;
    request(t, &giver, &other, NOW).await.unwrap();
    let waiting = |now| {
        let access = own::<ManageAuthority>(&giver);
        async move {
            t.db.delegation_requests_waiting(&access, now)
                .await
                .unwrap()
        }
    };
    let listed = waiting(NOW).await;
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .any(|entry| entry.counterpart_name == "Kari Test"));
    // 30 days on, the request has lapsed: not waiting, not approvable, and a new one may go.
    let lapsed = NOW + Duration::days(30);
    assert_eq!(asked.state(lapsed), State::Expired);
    assert!(waiting(lapsed).await.is_empty());
    let late =
        t.db.approve_delegation(
            &own::<GrantAuthority>(&giver),
            asked.id,
            &asked.scopes,
            &DelegationRules::default(),
            lapsed,
        )
        .await;
    assert!(matches!(late, Err(DelegationError::WrongState)), "{late:?}");
    request(t, &giver, &holder, lapsed).await.unwrap();
}

async fn approval_sets_the_end_dates_and_decline_ends_a_request(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let asked = request(t, &giver, &holder, NOW).await.unwrap();
    let chosen = scopes(&[
        (Scope::ReadPost, date!(2026 - 09 - 30)),
        (Scope::ManagePost, date!(2026 - 08 - 31)),
    ]);
    let approved =
        t.db.approve_delegation(
            &own::<GrantAuthority>(&giver),
            asked.id,
            &chosen,
            &DelegationRules::default(),
            NOW + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(approved.stored_state, StoredState::Active);
    assert_eq!(approved.scopes, chosen);
    assert_eq!(approved.starts_at, Some(NOW + Duration::hours(1)));
    assert!(
        decide::<ReadPost>(t, &holder, &giver, NOW + Duration::hours(2))
            .await
            .is_ok()
    );
    // Approving twice, or declining what is active, is a wrong state.
    let again =
        t.db.decline_delegation(&own::<ManageAuthority>(&giver), asked.id, NOW)
            .await;
    assert!(
        matches!(again, Err(DelegationError::WrongState)),
        "{again:?}"
    );
    // The holder cannot approve their own request.
    let own_approval =
        t.db.approve_delegation(
            &own::<GrantAuthority>(&holder),
            asked.id,
            &chosen,
            &DelegationRules::default(),
            NOW,
        )
        .await;
    assert!(matches!(own_approval, Err(DelegationError::WrongState)));
    let history =
        t.db.delegation_history(&own::<ManageAuthority>(&holder), asked.id)
            .await
            .unwrap();
    let kinds: Vec<_> = history.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        vec![
            DelegationEventKind::Requested,
            DelegationEventKind::Approved
        ]
    );
    assert_eq!(history[0].actor, Some(holder.id));
    assert_eq!(history[1].actor, Some(giver.id));
    // A declined request gives nothing and can be asked again.
    let other = register(t, date!(1980 - 01 - 01), 3, "Ola").await;
    let asked = request(t, &giver, &other, NOW).await.unwrap();
    let declined =
        t.db.decline_delegation(&own::<ManageAuthority>(&giver), asked.id, NOW)
            .await
            .unwrap();
    assert_eq!(declined.state(NOW), State::Declined);
    assert_eq!(
        decide::<ReadPost>(t, &other, &giver, NOW).await,
        Err(Denied::NoAuthority)
    );
    request(t, &giver, &other, NOW).await.unwrap();
    assert_eq!(
        audit_kinds(t, &other).await,
        vec![
            AuditKind::AuthorityRequested,
            AuditKind::AuthorityDeclined,
            AuditKind::AuthorityRequested
        ]
    );
}

async fn concurrent_approve_and_decline_leave_one_state(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    for round in 0..20 {
        let asked = request(t, &giver, &holder, NOW).await.unwrap();
        let approve = {
            let db = t.db.clone();
            let access = own::<GrantAuthority>(&giver);
            let chosen = asked.scopes.clone();
            tokio::spawn(async move {
                db.approve_delegation(&access, asked.id, &chosen, &DelegationRules::default(), NOW)
                    .await
            })
        };
        let decline = {
            let db = t.db.clone();
            let access = own::<ManageAuthority>(&giver);
            tokio::spawn(async move { db.decline_delegation(&access, asked.id, NOW).await })
        };
        let (approved, declined) = (approve.await.unwrap(), decline.await.unwrap());
        assert!(
            approved.is_ok() != declined.is_ok(),
            "round {round}: exactly one wins ({approved:?}, {declined:?})"
        );
        let loser = if approved.is_ok() { declined } else { approved };
        assert!(matches!(loser, Err(DelegationError::WrongState)));
        let history =
            t.db.delegation_history(&own::<ManageAuthority>(&giver), asked.id)
                .await
                .unwrap();
        assert_eq!(history.len(), 2, "round {round}: one decision recorded");
        // Leave no open request for the next round.
        let _ =
            t.db.revoke_delegation(&own::<ManageAuthority>(&giver), asked.id, NOW)
                .await;
    }
}

async fn concurrent_approve_and_revoke_end_revoked(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    for round in 0..20 {
        let asked = request(t, &giver, &holder, NOW).await.unwrap();
        let approve = {
            let db = t.db.clone();
            let access = own::<GrantAuthority>(&giver);
            let chosen = asked.scopes.clone();
            tokio::spawn(async move {
                db.approve_delegation(&access, asked.id, &chosen, &DelegationRules::default(), NOW)
                    .await
            })
        };
        let revoke = {
            let db = t.db.clone();
            let access = own::<ManageAuthority>(&holder);
            tokio::spawn(async move { db.revoke_delegation(&access, asked.id, NOW).await })
        };
        let (approved, revoked) = (approve.await.unwrap(), revoke.await.unwrap());
        // The revocation always lands (on the request, or on the delegation it became); an
        // approval after it finds nothing to approve.
        assert!(revoked.is_ok(), "round {round}: {revoked:?}");
        let history =
            t.db.delegation_history(&own::<ManageAuthority>(&giver), asked.id)
                .await
                .unwrap();
        let kinds: Vec<_> = history.iter().map(|event| event.kind).collect();
        let expected = if approved.is_ok() {
            vec![
                DelegationEventKind::Requested,
                DelegationEventKind::Approved,
                DelegationEventKind::Revoked,
            ]
        } else {
            assert!(matches!(approved, Err(DelegationError::WrongState)));
            vec![DelegationEventKind::Requested, DelegationEventKind::Revoked]
        };
        assert_eq!(kinds, expected, "round {round}");
        assert_eq!(
            decide::<ReadPost>(t, &holder, &giver, NOW).await,
            Err(Denied::NoAuthority),
            "round {round}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Changes, lists, use

async fn changes_lists_and_use(t: &TestDb) {
    let (giver, holder) = pair(t).await;
    let delegation = grant(
        t,
        &giver,
        &holder,
        &[(Scope::ReadPost, date!(2026 - 05 - 31))],
    )
    .await;
    let june = datetime!(2026-06-15 10:00 UTC);
    assert_eq!(delegation.state(june), State::Expired);
    // Extending brings it back; the change is audited.
    let extended =
        t.db.change_delegation(
            &own::<GrantAuthority>(&giver),
            delegation.id,
            &scopes(&[
                (Scope::ReadPost, date!(2027 - 05 - 31)),
                (Scope::ReadActivity, date!(2026 - 12 - 31)),
            ]),
            &DelegationRules::default(),
            june,
        )
        .await
        .unwrap();
    assert_eq!(extended.state(june), State::Active);
    assert_eq!(extended.scopes.len(), 2);
    assert!(decide::<ReadOwnActivity>(t, &holder, &giver, june)
        .await
        .is_ok());
    // Only the giver may change it.
    let by_holder =
        t.db.change_delegation(
            &own::<GrantAuthority>(&holder),
            delegation.id,
            &extended.scopes,
            &DelegationRules::default(),
            june,
        )
        .await;
    assert!(matches!(by_holder, Err(DelegationError::NotFound)));
    // Lists, with names and last use.
    let access =
        t.db.decide_access::<ReadPost>(&citizen(&holder, Loa::High), giver.id, june)
            .await
            .unwrap()
            .unwrap();
    assert!(
        t.db.record_delegation_use(&access, june).await.unwrap(),
        "first use"
    );
    let later = june + Duration::minutes(5);
    assert!(!t.db.record_delegation_use(&access, later).await.unwrap());
    let given =
        t.db.delegations_given(&own::<ManageAuthority>(&giver))
            .await
            .unwrap();
    assert_eq!(given.len(), 1);
    assert_eq!(given[0].counterpart_name, "Kari Test");
    assert_eq!(given[0].delegation.last_used_at, Some(later));
    assert_eq!(given[0].delegation.scopes.len(), 2);
    let held =
        t.db.delegations_held(&own::<ManageAuthority>(&holder))
            .await
            .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].counterpart_name, "Torbjørn Test");
    assert!(t
        .db
        .delegations_held(&own::<ManageAuthority>(&giver))
        .await
        .unwrap()
        .is_empty());
    let choices =
        t.db.persons_to_act_for(&own::<ManageAuthority>(&holder), june)
            .await
            .unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0].person, giver.id);
    assert_eq!(choices[0].basis, ActForBasis::Delegation(delegation.id));
    assert_eq!(choices[0].until, date!(2027 - 05 - 31));
    assert_eq!(
        audit_kinds(t, &giver).await,
        vec![AuditKind::AuthorityGranted, AuditKind::AuthorityChanged]
    );
}

// ---------------------------------------------------------------------------------------------
// Guardianship

fn line(person: &Person, guardians: &[&Person]) -> String {
    let guardians: Vec<_> = guardians
        .iter()
        .map(|guardian| guardian.national_id.expose())
        .collect();
    serde_json::json!({
        "national_id": person.national_id.expose(),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "guardians": guardians,
    })
    .to_string()
}

async fn guardians_act_until_the_18th_birthday_and_while_listed(t: &TestDb) {
    let mother = register(t, date!(1985 - 04 - 17), 1, "Ingrid").await;
    let father = register(t, date!(1984 - 02 - 01), 2, "Per").await;
    // Born 2008-06-30: 18 on 30 June 2026. The other minor is 8.
    let teen = register(t, date!(2008 - 06 - 30), 500, "Sigrid").await;
    let child = register(t, date!(2018 - 01 - 15), 501, "Nora").await;
    let extract = parse_extract(
        &[
            line(&mother, &[]),
            line(&father, &[]),
            line(&teen, &[&mother, &father]),
            line(&child, &[&mother]),
        ]
        .join("\n"),
    )
    .unwrap();
    let report = t.db.import_guardians(&extract, NOW).await.unwrap();
    assert_eq!((report.persons, report.listed, report.ended), (4, 3, 0));
    for guardian in [&mother, &father] {
        assert!(matches!(
            decide::<ReadPost>(t, guardian, &teen, NOW).await,
            Ok(Basis::Guardian { ends_on }) if ends_on == date!(2026 - 06 - 29)
        ));
        assert!(decide::<ManageContact>(t, guardian, &teen, NOW)
            .await
            .is_ok());
    }
    assert_eq!(
        decide::<ReadPost>(t, &father, &child, NOW).await,
        Err(Denied::NoAuthority),
        "the child has one guardian"
    );
    assert_eq!(
        decide::<ReadSensitivePost>(t, &mother, &child, NOW).await,
        Err(Denied::MissingScope {
            scope: Scope::ReadAllPost
        })
    );
    // The 18th birthday (midnight in Oslo, summer time) ends it with no job and no import.
    let birthday = datetime!(2026-06-29 22:00 UTC);
    assert!(
        decide::<ReadPost>(t, &mother, &teen, birthday - Duration::MICROSECOND)
            .await
            .is_ok()
    );
    assert_eq!(
        decide::<ReadPost>(t, &mother, &teen, birthday).await,
        Err(Denied::NoAuthority)
    );
    let choices = |person: &Person, now| {
        let access = own::<ManageAuthority>(person);
        async move { t.db.persons_to_act_for(&access, now).await.unwrap() }
    };
    assert_eq!(choices(&mother, NOW).await.len(), 2);
    let after = choices(&mother, birthday).await;
    assert_eq!(after.len(), 1);
    assert_eq!(
        (after[0].person, after[0].basis),
        (child.id, ActForBasis::Guardian)
    );
    // A later extract without the father's guardianship ends it; listing it again restores it.
    let without_father = parse_extract(
        &[
            line(&mother, &[]),
            line(&father, &[]),
            line(&teen, &[&mother]),
            line(&child, &[&mother]),
        ]
        .join("\n"),
    )
    .unwrap();
    let later = NOW + Duration::days(1);
    let report = t.db.import_guardians(&without_father, later).await.unwrap();
    assert_eq!((report.listed, report.ended), (2, 1));
    assert_eq!(
        decide::<ReadPost>(t, &father, &teen, later).await,
        Err(Denied::NoAuthority)
    );
    assert!(decide::<ReadPost>(t, &mother, &teen, later).await.is_ok());
    let again = later + Duration::days(1);
    let report = t.db.import_guardians(&extract, again).await.unwrap();
    assert_eq!((report.listed, report.ended), (3, 0));
    assert!(decide::<ReadPost>(t, &father, &teen, again).await.is_ok());
}

async fn the_import_registers_new_persons_from_the_extract(t: &TestDb) {
    let text = [
        r#"{"national_id":"17848512397","given_name":"Ingrid","family_name":"Solberg"}"#,
        r#"{"national_id":"30861851245","given_name":"Sigrid","family_name":"Lunde","guardians":["17848512397"]}"#,
    ]
    .join("\n");
    let extract = parse_extract(&text).unwrap();
    t.db.import_guardians(&extract, NOW).await.unwrap();
    assert_eq!(t.db.count_persons().await.unwrap(), 2);
    let child =
        t.db.find_person_by_national_id(&NationalId::parse("30861851245").unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(child.full_name(), "Sigrid Lunde");
    let mother =
        t.db.find_person_by_national_id(&NationalId::parse("17848512397").unwrap())
            .await
            .unwrap()
            .unwrap();
    assert!(decide::<ReadPost>(t, &mother, &child, NOW).await.is_ok());
}

async fn demo_data_has_minors_with_two_guardians_and_with_one(t: &TestDb) {
    seed_demo_data(&t.db).await.unwrap();
    seed_demo_data(&t.db).await.unwrap();
    let mut guardians_of = Vec::new();
    for new_person in demo_persons() {
        let person =
            t.db.find_person_by_national_id(&new_person.national_id)
                .await
                .unwrap()
                .unwrap();
        let mut guardians = 0;
        for new_other in demo_persons() {
            let other =
                t.db.find_person_by_national_id(&new_other.national_id)
                    .await
                    .unwrap()
                    .unwrap();
            if other.id != person.id
                && matches!(
                    decide::<ReadPost>(t, &other, &person, NOW).await,
                    Ok(Basis::Guardian { .. })
                )
            {
                guardians += 1;
            }
        }
        guardians_of.push(guardians);
    }
    assert!(guardians_of.contains(&2), "{guardians_of:?}");
    assert!(guardians_of.contains(&1), "{guardians_of:?}");
}

on_both_backends!(
    a_grant_gives_its_scopes_until_each_end_date,
    revocation_takes_effect_on_the_next_request,
    the_rules_are_kept,
    one_open_request_per_pair_and_requests_lapse,
    approval_sets_the_end_dates_and_decline_ends_a_request,
    concurrent_approve_and_decline_leave_one_state,
    concurrent_approve_and_revoke_end_revoked,
    changes_lists_and_use,
    guardians_act_until_the_18th_birthday_and_while_listed,
    the_import_registers_new_persons_from_the_extract,
    demo_data_has_minors_with_two_guardians_and_with_one,
);
