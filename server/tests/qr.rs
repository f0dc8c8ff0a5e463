//! The office QR against the real router over a real SQLite file: a check-in in an
//! office that requires the QR is refused without a token (`QR_MISSING`), with another
//! office's (`QR_WRONG_OFFICE`), with one two windows old (`QR_EXPIRED`) or a forged one
//! (`QR_INVALID`); accepted with the token a kiosk shows, and with a token of its own
//! time when it arrives late; accepted with `QR_WAIVED` on a waived day. Kiosk
//! credentials: none, unknown and revoked are refused.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use hadir_core::api::{CheckInResult, CheckInStatus};
use hadir_core::geofence::{LatLon, Office};
use hadir_core::photo::SelfieEvidence;
use hadir_core::qr::{QR_WINDOW_MS, token_at};
use hadir_core::schedule::local_date;
use hadir_core::wire::{CHECKIN_PAYLOAD_VERSION, LEGACY_CHECKIN_PAYLOAD_VERSION};
use hadir_server::kiosk::{KioskQr, enroll_kiosk};
use hadir_server::{admin, now_ms, qr};

/// A second office 5 km away, with its own kiosk.
const OTHER: &str = "dinkes";

fn require_qr(env: &Env, office_id: &str, center: LatLon) {
    admin::add_office(
        env.state.storage().as_ref(),
        Office {
            qr_required: true,
            ..admin::circle_office(office_id, "Kantor", 420, center, 80.0, 50.0)
        },
    )
    .unwrap();
}

async fn kiosk_get(router: &axum::Router, credential: Option<&str>) -> Reply {
    let mut req = Request::get("/v1/kiosk/qr");
    if let Some(c) = credential {
        req = req.header("authorization", format!("Kiosk {c}"));
    }
    send(router, req.body(Body::empty()).unwrap()).await
}

async fn shown_token(router: &axum::Router, credential: &str) -> KioskQr {
    let r = kiosk_get(router, Some(credential)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.headers["cache-control"], "no-store");
    serde_json::from_slice(&r.body).unwrap()
}

struct Scene {
    env: Env,
    router: axum::Router,
    phone: Phone,
    credential: String,
    next_selfie: u64,
}

impl Scene {
    async fn new() -> Scene {
        Scene::in_env(Env::new()).await
    }

    async fn in_env(env: Env) -> Scene {
        require_qr(&env, OFFICE, CENTER);
        let storage = env.state.storage().as_ref();
        admin::add_office(
            storage,
            Office {
                qr_required: true,
                ..admin::circle_office(
                    OTHER,
                    "Dinas Kesehatan",
                    420,
                    LatLon::new(CENTER.latitude + 0.05, CENTER.longitude),
                    80.0,
                    50.0,
                )
            },
        )
        .unwrap();
        let (_, credential) = enroll_kiosk(storage, OFFICE, "lobi").unwrap();
        let router = env.router();
        let phone = Phone::enrolled(&env, &router, &nip(NIP_A)).await;
        Scene {
            env,
            router,
            phone,
            credential,
            next_selfie: 1,
        }
    }

    async fn fresh_selfie(&mut self) -> SelfieEvidence {
        self.next_selfie += 1;
        let s = hadir_test_support::selfie(self.next_selfie, 0);
        assert!(
            self.phone
                .upload(&self.router, &s)
                .await
                .status
                .is_success()
        );
        s
    }

    /// A check-in at the office centre made at true instant `at_ms`, carrying `token`.
    async fn check_in_at(&mut self, at_ms: i64, token: Option<&str>) -> CheckInResult {
        self.check_in_version(CHECKIN_PAYLOAD_VERSION, at_ms, token)
            .await
    }

    /// As [`Scene::check_in_at`], with payload `version`.
    async fn check_in_version(
        &mut self,
        version: u32,
        at_ms: i64,
        token: Option<&str>,
    ) -> CheckInResult {
        let selfie = self.fresh_selfie().await;
        let mut p = hadir_test_support::checkin_payload(
            &self.phone.device_id,
            &nip(NIP_A),
            fix_at((CENTER.latitude, CENTER.longitude), 10.0, at_ms - 3_000),
            &selfie,
            anchored_time(at_ms, 0),
        );
        p.qr_token = token.map(str::to_string);
        p.version = version;
        let env = self.phone.envelope(&p);
        self.phone.submit(&self.router, vec![env]).await.remove(0)
    }

    async fn check_in(&mut self, token: Option<&str>) -> CheckInResult {
        self.check_in_at(now_ms(), token).await
    }

    fn secret(&self, office_id: &str) -> Vec<u8> {
        self.env
            .state
            .storage()
            .qr_secret(office_id)
            .unwrap()
            .expect("every office gets a secret")
    }
}

