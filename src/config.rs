//! Every setting, read once when the program starts (environment → default;
//! the database URL and the bind address also come as command-line flags,
//! which win over the environment).
//! Nothing below the front ends reads the environment: the values travel in
//! `Config`, `Limits` and `ReadOptions`. A value that is set but cannot be
//! read is an error at start-up, not a silent fall back to the default.

use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// The database when none is named: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "guobao.db";

/// The backup root when none is named: `backups` in the working directory.
pub const DEFAULT_BACKUP_DIR: &str = "backups";

/// Sizes a county may change for its uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest roster, boundary or statement file (`GUOBAO_MAX_UPLOAD_MB`).
    pub max_upload_bytes: usize,
    /// Most data rows in one roster (`GUOBAO_MAX_ROSTER_ROWS`).
    pub max_roster_rows: usize,
    /// Largest survey photo (`GUOBAO_MAX_PHOTO_MB`).
    pub max_photo_bytes: usize,
    /// The longest side, in pixels, a tablet shrinks a photo to before it
    /// sends it (`GUOBAO_PHOTO_MAX_SIDE`, default 2048).
    pub photo_max_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        let read = crate::excel::read::ReadOptions::default();
        Limits {
            max_upload_bytes: read.max_bytes,
            max_roster_rows: read.max_rows,
            max_photo_bytes: 10 * MIB,
            photo_max_side: 2048,
        }
    }
}

impl Limits {
    /// The roster and statement reader's limits.
    pub fn read_options(&self) -> crate::excel::read::ReadOptions {
        crate::excel::read::ReadOptions {
            max_bytes: self.max_upload_bytes,
            max_rows: self.max_roster_rows,
            ..Default::default()
        }
    }
}

/// Sessions, tokens and login throttling (issue 12's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Security {
    /// A page session ends after this long without a request
    /// (`GUOBAO_SESSION_IDLE_MINUTES`, default 30).
    pub session_idle: Duration,
    /// ... and this long after login whatever happens
    /// (`GUOBAO_SESSION_MAX_HOURS`, default 12).
    pub session_lifetime: Duration,
    /// The longest an API token lives (`GUOBAO_TOKEN_DAYS`, default 30); a
    /// client may ask for less.
    pub token_lifetime: Duration,
    /// Failed logins in the window that lock an account
    /// (`GUOBAO_LOCKOUT_FAILURES`, default 5).
    pub lockout_failures: u32,
    /// The window (`GUOBAO_LOCKOUT_WINDOW_MINUTES`, default 15).
    pub lockout_window: Duration,
    /// How long a locked account (or address) waits
    /// (`GUOBAO_LOCKOUT_MINUTES`, default 15).
    pub lockout_duration: Duration,
    /// Failed logins from one client address, across all user names, in the
    /// window that lock the address (`GUOBAO_LOCKOUT_ADDRESS_FAILURES`,
    /// default 20).
    pub address_failures: u32,
    /// The growers' own lookup (/self): its throttle and answer time.
    pub self_service: SelfService,
}

/// The public self-service lookup (农户自助查询): its own throttle, apart
/// from the login's, and the time every answer takes at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfService {
    /// Failed lookups of one ID number in the window that lock it
    /// (`GUOBAO_SELF_ID_FAILURES`, default 10).
    pub id_failures: u32,
    /// Failed lookups from one client address, any ID number, in the window
    /// that lock the address (`GUOBAO_SELF_ADDRESS_FAILURES`, default 30).
    pub address_failures: u32,
    /// The window (`GUOBAO_SELF_WINDOW_MINUTES`, default 15).
    pub window: Duration,
    /// How long a locked ID number or address waits
    /// (`GUOBAO_SELF_LOCKOUT_MINUTES`, default 15).
    pub lockout: Duration,
    /// No answer comes sooner than this after the request arrived, right or
    /// wrong (`GUOBAO_SELF_ANSWER_MS`, default 300).
    pub answer_floor: Duration,
}

impl Default for SelfService {
    fn default() -> Self {
        SelfService {
            id_failures: 10,
            address_failures: 30,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            answer_floor: Duration::from_millis(300),
        }
    }
}

