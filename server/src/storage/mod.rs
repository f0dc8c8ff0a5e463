//! Storage behind a small trait, so handlers never see SQL: the embedded default is
//! [`sqlite::SqliteStorage`] (one file, one writer thread with group commit); a
//! PostgreSQL implementation can be added beside it without touching the handlers.
//!
//! The check-in decision steps that need the ledger (idempotency, selfie presence and
//! reuse, previous fix, recent selfies) are written once in [`crate::decision::decide`]
//! against the [`crate::ledger::Ledger`] trait; a storage implements that trait over
//! its own transaction and calls `decide` inside it, so the decision and its record are
//! one atomic step keyed on the check-in id's uniqueness.

pub mod device_tables;
pub mod month_tables;
pub mod qr_tables;
pub mod sqlite;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use hadir_core::api::{CheckInResult, LeaveInfo, Policy, TeamCheckIn};
use hadir_core::clock::BootObservation;
use hadir_core::geofence::Office;
use hadir_core::ids::{DeviceLabel, PersonId};
use hadir_core::schedule::OfficeSchedule;

use crate::attestation::DeviceAttestation;
use crate::attestation_status::{StatusList, StatusListSummary};
use crate::clock::Clock;
use crate::ledger::PreparedCheckIn;

pub use qr_tables::{KIOSK_SEEN_RESOLUTION_MS, KioskRecord, QrWaiver};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database reported an error.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A file operation failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The write queue is full: the caller should answer 503 with `Retry-After`.
    #[error("write queue full")]
    Overloaded,
    /// The writer stopped (shutting down, or it failed).
    #[error("storage closed")]
    Closed,
    /// Stored data that cannot be read back (a bug or manual edits).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database file was written by a newer server.
    #[error("database schema version {found} is newer than this server's {supported}")]
    TooNew {
        /// `user_version` found.
        found: i64,
        /// Newest known to this build.
        supported: i64,
    },
    /// An admin request that cannot be carried out (unknown office, ...).
    #[error("{0}")]
    Invalid(String),
}

/// The key of a person in storage and caches: `kind:value`, e.g. `nip:1985...`.
pub fn person_key(id: &PersonId) -> String {
    id.to_string()
}

/// A person as an admin registered them.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    /// Their identifier.
    pub id: PersonId,
    /// Name as on the roster.
    pub display_name: String,
    /// Offices where they may check in; the first one's schedule applies to them.
    pub office_ids: Vec<String>,
    /// Their direct supervisor (atasan langsung), who sees them in the team view.
    pub supervisor: Option<PersonId>,
}

/// A person's membership on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceMember {
    /// [`person_key`] of the person.
    pub person_key: String,
    /// True for the device's owner, false for a guest on a shared device.
    pub is_owner: bool,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// Server-assigned id (`Hadir-Device`).
    pub device_id: String,
    /// 65-byte uncompressed P-256 public key.
    pub public_key: Vec<u8>,
    /// True once an admin revoked it.
    pub revoked: bool,
    /// People on the device, owner first.
    pub members: Vec<DeviceMember>,
}

/// Everything the in-memory directory holds, read in one go.
#[derive(Debug, Clone, Default)]
pub struct DirectorySnapshot {
    /// The directory version this snapshot reflects.
    pub version: i64,
    /// All offices.
    pub offices: Vec<Office>,
    /// All people.
    pub people: Vec<PersonRecord>,
    /// All devices (revoked ones too, so they get their own error).
    pub devices: Vec<DeviceRecord>,
    /// Offices' own schedules, by office id (an office without one follows the
    /// national default), with the pemda's holidays merged in.
    pub schedules: HashMap<String, OfficeSchedule>,
    /// The unit (OPD) of each person that has one, by [`person_key`].
    pub person_units: HashMap<String, String>,
    /// The windows of suspended attendance by phone, in force or lifted.
    pub freezes: Vec<month_tables::Freeze>,
}

/// An enrollment to carry out atomically (code consumed, device created or joined).
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    /// SHA-256 hex of the normalised code.
    pub code_hash: String,
    /// The person the request names.
    pub person: PersonId,
    /// The device's public key.
    pub public_key: Vec<u8>,
    /// Its label.
    pub label: DeviceLabel,
    /// `android`, `ios`, `test`.
    pub platform: String,
    /// App version.
    pub app_version: String,
    /// Id to give the device if the key is new.
    pub new_device_id: String,
    /// Server time.
    pub now_ms: i64,
    /// What the key's attestation chain proved (recorded only when the device is new:
    /// a colleague joining a shared phone sends none).
    pub attestation: DeviceAttestation,
}

