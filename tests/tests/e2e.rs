//! End to end: the real `hadir-server` binary on 127.0.0.1 (random port, temp dir) and
//! the real core client (`hadir_device::device::Device`), over loopback.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hadir_core::api::{CheckInBatch, CheckInBatchResponse, CheckInStatus};
use hadir_core::clock::PlatformClock;
use hadir_core::envelope::{DeviceKey, Envelope, SoftwareDeviceKey};
use hadir_core::fix::GpsFix;
use hadir_core::ids::DeviceLabel;
use hadir_core::wire::AttendanceKind;
use hadir_device::client::{ApiClient, ClientError, Signer, TlsOptions};
use hadir_device::device::{CheckInRequest, Device, DeviceSettings, RetrySettings};
use hadir_e2e::{
    FaultPlan, FaultProxy, ServerProcess, SilentServer, TestClock, admin, unused_loopback_addr,
};
use hadir_test_support::{CENTER, NIP_A as NIP, NIP_B as NIP_2, TestOffice, fix_at};
use hadir_test_support::{nip as person, portrait_jpeg as camera_jpeg};

const LAT: f64 = CENTER.latitude;
const LON: f64 = CENTER.longitude;

/// `hadir-server person add` for a NIP at the office, plus `extra` flags.
fn add_person(db: &Path, nip: &str, name: &str, extra: &[&str]) {
    let mut args = vec![
        "person", "add", "--kind", "nip", "--id", nip, "--name", name, "--office", "kominfo",
    ];
    args.extend_from_slice(extra);
    admin(db, &args);
}

/// A server with one office (100 m circle) and two people, and a temp dir.
struct World {
    dir: tempfile::TempDir,
    server: Option<ServerProcess>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let office = TestOffice {
            radius_m: 100.0,
            ..TestOffice::kominfo()
        };
        let args = office.cli_args();
        admin(&db, &args.iter().map(String::as_str).collect::<Vec<_>>());
        add_person(&db, NIP, "Budi Santoso", &[]);
        add_person(&db, NIP_2, "Rina Marlina", &[]);
        let server = ServerProcess::start(&db, &dir.path().join("selfies"), "127.0.0.1:0");
        World {
            dir,
            server: Some(server),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("server.db")
    }

    /// `hadir-server person add` for a NIP at the office, plus `extra` flags.
    fn add_person(&self, nip: &str, name: &str, extra: &[&str]) {
        add_person(&self.db(), nip, name, extra);
    }

    fn server(&self) -> &ServerProcess {
        self.server.as_ref().expect("server running")
    }

    fn stop(&mut self) -> std::net::SocketAddr {
        let s = self.server.take().expect("running");
        let addr = s.addr;
        s.kill();
        addr
    }

    fn start_on(&mut self, addr: &str) {
        self.server = Some(ServerProcess::start(
            &self.db(),
            &self.dir.path().join("selfies"),
            addr,
        ));
    }

    fn code(&self, person: &str) -> String {
        admin(&self.db(), &["enroll-code", "issue", "--person", person])
            .trim()
            .to_string()
    }

