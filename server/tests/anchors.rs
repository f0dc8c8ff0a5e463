//! Signed time anchors against a lying phone: a real server state over a real SQLite
//! file on a [`ManualClock`], phones with real P-256 keys, real selfies, real request
//! signatures. Each attack of issue #13 ("Time the phone cannot invent") has its test,
//! and so does the honest phone.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use hadir_core::anchor::{AnchorRequest, SignedAnchor};
use hadir_core::api::{CheckInResult, CheckInStatus};
use hadir_core::clock::{ServerTimeAnchor, TimeEvidence};
use hadir_core::photo::SelfieEvidence;
use hadir_core::wire::{CheckInPayload, LEGACY_CHECKIN_PAYLOAD_VERSION};
use hadir_server::AppState;
use hadir_server::clock::{Clock as _, ManualClock};
use hadir_server::storage::person_key;

const HOUR: i64 = 3_600_000;
const BOOT: &str = "boot-7f3a";

/// A server on a manual clock, with `phone` (Budi) enrolled.
struct World {
    env: Env,
    clock: Arc<ManualClock>,
    router: Router,
    phone: Phone,
}

impl World {
    async fn new() -> World {
        World::with(|_| {}).await
    }

    async fn with(edit: impl FnOnce(&mut hadir_server::ServerConfig)) -> World {
        let mut env = Env::with(edit);
        let clock = ManualClock::starting_at(hadir_server::now_ms());
        env.state = AppState::open_with_clock(&env.config, clock.clone()).unwrap();
        let router = env.router();
        let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
        World {
            env,
            clock,
            router,
            phone,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A version-1 check-in by `phone` at the office, now, citing an unsigned anchor as
    /// apps before signed anchors did.
    fn legacy_payload(&self, phone: &Phone, seed: u64) -> (CheckInPayload, SelfieEvidence) {
        let s = selfie(seed, 1);
        let mut p = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
        p.version = LEGACY_CHECKIN_PAYLOAD_VERSION;
        p.time = hadir_test_support::anchored_time(self.now(), 0);
        p.fix.fix_time_ms = self.now() - 2_000;
        (p, s)
    }

    /// A request by `phone`, signed at the server's time.
    fn signed(&self, phone: &Phone, method: &str, path: &str, body: Vec<u8>) -> Request<Body> {
        let headers = sign_headers(
            &phone.key,
            &phone.device_id,
            method,
            path,
            &body,
            self.now(),
            &hadir_core::auth::new_nonce(),
        );
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(k, v);
        }
        b.body(Body::from(body)).unwrap()
    }

    /// `POST /v1/anchors` by `phone`, reporting `elapsed` on boot [`BOOT`].
    async fn anchor(&self, phone: &Phone, elapsed: i64) -> SignedAnchor {
        let body = serde_json::to_vec(&AnchorRequest {
            boot_id: BOOT.into(),
            boot_elapsed_ms: elapsed,
        })
        .unwrap();
        let r = send(
            &self.router,
            self.signed(phone, "POST", "/v1/anchors", body),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice(&r.body).unwrap()
    }

    /// A check-in by Budi on `phone` made when its elapsed clock read `elapsed`, citing
    /// `anchor`, with the wall clock showing `wall`; the selfie uploaded first.
    fn payload(
        &self,
        phone: &Phone,
        anchor: &SignedAnchor,
        elapsed: i64,
        wall: i64,
        seed: u64,
    ) -> (CheckInPayload, hadir_core::photo::SelfieEvidence) {
        let s = selfie(seed, 1);
        let mut p = payload(&phone.device_id, &nip(NIP_A), north_of_center(0.0), &s);
        p.time = TimeEvidence {
            device_wall_ms: wall,
            boot_elapsed_ms: elapsed,
            boot_id: BOOT.into(),
            anchor: Some(ServerTimeAnchor {
                server_time_ms: anchor.server_time_ms,
                boot_elapsed_ms: anchor.boot_elapsed_ms,
                boot_id: anchor.boot_id.clone(),
                device_wall_ms: anchor.server_time_ms,
                round_trip_ms: 30,
                device_id: Some(anchor.device_id.clone()),
                mac: Some(anchor.mac.clone()),
            }),
        };
        p.fix.fix_time_ms = wall - 2_000;
        (p, s)
    }

    /// Uploads the selfie and submits the check-in at the server's time.
    async fn submit(
        &self,
        phone: &Phone,
        p: &CheckInPayload,
        s: &hadir_core::photo::SelfieEvidence,
    ) -> CheckInResult {
        let path = format!("/v1/selfies/{}", s.sha256_hex());
        let r = send(
            &self.router,
            self.signed(phone, "PUT", &path, s.jpeg.clone()),
        )
        .await;
        assert!(
            r.status.is_success(),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let body = serde_json::to_vec(&hadir_core::api::CheckInBatch {
            envelopes: vec![hadir_test_support::sign_checkin(&phone.key, p)],
        })
        .unwrap();
        let r = send(
            &self.router,
            self.signed(phone, "POST", "/v1/checkins", body),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice::<hadir_core::api::CheckInBatchResponse>(&r.body)
            .unwrap()
            .results
            .remove(0)
    }
}

#[tokio::test]
async fn the_honest_phone_is_anchored_and_unflagged_even_after_a_restart() {
    let mut w = World::new().await;
    let t0 = w.now();
    let anchor = w.anchor(&w.phone, 5_000_000).await;
    assert_eq!(anchor.server_time_ms, t0);
    assert_eq!(anchor.device_id, w.phone.device_id);
    // Forty minutes later, offline; delivered ten minutes after that.
    w.clock.advance(40 * 60_000);
    let (p, s) = w.payload(&w.phone, &anchor, 5_000_000 + 40 * 60_000, w.now() + 700, 1);
    w.clock.advance(10 * 60_000);
    // The server restarts meanwhile: its anchor key is in the database.
    w.env.state = AppState::open_with_clock(&w.env.config, w.clock.clone()).unwrap();
    w.router = w.env.router();
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    assert!(r.codes.is_empty(), "{r:?}");
    assert_eq!(r.trusted_time_ms, Some(t0 + 40 * 60_000));
    assert_eq!(r.time_source.as_deref(), Some("anchored"));
    assert_eq!(r.delivery_delay_ms, None);
}

#[tokio::test]
async fn a_made_up_or_altered_anchor_is_refused_as_forged() {
    let w = World::new().await;
    let anchor = w.anchor(&w.phone, 5_000_000).await;
    // The attack of the issue: received at 15:30, the anchor moved eight hours back.
    let mut moved = anchor.clone();
    moved.server_time_ms -= 8 * HOUR;
    let (p, s) = w.payload(&w.phone, &moved, 5_000_000 + 60_000, w.now() - 8 * HOUR, 2);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Rejected, "{r:?}");
    assert_eq!(r.codes, ["TIME_ANCHOR_FORGED"]);
    assert!(
        r.message.contains("tidak diterbitkan server"),
        "{}",
        r.message
    );
    // Made up from nothing, with a MAC of the right shape.
    let mut invented = anchor.clone();
    invented.mac = "ab".repeat(32);
    let (p, s) = w.payload(&w.phone, &invented, 5_000_000 + 60_000, w.now(), 3);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.codes, ["TIME_ANCHOR_FORGED"]);
    // Recorded: the supervisor sees the attempt.
    let stored = w
        .env
        .state
        .storage()
        .checkin(&r.checkin_id)
        .unwrap()
        .unwrap();
    assert_eq!(stored.result.status, CheckInStatus::Rejected);
}

#[tokio::test]
async fn an_anchor_issued_to_another_device_is_refused() {
    let w = World::new().await;
    let colleague = Phone::enrolled(&w.env, &w.router, &nip(NIP_B)).await;
    let theirs = w.anchor(&colleague, 9_000_000).await;
    assert_eq!(theirs.device_id, colleague.device_id);
    let (p, s) = w.payload(&w.phone, &theirs, 9_000_000 + 60_000, w.now(), 4);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Rejected, "{r:?}");
    assert_eq!(r.codes, ["TIME_ANCHOR_OTHER_DEVICE"]);
    assert!(r.message.contains("perangkat lain"), "{}", r.message);
}

#[tokio::test]
async fn a_check_in_before_the_anchor_it_cites_is_refused() {
    let w = World::new().await;
    let anchor = w.anchor(&w.phone, 5_000_000).await;
    let (p, s) = w.payload(&w.phone, &anchor, 5_000_000 - 30 * 60_000, w.now(), 5);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.codes, ["TIME_BEFORE_ANCHOR"], "{r:?}");
}

