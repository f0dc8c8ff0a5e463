//! Platform features the shells implement as foreign traits, and their adapters to the
//! core's traits. Every method is fallible: an exception thrown in Kotlin or Swift comes
//! back as [`PlatformError`] instead of a panic.

use std::sync::Arc;

use hadir_core::clock::ClockReading;
use hadir_core::envelope::{DeviceKey, KeyError};
use hadir_device::device::{DeviceClock, DeviceError};

/// A failure inside a shell's implementation of a platform trait.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    /// The platform call failed; `reason` is for logs.
    #[error("platform failure: {reason}")]
    Failed {
        /// What the platform reported.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        PlatformError::Failed { reason: e.reason }
    }
}

/// The device's P-256 signing key, held by the platform: Android Keystore (StrongBox
/// where present) or the iOS Secure Enclave.
///
/// Called on the engine's own threads. An implementation must not call the engine and
/// wait for the answer (e.g. `runBlocking { engine.syncNow() }`): the engine may be
/// waiting for this very call, and that would deadlock.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyProvider: Send + Sync {
    /// The 65-byte uncompressed public point `04 || X || Y`.
    fn public_key(&self) -> Result<Vec<u8>, PlatformError>;
    /// ECDSA P-256 with SHA-256 over `message` (the platform hashes), ASN.1 DER
    /// (`SHA256withECDSA` on Android, `ecdsaSignatureMessageX962SHA256` on iOS).
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// The key's attestation certificate chain, leaf first, each certificate DER; read
    /// once, at the device's first enrollment, and sent to the server with it.
    ///
    /// Android: create the Keystore key at the first enrollment with
    /// `KeyGenParameterSpec.Builder.setAttestationChallenge(attestationChallenge(code))`
    /// ([`attestation_challenge`]), then return `KeyStore.getCertificateChain(alias)`
    /// as `certificate.encoded` each, in the order Keystore gives (leaf first). A key
    /// made without a challenge, or a device that cannot attest, returns an empty list.
    /// iOS: an empty list (App Attest is another mechanism).
    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>, PlatformError>;
}

/// The Keystore attestation challenge of an enrollment code (as typed or scanned):
/// `SHA-256("hadir-attest-v1\n" || normalised code)`, 32 bytes. The server derives the
/// same bytes from the code it receives (hadir-core's rule).
#[uniffi::export]
pub fn attestation_challenge(enrollment_code: String) -> Vec<u8> {
    hadir_core::attestation::attestation_challenge(&enrollment_code).to_vec()
}

/// Adapts a shell's key to the core's [`DeviceKey`]; the public key is read once.
pub(crate) struct ForeignDeviceKey {
    provider: Arc<dyn DeviceKeyProvider>,
    public_key: Vec<u8>,
}

impl ForeignDeviceKey {
    /// Reads the public key once; a key that cannot be read is `KEY_UNAVAILABLE`.
    pub(crate) fn new(provider: Arc<dyn DeviceKeyProvider>) -> Result<Self, DeviceError> {
        let public_key = provider
            .public_key()
            .map_err(|e| DeviceError::KeyUnavailable(e.to_string()))?;
        Ok(ForeignDeviceKey {
            provider,
            public_key,
        })
    }
}

impl DeviceKey for ForeignDeviceKey {
    fn public_key(&self) -> Vec<u8> {
        self.public_key.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.provider.sign(message.to_vec()).map_err(|e| KeyError {
            reason: e.to_string(),
        })
    }

    fn attestation_chain(&self) -> Result<Vec<Vec<u8>>, KeyError> {
        self.provider.attestation_chain().map_err(|e| KeyError {
            reason: e.to_string(),
        })
    }
}

/// One reading of the phone's clocks.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClockSample {
    /// `System.currentTimeMillis()` / `Date().timeIntervalSince1970 * 1000`.
    pub wall_ms: i64,
    /// `SystemClock.elapsedRealtime()` (counts deep sleep) / the boot-time clock.
    pub boot_elapsed_ms: i64,
    /// Changes at every reboot (`/proc/sys/kernel/random/boot_id`, or the boot count).
    pub boot_id: String,
}

