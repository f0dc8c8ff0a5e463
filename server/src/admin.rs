//! Admin operations behind the CLI (`office add`, `office schedule`, `person add`,
//! `leave add`, `enroll-code issue`, `device revoke`, `demo-setup`): enough to bootstrap
//! demos and tests. They go through
//! [`Storage`], so a running server picks the changes up through the directory version.

use hadir_core::api::LeaveInfo;
use hadir_core::attestation::normalise_enrollment_code;
use hadir_core::geofence::{LatLon, Office, Zone, ZoneShape};
use hadir_core::ids::{PersonId, PersonIdKind};
use hadir_core::schedule::OfficeSchedule;
use ring::rand::SecureRandom as _;

use crate::storage::{PersonRecord, Storage, StorageError};

/// Alphabet of enrollment codes: no 0/O, 1/I/L, so a code read aloud or typed from
/// paper is unambiguous.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in an enrollment code (31^10 ≈ 8·10^14 codes).
pub const CODE_LEN: usize = 10;

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad input (message for the admin).
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the system random source works");
    b
}

/// A fresh enrollment code (uniform over [`CODE_ALPHABET`]).
pub fn new_enrollment_code() -> String {
    let n = CODE_ALPHABET.len() as u8;
    let limit = u8::MAX - (u8::MAX % n); // rejection sampling: no modulo bias
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        for b in random_bytes::<16>() {
            if b < limit && code.len() < CODE_LEN {
                code.push(CODE_ALPHABET[(b % n) as usize] as char);
            }
        }
    }
    code
}

/// What is stored for a code: SHA-256 of the code normalised as the phone reads it
/// ([`normalise_enrollment_code`]: upper case, without spaces or dashes),
/// domain-separated.
pub fn code_hash(code: &str) -> String {
    hadir_core::photo::sha256_hex(
        format!("hadir-enroll-code-v1:{}", normalise_enrollment_code(code)).as_bytes(),
    )
}

/// A new device id: `dev-` and 20 random hex digits.
pub fn new_device_id() -> String {
    format!("dev-{}", hadir_core::envelope::hex(&random_bytes::<10>()))
}

/// Parses `kind:value` (kind `nip`, `ni_pppk` or `non_asn`; `-` for `_` is accepted) or
/// a bare value (looked up among registered people).
pub fn find_person(storage: &dyn Storage, spec: &str) -> Result<PersonId, AdminError> {
    let spec = spec.trim();
    if spec.contains(':') {
        return spec
            .parse()
            .map_err(|e: hadir_core::ids::IdError| AdminError::Invalid(e.to_string()));
    }
    let matches: Vec<PersonId> = storage
        .load_directory()?
        .people
        .into_iter()
        .map(|p| p.id)
        .filter(|id| id.value() == spec)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(AdminError::Invalid(format!(
            "no registered person with id {spec:?}; add them first with `person add`"
        ))),
        _ => Err(AdminError::Invalid(format!(
            "{spec:?} is ambiguous; write kind:value (nip:, ni_pppk:, non_asn:)"
        ))),
    }
}

/// Issues a single-use code valid for `valid_hours`; returns the code (stored hashed).
pub fn issue_code(
    storage: &dyn Storage,
    person: &PersonId,
    valid_hours: u32,
) -> Result<String, AdminError> {
    let code = new_enrollment_code();
    let now = storage.clock().now_ms();
    storage.issue_enrollment_code(
        person,
        code_hash(&code),
        now,
        now + i64::from(valid_hours) * 3_600_000,
    )?;
    Ok(code)
}

/// Zones from a GeoJSON file: a Polygon or MultiPolygon geometry, a Feature, or a
/// FeatureCollection of them. Each polygon is one zone (`zone-1`, `zone-2`, ... or the
/// feature's `properties.id` / `properties.name`).
pub fn zones_from_geojson(text: &str) -> Result<Vec<Zone>, AdminError> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| AdminError::Invalid(format!("GeoJSON: {e}")))?;
    let mut zones = Vec::new();
    collect_zones(&v, None, &mut zones)?;
    if zones.is_empty() {
        return Err(AdminError::Invalid("GeoJSON holds no Polygon".into()));
    }
    Ok(zones)
}

