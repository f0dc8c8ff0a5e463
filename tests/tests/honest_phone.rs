//! The honest phone is not flagged (issue #13, "Time the phone cannot invent"): the real
//! `hadir-server` binary on 127.0.0.1, the real phone engine with signed anchors, and in
//! between a small HTTP proxy that answers the first check-in batches 503 after the
//! selfie upload went through. The check-in then waits out its backoff while the phone's
//! supervisor screen polls the team view; none of that is evidence, and the check-in
//! arrives accepted, anchored, with no flag and no delivery delay.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hadir_core::api::CheckInStatus;
use hadir_core::envelope::{DeviceKey, SoftwareDeviceKey};
use hadir_core::ids::DeviceLabel;
use hadir_core::wire::AttendanceKind;
use hadir_device::device::{CheckInRequest, Device, DeviceSettings, RetrySettings};
use hadir_e2e::{ServerProcess, TestClock, admin};
use hadir_test_support::{CENTER, NIP_A, NIP_B, TestOffice, fix_at, nip, portrait_jpeg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request the proxy handled: its request line and the status line answered.
type Exchange = (String, String);

/// An HTTP/1.1 proxy on 127.0.0.1 that answers the first `fail_batches`
/// `POST /v1/checkins` with `503` + `Retry-After: 1` itself and forwards everything else
/// (one upstream connection per request), recording each exchange in order.
struct BatchFailingProxy {
    url: String,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl BatchFailingProxy {
    async fn start(upstream: std::net::SocketAddr, fail_batches: u32) -> BatchFailingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let failures_left = Arc::new(AtomicU32::new(fail_batches));
        let record = log.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (record, failures_left) = (record.clone(), failures_left.clone());
                tokio::spawn(serve_connection(client, upstream, record, failures_left));
            }
        });
        BatchFailingProxy { url, log }
    }

    fn log(&self) -> Vec<Exchange> {
        self.log.lock().unwrap().clone()
    }
}

/// Reads one request (head and `Content-Length` body); `None` at end of stream.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let request: Vec<u8> = buffer.drain(..head_end + length).collect();
    Some((head, request))
}

async fn serve_connection(
    mut client: TcpStream,
    upstream: std::net::SocketAddr,
    log: Arc<Mutex<Vec<Exchange>>>,
    failures_left: Arc<AtomicU32>,
) {
    let mut buffer = Vec::new();
    while let Some((head, request)) = read_request(&mut client, &mut buffer).await {
        let line = head.lines().next().unwrap_or_default().to_string();
        let is_batch = line.starts_with("POST /v1/checkins ");
        let fail = is_batch
            && failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        let response = if fail {
            let body =
                r#"{"code":"OVERLOADED","message":"Server sedang sibuk. Coba lagi sebentar."}"#;
            format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
                 retry-after: 1\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        } else {
            // Forward on a fresh connection the server closes after answering.
            let head_end = head.len(); // the head is ASCII: as many bytes as characters
            let mut forwarded = request[..head_end - 2].to_vec();
            forwarded.extend_from_slice(b"connection: close\r\n\r\n");
            forwarded.extend_from_slice(&request[head_end..]);
            let mut server = TcpStream::connect(upstream).await.unwrap();
            server.write_all(&forwarded).await.unwrap();
            let mut answer = Vec::new();
            server.read_to_end(&mut answer).await.unwrap();
            answer
        };
        let status = String::from_utf8_lossy(&response)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        log.lock().unwrap().push((line, status));
        if client.write_all(&response).await.is_err() {
            return;
        }
    }
}

