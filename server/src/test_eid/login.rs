//! The test eID's login page: the authorization request checked, the synthetic persons to
//! choose from (or a number typed in), and the code handed back to the portal.

use super::*;

/// The parameters of an authorization request (query on GET, hidden fields on POST).
#[derive(Debug, Deserialize)]
pub(super) struct AuthorizeParams {
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
    acr_values: Option<String>,
    prompt: Option<String>,
    ui_locales: Option<String>,
    login_hint: Option<String>,
    /// Only on POST: the chosen person, level and button.
    person: Option<String>,
    /// With `person=other`: a synthetic national identity number typed in.
    other_id: Option<String>,
    level: Option<String>,
    action: Option<String>,
}

/// What is wrong with an authorization request.
enum Refusal {
    /// Client or redirect unknown: must not redirect anywhere; show a page.
    Page,
    /// Tell the client, at its redirect URI.
    Redirect(&'static str),
}

fn check(eid: &TestEid, p: &AuthorizeParams) -> Result<(), Refusal> {
    if p.client_id != CLIENT_ID || p.redirect_uri != eid.redirect_uri() {
        return Err(Refusal::Page);
    }
    let challenge_ok = (43..=128).contains(&p.code_challenge.len())
        && p.code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if p.response_type != "code"
        || !p.scope.split_whitespace().any(|s| s == "openid")
        || p.state.is_empty()
        || p.nonce.is_empty()
    {
        return Err(Refusal::Redirect("invalid_request"));
    }
    if p.code_challenge_method != "S256" || !challenge_ok {
        return Err(Refusal::Redirect("invalid_request"));
    }
    Ok(())
}

fn error_redirect(eid: &TestEid, flavor: Flavor, p: &AuthorizeParams, error: &str) -> Response {
    redirect_to_client(eid, flavor, p, &[("error", error)])
}

fn redirect_to_client(
    eid: &TestEid,
    flavor: Flavor,
    p: &AuthorizeParams,
    extra: &[(&str, &str)],
) -> Response {
    let issuer = eid.issuer(flavor);
    let mut url = match url::Url::parse(&p.redirect_uri) {
        Ok(url) => url,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in extra {
            query.append_pair(k, v);
        }
        query.append_pair("state", &p.state);
        query.append_pair("iss", &issuer);
    }
    Redirect::to(url.as_str()).into_response()
}

/// The demo persons of this issuer's country, each with a short alias for `login_hint`.
pub(super) fn persons(flavor: Flavor) -> Vec<(String, NewPerson)> {
    demo_persons()
        .into_iter()
        .filter(|p| p.national_id.country() == flavor.country())
        .map(|p| (p.given_name.to_lowercase(), p))
        .collect()
}

pub(super) async fn authorize_page(
    State(state): State<AppState>,
    Path(flavor): Path<String>,
    headers: HeaderMap,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    let (eid, flavor, lang) = match admit(&state, &flavor, &headers, &params) {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let high = flavor.asks_high(params.acr_values.as_deref());
    // `login_hint=<alias>` finishes at once (for automated tests), unless re-authentication
    // was asked for with prompt=login... which a hint answers just as well here.
    if let Some(hint) = params.login_hint.as_deref() {
        if let Some((_, person)) = persons(flavor).into_iter().find(|(alias, _)| alias == hint) {
            return issue_code(&eid, flavor, &params, person, high);
        }
    }
    login_page(&state, &eid, flavor, &params, lang, high, false)
}

/// The test eID's login form (again, with the typed number marked as refused).
fn login_page(
    state: &AppState,
    eid: &TestEid,
    flavor: Flavor,
    params: &AuthorizeParams,
    lang: &str,
    high: bool,
    other_invalid: bool,
) -> Response {
    let body = login_form(eid, flavor, params, lang, high, other_invalid);
    let title = html_text(lang, "test_eid.title");
    html_response(
        if other_invalid {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        page(
            lang,
            &title,
            Some(&html_text(lang, "test_eid.banner")),
            &body,
            &state.assets.stylesheet,
        ),
    )
}

/// The checks both halves of the authorization step share: the test eID is on, the request is
/// valid (or the refusal, as a page or a redirect to the client), and the page language.
fn admit(
    state: &AppState,
    flavor: &str,
    headers: &HeaderMap,
    params: &AuthorizeParams,
) -> Result<(TestEid, Flavor, &'static str), Box<Response>> {
    let Some((eid, flavor)) = enabled(state, flavor) else {
        return Err(Box::new(StatusCode::NOT_FOUND.into_response()));
    };
    let lang = flavor.page_language(params.ui_locales.as_deref(), headers);
    match check(&eid, params) {
        Err(Refusal::Page) => Err(Box::new(refusal_page(state, lang))),
        Err(Refusal::Redirect(error)) => Err(Box::new(error_redirect(&eid, flavor, params, error))),
        Ok(()) => Ok((eid, flavor, lang)),
    }
}

pub(super) fn refusal_page(state: &AppState, lang: &str) -> Response {
    let title = html_text(lang, "test_eid.invalid_title");
    let body = format!(
        "<article class=\"prose\"><h1>{title}</h1><p>{}</p></article>",
        html_text(lang, "test_eid.invalid_text")
    );
    html_response(
        StatusCode::BAD_REQUEST,
        page(
            lang,
            &title,
            Some(&html_text(lang, "test_eid.banner")),
            &body,
            &state.assets.stylesheet,
        ),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

fn login_form(
    eid: &TestEid,
    flavor: Flavor,
    p: &AuthorizeParams,
    lang: &str,
    high: bool,
    other_invalid: bool,
) -> String {
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
        fields.push_str(&hidden(name, value));
    }
    for (name, value) in [
        ("acr_values", &p.acr_values),
        ("prompt", &p.prompt),
        ("ui_locales", &p.ui_locales),
    ] {
        if let Some(value) = value {
            fields.push_str(&hidden(name, value));
        }
    }
    let mut people = String::new();
    for (i, (alias, person)) in persons(flavor).into_iter().enumerate() {
        let checked = if i == 0 && !other_invalid {
            " checked"
        } else {
            ""
        };
        people.push_str(&format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"person-{i}\" name=\"person\" value=\"{}\"{checked}>\
             <label for=\"person-{i}\">{} <span class=\"muted\">({})</span></label></div>",
            escape(&alias),
            escape(&person.full_name()),
            escape(&person.national_id.masked()),
        ));
    }
    // Any other synthetic person, by number (as ID-porten's test environment allows): tests
    // that change a person's data each log in as their own, fresh person.
    let invalid = if other_invalid {
        format!(
            "<p class=\"field-error\" id=\"other-id-error\">{}</p>",
            html_text(lang, "test_eid.other_invalid")
        )
    } else {
        String::new()
    };
    let described = if other_invalid {
        " aria-invalid=\"true\" aria-describedby=\"other-id-error\""
    } else {
        ""
    };
    people.push_str(&format!(
        "<div class=\"choice\"><input type=\"radio\" id=\"person-other\" name=\"person\" value=\"other\"{checked}>\
         <label for=\"person-other\">{other}</label></div>\
         <div class=\"field indented\"><label for=\"other-id\">{other_label}</label>{invalid}\
         <input type=\"text\" id=\"other-id\" name=\"other_id\" inputmode=\"numeric\" autocomplete=\"off\"{described}></div>",
        checked = if other_invalid { " checked" } else { "" },
        other = html_text(lang, "test_eid.other_person"),
        other_label = html_text(lang, "test_eid.other_id"),
    ));
    let level = |value: &str, key: &str, checked: bool| {
        format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"level-{value}\" name=\"level\" value=\"{value}\"{}>\
             <label for=\"level-{value}\">{}</label></div>",
            if checked { " checked" } else { "" },
            html_text(lang, key)
        )
    };
    format!(
        "<article class=\"prose\"><h1>{title}</h1><p>{intro}</p>\
         <form method=\"post\" action=\"{action}\">{fields}\
         <fieldset><legend>{choose}</legend>{people}</fieldset>\
         <fieldset><legend>{level_legend}</legend>{substantial}{high_choice}</fieldset>\
         <div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"login\" class=\"button\">{login}</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"button button-secondary\">{cancel}</button></div>\
         </form></article>",
        title = html_text(lang, "test_eid.title"),
        intro = html_text(lang, "test_eid.intro"),
        action = escape(&format!("{}/authorize", eid.issuer(flavor))),
        choose = html_text(lang, "test_eid.choose_person"),
        level_legend = html_text(lang, "test_eid.level"),
        substantial = level("substantial", "test_eid.level_substantial", !high),
        high_choice = level("high", "test_eid.level_high", high),
        login = html_text(lang, "test_eid.log_in"),
        cancel = html_text(lang, "test_eid.cancel"),
    )
}

pub(super) async fn authorize_submit(
    State(state): State<AppState>,
    Path(flavor): Path<String>,
    headers: HeaderMap,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    let (eid, flavor, lang) = match admit(&state, &flavor, &headers, &params) {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    if params.action.as_deref() == Some("cancel") {
        return error_redirect(&eid, flavor, &params, "access_denied");
    }
    let high = params.level.as_deref() == Some("high");
    if params.person.as_deref() == Some("other") {
        return match other_person(flavor, params.other_id.as_deref().unwrap_or("")) {
            Some(person) => issue_code(&eid, flavor, &params, person, high),
            None => login_page(&state, &eid, flavor, &params, lang, high, true),
        };
    }
    let chosen = params.person.as_deref().and_then(|alias| {
        persons(flavor)
            .into_iter()
            .find(|(a, _)| a == alias)
            .map(|(_, person)| person)
    });
    let Some(person) = chosen else {
        return refusal_page(&state, lang);
    };
    issue_code(&eid, flavor, &params, person, high)
}

/// A test person by typed number: a valid national id of the flavour's country, and for
/// Norway a synthetic one (month + 80, as Testnorge's): never a real person's number.
fn other_person(flavor: Flavor, typed: &str) -> Option<NewPerson> {
    let national_id = borgerportal::identity::NationalId::parse(typed.trim()).ok()?;
    let acceptable = national_id.country() == flavor.country()
        && (flavor.country() != Country::Norway || national_id.is_synthetic());
    acceptable.then(|| {
        let language = borgerportal::person::Language::default_for(national_id.country());
        NewPerson::new(national_id, "Test", "Testesen", language)
    })
}

fn issue_code(
    eid: &TestEid,
    flavor: Flavor,
    params: &AuthorizeParams,
    person: NewPerson,
    high: bool,
) -> Response {
    let code = random_token(&eid.inner.rng, 32);
    let grant = Grant {
        flavor,
        person,
        high,
        nonce: params.nonce.clone(),
        code_challenge: params.code_challenge.clone(),
        redirect_uri: params.redirect_uri.clone(),
        sid: random_token(&eid.inner.rng, 16),
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        issued: Instant::now(),
    };
    if let Ok(mut codes) = eid.inner.codes.lock() {
        codes.retain(|_, g| g.issued.elapsed() < CODE_LIFETIME);
        codes.insert(code.clone(), grant);
    }
    redirect_to_client(eid, flavor, params, &[("code", &code)])
}
