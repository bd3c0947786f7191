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
    /// Login sessions.
    pub session: SessionConfig,
    /// The built-in test eID (development only: a build without the `dev` feature refuses to
    /// start with it).
    pub test_eid: TestEidConfig,
    /// Requests per minute per client address to the login endpoints.
    pub login_rate_limit_per_minute: u32,
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
}

/// An external mailbox provider (Digipost, e-Boks, ...): letters for citizens who chose it
/// are `POST`ed to `url` as JSON with `Authorization: Bearer <token>` and an
/// `Idempotency-Key` (the letter id).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxProviderConfig {
    /// The id citizens choose on `/contact/mailbox` (lower case `a-z 0-9 . _ -`), e.g.
    /// `digipost`.
    pub id: String,
    /// The provider's name, for logs and people.
    pub name: String,
    /// The endpoint letters are posted to: `https://…` (`http://` only for tests).
    pub url: String,
    /// The bearer token the provider gave the portal (a secret: never printed by `Debug`;
    /// keep the configuration file readable only by the portal).
    pub token: SecretString,
    /// Give up on one request after this many seconds (then retry later).
    #[serde(default = "default_provider_timeout")]
    pub timeout_seconds: u64,
}

fn default_provider_timeout() -> u64 {
    30
}

impl fmt::Debug for MailboxProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxProviderConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("token", &"[redacted]")
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// The agency API.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// The `aud` agencies' tokens must name. Empty: the portal's `public_url`.
    pub audience: String,
    /// The longest a token may live (`exp` − `iat`), in seconds: agencies sign a fresh,
    /// short-lived token per call, so a leaked one is soon useless.
    pub max_token_lifetime_seconds: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            audience: String::new(),
            max_token_lifetime_seconds: 300,
        }
    }
}

/// Rules of the contact and reservation register.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContactConfig {
    /// Contact information not verified or confirmed for this many days must not be used for
    /// notifications (KRR: 18 months; 548 days).
    pub staleness_days: u32,
}

impl Default for ContactConfig {
    fn default() -> Self {
        Self {
            staleness_days: 548,
        }
    }
}

impl ContactConfig {
    /// The staleness limit as a duration.
    pub fn staleness(&self) -> time::Duration {
        time::Duration::days(i64::from(self.staleness_days))
    }
}

/// Where e-mail goes. The default writes each message as a file into
/// `data_dir/outbox-sink`, so a development instance never sends mail off the machine.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `file` (the default: the local sink) or `smtp`.
    pub transport: MailTransport,
    /// The sender, e.g. `Borgerportal <ikke-svar@borgerportal.example>`.
    pub from: String,
    /// SMTP server host name (`transport = "smtp"`).
    pub smtp_host: String,
    /// SMTP port: 25 or 587 with `starttls`, 465 with `tls`.
    pub smtp_port: u16,
    /// `none` (plain text: only for a relay on loopback or a test server), `starttls` or `tls`.
    pub smtp_tls: SmtpTls,
    /// Optional SMTP login.
    pub smtp_username: String,
    /// Its password; empty means no login. Put it in the environment
    /// (`BORGERPORTAL_MAIL__SMTP_PASSWORD`), not in the file.
    pub smtp_password: SecretString,
    /// Give up on one SMTP conversation after this many seconds (then retry later).
    pub timeout_seconds: u64,
}

/// The e-mail transport.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// One file per message in `data_dir/outbox-sink` (nothing leaves the machine).
    File,
    /// A real SMTP server.
    Smtp,
}

/// Transport security towards the SMTP server.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// No encryption (loopback relays and test servers only).
    None,
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransport::File,
            from: "Borgerportal <ikke-svar@borgerportal.invalid>".to_owned(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: String::new(),
            smtp_password: SecretString::from(String::new()),
            timeout_seconds: 30,
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("transport", &self.transport)
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &"[redacted]")
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// Where SMS go. The default writes each message as a file into `data_dir/outbox-sink`.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// `file` (the default: the local sink) or `http` (a JSON-over-HTTP gateway).
    pub gateway: SmsGatewayKind,
    /// The gateway's endpoint (`gateway = "http"`), e.g. `https://sms.example/v1/messages`.
    pub url: String,
    /// The bearer token the gateway expects. Put it in the environment
    /// (`BORGERPORTAL_SMS__TOKEN`), not in the file.
    pub token: SecretString,
    /// Give up on one request after this many seconds (then retry later).
    pub timeout_seconds: u64,
}

