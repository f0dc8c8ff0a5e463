//! What the check-in decision needs from the storage, and nothing else: the
//! [`PreparedCheckIn`] that [`crate::verify::prepare`] hands over, and the [`Ledger`]
//! a storage implements over its own write transaction. This module depends on the
//! rules crate only, so storage and verification both build on it without depending on
//! each other.

use hadir_core::api::CheckInResult;
use hadir_core::clock::{BootObservation, TrustedTime};
use hadir_core::fix::{FixIssue, GpsFix};
use hadir_core::geofence::GeofenceVerdict;
use hadir_core::wire::CheckInPayload;

/// A check-in whose signature and payload are verified and whose stateless checks are
/// done; [`crate::decision::decide`] finishes it inside the write transaction.
#[derive(Debug, Clone)]
pub struct PreparedCheckIn {
    /// The parsed payload.
    pub payload: CheckInPayload,
    /// `checkin_id` as text.
    pub checkin_id: String,
    /// SHA-256 hex of the exact payload bytes (identity of an identical retry).
    pub payload_sha256: String,
    /// The envelope as received, stored as evidence.
    pub envelope_json: Vec<u8>,
    /// The requesting (and signing) device.
    pub device_id: String,
    /// The payload's person, `kind:value` (the storage's person key).
    pub person_key: String,
    /// Server receipt time, Unix ms.
    pub received_ms: i64,
    /// A final rejection decided before the ledger (step 4), still subject to step 3.
    pub early_rejection: Option<(&'static str, String)>,
    /// The person is a guest on this device.
    pub shared_device: bool,
    /// The trusted instant (bounded by receipt).
    pub trusted: TrustedTime,
    /// Fix issues other than travel.
    pub fix_issues: Vec<FixIssue>,
    /// The server's geofence verdict among the person's offices.
    pub geofence: Option<GeofenceVerdict>,
    /// The accuracy limit used for the fix checks, metres (NaN: policy default).
    pub accuracy_limit_m: f64,
    /// A legacy (version 1) payload whose time evidence nothing can prove.
    pub time_unproven: bool,
    /// Version 2 with a verified anchor of the check-in's own boot: the boot id and what
    /// the check-in claims of it (its anchored instant, before any receipt bound, and its
    /// elapsed reading), compared with the server's record of that boot.
    pub boot_claim: Option<(String, BootObservation)>,
    /// The office QR the check-in must carry: set when the geofence verdict puts it
    /// inside an office whose policy requires one (`crate::qr`).
    pub qr: Option<QrRequirement>,
}

/// An office that requires its QR token, as the check-in is judged against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrRequirement {
    /// The office the geofence verdict names.
    pub office_id: String,
    /// Its UTC offset, minutes (a waiver covers an office-local day).
    pub utc_offset_minutes: i32,
}

/// What the ledger knows about an uploaded selfie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfieInLedger {
    /// The server's perceptual hash.
    pub phash: u64,
    /// The first check-in that used it, if any.
    pub first_checkin: Option<String>,
}

/// One accepted selfie of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentSelfie {
    /// Trusted instant of the check-in.
    pub trusted_ms: i64,
    /// Server perceptual hash.
    pub phash: u64,
    /// SHA-256 hex.
    pub sha256: String,
}

/// The ledger as seen from inside one write transaction.
pub trait Ledger {
    /// What a ledger operation fails with (the storage's error).
    type Error;
    /// The stored payload hash and result for a check-in id.
    fn stored(&mut self, checkin_id: &str) -> Result<Option<(String, CheckInResult)>, Self::Error>;
    /// The uploaded selfie with this SHA-256.
    fn selfie(&mut self, sha256: &str) -> Result<Option<SelfieInLedger>, Self::Error>;
    /// The person's most recent accepted fix.
    fn previous_accepted_fix(&mut self, person_key: &str) -> Result<Option<GpsFix>, Self::Error>;
    /// The person's accepted selfies with a trusted instant at or after `since_ms`.
    fn recent_selfies(
        &mut self,
        person_key: &str,
        since_ms: i64,
    ) -> Result<Vec<RecentSelfie>, Self::Error>;
    /// The office's QR secret, if it has one.
    fn qr_secret(&mut self, office_id: &str) -> Result<Option<Vec<u8>>, Self::Error>;
    /// Whether an admin waived the office's QR on that office-local day.
    fn qr_waived(
        &mut self,
        office_id: &str,
        local_date: chrono::NaiveDate,
    ) -> Result<bool, Self::Error>;
    /// The server's latest observation of this device's boot, if any.
    fn boot_record(
        &mut self,
        device_id: &str,
        boot_id: &str,
    ) -> Result<Option<BootObservation>, Self::Error>;
    /// Whether the server ever issued this device an anchor (it has a boot record):
    /// such a device speaks payload version 2, so a version-1 check-in from it is a
    /// downgrade (`PAYLOAD_DOWNGRADE`).
    fn device_has_anchors(&mut self, device_id: &str) -> Result<bool, Self::Error>;
    /// Records an observation of a device's boot (one upsert), keeping the one with the
    /// smallest offset (`hadir_core::clock::BootObservation::offset_ms`).
    fn observe_boot(
        &mut self,
        device_id: &str,
        boot_id: &str,
        observation: BootObservation,
    ) -> Result<(), Self::Error>;
    /// Stores the decision and evidence (and updates whatever caches it keeps).
    fn record(
        &mut self,
        item: &PreparedCheckIn,
        result: &CheckInResult,
        server_phash: u64,
    ) -> Result<(), Self::Error>;
}
