//! Configuration: defaults, then `kairan.toml`, then `KAIRAN_*` environment variables, then
//! command-line flags, loaded into one validated [`Config`] before any port is bound.

use kairan_domain::password::PasswordPolicy;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the server listens, e.g. `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// Where the SQLite database and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `sqlite://DATA/kairan.db`.
    pub database_url: Option<String>,
    /// Force the `Secure` cookie attribute on or off. By default it is on, except when the
    /// server listens on a loopback address over plain HTTP (a developer's machine).
    pub secure_cookies: Option<bool>,
    /// How nodes share live events: `local` (one node), `nats://host:port` or
    /// `redis://host:port` (several nodes on one PostgreSQL).
    pub bus: String,
    pub session: SessionConfig,
    pub login: LoginConfig,
    /// The default password policy; a body may override it in its settings.
    pub password: PasswordPolicy,
    pub argon2: Argon2Config,
    pub log: LogConfig,
    pub chat: ChatConfig,
    pub files: FilesConfig,
    pub zones: ZonesConfig,
    /// Who must use a second factor, unless a body sets its own (`settings.mfa`). Privileged
    /// IDs always must.
    pub mfa: kairan_domain::mfa::MfaPolicy,
    pub webauthn: WebauthnConfig,
    pub devices: DevicesConfig,
    pub guests: GuestsConfig,
    pub groups: GroupsConfig,
    /// The key that seals TOTP secrets and keys recovery-code hashes, as 64 hex characters.
    /// Unset: `DATA/secret.key`, created on first start. Nodes sharing a database must share
    /// it.
    pub secret_key: Option<Secret>,
}

/// Internet devices (I5): whether a newly registered one waits for an administrator's
/// approval, unless a body sets its own (`settings.devices`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevicesConfig {
    pub approval: bool,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        DevicesConfig { approval: true }
    }
}

/// Guests admitted by applications (I6).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuestsConfig {
    /// Days after a guest's period ends before its name, affiliation and address are removed
    /// (the ID and its messages stay, shown as 削除済みのゲスト).
    pub purge_after_days: u32,
}

impl Default for GuestsConfig {
    fn default() -> Self {
        GuestsConfig {
            purge_after_days: 90,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupsConfig {
    /// Days an inter-body group stays readable to its members after its period ends, before
    /// it is taken out of their sight (its messages stay for the auditors).
    pub remove_after_days: u32,
}

impl Default for GroupsConfig {
    fn default() -> Self {
        GroupsConfig {
            remove_after_days: 90,
        }
    }
}

/// Passkeys (WebAuthn): which site the keys belong to. Set both in production; unset, a page
/// served as `localhost` (a developer's machine, the demo) works and any other host gets
/// `passkeys_not_configured`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnConfig {
    /// The relying-party ID: the site's host name, e.g. `chat.example.lg.jp`.
    pub rp_id: Option<String>,
    /// Origins the pages are served from, e.g. `https://chat.example.lg.jp`.
    pub origins: Vec<String>,
}

/// A configured secret: never printed, not even by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Which networks are the LGWAN side (I5). A request from anywhere else is an internet device
/// (スマートフォン等). Decided from the connection's address, never from the client.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZonesConfig {
    /// Source networks of LGWAN PCs, as CIDRs (`10.20.0.0/16`) or single addresses.
    pub lgwan: Vec<String>,
    /// Reverse proxies in front of Kairan whose `client_ip_header` is believed; from any other
    /// address the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// The header those proxies set (a comma-separated chain, nearest hop last).
    pub client_ip_header: String,
}

impl Default for ZonesConfig {
    fn default() -> Self {
        ZonesConfig {
            // An office network on private addresses, and this machine. Set it to the
            // municipality's LGWAN-side networks in production.
            lgwan: [
                "127.0.0.0/8",
                "::1",
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
            ]
            .map(String::from)
            .to_vec(),
            trusted_proxies: Vec::new(),
            client_ip_header: "x-forwarded-for".into(),
        }
    }
}

/// What one device class may do with files (seed 003 §5-3: smartphones and LGWAN PCs differ).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceFiles {
    /// Kinds that may be uploaded: `image` (PNG, JPEG, GIF), `pdf`, `office` (docx, xlsx,
    /// pptx) and `text` (txt, csv, md).
    pub types: Vec<String>,
    /// The largest upload in MiB (never above `files.max_mib`).
    pub max_mib: u64,
    /// Whether files may be downloaded on this class of device.
    pub download: bool,
}

