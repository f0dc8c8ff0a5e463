//! Durability proof for the outbox (DESIGN.md, threat "lost check-ins").
//!
//! `store_survives_sigkill` re-executes this very test binary as a child that records
//! check-ins (with ~60 KB selfies) as fast as it can and reports each one on stdout
//! only after `Store::record_checkin` has returned. The parent kills the child with
//! SIGKILL at a random moment, reopens the same file, and checks that every reported
//! check-in is there exactly once with byte-identical envelope and selfie, that every
//! reported acceptance stuck, that no row is torn, and that `PRAGMA integrity_check`
//! passes. Twenty rounds run against the same file, so later rounds also recover from
//! the WAL left by earlier kills (including kills during migration and checkpoints).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hadir_device::store::{NewCheckIn, OutboxState, Store, StoreLimits};
use rand::RngExt;

/// Path of the database the child writes; the child does nothing without it.
const ENV_DB: &str = "HADIR_KILL_CHILD_DB";
/// Round number, so the child's ids and selfies differ between rounds.
const ENV_ROUND: &str = "HADIR_KILL_CHILD_ROUND";
const ROUNDS: u32 = 20;
const SELFIE_BYTES: usize = 60 * 1024;

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn limits() -> StoreLimits {
    StoreLimits {
        max_pending: 1_000_000,
        max_pending_bytes: u64::MAX,
    }
}

/// The child: does nothing unless `HADIR_KILL_CHILD_DB` is set (so a plain
/// `cargo test` passes straight through it).
#[test]
fn child_writer() {
    let Ok(db) = std::env::var(ENV_DB) else {
        return;
    };
    let round: u32 = std::env::var(ENV_ROUND).unwrap().parse().unwrap();
    let store = Store::open(&db, limits()).unwrap();
    let mut rng = rand::rng();
    let mut out = std::io::stdout().lock();
    for i in 0..100_000u32 {
        let checkin_id = uuid::Uuid::now_v7().to_string();
        let mut selfie = vec![0u8; SELFIE_BYTES + rng.random_range(0..4096)];
        rng.fill(&mut selfie[..]);
        let selfie_hex = sha256_hex(&[&selfie]);
        let envelope = format!(
            "{{\"payloadType\":\"application/vnd.hadir.checkin+json\",\"payload\":\
             \"{checkin_id}/{round}/{i}/{selfie_hex}\",\"signatures\":[]}}"
        )
        .into_bytes();
        let c = NewCheckIn {
            checkin_id: checkin_id.clone(),
            person_id: format!("person-{}", i % 3),
            kind: "in".to_string(),
            recorded_at_ms: 1_700_000_000_000 + i64::from(i),
            envelope_json: envelope,
            selfie_jpeg: selfie,
            selfie_sha256_hex: selfie_hex,
            local_verdict_json: "{\"inside\":true}".to_string(),
        };
        store.record_checkin(&c).unwrap();
        let digest = sha256_hex(&[&c.envelope_json, &c.selfie_jpeg]);
        // Only now, with the transaction committed, may the "UI" say recorded.
        writeln!(out, "recorded {checkin_id} {digest}").unwrap();
        out.flush().unwrap();
        if i % 3 == 1 {
            store
                .mark_accepted(&checkin_id, "ACCEPTED", "{\"ok\":true}", 1)
                .unwrap();
            writeln!(out, "accepted {checkin_id}").unwrap();
            out.flush().unwrap();
        }
    }
}

/// What the child claimed, parsed from whole lines of its stdout.
#[derive(Default)]
struct Claims {
    recorded: HashMap<String, String>,
    accepted: Vec<String>,
}

