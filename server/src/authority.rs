//! The authority forms (`app/src/routes/authority/` shows them): grant, ask for, approve,
//! decline and revoke delegations.
//!
//! Each handler builds its proof through the policy from the session (`Posted::read_own`):
//! the giver (or the asker) is always the logged-in person, also while they act for someone
//! else (one's authority is managed only for oneself), never an id from the form. A
//! delegation id in an address is acted on only through the register's conditional updates,
//! which touch a delegation only if it is the proof's subject's; anyone else's is a 404.
//! Every refusal of the rules becomes a translated error on the form, with nothing changed.

use app::components::form::{FieldError, FormOutcome};
use axum::{
    extract::{Path, Request, State},
    response::Response,
    routing::post,
    Router,
};
use borgerportal::{
    access::{GrantAuthority, ManageAuthority},
    delegation::{DelegationError, DelegationId, DelegationRules, Scope, ScopeGrant},
    identity::NationalId,
    person::PersonId,
};
use time::{Date, OffsetDateTime};

use crate::forms::{Answer, NoFields, Posted};
use crate::AppState;

/// The form routes; the pages at `/authority/grant` and `/authority/request` are the app's.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authority/grant", post(grant))
        .route("/authority/request", post(request))
        .route("/authority/{id}/revoke", post(revoke))
        .route("/authority/{id}/approve", post(approve))
        .route("/authority/{id}/decline", post(decline))
        .route("/authority/{id}/change", post(change))
}

/// A posted form's fields in order (checkboxes repeat `scope`).
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// `YYYY-MM-DD`, as a date field sends it.
fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Names compared as a person types them: case and spacing do not matter.
fn same_name(typed: &str, registered: &str) -> bool {
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .map(|word| word.to_lowercase())
            .collect()
    };
    !typed.trim().is_empty() && words(typed) == words(registered)
}

/// Where a refusal of the rules shows on the person form, and the number its text needs.
fn refusal_field(
    error: &DelegationError,
    rules: &DelegationRules,
) -> Option<(&'static str, Option<u32>)> {
    Some(match error {
        DelegationError::ToOneself
        | DelegationError::GiverTooYoung
        | DelegationError::HolderTooYoung
        | DelegationError::RequestAlreadyOpen
        | DelegationError::UnknownPerson => ("national_id", None),
        DelegationError::NoScopes
        | DelegationError::DuplicateScope
        | DelegationError::UnknownServiceScope => ("scopes", None),
        DelegationError::EndDatePassed => ("ends_on", None),
        DelegationError::EndDateTooLate => ("ends_on", Some(u32::from(rules.max_years))),
        _ => return None,
    })
}

fn error(field: &str, code: &str, count: Option<u32>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        count,
    }
}

/// The form's other party, checked against the register, and the scopes with the end date.
/// One and the same error for a number no one has and a name that is not the number's, so
/// the form never tells whether a number exists.
async fn read_person_form(
    state: &AppState,
    fields: &Fields,
) -> Result<(PersonId, Vec<ScopeGrant>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let number = NationalId::parse(field(fields, "national_id").trim());
    if number.is_err() {
        errors.push(error("national_id", "authority.national_id_invalid", None));
    }
    let name = field(fields, "name");
    if name.trim().is_empty() {
        errors.push(error("name", "authority.name_empty", None));
    }
    let scopes = read_scopes(fields).map_err(|scope_errors| errors.extend(scope_errors));
    let (Ok(number), Ok(scopes), true) = (number, scopes, errors.is_empty()) else {
        return Err(errors);
    };
    let person = match state.db.find_person_by_national_id(&number).await {
        Ok(person) => person,
        Err(store) => {
            tracing::error!(error = %store, "could not read the person register");
            return Err(Vec::new());
        }
    };
    match person {
        Some(person) if same_name(name, &person.full_name()) => Ok((person.id, scopes)),
        _ => Err(vec![error(
            "national_id",
            "authority.person_not_matched",
            None,
        )]),
    }
}