impl Default for DeviceFiles {
    fn default() -> Self {
        DeviceFiles {
            types: FILE_GROUPS.map(String::from).to_vec(),
            max_mib: 100,
            download: true,
        }
    }
}

/// The kinds of file a device rule may name.
pub const FILE_GROUPS: [&str; 4] = ["image", "pdf", "office", "text"];

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// Where clamd listens: `unix:/run/clamav/clamd.ctl` or `tcp:host:3310`. Uploads fail
    /// closed when it does not answer.
    pub clamd: String,
    /// The largest file accepted, in MiB.
    pub max_mib: u64,
    /// How long one scan may take before the upload is refused.
    pub scan_timeout_seconds: u64,
    /// When clamd does not answer: `refuse` the upload (the default: fail closed), or `defer`
    /// the scan: the file is stored but nobody (not even its uploader) can fetch it until a
    /// later scan calls it clean. Starting with `defer` is itself recorded in the audit log.
    pub when_scanner_down: String,
    /// Leftovers of unfinished uploads older than this are removed (at start, then hourly).
    /// Younger ones may be uploads in progress on a node sharing the directory.
    pub sweep_after_minutes: u64,
    /// Rules for PCs on the LGWAN side.
    pub lgwan_pc: DeviceFiles,
    /// Rules for internet devices (スマートフォン等).
    pub internet_device: DeviceFiles,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            clamd: "unix:/run/clamav/clamd.ctl".into(),
            max_mib: 100,
            scan_timeout_seconds: 30,
            when_scanner_down: "refuse".into(),
            sweep_after_minutes: 60,
            lgwan_pc: DeviceFiles::default(),
            // Phones send photos and PDFs; Office files and bulk text stay on the LGWAN side.
            internet_device: DeviceFiles {
                types: vec!["image".into(), "pdf".into()],
                max_mib: 20,
                download: true,
            },
        }
    }
}

