//! Ingest load generator: the real release `hadir-server` binary on loopback, thousands
//! of enrolled devices, signed check-in batches fired by concurrent workers; reports
//! stored check-ins/s, latency percentiles and CPU, checks the SQLite file, and measures
//! the raw P-256 verify rate (ring, and `openssl speed` when present) in the same run.
//!
//! ```text
//! cargo bench -p hadir-server --bench ingest_load
//! LOAD_DEVICES=2000 LOAD_BATCHES=5 LOAD_BATCH=10 LOAD_CONCURRENCY=64 \
//!     cargo bench -p hadir-server --bench ingest_load
//! ```
//!
//! Parameters (environment): `LOAD_DEVICES` (2000), `LOAD_BATCHES` per device (5),
//! `LOAD_BATCH` check-ins per request (10, the server takes at most 50),
//! `LOAD_CONCURRENCY` workers (64), `LOAD_CLIENT_THREADS` tokio threads of the load
//! generator (1), `LOAD_RATE` check-ins/s for an open-loop run at a fixed offered rate
//! (latency then counts from each request's due time; unset: closed loop, every worker
//! sends its next batch as soon as the previous one is answered), `LOAD_SYNC_FULL=1` to run SQLite with `synchronous=FULL` instead of the
//! production default `NORMAL`, `LOAD_OPENSSL=0` to skip `openssl speed`.
//!
//! Phases: (1) the database is prepared in-process through the admin API (one office
//! with an 80 m circle, one person and one enrollment code per device); (2) the server
//! is built (`cargo build --release`) and started with `serve --listen 127.0.0.1:0` and a
//! config that lifts the per-device rate limit and `max_in_flight`; (3) every device
//! enrolls over HTTP with its own P-256 key and uploads one distinct selfie; (4) all
//! check-in envelopes are signed in advance (the phones' cost, not measured); (5) the
//! workers fire the batches, each request signed at send time with a fresh nonce;
//! (6) ring's raw verify rate on one core, and `openssl speed ecdsap256`.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it only prints how to run it.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hadir_core::anchor::{AnchorRequest, SignedAnchor};
use hadir_core::api::{CheckInBatch, CheckInStatus, EnrollResponse};
use hadir_core::auth::new_nonce;
use hadir_core::clock::{ClockReading, ServerTimeAnchor, TimeEvidence, wall_clock_ms};
use hadir_core::envelope::{DeviceKey as _, SoftwareDeviceKey};
use hadir_core::ids::{DeviceLabel, PersonId, PersonIdKind};
use hadir_core::photo::{SelfieEvidence, SelfieLimits, normalise_selfie};
use hadir_core::wire::CheckInPayload;
use hadir_server::admin;
use hadir_server::storage::PersonRecord;
use hadir_server::storage::sqlite::SqliteStorage;
use hadir_test_support::selfie::pattern_jpeg_sized;
use hadir_test_support::{
    CENTER, OFFICE, checkin_payload, enroll_request, fix_at, north_of_center, sign_checkin,
    signed_headers,
};

const BOOT_ID: &str = "load-boot";

