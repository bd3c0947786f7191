//! The built-in TEST staff provider (development only, with the test eID): one OpenID Connect
//! issuer per demo municipality at `/test-eid-staff/{municipality}`, answering like OS2faktor
//! (`loa` "3" after a second factor, "2" without; roles in `roles`), with demo staff: in each
//! municipality a caseworker and a supervisor, in Oslo one person without a borgerservice
//! role and in Aarhus one who logs in without a second factor, to show the refusals. Reached
//! by the portal over HTTP through the same relying-party code as a real provider.

use super::*;
use crate::config::MunicipalityConfig;

/// A demo member of staff (or would-be one).
struct DemoStaff {
    /// Short name for the form and for `login_hint`.
    alias: &'static str,
    municipality: &'static str,
    given_name: &'static str,
    family_name: &'static str,
    roles: &'static [&'static str],
    /// OS2faktor's `loa`: "3" with a second factor.
    loa: &'static str,
}

const CASEWORKER: &str = "borgerservice";
const SUPERVISOR: &str = "borgerservice-leder";

const DEMO_STAFF: [DemoStaff; 6] = [
    DemoStaff {
        alias: "kari",
        municipality: "test-oslo",
        given_name: "Kari",
        family_name: "Saksbehandler",
        roles: &[CASEWORKER],
        loa: "3",
    },
    DemoStaff {
        alias: "per",
        municipality: "test-oslo",
        given_name: "Per",
        family_name: "Leder",
        roles: &[SUPERVISOR],
        loa: "3",
    },
    DemoStaff {
        alias: "ola",
        municipality: "test-oslo",
        given_name: "Ola",
        family_name: "Uten Rolle",
        roles: &["kantine"],
        loa: "3",
    },
    DemoStaff {
        alias: "mette",
        municipality: "test-aarhus",
        given_name: "Mette",
        family_name: "Sagsbehandler",
        roles: &[CASEWORKER],
        loa: "3",
    },
    DemoStaff {
        alias: "lars",
        municipality: "test-aarhus",
        given_name: "Lars",
        family_name: "Leder",
        roles: &[SUPERVISOR],
        loa: "3",
    },
    DemoStaff {
        alias: "jens",
        municipality: "test-aarhus",
        given_name: "Jens",
        family_name: "Uden Tofaktor",
        roles: &[CASEWORKER],
        loa: "2",
    },
];

/// The demo municipalities: (id, name).
const MUNICIPALITIES: [(&str, &str); 2] = [
    ("test-oslo", "Oslo kommune (TEST)"),
    ("test-aarhus", "Aarhus Kommune (TEST)"),
];

/// An issued authorization code of the staff provider.
pub(super) struct StaffGrant {
    municipality: &'static str,
    alias: &'static str,
    nonce: String,
    code_challenge: String,
    sid: String,
    auth_time: i64,
    issued: Instant,
}

impl TestEid {
    /// The demo municipalities the portal gets when the test eID is on.
    pub fn staff_municipalities(&self) -> Vec<MunicipalityConfig> {
        let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
        MUNICIPALITIES
            .iter()
            .map(|(id, name)| MunicipalityConfig {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
                issuer: self.staff_issuer(id),
                client_id: CLIENT_ID.to_owned(),
                client_auth: ClientAuth::ClientSecret {
                    secret: SecretString::from(self.inner.client_secret.clone()),
                },
                scopes: vec!["openid".to_owned(), "profile".to_owned()],
                acr_values: None,
                level_claim: "loa".to_owned(),
                level_values: strings(&["3"]),
                role_claim: "roles".to_owned(),
                caseworker_values: strings(&[CASEWORKER]),
                supervisor_values: strings(&[SUPERVISOR]),
            })
            .collect()
    }

    fn staff_issuer(&self, municipality: &str) -> String {
        format!("{}/test-eid-staff/{municipality}", self.inner.public_url)
    }
}

/// The staff provider's routes. 404 when the test eID is off or the municipality unknown.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/test-eid-staff/{municipality}/.well-known/openid-configuration",
            get(discovery),
        )
        .route("/test-eid-staff/{municipality}/jwks", get(staff_jwks))
        .route(
            "/test-eid-staff/{municipality}/authorize",
            get(authorize_page).post(authorize_submit),
        )
        .route(
            "/test-eid-staff/{municipality}/token",
            axum::routing::post(token),
        )
        .route(
            "/test-eid-staff/{municipality}/end-session",
            get(end_session),
        )
}

fn enabled(state: &AppState, municipality: &str) -> Option<(TestEid, &'static str)> {
    let eid = state.test_eid.clone()?;
    let (id, _) = MUNICIPALITIES.iter().find(|(id, _)| *id == municipality)?;
    Some((eid, *id))
}

async fn discovery(State(state): State<AppState>, Path(municipality): Path<String>) -> Response {
    let Some((eid, municipality)) = enabled(&state, &municipality) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let issuer = eid.staff_issuer(municipality);
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/end-session"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile"],
        "claims_supported": ["sub", "name", "given_name", "family_name", "loa", "roles", "sid", "auth_time"],
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

