//! What a phone signs at a check-in: the GPS fix, the time evidence anchored to the
//! server's clock, the payload binding them to the selfie, and the DSSE envelope.

use hadir_core::clock::{ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{CHECKIN_PAYLOAD_TYPE, DeviceKey, Envelope};
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::ids::PersonId;
use hadir_core::photo::SelfieEvidence;
use hadir_core::wire::{
    AttendanceKind, CHECKIN_PAYLOAD_VERSION, CheckInPayload, LocalGeofenceStatus, LocalVerdict,
    new_checkin_id, phash_hex,
};

use crate::office::OFFICE;

/// Boot id of the test phones' single simulated boot.
const BOOT_ID: &str = "boot-1";

/// A fused, non-mock fix at `at` (latitude, longitude).
pub fn fix_at(at: (f64, f64), accuracy_m: f64, fix_time_ms: i64) -> GpsFix {
    GpsFix {
        latitude: at.0,
        longitude: at.1,
        accuracy_m,
        fix_time_ms,
        provider: FixProvider::Fused,
        is_mock: false,
    }
}

/// Time evidence for a check-in made at `now_ms` (true time), with the phone anchored to
/// the server 10 s earlier and its wall clock off by `skew_ms`.
pub fn anchored_time(now_ms: i64, skew_ms: i64) -> TimeEvidence {
    TimeEvidence {
        device_wall_ms: now_ms + skew_ms,
        boot_elapsed_ms: 5_010_000,
        boot_id: BOOT_ID.into(),
        anchor: Some(ServerTimeAnchor {
            server_time_ms: now_ms - 10_000,
            boot_elapsed_ms: 5_000_000,
            boot_id: BOOT_ID.into(),
            device_wall_ms: now_ms - 10_000 + skew_ms,
            round_trip_ms: 40,
            device_id: None,
            mac: None,
        }),
    }
}

/// The selfie a payload names: its SHA-256 (hex) and perceptual hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfieRef {
    /// SHA-256 of the normalised JPEG, 64 lowercase hex digits.
    pub sha256_hex: String,
    /// The dHash of the picture.
    pub phash: u64,
}

impl From<&SelfieEvidence> for SelfieRef {
    fn from(selfie: &SelfieEvidence) -> SelfieRef {
        SelfieRef {
            sha256_hex: selfie.sha256_hex(),
            phash: selfie.perceptual_hash,
        }
    }
}

/// A check-in (arrival) of `person` on `device_id` at the test office, judged inside
/// its main zone by the phone, carrying `fix`, `selfie` and `time`.
pub fn checkin_payload(
    device_id: &str,
    person: &PersonId,
    fix: GpsFix,
    selfie: impl Into<SelfieRef>,
    time: TimeEvidence,
) -> CheckInPayload {
    let selfie = selfie.into();
    CheckInPayload {
        version: CHECKIN_PAYLOAD_VERSION,
        checkin_id: new_checkin_id(),
        person: person.clone(),
        device_id: device_id.into(),
        kind: AttendanceKind::CheckIn,
        fix,
        local_verdict: LocalVerdict {
            geofence: LocalGeofenceStatus::Inside,
            office_id: Some(OFFICE.into()),
            zone_id: Some("utama".into()),
            distance_m: None,
            issue_codes: vec![],
        },
        selfie_sha256: selfie.sha256_hex,
        selfie_phash: phash_hex(selfie.phash),
        time,
        qr_token: None,
        app_version: "0.1.0 (test)".into(),
    }
}

/// Signs `payload`'s time anchor as the server holding `anchor_secret` would have issued
/// it to the payload's device (what a version-2 payload must cite).
pub fn seal_anchor(payload: &mut CheckInPayload, anchor_secret: &[u8]) {
    let device_id = payload.device_id.clone();
    if let Some(a) = payload.time.anchor.as_mut() {
        let signed = hadir_core::anchor::AnchorKey::new(anchor_secret).sign(
            &device_id,
            &a.boot_id,
            a.boot_elapsed_ms,
            a.server_time_ms,
        );
        a.device_id = Some(signed.device_id);
        a.mac = Some(signed.mac);
    }
}

/// `payload` signed by `key` in a check-in envelope, over its exact bytes.
pub fn sign_checkin(key: &dyn DeviceKey, payload: &CheckInPayload) -> Envelope {
    Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload.to_bytes(), key).expect("a test key signs")
}
