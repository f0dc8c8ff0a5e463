//! Test support: a server state over a real SQLite file in a temp dir, phones with real
//! P-256 keys, real normalised JPEG selfies and signed requests.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use hadir_core::api::{
    CheckInBatch, CheckInBatchResponse, CheckInResult, EnrollRequest, EnrollResponse,
};
use hadir_core::auth::{RequestToSign, new_nonce};
use hadir_core::clock::{ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{
    CHECKIN_PAYLOAD_TYPE, DeviceKey, Envelope, SoftwareDeviceKey, base64_encode,
};
use hadir_core::fix::{FixProvider, GpsFix};
use hadir_core::geofence::LatLon;
use hadir_core::ids::{DeviceLabel, PersonId, PersonIdKind};
use hadir_core::photo::{SelfieEvidence, SelfieLimits, normalise_selfie};
use hadir_core::wire::{
    AttendanceKind, CHECKIN_PAYLOAD_VERSION, CheckInPayload, LocalGeofenceStatus, LocalVerdict,
    new_checkin_id, phash_hex,
};
use hadir_server::admin;
use hadir_server::storage::PersonRecord;
use hadir_server::{AppState, ServerConfig, app, now_ms};
use tower::ServiceExt as _;

/// Office centre used by the tests (Bengkulu).
pub const CENTER: LatLon = LatLon {
    latitude: -3.7956,
    longitude: 102.2592,
};
pub const OFFICE: &str = "kominfo";
pub const NIP_A: &str = "198503122010011003";
pub const NIP_B: &str = "199009132015032001";
pub const NON_ASN_C: &str = "1771010101900001";

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
        let s = state.storage().as_ref();
        admin::add_office(
            s,
            admin::circle_office(OFFICE, "Dinas Kominfo", 420, CENTER, 80.0, 50.0),
        )
        .unwrap();
        for (kind, id, name) in [
            (PersonIdKind::Nip, NIP_A, "Budi"),
            (PersonIdKind::Nip, NIP_B, "Siti"),
            (PersonIdKind::NonAsn, NON_ASN_C, "Andi (honorer)"),
        ] {
            admin::add_person(
                s,
                PersonRecord {
                    id: PersonId::parse(kind, id).unwrap(),
                    display_name: name.into(),
                    office_ids: vec![OFFICE.into()],
                    supervisor: None,
                },
            )
            .unwrap();
        }
        Env { dir, config, state }
    }

    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    pub fn code_for(&self, id: &PersonId) -> String {
        admin::issue_code(self.state.storage().as_ref(), id, 72).unwrap()
    }
}

pub fn nip(v: &str) -> PersonId {
    PersonId::parse(PersonIdKind::Nip, v).unwrap()
}