async fn staff_jwks(State(state): State<AppState>, Path(municipality): Path<String>) -> Response {
    let Some((eid, _)) = enabled(&state, &municipality) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(json!({ "keys": [eid.jwk()] })).into_response()
}

/// An authorization request (query on GET, hidden fields on POST).
#[derive(Deserialize)]
struct StaffAuthorize {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    prompt: Option<String>,
    ui_locales: Option<String>,
    login_hint: Option<String>,
    /// Only on POST: the chosen person and the button.
    person: Option<String>,
    action: Option<String>,
}

/// The request is one the portal's staff login makes; else a page (no redirect to an
/// unknown place).
fn well_formed(eid: &TestEid, p: &StaffAuthorize) -> bool {
    let challenge_ok = (43..=128).contains(&p.code_challenge.len())
        && p.code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    p.client_id == CLIENT_ID
        && p.redirect_uri == format!("{}/staff/callback", eid.inner.public_url)
        && p.response_type == "code"
        && p.scope.split_whitespace().any(|s| s == "openid")
        && !p.state.is_empty()
        && !p.nonce.is_empty()
        && p.code_challenge_method == "S256"
        && challenge_ok
}

fn back_to_portal(
    eid: &TestEid,
    municipality: &str,
    p: &StaffAuthorize,
    extra: &[(&str, &str)],
) -> Response {
    let Ok(mut url) = url::Url::parse(&p.redirect_uri) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in extra {
            query.append_pair(k, v);
        }
        query.append_pair("state", &p.state);
        query.append_pair("iss", &eid.staff_issuer(municipality));
    }
    Redirect::to(url.as_str()).into_response()
}

fn language(p: &StaffAuthorize, headers: &HeaderMap) -> &'static str {
    p.ui_locales
        .as_deref()
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|l| crate::language::LANGUAGES.into_iter().find(|k| *k == l))
        })
        .unwrap_or_else(|| request_language(headers))
}

async fn authorize_page(
    State(state): State<AppState>,
    Path(municipality): Path<String>,
    headers: HeaderMap,
    Query(params): Query<StaffAuthorize>,
) -> Response {
    let Some((eid, municipality)) = enabled(&state, &municipality) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = language(&params, &headers);
    if !well_formed(&eid, &params) {
        return refusal_page(&state, lang);
    }
    // A test shortcut, as the test eID's: `login_hint=<alias>` logs that person in at once.
    if let Some(person) = params
        .login_hint
        .as_deref()
        .and_then(|h| demo(municipality, h))
    {
        return issue_code(&eid, municipality, &params, person);
    }
    login_page(&state, &eid, municipality, &params, lang)
}

async fn authorize_submit(
    State(state): State<AppState>,
    Path(municipality): Path<String>,
    headers: HeaderMap,
    Form(params): Form<StaffAuthorize>,
) -> Response {
    let Some((eid, municipality)) = enabled(&state, &municipality) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = language(&params, &headers);
    if !well_formed(&eid, &params) {
        return refusal_page(&state, lang);
    }
    if params.action.as_deref() == Some("cancel") {
        return back_to_portal(&eid, municipality, &params, &[("error", "access_denied")]);
    }
    match params.person.as_deref().and_then(|a| demo(municipality, a)) {
        Some(person) => issue_code(&eid, municipality, &params, person),
        None => refusal_page(&state, lang),
    }
}

fn demo(municipality: &str, alias: &str) -> Option<&'static DemoStaff> {
    DEMO_STAFF
        .iter()
        .find(|p| p.municipality == municipality && p.alias == alias)
}

fn login_page(
    state: &AppState,
    eid: &TestEid,
    municipality: &'static str,
    p: &StaffAuthorize,
    lang: &'static str,
) -> Response {
    let mut fields = String::new();
    for (name, value) in [
        ("response_type", p.response_type.as_str()),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("nonce", &p.nonce),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ] {
        fields.push_str(&format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        ));
    }
    for (name, value) in [("prompt", &p.prompt), ("ui_locales", &p.ui_locales)] {
        if let Some(value) = value {
            fields.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            ));
        }
    }
    let mut people = String::new();
    for (i, person) in DEMO_STAFF
        .iter()
        .filter(|p| p.municipality == municipality)
        .enumerate()
    {
        let what = if person.loa != "3" {
            html_text(lang, "test_staff.without_second_factor")
        } else if person.roles.contains(&SUPERVISOR) {
            html_text(lang, "test_staff.supervisor")
        } else if person.roles.contains(&CASEWORKER) {
            html_text(lang, "test_staff.caseworker")
        } else {
            html_text(lang, "test_staff.no_role")
        };
        people.push_str(&format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"person-{i}\" name=\"person\" value=\"{alias}\"{checked}>\
             <label for=\"person-{i}\">{name} <span class=\"muted\">({what})</span></label></div>",
            alias = person.alias,
            checked = if i == 0 { " checked" } else { "" },
            name = escape(&format!("{} {}", person.given_name, person.family_name)),
        ));
    }
    let municipality_name = MUNICIPALITIES
        .iter()
        .find(|(id, _)| *id == municipality)
        .map_or(municipality, |(_, name)| *name);
    let title = html_text(lang, "test_staff.title");
    let body = format!(
        "<article class=\"prose\"><h1>{title}</h1><p>{intro} <strong>{municipality}</strong></p>\
         <form method=\"post\" action=\"{action}\">{fields}\
         <fieldset><legend>{choose}</legend>{people}</fieldset>\
         <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"login\" class=\"button\">{login}</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"button button-secondary\">{cancel}</button></div>\
         </form></article>",
        intro = html_text(lang, "test_staff.intro"),
        municipality = escape(municipality_name),
        action = escape(&format!("{}/authorize", eid.staff_issuer(municipality))),
        choose = html_text(lang, "test_staff.choose"),
        login = html_text(lang, "test_eid.log_in"),
        cancel = html_text(lang, "test_eid.cancel"),
    );
    html_response(
        StatusCode::OK,
        page(
            lang,
            &title,
            Some(&html_text(lang, "test_staff.banner")),
            &body,
            &state.assets.stylesheet,
        ),
    )
}