    /// Check-ins the server has stored, by id (read straight from its SQLite file).
    fn stored_checkins(&self) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open_with_flags(
            self.db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt = conn
            .prepare("SELECT checkin_id, status FROM checkins")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

struct Phone {
    device: Device,
    key: Arc<SoftwareDeviceKey>,
    clock: Arc<TestClock>,
}

/// Quick retries, so that the tests' failing passes end fast.
const QUICK_RETRY: RetrySettings = RetrySettings {
    attempts_per_pass: 3,
    in_pass_base_ms: 20,
    backoff_base_ms: 50,
    backoff_cap_ms: 200,
};

fn phone_at(path: &Path, url: &str, key: Arc<SoftwareDeviceKey>, clock: Arc<TestClock>) -> Phone {
    phone_with_retry(path, url, key, clock, QUICK_RETRY)
}

fn phone_with_retry(
    path: &Path,
    url: &str,
    key: Arc<SoftwareDeviceKey>,
    clock: Arc<TestClock>,
    retry: RetrySettings,
) -> Phone {
    let mut settings = DeviceSettings::new(path, url);
    settings.retry = retry;
    let device = Device::open(
        settings,
        Some(key.clone() as Arc<dyn DeviceKey>),
        clock.clone(),
    )
    .unwrap();
    Phone { device, key, clock }
}

async fn enrolled_phone(world: &World, name: &str, nip: &str, clock: Arc<TestClock>) -> Phone {
    let key = Arc::new(SoftwareDeviceKey::generate().unwrap());
    let phone = phone_at(
        &world.dir.path().join(name),
        &world.server().url(),
        key,
        clock,
    );
    phone
        .device
        .enroll(
            &world.code(nip),
            person(nip),
            DeviceLabel::PlatformId(format!("{name}-id")),
        )
        .await
        .unwrap();
    phone
}

fn fix(phone: &Phone, lat: f64, lon: f64) -> GpsFix {
    fix_at(
        (lat, lon),
        8.0,
        phone
            .device
            .anchored_now_ms()
            .expect("the test clock reads"),
    )
}

fn check_in(phone: &Phone, nip: &str, fix: GpsFix, selfie: Vec<u8>) -> String {
    phone
        .device
        .check_in_blocking(CheckInRequest {
            person: person(nip),
            kind: AttendanceKind::CheckIn,
            fix,
            selfie_jpeg: selfie,
            qr_token: None,
        })
        .unwrap()
        .checkin_id
}

/// Posts one envelope as `device`, signed by `key` at `now_ms`.
async fn post_one(
    client: &ApiClient,
    envelope: Envelope,
    key: Arc<dyn DeviceKey>,
    device: &str,
    now_ms: i64,
) -> Result<CheckInBatchResponse, ClientError> {
    let batch = CheckInBatch {
        envelopes: vec![envelope],
    };
    client
        .post_checkins(
            &batch,
            &Signer {
                key,
                device,
                now_ms,
            },
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_accepted_outside_rejected_mock_rejected() {
    let world = World::new();
    let phone = enrolled_phone(&world, "a.db", NIP, TestClock::new()).await;
    let inside = check_in(&phone, NIP, fix(&phone, LAT, LON), camera_jpeg(1));
    // ~240 m north of the office centre.
    let outside = check_in(&phone, NIP, fix(&phone, LAT + 0.003, LON), camera_jpeg(2));
    let mut mock_fix = fix(&phone, LAT, LON);
    mock_fix.is_mock = true;
    let mock = check_in(&phone, NIP, mock_fix, camera_jpeg(3));

    let report = phone.device.sync_now(false).await.unwrap();
    assert_eq!(report.error, None);
    assert_eq!(report.pending, 0);
    let result = |id: &str| {
        report
            .results
            .iter()
            .find(|r| r.checkin_id == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        result(&inside).status,
        CheckInStatus::Accepted,
        "{:?}",
        result(&inside)
    );
    let out = result(&outside);
    assert_eq!(out.status, CheckInStatus::Rejected);
    assert!(
        out.codes.contains(&"GEOFENCE_OUTSIDE".to_string()),
        "{out:?}"
    );
    let distance = out.distance_m.unwrap();
    assert!((200.0..260.0).contains(&distance), "distance {distance}");
    let m = result(&mock);
    assert_eq!(m.status, CheckInStatus::Rejected);
    assert!(m.codes.contains(&"FIX_MOCK_LOCATION".to_string()), "{m:?}");
    // The phone's outbox holds the decisions.
    let stored = phone.device.store().get(&outside).unwrap().unwrap();
    assert_eq!(stored.result_code.as_deref(), Some("GEOFENCE_OUTSIDE"));
    assert_eq!(world.stored_checkins().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_payload_replayed_envelope_and_foreign_key_are_refused() {
    let world = World::new();
    let phone = enrolled_phone(&world, "a.db", NIP, TestClock::new()).await;
    let other = enrolled_phone(&world, "b.db", NIP_2, TestClock::new()).await;
    let id = check_in(&phone, NIP, fix(&phone, LAT, LON), camera_jpeg(4));
    let report = phone.device.sync_now(false).await.unwrap();
    assert_eq!(report.results[0].status, CheckInStatus::Accepted);

    let client = ApiClient::new(&world.server().url(), &TlsOptions::default()).unwrap();
    let device_id = phone.device.device_id().unwrap().unwrap();
    let item = phone.device.store().get(&id).unwrap().unwrap();
    let original = Envelope::from_json(&item.envelope_json).unwrap();

    // An identical retry gets the original result.
    let (k, d, now) = (
        &phone.key,
        device_id.as_str(),
        phone
            .device
            .anchored_now_ms()
            .expect("the test clock reads"),
    );
    let again = post_one(&client, original.clone(), k.clone(), d, now)
        .await
        .unwrap();
    assert_eq!(again.results[0], report.results[0]);

    // The payload edited after signing (the check-in moved 1 km): refused.
    let mut edited = original.clone();
    let text = String::from_utf8(edited.payload.clone()).unwrap();
    edited.payload = text
        .replacen("\"latitude\":-3.79", "\"latitude\":-3.78", 1)
        .into_bytes();
    assert_ne!(edited.payload, original.payload);
    let r = post_one(&client, edited, k.clone(), d, now).await.unwrap();
    assert_eq!(r.results[0].status, CheckInStatus::Rejected);
    assert!(
        r.results[0]
            .codes
            .contains(&"ENVELOPE_BAD_SIGNATURE".to_string()),
        "{r:?}"
    );

    // The captured envelope replayed through another enrolled device: refused.
    let other_id = other.device.device_id().unwrap().unwrap();
    let r = post_one(&client, original.clone(), other.key.clone(), &other_id, now)
        .await
        .unwrap();
    assert_eq!(r.results[0].status, CheckInStatus::Rejected, "{r:?}");

    // A request signed by another device's key in this device's name: 401.
    let err = post_one(&client, original, other.key.clone(), &device_id, now)
        .await
        .unwrap_err();
    match err {
        ClientError::Refused { status, error } => {
            assert_eq!(status, 401);
            assert_eq!(error.code, "AUTH_BAD_SIGNATURE");
        }
        e => panic!("expected 401, got {e:?}"),
    }
    // Exactly one check-in stored, accepted.
    let stored = world.stored_checkins();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_offline_check_ins_arrive_exactly_once_when_the_server_returns() {
    let mut world = World::new();
    let phone = enrolled_phone(&world, "a.db", NIP, TestClock::new()).await;
    let addr = world.stop();
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(check_in(
            &phone,
            NIP,
            fix(&phone, LAT, LON),
            camera_jpeg(1000 + i),
        ));
    }
    let offline = phone.device.sync_now(true).await.unwrap();
    assert_eq!(offline.pending, 50);
    assert_eq!(offline.error.as_ref().unwrap().0, "NETWORK");
    assert!(world.server.is_none());

    world.start_on(&addr.to_string());
    let report = phone.device.sync_now(true).await.unwrap();
    assert_eq!(report.error, None, "{report:?}");
    assert_eq!(report.pending, 0);
    assert_eq!(report.accepted, 50);
    let delivered: Vec<_> = report
        .results
        .iter()
        .map(|r| r.checkin_id.clone())
        .collect();
    assert_eq!(delivered, ids, "delivered in recording order");
    let stored = world.stored_checkins();
    assert_eq!(stored.len(), 50);
    let unique: std::collections::HashSet<_> = stored.iter().map(|s| &s.0).collect();
    assert_eq!(unique.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_after_the_server_answered_still_yield_exactly_once() {
    let world = World::new();
    let enrolled = enrolled_phone(&world, "a.db", NIP, TestClock::new()).await;
    let proxy = FaultProxy::start(
        world.server().addr,
        FaultPlan {
            cut_after_response_probability: 0.35,
        },
        42,
    )
    .await;
    // The same phone (same file, same key) now talks through the proxy.
    let path = world.dir.path().join("a.db");
    let Phone { key, clock, device } = enrolled;
    drop(device);
    let phone = phone_at(&path, &proxy.url(), key, clock);
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(check_in(
            &phone,
            NIP,
            fix(&phone, LAT, LON),
            camera_jpeg(2000 + i),
        ));
    }
    let mut passes = 0;
    while phone.device.pending_count().unwrap() > 0 {
        passes += 1;
        assert!(passes < 200, "did not converge");
        let _ = phone.device.sync_now(true).await.unwrap();
    }
    assert!(proxy.cuts() > 0, "the proxy cut some answers");
    let stored = world.stored_checkins();
    assert_eq!(stored.len(), 30, "exactly once: {stored:?}");
    for id in &ids {
        let item = phone.device.store().get(id).unwrap().unwrap();
        assert_eq!(item.state.as_str(), "accepted", "{id}: {item:?}");
        assert!(stored.iter().any(|s| &s.0 == id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_selfie_used_again_is_flagged() {
    let world = World::new();
    let phone = enrolled_phone(&world, "a.db", NIP, TestClock::new()).await;
    let selfie = camera_jpeg(77);
    let day_one = check_in(&phone, NIP, fix(&phone, LAT, LON), selfie.clone());
    phone.device.sync_now(false).await.unwrap();
    // The next day: the very same photo, and the same scene saved again at another
    // quality (a different file, a near-identical picture).
    let same = check_in(&phone, NIP, fix(&phone, LAT, LON), selfie.clone());
    let img = image::load_from_memory(&selfie).unwrap();
    let mut resaved = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut resaved, 70)
        .encode_image(&img)
        .unwrap();
    let near = check_in(&phone, NIP, fix(&phone, LAT, LON), resaved);
    let report = phone.device.sync_now(false).await.unwrap();
    let result = |id: &str| {
        report
            .results
            .iter()
            .find(|r| r.checkin_id == id)
            .unwrap()
            .clone()
    };
    let s = result(&same);
    assert_eq!(s.status, CheckInStatus::AcceptedWithFlags, "{s:?}");
    assert!(s.codes.contains(&"SELFIE_REUSED".to_string()), "{s:?}");
    let n = result(&near);
    assert_eq!(n.status, CheckInStatus::AcceptedWithFlags, "{n:?}");
    assert!(
        n.codes.contains(&"SELFIE_NEAR_DUPLICATE".to_string()),
        "{n:?}"
    );
    assert_ne!(day_one, same);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_two_hours_behind_gets_true_time_and_a_skew_flag() {
    let world = World::new();
    let clock = TestClock::new();
    clock.set_wall_offset_ms(-2 * 3_600_000);
    let phone = enrolled_phone(&world, "a.db", NIP, clock).await;
    let id = check_in(&phone, NIP, fix(&phone, LAT, LON), camera_jpeg(9));
    let report = phone.device.sync_now(false).await.unwrap();
    let r = report.results.iter().find(|r| r.checkin_id == id).unwrap();
    assert_eq!(r.status, CheckInStatus::AcceptedWithFlags, "{r:?}");
    assert!(r.codes.contains(&"TIME_SKEW".to_string()), "{r:?}");
    let now = hadir_core::clock::wall_clock_ms();
    let trusted = r.trusted_time_ms.unwrap();
    assert!(
        (now - trusted).abs() < 60_000,
        "trusted {trusted} vs now {now}"
    );
    let skew = r.device_skew_ms.unwrap();
    assert!((skew + 7_200_000).abs() < 5_000, "skew {skew}");
    assert_eq!(r.time_source.as_deref(), Some("anchored"));
    // Its wall clock is still wrong; nothing on the phone trusted it.
    assert!(phone.clock.read().wall_ms < now - 3_600_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_started_leaves_check_ins_pending_with_backoff() {
    // Enrolled while the server ran; the phone's server address then has nothing behind
    // it but a port that records each request and never answers.
    let world = World::new();
    let Phone { key, clock, device } = enrolled_phone(&world, "a.db", NIP, TestClock::new()).await;
    drop(device);
    let silent = SilentServer::start();
    let retry = RetrySettings {
        attempts_per_pass: 4,
        in_pass_base_ms: 200,
        backoff_base_ms: 60_000,
        backoff_cap_ms: 600_000,
    };
    let path = world.dir.path().join("a.db");
    let phone = phone_with_retry(&path, &silent.url(), key, clock.clone(), retry);
    let ids: Vec<String> = (0..3)
        .map(|i| check_in(&phone, NIP, fix(&phone, LAT, LON), camera_jpeg(3000 + i)))
        .collect();

    // Pass 1 in the background, pass 2 forced ("Kirim sekarang"), pass 3 in the
    // background once the device-level wait is over.
    for pass in 1..=3 {
        if pass == 3 {
            // Past any wait the two failures set (at most 2·60 s): a reboot drops the
            // anchor, and the wall clock then reads 700 s ahead.
            clock.reboot();
            clock.set_wall_offset_ms(700_000);
        }
        let before = silent.knocks().len();
        let report = phone.device.sync_now(pass == 2).await.unwrap();
        // Nothing is lost or decided: every check-in waits in the outbox.
        assert_eq!(report.error.as_ref().unwrap().0, "NETWORK", "{report:?}");
        assert_eq!(report.pending, 3);
        assert!(report.results.is_empty());
        for id in &ids {
            let item = phone.device.store().get(id).unwrap().unwrap();
            assert_eq!(item.state.as_str(), "pending", "{id}: {item:?}");
        }
        // The pass tried exactly as often as configured (anchoring the clock comes
        // first, so nothing else was sent), then gave up instead of hammering.
        let knocks = silent.knocks()[before..].to_vec();
        assert_eq!(knocks.len(), retry.attempts_per_pass as usize, "{knocks:?}");
        assert!(
            knocks
                .iter()
                .all(|k| k.request_line.starts_with("GET /v1/time ")),
            "{knocks:?}"
        );
        // Spaced by the backoff: the n-th wait is drawn from [0, base·2^n] (full
        // jitter), so each gap stays below that ceiling plus the time one failed
        // attempt takes on a loaded machine.
        const ATTEMPT_SLACK_MS: u64 = 500;
        for (n, pair) in knocks.windows(2).enumerate() {
            let gap = pair[1].at.duration_since(pair[0].at);
            let ceiling = Duration::from_millis(retry.in_pass_base_ms << n);
            assert!(
                gap <= ceiling + Duration::from_millis(ATTEMPT_SLACK_MS),
                "pass {pass}, wait {n}: {gap:?} over the backoff ceiling {ceiling:?}"
            );
        }
        if pass == 1 {
            // Right after an unreachable pass, a background one waits: no attempt at
            // all (no thundering herd when the server comes back), still NETWORK.
            let report = phone.device.sync_now(false).await.unwrap();
            assert_eq!(report.error.as_ref().unwrap().0, "NETWORK", "{report:?}");
            assert_eq!(report.pending, 3);
            let knocks = silent.knocks()[before..].to_vec();
            assert_eq!(knocks.len(), retry.attempts_per_pass as usize, "{knocks:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_never_reached_a_server_is_not_enrolled_and_is_told_so() {
    let dir = tempfile::tempdir().unwrap();
    let addr = unused_loopback_addr();
    let key = Arc::new(SoftwareDeviceKey::generate().unwrap());
    let phone = phone_at(
        &dir.path().join("p.db"),
        &format!("http://{addr}"),
        key,
        TestClock::new(),
    );
    let err = phone.device.sync_now(false).await.unwrap_err();
    assert_eq!(err.code(), "DEVICE_NOT_ENROLLED");
    let err = phone
        .device
        .enroll(
            "ABCD-EFGH",
            person(NIP),
            DeviceLabel::PlatformId("x".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NETWORK");
    assert!(err.staff_message().contains("tersimpan"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisors_live_feed_survives_a_server_restart_and_misses_nothing() {
    let mut world = World::new();
    // Rina (NIP_2) supervises Budi (NIP).
    world.add_person(NIP, "Budi Santoso", &["--supervisor", NIP_2]);
    let supervisor = Arc::new(enrolled_phone(&world, "rina.db", NIP_2, TestClock::new()).await);
    let staff = enrolled_phone(&world, "budi.db", NIP, TestClock::new()).await;
    // The running server picks up the admin change within about a second.
    let mut tries = 0;
    let team = loop {
        match supervisor
            .device
            .team_attendance(&person(NIP_2), None)
            .await
        {
            Ok(team) => break team,
            Err(e) if e.code() == "TEAM_NOT_SUPERVISOR" && tries < 25 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(team.members.len(), 1);
    assert_eq!(team.members[0].person, person(NIP));

    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let (problems_tx, mut problems) = tokio::sync::mpsc::unbounded_channel();
    let watcher = {
        let supervisor = supervisor.clone();
        let cursor = team.cursor;
        tokio::spawn(async move {
            supervisor
                .device
                .watch_team(
                    &person(NIP_2),
                    Some(cursor),
                    move |e| {
                        let _ = events_tx.send(e);
                    },
                    move |p| {
                        let _ = problems_tx.send(p);
                    },
                )
                .await
        })
    };

    let first = check_in(&staff, NIP, fix(&staff, LAT, LON), camera_jpeg(7001));
    staff.device.sync_now(true).await.unwrap();
    let e1 = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("the first event within 20 s")
        .unwrap();
    assert_eq!(e1.checkin.checkin_id, first);

    // The server goes away: the feed reports it retries; a check-in made meanwhile is
    // queued on the staff phone.
    let addr = world.stop();
    let problem = tokio::time::timeout(Duration::from_secs(20), problems.recv())
        .await
        .expect("a retry reported")
        .unwrap();
    match problem {
        hadir_device::device::TeamFeedProblem::Retrying { code, .. } => assert_eq!(code, "NETWORK"),
        other => panic!("expected a retry, got {other:?}"),
    }
    let second = check_in(&staff, NIP, fix(&staff, LAT, LON), camera_jpeg(7002));
    assert_eq!(staff.device.sync_now(true).await.unwrap().pending, 1);

    // Back on the same address: the queued check-in arrives and so does its event,
    // after the first and without repeating it.
    world.start_on(&addr.to_string());
    let report = staff.device.sync_now(true).await.unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
    let e2 = tokio::time::timeout(Duration::from_secs(60), events.recv())
        .await
        .expect("the second event after the restart")
        .unwrap();
    assert_eq!(e2.checkin.checkin_id, second);
    assert!(e2.seq > e1.seq);
    // Nothing repeated: the next event the feed delivers is a third check-in, right
    // after the second (only Budi checks in here, so check-in positions are
    // consecutive).
    let third = check_in(&staff, NIP, fix(&staff, LAT, LON), camera_jpeg(7003));
    assert_eq!(staff.device.sync_now(true).await.unwrap().pending, 0);
    let e3 = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("the third event within 20 s")
        .unwrap();
    assert_eq!(
        e3.checkin.checkin_id, third,
        "the next event is the third check-in"
    );
    assert_eq!(
        e3.seq,
        e2.seq + 1,
        "nothing between the second and the third"
    );
    assert!(!watcher.is_finished(), "the feed keeps running");
    watcher.abort();

    // An admin fixing Budi's name (without --supervisor) keeps him in Rina's team.
    world.add_person(NIP, "Budi Santoso, S.Kom.", &[]);
    let mut renamed = None;
    for _ in 0..25 {
        let team = supervisor
            .device
            .team_attendance(&person(NIP_2), None)
            .await
            .unwrap();
        if team.members[0].display_name == "Budi Santoso, S.Kom." {
            renamed = Some(team);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let team = renamed.expect("the rename is seen within 5 s, Budi still in the team");
    assert_eq!(team.members.len(), 1);
    assert_eq!(team.members[0].checkins.len(), 3);
}
