//! The check-in payload: what a phone signs and the server verifies.
//!
//! The payload is JSON with an explicit `version`. Rule for unknown content: a signed
//! payload of a known version must match that version's schema exactly (unknown fields
//! are refused), because the version number *is* the schema; a new field means a new
//! version. An unknown version is refused with [`WireError::UnsupportedVersion`], so an
//! old server never half-reads a newer phone's evidence.
//!
//! Versions: **2** (what phones build) cites a server-signed time anchor
//! ([`crate::anchor`]): `time.anchor`, when present, must carry `device_id` and `mac`.
//! **1** (legacy) carried an anchor the phone took from the unauthenticated
//! `GET /v1/time`, which nothing can check; it must carry neither field. The server
//! decides how long it still accepts version 1 and how it marks it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{MAX_TIME_MS, TimeEvidence};
use crate::fix::GpsFix;
use crate::ids::PersonId;

/// The payload version this build writes (it also reads [`LEGACY_CHECKIN_PAYLOAD_VERSION`]).
pub const CHECKIN_PAYLOAD_VERSION: u32 = 2;

/// The previous version, with an unsigned time anchor: still parsed, so the server can
/// accept it for a while (marked) and then refuse it.
pub const LEGACY_CHECKIN_PAYLOAD_VERSION: u32 = 1;

/// Longest QR token accepted in a payload.
pub const MAX_QR_TOKEN_LEN: usize = 512;

/// Which of the day's attendance times a check-in is for.
///
/// Phones read it from the server (schedules, the team view, next expected times), so a
/// newer server's kind arrives as [`AttendanceKind::Unknown`] instead of breaking the
/// whole answer. As input it is strict: the server refuses `Unknown` in a check-in
/// payload (`PAYLOAD_INVALID`, see [`CheckInPayload::parse`]) and in a schedule
/// (`SCHEDULE_UNKNOWN_KIND`), and a phone never checks in with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceKind {
    /// Arrival ("masuk").
    CheckIn,
    /// Start of the break ("istirahat").
    BreakStart,
    /// Back from the break ("kembali").
    BreakEnd,
    /// Leaving ("pulang").
    CheckOut,
    /// A kind this build does not know (a newer server's). The value itself is not
    /// kept: this build can do nothing with a kind it cannot name. Schedules' rules
    /// skip such times; it is never written by this build (it would serialise as
    /// `"unknown"`, which every server refuses).
    #[serde(other)]
    Unknown,
}

impl AttendanceKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttendanceKind::CheckIn => "check_in",
            AttendanceKind::BreakStart => "break_start",
            AttendanceKind::BreakEnd => "break_end",
            AttendanceKind::CheckOut => "check_out",
            AttendanceKind::Unknown => "unknown",
        }
    }

    /// The kinds this build knows, in the order of a day.
    pub const KNOWN: [AttendanceKind; 4] = [
        AttendanceKind::CheckIn,
        AttendanceKind::BreakStart,
        AttendanceKind::BreakEnd,
        AttendanceKind::CheckOut,
    ];

    /// False for [`AttendanceKind::Unknown`].
    pub fn is_known(self) -> bool {
        self != AttendanceKind::Unknown
    }

    /// Parses [`AttendanceKind::as_str`]'s output for a known kind; `None` otherwise
    /// (including `"unknown"`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::KNOWN.into_iter().find(|k| k.as_str() == name)
    }

    /// Indonesian label for screens.
    pub fn label(self) -> &'static str {
        match self {
            AttendanceKind::CheckIn => "Masuk",
            AttendanceKind::BreakStart => "Istirahat",
            AttendanceKind::BreakEnd => "Kembali",
            AttendanceKind::CheckOut => "Pulang",
            AttendanceKind::Unknown => "Lainnya",
        }
    }
}

/// The phone's own geofence decision, carried as evidence (the server decides again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalGeofenceStatus {
    /// Inside an office zone.
    Inside,
    /// Outside every zone.
    Outside,
    /// The fix was too inaccurate to decide.
    TooInaccurate,
    /// The device had no office configuration.
    NoOffices,
}

