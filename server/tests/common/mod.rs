//! Test support: a server state over a real SQLite file in a temp dir, phones with real
//! P-256 keys, real normalised JPEG selfies and signed requests.
#![allow(dead_code)]

pub mod attest;
pub mod live;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use hadir_core::api::{CheckInBatch, CheckInBatchResponse, CheckInResult, EnrollResponse};
use hadir_core::auth::new_nonce;
use hadir_core::clock::TimeEvidence;
use hadir_core::envelope::{DeviceKey, Envelope, SoftwareDeviceKey};
use hadir_core::ids::{DeviceLabel, PersonId};
use hadir_core::photo::SelfieEvidence;
use hadir_core::wire::CheckInPayload;
use hadir_server::admin;
use hadir_server::storage::PersonRecord;
use hadir_server::{AppState, ServerConfig, app, now_ms};
// The shared fixtures, for every test file (each uses its own share of them).
pub use hadir_test_support::*;
use tower::ServiceExt as _;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: ServerConfig,
    pub state: AppState,
}

pub fn config_in(dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        db: dir.join("hadir.db"),
        selfie_dir: Some(dir.join("selfies")),
        directory_refresh_ms: 0,
        ..ServerConfig::default()
    }
}

impl Env {
    /// A fresh server with office `kominfo` (80 m circle) and three people.
    pub fn new() -> Env {
        Env::with(|_| {})
    }