fn collect_zones(
    v: &serde_json::Value,
    props: Option<&serde_json::Value>,
    out: &mut Vec<Zone>,
) -> Result<(), AdminError> {
    let rings = |c: &serde_json::Value| -> Result<Vec<Vec<[f64; 2]>>, AdminError> {
        serde_json::from_value::<Vec<Vec<Vec<f64>>>>(c.clone())
            .map_err(|e| AdminError::Invalid(format!("polygon coordinates: {e}")))?
            .into_iter()
            .map(|ring| {
                ring.into_iter()
                    .map(|p| match p.as_slice() {
                        [lon, lat, ..] => Ok([*lon, *lat]),
                        _ => Err(AdminError::Invalid("a position needs [lon, lat]".into())),
                    })
                    .collect()
            })
            .collect()
    };
    let mut push = |r: Vec<Vec<[f64; 2]>>| {
        let n = out.len() + 1;
        let text = |k: &str| props.and_then(|p| p.get(k)).and_then(|x| x.as_str());
        out.push(Zone {
            id: text("id").map_or_else(|| format!("zone-{n}"), str::to_string),
            name: text("name").map_or_else(|| format!("Zona {n}"), str::to_string),
            shape: ZoneShape::Polygon { rings: r },
        });
    };
    match v.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => {
            for f in v
                .get("features")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
            {
                collect_zones(f, None, out)?;
            }
        }
        Some("Feature") => {
            if let Some(g) = v.get("geometry") {
                collect_zones(g, v.get("properties"), out)?;
            }
        }
        Some("Polygon") => push(rings(&v["coordinates"])?),
        Some("MultiPolygon") => {
            for poly in v["coordinates"].as_array().into_iter().flatten() {
                push(rings(poly)?);
            }
        }
        other => {
            return Err(AdminError::Invalid(format!(
                "unsupported GeoJSON type {other:?}"
            )));
        }
    }
    Ok(())
}

/// An office with one circular zone.
pub fn circle_office(
    id: &str,
    name: &str,
    utc_offset_minutes: i32,
    center: LatLon,
    radius_m: f64,
    max_accuracy_m: f64,
) -> Office {
    Office {
        id: id.to_string(),
        name: name.to_string(),
        utc_offset_minutes,
        zones: vec![Zone {
            id: "utama".into(),
            name: "Area kantor".into(),
            shape: ZoneShape::Circle { center, radius_m },
        }],
        max_accuracy_m,
        qr_required: false,
    }
}

/// The UTC offsets of Indonesia's time zones, minutes: WIB, WITA, WIT.
pub const INDONESIAN_UTC_OFFSETS: [i32; 3] = [420, 480, 540];

/// Validates and stores an office (its UTC offset must be WIB 420, WITA 480 or WIT 540).
pub fn add_office(storage: &dyn Storage, office: Office) -> Result<(), AdminError> {
    if !INDONESIAN_UTC_OFFSETS.contains(&office.utc_offset_minutes) {
        return Err(AdminError::Invalid(format!(
            "utc offset {} minutes is not an Indonesian time zone: 420 (WIB), 480 (WITA) or \
             540 (WIT)",
            office.utc_offset_minutes
        )));
    }
    office
        .validate()
        .map_err(|e| AdminError::Invalid(format!("{}: {}", e.code(), e)))?;
    let id = office.id.clone();
    storage.upsert_office(office)?;
    // Every office gets its QR secret when it is made, so a kiosk can be enrolled and
    // `qr_required` turned on at any time.
    storage.ensure_qr_secret(&id)?;
    Ok(())
}

/// Validates and stores a person.
pub fn add_person(storage: &dyn Storage, person: PersonRecord) -> Result<(), AdminError> {
    if person.display_name.trim().is_empty() {
        return Err(AdminError::Invalid("the name is empty".into()));
    }
    storage.upsert_person(person).map_err(|e| match e {
        StorageError::Invalid(m) => AdminError::Invalid(m),
        e => AdminError::Storage(e),
    })
}

/// Validates and stores an office's schedule.
pub fn set_schedule(
    storage: &dyn Storage,
    office_id: &str,
    schedule: OfficeSchedule,
) -> Result<(), AdminError> {
    schedule
        .validate()
        .map_err(|e| AdminError::Invalid(format!("{}: {e}", e.code())))?;
    storage
        .set_schedule(office_id, schedule)
        .map_err(|e| match e {
            StorageError::Invalid(m) => AdminError::Invalid(m),
            e => AdminError::Storage(e),
        })
}