fn refused_with(r: &CheckInResult, code: &str) {
    assert_eq!(r.status, CheckInStatus::Rejected, "{r:?}");
    assert_eq!(r.codes, vec![code.to_string()], "{r:?}");
    assert!(r.message.contains("QR"), "{}", r.message);
}

#[tokio::test]
async fn the_token_on_the_kiosk_is_accepted_and_missing_is_refused() {
    let mut s = Scene::new().await;
    let shown = shown_token(&s.router, &s.credential.clone()).await;
    assert_eq!(shown.office_id, OFFICE);
    assert!(shown.qr_svg.starts_with("<svg"));
    assert!((shown.server_time_ms - now_ms()).abs() < 5_000);
    let r = s.check_in(Some(&shown.token)).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    assert_eq!(r.office_id.as_deref(), Some(OFFICE));

    let r = s.check_in(None).await;
    refused_with(&r, "QR_MISSING");
    let r = s.check_in(Some("   ")).await;
    refused_with(&r, "QR_MISSING");
}

#[tokio::test]
async fn a_token_from_another_office_is_refused() {
    let mut s = Scene::new().await;
    let storage = s.env.state.storage().clone();
    let (_, other_credential) = enroll_kiosk(storage.as_ref(), OTHER, "").unwrap();
    let other = shown_token(&s.router, &other_credential).await;
    assert_eq!(other.office_id, OTHER);
    let r = s.check_in(Some(&other.token)).await;
    refused_with(&r, "QR_WRONG_OFFICE");
}

#[tokio::test]
async fn a_token_two_windows_old_is_expired_one_window_old_is_fine() {
    let mut s = Scene::new().await;
    let secret = s.secret(OFFICE);
    let now = now_ms();
    let r = s
        .check_in(Some(&token_at(&secret, OFFICE, now - 2 * QR_WINDOW_MS)))
        .await;
    refused_with(&r, "QR_EXPIRED");
    let r = s
        .check_in(Some(&token_at(&secret, OFFICE, now + 2 * QR_WINDOW_MS)))
        .await;
    refused_with(&r, "QR_EXPIRED");
    // The window the check-in falls in may have turned since the token was read.
    let r = s
        .check_in_at(now, Some(&token_at(&secret, OFFICE, now - QR_WINDOW_MS)))
        .await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_invalid() {
    let mut s = Scene::new().await;
    let now = now_ms();
    let forged = token_at(b"a guessed secret", OFFICE, now);
    for token in [forged.as_str(), "hadir", "v1.kominfo.1.AAAAAAAAAAAAAAAA"] {
        let r = s.check_in(Some(token)).await;
        refused_with(&r, "QR_INVALID");
    }
}

#[tokio::test]
async fn an_offline_check_in_is_judged_at_its_own_time() {
    let mut s = Scene::new().await;
    let secret = s.secret(OFFICE);
    // Made 20 minutes ago in the office with the token then on screen, delivered now.
    let then = now_ms() - 20 * 60_000;
    let r = s
        .check_in_at(then, Some(&token_at(&secret, OFFICE, then)))
        .await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    assert_eq!(
        r.trusted_time_ms.map(|t| (t - then).abs() < 1_000),
        Some(true)
    );
    // Today's token does not fit a check-in made 20 minutes ago.
    let r = s
        .check_in_at(then, Some(&token_at(&secret, OFFICE, now_ms())))
        .await;
    refused_with(&r, "QR_EXPIRED");
}

#[tokio::test]
async fn a_version_1_check_in_is_judged_at_its_receipt_not_at_the_time_it_claims() {
    // Version 1 stays accepted (marked) far beyond this test's real clock.
    let env = Env::with(|c| {
        c.payload_v1_accepted_until = chrono::NaiveDate::from_ymd_opt(2999, 1, 1).unwrap();
    });
    let mut s = Scene::in_env(env).await;
    let secret = s.secret(OFFICE);
    // An old token replayed with a matching (unsigned) claimed time: refused, since the
    // phone does not get to choose the instant its token is judged at.
    let then = now_ms() - 20 * 60_000;
    let r = s
        .check_in_version(
            LEGACY_CHECKIN_PAYLOAD_VERSION,
            then,
            Some(&token_at(&secret, OFFICE, then)),
        )
        .await;
    assert_eq!(r.status, CheckInStatus::Rejected, "{r:?}");
    assert_eq!(r.codes, ["QR_EXPIRED", "TIME_UNPROVEN"], "{r:?}");
    // The token on screen now, whatever time it claims: judged now, it is good.
    let r = s
        .check_in_version(
            LEGACY_CHECKIN_PAYLOAD_VERSION,
            then,
            Some(&token_at(&secret, OFFICE, now_ms())),
        )
        .await;
    assert!(r.status.counts_as_attendance(), "{r:?}");
    assert!(r.codes.contains(&"TIME_UNPROVEN".to_string()), "{r:?}");
    assert!(!r.codes.iter().any(|c| c.starts_with("QR_")), "{r:?}");
}

#[tokio::test]
async fn a_waived_day_accepts_without_a_token_and_says_so() {
    let mut s = Scene::new().await;
    let storage = s.env.state.storage().clone();
    let today = local_date(now_ms(), 420);
    // A waiver for another day or another office does not help.
    qr::waive(
        storage.as_ref(),
        OFFICE,
        today.pred_opt().unwrap(),
        "monitor rusak",
        "admin",
    )
    .unwrap();
    qr::waive(storage.as_ref(), OTHER, today, "monitor rusak", "admin").unwrap();
    refused_with(&s.check_in(None).await, "QR_MISSING");

    let w = qr::waive(storage.as_ref(), OFFICE, today, "  monitor mati  ", "Siti").unwrap();
    assert_eq!(
        (w.reason.as_str(), w.waived_by.as_str()),
        ("monitor mati", "Siti")
    );
    let r = s.check_in(None).await;
    assert_eq!(r.status, CheckInStatus::AcceptedWithFlags, "{r:?}");
    assert_eq!(r.codes, vec!["QR_WAIVED".to_string()]);
    assert!(r.message.contains("kode QR"), "{}", r.message);
    // A good token needs no waiver.
    let shown = shown_token(&s.router, &s.credential.clone()).await;
    let r = s.check_in(Some(&shown.token)).await;
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    // Recorded: who, when, why.
    let all = storage.qr_waivers().unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|x| x == &w));
    // Refused without a reason or a name.
    assert!(qr::waive(storage.as_ref(), OFFICE, today, " ", "Siti").is_err());
    assert!(qr::waive(storage.as_ref(), "nowhere", today, "x", "Siti").is_err());
}