    pub fn with(edit: impl FnOnce(&mut ServerConfig)) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(dir.path());
        edit(&mut config);
        let state = AppState::open(&config).unwrap();
        let office = TestOffice::kominfo();
        admin::add_office(
            state.storage().as_ref(),
            admin::circle_office(
                office.id,
                office.name,
                office.utc_offset_minutes,
                office.center,
                office.radius_m,
                office.max_accuracy_m,
            ),
        )
        .unwrap();
        let env = Env { dir, config, state };
        env.add_people(&hadir_test_support::TEST_PEOPLE, None);
        env
    }

    /// Adds (or updates) `people` at the test office, supervised by `supervisor`.
    pub fn add_people(&self, people: &[TestPerson], supervisor: Option<&PersonId>) {
        for p in people {
            admin::add_person(
                self.state.storage().as_ref(),
                PersonRecord {
                    id: p.person_id(),
                    display_name: p.name.into(),
                    office_ids: vec![OFFICE.into()],
                    supervisor: supervisor.cloned(),
                },
            )
            .unwrap();
        }
    }

    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    pub fn code_for(&self, id: &PersonId) -> String {
        admin::issue_code(self.state.storage().as_ref(), id, 72).unwrap()
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Reply {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// The signature headers for a request.
pub use hadir_test_support::signed_headers as sign_headers;

/// A request signed by `key` as `device`, now.
pub fn signed_request(
    key: &dyn DeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Request<Body> {
    signed_request_at(key, device, method, path, body, content_type, now_ms())
}

/// A request signed by `key` as `device` at `at_ms` (a test's injected server time).
pub fn signed_request_at(
    key: &dyn DeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
    at_ms: i64,
) -> Request<Body> {
    let headers = sign_headers(key, device, method, path, &body, at_ms, &new_nonce());
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b.body(Body::from(body)).unwrap()
}

/// A phone: key, device id once enrolled, and the anchor secret of the server it
/// enrolled with (so its payloads cite anchors that server signed).
pub struct Phone {
    pub key: SoftwareDeviceKey,
    pub device_id: String,
    pub anchor_secret: Option<Vec<u8>>,
}

/// The anchor secret a server keeps in its database file (what `open` created).
pub fn anchor_secret_in(db: &std::path::Path) -> Vec<u8> {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT secret FROM time_anchor_key", [], |r| r.get(0))
        .unwrap()
}

impl Phone {
    pub fn new() -> Phone {
        Phone {
            key: SoftwareDeviceKey::generate().unwrap(),
            device_id: String::new(),
            anchor_secret: None,
        }
    }

    pub fn enroll_request(
        &self,
        code: &str,
        person: &PersonId,
        label: DeviceLabel,
    ) -> Request<Body> {
        let body = hadir_test_support::enroll_request(&self.key, code, person, label);
        signed_request(
            &self.key,
            "enroll",
            "POST",
            "/v1/enroll",
            body,
            "application/json",
        )
    }

    /// A new phone with `person` enrolled on it.
    pub async fn enrolled(env: &Env, router: &Router, person: &PersonId) -> Phone {
        let mut phone = Phone::new();
        phone.enroll(env, router, person).await;
        phone
    }

    /// Enrolls `person` with a fresh code; panics unless it succeeds.
    pub async fn enroll(
        &mut self,
        env: &Env,
        router: &Router,
        person: &PersonId,
    ) -> EnrollResponse {
        let code = env.code_for(person);
        let r = send(router, self.enroll_request(&code, person, imei_label())).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let resp: EnrollResponse = serde_json::from_slice(&r.body).unwrap();
        self.device_id = resp.device_id.clone();
        self.anchor_secret = Some(env.state.storage().anchor_secret().unwrap());
        resp
    }

    pub fn request(&self, method: &str, path: &str, body: Vec<u8>, ct: &str) -> Request<Body> {
        signed_request(&self.key, &self.device_id, method, path, body, ct)
    }

    /// Sends a signed JSON request by this phone through `router`.
    pub async fn call(&self, router: &Router, method: &str, path: &str, body: Vec<u8>) -> Reply {
        send(router, self.request(method, path, body, "application/json")).await
    }

    pub async fn upload(&self, router: &Router, selfie: &SelfieEvidence) -> Reply {
        let path = format!("/v1/selfies/{}", selfie.sha256_hex());
        send(
            router,
            self.request("PUT", &path, selfie.jpeg.clone(), "image/jpeg"),
        )
        .await
    }

    /// `payload` signed, its time anchor first sealed with the server's secret when the
    /// phone knows it and the payload is version 2 (as a real phone's anchor would be).
    pub fn envelope(&self, payload: &CheckInPayload) -> Envelope {
        let mut payload = payload.clone();
        if let Some(secret) = &self.anchor_secret
            && payload.version == hadir_core::wire::CHECKIN_PAYLOAD_VERSION
            && payload
                .time
                .anchor
                .as_ref()
                .is_some_and(|a| a.mac.is_none())
        {
            hadir_test_support::seal_anchor(&mut payload, secret);
        }
        hadir_test_support::sign_checkin(&self.key, &payload)
    }

    /// An envelope over `payload` as JSON after `edit` (a field this build would never
    /// write: another version, an unknown field or kind), signed by this phone.
    pub fn envelope_edited(
        &self,
        payload: &CheckInPayload,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Envelope {
        let mut json = serde_json::to_value(payload).unwrap();
        edit(&mut json);
        Envelope::sign(
            hadir_core::envelope::CHECKIN_PAYLOAD_TYPE,
            serde_json::to_vec(&json).unwrap(),
            &self.key,
        )
        .unwrap()
    }

    pub async fn post(&self, router: &Router, envelopes: Vec<Envelope>) -> Reply {
        let body = serde_json::to_vec(&CheckInBatch { envelopes }).unwrap();
        self.call(router, "POST", "/v1/checkins", body).await
    }

    /// Posts and returns the results (asserting 200).
    pub async fn submit(&self, router: &Router, envelopes: Vec<Envelope>) -> Vec<CheckInResult> {
        let r = self.post(router, envelopes).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice::<CheckInBatchResponse>(&r.body)
            .unwrap()
            .results
    }
}

/// Time evidence for a check-in made now, anchored, with the wall clock off by `skew_ms`.
pub fn time_now(skew_ms: i64) -> TimeEvidence {
    hadir_test_support::anchored_time(now_ms(), skew_ms)
}

/// A check-in now at `at`, 10 m accuracy, fix taken 3 s ago, honest clock.
pub fn payload(
    device_id: &str,
    person: &PersonId,
    at: (f64, f64),
    selfie: &SelfieEvidence,
) -> CheckInPayload {
    hadir_test_support::checkin_payload(
        device_id,
        person,
        hadir_test_support::fix_at(at, 10.0, now_ms() - 3_000),
        selfie,
        time_now(0),
    )
}

/// A camera-like JPEG (see [`hadir_test_support::pattern_jpeg`]).
pub fn camera_jpeg(pattern: u64, noise: u64) -> Vec<u8> {
    hadir_test_support::pattern_jpeg(pattern, noise)
}

pub fn shared<T>(v: T) -> Arc<T> {
    Arc::new(v)
}
