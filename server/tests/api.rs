//! The HTTP API through `app(state)` with `oneshot`: enrollment, authentication,
//! config, selfies and check-ins, over a real SQLite file with real signatures and
//! real JPEG selfies.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use hadir_core::api::{CheckInStatus, DeviceConfig, MAX_BATCH};
use hadir_core::auth::new_nonce;
use hadir_core::envelope::{Envelope, SoftwareDeviceKey};
use hadir_core::ids::DeviceLabel;
use hadir_server::{ROUTES, now_ms};

fn codes(r: &hadir_core::api::CheckInResult) -> Vec<&str> {
    r.codes.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn time_health_ready_and_not_found() {
    let env = Env::new();
    let router = env.router();
    for path in ["/v1/time", "/v1/health", "/v1/ready"] {
        let r = send(&router, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    let t = send(
        &router,
        Request::get("/v1/time").body(Body::empty()).unwrap(),
    )
    .await;
    assert!((t.json()["server_time_ms"].as_i64().unwrap() - now_ms()).abs() < 5_000);
    let r = send(
        &router,
        Request::get("/v2/nothing").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn openapi_parses_and_lists_every_route() {
    let env = Env::new();
    let router = env.router();
    let r = send(
        &router,
        Request::get("/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                ROUTES.contains(&(method.to_uppercase().as_str(), path.as_str())),
                "{method} {path} documented but not routed"
            );
        }
    }
    assert_eq!(documented, ROUTES.len());
    for (method, path) in ROUTES {
        assert!(
            paths
                .get(*path)
                .and_then(|p| p.get(method.to_lowercase()))
                .is_some(),
            "{method} {path} missing from openapi.json"
        );
        // And the router really has it: anything but 404/405.
        let uri = path.replace("{sha256}", &"a".repeat(64));
        let r = send(
            &router,
            Request::builder()
                .method(*method)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            r.status != StatusCode::NOT_FOUND && r.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            r.status
        );
    }
    for name in [
        "ApiError",
        "EnrollRequest",
        "DeviceConfig",
        "CheckInBatch",
        "CheckInResult",
    ] {
        assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
    }
    assert!(
        doc["components"]["securitySchemes"]
            .get("HadirSignature")
            .is_some()
    );
}

#[tokio::test]
async fn enrollment_owner_guest_and_refusals() {
    let env = Env::new();
    let router = env.router();
    let mut phone = Phone::new();
    let a = nip(NIP_A);

    // Wrong code.
    let r = send(
        &router,
        phone.enroll_request("ABCDEFGH23", &a, imei_label()),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "ENROLL_CODE_INVALID")
    );
    // A code for another person.
    let code_b = env.code_for(&nip(NIP_B));
    let r = send(&router, phone.enroll_request(&code_b, &a, imei_label())).await;
    assert_eq!(r.code(), "ENROLL_CODE_INVALID");
    // Bad IMEI (Luhn) is refused before the code is used.
    let code = env.code_for(&a);
    let r = send(
        &router,
        phone.enroll_request(&code, &a, DeviceLabel::Imei("490154203237519".into())),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "ENROLL_BAD_REQUEST")
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("device_label")
    );
    // Good (same code still valid), written in lower case with a dash.
    let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
    let r = send(&router, phone.enroll_request(&typed, &a, imei_label())).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let resp = r.json();
    assert_eq!(resp["person"]["is_device_owner"], true);
    assert_eq!(resp["person"]["display_name"], "Budi");
    phone.device_id = resp["device_id"].as_str().unwrap().to_string();
    // Used code.
    let r = send(&router, phone.enroll_request(&code, &a, imei_label())).await;
    assert_eq!(r.code(), "ENROLL_CODE_INVALID");
    // Already on device.
    let again = env.code_for(&a);
    let r = send(&router, phone.enroll_request(&again, &a, imei_label())).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "ENROLL_ALREADY_ON_DEVICE")
    );
    // Second person on the same key: guest on the same device.
    let c = non_asn(NON_ASN_C);
    let code_c = env.code_for(&c);
    let r = send(
        &router,
        phone.enroll_request(&code_c, &c, DeviceLabel::PlatformId("abc123".into())),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["device_id"].as_str().unwrap(), phone.device_id);
    assert_eq!(r.json()["person"]["is_device_owner"], false);
    // Expired code.
    let expired = hadir_server::admin::new_enrollment_code();
    env.state
        .storage()
        .issue_enrollment_code(
            &nip(NIP_B),
            hadir_server::admin::code_hash(&expired),
            now_ms() - 10_000,
            now_ms() - 1,
        )
        .unwrap();
    let other = Phone::new();
    let r = send(
        &router,
        other.enroll_request(&expired, &nip(NIP_B), imei_label()),
    )
    .await;
    assert_eq!(r.code(), "ENROLL_CODE_INVALID");
    // Enrollment signed by another key than the one in the body.
    let code_b2 = env.code_for(&nip(NIP_B));
    let mut req = other.enroll_request(&code_b2, &nip(NIP_B), imei_label());
    let body = axum::body::to_bytes(std::mem::take(req.body_mut()), usize::MAX)
        .await
        .unwrap();
    let thief = SoftwareDeviceKey::generate().unwrap();
    let headers = sign_headers(
        &thief,
        "enroll",
        "POST",
        "/v1/enroll",
        &body,
        now_ms(),
        &new_nonce(),
    );
    let mut b = Request::post("/v1/enroll").header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(k, v);
    }
    let r = send(&router, b.body(Body::from(body)).unwrap()).await;
    assert_eq!(r.code(), "AUTH_BAD_SIGNATURE");
    // Bad JSON names the field.
    let r = send(
        &router,
        signed_request(
            &other.key,
            "enroll",
            "POST",
            "/v1/enroll",
            br#"{"enrollment_code":1}"#.to_vec(),
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.code(), "ENROLL_BAD_REQUEST");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("enrollment_code"),
        "{}",
        r.json()
    );
}

