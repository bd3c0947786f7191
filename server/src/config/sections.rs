//! The configuration's sections, one type each: what the portal talks to (eID providers, mail,
//! SMS, agencies, external mailboxes) and the rules it applies (sessions, contact, API).

use super::*;

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

/// What each client connection may take (`server::serve`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// A request's head (request line and headers) must arrive within this many
    /// milliseconds of its first byte (of the connection's opening, for its first request);
    /// else the connection is closed. Bounds "slowloris" clients.
    pub request_head_timeout_ms: u64,
    /// A keep-alive connection with no request in flight is closed after this many
    /// milliseconds without a new request. Longer than a load balancer's own idle timeout
    /// (often 60 s), so the portal is not the one closing a connection the balancer is about
    /// to reuse.
    pub idle_timeout_ms: u64,
    /// Open client connections, all HTTP workers together. At the limit the portal accepts
    /// no more until one closes: new ones wait in the listen backlog (and the kernel refuses
    /// them when that is full). The process's open-file limit (`ulimit -n`, systemd's
    /// `LimitNOFILE`) must be above it, with room for the database and other files.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_head_timeout_ms: 10_000,
            idle_timeout_ms: 75_000,
            max_connections: 10_000,
        }
    }
}

impl HttpConfig {
    /// The limits the HTTP workers apply.
    pub fn limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            head_timeout: std::time::Duration::from_millis(self.request_head_timeout_ms),
            idle_timeout: std::time::Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections,
        }
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

/// Rules of delegations (`[delegation]`), and the service scopes agencies define
/// (`[[delegation.service_scopes]]` with `id`, `name_nb`, `name_nn`, `name_da`, `name_en`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DelegationConfig {
    /// The youngest a giver or holder registered in Norway may be (18).
    pub min_age_norway: u8,
    /// The youngest a giver or holder registered in Denmark may be (15).
    pub min_age_denmark: u8,
    /// The longest a scope may run, in years (5).
    pub max_years: u8,
    /// Service scopes: the portal does not act on them, it answers about them.
    pub service_scopes: Vec<ServiceScopeConfig>,
}

impl Default for DelegationConfig {
    fn default() -> Self {
        let rules = borgerportal::delegation::DelegationRules::default();
        Self {
            min_age_norway: rules.min_age_norway,
            min_age_denmark: rules.min_age_denmark,
            max_years: rules.max_years,
            service_scopes: Vec::new(),
        }
    }
}

/// One service scope an agency defined: its id and a name in every language.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceScopeConfig {
    /// `a-z 0-9 . _ -`, up to 48 characters, e.g. `nav.dagpenger`.
    pub id: String,
    /// Name in bokmål.
    pub name_nb: String,
    /// Name in nynorsk.
    pub name_nn: String,
    /// Name in Danish.
    pub name_da: String,
    /// Name in English.
    pub name_en: String,
}

impl DelegationConfig {
    /// The domain's rules; why not, if an age, the maximum or a service scope is unusable.
    pub fn rules(&self) -> Result<borgerportal::delegation::DelegationRules, &'static str> {
        use borgerportal::delegation::{ServiceScope, ServiceScopeId};
        if !(1..=120).contains(&self.min_age_norway) || !(1..=120).contains(&self.min_age_denmark) {
            return Err("min_age_norway and min_age_denmark must be between 1 and 120");
        }
        if !(1..=100).contains(&self.max_years) {
            return Err("max_years must be between 1 and 100");
        }
        let mut service_scopes: Vec<ServiceScope> = Vec::new();
        for scope in &self.service_scopes {
            let id = ServiceScopeId::parse(&scope.id).map_err(|_| {
                "a service scope id is 1 to 48 of a-z 0-9 . _ - (a letter or digit first)"
            })?;
            if service_scopes.iter().any(|known| known.id == id) {
                return Err("service scope ids must be unique");
            }
            let names = [
                &scope.name_nb,
                &scope.name_nn,
                &scope.name_da,
                &scope.name_en,
            ];
            if names.iter().any(|name| name.trim().is_empty()) {
                return Err("a service scope needs a name in nb, nn, da and en");
            }
            service_scopes.push(ServiceScope {
                id,
                name_nb: scope.name_nb.clone(),
                name_nn: scope.name_nn.clone(),
                name_da: scope.name_da.clone(),
                name_en: scope.name_en.clone(),
            });
        }
        Ok(borgerportal::delegation::DelegationRules {
            min_age_norway: self.min_age_norway,
            min_age_denmark: self.min_age_denmark,
            max_years: self.max_years,
            service_scopes,
        })
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

/// Sealing signed documents (`[signing]`): the portal's seal key and certificate chain, the
/// timestamp authority, and the sealing worker.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SigningConfig {
    /// Run the sealing worker in this instance (every instance may: claims never overlap).
    pub enabled: bool,
    /// Development only: make a test root CA, seal and TSA certificate in
    /// `data_dir/signing/` at first start and seal with them; every sealed document then says
    /// TEST on its front page. A build without the `dev` feature refuses it.
    pub test_pki: bool,
    /// The seal's private key (PEM: PKCS#8 ECDSA P-256 or RSA ≥ 2048, or PKCS#1 RSA).
    pub seal_key_file: Option<PathBuf>,
    /// The seal's certificate and its chain (PEM, any order).
    pub certificate_chain_file: Option<PathBuf>,
    /// The RFC 3161 timestamp authority (PAdES B-T). Empty: refused for a real seal; with
    /// `test_pki` the test PKI's TSA certificate stamps in the process.
    pub timestamp_url: String,
    /// Make every seal long-term (PAdES B-LTA): after the seal, the OCSP responses (or CRLs)
    /// of the seal's and the TSA's certificates are fetched from the URLs in the certificates
    /// and embedded (`/DSS`, B-LT), and the TSA stamps the whole file (document timestamp,
    /// B-LTA). Needs `timestamp_url`. A failed fetch or a revoked certificate fails that seal
    /// attempt (retried after the lease). Off: B-T.
    pub long_term: bool,
    /// How often an idle worker looks for jobs to seal, in milliseconds.
    pub poll_interval_ms: u64,
    /// How long a claim on a job lasts, in seconds: longer than sealing a job can take, or
    /// another instance seals it again meanwhile (the first completion wins either way).
    pub lease_seconds: u64,
}

impl Default for SigningConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            test_pki: false,
            seal_key_file: None,
            certificate_chain_file: None,
            timestamp_url: String::new(),
            long_term: false,
            poll_interval_ms: 2000,
            lease_seconds: 300,
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
    /// provider's queue), `check_authority` (the authority check). Default: the first two, as
    /// for any public agency.
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
    /// The authority check (`POST /api/v1/authority/check`); never by default.
    CheckAuthority,
    /// Sending documents for signing (`/api/v1/signing/…`); never by default.
    Signing,
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
                    AgencyCapabilityName::CheckAuthority => AgencyGrants::CHECK_AUTHORITY,
                    AgencyCapabilityName::Signing => AgencyGrants::SIGNING,
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
