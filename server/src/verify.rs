//! Check-in verification, in the order of `docs/PROTOCOL.md`.
//!
//! Split in two so that the expensive part runs in parallel and the part that needs the
//! ledger runs inside the storage's single write transaction:
//!
//! * [`prepare`] (stateless, on the blocking pool): envelope and signature by the
//!   requesting device's key (step 1), payload version and schema, device id (step 2),
//!   person on device (step 4), trusted time (step 6), fix checks except travel
//!   (step 7), geofence from the server's own offices (step 8).
//! * [`decide`] ([`crate::decision`], inside the write transaction, through
//!   [`Ledger`]): the check-in id (step 3), the selfie uploaded (step 5), impossible
//!   travel (step 7), selfie reuse, near-duplicates and phash mismatch (step 9); then
//!   the result and its evidence are recorded.

use hadir_core::api::{CheckInResult, Policy};
use hadir_core::clock::{bound_by_receipt, trusted_time};
use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, Envelope};
use hadir_core::fix::check_fix;
use hadir_core::wire::CheckInPayload;

pub use crate::decision::decide;
pub use crate::ledger::{Ledger, PreparedCheckIn, RecentSelfie, SelfieInLedger};

use crate::decision::rejected;
use crate::directory::{DeviceEntry, StaticDirectory};
use crate::storage::person_key;

/// What [`prepare`] produced for one envelope.
#[derive(Debug)]
pub enum Prepared {
    /// Refused before the ledger (steps 1–2); not stored.
    Done(CheckInResult),
    /// Needs the ledger.
    Ready(Box<PreparedCheckIn>),
}

/// Best-effort id of an envelope we could not verify (echoed so the phone can match).
fn unverified_id(envelope: &Envelope) -> String {
    #[derive(serde::Deserialize)]
    struct Probe {
        checkin_id: Option<String>,
    }
    serde_json::from_slice::<Probe>(&envelope.payload)
        .ok()
        .and_then(|p| p.checkin_id)
        .filter(|id| id.len() <= 64)
        .unwrap_or_default()
}

const MSG_SIGNATURE: &str =
    "Tanda tangan data absensi tidak valid; data ditolak. Daftarkan ulang perangkat bila berulang.";
const MSG_PAYLOAD: &str = "Format data absensi tidak dikenali. Perbarui aplikasi Hadir.";

/// Steps 1, 2, 4, 6, 7 (without travel) and 8 for one envelope.
pub fn prepare(
    raw_envelope: &str,
    device: &DeviceEntry,
    directory: &StaticDirectory,
    policy: &Policy,
    received_ms: i64,
) -> Prepared {
    // Step 1: the envelope and its signature by the requesting device's key.
    let envelope: Envelope = match serde_json::from_str(raw_envelope) {
        Ok(e) => e,
        Err(e) => {
            return Prepared::Done(rejected(
                String::new(),
                "ENVELOPE_MALFORMED",
                format!("Data absensi rusak dan tidak dapat dibaca ({e})."),
            ));
        }
    };
    let payload_bytes = match envelope.verify(CHECKIN_PAYLOAD_TYPE, &device.public_key) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Prepared::Done(rejected(
                unverified_id(&envelope),
                e.code(),
                MSG_SIGNATURE.into(),
            ));
        }
    };
    // Step 2: version and schema, then the device named in it.
    let payload = match CheckInPayload::parse(payload_bytes) {
        Ok(p) => p,
        Err(e) => {
            return Prepared::Done(rejected(
                unverified_id(&envelope),
                e.code(),
                format!("{MSG_PAYLOAD} ({e})"),
            ));
        }
    };
    let checkin_id = payload.checkin_id.to_string();
    if payload.device_id != device.device_id {
        return Prepared::Done(rejected(
            checkin_id,
            "DEVICE_MISMATCH",
            "Data absensi ini milik perangkat lain; data ditolak.".into(),
        ));
    }
    let pkey = person_key(&payload.person);
    let payload_sha256 = hadir_core::photo::sha256_hex(payload_bytes);

    // Step 4: the person on this device.
    let membership = device.members.iter().find(|m| m.person_key == pkey);
    let person = directory.people.get(&pkey);
    let early_rejection = match (membership, person) {
        (Some(_), Some(_)) => None,
        _ => Some((
            "PERSON_NOT_ON_DEVICE",
            "Anda belum terdaftar di perangkat ini. Daftarkan dengan kode dari admin.".to_string(),
        )),
    };
    let shared_device = membership.is_some_and(|m| !m.is_owner);

    // Step 6: trusted time, bounded by receipt.
    let trusted = bound_by_receipt(
        trusted_time(&payload.time, policy.skew_tolerance_ms),
        received_ms,
        policy.skew_tolerance_ms,
    );

    // Step 8 first (it tells which office's accuracy limit applies), then step 7.
    let (geofence, accuracy_limit_m) = match person {
        Some(p) if early_rejection.is_none() => {
            let ids: Vec<&str> = p.office_ids.iter().map(String::as_str).collect();
            let verdict = directory
                .geofence
                .locate_in(&payload.fix, &ids, &policy.geofence);
            let limit =
                hadir_core::fix::accuracy_limit_m(&verdict, &directory.geofence, &policy.fix);
            (Some(verdict), limit)
        }
        _ => (None, policy.fix.max_accuracy_m),
    };
    let fix_issues = check_fix(
        &payload.fix,
        None,
        trusted.instant_ms,
        accuracy_limit_m,
        &policy.fix,
    );

    Prepared::Ready(Box::new(PreparedCheckIn {
        checkin_id,
        payload_sha256,
        envelope_json: raw_envelope.as_bytes().to_vec(),
        device_id: device.device_id.clone(),
        person_key: pkey,
        received_ms,
        early_rejection,
        shared_device,
        trusted,
        fix_issues,
        accuracy_limit_m,
        qr: crate::qr::requirement(geofence.as_ref(), &directory.geofence),
        geofence,
        payload,
    }))
}
