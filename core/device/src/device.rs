//! The device engine: the one entry point the Kotlin and Swift shells (through
//! `hadir-ffi`) and the demo client use on a phone.
//!
//! A [`Device`] owns the SQLite [`Store`], the device key, the platform clock and the
//! HTTP client. Local operations (the geofence verdict before the camera opens, the
//! check-in itself, history) are synchronous and work with no signal: a check-in is
//! signed and committed to the outbox before [`Device::check_in`] returns. Network
//! operations (enrollment, config refresh, sync) are `async`; the sync delivers the
//! outbox exactly once, in order, selfie first, and records every final result.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::{ApiClient, ClientError, Conditional, Signer, TlsOptions};
use crate::store::{self, EnrolledPerson, HistoryEntry, NewCheckIn, RecentFix, Store, StoreError};
use hadir_core::api::{
    CheckInBatch, CheckInResult, CheckInStatus, DeviceConfig, DevicePerson, EnrollRequest,
    MAX_BATCH, MAX_TEAM_WAIT_S, TeamAttendance, TeamEvent, TeamEvents,
};
use hadir_core::auth;
use hadir_core::clock::{self, ClockReading, PlatformClock, ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{self, CHECKIN_PAYLOAD_TYPE, DeviceKey, Envelope, SoftwareDeviceKey};
use hadir_core::fix::{self, FixIssue, GpsFix};
use hadir_core::geofence::{GeofenceError, GeofenceIndex, GeofenceVerdict};
use hadir_core::ids::{DeviceLabel, PersonId};
use hadir_core::photo::{self, PhotoError, SelfieLimits};
use hadir_core::schedule::{self, ExpectedAttendance};
use hadir_core::wire::{
    AttendanceKind, CHECKIN_PAYLOAD_VERSION, CheckInPayload, LocalGeofenceStatus, LocalVerdict,
};

/// Settings of a [`Device`].
#[derive(Debug, Clone)]
pub struct DeviceSettings {
    /// Path of the SQLite file (created if missing).
    pub database_path: std::path::PathBuf,
    /// The server's base URL.
    pub server_url: String,
    /// TLS roots and pins.
    pub tls: TlsOptions,
    /// The app's version, recorded in every check-in.
    pub app_version: String,
    /// `android`, `ios`, `test`...
    pub platform: String,
    /// Outbox bounds.
    pub store_limits: store::StoreLimits,
    /// Selfie normalisation limits.
    pub selfie_limits: SelfieLimits,
    /// How a sync pass retries transient failures before leaving items for later.
    pub retry: RetrySettings,
}

impl DeviceSettings {
    /// Settings with defaults for everything but the file and the server.
    pub fn new(database_path: impl Into<std::path::PathBuf>, server_url: &str) -> Self {
        DeviceSettings {
            database_path: database_path.into(),
            server_url: server_url.to_string(),
            tls: TlsOptions::default(),
            app_version: concat!("hadir-core ", env!("CARGO_PKG_VERSION")).to_string(),
            platform: "test".into(),
            store_limits: store::StoreLimits::default(),
            selfie_limits: SelfieLimits::default(),
            retry: RetrySettings::default(),
        }
    }
}

/// Exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts within one sync pass (≥ 1).
    pub attempts_per_pass: u32,
    /// First in-pass delay, ms; doubles each time.
    pub in_pass_base_ms: u64,
    /// Base of the between-pass backoff recorded on the items, ms.
    pub backoff_base_ms: u64,
    /// Cap of that backoff, ms.
    pub backoff_cap_ms: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            attempts_per_pass: 4,
            in_pass_base_ms: 250,
            backoff_base_ms: 2_000,
            backoff_cap_ms: 15 * 60 * 1000,
        }
    }
}

/// A random delay in `[0, min(cap, base · 2^attempt)]` ("full jitter"), at least
/// `retry_after_ms`.
pub fn backoff_delay_ms(base_ms: u64, cap_ms: u64, attempt: u32, retry_after_ms: u64) -> u64 {
    let ceiling = base_ms
        .saturating_mul(1u64 << attempt.min(32))
        .min(cap_ms)
        .max(1);
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    let jittered = u64::from_le_bytes(bytes) % (ceiling + 1);
    jittered.max(retry_after_ms)
}