#[tokio::test]
async fn authentication_failures() {
    let env = Env::new();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;

    // Missing headers.
    let r = send(
        &router,
        Request::get("/v1/config").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "AUTH_MISSING")
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("hadir-device")
    );
    // Unknown device.
    let r = send(
        &router,
        signed_request(
            &phone.key,
            "dev-nope",
            "GET",
            "/v1/config",
            vec![],
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.code(), "AUTH_UNKNOWN_DEVICE");
    // Bad signature: another key.
    let other = SoftwareDeviceKey::generate().unwrap();
    let r = send(
        &router,
        signed_request(
            &other,
            &phone.device_id,
            "GET",
            "/v1/config",
            vec![],
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.code(), "AUTH_BAD_SIGNATURE");
    // Signed for another path.
    let headers = sign_headers(
        &phone.key,
        &phone.device_id,
        "GET",
        "/v1/time",
        b"",
        now_ms(),
        &new_nonce(),
    );
    let mut b = Request::get("/v1/config");
    for (k, v) in headers {
        b = b.header(k, v);
    }
    assert_eq!(
        send(&router, b.body(Body::empty()).unwrap()).await.code(),
        "AUTH_BAD_SIGNATURE"
    );
    // Clock window: 10 minutes behind; detail carries the server time.
    let headers = sign_headers(
        &phone.key,
        &phone.device_id,
        "GET",
        "/v1/config",
        b"",
        now_ms() - 600_000,
        &new_nonce(),
    );
    let mut b = Request::get("/v1/config");
    for (k, v) in headers {
        b = b.header(k, v);
    }
    let r = send(&router, b.body(Body::empty()).unwrap()).await;
    assert_eq!(r.code(), "AUTH_CLOCK_WINDOW");
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("server_time_ms=")
    );
    // Nonce reuse.
    let nonce = new_nonce();
    let ts = now_ms();
    for expected in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
        let headers = sign_headers(
            &phone.key,
            &phone.device_id,
            "GET",
            "/v1/config",
            b"",
            ts,
            &nonce,
        );
        let mut b = Request::get("/v1/config");
        for (k, v) in headers {
            b = b.header(k, v);
        }
        let r = send(&router, b.body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, expected);
        if expected == StatusCode::UNAUTHORIZED {
            assert_eq!(r.code(), "AUTH_NONCE_REUSED");
        }
    }
    // Malformed nonce.
    let headers = sign_headers(
        &phone.key,
        &phone.device_id,
        "GET",
        "/v1/config",
        b"",
        now_ms(),
        "XYZ",
    );
    let mut b = Request::get("/v1/config");
    for (k, v) in headers {
        b = b.header(k, v);
    }
    assert_eq!(
        send(&router, b.body(Body::empty()).unwrap()).await.code(),
        "AUTH_MISSING"
    );
    // Revoked (by the admin path, as the CLI does).
    assert!(
        env.state
            .storage()
            .revoke_device(&phone.device_id, now_ms())
            .unwrap()
    );
    let r = phone.call(&router, "GET", "/v1/config", vec![]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "AUTH_DEVICE_REVOKED")
    );
}

