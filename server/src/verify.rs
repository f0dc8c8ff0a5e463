//! Check-in verification, in the order of `docs/PROTOCOL.md`.
//!
//! Split in two so that the expensive part runs in parallel and the part that needs the
//! ledger runs inside the storage's single write transaction:
//!
//! * [`prepare`] (stateless, on the blocking pool): envelope and signature by the
//!   requesting device's key (step 1), payload version and schema, device id (step 2),
//!   person on device (step 4), the cited time anchor's MAC and device and the trusted
//!   time (step 6, [`judge_time`]), fix checks except travel
//!   (step 7), geofence from the server's own offices (step 8).
//! * [`decide`] ([`crate::decision`], inside the write transaction, through
//!   [`Ledger`]): the check-in id (step 3), the selfie uploaded (step 5), impossible
//!   travel (step 7), selfie reuse, near-duplicates and phash mismatch (step 9); then
//!   the result and its evidence are recorded.

use hadir_core::anchor::AnchorKey;
use hadir_core::api::{CheckInResult, Policy};
use hadir_core::clock::{
    BootObservation, TimeSource, TrustedTime, UnanchoredReason, bound_by_anchor, bound_by_receipt,
    trusted_time,
};
use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, Envelope};
use hadir_core::fix::check_fix;
use hadir_core::wire::{CHECKIN_PAYLOAD_VERSION, CheckInPayload, LEGACY_CHECKIN_PAYLOAD_VERSION};

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

/// What step 6 needs beyond the policy: the anchor key and how long version 1 lives.
#[derive(Debug, Clone, Copy)]
pub struct TimeRules<'a> {
    /// The server's anchor key.
    pub anchor_key: &'a AnchorKey,
    /// Version-1 payloads received from this instant on are refused, Unix ms.
    pub v1_accepted_until_ms: i64,
}

/// Step 6 as judged before the ledger.
#[derive(Debug)]
pub struct TimeJudgement {
    /// The trusted instant, bounded by the cited anchor and by receipt.
    pub trusted: TrustedTime,
    /// A rejection (code, staff message), recorded like step 4's.
    pub rejection: Option<(&'static str, String)>,
    /// Version 1: unproven time.
    pub unproven: bool,
    /// The boot claim to compare with the server's record (version 2, anchored).
    pub boot_claim: Option<(String, BootObservation)>,
}

/// Step 6 without the ledger: the cited anchor's MAC and device (one HMAC), the
/// trusted instant (never before the cited anchor, never after receipt), and what the
/// check-in claims of its boot. Version 1 evidence is computed as before and marked.
pub fn judge_time(
    payload: &CheckInPayload,
    device_id: &str,
    policy: &Policy,
    received_ms: i64,
    rules: &TimeRules<'_>,
) -> TimeJudgement {
    let tolerance = policy.skew_tolerance_ms;
    let computed = trusted_time(&payload.time, tolerance);
    let mut judgement = TimeJudgement {
        trusted: bound_by_receipt(computed.clone(), received_ms, tolerance),
        rejection: None,
        unproven: payload.version == LEGACY_CHECKIN_PAYLOAD_VERSION,
        boot_claim: None,
    };
    if payload.version != CHECKIN_PAYLOAD_VERSION {
        return judgement;
    }
    let Some(signed) = payload.time.anchor.as_ref().and_then(|a| a.signed()) else {
        return judgement;
    };
    if let Err(e) = rules.anchor_key.verify(&signed, device_id) {
        judgement.rejection = Some((e.code(), e.staff_message().to_string()));
        return judgement;
    }
    if computed.unanchored_reason == Some(UnanchoredReason::ElapsedWentBackwards) {
        judgement.rejection = Some((
            "TIME_BEFORE_ANCHOR",
            "Waktu absensi lebih awal dari bukti waktu yang dikutipnya; data ditolak.".into(),
        ));
        return judgement;
    }
    if computed.source == TimeSource::Anchored {
        judgement.boot_claim = Some((
            payload.time.boot_id.clone(),
            BootObservation {
                server_time_ms: computed.instant_ms,
                boot_elapsed_ms: payload.time.boot_elapsed_ms,
            },
        ));
    }
    judgement.trusted = bound_by_receipt(
        bound_by_anchor(computed, signed.server_time_ms),
        received_ms,
        tolerance,
    );
    judgement
}

/// Steps 1, 2, 4, 6, 7 (without travel) and 8 for one envelope.
pub fn prepare(
    raw_envelope: &str,
    device: &DeviceEntry,
    directory: &StaticDirectory,
    policy: &Policy,
    received_ms: i64,
    time_rules: &TimeRules<'_>,
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
    if payload.version == LEGACY_CHECKIN_PAYLOAD_VERSION
        && received_ms >= time_rules.v1_accepted_until_ms
    {
        return Prepared::Done(rejected(
            checkin_id,
            "PAYLOAD_UNSUPPORTED_VERSION",
            format!(
                "{MSG_PAYLOAD} (payload version {LEGACY_CHECKIN_PAYLOAD_VERSION} is no longer \
                 accepted; this server reads {CHECKIN_PAYLOAD_VERSION})"
            ),
        ));
    }
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
    let person_rejection = match (membership, person) {
        (Some(_), Some(_)) => None,
        _ => Some((
            "PERSON_NOT_ON_DEVICE",
            "Anda belum terdaftar di perangkat ini. Daftarkan dengan kode dari admin.".to_string(),
        )),
    };
    let shared_device = membership.is_some_and(|m| !m.is_owner);

    // Step 6: the cited anchor and the trusted time.
    let time = judge_time(&payload, &device.device_id, policy, received_ms, time_rules);
    let trusted = time.trusted;
    // When it was made, for the freeze: only an anchored time proves a check-in older
    // than its receipt (a phone's own clock could be set back to before the switch).
    let made_ms = match trusted.source {
        hadir_core::clock::TimeSource::Anchored => trusted.instant_ms,
        _ => trusted.instant_ms.max(received_ms),
    };
    let suspended = person
        .and_then(|p| directory.suspended_at(p, made_ms))
        .map(|f| ("PHONE_ATTENDANCE_SUSPENDED", phone_suspended_message(f)));
    let early_rejection = person_rejection.or(time.rejection).or(suspended);

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
        time_unproven: time.unproven,
        boot_claim: time.boot_claim,
        payload,
    }))
}

/// Staff text for `PHONE_ATTENDANCE_SUSPENDED` (the same notice the phone shows).
pub fn phone_suspended_message(freeze: &crate::storage::month_tables::Freeze) -> String {
    hadir_core::api::PhoneSuspension {
        since_ms: freeze.since_ms,
        reason: freeze.reason.clone(),
    }
    .staff_notice()
}