impl Default for Security {
    fn default() -> Self {
        Security {
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            token_lifetime: Duration::from_secs(30 * 86400),
            lockout_failures: 5,
            lockout_window: Duration::from_secs(15 * 60),
            lockout_duration: Duration::from_secs(15 * 60),
            address_failures: 20,
            self_service: SelfService::default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Signs and encrypts the session cookie (`GUOBAO_SECRET_KEY`, 64+ bytes);
    /// random per start when not set.
    pub secret_key: Option<Vec<u8>>,
    /// Cookies only over HTTPS (`GUOBAO_SECURE_COOKIES`): `None` (not set)
    /// means secure unless the server is bound to a loopback address.
    pub secure_cookies: Option<bool>,
    pub security: Security,
    /// How long a write waits for another writer's lock (`GUOBAO_LOCK_WAIT_MS`).
    pub lock_wait: Option<Duration>,
    pub limits: Limits,
    /// Tests only: fault points armed (`GUOBAO_FAULT_INJECTION`).
    pub fault_points: Vec<String>,
    /// The database as named (`--database-url` or `GUOBAO_DATABASE_URL`, else
    /// `DATABASE_URL`); `None` when nothing names one.
    pub database_url: Option<String>,
    /// Where photo bytes are kept (`--photo-store` or `GUOBAO_PHOTO_STORE`):
    /// a directory or an `s3://bucket/prefix` URL; `None`: beside the SQLite
    /// file, or `data/photos` for PostgreSQL (`photo_store::location_for`).
    pub photo_store: Option<String>,
    /// The server's TLS certificate (PEM) whose expiry the monthly inspection
    /// reports (`GUOBAO_TLS_CERT`); `None`: not configured.
    pub tls_cert: Option<std::path::PathBuf>,
    /// The server's tuning; `None` keeps the defaults of `startup`.
    pub server: ServerTuning,
    /// Where `guobao backup` writes and the health checks look
    /// (`GUOBAO_BACKUP_DIR`, default [`DEFAULT_BACKUP_DIR`]).
    pub backup_dir: Option<std::path::PathBuf>,
    /// `/metrics` and `/readyz` settings.
    pub ops: Ops,
}

/// What the health and metrics endpoints need beyond the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ops {
    /// A bearer token a Prometheus server sends to read `/metrics`
    /// (`GUOBAO_METRICS_TOKEN`, at least 16 characters); without it only an
    /// administrator (session or API token) may.
    pub metrics_token: Option<String>,
    /// `/readyz` fails when the database's or the photo store's file system
    /// has less free space than this (`GUOBAO_MIN_FREE_DISK_MB`, default 1024).
    pub min_free_bytes: u64,
    /// Where the last backup is looked for (the same as `Config::backup_dir`).
    pub backup_dir: std::path::PathBuf,
    /// Front proxies whose `X-Forwarded-For` names the client
    /// (`GUOBAO_TRUSTED_PROXIES`, comma-separated addresses, e.g. `127.0.0.1`
    /// for nginx on the same machine); empty: the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The certificate whose expiry the monthly inspection reports (`GUOBAO_TLS_CERT`).
    pub tls_cert: Option<std::path::PathBuf>,
}

/// Default of `GUOBAO_MIN_FREE_DISK_MB`.
pub const DEFAULT_MIN_FREE_DISK_MB: u64 = 1024;

/// How many threads and database connections the server uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerTuning {
    /// HTTP worker threads (`GUOBAO_WORKERS`); default one per CPU.
    pub workers: Option<usize>,
    /// Threads per worker that run use cases off the HTTP threads
    /// (`GUOBAO_BLOCKING_THREADS`).
    pub blocking_threads: Option<usize>,
    /// Pooled database connections (`GUOBAO_POOL_SIZE`).
    pub pool_size: Option<u32>,
}

impl Config {
    /// Read the process environment.
    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// The database URL from the command line, when given, wins over the
    /// environment's.
    pub fn with_database_url(mut self, flag: Option<String>) -> Config {
        self.database_url = flag.or(self.database_url);
        self
    }

    /// The photo store from the command line, when given, wins over the
    /// environment's.
    pub fn with_photo_store(mut self, flag: Option<String>) -> Config {
        self.photo_store = flag.or(self.photo_store);
        self
    }

