//! Borgerservice staff: their login through each municipality's own OpenID Connect provider,
//! their sessions and their cookie, all apart from citizens'.
//!
//! Routes (`login.rs`):
//! - `GET /staff/login/{municipality}` starts a login at the municipality's provider
//!   (`prompt=login`: a desk PC is shared, so the provider asks who is there every time);
//! - `GET /staff/callback` finishes it: the relying party's checks (`auth::oidc`, the same
//!   code as citizens' logins), then the municipality's rules (`borgerportal::staff`), a new
//!   staff session and the staff log;
//! - `POST /staff/logout` ends the staff session here and at the provider.
//!
//! The staff session lives in its own table under its own cookie (`__Host-borgerportal_staff`
//! over https), and is read only for `/staff…`: the citizens' session middleware never sees
//! it, and nothing here reads a citizen's cookie. So a staff cookie never opens a citizen's
//! page and a citizen's cookie never opens a staff page, also in one browser.

mod login;

pub use login::{callback, login_start, logout};

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use borgerportal::staff::{MunicipalityId, StaffLoginRules, StaffSession, StaffToken};
use borgerportal::storage::Database;
use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};
use time::{Duration, OffsetDateTime};

use crate::auth::oidc::Provider;
use crate::auth::seal::IdTokenSeal;
use crate::config::{Config, MunicipalityConfig};
use crate::cookies::SessionCookies;
use crate::AppState;

/// `last_seen_at` is written at most this often per staff session.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// One municipality whose staff log in here.
pub struct Municipality {
    pub id: MunicipalityId,
    pub name: String,
    pub rules: StaffLoginRules,
    pub provider: Arc<Provider>,
    acr_values: Option<String>,
}

/// Everything the staff login needs.
pub struct StaffAuth {
    municipalities: Vec<Arc<Municipality>>,
    by_id: HashMap<String, Arc<Municipality>>,
    pub idle_timeout: Duration,
    absolute_lifetime: Duration,
    /// The staff session cookie and the pending staff login's cookie (never the citizens').
    pub cookies: SessionCookies,
    public_url: String,
    seal: IdTokenSeal,
}

impl StaffAuth {
    /// The configured municipalities plus any the built-in test provider adds.
    pub fn new(
        config: &Config,
        extra: Vec<MunicipalityConfig>,
        form_targets: crate::security::FormTargets,
        seal: IdTokenSeal,
    ) -> Result<Self, reqwest::Error> {
        // As for citizens: never follow a provider's redirects on the back channel.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(10))
            .build()?;
        let public_url = config.public_url.trim_end_matches('/').to_owned();
        let redirect_uri = format!("{public_url}/staff/callback");
        let mut municipalities = Vec::new();
        for municipality in config.staff.municipality.iter().cloned().chain(extra) {
            // Checked when the configuration was read (`StaffConfig::check`); the test
            // provider's are written to pass.
            let Ok(rules) = municipality.rules() else {
                tracing::error!(municipality = %municipality.id, "staff municipality skipped: invalid rules");
                continue;
            };
            municipalities.push(Arc::new(Municipality {
                id: rules.municipality.clone(),
                name: municipality.name.clone(),
                rules,
                provider: Arc::new(Provider::new(
                    municipality.provider(),
                    redirect_uri.clone(),
                    http.clone(),
                    form_targets.clone(),
                )),
                acr_values: municipality.acr_values.clone(),
            }));
        }
        let by_id = municipalities
            .iter()
            .map(|m| (m.id.as_str().to_owned(), m.clone()))
            .collect();
        Ok(Self {
            municipalities,
            by_id,
            idle_timeout: Duration::minutes(i64::from(config.staff.idle_timeout_minutes)),
            absolute_lifetime: Duration::hours(i64::from(config.staff.absolute_lifetime_hours)),
            cookies: SessionCookies::new(
                config.is_https(),
                ["__Host-borgerportal_staff", "borgerportal_staff"],
                [
                    "__Secure-borgerportal_staff_login",
                    "borgerportal_staff_login",
                ],
                "/staff/callback",
            ),
            public_url,
            seal,
        })
    }

    /// (id, name) of each municipality, in configuration order, for `/staff`.
    pub fn choices(&self) -> Vec<(String, String)> {
        self.municipalities
            .iter()
            .map(|m| (m.id.as_str().to_owned(), m.name.clone()))
            .collect()
    }

    pub fn municipality(&self, id: &str) -> Option<&Arc<Municipality>> {
        self.by_id.get(id)
    }

    /// The municipality's name as configured (the id when it is no longer configured).
    pub fn municipality_name(&self, id: &MunicipalityId) -> String {
        self.by_id
            .get(id.as_str())
            .map_or_else(|| id.to_string(), |m| m.name.clone())
    }

    /// The staff session cookie's name (never the citizens').
    pub fn cookie_name(&self) -> &'static str {
        self.cookies.session_name()
    }

    /// The staff token the request's staff cookie holds (never the citizens' cookie).
    pub fn token(&self, headers: &HeaderMap) -> Option<StaffToken> {
        self.cookies
            .session_value(headers)
            .and_then(StaffToken::from_cookie_value)
    }
}

/// The live staff session the request's staff cookie names, if any, with its activity
/// recorded (at most once a minute). Past its idle or absolute timeout it is none.
pub async fn find_staff_session(
    staff: &StaffAuth,
    db: &Database,
    headers: &HeaderMap,
) -> Option<StaffSession> {
    let token = staff.token(headers)?;
    let now = OffsetDateTime::now_utc();
    match db.find_staff_session(&token, now, staff.idle_timeout).await {
        Ok(Some(session)) => {
            if now - session.last_seen_at > TOUCH_INTERVAL {
                if let Err(error) = db.touch_staff_session(&token, now).await {
                    tracing::warn!(%error, "could not record staff session activity");
                }
            }
            Some(session)
        }
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, "could not read the staff session");
            None
        }
    }
}

/// The staff login's routes (the page `/staff` is the app's, `app::routes::Page::Staff`).
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(
            Router::new()
                .route("/staff/login/{municipality}", get(login_start))
                .route("/staff/callback", get(callback))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::rate_limit::limit_logins,
                )),
        )
        .route("/staff/logout", post(logout))
}
