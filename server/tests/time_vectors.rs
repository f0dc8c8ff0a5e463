//! Checks `docs/vectors/time.json` (written independently, with Python's `hmac`) against
//! the server's own step 6: the anchor MAC, [`judge_time`] and [`time_flags`].

use hadir_core::anchor::{AnchorKey, anchor_mac_input};
use hadir_core::api::Policy;
use hadir_core::clock::{BootObservation, TimeEvidence, TimeSource};
use hadir_core::wire::CheckInPayload;
use hadir_server::decision::time_flags;
use hadir_server::verify::{TimeRules, judge_time};
use hadir_test_support::{NIP_A, checkin_payload, fix_at, nip, north_of_center};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/vectors/time.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn secret(v: &Value) -> Vec<u8> {
    let hex = v["anchor_secret_hex"].as_str().unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn the_anchor_mac_example_matches() {
    let v = vectors();
    let e = &v["anchor_mac_example"];
    let (device, boot) = (
        e["device_id"].as_str().unwrap(),
        e["boot_id"].as_str().unwrap(),
    );
    let (elapsed, server) = (
        e["boot_elapsed_ms"].as_i64().unwrap(),
        e["server_time_ms"].as_i64().unwrap(),
    );
    assert_eq!(
        anchor_mac_input(device, boot, elapsed, server),
        e["mac_input"].as_str().unwrap().as_bytes()
    );
    let signed = AnchorKey::new(&secret(&v)).sign(device, boot, elapsed, server);
    assert_eq!(signed.mac, e["mac"].as_str().unwrap());
}

#[test]
fn every_time_case_gives_the_documented_verdict() {
    let v = vectors();
    let key = AnchorKey::new(&secret(&v));
    let rules = TimeRules {
        anchor_key: &key,
        v1_accepted_until_ms: i64::MAX,
    };
    let policy = Policy {
        skew_tolerance_ms: v["policy"]["skew_tolerance_ms"].as_i64().unwrap(),
        late_delivery_window_ms: v["policy"]["late_delivery_window_ms"].as_i64().unwrap(),
        ..Policy::default()
    };
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let device = c["device_id"].as_str().unwrap();
        let received = c["received_ms"].as_i64().unwrap();
        let time: TimeEvidence = serde_json::from_value(c["time"].clone()).unwrap();
        let selfie = hadir_test_support::SelfieRef {
            sha256_hex: "ab".repeat(32),
            phash: 1,
        };
        let mut payload = checkin_payload(
            device,
            &nip(NIP_A),
            fix_at(north_of_center(0.0), 10.0, received),
            selfie,
            time,
        );
        payload.version = c["payload_version"].as_u64().unwrap() as u32;
        // The vector is a payload of a valid shape for its version.
        let payload =
            CheckInPayload::parse(&payload.to_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let judged = judge_time(&payload, device, &policy, received, &rules);
        let expect = &c["expect"];
        if let Some(code) = expect["rejection"].as_str() {
            assert_eq!(judged.rejection.map(|r| r.0), Some(code), "{name}");
            continue;
        }
        assert_eq!(judged.rejection, None, "{name}");
        let record: Option<BootObservation> = c
            .get("boot_record")
            .map(|r| serde_json::from_value(r.clone()).unwrap());
        let boot = match (&record, &judged.boot_claim) {
            (Some(r), Some((_, claim))) => Some((r, claim)),
            _ => None,
        };
        let flags = time_flags(&judged.trusted, judged.unproven, boot, received, &policy);
        assert_eq!(
            judged.trusted.instant_ms,
            expect["trusted_time_ms"].as_i64().unwrap(),
            "{name}"
        );
        let source = match judged.trusted.source {
            TimeSource::Anchored => "anchored",
            TimeSource::DeviceClock => "device_clock",
            TimeSource::ServerReceipt => "server_receipt",
        };
        assert_eq!(source, expect["time_source"].as_str().unwrap(), "{name}");
        let expected_flags: Vec<&str> = expect["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(flags.flags, expected_flags, "{name}");
        assert_eq!(
            flags.delivery_delay_ms,
            expect["delivery_delay_ms"].as_i64(),
            "{name}"
        );
    }
}
