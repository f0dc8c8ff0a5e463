//! The published test vectors in `docs/vectors/` (envelope.json, dhash.json,
//! geofence.json), checked against the code the phone and the server run, so the
//! document a vendor implements from and the implementation cannot drift apart.
//! `tests/python/` checks the same files with an independent implementation.

use hadir_core::auth::RequestToSign;
use hadir_core::envelope::{
    CHECKIN_PAYLOAD_TYPE, Envelope, base64_decode, key_id, pre_authentication_encoding,
    verify_signature,
};
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::geofence::{GeofenceIndex, GeofenceRule, GeofenceVerdict, Office};
use hadir_core::photo::dhash;
use hadir_core::wire::CheckInPayload;
use serde::Deserialize;
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/../../docs/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(doc["description"].is_string(), "{name}: no description");
    assert!(
        !doc["cases"].as_array().unwrap().is_empty(),
        "{name}: no cases"
    );
    doc
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {v}"))
}

#[test]
fn envelope_vectors_verify() {
    let doc = vectors("envelope.json");
    let public_key = base64_decode(text(&doc["key"], "public_key_base64")).unwrap();
    assert_eq!(key_id(&public_key), text(&doc["key"], "keyid"));
    let mut verified = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = text(case, "name");
        let payload_type = text(case, "payload_type");
        let payload = text(case, "payload").as_bytes();
        let pae = pre_authentication_encoding(payload_type, payload);
        assert_eq!(pae, text(case, "pae").as_bytes(), "{name}: PAE");
        let signature = base64_decode(text(case, "signature_base64")).unwrap();
        let expected = case["verifies"].as_bool().unwrap();
        assert_eq!(
            verify_signature(&public_key, &pae, &signature).is_ok(),
            expected,
            "{name}: signature"
        );
        if let Some(request) = case.get("request") {
            let to_sign = RequestToSign {
                method: text(request, "method"),
                path_and_query: text(request, "path_and_query"),
                timestamp_ms: request["timestamp_ms"].as_i64().unwrap(),
                nonce: text(request, "nonce"),
                device: text(request, "device"),
                body: text(request, "body").as_bytes(),
            };
            assert_eq!(to_sign.signing_bytes(), pae, "{name}: request text");
            assert_eq!(
                to_sign
                    .verify(&public_key, text(case, "signature_base64"))
                    .is_ok(),
                expected,
                "{name}: request signature"
            );
        }
        if let Some(envelope) = case.get("envelope") {
            let envelope = Envelope::from_json(envelope.to_string().as_bytes()).unwrap();
            let result = envelope.verify(CHECKIN_PAYLOAD_TYPE, &public_key);
            assert_eq!(result.is_ok(), expected, "{name}: envelope");
            if let Ok(bytes) = result {
                assert_eq!(bytes, payload, "{name}: envelope payload");
                CheckInPayload::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            } else {
                assert_eq!(result.unwrap_err().code(), "ENVELOPE_BAD_SIGNATURE");
            }
        }
        verified += usize::from(expected);
    }
    assert!(verified >= 3);
}

#[derive(Deserialize)]
struct DhashCase {
    name: String,
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    dhash: String,
}

#[test]
fn dhash_vectors_match() {
    let doc = vectors("dhash.json");
    let cases: Vec<DhashCase> = serde_json::from_value(doc["cases"].clone()).unwrap();
    for c in cases {
        assert_eq!(c.pixels.len(), (c.width * c.height) as usize, "{}", c.name);
        assert_eq!(
            format!("{:016x}", dhash(&c.pixels, c.width, c.height)),
            c.dhash,
            "{}",
            c.name
        );
    }
}

#[derive(Deserialize)]
struct GeofenceCase {
    name: String,
    offices: Vec<Office>,
    fix: FixInput,
    expect: Expect,
}

#[derive(Deserialize)]
struct FixInput {
    latitude: f64,
    longitude: f64,
    accuracy_m: f64,
}

#[derive(Deserialize)]
struct Expect {
    verdict: String,
    office_id: Option<String>,
    distance_m: Option<f64>,
}

/// The vectors give distances to 0.1 m, as the server reports `distance_m`.
const DISTANCE_TOLERANCE_M: f64 = 0.1;

#[test]
fn geofence_vectors_match() {
    let doc = vectors("geofence.json");
    let rule = GeofenceRule {
        accuracy_grace_cap_m: doc["accuracy_grace_cap_m"].as_f64().unwrap(),
    };
    let cases: Vec<GeofenceCase> = serde_json::from_value(doc["cases"].clone()).unwrap();
    for c in cases {
        let index = GeofenceIndex::new(c.offices).unwrap();
        let fix = GpsFix {
            latitude: c.fix.latitude,
            longitude: c.fix.longitude,
            accuracy_m: c.fix.accuracy_m,
            fix_time_ms: 0,
            provider: FixProvider::Fused,
            is_mock: false,
        };
        let verdict = index.locate(&fix, &rule);
        assert_eq!(verdict.code(), c.expect.verdict, "{}: {verdict:?}", c.name);
        let (office, distance) = match &verdict {
            GeofenceVerdict::Inside {
                office_id,
                distance_outside_m,
                ..
            } => (Some(office_id), Some(*distance_outside_m)),
            GeofenceVerdict::Outside {
                nearest_office_id,
                distance_m,
                ..
            } => (Some(nearest_office_id), Some(*distance_m)),
            _ => (None, None),
        };
        assert_eq!(office, c.expect.office_id.as_ref(), "{}", c.name);
        match (distance, c.expect.distance_m) {
            (Some(got), Some(want)) => assert!(
                (got - want).abs() <= DISTANCE_TOLERANCE_M,
                "{}: distance {got}, vector {want}",
                c.name
            ),
            (None, None) => {}
            other => panic!("{}: distance {other:?}", c.name),
        }
    }
}