/// Parses a schedule file (JSON, see `docs/PROTOCOL.md`), naming the field at fault.
/// Stricter than the wire (where unknown fields are ignored for compatibility): a key
/// the schedule does not know is refused, so a typo (`"Mon"`, `"tolerance"`) cannot
/// silently turn a working day into a day off.
pub fn schedule_from_json(text: &str) -> Result<OfficeSchedule, AdminError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let schedule: OfficeSchedule = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| AdminError::Invalid(format!("schedule {}: {}", e.path(), e.inner())))?;
    let given: serde_json::Value =
        serde_json::from_str(text).map_err(|e| AdminError::Invalid(format!("schedule: {e}")))?;
    let understood = serde_json::to_value(&schedule).expect("a schedule serialises");
    if let Some(path) = unknown_key(&given, &understood, String::new()) {
        return Err(AdminError::Invalid(format!(
            "schedule: unknown key {path} (days are mon … sun; see docs/PROTOCOL.md)"
        )));
    }
    schedule
        .validate()
        .map_err(|e| AdminError::Invalid(format!("{}: {e}", e.code())))?;
    Ok(schedule)
}

/// The path of the first object key in `given` that `understood` (the same document
/// read and written back) lacks.
fn unknown_key(
    given: &serde_json::Value,
    understood: &serde_json::Value,
    path: String,
) -> Option<String> {
    use serde_json::Value;
    match (given, understood) {
        (Value::Object(g), Value::Object(u)) => g.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match u.get(k) {
                None => Some(here),
                Some(uv) => unknown_key(v, uv, here),
            }
        }),
        (Value::Array(g), Value::Array(u)) => g
            .iter()
            .zip(u)
            .enumerate()
            .find_map(|(i, (gv, uv))| unknown_key(gv, uv, format!("{path}[{i}]"))),
        _ => None,
    }
}

/// Records approved leave (the first day must not be after the last). A kind this
/// build does not know ([`hadir_core::api::LeaveKind::Unknown`], which phones read
/// from a newer server) is refused (`LEAVE_KIND_UNKNOWN`): the server never records
/// leave it cannot name.
pub fn add_leave(
    storage: &dyn Storage,
    person: &PersonId,
    leave: LeaveInfo,
) -> Result<(), AdminError> {
    if leave.kind == hadir_core::api::LeaveKind::Unknown {
        return Err(AdminError::Invalid(
            "LEAVE_KIND_UNKNOWN: the kind of leave must be cuti, sakit, dinas_luar or izin".into(),
        ));
    }
    if leave.to < leave.from {
        return Err(AdminError::Invalid(
            "the leave ends before it starts".into(),
        ));
    }
    storage.add_leave(person, leave).map_err(|e| match e {
        StorageError::Invalid(m) => AdminError::Invalid(m),
        e => AdminError::Storage(e),
    })
}

/// Id of the demo office.
pub const DEMO_OFFICE_ID: &str = "demo-kominfo-bengkulu";
/// Centre of the demo office: Jl. Pembangunan, Padang Harapan, Kota Bengkulu (the
/// provincial government quarter), WIB.
pub const DEMO_CENTER: LatLon = LatLon {
    latitude: -3.7956,
    longitude: 102.2592,
};
/// Radius of the demo office's circle, metres.
pub const DEMO_RADIUS_M: f64 = 100.0;
/// NIP of the demo person (born 1985-03-12, TMT CPNS 2010-01, male, serial 003).
pub const DEMO_NIP: &str = "198503122010011003";

/// NIP of the demo person's supervisor (born 1978-03-21, TMT CPNS 2005-01, female,
/// serial 002).
pub const DEMO_SUPERVISOR_NIP: &str = "197803212005012002";

