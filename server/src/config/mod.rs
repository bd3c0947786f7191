//! Configuration: safe built-in defaults, then an optional TOML file, then environment
//! variables prefixed `BORGERPORTAL_` (nested keys joined by `__`). `borgerportal.example.toml`
//! documents every key. Secrets are `SecretString` so `Debug` never prints them.

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::{fmt, net::SocketAddr, path::PathBuf};

mod sections;
mod staff;

pub use sections::*;
pub use staff::{MunicipalityConfig, StaffConfig};

/// The whole configuration of one portal instance.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Threads serving HTTP requests, each with its own connections (`server::serve`); 0
    /// means one per available core.
    pub workers: usize,
    /// The address citizens use to reach the portal, e.g. `https://borgerportal.example`.
    /// Decides whether HSTS is sent and which `Origin` state-changing requests must carry.
    pub public_url: String,
    /// Directory for the embedded database and other local state.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` (embedded) or `postgres://…`. Empty means a SQLite file in
    /// `data_dir`. May hold a password, so it is a secret.
    pub database_url: SecretString,
    /// Directory holding the built site (`pkg/` with the WASM, JS and CSS, and public files).
    pub site_root: PathBuf,
    /// Load the synthetic demo persons on start (development and demonstrations only: a
    /// build without the `dev` feature refuses to start with it).
    pub demo_data: bool,
    /// Logging.
    pub log: LogConfig,
    /// Client connections: how long a request's head and an idle connection may take, and
    /// how many may be open.
    #[serde(default)]
    pub http: HttpConfig,
    /// Login sessions.
    pub session: SessionConfig,
    /// The built-in test eID (development only: a build without the `dev` feature refuses to
    /// start with it).
    pub test_eid: TestEidConfig,
    /// Requests per minute per client address to the login endpoints.
    pub login_rate_limit_per_minute: u32,
    /// Calls per minute per client address to the back-channel logout endpoint (the
    /// provider's servers; anyone else sends junk).
    pub backchannel_logout_rate_limit_per_minute: u32,
    /// The eID providers citizens log in with.
    #[serde(default)]
    pub oidc: OidcConfig,
    /// How e-mail leaves the portal (default: files in `data_dir/outbox-sink`).
    #[serde(default)]
    pub mail: MailConfig,
    /// How SMS leave the portal (default: files in `data_dir/outbox-sink`).
    #[serde(default)]
    pub sms: SmsConfig,
    /// The notification worker that sends what the outbox holds.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// The agency API (audience and token rules).
    #[serde(default)]
    pub api: ApiConfig,
    /// The agencies whose systems may call the agency API, each with its public key.
    #[serde(default)]
    pub agencies: Vec<AgencyConfig>,
    /// Rules of the contact and reservation register.
    #[serde(default)]
    pub contact: ContactConfig,
    /// External digital mailbox providers letters are forwarded to, for citizens who chose
    /// one (`contact::Mailbox::External`).
    #[serde(default)]
    pub mailbox_providers: Vec<MailboxProviderConfig>,
    /// Rules of delegations, and the service scopes agencies define.
    #[serde(default)]
    pub delegation: DelegationConfig,
    /// Sealing signed documents.
    #[serde(default)]
    pub signing: SigningConfig,
    /// Borgerservice staff: their sessions and the municipalities they log in with.
    #[serde(default)]
    pub staff: StaffConfig,
}