/// Why a device operation failed. `code()` is stable; `staff_message()` is Indonesian.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The device has not been enrolled yet.
    #[error("device not enrolled")]
    NotEnrolled,
    /// The person is not enrolled on this device.
    #[error("person {0} is not enrolled on this device")]
    PersonNotOnDevice(String),
    /// No office configuration has been fetched yet.
    #[error("no configuration yet")]
    NoConfig,
    /// The selfie was refused.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The fix is not a valid position.
    #[error(transparent)]
    InvalidFix(#[from] GeofenceError),
    /// The device store failed or is full.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing or key loading failed.
    #[error(transparent)]
    Key(#[from] envelope::EnvelopeError),
    /// The server could not be reached (retry later).
    #[error("server unreachable: {0}")]
    Network(String),
    /// The server is overloaded or rate-limiting this device (retry later).
    #[error("server unavailable: HTTP {status} {code}")]
    Unavailable {
        /// HTTP status (5xx or 429).
        status: u16,
        /// The server's code.
        code: String,
        /// The server's `Retry-After`, seconds.
        retry_after_s: Option<u64>,
    },
    /// The server refused the request.
    #[error("server refused: {code}: {message}")]
    Refused {
        /// The server's code.
        code: String,
        /// The server's (Indonesian) message.
        message: String,
    },
    /// The client is misconfigured (URL, certificate).
    #[error("configuration: {0}")]
    Config(String),
}

impl From<ClientError> for DeviceError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Network(m) | ClientError::BadAnswer(m) => DeviceError::Network(m),
            ClientError::Unavailable {
                status,
                code,
                retry_after_s,
            } => DeviceError::Unavailable {
                status,
                code,
                retry_after_s,
            },
            ClientError::Refused { error, .. } => DeviceError::Refused {
                code: error.code,
                message: error.message,
            },
            ClientError::Signing(m) => {
                DeviceError::Key(envelope::EnvelopeError::Signing(envelope::KeyError {
                    reason: m,
                }))
            }
            ClientError::Config(m) => DeviceError::Config(m),
        }
    }
}

impl DeviceError {
    /// Stable machine code.
    pub fn code(&self) -> String {
        match self {
            DeviceError::NotEnrolled => "DEVICE_NOT_ENROLLED".into(),
            DeviceError::PersonNotOnDevice(_) => "PERSON_NOT_ON_DEVICE".into(),
            DeviceError::NoConfig => "CONFIG_MISSING".into(),
            DeviceError::Photo(e) => e.code().into(),
            DeviceError::InvalidFix(e) => e.code().into(),
            DeviceError::Store(e) => e.code().into(),
            DeviceError::Key(e) => e.code().into(),
            DeviceError::Network(_) => "NETWORK".into(),
            DeviceError::Unavailable { .. } => "SERVER_UNAVAILABLE".into(),
            DeviceError::Refused { code, .. } => code.clone(),
            DeviceError::Config(_) => "CLIENT_CONFIG".into(),
        }
    }

    /// Indonesian message to show staff.
    pub fn staff_message(&self) -> String {
        match self {
            DeviceError::NotEnrolled => {
                "Perangkat ini belum didaftarkan. Masukkan kode pendaftaran dari admin.".into()
            }
            DeviceError::PersonNotOnDevice(_) => {
                "Pegawai ini belum didaftarkan di perangkat ini.".into()
            }
            DeviceError::NoConfig => {
                "Data kantor belum diunduh. Sambungkan ke internet sekali untuk memuatnya.".into()
            }
            DeviceError::Photo(e) => e.staff_message(),
            DeviceError::InvalidFix(_) => {
                "Lokasi dari GPS tidak valid. Coba lagi di tempat terbuka.".into()
            }
            DeviceError::Store(e) => e.staff_message(),
            DeviceError::Key(_) => {
                "Kunci keamanan perangkat tidak dapat dipakai. Hubungi admin.".into()
            }
            DeviceError::Network(_) => {
                "Server tidak dapat dihubungi. Absensi tetap tersimpan dan akan dikirim nanti."
                    .into()
            }
            DeviceError::Unavailable { .. } => {
                "Server sedang sibuk. Absensi tetap tersimpan dan akan dikirim nanti.".into()
            }
            DeviceError::Refused { message, .. } => message.clone(),
            DeviceError::Config(_) => "Pengaturan aplikasi salah. Hubungi admin.".into(),
        }
    }
}

/// What the phone concludes from a fix, before or at a check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalCheck {
    /// The geofence verdict for the person's offices.
    pub verdict: GeofenceVerdict,
    /// Fix checks that failed.
    pub issues: Vec<FixIssue>,
}

impl LocalCheck {
    /// True when the phone expects the server to accept: inside, no failed check.
    pub fn looks_ok(&self) -> bool {
        matches!(self.verdict, GeofenceVerdict::Inside { .. }) && self.issues.is_empty()
    }

    /// One Indonesian sentence (or several) for the screen.
    pub fn staff_message(&self) -> String {
        let mut parts = vec![self.verdict.staff_message()];
        parts.extend(self.issues.iter().map(FixIssue::staff_message));
        parts.join(" ")
    }

