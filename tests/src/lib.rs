//! End-to-end harness: the real `hadir-server` binary on 127.0.0.1 (random port, temp
//! directory), its admin CLI, a controllable phone clock, a fault-injecting TCP proxy
//! and a silent port that records what a phone sends, for the tests in `tests/tests/` and the demo phone.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use hadir_core::clock::{ClockReading, PlatformClock, SystemClock};

/// Path of a workspace binary, built (or found up to date) once per test process:
/// integration tests of one package cannot depend on another package's binary, and a
/// stale binary would test old code.
pub fn workspace_binary(name: &str, package: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building {name} failed");
        built.push(name.to_string());
    }
    path
}

/// The `hadir-server` binary.
pub fn server_binary() -> PathBuf {
    workspace_binary("hadir-server", "hadir-server")
}

/// Runs an admin subcommand of `hadir-server` against `db`, returning its stdout.
pub fn admin(db: &Path, args: &[&str]) -> String {
    let out = Command::new(server_binary())
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("hadir-server runs");
    assert!(
        out.status.success(),
        "hadir-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// A running `hadir-server serve`, killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// Its address.
    pub addr: SocketAddr,
    /// Its SQLite file.
    pub db: PathBuf,
    /// Its selfie folder.
    pub selfie_dir: PathBuf,
}

impl ServerProcess {
    /// Starts the server on `listen` (e.g. `127.0.0.1:0`) with the given files, and
    /// waits for its `listening on ADDR` line.
    pub fn start(db: &Path, selfie_dir: &Path, listen: &str) -> ServerProcess {
        let mut child = Command::new(server_binary())
            .arg("serve")
            .arg("--db")
            .arg(db)
            .arg("--selfie-dir")
            .arg(selfie_dir)
            .arg("--listen")
            .arg(listen)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("hadir-server starts");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server printed its address before exiting")
                .expect("readable");
            if let Some(rest) = line.trim().strip_prefix("listening on ") {
                break rest.trim().parse().expect("an address");
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess {
            child,
            addr,
            db: db.to_path_buf(),
            selfie_dir: selfie_dir.to_path_buf(),
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A phone clock whose wall time can be set off by any amount (the monotonic clock and
/// boot id stay true), and whose boot id can change (a reboot).
#[derive(Debug, Default)]
pub struct TestClock {
    system: SystemClock,
    wall_offset_ms: AtomicI64,
    reboots: AtomicU64,
}

impl TestClock {
    /// A clock that starts honest.
    pub fn new() -> Arc<TestClock> {
        Arc::new(TestClock::default())
    }

    /// Sets the wall clock `offset_ms` away from true time (negative: behind).
    pub fn set_wall_offset_ms(&self, offset_ms: i64) {
        self.wall_offset_ms.store(offset_ms, Ordering::SeqCst);
    }

    /// Simulates a reboot: a new boot id.
    pub fn reboot(&self) {
        self.reboots.fetch_add(1, Ordering::SeqCst);
    }
}

impl PlatformClock for TestClock {
    fn read(&self) -> ClockReading {
        let mut r = self.system.read();
        r.wall_ms += self.wall_offset_ms.load(Ordering::SeqCst);
        let reboots = self.reboots.load(Ordering::SeqCst);
        if reboots > 0 {
            r.boot_id = format!("{}-reboot-{reboots}", r.boot_id);
        }
        r
    }
}

/// One request that reached a [`SilentServer`]: when it arrived and its request line.
#[derive(Debug, Clone)]
pub struct Knock {
    /// When the connection was accepted.
    pub at: std::time::Instant,
    /// The HTTP request line, e.g. `GET /v1/time HTTP/1.1`.
    pub request_line: String,
}

/// A port on 127.0.0.1 where the server never started serving: it accepts each
/// connection, reads the request head, records it and closes the connection without a
/// byte of answer (the phone sees a network failure). It lets a test see every attempt
/// a phone makes and when, which a closed port would not.
pub struct SilentServer {
    /// Its address.
    pub addr: SocketAddr,
    knocks: Arc<std::sync::Mutex<Vec<Knock>>>,
}

impl SilentServer {
    /// Starts listening on a free loopback port.
    pub fn start() -> SilentServer {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let knocks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = knocks.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let at = std::time::Instant::now();
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let request_line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                // Recorded before the connection closes, so before the phone sees it fail.
                record
                    .lock()
                    .expect("knocks")
                    .push(Knock { at, request_line });
                drop(stream);
            }
        });
        SilentServer { addr, knocks }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn knocks(&self) -> Vec<Knock> {
        self.knocks.lock().expect("knocks").clone()
    }
}

/// How the proxy treats connections.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    /// Probability (0..=1) that a response is cut off after the server answered.
    pub cut_after_response_probability: f64,
}

/// A TCP proxy on 127.0.0.1 in front of the server that, at random, lets a request
/// reach the server and then drops the connection before the phone reads the answer:
/// the worst case for exactly-once delivery. Counts the cuts it made.
pub struct FaultProxy {
    /// The proxy's address.
    pub addr: SocketAddr,
    cuts: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts the proxy forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr, plan: FaultPlan, seed: u64) -> FaultProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let cuts = Arc::new(AtomicU64::new(0));
        let counter = cuts.clone();
        let rng = Arc::new(std::sync::Mutex::new(seed | 1));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                let rng = rng.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upstream_copy = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                        let _ = server_write.shutdown().await;
                    });
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match server_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let roll = {
                            let mut s = rng.lock().expect("rng");
                            *s ^= *s << 13;
                            *s ^= *s >> 7;
                            *s ^= *s << 17;
                            (*s % 10_000) as f64 / 10_000.0
                        };
                        if roll < plan.cut_after_response_probability {
                            // The server has answered; the phone never sees it.
                            counter.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    upstream_copy.abort();
                });
            }
        });
        FaultProxy { addr, cuts, task }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many answers the proxy swallowed.
    pub fn cuts(&self) -> u64 {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until `addr` accepts TCP connections (or the timeout passes).
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A loopback address nobody listens on (bound then released).
pub fn unused_loopback_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}