fn add_person(db: &Path, nip: &str, name: &str, extra: &[&str]) {
    let mut args = vec![
        "person", "add", "--kind", "nip", "--id", nip, "--name", name, "--office", "kominfo",
    ];
    args.extend_from_slice(extra);
    admin(db, &args);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_phone_through_backoff_polls_and_a_503_is_not_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let office = TestOffice {
        radius_m: 100.0,
        ..TestOffice::kominfo()
    };
    let args = office.cli_args();
    admin(&db, &args.iter().map(String::as_str).collect::<Vec<_>>());
    // Budi supervises Rina: his phone shows his team's screen too.
    add_person(&db, NIP_A, "Budi Santoso", &[]);
    add_person(&db, NIP_B, "Rina Marlina", &["--supervisor", NIP_A]);
    let server = ServerProcess::start(&db, &dir.path().join("selfies"), "127.0.0.1:0");
    let proxy = BatchFailingProxy::start(server.addr, 3).await;

    let mut settings = DeviceSettings::new(dir.path().join("budi.db"), &proxy.url);
    settings.retry = RetrySettings {
        attempts_per_pass: 3,
        in_pass_base_ms: 20,
        backoff_base_ms: 500,
        backoff_cap_ms: 1_000,
    };
    let key = Arc::new(SoftwareDeviceKey::generate().unwrap());
    let clock = TestClock::new();
    let phone = Device::open(settings, Some(key as Arc<dyn DeviceKey>), clock).unwrap();
    let code = admin(&db, &["enroll-code", "issue", "--person", NIP_A]);
    phone
        .enroll(
            code.trim(),
            nip(NIP_A),
            DeviceLabel::PlatformId("budi-phone".into()),
        )
        .await
        .unwrap();

    let receipt = phone
        .check_in(CheckInRequest {
            person: nip(NIP_A),
            kind: AttendanceKind::CheckIn,
            fix: fix_at(
                (CENTER.latitude, CENTER.longitude),
                8.0,
                phone.anchored_now_ms().unwrap(),
            ),
            selfie_jpeg: portrait_jpeg(4242),
            qr_token: None,
        })
        .await
        .unwrap();
    assert!(receipt.time_anchored, "cites a signed anchor of this boot");

    // Pass 1: the selfie goes up, then every try of the batch gets 503.
    let report = phone.sync_now(false).await.unwrap();
    assert_eq!(report.pending, 1, "{report:?}");
    assert!(report.error.is_some(), "{report:?}");
    let log = proxy.log();
    let selfie_at = log
        .iter()
        .position(|(l, s)| l.starts_with("PUT /v1/selfies/") && s.contains(" 201 "))
        .expect("the selfie was stored");
    let first_503 = log
        .iter()
        .position(|(l, s)| l.starts_with("POST /v1/checkins ") && s.contains(" 503 "))
        .expect("the batch got 503");
    assert!(selfie_at < first_503, "{log:?}");

    // The check-in now waits out its backoff; the supervisor screen polls meanwhile.
    let item = phone.store().get(&receipt.checkin_id).unwrap().unwrap();
    let due = item.entry.next_attempt_at_ms;
    assert!(due > phone.anchored_now_ms().unwrap(), "it waits: {item:?}");
    let batches_before = batch_count(&proxy);
    let team = phone.team_attendance(&nip(NIP_A), None).await.unwrap();
    assert_eq!(team.members.len(), 1);
    let again = phone.sync_now(false).await.unwrap();
    assert_eq!(again.pending, 1, "not due yet: {again:?}");
    assert_eq!(
        batch_count(&proxy),
        batches_before,
        "nothing sent before it was due"
    );
    phone.team_attendance(&nip(NIP_A), None).await.unwrap();

    // Its backoff over (the phone's own timeline says when), it is delivered. A real
    // wait, to a computed instant: the phone's timeline is anchored to the real server
    // binary's clock (every sync pass re-anchors), so moving only the phone's clock
    // cannot make the item due; a few seconds of the server's time must pass.
    let wait = (due - phone.anchored_now_ms().unwrap()).max(0) as u64 + 20;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let report = phone.sync_now(false).await.unwrap();
    assert_eq!(report.pending, 0, "{report:?}");
    let r = report
        .results
        .iter()
        .find(|r| r.checkin_id == receipt.checkin_id)
        .expect("delivered");
    assert_eq!(r.status, CheckInStatus::Accepted, "{r:?}");
    assert!(r.codes.is_empty(), "an honest phone is not flagged: {r:?}");
    assert_eq!(r.time_source.as_deref(), Some("anchored"));
    assert_eq!(r.delivery_delay_ms, None);
    let trusted = r.trusted_time_ms.unwrap();
    assert!(
        (trusted - receipt.recorded_at_ms).abs() < 1_000,
        "the server's trusted time {trusted} is the phone's {}",
        receipt.recorded_at_ms
    );
    drop(server);
}

fn batch_count(proxy: &BatchFailingProxy) -> usize {
    proxy
        .log()
        .iter()
        .filter(|(l, _)| l.starts_with("POST /v1/checkins "))
        .count()
}