    fn to_wire(&self) -> LocalVerdict {
        let (geofence, office_id, zone_id, distance_m) = match &self.verdict {
            GeofenceVerdict::Inside {
                office_id, zone_id, ..
            } => (
                LocalGeofenceStatus::Inside,
                Some(office_id.clone()),
                Some(zone_id.clone()),
                None,
            ),
            GeofenceVerdict::Outside {
                nearest_office_id,
                distance_m,
                ..
            } => (
                LocalGeofenceStatus::Outside,
                Some(nearest_office_id.clone()),
                None,
                Some(*distance_m),
            ),
            GeofenceVerdict::TooInaccurate { .. } => {
                (LocalGeofenceStatus::TooInaccurate, None, None, None)
            }
            GeofenceVerdict::NoOffices => (LocalGeofenceStatus::NoOffices, None, None, None),
        };
        LocalVerdict {
            geofence,
            office_id,
            zone_id,
            distance_m,
            issue_codes: self.issues.iter().map(|i| i.code().to_string()).collect(),
        }
    }
}

/// What a check-in request carries from the shell.
#[derive(Debug, Clone)]
pub struct CheckInRequest {
    /// Who is checking in (enrolled on this device).
    pub person: PersonId,
    /// Which attendance time.
    pub kind: AttendanceKind,
    /// The GPS fix taken with the selfie.
    pub fix: GpsFix,
    /// The camera's JPEG, as it came.
    pub selfie_jpeg: Vec<u8>,
    /// The office QR token scanned, if any.
    pub qr_token: Option<String>,
}

/// Proof that a check-in is recorded on the phone.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInReceipt {
    /// The check-in's id.
    pub checkin_id: String,
    /// The trusted instant of the check-in (server-anchored when possible), Unix ms.
    pub recorded_at_ms: i64,
    /// Whether that instant is anchored to the server's clock.
    pub time_anchored: bool,
    /// The phone's own verdict.
    pub local: LocalCheck,
    /// SHA-256 of the normalised selfie.
    pub selfie_sha256: String,
    /// Check-ins waiting to be sent, this one included.
    pub pending_count: u32,
}

/// The next attendance a person is expected to record, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextAttendance {
    /// The office whose schedule applies (the person's first office).
    pub office_id: String,
    /// Its name.
    pub office_name: String,
    /// What is expected, when.
    pub expected: ExpectedAttendance,
    /// One Indonesian sentence for the screen.
    pub staff_message: String,
}

/// What a live team subscription reports besides events.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamFeedProblem {
    /// The server could not be reached or was busy; the subscription retries after
    /// `retry_in_ms` from the same cursor.
    Retrying {
        /// The error's code.
        code: String,
        /// Indonesian message.
        message: String,
        /// When it tries again.
        retry_in_ms: u64,
    },
    /// The server no longer knows the cursor (its database was restored): the feed
    /// continues from now, and the team view should be read again.
    Reset,
}

/// Backoff of the live team feed after a failed poll.
const TEAM_FEED_BACKOFF_BASE_MS: u64 = 1_000;
const TEAM_FEED_BACKOFF_CAP_MS: u64 = 60_000;

/// The outcome of one sync pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// Check-ins the server accepted in this pass (with or without flags).
    pub accepted: u32,
    /// Of those, accepted with flags.
    pub flagged: u32,
    /// Check-ins the server rejected (final).
    pub rejected: u32,
    /// Still waiting after this pass.
    pub pending: u32,
    /// The server results of this pass, in order.
    pub results: Vec<CheckInResult>,
    /// Why the pass stopped early, if it did (`code`, Indonesian message).
    pub error: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Enrollment {
    device_id: String,
    server_url: String,
    key_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedConfig {
    etag: Option<String>,
    config: DeviceConfig,
}

struct LoadedConfig {
    cached: CachedConfig,
    index: GeofenceIndex,
}

/// The device engine. `Send + Sync`: the shells call it from any thread.
pub struct Device {
    settings: DeviceSettings,
    store: Store,
    key: Arc<dyn DeviceKey>,
    clock: Arc<dyn PlatformClock>,
    client: ApiClient,
    config: RwLock<Option<Arc<LoadedConfig>>>,
    sync_lock: tokio::sync::Mutex<()>,
    /// Selfies the server confirmed it holds (content-addressed, so a retry after a
    /// dropped connection skips them and progress accumulates on a flaky network).
    uploaded_selfies: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("database", &self.settings.database_path)
            .field("server", &self.settings.server_url)
            .finish()
    }
}

fn json_value<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialisable")
}