/// The phone's clocks, where the platform knows better than `/proc`. If `read` throws,
/// the call that needed the time fails with `CLOCK_UNAVAILABLE` (no fallback clock).
///
/// Called on the engine's own threads, including the one that drives its network work:
/// keep `read` quick, and never call the engine from it and wait for the answer (that
/// would deadlock).
#[uniffi::export(with_foreign)]
pub trait ClockProvider: Send + Sync {
    /// Reads the wall clock, the boot-elapsed clock and the boot id together.
    fn read(&self) -> Result<ClockSample, PlatformError>;
}

/// Adapts a shell's clock. A failure is the engine's `CLOCK_UNAVAILABLE`: no other
/// clock is read in its place.
pub(crate) struct ForeignClock {
    provider: Arc<dyn ClockProvider>,
}

impl ForeignClock {
    pub(crate) fn new(provider: Arc<dyn ClockProvider>) -> Self {
        ForeignClock { provider }
    }
}

impl DeviceClock for ForeignClock {
    fn try_read(&self) -> Result<ClockReading, String> {
        self.provider
            .read()
            .map(|s| ClockReading {
                wall_ms: s.wall_ms,
                boot_elapsed_ms: s.boot_elapsed_ms,
                boot_id: s.boot_id,
            })
            .map_err(|e| e.to_string())
    }
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// Detail for developers.
    Debug,
    /// Normal operation.
    Info,
    /// Something worth a look.
    Warn,
    /// A failure.
    Error,
}

/// Receives the library's log lines (to Logcat / os_log). Lines never contain selfie
/// bytes, keys or exact coordinates.
///
/// Rules:
/// - `log` is called in order on one thread of the library's (`hadir-log`), never on
///   the caller's thread nor a runtime worker; it may block, and it may call the engine.
/// - At most 256 lines wait; when the logger falls that far behind, new lines are
///   dropped and the next line delivered is a `Warn` saying how many.
/// - Lines caused by engine calls made from inside `log` (on that thread, and the async
///   work such a call starts and awaits there) are not delivered, so a logger that
///   calls the engine cannot feed itself forever.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One log line.
    fn log(&self, level: LogLevel, message: String) -> Result<(), PlatformError>;
}

/// Receives the outcome of each background sync pass, in order, on the task's own
/// thread (`hadir-sync`), never a runtime worker: it may block, and may call any engine
/// method (e.g. `syncNow` or `refreshConfig` from `onSync`).
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Called after every pass of the background sync.
    fn on_sync(&self, report: crate::types::SyncReport) -> Result<(), PlatformError>;
}

/// Receives a supervisor's live team feed ([`crate::engine::HadirEngine::subscribe_team`]),
/// in order, on the task's own thread (`hadir-team`), never a runtime worker: a callback
/// may block, and may call any engine method (e.g. `teamAttendance` from
/// `onTeamReset`). Events wait while a callback runs; none is lost.
#[uniffi::export(with_foreign)]
pub trait TeamListener: Send + Sync {
    /// A team member's check-in was stored; `update.member` is their new row.
    fn on_team_update(&self, update: crate::types::TeamUpdate) -> Result<(), PlatformError>;
    /// The feed could not be read (no signal, server busy); it retries by itself after
    /// `retry_in_ms` without losing events.
    fn on_team_retrying(
        &self,
        code: String,
        staff_message: String,
        retry_in_ms: u64,
    ) -> Result<(), PlatformError>;
    /// The server no longer knew the feed's position (its database was restored): the
    /// feed goes on from now; read [`crate::engine::HadirEngine::team_attendance`] again.
    fn on_team_reset(&self) -> Result<(), PlatformError>;
    /// The feed stopped for good (e.g. `TEAM_NOT_SUPERVISOR`, `AUTH_DEVICE_REVOKED`).
    fn on_team_closed(&self, code: String, staff_message: String) -> Result<(), PlatformError>;
}
