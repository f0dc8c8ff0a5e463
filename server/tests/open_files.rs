//! The open-file limit, through the real `hadir-server` binary started under a lowered
//! `ulimit -n`: the server raises a low soft limit to the hard one, and when the hard
//! limit itself is low it lowers its caps so that check-ins keep their share; polls
//! beyond the cap are refused with 503, `Retry-After` and `Connection: close` while
//! staff check-ins are still served.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hadir_core::api::{CheckInBatch, CheckInBatchResponse, CheckInStatus, EnrollRequest};
use hadir_core::auth::new_nonce;
use hadir_core::envelope::{DeviceKey as _, base64_encode};
use hadir_core::ids::PersonId;
use hadir_server::now_ms;
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_hadir-server");

/// The open-file limit the server is started with: 64 reserved, 8 check-ins at 2
/// files each, 16 polls (see `hadir_server::open_files`).
const LOW_LIMIT: u64 = 96;
/// The caps the server must derive from [`LOW_LIMIT`].
const DERIVED_WAITERS: usize = 16;

/// Supervisors, NIPs of people born 1970-01-0N, TMT 1995-03, male.
const SUPERVISORS: [&str; 5] = [
    "197001011995031001",
    "197001021995031002",
    "197001031995031003",
    "197001041995031004",
    "197001051995031005",
];
/// Their reports (one each), then the staff member who checks in (no supervisor).
const REPORTS: [&str; 5] = [
    "198001012005011001",
    "198001022005011002",
    "198001032005011003",
    "198001042005011004",
    "198001052005011005",
];

