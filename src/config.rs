//! Typed configuration from the environment (`TAVLE_*`, `DATABASE_URL`).
//!
//! Every setting is listed in [`SETTINGS`] (the README's configuration table mirrors
//! it, and a test keeps the two in step). A missing or malformed setting stops
//! start-up with one line that names it. Secrets are wrapped in [`Secret`] so that
//! `Debug` never prints them.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use url::Url;

/// Prefix of the variables holding identity providers' client secrets.
pub const OIDC_SECRET_PREFIX: &str = "TAVLE_OIDC_SECRET_";

/// (name, default, meaning) of every setting Tavle reads.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("DATABASE_URL", "(embedded in demo)", "PostgreSQL URL of the application's login (a member of tavle_app; not owner, not superuser). Required by `serve`."),
    ("TAVLE_MIGRATION_DATABASE_URL", "DATABASE_URL", "PostgreSQL URL of the schema owner, used only to apply migrations."),
    ("TAVLE_LISTEN", "127.0.0.1:8080", "Address and port to serve on."),
    ("TAVLE_PUBLIC_URL", "http://<TAVLE_LISTEN>", "The URL users reach Tavle at; https makes cookies Secure and __Host- prefixed and turns on HSTS."),
    ("TAVLE_DB_MAX_CONNECTIONS", "16", "Size of the application's connection pool."),
    ("TAVLE_DB_ACQUIRE_TIMEOUT_SECONDS", "5", "How long a request waits for a free database connection before it gets the calm 503 page (with Retry-After)."),
    ("TAVLE_STAFF_IDLE_MINUTES", "30", "A staff session ends after this long without a request."),
    ("TAVLE_CITIZEN_IDLE_MINUTES", "30", "A guardian's or pupil's session ends after this long without a request."),
    ("TAVLE_SESSION_MAX_HOURS", "10", "Absolute lifetime of any session."),
    ("TAVLE_SIGN_IN_LIMIT", "20", "Sign-in requests (`/sign-in…`, `/auth/…`) allowed per client address and minute."),
    ("TAVLE_FORM_POST_LIMIT", "600", "Other form posts allowed per client address and minute (raise it behind a proxy that hides addresses, or for load tests)."),
    ("TAVLE_TRUSTED_PROXIES", "(none)", "Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed; otherwise the socket's address is the client's."),
    ("TAVLE_HEADER_READ_TIMEOUT_SECONDS", "10", "A connection that has not sent a request's complete headers within this time is closed."),
    ("TAVLE_BODY_READ_TIMEOUT_SECONDS", "10", "A request body that stalls this long between two parts is cut off (408)."),
    ("TAVLE_REQUEST_TIMEOUT_SECONDS", "30", "A request not answered within this time gets the calm 503 page."),
    ("TAVLE_EXPENSIVE_PER_PERSON", "2", "Expensive requests (absence statistics and their CSV export) one person may have running at once; more get 429."),
    ("TAVLE_EXPENSIVE_PER_MUNICIPALITY", "4", "Expensive requests one municipality may have running at once, so that it cannot take the shared connection pool; more get 503."),
    ("TAVLE_OIDC_SECRET_<SLUG>_<KIND>", "(none)", "Client secret of a municipality's identity provider, e.g. `TAVLE_OIDC_SECRET_FJORDVIK_FEIDE`; `tavle serve` refuses to start when a configured provider has none."),
    ("TAVLE_SMTP_URL", "(none: no e-mail is sent)", "SMTP server for e-mail to guardians (the weekly absence summary): `smtps://user:password@host` (TLS from the start, port 465) or `smtp://user:password@host?tls=required` (STARTTLS, port 587); plain `smtp://host:port` only on loopback. Unset: the mail worker is off (logged once at start)."),
    ("TAVLE_MAIL_FROM", "(required with TAVLE_SMTP_URL)", "Sender of Tavle's e-mail, e.g. `Tavle Fjordvik <noreply@fjordvik.kommune.no>`."),
    ("TAVLE_SMS_URL", "(none: no SMS is sent)", "The SMS gateway's API (`https://…`; plain `http://` only on loopback), e.g. the local `dev/sms` gateway. Unset: the SMS worker is off (logged once at start)."),
    ("TAVLE_SMS_TOKEN", "(required with TAVLE_SMS_URL)", "The gateway's API token, sent as `Authorization: Bearer`."),
    ("TAVLE_SMS_WEBHOOK_SECRET", "(none: no delivery reports)", "The key the gateway signs delivery reports with (HMAC-SHA256, `X-Signature: sha256=…`). Unset: Tavle asks for no reports and `/sms/reports/…` answers 404."),
    ("TAVLE_TODAY", "(today)", "Demo and tests only: run as if today were this date (YYYY-MM-DD); the demo's calendar follows its school year. `tavle serve` refuses to start when it is set."),
    ("TAVLE_LOG", "info", "Log filter (tracing EnvFilter syntax)."),
    ("TAVLE_LOG_FORMAT", "text", "`text` or `json`."),
];

