//! Checks `docs/vectors/qr.json` (written by an independent Python `hmac` run): each
//! office secret, office id and instant gives the published token, and each published
//! check gives the published verdict.

use hadir_core::qr::{mac_input, token_at, verify_token, window_of};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/vectors/qr.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/vectors/qr.json"))
        .expect("valid JSON")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn every_published_token_is_reproduced() {
    let v = vectors();
    let tokens = v["tokens"].as_array().expect("tokens");
    assert!(tokens.len() >= 5);
    for t in tokens {
        let secret = unhex(text(t, "secret_hex"));
        let office = text(t, "office_id");
        let ms = t["unix_ms"].as_i64().expect("unix_ms");
        assert_eq!(window_of(ms), t["window"].as_i64().unwrap(), "{t}");
        assert_eq!(
            mac_input(office, window_of(ms)),
            text(t, "mac_input").as_bytes(),
            "{t}"
        );
        assert_eq!(token_at(&secret, office, ms), text(t, "token"), "{t}");
    }
}

#[test]
fn every_published_check_gives_its_verdict() {
    let v = vectors();
    let checks = v["checks"].as_array().expect("checks");
    let mut seen = std::collections::BTreeSet::new();
    for c in checks {
        let secret = unhex(text(c, "secret_hex"));
        let got = verify_token(
            &secret,
            text(c, "office_id"),
            text(c, "token"),
            c["trusted_ms"].as_i64().expect("trusted_ms"),
        )
        .map_or_else(|e| e.code(), |()| "OK");
        assert_eq!(got, text(c, "result"), "{c}");
        seen.insert(got);
    }
    for code in ["OK", "QR_EXPIRED", "QR_WRONG_OFFICE", "QR_INVALID"] {
        assert!(seen.contains(code), "no vector for {code}");
    }
}
