//! Check-in verification, in the order of `docs/PROTOCOL.md`.
//!
//! Split in two so that the expensive part runs in parallel and the part that needs the
//! ledger runs inside the storage's single write transaction:
//!
//! * [`prepare`] (stateless, on the blocking pool): envelope and signature by the
//!   requesting device's key (step 1), payload version and schema, device id (step 2),
//!   person on device (step 4), trusted time (step 6), fix checks except travel
//!   (step 7), geofence from the server's own offices (step 8).
//! * [`decide`] (inside the write transaction, through [`Ledger`]): the check-in id
//!   (step 3: identical retry → the stored result; other payload → `CHECKIN_ID_REUSED`),
//!   the selfie uploaded (step 5), impossible travel against the person's previous
//!   accepted fix (step 7), selfie reuse, near-duplicates and phash mismatch (step 9);
//!   then the result and its evidence are recorded.

use hadir_core::api::{CheckInResult, CheckInStatus, Policy};
use hadir_core::clock::{TimeSource, TrustedTime, bound_by_receipt, trusted_time};
use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, Envelope};
use hadir_core::fix::{FixIssue, GpsFix, check_fix};
use hadir_core::geofence::GeofenceVerdict;
use hadir_core::photo::hamming_distance;
use hadir_core::wire::CheckInPayload;

use crate::directory::{DeviceEntry, StaticDirectory};
use crate::storage::{StorageError, person_key};

/// A check-in whose signature and payload are verified and whose stateless checks are
/// done; [`decide`] finishes it inside the write transaction.
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
    /// [`person_key`] of the payload's person.
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
}

/// What [`prepare`] produced for one envelope.
#[derive(Debug)]
pub enum Prepared {
    /// Refused before the ledger (steps 1–2); not stored.
    Done(CheckInResult),
    /// Needs the ledger.
    Ready(Box<PreparedCheckIn>),
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
    /// The stored payload hash and result for a check-in id.
    fn stored(&mut self, checkin_id: &str)
    -> Result<Option<(String, CheckInResult)>, StorageError>;
    /// The uploaded selfie with this SHA-256.
    fn selfie(&mut self, sha256: &str) -> Result<Option<SelfieInLedger>, StorageError>;
    /// The person's most recent accepted fix.
    fn previous_accepted_fix(&mut self, person_key: &str) -> Result<Option<GpsFix>, StorageError>;
    /// The person's accepted selfies with a trusted instant at or after `since_ms`.
    fn recent_selfies(
        &mut self,
        person_key: &str,
        since_ms: i64,
    ) -> Result<Vec<RecentSelfie>, StorageError>;
    /// Stores the decision and evidence (and updates whatever caches it keeps).
    fn record(
        &mut self,
        item: &PreparedCheckIn,
        result: &CheckInResult,
        server_phash: u64,
    ) -> Result<(), StorageError>;
}

fn result(
    checkin_id: String,
    status: CheckInStatus,
    codes: Vec<String>,
    message: String,
) -> CheckInResult {
    CheckInResult {
        checkin_id,
        status,
        codes,
        message,
        trusted_time_ms: None,
        time_source: None,
        device_skew_ms: None,
        office_id: None,
        distance_m: None,
    }
}

fn rejected(checkin_id: String, code: &str, message: String) -> CheckInResult {
    result(
        checkin_id,
        CheckInStatus::Rejected,
        vec![code.to_string()],
        message,
    )
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
            let office = match &verdict {
                GeofenceVerdict::Inside { office_id, .. } => Some(office_id.as_str()),
                GeofenceVerdict::Outside {
                    nearest_office_id, ..
                } => Some(nearest_office_id.as_str()),
                _ => None,
            };
            let limit = office
                .and_then(|id| directory.geofence.office(id))
                .map_or(f64::NAN, |o| o.max_accuracy_m);
            (Some(verdict), limit)
        }
        _ => (None, f64::NAN),
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
        geofence,
        accuracy_limit_m,
        payload,
    }))
}

fn flag_label(code: &str) -> &'static str {
    match code {
        "SHARED_DEVICE" => "perangkat milik orang lain",
        "TIME_SKEW" => "jam ponsel tidak tepat",
        "TIME_UNANCHORED" => "waktu ponsel belum tersinkron dengan server",
        "FIX_IMPOSSIBLE_TRAVEL" => "perpindahan lokasi tidak wajar",
        "SELFIE_REUSED" => "foto sudah pernah dipakai",
        "SELFIE_NEAR_DUPLICATE" => "foto sangat mirip dengan foto sebelumnya",
        "SELFIE_PHASH_MISMATCH" => "sidik foto tidak cocok",
        _ => "perlu diperiksa",
    }
}

