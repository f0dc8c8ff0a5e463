//! The device engine: the one entry point the Kotlin and Swift shells (through
//! `hadir-ffi`) and the demo client use on a phone.
//!
//! A [`Device`] owns the SQLite [`Store`], the device key, the platform clock and the
//! HTTP client. Local operations (the geofence verdict before the camera opens, the
//! check-in itself, history) are synchronous and work with no signal: a check-in is
//! signed and committed to the outbox before [`Device::check_in`] returns. Network
//! operations (enrollment, config refresh, sync) are `async`; the sync delivers the
//! outbox exactly once, in order, selfie first, and records every final result.
//!
//! Modules: [`error`] (what can fail, with stable codes), [`backoff`] (the one retry
//! delay rule), [`enroll`] (enrollment and configuration), [`checkin`] (the verdict,
//! the check-in and what is due next), [`sync`] (delivering the outbox), [`team`] (a
//! supervisor's team and live feed).

mod backoff;
mod checkin;
mod enroll;
mod error;
mod sync;
mod team;

pub use backoff::Backoff;
pub use checkin::{CheckInReceipt, CheckInRequest, LocalCheck, LocalTime, NextAttendance};
pub use error::{DeviceError, parse_date};
pub use sync::{SyncReport, SyncStatus};
pub use team::TeamFeedProblem;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::{ApiClient, ClientError, Conditional, Signer, TlsOptions};
use crate::store::{self, EnrolledPerson, HistoryEntry, NewCheckIn, RecentFix, Store};
use hadir_core::api::{
    CheckInBatch, CheckInResult, CheckInStatus, DeviceConfig, DevicePerson, EnrollRequest,
    MAX_BATCH, MAX_TEAM_WAIT_S, TeamAttendance, TeamEvent, TeamEvents,
};
use hadir_core::auth;
use hadir_core::clock::{self, ClockReading, PlatformClock, ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{self, CHECKIN_PAYLOAD_TYPE, DeviceKey, Envelope, SoftwareDeviceKey};
use hadir_core::fix::{self, FixIssue, GpsFix};
use hadir_core::geofence::{GeofenceIndex, GeofenceVerdict};
use hadir_core::ids::{DeviceLabel, PersonId};
use hadir_core::photo::{self, SelfieLimits};
use hadir_core::schedule::{self, ExpectedAttendance};
use hadir_core::wire::{
    AttendanceKind, CHECKIN_PAYLOAD_VERSION, CheckInPayload, LocalGeofenceStatus, LocalVerdict,
};

/// The phone's clocks as the engine reads them. Every [`PlatformClock`] is one (it
/// cannot fail); a shell's clock that can fail implements this directly, and the
/// engine then fails with `CLOCK_UNAVAILABLE` instead of guessing a time: a phone's
/// time is evidence, and no other clock stands in for the one the platform gave.
pub trait DeviceClock: Send + Sync {
    /// Reads the wall clock, the boot-elapsed clock and the boot id together; on
    /// failure, why (for logs).
    fn try_read(&self) -> Result<ClockReading, String>;
}

impl<T: PlatformClock + ?Sized> DeviceClock for T {
    fn try_read(&self) -> Result<ClockReading, String> {
        Ok(self.read())
    }
}

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

/// How a sync pass retries: tries per pass, and the [`Backoff`]s within and between passes.
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

impl RetrySettings {
    /// The delays between tries within one sync pass (capped at 10 s).
    pub fn in_pass(&self) -> Backoff {
        Backoff::new(self.in_pass_base_ms, IN_PASS_CAP_MS)
    }

    /// The delays recorded on outbox items that failed, until the next pass tries them.
    pub fn between_passes(&self) -> Backoff {
        Backoff::new(self.backoff_base_ms, self.backoff_cap_ms)
    }
}

/// The longest wait inside a sync pass: a longer `Retry-After` ends the pass instead.
const IN_PASS_CAP_MS: u64 = 10_000;

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
    clock: Arc<dyn DeviceClock>,
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
        clock: Arc<dyn DeviceClock>,
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

    /// The people enrolled on this device; `person_id` is the `kind:value` form.
    pub fn people(&self) -> Result<Vec<EnrolledPerson>, DeviceError> {
        Ok(self.store.people()?)
    }

    fn stored_anchor(&self, key: &str) -> Option<ServerTimeAnchor> {
        self.store
            .value(key)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// The signed anchor a check-in cites: the latest the server issued, which is of the
    /// current boot whenever one was obtained since the phone started.
    fn anchor(&self) -> Option<ServerTimeAnchor> {
        self.stored_anchor(store::keys::SIGNED_TIME_ANCHOR)
    }

    /// Now on the server-anchored timeline, Unix ms: from the most recent of the signed
    /// anchor and the unsigned time probe that is of the current boot (the probe is
    /// what a request refused for its clock window refreshes), else the wall clock.
    pub fn anchored_now_ms(&self) -> Result<i64, DeviceError> {
        let reading = self.read_clock()?;
        let anchor = [
            self.anchor(),
            self.stored_anchor(store::keys::SERVER_TIME_ANCHOR),
        ]
        .into_iter()
        .flatten()
        .filter(|a| a.boot_id == reading.boot_id)
        .max_by_key(|a| a.server_time_ms);
        Ok(clock::anchored_now_ms(&reading, anchor.as_ref()))
    }

    /// One reading of the platform's clocks, or `CLOCK_UNAVAILABLE`. A boot id the
    /// protocol would refuse (empty, too long, spaces or control characters) is replaced
    /// by its SHA-256 in hex: the same for the whole boot, and always well-formed.
    fn read_clock(&self) -> Result<ClockReading, DeviceError> {
        let mut reading = self
            .clock
            .try_read()
            .map_err(DeviceError::ClockUnavailable)?;
        if hadir_core::anchor::check_boot_id(&reading.boot_id).is_err() {
            reading.boot_id = photo::sha256_hex(reading.boot_id.as_bytes());
        }
        Ok(reading)
    }

    /// Fetches the server's time and stores it as the anchor.
    pub async fn sync_time(&self) -> Result<ServerTimeAnchor, DeviceError> {
        let before = self.read_clock()?;
        let server = self.client.server_time().await?;
        let after = self.read_clock()?;
        let anchor = ServerTimeAnchor::from_exchange(server.server_time_ms, &before, &after);
        self.store
            .set_value(store::keys::SERVER_TIME_ANCHOR, &json_value(&anchor))?;
        Ok(anchor)
    }

    /// Asks the server for a signed anchor (enrolled devices only) and stores it as the
    /// one check-ins cite. The MAC covers the elapsed reading sent; the round trip is
    /// kept beside it.
    pub async fn obtain_anchor(&self) -> Result<ServerTimeAnchor, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let before = self.read_clock()?;
        let request = hadir_core::anchor::AnchorRequest {
            boot_id: before.boot_id.clone(),
            boot_elapsed_ms: before.boot_elapsed_ms,
        };
        let signed = self
            .client
            .anchor(&request, &self.signer(&enrollment.device_id)?)
            .await?;
        let after = self.read_clock()?;
        if signed.device_id != enrollment.device_id
            || signed.boot_id != request.boot_id
            || signed.boot_elapsed_ms != request.boot_elapsed_ms
        {
            return Err(DeviceError::Network(
                "the server's anchor does not match the request".into(),
            ));
        }
        let anchor = ServerTimeAnchor::from_signed(&signed, &before, &after);
        self.store
            .set_value(store::keys::SIGNED_TIME_ANCHOR, &json_value(&anchor))?;
        Ok(anchor)
    }

    fn signer<'a>(&'a self, device: &'a str) -> Result<Signer<'a>, DeviceError> {
        Ok(Signer {
            key: self.key.clone(),
            device,
            now_ms: self.anchored_now_ms()?,
        })
    }

    fn install_config(&self, cached: CachedConfig) -> Result<(), DeviceError> {
        // Bad office geometry is the server's configuration at fault, not the person's fix.
        let index = GeofenceIndex::new(cached.config.offices.clone())
            .map_err(|e| DeviceError::Config(format!("office geometry: {e}")))?;
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

    fn person_offices(&self, loaded: &LoadedConfig, person: &PersonId) -> Option<Vec<String>> {
        loaded
            .cached
            .config
            .people
            .iter()
            .find(|p| p.person == *person)
            .map(|p| p.office_ids.clone())
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
        let key = person.map(PersonId::to_string);
        Ok(self.store.history(key.as_deref(), limit)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OddBootClock;

    impl PlatformClock for OddBootClock {
        fn read(&self) -> ClockReading {
            ClockReading {
                wall_ms: 1_795_000_000_000,
                boot_elapsed_ms: 42,
                boot_id: "boot count 7\n".into(),
            }
        }
    }

    /// A phone clock the test sets (wall and monotonic move together; one boot).
    struct SetClock(std::sync::atomic::AtomicI64);

    impl PlatformClock for SetClock {
        fn read(&self) -> ClockReading {
            let wall_ms = self.0.load(std::sync::atomic::Ordering::SeqCst);
            ClockReading {
                wall_ms,
                boot_elapsed_ms: wall_ms - 1_795_000_000_000 + 5_000,
                boot_id: "boot-1".into(),
            }
        }
    }

    #[test]
    fn a_qr_token_already_expired_by_the_phones_clock_is_refused_before_anything_is_recorded() {
        use crate::device::CheckInRequest;
        use hadir_core::qr::{QR_WINDOW_MS, token_at, window_end_ms, window_of};
        let dir = tempfile::tempdir().unwrap();
        let settings = DeviceSettings::new(dir.path().join("d.db"), "http://127.0.0.1:9");
        let scanned_at = 1_795_000_000_000 + 25_000; // 25 s into its window
        let clock = Arc::new(SetClock(scanned_at.into()));
        let device = Device::open(settings, None, clock.clone()).unwrap();
        let token = token_at(
            b"any office secret, the phone never checks it",
            "kominfo",
            scanned_at,
        );
        let request = |qr_token: Option<&str>| CheckInRequest {
            person: "nip:198503302010011003".parse().unwrap(),
            kind: hadir_core::wire::AttendanceKind::CheckIn,
            fix: hadir_core::fix::GpsFix {
                latitude: -3.79,
                longitude: 102.26,
                accuracy_m: 10.0,
                fix_time_ms: scanned_at,
                provider: hadir_core::fix::FixProvider::Gps,
                is_mock: false,
            },
            selfie_jpeg: Vec::new(),
            qr_token: qr_token.map(str::to_string),
        };
        let set = |ms: i64| clock.0.store(ms, std::sync::atomic::Ordering::SeqCst);
        // Still the next window (the server's tolerance): not refused here; this device
        // is not enrolled, so the next check is what stops it.
        set(window_end_ms(window_of(scanned_at)) + QR_WINDOW_MS - 1);
        let e = device.check_in_blocking(request(Some(&token))).unwrap_err();
        assert_eq!(e.code(), "DEVICE_NOT_ENROLLED", "{e}");
        // The selfie took a while: two windows on, the server would refuse QR_EXPIRED.
        set(window_end_ms(window_of(scanned_at)) + QR_WINDOW_MS);
        let e = device.check_in_blocking(request(Some(&token))).unwrap_err();
        assert_eq!(e.code(), "QR_RESCAN", "{e}");
        assert_eq!(e.field(), Some("qr_token"));
        assert!(
            e.staff_message().contains("pindai ulang"),
            "{}",
            e.staff_message()
        );
        assert_eq!(
            device.store().pending_count().unwrap(),
            0,
            "nothing recorded"
        );
        // A token that does not parse, or none: the server judges it.
        for other in [Some("not a token"), None] {
            let e = device.check_in_blocking(request(other)).unwrap_err();
            assert_eq!(e.code(), "DEVICE_NOT_ENROLLED", "{other:?}: {e}");
        }
    }

    #[test]
    fn a_boot_id_the_protocol_refuses_is_replaced_by_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let settings = DeviceSettings::new(dir.path().join("d.db"), "http://127.0.0.1:9");
        let device = Device::open(settings, None, Arc::new(OddBootClock)).unwrap();
        let reading = device.read_clock().unwrap();
        assert_eq!(reading.boot_id, photo::sha256_hex(b"boot count 7\n"));
        assert!(hadir_core::anchor::check_boot_id(&reading.boot_id).is_ok());
        assert_eq!(device.read_clock().unwrap().boot_id, reading.boot_id);
    }

    #[test]
    fn a_pass_records_its_attempt_and_frees_selfies_decided_three_days_ago() {
        use crate::store::NewCheckIn;
        let dir = tempfile::tempdir().unwrap();
        let settings = DeviceSettings::new(dir.path().join("d.db"), "http://127.0.0.1:9");
        let now = 1_795_000_000_000;
        let clock = Arc::new(SetClock(now.into()));
        let device = Device::open(settings, None, clock).unwrap();
        let enrollment = Enrollment {
            device_id: "dev-1".into(),
            server_url: "http://127.0.0.1:9".into(),
            key_id: envelope::key_id(&device.public_key()),
        };
        device
            .store
            .set_value(store::keys::ENROLLMENT, &json_value(&enrollment))
            .unwrap();
        for id in ["decided-4-days-ago", "decided-2-days-ago", "pending"] {
            device
                .store
                .record_checkin(&NewCheckIn {
                    checkin_id: id.into(),
                    person_id: "nip:198503302010011003".into(),
                    kind: "check_in".into(),
                    recorded_at_ms: now - 5 * 86_400_000,
                    envelope_json: b"{}".to_vec(),
                    selfie_jpeg: vec![0xAB; 100],
                    selfie_sha256_hex: "00".repeat(32),
                    local_verdict_json: "{}".into(),
                })
                .unwrap();
        }
        let day = 86_400_000;
        let store = device.store();
        store
            .mark_accepted("decided-4-days-ago", "ACCEPTED", "{}", now - 4 * day)
            .unwrap();
        store
            .mark_accepted("decided-2-days-ago", "ACCEPTED", "{}", now - 2 * day)
            .unwrap();
        assert_eq!(device.sync_status().unwrap().last_attempt_ms, None);

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = runtime.block_on(device.sync_now(true)).unwrap();
        assert!(report.error.is_some(), "nothing listens on port 9");
        let status = device.sync_status().unwrap();
        assert_eq!(status.last_attempt_ms, Some(now));
        assert_eq!(status.last_success_ms, None, "the server was never reached");
        assert_eq!(status.pending, 1);
        let selfie = |id: &str| store.get(id).unwrap().unwrap().selfie_jpeg.len();
        assert_eq!(selfie("decided-4-days-ago"), 0);
        assert_eq!(selfie("decided-2-days-ago"), 100);
        assert_eq!(selfie("pending"), 100);
    }
}