impl Device {
    /// Opens the engine. With `key = None` a software key is loaded from the store, or
    /// generated and persisted on first use; a shell with a hardware key passes its own.
    pub fn open(
        settings: DeviceSettings,
        key: Option<Arc<dyn DeviceKey>>,
        clock: Arc<dyn PlatformClock>,
    ) -> Result<Device, DeviceError> {
        let store = Store::open(&settings.database_path, settings.store_limits)?;
        let key: Arc<dyn DeviceKey> = match key {
            Some(k) => k,
            None => match store.value(store::keys::DEVICE_KEY)? {
                Some(pkcs8) => Arc::new(SoftwareDeviceKey::from_pkcs8(&pkcs8)?),
                None => {
                    let k = SoftwareDeviceKey::generate()?;
                    store.set_value(store::keys::DEVICE_KEY, k.pkcs8())?;
                    Arc::new(k)
                }
            },
        };
        envelope::check_public_key(&key.public_key())?;
        let client = ApiClient::new(&settings.server_url, &settings.tls)?;
        let device = Device {
            settings,
            store,
            key,
            clock,
            client,
            config: RwLock::new(None),
            sync_lock: tokio::sync::Mutex::new(()),
            uploaded_selfies: Default::default(),
        };
        if let Some(bytes) = device.store.value(store::keys::CONFIG)? {
            // A cache that no longer parses is dropped; the next refresh replaces it.
            if let Ok(cached) = serde_json::from_slice::<CachedConfig>(&bytes) {
                device.install_config(cached)?;
            }
        }
        Ok(device)
    }