/// Steps 3, 5, 7 (travel) and 9, then records the decision. Runs inside the storage's
/// write transaction; the returned result is what the phone gets, now and on every
/// identical retry.
pub fn decide(
    item: &PreparedCheckIn,
    ledger: &mut dyn Ledger,
    policy: &Policy,
) -> Result<CheckInResult, StorageError> {
    // Step 3: the id.
    if let Some((stored_sha, stored)) = ledger.stored(&item.checkin_id)? {
        if stored_sha == item.payload_sha256 {
            return Ok(stored);
        }
        return Ok(rejected(
            item.checkin_id.clone(),
            "CHECKIN_ID_REUSED",
            "Nomor data absensi ini sudah dipakai untuk data lain; data ditolak.".into(),
        ));
    }
    let mut out = result(
        item.checkin_id.clone(),
        CheckInStatus::Accepted,
        Vec::new(),
        String::new(),
    );
    out.trusted_time_ms = Some(item.trusted.instant_ms);
    out.time_source = Some(
        match item.trusted.source {
            TimeSource::Anchored => "anchored",
            TimeSource::DeviceClock => "device_clock",
            TimeSource::ServerReceipt => "server_receipt",
        }
        .to_string(),
    );
    out.device_skew_ms = item.trusted.device_skew_ms;

    // Step 4 (decided in `prepare`).
    if let Some((code, message)) = &item.early_rejection {
        out.status = CheckInStatus::Rejected;
        out.codes = vec![(*code).to_string()];
        out.message = message.clone();
        ledger.record(item, &out, item.payload.selfie_phash_u64())?;
        return Ok(out);
    }

    // Step 5: the selfie.
    let Some(selfie) = ledger.selfie(&item.payload.selfie_sha256)? else {
        out.status = CheckInStatus::RetryLater;
        out.codes = vec!["SELFIE_MISSING".into()];
        out.message =
            "Foto belum diterima server; aplikasi akan mengirimnya lalu mencoba lagi.".into();
        return Ok(out);
    };

    let mut rejects: Vec<(String, String)> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    if item.shared_device {
        flags.push("SHARED_DEVICE".into());
    }
    // Step 6.
    if item.trusted.skew_flagged {
        flags.push("TIME_SKEW".into());
    }
    if item.trusted.unanchored_reason.is_some() {
        flags.push("TIME_UNANCHORED".into());
    }
    // Step 7.
    for issue in &item.fix_issues {
        rejects.push((issue.code().to_string(), issue.staff_message()));
    }
    if let Some(previous) = ledger.previous_accepted_fix(&item.person_key)? {
        let travel = check_fix(
            &item.payload.fix,
            Some(&previous),
            item.trusted.instant_ms,
            item.accuracy_limit_m,
            &policy.fix,
        );
        if travel
            .iter()
            .any(|i| matches!(i, FixIssue::ImpossibleTravel { .. }))
        {
            flags.push("FIX_IMPOSSIBLE_TRAVEL".into());
        }
    }
    // Step 8.
    let mut inside_message = None;
    match &item.geofence {
        Some(v @ GeofenceVerdict::Inside { office_id, .. }) => {
            out.office_id = Some(office_id.clone());
            inside_message = Some(v.staff_message());
        }
        Some(
            v @ GeofenceVerdict::Outside {
                nearest_office_id,
                distance_m,
                ..
            },
        ) => {
            out.office_id = Some(nearest_office_id.clone());
            out.distance_m = Some((distance_m * 10.0).round() / 10.0);
            rejects.push((v.code().to_string(), v.staff_message()));
        }
        Some(v) => rejects.push((v.code().to_string(), v.staff_message())),
        None => rejects.push((
            "GEOFENCE_NO_OFFICES".into(),
            GeofenceVerdict::NoOffices.staff_message(),
        )),
    }
    // Step 9.
    if selfie
        .first_checkin
        .as_deref()
        .is_some_and(|first| first != item.checkin_id)
    {
        flags.push("SELFIE_REUSED".into());
    }
    let window_ms = i64::from(policy.near_duplicate_window_days) * 86_400_000;
    let near = ledger
        .recent_selfies(&item.person_key, item.trusted.instant_ms - window_ms)?
        .iter()
        .any(|s| {
            s.sha256 != item.payload.selfie_sha256
                && (s.trusted_ms - item.trusted.instant_ms).abs() <= window_ms
                && hamming_distance(s.phash, selfie.phash) <= policy.near_duplicate_max_distance
        });
    if near {
        flags.push("SELFIE_NEAR_DUPLICATE".into());
    }
    if hamming_distance(item.payload.selfie_phash_u64(), selfie.phash)
        > policy.near_duplicate_max_distance
    {
        flags.push("SELFIE_PHASH_MISMATCH".into());
    }

    if !rejects.is_empty() {
        out.status = CheckInStatus::Rejected;
        out.message = rejects
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ");
    } else if !flags.is_empty() {
        out.status = CheckInStatus::AcceptedWithFlags;
        let labels: Vec<&str> = flags.iter().map(|c| flag_label(c)).collect();
        out.message = format!(
            "Kehadiran tercatat, dengan catatan untuk diperiksa atasan: {}.",
            labels.join(", ")
        );
    } else {
        out.message = format!("Kehadiran tercatat. {}", inside_message.unwrap_or_default())
            .trim_end()
            .to_string();
    }
    out.codes = rejects.into_iter().map(|(c, _)| c).chain(flags).collect();
    ledger.record(item, &out, selfie.phash)?;
    Ok(out)
}