/// A device as the admin's `device list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceListing {
    /// Server-assigned id.
    pub device_id: String,
    /// `android`, `ios`, `test`.
    pub platform: String,
    /// When it was enrolled, Unix ms.
    pub created_ms: i64,
    /// When an admin revoked it, Unix ms.
    pub revoked_ms: Option<i64>,
    /// People on it, owner first.
    pub people: Vec<DeviceMember>,
    /// Its key attestation as recorded at enrollment.
    pub attestation: DeviceAttestation,
}

/// A device with a stored attestation chain, as `device recheck` judges it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedDevice {
    /// Server-assigned id.
    pub device_id: String,
    /// Its 65-byte P-256 public key (what the chain's leaf must attest).
    pub public_key: Vec<u8>,
    /// What is recorded now, with the chain.
    pub attestation: DeviceAttestation,
}

/// A successful enrollment.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The device as it now is.
    pub device: DeviceRecord,
    /// Whether the person is its owner.
    pub is_owner: bool,
    /// The directory version after the change.
    pub version: i64,
}

/// Why an enrollment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollRefusal {
    /// Unknown, used, expired or another person's code.
    CodeInvalid,
    /// The person is already on that device.
    AlreadyOnDevice,
    /// The key belongs to a revoked device.
    DeviceRevoked,
}

/// What the server knows about an uploaded selfie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfieMeta {
    /// SHA-256 hex of the JPEG.
    pub sha256: String,
    /// The server's own perceptual hash.
    pub phash: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Device that uploaded it first.
    pub uploaded_by: String,
    /// When, Unix ms.
    pub uploaded_ms: i64,
}

/// A stored check-in as an admin or a test reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckIn {
    /// The result returned to the phone.
    pub result: CheckInResult,
    /// Device that carried it.
    pub device_id: String,
    /// [`person_key`] of the person.
    pub person_key: String,
    /// The envelope JSON as received (the evidence).
    pub envelope_json: Vec<u8>,
    /// Server receipt time, Unix ms.
    pub received_ms: i64,
}

/// A stored check-in as the team view shows it, with its position in the live feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedCheckIn {
    /// Position in the feed: increasing in commit order.
    pub seq: i64,
    /// [`person_key`] of the person.
    pub person_key: String,
    /// When the server received it, Unix ms (dates a check-in without a trusted time).
    pub received_ms: i64,
    /// The check-in.
    pub checkin: TeamCheckIn,
}