/// What the phone decided at the moment of the check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalVerdict {
    /// The geofence outcome.
    pub geofence: LocalGeofenceStatus,
    /// The office inside which (or nearest to which) the fix lies.
    pub office_id: Option<String>,
    /// The zone inside which the fix lies.
    pub zone_id: Option<String>,
    /// Distance to the nearest office in metres, when outside.
    pub distance_m: Option<f64>,
    /// Codes of the fix checks that failed on the phone (e.g. `FIX_MOCK_LOCATION`).
    pub issue_codes: Vec<String>,
}

/// A check-in, the exact JSON a phone signs (version 2, or the legacy 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInPayload {
    /// [`CHECKIN_PAYLOAD_VERSION`], or [`LEGACY_CHECKIN_PAYLOAD_VERSION`] from an old phone.
    pub version: u32,
    /// Unique, time-ordered id (UUID v7) chosen by the phone; the server refuses a second
    /// use.
    pub checkin_id: Uuid,
    /// Who is checking in.
    pub person: PersonId,
    /// The server-assigned id of the device that carried it.
    pub device_id: String,
    /// Which attendance time this is.
    pub kind: AttendanceKind,
    /// The GPS fix.
    pub fix: GpsFix,
    /// The phone's decision.
    pub local_verdict: LocalVerdict,
    /// SHA-256 of the normalised selfie JPEG, lowercase hex.
    pub selfie_sha256: String,
    /// 64-bit perceptual hash (dHash) of the selfie, 16 lowercase hex digits.
    pub selfie_phash: String,
    /// Clocks at the moment of the check-in.
    pub time: TimeEvidence,
    /// The rotating office QR token scanned, where the office requires one.
    pub qr_token: Option<String>,
    /// The app's version, e.g. `1.4.2 (android)`.
    pub app_version: String,
}

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The payload's version is not one this build understands.
    #[error("payload version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// The version in the payload.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// The bytes are not JSON of the expected schema; names the field where known.
    #[error("invalid payload: {0}")]
    Invalid(String),
}

impl WireError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::UnsupportedVersion { .. } => "PAYLOAD_UNSUPPORTED_VERSION",
            WireError::Invalid(_) => "PAYLOAD_INVALID",
        }
    }
}