#[tokio::test]
async fn config_with_etag() {
    let env = Env::new();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let r = phone.call(&router, "GET", "/v1/config", vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    let etag = r.headers["etag"].to_str().unwrap().to_string();
    let config: DeviceConfig = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(config.offices.len(), 1);
    assert_eq!(config.offices[0].id, OFFICE);
    assert_eq!(config.people.len(), 1);
    assert!(config.people[0].is_device_owner);

    let mut req = phone.request("GET", "/v1/config", vec![], "application/json");
    req.headers_mut()
        .insert("if-none-match", etag.parse().unwrap());
    let r = send(&router, req).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());

    // A guest joins: the config changes, so does the tag.
    let b = nip(NIP_B);
    let code = env.code_for(&b);
    send(&router, phone.enroll_request(&code, &b, imei_label())).await;
    let mut req = phone.request("GET", "/v1/config", vec![], "application/json");
    req.headers_mut()
        .insert("if-none-match", etag.parse().unwrap());
    let r = send(&router, req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(r.headers["etag"].to_str().unwrap(), etag);
    assert_eq!(r.json()["people"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn selfie_upload() {
    let env = Env::new();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let s = selfie(1, 1);

    // Mismatch.
    let wrong = format!("/v1/selfies/{}", "0".repeat(64));
    let r = send(
        &router,
        phone.request("PUT", &wrong, s.jpeg.clone(), "image/jpeg"),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "SELFIE_HASH_MISMATCH")
    );
    // Not a JPEG.
    let junk = b"this is not a jpeg at all".to_vec();
    let path = format!("/v1/selfies/{}", hadir_core::photo::sha256_hex(&junk));
    let r = send(&router, phone.request("PUT", &path, junk, "image/jpeg")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "SELFIE_INVALID")
    );
    // A raw camera JPEG (not normalised) is refused too.
    let raw = camera_jpeg(2, 2);
    let path = format!("/v1/selfies/{}", hadir_core::photo::sha256_hex(&raw));
    let r = send(&router, phone.request("PUT", &path, raw, "image/jpeg")).await;
    assert_eq!(r.code(), "SELFIE_INVALID");
    // Good, then twice.
    let r = phone.upload(&router, &s).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["created"], true);
    let r = phone.upload(&router, &s).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["created"], false);
    let stored = env.state.selfies().get(&s.sha256_hex()).unwrap().unwrap();
    assert_eq!(stored, s.jpeg);
    let meta = env
        .state
        .storage()
        .selfie(&s.sha256_hex())
        .unwrap()
        .unwrap();
    assert_eq!(meta.phash, s.perceptual_hash);
    // Bad path.
    let r = send(
        &router,
        phone.request("PUT", "/v1/selfies/xyz", s.jpeg.clone(), "image/jpeg"),
    )
    .await;
    assert_eq!(r.code(), "SELFIE_BAD_HASH");
    // Too large: 413 without reading it all.
    let big = vec![0u8; 2 * 1024 * 1024 + 1];
    let path = format!("/v1/selfies/{}", hadir_core::photo::sha256_hex(&big));
    let r = send(&router, phone.request("PUT", &path, big, "image/jpeg")).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE")
    );
}