/// Demo mode offers the persona picker and shows a demo banner; production never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Demo,
    Production,
}

/// A value that must never reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<Secret>,
    pub migration_database_url: Option<Secret>,
    pub listen: SocketAddr,
    pub public_url: Url,
    pub db_max_connections: u32,
    pub staff_idle: Duration,
    pub citizen_idle: Duration,
    pub session_max: Duration,
    /// How long a session's actor is kept in the process's cache; zero: no cache.
    pub session_cache: Duration,
    /// Sign-in requests per client address and minute (the browser suite, which signs
    /// in as every role from one address within a few minutes, raises it).
    pub sign_in_limit: u32,
    /// Other form posts per client address and minute.
    pub form_post_limit: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see `web::client`).
    pub trusted_proxies: Vec<crate::domain::ip_net::IpNet>,
    /// How long a request waits for a pooled database connection.
    pub db_acquire_timeout: Duration,
    /// The request line and headers must arrive within this time.
    pub header_read_timeout: Duration,
    /// Longest pause between two parts of a request body.
    pub body_read_timeout: Duration,
    /// Longest time from the headers to the answer.
    pub request_timeout: Duration,
    /// Expensive requests (statistics, exports) at once per person and per municipality.
    pub expensive_per_person: u32,
    pub expensive_per_municipality: u32,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// OpenID Connect client secrets by variable name (`TAVLE_OIDC_SECRET_<SLUG>_<KIND>`).
    pub oidc_secrets: HashMap<String, Secret>,
    /// The SMTP server's URL (it may carry a password); `None`: no e-mail is sent.
    pub smtp_url: Option<Secret>,
    /// The sender of e-mail; always set when `smtp_url` is.
    pub mail_from: Option<lettre::message::Mailbox>,
    /// The SMS gateway's API; `None`: no SMS is sent.
    pub sms_url: Option<Url>,
    /// The gateway's API token; always set when `sms_url` is.
    pub sms_token: Option<Secret>,
    /// The key delivery reports are signed with; `None`: no reports are asked for.
    pub sms_webhook_secret: Option<Secret>,
    /// Demo and tests only: the date to run as (see `db::fix_today`).
    pub today: Option<time::Date>,
    /// Where the population register's files arrive, one folder per municipality
    /// (`TAVLE_FOLKEREGISTER_DIR/<slug>/*.jsonl`); `tavle serve` imports them.
    pub folkeregister_dir: Option<std::path::PathBuf>,
}

/// One setting is wrong; the message names it and says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

