//! The open-file limit, through the real `hadir-server` binary started under a lowered
//! `ulimit -n`: the server raises a low soft limit to the hard one, and when the hard
//! limit itself is low it lowers its caps so that check-ins keep their share; polls
//! beyond the cap are refused with 503, `Retry-After` and `Connection: close` while
//! staff check-ins are still served; and idle keep-alive connections beyond the
//! connection cap wait in the backlog instead of running the server out of files.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::live::*;
use common::*;
use hadir_core::api::CheckInStatus;
use hadir_core::ids::PersonId;
use tokio::sync::mpsc;

/// The open-file limit the server is started with: 16 reserved, 19 for SQLite (the
/// writer and 8 readers at 2 files each, and the shared-memory index), 8 check-ins at 2
/// files each, 25 connections in all, so 17 polls (see `hadir_server::open_files`).
const LOW_LIMIT: u64 = 68;
/// The caps the server must derive from [`LOW_LIMIT`].
const DERIVED_WAITERS: usize = 17;
/// Connections the server holds open at once under [`LOW_LIMIT`].
const DERIVED_CONNECTIONS: usize = 25;

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
    let server = start_limited(&dir.path().join("hadir.db"), &format!("-S -n {LOW_LIMIT}"));
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

/// The server on a database in `dir` with [`register_people`], under a hard limit of
/// [`LOW_LIMIT`] files; and the staff member.
fn start_under_low_limit(dir: &Path) -> (Server, PersonId) {
    let db = dir.join("hadir.db");
    let staff = register_people(&db);
    (start_limited(&db, &format!("-n {LOW_LIMIT}")), staff)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_low_hard_limit_polls_are_refused_and_check_ins_served() {
    let dir = tempfile::tempdir().unwrap();
    let (server, staff) = start_under_low_limit(dir.path());
    let log = server.log();
    assert!(
        log.contains("caps lowered to fit the open-file limit")
            && log.contains(&format!("max_live_waiters={DERIVED_WAITERS}")),
        "{log}"
    );
    let http = client();
    let mut supervisors = Vec::new();
    for s in SUPERVISORS {
        supervisors.push((nip(s), Arc::new(server.enroll(&http, &nip(s)).await)));
    }
    let budi = server.enroll(&http, &staff).await;

    // Four polls per supervisor (their own most), twenty in all: the server holds
    // DERIVED_WAITERS of them and refuses the rest at once.
    let (answers, mut answered) = mpsc::unbounded_channel();
    let mut polls = Vec::new();
    for (who, phone) in &supervisors {
        let path = format!("/v1/team/events?supervisor={who}");
        let start = server.call(&http, phone, "GET", &path, vec![]).await;
        let cursor = start.json::<serde_json::Value>().await.unwrap()["cursor"]
            .as_i64()
            .unwrap();
        for _ in 0..hadir_server::team::MAX_WAITS_PER_SUPERVISOR {
            let (http, base, answers) = (http.clone(), server.base.clone(), answers.clone());
            let phone = phone.clone();
            let path = format!("{path}&after={cursor}&wait_s=25");
            polls.push(tokio::spawn(async move {
                let r = try_call(&http, &base, &phone, &phone.device_id, "GET", &path, vec![])
                    .await
                    .unwrap();
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
        assert_eq!(server.upload(&http, &budi, &s).await, 201);
        let envelope = budi.envelope(&payload(&budi.device_id, &staff, north_of_center(0.0), &s));
        let results = submit(&http, &server.base, &budi, vec![envelope]).await;
        assert!(results[0].status.counts_as_attendance(), "{results:?}");
        assert_eq!(results[0].status, CheckInStatus::Accepted, "{results:?}");
    }
    // None of the held polls answered meanwhile (nothing happened to their teams).
    assert!(answered.try_recv().is_err());
    for p in polls {
        p.abort();
    }
}

/// The TCP connections the server process holds open (not its listener): its socket
/// inodes from `/proc/PID/fd` that `/proc/net/tcp` lists in a state other than LISTEN.
fn open_connections(pid: u32) -> usize {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 9 && f[3] != "0A" && inodes.contains(f[9]))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_beyond_the_cap_wait_and_a_check_in_is_served_when_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, staff) = start_under_low_limit(dir.path());
    let log = server.log();
    assert!(
        log.contains(&format!("max_connections={DERIVED_CONNECTIONS}")),
        "{log}"
    );
    let http = client();
    let budi = server.enroll(&http, &staff).await;
    let s = selfie(7, 1);
    assert_eq!(server.upload(&http, &budi, &s).await, 201);
    drop(http); // its keep-alive connection closes

    // More idle connections than the server has files: connect succeeds for all (the
    // kernel's backlog), the server accepts up to its cap and no further.
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let mut idle = Vec::new();
    for _ in 0..LOW_LIMIT + 12 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let pid = server.child.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while open_connections(pid) < DERIVED_CONNECTIONS {
        assert!(
            std::time::Instant::now() < deadline,
            "the server accepted only {} connections",
            open_connections(pid)
        );
        tokio::task::yield_now().await;
    }

    // A check-in on a fresh connection waits behind the idle ones...
    let envelope = budi.envelope(&payload(&budi.device_id, &staff, north_of_center(0.0), &s));
    let base = server.base.clone();
    let check_in =
        tokio::spawn(async move { submit(&client(), &base, &budi, vec![envelope]).await });
    let mut check_in = std::pin::pin!(check_in);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut check_in)
            .await
            .is_err(),
        "answered although every connection was taken"
    );
    assert_eq!(
        open_connections(pid),
        DERIVED_CONNECTIONS,
        "never beyond the cap"
    );

    // ...and is served once the idle ones close.
    drop(idle);
    let results = tokio::time::timeout(Duration::from_secs(30), check_in)
        .await
        .expect("the check-in was served after the idle connections closed")
        .unwrap();
    assert_eq!(results[0].status, CheckInStatus::Accepted, "{results:?}");
    let log = server.log();
    assert!(
        !log.contains("accept error") && !log.contains("Too many open files"),
        "{log}"
    );
}