fn parse_line(line: &str, claims: &mut Claims) {
    // libtest may print "test child_writer ... " in front of the first line.
    if let Some(pos) = line.find("recorded ") {
        let mut parts = line[pos + "recorded ".len()..].split_whitespace();
        let (Some(id), Some(digest), None) = (parts.next(), parts.next(), parts.next()) else {
            panic!("malformed claim {line:?}");
        };
        assert_eq!(digest.len(), 64, "malformed digest in {line:?}");
        let again = claims.recorded.insert(id.to_string(), digest.to_string());
        assert!(again.is_none(), "child reported {id} twice");
    } else if let Some(pos) = line.find("accepted ") {
        claims
            .accepted
            .push(line[pos + "accepted ".len()..].trim().to_string());
    }
}

/// Runs one child, kills it after `delay`, and returns its complete stdout lines.
fn run_child(db: &Path, round: u32, delay: Duration) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(ENV_DB, db)
        .env(ENV_ROUND, round.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = String::new();
            loop {
                buf.clear();
                match r.read_line(&mut buf) {
                    Ok(0) | Err(_) => break,
                    // A line cut short by the kill is not a claim.
                    Ok(_) if buf.ends_with('\n') => lines.lock().unwrap().push(buf.clone()),
                    Ok(_) => break,
                }
            }
        })
    };
    std::thread::sleep(delay);
    if let Some(status) = child.try_wait().unwrap() {
        panic!("child exited on its own before the kill: {status}");
    }
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flush, no checkpoint.
    let status = child.wait().unwrap();
    assert!(!status.success(), "child was killed, yet reports success");
    reader.join().unwrap();
    Arc::try_unwrap(lines).unwrap().into_inner().unwrap()
}

fn verify(db: &Path, claims: &Claims) -> usize {
    let store = Store::open(db, limits()).unwrap();
    store.integrity_check().unwrap();
    let history = store.history(None, u32::MAX).unwrap();
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for h in &history {
        *seen.entry(h.checkin_id.as_str()).or_default() += 1;
    }
    for (id, digest) in &claims.recorded {
        assert_eq!(
            seen.get(id.as_str()),
            Some(&1),
            "{id} not stored exactly once"
        );
        let item = store
            .get(id)
            .unwrap()
            .expect("reported check-in is missing");
        assert_eq!(
            &sha256_hex(&[&item.envelope_json, &item.selfie_jpeg]),
            digest,
            "{id}: stored bytes differ from what was recorded"
        );
    }
    for id in &claims.accepted {
        let item = store.get(id).unwrap().unwrap();
        assert_eq!(item.state, OutboxState::Accepted, "{id}: acceptance lost");
    }
    // Rows committed but not yet reported when the kill came must be whole too.
    for h in &history {
        let item = store.get(&h.checkin_id).unwrap().unwrap();
        assert_eq!(sha256_hex(&[&item.selfie_jpeg]), item.selfie_sha256_hex);
        let envelope = std::str::from_utf8(&item.envelope_json).unwrap();
        assert!(
            envelope.contains(&item.selfie_sha256_hex),
            "torn row {}",
            h.checkin_id
        );
    }
    assert!(history.windows(2).all(|w| w[0].seq > w[1].seq));
    history.len()
}

#[test]
fn store_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hadir.db");
    let mut rng = rand::rng();
    let mut claims = Claims::default();
    let started = Instant::now();
    let mut stored = 0;
    for round in 0..ROUNDS {
        // Early rounds may land in process start-up or the first migration; later
        // ones mostly mid-write or mid-checkpoint.
        let delay = Duration::from_millis(rng.random_range(3..400));
        let lines = run_child(&db, round, delay);
        for line in &lines {
            parse_line(line, &mut claims);
        }
        stored = verify(&db, &claims);
        assert!(stored >= claims.recorded.len());
    }
    eprintln!(
        "store_kill: {ROUNDS} kills, {} check-ins reported recorded, {stored} stored, \
         {} accepted, {:.1} s",
        claims.recorded.len(),
        claims.accepted.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        !claims.recorded.is_empty(),
        "no child got as far as recording anything: the test proved nothing"
    );
}