/// The storage the handlers and the admin CLI use. All methods block; the HTTP layer
/// calls them on the blocking pool.
pub trait Storage: Send + Sync + 'static {
    /// The clock its timestamps (and the server's every "now") are read from.
    fn clock(&self) -> Arc<dyn Clock>;
    /// Everything the in-memory directory needs.
    fn load_directory(&self) -> Result<DirectorySnapshot, StorageError>;
    /// A counter bumped by every change to offices, people or devices (cheap to read).
    fn directory_version(&self) -> Result<i64, StorageError>;
    /// Adds or replaces an office (validated by the caller).
    fn upsert_office(&self, office: Office) -> Result<(), StorageError>;
    /// Adds or replaces a person and their offices (which must exist).
    fn upsert_person(&self, person: PersonRecord) -> Result<(), StorageError>;
    /// Stores a new enrollment code (hashed) for a registered person.
    fn issue_enrollment_code(
        &self,
        person: &PersonId,
        code_hash: String,
        issued_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StorageError>;
    /// Whether a device is revoked, read from the database itself (not a cache), so a
    /// revocation committed by any process holds from the next request; `None` if
    /// there is no such device. One indexed read.
    fn device_revoked(&self, device_id: &str) -> Result<Option<bool>, StorageError>;
    /// Marks a device revoked; false if there is no such device.
    fn revoke_device(&self, device_id: &str, now_ms: i64) -> Result<bool, StorageError>;
    /// Consumes a code and binds the key to the person, atomically; a new device's
    /// attestation is recorded with it.
    fn enroll(&self, e: NewEnrollment) -> Result<Result<Enrolled, EnrollRefusal>, StorageError>;
    /// Every device (revoked ones too) with its people and attestation, oldest first;
    /// only those `person` is enrolled on when given.
    fn devices(&self, person: Option<&PersonId>) -> Result<Vec<DeviceListing>, StorageError>;
    /// Every device that sent an attestation chain, oldest first.
    fn attested_devices(&self) -> Result<Vec<AttestedDevice>, StorageError>;
    /// Records a device's attestation as judged again (`device recheck`); the chain is
    /// kept as stored. False if there is no such device.
    fn update_attestation(
        &self,
        device_id: &str,
        attestation: DeviceAttestation,
    ) -> Result<bool, StorageError>;
    /// Replaces Google's revocation status list with this one (its `loaded_ms` is
    /// recorded), atomically.
    fn replace_status_list(&self, list: StatusList) -> Result<(), StorageError>;
    /// When the stored status list was loaded and its entry count; `None` if none was.
    fn status_list_summary(&self) -> Result<Option<StatusListSummary>, StorageError>;
    /// The stored status list: all of it, or only the entries for these serials
    /// (lowercase hex, as [`crate::attestation::chain_serials`] gives them); one read.
    fn status_list(&self, only_serials: Option<&[String]>) -> Result<StatusList, StorageError>;
    /// Metadata of an uploaded selfie.
    fn selfie(&self, sha256: &str) -> Result<Option<SelfieMeta>, StorageError>;
    /// Records an uploaded selfie; false if it was already known.
    fn put_selfie(&self, meta: SelfieMeta) -> Result<bool, StorageError>;
    /// Decides (with [`crate::decision::decide`]) and stores a batch of verified
    /// check-ins in one transaction; results in the same order.
    fn ingest(
        &self,
        items: Vec<PreparedCheckIn>,
        policy: &Policy,
    ) -> Result<Vec<CheckInResult>, StorageError>;
    /// The server's secret for time anchors: 32 random bytes created at first use and
    /// kept in the database (never in configuration, never logged).
    fn anchor_secret(&self) -> Result<Vec<u8>, StorageError>;
    /// Records the observation behind an anchor just issued, unless it contradicts the
    /// record of that boot (then the record is kept and `false` returned: a check-in
    /// citing that anchor will be flagged).
    fn observe_anchor(
        &self,
        device_id: &str,
        boot_id: &str,
        observation: BootObservation,
    ) -> Result<bool, StorageError>;
    /// A stored check-in by id.
    fn checkin(&self, checkin_id: &str) -> Result<Option<StoredCheckIn>, StorageError>;
    /// Number of stored check-ins (for tests and the CLI).
    fn checkin_count(&self) -> Result<u64, StorageError>;
    /// Whether the database answers.
    fn ping(&self) -> Result<(), StorageError>;
    /// Sets an office's schedule (validated by the caller; the office must exist).
    fn set_schedule(&self, office_id: &str, schedule: OfficeSchedule) -> Result<(), StorageError>;
    /// Records approved leave for a registered person.
    fn add_leave(&self, person: &PersonId, leave: LeaveInfo) -> Result<(), StorageError>;
    /// The leave covering `date` of each of these people who has one.
    fn leaves_on(
        &self,
        person_keys: &[String],
        date: NaiveDate,
    ) -> Result<HashMap<String, LeaveInfo>, StorageError>;
    /// Final (not `retry_later`) check-ins of these people whose trusted instant (or,
    /// for a check-in rejected before its time could be read, its receipt) is in
    /// `[from_ms, to_ms)`, oldest first; all read from one snapshot.
    fn checkins_between(
        &self,
        person_keys: &[String],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<FeedCheckIn>, StorageError>;
    /// Final check-ins of these people stored after feed position `after_seq`, in feed
    /// order, at most `limit`; all read from one snapshot, so no check-in of one person
    /// is skipped while another's later one is returned.
    fn checkins_after(
        &self,
        person_keys: &[String],
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<FeedCheckIn>, StorageError>;
    /// The latest feed position (0 when nothing is stored).
    fn latest_seq(&self) -> Result<i64, StorageError>;

    // The office QR and the kiosk (`crate::qr`, `crate::kiosk`).
    /// Gives the office a QR secret (freshly generated by the storage) unless it has one;
    /// the office must exist. The secret is never returned to an admin.
    fn ensure_qr_secret(&self, office_id: &str) -> Result<(), StorageError>;
    /// The office's QR secret, if it has one (for the kiosk's token).
    fn qr_secret(&self, office_id: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Stores a newly enrolled kiosk (its office must exist).
    fn add_kiosk(&self, kiosk: KioskRecord) -> Result<(), StorageError>;
    /// Every kiosk, revoked ones too.
    fn kiosks(&self) -> Result<Vec<KioskRecord>, StorageError>;
    /// The kiosk whose credential hashes to this, read from the database itself (not a
    /// cache), so a revocation holds from the next request.
    fn kiosk_by_credential(
        &self,
        credential_sha256: &str,
    ) -> Result<Option<KioskRecord>, StorageError>;
    /// Records that a kiosk fetched its QR now (at most once per
    /// [`KIOSK_SEEN_RESOLUTION_MS`]; callers skip the call when the record they read is
    /// fresher than that, so a poll is not a write).
    fn touch_kiosk(&self, kiosk_id: &str, now_ms: i64) -> Result<(), StorageError>;
    /// Revokes a kiosk; false if there is no such kiosk.
    fn revoke_kiosk(&self, kiosk_id: &str, now_ms: i64) -> Result<bool, StorageError>;
    /// Records a QR waiver (its office must exist).
    fn add_qr_waiver(&self, waiver: QrWaiver) -> Result<(), StorageError>;
    /// Every recorded QR waiver, oldest first.
    fn qr_waivers(&self) -> Result<Vec<QrWaiver>, StorageError>;
}