/// The defaults: a local development instance with the embedded database and demo data.
#[derive(Serialize)]
struct Defaults {
    listen: SocketAddr,
    workers: usize,
    public_url: &'static str,
    data_dir: &'static str,
    database_url: &'static str,
    site_root: &'static str,
    demo_data: bool,
    log: LogConfig,
    session: SessionConfig,
    test_eid: TestEidConfig,
    login_rate_limit_per_minute: u32,
    backchannel_logout_rate_limit_per_minute: u32,
    contact: ContactConfig,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            workers: 0,
            public_url: "http://127.0.0.1:3000",
            data_dir: "data",
            database_url: "",
            site_root: "target/site",
            demo_data: false,
            log: LogConfig {
                format: LogFormat::Pretty,
                filter: "info".to_owned(),
            },
            session: SessionConfig {
                idle_timeout_minutes: 30,
                absolute_lifetime_hours: 12,
                id_token_key_file: None,
            },
            test_eid: TestEidConfig { enabled: false },
            login_rate_limit_per_minute: 30,
            backchannel_logout_rate_limit_per_minute: 120,
            contact: ContactConfig {
                staleness_days: 548,
            },
        }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Read(#[from] Box<figment::Error>),
    #[error("public_url must start with http:// or https://")]
    PublicUrl,
    #[error("session timeouts must be at least one minute and one hour")]
    SessionTimeouts,
    #[error("contact.staleness_days must be between 1 and 3650")]
    Staleness,
    #[error("provider ids must be unique, non-empty and URL-safe (a-z, 0-9, -)")]
    ProviderId,
    #[error("mail: transport \"smtp\" needs smtp_host, and `from` must be a mailbox")]
    Mail,
    #[error("sms: gateway \"http\" needs an http(s) url")]
    Sms,
    #[error("http: request_head_timeout_ms, idle_timeout_ms and max_connections must be positive")]
    Http,
    #[error("notify: poll_interval_ms, batch_size, lease_seconds and max_attempts must be positive, and the lease longer than the mail and SMS timeouts")]
    Notify,
    #[error("agency {0:?}: {1}")]
    Agency(String, &'static str),
    #[error("mailbox provider {0:?}: {1}")]
    MailboxProvider(String, &'static str),
    #[error("delegation: {0}")]
    Delegation(&'static str),
    #[error("signing: {0}")]
    Signing(&'static str),
    #[error("staff municipality {0:?}: {1}")]
    Staff(String, &'static str),
}

impl Config {
    /// Defaults, then the file named by `BORGERPORTAL_CONFIG` (if set), then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Defaults::default()));
        if let Some(path) = std::env::var_os("BORGERPORTAL_CONFIG") {
            figment = figment.merge(Toml::file_exact(PathBuf::from(path)));
        }
        Self::from_figment(
            figment.merge(
                Env::prefixed("BORGERPORTAL_")
                    .ignore(&["CONFIG"])
                    .split("__"),
            ),
        )
    }

    /// The defaults with the given TOML on top (for tests and tools).
    pub fn from_toml(toml: &str) -> Result<Self, ConfigError> {
        Self::from_figment(
            Figment::from(Serialized::defaults(Defaults::default())).merge(Toml::string(toml)),
        )
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(Box::new)?;
        if !(config.public_url.starts_with("http://") || config.public_url.starts_with("https://"))
        {
            return Err(ConfigError::PublicUrl);
        }
        if config.session.idle_timeout_minutes == 0 || config.session.absolute_lifetime_hours == 0 {
            return Err(ConfigError::SessionTimeouts);
        }
        if config.http.request_head_timeout_ms == 0
            || config.http.idle_timeout_ms == 0
            || config.http.max_connections == 0
        {
            return Err(ConfigError::Http);
        }
        if !(1..=3650).contains(&config.contact.staleness_days) {
            return Err(ConfigError::Staleness);
        }
        config.delegation.rules().map_err(ConfigError::Delegation)?;
        config
            .staff
            .check()
            .map_err(|(id, why)| ConfigError::Staff(id, why))?;
        let mut ids = std::collections::HashSet::new();
        for provider in &config.oidc.providers {
            let url_safe = !provider.id.is_empty()
                && provider
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !url_safe || !ids.insert(provider.id.as_str()) {
                return Err(ConfigError::ProviderId);
            }
        }
        if config.mail.from.trim().is_empty()
            || (config.mail.transport == MailTransport::Smtp
                && config.mail.smtp_host.trim().is_empty())
        {
            return Err(ConfigError::Mail);
        }
        if config.sms.gateway == SmsGatewayKind::Http
            && !(config.sms.url.starts_with("http://") || config.sms.url.starts_with("https://"))
        {
            return Err(ConfigError::Sms);
        }
        // A claim must outlast the slowest send, or another worker may send the same message
        // while the first one still waits for an answer.
        let smtp_timeout = match config.mail.transport {
            MailTransport::Smtp => config.mail.timeout_seconds,
            MailTransport::File => 0,
        };
        let sms_timeout = match config.sms.gateway {
            SmsGatewayKind::Http => config.sms.timeout_seconds,
            SmsGatewayKind::File => 0,
        };
        let notify = &config.notify;
        if notify.poll_interval_ms == 0
            || notify.batch_size == 0
            || notify.max_attempts == 0
            || notify.lease_seconds <= smtp_timeout.max(sms_timeout)
        {
            return Err(ConfigError::Notify);
        }
        let mut mailbox_ids = std::collections::HashSet::new();
        for provider in &config.mailbox_providers {
            let refuse = |why| Err(ConfigError::MailboxProvider(provider.id.clone(), why));
            let normalised = matches!(
                borgerportal::Mailbox::external(&provider.id),
                Ok(borgerportal::Mailbox::External { provider: ref id }) if *id == provider.id
            );
            if !normalised {
                return refuse("the id must be lower case a-z, 0-9, '.', '_', '-'");
            }
            if !mailbox_ids.insert(provider.id.as_str()) {
                return refuse("the id is used twice");
            }
            if !(provider.url.starts_with("https://") || provider.url.starts_with("http://")) {
                return refuse("the url must start with https:// (or http://)");
            }
            if provider.timeout_seconds == 0 || notify.lease_seconds <= provider.timeout_seconds {
                return refuse(
                    "timeout_seconds must be positive and shorter than notify.lease_seconds",
                );
            }
        }
        let mut agency_ids = std::collections::HashSet::new();
        for agency in &config.agencies {
            let refuse = |why| Err(ConfigError::Agency(agency.id.clone(), why));
            if borgerportal::AgencyId::parse(&agency.id).is_err() {
                return refuse("the id must be 1-64 of a-z, 0-9 and inner hyphens");
            }
            if !agency_ids.insert(agency.id.as_str()) {
                return refuse("the id is used twice");
            }
            match (&agency.public_key, &agency.public_key_file) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => return refuse("give exactly one of public_key and public_key_file"),
            }
            if agency.generate_key_pair {
                if !config.test_eid.enabled {
                    return refuse("generate_key_pair is for development (with the test eID) only");
                }
                if agency.public_key_file.is_none() || agency.algorithm != AgencyAlgorithm::ES256 {
                    return refuse("generate_key_pair needs public_key_file and ES256");
                }
            }
        }
        if config.signing.long_term && config.signing.timestamp_url.is_empty() {
            return Err(ConfigError::Signing(
                "long_term = true needs a timestamp_url (the document timestamp of B-LTA)",
            ));
        }
        if config.api.max_token_lifetime_seconds == 0 || config.contact.staleness_days == 0 {
            return Err(ConfigError::Agency(
                String::new(),
                "token lifetime and staleness must be positive",
            ));
        }
        Ok(config)
    }

    /// Refuses, in a build without the development-only code (`dev_build` false: pass
    /// [`DEV_BUILD`]), a configuration that asks for the test eID or the demo data. Checked
    /// before anything starts (`main`, and `AppState::new`).
    pub fn check_dev_only(&self, dev_build: bool) -> Result<(), DevOnlyError> {
        if dev_build {
            Ok(())
        } else if self.test_eid.enabled {
            Err(DevOnlyError::Configured(
                "the built-in test eID (`[test_eid] enabled = true`)",
            ))
        } else if self.demo_data {
            Err(DevOnlyError::Configured(
                "the demo data (`demo_data = true`)",
            ))
        } else if self.signing.test_pki {
            Err(DevOnlyError::Configured(
                "the test seal certificate (`[signing] test_pki = true`)",
            ))
        } else {
            Ok(())
        }
    }

    /// The `aud` agency API tokens must carry: `api.audience`, or else `public_url`.
    pub fn api_audience(&self) -> &str {
        if self.api.audience.is_empty() {
            &self.public_url
        } else {
            &self.api.audience
        }
    }

    /// The database URL to connect to: the configured one, or a SQLite file in `data_dir`.
    pub fn effective_database_url(&self) -> SecretString {
        let configured = self.database_url.expose_secret();
        if configured.is_empty() {
            let path = self.data_dir.join("borgerportal.db");
            SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
        } else {
            self.database_url.clone()
        }
    }

    /// How many threads serve HTTP: `workers`, or one per available core when it is 0.
    pub fn http_workers(&self) -> std::num::NonZeroUsize {
        std::num::NonZeroUsize::new(self.workers)
            .or_else(|| std::thread::available_parallelism().ok())
            .unwrap_or(std::num::NonZeroUsize::MIN)
    }

    /// Served over https: send HSTS and mark cookies `Secure` with the `__Host-` prefix.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `scheme://host[:port]` of `public_url`, compared with a request's `Origin` header.
    pub fn public_origin(&self) -> &str {
        let url = self.public_url.as_str();
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        match url[after_scheme..].find('/') {
            Some(slash) => &url[..after_scheme + slash],
            None => url,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("workers", &self.workers)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("database_url", &"[redacted]")
            .field("site_root", &self.site_root)
            .field("demo_data", &self.demo_data)
            .field("log", &self.log)
            .field("http", &self.http)
            .field("session", &self.session)
            .field("test_eid", &self.test_eid)
            .field(
                "login_rate_limit_per_minute",
                &self.login_rate_limit_per_minute,
            )
            .field(
                "backchannel_logout_rate_limit_per_minute",
                &self.backchannel_logout_rate_limit_per_minute,
            )
            .field("oidc", &self.oidc.providers)
            .field("mail", &self.mail)
            .field("sms", &self.sms)
            .field("notify", &self.notify)
            .field("api", &self.api)
            .field("agencies", &self.agencies)
            .field("contact", &self.contact)
            .field("mailbox_providers", &self.mailbox_providers)
            .field("signing", &self.signing)
            .field("staff", &self.staff)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_a_safe_local_instance() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert!(!config.is_https());
        assert!(!config.demo_data, "demo data must be asked for");
        assert!(config
            .effective_database_url()
            .expose_secret()
            .starts_with("sqlite://"));
    }

    #[test]
    fn http_workers_are_one_per_core_unless_configured() {
        let cores = std::thread::available_parallelism().unwrap();
        assert_eq!(Config::from_toml("").unwrap().http_workers(), cores);
        let config = Config::from_toml("workers = 3").unwrap();
        assert_eq!(config.http_workers().get(), 3);
    }

    #[test]
    fn debug_never_shows_the_database_password() {
        let config =
            Config::from_toml(r#"database_url = "postgres://portal:hunter2@db/portal""#).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_refused() {
        assert!(Config::from_toml("lissten = \"1.2.3.4:1\"").is_err());
        assert!(matches!(
            Config::from_toml(r#"public_url = "ftp://x""#),
            Err(ConfigError::PublicUrl)
        ));
    }

    #[test]
    fn providers_are_read_and_their_secrets_hidden() {
        let config = Config::from_toml(
            r#"
            [[oidc.providers]]
            id = "idporten"
            name = "ID-porten"
            issuer = "https://idporten.example"
            client_id = "portal"
            client_auth = { method = "client_secret", secret = "s3cret-value" }
            profile = "idporten"
            "#,
        )
        .unwrap();
        assert_eq!(config.oidc.providers.len(), 1);
        assert_eq!(config.oidc.providers[0].scopes, ["openid", "profile"]);
        assert!(!format!("{config:?}").contains("s3cret-value"));
        let duplicate = r#"
            [[oidc.providers]]
            id = "a"
            name = "A"
            issuer = "https://a.example"
            client_id = "c"
            client_auth = { method = "client_secret", secret = "x" }
            profile = "idporten"
            [[oidc.providers]]
            id = "a"
            name = "B"
            issuer = "https://b.example"
            client_id = "c"
            client_auth = { method = "client_secret", secret = "x" }
            profile = "mitid-broker"
        "#;
        assert!(matches!(
            Config::from_toml(duplicate),
            Err(ConfigError::ProviderId)
        ));
    }

    #[test]
    fn the_shipped_configuration_files_are_valid() {
        let production =
            Config::from_toml(include_str!("../../../config/production.example.toml")).unwrap();
        assert!(
            !production.test_eid.enabled,
            "never a test eID in production"
        );
        assert!(!production.demo_data);
        assert!(production.is_https());
        assert_eq!(production.oidc.providers.len(), 2);
        let development =
            Config::from_toml(include_str!("../../../config/development.toml")).unwrap();
        assert!(development.test_eid.enabled && development.demo_data);
        assert_eq!(production.mail.transport, MailTransport::Smtp);
        assert_eq!(production.mail.smtp_tls, SmtpTls::Starttls);
        assert_eq!(production.sms.gateway, SmsGatewayKind::Http);
        assert_eq!(
            (development.mail.transport, development.sms.gateway),
            (MailTransport::File, SmsGatewayKind::File),
            "development sends nothing off the machine"
        );
        assert_eq!(development.agencies.len(), 1, "the demo agency");
        assert!(production.agencies.iter().all(|a| !a.generate_key_pair));
        assert_eq!(
            production.staff.municipality.len(),
            2,
            "OS2faktor and Entra ID"
        );
        assert_eq!(development.staff.idle_timeout_minutes, 15);
        assert!(
            development.staff.municipality.is_empty(),
            "the test eID adds the demo municipalities"
        );
    }

    #[test]
    fn a_build_without_dev_refuses_the_test_eid_and_demo_data_and_says_why() {
        let development =
            Config::from_toml(include_str!("../../../config/development.toml")).unwrap();
        let production =
            Config::from_toml(include_str!("../../../config/production.example.toml")).unwrap();
        // A development build takes either; a production build only the production example.
        assert!(development.check_dev_only(true).is_ok());
        assert!(production.check_dev_only(true).is_ok());
        assert!(production.check_dev_only(false).is_ok());
        let refusal = development.check_dev_only(false).unwrap_err().to_string();
        assert!(refusal.contains("test eID (`[test_eid] enabled = true`)"));
        assert!(refusal.contains("built without it") && refusal.contains("`dev` cargo feature"));
        let demo_only = Config::from_toml("demo_data = true").unwrap();
        let refusal = demo_only.check_dev_only(false).unwrap_err().to_string();
        assert!(refusal.starts_with(
            "the configuration asks for the demo data (`demo_data = true`), which is development-only"
        ));
        let test_seal = Config::from_toml("[signing]\ntest_pki = true").unwrap();
        let refusal = test_seal.check_dev_only(false).unwrap_err().to_string();
        assert!(refusal.contains("test seal certificate (`[signing] test_pki = true`)"));
        assert_eq!(
            Config::from_toml("").unwrap().check_dev_only(false).ok(),
            Some(()),
            "the defaults ask for neither"
        );
        assert_eq!(DEV_BUILD, cfg!(feature = "dev"));
    }

    #[test]
    fn long_term_seals_are_off_by_default_and_need_a_timestamp_authority() {
        let development =
            Config::from_toml(include_str!("../../../config/development.toml")).unwrap();
        assert!(!development.signing.long_term, "development stays B-T");
        assert!(!Config::from_toml("").unwrap().signing.long_term);
        let production =
            Config::from_toml(include_str!("../../../config/production.example.toml")).unwrap();
        assert!(!production.signing.long_term);
        let config = Config::from_toml(
            "[signing]\nlong_term = true\ntimestamp_url = \"https://tsa.example/tsa\"",
        )
        .unwrap();
        assert!(config.signing.long_term);
        assert_eq!(config.signing.timestamp_url, "https://tsa.example/tsa");
        let refusal = Config::from_toml("[signing]\nlong_term = true")
            .unwrap_err()
            .to_string();
        assert!(
            refusal.contains("long_term = true needs a timestamp_url"),
            "{refusal}"
        );
        let refusal = Config::from_toml("[signing]\nlong_term = \"yes\"")
            .unwrap_err()
            .to_string();
        assert!(refusal.contains("long_term"), "{refusal}");
    }

    #[test]
    fn notifications_default_to_the_file_sink_and_hide_their_secrets() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.mail.transport, MailTransport::File);
        assert_eq!(config.sms.gateway, SmsGatewayKind::File);
        assert!(config.notify.enabled);
        let config = Config::from_toml(
            r#"
            [mail]
            transport = "smtp"
            smtp_host = "smtp.example"
            smtp_tls = "tls"
            smtp_port = 465
            smtp_username = "portal"
            smtp_password = "mail-s3cret"
            [sms]
            gateway = "http"
            url = "https://sms.example/send"
            token = "sms-t0ken"
            [notify]
            poll_interval_ms = 200
            "#,
        )
        .unwrap();
        assert_eq!(config.mail.smtp_tls, SmtpTls::Tls);
        assert_eq!(config.notify.poll_interval_ms, 200);
        assert_eq!(
            config.notify.batch_size, 20,
            "unset keys keep their default"
        );
        let printed = format!("{config:?}");
        assert!(!printed.contains("mail-s3cret"), "{printed}");
        assert!(!printed.contains("sms-t0ken"), "{printed}");
        for bad in [
            "[mail]\ntransport = \"smtp\"",
            "[sms]\ngateway = \"http\"\nurl = \"ftp://x\"",
            "[notify]\nbatch_size = 0",
            "[mail]\ntransport = \"smtp\"\nsmtp_host = \"h\"\n[notify]\nlease_seconds = 30",
            "[notify]\nlease_seconds = 0",
            "[mail]\nsmtp_tls = \"maybe\"",
        ] {
            assert!(Config::from_toml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn agencies_are_checked() {
        let agency = |extra: &str| {
            format!(
                "[test_eid]\nenabled = true\n[[agencies]]\nid = \"nav\"\nname = \"NAV\"\n\
                 algorithm = \"ES256\"\n{extra}"
            )
        };
        let config = Config::from_toml(&agency("public_key = \"pem\"\n")).unwrap();
        assert!(config.agencies[0].enabled, "enabled unless said otherwise");
        assert_eq!(
            config.agencies[0].grants(),
            borgerportal::AgencyGrants::DEFAULT,
            "look-up and delivery unless said otherwise"
        );
        assert_eq!(config.api_audience(), config.public_url);
        assert_eq!(config.contact.staleness_days, 548);
        for bad in [
            "",
            "public_key = \"pem\"\npublic_key_file = \"f.pem\"\n",
            "public_key = \"pem\"\ngenerate_key_pair = true\n",
        ] {
            assert!(
                matches!(
                    Config::from_toml(&agency(bad)),
                    Err(ConfigError::Agency(..))
                ),
                "{bad}"
            );
        }
        let no_test_eid = agency("public_key_file = \"f.pem\"\ngenerate_key_pair = true\n")
            .replace("enabled = true", "enabled = false");
        assert!(Config::from_toml(&no_test_eid).is_err());
        let bad_id = agency("public_key = \"pem\"\n").replace("\"nav\"", "\"NAV!\"");
        assert!(Config::from_toml(&bad_id).is_err());
        let algorithm = agency("public_key = \"pem\"\n").replace("ES256", "HS256");
        assert!(Config::from_toml(&algorithm).is_err(), "no HMAC");
    }

    #[test]
    fn mailbox_providers_are_checked_and_their_tokens_never_printed() {
        let provider = |id: &str, url: &str, extra: &str| {
            format!(
                "[[mailbox_providers]]\nid = \"{id}\"\nname = \"Digipost\"\nurl = \"{url}\"\n\
                 token = \"very-secret-token\"\n{extra}"
            )
        };
        let config =
            Config::from_toml(&provider("digipost", "https://digipost.example/in", "")).unwrap();
        assert_eq!(config.mailbox_providers[0].id, "digipost");
        assert_eq!(config.mailbox_providers[0].timeout_seconds, 30);
        assert!(!format!("{config:?}").contains("very-secret-token"));
        assert!(format!("{config:?}").contains("digipost.example"));
        let twice = format!(
            "{}\n{}",
            provider("digipost", "https://a.example", ""),
            provider("digipost", "https://b.example", "")
        );
        for bad in [
            provider("Digipost", "https://digipost.example", ""),
            provider("digi post", "https://digipost.example", ""),
            provider("digipost", "ftp://digipost.example", ""),
            provider(
                "digipost",
                "https://digipost.example",
                "timeout_seconds = 0",
            ),
            provider(
                "digipost",
                "https://digipost.example",
                "timeout_seconds = 9999",
            ),
            twice,
        ] {
            assert!(
                matches!(
                    Config::from_toml(&bad),
                    Err(ConfigError::MailboxProvider(..))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn public_origin_drops_the_path() {
        let config = Config::from_toml(r#"public_url = "https://portal.example/sub/""#).unwrap();
        assert_eq!(config.public_origin(), "https://portal.example");
        assert!(config.is_https());
    }
}