#[tokio::test]
async fn an_office_without_the_requirement_ignores_tokens() {
    let mut s = Scene::new().await;
    let office = hadir_test_support::TestOffice::kominfo();
    admin::add_office(
        s.env.state.storage().as_ref(),
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
    for token in [None, Some("not a token")] {
        let r = s.check_in(token).await;
        assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    }
}

#[tokio::test]
async fn kiosk_credentials_missing_unknown_or_revoked_are_refused() {
    let s = Scene::new().await;
    let storage = s.env.state.storage().clone();
    for credential in [None, Some("kiosk-0000000000.made-up"), Some("")] {
        let r = kiosk_get(&s.router, credential).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::UNAUTHORIZED, "KIOSK_UNAUTHORIZED")
        );
    }
    let kiosks = storage.kiosks().unwrap();
    assert_eq!(kiosks.len(), 1);
    assert!(!kiosks[0].credential_sha256.contains(&s.credential));
    shown_token(&s.router, &s.credential).await;
    assert!(storage.revoke_kiosk(&kiosks[0].kiosk_id, now_ms()).unwrap());
    let r = kiosk_get(&s.router, Some(&s.credential)).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "KIOSK_REVOKED")
    );
    assert!(!storage.revoke_kiosk("kiosk-none", now_ms()).unwrap());
    assert!(enroll_kiosk(storage.as_ref(), "nowhere", "").is_err());

    let page = send(
        &s.router,
        Request::get("/kiosk").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&page.body).contains("/v1/kiosk/qr"));
}

#[tokio::test]
async fn a_kiosk_is_seen_when_it_fetches_recorded_at_most_once_a_minute() {
    let s = Scene::new().await;
    let storage = s.env.state.storage().clone();
    let kiosk = || storage.kiosks().unwrap().remove(0);
    assert_eq!(
        kiosk().last_seen_ms,
        None,
        "never seen before its first fetch"
    );
    let before = now_ms();
    shown_token(&s.router, &s.credential).await;
    let seen = kiosk().last_seen_ms.expect("seen at its fetch");
    assert!(seen >= before && seen <= now_ms(), "{seen}");
    // Polls within the minute do not move it (no write per poll).
    for _ in 0..3 {
        shown_token(&s.router, &s.credential).await;
    }
    assert_eq!(kiosk().last_seen_ms, Some(seen));
    // The storage rule itself: a minute on it moves, never backwards.
    let id = kiosk().kiosk_id;
    storage.touch_kiosk(&id, seen + 59_999).unwrap();
    assert_eq!(kiosk().last_seen_ms, Some(seen));
    storage.touch_kiosk(&id, seen + 60_000).unwrap();
    assert_eq!(kiosk().last_seen_ms, Some(seen + 60_000));
    storage.touch_kiosk(&id, seen - 120_000).unwrap();
    assert_eq!(kiosk().last_seen_ms, Some(seen + 60_000));
}

