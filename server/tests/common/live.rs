//! Through real sockets: the `hadir-server` binary (its admin CLI, and `serve` on
//! 127.0.0.1, optionally under a lowered `ulimit`) and a real HTTP client (reqwest)
//! sending requests signed by a test [`Phone`].

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hadir_core::api::{CheckInBatch, CheckInBatchResponse, CheckInResult};
use hadir_core::auth::new_nonce;
use hadir_core::envelope::Envelope;
use hadir_core::ids::PersonId;
use hadir_core::photo::SelfieEvidence;
use hadir_server::now_ms;
use hadir_test_support::imei_label;

use super::{Phone, sign_headers};

/// The server binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_hadir-server");

/// The admin the tests register (`admin init`) where a command needs one; passed to
/// every CLI run as `HADIR_ADMIN` (ignored while no admin is registered).
pub const TEST_ADMIN: &str = "nip:197001011995031001";

/// Runs the admin CLI on `db`; its output, whatever the outcome.
pub fn run_cli(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .env("HADIR_ADMIN", TEST_ADMIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// Runs the admin CLI on `db`; panics unless it succeeds. Returns its stdout, trimmed.
pub fn cli(db: &Path, args: &[&str]) -> String {
    let out = run_cli(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs the admin CLI expecting it to fail; returns its stderr.
pub fn cli_fails(db: &Path, args: &[&str]) -> String {
    let out = run_cli(db, args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running `hadir-server serve`; killed when dropped.
pub struct Server {
    /// The process (its id is the server's: `sh` execs it).
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The database it serves.
    pub db: PathBuf,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` on `db` (a free port on 127.0.0.1).
pub fn start(db: &Path) -> Server {
    serve(db, None)
}

/// Starts `serve` on `db` after `ulimit {ulimit_args}` (e.g. `-n 68`).
pub fn start_limited(db: &Path, ulimit_args: &str) -> Server {
    serve(db, Some(ulimit_args))
}

fn serve(db: &Path, ulimit_args: Option<&str>) -> Server {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let log = db.with_file_name(format!(
        "server-{}.log",
        STARTED.fetch_add(1, Ordering::Relaxed)
    ));
    let mut command = match ulimit_args {
        Some(args) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("ulimit {args} && exec \"$0\" \"$@\""))
                .arg(BIN);
            sh
        }
        None => Command::new(BIN),
    };
    let mut child = command
        .arg("--db")
        .arg(db)
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
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    Server {
        child,
        base: format!("http://{addr}"),
        db: db.to_path_buf(),
        log,
    }
}

impl Server {
    /// What the server logged so far (everything before `listening on` is in it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// A request signed by `phone` as its enrolled device.
    pub async fn call(
        &self,
        http: &reqwest::Client,
        phone: &Phone,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let device = &phone.device_id;
        let answer = try_call(http, &self.base, phone, device, method, path, body).await;
        answer.unwrap()
    }

    /// Uploads `selfie` as `phone`; the answer's status (201 new, 200 known).
    pub async fn upload(
        &self,
        http: &reqwest::Client,
        phone: &Phone,
        selfie: &SelfieEvidence,
    ) -> reqwest::StatusCode {
        let path = format!("/v1/selfies/{}", selfie.sha256_hex());
        self.call(http, phone, "PUT", &path, selfie.jpeg.clone())
            .await
            .status()
    }

    /// Enrolls `who` on a new phone with `code`; panics unless it succeeds. Returns the
    /// phone and the server's answer.
    pub async fn enroll_with_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        who: &PersonId,
    ) -> (Phone, serde_json::Value) {
        let mut phone = Phone::new();
        let body = hadir_test_support::enroll_request(&phone.key, code, who, imei_label());
        let r = try_call(
            http,
            &self.base,
            &phone,
            "enroll",
            "POST",
            "/v1/enroll",
            body,
        )
        .await;
        let r = r.unwrap();
        assert_eq!(r.status(), 200);
        let answer: serde_json::Value = r.json().await.unwrap();
        phone.device_id = answer["device_id"].as_str().unwrap().to_string();
        phone.anchor_secret = Some(super::anchor_secret_in(&self.db));
        (phone, answer)
    }

    /// Enrolls `who` on a new phone with a code fresh from the CLI.
    pub async fn enroll(&self, http: &reqwest::Client, who: &PersonId) -> Phone {
        let code = cli(
            &self.db,
            &["enroll-code", "issue", "--person", &who.to_string()],
        );
        self.enroll_with_code(http, &code, who).await.0
    }
}

/// A real HTTP client (long polls last up to 25 s).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

/// `method path` to `base`, signed by `phone` as `device` (`enroll` before it has one).
pub async fn try_call(
    http: &reqwest::Client,
    base: &str,
    phone: &Phone,
    device: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
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
    req.body(body).send().await
}

/// Posts `envelopes` to `base` as `phone` and returns the results (asserting 200).
pub async fn submit(
    http: &reqwest::Client,
    base: &str,
    phone: &Phone,
    envelopes: Vec<Envelope>,
) -> Vec<CheckInResult> {
    let body = serde_json::to_vec(&CheckInBatch { envelopes }).unwrap();
    let r = try_call(
        http,
        base,
        phone,
        &phone.device_id,
        "POST",
        "/v1/checkins",
        body,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<CheckInBatchResponse>().await.unwrap().results
}