/// The SMS gateway.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsGatewayKind {
    /// One file per message in `data_dir/outbox-sink` (nothing leaves the machine).
    File,
    /// `POST {to, text, idempotency_key}` as JSON with a bearer token.
    Http,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            gateway: SmsGatewayKind::File,
            url: String::new(),
            token: SecretString::from(String::new()),
            timeout_seconds: 10,
        }
    }
}

impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsConfig")
            .field("gateway", &self.gateway)
            .field("url", &self.url)
            .field("token", &"[redacted]")
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// The background worker that sends queued notifications.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Run the worker in this instance (every instance may: claims never overlap).
    pub enabled: bool,
    /// How often an idle worker looks for due messages, in milliseconds.
    pub poll_interval_ms: u64,
    /// The most messages claimed (and sent concurrently) at once.
    pub batch_size: u32,
    /// How long a claim lasts, in seconds: longer than a send can take (the SMTP and gateway
    /// timeouts), or another instance may send the message again while this one still tries.
    pub lease_seconds: u64,
    /// Failed attempts after which a message is given up (status `failed`).
    pub max_attempts: u32,
    /// The waits between attempts, in seconds; the last one repeats.
    pub backoff_seconds: Vec<u64>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_ms: 2000,
            batch_size: 20,
            lease_seconds: 120,
            max_attempts: 8,
            backoff_seconds: vec![30, 120, 600, 3600, 7200, 14400, 28800],
        }
    }
}

/// The signature algorithms agencies may sign their tokens with. One per agency: a token with
/// any other `alg` header is refused (no `none`, and no HMAC, so an agency's public key can
/// never be used as an HMAC secret).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub enum AgencyAlgorithm {
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// Ed25519.
    EdDSA,
}

