//! Persons, proofs and agencies the register suites make the same way: synthetic national ids,
//! a person with a verified e-mail address (reachable for notifications, post and signing), the
//! policy's proof for one's own data, and an agency granted signing.

use borgerportal::{
    Access, Actor, AgencyAccess, AgencyGrants, AgencyId, Capability, ContactMethod, EmailAddress,
    Language, Loa, ManageContact, NationalId, NewPerson, Person, Policy, SendForSigning,
};
use time::{Date, OffsetDateTime};

/// A synthetic Norwegian number for someone born on `born` (distinct per `n`).
pub fn national_id(born: Date, n: u16) -> NationalId {
    (n..1000)
        .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
        .unwrap()
}

/// A registered adult, "<given_name> Signer", born 1980-02-01.
pub async fn register(t: &super::TestDb, n: u16, given_name: &str) -> Person {
    let born = Date::from_calendar_date(1980, time::Month::February, 1).unwrap();
    let new_person = NewPerson::new(national_id(born, n), given_name, "Signer", Language::Nb);
    t.db.create_person(new_person).await.unwrap()
}

/// The policy's proof for `person`'s own data at `loa`.
pub fn own<C: Capability>(person: &Person, loa: Loa) -> Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

/// [`register`], with `signer<n>@example.no` verified at `at`.
pub async fn reachable(t: &super::TestDb, n: u16, given_name: &str, at: OffsetDateTime) -> Person {
    let person = register(t, n, given_name).await;
    let manage = own::<ManageContact>(&person, Loa::Substantial);
    let email = EmailAddress::parse(&format!("signer{n}@example.no")).unwrap();
    let sent = t.db.request_email_change(&manage, email, at).await.unwrap();
    t.db.verify_code(&manage, ContactMethod::Email, sent.code.expose(), at)
        .await
        .unwrap();
    person
}

/// The proof of an agency `name` granted signing.
pub fn signing_agency(name: &str) -> AgencyAccess<SendForSigning> {
    let actor = Actor::Agency {
        agency: AgencyId::parse(name).unwrap(),
        grants: AgencyGrants::SIGNING,
    };
    Policy::authorize_agency::<SendForSigning>(&actor).unwrap()
}