#[tokio::test]
async fn checkins_decisions() {
    let env = Env::new();
    let router = env.router();
    let mut phone = Phone::new();
    let a = nip(NIP_A);
    phone.enroll(&env, &router, &a).await;
    let s1 = selfie(10, 1);
    let s2 = selfie(20, 1);
    let s3 = selfie(30, 1);
    let s4 = selfie(40, 1);
    for s in [&s1, &s2, &s3, &s4] {
        assert!(phone.upload(&router, s).await.status.is_success());
    }

    // Inside → accepted.
    let inside = payload(&phone.device_id, &a, north_of_center(20.0), &s1);
    let inside_env = phone.envelope(&inside);
    // Outside (600 m) → rejected with the distance.
    let outside = payload(&phone.device_id, &a, north_of_center(600.0), &s2);
    // Mock → rejected.
    let mut mock = payload(&phone.device_id, &a, north_of_center(10.0), &s3);
    mock.fix.is_mock = true;
    // Edited after signing → refused.
    let edited_src = payload(&phone.device_id, &a, north_of_center(10.0), &s4);
    let mut edited = phone.envelope(&edited_src);
    let mut v: serde_json::Value = serde_json::from_slice(&edited.payload).unwrap();
    v["fix"]["is_mock"] = true.into();
    edited.payload = serde_json::to_vec(&v).unwrap();
    let results = phone
        .submit(
            &router,
            vec![
                inside_env.clone(),
                phone.envelope(&outside),
                phone.envelope(&mock),
                edited,
            ],
        )
        .await;
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0].status,
        CheckInStatus::Accepted,
        "{:?}",
        results[0]
    );
    assert_eq!(results[0].office_id.as_deref(), Some(OFFICE));
    assert_eq!(results[0].time_source.as_deref(), Some("anchored"));
    assert!((results[0].trusted_time_ms.unwrap() - now_ms()).abs() < 10_000);
    assert_eq!(results[1].status, CheckInStatus::Rejected);
    // (Also flagged: 600 m from the accepted fix in the same second.)
    assert_eq!(
        codes(&results[1]),
        ["GEOFENCE_OUTSIDE", "FIX_IMPOSSIBLE_TRAVEL"]
    );
    let d = results[1].distance_m.unwrap();
    assert!((500.0..540.0).contains(&d), "distance {d}");
    assert!(
        results[1].message.contains("m dari Dinas Kominfo"),
        "{}",
        results[1].message
    );
    assert_eq!(results[2].status, CheckInStatus::Rejected);
    assert!(codes(&results[2]).contains(&"FIX_MOCK_LOCATION"));
    assert_eq!(results[3].status, CheckInStatus::Rejected);
    assert_eq!(codes(&results[3]), ["ENVELOPE_BAD_SIGNATURE"]);
    assert_eq!(results[3].checkin_id, edited_src.checkin_id.to_string());

    // Identical retry → the same result; nothing new stored.
    let count = env.state.storage().checkin_count().unwrap();
    let again = phone.submit(&router, vec![inside_env.clone()]).await;
    assert_eq!(again[0], results[0]);
    assert_eq!(env.state.storage().checkin_count().unwrap(), count);
    // Re-signed identical payload → also the stored result.
    let again = phone.submit(&router, vec![phone.envelope(&inside)]).await;
    assert_eq!(again[0], results[0]);
    // Same id, different payload → CHECKIN_ID_REUSED.
    let mut reused = inside.clone();
    reused.fix.latitude += 0.0001;
    let r = phone.submit(&router, vec![phone.envelope(&reused)]).await;
    assert_eq!(r[0].status, CheckInStatus::Rejected);
    assert_eq!(codes(&r[0]), ["CHECKIN_ID_REUSED"]);
    let stored = env
        .state
        .storage()
        .checkin(&inside.checkin_id.to_string())
        .unwrap()
        .unwrap();
    assert_eq!(stored.result, results[0]);
    assert_eq!(stored.device_id, phone.device_id);
}