/// Run parameters (see the module docs).
#[derive(Debug, Clone)]
struct Params {
    devices: usize,
    batches: usize,
    batch: usize,
    concurrency: usize,
    client_threads: usize,
    sync_full: bool,
    openssl: bool,
    /// Open-loop target, check-ins/s (`LOAD_RATE`); `None`: closed loop.
    rate: Option<usize>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Params {
    fn from_env() -> Params {
        Params {
            devices: env_or("LOAD_DEVICES", 2000usize).max(1),
            batches: env_or("LOAD_BATCHES", 5usize).max(1),
            batch: env_or("LOAD_BATCH", 10usize).clamp(1, 50),
            concurrency: env_or("LOAD_CONCURRENCY", 64usize).max(1),
            client_threads: env_or("LOAD_CLIENT_THREADS", 1usize).max(1),
            sync_full: env_or("LOAD_SYNC_FULL", 0u8) == 1,
            openssl: env_or("LOAD_OPENSSL", 1u8) == 1,
            rate: Some(env_or("LOAD_RATE", 0usize)).filter(|r| *r > 0),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The device's clocks: one simulated boot shared by all devices of the generator.

struct PhoneClock {
    started: Instant,
}

impl PhoneClock {
    fn reading(&self) -> ClockReading {
        ClockReading {
            wall_ms: wall_clock_ms(),
            boot_elapsed_ms: 3_600_000 + self.started.elapsed().as_millis() as i64,
            boot_id: BOOT_ID.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Phase 1: the database, through the admin API.

fn person_id(i: usize) -> PersonId {
    PersonId::parse(PersonIdKind::NonAsn, &format!("LOAD-{i:06}")).expect("a valid id")
}

/// Creates the office and `devices` people; returns one enrollment code per person.
fn prepare_db(db: &Path, devices: usize) -> Vec<String> {
    let storage = SqliteStorage::open(db, 1024).expect("open the database");
    admin::add_office(
        &storage,
        admin::circle_office(OFFICE, "Dinas Kominfo (load)", 420, CENTER, 80.0, 50.0),
    )
    .expect("office");
    (0..devices)
        .map(|i| {
            let id = person_id(i);
            admin::add_person(
                &storage,
                PersonRecord {
                    id: id.clone(),
                    display_name: format!("Pegawai {i}"),
                    office_ids: vec![OFFICE.into()],
                    supervisor: None,
                },
            )
            .expect("person");
            admin::issue_code(&storage, &id, 24).expect("code")
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Selfies: distinct 320×240 synthetic pictures, normalised as a phone would.

fn synthetic_jpeg(i: usize) -> Vec<u8> {
    let seed = i as u64 + 1;
    pattern_jpeg_sized(320, 240, seed, seed)
}

/// One normalised selfie per device, made on all cores.
fn make_selfies(n: usize) -> Vec<SelfieEvidence> {
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let limits = SelfieLimits::default();
    let mut out: Vec<Option<SelfieEvidence>> = vec![None; n];
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (c, slots) in out.chunks_mut(chunk).enumerate() {
            let limits = &limits;
            s.spawn(move || {
                for (k, slot) in slots.iter_mut().enumerate() {
                    let jpeg = synthetic_jpeg(c * chunk + k);
                    *slot = Some(normalise_selfie(&jpeg, limits).expect("a valid selfie"));
                }
            });
        }
    });
    out.into_iter().map(|s| s.expect("made")).collect()
}

// ---------------------------------------------------------------------------------------
// Phase 2: the real server process.

fn build_server() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "hadir-server",
            "--bin",
            "hadir-server",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "building hadir-server failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("executable")?.as_str().map(PathBuf::from))
        .find(|p| p.file_stem().is_some_and(|s| s == "hadir-server"))
        .expect("cargo reports the hadir-server executable")
}

/// `hadir-server serve`, stopped (SIGTERM, then SIGKILL) when dropped.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(bin: &Path, config: &Path, log: &Path, sync_full: bool) -> ServerProcess {
        let mut cmd = Command::new(bin);
        cmd.arg("--config")
            .arg(config)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).expect("log file"));
        if sync_full {
            cmd.env("HADIR_SQLITE_SYNC_FULL", "1");
        } else {
            cmd.env_remove("HADIR_SQLITE_SYNC_FULL");
        }
        let mut child = cmd.spawn().expect("hadir-server starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(a) = line.strip_prefix("listening on ") {
                        break a.trim().parse().expect("an address");
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!(
                        "hadir-server exited before listening:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    );
                }
            }
        };
        // Keep draining stdout so the server can never block on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux): process totals and the SQLite writer thread.

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a /proc `stat` file, in ticks, and the thread's name.
fn stat_ticks(path: &Path) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text[open + 1..close].to_string();
    let fields: Vec<&str> = text[close + 2..].split_whitespace().collect();
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    /// Whole process, seconds.
    total: f64,
    /// The SQLite writer thread, seconds.
    writer: f64,
}

fn cpu_of(pid: &str, ticks: f64) -> Cpu {
    let base = Path::new("/proc").join(pid);
    let total = stat_ticks(&base.join("stat")).map_or(0, |(_, t)| t) as f64 / ticks;
    let mut writer = 0.0;
    if let Ok(tasks) = std::fs::read_dir(base.join("task")) {
        for t in tasks.flatten() {
            if let Some((name, ticks_used)) = stat_ticks(&t.path().join("stat"))
                && name.starts_with("hadir-sqlite")
            {
                writer += ticks_used as f64 / ticks;
            }
        }
    }
    Cpu { total, writer }
}

/// Busy CPU of the whole machine (all processes), seconds, from `/proc/stat`: what the
/// server and the load generator do not account for was used by something else.
fn machine_busy(ticks: f64) -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    let busy: u64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    busy as f64 / ticks
}

// ---------------------------------------------------------------------------------------
// HTTP with request signatures.

fn signed(
    req: reqwest::RequestBuilder,
    key: &SoftwareDeviceKey,
    device: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> reqwest::RequestBuilder {
    signed_headers(
        key,
        device,
        method,
        path,
        body,
        wall_clock_ms(),
        &new_nonce(),
    )
    .into_iter()
    .fold(req, |req, (name, value)| req.header(name, value))
}

/// Runs `f(0..n)` with `concurrency` workers; returns the outputs in index order and the
/// wall time.
async fn drive<T, F, Fut>(n: usize, concurrency: usize, f: F) -> (Vec<T>, Duration)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.min(n).max(1))
        .map(|_| {
            let (f, next) = (f.clone(), next.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    done.push((i, f(i).await));
                }
                done
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    all.sort_by_key(|(i, _)| *i);
    (all.into_iter().map(|(_, t)| t).collect(), elapsed)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------------------
// Check-ins.

/// A check-in 20 m north of the office centre, made `now` on a phone anchored by `anchor`.
fn payload(
    device_id: &str,
    person: &PersonId,
    selfie: &SelfieEvidence,
    anchor: &ServerTimeAnchor,
    now: &ClockReading,
) -> CheckInPayload {
    checkin_payload(
        device_id,
        person,
        fix_at(north_of_center(20.0), 12.0, now.wall_ms - 2_000),
        selfie,
        TimeEvidence::new(now.clone(), Some(anchor.clone())),
    )
}

struct Device {
    key: SoftwareDeviceKey,
    device_id: String,
}

/// One request of the firing phase.
struct Job {
    device: usize,
    body: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct StatusOnly {
    status: CheckInStatus,
}

#[derive(serde::Deserialize)]
struct BatchStatuses {
    results: Vec<StatusOnly>,
}

/// What one batch request produced.
struct Shot {
    http: u16,
    latency: Duration,
    done_at: Duration,
    statuses: Vec<CheckInStatus>,
}

fn status_name(s: CheckInStatus) -> &'static str {
    s.as_str()
}

// ---------------------------------------------------------------------------------------
// Raw P-256 verify rate.

fn ring_verify_rate(seconds: f64) -> f64 {
    use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
    let key = SoftwareDeviceKey::generate().expect("key");
    let message = [0x5au8; 32];
    let sig = key.sign(&message).expect("sign");
    let public = key.public_key();
    let pk = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public);
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        for _ in 0..100 {
            pk.verify(std::hint::black_box(&message), &sig)
                .expect("verifies");
        }
        n += 100;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// The `openssl speed` result line for P-256 and its verify/s, if openssl runs.
fn openssl_speed() -> Option<(String, f64)> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "ecdsap256"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("ecdsa") && l.contains("256") && l.contains("nistp256"))?;
    let verify: f64 = line.split_whitespace().last()?.parse().ok()?;
    Some((line.trim().to_string(), verify))
}

// ---------------------------------------------------------------------------------------

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "ingest_load: a load test; run it with `cargo bench -p hadir-server --bench ingest_load`"
        );
        return;
    }
    let p = Params::from_env();
    let _ = rustls::crypto::ring::default_provider().install_default();
    println!("== ingest_load {p:?}");
    let cores = std::thread::available_parallelism().map_or(0, |c| c.get());
    let ticks = clock_ticks();

    let t = Instant::now();
    let bin = build_server();
    println!(
        "server binary {} ({:.1} s)",
        bin.display(),
        t.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("hadir.db");
    let t = Instant::now();
    let codes = prepare_db(&db, p.devices);
    println!(
        "database: 1 office, {} people, {} codes ({:.1} s, in-process admin API)",
        p.devices,
        codes.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let selfies = Arc::new(make_selfies(p.devices));
    let avg_selfie = selfies.iter().map(|s| s.jpeg.len()).sum::<usize>() / selfies.len();
    println!(
        "selfies: {} distinct 320x240 normalised JPEGs, {avg_selfie} bytes on average ({:.1} s)",
        selfies.len(),
        t.elapsed().as_secs_f64()
    );

    let config = dir.path().join("load.toml");
    std::fs::write(
        &config,
        format!(
            "db = {:?}\nselfie_dir = {:?}\n\
             # a load test: many requests in flight, no per-device throttling in the way\n\
             max_in_flight = 8192\nrate_limit_per_second = 1000.0\nrate_limit_burst = 100000\n",
            db.display().to_string(),
            dir.path().join("selfies").display().to_string(),
        ),
    )
    .expect("config");
    let log = dir.path().join("server.log");
    let mut server = ServerProcess::start(&bin, &config, &log, p.sync_full);
    let pid = server.pid().to_string();
    let base = format!("http://{}", server.addr);
    println!(
        "server pid {pid} on {} (SQLite synchronous={})",
        server.addr,
        if p.sync_full { "FULL" } else { "NORMAL" }
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(p.client_threads)
        .enable_all()
        .build()
        .expect("runtime");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(p.concurrency.max(16))
        .tcp_nodelay(true)
        .http1_only()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let clock = Arc::new(PhoneClock {
        started: Instant::now(),
    });

    // Phase 3a: enroll every device.
    let keys: Vec<SoftwareDeviceKey> = (0..p.devices)
        .map(|_| SoftwareDeviceKey::generate().expect("key"))
        .collect();
    let keys = Arc::new(keys);
    let codes = Arc::new(codes);
    let cpu0 = cpu_of(&pid, ticks);
    let (enrolled, enroll_wall) = {
        let (http, base, keys, codes) = (http.clone(), base.clone(), keys.clone(), codes.clone());
        rt.block_on(drive(p.devices, p.concurrency, move |i| {
            let (http, base, keys, codes) =
                (http.clone(), base.clone(), keys.clone(), codes.clone());
            async move {
                let key = &keys[i];
                let body = enroll_request(
                    key,
                    &codes[i],
                    &person_id(i),
                    DeviceLabel::PlatformId(format!("load-{i:06}")),
                );
                let req = http
                    .post(format!("{base}/v1/enroll"))
                    .header("content-type", "application/json");
                let r = signed(req, key, "enroll", "POST", "/v1/enroll", &body)
                    .body(body)
                    .send()
                    .await
                    .expect("enroll request");
                let status = r.status();
                let bytes = r.bytes().await.expect("enroll body");
                assert!(
                    status.is_success(),
                    "enroll {i}: {status} {}",
                    String::from_utf8_lossy(&bytes)
                );
                serde_json::from_slice::<EnrollResponse>(&bytes)
                    .expect("EnrollResponse")
                    .device_id
            }
        }))
    };
    let cpu1 = cpu_of(&pid, ticks);
    let keys = Arc::try_unwrap(keys).unwrap_or_else(|_| panic!("keys still shared"));
    let devices: Arc<Vec<Device>> = Arc::new(
        keys.into_iter()
            .zip(enrolled)
            .map(|(key, device_id)| Device { key, device_id })
            .collect(),
    );

    // Phase 3b: a signed time anchor per device (`POST /v1/anchors`, the simulated boot).
    let anchors: Vec<ServerTimeAnchor> = {
        let (http, base, devices) = (http.clone(), base.clone(), devices.clone());
        let before = clock.reading();
        let sent = before.clone();
        let signed = rt
            .block_on(drive(p.devices, p.concurrency, move |i| {
                let (http, base, devices, before) =
                    (http.clone(), base.clone(), devices.clone(), sent.clone());
                async move {
                    let d = &devices[i];
                    let body = serde_json::to_vec(&AnchorRequest {
                        boot_id: before.boot_id.clone(),
                        boot_elapsed_ms: before.boot_elapsed_ms,
                    })
                    .expect("json");
                    let req = http
                        .post(format!("{base}/v1/anchors"))
                        .header("content-type", "application/json");
                    signed(req, &d.key, &d.device_id, "POST", "/v1/anchors", &body)
                        .body(body)
                        .send()
                        .await
                        .expect("anchor request")
                        .json::<SignedAnchor>()
                        .await
                        .expect("SignedAnchor")
                }
            }))
            .0;
        let after = clock.reading();
        signed
            .iter()
            .map(|a| ServerTimeAnchor::from_signed(a, &before, &after))
            .collect()
    };

    // Phase 3c: one selfie per device.
    let (uploads, upload_wall) = {
        let (http, base, devices, selfies) =
            (http.clone(), base.clone(), devices.clone(), selfies.clone());
        rt.block_on(drive(p.devices, p.concurrency, move |i| {
            let (http, base, devices, selfies) =
                (http.clone(), base.clone(), devices.clone(), selfies.clone());
            async move {
                let d = &devices[i];
                let s = &selfies[i];
                let path = format!("/v1/selfies/{}", s.sha256_hex());
                let req = http
                    .put(format!("{base}{path}"))
                    .header("content-type", "image/jpeg");
                let r = signed(req, &d.key, &d.device_id, "PUT", &path, &s.jpeg)
                    .body(s.jpeg.clone())
                    .send()
                    .await
                    .expect("upload request");
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                status
            }
        }))
    };
    let cpu2 = cpu_of(&pid, ticks);
    let created = uploads.iter().filter(|s| **s == 201).count();
    assert_eq!(created, p.devices, "every selfie upload answered 201");

    // Phase 4: sign every envelope in advance (the phones' cost, not measured).
    let t = Instant::now();
    let now = clock.reading();
    let mut jobs: Vec<Job> = Vec::with_capacity(p.devices * p.batches);
    {
        let threads = cores.max(1);
        let per_device: Vec<Vec<Vec<u8>>> = {
            let mut out: Vec<Vec<Vec<u8>>> = vec![Vec::new(); p.devices];
            let chunk = p.devices.div_ceil(threads).max(1);
            std::thread::scope(|s| {
                for (c, slots) in out.chunks_mut(chunk).enumerate() {
                    let (devices, selfies, anchors, now, p) =
                        (&devices, &selfies, &anchors, &now, &p);
                    s.spawn(move || {
                        for (k, slot) in slots.iter_mut().enumerate() {
                            let i = c * chunk + k;
                            let d = &devices[i];
                            let person = person_id(i);
                            *slot = (0..p.batches)
                                .map(|_| {
                                    let envelopes = (0..p.batch)
                                        .map(|_| {
                                            let pl = payload(
                                                &d.device_id,
                                                &person,
                                                &selfies[i],
                                                &anchors[i],
                                                now,
                                            );
                                            sign_checkin(&d.key, &pl)
                                        })
                                        .collect();
                                    serde_json::to_vec(&CheckInBatch { envelopes }).expect("json")
                                })
                                .collect();
                        }
                    });
                }
            });
            out
        };
        // Round-robin: a device's batches are spread over the run, as phones would be.
        let mut per_device: Vec<std::vec::IntoIter<Vec<u8>>> =
            per_device.into_iter().map(Vec::into_iter).collect();
        for _ in 0..p.batches {
            for (device, bodies) in per_device.iter_mut().enumerate() {
                let body = bodies.next().expect("one per round");
                jobs.push(Job { device, body });
            }
        }
    }
    let total_checkins = p.devices * p.batches * p.batch;
    let avg_body = jobs.iter().map(|j| j.body.len()).sum::<usize>() / jobs.len();
    println!(
        "pre-signed {total_checkins} envelopes in {} requests of {} ({avg_body} bytes each) in {:.1} s",
        jobs.len(),
        p.batch,
        t.elapsed().as_secs_f64()
    );

    // Phase 5: fire.
    let jobs = Arc::new(jobs);
    let client_cpu0 = cpu_of("self", ticks);
    let cpu3 = cpu_of(&pid, ticks);
    let machine0 = machine_busy(ticks);
    // Open loop (LOAD_RATE): request i is due at start + i / rate, and its latency counts
    // from that instant, so a stalled server cannot hide its queue (no coordinated
    // omission). Closed loop (default): each worker sends its next request at once.
    let interval = p
        .rate
        .map(|r| Duration::from_secs_f64(p.batch as f64 / r as f64));
    let fire_start = Instant::now();
    let (shots, fire_wall) = {
        let (http, base, devices, jobs) =
            (http.clone(), base.clone(), devices.clone(), jobs.clone());
        let n = jobs.len();
        rt.block_on(drive(n, p.concurrency, move |i| {
            let (http, base, devices, jobs) =
                (http.clone(), base.clone(), devices.clone(), jobs.clone());
            async move {
                let job = &jobs[i];
                let d = &devices[job.device];
                let started = match interval {
                    Some(every) => {
                        let due = fire_start + every * i as u32;
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let req = http
                    .post(format!("{base}/v1/checkins"))
                    .header("content-type", "application/json");
                let r = signed(req, &d.key, &d.device_id, "POST", "/v1/checkins", &job.body)
                    .body(job.body.clone())
                    .send()
                    .await
                    .expect("checkins request");
                let http_status = r.status().as_u16();
                let bytes = r.bytes().await.expect("checkins body");
                let latency = started.elapsed();
                let statuses = if http_status == 200 {
                    serde_json::from_slice::<BatchStatuses>(&bytes)
                        .expect("CheckInBatchResponse")
                        .results
                        .into_iter()
                        .map(|r| r.status)
                        .collect()
                } else {
                    Vec::new()
                };
                Shot {
                    http: http_status,
                    latency,
                    done_at: fire_start.elapsed(),
                    statuses,
                }
            }
        }))
    };
    let cpu4 = cpu_of(&pid, ticks);
    let client_cpu1 = cpu_of("self", ticks);
    let machine1 = machine_busy(ticks);

    // Count, then check the database itself.
    let mut http_counts: BTreeMap<u16, usize> = BTreeMap::new();
    let mut result_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut latencies: Vec<Duration> = Vec::with_capacity(shots.len());
    let mut per_second: Vec<usize> = vec![0; fire_wall.as_secs() as usize + 1];
    for s in &shots {
        *http_counts.entry(s.http).or_default() += 1;
        for st in &s.statuses {
            *result_counts.entry(status_name(*st)).or_default() += 1;
        }
        latencies.push(s.latency);
        let stored = s
            .statuses
            .iter()
            .filter(|st| **st != CheckInStatus::RetryLater)
            .count();
        per_second[s.done_at.as_secs() as usize] += stored;
    }
    latencies.sort();
    let stored_answers: usize = result_counts
        .iter()
        .filter(|(k, _)| **k != "retry_later")
        .map(|(_, v)| v)
        .sum();
    let (db_count, db_breakdown) = {
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .expect("open the server's database");
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM checkins", [], |r| r.get(0))
            .expect("count");
        let mut stmt = conn
            .prepare(
                "SELECT status, codes, COUNT(*) FROM checkins GROUP BY status, codes \
                 ORDER BY 3 DESC",
            )
            .expect("breakdown");
        let rows: Vec<(String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        (count as usize, rows)
    };
    server.stop();
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let server_errors = log_text
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .count();

    // Phase 6: raw verify rate, on an idle machine.
    let ring_rate = ring_verify_rate(2.0);
    let openssl = if p.openssl { openssl_speed() } else { None };

    // Report.
    let secs = fire_wall.as_secs_f64();
    let rate = stored_answers as f64 / secs;
    let server_cpu = cpu4.total - cpu3.total;
    let writer_cpu = cpu4.writer - cpu3.writer;
    let client_cpu = client_cpu1.total - client_cpu0.total;
    let full: Vec<usize> = per_second[..per_second.len().saturating_sub(1)].to_vec();
    let mut sorted_full = full.clone();
    sorted_full.sort();
    println!();
    println!(
        "## ingest: {} devices × {} batches × {} check-ins, {} workers, {}, {} core(s), SQLite synchronous={}",
        p.devices,
        p.batches,
        p.batch,
        p.concurrency,
        match p.rate {
            Some(r) => format!("open loop at {r} check-ins/s"),
            None => "closed loop".to_string(),
        },
        cores,
        if p.sync_full { "FULL" } else { "NORMAL" }
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| enrollments | {} in {:.2} s = {:.0}/s (server CPU {:.2} s, {:.0} µs each) |",
        p.devices,
        enroll_wall.as_secs_f64(),
        p.devices as f64 / enroll_wall.as_secs_f64(),
        cpu1.total - cpu0.total,
        (cpu1.total - cpu0.total) * 1e6 / p.devices as f64
    );
    println!(
        "| selfie uploads ({avg_selfie} B, decoded by the server) | {} in {:.2} s = {:.0}/s (server CPU {:.2} s, {:.0} µs each) |",
        p.devices,
        upload_wall.as_secs_f64(),
        p.devices as f64 / upload_wall.as_secs_f64(),
        cpu2.total - cpu1.total,
        (cpu2.total - cpu1.total) * 1e6 / p.devices as f64
    );
    println!(
        "| check-ins sent | {total_checkins} in {} requests |",
        shots.len()
    );
    println!("| wall time | {secs:.2} s |");
    println!("| **stored check-ins/s** | **{rate:.0}** |");
    println!("| requests/s | {:.0} |", shots.len() as f64 / secs);
    if !sorted_full.is_empty() {
        println!(
            "| per-second stored (full seconds) | min {} / median {} / max {} |",
            sorted_full[0],
            sorted_full[sorted_full.len() / 2],
            sorted_full[sorted_full.len() - 1]
        );
    }
    println!(
        "| request latency p50 / p90 / p99 / max | {} / {} / {} / {} |",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "| HTTP statuses | {} |",
        http_counts
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| results | {} |",
        result_counts
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| rows in `checkins` (SQLite file) | {db_count} (expected {total_checkins}) {} |",
        if db_count == total_checkins {
            "✓"
        } else {
            "MISMATCH"
        }
    );
    println!(
        "| stored rows by status/codes | {} |",
        db_breakdown
            .iter()
            .map(|(s, c, n)| format!("{s} [{c}]: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| server CPU while firing | {server_cpu:.2} s = {:.0}% of {cores} cores; {:.0} µs per check-in; SQLite writer thread {writer_cpu:.2} s ({:.0} µs per check-in) |",
        server_cpu / secs / cores.max(1) as f64 * 100.0,
        server_cpu * 1e6 / stored_answers.max(1) as f64,
        writer_cpu * 1e6 / stored_answers.max(1) as f64
    );
    println!(
        "| load generator CPU while firing | {client_cpu:.2} s ({:.0}% of one core) |",
        client_cpu / secs * 100.0
    );
    let other = (machine1 - machine0 - server_cpu - client_cpu).max(0.0);
    println!(
        "| other processes' CPU while firing | {other:.2} s ({:.0}% of one core){} |",
        other / secs * 100.0,
        if other / secs > 0.1 {
            " — the machine was not idle: figures are pessimistic"
        } else {
            ""
        }
    );
    println!("| server log warnings/errors | {server_errors} |");
    println!();
    println!("## raw P-256 verify, same run (after the server stopped)");
    println!();
    println!("| measure | verifies/s |");
    println!("|---|---|");
    println!("| ring `ECDSA_P256_SHA256_ASN1` verify, 1 core | {ring_rate:.0} |");
    match &openssl {
        Some((line, v)) => {
            println!("| `openssl speed -seconds 3 ecdsap256`, 1 core | {v:.0} (`{line}`) |")
        }
        None => println!("| `openssl speed` | not run |"),
    }
    let per_checkin_verifies = 1.0 + 1.0 / p.batch as f64;
    let verify_us = 1e6 / ring_rate;
    let ceiling = ring_rate * cores.max(1) as f64 / per_checkin_verifies;
    println!();
    println!(
        "one check-in needs {per_checkin_verifies:.2} P-256 verifies (its envelope + 1/{} of the request) = {:.0} µs of CPU; \
         the server spent {:.0} µs per check-in ({:.1}× that); signatures alone would cap {cores} cores at {ceiling:.0} check-ins/s, \
         the server stored {rate:.0}/s ({:.0}% of that ceiling)",
        p.batch,
        per_checkin_verifies * verify_us,
        server_cpu * 1e6 / stored_answers.max(1) as f64,
        server_cpu * 1e6 / stored_answers.max(1) as f64 / (per_checkin_verifies * verify_us),
        rate / ceiling * 100.0
    );
    if db_count != total_checkins {
        eprintln!("stored rows {db_count} != expected {total_checkins}");
        std::process::exit(1);
    }
}
