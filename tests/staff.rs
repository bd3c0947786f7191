#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The staff register on both databases (see `on_both_backends!` in `common/mod.rs`): staff
//! sessions (their own tables, the idle and absolute timeouts, logout), pending staff logins
//! taken once, and the staff log kept apart from every citizen's activity log.

#[macro_use]
mod common;
use common::TestDb;

use borgerportal::staff::{
    CompletedStaffLogin, MunicipalityId, NewStaffLoginState, StaffAuditEvent, StaffAuditKind,
    StaffMember, StaffRole, StaffToken,
};
use secrecy::{ExposeSecret as _, SecretString};
use time::{Duration, OffsetDateTime};

const IDLE: Duration = Duration::minutes(15);

fn member(municipality: &str, role: StaffRole) -> StaffMember {
    StaffMember {
        municipality: MunicipalityId::parse(municipality).unwrap(),
        subject: format!("{municipality}-subject"),
        name: "Kari Saksbehandler".to_owned(),
        role,
    }
}

fn login(member: StaffMember, previous: Option<StaffToken>) -> CompletedStaffLogin {
    CompletedStaffLogin {
        member,
        sid: Some("sid-1".to_owned()),
        id_token: SecretString::from("sealed.v1.token"),
        absolute_lifetime: Duration::hours(10),
        previous,
    }
}

async fn a_staff_login_makes_a_session_and_a_log_entry(t: &TestDb) {
    let db = &t.db;
    let now = OffsetDateTime::now_utc();
    let (token, session) = db
        .complete_staff_login(login(member("oslo", StaffRole::Supervisor), None), now)
        .await
        .unwrap();
    assert_eq!(session.member.role, StaffRole::Supervisor);
    assert_eq!(session.id_token.expose_secret(), "sealed.v1.token");
    let found = db
        .find_staff_session(&token, now, IDLE)
        .await
        .unwrap()
        .expect("a live staff session");
    assert_eq!(found.member, member("oslo", StaffRole::Supervisor));
    assert_eq!(found.sid.as_deref(), Some("sid-1"));
    let log = db
        .list_staff_events(&MunicipalityId::parse("oslo").unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].kind, StaffAuditKind::Login);
    assert_eq!(log[0].role, Some(StaffRole::Supervisor));
    // Another municipality's log has none of it.
    assert!(db
        .list_staff_events(&MunicipalityId::parse("aarhus").unwrap(), 10)
        .await
        .unwrap()
        .is_empty());
    // A staff token is no citizen's session token, whatever its bytes.
    let as_citizen =
        borgerportal::SessionToken::from_cookie_value(&token.as_cookie_value()).unwrap();
    assert!(db
        .find_session(&as_citizen, now, IDLE)
        .await
        .unwrap()
        .is_none());
}

async fn a_new_login_ends_the_browser_s_earlier_staff_session(t: &TestDb) {
    let db = &t.db;
    let now = OffsetDateTime::now_utc();
    let (first, _) = db
        .complete_staff_login(login(member("oslo", StaffRole::Caseworker), None), now)
        .await
        .unwrap();
    let (second, _) = db
        .complete_staff_login(
            login(member("oslo", StaffRole::Caseworker), Some(first.clone())),
            now,
        )
        .await
        .unwrap();
    assert!(db
        .find_staff_session(&first, now, IDLE)
        .await
        .unwrap()
        .is_none());
    assert!(db
        .find_staff_session(&second, now, IDLE)
        .await
        .unwrap()
        .is_some());
}

async fn staff_sessions_end_when_idle_or_too_old_and_activity_keeps_them(t: &TestDb) {
    let db = &t.db;
    let now = OffsetDateTime::now_utc();
    let (token, _) = db
        .complete_staff_login(login(member("oslo", StaffRole::Caseworker), None), now)
        .await
        .unwrap();
    let later = now + Duration::minutes(10);
    assert!(db.touch_staff_session(&token, later).await.unwrap());
    // Fifteen minutes after the login, but ten after the last request: still there.
    let at = now + Duration::minutes(16);
    assert!(db
        .find_staff_session(&token, at, IDLE)
        .await
        .unwrap()
        .is_some());
    // Idle for fifteen minutes: gone, and deleted.
    let idle = later + IDLE;
    assert!(db
        .find_staff_session(&token, idle, IDLE)
        .await
        .unwrap()
        .is_none());
    assert!(db
        .find_staff_session(&token, later, IDLE)
        .await
        .unwrap()
        .is_none());

    let (busy, _) = db
        .complete_staff_login(login(member("oslo", StaffRole::Caseworker), None), now)
        .await
        .unwrap();
    let past_end = now + Duration::hours(10);
    assert!(db.touch_staff_session(&busy, past_end).await.unwrap());
    assert!(
        db.find_staff_session(&busy, past_end, IDLE)
            .await
            .unwrap()
            .is_none(),
        "the absolute lifetime ends it however active"
    );
    assert_eq!(
        db.delete_expired_staff_sessions(past_end, IDLE)
            .await
            .unwrap(),
        0
    );
}