pub fn non_asn(v: &str) -> PersonId {
    PersonId::parse(PersonIdKind::NonAsn, v).unwrap()
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
pub fn sign_headers(
    key: &dyn DeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp_ms: i64,
    nonce: &str,
) -> Vec<(&'static str, String)> {
    let sig = RequestToSign {
        method,
        path_and_query: path,
        timestamp_ms,
        nonce,
        device,
        body,
    }
    .sign(key)
    .unwrap();
    vec![
        ("hadir-device", device.to_string()),
        ("hadir-timestamp", timestamp_ms.to_string()),
        ("hadir-nonce", nonce.to_string()),
        ("hadir-signature", sig),
    ]
}

pub fn signed_request(
    key: &dyn DeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Request<Body> {
    let headers = sign_headers(key, device, method, path, &body, now_ms(), &new_nonce());
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b.body(Body::from(body)).unwrap()
}

/// A phone: key, and device id once enrolled.
pub struct Phone {
    pub key: SoftwareDeviceKey,
    pub device_id: String,
}

impl Phone {
    pub fn new() -> Phone {
        Phone {
            key: SoftwareDeviceKey::generate().unwrap(),
            device_id: String::new(),
        }
    }

    pub fn enroll_request(
        &self,
        code: &str,
        person: &PersonId,
        label: DeviceLabel,
    ) -> Request<Body> {
        let body = serde_json::to_vec(&EnrollRequest {
            enrollment_code: code.into(),
            person: person.clone(),
            public_key: base64_encode(&self.key.public_key()),
            device_label: label,
            platform: "test".into(),
            app_version: "0.1.0".into(),
        })
        .unwrap();
        signed_request(
            &self.key,
            "enroll",
            "POST",
            "/v1/enroll",
            body,
            "application/json",
        )
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
        resp
    }

    pub fn request(&self, method: &str, path: &str, body: Vec<u8>, ct: &str) -> Request<Body> {
        signed_request(&self.key, &self.device_id, method, path, body, ct)
    }

    pub async fn upload(&self, router: &Router, selfie: &SelfieEvidence) -> Reply {
        let path = format!("/v1/selfies/{}", selfie.sha256_hex());
        send(
            router,
            self.request("PUT", &path, selfie.jpeg.clone(), "image/jpeg"),
        )
        .await
    }

    pub fn envelope(&self, payload: &CheckInPayload) -> Envelope {
        Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload.to_bytes(), &self.key).unwrap()
    }

    pub async fn post(&self, router: &Router, envelopes: Vec<Envelope>) -> Reply {
        let body = serde_json::to_vec(&CheckInBatch { envelopes }).unwrap();
        send(
            router,
            self.request("POST", "/v1/checkins", body, "application/json"),
        )
        .await
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

/// A valid IMEI (Luhn).
pub fn imei_label() -> DeviceLabel {
    DeviceLabel::Imei("490154203237518".into())
}

/// Time evidence for a check-in made now, anchored, with the wall clock off by `skew_ms`.
pub fn time_now(skew_ms: i64) -> TimeEvidence {
    let now = now_ms();
    TimeEvidence {
        device_wall_ms: now + skew_ms,
        boot_elapsed_ms: 5_010_000,
        boot_id: "boot-1".into(),
        anchor: Some(ServerTimeAnchor {
            server_time_ms: now - 10_000,
            boot_elapsed_ms: 5_000_000,
            boot_id: "boot-1".into(),
            device_wall_ms: now - 10_000 + skew_ms,
            round_trip_ms: 40,
        }),
    }
}

/// A point `north_m` metres north of the office centre.
pub fn north_of_center(north_m: f64) -> (f64, f64) {
    (CENTER.latitude + north_m / 111_320.0, CENTER.longitude)
}

pub fn payload(
    device_id: &str,
    person: &PersonId,
    at: (f64, f64),
    selfie: &SelfieEvidence,
) -> CheckInPayload {
    CheckInPayload {
        version: CHECKIN_PAYLOAD_VERSION,
        checkin_id: new_checkin_id(),
        person: person.clone(),
        device_id: device_id.into(),
        kind: AttendanceKind::CheckIn,
        fix: GpsFix {
            latitude: at.0,
            longitude: at.1,
            accuracy_m: 10.0,
            fix_time_ms: now_ms() - 3_000,
            provider: FixProvider::Fused,
            is_mock: false,
        },
        local_verdict: LocalVerdict {
            geofence: LocalGeofenceStatus::Inside,
            office_id: Some(OFFICE.into()),
            zone_id: Some("utama".into()),
            distance_m: None,
            issue_codes: vec![],
        },
        selfie_sha256: selfie.sha256_hex(),
        selfie_phash: phash_hex(selfie.perceptual_hash),
        time: time_now(0),
        qr_token: None,
        app_version: "0.1.0 (test)".into(),
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A camera-like JPEG: a smooth pattern chosen by `pattern`, plus mild noise chosen by
/// `noise` (same pattern, other noise → a near-duplicate).
pub fn camera_jpeg(pattern: u64, noise: u64) -> Vec<u8> {
    let (w, h) = (800u32, 600u32);
    let mut rng = Rng(noise.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut p = Rng(pattern.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    let fx = 1.0 + (p.next() % 7) as f64;
    let fy = 1.0 + (p.next() % 5) as f64;
    let phase = (p.next() % 628) as f64 / 100.0;
    let cx = (p.next() % 800) as f64;
    let cy = (p.next() % 600) as f64;
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f64 / w as f64, y as f64 / h as f64);
            let wave = ((xf * fx * std::f64::consts::TAU + phase).sin()
                * (yf * fy * std::f64::consts::TAU).cos())
                * 70.0;
            let d = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt();
            let blob = if d < 150.0 { 60.0 } else { 0.0 };
            let n = (rng.next() % 9) as f64 - 4.0;
            let base = 120.0 + wave + blob + n;
            for c in 0..3 {
                pixels.push((base + c as f64 * 10.0).clamp(0.0, 255.0) as u8);
            }
        }
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A normalised selfie as the phone would send it.
pub fn selfie(pattern: u64, noise: u64) -> SelfieEvidence {
    normalise_selfie(&camera_jpeg(pattern, noise), &SelfieLimits::default()).unwrap()
}

pub fn shared<T>(v: T) -> Arc<T> {
    Arc::new(v)
}