#[tokio::test]
async fn device_mismatch_person_not_on_device_and_payload_version() {
    let env = Env::new();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let other = Phone::enrolled(&env, &router, &nip(NIP_B)).await;
    let s = selfie(5, 5);
    phone.upload(&router, &s).await;
    // Signed by `other` but naming `phone`'s device: DEVICE_MISMATCH.
    let p = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
    let r = other.submit(&router, vec![other.envelope(&p)]).await;
    assert_eq!(codes(&r[0]), ["DEVICE_MISMATCH"]);
    // Captured from `phone`, replayed through `other`: not signed by other's key.
    let r = other.submit(&router, vec![phone.envelope(&p)]).await;
    assert_eq!(codes(&r[0]), ["ENVELOPE_UNKNOWN_KEY"]);
    // Person not on this device.
    let p = payload(&phone.device_id, &nip(NIP_B), north_of_center(0.0), &s);
    let r = phone.submit(&router, vec![phone.envelope(&p)]).await;
    assert_eq!(codes(&r[0]), ["PERSON_NOT_ON_DEVICE"]);
    // Unknown payload version; malformed envelope; wrong payload type.
    let p = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
    let e2 = phone.envelope_edited(&p, |v| v["version"] = 3.into());
    let e3 = Envelope::sign("application/other", b"{}".to_vec(), &phone.key).unwrap();
    let mut body = serde_json::to_value(hadir_core::api::CheckInBatch {
        envelopes: vec![e2, e3],
    })
    .unwrap();
    body["envelopes"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"payload": "***"}));
    let r = phone
        .call(
            &router,
            "POST",
            "/v1/checkins",
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let res = r.json();
    let code = |i: usize| res["results"][i]["codes"][0].as_str().unwrap().to_string();
    assert_eq!(code(0), "PAYLOAD_UNSUPPORTED_VERSION");
    assert_eq!(code(1), "ENVELOPE_WRONG_TYPE");
    assert_eq!(code(2), "ENVELOPE_MALFORMED");
    assert_eq!(res["results"][2]["checkin_id"], "");
}

#[tokio::test]
async fn flags_shared_device_skew_near_duplicate_reuse_and_missing_selfie() {
    let env = Env::new();
    let router = env.router();
    let mut phone = Phone::new();
    let a = nip(NIP_A);
    let c = non_asn(NON_ASN_C);
    phone.enroll(&env, &router, &a).await;
    let code = env.code_for(&c);
    assert_eq!(
        send(&router, phone.enroll_request(&code, &c, imei_label()))
            .await
            .status,
        StatusCode::OK
    );

    // Selfie missing → retry_later, not stored; after the upload the same envelope is
    // decided.
    let s1 = selfie(100, 1);
    let p = payload(&phone.device_id, &a, north_of_center(0.0), &s1);
    let e = phone.envelope(&p);
    let r = phone.submit(&router, vec![e.clone()]).await;
    assert_eq!(r[0].status, CheckInStatus::RetryLater);
    assert_eq!(codes(&r[0]), ["SELFIE_MISSING"]);
    assert!(
        env.state
            .storage()
            .checkin(&p.checkin_id.to_string())
            .unwrap()
            .is_none()
    );
    phone.upload(&router, &s1).await;
    let r = phone.submit(&router, vec![e]).await;
    assert_eq!(r[0].status, CheckInStatus::Accepted, "{:?}", r[0]);

    // Near-duplicate: same picture, other noise → another SHA-256, close phash.
    let s1b = selfie(100, 2);
    assert_ne!(s1b.sha256, s1.sha256);
    assert!(hadir_core::photo::hamming_distance(s1.perceptual_hash, s1b.perceptual_hash) <= 10);
    phone.upload(&router, &s1b).await;
    let r = phone
        .submit(
            &router,
            vec![phone.envelope(&payload(&phone.device_id, &a, north_of_center(5.0), &s1b))],
        )
        .await;
    assert_eq!(r[0].status, CheckInStatus::AcceptedWithFlags);
    assert_eq!(codes(&r[0]), ["SELFIE_NEAR_DUPLICATE"]);

    // Exact reuse of a selfie: flagged SELFIE_REUSED.
    let r = phone
        .submit(
            &router,
            vec![phone.envelope(&payload(&phone.device_id, &a, north_of_center(5.0), &s1))],
        )
        .await;
    assert!(codes(&r[0]).contains(&"SELFIE_REUSED"), "{:?}", r[0]);

    // Guest on a shared device, with a clock two hours behind: trusted time still right.
    let s2 = selfie(200, 1);
    phone.upload(&router, &s2).await;
    let mut p = payload(&phone.device_id, &c, north_of_center(0.0), &s2);
    p.time = time_now(-2 * 3_600_000);
    let r = phone.submit(&router, vec![phone.envelope(&p)]).await;
    assert_eq!(r[0].status, CheckInStatus::AcceptedWithFlags, "{:?}", r[0]);
    assert_eq!(codes(&r[0]), ["SHARED_DEVICE", "TIME_SKEW"]);
    assert!((r[0].trusted_time_ms.unwrap() - now_ms()).abs() < 10_000);
    let skew = r[0].device_skew_ms.unwrap();
    assert!((skew + 2 * 3_600_000).abs() < 1_000, "skew {skew}");

    // Phone's claimed phash differs from the server's.
    let s3 = selfie(300, 1);
    phone.upload(&router, &s3).await;
    let mut p = payload(&phone.device_id, &c, north_of_center(0.0), &s3);
    p.selfie_phash = hadir_core::wire::phash_hex(!s3.perceptual_hash);
    let r = phone.submit(&router, vec![phone.envelope(&p)]).await;
    assert!(
        codes(&r[0]).contains(&"SELFIE_PHASH_MISMATCH"),
        "{:?}",
        r[0]
    );
}