/// What is read before the schema: the version, and the attendance kind as written (so
/// a kind this build does not know is refused naming it, not read as
/// [`AttendanceKind::Unknown`]).
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<u64>,
    kind: Option<serde_json::Value>,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl CheckInPayload {
    /// The exact bytes to sign.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a check-in payload always serialises")
    }

    /// Parses and checks a payload: version first, then the exact schema, then the
    /// shape of each field (a known attendance kind, hashes, UUID version, fix ranges,
    /// QR token length). An attendance kind this build does not know is refused here
    /// (`PAYLOAD_INVALID`, naming `kind`), as it was before [`AttendanceKind::Unknown`]
    /// existed: the server never records a kind it cannot count.
    pub fn parse(bytes: &[u8]) -> Result<CheckInPayload, WireError> {
        let probe: VersionProbe = serde_json::from_slice(bytes)
            .map_err(|e| WireError::Invalid(format!("not a JSON object: {e}")))?;
        match probe.version {
            Some(v)
                if v == u64::from(CHECKIN_PAYLOAD_VERSION)
                    || v == u64::from(LEGACY_CHECKIN_PAYLOAD_VERSION) => {}
            Some(found) => {
                return Err(WireError::UnsupportedVersion {
                    found,
                    supported: CHECKIN_PAYLOAD_VERSION,
                });
            }
            None => return Err(WireError::Invalid("missing field `version`".into())),
        }
        if let Some(serde_json::Value::String(kind)) = &probe.kind
            && AttendanceKind::parse(kind).is_none()
        {
            return Err(WireError::Invalid(format!(
                "kind: unknown attendance kind {kind:?}; expected check_in, break_start, \
                 break_end or check_out"
            )));
        }
        let payload: CheckInPayload =
            serde_json::from_slice(bytes).map_err(|e| WireError::Invalid(e.to_string()))?;
        payload.check_shape()?;
        Ok(payload)
    }

    fn check_shape(&self) -> Result<(), WireError> {
        let invalid = |m: &str| Err(WireError::Invalid(m.to_string()));
        if self.checkin_id.get_version_num() != 7 {
            return invalid("checkin_id: must be a UUID v7");
        }
        if !is_lower_hex(&self.selfie_sha256, 64) {
            return invalid("selfie_sha256: must be 64 lowercase hex digits");
        }
        if !is_lower_hex(&self.selfie_phash, 16) {
            return invalid("selfie_phash: must be 16 lowercase hex digits");
        }
        if self.device_id.is_empty() || self.device_id.len() > 64 {
            return invalid("device_id: must be 1..=64 characters");
        }
        if self.app_version.len() > 64 {
            return invalid("app_version: at most 64 characters");
        }
        if self
            .qr_token
            .as_ref()
            .is_some_and(|t| t.len() > MAX_QR_TOKEN_LEN)
        {
            return invalid("qr_token: too long");
        }
        self.check_time_shape()?;
        let f = &self.fix;
        if !(f.latitude.is_finite() && (-90.0..=90.0).contains(&f.latitude)) {
            return invalid("fix.latitude: out of range");
        }
        if !(f.longitude.is_finite() && (-180.0..=180.0).contains(&f.longitude)) {
            return invalid("fix.longitude: out of range");
        }
        if !(f.accuracy_m.is_finite() && f.accuracy_m > 0.0) {
            return invalid("fix.accuracy_m: must be a positive number");
        }
        Ok(())
    }

    /// Both versions: every millisecond value in `0..=`[`MAX_TIME_MS`] (the phone's
    /// clocks and round trip are never negative). Version 2: a well-formed boot id and,
    /// with an anchor, its `device_id` and a 64-hex-digit `mac`. Version 1: an anchor
    /// without them.
    fn check_time_shape(&self) -> Result<(), WireError> {
        let invalid = |m: String| Err(WireError::Invalid(m));
        let anchor = self.time.anchor.as_ref();
        let mut values = vec![
            ("time.device_wall_ms", self.time.device_wall_ms),
            ("time.boot_elapsed_ms", self.time.boot_elapsed_ms),
        ];
        if let Some(a) = anchor {
            values.extend([
                ("time.anchor.server_time_ms", a.server_time_ms),
                ("time.anchor.boot_elapsed_ms", a.boot_elapsed_ms),
                ("time.anchor.device_wall_ms", a.device_wall_ms),
                ("time.anchor.round_trip_ms", a.round_trip_ms),
            ]);
        }
        if let Some((field, _)) = values.iter().find(|(_, v)| !(0..=MAX_TIME_MS).contains(v)) {
            return invalid(format!("{field}: must be 0..={MAX_TIME_MS}"));
        }
        if self.version == LEGACY_CHECKIN_PAYLOAD_VERSION {
            if anchor.is_some_and(|a| a.device_id.is_some() || a.mac.is_some()) {
                return invalid("time.anchor: version 1 carries no device_id or mac".into());
            }
            return Ok(());
        }
        crate::anchor::check_boot_id(&self.time.boot_id)
            .or_else(|e| invalid(format!("time.{e}")))?;
        if let Some(a) = anchor {
            if a.device_id
                .as_ref()
                .is_none_or(|d| d.is_empty() || d.len() > 64)
            {
                return invalid("time.anchor.device_id: required, 1..=64 characters".into());
            }
            if !a.mac.as_ref().is_some_and(|m| is_lower_hex(m, 64)) {
                return invalid("time.anchor.mac: required, 64 lowercase hex digits".into());
            }
            crate::anchor::check_boot_id(&a.boot_id)
                .or_else(|e| invalid(format!("time.anchor.{e}")))?;
        }
        Ok(())
    }

    /// The perceptual hash as a number.
    pub fn selfie_phash_u64(&self) -> u64 {
        u64::from_str_radix(&self.selfie_phash, 16).unwrap_or_default()
    }
}