/// The form's scopes, each until its one end date (the grant, request and change forms).
fn read_scopes(fields: &Fields) -> Result<Vec<ScopeGrant>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut scopes = Vec::new();
    for (_, code) in fields.iter().filter(|(key, _)| key == "scope") {
        match Scope::from_code(code) {
            Some(scope) => scopes.push(scope),
            None => {
                errors.push(error("scopes", "delegation.unknown_service_scope", None));
                break;
            }
        }
    }
    if scopes.is_empty() && errors.is_empty() {
        errors.push(error("scopes", "delegation.no_scopes", None));
    }
    let ends_on = parse_date(field(fields, "ends_on"));
    if ends_on.is_none() {
        errors.push(error("ends_on", "authority.end_date_invalid", None));
    }
    match ends_on {
        Some(ends_on) if errors.is_empty() => Ok(scopes
            .into_iter()
            .map(|scope| ScopeGrant { scope, ends_on })
            .collect()),
        _ => Err(errors),
    }
}

/// What was typed, kept for the form shown again.
fn typed(fields: &Fields) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(key, _)| matches!(key.as_str(), "national_id" | "name" | "scope" | "ends_on"))
        .cloned()
        .collect()
}

/// The form again with `errors`; the database's failure if there are none to show.
fn again(errors: Vec<FieldError>, fields: &Fields) -> Answer {
    if errors.is_empty() {
        return Answer::Unavailable;
    }
    Answer::Again(FormOutcome {
        errors,
        values: typed(fields),
    })
}

/// The register's answer as the form's: a refusal on its field, else unavailable.
fn refused(error: DelegationError, rules: &DelegationRules, fields: &Fields) -> Answer {
    if matches!(error, DelegationError::UnknownPerson) {
        // As for a wrong name: never says whether the number exists.
        let errors = vec![self::error(
            "national_id",
            "authority.person_not_matched",
            None,
        )];
        return again(errors, fields);
    }
    match refusal_field(&error, rules) {
        Some((field, count)) => again(vec![self::error(field, error.code(), count)], fields),
        None => {
            tracing::error!(%error, "a delegation change could not be carried out");
            Answer::Unavailable
        }
    }
}