#[tokio::test]
async fn phones_learn_from_their_config_that_the_office_requires_the_qr() {
    let s = Scene::new().await;
    let r = s
        .phone
        .call(&s.router, "GET", "/v1/config", Vec::new())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let offices = r.json()["offices"].as_array().unwrap().clone();
    let kominfo = offices.iter().find(|o| o["id"] == OFFICE).unwrap();
    assert_eq!(kominfo["qr_required"], true);
}

/// Runs the real `hadir-server` binary on `db`; returns (success, stdout, stderr).
fn cli(db: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hadir-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("HADIR_DB")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The office's `qr_required` as stored in `db`.
fn stored_qr_required(db: &std::path::Path) -> bool {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT office_json FROM offices WHERE id = ?1",
            [OFFICE],
            |r| r.get::<_, String>(0),
        )
        .map(|json| serde_json::from_str::<Office>(&json).unwrap().qr_required)
        .unwrap()
}

#[test]
fn office_add_keeps_the_qr_requirement_unless_told_and_turns_it_off_only_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    let base = hadir_test_support::TestOffice::kominfo().cli_args();
    let add = |extra: &[&str]| {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        let (ok, _, stderr) = cli(&db, &args);
        assert!(ok, "{args:?}: {stderr}");
        stored_qr_required(&db)
    };
    assert!(!add(&[]), "a new office starts without the QR");
    assert!(add(&["--qr-required"]));
    assert!(add(&[]), "a coordinate edit keeps the QR on");
    assert!(!add(&["--no-qr-required"]), "turned off explicitly");
    assert!(!add(&[]), "and stays off");
    let mut both: Vec<&str> = base.iter().map(String::as_str).collect();
    both.extend_from_slice(&["--qr-required", "--no-qr-required"]);
    assert!(!cli(&db, &both).0, "contradictory flags are refused");
}

#[test]
fn the_admin_cli_enrolls_lists_and_revokes_kiosks_and_records_waivers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    let mut add = hadir_test_support::TestOffice::kominfo().cli_args();
    add.push("--qr-required".into());
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    assert!(cli(&db, &add).0);

    // The credential alone on stdout, shown once; the kiosk listed as active.
    let (ok, stdout, stderr) = cli(
        &db,
        &["kiosk", "enroll", "--office", OFFICE, "--label", "lobi"],
    );
    assert!(ok, "{stderr}");
    let credential = stdout.trim();
    assert_eq!(stdout.lines().count(), 1);
    let kiosk_id = credential.split('.').next().unwrap();
    assert!(kiosk_id.starts_with("kiosk-"), "{credential}");
    assert!(stderr.contains("/kiosk#"), "{stderr}");
    let (_, list, _) = cli(&db, &["kiosk", "list"]);
    assert!(
        list.contains(kiosk_id)
            && list.contains("lobi")
            && list.contains("active")
            && list.contains("never seen"),
        "{list}"
    );
    assert!(!list.contains(credential));
    assert!(!cli(&db, &["kiosk", "enroll", "--office", "nowhere"]).0);

    assert!(cli(&db, &["kiosk", "revoke", "--kiosk", kiosk_id]).0);
    let (_, list, _) = cli(&db, &["kiosk", "list"]);
    assert!(list.contains("revoked"), "{list}");
    assert!(!cli(&db, &["kiosk", "revoke", "--kiosk", "kiosk-none"]).0);

    // A waiver is a correction: it needs a reason and a registered admin, and is
    // recorded with who and why.
    let siti = "nip:199009132015032001";
    let waive = ["qr", "waive", "--office", OFFICE, "--date", "2026-12-01"];
    let with_reason = [&waive[..], &["--reason", "monitor rusak", "--admin", siti]].concat();
    assert!(!cli(&db, &waive).0);
    let (ok, _, stderr) = cli(&db, &with_reason);
    assert!(!ok && stderr.contains("ADMIN_NONE"), "{stderr}");
    assert!(cli(&db, &["admin", "init", "--person", siti, "--name", "Siti"]).0);
    let (ok, _, stderr) = cli(&db, &with_reason);
    assert!(ok, "{stderr}");
    let (_, waivers, _) = cli(&db, &["qr", "waivers", "--admin", siti]);
    assert!(
        waivers.contains("2026-12-01")
            && waivers.contains(siti)
            && waivers.contains("monitor rusak"),
        "{waivers}"
    );
    // The database holds the credential's hash, never the credential or the secret.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (hash, secret_len): (String, i64) = conn
        .query_row(
            "SELECT credential_sha256, (SELECT length(secret) FROM office_qr_secrets) FROM kiosks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(hash, hadir_server::kiosk::credential_sha256(credential));
    assert_eq!(secret_len, 32);
}