fn cli(db: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// What the server logged so far (everything before `listening on` is in it).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// Starts `serve` through `sh`, after `ulimit {ulimit_args}` (e.g. `-n 96`).
fn start_limited(dir: &Path, ulimit_args: &str) -> Server {
    let log = dir.join(format!("server{}.log", ulimit_args.replace(' ', "")));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit {ulimit_args} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .arg("--db")
        .arg(dir.join("hadir.db"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })
        .to_string();
    Server {
        child,
        base: format!("http://{addr}"),
        log,
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    phone: &Phone,
    device: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let headers = sign_headers(
        &phone.key,
        device,
        method,
        path,
        &body,
        now_ms(),
        &new_nonce(),
    );
    let mut req = http.request(method.parse().unwrap(), format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.body(body).send().await.unwrap()
}

async fn enroll(http: &reqwest::Client, server: &Server, db: &Path, who: &PersonId) -> Phone {
    let code = cli(db, &["enroll-code", "issue", "--person", &who.to_string()]);
    let mut phone = Phone::new();
    let body = serde_json::to_vec(&EnrollRequest {
        enrollment_code: code,
        person: who.clone(),
        public_key: base64_encode(&phone.key.public_key()),
        device_label: imei_label(),
        platform: "test".into(),
        app_version: "0.1.0".into(),
    })
    .unwrap();
    let r = call(
        http,
        &server.base,
        &phone,
        "enroll",
        "POST",
        "/v1/enroll",
        body,
    )
    .await;
    assert_eq!(r.status(), 200);
    phone.device_id = r.json::<serde_json::Value>().await.unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_string();
    phone.anchor_secret = Some(anchor_secret_in(db));
    phone
}

/// An office, five supervisors with one report each, and a staff member without one.
fn register_people(db: &Path) -> PersonId {
    cli(
        db,
        &[
            "office",
            "add",
            "--id",
            OFFICE,
            "--name",
            "Dinas Kominfo",
            "--utc-offset-minutes",
            "420",
            "--lat",
            "-3.7956",
            "--lon",
            "102.2592",
            "--radius-m",
            "80",
        ],
    );
    let add = |nip: &str, name: &str, supervisor: Option<&str>| {
        let mut args = vec![
            "person", "add", "--kind", "nip", "--id", nip, "--name", name,
        ];
        args.extend(["--office", OFFICE]);
        if let Some(s) = supervisor {
            args.extend(["--supervisor", s]);
        }
        cli(db, &args);
    };
    for (i, (sup, report)) in SUPERVISORS.iter().zip(REPORTS).enumerate() {
        add(sup, &format!("Atasan {i}"), None);
        add(report, &format!("Staf {i}"), Some(sup));
    }
    add(NIP_A, "Budi", None);
    nip(NIP_A)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_soft_limit_is_raised_to_the_hard_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_limited(dir.path(), &format!("-S -n {LOW_LIMIT}"));
    let log = server.log();
    assert!(log.contains("open-file soft limit raised"), "{log}");
    assert!(log.contains(&format!("from={LOW_LIMIT}")), "{log}");
    let r = client()
        .get(format!("{}/v1/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_low_hard_limit_polls_are_refused_and_check_ins_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    let staff = register_people(&db);
    let server = start_limited(dir.path(), &format!("-n {LOW_LIMIT}"));
    let log = server.log();
    assert!(
        log.contains("caps lowered to fit the open-file limit")
            && log.contains(&format!("max_live_waiters={DERIVED_WAITERS}")),
        "{log}"
    );
    let http = client();
    let mut supervisors = Vec::new();
    for s in SUPERVISORS {
        supervisors.push((nip(s), Arc::new(enroll(&http, &server, &db, &nip(s)).await)));
    }
    let budi = enroll(&http, &server, &db, &staff).await;

    // Four polls per supervisor (their own most), twenty in all: the server holds
    // DERIVED_WAITERS of them and refuses the rest at once.
    let (answers, mut answered) = mpsc::unbounded_channel();
    let mut polls = Vec::new();
    for (who, phone) in &supervisors {
        let path = format!("/v1/team/events?supervisor={who}");
        let start = call(
            &http,
            &server.base,
            phone,
            &phone.device_id,
            "GET",
            &path,
            vec![],
        )
        .await;
        let cursor = start.json::<serde_json::Value>().await.unwrap()["cursor"]
            .as_i64()
            .unwrap();
        for _ in 0..hadir_server::team::MAX_WAITS_PER_SUPERVISOR {
            let (http, base, answers) = (http.clone(), server.base.clone(), answers.clone());
            let phone = phone.clone();
            let path = format!("{path}&after={cursor}&wait_s=25");
            polls.push(tokio::spawn(async move {
                let r = call(&http, &base, &phone, &phone.device_id, "GET", &path, vec![]).await;
                let _ = answers.send(r);
            }));
        }
    }
    let excess = SUPERVISORS.len() * hadir_server::team::MAX_WAITS_PER_SUPERVISOR - DERIVED_WAITERS;
    for _ in 0..excess {
        let r = answered.recv().await.unwrap();
        assert_eq!(r.status(), 503);
        assert!(r.headers().contains_key("retry-after"), "{:?}", r.headers());
        assert_eq!(
            r.headers().get("connection").map(|v| v.to_str().unwrap()),
            Some("close")
        );
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["code"], "OVERLOADED");
    }

    // The server now holds all the polls it may; staff still check in.
    for seed in 1..=3 {
        let s = selfie(seed, 1);
        let path = format!("/v1/selfies/{}", s.sha256_hex());
        let r = call(
            &http,
            &server.base,
            &budi,
            &budi.device_id,
            "PUT",
            &path,
            s.jpeg.clone(),
        )
        .await;
        assert_eq!(r.status(), 201);
        let envelope = budi.envelope(&payload(&budi.device_id, &staff, north_of_center(0.0), &s));
        let body = serde_json::to_vec(&CheckInBatch {
            envelopes: vec![envelope],
        })
        .unwrap();
        let r = call(
            &http,
            &server.base,
            &budi,
            &budi.device_id,
            "POST",
            "/v1/checkins",
            body,
        )
        .await;
        assert_eq!(r.status(), 200);
        let results = r.json::<CheckInBatchResponse>().await.unwrap().results;
        assert!(results[0].status.counts_as_attendance(), "{results:?}");
        assert_eq!(results[0].status, CheckInStatus::Accepted, "{results:?}");
    }
    // None of the held polls answered meanwhile (nothing happened to their teams).
    assert!(answered.try_recv().is_err());
    for p in polls {
        p.abort();
    }
}