    /// The underlying store (for diagnostics and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The device's public key (65-byte uncompressed P-256 point).
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key()
    }

    fn enrollment(&self) -> Result<Option<Enrollment>, DeviceError> {
        Ok(self
            .store
            .value(store::keys::ENROLLMENT)?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// The server-assigned device id, once enrolled.
    pub fn device_id(&self) -> Result<Option<String>, DeviceError> {
        Ok(self.enrollment()?.map(|e| e.device_id))
    }

    /// The people enrolled on this device.
    pub fn people(&self) -> Result<Vec<EnrolledPerson>, DeviceError> {
        Ok(self.store.people()?)
    }

    fn anchor(&self) -> Option<ServerTimeAnchor> {
        self.store
            .value(store::keys::SERVER_TIME_ANCHOR)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Now on the server-anchored timeline, Unix ms.
    pub fn anchored_now_ms(&self) -> i64 {
        clock::anchored_now_ms(&self.clock.read(), self.anchor().as_ref())
    }

    /// Fetches the server's time and stores it as the anchor.
    pub async fn sync_time(&self) -> Result<ServerTimeAnchor, DeviceError> {
        let before = self.clock.read();
        let server = self.client.server_time().await?;
        let after = self.clock.read();
        let anchor = ServerTimeAnchor::from_exchange(server.server_time_ms, &before, &after);
        self.store
            .set_value(store::keys::SERVER_TIME_ANCHOR, &json_value(&anchor))?;
        Ok(anchor)
    }

    fn signer<'a>(&'a self, device: &'a str) -> Signer<'a> {
        Signer {
            key: self.key.as_ref(),
            device,
            now_ms: self.anchored_now_ms(),
        }
    }

    /// Enrolls `person` on this device with an admin-issued code. The first person
    /// becomes the device's owner; later ones are colleagues sharing it. Anchors the
    /// clock and fetches the configuration too.
    pub async fn enroll(
        &self,
        enrollment_code: &str,
        person: PersonId,
        label: DeviceLabel,
    ) -> Result<DevicePerson, DeviceError> {
        label.validate().map_err(|e| DeviceError::Refused {
            code: e.code().into(),
            message: e.message(),
        })?;
        self.sync_time().await?;
        let request = EnrollRequest {
            enrollment_code: enrollment_code.trim().to_string(),
            person,
            public_key: envelope::base64_encode(&self.key.public_key()),
            device_label: label,
            platform: self.settings.platform.clone(),
            app_version: self.settings.app_version.clone(),
        };
        let answer = self
            .client
            .enroll(&request, &self.signer(auth::ENROLL_DEVICE))
            .await?;
        let enrollment = Enrollment {
            device_id: answer.device_id.clone(),
            server_url: self.client.base_url().to_string(),
            key_id: envelope::key_id(&self.key.public_key()),
        };
        self.store
            .set_value(store::keys::ENROLLMENT, &json_value(&enrollment))?;
        self.store.upsert_person(&EnrolledPerson {
            person_id: answer.person.person.value().to_string(),
            display_name: answer.person.display_name.clone(),
            enrolled_at_ms: self.anchored_now_ms(),
            is_device_owner: answer.person.is_device_owner,
        })?;
        self.refresh_config().await?;
        Ok(answer.person)
    }

    fn install_config(&self, cached: CachedConfig) -> Result<(), DeviceError> {
        let index = GeofenceIndex::new(cached.config.offices.clone())?;
        *self.config.write().expect("config lock") = Some(Arc::new(LoadedConfig { cached, index }));
        Ok(())
    }

    fn loaded_config(&self) -> Option<Arc<LoadedConfig>> {
        self.config.read().expect("config lock").clone()
    }

    /// The configuration currently in use (offices, people, policy), if any.
    pub fn config(&self) -> Option<DeviceConfig> {
        self.loaded_config().map(|c| c.cached.config.clone())
    }

    /// Fetches the configuration if it changed; returns whether it did.
    pub async fn refresh_config(&self) -> Result<bool, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let etag = self.loaded_config().and_then(|c| c.cached.etag.clone());
        let answer = self
            .client
            .config(etag.as_deref(), &self.signer(&enrollment.device_id))
            .await?;
        match answer {
            Conditional::NotModified => Ok(false),
            Conditional::Fresh(config, etag) => {
                for p in &config.people {
                    let known = self
                        .store
                        .people()?
                        .into_iter()
                        .find(|e| e.person_id == p.person.value());
                    self.store.upsert_person(&EnrolledPerson {
                        person_id: p.person.value().to_string(),
                        display_name: p.display_name.clone(),
                        enrolled_at_ms: known
                            .map(|k| k.enrolled_at_ms)
                            .unwrap_or(config.server_time_ms),
                        is_device_owner: p.is_device_owner,
                    })?;
                }
                let cached = CachedConfig { etag, config };
                self.store
                    .set_value(store::keys::CONFIG, &json_value(&cached))?;
                self.install_config(cached)?;
                Ok(true)
            }
        }
    }

    fn person_offices(&self, loaded: &LoadedConfig, person: &PersonId) -> Option<Vec<String>> {
        loaded
            .cached
            .config
            .people
            .iter()
            .find(|p| p.person.value() == person.value())
            .map(|p| p.office_ids.clone())
    }

    /// The verdict for `fix` before the camera opens: inside which office, or how far
    /// from the nearest, plus failed fix checks. Works offline from the cached config.
    pub fn check_location(
        &self,
        person: &PersonId,
        fix: &GpsFix,
    ) -> Result<LocalCheck, DeviceError> {
        fix.validate()?;
        let loaded = self.loaded_config().ok_or(DeviceError::NoConfig)?;
        let offices = self
            .person_offices(&loaded, person)
            .ok_or_else(|| DeviceError::PersonNotOnDevice(person.value().to_string()))?;
        let office_refs: Vec<&str> = offices.iter().map(String::as_str).collect();
        let policy = &loaded.cached.config.policy;
        let verdict = loaded.index.locate_in(fix, &office_refs, &policy.geofence);
        let accuracy_limit = offices
            .iter()
            .filter_map(|id| loaded.index.office(id))
            .map(|o| o.max_accuracy_m)
            .fold(policy.fix.max_accuracy_m, f64::min);
        let previous = self.store.last_fix(person.value())?.map(|f| GpsFix {
            latitude: f.latitude,
            longitude: f.longitude,
            accuracy_m: f.accuracy_m,
            fix_time_ms: f.fix_time_ms,
            provider: fix::FixProvider::Unknown,
            is_mock: false,
        });
        let issues = fix::check_fix(
            fix,
            previous.as_ref(),
            self.anchored_now_ms(),
            accuracy_limit,
            &policy.fix,
        );
        Ok(LocalCheck { verdict, issues })
    }

    /// Records a check-in: normalises the selfie, decides locally, signs the payload
    /// and commits envelope and selfie to the outbox in one transaction before
    /// returning. Works offline. A check-in the phone expects to be rejected (outside,
    /// mock location) is still recorded: the server decides, and the receipt says what
    /// the phone saw.
    pub fn check_in(&self, request: CheckInRequest) -> Result<CheckInReceipt, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let local = self.check_location(&request.person, &request.fix)?;
        let selfie = photo::normalise_selfie(&request.selfie_jpeg, &self.settings.selfie_limits)?;
        let reading: ClockReading = self.clock.read();
        let anchor = self.anchor();
        let evidence = TimeEvidence::new(reading, anchor);
        let trusted = clock::trusted_time(&evidence, i64::MAX);
        let payload = CheckInPayload {
            version: CHECKIN_PAYLOAD_VERSION,
            checkin_id: hadir_core::wire::new_checkin_id(),
            person: request.person.clone(),
            device_id: enrollment.device_id,
            kind: request.kind,
            fix: request.fix.clone(),
            local_verdict: local.to_wire(),
            selfie_sha256: selfie.sha256_hex(),
            selfie_phash: hadir_core::wire::phash_hex(selfie.perceptual_hash),
            time: evidence,
            qr_token: request.qr_token,
            app_version: self.settings.app_version.clone(),
        };
        let envelope = Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload.to_bytes(), self.key.as_ref())?;
        let checkin_id = payload.checkin_id.to_string();
        self.store.record_checkin(&NewCheckIn {
            checkin_id: checkin_id.clone(),
            person_id: request.person.value().to_string(),
            kind: request.kind.as_str().to_string(),
            recorded_at_ms: trusted.instant_ms,
            envelope_json: envelope.to_json(),
            selfie_jpeg: selfie.jpeg.clone(),
            selfie_sha256_hex: selfie.sha256_hex(),
            local_verdict_json: String::from_utf8(json_value(&payload.local_verdict))
                .expect("JSON is UTF-8"),
        })?;
        self.store.add_recent_fix(&RecentFix {
            person_id: request.person.value().to_string(),
            latitude: request.fix.latitude,
            longitude: request.fix.longitude,
            accuracy_m: request.fix.accuracy_m,
            fix_time_ms: request.fix.fix_time_ms,
        })?;
        Ok(CheckInReceipt {
            checkin_id,
            recorded_at_ms: trusted.instant_ms,
            time_anchored: trusted.source == clock::TimeSource::Anchored,
            local,
            selfie_sha256: selfie.sha256_hex(),
            pending_count: self.store.pending_count()?,
        })
    }

    /// Check-ins waiting to be sent.
    pub fn pending_count(&self) -> Result<u32, DeviceError> {
        Ok(self.store.pending_count()?)
    }

    /// Recent check-ins, newest first, optionally for one person.
    pub fn history(
        &self,
        person: Option<&PersonId>,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, DeviceError> {
        Ok(self.store.history(person.map(PersonId::value), limit)?)
    }

    /// The next attendance `person` is expected to record, from the cached schedule of
    /// their first office and the check-ins on this phone today (rejected ones do not
    /// count, nor pending ones the phone itself saw outside or with a bad fix). Works offline. `None` when the person has no office or no working day
    /// within three weeks.
    pub fn next_expected(&self, person: &PersonId) -> Result<Option<NextAttendance>, DeviceError> {
        let loaded = self.loaded_config().ok_or(DeviceError::NoConfig)?;
        let offices = self
            .person_offices(&loaded, person)
            .ok_or_else(|| DeviceError::PersonNotOnDevice(person.value().to_string()))?;
        let Some(office) = offices.iter().find_map(|id| loaded.index.office(id)) else {
            return Ok(None);
        };
        let schedule = loaded.cached.config.schedule(&office.id);
        let offset = office.utc_offset_minutes;
        let now = self.anchored_now_ms();
        let today = schedule::local_date(now, offset);
        let recorded: Vec<AttendanceKind> = self
            .store
            .history(Some(person.value()), 64)?
            .iter()
            .filter(|h| match h.state {
                store::OutboxState::Accepted => true,
                store::OutboxState::Rejected => false,
                // Not decided yet: counts if the phone saw it inside with no problem
                // (one it expects the server to refuse must be done again).
                store::OutboxState::Pending => {
                    serde_json::from_str::<LocalVerdict>(&h.local_verdict_json).is_ok_and(|v| {
                        v.geofence == LocalGeofenceStatus::Inside && v.issue_codes.is_empty()
                    })
                }
            })
            .filter(|h| schedule::local_date(h.recorded_at_ms, offset) == today)
            .filter_map(|h| AttendanceKind::parse(&h.kind))
            .collect();
        Ok(
            schedule::next_expected(&schedule, offset, now, &recorded).map(|expected| {
                NextAttendance {
                    office_id: office.id.clone(),
                    office_name: office.name.clone(),
                    staff_message: expected.staff_message(today),
                    expected,
                }
            }),
        )
    }

    fn supervisor_on_device(&self, supervisor: &PersonId) -> Result<String, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        if !self
            .store
            .people()?
            .iter()
            .any(|p| p.person_id == supervisor.value())
        {
            return Err(DeviceError::PersonNotOnDevice(
                supervisor.value().to_string(),
            ));
        }
        Ok(enrollment.device_id)
    }

    /// A supervisor's team on an office-local `date` (default: today): each member's
    /// state, lateness, leave, flags and check-ins, and the cursor to follow the live
    /// feed from. Needs the network; the server decides who may see which team.
    pub async fn team_attendance(
        &self,
        supervisor: &PersonId,
        date: Option<chrono::NaiveDate>,
    ) -> Result<TeamAttendance, DeviceError> {
        let device_id = self.supervisor_on_device(supervisor)?;
        self.reanchoring(
            |signer| async move { self.client.team(supervisor, date, &signer).await },
            &device_id,
        )
        .await
    }

    /// One poll of the team's live feed: events after `after`, waiting up to `wait_s`
    /// seconds for one.
    pub async fn team_events(
        &self,
        supervisor: &PersonId,
        after: Option<i64>,
        wait_s: u32,
    ) -> Result<TeamEvents, DeviceError> {
        let device_id = self.supervisor_on_device(supervisor)?;
        self.reanchoring(
            |signer| async move {
                self.client
                    .team_events(supervisor, after, wait_s, &signer)
                    .await
            },
            &device_id,
        )
        .await
    }

    /// Sends a signed request; if the server finds its timestamp outside the window
    /// (`AUTH_CLOCK_WINDOW`), re-anchors the clock to the server's and sends it again.
    async fn reanchoring<'a, T, Fut>(
        &'a self,
        request: impl Fn(Signer<'a>) -> Fut,
        device_id: &'a str,
    ) -> Result<T, DeviceError>
    where
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        match request(self.signer(device_id)).await {
            Err(e) if is_clock_window(&e) => {
                self.sync_time().await?;
                Ok(request(self.signer(device_id)).await?)
            }
            other => Ok(other?),
        }
    }

    /// Follows the team's live feed from `after` (the cursor of
    /// [`Device::team_attendance`]; `None`: from now), calling `on_event` for each new
    /// team check-in in order. Network failures and busy servers are reported to
    /// `on_problem` and retried from the same cursor with backoff and jitter, so no
    /// event is skipped. Returns only on a final refusal (not a supervisor, device
    /// revoked, ...); cancel it by dropping or aborting the future.
    pub async fn watch_team(
        &self,
        supervisor: &PersonId,
        after: Option<i64>,
        mut on_event: impl FnMut(TeamEvent),
        mut on_problem: impl FnMut(TeamFeedProblem),
    ) -> DeviceError {
        let mut cursor = after;
        let mut failures: u32 = 0;
        loop {
            match self.team_events(supervisor, cursor, MAX_TEAM_WAIT_S).await {
                Ok(answer) => {
                    failures = 0;
                    cursor = Some(answer.cursor);
                    if answer.reset {
                        on_problem(TeamFeedProblem::Reset);
                    }
                    for event in answer.events {
                        on_event(event);
                    }
                }
                Err(e @ (DeviceError::Network(_) | DeviceError::Unavailable { .. })) => {
                    let retry_after_ms = match &e {
                        DeviceError::Unavailable {
                            retry_after_s: Some(s),
                            ..
                        } => s.saturating_mul(1000),
                        _ => 0,
                    };
                    let delay = backoff_delay_ms(
                        TEAM_FEED_BACKOFF_BASE_MS,
                        TEAM_FEED_BACKOFF_CAP_MS,
                        failures,
                        retry_after_ms,
                    );
                    failures = failures.saturating_add(1);
                    on_problem(TeamFeedProblem::Retrying {
                        code: e.code(),
                        message: "Pantauan tim terputus; menyambung kembali otomatis.".into(),
                        retry_in_ms: delay,
                    });
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                Err(e) => return e,
            }
        }
    }

    /// One sync pass: anchors the clock, refreshes the config, then sends every pending
    /// check-in (oldest first, in batches, selfie first) and records each final result.
    /// With `force`, items waiting out a backoff are sent too (the person pressed
    /// "Kirim sekarang"). Transient failures are retried within the pass with backoff
    /// and jitter; what still fails stays pending with a later retry time. Only one
    /// pass runs at a time.
    pub async fn sync_now(&self, force: bool) -> Result<SyncReport, DeviceError> {
        let _guard = self.sync_lock.lock().await;
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let mut report = SyncReport::default();
        let stop = |report: &mut SyncReport, e: DeviceError| {
            report.error = Some((e.code(), e.staff_message()));
        };
        if let Err(e) = self.with_retries(|| self.sync_time()).await {
            stop(&mut report, e);
            report.pending = self.store.pending_count()?;
            return Ok(report);
        }
        if let Err(e) = self.refresh_config().await {
            // Sending check-ins does not need a fresh config; report and carry on.
            stop(&mut report, e);
        }
        let mut sent_this_pass = std::collections::HashSet::new();
        loop {
            let due_before = if force {
                i64::MAX
            } else {
                self.anchored_now_ms()
            };
            let items: Vec<_> = self
                .store
                .pending(MAX_BATCH as u32 * 2, due_before)?
                .into_iter()
                .filter(|i| !sent_this_pass.contains(&i.checkin_id))
                .take(MAX_BATCH)
                .collect();
            if items.is_empty() {
                break;
            }
            match self.send_batch(&enrollment.device_id, &items).await {
                Ok(results) => {
                    for (item, result) in items.iter().zip(results) {
                        sent_this_pass.insert(item.checkin_id.clone());
                        self.record_result(item, &result, &mut report)?;
                    }
                }
                Err(e) => {
                    let retry_after_ms = match &e {
                        ClientError::Unavailable {
                            retry_after_s: Some(s),
                            ..
                        } => s * 1000,
                        _ => 0,
                    };
                    let now = self.anchored_now_ms();
                    for item in &items {
                        let delay = backoff_delay_ms(
                            self.settings.retry.backoff_base_ms,
                            self.settings.retry.backoff_cap_ms,
                            item.attempts,
                            retry_after_ms,
                        );
                        self.store.mark_attempt_failed(
                            &item.checkin_id,
                            &e.to_string(),
                            now + delay as i64,
                        )?;
                    }
                    stop(&mut report, e.into());
                    break;
                }
            }
        }
        report.pending = self.store.pending_count()?;
        Ok(report)
    }

    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<T, DeviceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, DeviceError>>,
    {
        let tries = self.settings.retry.attempts_per_pass.max(1);
        let mut n = 0;
        loop {
            match attempt().await {
                Err(DeviceError::Network(_) | DeviceError::Unavailable { .. }) if n + 1 < tries => {
                    let delay = backoff_delay_ms(self.settings.retry.in_pass_base_ms, 10_000, n, 0);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_batch(
        &self,
        device_id: &str,
        items: &[store::OutboxItem],
    ) -> Result<Vec<CheckInResult>, ClientError> {
        let tries = self.settings.retry.attempts_per_pass.max(1);
        let mut n = 0;
        loop {
            let outcome = self.send_batch_once(device_id, items).await;
            match outcome {
                Err(e) if e.is_retryable() && n + 1 < tries => {
                    let retry_after_ms = match &e {
                        ClientError::Unavailable {
                            retry_after_s: Some(s),
                            ..
                        } => s * 1000,
                        _ => 0,
                    };
                    // Within a pass, a long Retry-After ends the pass instead of blocking.
                    if retry_after_ms > 10_000 {
                        return Err(e);
                    }
                    let delay = backoff_delay_ms(
                        self.settings.retry.in_pass_base_ms,
                        10_000,
                        n,
                        retry_after_ms,
                    );
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_batch_once(
        &self,
        device_id: &str,
        items: &[store::OutboxItem],
    ) -> Result<Vec<CheckInResult>, ClientError> {
        let mut envelopes = Vec::with_capacity(items.len());
        for item in items {
            let known = self
                .uploaded_selfies
                .lock()
                .expect("selfie set")
                .contains(&item.selfie_sha256_hex);
            if !item.selfie_jpeg.is_empty() && !known {
                self.client
                    .put_selfie(
                        &item.selfie_sha256_hex,
                        &item.selfie_jpeg,
                        &self.signer(device_id),
                    )
                    .await?;
                self.uploaded_selfies
                    .lock()
                    .expect("selfie set")
                    .insert(item.selfie_sha256_hex.clone());
            }
            envelopes.push(
                Envelope::from_json(&item.envelope_json)
                    .map_err(|e| ClientError::BadAnswer(format!("stored envelope: {e}")))?,
            );
        }
        let response = self
            .client
            .post_checkins(&CheckInBatch { envelopes }, &self.signer(device_id))
            .await?;
        if response.results.len() != items.len() {
            return Err(ClientError::BadAnswer(format!(
                "{} results for {} check-ins",
                response.results.len(),
                items.len()
            )));
        }
        Ok(response.results)
    }

    fn record_result(
        &self,
        item: &store::OutboxItem,
        result: &CheckInResult,
        report: &mut SyncReport,
    ) -> Result<(), DeviceError> {
        let now = self.anchored_now_ms();
        let json = String::from_utf8(json_value(result)).expect("JSON is UTF-8");
        let code = result.codes.first().cloned().unwrap_or_default();
        match result.status {
            CheckInStatus::Accepted | CheckInStatus::AcceptedWithFlags => {
                let status = if result.status == CheckInStatus::Accepted {
                    "ACCEPTED"
                } else {
                    report.flagged += 1;
                    "ACCEPTED_WITH_FLAGS"
                };
                self.store
                    .mark_accepted(&item.checkin_id, status, &json, now)?;
                report.accepted += 1;
            }
            CheckInStatus::Rejected => {
                self.store
                    .mark_rejected(&item.checkin_id, &code, &result.message, &json, now)?;
                report.rejected += 1;
            }
            CheckInStatus::RetryLater => {
                // The server does not have the selfie after all: upload it again.
                self.uploaded_selfies
                    .lock()
                    .expect("selfie set")
                    .remove(&item.selfie_sha256_hex);
                let delay = backoff_delay_ms(
                    self.settings.retry.backoff_base_ms,
                    self.settings.retry.backoff_cap_ms,
                    item.attempts,
                    0,
                );
                self.store
                    .mark_attempt_failed(&item.checkin_id, &code, now + delay as i64)?;
            }
        }
        report.results.push(result.clone());
        Ok(())
    }
}

fn is_clock_window(e: &ClientError) -> bool {
    matches!(e, ClientError::Refused { error, .. } if error.code == "AUTH_CLOCK_WINDOW")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        for attempt in 0..40 {
            let d = backoff_delay_ms(2_000, 900_000, attempt, 0);
            assert!(d <= 900_000);
            assert!(d <= 2_000u64.saturating_mul(1 << attempt.min(32)));
        }
        assert!(backoff_delay_ms(2_000, 900_000, 0, 30_000) >= 30_000);
        // Jitter: not always the same value.
        let values: std::collections::HashSet<u64> = (0..20)
            .map(|_| backoff_delay_ms(1_000, 900_000, 10, 0))
            .collect();
        assert!(values.len() > 1);
    }
}