#[tokio::test]
async fn an_elapsed_clock_that_contradicts_the_servers_record_is_flagged() {
    let w = World::new().await;
    let honest = w.anchor(&w.phone, 5_000_000).await;
    // An hour later the phone asks again, claiming its elapsed clock ran ten minutes
    // more than the server's meanwhile (which would date its check-ins earlier).
    w.clock.advance(HOUR);
    let lying = w.anchor(&w.phone, 5_000_000 + HOUR + 10 * 60_000).await;
    let (p, s) = w.payload(&w.phone, &lying, 5_000_000 + HOUR + 10 * 60_000, w.now(), 6);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::AcceptedWithFlags, "{r:?}");
    assert_eq!(r.codes, ["TIME_CONTRADICTED"]);
    assert!(r.message.contains("bertentangan"), "{}", r.message);
    // A check-in citing the honest anchor of the same boot is still clean, and the
    // record survives a restart (it is in the database).
    let state = AppState::open_with_clock(&w.env.config, w.clock.clone()).unwrap();
    let router = hadir_server::app(state);
    let w = World { router, ..w };
    let (p, s) = w.payload(&w.phone, &honest, 5_000_000 + HOUR - 5_000, w.now(), 7);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
}

#[tokio::test]
async fn slow_and_fast_anchor_requests_of_an_honest_phone_are_never_contradicted() {
    let w = World::new().await;
    // The phone's elapsed clock reads 5_000_000 at `start` on the server's clock.
    let start = w.now();
    let at = |elapsed: i64| start + (elapsed - 5_000_000);
    // The first anchor request takes 45 s to reach the server (a slow mobile network):
    // its offset is 45 s above the boot's true one, and it becomes the record.
    w.clock.set(at(5_000_000) + 45_000);
    let slow = w.anchor(&w.phone, 5_000_000).await;
    // An hour later a fast one (200 ms): 44.8 s below the record, which it replaces.
    let fast_elapsed = 5_000_000 + HOUR;
    w.clock.set(at(fast_elapsed) + 200);
    let fast = w.anchor(&w.phone, fast_elapsed).await;
    // An honest check-in a minute later citing the fast anchor: clean.
    let made = fast_elapsed + 60_000;
    w.clock.set(at(made) + 1_000);
    let (p, s) = w.payload(&w.phone, &fast, made, at(made), 11);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    assert_eq!(r.trusted_time_ms, Some(at(made) + 200));
    // One citing the slow anchor (queued offline, so dated 45 s late): clean too.
    let (p, s) = w.payload(&w.phone, &slow, made + 1_000, at(made), 12);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    // A very slow request later (90 s: latency only adds) and a check-in citing it:
    // never a contradiction, however far above the record it lies (the rule before
    // this one flagged anything more than 60 s off either way).
    let very_slow_elapsed = made + HOUR;
    w.clock.set(at(very_slow_elapsed) + 90_000);
    let very_slow = w.anchor(&w.phone, very_slow_elapsed).await;
    let made = very_slow_elapsed + 5 * 60_000;
    w.clock.set(at(made) + 90_000 + 1_000);
    let (p, s) = w.payload(&w.phone, &very_slow, made, at(made), 13);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
}