fn issue_code(
    eid: &TestEid,
    municipality: &'static str,
    p: &StaffAuthorize,
    person: &'static DemoStaff,
) -> Response {
    let code = random_token(&eid.inner.rng, 32);
    let grant = StaffGrant {
        municipality,
        alias: person.alias,
        nonce: p.nonce.clone(),
        code_challenge: p.code_challenge.clone(),
        sid: random_token(&eid.inner.rng, 16),
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        issued: Instant::now(),
    };
    if let Ok(mut codes) = eid.inner.staff_codes.lock() {
        codes.retain(|_, g| g.issued.elapsed() < CODE_LIFETIME);
        codes.insert(code.clone(), grant);
    }
    back_to_portal(eid, municipality, p, &[("code", &code)])
}

async fn token(
    State(state): State<AppState>,
    Path(municipality): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenRequest>,
) -> Response {
    let Some((eid, municipality)) = enabled(&state, &municipality) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !client_authenticated(&eid, &headers, &form) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.grant_type != "authorization_code" {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let grant = eid
        .inner
        .staff_codes
        .lock()
        .ok()
        .and_then(|mut c| c.remove(&form.code));
    let Some(grant) = grant else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = B64.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if grant.issued.elapsed() >= CODE_LIFETIME
        || grant.municipality != municipality
        || form.redirect_uri != format!("{}/staff/callback", eid.inner.public_url)
        || challenge != grant.code_challenge
    {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let Some(person) = demo(grant.municipality, grant.alias) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": eid.staff_issuer(municipality),
        "aud": CLIENT_ID,
        "sub": format!("{}.{}", person.alias, municipality),
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        "nonce": grant.nonce,
        "sid": grant.sid,
        "auth_time": grant.auth_time,
        "name": format!("{} {}", person.given_name, person.family_name),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "loa": person.loa,
        "roles": person.roles,
    });
    let Some(id_token) = eid.sign(&claims) else {
        return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "access_token": random_token(&eid.inner.rng, 32),
            "token_type": "Bearer",
            "expires_in": 120,
            "id_token": id_token,
            "scope": "openid profile",
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct EndSession {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    ui_locales: Option<String>,
}

/// RP-initiated logout: back to `/staff` for a hint this issuer signed.
async fn end_session(
    State(state): State<AppState>,
    Path(municipality): Path<String>,
    headers: HeaderMap,
    Query(params): Query<EndSession>,
) -> Response {
    let Some((eid, municipality)) = enabled(&state, &municipality) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let back = format!("{}/staff", eid.inner.public_url);
    let hint_ok = params
        .id_token_hint
        .as_deref()
        .and_then(|t| eid.verify(t))
        .is_some_and(|claims| claims["iss"] == json!(eid.staff_issuer(municipality)));
    if !(hint_ok && params.post_logout_redirect_uri.as_deref() == Some(back.as_str())) {
        let lang = params
            .ui_locales
            .as_deref()
            .and_then(|l| crate::language::LANGUAGES.into_iter().find(|k| *k == l))
            .unwrap_or_else(|| request_language(&headers));
        return refusal_page(&state, lang);
    }
    Redirect::to(&back).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_municipality_has_a_caseworker_and_a_supervisor_and_the_refusals_are_shown() {
        for (id, _) in MUNICIPALITIES {
            let staff: Vec<_> = DEMO_STAFF.iter().filter(|p| p.municipality == id).collect();
            assert!(staff
                .iter()
                .any(|p| p.loa == "3" && p.roles == [CASEWORKER]));
            assert!(staff
                .iter()
                .any(|p| p.loa == "3" && p.roles == [SUPERVISOR]));
        }
        assert!(DEMO_STAFF.iter().any(|p| p.loa == "3"
            && !p.roles.contains(&CASEWORKER)
            && !p.roles.contains(&SUPERVISOR)));
        assert!(DEMO_STAFF.iter().any(|p| p.loa != "3"));
    }
}