#[tokio::test]
async fn impossible_travel_is_a_flag() {
    let env = Env::new();
    let s = env.state.storage().as_ref();
    // A second office ~50 km away that Budi also belongs to.
    hadir_server::admin::add_office(
        s,
        hadir_server::admin::circle_office(
            "kantor-jauh",
            "Kantor Jauh",
            420,
            hadir_core::geofence::LatLon::new(CENTER.latitude + 0.45, CENTER.longitude),
            80.0,
            50.0,
        ),
    )
    .unwrap();
    hadir_server::admin::add_person(
        s,
        hadir_server::storage::PersonRecord {
            id: nip(NIP_A),
            display_name: "Budi".into(),
            office_ids: vec![OFFICE.into(), "kantor-jauh".into()],
            supervisor: None,
        },
    )
    .unwrap();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let s1 = selfie(7, 1);
    let s2 = selfie(8, 1);
    phone.upload(&router, &s1).await;
    phone.upload(&router, &s2).await;
    let p1 = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s1);
    let mut p2 = payload(
        &phone.device_id,
        &nip(NIP_A),
        (CENTER.latitude + 0.45, CENTER.longitude),
        &s2,
    );
    p2.fix.fix_time_ms = p1.fix.fix_time_ms + 60_000;
    p2.time.boot_elapsed_ms += 60_000;
    p2.time.device_wall_ms += 60_000;
    let r = phone
        .submit(&router, vec![phone.envelope(&p1), phone.envelope(&p2)])
        .await;
    assert_eq!(r[0].status, CheckInStatus::Accepted, "{:?}", r[0]);
    // 50 km in a minute: flagged for a human, still attendance.
    assert!(
        codes(&r[1]).contains(&"FIX_IMPOSSIBLE_TRAVEL"),
        "{:?}",
        r[1]
    );
    assert_eq!(r[1].status, CheckInStatus::AcceptedWithFlags);
    assert_eq!(r[1].office_id.as_deref(), Some("kantor-jauh"));
}

#[tokio::test]
async fn the_office_accuracy_limit_applies_over_the_policy() {
    // Budi belongs to Kominfo (50 m) and a field office accepting 100 m; the policy
    // says 50 m. A 70 m fix at the field office is held to that office's 100 m (the
    // rule the phone predicts with: hadir_core::fix::accuracy_limit_m).
    let env = Env::new();
    let s = env.state.storage().as_ref();
    let field = hadir_core::geofence::LatLon::new(CENTER.latitude + 0.05, CENTER.longitude);
    hadir_server::admin::add_office(
        s,
        hadir_server::admin::circle_office("lapangan", "UPT Lapangan", 420, field, 150.0, 100.0),
    )
    .unwrap();
    hadir_server::admin::add_person(
        s,
        hadir_server::storage::PersonRecord {
            id: nip(NIP_A),
            display_name: "Budi".into(),
            office_ids: vec![OFFICE.into(), "lapangan".into()],
            supervisor: None,
        },
    )
    .unwrap();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let shot = selfie(9, 1);
    phone.upload(&router, &shot).await;
    let mut p = payload(
        &phone.device_id,
        &nip(NIP_A),
        (field.latitude, field.longitude),
        &shot,
    );
    p.fix.accuracy_m = 70.0;
    let r = phone.submit(&router, vec![phone.envelope(&p)]).await;
    assert_eq!(r[0].status, CheckInStatus::Accepted, "{:?}", r[0]);
    assert_eq!(r[0].office_id.as_deref(), Some("lapangan"));
}