    /// The database to open: as named, else [`DEFAULT_DATABASE_URL`].
    pub fn database_url(&self) -> &str {
        self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL)
    }

    /// The backup root: as configured, else [`DEFAULT_BACKUP_DIR`].
    pub fn backup_dir(&self) -> std::path::PathBuf {
        self.backup_dir
            .clone()
            .unwrap_or_else(|| DEFAULT_BACKUP_DIR.into())
    }

    /// Read settings through `get` (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let number = |key: &str, min: u64, max: u64| -> Result<Option<u64>, String> {
            match get(key).map(|v| v.trim().to_string()) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(format!(
                        "设置 {key}={v} 无效：须为 {min} 到 {max} 之间的整数"
                    )),
                },
            }
        };
        let defaults = Limits::default();
        let mb = |n: u64| usize::try_from(n).unwrap_or(usize::MAX).saturating_mul(MIB);
        let limits = Limits {
            max_upload_bytes: number("GUOBAO_MAX_UPLOAD_MB", 1, 1024)?
                .map_or(defaults.max_upload_bytes, mb),
            max_roster_rows: number("GUOBAO_MAX_ROSTER_ROWS", 1, 10_000_000)?
                .map_or(defaults.max_roster_rows, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            max_photo_bytes: number("GUOBAO_MAX_PHOTO_MB", 1, 100)?
                .map_or(defaults.max_photo_bytes, mb),
            photo_max_side: number("GUOBAO_PHOTO_MAX_SIDE", 320, 20_000)?
                .map_or(defaults.photo_max_side, |n| {
                    u32::try_from(n).unwrap_or(u32::MAX)
                }),
        };
        let secret_key = match get("GUOBAO_SECRET_KEY") {
            None => None,
            Some(k) if k.len() >= 64 => Some(k.into_bytes()),
            Some(k) => {
                return Err(format!(
                    "设置 GUOBAO_SECRET_KEY 太短：至少64个字节，现为{}个",
                    k.len()
                ))
            }
        };
        let secure_cookies = match get("GUOBAO_SECURE_COOKIES").as_deref().map(str::trim) {
            None | Some("") => None,
            Some("0" | "false") => Some(false),
            Some("1" | "true") => Some(true),
            Some(v) => {
                return Err(format!(
                    "设置 GUOBAO_SECURE_COOKIES={v} 无效：只能是 1、true、0 或 false"
                ))
            }
        };
        let count = |key: &str, max: u64| -> Result<Option<usize>, String> {
            Ok(number(key, 1, max)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
        };
        let server = ServerTuning {
            workers: count("GUOBAO_WORKERS", 256)?,
            blocking_threads: count("GUOBAO_BLOCKING_THREADS", 1024)?,
            pool_size: number("GUOBAO_POOL_SIZE", 1, 1000)?
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        };
        let minutes = |key: &str, default: Duration, max: u64| -> Result<Duration, String> {
            Ok(number(key, 1, max)?.map_or(default, |n| Duration::from_secs(n * 60)))
        };
        let d = Security::default();
        let security = Security {
            session_idle: minutes("GUOBAO_SESSION_IDLE_MINUTES", d.session_idle, 24 * 60)?,
            session_lifetime: number("GUOBAO_SESSION_MAX_HOURS", 1, 24 * 30)?
                .map_or(d.session_lifetime, |h| Duration::from_secs(h * 3600)),
            token_lifetime: number("GUOBAO_TOKEN_DAYS", 1, 366)?
                .map_or(d.token_lifetime, |n| Duration::from_secs(n * 86400)),
            lockout_failures: number("GUOBAO_LOCKOUT_FAILURES", 1, 1000)?
                .map_or(d.lockout_failures, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            lockout_window: minutes("GUOBAO_LOCKOUT_WINDOW_MINUTES", d.lockout_window, 24 * 60)?,
            lockout_duration: minutes("GUOBAO_LOCKOUT_MINUTES", d.lockout_duration, 24 * 60)?,
            address_failures: number("GUOBAO_LOCKOUT_ADDRESS_FAILURES", 1, 100_000)?
                .map_or(d.address_failures, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            self_service: SelfService {
                id_failures: number("GUOBAO_SELF_ID_FAILURES", 1, 1000)?
                    .map_or(d.self_service.id_failures, |n| {
                        u32::try_from(n).unwrap_or(u32::MAX)
                    }),
                address_failures: number("GUOBAO_SELF_ADDRESS_FAILURES", 1, 100_000)?
                    .map_or(d.self_service.address_failures, |n| {
                        u32::try_from(n).unwrap_or(u32::MAX)
                    }),
                window: minutes("GUOBAO_SELF_WINDOW_MINUTES", d.self_service.window, 24 * 60)?,
                lockout: minutes(
                    "GUOBAO_SELF_LOCKOUT_MINUTES",
                    d.self_service.lockout,
                    24 * 60,
                )?,
                answer_floor: number("GUOBAO_SELF_ANSWER_MS", 0, 5_000)?
                    .map_or(d.self_service.answer_floor, Duration::from_millis),
            },
        };
        let backup_dir: Option<std::path::PathBuf> = get("GUOBAO_BACKUP_DIR")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(Into::into);
        let metrics_token = get("GUOBAO_METRICS_TOKEN")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.chars().count() < 16)
        {
            return Err("GUOBAO_METRICS_TOKEN 太短：至少16个字符".into());
        }
        let mut trusted_proxies = Vec::new();
        for part in get("GUOBAO_TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            trusted_proxies.push(part.parse().map_err(|_| {
                format!("设置 GUOBAO_TRUSTED_PROXIES 无效：{part} 不是IP地址（多个地址用逗号分隔）")
            })?);
        }
        let tls_cert: Option<std::path::PathBuf> = get("GUOBAO_TLS_CERT")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(Into::into);
        let ops = Ops {
            tls_cert: tls_cert.clone(),
            trusted_proxies,
            metrics_token,
            min_free_bytes: number("GUOBAO_MIN_FREE_DISK_MB", 0, 100_000_000)?
                .unwrap_or(DEFAULT_MIN_FREE_DISK_MB)
                .saturating_mul(1024 * 1024),
            backup_dir: backup_dir
                .clone()
                .unwrap_or_else(|| DEFAULT_BACKUP_DIR.into()),
        };
        Ok(Config {
            database_url: get("DATABASE_URL"),
            backup_dir,
            ops,
            photo_store: get("GUOBAO_PHOTO_STORE").filter(|v| !v.trim().is_empty()),
            security,
            server,
            secret_key,
            secure_cookies,
            lock_wait: number("GUOBAO_LOCK_WAIT_MS", 1, 600_000)?.map(Duration::from_millis),
            limits,
            fault_points: get("GUOBAO_FAULT_INJECTION")
                .map(|v| {
                    v.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            tls_cert,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = read(&[]).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.limits.max_upload_bytes, 20 * MIB);
        assert_eq!(c.limits.max_photo_bytes, 10 * MIB);
        assert_eq!(c.lock_wait, None);
        assert!(c.secure_cookies.is_none() && c.secret_key.is_none() && c.fault_points.is_empty());
        assert_eq!(c.security, Security::default());
        assert_eq!(c.security.session_idle, Duration::from_secs(1800));
        assert_eq!(c.server, ServerTuning::default());
        assert_eq!(c.database_url(), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn operations_settings_are_read_and_bad_ones_refused() {
        let c = read(&[
            ("GUOBAO_METRICS_TOKEN", "0123456789abcdef"),
            ("GUOBAO_MIN_FREE_DISK_MB", "2048"),
            ("GUOBAO_TRUSTED_PROXIES", "127.0.0.1, ::1"),
            ("GUOBAO_BACKUP_DIR", "/var/backups/guobao"),
        ])
        .unwrap();
        assert_eq!(c.ops.metrics_token.as_deref(), Some("0123456789abcdef"));
        assert_eq!(c.ops.min_free_bytes, 2048 * MIB as u64);
        assert_eq!(c.ops.trusted_proxies.len(), 2);
        assert_eq!(
            c.ops.backup_dir,
            std::path::PathBuf::from("/var/backups/guobao")
        );
        let d = read(&[]).unwrap();
        assert_eq!(d.ops.min_free_bytes, DEFAULT_MIN_FREE_DISK_MB * 1024 * 1024);
        assert!(d.ops.trusted_proxies.is_empty() && d.ops.metrics_token.is_none());
        let short = read(&[("GUOBAO_METRICS_TOKEN", "short")]).unwrap_err();
        assert!(short.contains("GUOBAO_METRICS_TOKEN"), "{short}");
        let bad = read(&[("GUOBAO_TRUSTED_PROXIES", "nginx")]).unwrap_err();
        assert!(bad.contains("GUOBAO_TRUSTED_PROXIES"), "{bad}");
    }

    #[test]
    fn the_database_url_comes_from_the_flag_then_the_environment() {
        let env = read(&[("DATABASE_URL", "postgres://env/db")]).unwrap();
        assert_eq!(env.database_url(), "postgres://env/db");
        let flag = env.with_database_url(Some("flag.db".into()));
        assert_eq!(flag.database_url(), "flag.db");
        let none = read(&[]).unwrap().with_database_url(None);
        assert_eq!(none.database_url, None);
    }

    #[test]
    fn values_are_read_and_bad_ones_refused_with_the_variable_named() {
        let c = read(&[
            ("GUOBAO_MAX_UPLOAD_MB", " 5 "),
            ("GUOBAO_MAX_ROSTER_ROWS", "7"),
            ("GUOBAO_MAX_PHOTO_MB", "2"),
            ("GUOBAO_LOCK_WAIT_MS", "300"),
            ("GUOBAO_SECURE_COOKIES", "true"),
            ("GUOBAO_FAULT_INJECTION", "a, b,"),
            ("GUOBAO_WORKERS", "3"),
            ("GUOBAO_BLOCKING_THREADS", "16"),
            ("GUOBAO_POOL_SIZE", "6"),
            ("GUOBAO_SESSION_IDLE_MINUTES", "5"),
            ("GUOBAO_SESSION_MAX_HOURS", "2"),
            ("GUOBAO_TOKEN_DAYS", "1"),
            ("GUOBAO_LOCKOUT_FAILURES", "3"),
            ("GUOBAO_LOCKOUT_WINDOW_MINUTES", "10"),
            ("GUOBAO_LOCKOUT_MINUTES", "60"),
            ("GUOBAO_LOCKOUT_ADDRESS_FAILURES", "50"),
            ("GUOBAO_SELF_ID_FAILURES", "4"),
            ("GUOBAO_SELF_ADDRESS_FAILURES", "9"),
            ("GUOBAO_SELF_WINDOW_MINUTES", "30"),
            ("GUOBAO_SELF_LOCKOUT_MINUTES", "45"),
            ("GUOBAO_SELF_ANSWER_MS", "0"),
        ])
        .unwrap();
        assert_eq!(
            c.security,
            Security {
                session_idle: Duration::from_secs(300),
                session_lifetime: Duration::from_secs(7200),
                token_lifetime: Duration::from_secs(86400),
                lockout_failures: 3,
                lockout_window: Duration::from_secs(600),
                lockout_duration: Duration::from_secs(3600),
                address_failures: 50,
                self_service: SelfService {
                    id_failures: 4,
                    address_failures: 9,
                    window: Duration::from_secs(1800),
                    lockout: Duration::from_secs(2700),
                    answer_floor: Duration::ZERO,
                },
            }
        );
        assert_eq!(
            c.server,
            ServerTuning {
                workers: Some(3),
                blocking_threads: Some(16),
                pool_size: Some(6),
            }
        );
        assert_eq!(c.limits.max_upload_bytes, 5 * MIB);
        assert_eq!(c.limits.max_roster_rows, 7);
        assert_eq!(c.limits.max_photo_bytes, 2 * MIB);
        assert_eq!(c.lock_wait, Some(Duration::from_millis(300)));
        assert_eq!(c.secure_cookies, Some(true));
        assert_eq!(
            read(&[("GUOBAO_SECURE_COOKIES", "0")])
                .unwrap()
                .secure_cookies,
            Some(false)
        );
        assert_eq!(c.fault_points, ["a", "b"]);
        assert_eq!(c.limits.read_options().max_rows, 7);

        for (k, v) in [
            ("GUOBAO_MAX_UPLOAD_MB", "0"),
            ("GUOBAO_MAX_UPLOAD_MB", "20MB"),
            ("GUOBAO_MAX_PHOTO_MB", "99999999999999999999999"),
            ("GUOBAO_LOCK_WAIT_MS", "-1"),
            ("GUOBAO_SECURE_COOKIES", "yes"),
            ("GUOBAO_SECRET_KEY", "short"),
            ("GUOBAO_WORKERS", "0"),
            ("GUOBAO_BLOCKING_THREADS", "many"),
            ("GUOBAO_POOL_SIZE", "0"),
            ("GUOBAO_SESSION_IDLE_MINUTES", "0"),
            ("GUOBAO_TOKEN_DAYS", "1000"),
            ("GUOBAO_LOCKOUT_FAILURES", "x"),
            ("GUOBAO_SELF_ID_FAILURES", "0"),
            ("GUOBAO_SELF_ANSWER_MS", "60000"),
        ] {
            let e = read(&[(k, v)]).unwrap_err();
            assert!(e.contains(k) && e.contains("设置"), "{k}={v}: {e}");
        }
    }
}