#[tokio::test]
async fn a_late_delivery_is_flagged_with_its_delay_for_the_supervisor() {
    let w = World::new().await;
    let anchor = w.anchor(&w.phone, 5_000_000).await;
    let made_at = w.now() + 60_000;
    let (p, s) = w.payload(&w.phone, &anchor, 5_000_000 + 60_000, made_at, 8);
    // Delivered three hours and five minutes later (the window is thirty minutes).
    w.clock.set(made_at + 3 * HOUR + 5 * 60_000);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::AcceptedWithFlags, "{r:?}");
    assert_eq!(r.codes, ["LATE_DELIVERY"]);
    assert_eq!(r.delivery_delay_ms, Some(3 * HOUR + 5 * 60_000));
    assert_eq!(r.trusted_time_ms, Some(made_at));
    assert!(
        r.message
            .contains("terlambat setelah waktu absen (3 jam 5 menit)"),
        "{}",
        r.message
    );
    // What the supervisor's team view reads: flagged, with the delay.
    let feed = w
        .env
        .state
        .storage()
        .checkins_between(&[person_key(&nip(NIP_A))], made_at - 1, made_at + 1)
        .unwrap();
    assert_eq!(feed.len(), 1);
    let seen = &feed[0].checkin;
    assert!(seen.status.needs_review());
    assert_eq!(seen.delivery_delay_ms, Some(3 * HOUR + 5 * 60_000));
    assert!(seen.codes.contains(&"LATE_DELIVERY".to_string()));
}