/// Creates (or refreshes) the demo office, the demo person and their supervisor, and
/// issues a code for the demo person (the supervisor's is issued with `enroll-code`).
pub fn demo_setup(storage: &dyn Storage) -> Result<(Office, PersonRecord, String), AdminError> {
    let office = circle_office(
        DEMO_OFFICE_ID,
        "Dinas Kominfo Provinsi Bengkulu (demo)",
        420,
        DEMO_CENTER,
        DEMO_RADIUS_M,
        hadir_core::geofence::DEFAULT_MAX_ACCURACY_M,
    );
    add_office(storage, office.clone())?;
    let supervisor = PersonRecord {
        id: PersonId::parse(PersonIdKind::Nip, DEMO_SUPERVISOR_NIP)
            .expect("the demo supervisor's NIP is valid"),
        display_name: "Siti Rahmawati (demo)".into(),
        office_ids: vec![DEMO_OFFICE_ID.into()],
        supervisor: None,
    };
    add_person(storage, supervisor.clone())?;
    let person = PersonRecord {
        id: PersonId::parse(PersonIdKind::Nip, DEMO_NIP).expect("the demo NIP is valid"),
        display_name: "Budi Santoso (demo)".into(),
        office_ids: vec![DEMO_OFFICE_ID.into()],
        supervisor: Some(supervisor.id),
    };
    add_person(storage, person.clone())?;
    let code = issue_code(storage, &person.id, 72)?;
    Ok((office, person, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous_and_normalised() {
        for _ in 0..100 {
            let c = new_enrollment_code();
            assert_eq!(c.len(), CODE_LEN);
            assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{c}");
        }
        assert_eq!(code_hash("abcd-efgh 23"), code_hash("ABCDEFGH23"));
        assert_ne!(code_hash("ABCDEFGH23"), code_hash("ABCDEFGH24"));
    }

    #[test]
    fn schedule_files_with_typos_are_refused() {
        let ok = r#"{"week": {"mon": [{"kind": "check_in", "at": "07:45"},
            {"kind": "check_out", "at": "16:00"}]}, "tolerance_minutes": 5}"#;
        assert_eq!(schedule_from_json(ok).unwrap().tolerance_minutes, 5);
        for (text, expect) in [
            (
                r#"{"week": {"Mon": [{"kind": "check_in", "at": "07:45"}]}}"#,
                "week.Mon",
            ),
            (
                r#"{"week": {"mon": [{"kind": "check_in", "at": "07:45"}]}, "tolerance": 5}"#,
                "tolerance",
            ),
            (
                r#"{"week": {"mon": [{"kind": "check_in", "at": "07:45", "note": "x"}]}}"#,
                "week.mon[0].note",
            ),
            (r#"{"week": {}}"#, "SCHEDULE_NO_WORKING_DAY"),
            (
                r#"{"week": {"mon": [{"kind": "lunch", "at": "12:00"}]}}"#,
                "SCHEDULE_UNKNOWN_KIND",
            ),
            (
                r#"{"week": {"mon": [{"kind": "check_in", "at": "7:45"}]}}"#,
                "HH:MM",
            ),
        ] {
            let err = schedule_from_json(text).unwrap_err().to_string();
            assert!(err.contains(expect), "{text}: {err}");
        }
    }

    #[test]
    fn leave_of_a_kind_this_build_does_not_know_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let storage =
            crate::storage::sqlite::SqliteStorage::open(&dir.path().join("s.db"), 4).unwrap();
        let person: PersonId = "nip:198503122010011003".parse().unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let leave = |kind| LeaveInfo {
            kind,
            from: day,
            to: day,
            note: String::new(),
        };
        let err = add_leave(
            &storage,
            &person,
            leave(hadir_core::api::LeaveKind::Unknown),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("LEAVE_KIND_UNKNOWN"), "{err}");
        // A known kind gets past that check (and is refused only for the unknown person).
        let known = add_leave(&storage, &person, leave(hadir_core::api::LeaveKind::Cuti))
            .unwrap_err()
            .to_string();
        assert!(!known.contains("LEAVE_KIND_UNKNOWN"), "{known}");
    }

    #[test]
    fn geojson_polygons_become_zones() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
            "properties":{"id":"gedung-a","name":"Gedung A"},
            "geometry":{"type":"Polygon","coordinates":[[[102.259,-3.795],[102.260,-3.795],
            [102.260,-3.796],[102.259,-3.796],[102.259,-3.795]]]}}]}"#;
        let zones = zones_from_geojson(text).unwrap();
        assert_eq!(zones.len(), 1);
        assert_eq!(zones[0].id, "gedung-a");
        zones[0].validate().unwrap();
        assert!(zones_from_geojson(r#"{"type":"Point","coordinates":[1,2]}"#).is_err());
    }
}