/// One agency allowed to call the agency API.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// Short stable id: the `iss` of its tokens and the actor in the audit log, e.g. `nav`.
    pub id: String,
    /// The agency's name, e.g. `Arbeids- og velferdsetaten`.
    pub name: String,
    /// The one algorithm its tokens are signed with.
    pub algorithm: AgencyAlgorithm,
    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----` …), or
    #[serde(default)]
    pub public_key: Option<String>,
    /// a file holding it.
    #[serde(default)]
    pub public_key_file: Option<PathBuf>,
    /// Off: its tokens are refused (403) while the entry stays documented.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Development only (needs the test eID on): make an ES256 key pair at first start, the
    /// public key at `public_key_file` and the private key beside it (`private.pem`), so that
    /// `borgerportal api-token` can sign tokens for local calls.
    #[serde(default)]
    pub generate_key_pair: bool,
    /// What it may do through the API: `lookup_contact`, `deliver_post`, `print` (the print
    /// provider's queue). Default: the first two, as for any public agency.
    #[serde(default = "default_capabilities")]
    pub capabilities: Vec<AgencyCapabilityName>,
}

/// A capability an agency entry may be granted (see [`borgerportal::AgencyGrants`]).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgencyCapabilityName {
    /// The contact and reservation look-up.
    LookupContact,
    /// Delivering digital post and polling its receipts.
    DeliverPost,
    /// The print provider's queue.
    Print,
}

impl AgencyConfig {
    /// The grants its `capabilities` name, for the access policy.
    pub fn grants(&self) -> borgerportal::AgencyGrants {
        use borgerportal::AgencyGrants;
        self.capabilities
            .iter()
            .fold(AgencyGrants::NONE, |grants, name| {
                grants.with(match name {
                    AgencyCapabilityName::LookupContact => AgencyGrants::LOOKUP_CONTACT,
                    AgencyCapabilityName::DeliverPost => AgencyGrants::DELIVER_POST,
                    AgencyCapabilityName::Print => AgencyGrants::PRINT,
                })
            })
    }
}

fn default_capabilities() -> Vec<AgencyCapabilityName> {
    vec![
        AgencyCapabilityName::LookupContact,
        AgencyCapabilityName::DeliverPost,
    ]
}

fn enabled_by_default() -> bool {
    true
}

/// How long a login lasts.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Logged out after this many minutes without a request (ID-porten's SSO lasts 30).
    pub idle_timeout_minutes: u32,
    /// Logged out this many hours after login, however active.
    pub absolute_lifetime_hours: u32,
    /// The key that seals the id_token each session keeps for logout (`auth/seal.rs`): 32
    /// bytes, made at the first start if the file is missing. Default `data_dir/id-token.key`.
    /// Every instance sharing a database must use the same file. A secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_key_file: Option<PathBuf>,
}

impl SessionConfig {
    /// Where the id_token key is: the configured file, or `data_dir/id-token.key`.
    pub fn id_token_key_path(&self, data_dir: &std::path::Path) -> PathBuf {
        self.id_token_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("id-token.key"))
    }
}

/// The test eID inside the binary: a real OpenID Connect provider with synthetic persons.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestEidConfig {
    /// Off unless asked for; never in production.
    pub enabled: bool,
}

/// Whether this binary holds the development-only code (the `dev` cargo feature): the built-in
/// test eID, the demo data and `borgerportal generate-data`. The production build has not.
pub const DEV_BUILD: bool = cfg!(feature = "dev");

/// Development-only code that a build without the `dev` feature was asked for: it refuses to
/// start, naming what and why.
#[derive(Debug, thiserror::Error)]
pub enum DevOnlyError {
    /// By the configuration (the test eID, the demo data).
    #[error(
        "the configuration asks for {0}, which is development-only, and this binary was built \
         without it (a production build, without the `dev` cargo feature): turn it off in the \
         configuration, or use a development build (`cargo xtask run`, or `--features dev`)"
    )]
    Configured(&'static str),
    /// By a command (`generate-data`).
    #[error(
        "{0} is development-only, and this binary was built without it (a production build, \
         without the `dev` cargo feature): use a development build (`cargo xtask run`, or \
         `--features dev`)"
    )]
    Command(&'static str),
}

/// The eID providers.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
}

/// Which claims a provider uses for the national id and the level of assurance.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimProfile {
    /// ID-porten: `pid`, `acr` = `idporten-loa-substantial|high`.
    Idporten,
    /// MitID through an OIDC broker: `dk.cpr`, NSIS `loa` (or `acr`) URIs.
    MitidBroker,
}

/// One eID provider.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Short stable name used in URLs, e.g. `idporten`.
    pub id: String,
    /// The name citizens see on the login page, e.g. `ID-porten`.
    pub name: String,
    /// The issuer; discovery is read from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// How the portal authenticates to the provider's token endpoint.
    pub client_auth: ClientAuth,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    pub profile: ClaimProfile,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned(), "profile".to_owned()]
}

/// Client authentication at the token endpoint.
#[derive(Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientAuth {
    /// `client_secret_basic`.
    ClientSecret { secret: SecretString },
    /// `private_key_jwt`: a signed client assertion; the PKCS#8 PEM key is read from a file.
    PrivateKeyJwt { key_file: PathBuf, key_id: String },
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_auth",
                &match &self.client_auth {
                    ClientAuth::ClientSecret { .. } => "client_secret [redacted]",
                    ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt",
                },
            )
            .field("profile", &self.profile)
            .finish()
    }
}

/// How logs are written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for people, `json` for log collectors.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,server=debug`. `RUST_LOG` overrides it.
    pub filter: String,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
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
    #[error("notify: poll_interval_ms, batch_size, lease_seconds and max_attempts must be positive, and the lease longer than the mail and SMS timeouts")]
    Notify,
    #[error("agency {0:?}: {1}")]
    Agency(String, &'static str),
    #[error("mailbox provider {0:?}: {1}")]
    MailboxProvider(String, &'static str),
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
        if !(1..=3650).contains(&config.contact.staleness_days) {
            return Err(ConfigError::Staleness);
        }
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
            .field("session", &self.session)
            .field("test_eid", &self.test_eid)
            .field(
                "login_rate_limit_per_minute",
                &self.login_rate_limit_per_minute,
            )
            .field("oidc", &self.oidc.providers)
            .field("mail", &self.mail)
            .field("sms", &self.sms)
            .field("notify", &self.notify)
            .field("api", &self.api)
            .field("agencies", &self.agencies)
            .field("contact", &self.contact)
            .field("mailbox_providers", &self.mailbox_providers)
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
            Config::from_toml(include_str!("../../config/production.example.toml")).unwrap();
        assert!(
            !production.test_eid.enabled,
            "never a test eID in production"
        );
        assert!(!production.demo_data);
        assert!(production.is_https());
        assert_eq!(production.oidc.providers.len(), 2);
        let development = Config::from_toml(include_str!("../../config/development.toml")).unwrap();
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
    }

    #[test]
    fn a_build_without_dev_refuses_the_test_eid_and_demo_data_and_says_why() {
        let development = Config::from_toml(include_str!("../../config/development.toml")).unwrap();
        let production =
            Config::from_toml(include_str!("../../config/production.example.toml")).unwrap();
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
        assert_eq!(
            Config::from_toml("").unwrap().check_dev_only(false).ok(),
            Some(()),
            "the defaults ask for neither"
        );
        assert_eq!(DEV_BUILD, cfg!(feature = "dev"));
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
