//! Every refusal is an `ApiError` a phone can read (404, 405, 413, path and query
//! rejections, a bad selfie hash with a real detail), the OpenAPI says so for every
//! operation, and a `device revoke` by the CLI holds from the very next request — over
//! `app(state)` on a real SQLite file, with the real `hadir-server` binary as the CLI.

mod common;

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use hadir_core::api::ApiError;
use hadir_core::envelope::SoftwareDeviceKey;

const BIN: &str = env!("CARGO_BIN_EXE_hadir-server");

/// The body as an `ApiError`, asserting the content type says JSON.
fn api_error(r: &Reply) -> ApiError {
    let ct = r
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{}: {ct}", r.status);
    let e: ApiError = serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)));
    assert!(!e.message.is_empty(), "{e:?}");
    e
}

#[tokio::test]
async fn framework_refusals_are_api_errors() {
    let env = Env::new();
    let router = env.router();
    let unsigned = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap()
    };
    // A route that exists, with a method it does not take: 405, Allow kept.
    let r = send(&router, unsigned("DELETE", "/v1/time")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(api_error(&r).code, "METHOD_NOT_ALLOWED");
    let allow = r.headers.get(header::ALLOW).unwrap().to_str().unwrap();
    assert!(allow.contains("GET"), "{allow}");
    let r = send(&router, unsigned("GET", "/v1/checkins")).await;
    assert_eq!(
        (r.status, api_error(&r).code.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED")
    );
    // No such route, under /v1 and elsewhere.
    for uri in ["/v1/nothing", "/", "/v1/selfies"] {
        let r = send(&router, unsigned("GET", uri)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(api_error(&r).code, "NOT_FOUND");
    }
    // A path segment that is not UTF-8 once decoded: the path rejection, as an ApiError.
    let mut phone = Phone::new();
    phone.enroll(&env, &router, &nip(NIP_A)).await;
    let r = send(
        &router,
        phone.request("PUT", "/v1/selfies/%FF%FE", vec![1], "image/jpeg"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let e = api_error(&r);
    assert_eq!(e.code, "SELFIE_BAD_HASH");
    assert!(e.detail.unwrap().starts_with("path:"));
    // Unsigned, the same request is refused for what it lacks first.
    let r = send(&router, unsigned("PUT", "/v1/selfies/%FF%FE")).await;
    assert_eq!(api_error(&r).code, "AUTH_MISSING");
    // A query that does not parse.
    let r = send(
        &router,
        phone.request(
            "GET",
            "/v1/team/events?supervisor=nip:198503122010011003&after=soon",
            vec![],
            "application/json",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let e = api_error(&r);
    assert_eq!(e.code, "BAD_QUERY");
    assert!(e.detail.unwrap().contains("after"));
    // A body over the route's limit, announced by Content-Length.
    let r = send(
        &router,
        Request::post("/v1/enroll")
            .header(header::CONTENT_LENGTH, (1 << 20).to_string())
            .header("hadir-device", "enroll")
            .header("hadir-timestamp", "1")
            .header("hadir-nonce", "0".repeat(32))
            .header("hadir-signature", "x")
            .body(Body::from(vec![b' '; 1 << 20]))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api_error(&r).code, "BODY_TOO_LARGE");
}

#[tokio::test]
async fn a_bad_selfie_hash_names_what_was_sent() {
    let env = Env::new();
    let router = env.router();
    let mut phone = Phone::new();
    phone.enroll(&env, &router, &nip(NIP_A)).await;
    let upper = "AB".repeat(32);
    for bad in ["xyz", upper.as_str()] {
        let r = send(
            &router,
            phone.request(
                "PUT",
                &format!("/v1/selfies/{bad}"),
                vec![1, 2, 3],
                "image/jpeg",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let e = api_error(&r);
        assert_eq!(e.code, "SELFIE_BAD_HASH");
        let detail = e.detail.unwrap();
        assert!(!detail.contains("{sha256}"), "{detail}");
        assert!(detail.contains(&format!("\"{bad}\"")), "{detail}");
        assert!(detail.contains("64 lowercase hex"), "{detail}");
    }
}

#[tokio::test]
async fn openapi_gives_every_operation_a_default_api_error() {
    let doc: serde_json::Value = serde_json::from_str(hadir_server::OPENAPI_JSON).unwrap();
    let error_ref = "#/components/responses/Error";
    let error = &doc["components"]["responses"]["Error"];
    assert_eq!(
        error["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ApiError"
    );
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert_eq!(
                op["responses"]["default"]["$ref"], error_ref,
                "{method} {path} has no default error response"
            );
        }
    }
}

#[tokio::test]
async fn a_revocation_by_the_cli_holds_from_the_very_next_request() {
    // The directory cache would not look for admin changes for an hour: the revocation
    // must not depend on it.
    let env = Env::with(|c| c.directory_refresh_ms = 3_600_000);
    let router = env.router();
    let mut phone = Phone::new();
    phone.enroll(&env, &router, &nip(NIP_A)).await;
    let config = || phone.request("GET", "/v1/config", vec![], "application/json");
    assert_eq!(send(&router, config()).await.status, StatusCode::OK);

    let out = Command::new(BIN)
        .arg("--db")
        .arg(&env.config.db)
        .args(["device", "revoke", "--device", &phone.device_id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    let r = send(&router, config()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api_error(&r).code, "AUTH_DEVICE_REVOKED");
    let s = selfie(1, 1);
    let r = phone.upload(&router, &s).await;
    assert_eq!(api_error(&r).code, "AUTH_DEVICE_REVOKED");
    let envelope = phone.envelope(&payload(&phone.device_id, &nip(NIP_A), CENTER_AT, &s));
    let r = phone.post(&router, vec![envelope]).await;
    assert_eq!(api_error(&r).code, "AUTH_DEVICE_REVOKED");

    // Without the device's key, nobody learns that it was revoked: a request signed by
    // another key is refused for its signature, before the revocation is read.
    let stranger = SoftwareDeviceKey::generate().unwrap();
    let forged = signed_request(
        &stranger,
        &phone.device_id,
        "GET",
        "/v1/config",
        vec![],
        "application/json",
    );
    let r = send(&router, forged).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api_error(&r).code, "AUTH_BAD_SIGNATURE");
}

/// The office centre as `(lat, lon)`.
const CENTER_AT: (f64, f64) = (CENTER.latitude, CENTER.longitude);