async fn logout_ends_the_staff_session_once_and_is_logged(t: &TestDb) {
    let db = &t.db;
    let now = OffsetDateTime::now_utc();
    let (token, _) = db
        .complete_staff_login(login(member("aarhus", StaffRole::Caseworker), None), now)
        .await
        .unwrap();
    let ended = db.end_staff_session(&token, now).await.unwrap();
    assert_eq!(ended.unwrap().member.municipality.as_str(), "aarhus");
    assert!(db.end_staff_session(&token, now).await.unwrap().is_none());
    assert!(db
        .find_staff_session(&token, now, IDLE)
        .await
        .unwrap()
        .is_none());
    let kinds: Vec<_> = db
        .list_staff_events(&MunicipalityId::parse("aarhus").unwrap(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [StaffAuditKind::Logout, StaffAuditKind::Login]);
}

async fn a_pending_staff_login_is_taken_once_and_not_after_it_expired(t: &TestDb) {
    let db = &t.db;
    let now = OffsetDateTime::now_utc();
    let pending = |state: &str, expires_at| NewStaffLoginState {
        state: state.to_owned(),
        nonce: "nonce".to_owned(),
        pkce_verifier: SecretString::from("verifier"),
        municipality: MunicipalityId::parse("oslo").unwrap(),
        expires_at,
    };
    db.create_staff_login_state(pending("state-1", now + Duration::minutes(10)))
        .await
        .unwrap();
    let taken = db
        .take_staff_login_state("state-1", now)
        .await
        .unwrap()
        .expect("taken");
    assert_eq!(taken.municipality.as_str(), "oslo");
    assert_eq!(taken.pkce_verifier.expose_secret(), "verifier");
    assert!(db
        .take_staff_login_state("state-1", now)
        .await
        .unwrap()
        .is_none());
    db.create_staff_login_state(pending("state-2", now - Duration::seconds(1)))
        .await
        .unwrap();
    assert!(db
        .take_staff_login_state("state-2", now)
        .await
        .unwrap()
        .is_none());
    // A citizen's login state of the same value is another register.
    db.create_staff_login_state(pending("state-3", now + Duration::minutes(10)))
        .await
        .unwrap();
    assert!(db.take_login_state("state-3", now).await.unwrap().is_none());
    assert_eq!(
        db.delete_expired_staff_login_states(now + Duration::hours(1))
            .await
            .unwrap(),
        1
    );
}

async fn refused_staff_logins_are_logged_with_their_reason(t: &TestDb) {
    let db = &t.db;
    let now = OffsetDateTime::now_utc();
    db.record_staff_event(&StaffAuditEvent {
        municipality: MunicipalityId::parse("oslo").unwrap(),
        subject: "ola".to_owned(),
        name: "Ola Uten Rolle".to_owned(),
        role: None,
        kind: StaffAuditKind::LoginRefused,
        reason: Some("no_role".to_owned()),
        at: now,
    })
    .await
    .unwrap();
    let log = db
        .list_staff_events(&MunicipalityId::parse("oslo").unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(log[0].reason.as_deref(), Some("no_role"));
    assert_eq!(log[0].role, None);
}

on_both_backends!(
    a_staff_login_makes_a_session_and_a_log_entry,
    a_new_login_ends_the_browser_s_earlier_staff_session,
    staff_sessions_end_when_idle_or_too_old_and_activity_keeps_them,
    logout_ends_the_staff_session_once_and_is_logged,
    a_pending_staff_login_is_taken_once_and_not_after_it_expired,
    refused_staff_logins_are_logged_with_their_reason,
);