impl Config {
    /// Read from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// Read from a map (tests pass their own).
    pub fn from_map(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let listen: SocketAddr = match get("TAVLE_LISTEN") {
            Some(v) => v.parse().map_err(|_| ConfigError {
                name: "TAVLE_LISTEN",
                problem: "expected an address and port such as 127.0.0.1:8080".into(),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match get("TAVLE_PUBLIC_URL") {
            Some(v) => parse_public_url(v)?,
            None => default_public_url(listen),
        };
        let database_url = get("DATABASE_URL").map(|v| parse_pg_url("DATABASE_URL", v)).transpose()?;
        let migration_database_url =
            get("TAVLE_MIGRATION_DATABASE_URL").map(|v| parse_pg_url("TAVLE_MIGRATION_DATABASE_URL", v)).transpose()?;
        let log_format = match get("TAVLE_LOG_FORMAT") {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => {
                return Err(ConfigError { name: "TAVLE_LOG_FORMAT", problem: "expected `text` or `json`".into() })
            }
        };
        let smtp_url = get("TAVLE_SMTP_URL").map(parse_smtp_url).transpose()?;
        let mail_from = match get("TAVLE_MAIL_FROM") {
            Some(v) => Some(v.parse::<lettre::message::Mailbox>().map_err(|_| ConfigError {
                name: "TAVLE_MAIL_FROM",
                problem: "expected an e-mail address, optionally with a name: Tavle <noreply@kommune.no>".into(),
            })?),
            None if smtp_url.is_some() => {
                return Err(ConfigError {
                    name: "TAVLE_MAIL_FROM",
                    problem: "required when TAVLE_SMTP_URL is set (the sender of Tavle's e-mail)".into(),
                })
            }
            None => None,
        };
        let sms_url = get("TAVLE_SMS_URL").map(parse_sms_url).transpose()?;
        let sms_token = match get("TAVLE_SMS_TOKEN") {
            Some(v) => Some(Secret::new(v)),
            None if sms_url.is_some() => {
                return Err(ConfigError {
                    name: "TAVLE_SMS_TOKEN",
                    problem: "required when TAVLE_SMS_URL is set (the gateway's API token)".into(),
                })
            }
            None => None,
        };
        let sms_webhook_secret = match get("TAVLE_SMS_WEBHOOK_SECRET") {
            Some(v) if v.len() < 32 => {
                return Err(ConfigError {
                    name: "TAVLE_SMS_WEBHOOK_SECRET",
                    problem: "expected at least 32 characters (a random key shared with the gateway)".into(),
                })
            }
            v => v.map(Secret::new),
        };
        let today = get("TAVLE_TODAY")
            .map(|v| {
                time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                    .ok()
                    .filter(|d| (1990..=2200).contains(&d.year()))
                    .ok_or_else(|| ConfigError {
                        name: "TAVLE_TODAY",
                        problem: "expected a date such as 2027-03-01".into(),
                    })
            })
            .transpose()?;
        Ok(Self {
            today,
            folkeregister_dir: get("TAVLE_FOLKEREGISTER_DIR").map(std::path::PathBuf::from),
            smtp_url,
            mail_from,
            sms_url,
            sms_token,
            sms_webhook_secret,
            database_url,
            migration_database_url,
            listen,
            public_url,
            db_max_connections: number(get("TAVLE_DB_MAX_CONNECTIONS"), "TAVLE_DB_MAX_CONNECTIONS", 16, 1..=500)?,
            staff_idle: minutes(get("TAVLE_STAFF_IDLE_MINUTES"), "TAVLE_STAFF_IDLE_MINUTES", 30)?,
            citizen_idle: minutes(get("TAVLE_CITIZEN_IDLE_MINUTES"), "TAVLE_CITIZEN_IDLE_MINUTES", 30)?,
            session_max: Duration::from_secs(
                3600 * u64::from(number(get("TAVLE_SESSION_MAX_HOURS"), "TAVLE_SESSION_MAX_HOURS", 10, 1..=24)?),
            ),
            session_cache: Duration::from_secs(u64::from(number(
                get("TAVLE_SESSION_CACHE_SECONDS"),
                "TAVLE_SESSION_CACHE_SECONDS",
                60,
                0..=3600,
            )?)),
            sign_in_limit: number(get("TAVLE_SIGN_IN_LIMIT"), "TAVLE_SIGN_IN_LIMIT", 20, 1..=100_000)?,
            form_post_limit: number(get("TAVLE_FORM_POST_LIMIT"), "TAVLE_FORM_POST_LIMIT", 600, 1..=100_000_000)?,
            trusted_proxies: match get("TAVLE_TRUSTED_PROXIES") {
                Some(v) => crate::domain::ip_net::IpNet::parse_list(v)
                    .map_err(|problem| ConfigError { name: "TAVLE_TRUSTED_PROXIES", problem })?,
                None => Vec::new(),
            },
            db_acquire_timeout: seconds(
                get("TAVLE_DB_ACQUIRE_TIMEOUT_SECONDS"),
                "TAVLE_DB_ACQUIRE_TIMEOUT_SECONDS",
                5,
            )?,
            header_read_timeout: seconds(
                get("TAVLE_HEADER_READ_TIMEOUT_SECONDS"),
                "TAVLE_HEADER_READ_TIMEOUT_SECONDS",
                10,
            )?,
            body_read_timeout: seconds(get("TAVLE_BODY_READ_TIMEOUT_SECONDS"), "TAVLE_BODY_READ_TIMEOUT_SECONDS", 10)?,
            request_timeout: seconds(get("TAVLE_REQUEST_TIMEOUT_SECONDS"), "TAVLE_REQUEST_TIMEOUT_SECONDS", 30)?,
            expensive_per_person: number(get("TAVLE_EXPENSIVE_PER_PERSON"), "TAVLE_EXPENSIVE_PER_PERSON", 2, 1..=1000)?,
            expensive_per_municipality: number(
                get("TAVLE_EXPENSIVE_PER_MUNICIPALITY"),
                "TAVLE_EXPENSIVE_PER_MUNICIPALITY",
                4,
                1..=1000,
            )?,
            log_filter: get("TAVLE_LOG").unwrap_or("info").to_owned(),
            log_format,
            oidc_secrets: env
                .iter()
                .filter(|(k, v)| k.starts_with(OIDC_SECRET_PREFIX) && !v.trim().is_empty())
                .map(|(k, v)| (k.clone(), Secret::new(v.trim())))
                .collect(),
        })
    }

    /// The environment variable holding the client secret of a tenant's provider.
    pub fn oidc_secret_name(slug: &str, kind: &str) -> String {
        format!("{OIDC_SECRET_PREFIX}{}_{}", slug.to_uppercase().replace('-', "_"), kind.to_uppercase())
    }

    pub fn oidc_secret(&self, slug: &str, kind: &str) -> Option<&Secret> {
        self.oidc_secrets.get(&Self::oidc_secret_name(slug, kind))
    }

    /// Cookies get `Secure` and the `__Host-` prefix whenever users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Same settings, another listen address (the public URL follows unless set).
    pub fn with_listen(mut self, listen: SocketAddr, env_had_public_url: bool) -> Self {
        self.listen = listen;
        if !env_had_public_url {
            self.public_url = default_public_url(listen);
        }
        self
    }
}

fn default_public_url(listen: SocketAddr) -> Url {
    // A SocketAddr always forms a valid http URL.
    Url::parse(&format!("http://{listen}")).unwrap_or_else(|_| unreachable_url())
}

fn unreachable_url() -> Url {
    #[expect(clippy::unwrap_used, reason = "a constant, valid URL")]
    Url::parse("http://127.0.0.1:8080").unwrap()
}

fn parse_public_url(v: &str) -> Result<Url, ConfigError> {
    let err = |p: &str| ConfigError { name: "TAVLE_PUBLIC_URL", problem: p.into() };
    let url = Url::parse(v).map_err(|_| err("expected an absolute URL such as https://tavle.kommune.no"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => Ok(url),
        "http" => Err(err("plain http is allowed only on loopback; use https")),
        _ => Err(err("expected an http(s) URL")),
    }
}

/// `smtps://` (implicit TLS) or `smtp://…?tls=required` (STARTTLS) anywhere; plain or
/// opportunistic `smtp://` only on loopback, as guardians' addresses must not cross a
/// network in clear text (nor could a downgraded STARTTLS be noticed).
fn parse_smtp_url(v: &str) -> Result<Secret, ConfigError> {
    let err = |p: &str| ConfigError { name: "TAVLE_SMTP_URL", problem: p.into() };
    let url = Url::parse(v).map_err(|_| err("expected a URL such as smtps://user:password@smtp.kommune.no"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("the URL names no host"));
    }
    let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match (url.scheme(), tls.as_deref()) {
        ("smtps", None) | ("smtp", Some("required")) => Ok(Secret::new(v)),
        ("smtp", None | Some("opportunistic")) if loopback => Ok(Secret::new(v)),
        ("smtp", None | Some("opportunistic")) => {
            Err(err("plain smtp:// is allowed only on loopback; use smtps:// or add ?tls=required"))
        }
        ("smtp", Some(_)) => Err(err("the tls parameter may only be `required` (or `opportunistic` on loopback)")),
        _ => Err(err("expected an smtp:// or smtps:// URL")),
    }
}

fn parse_sms_url(v: &str) -> Result<Url, ConfigError> {
    let err = |p: &str| ConfigError { name: "TAVLE_SMS_URL", problem: p.into() };
    let url = Url::parse(v).map_err(|_| err("expected a URL such as https://sms.example.no/api"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        _ if url.host_str().is_none_or(str::is_empty) => Err(err("the URL names no host")),
        _ if !url.username().is_empty() || url.password().is_some() => {
            Err(err("put the token in TAVLE_SMS_TOKEN, not in the URL"))
        }
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(err("plain http:// is allowed only on loopback; use https://")),
        _ => Err(err("expected an https:// URL")),
    }
}

fn parse_pg_url(name: &'static str, v: &str) -> Result<Secret, ConfigError> {
    match Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") => Ok(Secret::new(v)),
        _ => Err(ConfigError { name, problem: "expected a postgres:// URL".into() }),
    }
}

fn number(
    v: Option<&str>,
    name: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    match v.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError {
            name,
            problem: format!("expected a whole number from {} to {}", range.start(), range.end()),
        }),
    }
}

fn minutes(v: Option<&str>, name: &'static str, default: u32) -> Result<Duration, ConfigError> {
    Ok(Duration::from_secs(60 * u64::from(number(v, name, default, 1..=720)?)))
}

fn seconds(v: Option<&str>, name: &'static str, default: u32) -> Result<Duration, ConfigError> {
    Ok(Duration::from_secs(u64::from(number(v, name, default, 1..=3600)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let c = Config::from_map(&env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.staff_idle, Duration::from_secs(1800));
        assert!(!c.secure_cookies());
    }

    #[test]
    fn each_bad_setting_is_named_in_one_line() {
        for (name, value) in [
            ("TAVLE_LISTEN", "eight-thousand"),
            ("TAVLE_PUBLIC_URL", "http://tavle.example.no"),
            ("TAVLE_PUBLIC_URL", "not a url"),
            ("DATABASE_URL", "mysql://x"),
            ("TAVLE_DB_MAX_CONNECTIONS", "0"),
            ("TAVLE_STAFF_IDLE_MINUTES", "-5"),
            ("TAVLE_SESSION_MAX_HOURS", "100"),
            ("TAVLE_SIGN_IN_LIMIT", "0"),
            ("TAVLE_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TAVLE_TRUSTED_PROXIES", "proxy.kommune.no"),
            ("TAVLE_REQUEST_TIMEOUT_SECONDS", "0"),
            ("TAVLE_HEADER_READ_TIMEOUT_SECONDS", "soon"),
            ("TAVLE_EXPENSIVE_PER_PERSON", "0"),
            ("TAVLE_LOG_FORMAT", "xml"),
            ("TAVLE_SMTP_URL", "smtp://mail.kommune.no"),
            ("TAVLE_SMTP_URL", "http://mail.kommune.no"),
            ("TAVLE_SMTP_URL", "smtp://mail.kommune.no?tls=maybe"),
            ("TAVLE_MAIL_FROM", "not an address"),
            ("TAVLE_TODAY", "1.3.2027"),
            ("TAVLE_TODAY", "0001-01-01"),
        ] {
            let err = Config::from_map(&env(&[(name, value)])).unwrap_err();
            assert_eq!(err.name, name);
            let line = err.to_string();
            assert!(line.starts_with(&format!("configuration error: {name}: ")), "{line}");
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn smtp_needs_a_sender_and_keeps_its_password_out_of_debug() {
        let url = ("TAVLE_SMTP_URL", "smtps://tavle:hunter2@smtp.kommune.no");
        let err = Config::from_map(&env(&[url])).unwrap_err();
        assert_eq!(err.name, "TAVLE_MAIL_FROM");
        let c = Config::from_map(&env(&[url, ("TAVLE_MAIL_FROM", "Tavle Fjordvik <noreply@fjordvik.kommune.no>")]))
            .unwrap();
        assert!(c.smtp_url.is_some());
        assert!(!format!("{c:?}").contains("hunter2"));
        for ok in ["smtp://u:p@smtp.kommune.no:587?tls=required", "smtp://127.0.0.1:2525", "smtp://localhost"] {
            assert!(Config::from_map(&env(&[("TAVLE_SMTP_URL", ok), ("TAVLE_MAIL_FROM", "a@b.no")])).is_ok(), "{ok}");
        }
        assert!(Config::from_map(&env(&[])).unwrap().smtp_url.is_none());
    }

    #[test]
    fn https_public_url_makes_cookies_secure() {
        let c = Config::from_map(&env(&[("TAVLE_PUBLIC_URL", "https://tavle.kommune.no")])).unwrap();
        assert!(c.secure_cookies());
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config::from_map(&env(&[("DATABASE_URL", "postgres://u:hunter2@db/tavle")])).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn every_setting_is_documented_in_the_readme() {
        let readme = include_str!("../README.md");
        for (name, _, _) in SETTINGS {
            assert!(readme.contains(&format!("`{name}`")), "{name} missing from README");
        }
    }
}