async fn grant(State(state): State<AppState>, request: Request) -> Response {
    let posted =
        match Posted::<GrantAuthority, Fields>::read_own(&state, request, "/authority/grant").await
        {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let rules = &state.delegation_rules;
    let answer = match read_person_form(&state, &posted.form).await {
        Err(errors) => again(errors, &posted.form),
        Ok((holder, scopes)) => {
            let now = OffsetDateTime::now_utc();
            match state
                .db
                .grant_delegation(&posted.access, holder, &scopes, rules, now)
                .await
            {
                Ok(_) => Answer::done("/authority?done=granted"),
                Err(error) => refused(error, rules, &posted.form),
            }
        }
    };
    answer.respond(&state, posted.parts).await
}

async fn request(State(state): State<AppState>, request: Request) -> Response {
    let posted =
        match Posted::<ManageAuthority, Fields>::read_own(&state, request, "/authority/request")
            .await
        {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let rules = &state.delegation_rules;
    let answer = match read_person_form(&state, &posted.form).await {
        Err(errors) => again(errors, &posted.form),
        Ok((giver, scopes)) => {
            let now = OffsetDateTime::now_utc();
            match state
                .db
                .request_delegation(&posted.access, giver, &scopes, rules, now)
                .await
            {
                Ok(_) => Answer::done("/authority?done=requested"),
                Err(error) => refused(error, rules, &posted.form),
            }
        }
    };
    answer.respond(&state, posted.parts).await
}

/// A delegation id from the address; anything else is no delegation (404).
fn delegation_id(text: &str) -> Option<DelegationId> {
    uuid::Uuid::parse_str(text)
        .ok()
        .map(DelegationId::from_uuid)
}

/// A state change's refusal, shown on the overview at the request's (or delegation's) entry:
/// someone else's or no such delegation is a 404.
fn refused_on_overview(
    id: DelegationId,
    error: DelegationError,
    rules: &DelegationRules,
) -> Answer {
    let at = format!("request-{id}");
    match error {
        DelegationError::NotFound => Answer::NotFound,
        DelegationError::WrongState => Answer::AgainAt(
            "/authority".to_owned(),
            FormOutcome {
                errors: vec![self::error(&at, error.code(), None)],
                values: Vec::new(),
            },
        ),
        other => match refusal_field(&other, rules) {
            Some((_, count)) => Answer::AgainAt(
                "/authority".to_owned(),
                FormOutcome {
                    errors: vec![self::error(&at, other.code(), count)],
                    values: Vec::new(),
                },
            ),
            None => {
                tracing::error!(error = %other, "a delegation change could not be carried out");
                Answer::Unavailable
            }
        },
    }
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let posted =
        match Posted::<ManageAuthority, NoFields>::read_own(&state, request, "/authority").await {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let answer = match delegation_id(&id) {
        None => Answer::NotFound,
        Some(id) => {
            let now = OffsetDateTime::now_utc();
            match state.db.revoke_delegation(&posted.access, id, now).await {
                Ok(_) => Answer::done("/authority?done=revoked"),
                Err(error) => refused_on_overview(id, error, &state.delegation_rules),
            }
        }
    };
    answer.respond(&state, posted.parts).await
}

async fn decline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let posted =
        match Posted::<ManageAuthority, NoFields>::read_own(&state, request, "/authority").await {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let answer = match delegation_id(&id) {
        None => Answer::NotFound,
        Some(id) => {
            let now = OffsetDateTime::now_utc();
            match state.db.decline_delegation(&posted.access, id, now).await {
                Ok(_) => Answer::done("/authority?done=declined"),
                Err(error) => refused_on_overview(id, error, &state.delegation_rules),
            }
        }
    };
    answer.respond(&state, posted.parts).await
}

/// Approves a request with the end date chosen for each of its scopes (`ends_on.<scope>`).
async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let posted =
        match Posted::<GrantAuthority, Fields>::read_own(&state, request, "/authority").await {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let rules = &state.delegation_rules;
    let answer = match delegation_id(&id) {
        None => Answer::NotFound,
        Some(id) => {
            let mut scopes = Vec::new();
            let mut bad = false;
            for (key, value) in &posted.form {
                let Some(code) = key.strip_prefix("ends_on.") else {
                    continue;
                };
                match (Scope::from_code(code), parse_date(value)) {
                    (Some(scope), Some(ends_on)) => scopes.push(ScopeGrant { scope, ends_on }),
                    _ => bad = true,
                }
            }
            if bad {
                Answer::AgainAt(
                    "/authority".to_owned(),
                    FormOutcome {
                        errors: vec![error(
                            &format!("request-{id}"),
                            "authority.end_date_invalid",
                            None,
                        )],
                        values: Vec::new(),
                    },
                )
            } else {
                let now = OffsetDateTime::now_utc();
                match state
                    .db
                    .approve_delegation(&posted.access, id, &scopes, rules, now)
                    .await
                {
                    Ok(_) => Answer::done("/authority?done=approved"),
                    Err(error) => refused_on_overview(id, error, rules),
                }
            }
        }
    };
    answer.respond(&state, posted.parts).await
}

/// The giver changes a delegation's scopes and end date (needs `high`, as a grant). A
/// delegation that is not theirs, or no longer active, is a 404; a refusal of the rules is
/// shown on the form with nothing changed.
async fn change(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let here = format!("/authority/{id}/change");
    let posted = match Posted::<GrantAuthority, Fields>::read_own(&state, request, &here).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let rules = &state.delegation_rules;
    let answer = match (delegation_id(&id), read_scopes(&posted.form)) {
        (None, _) => Answer::NotFound,
        (Some(_), Err(errors)) => again(errors, &posted.form),
        (Some(id), Ok(scopes)) => {
            let now = OffsetDateTime::now_utc();
            match state
                .db
                .change_delegation(&posted.access, id, &scopes, rules, now)
                .await
            {
                Ok(_) => Answer::done("/authority?done=changed"),
                Err(DelegationError::NotFound | DelegationError::WrongState) => Answer::NotFound,
                Err(error) => refused(error, rules, &posted.form),
            }
        }
    };
    answer.respond(&state, posted.parts).await
}

#[cfg(test)]
mod tests {
    use super::{parse_date, same_name};

    #[test]
    fn dates_and_names_as_typed() {
        assert_eq!(
            parse_date("2030-12-31"),
            Some(time::macros::date!(2030 - 12 - 31))
        );
        assert_eq!(parse_date("2030-02-30"), None);
        assert_eq!(parse_date(""), None);
        assert!(same_name(" ingrid  SOLBERG ", "Ingrid Solberg"));
        assert!(!same_name("Ingrid", "Ingrid Solberg"));
        assert!(!same_name("", ""));
    }
}