#[tokio::test]
async fn bad_input_batch_limits_json_and_unknown_fields() {
    let env = Env::new();
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let s = selfie(9, 9);
    phone.upload(&router, &s).await;
    let p = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
    let e = phone.envelope(&p);

    // Too many envelopes.
    let r = phone.post(&router, vec![e.clone(); MAX_BATCH + 1]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "BATCH_TOO_LARGE")
    );
    // Body over 1 MiB.
    let big = format!(r#"{{"envelopes":[],"pad":"{}"}}"#, "x".repeat(1024 * 1024));
    let r = phone
        .call(&router, "POST", "/v1/checkins", big.into_bytes())
        .await;
    assert_eq!(r.code(), "BODY_TOO_LARGE");
    // Bad JSON names the field.
    let r = phone
        .call(
            &router,
            "POST",
            "/v1/checkins",
            br#"{"envelopes": 5}"#.to_vec(),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "BAD_JSON")
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("envelopes"),
        "{}",
        r.json()
    );
    let r = phone
        .call(
            &router,
            "POST",
            "/v1/checkins",
            b"{\"envelopes\": [".to_vec(),
        )
        .await;
    assert_eq!(r.code(), "BAD_JSON");
    assert!(
        r.json()["detail"].as_str().unwrap().contains("column"),
        "{}",
        r.json()
    );
    // Unknown fields in the HTTP body are ignored.
    let mut body =
        serde_json::to_value(hadir_core::api::CheckInBatch { envelopes: vec![e] }).unwrap();
    body["client_hint"] = "future".into();
    body["envelopes"][0]["x-extra"] = 1.into();
    let r = phone
        .call(
            &router,
            "POST",
            "/v1/checkins",
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["results"][0]["status"], "accepted", "{}", r.json());
    // ...but unknown fields in the signed payload are not.
    let p = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
    let e = phone.envelope_edited(&p, |v| v["extra"] = true.into());
    let r = phone.submit(&router, vec![e]).await;
    assert_eq!(codes(&r[0]), ["PAYLOAD_INVALID"]);
}

#[tokio::test]
async fn rate_limit_per_device() {
    let env = Env::with(|c| {
        c.rate_limit_per_second = 0.5;
        c.rate_limit_burst = 3;
    });
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(phone.call(&router, "GET", "/v1/config", vec![]).await);
    }
    assert!(statuses[..3].iter().all(|r| r.status == StatusCode::OK));
    let last = &statuses[4];
    assert_eq!(
        (last.status, last.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
    );
    let retry: u64 = last.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry));
    // Another device is not affected.
    let other = Phone::enrolled(&env, &router, &nip(NIP_B)).await;
    let r = other.call(&router, "GET", "/v1/config", vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn overloaded_when_writer_queue_full_is_503() {
    // The error mapping of a full write queue.
    let e = hadir_server::AppError::Storage(hadir_server::storage::StorageError::Overloaded);
    assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(e.code(), "OVERLOADED");
    assert_eq!(e.retry_after(), Some(1));
}

#[tokio::test]
async fn admin_changes_are_picked_up_by_a_running_server() {
    let env = Env::with(|c| c.directory_refresh_ms = 0);
    let router = env.router();
    let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
    // A second storage handle on the same file, as the CLI would open it.
    let cli = hadir_server::storage::sqlite::SqliteStorage::open(&env.config.db, 16).unwrap();
    assert!(
        hadir_server::storage::Storage::revoke_device(&cli, &phone.device_id, now_ms()).unwrap()
    );
    drop(cli);
    let r = phone.call(&router, "GET", "/v1/config", vec![]).await;
    assert_eq!(r.code(), "AUTH_DEVICE_REVOKED");
}