/// Formats a perceptual hash as it travels: 16 lowercase hex digits.
pub fn phash_hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// A new time-ordered check-in id (UUID v7).
pub fn new_checkin_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::ServerTimeAnchor;
    use crate::fix::FixProvider;
    use crate::ids::PersonIdKind;

    pub(crate) fn sample_payload() -> CheckInPayload {
        CheckInPayload {
            version: CHECKIN_PAYLOAD_VERSION,
            checkin_id: new_checkin_id(),
            person: PersonId::parse(PersonIdKind::Nip, "198503122010011003").unwrap(),
            device_id: "dev-01".into(),
            kind: AttendanceKind::CheckIn,
            fix: GpsFix {
                latitude: -3.7956,
                longitude: 102.2592,
                accuracy_m: 12.0,
                fix_time_ms: 1_795_000_000_000,
                provider: FixProvider::Fused,
                is_mock: false,
            },
            local_verdict: LocalVerdict {
                geofence: LocalGeofenceStatus::Inside,
                office_id: Some("kominfo".into()),
                zone_id: Some("gedung-a".into()),
                distance_m: None,
                issue_codes: vec![],
            },
            selfie_sha256: "ab".repeat(32),
            selfie_phash: phash_hex(0x0123_4567_89ab_cdef),
            time: TimeEvidence {
                device_wall_ms: 1_795_000_000_000,
                boot_elapsed_ms: 9_000,
                boot_id: "boot".into(),
                anchor: Some(ServerTimeAnchor {
                    server_time_ms: 1_795_000_000_000,
                    boot_elapsed_ms: 8_000,
                    boot_id: "boot".into(),
                    device_wall_ms: 1_795_000_000_000,
                    round_trip_ms: 80,
                    device_id: Some("dev-01".into()),
                    mac: Some("0f".repeat(32)),
                }),
            },
            qr_token: None,
            app_version: "0.1.0 (test)".into(),
        }
    }

    #[test]
    fn round_trips_exactly() {
        let p = sample_payload();
        let bytes = p.to_bytes();
        let back = CheckInPayload::parse(&bytes).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.selfie_phash_u64(), 0x0123_4567_89ab_cdef);
    }

    #[test]
    fn attendance_kinds_round_trip_and_a_newer_kind_reads_as_unknown() {
        for kind in AttendanceKind::KNOWN {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<AttendanceKind>(&json).unwrap(), kind);
            assert_eq!(AttendanceKind::parse(kind.as_str()), Some(kind));
        }
        let newer: AttendanceKind = serde_json::from_str("\"overtime_start\"").unwrap();
        assert_eq!(newer, AttendanceKind::Unknown);
        assert!(!newer.is_known());
        assert_eq!(AttendanceKind::parse("unknown"), None);
    }

    #[test]
    fn a_payload_with_an_attendance_kind_this_build_does_not_know_is_invalid() {
        for kind in ["overtime_start", "unknown"] {
            let mut json: serde_json::Value =
                serde_json::from_slice(&sample_payload().to_bytes()).unwrap();
            json["kind"] = serde_json::Value::from(kind);
            let err = CheckInPayload::parse(&serde_json::to_vec(&json).unwrap()).unwrap_err();
            assert_eq!(err.code(), "PAYLOAD_INVALID");
            assert!(err.to_string().contains("kind:"), "{err}");
        }
    }

    #[test]
    fn unknown_versions_are_refused_clearly() {
        let mut v: serde_json::Value =
            serde_json::from_slice(&sample_payload().to_bytes()).unwrap();
        v["version"] = 3.into();
        let err = CheckInPayload::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert_eq!(
            err,
            WireError::UnsupportedVersion {
                found: 3,
                supported: 2
            }
        );
        assert_eq!(err.code(), "PAYLOAD_UNSUPPORTED_VERSION");
        v.as_object_mut().unwrap().remove("version");
        assert_eq!(
            CheckInPayload::parse(&serde_json::to_vec(&v).unwrap())
                .unwrap_err()
                .code(),
            "PAYLOAD_INVALID"
        );
    }

    #[test]
    fn unknown_fields_and_bad_shapes_are_refused_with_the_field_named() {
        let base: serde_json::Value = serde_json::from_slice(&sample_payload().to_bytes()).unwrap();
        let refuse = |edit: &dyn Fn(&mut serde_json::Value), field: &str| {
            let mut v = base.clone();
            edit(&mut v);
            let err = CheckInPayload::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
            assert!(err.to_string().contains(field), "{err} should name {field}");
        };
        refuse(&|v| v["extra"] = true.into(), "extra");
        refuse(&|v| v["selfie_sha256"] = "XYZ".into(), "selfie_sha256");
        refuse(&|v| v["selfie_phash"] = "123".into(), "selfie_phash");
        refuse(&|v| v["fix"]["latitude"] = 91.0.into(), "fix.latitude");
        refuse(&|v| v["fix"]["accuracy_m"] = 0.0.into(), "fix.accuracy_m");
        refuse(
            &|v| v["checkin_id"] = "67e55044-10b1-426f-9247-bb680e5fe0c8".into(),
            "checkin_id",
        );
        refuse(
            &|v| v["person"]["value"] = "198502302010011003".into(),
            "birth date",
        );
        refuse(&|v| v["kind"] = "lunch".into(), "lunch");
        assert!(CheckInPayload::parse(b"[1,2]").is_err());
    }

    #[test]
    fn version_2_needs_a_signed_anchor_and_version_1_cannot_carry_one() {
        let base: serde_json::Value = serde_json::from_slice(&sample_payload().to_bytes()).unwrap();
        let parse = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v = base.clone();
            edit(&mut v);
            CheckInPayload::parse(&serde_json::to_vec(&v).unwrap())
        };
        assert!(parse(&|_| {}).is_ok());
        let unsigned = |v: &mut serde_json::Value| {
            let a = v["time"]["anchor"].as_object_mut().unwrap();
            a.remove("mac");
            a.remove("device_id");
        };
        let err = parse(&unsigned).unwrap_err();
        assert!(err.to_string().contains("time.anchor"), "{err}");
        assert!(parse(&|v| v["time"]["anchor"]["mac"] = "AB".repeat(32).into()).is_err());
        assert!(parse(&|v| v["time"]["boot_id"] = "".into()).is_err());
        // Version 1: unsigned only.
        let legacy = parse(&|v| {
            unsigned(v);
            v["version"] = 1.into();
        })
        .unwrap();
        assert_eq!(legacy.version, LEGACY_CHECKIN_PAYLOAD_VERSION);
        assert!(parse(&|v| v["version"] = 1.into()).is_err());
        // No anchor at all is a shape both versions allow (the server flags it).
        assert!(parse(&|v| v["time"]["anchor"] = serde_json::Value::Null).is_ok());
    }

    #[test]
    fn out_of_range_times_are_invalid_never_a_panic() {
        let base: serde_json::Value = serde_json::from_slice(&sample_payload().to_bytes()).unwrap();
        let fields: [&[&str]; 6] = [
            &["time", "device_wall_ms"],
            &["time", "boot_elapsed_ms"],
            &["time", "anchor", "server_time_ms"],
            &["time", "anchor", "boot_elapsed_ms"],
            &["time", "anchor", "device_wall_ms"],
            &["time", "anchor", "round_trip_ms"],
        ];
        for version in [CHECKIN_PAYLOAD_VERSION, LEGACY_CHECKIN_PAYLOAD_VERSION] {
            for path in fields {
                for bad in [i64::MIN, -1, MAX_TIME_MS + 1, i64::MAX] {
                    let mut v = base.clone();
                    v["version"] = version.into();
                    if version == LEGACY_CHECKIN_PAYLOAD_VERSION {
                        let a = v["time"]["anchor"].as_object_mut().unwrap();
                        a.remove("mac");
                        a.remove("device_id");
                    }
                    let mut target = &mut v;
                    for key in path {
                        target = &mut target[*key];
                    }
                    *target = bad.into();
                    let err = CheckInPayload::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
                    assert_eq!(err.code(), "PAYLOAD_INVALID", "{path:?} = {bad}");
                    assert!(err.to_string().contains(path.last().unwrap()), "{err}");
                }
            }
        }
        // The bounds themselves are fine.
        let mut p = sample_payload();
        p.time.boot_elapsed_ms = MAX_TIME_MS;
        p.time.device_wall_ms = 0;
        assert!(CheckInPayload::parse(&p.to_bytes()).is_ok());
    }

    #[test]
    fn attendance_kinds_have_stable_names() {
        for k in [
            AttendanceKind::CheckIn,
            AttendanceKind::BreakStart,
            AttendanceKind::BreakEnd,
            AttendanceKind::CheckOut,
        ] {
            assert_eq!(AttendanceKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }
}