#[tokio::test]
async fn version_1_is_counted_but_marked_until_the_configured_date_then_refused() {
    let w = World::with(|c| {
        c.payload_v1_accepted_until = chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    })
    .await;
    let legacy = |seed: u64| w.legacy_payload(&w.phone, seed);
    let cutoff = w.env.config.payload_v1_accepted_until_ms();
    w.clock.set(cutoff - HOUR);
    let (p, s) = legacy(9);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::AcceptedWithFlags, "{r:?}");
    assert_eq!(r.codes, ["TIME_UNPROVEN"]);
    assert!(r.status.counts_as_attendance());
    w.clock.set(cutoff);
    let (p, s) = legacy(10);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Rejected, "{r:?}");
    assert_eq!(r.codes, ["PAYLOAD_UNSUPPORTED_VERSION"]);
}

#[tokio::test]
async fn a_device_that_took_an_anchor_cannot_fall_back_to_version_1() {
    let w = World::with(|c| {
        c.payload_v1_accepted_until = chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap();
    })
    .await;
    let legacy = |seed: u64| w.legacy_payload(&w.phone, seed);
    // Before any anchor, version 1 is still the old phone it claims to be.
    let (p, s) = legacy(21);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.codes, ["TIME_UNPROVEN"], "{r:?}");
    // Once the device took a signed anchor, a made-up unsigned one is refused.
    w.anchor(&w.phone, 5_000_000).await;
    let (p, s) = legacy(22);
    let r = w.submit(&w.phone, &p, &s).await;
    assert_eq!(r.status, CheckInStatus::Rejected, "{r:?}");
    assert_eq!(r.codes, ["PAYLOAD_DOWNGRADE"]);
    assert!(r.message.contains("format lama"), "{}", r.message);
    // Only that device: another phone that never took an anchor still may.
    let other = Phone::enrolled(&w.env, &w.router, &nip(NIP_A)).await;
    let (p, s) = w.legacy_payload(&other, 23);
    let r = w.submit(&other, &p, &s).await;
    assert_eq!(r.codes, ["TIME_UNPROVEN"], "{r:?}");
}

#[tokio::test]
async fn anchors_need_an_enrolled_device_and_a_well_formed_body() {
    let w = World::new().await;
    let stranger = Phone::new();
    let mut unknown = stranger;
    unknown.device_id = "dev-unknown".into();
    let body = serde_json::to_vec(&AnchorRequest {
        boot_id: BOOT.into(),
        boot_elapsed_ms: 1,
    })
    .unwrap();
    let r = send(&w.router, w.signed(&unknown, "POST", "/v1/anchors", body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let bad = br#"{"boot_id":"","boot_elapsed_ms":-5}"#.to_vec();
    let r = send(&w.router, w.signed(&w.phone, "POST", "/v1/anchors", bad)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "BAD_JSON");
}
