//! Server configuration: defaults, then a TOML file (`--config`), then environment
//! variables (`HADIR_DB`, `HADIR_SELFIE_DIR`, `HADIR_LISTEN`), then command-line flags,
//! each overriding the one before.
//!
//! ```toml
//! listen = "127.0.0.1:8080"        # "127.0.0.1:0" picks a free port
//! db = "/var/lib/hadir/hadir.db"
//! selfie_dir = "/var/lib/hadir/selfies"   # default: "selfies" beside the db
//! max_in_flight = 512              # requests in progress before 503 OVERLOADED
//! write_queue = 1024               # write jobs queued before 503 OVERLOADED
//! rate_limit_per_second = 10.0     # per device, token bucket refill
//! rate_limit_burst = 300           # per device, bucket size
//! nonce_cache_max = 1000000        # nonces remembered (503 when full, never forgotten early)
//! directory_refresh_ms = 1000      # how often admin changes are looked for
//! max_live_waiters = 20000         # team live-feed long polls held at once (beyond: 503)
//! payload_v1_accepted_until = "2027-03-01"  # legacy check-ins (unsigned time) refused from this UTC date
//!
//! [policy]                          # optional; all of hadir_core::api::Policy
//! skew_tolerance_ms = 120000
//! late_delivery_window_ms = 1800000
//! near_duplicate_max_distance = 10
//! near_duplicate_window_days = 30
//! fix = { max_fix_age_s = 120, max_accuracy_m = 50.0, max_speed_kmh = 250.0 }
//! geofence = { accuracy_grace_cap_m = 20.0 }
//! ```
//!
//! Unknown keys in the file are refused (a typo must not silently keep a default).

use std::path::{Path, PathBuf};

use hadir_core::api::Policy;
use serde::{Deserialize, Serialize};

/// Environment variable: database file.
pub const ENV_DB: &str = "HADIR_DB";
/// Environment variable: selfie folder.
pub const ENV_SELFIE_DIR: &str = "HADIR_SELFIE_DIR";
/// Environment variable: listen address.
pub const ENV_LISTEN: &str = "HADIR_LISTEN";

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of this shape.
    #[error("invalid config {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        source: toml::de::Error,
    },
}

/// Everything `serve` and the admin commands are configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// SQLite database file.
    pub db: PathBuf,
    /// Selfie folder; `None`: `selfies` beside the database.
    pub selfie_dir: Option<PathBuf>,
    /// Requests in progress at once before new ones get 503.
    pub max_in_flight: usize,
    /// Write jobs queued before new ones get 503.
    pub write_queue: usize,
    /// Token bucket refill per device, requests per second.
    pub rate_limit_per_second: f64,
    /// Token bucket size per device. Large enough that a phone back online after two
    /// weeks without signal (about 40 check-ins: a selfie upload each, plus the batches)
    /// is not throttled.
    pub rate_limit_burst: u32,
    /// Most nonces remembered at once.
    pub nonce_cache_max: usize,
    /// How often (ms) the directory version is checked for admin changes.
    pub directory_refresh_ms: u64,
    /// Team live-feed long polls (`GET /v1/team/events`) held open at once; they are
    /// outside `max_in_flight`, since each waits up to 25 s doing nothing.
    pub max_live_waiters: usize,
    /// Check-in payloads of version 1 (a time anchor the phone could invent) received
    /// before 00:00 UTC of this date are accepted, flagged `TIME_UNPROVEN`; from then
    /// on they are refused with `PAYLOAD_UNSUPPORTED_VERSION`.
    #[serde(with = "hadir_core::schedule::iso_date")]
    pub payload_v1_accepted_until: chrono::NaiveDate,
    /// Verification policy sent to phones and applied by the server.
    pub policy: Policy,
}

/// Default [`ServerConfig::payload_v1_accepted_until`]: 1 March 2027, three months after
/// version 2 shipped, time for every phone to update through its store.
pub fn default_payload_v1_accepted_until() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("a real date")
}

impl ServerConfig {
    /// [`ServerConfig::payload_v1_accepted_until`] as an instant, Unix ms.
    pub fn payload_v1_accepted_until_ms(&self) -> i64 {
        self.payload_v1_accepted_until
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            db: PathBuf::from("hadir.db"),
            selfie_dir: None,
            max_in_flight: 512,
            write_queue: crate::storage::sqlite::DEFAULT_QUEUE,
            rate_limit_per_second: 10.0,
            rate_limit_burst: 300,
            nonce_cache_max: 1_000_000,
            directory_refresh_ms: 1000,
            max_live_waiters: 20_000,
            payload_v1_accepted_until: default_payload_v1_accepted_until(),
            policy: Policy::default(),
        }
    }
}

impl ServerConfig {
    /// Defaults, overridden by the TOML file (if any), then by the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_path_buf(),
                    source,
                })?
            }
            None => ServerConfig::default(),
        };
        config.apply_env(|k| std::env::var(k).ok());
        Ok(config)
    }

    /// Applies `HADIR_DB`, `HADIR_SELFIE_DIR`, `HADIR_LISTEN` as read by `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(v) = var(ENV_DB).filter(|v| !v.is_empty()) {
            self.db = v.into();
        }
        if let Some(v) = var(ENV_SELFIE_DIR).filter(|v| !v.is_empty()) {
            self.selfie_dir = Some(v.into());
        }
        if let Some(v) = var(ENV_LISTEN).filter(|v| !v.is_empty()) {
            self.listen = v;
        }
    }

    /// The selfie folder in effect.
    pub fn selfie_dir(&self) -> PathBuf {
        match &self.selfie_dir {
            Some(d) => d.clone(),
            None => self
                .db
                .parent()
                .map(|p| p.join("selfies"))
                .unwrap_or_else(|| PathBuf::from("selfies")),
        }
    }
}