impl FilesConfig {
    /// The rules for a device class.
    pub fn for_device(&self, d: kairan_domain::DeviceClass) -> &DeviceFiles {
        match d {
            kairan_domain::DeviceClass::LgwanPc => &self.lgwan_pc,
            kairan_domain::DeviceClass::InternetDevice => &self.internet_device,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// Messages one user may send per second, sustained (all devices together, per node).
    pub messages_per_second: u32,
    /// Messages one user may send at once before the sustained rate applies.
    pub message_burst: u32,
}

impl Default for ChatConfig {
    fn default() -> Self {
        // Far above anyone typing (or pasting a few lines quickly), far below a runaway script.
        ChatConfig {
            messages_per_second: 10,
            message_burst: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: u64,
    /// A session ends this many hours after sign-in, whatever happens.
    pub absolute_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginConfig {
    /// The warning banner on the sign-in page (I4).
    pub banner_ja: String,
    pub banner_en: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Password hashes computed at once. 0: one fewer than the machine's cores (at least
    /// one), so that a burst of sign-ins never takes every core from chat.
    pub max_concurrent: usize,
}

impl Argon2Config {
    /// The number of hashes that may run at once on this machine.
    pub fn concurrent(&self) -> usize {
        if self.max_concurrent > 0 {
            return self.max_concurrent;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_sub(1).max(1)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `json` (default) or `pretty`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `kairan_server=debug`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            secure_cookies: None,
            bus: "local".into(),
            session: SessionConfig::default(),
            login: LoginConfig::default(),
            password: PasswordPolicy::default(),
            argon2: Argon2Config::default(),
            log: LogConfig::default(),
            chat: ChatConfig::default(),
            files: FilesConfig::default(),
            zones: ZonesConfig::default(),
            mfa: kairan_domain::mfa::MfaPolicy::default(),
            webauthn: WebauthnConfig::default(),
            devices: DevicesConfig::default(),
            guests: GuestsConfig::default(),
            groups: GroupsConfig::default(),
            secret_key: None,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_minutes: 30,
            absolute_hours: 12,
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            banner_ja: "このシステムは、許可された職員が業務のためにのみ利用できます。利用状況は記録され、監査の対象となります。不正な利用は法令により処罰されることがあります。".into(),
            banner_en: "This system is for authorized staff and official business only. All use is recorded and audited. Unauthorized use may be punished by law.".into(),
        }
    }
}

impl Default for Argon2Config {
    fn default() -> Self {
        // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
        Argon2Config {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 0,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "json".into(),
            level: "info".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {key}: {message}")]
    Env { key: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Loads defaults, then the file (the given path, or `./kairan.toml` when present), then
    /// the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let default_path = Path::new("kairan.toml");
        let path = match file {
            Some(p) => Some(p.to_path_buf()),
            None if default_path.exists() => Some(default_path.to_path_buf()),
            None => None,
        };
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Applies `KAIRAN_*` variables. Takes a lookup function so tests need not touch the
    /// process environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn list(v: &str) -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }
        fn parse<T: std::str::FromStr>(key: &str, v: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e: T::Err| ConfigError::Env {
                key: key.into(),
                message: e.to_string(),
            })
        }
        if let Some(v) = get("KAIRAN_BIND") {
            self.bind = parse("KAIRAN_BIND", v)?;
        }
        if let Some(v) = get("KAIRAN_DATA") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("KAIRAN_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("KAIRAN_SECURE_COOKIES") {
            self.secure_cookies = Some(parse("KAIRAN_SECURE_COOKIES", v)?);
        }
        if let Some(v) = get("KAIRAN_BUS") {
            self.bus = v;
        }
        if let Some(v) = get("KAIRAN_SESSION_IDLE_MINUTES") {
            self.session.idle_minutes = parse("KAIRAN_SESSION_IDLE_MINUTES", v)?;
        }
        if let Some(v) = get("KAIRAN_LOGIN_BANNER_JA") {
            self.login.banner_ja = v;
        }
        if let Some(v) = get("KAIRAN_LOGIN_BANNER_EN") {
            self.login.banner_en = v;
        }
        if let Some(v) = get("KAIRAN_CHAT_MESSAGES_PER_SECOND") {
            self.chat.messages_per_second = parse("KAIRAN_CHAT_MESSAGES_PER_SECOND", v)?;
        }
        if let Some(v) = get("KAIRAN_CHAT_MESSAGE_BURST") {
            self.chat.message_burst = parse("KAIRAN_CHAT_MESSAGE_BURST", v)?;
        }
        if let Some(v) = get("KAIRAN_FILES_CLAMD") {
            self.files.clamd = v;
        }
        if let Some(v) = get("KAIRAN_FILES_MAX_MIB") {
            self.files.max_mib = parse("KAIRAN_FILES_MAX_MIB", v)?;
        }
        if let Some(v) = get("KAIRAN_FILES_WHEN_SCANNER_DOWN") {
            self.files.when_scanner_down = v;
        }
        if let Some(v) = get("KAIRAN_FILES_SWEEP_AFTER_MINUTES") {
            self.files.sweep_after_minutes = parse("KAIRAN_FILES_SWEEP_AFTER_MINUTES", v)?;
        }
        if let Some(v) = get("KAIRAN_GUESTS_PURGE_AFTER_DAYS") {
            self.guests.purge_after_days = parse("KAIRAN_GUESTS_PURGE_AFTER_DAYS", v)?;
        }
        if let Some(v) = get("KAIRAN_GROUPS_REMOVE_AFTER_DAYS") {
            self.groups.remove_after_days = parse("KAIRAN_GROUPS_REMOVE_AFTER_DAYS", v)?;
        }
        if let Some(v) = get("KAIRAN_ZONES_LGWAN") {
            self.zones.lgwan = list(&v);
        }
        if let Some(v) = get("KAIRAN_ZONES_TRUSTED_PROXIES") {
            self.zones.trusted_proxies = list(&v);
        }
        if let Some(v) = get("KAIRAN_WEBAUTHN_RP_ID") {
            self.webauthn.rp_id = Some(v);
        }
        if let Some(v) = get("KAIRAN_WEBAUTHN_ORIGINS") {
            self.webauthn.origins = list(&v);
        }
        if let Some(v) = get("KAIRAN_SECRET_KEY") {
            self.secret_key = Some(Secret(v));
        }
        if let Some(v) = get("KAIRAN_LOG_FORMAT") {
            self.log.format = v;
        }
        if let Some(v) = get("KAIRAN_LOG_LEVEL") {
            self.log.level = v;
        }
        Ok(())
    }

    /// Checks values that parse but make no sense, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.session.idle_minutes == 0 {
            return Err(ConfigError::Invalid {
                key: "session.idle_minutes",
                message: "must be at least 1".into(),
            });
        }
        if self.password.min_length < 8 || self.password.min_length_privileged < 8 {
            return Err(ConfigError::Invalid {
                key: "password.min_length",
                message: "must be at least 8 (NIST SP 800-63B)".into(),
            });
        }
        if self.argon2.memory_kib < 8 * 1024 && !cfg!(debug_assertions) {
            return Err(ConfigError::Invalid {
                key: "argon2.memory_kib",
                message: "must be at least 8192".into(),
            });
        }
        if !(self.bus == "local"
            || self.bus.starts_with("nats://")
            || self.bus.starts_with("redis://"))
        {
            return Err(ConfigError::Invalid {
                key: "bus",
                message: "must be local, nats://host:port or redis://host:port".into(),
            });
        }
        if self.chat.messages_per_second == 0 || self.chat.message_burst == 0 {
            return Err(ConfigError::Invalid {
                key: "chat.messages_per_second",
                message: "the rate and the burst must be at least 1".into(),
            });
        }
        if let Err(e) = crate::scanner::Endpoint::parse(&self.files.clamd) {
            return Err(ConfigError::Invalid {
                key: "files.clamd",
                message: e,
            });
        }
        if self.files.max_mib == 0 || self.files.max_mib > 1024 {
            return Err(ConfigError::Invalid {
                key: "files.max_mib",
                message: "must be between 1 and 1024".into(),
            });
        }
        if let Err(e) = crate::zones::Zones::new(
            &self.zones.lgwan,
            &self.zones.trusted_proxies,
            &self.zones.client_ip_header,
        ) {
            return Err(ConfigError::Invalid {
                key: "zones",
                message: e,
            });
        }
        if !matches!(self.files.when_scanner_down.as_str(), "refuse" | "defer") {
            return Err(ConfigError::Invalid {
                key: "files.when_scanner_down",
                message: "must be refuse or defer".into(),
            });
        }
        for (key, d) in [
            ("files.lgwan_pc", &self.files.lgwan_pc),
            ("files.internet_device", &self.files.internet_device),
        ] {
            if let Some(t) = d.types.iter().find(|t| !FILE_GROUPS.contains(&t.as_str())) {
                return Err(ConfigError::Invalid {
                    key,
                    message: format!("unknown file kind {t}: use image, pdf, office or text"),
                });
            }
            if d.max_mib == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    message: "max_mib must be at least 1".into(),
                });
            }
        }
        if !matches!(self.log.format.as_str(), "json" | "pretty") {
            return Err(ConfigError::Invalid {
                key: "log.format",
                message: "must be json or pretty".into(),
            });
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("kairan.db").display()),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies.unwrap_or(!self.bind.ip().is_loopback())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_and_bad_values_name_the_key() {
        let mut c: Config =
            toml::from_str("bind = \"0.0.0.0:9000\"\n[session]\nidle_minutes = 5\n").unwrap();
        assert_eq!(c.session.idle_minutes, 5);
        c.apply_env(|k| (k == "KAIRAN_BIND").then(|| "127.0.0.1:7000".into()))
            .unwrap();
        assert_eq!(c.bind.port(), 7000);
        let err = c
            .apply_env(|k| (k == "KAIRAN_SESSION_IDLE_MINUTES").then(|| "soon".into()))
            .unwrap_err();
        assert!(err.to_string().contains("KAIRAN_SESSION_IDLE_MINUTES"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        assert!(toml::from_str::<Config>("bnid = \"x\"").is_err());
    }

    #[test]
    fn cookies_are_secure_unless_on_loopback() {
        let mut c = Config::default();
        assert!(!c.secure_cookies());
        c.bind = "0.0.0.0:8080".parse().unwrap();
        assert!(c.secure_cookies());
        c.secure_cookies = Some(false);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn the_default_database_lives_in_the_data_directory() {
        let c = Config::default();
        assert_eq!(c.database_url(), "sqlite://data/kairan.db");
    }
}
